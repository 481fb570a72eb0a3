"""Run every example of the gallery, as sphinx-gallery would, without a display."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")

EXAMPLES = sorted((Path(__file__).parents[1] / "examples").glob("plot_*.py"))


def test_examples_are_found():
    assert len(EXAMPLES) >= 4


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.name)
def test_example_runs(path, tmp_path):
    # a fresh process and working directory: examples must not depend on the
    # state of other tests or leave files in the repository
    env = {**os.environ, "MPLBACKEND": "Agg"}
    completed = subprocess.run(
        [sys.executable, str(path)], cwd=tmp_path, env=env, capture_output=True,
        text=True, timeout=600,
    )
    assert completed.returncode == 0, (
        f"{path.name} failed:\n{completed.stdout[-2000:]}\n{completed.stderr[-4000:]}"
    )
