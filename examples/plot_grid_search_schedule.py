"""
===================================================
Tuning learning rate and schedule with GridSearchCV
===================================================

In sklr the learning rate, the schedule and the optimizer are ordinary
hyperparameters, so scikit-learn's searches tune them inside a
:class:`~sklearn.pipeline.Pipeline` like any other. This example searches a
grid of learning rates times schedules with
:class:`~sklearn.model_selection.GridSearchCV` and plots the result with
:class:`~sklr.inspection.SearchScoreDisplay`.
"""

# %%
# The pipeline
# ------------
# Standardize, then a multinomial logistic regression trained by plain SGD on
# the digits data. ``on_divergence="raise"`` turns a diverging fit into an
# error, which the search records as a NaN score (``error_score=np.nan``)
# instead of silently backing off: the plot then shows where the learning
# rate is too large.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklr import LogisticClassifier
from sklr.inspection import LossCurveDisplay, SearchScoreDisplay

X, y = load_digits(return_X_y=True)
pipeline = make_pipeline(
    StandardScaler(),
    LogisticClassifier(
        optimizer="sgd", max_iter=15, tol=None, on_divergence="raise", random_state=0
    ),
)

# %%
# The grid
# --------
# Learning rates are spaced by ratio, from 1e-3 to 1000; three schedules. The
# pipeline step is named ``logisticclassifier``, hence the parameter names.
param_grid = {
    "logisticclassifier__learning_rate": np.logspace(-3, 3, 7),
    "logisticclassifier__schedule": ["constant", "cosine", "step"],
}
search = GridSearchCV(pipeline, param_grid, cv=3, error_score=np.nan)
with warnings.catch_warnings():
    # the failed fits are expected: the plot shows them
    warnings.simplefilter("ignore", FitFailedWarning)
    warnings.simplefilter("ignore", UserWarning)
    search.fit(X, y)
print("best parameters:", search.best_params_)
print(f"best mean CV accuracy: {search.best_score_:.3f}")

# %%
# Score against learning rate
# ---------------------------
# One line per schedule, with a band of one standard deviation over the folds.
# The parameter names may be given by their suffix when that is unambiguous.
# Crosses at the bottom are learning rates at which the fits diverged; the
# star is the best candidate. The score rises steeply over the small rates,
# is flat over about two decades, and falls before training blows up: pick a
# rate in the middle of the plateau rather than at its edge.
fig, ax = plt.subplots(figsize=(8, 5), constrained_layout=True)
SearchScoreDisplay.from_search(search, "learning_rate", hue="schedule", ax=ax)

# %%
# The winner's training curves
# ----------------------------
# ``best_estimator_`` is a pipeline refitted on all the data;
# :class:`~sklr.inspection.LossCurveDisplay` finds the sklr estimator at its
# end.
fig, ax = plt.subplots(figsize=(8, 4.5), constrained_layout=True)
LossCurveDisplay.from_estimator(search.best_estimator_, ax=ax)
plt.show()
