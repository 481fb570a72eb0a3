"""sklr.model_selection.learning_rate_grid."""

import numpy as np
import pytest

from sklr.model_selection import learning_rate_grid


def test_log_spaced_with_exact_end_points():
    grid = learning_rate_grid(1e-4, 1.0, 9)
    assert grid.shape == (9,)
    assert grid[0] == 1e-4 and grid[-1] == 1.0
    np.testing.assert_allclose(np.diff(np.log10(grid)), 0.5)


def test_decades():
    np.testing.assert_allclose(learning_rate_grid(1e-3, 1e-1, 3), [1e-3, 1e-2, 1e-1])


def test_single_value_is_low():
    np.testing.assert_array_equal(learning_rate_grid(0.01, 1.0, 1), [0.01])


@pytest.mark.parametrize("low, high, n, match", [
    (0.0, 1.0, 3, "low"),
    (-1.0, 1.0, 3, "low"),
    (1e-3, np.inf, 3, "high"),
    (1.0, 0.1, 3, "smaller"),
    (0.1, 0.1, 3, "smaller"),
    (1e-3, 1.0, 0, "n must"),
    (1e-3, 1.0, 2.5, "n must"),
    (1e-3, 1.0, True, "n must"),
    ("a", 1.0, 3, "low"),
])
def test_invalid_arguments(low, high, n, match):
    with pytest.raises(ValueError, match=match):
        learning_rate_grid(low, high, n)
