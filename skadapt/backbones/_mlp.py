import numpy as np
import torch
from torch import nn

from .base import Backbone


class MLPBackbone(Backbone):
    """Multi-layer perceptron for numeric 2-D arrays.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
        Width of each hidden layer, as in sklearn's ``MLPClassifier``.
    dropout : float, default=0.0
        Dropout after each hidden layer.
    """

    input_kind = "array"
    has_pretrained = False
    # As sklearn's MLPs reach a fit in their default 200 epochs, ours must in
    # Scratch*'s 10: at 1e-3 it fails sklearn's check_regressors_train.
    scratch_lr = 1e-2

    def __init__(self, hidden_layer_sizes=(100,), dropout=0.0):
        sizes = tuple(int(h) for h in np.atleast_1d(hidden_layer_sizes))
        if not sizes or min(sizes) < 1:
            raise ValueError(
                f"hidden_layer_sizes must be one or more positive integers, got {hidden_layer_sizes!r}."
            )
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}.")
        self.hidden_layer_sizes = sizes
        self.dropout = float(dropout)

    def fit(self, X):
        self.n_features_in_ = X.shape[1]
        return self

    def build(self, *, pretrained):
        if pretrained:
            raise ValueError("backbone 'mlp' has no pretrained weights; use ScratchClassifier.")
        layers = []
        width = self.n_features_in_
        for size in self.hidden_layer_sizes:
            layers.append(nn.Sequential(nn.Linear(width, size), nn.ReLU(), nn.Dropout(self.dropout)))
            width = size
        self.out_features = width
        return _MLP(layers)

    def prepare(self, X):
        return np.asarray(X, dtype=np.float32)

    def collate(self, items):
        return {"x": torch.from_numpy(np.stack(items))}

    def input_width(self):
        return getattr(self, "n_features_in_", None)  # set by fit, or restored from an export

    def serving_preprocessing(self, folder):
        return {"kind": "array", "n_features": int(self.n_features_in_)}

    def layer_groups(self, module):
        return [(f"layer{i}", [f"layers.{i}."]) for i in range(len(module.layers))]

    def __repr__(self):
        return f"MLPBackbone(hidden_layer_sizes={self.hidden_layer_sizes}, dropout={self.dropout})"


class _MLP(nn.Module):
    def __init__(self, layers):
        super().__init__()
        self.layers = nn.ModuleList(layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x
