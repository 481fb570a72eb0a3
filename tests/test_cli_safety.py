"""The ``sklr`` command line cannot hurt files, crash or misreport (issue 12).

Most runs are in-process (``cli.main``), which spares the start-up of a
Python process per run; the memory test needs a process of its own.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from test_cli import assert_usage_error, run_main

from sklr import cli
from sklr.cli import _data
from sklr.cli._commands import _fit
from sklr.cli._parsing import MAX_LEARNING_RATES
from sklr.cli._report import leaderboard, score_text

# two candidates on two folds in one process: a fraction of a second
SMALL = ["--optimizers", "adam", "--schedules", "constant",
         "--learning-rates", "1e-2:1e-1:2", "--cv", "2", "--max-iter", "5",
         "--n-jobs", "1"]


def write_csv(path, columns):
    pd = pytest.importorskip("pandas")
    pd.DataFrame(columns).to_csv(path, index=False)
    return path


@pytest.fixture
def data(tmp_path, monkeypatch):
    """A small classification CSV in the working directory, ``data.csv``."""
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 60))
    return write_csv(tmp_path / "data.csv",
                     {"a": a, "b": b, "y": (a + b > 0).astype(int)})


# ------------------------------------------------------------- output files
@pytest.mark.parametrize("output", [
    ["--json", "data.csv"],
    ["--json", "data.csv", "--force"],
    ["--json", "./sub/../data.csv", "--force"],
    ["--json", "link.json", "--force"],
    ["--json", "hardlink.json", "--force"],
])
def test_input_file_is_never_an_output(data, capsys, output):
    os.mkdir("sub")
    os.symlink("data.csv", "link.json")
    os.link("data.csv", "hardlink.json")
    before = data.read_bytes()
    status, out, err = run_main(capsys, "tune", "data.csv", *SMALL, *output)
    assert_usage_error(status, err, output[0], "is the input file")
    assert out == ""  # refused before reading the data
    assert data.read_bytes() == before


def test_plot_of_find_lr_is_never_the_input(tmp_path, capsys, monkeypatch):
    pytest.importorskip("matplotlib")
    pytest.importorskip("sklr.inspection", exc_type=ImportError)
    monkeypatch.chdir(tmp_path)
    data = write_csv(tmp_path / "data.svg", {"a": [1.0, 2.0, 3.0], "y": [0, 1, 0]})
    before = data.read_bytes()
    status, _, err = run_main(capsys, "find-lr", "data.svg", "--plot", "data.svg",
                              "--force")
    assert_usage_error(status, err, "--plot", "is the input file")
    assert data.read_bytes() == before


def test_json_and_plot_must_differ(data, capsys):
    pytest.importorskip("matplotlib")
    pytest.importorskip("sklr.inspection", exc_type=ImportError)
    status, _, err = run_main(capsys, "tune", "data.csv", *SMALL,
                              "--json", "out.svg", "--plot", "./out.svg")
    assert_usage_error(status, err, "--plot and --json name the same file")
    assert not os.path.exists("out.svg")


def test_existing_output_is_kept_without_force(data, capsys):
    for name in ["old.json", "kept.txt"]:
        with open(name, "w") as file:
            file.write("keep me")
    os.symlink("kept.txt", "link.json")
    for name in ["old.json", "link.json"]:
        status, out, err = run_main(capsys, "tune", "data.csv", *SMALL, "--json", name)
        assert_usage_error(status, err, f"'{name}' exists", "--force")
        assert out == ""
    for name in ["old.json", "kept.txt"]:
        with open(name) as file:
            assert file.read() == "keep me"

    status, out, err = run_main(capsys, "tune", "data.csv", *SMALL,
                                "--json", "old.json", "--force")
    assert status == 0, err
    with open("old.json") as file:
        assert json.load(file)["data"]["n_samples"] == 60


@pytest.mark.parametrize("path, phrase", [
    ("results/", "is a directory"),
    ("results", "is a directory"),
    ("data.csv/out.json", "is not a directory"),
    ("missing/out.json", "does not exist"),
    ("/dev/null", "is not a regular file"),
])
def test_output_must_be_a_regular_file_location(data, capsys, path, phrase):
    if path.startswith("/dev/") and not os.path.exists(path):
        pytest.skip(f"no {path}")
    os.mkdir("results")
    status, out, err = run_main(capsys, "tune", "data.csv", *SMALL,
                                "--json", path, "--force")
    assert_usage_error(status, err, "--json", phrase)
    assert out == ""  # before the search, not after it


def test_unwritable_output_fails_before_the_search(data, capsys, monkeypatch):
    os.mkdir("locked")
    os.chmod("locked", 0o500)
    if getattr(os, "geteuid", lambda: None)() == 0:
        # root may write anyway: make the check see the directory's mode
        access = os.access
        monkeypatch.setattr(os, "access", lambda path, mode: (
            not str(path).endswith("locked") and access(path, mode)))
    try:
        status, out, err = run_main(capsys, "tune", "data.csv", *SMALL,
                                    "--json", "locked/out.json")
    finally:
        os.chmod("locked", 0o700)
    assert_usage_error(status, err, "cannot write", "permission denied")
    assert out == ""


# --------------------------------------------------------------- the input
@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_input_must_be_a_regular_file(capsys):
    status, _, err = run_main(capsys, "tune", "/dev/zero")
    assert_usage_error(status, err, "'/dev/zero' is not a regular file")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes")
def test_input_pipe_is_refused_without_blocking(tmp_path, capsys):
    pipe = tmp_path / "pipe.csv"
    os.mkfifo(pipe)
    status, _, err = run_main(capsys, "find-lr", pipe)
    assert_usage_error(status, err, "is not a regular file")


# ----------------------------------------------------------- option bounds
@pytest.mark.parametrize("argv, phrases", [
    (["tune", "--learning-rates", "1e-3:1:100000000"],
     ["--learning-rates", f"at most {MAX_LEARNING_RATES}"]),
    (["tune", "--learning-rates", ",".join(["0.1"] * (MAX_LEARNING_RATES + 1))],
     ["--learning-rates", f"at most {MAX_LEARNING_RATES}"]),
    (["tune", "--learning-rates", "1e-3:inf:3"], ["--learning-rates"]),
    (["tune", "--learning-rates", "0.1,nan"], ["--learning-rates"]),
    (["tune", "--learning-rates", "1e999"], ["--learning-rates"]),
    (["tune", "--learning-rates", "-0.1"], ["--learning-rates"]),
    (["tune", "--cv", "101"], ["--cv", "<= 100"]),
    (["tune", "--n-iter", "1001"], ["--n-iter", "<= 1000"]),
    (["tune", "--max-iter", "10001"], ["--max-iter", "<= 10000"]),
    (["tune", "--random-state", str(2**40)], ["--random-state", "<= 4294967295"]),
    (["find-lr", "--random-state", "-1"], ["--random-state"]),
    (["tune", "--n-jobs", "100000"], ["--n-jobs", "CPUs"]),
    (["tune", "--n-jobs", "-100000"], ["--n-jobs", "CPUs"]),
    (["tune", "--top", "0"], ["--top"]),
], ids=lambda argv: " ".join(argv)[:40] if isinstance(argv, list) else None)
def test_numeric_options_are_bounded(capsys, argv, phrases):
    status, out, err = run_main(capsys, *argv)
    assert_usage_error(status, err, *phrases)
    assert out == ""


@pytest.mark.parametrize("target, phrase", [
    ("y", "more folds than the 32 samples of the largest class"),
    ("a", "more folds than the 60 samples"),
])
def test_more_folds_than_samples(data, capsys, target, phrase):
    status, out, err = run_main(capsys, "tune", "data.csv", "--target", target,
                                "--cv", "61", "--n-jobs", "1")
    assert_usage_error(status, err, "--cv 61", phrase)
    assert "Search:" not in out


def test_find_lr_help_does_not_mention_cv_splits(capsys):
    status, out, _ = run_main(capsys, "find-lr", "--help")
    assert status == 0
    help_text = " ".join(out.split())
    assert "--random-state N seed of the model (initial weights" in help_text
    assert "CV" not in help_text


# ------------------------------------------------------------- bad numbers
def test_huge_learning_rate_is_reported_not_a_crash(capsys):
    status, out, err = run_main(capsys, "tune", *SMALL, "--learning-rates", "1e100",
                                "--optimizers", "sgd")
    assert status == 0, err
    assert "Best accuracy: " in out


def test_leaderboard_formats_non_finite_and_huge_scores():
    # a diverged regression: a score of -1e300 whose std over folds overflowed
    row = {"rank": 1, "optimizer": "sgd", "schedule": "constant",
           "learning_rate": 1e100, "mean_test_score": -1e300,
           "std_test_score": None, "mean_fit_time": 0.1, "n_divergences": [1, 1],
           "final_learning_rates": [1e99, 1e99], "statuses": ["training"] * 2,
           "failed": False}
    stopped = {**row, "rank": 2, "n_divergences": [11, 11],
               "final_learning_rates": [1e90, 1e90], "statuses": ["diverged"] * 2}
    failed = {**row, "rank": 3, "mean_test_score": None, "n_divergences": [None] * 2,
              "final_learning_rates": [None] * 2, "statuses": [None] * 2,
              "failed": True}
    board = leaderboard([row, stopped, failed], "r2", 2, None)
    lines = board.splitlines()
    assert "1e+100 -> 1e+99" in lines[1]
    assert "-1e+300 +/- n/a" in lines[1] and "2/2 folds" in lines[1]
    # a fold that stopped after its last back-off found no rate to show
    assert "1e+100 " in lines[2] and "->" not in lines[2]
    assert "2/2 folds, stopped" in lines[2]
    assert "failed" in lines[3]
    assert [score_text(v) for v in [0.5, None, np.inf, np.nan]] == [
        "0.5000", "n/a", "n/a", "n/a"]


@pytest.mark.parametrize("target, model, phrases", [
    ([0.0, 1.0, np.inf], "auto", ["target column 'y' has infinite values"]),
    ([0.0, 1.0, -np.inf], "linear", ["target column 'y' has infinite values"]),
    ([0.0, 1.0, 1e300], "logistic", ["too large to be exact class labels"]),
    ([0.5, 1.0, 1e300], "auto", ["'y'", "too large in magnitude", "rescale"]),
])
def test_bad_target_numbers(tmp_path, capsys, target, model, phrases):
    y = np.resize(target, 30)
    path = write_csv(tmp_path / "t.csv", {"a": np.arange(30.0), "y": y})
    status, out, err = run_main(capsys, "tune", path, *SMALL, "--model", model)
    assert_usage_error(status, err, *phrases)
    assert len(err) < 200
    assert out == ""


@pytest.mark.parametrize("search", ["grid", "lockstep"])
@pytest.mark.parametrize("problem, phrase", [
    ("one inf cell", "column 'b' has infinite values"),
    ("column x 1e200", "column 'b' has values too large in magnitude"),
])
def test_bad_feature_numbers_are_one_line_naming_the_column(data, capsys, search,
                                                            problem, phrase):
    pd = pytest.importorskip("pandas")
    frame = pd.read_csv(data)
    if problem == "one inf cell":
        frame.loc[3, "b"] = np.inf
    else:
        frame["b"] *= 1e200
    frame.to_csv("bad.csv", index=False)
    status, _, err = run_main(capsys, "tune", "bad.csv", *SMALL, "--search", search)
    assert_usage_error(status, err, phrase)
    assert "NaN" not in err


def test_large_integer_class_labels_stay_exact(tmp_path, capsys):
    labels = np.resize([10**15, 10**15 + 1], 30)
    path = write_csv(tmp_path / "ids.csv", {"a": np.arange(30.0), "y": labels})
    status, out, err = run_main(capsys, "tune", path, *SMALL)
    assert status == 0, err
    assert "2 classes" in out


def test_every_fit_failing_is_one_short_line():
    from sklearn.model_selection import GridSearchCV, KFold

    from sklr import LinearRegressor

    # missing values and no imputer: every fit raises the same ValueError
    X = np.column_stack([np.arange(4.0), np.full(4, np.nan)])
    search = GridSearchCV(LinearRegressor(), {"max_iter": [1, 2]}, cv=KFold(2),
                          error_score=np.nan)
    with pytest.raises(cli.CLIError) as raised:
        _fit(search, X, np.arange(4.0))
    message = str(raised.value)
    assert message == ("every fit failed; the last error: ValueError: Input X "
                       "contains NaN.")
    assert "\n" not in message and "Traceback" not in message


def test_warnings_are_one_line_notes(capsys):
    status, _, err = run_main(capsys, "tune", *SMALL, "--search", "random",
                              "--learning-rates", "0.1", "--n-iter", "2")
    assert status == 0, err
    notes = [line for line in err.splitlines() if "total space of parameters" in line]
    assert len(notes) == 1 and notes[0].startswith("sklr: warning: ")


# ----------------------------------------------------- categorical columns
def test_high_cardinality_column_is_dropped_with_a_note(data, capsys, monkeypatch):
    pd = pytest.importorskip("pandas")
    frame = pd.read_csv(data)
    frame.insert(0, "id", [f"order-{i}" for i in range(200, 260)])
    frame.insert(1, "city", np.resize(["Oslo", "Lima", None], 60))
    frame.to_csv("orders.csv", index=False)
    # the cap (100) scaled down to the 60 rows of this data
    monkeypatch.setattr(_data, "MAX_CATEGORIES", 50)
    status, out, err = run_main(capsys, "tune", "orders.csv", *SMALL,
                                "--json", "out.json")
    assert status == 0, err
    assert ("sklr: dropped 1 categorical column with more than 50 distinct values: "
            "'id' (60)\n") in err
    assert "1 categorical column imputed" in out
    assert "1 categorical column dropped (more than 50 distinct values)" in out
    with open("out.json") as file:
        report = json.load(file)["data"]
    assert report["dropped_columns"] == ["id"]
    assert report["n_features"] == 3


def test_no_feature_column_left(tmp_path, capsys):
    path = write_csv(tmp_path / "ids.csv", {"id": [f"x{i}" for i in range(150)],
                                            "y": np.resize([0, 1], 150)})
    status, _, err = run_main(capsys, "tune", path, *SMALL)
    assert_usage_error(status, err, "no usable feature column", "'id' (150)")


def test_notes_do_not_precede_an_error(data, capsys):
    pd = pytest.importorskip("pandas")
    frame = pd.read_csv(data)
    frame.loc[0, "y"] = np.nan
    frame.to_csv("gaps.csv", index=False)
    status, _, err = run_main(capsys, "tune", "gaps.csv", *SMALL, "--n-iter", "3")
    assert_usage_error(status, err, "--n-iter applies only to --search random")


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("model, sparse", [("auto", True), ("mlp", False)])
def test_one_hot_encoding_is_sparse_for_linear_models(tmp_path, model, sparse):
    import scipy.sparse as sp

    rng = np.random.default_rng(0)
    path = write_csv(tmp_path / "shop.csv", {
        "price": rng.normal(size=300),
        "shop": np.resize([f"s{i}" for i in range(90)], 300),
        "y": rng.integers(2, size=300)})
    problem = _data.load(str(path), None, model)
    pipeline = _data.build_pipeline(problem, model, 5, 0)
    Xt = pipeline[:-1].fit_transform(problem.X)
    assert sp.issparse(Xt) == sparse
    assert Xt.shape == (300, 91)
    pipeline.fit(problem.X, problem.y)


def test_mlp_refuses_a_one_hot_encoding_too_large_to_be_dense(data, capsys,
                                                              monkeypatch):
    pd = pytest.importorskip("pandas")
    frame = pd.read_csv(data)
    frame.insert(0, "shop", [f"s{i % 30}" for i in range(60)])
    frame.to_csv("shops.csv", index=False)
    monkeypatch.setattr(_data, "DENSE_LIMIT", 60 * 30 - 1)
    status, out, err = run_main(capsys, "tune", "shops.csv", *SMALL, "--model", "mlp")
    assert_usage_error(status, err, "--model mlp needs dense input",
                       "60 rows x 30 columns", "--model auto")
    assert out == ""
    status, _, err = run_main(capsys, "tune", "shops.csv", *SMALL)
    assert status == 0, err


def test_unique_id_column_is_tuned_in_bounded_memory(tmp_path):
    """A 20,000-row CSV with a unique-ID text column once took 6.4 GB (dense one-hot)."""
    pytest.importorskip("resource")
    rng = np.random.default_rng(0)
    n = 20_000
    x = rng.normal(size=n)
    path = write_csv(tmp_path / "orders.csv", {
        "order_id": [f"order-{i:08d}-{rng.integers(10**9)}" for i in range(n)],
        "city": rng.choice([f"city{i}" for i in range(80)], size=n),
        "x": x,
        "y": (x > 0).astype(int),
    })
    # the peak of a process of its own: this one's holds every test before it
    script = ("import resource, sys\n"
              "from sklr.cli import main\n"
              "status = main(sys.argv[1:])\n"
              "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
              "unit = 1 if sys.platform == 'darwin' else 1024\n"
              "print(f'peak bytes: {peak * unit}', file=sys.stderr)\n"
              "sys.exit(status)\n")
    result = subprocess.run(
        [sys.executable, "-c", script, "tune", str(path), "--optimizers", "adam",
         "--schedules", "constant", "--learning-rates", "0.1", "--cv", "2",
         "--max-iter", "3", "--n-jobs", "1"],
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "'order_id' (20000)" in result.stderr
    peak = int(result.stderr.split("peak bytes: ")[1].split()[0])
    assert peak < 2**30


# ------------------------------------------------------------- closed output
class ClosedPipe:
    """Standard output whose reader has gone (``sklr tune | head -1``)."""

    def __init__(self, sink):
        self.sink = sink

    def write(self, text):
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self):
        raise BrokenPipeError(32, "Broken pipe")

    def fileno(self):
        return self.sink.fileno()


def test_a_reader_that_leaves_early_is_not_an_error(data, capsys, monkeypatch):
    with open("sink", "w") as sink:
        monkeypatch.setattr(sys, "stdout", ClosedPipe(sink))
        status = cli.main(["tune", "data.csv", *SMALL])
    # the shell's status for a writer ended by SIGPIPE, and no "sklr: error"
    assert status == 141
    assert "error" not in capsys.readouterr().err


@pytest.mark.parametrize("separator, decimal, note", [
    (";", ".", "read as semicolon-separated"),
    (";", ",", "read as semicolon-separated with decimal commas"),
    ("\t", ".", "read as tab-separated"),
])
def test_csv_saved_with_another_separator(tmp_path, separator, decimal, note):
    # spreadsheets in many locales save "CSV" with semicolons and decimal commas
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=50), "b": rng.normal(size=50)})
    frame["y"] = frame["a"] - 2 * frame["b"]
    path = tmp_path / "local.csv"
    frame.to_csv(path, sep=separator, decimal=decimal, index=False)
    problem = _data.load(str(path), None, "auto")
    assert note in problem.notes
    assert problem.numeric == ["a", "b"]
    np.testing.assert_allclose(problem.y, frame["y"])


def test_one_column_names_the_separators_read(tmp_path, capsys):
    (tmp_path / "one.csv").write_text("a b y\n1 2 3\n4 5 6\n")
    status, out, err = run_main(capsys, "tune", tmp_path / "one.csv", *SMALL)
    assert_usage_error(status, err, "has one column", "semicolon-")


def test_the_row_index_pandas_saves_is_no_feature(tmp_path):
    # DataFrame.to_csv writes the index by default: read back, it is a column
    # "Unnamed: 0" counting the rows, which used to become a feature
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=40), "y": rng.normal(size=40)})
    frame.to_csv(tmp_path / "indexed.csv")
    problem = _data.load(str(tmp_path / "indexed.csv"), None, "auto")
    assert list(problem.X.columns) == ["x"]
    assert any("Unnamed: 0" in note for note in problem.notes)
    # a column of that name holding data is kept
    frame.index = rng.permutation(40)
    frame.to_csv(tmp_path / "shuffled.csv")
    problem = _data.load(str(tmp_path / "shuffled.csv"), None, "auto")
    assert list(problem.X.columns) == ["Unnamed: 0", "x"]


def test_find_lr_says_when_its_suggestion_is_only_the_default(tmp_path, capsys):
    # lr_range_test warns in Python; the command hid it
    write_csv(tmp_path / "flat.csv", {"a": np.arange(60.0), "b": np.ones(60),
                                      "y": np.full(60, 3.5)})
    status, out, err = run_main(capsys, "find-lr", tmp_path / "flat.csv")
    assert status == 0
    assert "sklr: warning: lr_range_test found no clear descent" in err


def test_tune_without_any_score_is_an_error_not_a_best(tmp_path, capsys):
    rng = np.random.default_rng(0)
    y = np.zeros(60, dtype=int)
    y[5] = 1
    write_csv(tmp_path / "onepos.csv", {"a": rng.normal(size=60), "y": y})
    status, out, err = run_main(capsys, "tune", tmp_path / "onepos.csv", *SMALL)
    assert status == 2
    assert "no candidate got a score" in err
    assert "Best accuracy" not in out


def test_a_numeric_target_with_a_stray_text_cell_is_named(tmp_path, capsys):
    # read as text, every distinct price became a class, and the error blamed
    # the number of folds
    rng = np.random.default_rng(0)
    target = np.round(rng.normal(size=60) * 100, 2).astype(object)
    target[7] = "?"
    write_csv(tmp_path / "prices.csv", {"a": rng.normal(size=60), "price": target})
    status, out, err = run_main(capsys, "tune", tmp_path / "prices.csv", *SMALL)
    assert_usage_error(status, err, "target column 'price' holds numbers but also '?'")
