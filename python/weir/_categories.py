"""The one text a category has, shared with the C loader and transforms.

A number given to a categorical feature is written "%lld" when it is integral
(and below 2**63 in magnitude), "%.17g" otherwise: 1, 1.0 and numpy.float64(1)
are all "1", 0.1 is "0.10000000000000001". pandas reads an integer column with
a missing value as float, so the categories a model learned as 1.0 must reach
the bundle as "1", the text an event's 1 becomes in weir. libweir's
weir_category_format() is the same function; a test checks that they agree.
"""
import math
import numbers

__all__ = ["category_string", "is_missing"]


def is_missing(value):
    """None, NaN, pandas.NA and NaT: what a missing value looks like in a frame."""
    if value is None:
        return True
    try:
        import pandas
        if value is pandas.NA or value is pandas.NaT:
            return True
    except ImportError:  # pragma: no cover
        pass
    return isinstance(value, float) and math.isnan(value)


def category_string(value):
    """The category text of @value, or None for a missing value."""
    if is_missing(value):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, (bool,)) or type(value).__name__ == "bool_":
        return "1" if value else "0"
    if isinstance(value, numbers.Integral):
        value = float(value)  # weir reads an Avro long as a double: the same rounding
    if isinstance(value, numbers.Real):
        x = float(value)
        if math.isnan(x):
            return None
        if math.isinf(x):
            raise ValueError("an infinite number is not a category")
        if x == math.trunc(x) and abs(x) < 2.0 ** 63:
            return "%d" % int(x)
        return "%.17g" % x
    return str(value)
