"""sklr estimators inside scikit-learn's searches and model-selection tools.

Every estimator, bare and as the last step of a ``Pipeline``, in each kind of
search; grids mixing strings and objects; nested optimizer and schedule keys
reaching the fitted model; ``n_jobs`` not changing results; diverging
candidates not breaking a search. Data and models are tiny: these tests check
plumbing, not accuracy.
"""

import warnings

import joblib
import numpy as np
import pytest
import threadpoolctl
from numpy.testing import assert_allclose, assert_array_equal
from scipy.stats import loguniform
from sklearn.base import ClassifierMixin
from sklearn.datasets import load_digits, make_regression
from sklearn.exceptions import FitFailedWarning
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import (
    GridSearchCV,
    HalvingGridSearchCV,
    HalvingRandomSearchCV,
    RandomizedSearchCV,
    cross_validate,
    learning_curve,
    validation_curve,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklr import LinearRegressor, LogisticClassifier, MLPClassifier, MLPRegressor
from sklr.exceptions import DivergenceWarning
from sklr.model_selection import LockstepGridSearchCV, learning_rate_grid
from sklr.optimizers import SGD, Adam
from sklr.schedules import CosineAnnealing, ExponentialDecay

ESTIMATORS = [LinearRegressor, LogisticClassifier, MLPRegressor, MLPClassifier]
CV = 3


@pytest.fixture(scope="module")
def classification():
    X, y = load_digits(return_X_y=True)
    return X[:300], y[:300]


@pytest.fixture(scope="module")
def regression():
    X, y = make_regression(n_samples=300, n_features=20, noise=1.0, random_state=0)
    return X, y


def make(cls, **params):
    """A small, deterministic estimator; ``tol=None`` runs exactly ``max_iter`` epochs."""
    params = {"max_iter": 10, "tol": None, "random_state": 0, **params}
    if cls in (MLPRegressor, MLPClassifier):
        params.setdefault("hidden_layer_sizes", (16,))
    return cls(**params)


def data_for(cls, classification, regression):
    return classification if issubclass(cls, ClassifierMixin) else regression


def wrap(estimator, in_pipeline):
    """The estimator and the prefix of its parameters in the searched object."""
    if not in_pipeline:
        return estimator, ""
    return (make_pipeline(StandardScaler(), estimator),
            type(estimator).__name__.lower() + "__")


def last_step(estimator):
    return estimator[-1] if hasattr(estimator, "steps") else estimator


def make_search(kind, estimator, prefix):
    lr = prefix + "learning_rate"
    if kind == "grid":
        return GridSearchCV(estimator, {lr: [1e-3, 1e-2]}, cv=CV)
    if kind == "random":
        return RandomizedSearchCV(estimator, {lr: loguniform(1e-4, 1e-1)}, n_iter=3,
                                  cv=CV, random_state=0)
    if kind == "halving_grid":
        return HalvingGridSearchCV(estimator, {lr: [1e-3, 1e-2, 3e-2]}, cv=CV,
                                   factor=2, random_state=0)
    return HalvingRandomSearchCV(estimator, {lr: loguniform(1e-4, 1e-1)},
                                 n_candidates=4, cv=CV, factor=2, random_state=0)


@pytest.mark.parametrize("in_pipeline", [False, True], ids=["bare", "pipeline"])
@pytest.mark.parametrize("kind", ["grid", "random", "halving_grid", "halving_random"])
@pytest.mark.parametrize("cls", ESTIMATORS)
def test_search_kinds(cls, kind, in_pipeline, classification, regression):
    X, y = data_for(cls, classification, regression)
    estimator, prefix = wrap(make(cls), in_pipeline)
    search = make_search(kind, estimator, prefix).fit(X, y)

    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    best = last_step(search.best_estimator_)
    assert best.learning_rate == search.best_params_[prefix + "learning_rate"]
    assert best.learning_rate_ == pytest.approx(best.learning_rate)
    assert np.isfinite(search.score(X, y))
    if kind in ("random", "halving_random"):
        sampled = np.array(search.cv_results_[f"param_{prefix}learning_rate"],
                           dtype=float)
        assert ((sampled >= 1e-4) & (sampled <= 1e-1)).all()


@pytest.mark.parametrize("search_cls", [HalvingGridSearchCV, HalvingRandomSearchCV])
@pytest.mark.parametrize("cls", ESTIMATORS)
def test_halving_over_epochs(cls, search_cls, classification, regression):
    X, y = data_for(cls, classification, regression)
    estimator, prefix = wrap(make(cls), in_pipeline=True)
    grid = {prefix + "learning_rate": [1e-3, 1e-2, 3e-2, 1e-1]}
    extra = {"n_candidates": 4} if search_cls is HalvingRandomSearchCV else {}
    search = search_cls(estimator, grid, resource=prefix + "max_iter",
                        min_resources=3, max_resources=12, factor=2, cv=CV,
                        random_state=0, **extra).fit(X, y)

    assert search.n_resources_ == [3, 6, 12]
    epochs = np.array(search.cv_results_[f"param_{prefix}max_iter"], dtype=int)
    assert_array_equal(epochs, search.cv_results_["n_resources"])
    best = last_step(search.best_estimator_)
    assert best.max_iter == search.best_params_[prefix + "max_iter"] == 12
    assert best.n_iter_ == 12


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_cross_validate_and_curves(cls, classification, regression):
    X, y = data_for(cls, classification, regression)
    pipeline, prefix = wrap(make(cls, learning_rate=1e-2), in_pipeline=True)

    results = cross_validate(pipeline, X, y, cv=CV, return_estimator=True)
    assert np.isfinite(results["test_score"]).all()
    for fitted in results["estimator"]:
        assert fitted[-1].learning_rate_ == pytest.approx(1e-2)

    train, test = validation_curve(pipeline, X, y, param_name=prefix + "learning_rate",
                                   param_range=[1e-3, 1e-2], cv=CV)
    assert train.shape == test.shape == (2, CV)
    assert np.isfinite(test).all()

    sizes, train, test = learning_curve(pipeline, X, y, train_sizes=[0.5, 1.0],
                                        cv=CV)
    assert_array_equal(sizes, [100, 200])
    assert np.isfinite(test).all()


def fitted_value(path):
    """A scorer returning a fitted attribute, to see what each fit really used."""
    def scorer(estimator, X, y):
        value = last_step(estimator)
        for name in path.split("."):
            value = getattr(value, name)
        return float(value)
    return scorer


@pytest.mark.parametrize("in_pipeline", [False, True], ids=["bare", "pipeline"])
def test_grid_mixing_strings_and_objects(in_pipeline, classification):
    X, y = classification
    estimator, prefix = wrap(make(MLPClassifier), in_pipeline)
    grid = {
        prefix + "optimizer": ["adam", SGD(momentum=0.9)],
        prefix + "schedule": ["constant", CosineAnnealing(min_factor=0.1)],
        prefix + "learning_rate": [1e-2],
    }
    search = GridSearchCV(estimator, grid, cv=CV).fit(X, y)

    assert len(search.cv_results_["params"]) == 4
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    best = last_step(search.best_estimator_)
    optimizer = search.best_params_[prefix + "optimizer"]
    schedule = search.best_params_[prefix + "schedule"]
    assert type(best.optimizer_) is (Adam if optimizer == "adam" else SGD)
    if not isinstance(optimizer, str):
        assert best.optimizer_.momentum == 0.9
    if not isinstance(schedule, str):
        assert best.schedule_.min_factor == 0.1


def test_list_of_dicts_tunes_each_optimizers_params(classification):
    X, y = classification
    adam, sgd = Adam(), SGD()
    grid = [
        {"optimizer": [adam], "optimizer__beta_1": [0.5, 0.8]},
        {"optimizer": [sgd], "optimizer__momentum": [0.3, 0.6]},
    ]
    # the score of each candidate is the value its fitted optimizer used
    scoring = {
        "tuned": lambda est, X, y: (est.optimizer_.beta_1
                                    if isinstance(est.optimizer_, Adam)
                                    else est.optimizer_.momentum),
        "accuracy": "accuracy",
    }
    search = GridSearchCV(make(MLPClassifier, learning_rate=1e-2), grid, cv=CV,
                          scoring=scoring, refit="tuned").fit(X, y)

    assert_allclose(search.cv_results_["mean_test_tuned"], [0.5, 0.8, 0.3, 0.6])
    assert search.best_estimator_.optimizer_.beta_1 == 0.8
    assert search.best_estimator_.optimizer.beta_1 == 0.8
    # the grid's own objects are cloned, never modified
    assert (adam.beta_1, sgd.momentum) == (0.9, 0.0)


def test_nested_keys_through_pipeline(classification):
    X, y = classification
    pipeline = make_pipeline(StandardScaler(), make(MLPClassifier))
    grid = {
        "mlpclassifier__optimizer": [Adam()],
        "mlpclassifier__optimizer__beta_1": [0.7, 0.85],
        "mlpclassifier__schedule": [ExponentialDecay()],
        "mlpclassifier__schedule__gamma": [0.5, 0.9],
    }
    scoring = {
        "beta_1": fitted_value("optimizer_.beta_1"),
        "gamma": fitted_value("schedule_.gamma"),
    }
    search = GridSearchCV(pipeline, grid, cv=CV, scoring=scoring,
                          refit="beta_1").fit(X, y)

    params = search.cv_results_["params"]
    assert_allclose(search.cv_results_["mean_test_beta_1"],
                    [p["mlpclassifier__optimizer__beta_1"] for p in params])
    assert_allclose(search.cv_results_["mean_test_gamma"],
                    [p["mlpclassifier__schedule__gamma"] for p in params])
    best = search.best_estimator_[-1]
    assert best.optimizer_.beta_1 == 0.85
    assert best.schedule_.gamma == search.best_params_["mlpclassifier__schedule__gamma"]
    # the schedule really ran: exponential decay by gamma per epoch
    assert best.learning_rate_curve_[-1] < best.learning_rate_curve_[0]


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_n_jobs_gives_identical_results(cls, classification, regression):
    X, y = data_for(cls, classification, regression)
    pipeline, prefix = wrap(make(cls), in_pipeline=True)
    grid = {prefix + "learning_rate": learning_rate_grid(1e-3, 1e-1, 3),
            prefix + "optimizer": ["adam", "momentum"]}
    serial = GridSearchCV(pipeline, grid, cv=CV, n_jobs=1).fit(X, y)
    parallel = GridSearchCV(pipeline, grid, cv=CV, n_jobs=2).fit(X, y)

    for key in serial.cv_results_:
        if "_test_" in key:
            assert_array_equal(serial.cv_results_[key], parallel.cv_results_[key],
                               err_msg=key)
    assert serial.best_params_ == parallel.best_params_


def blas_threads(estimator, X, y):
    """A scorer reporting the BLAS thread count of the process it runs in."""
    return max(pool["num_threads"] for pool in threadpoolctl.threadpool_info()
               if pool["user_api"] == "blas")


@pytest.mark.parametrize("search_cls", [GridSearchCV, LockstepGridSearchCV])
def test_blas_threads_stay_limited_in_workers(search_cls, classification,
                                              monkeypatch):
    # joblib's loky backend starts workers with BLAS limited to cpu_count // n_jobs
    # threads; sklr must not raise it again, or workers oversubscribe the CPU
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(var, raising=False)
    X, y = classification
    limit = max(joblib.cpu_count() // 2, 1)
    grid = {"learning_rate": [1e-3, 1e-2], "optimizer": ["adam", "sgd"]}
    search = search_cls(make(MLPClassifier), grid, cv=CV, n_jobs=2,
                        scoring=blas_threads, refit=False).fit(X, y)

    worker_threads = search.cv_results_["split0_test_score"]
    assert (worker_threads <= limit).all(), worker_threads


@pytest.mark.filterwarnings("ignore:One or more of the test scores are non-finite")
@pytest.mark.parametrize("cls", ESTIMATORS)
def test_diverging_candidates_get_error_score_with_raise(cls, classification,
                                                         regression):
    X, y = data_for(cls, classification, regression)
    pipeline, prefix = wrap(make(cls, on_divergence="raise"), in_pipeline=True)
    grid = {prefix + "learning_rate": [1e-2, 1e4]}
    search = GridSearchCV(pipeline, grid, cv=CV)
    with pytest.warns(FitFailedWarning, match="DivergenceError"):
        search.fit(X, y)

    scores = search.cv_results_["mean_test_score"]
    assert np.isfinite(scores[0]) and np.isnan(scores[1])
    assert search.best_params_[prefix + "learning_rate"] == 1e-2


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_diverging_candidates_back_off(cls, classification, regression):
    X, y = data_for(cls, classification, regression)
    pipeline, prefix = wrap(make(cls, on_divergence="backoff"), in_pipeline=True)
    grid = {prefix + "learning_rate": [1e-2, 1e4]}

    def refit_diverging(cv_results):
        return 1

    search = GridSearchCV(pipeline, grid, cv=CV, refit=refit_diverging)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FitFailedWarning)
        with pytest.warns(DivergenceWarning, match="learning rate"):
            search.fit(X, y)

    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    best = search.best_estimator_[-1]
    assert best.learning_rate == 1e4
    assert best.n_divergences_ > 0
    assert best.learning_rate_ < 1e4
    assert best.learning_rate_ == best.learning_rate_curve_[-1]
    # backing off continues training, it does not stop it
    assert best.n_iter_ == best.max_iter
