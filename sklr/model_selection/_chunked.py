"""Grid and randomized searches that report progress between chunks of candidates.

scikit-learn's searches report nothing until every fit is done. The searches
here evaluate their candidates a few at a time through ``_run_search``, the
documented hook of custom searches, and advance a progress object between
chunks. That works with any ``n_jobs`` and joblib backend, since the progress
object stays in the calling process; each chunk holds enough fits to keep
every worker busy.

Private: the ``sklr`` command line uses these classes.
"""

import math

from joblib import effective_n_jobs
from sklearn.model_selection import (
    GridSearchCV,
    ParameterGrid,
    ParameterSampler,
    RandomizedSearchCV,
)

# Each chunk holds at least this many fits per worker, so that the barrier at
# the end of a chunk leaves workers idle only briefly.
FITS_PER_WORKER = 6
# ... and there are at most this many chunks, so that a large search is not
# slowed down by many barriers.
MAX_CHUNKS = 40


class ChunkedSearchMixin:
    """Mixin evaluating a search's candidates in chunks to report progress.

    Set ``progress`` before ``fit`` to an object with the methods
    ``start(total)``, called once with the number of fits (candidates x
    splits), and ``advance(n)``, called after each chunk with its number of
    fits. Subclasses define ``_candidate_params()``, the candidates in order.
    """

    progress = None

    def _run_search(self, evaluate_candidates):
        candidates = list(self._candidate_params())
        n_splits = self.n_splits_
        self.progress.start(len(candidates) * n_splits)
        workers = effective_n_jobs(self.n_jobs)
        size = max(math.ceil(FITS_PER_WORKER * workers / n_splits),
                   math.ceil(len(candidates) / MAX_CHUNKS))
        for start in range(0, len(candidates), size):
            chunk = candidates[start:start + size]
            evaluate_candidates(chunk)
            self.progress.advance(len(chunk) * n_splits)

    def __getstate__(self):
        # a progress bar holds a stream and belongs to the process that shows
        # it: a pickled search (sent to a worker or saved) leaves it behind
        state = dict(super().__getstate__())
        state.pop("progress", None)
        return state


class ProgressGridSearchCV(ChunkedSearchMixin, GridSearchCV):
    """``GridSearchCV`` reporting progress between chunks of candidates."""

    def _candidate_params(self):
        return ParameterGrid(self.param_grid)


class ProgressRandomizedSearchCV(ChunkedSearchMixin, RandomizedSearchCV):
    """``RandomizedSearchCV`` reporting progress between chunks of candidates."""

    def _candidate_params(self):
        return ParameterSampler(self.param_distributions, self.n_iter,
                                random_state=self.random_state)
