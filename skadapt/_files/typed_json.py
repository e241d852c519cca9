"""Plain data as JSON: parameters, fitted attributes, backbone options and state.

``json`` alone would turn arrays into lists (losing their dtype), tuples into
lists and integer dict keys into strings; the tagged forms below keep them, so
that what is loaded equals what was saved. Only data is written: anything
else is a ``TypeError``, never a pickle.
"""

import numpy as np


def to_json(value):
    """``value`` as JSON-ready data; arrays, dtypes, tuples and non-string keys keep their type."""
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            return {"__ndarray__": [to_json(v) for v in value.ravel().tolist()], "dtype": "object",
                    "shape": list(value.shape)}
        if value.dtype.kind not in "biufUS":
            raise TypeError(f"arrays of dtype {value.dtype} are not plain data")
        return {"__ndarray__": value.tolist(), "dtype": value.dtype.str, "shape": list(value.shape)}
    if isinstance(value, np.dtype):
        if value.kind not in "biufUSO":
            raise TypeError(f"dtype {value} is not plain data")
        return {"__dtype__": value.str if value.kind != "O" else "object"}
    if isinstance(value, tuple):
        return {"__tuple__": [to_json(v) for v in value]}
    if isinstance(value, list):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            if any(k.startswith("__") and k.endswith("__") for k in value):  # would read as a tag
                return {"__items__": [[k, to_json(v)] for k, v in value.items()]}
            return {k: to_json(v) for k, v in value.items()}
        return {"__items__": [[to_json(k), to_json(v)] for k, v in value.items()]}
    if isinstance(value, np.generic):
        return to_json(value.item())
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"{type(value).__name__} is not plain data")


def from_json(value):
    """The inverse of :func:`to_json`."""
    if isinstance(value, list):
        return [from_json(v) for v in value]
    if isinstance(value, dict):
        if "__ndarray__" in value:
            shape = tuple(value.get("shape", (len(value["__ndarray__"]),)))
            if value["dtype"] == "object":
                flat = np.empty(len(value["__ndarray__"]), dtype=object)
                flat[:] = [from_json(v) for v in value["__ndarray__"]]
                return flat.reshape(shape)
            return np.asarray(value["__ndarray__"], dtype=np.dtype(value["dtype"])).reshape(shape)
        if "__dtype__" in value:
            return np.dtype(value["__dtype__"] if value["__dtype__"] != "object" else object)
        if "__tuple__" in value:
            return tuple(from_json(v) for v in value["__tuple__"])
        if "__items__" in value:
            return {_hashable(from_json(k)): from_json(v) for k, v in value["__items__"]}
        return {k: from_json(v) for k, v in value.items()}
    return value


def _hashable(key):
    return tuple(key) if isinstance(key, list) else key
