"""Predicting with an exported ONNX model: ONNX Runtime (or OpenVINO) and the tokenizers library, no torch,
no scikit-learn."""

import os
import threading

import numpy as np

from .. import _long_texts as lt
from .._files.typed_json import from_json
from ._preprocess import make_preprocessor


class OnnxModel:
    """A model exported by :func:`skadapt.export_onnx`, served by ONNX Runtime.

    It answers like the estimator it was exported from: ``predict`` and
    ``predict_proba`` (classifiers), ``predict`` (regressors), ``transform``
    (``PretrainedFeaturizer``), with the same shapes, dtypes, labels and
    threshold. Rows are tokenised by the tokenizers library and batched
    longest first, as the torch path does. It cannot be trained further:
    keep the :func:`skadapt.save` folder for that.

    Create it with :func:`skadapt.load`.

    Parameters
    ----------
    folder : str
        The exported folder.
    manifest : dict
        Its checked manifest.
    batch_size : int, default=None
        Rows per ONNX Runtime call; ``None``: the batch size saved at export.
    runtime : {"onnxruntime", "openvino"}, default="onnxruntime"
        What runs the graph: ONNX Runtime, or OpenVINO (``pip install
        'skadapt[openvino]'``; on a CPU that computes bf16 natively it
        computes in bf16, see the serving guide).

    Attributes
    ----------
    kind : {"classifier", "regressor", "featurizer"}
    classes_ : ndarray
        Classifiers: the labels, as the estimator's ``classes_``.
    multilabel_ : bool
        Classifiers: whether ``predict`` returns a 0/1 indicator matrix.
    threshold : float
        Multi-label classifiers: the probability from which a label is predicted.
    n_features_out_ : int
        Featurizers: width of the features.
    quantize : str or None
        ``"int8"`` when the weights were quantised at export.
    runtime : str
        ``"onnxruntime"`` or ``"openvino"``.

    Examples
    --------
    >>> import skadapt  # doctest: +SKIP
    >>> skadapt.export_onnx(clf, "clf-onnx", quantize="int8")  # doctest: +SKIP
    >>> skadapt.load("clf-onnx").predict(["a fine film"])  # doctest: +SKIP
    array(['positive'], dtype='<U8')
    """

    def __init__(self, folder, manifest, batch_size=None, runtime="onnxruntime"):
        check_runtime(runtime)
        node = manifest["model"]
        if node.get("type") != "onnx":
            raise ValueError(f"the manifest in {folder!r} describes no ONNX model; the folder is damaged.")
        check_onnx_format(node, manifest, folder)
        self.folder = folder
        self.kind = node["kind"]
        self.quantize = node.get("quantize")
        self.runtime = runtime
        self.batch_size = int(batch_size or node.get("batch_size", 32))
        self.backbone = node.get("backbone", "the backbone")
        # Long texts are cut as the estimator cut them (the same leaf module, no torch).
        self._splitter = lt.TextSplitter.from_state(node["long_texts"]) if node.get("long_texts") else None
        self._preprocessor = make_preprocessor(node["preprocessing"], folder, self.backbone,
                                               whole=self._splitter is not None)
        versions = manifest.get("versions") or {}
        engine = OpenVinoEngine if runtime == "openvino" else OrtEngine
        self._session = engine(os.path.join(folder, node["encoder"]), folder, versions)
        self._inputs = self._session.input_names
        self._head = None
        if node.get("head"):  # skl2onnx's graph of sklearn steps: ONNX Runtime in either runtime (small, ai.onnx.ml)
            self._head = OrtEngine(os.path.join(folder, node["head"]), folder, versions)
        self._outputs = from_json(node.get("outputs", {}))
        if "classes" in self._outputs:
            self.classes_ = self._outputs["classes"]
            self.multilabel_ = bool(self._outputs["multilabel"])
            self.threshold = float(self._outputs.get("threshold", 0.5))
        if self.kind == "featurizer":
            self.n_features_out_ = int(self._outputs["n_features_out"])
        self._warm_up()

    def _warm_up(self):
        """One batch through the encoder at load, so that the first call runs as fast as later ones
        (both runtimes size their buffers and pick their kernels on the first run of a shape)."""
        pre = self._preprocessor
        if pre.sequences:
            length = min(WARM_UP_TOKENS, int(getattr(pre, "max_length", None) or WARM_UP_TOKENS))
            batch = pre.collate([np.full(length, pre.pad_id, dtype=np.int64)] * self.batch_size)
            if "chunk_index" in self._inputs:
                batch["chunk_index"] = np.arange(self.batch_size, dtype=np.int64)[:, None]
                batch["chunk_mask"] = np.ones((self.batch_size, 1), dtype=np.int64)
        else:
            batch = pre.collate(np.zeros((self.batch_size, pre.n_features), dtype=np.float32))
        self._session.run({name: batch[name] for name in self._inputs})

    def __repr__(self):
        return (f"OnnxModel({os.path.basename(self.folder)!r}, kind={self.kind!r}, quantize={self.quantize!r}, "
                f"runtime={self.runtime!r})")

    # -- the network ----------------------------------------------------------
    def _run(self, X):
        """The ONNX encoder's output for ``X`` (float32), rows in the caller's order."""
        pre = self._preprocessor
        items = pre.prepare(X)
        chunked = False
        if self._splitter is not None:
            items, stats = self._splitter.split(items)
            lt.warn_dropped(stats, self.backbone, "X", stacklevel=4)
            chunked = self._splitter.policy == "chunk"
        n = len(items)
        if pre.sequences:  # longest first: batches carry little padding
            order = np.argsort(-np.fromiter((len(i) for i in items), dtype=np.int64, count=n), kind="stable")
        else:
            order = np.arange(n)
        sizes = np.fromiter((lt.n_sequences(i) for i in items), dtype=np.int64, count=n) if chunked else np.ones(n)
        out = None
        for index in lt.capped_batches(order, sizes, self.batch_size):
            index = np.asarray(index)
            if chunked:  # every batch's chunks as rows, and where each text's chunks are
                sequences, chunk_index, chunk_mask = lt.force_layout([items[i] for i in index])
                batch = {**pre.collate(sequences), "chunk_index": chunk_index, "chunk_mask": chunk_mask}
            else:
                batch = pre.collate([items[i] for i in index] if pre.sequences else items[index])
            result = self._session.run({name: batch[name] for name in self._inputs})
            if out is None:
                out = np.empty((n, result.shape[1]), dtype=np.float32)
            out[index] = result
        return out

    def _head_outputs(self, features):
        return self._head.run_all({self._head.input_names[0]: features.astype(np.float32)})

    # -- the estimator's answers ----------------------------------------------
    def transform(self, X):
        """Features, float32 ``(n_samples, n_features_out_)`` (featurizers)."""
        if self.kind != "featurizer":
            raise AttributeError(f"this ONNX model is a {self.kind}; transform is for featurizers.")
        features = self._run(X)
        if self._head is not None:  # sklearn transformers after the featurizer
            return next(iter(self._head_outputs(features).values()))
        return features

    @property
    def predict_proba(self):
        """Probabilities ``(n_samples, n_classes)`` in ``classes_`` order (classifiers)."""
        if self.kind != "classifier":
            raise AttributeError(f"this ONNX model is a {self.kind}; predict_proba is for classifiers.")
        return self._predict_proba

    def _predict_proba(self, X):
        outputs = self._run(X)
        if self._head is not None:  # a sklearn head converted by skl2onnx
            return self._head_outputs(outputs)["probabilities"].astype(np.float64)
        logits = outputs.astype(np.float64)
        if self._outputs["multilabel"]:
            return 1.0 / (1.0 + np.exp(-logits))
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

    def predict(self, X):
        """Labels (classifiers: from ``classes_``, or the 0/1 matrix of a multi-label model cut at its
        threshold) or values in the units of ``y`` (regressors)."""
        if self.kind == "featurizer":
            raise AttributeError("this ONNX model is a featurizer; use transform.")
        if self.kind == "regressor":
            outputs = self._run(X)
            if self._head is not None:
                predicted = next(iter(self._head_outputs(outputs).values())).astype(self._outputs["dtype"])
                return predicted.ravel() if self._outputs["y_ndim"] == 1 else predicted
            predicted = outputs.astype(np.float64) * self._outputs["scale"] + self._outputs["mean"]
            return predicted.ravel() if self._outputs["y_ndim"] == 1 else predicted
        proba = self._predict_proba(X)
        if not self._outputs["multilabel"]:
            return self.classes_[np.argmax(proba, axis=1)]
        indicator = proba >= self.threshold
        for j, value in self._outputs.get("constant_labels", {}).items():
            indicator[:, int(j)] = bool(value)
        return indicator.astype(self._outputs["label_dtype"])

    def score(self, X, y, sample_weight=None):
        """Accuracy (subset accuracy for multi-label) or R², as the estimator's ``score``.

        Imports scikit-learn for its metrics: for evaluation, not for serving.
        """
        from sklearn.metrics import accuracy_score, r2_score

        if self.kind == "featurizer":
            raise AttributeError("this ONNX model is a featurizer; it has no score.")
        metric = r2_score if self.kind == "regressor" else accuracy_score
        return float(metric(y, self.predict(X), sample_weight=sample_weight))


# -- what runs the graph --------------------------------------------------------
RUNTIMES = ("onnxruntime", "openvino")
# Tokens per row of the warm-up batch at load: a typical sentence batch.
WARM_UP_TOKENS = 64
# The ONNX folder format this skadapt writes and the newest it reads. 1: skadapt 0.1 before the format was
# numbered (no "onnx_format" in the manifest; int8 weights always int8); 2: the manifest records the skadapt
# version and how int8 was quantised (int8 weights on a CPU with AVX-512 VNNI, uint8 on one without).
# An older format is read as it is (format 1 graphs run unchanged); a newer one is refused, since its graph
# or manifest may hold what this skadapt does not know.
ONNX_FORMAT = 2


def check_runtime(runtime):
    if runtime not in RUNTIMES:
        raise ValueError(f"runtime must be one of {', '.join(map(repr, RUNTIMES))}, got {runtime!r}.")


def check_onnx_format(node, manifest, folder):
    """Refuse an ONNX folder written in a newer format than this skadapt reads, naming both versions."""
    written = node.get("onnx_format", 1)
    if not isinstance(written, int) or written > ONNX_FORMAT:
        from .._version import __version__

        by = (manifest.get("versions") or {}).get("skadapt") or node.get("skadapt_version") or "another version"
        raise ValueError(f"{folder!r} was exported by skadapt {by} in ONNX folder format {written!r}, newer than "
                         f"this skadapt ({__version__}) reads (up to {ONNX_FORMAT}): upgrade skadapt, or export "
                         "the model again with this one.")


class OrtEngine:
    """An ONNX graph on ONNX Runtime's CPU provider: all graph optimisations."""

    def __init__(self, path, folder, versions):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            self.session = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # ONNX Runtime's own errors (Fail, InvalidGraph, NotImplemented...): one sentence
            raise ValueError(_cannot_run("ONNX Runtime", "onnxruntime", path, folder, versions, exc)) from None
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.output_names = [o.name for o in self.session.get_outputs()]

    def run(self, inputs):
        return self.session.run(None, inputs)[0]

    def run_all(self, inputs):
        return dict(zip(self.output_names, self.session.run(None, inputs)))


class OpenVinoEngine:
    """The same ONNX graph compiled by OpenVINO for the CPU, for latency (one request uses every core).

    OpenVINO's own defaults choose the precision: bf16 on a CPU that computes it natively (AVX-512 BF16,
    AMX), fp32 elsewhere. One infer request per thread: requests are not thread-safe, compiled models are.
    """

    def __init__(self, path, folder, versions):
        try:
            import openvino
        except ImportError:
            raise ImportError("runtime='openvino' needs OpenVINO: pip install 'skadapt[openvino]'.") from None
        core = openvino.Core()
        try:
            self.compiled = core.compile_model(core.read_model(path), "CPU", {"PERFORMANCE_HINT": "LATENCY"})
        except Exception as exc:  # OpenVINO raises RuntimeError / OpConversionFailure with pages of context
            raise ValueError(_cannot_run("OpenVINO", "openvino", path, folder, versions, exc)) from None
        self.input_names = [i.get_any_name() for i in self.compiled.inputs]
        self._output = self.compiled.output(0)
        self._local = threading.local()

    @property
    def precision(self):
        """What OpenVINO computes in (``"bf16"`` or ``"f32"``)."""
        hint = self.compiled.get_property("INFERENCE_PRECISION_HINT")
        return hint.get_type_name() if hasattr(hint, "get_type_name") else str(hint)

    def run(self, inputs):
        request = getattr(self._local, "request", None)
        if request is None:
            request = self._local.request = self.compiled.create_infer_request()
        return np.array(request.infer(inputs)[self._output])  # a copy: the request's buffer is reused


def _cannot_run(name, package, path, folder, versions, exc):
    from importlib import metadata

    try:
        installed = metadata.version(package)
    except metadata.PackageNotFoundError:
        installed = "?"
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
    exported = f"; it was exported with onnxruntime {versions['onnxruntime']}" if versions.get("onnxruntime") else ""
    return (f"{name} {installed} cannot run {os.path.basename(path)} in {folder!r} ({first}){exported}: install a "
            "runtime version that runs it, or export the model again with this skadapt.")
