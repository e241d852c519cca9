"""``ThresholdedOneVsRest``: one-vs-rest with a multi-label cut of the probabilities other than 0.5.

A fixed cut of 0.5 suits few multi-label models: with 28 labels each present in a few per cent of rows, the
probabilities of a model trained briefly or on few rows rarely pass it, so it predicts almost nothing.
On GoEmotions (10,000 rows, benchmarks/results/tasks_goemotions.md) a cut of 0.25 lifts the test micro-F1 of
TF-IDF from 0.297 to 0.481, of transfer from 0.317 to 0.464 and of fine-tuning from 0.556 to 0.589.
"""

from numbers import Real

from sklearn.multiclass import OneVsRestClassifier
from sklearn.utils._param_validation import Interval


class ThresholdedOneVsRest(OneVsRestClassifier):
    """``OneVsRestClassifier`` whose multi-label ``predict`` cuts the probabilities at ``threshold``.

    sklearn's cuts at 0.5 (or at 0 of a decision function) with no parameter, and its
    ``FixedThresholdClassifier`` takes binary targets only; this is the head of the TF-IDF and transfer ways
    on multi-label data, so the Auto search can keep the cut it chose in the model it returns, saves and
    exports.

    Parameters
    ----------
    estimator : sklearn classifier with ``predict_proba``
        Fitted once per label.
    threshold : float in (0, 1), default=0.5
        A label is predicted where its probability is at least this.
    n_jobs, verbose
        As ``OneVsRestClassifier``'s.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skadapt.estimators import ThresholdedOneVsRest
    >>> X = np.random.default_rng(0).random((40, 3))
    >>> Y = np.column_stack([X[:, 0] > 0.5, X[:, 1] > 0.8]).astype(int)
    >>> head = ThresholdedOneVsRest(LogisticRegression(), threshold=0.3).fit(X, Y)
    >>> bool((head.predict(X) == (head.predict_proba(X) >= 0.3)).all())
    True
    """

    _parameter_constraints = {**OneVsRestClassifier._parameter_constraints,
                              "threshold": [Interval(Real, 0, 1, closed="neither")]}

    def __init__(self, estimator, *, threshold=0.5, n_jobs=None, verbose=0):
        super().__init__(estimator, n_jobs=n_jobs, verbose=verbose)
        self.threshold = threshold

    def predict(self, X):
        """Labels whose probability is at least ``threshold`` (multi-label ``y``); else as ``OneVsRestClassifier``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_labels)
        """
        if not (getattr(self, "multilabel_", False) and self.threshold != 0.5):
            return super().predict(X)
        if not 0 < self.threshold < 1:
            raise ValueError(f"threshold must be between 0 and 1 (exclusive), got {self.threshold!r}.")
        return (self.predict_proba(X) >= self.threshold).astype(int)


def register_onnx_converter():
    """Lets skl2onnx convert ``ThresholdedOneVsRest`` as the ``OneVsRestClassifier`` it is (the cut is applied
    to the probabilities by the runtime, which reads it from the export's outputs)."""
    from skl2onnx import update_registered_converter
    from skl2onnx._supported_operators import sklearn_operator_name_map
    from skl2onnx.common._registration import get_converter, get_shape_calculator

    if ThresholdedOneVsRest in sklearn_operator_name_map:
        return
    alias = sklearn_operator_name_map[OneVsRestClassifier]
    convert = get_converter(alias)

    def converter(scope, operator, container):  # a plain function: skl2onnx checks the converter's signature
        return convert(scope, operator, container)

    update_registered_converter(ThresholdedOneVsRest, "SkadaptThresholdedOneVsRest", get_shape_calculator(alias),
                                converter, options={"zipmap": [True, False, "columns"], "nocl": [True, False],
                                                    "output_class_labels": [False, True],
                                                    "raw_scores": [True, False]})
