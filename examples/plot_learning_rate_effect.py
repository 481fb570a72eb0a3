"""
==============================================
Too small, right, too large: the learning rate
==============================================

The learning rate is the size of every gradient step. This example trains the
same linear model with plain stochastic gradient descent at three learning
rates and draws the classic picture:

* **too small**: the loss crawls down and is far from the minimum when the
  epoch budget runs out;
* **about right**: the loss drops fast and settles;
* **too large**: every step overshoots, the loss oscillates and grows until
  sklr detects the divergence, restores the last good weights, divides the
  learning rate by 10 (``on_divergence="backoff"``, the default) and carries
  on.
"""

# %%
# A regression problem
# --------------------
# A linear problem with standardized features and target, so that one scale
# of learning rates fits every feature.
import warnings

import matplotlib.pyplot as plt
from sklearn.datasets import make_regression
from sklearn.preprocessing import StandardScaler

from sklr import LinearRegressor
from sklr.exceptions import DivergenceWarning
from sklr.inspection import LossCurveDisplay

X, y = make_regression(n_samples=500, n_features=10, noise=10, random_state=0)
X = StandardScaler().fit_transform(X)
y = (y - y.mean()) / y.std()

# %%
# Three learning rates
# --------------------
# ``tol=None`` switches off early stopping, so every run gets the same budget
# of 30 epochs. The large rate makes sklr warn with a
# :class:`~sklr.exceptions.DivergenceWarning`; we record the warning and print
# it instead of letting it scroll by.
rates = {"too small": 1e-3, "about right": 0.1, "too large": 1.9}
models = {}
for name, rate in rates.items():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DivergenceWarning)
        models[name] = LinearRegressor(
            optimizer="sgd", learning_rate=rate, max_iter=30, tol=None,
            random_state=0,
        ).fit(X, y)
    for warning in caught:
        if issubclass(warning.category, DivergenceWarning):
            print(f"{name}: {warning.message}")

for name, model in models.items():
    print(
        f"{name:>11}: learning rate {rates[name]:<6g} final loss "
        f"{model.loss_curve_[-1]:.4f}, back-offs: {model.n_divergences_}"
    )

# %%
# The loss curves
# ---------------
# One panel per learning rate, with the loss on a log scale. The dotted line
# (right axis) is the learning rate in effect: constant, except where the
# too-large run backed off. The red cross marks the epoch in which training
# diverged.
fig, axes = plt.subplots(1, 3, figsize=(15, 4.5), constrained_layout=True)
for ax, (name, model) in zip(axes, models.items()):
    LossCurveDisplay.from_estimator(
        model, ax=ax, name=f"learning rate {rates[name]:g}", yscale="log"
    )
    ax.set_title(f"{name.capitalize()}: learning rate {rates[name]:g}")

# %%
# The same runs on one axes make the comparison direct: at 0.1 the loss is at
# its floor within a few epochs; at 0.001 it has barely moved; at 1.9 it
# climbs for several epochs before the back-off rescues the run.
fig, ax = plt.subplots(figsize=(7, 4.5), constrained_layout=True)
for name, model in models.items():
    LossCurveDisplay.from_estimator(
        model, ax=ax, name=f"{name} ({rates[name]:g})", yscale="log",
        show_learning_rate=False,
    )
ax.set_title("Training loss at three learning rates")
plt.show()
