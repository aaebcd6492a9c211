"""What a connector's methods must give back, checked where the bridge
takes it.  A connector that returns the wrong thing gets an error naming
its class, the method and what it returned, instead of an AttributeError
from deep inside the bridge, and never a value quietly converted into
something it was not (2.5 read back as 2).
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from .api import ExternalLink, H5Attribute, H5Object, SoftLink, UserLink

LINK_TARGETS = (H5Object, SoftLink, ExternalLink, UserLink)


def _who(owner, method: str) -> str:
    name = getattr(owner, "name", None)
    where = f" of {name!r}" if isinstance(name, str) and name else ""
    return f"{type(owner).__name__}.{method}(){where}"


def _what(value) -> str:
    if isinstance(value, np.ndarray):
        return f"a {value.dtype} array of shape {value.shape}"
    return type(value).__name__


def _names(expected) -> str:
    types = expected if isinstance(expected, tuple) else (expected,)
    return " or ".join(f"h5pyvol.{t.__name__}" if t.__module__.startswith("h5pyvol") else t.__name__
                       for t in types)


def instance(value, expected, owner, method: str):
    """``value`` if it is an ``expected`` instance, else TypeError."""
    if not isinstance(value, expected):
        raise TypeError(f"{_who(owner, method)} returned {_what(value)}, not an {_names(expected)}")
    return value


def link(group, name: str):
    """``group.get(name)``: an object or a link, else TypeError."""
    return instance(group.get(name), LINK_TARGETS, group, "get")


def attribute(owner, name: str):
    """``owner.get_attribute(name)``: an attribute, else TypeError."""
    return instance(owner.get_attribute(name), H5Attribute, owner, "get_attribute")


def names(owner, method: str = "names") -> list:
    """``owner.names()`` (or ``attribute_names()``) as a list of str, else TypeError."""
    got = getattr(owner, method)()
    try:
        if isinstance(got, (str, bytes)):
            raise TypeError
        items = iter(got)
    except TypeError:
        raise TypeError(f"{_who(owner, method)} returned {_what(got)}, not an iterable of names") from None
    out = []
    for name in items:
        if not isinstance(name, str):
            shown = repr(name).replace("\n", " ")[:60]
            raise TypeError(f"{_who(owner, method)} gave {_what(name)} {shown}, not a name (str)")
        out.append(name)
    return out


def count(value, owner, method: str) -> int:
    """A size or count: a whole number >= 0, else TypeError/ValueError."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{_who(owner, method)} returned {_what(value)}, not a whole number of bytes")
    if value < 0 or value >= 1 << 63:
        raise ValueError(f"{_who(owner, method)} returned {value}, not a size from 0 to 2**63-1")
    return int(value)


def values(value, owner, method: str, shape: tuple, dtype: np.dtype) -> np.ndarray:
    """Elements returned for an array of ``shape`` and ``dtype``: as many
    as it holds, of a kind that converts without loss of meaning (not
    floats into integers, not text into numbers), as an array of
    ``shape``."""
    got = value if isinstance(value, np.ndarray) else _as_array(value, owner, method)
    expected = int(np.prod(shape, dtype=np.int64))
    if got.dtype == object and dtype != object and not (dtype.kind in "SUV" or dtype.fields):
        raise TypeError(f"{_who(owner, method)} returned {_what(value)}, not {dtype} values")
    if got.dtype != object and dtype != object and got.dtype.fields is None and dtype.fields is None:
        if got.dtype.kind in "fc" and dtype.kind in "iub" or got.dtype.kind in "US" and dtype.kind in "iufcb" or \
                got.dtype.kind in "iufcb" and dtype.kind in "US":
            raise TypeError(f"{_who(owner, method)} returned {got.dtype} values for {dtype} elements: "
                            f"convert them first (numpy.asarray(values, dtype))")
    if got.size != expected and got.size != expected * max(1, int(np.prod(dtype.shape or (), dtype=np.int64))):
        raise ValueError(f"{_who(owner, method)} returned {_what(got)} ({got.size} elements) for shape {shape}")
    return got


def _as_array(value, owner, method: str) -> np.ndarray:
    try:
        return np.asarray(value)
    except (ValueError, TypeError) as exc:
        raise TypeError(f"{_who(owner, method)} returned {_what(value)}, which is not an array: {exc}") from None
