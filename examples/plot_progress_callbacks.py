"""
=====================================================================
Progress bars, a score per epoch and stopping, with callbacks
=====================================================================

scikit-learn 1.9 added callbacks (experimental, :mod:`sklearn.callback`):
objects set on an estimator with ``set_callbacks`` that are told when each
task of its ``fit`` begins and ends, and can ask it to stop. Every sklr
estimator reports each epoch as such a task, and hands the callbacks the
estimator as fitted after that epoch.

This example shows scikit-learn's :class:`~sklearn.callback.ProgressBar` over
sklr's :class:`~sklr.model_selection.LockstepGridSearchCV`, with a bar for
every fit that advances epoch by epoch, then writes a callback that scores
every epoch on validation data and stops training once a target accuracy is
reached, in one fit and in every fit of a search.

With an older scikit-learn, sklr's estimators have no ``set_callbacks``: the
example then says so and draws nothing.
"""

# %%
# The data
# --------
# The digits, with pixel values (0 to 16) divided by 16: a scaling that needs
# no statistics of the data, so no pipeline is needed either.
import importlib.util

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sklr import MLPClassifier
from sklr.model_selection import LockstepGridSearchCV

X, y = load_digits(return_X_y=True)
X = X / 16
X_train, X_val, y_train, y_val = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0)

HAS_CALLBACKS = importlib.util.find_spec("sklearn.callback") is not None
if not HAS_CALLBACKS:
    print("This scikit-learn has no callbacks (they need scikit-learn >= 1.9).")

# %%
# A progress bar over a search
# ----------------------------
# :class:`~sklearn.callback.ProgressBar` is set on the search, which passes it
# on to every fit it runs: one bar for the search, one for each candidate on
# each fold and for the final refit, each completed epoch by epoch. It draws
# with `rich <https://rich.readthedocs.io>`_, live in a terminal; here we see
# the final state. The lockstep search trains the candidates of a fold
# together, as one stack, yet reports each (candidate, fold) as a fit of its
# own, with the same task tree as scikit-learn's
# :class:`~sklearn.model_selection.GridSearchCV` (which works the same way).
if HAS_CALLBACKS and importlib.util.find_spec("rich") is not None:
    from sklearn.callback import ProgressBar

    search = LockstepGridSearchCV(
        MLPClassifier(hidden_layer_sizes=(32,), max_iter=15, tol=None,
                      random_state=0),
        {"learning_rate": [1e-3, 1e-2]},
        cv=3,
    )
    search.set_callbacks(ProgressBar()).fit(X_train, y_train)
    print(f"best: {search.best_params_}, accuracy {search.best_score_:.3f}")
elif HAS_CALLBACKS:
    print("ProgressBar needs rich: pip install rich")


# %%
# A callback of our own: validation accuracy, and a target
# --------------------------------------------------------
# A callback is a plain class with four methods. ``on_fit_task_end`` is
# called at the end of every epoch (``context.task_name == "epoch"``) and of
# the whole fit; the ``fitted_estimator`` it asks for is the model as it
# stands after the epoch, ready to ``score``. Returning True ends training
# there, here as soon as the validation accuracy reaches a target.
class ValidationTarget:
    """Score every epoch on ``(X_val, y_val)``; stop at ``target`` accuracy."""

    def __init__(self, X_val, y_val, target):
        self.X_val, self.y_val, self.target = X_val, y_val, target
        self.scores = []

    def setup(self, estimator, context):
        self.scores = []

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        if context.task_name != "epoch":
            return False
        self.scores.append(fitted_estimator.score(self.X_val, self.y_val))
        return self.scores[-1] >= self.target

    def teardown(self, estimator, context):
        pass


if HAS_CALLBACKS:
    monitor = ValidationTarget(X_val, y_val, target=0.97)
    model = MLPClassifier(hidden_layer_sizes=(32,), learning_rate=1e-2,
                          max_iter=100, random_state=0)
    model.set_callbacks(monitor).fit(X_train, y_train)
    print(f"stopped after {model.n_iter_} of {model.max_iter} epochs, "
          f"validation accuracy {monitor.scores[-1]:.3f}")

# %%
# The same callback on the estimator of a search stops each (candidate, fold)
# on its own: in a lockstep stack, a member that reaches the target leaves
# the stack and the others train on. ``curves_`` says which fits stopped.
if HAS_CALLBACKS:
    target_search = LockstepGridSearchCV(
        MLPClassifier(hidden_layer_sizes=(32,), max_iter=100, random_state=0)
        .set_callbacks(ValidationTarget(X_val, y_val, target=0.95)),
        {"learning_rate": [3e-3, 1e-2]},
        cv=3,
    ).fit(X_train, y_train)
    for params, curves in zip(target_search.cv_results_["params"],
                              target_search.curves_):
        print(params, [(c["status"], c["n_iter"]) for c in curves])

# %%
# The loss that training minimized, and the accuracy the callback watched:
if HAS_CALLBACKS:
    epochs = range(1, model.n_iter_ + 1)
    fig, (loss_ax, score_ax) = plt.subplots(2, 1, sharex=True, layout="constrained")
    loss_ax.plot(epochs, model.loss_curve_, "o-")
    loss_ax.set(ylabel="training loss", yscale="log")
    score_ax.plot(epochs, monitor.scores, "o-", color="C1")
    score_ax.axhline(monitor.target, color="gray", linestyle="--",
                     label="target: training stops")
    score_ax.set(xlabel="epoch", ylabel="validation accuracy")
    score_ax.legend(loc="lower right")
    plt.show()
