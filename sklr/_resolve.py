"""Resolving an ``optimizer`` or ``schedule`` hyperparameter: a name or an object."""

from sklearn.base import clone

from sklr._compat import InvalidParameterError


def resolve(spec, aliases, base, kind):
    """Return a validated clone of ``aliases[spec]``, or of the object ``spec``.

    Parameters
    ----------
    spec : str or object
        A name from ``aliases`` or an instance of ``base``.
    aliases : dict
        Names and the objects they stand for.
    base : type
        The class objects must derive from.
    kind : str
        What is resolved, for messages (``"optimizer"``).

    Returns
    -------
    resolved : object
        A new, validated object: the user's object is never modified or shared.

    Raises
    ------
    InvalidParameterError
        If ``spec`` is an unknown name, has an unsupported type, or has
        invalid hyperparameters.
    """
    article = "an" if base.__name__[0] in "AEIOU" else "a"
    expected = f"{sorted(aliases)} or {article} {base.__name__} object"
    if isinstance(spec, str):
        if spec not in aliases:
            raise InvalidParameterError(
                f"Unknown {kind} {spec!r}; expected one of {expected}.")
        spec = aliases[spec]
    elif not isinstance(spec, base):
        raise InvalidParameterError(
            f"{kind} must be one of {expected}, got {type(spec).__name__}: {spec!r}.")
    return clone(spec).validate()
