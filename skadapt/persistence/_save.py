"""``skadapt.save``: a fitted model as safetensors, JSON and skops files, never a pickle."""

import os
import warnings

from .._files.manifest import write_manifest
from .._files.typed_json import to_json
from .._files.staging import check_target_folder, staged


def save(model, folder, *, overwrite=False, metadata=None):
    """Save a fitted model to ``folder`` without pickle.

    What is written: the backbone as safetensors weights with its
    configuration and tokeniser files (the format of
    :func:`skadapt.export_backbone`), the new head as safetensors, the
    estimator's parameters and fitted state (labels, target scaling,
    thresholds, training history) as JSON, sklearn steps of a ``Pipeline``
    as skops files, and ``skadapt-model.json``: what the folder holds, the
    library versions, and a SHA-256 digest of every file. The folder is
    written beside its final place and renamed at the end, so a failed save
    leaves nothing behind. :func:`skadapt.load` reads it back.

    Parameters
    ----------
    model : fitted skadapt estimator, or a Pipeline of skadapt and sklearn steps
        ``PretrainedFeaturizer``, ``FineTunedClassifier``, ``ScratchClassifier``,
        ``FineTunedRegressor``, ``ScratchRegressor`` (single-, multi-label,
        multi-output), or a ``Pipeline`` such as ``GridSearchCV(...).best_estimator_``.
        ``AutoClassifier``/``AutoRegressor`` save the model they chose
        (``best_estimator_``), which ``load`` returns. A subclass of a
        skadapt estimator defined at the top level of a module is saved
        too; ``load`` imports it when you name it in ``trusted``.
    folder : str or path
        Created; it must not exist yet or be empty, unless ``overwrite``.
    overwrite : bool, default=False
        Replace what ``folder`` holds (only once the new model is written).
    metadata : dict, default=None
        Plain data (strings, numbers, lists, dicts) kept with the model;
        ``skadapt.persistence.read_metadata(folder)`` returns it.

    Returns
    -------
    str
        The absolute folder.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> import skadapt
    >>> X = np.random.default_rng(0).random((40, 5))
    >>> clf = skadapt.ScratchClassifier("mlp", max_epochs=2, random_state=0).fit(X, np.arange(40) % 2)
    >>> folder = skadapt.save(clf, tempfile.mkdtemp() + "/model")
    >>> (skadapt.load(folder).predict(X) == clf.predict(X)).all()
    np.True_
    """
    from sklearn.utils.validation import check_is_fitted

    folder = check_target_folder(folder, overwrite)
    if metadata is not None and not isinstance(metadata, dict):
        raise ValueError(f"metadata must be a dict or None, got {type(metadata).__name__}.")
    try:
        metadata = to_json(metadata or {})
    except TypeError as exc:
        raise ValueError(f"metadata must be plain data (strings, numbers, lists, dicts): {exc}.") from None
    from ..estimators._state import chosen_model

    model = chosen_model(model)
    _check_supported(model)
    check_is_fitted(model)
    with staged(folder) as staging:
        node = _write_node(model, staging, "model")
        write_manifest(staging, node, runtime="torch", metadata=metadata)
    return folder


def _is_skadapt(obj):
    from ..estimators._state import is_skadapt_estimator

    return is_skadapt_estimator(obj)


def _check_supported(model):
    """One clear error for what cannot be saved, before anything is written."""
    from sklearn.base import BaseEstimator
    from sklearn.pipeline import Pipeline

    if _is_skadapt(model):
        return
    if isinstance(model, Pipeline):
        for name, step in model.steps:
            if step is None or step == "passthrough":
                continue
            if isinstance(step, Pipeline) or _is_skadapt(step):
                _check_supported(step)
            else:
                _check_sklearn_step(step, f"step {name!r}")
        return
    if hasattr(model, "best_estimator_") and _holds_skadapt(model):
        raise ValueError(
            f"model is a {type(model).__name__}; save its best_estimator_ (refitted on all rows) instead."
        )
    if not isinstance(model, BaseEstimator):
        raise ValueError(
            f"model must be a fitted skadapt estimator, a sklearn Pipeline or estimator, got {type(model).__name__}."
        )
    _check_sklearn_step(model, "model")


def _check_sklearn_step(step, where):
    from sklearn.base import BaseEstimator

    if not isinstance(step, BaseEstimator):
        raise ValueError(f"{where} is a {type(step).__name__}, not a sklearn estimator; it cannot be saved.")
    if _holds_skadapt(step):
        raise ValueError(
            f"{where} ({type(step).__name__}) holds a skadapt estimator inside; only Pipeline steps can be "
            "skadapt estimators in a saved model."
        )


def _holds_skadapt(estimator):
    try:
        values = estimator.get_params(deep=True).values()
    except Exception:  # not a well-behaved estimator: skops will say what it cannot save
        return False
    return any(_is_skadapt(v) for v in values) or any(_is_skadapt(v) for v in vars(estimator).values())


def _write_node(obj, staging, path):
    from sklearn.pipeline import Pipeline

    if obj is None or (isinstance(obj, str) and obj == "passthrough"):
        return {"type": "passthrough", "value": obj}
    if isinstance(obj, Pipeline):
        params = {k: v for k, v in obj.get_params(deep=False).items() if k != "steps"}
        steps = [{"name": name, "node": _write_node(step, staging, f"{path}/{i}-{name}")}
                 for i, (name, step) in enumerate(obj.steps)]
        return {"type": "pipeline", "params": _params_json(params, obj), "steps": steps}
    if _is_skadapt(obj):
        return _write_skadapt(obj, staging, path)
    return _write_skops(obj, staging, path)


def _write_skops(obj, staging, path):
    import skops.io

    file = f"{path}.skops"
    target = os.path.join(staging, *file.split("/"))
    os.makedirs(os.path.dirname(target), exist_ok=True)
    skops.io.dump(obj, target)
    # For people reading the manifest: the types load() will be asked to trust.
    return {"type": "skops", "file": file, "class": _qualname(obj),
            "types": sorted(skops.io.get_untrusted_types(file=target))}


def _write_skadapt(estimator, staging, path):
    params = estimator.get_params(deep=False)
    if params.get("callbacks"):
        warnings.warn(
            f"{type(estimator).__name__}'s callbacks are code and are not saved; the loaded model has "
            "callbacks=None (predictions are unaffected).",
            UserWarning,
            stacklevel=4,
        )
        params["callbacks"] = None
    if hasattr(params.get("cache"), "location"):  # a joblib.Memory: its folder means the same
        params["cache"] = str(params["cache"].location)
    node = {"type": "skadapt", "class": _class_name(estimator), "params": _params_json(params, estimator)}
    entries, parts = estimator._write_state(staging, path, params)  # the estimator writes what fit learned
    node.update(entries)
    if parts:  # sklearn objects inside it (a table's preprocessing): skops files, as sklearn steps are
        node["sklearn_parts"] = {name: _write_skops(part, staging, f"{path}/{name}") for name, part in parts.items()}
    return node


def _class_name(estimator):
    """skadapt's own classes by name; a subclass by ``module.Class``, which load imports when trusted."""
    from .. import estimators

    cls = type(estimator)
    if getattr(estimators, cls.__name__, None) is cls:
        return cls.__name__
    if "<locals>" in cls.__qualname__:
        raise ValueError(
            f"model is a {cls.__qualname__}, a class defined inside a function, which load could not import; "
            "define the subclass at the top level of a module to save it."
        )
    return _qualname(estimator)


def _params_json(params, owner):
    out = {}
    for name, value in params.items():
        try:
            out[name] = to_json(value)
        except TypeError:
            raise ValueError(
                f"parameter {name}={value!r} of {type(owner).__name__} cannot be saved as JSON; set it to plain "
                "data (a number, string, list or dict) with set_params before saving."
            ) from None
    return out


def _qualname(obj):
    return f"{type(obj).__module__}.{type(obj).__qualname__}"
