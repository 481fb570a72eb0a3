"""The ``sklr`` command line, driven as a user would.

One run goes through ``python -m sklr``, the program a user starts; the
others call ``cli.main`` in this process, the same code without the start-up
of a Python process each.
"""

import json
import subprocess
import sys

import numpy as np
import pytest

from sklr import cli

# a grid of two candidates on two folds keeps each run to a few seconds
SMALL = ["--optimizers", "adam", "--schedules", "constant",
         "--learning-rates", "1e-2:1e-1:2", "--cv", "2", "--max-iter", "5",
         "--n-jobs", "1"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run(*args):
    return subprocess.run([sys.executable, "-m", "sklr", *map(str, args)],
                          capture_output=True, text=True, timeout=600)


def run_main(capsys, *argv):
    """``(status, stdout, stderr)`` of ``sklr argv`` run in this process."""
    try:
        status = cli.main([str(arg) for arg in argv])
    except SystemExit as exc:  # argparse's errors
        status = exc.code
    out, err = capsys.readouterr()
    return status, out, err


def assert_usage_error(status, err, *phrases):
    assert status == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("sklr: error: ")
    for phrase in phrases:
        assert phrase in lines[0]
    assert "Traceback" not in err


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """CSV files: numeric, categorical and boolean columns with missing values."""
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    n = 120
    frame = pd.DataFrame({
        "size": rng.normal(size=n),
        "weight": rng.normal(10, 3, size=n),
        "color": rng.choice(["red", "green", "blue"], size=n),
        "fresh": rng.choice([True, False], size=n),
    })
    frame["price"] = (2 * frame["size"] + (frame["color"] == "red")
                      + rng.normal(0, 0.1, size=n))
    frame["label"] = np.where(frame["price"] > 0, "expensive", "cheap")
    frame.loc[::7, "size"] = np.nan
    frame.loc[::5, "color"] = np.nan
    frame.loc[3, "label"] = np.nan
    path = tmp_path_factory.mktemp("data")
    frame.to_csv(path / "shop.csv", index=False)
    (path / "empty.csv").write_text("")
    (path / "header_only.csv").write_text("a,b,y\n")
    (path / "one_class.csv").write_text("a,b,y\n1,2,x\n3,4,x\n5,6,x\n")
    (path / "binary.csv").write_bytes(bytes(range(256)) * 8)
    (path / "broken.csv").write_text('a,b,y\n1,2,3\n"4,5,6\n')
    return path


def test_tune_default_data_small_grid(capsys):
    status, out, err = run_main(capsys, "tune", *SMALL)
    assert status == 0, err
    assert "digits" in out and "10 classes" in out
    assert "2 candidates" in out
    board = out[out.index("Rank"):]
    assert board.count("adam  ") == 2
    assert "LogisticClassifier(optimizer='adam', learning_rate=" in out
    assert "max_iter=5" in out
    # progress over candidates x folds goes to stderr, results to stdout
    assert "4/4" in err
    assert "sklr tune" in err


def test_tune_default_run():
    """The README's main job: ``sklr tune`` with every default, as a user runs it."""
    result = run("tune")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "lockstep grid search" in out
    assert "30 candidates" in out
    board = out[out.index("Rank"):out.index("Best accuracy")].strip().splitlines()
    assert len(board) == 1 + 30
    assert board[1].split()[0] == "1"
    best = float(out.split("Best accuracy: ")[1].split()[0])
    assert best > 0.9
    assert "  LogisticClassifier(optimizer=" in out
    # the fits' warnings: one summary line each, whatever the workers did
    notes = [line for line in result.stderr.splitlines() if line.startswith("sklr:")]
    assert len(notes) == len(set(notes)) <= 3, result.stderr
    assert "of 90 fits reached max_iter=50" in result.stderr


def test_tune_csv_classification_json(data_dir, tmp_path, capsys):
    report_path = tmp_path / "results.json"
    status, out, err = run_main(
        capsys, "tune", data_dir / "shop.csv", "--target", "label",
        "--optimizers", "sgd,adam", "--schedules", "constant,cosine",
        "--learning-rates", "0.01,0.1", "--cv", "3", "--max-iter", "10",
        "--n-jobs", "1", "--json", report_path)
    assert status == 0, err
    assert "dropped 1 row with a missing target" in err
    assert "2 classes" in out
    assert "3 numeric columns" in out
    assert "2 categorical columns" in out
    report = json.loads(report_path.read_text())
    assert report["data"]["task"] == "classification"
    assert report["data"]["n_samples"] == 119
    assert report["model"] == "LogisticClassifier"
    assert report["search"]["kind"] == "lockstep"
    candidates = report["candidates"]
    assert len(candidates) == 8
    assert [c["rank"] for c in candidates] == sorted(c["rank"] for c in candidates)
    first = candidates[0]
    assert set(first) >= {"optimizer", "schedule", "learning_rate",
                          "mean_test_score", "std_test_score", "mean_fit_time",
                          "split_test_scores", "n_divergences",
                          "final_learning_rates", "statuses"}
    assert len(first["split_test_scores"]) == 3
    assert len(first["n_divergences"]) == 3
    assert set(first["statuses"]) <= {"converged", "training"}
    assert report["best"]["score"] == pytest.approx(first["mean_test_score"])
    assert report["best"]["params"]["optimizer"] == first["optimizer"]
    assert report["best"]["constructor"].startswith("LogisticClassifier(")
    assert report["best"]["constructor"] in out


def test_tune_csv_regression_mlp(data_dir, capsys):
    status, out, err = run_main(capsys, "tune", data_dir / "shop.csv", "--target",
                                "price", "--model", "mlp", *SMALL)
    assert status == 0, err
    assert "regression" in out
    assert "scoring r2" in out
    assert "MLPRegressor(optimizer='adam'" in out


def test_tune_last_column_is_default_target(data_dir, capsys):
    status, out, err = run_main(capsys, "tune", data_dir / "shop.csv", *SMALL)
    assert status == 0, err
    assert "target 'label'" in out


def test_tune_random_search_samples_rates_log_uniformly(data_dir, capsys):
    status, out, err = run_main(
        capsys, "tune", data_dir / "shop.csv", "--search", "random",
        "--n-iter", "3", "--learning-rates", "1e-3:1:5", "--cv", "2",
        "--max-iter", "5", "--n-jobs", "1", "--optimizers", "adam",
        "--schedules", "constant")
    assert status == 0, err
    assert "3 candidates" in out
    assert "log-uniform in [0.001, 1]" in out
    assert "6/6" in err


def test_tune_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    inspection = pytest.importorskip("sklr.inspection", exc_type=ImportError)
    if not hasattr(inspection, "SearchScoreDisplay"):
        pytest.skip("SearchScoreDisplay is not available")
    plot = tmp_path / "scores.png"
    status, _, err = run_main(capsys, "tune", *SMALL, "--plot", plot)
    assert status == 0, err
    assert plot.read_bytes().startswith(PNG_SIGNATURE)


def test_tune_grid(capsys):
    status, out, err = run_main(capsys, "tune", *SMALL, "--search", "grid")
    assert status == 0, err
    assert "Search: grid search" in out
    assert "LogisticClassifier(optimizer='adam'" in out
    assert "4/4" in err


def test_find_lr(data_dir, tmp_path, capsys):
    pytest.importorskip("sklr.lr_finder", exc_type=ImportError)
    pytest.importorskip("matplotlib")
    plot = tmp_path / "lr.png"
    status, out, err = run_main(capsys, "find-lr", data_dir / "shop.csv", "--target",
                                "label", "--optimizer", "sgd", "--plot", plot)
    assert status == 0, err
    suggested = float(out.split("Suggested learning rate: ")[1].split()[0])
    assert suggested > 0
    assert "LogisticClassifier(optimizer='sgd'" in out
    assert plot.read_bytes().startswith(PNG_SIGNATURE)


@pytest.mark.parametrize("args, phrases", [
    (["missing.csv"], ["no such file", "missing.csv"]),
    (["{data}/shop.csv", "--target", "nope"], ["no column 'nope'", "label"]),
    (["{data}/empty.csv"], ["is empty"]),
    (["{data}/header_only.csv"], ["no data rows"]),
    (["{data}/binary.csv"], ["cannot read", "as CSV"]),
    (["{data}/broken.csv"], ["cannot read", "as CSV"]),
    (["{data}/one_class.csv"], ["only one class", "'y'"]),
    (["{data}/shop.csv", "--model", "linear"], ["'label' is not numeric"]),
    (["{data}/shop.csv", "--model", "logistic", "--target", "weight"],
     ["non-integer"]),
    (["--learning-rates", "abc"], ["--learning-rates", "'abc'"]),
], ids=lambda value: " ".join(value) if isinstance(value, list) else None)
def test_tune_bad_use(data_dir, args, phrases, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = [arg.format(data=data_dir) for arg in args]
    status, out, err = run_main(capsys, "tune", *args)
    assert_usage_error(status, err, *phrases)
    assert out == ""


@pytest.mark.parametrize("argv, phrases", [
    ([], ["choose a command"]),
    (["tune", "--cv", "1"], ["--cv", "integer >= 2"]),
    (["tune", "--optimizers", "adam,adamx"], ["unknown optimizer 'adamx'"]),
    (["tune", "--schedules", "linear"], ["unknown schedule 'linear'"]),
    (["tune", "--n-iter", "5"], ["--n-iter applies only to --search random"]),
    (["tune", "--learning-rates", "1:0.1:3"], ["--learning-rates"]),
    (["tune", "--learning-rates", "0,1"], ["--learning-rates"]),
    (["tune", "--n-jobs", "0"], ["nonzero"]),
    (["tune", "--max-iter", "0"], ["--max-iter"]),
    (["tune", "--plot", "scores.txt"], ["unsupported file type '.txt'"]),
    (["tune", "--json", "no/such/dir/out.json"], ["does not exist"]),
    (["find-lr", "--optimizer", "fast"], ["invalid choice: 'fast'"]),
    (["tune", "--bogus"], ["unrecognized arguments: --bogus"]),
])
def test_bad_options(argv, phrases, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    if "--plot" in argv:
        pytest.importorskip("matplotlib")
        pytest.importorskip("sklr.inspection", exc_type=ImportError)
    status, out, err = run_main(capsys, *argv)
    assert_usage_error(status, err, *phrases)
    assert out == ""


def test_version(capsys):
    status, out, _ = run_main(capsys, "--version")
    assert status == 0
    assert out.startswith("sklr ")


def test_progress_without_tqdm(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    progress = cli._Progress("fitting")
    progress.start(4)
    progress.advance(3)
    progress.close()
    err = capsys.readouterr().err
    assert "fitting: 3/4 fits (75%)" in err
    assert err.endswith("\n")
