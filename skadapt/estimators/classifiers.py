"""The public classifiers: :class:`FineTunedClassifier` and :class:`ScratchClassifier`."""

import numpy as np

from . import _validation as v
from ._classifier import _BackboneClassifier

_SHARED_PARAMS = """
    lr : float
        Learning rate of AdamW (the peak, after warm-up).
    max_epochs : int
        Passes over the training data.
    batch_size : int
        Rows per optimisation step (and per prediction batch).
    weight_decay : float
        AdamW's decoupled weight decay.
    warmup : float
        Fraction of the steps over which the learning rate rises linearly
        from 0; it then decays linearly to 0 at the last step.
    frozen_groups : int or "all", default=0
        How many layer groups of the backbone, counted from the input, stay
        frozen. ``"all"`` trains the head only. See
        ``Backbone.layer_groups`` for each backbone's groups.
    lr_decay : float in (0, 1], default=1.0
        Layer-wise learning-rate decay: the group below the head learns at
        ``lr * lr_decay``, the next one down at ``lr * lr_decay**2``, ...
    head_dropout : float in [0, 1)
        Dropout before the new linear head.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows (stratified), stop when
        the validation loss has not improved for ``n_iter_no_change`` epochs
        and keep the best epoch's weights.
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=2
    backbone_kwargs : dict, default=None
        Options of the backbone (see ``skadapt.get_backbone(name).create``),
        e.g. ``{"max_length": 128}``.
    callbacks : list of skorch callbacks or (name, callback) pairs, default=None
        Added to the training loop, e.g. ``skorch.callbacks.Checkpoint``.
    device : {"auto", "cpu", "cuda", "mps"}, default="auto"
        ``"auto"`` uses a CUDA GPU when one is present.
    precision : {"fp32", "bf16", "fp16"}, default="fp32"
        ``"bf16"``/``"fp16"``: mixed precision (``torch.autocast``) for every
        forward pass, with fp32 weights, loss and optimizer state; ``"fp16"``
        adds loss scaling. Roughly halves the time and activation memory of
        fine-tuning on a recent GPU; on a CPU the gain depends on its bfloat16 support.
    random_state : int, RandomState or None, default=None
        Seeds weight initialisation, dropout, shuffling and the validation
        split; the same value on CPU gives the same predictions. The global
        torch random state is left as it was.
    verbose : int, default=0
        ``1`` shows a progress bar and skorch's table of epochs.

    Attributes
    ----------
    classes_ : ndarray
        The labels, sorted; ``predict_proba`` columns follow this order.
    net_ : skorch.NeuralNetClassifier
        The trained net; ``net_.module_`` is the backbone plus head.
    history_ : skorch.History
        Loss (and validation loss) per epoch.
    backbone_ : skadapt.backbones.Backbone
        The backbone recipe with its fitted preprocessing (tokeniser, vocabulary).
    n_features_in_ : int
        Only for numeric-matrix backbones such as ``mlp``.
"""


class FineTunedClassifier(_BackboneClassifier):
    __doc__ = """Fine-tuning: a pretrained backbone plus a new head, trained further.

    Training follows the LP-FT recipe: the head is first fitted as a logistic
    regression on the frozen backbone's features (exactly what
    ``PretrainedFeaturizer`` + ``LogisticRegression`` would learn), then the
    backbone and head are trained together. Starting from a good head keeps
    the pretrained features from being damaged early on, so that with few
    rows fine-tuning does not fall below the frozen features.

    Parameters
    ----------
    backbone : str, default="minilm"
        A registered backbone with pretrained weights (``skadapt.list_backbones()``).
    head_init : {"linear_probe", "random"}, default="linear_probe"
        ``"linear_probe"`` starts the head from a logistic regression (C=1)
        on the frozen features; ``"random"`` starts it at random.
""" + _SHARED_PARAMS + """
    Examples
    --------
    >>> from skadapt import FineTunedClassifier
    >>> from skadapt.datasets import load_sst2
    >>> X, y = load_sst2(return_X_y=True)
    >>> clf = FineTunedClassifier(max_epochs=1, random_state=0)
    >>> clf.fit(X[:64], y[:64]).predict(["a gripping, beautiful film"])  # doctest: +SKIP
    array(['positive'], dtype=object)
    """

    _pretrained = True

    def __init__(
        self,
        backbone="minilm",
        *,
        head_init="linear_probe",
        lr=5e-5,
        max_epochs=3,
        batch_size=32,
        weight_decay=0.01,
        warmup=0.1,
        frozen_groups=0,
        lr_decay=1.0,
        head_dropout=0.1,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=2,
        backbone_kwargs=None,
        callbacks=None,
        device="auto",
        precision="fp32",
        random_state=None,
        verbose=0,
    ):
        self.backbone = backbone
        self.head_init = head_init
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.warmup = warmup
        self.frozen_groups = frozen_groups
        self.lr_decay = lr_decay
        self.head_dropout = head_dropout
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.backbone_kwargs = backbone_kwargs
        self.callbacks = callbacks
        self.device = device
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose

    def _check_params(self):
        if self.head_init not in ("linear_probe", "random"):
            raise ValueError(f"head_init must be 'linear_probe' or 'random', got {self.head_init!r}.")
        return super()._check_params()

    def _init_head(self, module, spec, backbone, X, items, y, device, train_index):
        if self.head_init != "linear_probe":
            return
        import torch
        from sklearn.linear_model import LogisticRegression

        from ..cache import cached_encode, feature_identity, stores_for
        from ._network import encode

        # With early stopping the probe sees the training rows only, so the
        # validation loss stays an honest measure from the first epoch.
        if len(np.unique(y[train_index])) == len(np.unique(y)):
            items = items[train_index] if isinstance(items, np.ndarray) else [items[i] for i in train_index]
            X = [X[i] for i in train_index]
            y = y[train_index]
        module.backbone.eval()

        def encode_items(rows):
            return encode(backbone, module.backbone, rows, batch_size=self.batch_size, device=device,
                          progress=bool(self.verbose), desc="linear probe",
                          dtype=v.check_precision(self.precision, device))

        # The untrained backbone computes exactly PretrainedFeaturizer's
        # features: shared with it through the embedding cache, so that a
        # grid search over fine-tuning settings encodes each text once.
        identity = None
        if backbone.input_kind in ("text", "image"):
            options = dict(self.backbone_kwargs or {})
            if self.precision != "fp32":  # reduced-precision features are other features
                options["precision"] = self.precision
            identity = feature_identity(spec, backbone, options)
        if identity is not None:
            features = cached_encode(list(X), identity, stores_for(True),
                                     lambda texts: encode_items(backbone.prepare(texts)))
        else:
            features = encode_items(items)
        probe = LogisticRegression(C=1.0, max_iter=1000).fit(features, y)
        coef, intercept = probe.coef_, probe.intercept_
        if coef.shape[0] == 1:  # binary: softmax over (-z/2, z/2) equals sigmoid(z)
            coef = np.vstack([-coef / 2, coef / 2])
            intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
        linear = module.head[-1]
        with torch.no_grad():
            linear.weight.copy_(torch.as_tensor(coef, dtype=linear.weight.dtype))
            linear.bias.copy_(torch.as_tensor(intercept, dtype=linear.bias.dtype))


class ScratchClassifier(_BackboneClassifier):
    __doc__ = """Learning from scratch: a backbone with random initial weights, trained on your data alone.

    The same contract as :class:`FineTunedClassifier`; ``backbone="minilm"``
    trains the MiniLM architecture from random weights, ``"textcnn"`` (the
    default) is Kim's (2014) CNN, ``"mlp"`` works on numeric matrices.

    Parameters
    ----------
    backbone : str, default="textcnn"
        Any registered backbone (``skadapt.list_backbones()``).
""" + _SHARED_PARAMS + """
    Examples
    --------
    >>> from skadapt import ScratchClassifier
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = ScratchClassifier(backbone="mlp", lr=1e-2, max_epochs=30, random_state=0).fit(X, y)
    >>> bool(clf.score(X, y) > 0.9)
    True
    """

    _pretrained = False

    def __init__(
        self,
        backbone="textcnn",
        *,
        lr=1e-3,
        max_epochs=10,
        batch_size=50,
        weight_decay=0.0,
        warmup=0.0,
        frozen_groups=0,
        lr_decay=1.0,
        head_dropout=0.5,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=2,
        backbone_kwargs=None,
        callbacks=None,
        device="auto",
        precision="fp32",
        random_state=None,
        verbose=0,
    ):
        self.backbone = backbone
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.warmup = warmup
        self.frozen_groups = frozen_groups
        self.lr_decay = lr_decay
        self.head_dropout = head_dropout
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.backbone_kwargs = backbone_kwargs
        self.callbacks = callbacks
        self.device = device
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose
