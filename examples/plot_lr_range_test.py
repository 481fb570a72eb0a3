"""
=========================================================
Finding a learning rate: the LR range test and diagnose()
=========================================================

Which learning rate should a model use, and was the one it used too large or
too small? This example answers both questions for a small neural network on
the digits data:

* :func:`~sklr.lr_finder.lr_range_test` trains the model once while the
  learning rate grows from 1e-7 to 10, one minibatch at a time, and suggests
  the rate at which the loss falls fastest;
* a fit at the suggested rate is compared with fits at a rate 100 times
  smaller and 30 times larger;
* :func:`~sklr.diagnostics.diagnose` reads each fit's training curves and says,
  in words, what it sees.
"""

# %%
# The data and the model
# ----------------------
# The digits, standardized inside a pipeline, and a one-layer MLP trained with
# plain stochastic gradient descent, whose learning rate matters most.
import textwrap
import warnings

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklr import MLPClassifier
from sklr.diagnostics import diagnose
from sklr.inspection import LossCurveDisplay, LRRangeDisplay
from sklr.lr_finder import lr_range_test

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0)


def make_model(learning_rate=0.001):
    mlp = MLPClassifier(hidden_layer_sizes=(32,), optimizer="sgd", batch_size=64,
                        learning_rate=learning_rate, max_iter=40, random_state=0)
    return make_pipeline(StandardScaler(), mlp)


# %%
# The range test
# --------------
# The test fits the scaler, then trains the MLP from its initial weights for
# 100 minibatches with an exponentially growing rate and stops once the loss
# has blown up. It does not touch the model it is given.
result = lr_range_test(make_model(), X_train, y_train)
suggested = result.suggested_learning_rate
print(f"{len(result.learning_rates)} steps, from {result.learning_rates[0]:.1e} "
      f"to {result.learning_rates[-1]:.2g}; suggested learning rate {suggested:.3g}")
LRRangeDisplay.from_result(result)

# %%
# Too small, suggested, too large
# -------------------------------
# Three fits of the same model, at a hundredth of the suggestion, at the
# suggestion and at thirty times the suggestion. The too-small rate warns that
# ``max_iter`` ran out, the too-large one may warn about a divergence; we
# silence both here because :func:`~sklr.diagnostics.diagnose` explains them.
rates = {"too small": suggested / 100, "suggested": suggested,
         "too large": suggested * 30}
models = {}
for name, rate in rates.items():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        models[name] = make_model(rate).fit(
            X_train, y_train)

fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), sharey=True)
for ax, (name, model) in zip(axes, models.items()):
    LossCurveDisplay.from_estimator(model, ax=ax, name=name, legend=False)
    ax.set_title(f"{name}: learning rate {rates[name]:.2g}\n"
                 f"test accuracy {model.score(X_test, y_test):.3f}")
fig.tight_layout()

# %%
# What diagnose() says
# --------------------
# :func:`~sklr.diagnostics.diagnose` turns each set of curves into a verdict,
# a sentence on what in the curves led to it, and a change to try.
for name, model in models.items():
    diagnosis = diagnose(model)
    print(f"{name} -> {diagnosis.verdict}: {diagnosis.suggestion}")
    print(textwrap.indent(textwrap.fill(str(diagnosis), 76), "    "))

# %%
# Letting fit choose: ``learning_rate="auto"``
# ---------------------------------------------
# With ``learning_rate="auto"`` every ``fit`` runs the range test on the data
# it is given (at most one pass over it, on minibatches of at least 32) and
# trains at the suggestion; ``learning_rate_`` holds the rate it chose. Inside
# cross-validation each fold chooses its own rate from its own training data.
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    auto = make_model("auto").fit(X_train, y_train)
print(f"learning_rate='auto' chose {auto[-1].learning_rate_:.3g}; "
      f"test accuracy {auto.score(X_test, y_test):.3f}")
plt.show()
