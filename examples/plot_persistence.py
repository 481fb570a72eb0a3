"""
=================================================
Saving a model with skops, and loading it safely
=================================================

A pickle file can run any code when it is loaded, so a model shared as a
pickle has to be trusted like a program. `skops <https://skops.readthedocs.io>`_
saves a model in a format that is loaded without running code from the file:
``skops.io.load`` builds only the types it is told to trust.
:func:`sklr.get_trusted_types` lists the sklr types a fitted model holds.

This example saves a fitted pipeline, loads it back with that list, checks
that it predicts the same, and continues its training where it stopped: the
optimizer state and the schedule's position are part of the file. See
:ref:`persistence` for pickle, joblib and what is safe to load.
"""

# %%
# A fitted pipeline
# -----------------
# A logistic regression on the digits, trained for 15 epochs with Adam and a
# step-decay schedule.
import shutil
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import skops.io as sio
from sklearn.datasets import load_digits
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sklr
from sklr import LogisticClassifier

X, y = load_digits(return_X_y=True)
model = make_pipeline(
    StandardScaler(),
    LogisticClassifier(optimizer="adam", learning_rate=1e-2, schedule="step",
                       max_iter=15, tol=None, random_state=0),
).fit(X, y)

# %%
# Saving, and what loading needs to trust
# ---------------------------------------
# ``get_untrusted_types`` reads the file, without loading it, and lists the
# types skops does not trust by default: here exactly sklr's own.
folder = Path(tempfile.mkdtemp())
path = folder / "model.skops"
sio.dump(model, path)

untrusted = sio.get_untrusted_types(file=path)
print("\n".join(untrusted))
assert set(untrusted) <= set(sklr.get_trusted_types())

# %%
# Without ``trusted=``, loading refuses the file and names the types:
try:
    sio.load(path)
except sio.exceptions.UntrustedTypesFoundException as error:
    print(f"{type(error).__name__}: {error}")

# %%
# Loading with sklr's list
# ------------------------
# The loaded pipeline predicts exactly what the saved one did.
loaded = sio.load(path, trusted=sklr.get_trusted_types())
assert np.array_equal(loaded.predict(X), model.predict(X))
print(f"accuracy of the loaded model: {loaded.score(X, y):.4f}")

# %%
# Training on where it stopped
# ----------------------------
# With ``warm_start=True``, ``fit`` continues from the saved weights,
# optimizer state and schedule position: five more epochs on the loaded model
# give exactly the curve that five more epochs give the model still in
# memory.
for pipeline in (model, loaded):
    pipeline.set_params(logisticclassifier__warm_start=True,
                        logisticclassifier__max_iter=5).fit(X, y)
assert np.allclose(loaded[-1].loss_curve_, model[-1].loss_curve_)

fig, ax = plt.subplots(layout="constrained")
epochs = np.arange(1, len(loaded[-1].loss_curve_) + 1)
ax.plot(epochs[:15], loaded[-1].loss_curve_[:15], "o-", label="before saving")
ax.plot(epochs[14:], loaded[-1].loss_curve_[14:], "o-",
        label="after loading (warm start)")
ax.set(xlabel="epoch", ylabel="training loss", yscale="log",
       title="Training continues from the saved state")
ax.legend()
plt.show()

shutil.rmtree(folder)
