"""Wall time and peak memory of ``sklr tune`` on a large numeric CSV file.

Not a test: run ``python benchmarks/bench_cli.py [--rows N] [--features N]``.
It writes a CSV of ``--rows`` rows (default 1,000,000) of ``--features``
standard normal columns and a binary target to a temporary directory, then
times ``sklr tune`` on it with one candidate and ``--max-iter 2`` in a
process of its own, as a user would run it. The target (issue 12) is under a
minute for the default size.

Printed: the time to write the CSV (not counted), the wall time of the
command, the seconds it reported for the search alone, and the peak resident
memory of the command's process and of its largest worker process.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

# Runs the command in-process and reports its peak memory and that of its
# workers, which must end (and be waited for) before RUSAGE_CHILDREN counts them.
RUNNER = """\
import resource, sys
from joblib.externals.loky import get_reusable_executor
from sklr.cli import main
status = main(sys.argv[1:])
get_reusable_executor().shutdown(wait=True)
unit = 1 if sys.platform == "darwin" else 1024
for name, who in (("command", resource.RUSAGE_SELF),
                  ("largest worker", resource.RUSAGE_CHILDREN)):
    peak = resource.getrusage(who).ru_maxrss * unit
    if peak:  # no worker process with --n-jobs 1
        print(f"peak memory, {name}: {peak / 2**20:.0f} MiB", file=sys.stderr)
sys.exit(status)
"""


def write_csv(path, n_rows, n_features, seed=0):
    """A numeric CSV: standard normal features, a noisy linear binary target."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_rows, n_features))
    w = rng.standard_normal(n_features)
    y = (X @ w + rng.standard_normal(n_rows) > 0).astype(int)
    header = ",".join([f"x{j}" for j in range(n_features)] + ["y"])
    data = np.column_stack([X, y])
    formats = ["%.6g"] * n_features + ["%d"]
    np.savetxt(path, data, delimiter=",", header=header, comments="", fmt=formats)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=10)
    parser.add_argument("--n-jobs", default="-1", help="sklr tune's --n-jobs")
    parser.add_argument("--search", default="lockstep", help="sklr tune's --search")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "large.csv")
        start = time.perf_counter()
        write_csv(path, args.rows, args.features)
        print(f"wrote {args.rows} rows x {args.features + 1} columns "
              f"({os.path.getsize(path) / 2**20:.0f} MiB) in "
              f"{time.perf_counter() - start:.1f} s")
        command = ["tune", path, "--optimizers", "adam", "--schedules", "constant",
                   "--learning-rates", "0.01", "--max-iter", "2",
                   "--n-jobs", args.n_jobs, "--search", args.search]
        print("sklr " + " ".join(command))
        start = time.perf_counter()
        result = subprocess.run([sys.executable, "-c", RUNNER, *command],
                                capture_output=True, text=True)
        seconds = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"sklr tune failed ({result.returncode}):\n{result.stderr}")
    search = result.stdout.split("Best ")[1].splitlines()[0]
    print(f"wall time: {seconds:.1f} s (target: under 60 s)")
    print(f"best {search}")
    for line in result.stderr.splitlines():
        if line.startswith("peak memory"):
            print(line)


if __name__ == "__main__":
    main()
