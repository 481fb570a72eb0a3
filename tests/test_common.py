"""scikit-learn's estimator checks over every sklr estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklr import LinearRegressor, LogisticClassifier, MLPClassifier, MLPRegressor
from sklr.optimizers import SGD, Adam
from sklr.schedules import CosineAnnealing

DEFAULTS = [LinearRegressor(), LogisticClassifier(), MLPRegressor(), MLPClassifier()]
WITH_OBJECTS = [
    LinearRegressor(optimizer=Adam(beta_1=0.8), schedule=CosineAnnealing()),
    LogisticClassifier(optimizer=SGD(momentum=0.9), learning_rate=0.05,
                       schedule=CosineAnnealing(min_factor=0.1)),
    MLPRegressor(optimizer=Adam(), schedule=CosineAnnealing(min_factor=0.1)),
    MLPClassifier(optimizer=Adam(amsgrad=True), schedule=CosineAnnealing()),
]


@parametrize_with_checks(DEFAULTS + WITH_OBJECTS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
