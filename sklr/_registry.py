"""Registries of names: the single list of the optimizer and schedule names.

A :class:`Registry` maps a name (``"adam"``) to the configuration object it
stands for (``Adam()``) and a one-line summary. Everything that lists names
is derived from it: the estimators' parameter constraints (a live view, so a
name registered later validates at once), the shared docstrings, the tables
of the user guide (generated when the docs are built) and the tests'
parametrizations. Adding an optimizer by name is one class and one
:meth:`Registry.register` call.
"""

from collections.abc import Mapping

from sklearn.base import clone

from sklr._compat import InvalidParameterError, StrOptions


class Registry(Mapping):
    """Names of the configuration objects of one kind, and what they stand for.

    A read-only mapping from name to object; :meth:`register` and
    :meth:`unregister` change it.

    Parameters
    ----------
    kind : str
        What the names stand for, for messages (``"optimizer"``).
    base : type
        The class every registered object, and every object passed instead
        of a name, must derive from.
    """

    def __init__(self, kind, base):
        self.kind = kind
        self.base = base
        self._objects = {}
        self._summaries = {}

    def register(self, name, obj, summary=""):
        """Make ``name`` stand for ``obj`` wherever a name of this kind is accepted.

        Parameters
        ----------
        name : str
            The new name; it must not be registered already.
        obj : object
            An instance of ``base``; resolving ``name`` gives a clone of it.
        summary : str, default=""
            One line for the documentation tables.

        Returns
        -------
        obj : object
            ``obj``, unchanged.
        """
        if not isinstance(name, str) or not name:
            raise ValueError(f"A {self.kind} name must be a non-empty string, got "
                             f"{name!r}.")
        if name in self._objects:
            raise ValueError(f"The {self.kind} name {name!r} is registered already.")
        if not isinstance(obj, self.base):
            raise TypeError(f"A registered {self.kind} must be {self._a_base()}, got "
                            f"{type(obj).__name__}.")
        self._objects[name] = obj
        self._summaries[name] = summary
        return obj

    def unregister(self, name):
        """Remove ``name``; resolving it raises afterwards."""
        del self._objects[name]
        del self._summaries[name]

    def __getitem__(self, name):
        return self._objects[name]

    def __iter__(self):
        return iter(self._objects)

    def __len__(self):
        return len(self._objects)

    def summary(self, name):
        """The one-line summary registered with ``name``."""
        return self._summaries[name]

    def constraint(self):
        """A parameter constraint accepting the registered names, now and later."""
        # a live view of the keys: StrOptions only tests membership in it
        return StrOptions(self._objects.keys())

    def names_doc(self):
        """The names as a numpydoc fragment: ``"a"``, ``"b"``, ..."""
        return ", ".join(f'``"{name}"``' for name in self._objects)

    def _a_base(self):
        name = self.base.__name__
        return f"an {name}" if name[0] in "AEIOU" else f"a {name}"

    def resolve(self, spec):
        """Return a validated clone of the object ``spec`` names, or of ``spec`` itself.

        Parameters
        ----------
        spec : str or object
            A registered name or an instance of ``base``.

        Returns
        -------
        resolved : object
            A new, validated object: the user's object, and the registered
            one, are never modified or shared.

        Raises
        ------
        InvalidParameterError
            If ``spec`` is an unknown name, has an unsupported type, or has
            invalid hyperparameters.
        """
        expected = f"{sorted(self._objects)} or {self._a_base()} object"
        if isinstance(spec, str):
            if spec not in self._objects:
                raise InvalidParameterError(
                    f"Unknown {self.kind} {spec!r}; expected one of {expected}.")
            spec = self._objects[spec]
        elif not isinstance(spec, self.base):
            raise InvalidParameterError(
                f"{self.kind} must be one of {expected}, got "
                f"{type(spec).__name__}: {spec!r}.")
        return clone(spec).validate()
