"""
=====================================================================
Tuning the learning rate, schedule and optimizer of an MLP pipeline
=====================================================================

In sklr the learning rate, the learning-rate schedule and the optimizer are
ordinary hyperparameters, so scikit-learn's :class:`~sklearn.model_selection.GridSearchCV`
tunes them like any other, inside a :class:`~sklearn.pipeline.Pipeline` and
on every CPU core (``n_jobs=-1``).

This example tunes all three for a small :class:`~sklr.MLPClassifier` on the
digits data, prints the five best configurations, and plots the
cross-validated score against the learning rate.
"""

# %%
# The data and the pipeline
# -------------------------
# The scaler is part of the pipeline, so each cross-validation fold is
# standardized with statistics of its own training part only.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklr import MLPClassifier
from sklr.inspection import SearchScoreDisplay
from sklr.model_selection import learning_rate_grid
from sklr.optimizers import SGD

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)
pipeline = make_pipeline(
    StandardScaler(),
    MLPClassifier(hidden_layer_sizes=(32,), max_iter=15, random_state=0),
)

# %%
# The grid
# --------
# Optimizers and schedules may be given by name or as objects; an object
# fixes its own parameters (here SGD with Nesterov momentum 0.9).
# :func:`~sklr.model_selection.learning_rate_grid` spaces learning rates
# evenly on a log scale. Four learning rates times two schedules times two
# optimizers make 16 candidates, each fitted on 3 folds.
param_grid = {
    "mlpclassifier__learning_rate": learning_rate_grid(1e-3, 1.0, 4),
    "mlpclassifier__schedule": ["constant", "cosine"],
    "mlpclassifier__optimizer": ["adam", SGD(momentum=0.9, nesterov=True)],
}
# 15 epochs is a deliberately short budget, and the largest rate diverges and
# backs off: silence the warnings saying so (scikit-learn passes this filter on
# to the worker processes)
warnings.filterwarnings("ignore", category=ConvergenceWarning)
search = GridSearchCV(pipeline, param_grid, cv=3, n_jobs=-1)
search.fit(X_train, y_train)

# %%
# The five best configurations
# ----------------------------
results = search.cv_results_
print(f"{'rank':>4}  {'optimizer':<33} {'schedule':<9} {'learning rate':>13}"
      "  accuracy (mean +/- std)")
for index in np.argsort(results["rank_test_score"])[:5]:
    params = results["params"][index]
    print(
        f"{results['rank_test_score'][index]:>4}  "
        f"{params['mlpclassifier__optimizer']!s:<33} "
        f"{params['mlpclassifier__schedule']:<9} "
        f"{params['mlpclassifier__learning_rate']:>13.3g}  "
        f"{results['mean_test_score'][index]:.3f} +/- "
        f"{results['std_test_score'][index]:.3f}"
    )

best = search.best_estimator_[-1]
print(f"\nHeld-out accuracy of the best pipeline: {search.score(X_test, y_test):.3f}")
print(f"Its fitted optimizer: {best.optimizer_!r}, schedule: {best.schedule_!r}")

# %%
# Score against the learning rate
# -------------------------------
# One line per schedule; at each learning rate the better of the two
# optimizers is shown, with a band of one standard deviation over the folds.
# Too small a rate underfits in 15 epochs; with too large a one training
# diverges, and the model backs off to a ten times smaller rate.
display = SearchScoreDisplay.from_search(
    search, param="mlpclassifier__learning_rate", hue="mlpclassifier__schedule"
)
display.ax_.set_title("Digits, MLP (32,), 15 epochs")
plt.show()
