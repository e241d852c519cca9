"""Fine-tuning and learning from scratch: one skorch training loop, two starting points."""

import math
import numbers

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from ..registry import get_backbone
from . import _validation as v


class _BackboneClassifier(ClassifierMixin, BaseEstimator):
    """Backbone + new head trained by a skorch ``NeuralNetClassifier`` built in ``fit``.

    Composition rather than subclassing skorch: the constructor takes only
    skadapt's own arguments (so ``clone``/``GridSearchCV`` see plain
    parameters), and the skorch net, built in ``fit``, is ``net_``.
    """

    _pretrained = None  # set by the subclasses

    # -- sklearn plumbing ---------------------------------------------------
    def __sklearn_tags__(self):
        return v.set_input_tags(super().__sklearn_tags__(), self.backbone)

    def __sklearn_is_fitted__(self):
        return hasattr(self, "net_")

    # -- fit ----------------------------------------------------------------
    def _check_params(self):
        v.check_positive(self.lr, "lr")
        v.check_positive(self.max_epochs, "max_epochs", numbers.Integral)
        v.check_positive(self.batch_size, "batch_size", numbers.Integral)
        v.check_scalar(self.weight_decay, "weight_decay", numbers.Real, min_val=0)
        v.check_fraction(self.warmup, "warmup")
        v.check_fraction(self.head_dropout, "head_dropout", include_one=False)
        v.check_scalar(self.lr_decay, "lr_decay", numbers.Real, min_val=0, max_val=1, include_boundaries="right")
        v.check_scalar(self.validation_fraction, "validation_fraction", numbers.Real, min_val=0, max_val=1, include_boundaries="neither")
        v.check_positive(self.n_iter_no_change, "n_iter_no_change", numbers.Integral)
        if not (self.frozen_groups == "all" or (isinstance(self.frozen_groups, numbers.Integral) and self.frozen_groups >= 0)):
            raise ValueError(
                f"frozen_groups must be a non-negative integer or 'all', got {self.frozen_groups!r}."
            )
        if self.backbone_kwargs is not None and not isinstance(self.backbone_kwargs, dict):
            raise ValueError(f"backbone_kwargs must be a dict or None, got {type(self.backbone_kwargs).__name__}.")
        spec = get_backbone(self.backbone)
        if self._pretrained and not spec.has_pretrained:
            raise ValueError(
                f"backbone {self.backbone!r} has no pretrained weights, so it cannot be fine-tuned; "
                f"use ScratchClassifier(backbone={self.backbone!r}) or a pretrained backbone such as 'minilm'."
            )
        return spec

    def fit(self, X, y):
        """Build the backbone and head and train them on ``(X, y)``.

        Parameters
        ----------
        X : list of str, array of shape (n_samples, n_features), or images
            Texts for text backbones, a numeric matrix for ``mlp``; for image
            backbones an array ``(n_samples, height, width[, channels])``
            (uint8, or floats in [0, 1]), a list of PIL images or of file paths.
        y : array-like of shape (n_samples,)
            Labels of any hashable type.

        Returns
        -------
        self
        """
        spec = self._check_params()
        X = v.check_input(self, X, spec.input_kind, reset=True)
        classes, y_encoded = v.check_targets(y, len(X))
        device = v.resolve_device(self.device)
        dtype = v.check_precision(self.precision, device)
        seed = v.seed_from(self.random_state)
        with v.seeded(seed, device):
            backbone = spec.create(**(self.backbone_kwargs or {}))
            backbone.fit(X)
            net = self._make_net(backbone, len(classes), len(X), device, seed, dtype)
            net.initialize()  # builds the module, so the recipe can tokenise
            self._set_layerwise_lr(net)
            items = backbone.prepare(X)
            train_index = np.arange(len(items))
            if net.train_split is not None:  # the rows early stopping trains on
                train_index = np.asarray(net.get_split_datasets(items, y_encoded)[0].indices)
            self._init_head(net.module_, spec, backbone, X, items, y_encoded, device, train_index)
            net.partial_fit(items, y_encoded)
        # Adam's moment estimates and the last gradients would triple the size
        # of a pickled model and are useless for prediction.
        net.grad_scaler_ = None  # fp16 loss scaling state, needed only while training
        net.optimizer_.state.clear()
        net.optimizer_.zero_grad(set_to_none=True)
        # The torch scheduler references the optimizer, hence every weight, and
        # would be pickled a second time outside skorch's torch.save; skorch
        # recreates it at the start of any further training.
        callbacks = dict(net.callbacks_)
        callbacks["lr_schedule"].lr_scheduler_ = None
        # EarlyStopping has already loaded the best epoch's weights; its copy
        # of them would double the size of a pickled model.
        if "early_stopping" in callbacks:
            callbacks["early_stopping"].best_model_weights_ = None
        # Fitted attributes are set only once training has succeeded, so a
        # failed refit does not leave a mix of old and new state.
        self.classes_ = classes
        self.backbone_ = backbone
        self.net_ = net
        self.history_ = net.history
        return self

    def _init_head(self, module, spec, backbone, X, items, y, device, train_index):
        """Hook for FineTunedClassifier's linear-probe initialisation."""

    def _set_layerwise_lr(self, net):
        """Layer-wise learning rates, once the module (and so its groups) exists.

        The group just below the head learns at ``lr * lr_decay``, the one
        below at ``lr * lr_decay**2``, and so on (ULMFiT / ELECTRA style);
        skorch rebuilds the optimizer with these parameter groups.
        """
        if self.lr_decay == 1.0:
            return
        param_groups = [
            (f"backbone.{prefix}*", {"lr": self.lr * self.lr_decay**depth})
            for depth, (_, prefixes) in enumerate(reversed(net.module_.layer_groups), start=1)
            for prefix in prefixes
        ]
        # set_params would treat this as a "virtual" optimizer param and not
        # regroup; skorch reads optimizer__* attributes when it builds the optimizer.
        setattr(net, "optimizer__param_groups", param_groups)
        net.initialize_optimizer()

    def _make_net(self, backbone, n_classes, n_samples, device, seed, dtype):
        import torch
        from skorch.callbacks import EarlyStopping, LRScheduler, ProgressBar
        from skorch.dataset import ValidSplit

        from ._network import BackboneWithHead, Collate, MixedPrecisionNet, WarmupLinearDecay, length_grouped_loader

        n_train = n_samples - (math.ceil(n_samples * self.validation_fraction) if self.early_stopping else 0)
        total_steps = self.max_epochs * math.ceil(n_train / self.batch_size)
        callbacks = [
            ("lr_schedule", LRScheduler(
                policy=torch.optim.lr_scheduler.LambdaLR,
                lr_lambda=WarmupLinearDecay(total_steps, round(self.warmup * total_steps)),
                step_every="batch",
            )),
        ]
        train_split = None
        if self.early_stopping:
            # A fixed seed even when unseeded: the linear probe must see the
            # same split as the training loop (see FineTunedClassifier._init_head).
            split_seed = seed if seed is not None else int(np.random.randint(np.iinfo(np.int32).max))
            train_split = ValidSplit(self.validation_fraction, stratified=True, random_state=split_seed)
            callbacks.append(("early_stopping", EarlyStopping(patience=self.n_iter_no_change, load_best=True)))
        if self.verbose:
            callbacks.append(("progress_bar", ProgressBar()))
        for i, callback in enumerate(self.callbacks or []):
            callbacks.append(callback if isinstance(callback, tuple) else (f"user_{i}", callback))

        collate = Collate(backbone)
        # Token sequences: batches of similar length carry little padding,
        # which made fine-tuning MiniLM on SST-2 about 1.4x faster.
        iterator = {"iterator_train": length_grouped_loader} if backbone.input_kind == "text" else {}
        on_gpu = torch.device(device).type == "cuda"
        net = MixedPrecisionNet(
            module=BackboneWithHead,
            module__recipe=backbone,
            module__n_classes=n_classes,
            module__pretrained=self._pretrained,
            module__dropout=self.head_dropout,
            module__frozen_groups=self.frozen_groups,
            criterion=torch.nn.CrossEntropyLoss,
            optimizer=torch.optim.AdamW,
            optimizer__weight_decay=self.weight_decay,
            # One fused kernel per step instead of a dozen per parameter: the
            # optimiser step of MiniLM fell from 20 % of a CPU fine-tune to 3 %.
            optimizer__fused=torch.device(device).type in ("cpu", "cuda"),
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            train_split=train_split,
            callbacks=callbacks,
            iterator_train__shuffle=True,
            **iterator,
            iterator_train__collate_fn=collate,
            iterator_valid__collate_fn=collate,
            # Pinned host memory lets batches copy to the GPU asynchronously.
            iterator_train__pin_memory=on_gpu,
            iterator_valid__pin_memory=on_gpu,
            device=device,
            verbose=int(bool(self.verbose)),
            # Unpickling a fitted estimator restores whole modules (pickle runs
            # code anyway); skorch's weights-only default would refuse them.
            torch_load_kwargs={"weights_only": False},
        )
        net.precision_dtype = dtype
        return net

    # -- predict ------------------------------------------------------------
    def predict_proba(self, X):
        """Class probabilities, shape ``(n_samples, n_classes)``, columns in ``classes_`` order."""
        check_is_fitted(self)
        X = v.check_input(self, X, self.backbone_.input_kind, reset=False)
        from ._network import length_order

        items = self.backbone_.prepare(X)
        # Predict longest rows first, as encoding does, so batches carry little
        # padding; then put the rows back in the caller's order.
        order = length_order(items)
        proba = np.empty((len(items), len(self.classes_)), dtype=np.float64)
        ordered = items[order] if isinstance(items, np.ndarray) else [items[i] for i in order]
        proba[order] = self.net_.predict_proba(ordered)
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X):
        """Predicted labels, taken from ``classes_``."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]
