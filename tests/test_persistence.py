"""Fitted estimators and searches round-trip through pickle, joblib and skops.

``sklr.get_trusted_types()`` must name every sklr type of a fitted model; the
state walk below finds the types actually kept, so a new internal type that
an estimator starts keeping fails here until it is listed.
"""

import ast
import copy
import importlib
import inspect
import io
import pickle
import textwrap
import warnings
from pathlib import Path

import joblib
import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn import __version__ as sklearn_version
from sklearn.base import BaseEstimator
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.fixes import parse_version

import sklr
import sklr.model_selection
from sklr import LinearRegressor, LogisticClassifier, MLPClassifier, MLPRegressor
from sklr.model_selection import (
    HalvingEpochSearchCV,
    LockstepGridSearchCV,
    LockstepRandomizedSearchCV,
)
from sklr.optimizers import SGD, AdamW
from sklr.schedules import ReduceOnPlateau, StepDecay, Warmup
from sklr.utils.discovery import all_estimators, all_optimizers, all_schedules

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning")

X_REG, Y_REG = make_regression(n_samples=60, n_features=4, noise=1.0, random_state=0)
X_CLF, Y_CLF = make_classification(n_samples=60, n_features=4, n_informative=3,
                                   n_redundant=0, n_classes=3, random_state=0)
Y_BIN = (Y_CLF == 0).astype(int)

# (estimator, X, y): varied enough that their fitted states hold every kind of
# internal object (validation curves, schedule state, batch-norm buffers,
# several optimizers, float32)
ESTIMATORS = {
    "LinearRegressor": (
        lambda: LinearRegressor(max_iter=5, penalty="l1", alpha=1e-3,
                                schedule=StepDecay(), random_state=0),
        X_REG, np.column_stack([Y_REG, -Y_REG])),
    "LogisticClassifier": (
        lambda: LogisticClassifier(max_iter=5, optimizer=AdamW(),
                                   early_stopping=True, random_state=0),
        X_CLF, Y_CLF),
    "MLPRegressor": (
        lambda: MLPRegressor(hidden_layer_sizes=(5,), max_iter=5, loss="huber",
                             batch_norm=True, schedule=Warmup(ReduceOnPlateau()),
                             random_state=0),
        X_REG, Y_REG),
    "MLPClassifier": (
        lambda: MLPClassifier(hidden_layer_sizes=(4, 3), max_iter=5, dropout=0.1,
                              optimizer=SGD(momentum=0.9, nesterov=True),
                              random_state=0),
        X_CLF.astype(np.float32), Y_BIN),
}

SEARCHES = {
    "LockstepGridSearchCV": (
        lambda: LockstepGridSearchCV(
            LinearRegressor(max_iter=5, random_state=0),
            {"learning_rate": [0.01, 0.1], "schedule": ["constant", StepDecay()]},
            cv=2),
        X_REG, Y_REG),
    "LockstepRandomizedSearchCV": (
        lambda: LockstepRandomizedSearchCV(
            make_pipeline(StandardScaler(),
                          LogisticClassifier(max_iter=5, random_state=0)),
            {"logisticclassifier__learning_rate": [0.01, 0.1, 1.0]},
            n_iter=2, cv=2, random_state=0, scoring=["accuracy", "neg_log_loss"],
            refit="accuracy"),
        X_CLF, Y_CLF),
    "HalvingEpochSearchCV": (
        lambda: HalvingEpochSearchCV(
            MLPRegressor(hidden_layer_sizes=(4,), max_iter=8, random_state=0),
            {"learning_rate": [0.003, 0.03, 0.3]}, cv=2),
        X_REG, Y_REG),
}

FORMATS = ["pickle", "joblib", "skops"]


@pytest.fixture(scope="module")
def fitted():
    """Every fitted model of the tests, by id: the estimators alone and in a
    Pipeline with StandardScaler, and the searches."""
    models = {}
    for name, (make, X, y) in ESTIMATORS.items():
        models[name] = (make().fit(X, y), X, y)
        models[f"{name}-pipeline"] = (
            make_pipeline(StandardScaler(), make()).fit(X, y), X, y)
    for name, (make, X, y) in SEARCHES.items():
        models[name] = (make().fit(X, y), X, y)
    return models


ESTIMATOR_IDS = [f"{name}{suffix}" for name in ESTIMATORS
                 for suffix in ("", "-pipeline")]


# ------------------------------------------------------------------ round trips
def _skops_round_trip(model, tmp_path):
    """Dump with skops, check that an untrusted load fails, load trusting sklr's
    types plus the numpy / scikit-learn ones the file holds."""
    skops_io = pytest.importorskip("skops.io")
    from skops.io.exceptions import UntrustedTypesFoundException

    path = tmp_path / "model.skops"
    skops_io.dump(model, path)
    with pytest.raises(UntrustedTypesFoundException):
        skops_io.load(path)
    untrusted = skops_io.get_untrusted_types(file=path)
    others = [name for name in untrusted if not name.startswith("sklr.")]
    # what skops asks about beyond sklr's types is numpy's or scikit-learn's
    assert all(name.startswith(("numpy.", "sklearn.")) for name in others), others
    # sklr's types are needed: without them the load still fails
    with pytest.raises(UntrustedTypesFoundException):
        skops_io.load(path, trusted=others)
    return skops_io.load(path, trusted=sklr.get_trusted_types() + others)


def _round_trip(model, how, tmp_path):
    if how == "pickle":
        return pickle.loads(pickle.dumps(model))
    if how == "joblib":
        buffer = io.BytesIO()
        joblib.dump(model, buffer)
        buffer.seek(0)
        return joblib.load(buffer)
    return _skops_round_trip(model, tmp_path)


def _assert_same_predictions(original, loaded, X):
    assert type(loaded) is type(original)
    assert_array_equal(loaded.predict(X), original.predict(X), strict=True)
    for method in ("predict_proba", "decision_function"):
        if hasattr(original, method):
            assert_array_equal(getattr(loaded, method)(X),
                               getattr(original, method)(X), strict=True)


def _final(model):
    return model[-1] if isinstance(model, Pipeline) else model


def _partial_fit(model, X, y):
    """One more epoch of the sklr estimator, alone or at the end of a Pipeline."""
    if isinstance(model, Pipeline):
        X = model[:-1].transform(X)
    _final(model).partial_fit(X, y)
    return model


@pytest.mark.parametrize("how", FORMATS)
@pytest.mark.parametrize("name", ESTIMATOR_IDS)
def test_estimator_round_trip(fitted, name, how, tmp_path):
    original, X, y = fitted[name]
    loaded = _round_trip(original, how, tmp_path)
    _assert_same_predictions(original, loaded, X)

    # the loaded estimator continues training exactly as the original does
    continued = _partial_fit(copy.deepcopy(original), X, y)
    loaded = _partial_fit(loaded, X, y)
    assert _final(loaded).n_iter_ == _final(original).n_iter_ + 1
    _assert_same_predictions(continued, loaded, X)


def _assert_same_results(original, loaded):
    assert loaded.cv_results_.keys() == original.cv_results_.keys()
    for key, value in original.cv_results_.items():
        other = loaded.cv_results_[key]
        if isinstance(value, np.ndarray) and value.dtype != object:
            assert type(other) is type(value), key
            assert_array_equal(other, value, strict=True)
            if isinstance(value, np.ma.MaskedArray):
                assert_array_equal(other.mask, value.mask)
        else:
            # parameter values may be estimators, which compare by identity
            assert repr(list(other)) == repr(list(value)), key
    assert repr(loaded.curves_) == repr(original.curves_)
    assert loaded.best_index_ == original.best_index_
    assert repr(loaded.best_params_) == repr(original.best_params_)


@pytest.mark.parametrize("how", FORMATS)
@pytest.mark.parametrize("name", list(SEARCHES))
def test_search_round_trip(fitted, name, how, tmp_path):
    original, X, _ = fitted[name]
    loaded = _round_trip(original, how, tmp_path)
    _assert_same_predictions(original, loaded, X)
    _assert_same_predictions(original.best_estimator_, loaded.best_estimator_, X)
    _assert_same_results(original, loaded)
    assert loaded.score(X, fitted[name][2]) == original.score(X, fitted[name][2])


# ------------------------------------------------------------- the trusted list
_EXEMPT = ("builtins.", "numpy.", "sklearn.")


def _name(obj):
    """skops's name of a type, or of a function kept in the state."""
    return f"{obj.__module__}.{obj.__qualname__}"


def _state_types(root):
    """Names of the types of every object reachable from ``root``'s state,
    as pickle and skops see it (``__getstate__``, containers, object arrays)."""
    names, seen, todo = set(), set(), [root]
    while todo:
        obj = todo.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if inspect.isclass(obj) or inspect.isroutine(obj):
            names.add(_name(obj))
            continue
        names.add(_name(type(obj)))
        if isinstance(obj, np.ndarray):
            if obj.dtype == object:
                todo.extend(np.asarray(obj).ravel().tolist())
        elif isinstance(obj, dict):
            todo.extend(obj.keys())
            todo.extend(obj.values())
        elif isinstance(obj, list | tuple | set | frozenset):
            todo.extend(obj)
        elif not isinstance(obj, str | bytes | int | float | complex | np.generic):
            state = obj.__getstate__()
            if state is not None:
                todo.append(state)
    return names


def test_state_walk_finds_what_it_looks_for():
    estimator = LinearRegressor(max_iter=1).fit(X_REG, Y_REG)
    names = _state_types(estimator)
    for expected in ("sklr.linear_model.LinearRegressor", "sklr._models.LinearModel",
                     "sklr._engine.MemberRecord", "sklr.optimizers.Adam",
                     "sklr.schedules.Constant", "numpy.ndarray"):
        assert expected in names

    class Foreign:
        pass

    estimator._extra = {"key": [np.array([Foreign()], dtype=object)]}
    assert _name(Foreign) in _state_types(estimator)
    estimator._extra = np.sqrt, sklr.get_trusted_types
    assert "sklr._persistence.get_trusted_types" in _state_types(estimator)


@pytest.mark.parametrize("name", ESTIMATOR_IDS + list(SEARCHES))
def test_trusted_types_cover_the_fitted_state(fitted, name):
    # every type kept by a fitted model that is not a builtin's, numpy's or
    # scikit-learn's must be trusted: a new internal type fails here
    names = _state_types(fitted[name][0])
    missing = sorted(n for n in names
                     if not n.startswith(_EXEMPT) and n not in sklr.get_trusted_types())
    assert missing == [], (
        f"types kept by a fitted {name} are missing from get_trusted_types(): "
        f"{missing}; list them in sklr/_persistence.py")


def test_trusted_types_list_the_public_classes():
    trusted = set(sklr.get_trusted_types())
    public = [cls for _, cls in all_estimators() + all_optimizers() + all_schedules()]
    searches = [getattr(sklr.model_selection, name)
                for name in sklr.model_selection.__all__]
    public += [obj for obj in searches
               if inspect.isclass(obj) and issubclass(obj, BaseEstimator)]
    assert len(public) >= 4 + 3
    public_names = {f"{cls.__module__}.{cls.__name__}" for cls in public}
    assert public_names <= trusted
    # the others are internal: no base class or helper of a public module
    assert all(name.startswith("sklr._") for name in trusted - public_names)


def test_trusted_types_are_sklr_classes():
    names = sklr.get_trusted_types()
    assert names == sorted(names)
    assert len(set(names)) == len(names)
    for name in names:
        module, _, class_name = name.rpartition(".")
        assert module.startswith("sklr.")
        assert inspect.isclass(getattr(importlib.import_module(module), class_name))


def test_trusted_types_is_a_new_list():
    names = sklr.get_trusted_types()
    names.append("builtins.eval")
    assert "builtins.eval" not in sklr.get_trusted_types()


def test_skops_untrusted_sklr_types_are_all_trusted(fitted):
    # what skops itself reports for sklr in the files of every model
    skops_io = pytest.importorskip("skops.io")
    trusted = set(sklr.get_trusted_types())
    for model, _, _ in fitted.values():
        untrusted = skops_io.get_untrusted_types(data=skops_io.dumps(model))
        sklr_types = {name for name in untrusted if name.startswith("sklr.")}
        assert sklr_types <= trusted


# ----------------------------------------------------------------- the docs page
DOCS_PAGE = (Path(__file__).parents[1] / "docs" / "user_guide" / "persistence.rst")


def _python_blocks(text):
    """The ``.. code-block:: python`` blocks of a reST page, dedented."""
    blocks, lines = [], text.splitlines()
    for start, line in enumerate(lines):
        if line.strip() != ".. code-block:: python":
            continue
        block = []
        for following in lines[start + 2:]:
            if following and not following.startswith("    "):
                break
            block.append(following)
        blocks.append(textwrap.dedent("\n".join(block)))
    return blocks


def test_docs_examples_run(tmp_path, monkeypatch, capsys):
    pytest.importorskip("skops.io")
    if not DOCS_PAGE.exists():
        pytest.skip("run from a checkout: the docs are not installed")
    blocks = _python_blocks(DOCS_PAGE.read_text())
    assert len(blocks) == 2
    monkeypatch.chdir(tmp_path)
    with warnings.catch_warnings():
        # the page's models are fitted to convergence: no warning to explain
        warnings.simplefilter("error", ConvergenceWarning)
        for block in blocks:
            exec(compile(block, str(DOCS_PAGE), "exec"), {})
    # the output shown in a comment under a print is the output printed (with
    # the scikit-learn the docs are built with: before 1.7, a search's scorer
    # also holds metadata-request objects, which the list then names too)
    shown = [line.strip()[2:] for block in blocks for line in block.splitlines()
             if line.strip().startswith("# [")]
    printed = capsys.readouterr().out.splitlines()
    if parse_version(sklearn_version) >= parse_version("1.7"):
        assert printed == shown
    else:
        assert len(printed) == len(shown)
        for names, more in zip(shown, printed):
            assert set(ast.literal_eval(names)) <= set(ast.literal_eval(more))
