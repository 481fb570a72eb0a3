"""scikit-learn's callbacks (``set_callbacks``) around sklr's training loop.

Where scikit-learn has its callback API (>= 1.9) and the estimator has
callbacks, set on it or propagated by a meta-estimator, a fit is a task with
one subtask per epoch, named ``"epoch"``. Every task is given the fit's
``X``, ``y`` and ``sample_weight`` (as ``metadata``); the end of an epoch's
task also gives, to the callbacks that ask for it, a ``fitted_estimator``: a
copy of the estimator fitted as it stands after that epoch, ready to
``predict`` and ``score``, with its curves so far (``loss_curve_[-1]`` is the
epoch's loss). A callback whose ``on_fit_task_end`` returns True ends
training after that epoch.
"""

import copy
from contextlib import contextmanager

from sklr._compat import callback_fit_context


@contextmanager
def epoch_callbacks(estimator, n_epochs, *, X=None, y=None, sample_weight=None):
    """Report the epochs of one fit to the estimator's callbacks.

    Parameters
    ----------
    estimator : BaseSKLR
        The estimator being fitted; its ``_plan`` has run.
    n_epochs : int
        The epochs this fit runs at most.
    X, y, sample_weight : default=None
        The data as passed to ``fit``, handed to the callbacks (e.g. what
        ``ScoringMonitor`` scores on).

    Yields
    ------
    on_epoch : callable or None
        The engine's ``on_epoch(stack)`` hook, or None when there is nothing
        to report to.
    """
    with callback_fit_context(estimator, max_subtasks=n_epochs) as root:
        if root is None:
            yield None
            return
        metadata = None if sample_weight is None else {"sample_weight": sample_weight}
        data = {"X": X, "y": y, "metadata": metadata}
        root.call_on_fit_task_begin(estimator=estimator, **data)
        epochs = _EpochTasks(estimator, root, n_epochs, data)
        yield epochs
        epochs.close()
        # no fitted_estimator here: once fit returns, that is the estimator,
        # and the last epoch's task has its state
        root.call_on_fit_task_end(estimator=estimator, **data)


class _EpochTasks:
    """The engine's ``on_epoch`` hook: ends the epoch's task, begins the next one.

    An epoch's task begins when the previous one ends (the first with the
    fit), and only if training goes on: the fit's task has exactly as many
    subtasks as epochs ran.
    """

    def __init__(self, estimator, root, n_epochs, data):
        self._estimator = estimator
        self._root = root
        self._n_epochs = n_epochs
        self._data = data
        self._n_begun = 0
        self._task = self._begin()

    def _begin(self):
        task = self._root.subcontext(task_name="epoch")
        task.call_on_fit_task_begin(estimator=self._estimator, **self._data)
        self._n_begun += 1
        return task

    def __call__(self, stack):
        stop = self._task.call_on_fit_task_end(
            estimator=self._estimator, **self._data,
            # built only if a callback asks for fitted_estimator
            reconstruction_attributes=lambda: _fitted_attributes(self._estimator, stack),
        )
        self._task = None
        # a fit trains a stack of one: member 0
        if (not stop and stack.records[0].status == "training"
                and self._n_begun < self._n_epochs):
            self._task = self._begin()
        return stop

    def close(self):
        """End the task of an epoch that training cut short (a divergence that
        stopped it), without data: the epoch has no state of its own."""
        if self._task is not None:
            self._task.call_on_fit_task_end(estimator=self._estimator)
            self._task = None


class _StackNow:
    """The stack with member 0's record frozen as it is now, for ``_set_fitted``.

    ``_set_fitted(stack, member, plan)`` reads a finished member's record;
    this one holds a copy of the live record with the weights of now, so that
    training on does not change it. Everything else is the stack's. It also
    serves as the plan: a stack has its plan's model, dtype and loss scale.
    """

    def __init__(self, stack):
        self._stack = stack
        record = copy.deepcopy(stack.records[0])
        record.params, record.buffers = stack.member_params(0)
        self.records = [record]
        self.schedule_states = copy.deepcopy(stack.schedule_states)

    def __getattr__(self, name):
        return getattr(self._stack, name)


def _fitted_attributes(estimator, stack):
    """The attributes of ``estimator`` as if its fit had stopped now.

    scikit-learn builds the callbacks' ``fitted_estimator`` by setting these
    on a copy of the estimator.
    """
    view = copy.copy(estimator)
    now = _StackNow(stack)
    view._set_fitted(now, 0, now)
    return vars(view)
