"""Tests of sklr.inspection: every display renders to a PNG with labelled axes."""

import subprocess
import sys
import warnings
from itertools import product
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


def render(display, tmp_path, name="display.png"):
    """Save the figure to a PNG; return the renderer that drew it."""
    path = tmp_path / name
    display.figure_.savefig(path)
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    return display.figure_.canvas.get_renderer()


def assert_text_inside(display, renderer):
    """Every drawn text of the figure (titles, axis and tick labels, legend) fits."""
    figure = display.figure_
    box = figure.bbox.padded(0.5)
    tight = figure.get_tightbbox(renderer).transformed(figure.dpi_scale_trans)
    assert box.contains(*tight.p0) and box.contains(*tight.p1), tight
    for ax in figure.axes:
        extents = {"title": ax.title.get_window_extent(renderer),
                   "x axis": ax.xaxis.get_tightbbox(renderer),
                   "y axis": ax.yaxis.get_tightbbox(renderer)}
        if ax.get_legend() is not None:
            for text in ax.get_legend().get_texts():
                extents[text.get_text()] = text.get_window_extent(renderer)
        for what, extent in extents.items():
            if extent is None or extent.width == 0:
                continue
            inside = (extent.x0 >= box.x0 and extent.x1 <= box.x1
                      and extent.y0 >= box.y0 and extent.y1 <= box.y1)
            assert inside, f"{what} is cut off: {extent} outside {figure.bbox}"


def drawn_points(line):
    """Display coordinates of points along a line as drawn (steps included)."""
    xy = np.asarray(line.get_xydata(), dtype=float)
    if line.get_drawstyle() == "steps-post" and len(xy) > 1:
        corners = np.repeat(xy, 2, axis=0)
        xy = np.column_stack([corners[1:, 0], corners[:-1, 1]])
    elif line.get_drawstyle() == "steps-pre" and len(xy) > 1:
        corners = np.repeat(xy, 2, axis=0)
        xy = np.column_stack([corners[:-1, 0], corners[1:, 1]])
    points = line.get_transform().transform(xy)
    points = points[np.isfinite(points).all(axis=1)]
    if line.get_linestyle() in ("None", "none", "") or len(points) < 2:
        return points
    # 50 points along each segment, so a line crossing the legend counts
    t = np.linspace(0, 1, 50)[:, None, None]
    return (points[:-1] + t * (points[1:] - points[:-1])).reshape(-1, 2)


def assert_legend_clear(display, renderer, axes):
    """No line of ``axes`` passes under the legend."""
    legend = next(ax.get_legend() for ax in display.figure_.axes
                  if ax.get_legend() is not None)
    box = legend.get_window_extent(renderer)
    for ax in axes:
        for line in ax.get_lines():
            points = drawn_points(line)
            under = ((points[:, 0] > box.x0) & (points[:, 0] < box.x1)
                     & (points[:, 1] > box.y0) & (points[:, 1] < box.y1))
            assert not under.any(), f"the legend covers {line.get_label()!r}"


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


@pytest.fixture(scope="module")
def first_epoch_backoff_model():
    """Asked for learning_rate=3, diverges in epoch 1 and backs off to 0.3."""
    X, y = make_regression(n_samples=500, n_features=5, noise=5, random_state=0)
    X = StandardScaler().fit_transform(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LinearRegressor(optimizer="adam", learning_rate=3, max_iter=12,
                                tol=None, random_state=0).fit(X, (y - y.mean()) / y.std())
    assert model._record.divergence_epochs == [0]
    assert model.learning_rate_curve_[0] == pytest.approx(0.3)
    return model


def test_loss_curve_shows_requested_rate_before_first_epoch_backoff(
        first_epoch_backoff_model, tmp_path):
    display = LossCurveDisplay.from_estimator(first_epoch_backoff_model)
    renderer = render(display, tmp_path)
    (rate_line,) = display.learning_rate_lines_
    # the rate curve starts at the requested 3 at epoch 0 and steps to 0.3,
    # the rate epoch 1 was trained at once it was restored
    np.testing.assert_allclose(rate_line.get_xdata()[:2], [0, 1])
    np.testing.assert_allclose(rate_line.get_ydata()[:2], [3, 0.3])
    assert rate_line.get_drawstyle() == "steps-pre"
    low, high = display.ax_learning_rate_.get_ylim()
    assert low < 0.3 and high > 3
    # the back-off is marked where the rate was cut
    (backoff,) = display.backoff_markers_
    np.testing.assert_allclose(backoff.get_xydata(), [[1, 0.3]])
    texts = legend_texts(display.ax_learning_rate_)
    assert "learning rate, requested 3 (right axis)" in texts
    assert any(t.startswith("back-off") for t in texts)
    assert_text_inside(display, renderer)


def test_loss_curve_constant_rate_draws_flat(first_epoch_backoff_model, tmp_path):
    # after the back-off, float noise: 0.3 then 0.30000000000000004
    display = LossCurveDisplay.from_estimator(first_epoch_backoff_model)
    after = display.learning_rate_lines_[0].get_ydata()[1:]
    assert len(set(after)) == 1
    # a rate constant to 1e-9 is flat, between limits around it
    noisy = [0.3, 0.30000000000000004, 0.29999999999999993, 0.3 * (1 + 1e-10)]
    display = LossCurveDisplay(curves=[[1.0, 0.8, 0.7, 0.65]], labels=["model"],
                               learning_rate_curves=[noisy]).plot()
    renderer = render(display, tmp_path)
    assert len(set(display.learning_rate_lines_[0].get_ydata())) == 1
    low, high = display.ax_learning_rate_.get_ylim()
    assert low <= 0.3 / 1.5 and high >= 0.3 * 1.5 and high / low <= 100
    ticks = [t.get_text() for t in display.ax_learning_rate_.get_yticklabels(which="both")
             if low <= t.get_position()[1] <= high and t.get_text()]
    assert len(ticks) >= 2 and len(set(ticks)) == len(ticks)
    assert display.ax_learning_rate_.yaxis.get_offset_text().get_text() == ""
    assert_text_inside(display, renderer)


def test_loss_curve_log_scale_keeps_text_inside(classification, tmp_path):
    X, y = classification
    pipe = make_pipeline(
        StandardScaler(),
        MLPClassifier(hidden_layer_sizes=(4,), max_iter=20, tol=None,
                      early_stopping=True, random_state=0),
    ).fit(X, y)
    display = LossCurveDisplay.from_estimator(pipe, yscale="log")
    renderer = render(display, tmp_path)
    assert display.ax_.get_ylabel() == "loss (log scale)"
    assert_text_inside(display, renderer)
    assert_legend_clear(display, renderer, [display.ax_, display.ax_learning_rate_])


def test_loss_curve_legend_avoids_curves_of_both_axes(tmp_path):
    # the validation loss rises into the upper right corner, where
    # matplotlib's "best" for the twin axes (flat rate only) would go
    epochs = np.arange(30)
    display = LossCurveDisplay(
        curves=[np.exp(-epochs / 5) + 0.2],
        labels=["model"],
        validation_curves=[0.3 + 0.05 * (epochs - 8) ** 2 / 20],
        learning_rate_curves=[np.full(30, 0.01)],
    ).plot(yscale="log")
    renderer = render(display, tmp_path)
    assert_legend_clear(display, renderer, [display.ax_, display.ax_learning_rate_])
    assert_text_inside(display, renderer)


def test_loss_curve_legend_on_given_axes_stays_inside(tmp_path):
    fig, ax = plt.subplots()
    epochs = np.arange(20)
    display = LossCurveDisplay(
        curves=[np.exp(-epochs / 5)], labels=["model"],
        learning_rate_curves=[np.full(20, 0.1)],
    ).plot(ax=ax)
    render(display, tmp_path)
    legend = display.ax_learning_rate_.get_legend()
    assert display.figure_ is fig
    assert tuple(fig.get_size_inches()) == tuple(plt.rcParams["figure.figsize"])
    assert display.ax_.bbox.contains(*legend.get_window_extent().p0)


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


def many_candidate_search():
    """18 candidates with near-identical curves: 3 rates x 3 alphas x 2 schedules."""
    grid = list(product([0.01, 0.03, 0.1], [1e-4, 1e-3, 1e-2], ["constant", "cosine"]))
    epochs = np.arange(1, 21)
    params, curves, final = [], [], []
    for k, (rate, alpha, schedule) in enumerate(grid):
        params.append({"learning_rate": rate, "alpha": alpha, "schedule": schedule,
                       "optimizer": "adam"})
        loss = 0.3 + 0.7 * np.exp(-epochs * rate * 5) + 0.002 * k
        curves.append([{"loss_curve": list(loss), "validation_scores": [],
                        "learning_rate_curve": [rate] * 20, "n_divergences": 0,
                        "status": "converged"}])
        final.append(loss[-1])
    ranks = np.argsort(np.argsort(final)) + 1
    return SimpleNamespace(cv_results_={"params": params, "rank_test_score": ranks},
                           curves_=curves)


def line_style(line):
    return (line.get_color(), line.get_marker(), line.get_linestyle())


def test_loss_curve_from_search_many_candidates_default_cap(tmp_path):
    search = many_candidate_search()
    display = LossCurveDisplay.from_search(search)
    renderer = render(display, tmp_path)
    ranks = search.cv_results_["rank_test_score"]
    best = list(np.argsort(ranks)[:10])
    assert len(display.lines_) == 10
    for line, i in zip(display.lines_, best):
        np.testing.assert_allclose(line.get_ydata(),
                                   search.curves_[i][0]["loss_curve"])
    assert "10 best of 18 candidates" in display.ax_.get_title()
    # every line looks different, and markers sit at different epochs
    assert len({line_style(line) for line in display.lines_}) == 10
    marked = [tuple(line.get_xdata()[line.get_markevery()[0]::
                                     line.get_markevery()[1]])
              for line in display.lines_]
    assert all(m for m in marked)
    assert len({x for m in marked for x in m}) == sum(len(m) for m in marked)
    # named by the parameters that vary, not the constant optimizer
    texts = legend_texts(display.ax_)
    assert texts[0] == "learning_rate=0.1, alpha=0.0001, schedule=constant"
    assert len(set(texts)) == 10 and not any("optimizer" in t for t in texts)
    assert_text_inside(display, renderer)
    assert_legend_clear(display, renderer, [display.ax_])


def test_loss_curve_from_search_all_candidates_and_top(tmp_path):
    search = many_candidate_search()
    display = LossCurveDisplay.from_search(search, candidates=range(18))
    renderer = render(display, tmp_path)
    assert len({line_style(line) for line in display.lines_}) == 18
    assert len(set(legend_texts(display.ax_))) == 18
    assert "per candidate" in display.ax_.get_title()
    # 18 entries go beside the axes
    legend = display.ax_.get_legend().get_window_extent(renderer)
    assert legend.x0 >= display.ax_.get_window_extent(renderer).x1
    assert_text_inside(display, renderer)

    display = LossCurveDisplay.from_search(search, top=4)
    ranks = search.cv_results_["rank_test_score"]
    for line, i in zip(display.lines_, np.argsort(ranks)[:4]):
        np.testing.assert_allclose(line.get_ydata(),
                                   search.curves_[i][0]["loss_curve"])
    # the rate all four share goes to the title, the rest to the legend
    assert "all with learning_rate=0.1" in display.ax_.get_title()
    assert legend_texts(display.ax_)[0] == "alpha=0.0001, schedule=constant"
    display = LossCurveDisplay.from_search(search, candidates=[0, 1, 17], top=2)
    assert len(display.lines_) == 2
    with pytest.raises(ValueError, match="top must be"):
        LossCurveDisplay.from_search(search, top=0)


def test_loss_curve_from_search_labels_tell_close_values_apart():
    search = fake_lockstep_search()
    search.cv_results_["params"][0]["learning_rate"] = 0.1001
    display = LossCurveDisplay.from_search(search)
    # three digits would make both "0.1"
    assert display.labels[:2] == ["learning_rate=0.1001", "learning_rate=0.1"]


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


def line_pixels(display, line, x_range, renderer):
    """RGB pixels of the rendered figure along ``line`` for x in ``x_range``."""
    from matplotlib.colors import to_rgb

    image = np.asarray(renderer.buffer_rgba())[..., :3] / 255
    x, y = line.get_xdata(), line.get_ydata()
    keep = (x >= x_range[0]) & (x <= x_range[1])
    points = line.get_transform().transform(np.column_stack([x[keep], y[keep]]))
    rows = np.clip(image.shape[0] - np.round(points[:, 1]).astype(int), 0, None)
    cols = np.round(points[:, 0]).astype(int)
    near = [image[r + dr, c] for r, c in zip(rows, cols) for dr in (-1, 0, 1)]
    return np.array(near), np.array(to_rgb(line.get_color()))


def test_schedule_display_overlapping_curves_stay_visible(tmp_path):
    names = list(SCHEDULE_ALIASES)
    display = ScheduleDisplay.from_schedule(names, n_epochs=30, learning_rate=0.1,
                                            n_batches=4)
    renderer = render(display, tmp_path)
    lines = dict(zip(names, display.lines_))
    # every name in the legend
    texts = legend_texts(display.ax_)
    assert len(texts) == len(names)
    assert all(t.split(" ")[0] == name for t, name in zip(texts, names))
    assert_text_inside(display, renderer)
    assert_legend_clear(display, renderer, [display.ax_])
    for under, over, x_range in [("constant", "plateau", (5, 25)),
                                 ("cosine", "warmup_cosine", (10, 25))]:
        np.testing.assert_allclose(
            display.learning_rates[names.index(under)][40:100],
            display.learning_rates[names.index(over)][40:100])
        # both colours are on the rendered image along the curves
        for name in (under, over):
            pixels, color = line_pixels(display, lines[name], x_range, renderer)
            close = np.abs(pixels - color).max(axis=1) < 0.1
            assert close.mean() > 0.1, f"{name} is hidden"
        # as the later curve is dashed on top of the earlier, solid one
        assert lines[under].get_linestyle() == "-"
        assert lines[over].get_linestyle() == "--"
        assert lines[over].get_zorder() > lines[under].get_zorder()


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


def test_search_score_display_names_the_maximised_parameters(pipeline_search,
                                                             tmp_path):
    display = SearchScoreDisplay.from_search(pipeline_search)
    renderer = render(display, tmp_path)
    assert "each point: best over schedule" in display.ax_.get_title()
    assert display.best_over == ["logisticclassifier__schedule"]
    assert_text_inside(display, renderer)
    display = SearchScoreDisplay.from_search(pipeline_search, hue="schedule")
    assert display.best_over == []
    assert "best over" not in display.ax_.get_title()


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


def noisy_lr_result():
    """A range test whose raw minibatch losses are noisy (log-normal)."""
    rng = np.random.default_rng(0)
    rates = np.logspace(-6, 1, 120)
    clean = (0.2 + 0.8 / (1 + 300 * rates)
             + np.where(rates > 0.5, 20 * (rates - 0.5) ** 2, 0))
    raw = clean * np.exp(rng.normal(0, 0.35, rates.size))
    smoothed, average = np.empty_like(raw), 0.0
    for i, value in enumerate(raw):
        average = 0.9 * average + 0.1 * value
        smoothed[i] = average / (1 - 0.9 ** (i + 1))
    # the test stops once the smoothed loss is 4 times its lowest
    end = int(np.argmax(smoothed > 4 * np.minimum.accumulate(smoothed))) + 1
    return SimpleNamespace(learning_rates=rates[:end], losses=smoothed[:end],
                           raw_losses=raw[:end], suggested_learning_rate=1e-2)


def test_lr_range_display_shows_noisy_raw_curve(tmp_path):
    result = noisy_lr_result()
    display = LRRangeDisplay.from_result(result)
    renderer = render(display, tmp_path)
    low, high = display.ax_.get_ylim()
    raw = result.raw_losses
    before_blow_up = raw[result.learning_rates <= 0.5]
    inside = (before_blow_up >= low) & (before_blow_up <= high)
    assert inside.mean() >= 0.97
    # the smoothed curve is whole up to its minimum, and the blow-up is cut
    lowest = np.argmin(result.losses)
    assert low <= result.losses[:lowest + 1].min()
    assert high >= result.losses[:lowest + 1].max()
    assert high < raw.max()
    assert_text_inside(display, renderer)


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


def test_search_score_display_draws_the_candidate_that_did_not_diverge_among_ties(
        tmp_path):
    def curves(n_divergences):
        return [{"loss_curve": [1.0, 0.5], "n_divergences": n_divergences,
                 "status": "converged", "learning_rate_curve": [0.1, 0.1],
                 "validation_scores": None, "n_iter": 2}]

    search = SimpleNamespace(
        cv_results_={"params": [{"learning_rate": 0.1, "alpha": 1.0},
                                {"learning_rate": 0.1, "alpha": 2.0}],
                     "mean_test_score": np.array([0.9, 0.9]),
                     "std_test_score": np.array([0.0, 0.0]),
                     "rank_test_score": np.array([1, 1])},
        curves_=[curves(1), curves(0)], best_index_=1, scoring=None,
    )
    display = SearchScoreDisplay.from_search(search, param="learning_rate")
    save_png(display, tmp_path)
    assert display.diverged_markers_ == []


def test_loss_curve_draws_each_epochs_rate_over_that_epoch():
    # StepDecay(5, 0.5): epochs 1-5 at 0.01, 6-10 at 0.005; epoch k's loss is
    # at x = k, so the rate must drop at x = 5 (ScheduleDisplay's place for it),
    # not at x = 6
    from sklr.schedules import StepDecay

    X, y = make_regression(n_samples=200, n_features=3, noise=1.0, random_state=0)
    model = LinearRegressor(optimizer="sgd", schedule=StepDecay(step_size=5, gamma=0.5),
                            batch_size=50, max_iter=10, tol=None,
                            random_state=0).fit(X, y)
    line = LossCurveDisplay.from_estimator(model).learning_rate_lines_[0]
    x, rate = line.get_xdata(), line.get_ydata()
    # steps-pre: the level over (k - 1, k) is the value at x = k
    assert line.get_drawstyle() == "steps-pre"
    level_over = dict(zip(x, rate))
    assert level_over[5] == pytest.approx(0.01)
    assert level_over[6] == pytest.approx(0.005)
