"""The one place where sklr touches private scikit-learn API.

Parameter validation helpers live in ``sklearn.utils._param_validation``;
they are private but stable since scikit-learn 1.2 and used by every
scikit-learn estimator. Importing them here alone means a future move in
scikit-learn is fixed in one file.
"""

from contextlib import contextmanager

from sklearn.utils._param_validation import (  # noqa: F401  (re-exported)
    HasMethods,
    Hidden,
    Interval,
    InvalidParameterError,
    StrOptions,
    validate_parameter_constraints,
)
from sklearn.utils.validation import validate_data  # noqa: F401  (public since 1.6)


def validate_params(obj):
    """Check ``obj.get_params(deep=False)`` against ``obj._parameter_constraints``.

    Raises :class:`InvalidParameterError` (a ``ValueError`` and ``TypeError``)
    naming the parameter and the accepted values.
    """
    validate_parameter_constraints(
        obj._parameter_constraints,
        obj.get_params(deep=False),
        caller_name=type(obj).__name__,
    )


def search_parameter_constraints():
    """A copy of ``GridSearchCV``'s parameter constraints (a private attribute).

    Searches that take GridSearchCV's arguments validate them with these.
    """
    from sklearn.model_selection import GridSearchCV

    return dict(GridSearchCV._parameter_constraints)


def check_sample_weight(sample_weight, X, dtype=None):
    """scikit-learn's private sample-weight validator (non-negative, right length)."""
    from sklearn.utils.validation import _check_sample_weight

    return _check_sample_weight(sample_weight, X, dtype=dtype, ensure_non_negative=True)


def scorer_accepts_sample_weight(scorer):
    """Whether scikit-learn's searches forward ``sample_weight`` to ``scorer``.

    scikit-learn >= 1.7 says so through the private ``_accept_sample_weight``
    of its scorer objects; plain functions say so through their signature.
    """
    accept = getattr(scorer, "_accept_sample_weight", None)
    if accept is not None:
        return accept()
    from inspect import signature

    return "sample_weight" in signature(scorer).parameters


try:  # scikit-learn >= 1.9: the experimental callback API
    from sklearn.callback import CallbackSupportMixin
    from sklearn.callback._callback_support import callback_management_context
except ImportError:  # older versions: estimators without set_callbacks

    class CallbackSupportMixin:
        """Stands in for scikit-learn's callback mixin where it does not exist."""

    callback_management_context = None


@contextmanager
def callback_fit_context(estimator, max_subtasks):
    """The task of one fit of ``estimator`` for scikit-learn's callbacks.

    Does for a fit what scikit-learn's own estimators do: enters the root
    ``CallbackContext`` of ``_init_callback_context``, which sets up the
    callbacks set on the estimator itself and merges with the task of a
    meta-estimator that propagated its own (e.g. one fold of
    ``GridSearchCV``), and on exit, whether the fit succeeds or fails, runs
    the teardown that ``_fit_context`` runs around their ``fit`` (private,
    hence here).

    Parameters
    ----------
    estimator : estimator instance
        The estimator being fitted.
    max_subtasks : int or None
        Number of subtasks of the fit (its epochs).

    Yields
    ------
    context : CallbackContext or None
        None where there is nothing to report to: scikit-learn < 1.9, or no
        callbacks on the estimator (set or propagated).
    """
    if callback_management_context is None or not getattr(
            estimator, "_skl_callbacks", None):
        yield None
        return
    with callback_management_context(estimator):
        yield estimator._init_callback_context(max_subtasks=max_subtasks)
