"""Predicting with an exported ONNX model: ONNX Runtime and the tokenizers library, no torch, no scikit-learn."""

import os

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

    Examples
    --------
    >>> import skadapt  # doctest: +SKIP
    >>> skadapt.export_onnx(clf, "clf-onnx", quantize="int8")  # doctest: +SKIP
    >>> skadapt.load("clf-onnx").predict(["a fine film"])  # doctest: +SKIP
    array(['positive'], dtype='<U8')
    """

    def __init__(self, folder, manifest, batch_size=None):
        import onnxruntime

        node = manifest["model"]
        if node.get("type") != "onnx":
            raise ValueError(f"the manifest in {folder!r} describes no ONNX model; the folder is damaged.")
        self.folder = folder
        self.kind = node["kind"]
        self.quantize = node.get("quantize")
        self.batch_size = int(batch_size or node.get("batch_size", 32))
        self.backbone = node.get("backbone", "the backbone")
        # Long texts are cut as the estimator cut them (the same leaf module, no torch).
        self._splitter = lt.TextSplitter.from_state(node["long_texts"]) if node.get("long_texts") else None
        self._preprocessor = make_preprocessor(node["preprocessing"], folder, self.backbone,
                                               whole=self._splitter is not None)
        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = onnxruntime.InferenceSession(os.path.join(folder, node["encoder"]), options,
                                                     providers=["CPUExecutionProvider"])
        self._inputs = [i.name for i in self._session.get_inputs()]
        self._head = None
        if node.get("head"):
            self._head = onnxruntime.InferenceSession(os.path.join(folder, node["head"]), options,
                                                      providers=["CPUExecutionProvider"])
        self._outputs = from_json(node.get("outputs", {}))
        if "classes" in self._outputs:
            self.classes_ = self._outputs["classes"]
            self.multilabel_ = bool(self._outputs["multilabel"])
            self.threshold = float(self._outputs.get("threshold", 0.5))
        if self.kind == "featurizer":
            self.n_features_out_ = int(self._outputs["n_features_out"])

    def __repr__(self):
        return f"OnnxModel({os.path.basename(self.folder)!r}, kind={self.kind!r}, quantize={self.quantize!r})"

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
            result = self._session.run(None, {name: batch[name] for name in self._inputs})[0]
            if out is None:
                out = np.empty((n, result.shape[1]), dtype=np.float32)
            out[index] = result
        return out

    def _head_outputs(self, features):
        names = [o.name for o in self._head.get_outputs()]
        values = self._head.run(None, {self._head.get_inputs()[0].name: features.astype(np.float32)})
        return dict(zip(names, values))

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
