"""Learning-rate search: lockstep searches, epoch halving and learning-rate grids."""

from sklr.model_selection._grid import learning_rate_grid
from sklr.model_selection._halving import HalvingEpochSearchCV
from sklr.model_selection._lockstep import (
    LockstepGridSearchCV,
    LockstepRandomizedSearchCV,
)

__all__ = [
    "HalvingEpochSearchCV",
    "LockstepGridSearchCV",
    "LockstepRandomizedSearchCV",
    "learning_rate_grid",
]
