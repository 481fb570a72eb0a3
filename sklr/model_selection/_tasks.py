"""The task tree of a search, for scikit-learn's callbacks (>= 1.9).

sklr's searches report to callbacks as scikit-learn's do: the search's fit
is a task with a ``"search"`` subtask (and a ``"refit-with-best-params"``
one), whose leaves are the ``"candidate-split-evaluation"`` tasks, one per
(candidate, fold); the halving search puts a ``"halving-iteration"`` task
per round between the two. Each leaf is the fit of that candidate on that
fold, with one ``"epoch"`` subtask per epoch, although the fits of a group
train together in one stack (see :func:`sklr._callbacks.stack_callbacks`).
A callback that asks to stop at an epoch stops that (candidate, fold)
only.
"""

from contextlib import contextmanager

from sklr._callbacks import task_data
from sklr._compat import callback_fit_context


class SearchTasks:
    """The tasks of one search's fit; every method does nothing without callbacks.

    Parameters
    ----------
    search : estimator
        The search being fitted.
    root : CallbackContext or None
        The task of its fit, or None when there is nothing to report to.
    data : dict
        The ``X``, ``y`` and ``metadata`` the search was given.
    """

    def __init__(self, search, root, data):
        self.search = search
        self.root = root
        self.data = data

    def begin(self, name, parent=None, *, max_subtasks, sequential=True):
        """Begin a subtask of ``parent`` (the root by default); return it."""
        parent = self.root if parent is None else parent
        if parent is None:
            return None
        task = parent.subcontext(task_name=name, max_subtasks=max_subtasks,
                                 sequential_subtasks=sequential)
        return task.call_on_fit_task_begin(estimator=self.search)

    def end(self, task):
        """End a task that :meth:`begin` returned."""
        if task is not None:
            task.call_on_fit_task_end(estimator=self.search)

    def assign(self, jobs, parent, index_of):
        """Give each (candidate, fold) that ``jobs`` train its leaf task under ``parent``.

        ``index_of`` maps a candidate's id in the search to its index among
        the candidates ``parent`` evaluates; leaves are numbered as in
        scikit-learn's searches, candidate-major.
        """
        if parent is None:
            return
        n_splits = self.search.n_splits_
        for job in jobs:
            job.caller = self.search
            job.tasks = {
                position: parent.subcontext(
                    task_name="candidate-split-evaluation",
                    task_id=index_of[candidate] * n_splits + job.fold)
                for position, candidate in enumerate(job.ids)
                if candidate in index_of}

    @contextmanager
    def refit(self, estimator):
        """The refit of ``estimator`` on all the data, as the search's last subtask."""
        if self.root is None:
            yield
            return
        task = self.root.subcontext(task_name="refit-with-best-params")
        with task.propagate_callback_context(estimator):
            task.call_on_fit_task_begin(estimator=self.search, **self.data)
            yield
        task.call_on_fit_task_end(estimator=self.search, **self.data)


@contextmanager
def search_tasks(search, X, y, sample_weight):
    """The :class:`SearchTasks` of a search's fit, with its root task begun and ended.

    Parameters
    ----------
    search : estimator
        The search, with ``refit`` set.
    X, y, sample_weight
        As passed to the search's ``fit``.

    Yields
    ------
    tasks : SearchTasks
    """
    data = task_data(X, y, sample_weight)
    with callback_fit_context(
            search, max_subtasks=1 + (search.refit is not False)) as root:
        if root is not None:
            root.call_on_fit_task_begin(estimator=search, **data)
        yield SearchTasks(search, root, data)
        if root is not None:
            root.call_on_fit_task_end(estimator=search, **data)
