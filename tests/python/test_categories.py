"""One category text for numbers, in Python and in libweir, and what the
loader says about categories the events will not match."""
import json
import math

import numpy as np
import pytest

import weir
from weir._engine import c_category_string

VALUES = [0, 1, -1, 7.0, 1.0, 0.1, -0.0, 2.5, 1e15, 1e16, 123456789012345678, 2.0 ** 63,
          -2.0 ** 63, 1e300, 5e-324, 3.141592653589793, np.float32(0.1), np.int64(42),
          np.float64(-3.0), True, False, 1 / 3]


@pytest.mark.parametrize("value", VALUES)
def test_python_and_libweir_write_a_number_the_same(value):
    assert weir.category_string(value) == c_category_string(float(value))


def test_missing_values_have_no_text():
    for v in (None, float("nan"), np.nan):
        assert weir.category_string(v) is None


def bundle(categories, reference=None):
    b = {"format": "weir.model/1", "name": "c", "version": "1", "task": "regression",
         "features": [{"name": "code", "source": "code", "type": "categorical",
                       "transform": [{"op": "one_hot", "categories": categories,
                                      "unknown": "ignore"}]}],
         "model": {"kind": "linear", "weights": [1.0, 2.0, 4.0][:len(categories)], "bias": 0}}
    if reference:
        b["reference"] = {"features": {"code": {"n": 100, "categories": reference}}}
    return json.dumps(b)


def test_a_bundle_written_with_1_0_still_matches_an_event_s_1():
    import pandas as pd
    b = weir.Bundle(text=bundle(["1.0", "2.0", "3.5"]))
    frame = pd.DataFrame({"code": [1, 2, 3.5, 4]})
    assert list(b.predict(frame)) == [1.0, 2.0, 4.0, 0.0]
    text = pd.DataFrame({"code": ["1.0", "1", "2.0", "x"]})
    assert list(b.predict(text)) == [1.0, 1.0, 2.0, 0.0]


def test_the_loader_warns_when_the_reference_s_categories_are_not_listed():
    b = weir.Bundle(text=bundle(["a", "b"], reference={"1.0": 0.5, "2.0": 0.3, "a": 0.2}))
    assert len(b.warnings) == 1
    assert "80.0% of the reference's values" in b.warnings[0]
    quiet = weir.Bundle(text=bundle(["1.0", "2.0"], reference={"1": 0.7, "2": 0.3}))
    assert quiet.warnings == []
