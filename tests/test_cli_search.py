"""``sklr tune``'s searches (issue 12): divergences, the plot, warnings, the default.

The runs are in-process (``cli.main``) on a small linear regression whose
plain SGD diverges at learning rates of 10 and above and backs off to 1;
the benchmark script runs in a process of its own.
"""

import json
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import make_classification
from test_cli import run_main

from sklr import LinearRegressor, LogisticClassifier
from sklr.cli import _commands, _data
from sklr.exceptions import DivergenceWarning

WIDE = ["--learning-rates", "1e-2:1e2:5", "--optimizers", "sgd", "--n-jobs", "1"]
BENCHMARK = Path(__file__).parents[1] / "benchmarks" / "bench_cli.py"


@pytest.fixture(scope="module")
def linear_csv(tmp_path_factory):
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    y = X @ [1.0, -2.0, 0.5, 0.0] + rng.normal(0, 0.3, 300)
    path = tmp_path_factory.mktemp("data") / "linear.csv"
    pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "c": X[:, 2], "d": X[:, 3],
                  "y": y}).to_csv(path, index=False)
    return path


def board(out):
    """The leaderboard's rows, each a dict by column header."""
    lines = out[out.index("Rank"):out.index("\n\nBest")].splitlines()
    header = re.split(r"\s{2,}", lines[0].strip())
    return [dict(zip(header, re.split(r"\s{2,}", line.strip()))) for line in lines[1:]]


def notes(err):
    """The command's lines on stderr, without the progress bar's."""
    return [line for line in err.splitlines() if line.startswith("sklr:")]


# ------------------------------------------------- 1. diverged configurations
@pytest.mark.parametrize("search", ["lockstep", "grid"])
def test_diverged_rates_rank_after_the_rates_they_fell_back_to(linear_csv, capsys,
                                                               search):
    status, out, err = run_main(capsys, "tune", linear_csv, *WIDE, "--search", search)
    assert status == 0, err
    rows = board(out)
    diverged = [row for row in rows if row["Diverged"] != "-"]
    # 10 and 100 diverge in every fold and back off to 1, for both schedules
    assert sorted(row["Learning rate"] for row in diverged) == [
        "10 -> 1", "10 -> 1", "100 -> 1", "100 -> 1"]
    assert {row["Diverged"] for row in diverged} == {"3/3 folds"}
    # a rate that fell back to 1 scores as 1 does, and ranks after it
    for position, row in enumerate(rows):
        if row["Diverged"] != "-":
            score = row["r2 (mean +/- std)"]
            assert all(other["Diverged"] != "-" for other in rows[position:]
                       if other["r2 (mean +/- std)"] == score)
    assert rows[0]["Diverged"] == "-" and rows[0]["Learning rate"] == "1"
    assert "learning_rate=1.0," in out.split("Best r2: ")[1]
    assert "diverged in" not in out


def test_best_that_diverged_in_every_fold_is_printed_with_its_backed_off_rate(
        linear_csv, tmp_path, capsys):
    report_path = tmp_path / "results.json"
    status, out, err = run_main(capsys, "tune", linear_csv, "--learning-rates",
                                "10,100", "--optimizers", "sgd", "--schedules",
                                "constant", "--n-jobs", "1", "--json", report_path)
    assert status == 0, err
    assert [row["Learning rate"] for row in board(out)] == ["10 -> 1", "100 -> 1"]
    best = out.split("Best r2: ")[1].splitlines()
    assert best[1] == ("  learning rate 10 diverged in 3 of 3 folds and backed off "
                       "to 1; the constructor uses 1:")
    constructor = best[2].strip()
    assert constructor.startswith("LinearRegressor(optimizer='sgd', "
                                  "learning_rate=1.0, schedule='constant'")
    report = json.loads(report_path.read_text())["best"]
    assert report["params"]["learning_rate"] == 10.0
    assert report["learning_rate"] == 1.0
    assert report["constructor"] == constructor
    assert "backed off to 1" in report["note"]
    # pasted, it trains without diverging
    problem = _data.load(str(linear_csv), None, "auto")
    X = _data.build_pipeline(problem, "auto", 50, 0)[:-1].fit_transform(problem.X)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DivergenceWarning)
        model = eval(constructor, {"LinearRegressor": LinearRegressor}).fit(X, problem.y)
    assert model.n_divergences_ == 0


# ---------------------------------------------------------------- 2. the plot
@pytest.mark.parametrize("search", ["lockstep", "grid"])
def test_plot_circles_diverged_candidates_and_stars_the_reported_best(
        linear_csv, tmp_path, capsys, monkeypatch, search):
    pytest.importorskip("matplotlib")
    figures = []
    monkeypatch.setattr(_commands, "save_figure",
                        lambda figure, path, force: figures.append(figure))
    status, out, err = run_main(capsys, "tune", linear_csv, *WIDE, "--search", search,
                                "--plot", tmp_path / "scores.png")
    assert status == 0, err
    (ax,) = figures[0].axes
    (star,) = [line for line in ax.lines if line.get_marker() == "*"]
    best_score = float(out.split("Best r2: ")[1].split()[0])
    assert star.get_xdata().tolist() == [1.0]
    assert star.get_ydata()[0] == pytest.approx(best_score, abs=1e-4)
    (circles,) = [line for line in ax.lines
                  if line.get_label() == "diverged or backed off"]
    assert set(circles.get_xdata().tolist()) == {10.0, 100.0}


# ------------------------------------------------------------- 3. warnings
def _expected_outcomes(report_path, max_iter):
    candidates = json.loads(report_path.read_text())["candidates"]
    statuses = [s for c in candidates for s in c["statuses"]]
    backed_off = sum(1 for c in candidates
                     for d, s in zip(c["n_divergences"], c["statuses"])
                     if d and s != "diverged")
    return (f"sklr: warning: {statuses.count('training')} of {len(statuses)} fits "
            f"reached max_iter={max_iter} before converging; {backed_off} diverged "
            "and backed off")


@pytest.mark.parametrize("search", ["lockstep", "grid", "random"])
def test_fit_warnings_are_one_line_with_counts_whatever_n_jobs(linear_csv, tmp_path,
                                                               capsys, search):
    lines = {}
    for n_jobs in ["1", "2"]:
        report_path = tmp_path / f"{n_jobs}.json"
        status, _, err = run_main(
            capsys, "tune", linear_csv, *WIDE, "--search", search, "--max-iter", "20",
            "--n-jobs", n_jobs, "--n-iter" if search == "random" else "--cv",
            "10" if search == "random" else "3", "--json", report_path)
        assert status == 0, err
        lines[n_jobs] = notes(err)
        assert _expected_outcomes(report_path, 20) in lines[n_jobs]
    assert lines["1"] == lines["2"]
    assert len(lines["1"]) == len(set(lines["1"])) <= 2


@pytest.mark.parametrize("search", ["lockstep", "grid"])
def test_verbose_shows_every_warning_of_the_workers(linear_csv, capsys, search):
    # the workers' own stderr is not captured: each warning seen here came
    # back from a worker to the command
    status, _, err = run_main(capsys, "tune", linear_csv, *WIDE, "--search", search,
                              "--n-jobs", "2", "-v")
    assert status == 0, err
    backed_off = int(re.search(r"(\d+) diverged and backed off", err).group(1))
    each = [line for line in notes(err) if "Training diverged" in line]
    assert len(each) == backed_off == 12
    assert all(line.startswith("sklr: warning: Training diverged at learning rate ")
               for line in each)


def test_progress_search_summarizes_fit_and_scorer_warnings_of_workers():
    from sklearn.metrics import get_scorer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    from sklr.cli._progress import Progress
    from sklr.model_selection._chunked import ProgressGridSearchCV

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 2)), rng.normal(size=20)
    # every fit warns (abs does not invert square), and so does every
    # scoring (R^2 of one sample)
    pipeline = make_pipeline(
        FunctionTransformer(np.square, inverse_func=np.abs, check_inverse=True),
        LinearRegressor(max_iter=5, tol=None))
    folds = [(np.arange(1, 20), np.array([0])), (np.arange(19), np.array([19]))]
    search = ProgressGridSearchCV(pipeline, {"linearregressor__alpha": [1e-4, 1e-3]},
                                  scoring={"r2": get_scorer("r2")}, refit="r2",
                                  cv=folds, n_jobs=2)
    search.progress = Progress("test")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", message=".*non-finite")
        search.fit(X, y)
    summaries = {w.category.__name__: str(w.message).splitlines() for w in caught}
    # 2 candidates x 2 folds, and the refit, which is not scored
    assert summaries == {
        "UserWarning": ["5 of 5 fits issued this warning (verbose=2 shows each one):",
                        "  5 fits: The provided functions are not strictly inverse of "
                        "each other. If you are sure you want to proceed regardless, "
                        "set 'check_inverse=False'."],
        "UndefinedMetricWarning": [
            "4 of 5 fits issued this warning (verbose=2 shows each one):",
            "  4 fits: R^2 score is not well-defined with less than two samples."]}
    assert search.best_estimator_.predict(X).shape == (20,)


# ------------------------------------------------------- 4. the default search
def test_default_search_is_lockstep_with_the_grid_search_s_scores(linear_csv,
                                                                  tmp_path, capsys):
    scores = {}
    for search in [None, "grid"]:
        path = tmp_path / f"{search}.json"
        chosen = [] if search is None else ["--search", search]
        status, out, err = run_main(capsys, "tune", linear_csv, *WIDE, *chosen,
                                    "--json", path)
        assert status == 0, err
        report = json.loads(path.read_text())
        assert report["search"]["kind"] == (search or "lockstep")
        assert ("Search: lockstep grid search" in out) == (search is None)
        scores[search] = {(c["schedule"], c["learning_rate"]): c["mean_test_score"]
                          for c in report["candidates"]}
    assert scores[None] == pytest.approx(scores["grid"], rel=1e-9)
    status, out, _ = run_main(capsys, "tune", "--help")
    assert "(default: lockstep)" in " ".join(out.split())


# ------------------------------------------------------------------ 5. scale
def test_numeric_columns_without_missing_values_skip_the_imputer(tmp_path):
    pd = pytest.importorskip("pandas")
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"full": rng.normal(size=40), "gaps": rng.normal(size=40),
                          "empty": np.nan, "y": rng.normal(size=40)})
    frame.loc[::4, "gaps"] = np.nan
    frame.to_csv(tmp_path / "gaps.csv", index=False)
    problem = _data.load(str(tmp_path / "gaps.csv"), None, "auto")
    assert problem.incomplete == ["gaps", "empty"]
    preprocess = _data.build_pipeline(problem, "auto", 5, 0)[0]
    Xt = preprocess.fit_transform(problem.X)
    # every column kept, in order: the complete ones, then the imputed ones
    reference = np.column_stack([
        StandardScaler().fit_transform(frame[["full"]]),
        StandardScaler().fit_transform(SimpleImputer(
            strategy="median", keep_empty_features=True).fit_transform(
                frame[["gaps", "empty"]]))])
    np.testing.assert_allclose(Xt, reference)
    assert "3 numeric columns standardized (missing values of 2 imputed with the " \
           "median)" in _data.describe(problem, LinearRegressor())


def test_benchmark_runs_on_a_small_file():
    result = subprocess.run(
        [sys.executable, str(BENCHMARK), "--rows", "2000", "--n-jobs", "1"],
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("wrote 2000 rows x 11 columns")
    assert any(line.startswith("wall time: ") for line in lines)
    assert any(line.startswith("peak memory, command: ") for line in lines)


def test_the_lockstep_search_advances_the_progress_bar_stack_by_stack():
    from sklr.model_selection import LockstepGridSearchCV

    class Steps:
        def __init__(self):
            self.steps = []

        def advance(self, n):
            self.steps.append(n)

    X, y = make_classification(n_samples=60, n_features=4, random_state=0)
    search = LockstepGridSearchCV(
        LogisticClassifier(max_iter=3),
        {"batch_size": [16, 32], "learning_rate": [0.01, 0.1, 1.0]}, cv=3)
    search._progress = Steps()
    search.fit(X, y)
    # one step per (batch size, fold) group of 3 candidates, in this process
    assert search._progress.steps == [3] * 6
