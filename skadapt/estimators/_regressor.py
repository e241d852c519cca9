"""The regression task: one or several numeric targets, learned on a standardised scale."""

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted

from ._base import _BackboneEstimator
from ._targets import check_n_outputs, check_regression_targets, encode_regression_targets

LOSSES = ("squared_error", "huber")


class _BackboneRegressor(RegressorMixin, _BackboneEstimator):
    """``y`` of shape ``(n,)`` or ``(n, k)``; the network learns ``(y - mean) / std``.

    Standardising inside ``fit`` lets one default learning rate serve any
    target scale: on EmoBank (values near 3, spread 0.3) a MiniLM fine-tune
    on the raw target spent its two epochs learning the mean (RMSE 0.255)
    and reached 0.216 once standardised.
    """

    _parameter_constraints: dict = {**_BackboneEstimator._parameter_constraints, "loss": [StrOptions(set(LOSSES))]}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _check_targets(self, y, n_samples):
        return check_regression_targets(y, n_samples)

    def _encode_further(self, y, n_samples):
        return encode_regression_targets(y, n_samples, self)

    def _criterion(self, targets):
        import torch

        if self.loss == "huber":  # delta 1: one standard deviation of the target
            return torch.nn.HuberLoss, {"delta": 1.0}
        return torch.nn.MSELoss, {}

    def _net_options(self, targets):
        from ._network import MixedPrecisionNet

        return MixedPrecisionNet, {}

    def _similarity_kind(self, targets):
        return "values"

    def _linear_probe(self, features, targets, y, sample_weight=None):
        """Ridge regression on the frozen features, its alpha chosen by leave-one-out (RidgeCV)."""
        from sklearn.linear_model import RidgeCV

        probe = RidgeCV(alphas=np.logspace(-3, 3, 7)).fit(features, y, sample_weight=sample_weight)
        return np.atleast_2d(probe.coef_), np.atleast_1d(probe.intercept_)

    def predict(self, X):
        """Predictions in the units of ``y``: shape ``(n_samples,)`` when ``y`` was 1-D,
        else ``(n_samples, n_outputs)``."""
        standardised = self._network_outputs(X)
        predictions = standardised * self.target_scale_ + self.target_mean_
        return predictions.ravel() if self._y_ndim == 1 else predictions

    def _serving_outputs(self):
        return "regressor", {"mean": self.target_mean_, "scale": self.target_scale_, "y_ndim": int(self._y_ndim)}

    def score(self, X, y, sample_weight=None):
        """R² of the predictions (averaged uniformly over outputs), as ``RegressorMixin``."""
        check_is_fitted(self)
        check_n_outputs(y, self.n_outputs_, self)
        return super().score(X, y, sample_weight=sample_weight)
