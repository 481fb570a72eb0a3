"""The benchmark suite runs and produces its table and JSON (no timing assertions)."""

import json
import os
import subprocess
import sys

RUN = os.path.join(os.path.dirname(__file__), "..", "benchmarks", "run.py")


def test_benchmark_smoke_run(tmp_path):
    json_path = tmp_path / "results.json"
    markdown_path = tmp_path / "results.md"
    completed = subprocess.run(
        [sys.executable, RUN, "--smoke", "--json", str(json_path),
         "--markdown", str(markdown_path)],
        capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]

    table = markdown_path.read_text()
    assert "| workload | figure | sklr | anchor |" in table
    assert table in completed.stdout

    record = json.loads(json_path.read_text())
    (run,) = record["runs"]
    assert run["mode"] == "smoke"
    assert run["environment"]["blas"]
    figures = {(row["workload"].split(" ")[0], row["figure"]) for row in run["rows"]}
    assert ("MLP", "time per epoch") in figures
    assert ("linear,", "time per epoch") in figures
    assert any(row["workload"].startswith("engine overhead") for row in run["rows"])
    assert any(row["workload"].startswith("peak memory") for row in run["rows"])
    for row in run["rows"]:
        if row["ratio"] is not None:
            assert row["ratio"]["min"] <= row["ratio"]["median"] <= row["ratio"]["max"]
            assert len(table.splitlines()) > len(run["rows"])


def test_lr_free_benchmark_smoke_run(tmp_path):
    json_path = tmp_path / "lr_free.json"
    completed = subprocess.run(
        [sys.executable, os.path.join(os.path.dirname(RUN), "bench_lr_free.py"),
         "--smoke", "--json", str(json_path)],
        capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "| configuration | mean gap | worst gap |" in completed.stdout
    record = json.loads(json_path.read_text())
    assert record["mode"] == "smoke"
    names = [r["dataset"] for r in record["results"]]
    assert names == ["wine, logistic", "diabetes, MLP"]
    for result in record["results"]:
        # every configuration, the two-fit recipe included, was fitted and scored
        assert set(result["gap"]) == set(record["summary"])
        assert all(time > 0 for time in result["time"].values())
