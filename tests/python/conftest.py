"""Shared by the Python tests: the cases on the path, the weir binary, and
the tolerances of the issue: 1e-6 relative for linear and MLP models, 1e-5
for trees (relative to the larger of 1 and the library's value)."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

DENSE_TOLERANCE = 1e-6
TREE_TOLERANCE = 1e-5


@pytest.fixture(scope="session")
def weir_binary():
    path = os.environ.get("WEIR_BINARY")
    if not path or not os.access(path, os.X_OK):
        pytest.fail("WEIR_BINARY must name the weir binary (scripts/python-tests.sh sets it)")
    return path


def tolerance(case):
    import cases
    return DENSE_TOLERANCE if case in cases.DENSE else TREE_TOLERANCE


def relative_difference(own, got):
    import numpy as np
    own = np.asarray(own, dtype=np.float64)
    got = np.asarray(got, dtype=np.float64)
    return float(np.max(np.abs(own - got) / np.maximum(1.0, np.abs(own))))
