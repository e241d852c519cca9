"""Targets: what ``y`` may be for each task, checked before torch sees it.

sklearn decides what kind of target ``y`` is (``type_of_target``) and
computes class weights (``compute_class_weight``); this module turns its
answers into skadapt's one-sentence errors and into the arrays the
network trains on.
"""

import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_consistent_length, column_or_1d

from .._texts import _is_pandas_na

REGRESSORS = "FineTunedRegressor or ScratchRegressor"


@dataclass
class Targets:
    """``y`` made ready for the network, plus what the estimator keeps of it.

    ``encoded`` is what skorch trains on; ``attributes`` become the fitted
    estimator's attributes once training has succeeded.
    """

    encoded: np.ndarray
    n_outputs: int
    attributes: dict = field(default_factory=dict)
    class_weight: np.ndarray | None = None  # per class, or (2, n_labels): negative and positive weights
    stratify: bool = False  # whether an early-stopping split can be stratified on ``encoded``


def _missing_mask(y):
    if y.dtype.kind == "f":
        return np.isnan(y)
    if y.dtype == object:
        return np.array([_is_missing(v) for v in y.ravel()]).reshape(y.shape)
    return np.zeros(y.shape, dtype=bool)


def _is_missing(value):
    return value is None or (isinstance(value, float) and value != value) or _is_pandas_na(value)


def _check_present(y, estimator_kind):
    if y is None:
        raise ValueError(f"This {estimator_kind} requires y to be passed, but the target y is None.")


def _check_list_missing(y):
    """Missing labels in a Python list, before numpy sees them: ``np.asarray(["a", nan])``
    is ``["a", "nan"]``, and ``'nan'`` would become a class (``df["label"].tolist()``)."""
    if isinstance(y, (list, tuple)):
        for i, value in enumerate(y):
            if not isinstance(value, str) and _is_missing(value):
                raise ValueError(f"Input y contains NaN or None (at row {i}); drop the rows with missing labels first.")


def _first_missing(missing):
    return int(np.flatnonzero(missing.reshape(len(missing), -1).any(axis=1))[0])


def _dense(y):
    """``y`` as an array: sparse matrices (``MultiLabelBinarizer(sparse_output=True)``) and
    DataFrames densified, object arrays of plain numbers or bools made numeric."""
    import scipy.sparse

    if scipy.sparse.issparse(y):
        return y.toarray()
    if hasattr(y, "iloc") and getattr(y, "ndim", 1) == 2:  # a DataFrame, maybe of mixed or nullable dtypes
        y = y.to_numpy(dtype=object)
    if isinstance(y, np.ndarray) and y.dtype == object and y.size and all(
        isinstance(v, (bool, int, float, np.bool_, np.integer, np.floating)) for v in y.ravel()
    ):
        return np.asarray(y.tolist())
    return y


def _is_label_lists(y):
    """Whether ``y`` is a sequence of label sequences (``[["a", "b"], ["c"]]``)."""
    if isinstance(y, np.ndarray) and y.ndim == 2:  # a matrix of label names, not of 0/1
        return y.shape[1] > 1 and (y.dtype.kind in "US" or (
            y.dtype == object and any(isinstance(v, str) for v in y.ravel()[:100])))
    if isinstance(y, np.ndarray) and y.dtype != object:
        return False
    items = list(y[:50]) if isinstance(y, (list, tuple, np.ndarray)) else []
    nested = [item for item in items if isinstance(item, (list, tuple, set, frozenset, np.ndarray))]
    if not nested:
        return False
    if len({len(item) for item in items if hasattr(item, "__len__")}) > 1 or any(isinstance(i, (set, frozenset)) for i in nested):
        return True
    return any(isinstance(v, str) for item in nested for v in item)


def check_classification_targets(y, n_samples):
    """Check a classifier's ``y``: a label vector, or a 0/1 indicator matrix (multi-label)."""
    _check_present(y, "classifier")
    _check_list_missing(y)
    y = _dense(y)
    if _is_label_lists(y):
        raise ValueError(
            "y looks like a list of label lists; for multi-label classification give a 0/1 indicator "
            "matrix, e.g. y = sklearn.preprocessing.MultiLabelBinarizer().fit_transform(y)."
        )
    array = np.asarray(y) if not isinstance(y, np.ndarray) else y
    if array.ndim == 2 and array.shape[1] > 1:
        return _multilabel(array, n_samples)
    return _single_label(y, n_samples)


def _check_labels_present(y, n_samples):
    """As many rows as ``X``, none of them missing (NaN, None, pandas NA)."""
    check_consistent_length(np.empty(n_samples), y)
    missing = _missing_mask(y)
    if missing.any():
        raise ValueError(
            f"Input y contains NaN or None (at row {_first_missing(missing)}); "
            "drop the rows with missing labels first."
        )


def _single_label(y, n_samples):
    y = _dense(column_or_1d(y, warn=True))
    _check_labels_present(y, n_samples)
    kind = type_of_target(y)
    if kind == "continuous":
        raise ValueError(
            f"Unknown label type: continuous. y holds continuous values (e.g. {y[0]!r}), which a "
            f"classifier cannot learn; to predict a score use {REGRESSORS}."
        )
    if kind not in ("binary", "multiclass"):
        raise ValueError(f"Unknown label type: {kind}. y must be a vector of labels.")
    try:
        classes, encoded = np.unique(y, return_inverse=True)
    except TypeError:
        raise ValueError(
            "y mixes label types that cannot be sorted (e.g. strings and numbers); use one type."
        ) from None
    if len(classes) < 2:
        raise ValueError(
            f"y contains only one class ({classes.tolist()[0]!r}); a classifier needs at least two classes."
        )
    return Targets(encoded.astype(np.int64).ravel(), len(classes), {"classes_": classes, "multilabel_": False},
                   stratify=True)


def _multilabel(y, n_samples):
    _check_labels_present(y, n_samples)
    values = np.unique(y.astype(np.float64, copy=False)) if y.dtype.kind in "biuf" else None
    if values is None or not set(values.tolist()) <= {0.0, 1.0}:
        shown = "non-numeric values" if values is None else f"the values {values[:5].tolist()}"
        raise ValueError(
            f"A 2-D y is read as multi-label and must be a 0/1 indicator matrix, but it holds {shown}; "
            "use sklearn.preprocessing.MultiLabelBinarizer to build one, or a regressor "
            f"({REGRESSORS}) for several numeric targets."
        )
    encoded = y.astype(np.float32)
    positives = encoded.sum(axis=0)
    constant = {int(j): 0 for j in np.flatnonzero(positives == 0)}
    constant.update({int(j): 1 for j in np.flatnonzero(positives == len(encoded))})
    if constant:
        never = [j for j, value in constant.items() if value == 0]
        always = [j for j, value in constant.items() if value == 1]
        parts = ([f"label column(s) {never} have no positive row and will always be predicted 0"] if never else []) + \
                ([f"label column(s) {always} are positive in every row and will always be predicted 1"] if always else [])
        warnings.warn("In the training y, " + "; ".join(parts) + ".", UserWarning, stacklevel=5)
    n_labels = y.shape[1]
    attributes = {
        "classes_": np.arange(n_labels),
        "multilabel_": True,
        "_label_dtype": y.dtype,
        "_constant_labels": constant,
    }
    return Targets(encoded, n_labels, attributes)


def class_weights(class_weight, targets):
    """sklearn's ``class_weight`` as arrays for the loss.

    Single-label: one weight per class, as ``LogisticRegression`` reads it.
    Multi-label: a ``(2, n_labels)`` array of the negative and positive rows'
    weights per label column, as ``OneVsRestClassifier(LogisticRegression(
    class_weight=...))`` reads it: ``"balanced"`` per column
    (``n / (2 * count)``), one ``{0: w0, 1: w1}`` dict for every column, or
    a list of such dicts, one per column (sklearn's multi-output form).
    """
    if class_weight is None:
        return None
    balanced = isinstance(class_weight, str) and class_weight == "balanced"
    if not targets.attributes["multilabel_"]:
        if not (balanced or isinstance(class_weight, dict)):
            raise ValueError(
                f"class_weight must be None, 'balanced' or a dict mapping a class to its weight, got {class_weight!r}."
            )
        classes = targets.attributes["classes_"]
        if isinstance(class_weight, dict):
            unknown = [c for c in class_weight if c not in set(classes.tolist())]
            if unknown:
                raise ValueError(
                    f"class_weight names classes that are not in y: {unknown[:5]}; the classes are {classes.tolist()[:10]}."
                )
            _check_weights(class_weight.values())
        return compute_class_weight(class_weight, classes=classes, y=classes[targets.encoded])
    y = targets.encoded
    n_labels = y.shape[1]
    if balanced:
        weights = np.ones((2, n_labels))
        for j in range(n_labels):
            if 0 < y[:, j].sum() < len(y):  # a constant column has nothing to balance
                weights[:, j] = compute_class_weight("balanced", classes=np.array([0, 1]), y=y[:, j].astype(int))
        return weights
    per_column = [class_weight] * n_labels if isinstance(class_weight, dict) else class_weight
    if not (isinstance(per_column, (list, tuple)) and len(per_column) == n_labels
            and all(isinstance(d, dict) and set(d) <= {0, 1} for d in per_column)):
        raise ValueError(
            "For multi-label y, class_weight must be None, 'balanced', a dict {0: w0, 1: w1} of the weights of "
            f"each label's negative and positive rows, or a list of {n_labels} such dicts, one per label column; "
            f"got {class_weight!r}."
        )
    weights = np.array([[d.get(0, 1.0) for d in per_column], [d.get(1, 1.0) for d in per_column]])
    _check_weights(weights.ravel())
    return weights.astype(np.float64)


def _check_weights(values):
    try:
        values = np.asarray(list(values), dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("class_weight must give numbers as weights.") from None
    if not np.all(np.isfinite(values)) or (values < 0).any():
        raise ValueError("class_weight must give finite, non-negative weights.")


def check_regression_targets(y, n_samples):
    """Check a regressor's ``y``: floats of shape ``(n,)`` or ``(n, k)``, no NaN or inf."""
    array = _regression_array(y, n_samples)
    matrix = array.reshape(len(array), -1)
    # StandardScaler also leaves a (near-)constant output unscaled: it is predicted as its constant
    scaler = StandardScaler().fit(matrix)
    encoded = scaler.transform(matrix).astype(np.float32)
    attributes = {"n_outputs_": matrix.shape[1], "target_mean_": scaler.mean_, "target_scale_": scaler.scale_,
                  "_y_ndim": array.ndim}
    return Targets(encoded, matrix.shape[1], attributes)


def encode_regression_targets(y, n_samples, estimator):
    """A later batch's ``y``, scaled as the first fit's was (``partial_fit``, ``warm_start``)."""
    matrix = _regression_array(y, n_samples).reshape(n_samples, -1)
    check_n_outputs(matrix, estimator.n_outputs_, estimator)
    return ((matrix - estimator.target_mean_) / estimator.target_scale_).astype(np.float32)


def encode_classification_targets(y, n_samples, estimator):
    """A later batch's labels, encoded against the first fit's ``classes_`` (``partial_fit``, ``warm_start``)."""
    _check_present(y, "classifier")
    _check_list_missing(y)
    y = _dense(y)
    if estimator.multilabel_:
        array = np.asarray(y)
        if array.ndim != 2 or array.shape[1] != len(estimator.classes_) or not np.isin(array, (0, 1)).all():
            raise ValueError(
                f"y must be a 0/1 indicator matrix of {len(estimator.classes_)} columns, as in the first fit; "
                f"got an array of shape {array.shape}."
            )
        _check_labels_present(array, n_samples)
        return array.astype(np.float32)
    return encode_labels(column_or_1d(y, warn=True), n_samples, estimator.classes_)


def encode_labels(y, n_samples, classes):
    """``y``'s position in the sorted ``classes``; a label outside them is an error that names it."""
    _check_labels_present(y, n_samples)
    unseen = ~np.isin(y, classes)
    if unseen.any():
        label = y[np.flatnonzero(unseen)[0]]
        raise ValueError(
            f"y holds the label {getattr(label, 'item', lambda: label)()!r}, which is not among the classes "
            f"{classes.tolist()} fixed by the first fit; a later fit cannot add a class (give partial_fit every "
            "class in classes= on its first call)."
        )
    return np.searchsorted(classes, y).astype(np.int64)


def _regression_array(y, n_samples):
    """``y`` as float64 of shape ``(n,)`` or ``(n, k)``: numbers, no NaN or inf."""
    _check_present(y, "regressor")
    try:
        array = np.asarray(_dense(y))
    except ValueError:
        raise ValueError("y must be an array of numbers of shape (n_samples,) or (n_samples, n_outputs).") from None
    if array.dtype.kind in "OUSc":
        if array.dtype == object:
            try:
                array = array.astype(np.float64)
            except (TypeError, ValueError):
                array = None
        else:
            array = None
        if array is None:
            raise ValueError(
                "A regressor needs numeric y, but y holds strings or other non-numbers; to predict labels use "
                "FineTunedClassifier or ScratchClassifier."
            )
    if array.ndim not in (1, 2) or (array.ndim == 2 and array.shape[1] == 0):
        raise ValueError(f"y must have shape (n_samples,) or (n_samples, n_outputs), got {array.shape}.")
    check_consistent_length(np.empty(n_samples), array)
    array = array.astype(np.float64)
    bad = ~np.isfinite(array)
    if bad.any():
        raise ValueError(
            f"Input y contains NaN or infinity (at row {_first_missing(bad)}); drop or fill those rows first."
        )
    return array


def check_n_outputs(y, n_outputs, estimator):
    """At ``score`` time, ``y`` must have as many outputs (labels) as in ``fit``."""
    if y is None:
        return
    try:
        shape = np.shape(y)
    except ValueError:  # ragged: not a matrix at all
        raise ValueError("y must be an array of shape (n_samples,) or (n_samples, n_outputs).") from None
    got = 1 if len(shape) < 2 else shape[1]
    if got != n_outputs:
        what = "label columns" if getattr(estimator, "multilabel_", False) else "outputs"
        raise ValueError(
            f"y has {got} {what}, but {type(estimator).__name__} was fitted with {n_outputs}; "
            "score it on a y of the same shape as in fit."
        )
