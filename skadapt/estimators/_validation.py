"""Input and parameter checks: one clear ``ValueError`` per problem, before torch sees anything."""

import re

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import validate_data

from .._texts import check_texts


def looks_like_text(X):
    """Whether ``X`` holds strings, for a friendly error from numeric backbones."""
    if isinstance(X, (str, bytes)):
        return True
    if hasattr(X, "dtypes") and hasattr(X, "iloc"):  # DataFrame
        return any(dt.kind in "OUS" and X[c].map(lambda v: isinstance(v, str)).any() for c, dt in X.dtypes.items())
    if isinstance(X, np.ndarray):
        return X.dtype.kind in "US" or (X.dtype == object and any(isinstance(v, str) for v in X.ravel()[:1000]))
    if isinstance(X, (list, tuple)) and X:
        return isinstance(X[0], str)
    return False


def check_arrays(estimator, X, backbone, *, reset):
    """Validate a numeric matrix with sklearn, after a clearer error for text."""
    if looks_like_text(X):
        raise ValueError(
            f"backbone {backbone!r} expects a numeric 2-D array, got text; use a text backbone "
            "such as 'textcnn' or 'minilm'."
        )
    return validate_data(estimator, X, reset=reset, dtype=[np.float32, np.float64])


def check_width(recipe, X, backbone):
    """A numeric ``X`` as wide as a recipe with a fixed input width (an exported one) requires."""
    width = recipe.input_width()
    if width is not None and X.ndim == 2 and X.shape[1] != width:
        raise ValueError(
            f"X has {X.shape[1]} features, but backbone {backbone!r} takes {width} per row (the width it was "
            "trained on)."
        )


def check_input(estimator, X, input_kind, *, reset):
    """Validate ``X`` for a backbone of ``input_kind``: texts, a numeric matrix
    or images (returned as a list of ``(H, W, C)`` float arrays)."""
    if input_kind == "array":
        return check_arrays(estimator, X, estimator.backbone, reset=reset)
    if reset:  # left over from an earlier fit on a numeric backbone
        estimator.__dict__.pop("n_features_in_", None)
    if input_kind == "image":
        from ..images import load_images

        if looks_like_text(X) and not _all_paths(X):
            raise ValueError(
                f"backbone {estimator.backbone!r} expects images, got text; give image file paths, "
                "PIL images or an array, or use a text backbone such as 'minilm'."
            )
        return load_images(X, estimator.backbone)
    return check_texts(X, estimator.backbone)


def _all_paths(X):
    """Whether a list of strings reads as file paths (some exist or carry an image suffix)."""
    import os

    from ..images import IMAGE_SUFFIXES

    items = X.tolist() if isinstance(X, np.ndarray) else X
    if isinstance(items, (str, bytes)) or not isinstance(items, (list, tuple)) or not items:
        return hasattr(X, "iloc")  # a column of paths; load_images says if they are not
    sample = items[:20]
    return any(isinstance(p, str) and ("/" in p or os.sep in p or os.path.exists(p)
                                       or os.path.splitext(p)[1].lower() in IMAGE_SUFFIXES)
               for p in sample)



def set_input_tags(tags, backbone):
    """Declare text or 2-D numeric input from the backbone's kind.

    sklearn runs its common checks only for 2-D numeric input, so ``mlp``
    configurations get all of them. An unknown backbone is reported by
    ``fit``, not while computing tags.
    """
    from ..registry import get_backbone

    try:
        kind = get_backbone(backbone).input_kind
    except (ValueError, KeyError):
        kind = "text"
    tags.input_tags.two_d_array = kind == "array"
    tags.input_tags.string = kind == "text"
    tags.input_tags.three_d_array = kind == "image"
    return tags


class NotBool(Interval):
    """sklearn's ``Interval`` without bools, which it counts as ints (``True`` is 1): for parameters
    where ``True`` would be a mistake rather than a number."""

    def is_satisfied_by(self, val):
        return not isinstance(val, (bool, np.bool_)) and super().is_satisfied_by(val)


class NotedOptions(StrOptions):
    """``StrOptions`` whose error message also says why another value is not among them."""

    def __init__(self, options, note):
        super().__init__(options)
        self.note = note

    def __str__(self):
        return f"{super().__str__()} ({self.note})"


class DeviceOptions(StrOptions):
    """``device``: one of sklearn's ``StrOptions``, or ``"cuda:N"``, which a set cannot list."""

    def __init__(self):
        super().__init__({"auto", "cpu", "cuda", "mps"})

    def is_satisfied_by(self, val):
        return super().is_satisfied_by(val) or (isinstance(val, str) and re.fullmatch(r"cuda:\d+", val) is not None)

    def __str__(self):
        return f"{super().__str__()} or 'cuda:N'"


def check_sample_weight(sample_weight, n_samples):
    """``sample_weight`` as float64 ``(n_samples,)``, or None; all ones is None (the same fit, exactly).

    sklearn's ``_check_sample_weight`` says what is wrong with the shape, the
    length, a negative or infinite weight, or weights that are all 0.
    """
    from sklearn.utils.validation import _check_sample_weight

    if sample_weight is None:
        return None
    weights = _check_sample_weight(sample_weight, np.empty((n_samples, 0)), dtype=np.float64, ensure_non_negative=True)
    return None if np.all(weights == 1.0) else weights
