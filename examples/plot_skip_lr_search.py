"""
==================================
Skipping the learning-rate search
==================================

A grid search over the learning rate trains one model per rate, per
optimizer and per fold. This example draws what such a search finds, the
cross-validated score against the learning rate, and puts on the same axes
what one fit gets without choosing a rate at all:

* the estimator's defaults (Adam at ``learning_rate=0.01``): for a linear
  model, which is convex, the recommended way to skip the search (for
  MLPs it is ``optimizer="prodigy", learning_rate=1e-3 / 3,
  average=True``; see the README);
* ``learning_rate="auto", average=True``: the rate comes from an LR range
  test inside ``fit``, and predictions use the average of the iterates;
* ``optimizer="prodigy"``: an optimizer that estimates its own step size,
  for which ``learning_rate`` is only a factor on that estimate, in units
  of the default rate (the default means the estimate itself).
"""

# %%
# A search over the learning rate
# -------------------------------
# Logistic regression on the standardized breast-cancer data, nine learning
# rates for plain SGD and for Adam, three folds: 54 fits, which
# :class:`~sklr.model_selection.LockstepGridSearchCV` trains together.
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold, cross_validate
from sklearn.preprocessing import StandardScaler

from sklr import LogisticClassifier
from sklr.inspection import SearchScoreDisplay
from sklr.model_selection import LockstepGridSearchCV

X, y = load_breast_cancer(return_X_y=True)
X = StandardScaler().fit_transform(X)
cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
# fits that stop at max_iter are part of what the search explores
warnings.simplefilter("ignore", ConvergenceWarning)

search = LockstepGridSearchCV(
    LogisticClassifier(random_state=0),
    {"learning_rate": np.logspace(-4, 0, 9), "optimizer": ["sgd", "adam"]},
    cv=cv,
)
start = time.perf_counter()
search.fit(X, y)
search_seconds = time.perf_counter() - start
print(f"grid: best {search.best_params_}, CV accuracy {search.best_score_:.4f}, "
      f"{search_seconds:.2f} s")

# %%
# One fit instead
# ---------------
# The same folds, one fit per fold and no learning rate to choose. The rate
# each ``"auto"`` fit picked is in its ``learning_rate_``.
one_fit = {
    "the defaults": LogisticClassifier(random_state=0),
    "learning_rate='auto', average=True":
        LogisticClassifier(learning_rate="auto", average=True, random_state=0),
    "optimizer='prodigy'": LogisticClassifier(optimizer="prodigy", random_state=0),
}
results = {}
for name, estimator in one_fit.items():
    results[name] = cross_validate(estimator, X, y, cv=cv, return_estimator=True)
    scores, seconds = results[name]["test_score"], results[name]["fit_time"]
    print(f"{name}: CV accuracy {scores.mean():.4f}, {seconds.sum():.2f} s for "
          f"{len(scores)} fits")

# %%
# The picture
# -----------
# The grid's mean CV accuracy against the learning rate, one line per
# optimizer with a band of one standard deviation, the star marking the
# search's best candidate. The diamond is the ``"auto"`` fit, at the
# (geometric mean) rate its LR range tests chose; the red lines are the
# one-fit scores, which need no point on the x axis.
display = SearchScoreDisplay.from_search(search, hue="optimizer")
ax = display.ax_
auto = results["learning_rate='auto', average=True"]
chosen = np.exp(np.mean([np.log(e.learning_rate_) for e in auto["estimator"]]))
ax.plot(chosen, auto["test_score"].mean(), marker="D", markersize=9,
        color="C3", linestyle="none", label="the rate learning_rate='auto' chose")
for (name, result), style in zip(results.items(), ("-", "--", ":")):
    ax.axhline(result["test_score"].mean(), color="C3", linestyle=style,
               label=f"one fit: {name}")
ax.set_ylim(0.85, 1.0)
ax.legend(loc="lower left", fontsize="small")
ax.set_title("Breast cancer, logistic regression: 18 candidates against one fit",
             fontsize="medium")
plt.show()

# %%
# The grid tells how sensitive the model is to the rate: plain SGD wants
# rates about ten times Adam's, and both fall off at either end. The one-fit
# configurations land near the top of the curve at a fraction of the cost.
# Across the nine data sets of the benchmark (``benchmarks/RESULTS.md``), the
# defaults for linear models and Prodigy at a third of its own step size with
# averaging for MLPs were on average within 0.004 of the grid's held-out
# score, but up to 0.025 below it on one small MLP regression, in at most
# the time of one default fit: a search is still worth its cost when the
# last few points matter.
