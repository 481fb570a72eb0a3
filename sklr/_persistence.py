"""The types to trust when loading a fitted sklr model with ``skops.io``.

``skops.io.load`` builds only the types it is told to trust. A fitted sklr
estimator or search holds, besides numpy arrays and builtins, objects of a
few sklr classes: the estimator itself, its optimizer and schedule, the model
structure (``_model``) and the training record (``_record``), and for a
search the search and its ``best_estimator_``. :func:`get_trusted_types`
lists them. The public classes are the sklr subclasses of the estimator,
optimizer and schedule bases and the searches of :mod:`sklr.model_selection`,
so a new one is trusted by being written; the internal ones are listed here.
``tests/test_persistence.py`` checks the public ones against
:mod:`sklr.utils.discovery` (not used here: it imports ``sklr``, which imports
this module) and walks the fitted state of every estimator and search to
check that no type is missing.
"""

import functools
import importlib
import inspect

# Internal modules every class of which may be kept on a fitted estimator:
# the model structures (``_model``) and the losses.
_INTERNAL_MODULES = ("sklr._models", "sklr._losses")

# Single internal classes kept on a fitted estimator, as (module, class name).
_INTERNAL_CLASSES = (
    ("sklr._engine", "MemberRecord"),  # the training record, ``_record``
    ("sklr._engine", "StackState"),  # the state training continues from
)


def _type_name(cls):
    """The name skops gives a type: its module and its name."""
    return f"{cls.__module__}.{cls.__name__}"


def _public_subclasses(base):
    """The concrete public subclasses of ``base`` that sklr defines, at any depth."""
    found, todo = set(), [base]
    while todo:
        for cls in todo.pop().__subclasses__():
            todo.append(cls)
            if (cls.__module__.startswith("sklr.") and not cls.__name__.startswith("_")
                    and not cls.__name__.endswith("Base")
                    and not inspect.isabstract(cls)):
                found.add(cls)
    return found


def _classes_defined_in(module_name):
    module = importlib.import_module(module_name)
    return {cls for _, cls in inspect.getmembers(module, inspect.isclass)
            if cls.__module__ == module_name}


@functools.cache
def _trusted_type_names():
    from sklearn.base import BaseEstimator

    # the modules that define the public subclasses, so that they exist
    import sklr.linear_model  # noqa: F401
    import sklr.model_selection
    import sklr.neural_network  # noqa: F401
    from sklr._base import BaseSKLR
    from sklr.optimizers import Optimizer
    from sklr.schedules import Schedule

    classes = set()
    for base in (BaseSKLR, Optimizer, Schedule):
        classes |= _public_subclasses(base)
    for name in sklr.model_selection.__all__:
        obj = getattr(sklr.model_selection, name)
        if inspect.isclass(obj) and issubclass(obj, BaseEstimator):
            classes.add(obj)
    for module_name in _INTERNAL_MODULES:
        classes |= _classes_defined_in(module_name)
    for module_name, name in _INTERNAL_CLASSES:
        classes.add(getattr(importlib.import_module(module_name), name))
    return tuple(sorted(_type_name(cls) for cls in classes))


def get_trusted_types():
    """The sklr types to trust when loading a fitted sklr model with skops.

    Pass the list as ``trusted=`` to :func:`skops.io.load` (or
    :func:`skops.io.loads`) to load any sklr estimator, ``Pipeline`` ending
    in one or search saved with :func:`skops.io.dump`. It names every sklr
    class that can appear in such a fitted model: the estimators, the
    searches of :mod:`sklr.model_selection`, the optimizers and schedules,
    and the internal objects a fitted estimator keeps (model structure,
    training record, losses).

    The list holds sklr types only, enough for an estimator. A search file
    also contains scikit-learn types that skops does not trust by default
    (its scorer); list them with :func:`skops.io.get_untrusted_types`,
    review them, and add those you trust.

    Returns
    -------
    list of str
        Fully qualified type names, such as
        ``"sklr.linear_model.LinearRegressor"``, sorted. A new list on every
        call.

    See Also
    --------
    skops.io.load : Load a model saved with :func:`skops.io.dump`.
    skops.io.get_untrusted_types : The types of a file that skops does not trust.

    Notes
    -----
    Trusting a type lets skops build objects of it from the file. None of
    sklr's types runs code taken from the file, but a model from an unknown
    source is only as good as its source. Review what
    :func:`skops.io.get_untrusted_types` reports beyond this list before
    trusting it. See :ref:`persistence` in the user guide.

    Examples
    --------
    >>> import sklr
    >>> "sklr.linear_model.LinearRegressor" in sklr.get_trusted_types()
    True
    """
    return list(_trusted_type_names())
