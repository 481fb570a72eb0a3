"""scikit-learn's callbacks (``set_callbacks``) around sklr's training loop.

Where scikit-learn has its callback API (>= 1.9) and the estimator has
callbacks, set on it or propagated by a meta-estimator, a fit is a task with
one subtask per epoch, named ``"epoch"``. Every task is given the fit's
``X``, ``y`` and ``sample_weight`` (as ``metadata``); the end of an epoch's
task also gives, to the callbacks that ask for it, a ``fitted_estimator``: a
copy of the estimator fitted as it stands after that epoch, ready to
``predict`` and ``score``, with its curves so far (``loss_curve_[-1]`` is the
epoch's loss). A callback whose ``on_fit_task_end`` returns True ends
training after that epoch. In sklr's searches, each member of a stack is a
fit of its own in this sense (:func:`stack_callbacks`), and a stop ends
that member only.
"""

import copy
from contextlib import ExitStack, contextmanager

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
    with _member_epochs(estimator, 0, n_epochs, task_data(X, y, sample_weight)) as epochs:
        yield epochs


def task_data(X, y, sample_weight):
    """What a fit's tasks hand the callbacks: ``X``, ``y`` and ``metadata``."""
    metadata = None if sample_weight is None else {"sample_weight": sample_weight}
    return {"X": X, "y": y, "metadata": metadata}


@contextmanager
def stack_callbacks(members, n_epochs, caller=None):
    """Report the epochs of every member of a stack, each as a fit of its own.

    How sklr's searches report to callbacks: each member is one
    (candidate, fold) of the search, whose fit is the search's leaf task
    for that pair (when the search has callbacks) and has one ``"epoch"``
    subtask per epoch, as a plain fit has. A member whose callback asks to
    stop leaves the stack; the others train on.

    Parameters
    ----------
    members : list of tuple
        ``(member, estimator, parent, data)`` for each member still
        training: its index in the stack, its estimator (planned), the
        search's task for it or None, and the ``X``, ``y`` and ``metadata``
        its fit trains on as a dict (values, or callables returning them,
        evaluated only if a callback asks).
    n_epochs : int
        The epochs the stack runs at most.
    caller : estimator, default=None
        The search, which reports the begin and end of each member's task
        to its own callbacks.

    Yields
    ------
    on_epoch : callable or None
        The engine's ``on_epoch(stack)`` hook, returning the members to stop,
        or None when no member has anything to report to.
    """
    with ExitStack() as exits:
        hooks = {}
        for member, estimator, parent, data in members:
            if parent is not None:
                exits.enter_context(parent.propagate_callback_context(estimator))
            epochs = exits.enter_context(_member_epochs(
                estimator, member, n_epochs, data, parent=parent, caller=caller))
            if epochs is not None:
                hooks[member] = epochs
        if not hooks:
            yield None
            return

        def on_epoch(stack):
            return [member for member, epochs in hooks.items()
                    if epochs.running and epochs(stack)]

        yield on_epoch


@contextmanager
def _member_epochs(estimator, member, n_epochs, data, parent=None, caller=None):
    """The fit task of one member, with its epoch tasks (None: no callbacks).

    ``parent`` is the search's task this fit is: its begin and end go to the
    search's own callbacks (``caller`` is the search), as in scikit-learn's
    searches, whether or not the estimator has callbacks.
    """
    if parent is not None:
        parent.call_on_fit_task_begin(estimator=caller, **data)
    try:
        with callback_fit_context(estimator, max_subtasks=n_epochs) as root:
            if root is None:
                yield None
                return
            root.call_on_fit_task_begin(estimator=estimator, **data)
            epochs = _EpochTasks(estimator, member, root, n_epochs, data)
            try:
                yield epochs
            finally:
                epochs.close()
                # no fitted_estimator here: once fit returns, that is the
                # estimator, and the last epoch's task has its state
                root.call_on_fit_task_end(estimator=estimator, **data)
    finally:
        if parent is not None:
            parent.call_on_fit_task_end(estimator=caller, **data)


class _EpochTasks:
    """The ``on_epoch`` hook of one member: ends the epoch's task, begins the next.

    An epoch's task begins when the previous one ends (the first with the
    fit), and only if the member trains on: the fit's task has exactly as
    many subtasks as epochs ran.
    """

    def __init__(self, estimator, member, root, n_epochs, data):
        self._estimator = estimator
        self._member = member
        self._root = root
        self._n_epochs = n_epochs
        self._data = data
        self._n_begun = 0
        self._task = self._begin()

    @property
    def running(self):
        """Whether an epoch's task is open (the member trained this epoch)."""
        return self._task is not None

    def _begin(self):
        task = self._root.subcontext(task_name="epoch")
        task.call_on_fit_task_begin(estimator=self._estimator, **self._data)
        self._n_begun += 1
        return task

    def __call__(self, stack):
        stop = self._task.call_on_fit_task_end(
            estimator=self._estimator, **self._data,
            # built only if a callback asks for fitted_estimator
            reconstruction_attributes=lambda: _fitted_attributes(
                self._estimator, stack, self._member),
        )
        self._task = None
        if (not stop and stack.records[self._member].status == "training"
                and self._n_begun < self._n_epochs):
            self._task = self._begin()
        return stop

    def close(self):
        """End the task of an epoch that training cut short (a divergence that
        stopped it, an error), without data: the epoch has no state of its own."""
        if self._task is not None:
            self._task.call_on_fit_task_end(estimator=self._estimator)
            self._task = None


class _StackNow:
    """The stack with one member's record frozen as it is now, for ``_set_fitted``.

    ``_set_fitted(stack, member, plan)`` reads a finished member's record;
    this one holds a copy of the live record with the weights of now, so that
    training on does not change it. Everything else is the stack's. It also
    serves as the plan: a stack has its plan's model, dtype and loss scale.
    """

    def __init__(self, stack, member):
        self._stack = stack
        self.records = list(stack.records)
        record = copy.deepcopy(stack.records[member])
        record.params, record.buffers = stack.member_params(member)
        self.records[member] = record
        self.schedule_states = copy.deepcopy(stack.schedule_states)

    def __getattr__(self, name):
        return getattr(self._stack, name)


def _fitted_attributes(estimator, stack, member):
    """The attributes of ``estimator`` (``member`` of ``stack``) as if its fit
    had stopped now.

    scikit-learn builds the callbacks' ``fitted_estimator`` by setting these
    on a copy of the estimator.
    """
    view = copy.copy(estimator)
    now = _StackNow(stack, member)
    view._set_fitted(now, member, now)
    return vars(view)
