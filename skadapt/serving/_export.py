"""``skadapt.export_onnx``: a fitted model as an ONNX graph plus its tokeniser, for ONNX Runtime."""

import os

import numpy as np

from .._files.typed_json import to_json
from .._hardware import cpu_flags

QUANTIZE = (None, "int8")
ENCODER_FILE = "model.onnx"
HEAD_FILE = "head.onnx"
OPSET = 17
# fp32 ONNX outputs must equal torch's to this (checked at export on a few rows).
TOLERANCE = 1e-4


def export_onnx(model, folder, *, quantize=None, calibration=None, overwrite=False, metadata=None):
    """Export a fitted model to ONNX, for fast CPU serving without torch.

    The network (backbone and head) becomes ``model.onnx``; the
    preprocessing goes beside it as data (the fast tokeniser's
    ``tokenizer.json``, or TextCNN's vocabulary); the rest of a ``Pipeline``
    after a ``PretrainedFeaturizer`` becomes ``head.onnx`` through skl2onnx.
    :func:`skadapt.load` returns an :class:`~skadapt.serving.OnnxModel` that
    predicts with ONNX Runtime and the tokenizers library and returns what
    the estimator returns. The folder carries the same manifest and digests
    as :func:`skadapt.save`, and is written all at once or not at all.

    Parameters
    ----------
    model : fitted skadapt estimator, or a Pipeline starting with a PretrainedFeaturizer
        ``FineTunedClassifier``/``ScratchClassifier`` (single- or multi-label),
        ``FineTunedRegressor``/``ScratchRegressor``, ``PretrainedFeaturizer``,
        or ``Pipeline([featurizer, sklearn steps...])`` whose sklearn steps
        skl2onnx converts. Text backbones with a fast tokeniser (``minilm``,
        ``sbert:``, ``hf-text:``), ``textcnn`` and ``mlp``.
    folder : str or path
        Created; it must not exist yet or be empty, unless ``overwrite``.
    quantize : {None, "int8"}, default=None
        ``"int8"``: dynamic quantisation of the weights to 8-bit integers
        (ONNX Runtime's ``quantize_dynamic``): about 4x smaller and much
        faster on CPUs with VNNI; outputs move slightly (see the serving guide).
    calibration : sequence of texts (or an array of rows), False or None, default=None
        ``quantize="int8"`` only: rows like those the model will serve. Each
        linear layer's input range, measured on them, is moved into its
        weights before quantising (SmoothQuant), which halves how far the
        int8 outputs move from fp32's. ``None``: 192 bundled sentences (SST-2,
        TREC, CR) for text models, no smoothing for array models; ``False``:
        no smoothing. A few hundred rows suffice.
    overwrite : bool, default=False
        Replace what ``folder`` holds.
    metadata : dict, default=None
        Plain data kept with the model (``skadapt.persistence.read_metadata``).

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
    >>> served = skadapt.load(skadapt.export_onnx(clf, tempfile.mkdtemp() + "/clf-onnx"))
    >>> bool(np.abs(served.predict_proba(X) - clf.predict_proba(X)).max() < 1e-4)
    True
    """
    from sklearn.utils.validation import check_is_fitted

    from .._files.manifest import write_manifest
    from .._files.staging import check_target_folder, staged
    from ..estimators._state import chosen_model, is_skadapt_estimator

    if quantize not in QUANTIZE:
        raise ValueError(f"quantize must be None or 'int8', got {quantize!r}.")
    if calibration is not None and calibration is not False:
        if quantize != "int8":
            raise ValueError("calibration applies to quantize='int8' only; leave it None for an fp32 export.")
        if isinstance(calibration, (str, bytes)) or not hasattr(calibration, "__len__") or len(calibration) == 0:
            raise ValueError("calibration must be a non-empty sequence of rows like those the model will serve "
                             f"(texts, or an array), False or None, got {calibration!r:.80}.")
    if metadata is not None and not isinstance(metadata, dict):
        raise ValueError(f"metadata must be a dict or None, got {type(metadata).__name__}.")
    model = chosen_model(model)  # AutoClassifier: the model it chose
    estimator, rest = _split(model, is_skadapt_estimator)
    check_is_fitted(estimator)
    if getattr(estimator, "table_", None) is not None:
        raise ValueError(
            f"{type(estimator).__name__} was fitted on a table, and export_onnx cannot convert its table "
            "preprocessing step (table_preprocessor_) with the network yet; serve it with skadapt.save/load."
        )
    for step in rest:
        check_is_fitted(step)
    _require("onnx", "onnxruntime", *(["skl2onnx"] if rest else []))
    folder = check_target_folder(folder, overwrite)
    with staged(folder) as staging:
        node = _export(model, estimator, rest, staging, quantize, calibration)
        write_manifest(staging, node, runtime="onnx", metadata=to_json(metadata or {}))
    return folder


def _require(*packages):
    import importlib.util

    missing = [p for p in packages if importlib.util.find_spec(p) is None]
    if missing:
        raise ImportError(f"export_onnx needs {', '.join(missing)}: pip install 'skadapt[onnx]'.")


def _split(model, is_skadapt):
    """``(skadapt estimator, [sklearn steps after it])``, or a ``ValueError`` for what ONNX export cannot take."""
    if is_skadapt(model):
        return model, []
    steps = [s for _, s in getattr(model, "steps", []) if s is not None and not (isinstance(s, str) and s == "passthrough")]
    if steps and is_skadapt(steps[0]) and not any(is_skadapt(s) for s in steps[1:]):
        if len(steps) > 1 and not hasattr(steps[0], "transform"):  # a featurizer, or a subclass of one
            raise ValueError(f"a Pipeline exported to ONNX may follow only a PretrainedFeaturizer with sklearn "
                             f"steps, not a {type(steps[0]).__name__}.")
        return steps[0], steps[1:]
    raise ValueError(
        f"model must be a fitted skadapt estimator or a Pipeline that starts with a PretrainedFeaturizer, got "
        f"{type(model).__name__}{' with steps ' + ', '.join(type(s).__name__ for s in steps) if steps else ''}."
    )


def _export(model, estimator, rest, staging, quantize, calibration):
    import torch

    recipe = estimator.backbone_
    preprocessing = recipe.serving_preprocessing(staging)
    if preprocessing is None:
        raise ValueError(f"backbone {estimator.backbone!r} cannot be exported to ONNX: its recipe "
                         f"({type(recipe).__name__}) does not describe its preprocessing for serving.")
    splitter = getattr(estimator, "text_splitter_", None)
    chunked = splitter is not None and splitter["policy"] == "chunk"
    sample_X = _sample(preprocessing, splitter)
    # Chunked texts: the graph takes each batch's chunks as rows plus where each text's chunks
    # are (chunk_index, chunk_mask), and pools them as the torch network does.
    sample = estimator._onnx_inputs(sample_X)
    names = list(sample)
    network = estimator._onnx_network(names)
    _plain_attention(network)
    with torch.inference_mode():
        # before smoothing: the check below then also holds the smoothed graph to the network as fitted
        expected = network(*sample.values()).numpy()
    smoothing = None
    if quantize == "int8":
        smoothing = _smooth(network, estimator, preprocessing, calibration)
    path = os.path.join(staging, ENCODER_FILE)
    axes = {name: ({0: "batch", 1: "sequence"} if preprocessing["kind"] != "array" else {0: "batch"})
            for name in names}
    output_axes = {0: "batch"}
    if chunked:  # input rows are chunks, output rows texts
        axes.update(chunk_index={0: "texts", 1: "chunks"}, chunk_mask={0: "texts", 1: "chunks"})
        output_axes = {0: "texts"}
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's notes on tracing; the result is checked below
        torch.onnx.export(network, tuple(sample.values()), path, dynamo=False, opset_version=OPSET,
                          input_names=names, output_names=["output"], dynamic_axes={**axes, "output": output_axes},
                          do_constant_folding=True)
    inputs = {k: v.numpy() for k, v in sample.items()}
    _check_outputs(path, inputs, expected)
    int8 = None
    if quantize == "int8":
        int8 = {**_quantize(path), "smoothing": smoothing}
    from .._version import __version__
    from ._runtime import ONNX_FORMAT

    node = {"type": "onnx", "onnx_format": ONNX_FORMAT, "skadapt_version": __version__, "encoder": ENCODER_FILE,
            "preprocessing": preprocessing, "quantize": quantize, "int8": int8,
            "batch_size": int(estimator.batch_size), "source": type(model).__name__, "backbone": estimator.backbone,
            "long_texts": splitter}
    if rest:
        node.update(_export_head(rest, estimator, model, sample_X, staging))
        return node
    kind, outputs = estimator._serving_outputs()
    node.update(kind=kind, outputs=to_json(outputs))
    return node


def _plain_attention(network):
    """Hugging Face models on their "eager" attention (the same maths as sdpa):
    ONNX Runtime optimises the exported graph of plain matrix products better
    (MiniLM served 3 % faster, with 20 % fewer nodes)."""
    for module in network.modules():
        if hasattr(module, "set_attn_implementation") and hasattr(module, "config"):
            try:
                module.set_attn_implementation("eager")
            except (ValueError, ImportError, AttributeError):  # a model without it keeps its own
                pass


def _smooth(network, estimator, preprocessing, calibration):
    """Smooth the (copied) network's linear layers on the calibration rows; what was done, for the manifest."""
    from ._smooth import ALPHA, calibration_batches, default_calibration, smooth_linear_inputs

    if calibration is False or (calibration is None and preprocessing["kind"] == "array"):
        return None
    rows = default_calibration() if calibration is None else calibration
    layers = smooth_linear_inputs(network, calibration_batches(estimator, rows))
    return {"alpha": ALPHA, "rows": len(rows), "rows_from": "bundled" if calibration is None else "given",
            "layers": layers}


def _sample(preprocessing, splitter=None):
    """A few rows of different lengths for tracing and for the export's own check
    (with a text cut into three chunks when long texts are chunked)."""
    if preprocessing["kind"] == "array":
        return np.random.default_rng(0).random((3, preprocessing["n_features"])).astype(np.float32)
    texts = ["A short text.", "A somewhat longer text, with punctuation and more words in it than the first one.",
             "Three"]
    if splitter is not None and splitter["policy"] == "chunk":
        texts.insert(1, " ".join(["word", "film"] * splitter["limit"]))  # one word or two tokens each: 2-4 chunks
    return texts


def _check_outputs(path, inputs, expected):
    import onnxruntime

    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    got = session.run(None, inputs)[0]
    difference = float(np.abs(got - expected).max())
    if not difference <= TOLERANCE:
        raise RuntimeError(f"the exported ONNX model's outputs differ from torch's by {difference:.2g}; please "
                           "report this with the backbone used.")


# int8 as optimum's ``AutoQuantizationConfig`` configurations for dynamic quantisation
# (optimum-onnx's ORTQuantizer): activations uint8 quantised on the fly, weights symmetric, one scale per
# output channel, full 8-bit range, every operator ONNX Runtime's dynamic quantiser knows (MatMul, Gather
# of the embeddings...). AVX-512 VNNI multiplies uint8 by int8 in one instruction (VPDPBUSD): int8
# weights; AVX2 only: uint8 weights, as optimum's avx2 configuration. Done here by hand with ONNX
# Runtime's own quantiser, which is what optimum wraps: optimum-onnx (0.1) requires transformers < 4.58
# and skadapt runs transformers 5.
# Not done: ONNX Runtime's transformer optimiser (optimum's ORTOptimizer) before quantising. It fuses
# MiniLM as it should (6 Attention, 12 SkipLayerNormalization, 6 BiasGelu; 6 QAttention once quantised),
# but on ONNX Runtime 1.32's CPU kernels the fused graphs served slower, fp32 (314 against 341 texts/s on
# the SST-2 test set, 2 cores, AVX-512 VNNI) and int8 alike (617 at opt_level 0, 678 at 1, against 804),
# and OpenVINO cannot read QAttention: ONNX Runtime's own fusions at load are the better graph here.
INT8_CONFIGS = {"avx512_vnni": {"weight_type": "QInt8"}, "avx2": {"weight_type": "QUInt8"}}


def int8_config(flags=None):
    """``"avx512_vnni"`` on a CPU with AVX-512 VNNI, else ``"avx2"``."""
    return "avx512_vnni" if "avx512_vnni" in (cpu_flags() if flags is None else flags) else "avx2"


def _quantize(path):
    """Dynamic int8 quantisation as :data:`INT8_CONFIGS` says for the exporting CPU; what it did, for the manifest."""
    from onnx import TensorProto
    from onnxruntime.quantization import QuantType, quantize_dynamic

    config = int8_config()
    quantized = path + ".int8"
    import logging

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # its advice to pre-process goes to the root logger
    try:
        quantize_dynamic(path, quantized, weight_type=getattr(QuantType, INT8_CONFIGS[config]["weight_type"]),
                         per_channel=True, reduce_range=False,
                         # A tensor whose type shape inference cannot tell (after a com.microsoft op): float.
                         extra_options={"WeightSymmetric": True, "ActivationSymmetric": False,
                                        "DefaultTensorType": TensorProto.FLOAT})
    finally:
        root.setLevel(level)
    os.replace(quantized, path)
    return {"config": config, "weights": INT8_CONFIGS[config]["weight_type"], "per_channel": True}


def _export_head(rest, featurizer, model, sample_X, staging):
    """The sklearn steps after the featurizer, converted by skl2onnx (float32 features in)."""
    from skl2onnx import to_onnx
    from sklearn.pipeline import make_pipeline

    from ..estimators.one_vs_rest import register_onnx_converter

    register_onnx_converter()

    # A search's predictions are its best_estimator_'s: convert that (skl2onnx has no converter for searches).
    steps = [getattr(s, "best_estimator_", s) for s in rest]
    head = steps[0] if len(steps) == 1 else make_pipeline(*steps)
    last = steps[-1]
    classifier = hasattr(last, "classes_") and hasattr(last, "predict_proba")
    features = featurizer.transform(sample_X)
    options = {id(last): {"zipmap": False}} if classifier else None
    try:
        onx = to_onnx(head, features[:1], options=options, target_opset={"": OPSET, "ai.onnx.ml": 3})
    except Exception as exc:  # skl2onnx raises many kinds: name the step it could not convert
        raise ValueError(
            f"the Pipeline's steps after the featurizer ({', '.join(type(s).__name__ for s in steps)}) cannot be "
            f"converted to ONNX by skl2onnx ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})."
        ) from None
    with open(os.path.join(staging, HEAD_FILE), "wb") as file:
        file.write(onx.SerializeToString())
    if classifier:
        multilabel = bool(getattr(last, "multilabel_", False))
        outputs = {"classes": model.classes_, "multilabel": multilabel}
        if multilabel:
            # the cut the model predicts with (ThresholdedOneVsRest's; sklearn's OneVsRestClassifier: 0.5)
            outputs.update(threshold=float(getattr(last, "threshold", 0.5)), label_dtype=np.dtype(np.int64),
                           constant_labels={})
        return {"head": HEAD_FILE, "kind": "classifier", "outputs": to_json(outputs)}
    if hasattr(last, "predict") and not hasattr(last, "transform"):
        predicted = np.asarray(model.predict(sample_X))  # its shape and dtype (float32 features give float32)
        return {"head": HEAD_FILE, "kind": "regressor",
                "outputs": to_json({"y_ndim": int(predicted.ndim), "dtype": predicted.dtype})}
    width = int(np.asarray(model.transform(sample_X)).shape[1])
    return {"head": HEAD_FILE, "kind": "featurizer", "outputs": to_json({"n_features_out": width})}
