"""``skadapt.save``: a fitted model as safetensors, JSON and skops files, never a pickle."""

import json
import os
import warnings

from ._format import write_manifest
from ._json import to_json
from ._staging import check_target_folder, staged

# Fitted attributes that are saved as files of their own, not as JSON.
_HELD_APART = ("backbone_", "net_", "history_", "module_", "table_preprocessor_")


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
        (``best_estimator_``), which ``load`` returns.
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
    model = unwrap_chosen(model)
    _check_supported(model)
    check_is_fitted(model)
    with staged(folder) as staging:
        node = _write_node(model, staging, "model")
        write_manifest(staging, node, runtime="torch", metadata=metadata)
    return folder


def unwrap_chosen(model):
    """An estimator that chose a model (``AutoClassifier``) is saved as that model."""
    chosen = getattr(model, "_skadapt_saved_model", None)
    return chosen() if callable(chosen) else model


def _skadapt_classes():
    from ..estimators import (
        FineTunedClassifier,
        FineTunedRegressor,
        PretrainedFeaturizer,
        ScratchClassifier,
        ScratchRegressor,
    )

    return {c.__name__: c for c in (PretrainedFeaturizer, FineTunedClassifier, ScratchClassifier,
                                    FineTunedRegressor, ScratchRegressor)}


def _is_skadapt(obj):
    return type(obj) in _skadapt_classes().values()


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
    from ..backbones._exported import write_backbone

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
    fitted = {k: v for k, v in vars(estimator).items() if k not in params and k not in _HELD_APART}
    try:
        fitted = to_json(fitted)
    except TypeError as exc:
        raise ValueError(f"a fitted attribute of {type(estimator).__name__} cannot be saved as JSON ({exc}).") from None
    folder = os.path.join(staging, *path.split("/"))
    os.makedirs(os.path.join(folder, "backbone"))
    node = {"type": "skadapt", "class": type(estimator).__name__, "params": _params_json(params, estimator),
            "fitted": fitted, "backbone": f"{path}/backbone"}
    trained_by = {"estimator": type(estimator).__name__, "backbone": estimator.backbone}
    if getattr(estimator, "table_preprocessor_", None) is not None:  # a table's other columns: sklearn steps
        node["table_preprocessor"] = _write_skops(estimator.table_preprocessor_, staging, f"{path}/table")
    if hasattr(estimator, "module_"):  # PretrainedFeaturizer: the frozen backbone is the whole model
        write_backbone(estimator.backbone_, estimator.module_, os.path.join(folder, "backbone"),
                       estimator.backbone, trained_by)
        return node
    from safetensors.torch import save_file

    module = estimator.net_.module_
    write_backbone(estimator.backbone_, module.backbone, os.path.join(folder, "backbone"), estimator.backbone,
                   trained_by)
    head = {f"head.{k}": t.detach().cpu().contiguous() for k, t in module.head.state_dict().items()}
    if module.pool is not None:  # attention pooling of chunked long texts has weights of its own
        head.update({f"pool.{k}": t.detach().cpu().contiguous() for k, t in module.pool.state_dict().items()})
    save_file(head, os.path.join(folder, "head.safetensors"))
    with open(os.path.join(folder, "history.json"), "w", encoding="utf-8") as file:
        json.dump(to_json(estimator.history_.to_list()), file)
    node.update(head=f"{path}/head.safetensors", history=f"{path}/history.json",
                n_outputs=int(module.head[-1].out_features), n_table=int(module.n_table),
                criterion=_criterion_tensors(estimator.net_.criterion_))
    return node


def _criterion_tensors(criterion):
    """The loss's class weights (plain lists), so a loaded model trains on as the saved one did."""
    return {name: buffer.detach().cpu().tolist() for name, buffer in criterion.named_buffers()}


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
