"""A search on a real (local) Dask cluster gives the same results as a local one.

Needs the optional ``dask`` extra; the cluster runs two worker processes, as
separate machines would, so estimators and results travel pickled.
"""

import os

import joblib
import pytest
from numpy.testing import assert_array_equal
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklr import MLPClassifier
from sklr.optimizers import SGD

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            yield client


def process_id(estimator, X, y):
    """A scorer reporting which process scored the fold."""
    return os.getpid()


def make_search():
    pipeline = make_pipeline(
        StandardScaler(),
        MLPClassifier(hidden_layer_sizes=(16,), max_iter=10, tol=None, random_state=0),
    )
    grid = {
        "mlpclassifier__learning_rate": [1e-3, 1e-2, 1e-1],
        "mlpclassifier__optimizer": ["adam", SGD(momentum=0.9)],
    }
    scoring = {"accuracy": "accuracy", "pid": process_id}
    return GridSearchCV(pipeline, grid, cv=3, scoring=scoring, refit="accuracy")


def test_dask_backend_matches_local_search(client):
    X, y = load_digits(return_X_y=True)
    X, y = X[:300], y[:300]
    local = make_search().fit(X, y)
    with joblib.parallel_backend("dask"):
        remote = make_search().fit(X, y)

    worker_pids = set(client.run(os.getpid).values())
    used_pids = {int(pid) for split in range(3)
                 for pid in remote.cv_results_[f"split{split}_test_pid"]}
    assert used_pids <= worker_pids and os.getpid() not in used_pids
    for key in local.cv_results_:
        if "test_accuracy" in key:
            assert_array_equal(local.cv_results_[key], remote.cv_results_[key],
                               err_msg=key)
    assert local.best_params_["mlpclassifier__learning_rate"] == (
        remote.best_params_["mlpclassifier__learning_rate"])
    assert_array_equal(local.predict(X), remote.predict(X))
