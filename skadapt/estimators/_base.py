"""Fine-tuning and learning from scratch: one skorch training loop, two starting points, every task.

:class:`_BackboneEstimator` holds what classifiers and regressors share: the
checks, building the backbone and the skorch net in ``fit``, the schedule,
the linear-probe start and batched prediction in the caller's row order.
The task subclasses say what ``y`` may be, which loss to train and how
network outputs become predictions.
"""

import math
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .. import tables
from ..registry import get_backbone
from . import _execution as x
from . import _long as long
from . import _table as tbl
from . import _validation as v
from ._state import TrainedNetState


# skorch's own options, reached with skorch's prefixes (see **skorch_params in the public estimators' docstrings).
SKORCH_PREFIXES = ("optimizer__", "criterion__", "iterator_train__", "iterator_valid__", "callbacks__")

# The parameters only the fine-tuned estimators have (the contrastive stage and the head's start) ...
FINE_TUNING_CONSTRAINTS = {
    "head_init": [StrOptions({"linear_probe", "random"})],
    "contrastive_steps": [StrOptions({"auto"}), v.NotBool(Integral, 0, None, closed="left")],
    "contrastive_lr": [StrOptions({"auto"}), v.NotBool(Real, 0, None, closed="neither")],
}
# ... and the one learning from scratch adds: lr="auto", the backbone's own rate (no pretrained one to keep).
SCRATCH_CONSTRAINTS = {"lr": [StrOptions({"auto"}), Interval(Real, 0, None, closed="neither")]}


class _BackboneEstimator(TrainedNetState, BaseEstimator):
    """Backbone + new linear head trained by a skorch net built in ``fit``.

    Composition rather than subclassing skorch: the constructor takes only
    skadapt's own arguments (so ``clone``/``GridSearchCV`` see plain
    parameters), and the skorch net, built in ``fit``, is ``net_``.
    """

    _pretrained = None  # set by the public classes

    # What every trained estimator takes, checked by sklearn's _validate_params at fit; the task classes
    # and the public classes add their own. skorch's prefixed options are not listed (see _check_params).
    _parameter_constraints: dict = {
        "backbone": [str],  # a registered name: get_backbone says which exist
        "lr": [Interval(Real, 0, None, closed="neither")],  # Scratch* also take "auto" (SCRATCH_CONSTRAINTS)
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "warmup": [Interval(Real, 0, 1, closed="both")],
        "frozen_groups": [StrOptions({"all"}), Interval(Integral, 0, None, closed="left")],
        "lr_decay": [Interval(Real, 0, 1, closed="right")],
        "head_dropout": [Interval(Real, 0, 1, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "backbone_kwargs": [dict, None],
        "text_columns": [str, list, tuple, None],  # the names are checked against the table's columns
        **long.CONSTRAINTS,
        "warm_start": ["boolean"],
        "callbacks": [list, tuple, None],
        "device": [v.DeviceOptions()],
        "precision": [StrOptions(set(x.PRECISIONS))],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    # -- sklearn plumbing ---------------------------------------------------
    # skorch's options are keyword arguments that the signature cannot list: kept
    # as attributes, reported by get_params and set by set_params as skorch does,
    # so that clone and GridSearchCV handle them like any other parameter. As
    # sklearn asks, nothing is checked before fit: a name without a skorch
    # prefix is refused there.
    def _set_skorch_params(self, params):
        for name, value in params.items():
            setattr(self, name, value)

    def _skorch_params(self):
        named = set(self._get_param_names())
        return {k: v for k, v in vars(self).items()
                if k not in named and not k.startswith("_") and not k.endswith("_")}

    def get_params(self, deep=True):
        return {**super().get_params(deep=deep), **self._skorch_params()}

    def set_params(self, **params):
        extra = {k: v for k, v in params.items() if k.startswith(SKORCH_PREFIXES) or k in self._skorch_params()}
        self._set_skorch_params(extra)
        return super().set_params(**{k: v for k, v in params.items() if k not in extra})

    def __sklearn_tags__(self):
        return v.set_input_tags(super().__sklearn_tags__(), self.backbone)

    def __sklearn_is_fitted__(self):
        return hasattr(self, "net_")

    def __setstate__(self, state):
        super().__setstate__(state)
        long.restore_defaults(self)
        vars(self).setdefault("warm_start", False)  # pickled before warm_start existed
        if "net_" in vars(self) and "precision_" not in vars(self):  # pickled before precision="auto" existed
            self.precision_ = x.precision_of(self.net_.precision_dtype)

    # -- task hooks (classifier / regressor) --------------------------------
    def _check_targets(self, y, n_samples):
        """Return a :class:`~._targets.Targets` for ``y``."""
        raise NotImplementedError

    def _encode_further(self, y, n_samples):
        """``y`` of a later ``partial_fit`` or warm-started ``fit``, encoded as the first fit's targets were."""
        raise NotImplementedError

    def _criterion(self, targets):
        """``(loss class, keyword arguments)`` for the training loop."""
        raise NotImplementedError

    def _net_options(self, targets):
        """skorch net class and extra constructor arguments."""
        raise NotImplementedError

    def _linear_probe(self, features, targets, y):
        """``(coef (n_outputs, d), intercept (n_outputs,))`` fitted on frozen features."""
        raise NotImplementedError

    # -- fit ----------------------------------------------------------------
    def _check_params(self):
        """The declared constraints, then the skorch options, which the table cannot list."""
        self._validate_params()
        for name in self._skorch_params():
            if not name.startswith(SKORCH_PREFIXES) or name in SKORCH_PREFIXES:
                raise ValueError(
                    f"{type(self).__name__} got an unknown parameter {name!r}; skorch's own options take a "
                    f"prefix: {', '.join(p + '<name>' for p in SKORCH_PREFIXES)}."
                )

    def _backbone_spec(self):
        spec = get_backbone(self.backbone)
        if self._pretrained and not spec.has_pretrained:
            scratch = type(self).__name__.replace("FineTuned", "Scratch")
            raise ValueError(
                f"backbone {self.backbone!r} has no pretrained weights, so it cannot be fine-tuned; "
                f"use {scratch}(backbone={self.backbone!r}) or a pretrained backbone such as 'minilm'."
            )
        return spec

    def fit(self, X, y, sample_weight=None):
        """Build the backbone and head and train them on ``(X, y)``.

        Parameters
        ----------
        X : list of str, array of shape (n_samples, n_features), or images
            Texts for text backbones, a numeric matrix for ``mlp``; for image
            backbones an array ``(n_samples, height, width[, channels])``
            (uint8, or floats in [0, 1]), a list of PIL images or of file paths.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Classifiers: labels of any hashable type, or a 0/1 indicator
            matrix for multi-label data. Regressors: numbers, one column
            per output.
        sample_weight : array-like of shape (n_samples,), default=None
            A non-negative weight per row: each row's loss is multiplied by
            it (with ``class_weight``'s, where both are given), so a weight of
            2 counts a row twice and 0 leaves it out of the loss. The
            linear-probe start is fitted with the same weights, and the
            contrastive stage draws rows in proportion to them. Routed by
            sklearn's metadata routing (``set_fit_request(sample_weight=True)``).

        Returns
        -------
        self
        """
        if getattr(self, "warm_start", False) and self.__sklearn_is_fitted__():
            self._check_params()
            return self._train_further(X, y, sample_weight, epochs=self.max_epochs, steady=False)
        return self._fit_new(X, y, sample_weight)

    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over ``(X, y)``, continuing from the fitted weights and optimizer state.

        The first call builds the model as ``fit`` does (the vocabulary, the
        table preprocessing and, for regressors, the target scaling are
        learned from its rows); every call then trains one epoch on all of
        its rows at the constant rate ``lr``: no warm-up or decay, since a
        call does not know how many will follow, and no early stopping.

        Parameters
        ----------
        X, y, sample_weight
            As in :meth:`fit`.

        Returns
        -------
        self
        """
        if not self.__sklearn_is_fitted__():
            return self._fit_new(X, y, sample_weight, epochs=1)
        return self._train_further(X, y, sample_weight, epochs=1, steady=True)

    def _backbone_options(self, spec):
        """The options a new backbone is created with: ``backbone_kwargs`` (an estimator may add defaults)."""
        return dict(self.backbone_kwargs or {})

    def _initial_targets(self, y, n_samples, classes=None):
        return self._check_targets(y, n_samples)

    def _fit_new(self, X, y, sample_weight, classes=None, epochs=None):
        """A model built from ``(X, y)``; ``epochs``: that many steady epochs (``partial_fit``) instead of
        ``fit``'s schedule."""
        self._check_params()
        spec = self._backbone_spec()
        table = tbl.fit(self, X, spec.input_kind)
        values = None
        if table["table_"] is not None:  # a table: its text columns joined, its other columns beside them
            X, values = tbl.read(X, table)
        else:
            X = v.check_input(self, X, spec.input_kind, reset=True)
        targets = self._initial_targets(y, len(X), classes)
        sample_weight = v.check_sample_weight(sample_weight, len(X))
        held_out = math.ceil(len(X) * self.validation_fraction)
        if self.early_stopping and len(X) - held_out < 1:
            raise ValueError(
                f"early_stopping=True holds out validation_fraction={self.validation_fraction} of the rows, which "
                f"leaves none to train on with n_samples={len(X)}; give more rows or set early_stopping=False."
            )
        device = x.resolve_device(self.device)
        dtype = x.check_precision(self.precision, device)
        seed = x.seed_from(self.random_state)
        with x.seeded(seed, device):
            backbone = spec.create(**self._backbone_options(spec))
            if spec.input_kind == "array":
                v.check_width(backbone, X, self.backbone)
            backbone.fit(X)
            net = self._make_net(backbone, targets, len(X), device, seed, dtype, n_table=tbl.n_features(table))
            net.initialize()  # builds the module, so the recipe can tokenise
            self._set_layerwise_lr(net)
            splitter = long.fit_splitter(self, backbone)
            items, stats = long.prepare(backbone, splitter, X, self.backbone, "X")
            train_index = np.arange(len(items))
            if net.train_split is not None:  # the rows early stopping trains on
                train_index = np.asarray(net.get_split_datasets(items, targets.encoded)[0].indices)
            _fit_schedule(net, items, train_index, self.max_epochs, self.batch_size, self.warmup)
            steps = self._contrastive_steps(targets, train_index, net.module_, items)
            if steps:
                self._train_body(net, backbone, items, targets, train_index, steps, device, dtype, sample_weight)
            if getattr(self, "head_init", "random") == "linear_probe":
                self._init_head(net.module_, spec, backbone, X, items, targets, device, train_index,
                                pretrained_features=not steps, splitter=splitter, table_values=values,
                                sample_weight=sample_weight)
            rows = _training_rows(items, values, sample_weight)
            if epochs is None:
                net.partial_fit(rows, targets.encoded)
            else:
                _train_steady(net, rows, targets.encoded, epochs)
        _drop_training_state(net, keep_optimizer=epochs is not None or getattr(self, "warm_start", False))
        # Fitted attributes are set only once training has succeeded, so a
        # failed refit does not leave a mix of old and new state.
        for name, value in targets.attributes.items():
            setattr(self, name, value)
        tbl.set_state(self, table)
        self.backbone_ = backbone
        self.net_ = net
        self.history_ = net.history
        self.contrastive_steps_ = steps
        self.precision_ = x.precision_of(dtype)
        self.text_splitter_ = splitter
        self.long_text_stats_ = long.summary(stats)
        return self

    def _train_further(self, X, y, sample_weight, epochs, steady):
        """Train the fitted network on ``(X, y)``: ``partial_fit``'s steady epochs, or ``fit``'s schedule again
        (``warm_start``), from the kept weights and optimizer state."""
        net = self.net_
        items, values, stats = self._read_fitted(X)
        encoded = self._encode_further(y, len(items))
        sample_weight = v.check_sample_weight(sample_weight, len(items))
        rows = _training_rows(items, values, sample_weight)
        with x.seeded(x.seed_from(self.random_state), str(net.device)):
            if steady:
                _train_steady(net, rows, encoded, epochs)
            else:
                train_index = np.arange(len(items))
                if net.train_split is not None:
                    train_index = np.asarray(net.get_split_datasets(items, encoded)[0].indices)
                _restart_schedule(net, items, train_index, epochs, self.batch_size, self.warmup)
                net.partial_fit(rows, encoded, epochs=epochs)
        _drop_training_state(net, keep_optimizer=True)
        self.history_ = net.history
        self.long_text_stats_ = long.summary(stats)
        return self

    # -- the contrastive body stage (few rows) ----------------------------------
    def _contrastive_steps(self, targets, train_index, module, items):
        """How many steps the contrastive stage runs (0: none); see ``contrastive_steps``."""
        from ._contrastive import AUTO_MAX_ROWS_PER_CLASS, auto_steps, rows_per_batch

        requested = getattr(self, "contrastive_steps", 0)
        if module.frozen or len(train_index) < 2:  # nothing to train, or no pair
            return 0
        if requested != "auto":
            return int(requested)
        if self._similarity_kind(targets) != "labels":  # measured for single-label data only
            return 0
        rows_per_class = len(train_index) / targets.n_outputs
        if rows_per_class > AUTO_MAX_ROWS_PER_CLASS:
            return 0
        return auto_steps(len(train_index), rows_per_batch([items[i] for i in train_index]))

    def _similarity_kind(self, targets):
        """How two rows' targets make a target similarity (see ``_contrastive.target_similarity``)."""
        raise NotImplementedError

    def _train_body(self, net, backbone, items, targets, train_index, steps, device, dtype, sample_weight=None):
        from ._contrastive import auto_lr, train_body
        from ._network import Collate, PooledBackbone

        rows = items[train_index] if isinstance(items, np.ndarray) else [items[i] for i in train_index]
        # Through the chunk pooling, so the stage sees the same pooled representation as the head.
        body = PooledBackbone(net.module_.backbone, net.module_.pool)
        lr = auto_lr(steps) if self.contrastive_lr == "auto" else self.contrastive_lr
        train_body(body, rows, targets.encoded[train_index], self._similarity_kind(targets), steps=steps, lr=lr,
                   weight_decay=self.weight_decay, device=device, dtype=dtype,
                   collate=Collate(backbone), progress=bool(self.verbose),
                   sample_weight=None if sample_weight is None else sample_weight[train_index])

    def _init_head(self, module, spec, backbone, X, items, targets, device, train_index, pretrained_features=True,
                   splitter=None, table_values=None, sample_weight=None):
        """LP-FT: start the head from a linear model fitted on the frozen features.

        ``pretrained_features``: whether the backbone still has its pretrained
        weights, so that its features can come from the embedding cache.
        ``table_values``: a table's other columns, preprocessed, which the
        head reads beside the text features (so does the probe).
        """
        import torch

        from ..cache import cached_encode, feature_identity, stores_for
        from ._network import encode

        # With early stopping the probe sees the training rows only, so the
        # validation loss stays an honest measure from the first epoch.
        y = targets.encoded[train_index]
        if len(train_index) < len(items) and self._probe_can_use(y, targets):
            items = items[train_index] if isinstance(items, np.ndarray) else [items[i] for i in train_index]
            X = [X[i] for i in train_index]
            if table_values is not None:
                table_values = table_values[train_index]
            if sample_weight is not None:
                sample_weight = sample_weight[train_index]
        else:
            y = targets.encoded
        module.backbone.eval()
        precision = x.resolve_precision(self.precision, device)  # as the training loop runs
        dtype = x.check_precision(precision, device)

        def encode_items(rows):
            return encode(backbone, module.backbone, rows, batch_size=self.batch_size, device=device,
                          progress=bool(self.verbose), desc="linear probe",
                          dtype=dtype, pool=module.pool)

        # The untrained backbone computes exactly PretrainedFeaturizer's
        # features: shared with it through the embedding cache, so that a
        # grid search over fine-tuning settings encodes each text once.
        identity = None
        if pretrained_features and backbone.input_kind in ("text", "image"):
            options = dict(self.backbone_kwargs or {})
            if precision != "fp32":  # reduced-precision features are other features
                options["precision"] = precision
            if splitter is not None:  # long texts cut another way are other features
                options["long_texts"] = long.feature_policy(splitter)
            identity = feature_identity(spec, backbone, options)
        if identity is not None:
            features = cached_encode(
                list(X), identity, stores_for(True),
                lambda texts: encode_items(long.prepare(backbone, splitter, texts, self.backbone, "X", warn=False)[0]))
        else:
            features = encode_items(items)
        if table_values is not None:
            features = np.hstack([features, table_values])
        coef, intercept = self._linear_probe(features, targets, y, sample_weight)
        linear = module.head[-1]
        with torch.no_grad():
            linear.weight.copy_(torch.as_tensor(coef, dtype=linear.weight.dtype))
            linear.bias.copy_(torch.as_tensor(intercept, dtype=linear.bias.dtype))

    def _probe_can_use(self, y, targets):
        """Whether the probe can be fitted on the early-stopping training rows alone."""
        return True

    def _set_layerwise_lr(self, net):
        """Layer-wise learning rates, once the module (and so its groups) exists.

        The group just below the head learns at ``lr * lr_decay``, the one
        below at ``lr * lr_decay**2``, and so on (ULMFiT / ELECTRA style);
        skorch rebuilds the optimizer with these parameter groups.
        """
        if self.lr_decay == 1.0:
            return
        decayed = [
            (f"backbone.{prefix}*", {"lr": net.lr * self.lr_decay**depth})
            for depth, (_, prefixes) in enumerate(reversed(net.module_.layer_groups), start=1)
            for prefix in prefixes
        ]
        # The user's own optimizer__param_groups come first: skorch gives each
        # parameter to the first group whose pattern matches, so theirs win
        # where they match and the decay applies to the rest.
        user = list(getattr(net, "optimizer__param_groups", None) or [])
        # set_params would treat this as a "virtual" optimizer param and not
        # regroup; skorch reads optimizer__* attributes when it builds the optimizer.
        setattr(net, "optimizer__param_groups", user + decayed)
        net.initialize_optimizer()

    def _make_net(self, backbone, targets, n_samples, device, seed, dtype, n_table=0):
        import torch
        from skorch.callbacks import EarlyStopping, LRScheduler, ProgressBar
        from skorch.dataset import ValidSplit

        from ._network import (BackboneWithHead, Collate, WarmupLinearDecay, adamw_options, capped_loader,
                               length_grouped_loader)

        total_steps = _total_steps(n_samples, self.max_epochs, self.batch_size, self.validation_fraction,
                                   self.early_stopping)
        callbacks = [
            ("lr_schedule", LRScheduler(
                policy=torch.optim.lr_scheduler.LambdaLR,
                lr_lambda=WarmupLinearDecay(total_steps, round(self.warmup * total_steps)),
                step_every="batch",
                # Every fit runs the schedule from its start: skorch would resume it at
                # len(history) - 1, which a warm-started fit's history makes non-zero.
                last_epoch=-1,
            )),
        ]
        train_split = None
        if self.early_stopping:
            # A fixed seed even when unseeded: the linear probe must see the
            # same split as the training loop (see _init_head).
            split_seed = seed if seed is not None else int(np.random.randint(np.iinfo(np.int32).max))
            train_split = ValidSplit(self.validation_fraction, stratified=targets.stratify, random_state=split_seed)
            callbacks.append(("early_stopping", EarlyStopping(patience=self.n_iter_no_change, load_best=True)))
        if self.verbose:
            callbacks.append(("progress_bar", ProgressBar()))
        for i, callback in enumerate(self.callbacks or []):
            callbacks.append(callback if isinstance(callback, tuple) else (f"user_{i}", callback))

        collate = Collate(backbone)
        # Token sequences: batches of similar length carry little padding,
        # which made fine-tuning MiniLM on SST-2 about 1.4x faster.
        # Chunked long texts: every batch also holds at most batch_size sequences.
        iterator = ({"iterator_train": length_grouped_loader, "iterator_valid": capped_loader}
                    if backbone.input_kind == "text" else {})
        on_gpu = torch.device(device).type == "cuda"
        criterion, criterion_kwargs = self._criterion(targets)
        net_class, net_kwargs = self._net_options(targets)
        options = dict(
            module=BackboneWithHead,
            module__recipe=backbone,
            module__n_outputs=targets.n_outputs,
            module__pretrained=self._pretrained,
            module__dropout=self.head_dropout,
            module__frozen_groups=self.frozen_groups,
            module__chunk_pooling=long.chunk_pooling(self, backbone),
            module__n_table=n_table,
            criterion=criterion,
            **{f"criterion__{k}": value for k, value in criterion_kwargs.items()},
            **adamw_options(self.weight_decay, device),
            lr=backbone.scratch_lr if self.lr == "auto" else self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            train_split=train_split,
            callbacks=callbacks,
            iterator_train__shuffle=True,
            **iterator,
            iterator_train__collate_fn=collate,
            iterator_valid__collate_fn=collate,
            # Its own generator: a DataLoader draws a seed from torch's global one each
            # time it is iterated, which would move another thread's seeded training.
            iterator_valid__generator=torch.Generator(),
            # Pinned host memory lets batches copy to the GPU asynchronously.
            iterator_train__pin_memory=on_gpu,
            iterator_valid__pin_memory=on_gpu,
            device=device,
            verbose=int(bool(self.verbose)),
            # Unpickling a fitted estimator restores whole modules (pickle runs
            # code anyway); skorch's weights-only default would refuse them.
            torch_load_kwargs={"weights_only": False},
            **net_kwargs,
        )
        options.update(self._skorch_params())  # the user's skorch options win over skadapt's choices
        net = net_class(**options)
        net.precision_dtype = dtype
        return net

    # -- predict ------------------------------------------------------------
    def _read_fitted(self, X):
        """``X`` read as ``fit`` read its rows: ``(items, a table's other columns or None, long-text stats)``."""
        values = None
        if tbl.fitted(self):
            X, values = tbl.read(tables.check_table(self, X), tbl.state_of(self))
        else:
            X = v.check_input(self, X, self.backbone_.input_kind, reset=False)
        items, stats = long.prepare(self.backbone_, getattr(self, "text_splitter_", None), X, self.backbone, "X")
        return items, values, stats

    def _network_outputs(self, X):
        """The net's outputs for ``X`` (classifiers: logits; regressors: standardised
        predictions), float64, rows in the caller's order."""
        check_is_fitted(self)
        from ._network import length_order

        items, values, _ = self._read_fitted(X)
        if values is not None:
            items = tables.attach(items, values)
        # Predict longest rows first, as encoding does, so batches carry little
        # padding; then put the rows back in the caller's order.
        order = length_order(items)
        ordered = items[order] if isinstance(items, np.ndarray) else [items[i] for i in order]
        raw = self.net_.predict_proba(ordered)
        out = np.empty(raw.shape, dtype=np.float64)
        out[order] = raw
        return out


def _total_steps(n_samples, epochs, batch_size, validation_fraction, early_stopping):
    n_train = n_samples - (math.ceil(n_samples * validation_fraction) if early_stopping else 0)
    return epochs * math.ceil(n_train / batch_size)


def _training_rows(items, table_values, sample_weight):
    """What skorch trains on: the prepared rows, with a table's other columns and each row's weight riding along."""
    rows = items if table_values is None else tables.attach(items, table_values)
    if sample_weight is None:
        return rows
    from ._network import with_weights

    return with_weights(rows, sample_weight)


def _train_steady(net, rows, y, epochs):
    """``epochs`` epochs at the constant peak rate on every row (``partial_fit``).

    The schedule and early stopping are left out of these epochs alone; the
    rate goes back to the peak, where the last schedule had decayed it.
    """
    callbacks, split = net.callbacks_, net.train_split
    for group in net.optimizer_.param_groups:
        group["lr"] = group.get("initial_lr", group["lr"])
    net.callbacks_ = [(name, cb) for name, cb in callbacks if name not in ("lr_schedule", "early_stopping")]
    net.train_split = None
    try:
        net.partial_fit(rows, y, epochs=epochs)
    finally:
        net.callbacks_, net.train_split = callbacks, split


def _restart_schedule(net, items, train_index, epochs, batch_size, warmup):
    """The warm-up/decay schedule over a warm-started fit's own rows and epochs."""
    schedule = getattr(dict(net.callbacks_).get("lr_schedule"), "lr_lambda", None)
    if hasattr(schedule, "total_steps"):
        total = epochs * math.ceil(len(train_index) / batch_size)
        schedule.total_steps, schedule.warmup_steps = max(1, total), round(warmup * total)
    _fit_schedule(net, items, train_index, epochs, batch_size, warmup)


def _fit_schedule(net, items, train_index, max_epochs, batch_size, warmup):
    """Stretch the warm-up/decay schedule over the batches chunked long texts make.

    ``_make_net`` counts ``ceil(rows / batch_size)`` batches per epoch; with
    chunked texts a batch holds at most ``batch_size`` sequences, so there
    are more, and the rate would reach 0 before the end of training.
    """
    from ._network import LengthGroupedBatches
    from .._long_texts import n_sequences

    sizes = np.fromiter((n_sequences(items[i]) for i in train_index), dtype=np.int64, count=len(train_index))
    schedule = getattr(dict(net.callbacks_).get("lr_schedule"), "lr_lambda", None)
    if not (sizes > 1).any() or not hasattr(schedule, "total_steps"):
        return
    lengths = np.fromiter((len(items[i]) for i in train_index), dtype=np.int64, count=len(train_index))
    drop_last = bool(getattr(net, "iterator_train__drop_last", False))
    total = max_epochs * len(LengthGroupedBatches(lengths, batch_size, drop_last=drop_last, sizes=sizes))
    schedule.total_steps, schedule.warmup_steps = max(1, total), round(warmup * total)


def _drop_training_state(net, keep_optimizer=False):
    """Forget what only training needs, before the net is kept (and maybe pickled).

    ``keep_optimizer``: keep Adam's moments for a later ``partial_fit`` or
    warm-started ``fit`` (which is why only those make larger pickles).
    """
    # Adam's moment estimates and the last gradients would triple the size
    # of a pickled model and are useless for prediction.
    if not keep_optimizer:
        net.grad_scaler_ = None  # fp16 loss scaling state, needed only while training
        net.optimizer_.state.clear()
    net.optimizer_.zero_grad(set_to_none=True)
    # The torch scheduler references the optimizer, hence every weight, and
    # would be pickled a second time outside skorch's torch.save; skorch
    # recreates it at the start of any further training.
    callbacks = dict(net.callbacks_)
    if callbacks.get("lr_schedule") is not None:  # None: the user switched the schedule off
        callbacks["lr_schedule"].lr_scheduler_ = None
    # EarlyStopping has already loaded the best epoch's weights; its copy
    # of them would double the size of a pickled model.
    if callbacks.get("early_stopping") is not None:
        callbacks["early_stopping"].best_model_weights_ = None
