"""Tests of sklr.inspection: every display renders to a PNG with labelled axes."""

import subprocess
import sys
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklr import LinearRegressor, LogisticClassifier, MLPClassifier
from sklr.inspection import (
    LossCurveDisplay,
    LRRangeDisplay,
    ScheduleDisplay,
    SearchScoreDisplay,
)
from sklr.schedules import SCHEDULE_ALIASES, CosineAnnealing, StepDecay

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
plt = pytest.importorskip("matplotlib.pyplot")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def save_png(display, tmp_path):
    """Render the display's figure; return the path of a valid PNG."""
    path = tmp_path / "display.png"
    display.figure_.savefig(path)
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    return path


def legend_texts(ax):
    legend = ax.get_legend()
    assert legend is not None
    return [text.get_text() for text in legend.get_texts()]


@pytest.fixture(scope="module")
def regression():
    X, y = make_regression(n_samples=200, n_features=5, noise=5, random_state=0)
    return StandardScaler().fit_transform(X), (y - y.mean()) / y.std()


@pytest.fixture(scope="module")
def classification():
    return make_classification(n_samples=150, n_features=6, random_state=0)


@pytest.fixture(scope="module")
def backed_off_model():
    """A linear model whose SGD diverged once and backed off."""
    X, y = make_regression(n_samples=500, n_features=10, noise=10, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LinearRegressor(optimizer="sgd", learning_rate=1.9, max_iter=15,
                                tol=None, random_state=0).fit(X, y / y.std())
    assert model.n_divergences_ >= 1
    return model


# ------------------------------------------------------------- LossCurveDisplay
def test_loss_curve_from_estimator(regression, tmp_path):
    X, y = regression
    model = LinearRegressor(max_iter=8, tol=None, random_state=0).fit(X, y)
    display = LossCurveDisplay.from_estimator(model)
    save_png(display, tmp_path)
    assert display.ax_.get_xlabel() == "epoch"
    assert display.ax_.get_ylabel() == "loss"
    assert display.ax_.get_title()
    np.testing.assert_allclose(display.lines_[0].get_ydata(), model.loss_curve_)
    np.testing.assert_array_equal(display.lines_[0].get_xdata(), np.arange(1, 9))
    assert display.ax_learning_rate_.get_yscale() == "log"
    assert "learning rate" in display.ax_learning_rate_.get_ylabel()
    assert display.validation_lines_ == [] and display.divergence_markers_ == []
    assert "LinearRegressor" in legend_texts(display.ax_learning_rate_)


def test_loss_curve_validation_in_pipeline(classification, tmp_path):
    X, y = classification
    pipe = make_pipeline(
        StandardScaler(),
        MLPClassifier(hidden_layer_sizes=(4,), max_iter=5, tol=None,
                      early_stopping=True, random_state=0),
    ).fit(X, y)
    mlp = pipe[-1]
    display = LossCurveDisplay.from_estimator(pipe, yscale="log", name="mlp")
    save_png(display, tmp_path)
    assert display.ax_.get_yscale() == "log"
    np.testing.assert_allclose(
        display.validation_lines_[0].get_ydata(), mlp.validation_loss_curve_
    )
    texts = legend_texts(display.ax_learning_rate_)
    assert {"mlp (training)", "mlp (validation)"} <= set(texts)


def test_loss_curve_marks_backoff(backed_off_model, tmp_path):
    display = LossCurveDisplay.from_estimator(backed_off_model)
    save_png(display, tmp_path)
    epochs = backed_off_model._record.divergence_epochs
    marker_x = display.divergence_markers_[0].get_xdata()
    np.testing.assert_array_equal(marker_x, np.asarray(epochs) + 1)
    assert any("divergence" in t for t in legend_texts(display.ax_learning_rate_))
    rates = display.learning_rate_lines_[0].get_ydata()
    assert rates.min() < rates.max()


def test_loss_curve_overlay_on_one_axes(regression):
    X, y = regression
    fig, ax = plt.subplots()
    for rate in (0.001, 0.01):
        model = LinearRegressor(learning_rate=rate, max_iter=4, tol=None).fit(X, y)
        display = LossCurveDisplay.from_estimator(
            model, ax=ax, name=str(rate), show_learning_rate=False)
        assert display.ax_ is ax and display.figure_ is fig
        assert display.ax_learning_rate_ is None
    colors = {line.get_color() for line in ax.get_lines()}
    assert len(colors) == 2
    assert legend_texts(ax) == ["0.001", "0.01"]


def test_loss_curve_rejects_non_sklr_estimator(classification):
    from sklearn.linear_model import LogisticRegression

    X, y = classification
    with pytest.raises(ValueError, match="no loss_curve_"):
        LossCurveDisplay.from_estimator(LogisticRegression().fit(X, y))


def test_loss_curve_requires_fitted_estimator():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        LossCurveDisplay.from_estimator(LinearRegressor())


def fake_lockstep_search():
    """A search object shaped like sklr's lockstep searches after fit."""
    def fold(loss, status="converged", n_divergences=0):
        return {
            "loss_curve": loss,
            "validation_scores": [0.5 + 0.1 * i for i in range(len(loss))],
            "learning_rate_curve": [0.1] * len(loss),
            "n_divergences": n_divergences,
            "status": status,
        }

    return SimpleNamespace(
        cv_results_={"params": [
            {"learning_rate": 0.01, "schedule": "constant"},
            {"learning_rate": 0.1, "schedule": "constant"},
            {"learning_rate": 10.0, "schedule": "constant"},
        ]},
        curves_=[
            [fold([1.0, 0.9, 0.8]), fold([1.1, 0.9, 0.85])],
            [fold([1.0, 0.4, 0.2]), fold([1.0, 0.5, 0.3], n_divergences=1)],
            [fold([1.0, 5.0], status="diverged", n_divergences=1),
             fold([1.0, 6.0], status="diverged", n_divergences=1)],
        ],
    )


def test_loss_curve_from_search(tmp_path):
    search = fake_lockstep_search()
    display = LossCurveDisplay.from_search(search, fold=1)
    save_png(display, tmp_path)
    assert len(display.lines_) == 3
    np.testing.assert_allclose(display.lines_[0].get_ydata(), [1.1, 0.9, 0.85])
    texts = legend_texts(display.ax_)
    # only the varying parameter names the candidates
    assert texts[:3] == ["learning_rate=0.01", "learning_rate=0.1 (backed off)",
                         "learning_rate=10 (diverged)"]
    assert display.lines_[1].get_linestyle() == "--"
    np.testing.assert_array_equal(display.divergence_markers_[0].get_xdata(), [2])
    assert display.ax_learning_rate_ is None


def test_loss_curve_from_search_validation_scores_and_subset():
    display = LossCurveDisplay.from_search(
        fake_lockstep_search(), metric="validation_score", candidates=[0])
    assert display.ax_.get_ylabel() == "validation score"
    np.testing.assert_allclose(display.lines_[0].get_ydata(), [0.5, 0.6, 0.7])


@pytest.mark.parametrize(
    "kwargs, match",
    [({"metric": "accuracy"}, "metric must be"), ({"fold": 5}, "out of range")],
)
def test_loss_curve_from_search_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LossCurveDisplay.from_search(fake_lockstep_search(), **kwargs)


def test_loss_curve_from_search_without_curves(classification):
    X, y = classification
    search = GridSearchCV(LogisticClassifier(max_iter=3, tol=None),
                          {"learning_rate": [0.01, 0.1]}, cv=2).fit(X, y)
    with pytest.raises(ValueError, match="no curves_ attribute"):
        LossCurveDisplay.from_search(search)


# ------------------------------------------------------------- ScheduleDisplay
def test_schedule_display_every_alias(tmp_path):
    display = ScheduleDisplay.from_schedule(
        list(SCHEDULE_ALIASES), n_epochs=20, learning_rate=0.1, n_batches=4)
    save_png(display, tmp_path)
    assert len(display.lines_) == len(SCHEDULE_ALIASES)
    assert display.ax_.get_yscale() == "log"
    assert display.ax_.get_xlabel() == "epoch"
    assert "learning rate" in display.ax_.get_ylabel()
    texts = legend_texts(display.ax_)
    assert texts[0] == "constant"
    assert any(t.startswith("plateau (reacts to the loss") for t in texts)
    np.testing.assert_allclose(display.epochs[:5], [0, 0.25, 0.5, 0.75, 1.0])


def test_schedule_display_values_match_schedule():
    schedule = StepDecay(step_size=2, gamma=0.5)
    display = ScheduleDisplay.from_schedule(
        {"halve every 2": schedule}, n_epochs=6, learning_rate=0.2, n_batches=1,
        yscale="linear")
    np.testing.assert_allclose(display.learning_rates[0],
                               [0.2, 0.2, 0.1, 0.1, 0.05, 0.05])
    assert display.ax_.get_yscale() == "linear"
    assert legend_texts(display.ax_) == ["halve every 2"]


def test_schedule_display_object_label():
    display = ScheduleDisplay.from_schedule(CosineAnnealing(min_factor=0.1), 10)
    assert display.labels == ["CosineAnnealing(min_factor=0.1)"]
    assert display.learning_rates[0][0] == pytest.approx(1.0)


@pytest.mark.parametrize(
    "args, kwargs, error, match",
    [
        (("cosine", 0), {}, ValueError, "n_epochs"),
        (("cosine", 10, -1.0), {}, ValueError, "learning_rate"),
        (("cosine", 10), {"n_batches": 0}, ValueError, "n_batches"),
        (([], 10), {}, ValueError, "empty"),
        (("warp_speed", 10), {}, ValueError, "Unknown schedule"),
    ],
)
def test_schedule_display_errors(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        ScheduleDisplay.from_schedule(*args, **kwargs)


# ---------------------------------------------------------- SearchScoreDisplay
@pytest.fixture(scope="module")
def pipeline_search(classification):
    X, y = classification
    pipe = make_pipeline(
        StandardScaler(),
        LogisticClassifier(optimizer="sgd", max_iter=3, tol=None,
                           on_divergence="raise", random_state=0),
    )
    grid = {
        "logisticclassifier__learning_rate": [0.01, 1.0, 1e4],
        "logisticclassifier__schedule": ["constant", CosineAnnealing()],
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return GridSearchCV(pipe, grid, cv=2, error_score=np.nan).fit(X, y)


def test_search_score_display_pipeline(pipeline_search, tmp_path):
    display = SearchScoreDisplay.from_search(pipeline_search, hue="schedule")
    save_png(display, tmp_path)
    assert display.ax_.get_xscale() == "log"
    assert display.ax_.get_xlabel() == "learning rate (log scale)"
    assert "mean CV score" in display.ax_.get_ylabel()
    assert set(display.lines_) == {"constant", "CosineAnnealing()"}
    assert set(display.bands_) == set(display.lines_)
    assert display.ax_.get_legend().get_title().get_text() == "schedule"
    assert "failed (NaN score)" in legend_texts(display.ax_)
    # the largest rate diverges for both schedules
    failed_x = np.concatenate([m.get_xdata() for m in display.failed_markers_])
    np.testing.assert_allclose(failed_x, [1e4, 1e4])
    for line in display.lines_.values():
        np.testing.assert_allclose(line.get_xdata(), [0.01, 1.0])
    assert display.best_marker_ is not None


def test_search_score_display_full_name_and_no_hue(pipeline_search):
    display = SearchScoreDisplay.from_search(
        pipeline_search, param="logisticclassifier__learning_rate")
    # without hue, each rate shows the best schedule
    (line,) = display.lines_.values()
    results = pipeline_search.cv_results_
    best_at_001 = np.nanmax(results["mean_test_score"][:2])
    assert line.get_ydata()[0] == pytest.approx(best_at_001)


def test_search_score_display_multimetric(classification):
    X, y = classification
    search = GridSearchCV(
        LogisticClassifier(max_iter=3, tol=None), {"learning_rate": [0.01, 0.1]}, cv=2,
        scoring=["accuracy", "roc_auc"], refit="roc_auc",
    ).fit(X, y)
    display = SearchScoreDisplay.from_search(search)
    assert "roc_auc" in display.ax_.get_ylabel()
    display = SearchScoreDisplay.from_search(search, scoring="accuracy")
    assert "accuracy" in display.ax_.get_ylabel()
    search.refit = False
    with pytest.raises(ValueError, match="several metrics"):
        SearchScoreDisplay.from_search(search)


def test_search_score_display_marks_diverged_from_curves():
    search = fake_lockstep_search()
    search.cv_results_.update(
        mean_test_score=np.array([0.6, 0.8, np.nan]),
        std_test_score=np.array([0.05, 0.02, np.nan]),
    )
    search.scoring = None
    display = SearchScoreDisplay.from_search(search)
    np.testing.assert_allclose(display.diverged_markers_[0].get_xdata(), [0.1])
    assert "diverged or backed off" in legend_texts(display.ax_)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"param": "momentum"}, "not a parameter of the search"),
        ({"hue": "colour"}, "not a parameter of the search"),
        ({"param": "schedule"}, "numeric"),
        ({"scoring": "f1"}, "no test scores"),
    ],
)
def test_search_score_display_errors(pipeline_search, kwargs, match):
    with pytest.raises(ValueError, match=match):
        SearchScoreDisplay.from_search(pipeline_search, **kwargs)


def test_search_score_display_ambiguous_param():
    search = SimpleNamespace(
        cv_results_={"params": [{"a__learning_rate": 0.1, "b__learning_rate": 1.0}],
                     "mean_test_score": [0.5], "std_test_score": [0.0]},
        scoring=None,
    )
    with pytest.raises(ValueError, match="ambiguous"):
        SearchScoreDisplay.from_search(search)


def test_search_score_display_log_axis_needs_positive_values():
    search = SimpleNamespace(
        cv_results_={"params": [{"alpha": 0.0}, {"alpha": 1.0}],
                     "mean_test_score": [0.5, 0.6], "std_test_score": [0.0, 0.0]},
        scoring=None,
    )
    with pytest.raises(ValueError, match="xscale='linear'"):
        SearchScoreDisplay.from_search(search, "alpha")
    display = SearchScoreDisplay.from_search(search, "alpha", xscale="linear")
    assert display.ax_.get_xlabel() == "alpha"


def test_search_score_display_requires_fitted_search():
    from sklearn.exceptions import NotFittedError

    search = GridSearchCV(LogisticClassifier(), {"learning_rate": [0.1]})
    with pytest.raises(NotFittedError):
        SearchScoreDisplay.from_search(search)


# -------------------------------------------------------------- LRRangeDisplay
def lr_result():
    rates = np.logspace(-5, 1, 60)
    losses = 1 / (1 + 100 * rates) + np.where(rates > 1, rates**2, 0.0)
    return SimpleNamespace(learning_rates=rates, losses=losses,
                           suggested_learning_rate=1e-2)


def test_lr_range_display_from_result(tmp_path):
    display = LRRangeDisplay.from_result(lr_result(), name="MLPClassifier")
    save_png(display, tmp_path)
    assert display.ax_.get_xscale() == "log"
    assert display.ax_.get_xlabel() == "learning rate (log scale)"
    assert "loss" in display.ax_.get_ylabel()
    assert "MLPClassifier" in display.ax_.get_title()
    assert display.suggestion_line_.get_xdata()[0] == pytest.approx(1e-2)
    assert legend_texts(display.ax_)[1] == "suggested learning rate: 0.01"
    # the blow-up at the end is cut off so the descent stays readable
    assert display.ax_.get_ylim()[1] < 2


def test_lr_range_display_without_suggestion_on_given_axes():
    result = lr_result()
    result.suggested_learning_rate = None
    fig, ax = plt.subplots()
    display = LRRangeDisplay.from_result(result, ax=ax, clip_loss=False)
    assert display.ax_ is ax and display.suggestion_line_ is None
    assert display.ax_.get_ylim()[1] > 50


def test_lr_range_display_from_estimator(classification, tmp_path):
    pytest.importorskip("sklr.lr_finder")
    X, y = classification
    display = LRRangeDisplay.from_estimator(LogisticClassifier(), X, y)
    save_png(display, tmp_path)
    assert display.ax_.get_xscale() == "log"
    assert "LogisticClassifier" in display.ax_.get_title()


# ---------------------------------------------------------------- no matplotlib
def test_import_does_not_need_matplotlib():
    code = (
        "import sys; sys.modules['matplotlib'] = None\n"
        "import sklr.inspection\n"
        "from sklr.inspection import ScheduleDisplay\n"
        "try:\n"
        "    ScheduleDisplay.from_schedule('cosine', 10)\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, check=True).stdout
    assert "requires matplotlib" in out
