"""The command line's data: reading the CSV file, choosing the task, preprocessing.

The preprocessing is a ``ColumnTransformer`` in a ``Pipeline`` with the
model, so that each cross-validation fold learns it from its own training
part.
"""

import math
import os
from typing import NamedTuple

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sklr import LinearRegressor, LogisticClassifier, MLPClassifier, MLPRegressor
from sklr.cli._parsing import MAX_CLASSES, CLIError

# A categorical column with more distinct values than this is dropped: one-hot
# encoding it would cost memory and mostly fit noise (an ID, free text).
MAX_CATEGORIES = 100
# The MLPs take dense input only: a one-hot encoding with more cells than this
# (2**25 float64 values, 256 MiB, copied per fold) is refused for them.
DENSE_LIMIT = 2**25
# Standardizing or fitting squares the values: past this they overflow float64.
_MAX_MAGNITUDE = math.sqrt(np.finfo(np.float64).max)


class Problem(NamedTuple):
    """The data of an experiment and what the command line made of it."""

    X: object
    y: np.ndarray
    source: str
    target: str
    task: str
    numeric: list
    incomplete: list  # the numeric columns with missing values
    categorical: list
    dropped: list
    notes: list  # for stderr, once the command has checked everything else


def count(items, noun):
    """``"1 noun"`` or ``"<n> nouns"`` for the length of ``items``."""
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


def _read_csv(path):
    """The CSV file as a DataFrame, and notes on how it was read.

    A file whose header reads as one column with a ``;``, tab or ``|`` in it
    is read again with that separator (and decimal commas, with ``;``, if
    its numbers have them), as spreadsheets in many locales save CSV.
    """
    try:
        import pandas as pd
    except ImportError:
        raise CLIError("reading a CSV file needs pandas: pip install 'sklr[data]'"
                       ) from None
    if not os.path.exists(path):
        raise CLIError(f"no such file: '{path}'")
    if os.path.isdir(path):
        raise CLIError(f"'{path}' is a directory, not a CSV file")
    if not os.path.isfile(path):
        # a device or a pipe: /dev/zero would be read until memory runs out
        raise CLIError(f"'{path}' is not a regular file")
    try:
        frame, notes = pd.read_csv(path), []
        if frame.shape[1] == 1:
            frame, notes = _read_separated(pd, path, str(frame.columns[0]), frame)
    except pd.errors.EmptyDataError:
        raise CLIError(f"'{path}' is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        reason = str(exc).strip().splitlines()[0]
        raise CLIError(f"cannot read '{path}' as CSV: {reason}") from None
    except OSError as exc:
        raise CLIError(f"cannot read '{path}': {exc.strerror or exc}") from None
    if frame.shape[0] == 0:
        raise CLIError(f"'{path}' has a header but no data rows")
    if frame.shape[1] < 2:
        raise CLIError(f"'{path}' has one column; it needs feature columns and a "
                       "target column (sklr reads comma-, semicolon-, tab- or "
                       "'|'-separated files)")
    return frame, notes


def _read_separated(pd, path, header, frame):
    """Read ``path`` again with the separator its one-column ``header`` shows."""
    for separator, name in ((";", "semicolon"), ("\t", "tab"), ("|", "'|'")):
        if separator not in header:
            continue
        frame = pd.read_csv(path, sep=separator)
        text = frame.select_dtypes(exclude="number")
        if separator == ";" and text.shape[1] and text.apply(
                lambda column: column.astype(str).str.fullmatch(r"-?\d*,\d+").all()
        ).any():
            return (pd.read_csv(path, sep=separator, decimal=","),
                    [f"read as {name}-separated with decimal commas"])
        return frame, [f"read as {name}-separated"]
    return frame, []


# the name pandas gives a first column with an empty header
_SAVED_INDEX = "Unnamed: 0"


def _is_saved_index(frame):
    """Whether the first column is a row index saved by pandas: unnamed, and
    counting 0, 1, 2, ... down the rows."""
    values = frame[frame.columns[0]]
    return bool(frame.columns[0] == _SAVED_INDEX and values.dtype.kind in "iu"
                and (values.to_numpy() == np.arange(len(values))).all())


def _too_large(values):
    """Whether squaring ``values`` (float64, NaN for missing) would overflow.

    Both standardizing (the variance) and training (a squared loss) square
    them; a mean far from zero or many rows overflow a variance sooner than a
    single value.
    """
    values = values[~np.isnan(values)]
    if values.size == 0:
        return False
    with np.errstate(over="ignore", invalid="ignore"):
        return (np.abs(values).max() > _MAX_MAGNITUDE
                or not np.isfinite(values.var()))


def _check_numeric(X, columns):
    """One-line errors for infinite or overflowing values of numeric columns.

    Left alone they would fail every fit, each with a traceback, or turn into
    NaNs in the standardization that an error then blames on missing values.
    """
    for column in columns:
        values = X[column].to_numpy(dtype=np.float64, na_value=np.nan)
        if np.isinf(values).any():
            raise CLIError(f"column '{column}' has infinite values; replace them "
                           "(an empty cell is a missing value, which is imputed)")
        if _too_large(values):
            raise CLIError(
                f"column '{column}' has values too large in magnitude (max abs "
                f"{np.nanmax(np.abs(values)):.3g}) to be standardized; rescale it")


def load(path, target, model):
    """Read the data, choose the target and the task, and split the columns.

    Problems with the data end the command here, before any training: an
    unusable file, target or numeric column raises :class:`CLIError`.
    Categorical columns with more than ``MAX_CATEGORIES`` distinct values are
    dropped, and rows without a target; ``notes`` says so.

    Parameters
    ----------
    path : str or None
        The CSV file; None for scikit-learn's digits data.
    target : str or None
        The target column; None for the last one.
    model : {"auto", "linear", "logistic", "mlp"}
        The ``--model`` option, which may force the task.

    Returns
    -------
    problem : Problem
        The features (a DataFrame for a CSV file) without the dropped
        columns, the target, the numeric, categorical and dropped feature
        columns, and the notes for stderr.
    """
    if path is None:
        from sklearn.datasets import load_digits

        if target not in (None, "target"):
            raise CLIError("--target names a column of DATA.csv; the digits data "
                           "has only 'target'")
        X, y = load_digits(return_X_y=True)
        task, y = _task(y, model, "target")
        return Problem(X, y, "digits (scikit-learn's bundled data)", "target", task,
                       list(range(X.shape[1])), [], [], [], [])
    frame, notes = _read_csv(path)
    if _is_saved_index(frame):
        # pandas' to_csv writes the row index as a first column without a name
        frame = frame.drop(columns=frame.columns[0])
        if frame.shape[1] < 2:
            raise CLIError(f"'{path}' has one column besides the row numbers pandas' "
                           "to_csv writes; it needs feature columns and a target "
                           "column")
        notes.append(f"dropped '{_SAVED_INDEX}', the row numbers pandas' to_csv "
                     "writes, as a feature it would only add noise")
    columns = list(frame.columns)
    target = columns[-1] if target is None else target
    if target not in columns:
        shown = ", ".join(map(str, columns[:10])) + (", ..." if len(columns) > 10
                                                     else "")
        raise CLIError(f"no column '{target}' in '{path}' (columns: {shown})")
    missing = frame[target].isna()
    if missing.all():
        raise CLIError(f"target column '{target}' has no values")
    X = frame.loc[~missing].drop(columns=[target])
    task, y = _task(frame.loc[~missing, target], model, target)
    if missing.any():
        notes.append(f"dropped {count(range(missing.sum()), 'row')} with a missing "
                     "target")
    numeric = list(X.select_dtypes("number").columns)
    _check_numeric(X, numeric)
    incomplete = [column for column in numeric if X[column].isna().any()]
    categorical = [c for c in X.columns if c not in numeric]
    distinct = {column: X[column].nunique() for column in categorical}
    dropped = [column for column in categorical if distinct[column] > MAX_CATEGORIES]
    shown = ", ".join(f"'{column}' ({distinct[column]})" for column in dropped)
    if len(dropped) == X.shape[1]:
        raise CLIError(f"'{path}' has no usable feature column: each has more than "
                       f"{MAX_CATEGORIES} distinct values: {shown}")
    if dropped:
        notes.append(f"dropped {count(dropped, 'categorical column')} with more "
                     f"than {MAX_CATEGORIES} distinct values: {shown}")
    categorical = [c for c in categorical if c not in dropped]
    X = X.drop(columns=dropped)
    # one-hot encoding needs each column all strings; missing values stay for the
    # imputer
    X[categorical] = X[categorical].apply(
        lambda col: col.where(col.isna(), col.astype(str)))
    if model == "mlp":
        _check_dense_size(X.shape[0], [distinct[column] for column in categorical])
    return Problem(X, y, f"'{path}'", target, task, numeric, incomplete, categorical,
                   dropped, notes)


def _check_dense_size(n_rows, n_categories):
    """Refuse a one-hot encoding too large to be dense, as the MLPs need it.

    ``n_categories`` holds the distinct values of each categorical column: the
    columns of its encoding (a training fold has at most as many).
    """
    width = sum(n_categories)
    if n_rows * width > DENSE_LIMIT:
        raise CLIError(
            f"--model mlp needs dense input, and one-hot encoding "
            f"{count(n_categories, 'categorical column')} gives {n_rows} rows x "
            f"{width} columns, more than {DENSE_LIMIT} values; use --model auto, "
            "linear or logistic, which take it sparse")


def _refuse_numbers_read_as_text(values, name):
    """A numeric target with a few text cells (``?``, ``n/a``) is read as text,
    which would make each distinct number a class: name the cells instead."""
    distinct = np.unique(values)
    numbers, text = [], []
    for value in distinct:
        try:
            numbers.append(float(value))
        except ValueError:
            text.append(value)
    numbers = np.array(numbers)
    looks_numeric = len(numbers) > MAX_CLASSES or (
        len(numbers) and not np.all(numbers == np.round(numbers)))
    if text and looks_numeric and np.isin(values, text).mean() <= 0.05:
        shown = ", ".join(repr(str(value)) for value in text[:5])
        raise CLIError(f"target column '{name}' holds numbers but also {shown}, so it "
                       "was read as text (every distinct number a class); empty those "
                       "cells (a row without a target is dropped) or fix them")


def _task(y, model, name):
    """``("classification" | "regression", y as an array)`` for this target.

    Numbers must be finite; regression needs them small enough to square,
    classification integers that float64 holds exactly.
    """
    raw = np.asarray(y)
    numeric = raw.dtype.kind in "iuf"
    values = raw.astype(np.float64) if numeric else raw.astype(str)
    if not numeric:
        _refuse_numbers_read_as_text(values, name)
    if numeric and not np.isfinite(values).all():
        raise CLIError(f"target column '{name}' has infinite values")
    integral = numeric and np.all(values == np.round(values))
    if model == "linear":
        classification = False
    elif model == "logistic":
        classification = True
    else:
        classification = not numeric or (
            integral and len(np.unique(values)) <= MAX_CLASSES)
    if not classification:
        if not numeric:
            raise CLIError(f"target column '{name}' is not numeric; regression "
                           "needs numbers (use --model auto, logistic or mlp)")
        if _too_large(values):
            raise CLIError(f"target column '{name}' has values too large in "
                           f"magnitude (max abs {np.abs(values).max():.3g}) for "
                           "regression; rescale it")
        return "regression", values
    if numeric and not integral:
        raise CLIError(f"target column '{name}' has non-integer numbers; "
                       "classification needs class labels (use --model linear)")
    if not numeric:
        labels = values
    elif raw.dtype.kind in "iu":
        labels = raw  # exact, even past 2**53
    elif np.abs(values).max() > 2**53:
        # past 2**53, distinct integers read as floats may have merged
        raise CLIError(f"target column '{name}' has numbers too large to be exact "
                       f"class labels (max abs {np.abs(values).max():.3g})")
    else:
        labels = values.astype(np.int64)
    classes = np.unique(labels)
    if len(classes) < 2:
        raise CLIError(f"target column '{name}' has only one class "
                       f"({str(classes[0])!r}); classification needs at least two")
    return "classification", labels


def build_pipeline(problem, model, max_iter, random_state):
    """The preprocessing ``ColumnTransformer`` and the estimator, in a ``Pipeline``.

    The one-hot encoding is sparse for the linear models, which take sparse
    input (the ``ColumnTransformer`` keeps its output sparse when that saves
    memory), and dense for the MLPs, which need it so.

    Parameters
    ----------
    problem : Problem
        The data, whose task and columns choose the steps.
    model : {"auto", "linear", "logistic", "mlp"}
        The ``--model`` option.
    max_iter : int or None
        The estimator's ``max_iter``; None keeps its default.
    random_state : int
        The estimator's ``random_state``.

    Returns
    -------
    pipeline : Pipeline
        The steps ``"preprocess"`` and ``"model"``, unfitted.
    """
    incomplete = set(problem.incomplete)
    complete = [column for column in problem.numeric if column not in incomplete]
    transformers = []
    # the imputer's median sorts masked arrays, most of the preprocessing
    # time of a large file: only the columns with missing values need it
    if complete:
        transformers.append(("numeric", StandardScaler(), complete))
    if problem.incomplete:
        # a column without values in a training fold is kept (as zeros): dropped,
        # it could leave the scaler no column at all
        transformers.append(("incomplete", make_pipeline(
            SimpleImputer(strategy="median", keep_empty_features=True),
            StandardScaler()), problem.incomplete))
    if problem.categorical:
        transformers.append(("categorical", make_pipeline(
            SimpleImputer(strategy="most_frequent"),
            OneHotEncoder(handle_unknown="ignore", sparse_output=model != "mlp"),
        ), problem.categorical))
    classification = problem.task == "classification"
    if model == "mlp":
        estimator = MLPClassifier() if classification else MLPRegressor()
    else:
        estimator = LogisticClassifier() if classification else LinearRegressor()
    estimator.set_params(random_state=random_state)
    if max_iter is not None:
        estimator.set_params(max_iter=max_iter)
    return Pipeline([("preprocess", ColumnTransformer(transformers)),
                     ("model", estimator)])


def describe(problem, estimator):
    """What the experiment is: data, target, preprocessing and model."""
    if problem.task == "classification":
        kind = f"classification, {len(np.unique(problem.y))} classes"
    else:
        kind = "regression"
    steps = []
    if problem.numeric:
        imputed = (f" (missing values of {len(problem.incomplete)} imputed with the "
                   "median)" if problem.incomplete else "")
        steps.append(f"{count(problem.numeric, 'numeric column')} standardized"
                     f"{imputed}")
    if problem.categorical:
        steps.append(f"{count(problem.categorical, 'categorical column')} imputed "
                     "(most frequent) and one-hot encoded")
    if problem.dropped:
        steps.append(f"{count(problem.dropped, 'categorical column')} dropped "
                     f"(more than {MAX_CATEGORIES} distinct values)")
    return "\n".join([
        f"Data: {problem.source}, {problem.X.shape[0]} samples; "
        f"target '{problem.target}': {kind}",
        f"Preprocessing: {'; '.join(steps)}",
        f"Model: {type(estimator).__name__}",
    ])
