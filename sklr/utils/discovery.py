"""Find every public estimator, optimizer and schedule class sklr defines.

The common tests iterate over these lists, so a new class is tested by being
written (as ``sklearn.utils.discovery`` does for scikit-learn).
"""

import importlib
import inspect
import pkgutil

__all__ = ["all_estimators", "all_optimizers", "all_schedules"]


def _public_classes(base):
    import sklr

    found = {}
    for module_info in pkgutil.walk_packages(sklr.__path__, "sklr."):
        # importing __main__ would run the command line
        if module_info.name.endswith("__main__"):
            continue
        module = importlib.import_module(module_info.name)
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if (issubclass(cls, base) and cls is not base and not name.startswith("_")
                    and cls.__module__.startswith("sklr.")):
                found[name] = cls
    return sorted(found.items())


def all_optimizers():
    """Every public :class:`~sklr.optimizers.Optimizer` subclass in sklr.

    Returns
    -------
    optimizers : list of (str, type)
        Class names and classes, sorted by name.
    """
    from sklr.optimizers import Optimizer

    return _public_classes(Optimizer)


def all_schedules():
    """Every public :class:`~sklr.schedules.Schedule` subclass in sklr.

    Returns
    -------
    schedules : list of (str, type)
        Class names and classes, sorted by name.
    """
    from sklr.schedules import Schedule

    return _public_classes(Schedule)


def all_estimators():
    """Every public sklr estimator class.

    Returns
    -------
    estimators : list of (str, type)
        Class names and classes, sorted by name.
    """
    from sklr._base import BaseSKLR

    return [(name, cls) for name, cls in _public_classes(BaseSKLR)
            if not inspect.isabstract(cls) and not name.endswith("Base")]
