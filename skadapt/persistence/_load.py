"""``skadapt.load``: a model folder back into a fitted model, without unpickling anything."""

import os

from .._files.manifest import read_manifest, warn_on_versions
from .._files.typed_json import from_json

# Types that skops files of sklearn steps may hold besides scikit-learn's own
# classes (trusted as a whole: they are installed code that skops rebuilds
# from data, never a pickle). Anything else must be named in load(trusted=...).
SAFE_TYPES = (
    "builtins.slice",
    "collections.OrderedDict",
    "collections.defaultdict",
    "numpy.dtype",
    "numpy.ma.core.MaskedArray",
    "numpy.random.mtrand.RandomState",
    "numpy.random._generator.Generator",
    "scipy.sparse._csr.csr_matrix",
    "scipy.sparse._csc.csc_matrix",
    "scipy.sparse._csr.csr_array",
    "scipy.sparse._csc.csc_array",
)
TRUSTED_MODULE = "sklearn."
# skadapt's own sklearn transformers: their state is plain data and sklearn objects, as sklearn's own is
SKADAPT_TYPES = ("skadapt.tables._columns.OtherColumns", "skadapt.estimators.one_vs_rest.ThresholdedOneVsRest")
TORCH_PACKAGES = ("skadapt", "torch", "scikit-learn", "skorch", "transformers", "sentence-transformers", "skops")


def load(folder, *, trusted=None, runtime=None):
    """Load a model written by :func:`skadapt.save` or :func:`skadapt.export_onnx`.

    Nothing is unpickled: weights are read with safetensors, parameters and
    fitted state from JSON, sklearn steps with skops, trusting scikit-learn's
    own classes, skadapt's own transformers (:class:`~skadapt.tables.OtherColumns`),
    the few numpy and scipy types in ``skadapt.persistence.SAFE_TYPES`` and
    the types you list in ``trusted``.
    Every file is checked against the digest recorded at save time first.

    Parameters
    ----------
    folder : str or path
    trusted : list of str, default=None
        Further types (``"module.Class"``) that skops files may hold, and
        your subclasses of skadapt estimators that the folder holds; a type
        that is neither listed nor sklearn's or skadapt's is refused.
    runtime : {None, "onnxruntime", "openvino"}, default=None
        Folders written by :func:`skadapt.export_onnx`: what runs the graph,
        ONNX Runtime (``None``) or OpenVINO (``pip install 'skadapt[openvino]'``);
        see the serving guide for what each costs and gains.

    Returns
    -------
    model
        The fitted estimator or Pipeline as saved; for a folder written by
        :func:`skadapt.export_onnx`, an :class:`skadapt.serving.OnnxModel`
        that predicts with ONNX Runtime (torch is not imported).

    Raises
    ------
    ValueError
        The folder is missing, incomplete or modified since it was saved,
        names a class skadapt does not know, or a skops file holds an
        untrusted type, or ``runtime`` is unknown or given for a torch folder.
    ImportError
        ``runtime="openvino"`` without OpenVINO installed.

    Warns
    -----
    UserWarning
        skadapt, torch, scikit-learn (or another library that computes the
        predictions) is installed at another version than the one that saved
        the model.
    """
    if trusted is not None and (isinstance(trusted, str) or not all(isinstance(t, str) for t in trusted)):
        raise ValueError(f"trusted must be a list of type names such as ['mymodule.MyStep'], got {trusted!r}.")
    if runtime is not None:
        from ..serving._runtime import check_runtime

        check_runtime(runtime)
    manifest = read_manifest(folder)
    folder = os.path.abspath(os.fspath(folder))
    kind = manifest.get("runtime")
    if kind == "onnx":
        from ..serving._runtime import OnnxModel, check_onnx_format

        check_onnx_format(manifest["model"], manifest, folder)  # a newer format: refused, before any warning
        warn_on_versions(manifest, folder, ("skadapt", "onnxruntime", "tokenizers", "scikit-learn"))
        return OnnxModel(folder, manifest, runtime=runtime or "onnxruntime")
    if kind != "torch":
        raise ValueError(f"{folder!r} holds a model for runtime {kind!r}; this skadapt runs 'torch' and 'onnx'.")
    if runtime is not None:
        raise ValueError(f"runtime={runtime!r} is for folders written by skadapt.export_onnx; {folder!r} was written "
                         "by skadapt.save and runs on torch: export it with skadapt.export_onnx first.")
    warn_on_versions(manifest, folder, TORCH_PACKAGES)
    return _read_node(manifest["model"], folder, list(trusted or ()))


def read_metadata(folder):
    """The ``metadata`` dict given to :func:`skadapt.save` (or ``export_onnx``) for ``folder``."""
    return from_json(read_manifest(folder, verify=False).get("metadata") or {})


def _read_node(node, folder, trusted):
    kind = node.get("type") if isinstance(node, dict) else None
    if kind == "passthrough":
        return node.get("value")
    if kind == "pipeline":
        from sklearn.pipeline import Pipeline

        steps = [(step["name"], _read_node(step["node"], folder, trusted)) for step in node["steps"]]
        return Pipeline(steps, **from_json(node.get("params", {})))
    if kind == "skops":
        return _read_skops(node, folder, trusted)
    if kind == "skadapt":
        return _read_skadapt(node, folder, trusted)
    raise ValueError(f"the manifest in {folder!r} holds a node of unknown type {kind!r}; the folder is damaged.")


def _path(folder, relative):
    return os.path.join(folder, *str(relative).split("/"))


def _read_skops(node, folder, trusted):
    import skops.io

    path = _path(folder, node["file"])
    types = skops.io.get_untrusted_types(file=path)
    allowed = set(SAFE_TYPES) | set(SKADAPT_TYPES) | set(trusted)
    refused = sorted(t for t in types if not (t.startswith(TRUSTED_MODULE) or t in allowed))
    if refused:
        raise ValueError(
            f"{node['file']} in {folder!r} holds types that are not trusted: {', '.join(refused)}; if you trust "
            "them, pass them as skadapt.load(folder, trusted=[...])."
        )
    return skops.io.load(path, trusted=types)


def _read_skadapt(node, folder, trusted):
    cls = _estimator_class(node.get("class"), folder, trusted)
    params = from_json(node.get("params", {}))
    # Saved before long texts were read whole: such a model truncates, and its parameters say so.
    params.setdefault("long_texts", "truncate")
    try:
        estimator = cls(**params)
    except TypeError as exc:
        raise ValueError(f"the saved parameters of {node['class']} do not fit this skadapt ({exc}).") from None
    parts = node.get("sklearn_parts", {})
    if "table_preprocessor" in node:  # saved before sklearn parts had their own entry
        parts = {"table_preprocessor": node["table_preprocessor"]}
    estimator._read_state(node, folder, {name: _read_skops(part, folder, trusted) for name, part in parts.items()})
    return estimator


def _estimator_class(name, folder, trusted):
    """skadapt's class of that name; a user's subclass (``module.Class``) only when listed in ``trusted``."""
    import importlib

    from .. import estimators
    from ..estimators._state import SkadaptEstimator

    if name in estimators.__all__:
        return getattr(estimators, name)
    if isinstance(name, str) and name in trusted:
        module, _, qualname = name.rpartition(".")
        try:
            cls = getattr(importlib.import_module(module), qualname)
        except (ImportError, AttributeError, ValueError):
            raise ValueError(f"the manifest in {folder!r} names the class {name!r}, which cannot be imported "
                             "here; install the code that defines it.") from None
        if isinstance(cls, type) and issubclass(cls, SkadaptEstimator):
            return cls
        raise ValueError(f"the manifest in {folder!r} names the class {name!r}, which is not a subclass of a skadapt "
                         "estimator; refused.")
    raise ValueError(
        f"the manifest in {folder!r} names the class {name!r}, which is not a skadapt estimator "
        f"({', '.join(sorted(estimators.__all__))}); if it is a subclass of one that you trust, pass "
        f"skadapt.load(folder, trusted=[{name!r}])."
    )
