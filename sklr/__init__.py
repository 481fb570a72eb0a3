"""sklr: learning rate, schedule and optimizer as tunable scikit-learn hyperparameters."""

from sklr._persistence import get_trusted_types
from sklr.diagnostics import diagnose
from sklr.linear_model import LinearRegressor, LogisticClassifier
from sklr.lr_finder import lr_range_test
from sklr.neural_network import MLPClassifier, MLPRegressor

__version__ = "0.1.0"

__all__ = [
    "LinearRegressor",
    "LogisticClassifier",
    "MLPClassifier",
    "MLPRegressor",
    "__version__",
    "diagnose",
    "get_trusted_types",
    "lr_range_test",
]
