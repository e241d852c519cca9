"""The classification task: one label per row (softmax) or several (one sigmoid per label)."""

from numbers import Real

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, column_or_1d

from ._base import _BackboneEstimator
from ._targets import (Targets, check_classification_targets, check_n_outputs, class_weights,
                       encode_classification_targets, encode_labels)


class _BackboneClassifier(ClassifierMixin, _BackboneEstimator):
    """Single-label (``y`` a label vector) or multi-label (``y`` a 0/1 indicator matrix)."""

    _parameter_constraints: dict = {
        **_BackboneEstimator._parameter_constraints,
        # a list of dicts: one per label column of multi-label y (_targets.class_weights checks it against y)
        "class_weight": [StrOptions({"balanced"}), dict, list, None],
        "threshold": [Interval(Real, 0, 1, closed="neither")],
    }

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    def _check_targets(self, y, n_samples):
        targets = check_classification_targets(y, n_samples)
        targets.class_weight = class_weights(self.class_weight, targets)
        return targets

    def _encode_further(self, y, n_samples):
        return encode_classification_targets(y, n_samples, self)

    def _initial_targets(self, y, n_samples, classes=None):
        if classes is None or np.ndim(y) == 2:  # a 0/1 matrix names its labels by its columns
            return self._check_targets(y, n_samples)
        if isinstance(self.class_weight, str) and self.class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' needs every class's count, which the first partial_fit call cannot know; "
                "give a dict of class weights, or use fit."
            )
        classes = np.unique(np.asarray(classes))
        if len(classes) < 2:
            raise ValueError(f"classes must hold at least two classes, got {classes.tolist()}.")
        encoded = encode_labels(column_or_1d(np.asarray(y), warn=True), n_samples, classes)
        targets = Targets(encoded, len(classes), {"classes_": classes, "multilabel_": False}, stratify=True)
        targets.class_weight = class_weights(self.class_weight, targets)
        return targets

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch over ``(X, y)``, continuing from the fitted weights and optimizer state.

        The first call builds the model as ``fit`` does (the vocabulary and
        the table preprocessing are learned from its rows); every call then
        trains one epoch on all of its rows at the constant rate ``lr``: no
        warm-up or decay, since a call does not know how many will follow,
        and no early stopping. Optimizer state is kept, so a model trained
        this way pickles larger than one from ``fit``.

        Parameters
        ----------
        X : list of str, 1-D array, Series or DataFrame
            As in :meth:`fit`.
        y : array-like
            As in :meth:`fit`.
        classes : array-like, default=None
            Every class ``y`` will ever hold, on the first call (as sklearn's
            ``partial_fit``); ``None`` takes the first ``y``'s. Later calls'
            labels must be among them.
        sample_weight : array-like of shape (n_samples,), default=None
            As in :meth:`fit`.

        Returns
        -------
        self

        Examples
        --------
        >>> import numpy as np
        >>> from skadapt import ScratchClassifier
        >>> X = np.random.default_rng(0).random((40, 3))
        >>> clf = ScratchClassifier("mlp", random_state=0)
        >>> for rows in np.array_split(np.arange(40), 4):
        ...     clf = clf.partial_fit(X[rows], rows % 3, classes=[0, 1, 2])
        >>> clf.classes_.tolist(), len(clf.history_)
        ([0, 1, 2], 4)
        """
        if self.__sklearn_is_fitted__():
            if classes is not None and not np.array_equal(np.unique(np.asarray(classes)), self.classes_):
                raise ValueError(
                    f"classes={list(classes)!r} differs from the classes {self.classes_.tolist()} fixed by the "
                    "first call; partial_fit cannot add or drop a class."
                )
            return self._train_further(X, y, sample_weight, epochs=1, steady=True)
        return self._fit_new(X, y, sample_weight, classes=classes, epochs=1)

    def _criterion(self, targets):
        import torch

        from ._network import ClassWeightedCrossEntropy, LabelWeightedBCE

        weight = targets.class_weight
        if not targets.attributes["multilabel_"]:
            if weight is None:
                return torch.nn.CrossEntropyLoss, {}
            return ClassWeightedCrossEntropy, {"weight": weight}
        if weight is None:
            return torch.nn.BCEWithLogitsLoss, {}
        return LabelWeightedBCE, {"negative": weight[0], "positive": weight[1]}

    def _net_options(self, targets):
        from ._network import MixedPrecisionClassifierNet, MixedPrecisionNet

        # Raw logits out of the net, whatever the loss; predict_proba applies
        # the softmax or sigmoid in float64, so probabilities stay inside (0, 1).
        if targets.attributes["multilabel_"]:
            return MixedPrecisionNet, {"predict_nonlinearity": None}
        return MixedPrecisionClassifierNet, {"predict_nonlinearity": None}

    def _similarity_kind(self, targets):
        return "label_sets" if targets.attributes["multilabel_"] else "labels"

    def _probe_can_use(self, y, targets):
        if targets.attributes["multilabel_"]:
            return True
        return len(np.unique(y)) == targets.n_outputs

    def _linear_probe(self, features, targets, y, sample_weight=None):
        """Logistic regression (C=1) on the frozen features: one per label for multi-label y."""
        from sklearn.linear_model import LogisticRegression

        weight = targets.class_weight
        if not targets.attributes["multilabel_"]:
            class_weight = None if weight is None else dict(enumerate(weight))
            probe = LogisticRegression(C=1.0, max_iter=1000, class_weight=class_weight).fit(
                features, y, sample_weight=sample_weight)
            coef, intercept = probe.coef_, probe.intercept_
            if coef.shape[0] == 1:  # binary: softmax over (-z/2, z/2) equals sigmoid(z)
                coef = np.vstack([-coef / 2, coef / 2])
                intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
            return coef, intercept
        # One logistic regression per label, by hand rather than OneVsRestClassifier:
        # weights may differ per column (a list of dicts) and a constant column,
        # which OneVsRestClassifier stores without coefficients, needs a bias here.
        coef = np.zeros((y.shape[1], features.shape[1]))
        intercept = np.zeros(y.shape[1])
        for j in range(y.shape[1]):
            column = y[:, j].astype(int)
            positives = column.sum()
            if positives in (0, len(column)):  # constant: a bias alone says it
                rate = (positives + 0.5) / (len(column) + 1)
                intercept[j] = np.log(rate / (1 - rate))
                continue
            class_weight = None if weight is None else {0: weight[0, j], 1: weight[1, j]}
            probe = LogisticRegression(C=1.0, max_iter=1000, class_weight=class_weight).fit(
                features, column, sample_weight=sample_weight)
            coef[j], intercept[j] = probe.coef_[0], probe.intercept_[0]
        return coef, intercept

    # -- predict ------------------------------------------------------------
    def predict_proba(self, X):
        """Probabilities, shape ``(n_samples, n_classes)``, columns in ``classes_`` order.

        Single-label: each row sums to 1. Multi-label: the probability of
        each label on its own (a row may sum to anything).
        """
        from scipy.special import expit, softmax

        outputs = self._network_outputs(X)
        if self.net_.predict_nonlinearity is not None:  # pickled before logits came out: probabilities
            return outputs / outputs.sum(axis=1, keepdims=True)
        return expit(outputs) if self._multilabel else softmax(outputs, axis=1)

    def predict(self, X):
        """Labels taken from ``classes_``; for multi-label ``y`` a 0/1 indicator matrix.

        A multi-label row gets every label whose probability is at least
        ``threshold``; a label that was constant in the training ``y`` keeps
        that value.
        """
        proba = self.predict_proba(X)
        if not self._multilabel:
            return self.classes_[np.argmax(proba, axis=1)]
        indicator = proba >= self.threshold
        for j, value in self._constant_labels.items():
            indicator[:, j] = bool(value)
        return indicator.astype(self._label_dtype)

    @property
    def _multilabel(self):
        return getattr(self, "multilabel_", False)  # absent from models pickled before multi-label

    def _serving_outputs(self):
        outputs = {"classes": self.classes_, "multilabel": bool(self._multilabel)}
        if outputs["multilabel"]:
            outputs.update(threshold=float(self.threshold), label_dtype=self._label_dtype,
                           constant_labels={str(j): int(v) for j, v in self._constant_labels.items()})
        return "classifier", outputs

    def score(self, X, y, sample_weight=None):
        """Accuracy; for multi-label ``y`` the subset accuracy (every label of a row right)."""
        check_is_fitted(self)
        check_n_outputs(y, len(self.classes_) if self._multilabel else 1, self)
        return super().score(X, y, sample_weight=sample_weight)
