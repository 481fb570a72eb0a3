"""The one place where sklr touches private scikit-learn API.

Parameter validation helpers live in ``sklearn.utils._param_validation``;
they are private but stable since scikit-learn 1.2 and used by every
scikit-learn estimator. Importing them here alone means a future move in
scikit-learn is fixed in one file.
"""

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
except ImportError:  # older versions: estimators without set_callbacks

    class CallbackSupportMixin:
        """Stands in for scikit-learn's callback mixin where it does not exist."""
