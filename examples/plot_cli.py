"""
=========================================
What the ``sklr`` command line writes out
=========================================

``sklr tune`` cross-validates optimizers x schedules x learning rates on a CSV
file (here scikit-learn's digits, its default data), prints a leaderboard and
can save the experiment as JSON and a plot; ``sklr find-lr`` runs the
learning-rate range test. This example runs both commands as a shell would,
through :func:`sklr.cli.main`, and shows the files they write. See
:ref:`cli` for every option.
"""

# %%
# Showing a file
# --------------
# The figures below are the PNG files the commands wrote, shown as they are.
import json
import shutil
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt

from sklr.cli import main


def show(path):
    """Show the PNG file ``path``, and nothing else."""
    # a figure the command may have left open is not its output: the file is
    plt.close("all")
    image = plt.imread(path)
    height, width = image.shape[:2]
    fig, ax = plt.subplots(figsize=(width / 100, height / 100))
    ax.imshow(image)
    ax.set_axis_off()
    fig.subplots_adjust(0, 0, 1, 1)


folder = Path(tempfile.mkdtemp())

# %%
# ``sklr tune --plot``
# --------------------
# Two optimizers, the default schedules (constant, cosine) and learning rates
# (five from 1e-3 to 10), and 20 epochs per fit to keep the example quick.
# The leaderboard goes to standard output, the progress bar to standard
# error.
#
# ``--plot scores.png`` draws the mean cross-validated score against the
# learning rate, one line per schedule, each point the best over the other
# searched parameter (the optimizer), with a band of one standard deviation
# across folds. The star is the best candidate.
status = main(["tune", "--optimizers", "sgd,adam", "--max-iter", "20",
               "--plot", str(folder / "scores.png"),
               "--json", str(folder / "results.json")])
assert status == 0
show(folder / "scores.png")

# %%
# ``--json``
# ----------
# ``--json results.json`` holds the whole experiment: the settings, the best
# configuration and every candidate, best first.
with open(folder / "results.json") as file:
    results = json.load(file)
print(results["best"]["constructor"])
for candidate in results["candidates"][:3]:
    print(candidate["optimizer"], candidate["schedule"], candidate["learning_rate"],
          round(candidate["mean_test_score"], 4))

# %%
# ``sklr find-lr --plot``
# -----------------------
# The range test trains once while the learning rate grows at every step,
# prints the suggested rate, and with ``--plot`` saves the loss against the
# rate.
status = main(["find-lr", "--optimizer", "sgd", "--plot", str(folder / "lr.png")])
assert status == 0
show(folder / "lr.png")
plt.show()

shutil.rmtree(folder)
