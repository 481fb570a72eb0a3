"""scikit-learn's callbacks (``sklearn.callback``, >= 1.9) on sklr's estimators.

A fit is a task with one ``"epoch"`` subtask per epoch; the end of an epoch
hands callbacks the estimator as fitted after that epoch, and a callback that
returns True there ends training.
"""

import functools
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

pytest.importorskip("sklearn.callback")

from sklearn.callback import ProgressBar, ScoringMonitor  # noqa: E402

from sklr import (  # noqa: E402
    LinearRegressor,
    LogisticClassifier,
    MLPClassifier,
    MLPRegressor,
)
from sklr._callbacks import epoch_callbacks  # noqa: E402
from sklr.exceptions import DivergenceWarning  # noqa: E402

X_REG, Y_REG = make_regression(n_samples=80, n_features=4, noise=1.0, random_state=0)
X_CLF, Y_CLF = make_classification(n_samples=80, n_features=4, n_informative=3,
                                   n_redundant=0, n_classes=3, random_state=0)

ESTIMATORS = {
    "LinearRegressor": (LinearRegressor, X_REG, Y_REG),
    "LogisticClassifier": (LogisticClassifier, X_CLF, Y_CLF),
    "MLPRegressor": (functools.partial(MLPRegressor, hidden_layer_sizes=(5,)),
                     X_REG, Y_REG),
    "MLPClassifier": (functools.partial(MLPClassifier, hidden_layer_sizes=(5,)),
                      X_CLF, Y_CLF),
}



class Recorder:
    """Records every hook call: (hook, task name, task id, what it was given)."""

    def __init__(self, stop_after=None):
        self.stop_after = stop_after
        self.calls = []

    def setup(self, estimator, context):
        self.calls.append(("setup", context.task_name, context.task_id, None))

    def teardown(self, estimator, context):
        self.calls.append(("teardown", context.task_name, context.task_id, None))

    def on_fit_task_begin(self, estimator, context, *, X=None, y=None,
                          metadata=None):
        self.calls.append(("begin", context.task_name, context.task_id,
                           {"X": X, "y": y, "metadata": metadata}))

    def on_fit_task_end(self, estimator, context, *, X=None, y=None, metadata=None,
                        fitted_estimator=None):
        self.calls.append(("end", context.task_name, context.task_id,
                           {"X": X, "y": y, "metadata": metadata,
                            "fitted_estimator": fitted_estimator}))
        return (self.stop_after is not None and context.task_name == "epoch"
                and context.task_id + 1 == self.stop_after)

    def epoch_ends(self):
        return [given for hook, name, _, given in self.calls
                if hook == "end" and name == "epoch"]


def test_nothing_to_report_to_without_callbacks():
    with epoch_callbacks(LinearRegressor(), 3) as on_epoch:
        assert on_epoch is None


def test_one_task_per_epoch_with_the_loss():
    recorder = Recorder()
    weights = np.linspace(1, 2, len(Y_REG))
    est = LinearRegressor(max_iter=4, tol=None, random_state=0)
    est.set_callbacks(recorder).fit(X_REG, Y_REG, sample_weight=weights)

    epochs = [(hook, task_id) for hook, name, task_id, _ in recorder.calls
              if name == "epoch"]
    assert epochs == [(hook, k) for k in range(4) for hook in ("begin", "end")]
    hooks = [(hook, name) for hook, name, _, _ in recorder.calls
             if name != "epoch"]
    assert hooks == [("setup", "fit"), ("begin", "fit"), ("end", "fit"),
                     ("teardown", "fit")]
    for k, given in enumerate(recorder.epoch_ends()):
        assert given["X"] is X_REG and given["y"] is Y_REG
        assert given["metadata"]["sample_weight"] is weights
        view = given["fitted_estimator"]
        assert view.n_iter_ == k + 1
        assert view.loss_curve_ == est.loss_curve_[:k + 1]
    # the last epoch's view is the fitted estimator
    assert_allclose(view.predict(X_REG), est.predict(X_REG))
    assert_array_equal(view.coef_, est.coef_)
    # the hook's bookkeeping does not stay on the estimator
    assert not hasattr(est, "_callback_fit_ctx")


def test_epoch_views_are_frozen():
    recorder = Recorder()
    est = MLPRegressor(hidden_layer_sizes=(5,), max_iter=3, tol=None,
                       random_state=0)
    est.set_callbacks(recorder).fit(X_REG, Y_REG)
    first, *_, last = [g["fitted_estimator"] for g in recorder.epoch_ends()]
    assert len(first.loss_curve_) == 1 and len(first._record.loss_curve) == 1
    assert not np.allclose(first.predict(X_REG), last.predict(X_REG))


@pytest.mark.parametrize("name", ESTIMATORS)
def test_a_callback_that_asks_stops_training_at_that_epoch(name):
    Estimator, X, y = ESTIMATORS[name]
    recorder = Recorder(stop_after=3)
    est = Estimator(max_iter=20, random_state=0).set_callbacks(recorder)
    with warnings.catch_warnings():
        # stopped on request: not a fit that ran out of epochs
        warnings.simplefilter("error")
        est.fit(X, y)
    assert est.n_iter_ == 3
    assert len(est.loss_curve_) == 3
    assert est._record.status == "stopped"
    ends = recorder.epoch_ends()
    assert len(ends) == 3
    assert_allclose(ends[-1]["fitted_estimator"].predict(X), est.predict(X))


def test_the_view_of_an_averaged_model_predicts_with_the_average():
    recorder = Recorder(stop_after=4)
    est = LinearRegressor(average=True, max_iter=10, random_state=0)
    est.set_callbacks(recorder).fit(X_REG, Y_REG)
    view = recorder.epoch_ends()[-1]["fitted_estimator"]
    assert_allclose(view.predict(X_REG), est.predict(X_REG))


def test_partial_fit_is_one_epoch_task_per_call():
    recorder = Recorder()
    est = LogisticClassifier(random_state=0).set_callbacks(recorder)
    est.partial_fit(X_CLF, Y_CLF, classes=np.unique(Y_CLF))
    est.partial_fit(X_CLF, Y_CLF)
    assert [g["fitted_estimator"].n_iter_ for g in recorder.epoch_ends()] == [1, 2]
    assert [c[0] for c in recorder.calls].count("teardown") == 2


def test_every_task_ends_when_a_divergence_cuts_an_epoch_short():
    recorder = Recorder()
    est = LinearRegressor(learning_rate=1e6, on_divergence="stop", max_iter=5,
                          random_state=0).set_callbacks(recorder)
    with pytest.warns(DivergenceWarning):
        est.fit(X_REG * 1e3, Y_REG)
    assert est._record.status == "diverged"
    begun = [(name, k) for hook, name, k, _ in recorder.calls if hook == "begin"]
    ended = [(name, k) for hook, name, k, _ in recorder.calls if hook == "end"]
    assert sorted(begun) == sorted(ended)
    assert recorder.calls[-1][0] == "teardown"


def test_callbacks_are_torn_down_when_fit_fails():
    class Failing(Recorder):
        def on_fit_task_end(self, estimator, context, **kwargs):
            raise RuntimeError("callback failed")

    recorder = Failing()
    est = LinearRegressor(max_iter=3).set_callbacks(recorder)
    with pytest.raises(RuntimeError, match="callback failed"):
        est.fit(X_REG, Y_REG)
    assert recorder.calls[-1][0] == "teardown"
    assert not hasattr(est, "n_iter_")


def test_scoring_monitor_scores_every_epoch():
    monitor = ScoringMonitor(scoring=["r2", "neg_mean_squared_error"])
    est = LinearRegressor(max_iter=5, tol=None, random_state=0)
    est.set_callbacks(monitor).fit(X_REG, Y_REG)
    rows = monitor.get_logs().data
    assert [row["task_name"] for row in rows] == ["epoch"] * 5
    r2 = [row["r2"] for row in rows]
    assert r2 == sorted(r2)
    assert r2[-1] == pytest.approx(est.score(X_REG, Y_REG))


def test_scoring_monitor_on_the_folds_of_a_search():
    monitor = ScoringMonitor(scoring="accuracy")
    est = LogisticClassifier(max_iter=3, tol=None).set_callbacks(monitor)
    GridSearchCV(est, {"learning_rate": [0.01, 0.1]}, cv=2).fit(X_CLF, Y_CLF)
    rows = monitor.get_logs(select="all")
    # 2 candidates x 2 folds and the refit, 3 epochs each
    assert sum(len(log.data) for log in rows) == 5 * 3


def test_progress_bar_nests_under_grid_search(capsys):
    pytest.importorskip("rich")
    recorder = Recorder()
    recorder.max_propagation_depth = None  # propagated, like ProgressBar
    search = GridSearchCV(MLPClassifier(hidden_layer_sizes=(5,), max_iter=3, tol=None),
                          {"learning_rate": [1e-3, 1e-2]}, cv=2)
    search.set_callbacks(ProgressBar(), recorder).fit(X_CLF, Y_CLF)
    assert "MLPClassifier - fit" in capsys.readouterr().out
    # each fold's fit, and the refit, is the search's task with 3 epochs under it
    fits = [k for hook, name, k, _ in recorder.calls
            if hook == "begin" and name == "fit"]
    assert len(fits) == 1 + 2 * 2 + 1
    assert len(recorder.epoch_ends()) == 5 * 3


def test_epochs_nest_under_a_pipeline_in_a_search():
    recorder = Recorder()
    recorder.max_propagation_depth = None  # through the pipeline too
    pipeline = make_pipeline(StandardScaler(), LinearRegressor(max_iter=2, tol=None))
    search = GridSearchCV(pipeline, {"linearregressor__alpha": [0.0, 0.01]}, cv=2)
    search.set_callbacks(recorder).fit(X_REG, Y_REG)
    # 2 candidates x 2 folds and the refit, 2 epochs each
    assert len(recorder.epoch_ends()) == 5 * 2


# ------------------------------------------------------------ sklr's searches
class StopAt(Recorder):
    """Stops the fits whose learning rate is ``rate`` after ``epochs`` epochs."""

    def __init__(self, rate, epochs):
        super().__init__()
        self.rate, self.epochs = rate, epochs

    def on_fit_task_end(self, estimator, context, **kwargs):
        super().on_fit_task_end(estimator, context, **kwargs)
        return (context.task_name == "epoch" and context.task_id + 1 == self.epochs
                and getattr(estimator, "learning_rate", None) == self.rate)


def _searches():
    from sklr.model_selection import HalvingEpochSearchCV, LockstepGridSearchCV
    # the lockstep stacks in two worker processes: the bars still nest
    return {"lockstep": functools.partial(LockstepGridSearchCV, n_jobs=2),
            "halving": functools.partial(HalvingEpochSearchCV, min_resources=2)}


@pytest.mark.parametrize("name", ESTIMATORS)
def test_a_stopping_callback_ends_one_fit_of_a_lockstep_search(name):
    from sklr.model_selection import LockstepGridSearchCV

    Estimator, X, y = ESTIMATORS[name]
    est = Estimator(max_iter=6, tol=None, random_state=0)
    grid = {"learning_rate": [0.01, 0.05]}
    searches = [
        Search(clone(est).set_callbacks(StopAt(0.05, 2)), grid, cv=2,
               return_train_score=True).fit(X, y)
        for Search in (LockstepGridSearchCV, GridSearchCV)]
    lockstep, reference = searches
    # the stack trains on for the other candidate; the stopped fits end at 2
    statuses = [[c["status"] for c in curves] for curves in lockstep.curves_]
    assert statuses == [["training"] * 2, ["stopped"] * 2]
    assert [[c["n_iter"] for c in curves] for curves in lockstep.curves_] == [
        [6, 6], [2, 2]]
    # ... and score as the scikit-learn search's separately stopped fits
    for key in ("split0_test_score", "split1_test_score", "mean_train_score"):
        assert_allclose(lockstep.cv_results_[key], reference.cv_results_[key],
                        rtol=1e-7)


def test_a_lockstep_search_reports_the_task_tree_of_grid_search():
    from collections import Counter

    from sklr.model_selection import LockstepGridSearchCV

    def tasks(Search):
        recorder = Recorder()
        recorder.max_propagation_depth = None  # propagated, like ProgressBar
        est = LinearRegressor(max_iter=3, tol=None, random_state=0)
        Search(est, {"alpha": [0.0, 1e-3, 1e-2]}, cv=2).set_callbacks(recorder).fit(
            X_REG, Y_REG)
        return recorder, Counter((hook, name) for hook, name, _, _ in recorder.calls)

    lockstep, counts = tasks(LockstepGridSearchCV)
    _, reference = tasks(GridSearchCV)
    assert counts == reference
    # 3 candidates x 2 folds and the refit, 3 epochs each; each fold's epoch
    # views are fitted with that candidate's own weights
    ends = lockstep.epoch_ends()
    assert len(ends) == 7 * 3
    assert {g["fitted_estimator"].alpha for g in ends} == {0.0, 1e-3, 1e-2}
    for given in ends:
        view = given["fitted_estimator"]
        assert view.n_iter_ == len(view.loss_curve_)
        assert given["X"].shape[0] == given["y"].shape[0]


def test_fold_views_equal_the_fits_of_grid_search():
    from sklr.model_selection import LockstepGridSearchCV

    def views(Search):
        recorder = Recorder()
        recorder.max_propagation_depth = None
        est = LogisticClassifier(max_iter=3, tol=None, random_state=0)
        Search(est, {"learning_rate": [0.01, 0.1]}, cv=2, refit=False).set_callbacks(
            recorder).fit(X_CLF, Y_CLF)
        return {(g["fitted_estimator"].learning_rate, g["fitted_estimator"].n_iter_,
                 len(g["y"])): g["fitted_estimator"].coef_.round(8).tobytes()
                for g in recorder.epoch_ends()}

    assert views(LockstepGridSearchCV) == views(GridSearchCV)


@pytest.mark.parametrize("search", ["lockstep", "halving"])
def test_progress_bar_under_sklr_searches(search, capsys):
    pytest.importorskip("rich")
    Search = _searches()[search]
    est = MLPClassifier(hidden_layer_sizes=(5,), max_iter=4, tol=None, random_state=0)
    search = Search(est, {"learning_rate": [1e-3, 1e-2, 0.1]}, cv=2).set_callbacks(
        ProgressBar()).fit(X_CLF, Y_CLF)
    out = capsys.readouterr().out
    # a bar for each (candidate, fold) fit, nested in the search's, and the refit
    n_fits = sum(getattr(search, "n_candidates_", [3])) * 2
    assert out.count("candidate-split-evaluation | MLPClassifier") == n_fits
    assert "refit-with-best-params | MLPClassifier - fit" in out


def test_a_stopped_candidate_of_a_halving_search_keeps_its_score():
    from sklr.model_selection import HalvingEpochSearchCV

    est = LogisticClassifier(max_iter=8, tol=None, random_state=0)
    search = HalvingEpochSearchCV(
        est.set_callbacks(StopAt(0.01, 1)), {"learning_rate": [0.01, 0.1, 1.0]},
        cv=2, factor=2, min_resources=2, refit=False).fit(X_CLF, Y_CLF)
    first = search.cv_results_["iter"] == 0
    stopped = [c for c, row in zip(search.curves_, first) if row
               and c[0]["status"] == "stopped"]
    assert len(stopped) == 1 and all(c["n_iter"] == 1 for c in stopped[0])
    # the others trained their round's epochs
    assert {c[0]["n_iter"] for c, row in zip(search.curves_, first) if row} == {1, 2}
