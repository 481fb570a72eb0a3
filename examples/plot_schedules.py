"""
=====================================
Every learning-rate schedule, at once
=====================================

A schedule multiplies the base learning rate as training progresses. sklr
measures progress in epochs (``epoch + batch / n_batches``), so a schedule's
parameters mean the same thing whatever the batch size.
:class:`~sklr.inspection.ScheduleDisplay` evaluates a schedule exactly as
training would, without training anything: use it to check a schedule before
spending compute on it.
"""

# %%
# The built-in schedules
# ----------------------
# Each name below is a valid ``schedule=`` value of every sklr estimator. We
# preview them over a training budget of 50 epochs (``max_iter=50``) with a
# base learning rate of 0.1, on a linear axis, where the shapes are easiest to
# compare.
import matplotlib.pyplot as plt

from sklr.inspection import ScheduleDisplay
from sklr.schedules import SCHEDULE_ALIASES, CyclicLR, OneCycle, StepDecay, Warmup

n_epochs, learning_rate = 50, 0.1
fig, axes = plt.subplots(
    3, 3, figsize=(12, 9), sharex=True, sharey=True, constrained_layout=True
)
for ax, name in zip(axes.flat, SCHEDULE_ALIASES):
    ScheduleDisplay.from_schedule(
        name, n_epochs, learning_rate, ax=ax, yscale="linear", legend=False
    )
    ax.set_title(f'schedule="{name}"')
    ax.label_outer()
fig.suptitle(f"Built-in schedules: base learning rate {learning_rate}, {n_epochs} epochs")

# %%
# ``"plateau"`` (:class:`~sklr.schedules.ReduceOnPlateau`) is the one schedule
# that watches the loss: it cuts the rate when the monitored loss stops
# improving, so a preview without a loss shows it flat.
#
# Tuned variants on a log axis
# ----------------------------
# Schedules are objects with hyperparameters, and a dict gives them legend
# labels. On a log axis the decays read as orders of magnitude; note how
# ``OneCycle`` ends far below its start, and how ``Warmup`` wraps another
# schedule.
schedules = {
    "StepDecay(step_size=5, gamma=0.7)": StepDecay(step_size=5, gamma=0.7),
    "OneCycle(pct_start=0.2)": OneCycle(pct_start=0.2),
    "CyclicLR(mode='triangular2', period=10)": CyclicLR(
        mode="triangular2", period=10
    ),
    "Warmup(StepDecay(), warmup_epochs=10)": Warmup(StepDecay(), warmup_epochs=10),
}
fig, ax = plt.subplots(figsize=(8, 5), constrained_layout=True)
ScheduleDisplay.from_schedule(schedules, n_epochs, learning_rate, ax=ax)
plt.show()
