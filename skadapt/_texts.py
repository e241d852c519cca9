"""Checking that ``X`` is a list of texts: shared by the estimators and by ONNX serving.

A leaf module (numpy only), so that serving checks input exactly as the
estimators do without importing scikit-learn.
"""

import numpy as np


def check_texts(X, backbone):
    """Return ``X`` as a list of ``str``; reject anything that is not a list of texts."""
    if isinstance(X, (str, bytes)):
        raise ValueError(
            "X must be a list of texts, got a single string; wrap one text in a list: [text]."
        )
    if hasattr(X, "iloc") and getattr(X, "ndim", 1) == 2:  # a one-column DataFrame is fine
        if X.shape[1] != 1:
            raise ValueError(
                f"X must be a list of texts or a one-column DataFrame, got a DataFrame with "
                f"{X.shape[1]} columns; select the text column, e.g. X['text']."
            )
        X = X.iloc[:, 0]
    shape = getattr(X, "shape", None)
    if shape is not None and len(shape) == 2 and shape[1] == 1 and getattr(X, "dtype", None) is not None and X.dtype.kind in "OUS":
        X = np.asarray(X).ravel()
        shape = X.shape
    dtype = getattr(X, "dtype", None)
    if shape is not None and (len(shape) != 1 or (dtype is not None and dtype.kind in "biufc")):
        raise ValueError(
            f"backbone {backbone!r} expects text (a list of strings), got a numeric array of "
            f"shape {tuple(shape)}; use backbone='mlp' for numeric features."
        )
    try:
        texts = list(X)
    except TypeError:
        raise ValueError(f"X must be a list of texts, got {type(X).__name__}.") from None
    if not texts:
        raise ValueError("X is empty; at least one text is needed.")
    for i, text in enumerate(texts):
        if isinstance(text, str):
            continue
        if text is None or (isinstance(text, float) and text != text) or _is_pandas_na(text):
            raise ValueError(
                f"X[{i}] is missing ({text!r}); drop or fill the rows with missing text first."
            )
        if not any(isinstance(t, str) for t in texts):
            raise ValueError(
                f"backbone {backbone!r} expects text (a list of strings), got "
                f"{type(text).__name__} items; use backbone='mlp' for numeric features."
            )
        raise ValueError(
            f"X[{i}] is a {type(text).__name__} ({str(text)[:40]!r}), but backbone {backbone!r} "
            "expects every item of X to be a string."
        )
    return [str(t) for t in texts]  # plain str, also for numpy.str_


def _is_pandas_na(value):
    try:
        import pandas as pd
    except ImportError:
        return False
    return value is pd.NA or value is pd.NaT
