"""
===================================
Adam, RMSprop and SGD with momentum
===================================

The optimizer decides how a gradient becomes a step. This example trains the
same small neural network on the same data with three optimizers, each at a
learning rate that suits it, and compares their training and validation
losses epoch by epoch.
"""

# %%
# Data: handwritten digits
# ------------------------
# scikit-learn's bundled 8x8 digits, standardized, with a held-out validation
# set. Passing ``X_val``/``y_val`` to ``fit`` records the validation loss and
# score of every epoch.
import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sklr import MLPClassifier
from sklr.inspection import LossCurveDisplay
from sklr.optimizers import SGD, Adam, RMSprop

X, y = load_digits(return_X_y=True)
X_train, X_val, y_train, y_val = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)
scaler = StandardScaler().fit(X_train)
X_train, X_val = scaler.transform(X_train), scaler.transform(X_val)

# %%
# Three optimizers
# ----------------
# Optimizers are objects whose hyperparameters are tunable like any other
# (``optimizer__momentum`` in a search); the strings ``"adam"``,
# ``"rmsprop"`` and ``"momentum"`` name their defaults. Adaptive methods
# (Adam, RMSprop) divide each step by a running gradient scale and usually
# want a smaller learning rate than SGD with momentum.
optimizers = {
    "Adam": (Adam(), 5e-3),
    "RMSprop": (RMSprop(), 2e-3),
    "SGD, momentum 0.9": (SGD(momentum=0.9), 2e-2),
}
models = {}
for name, (optimizer, learning_rate) in optimizers.items():
    models[name] = MLPClassifier(
        hidden_layer_sizes=(32,), optimizer=optimizer, learning_rate=learning_rate,
        max_iter=30, tol=None, random_state=0,
    ).fit(X_train, y_train, X_val=X_val, y_val=y_val)
    print(
        f"{name:>17}: learning rate {learning_rate:g}, best validation "
        f"accuracy {models[name].best_validation_score_:.3f}"
    )

# %%
# Loss curves
# -----------
# Solid lines are the training loss, dashed ones the validation loss. Drawing
# several displays on one axes overlays them.
fig, ax = plt.subplots(figsize=(8, 5), constrained_layout=True)
for name, model in models.items():
    LossCurveDisplay.from_estimator(
        model, ax=ax, name=name, yscale="log", show_learning_rate=False
    )
ax.set_title("Three optimizers on the digits data (MLP, 32 hidden units)")

# %%
# Validation accuracy
# -------------------
# The fitted attribute ``validation_scores_`` holds the validation accuracy of
# every epoch. Because validation data were given, the model keeps the weights
# of its best epoch.
fig, ax = plt.subplots(figsize=(8, 4), constrained_layout=True)
for name, model in models.items():
    epochs = range(1, len(model.validation_scores_) + 1)
    ax.plot(epochs, model.validation_scores_, label=name)
ax.set_xlabel("epoch")
ax.set_ylabel("validation accuracy")
ax.set_title("Validation accuracy per epoch")
ax.legend()
plt.show()
