"""Transfer learning: a frozen pretrained backbone as a feature extractor."""

import copy
import os
from numbers import Integral

import joblib
import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .. import tables
from ..cache import build_module, cached_encode, feature_identity, stores_for
from ..registry import get_backbone
from . import _execution as x
from . import _long as long
from . import _table as tbl
from . import _validation as v
from ._state import FrozenModuleState


class PretrainedFeaturizer(FrozenModuleState, TransformerMixin, BaseEstimator):
    """Frozen pretrained backbone -> features, for any sklearn model on top.

    ``fit`` loads the backbone's pretrained weights and learns nothing from
    the data (the transformer is stateless); ``transform`` returns the
    features as a float32 array, computed in batches without gradients.

    Parameters
    ----------
    backbone : str, default="minilm"
        A registered backbone with pretrained weights (``skadapt.list_backbones()``);
        ``"sbert:/path/to/model"`` loads any sentence-transformers model,
        ``"exported:/path"`` a backbone saved by :func:`skadapt.export_backbone`.
        Image backbones take an array ``(n, height, width[, channels])``, PIL
        images or file paths as ``X``.
    batch_size : int, default=32
        Rows encoded at once.
    normalize : bool or None, default=None
        L2-normalise the features (``True``), don't (``False``), or keep the
        model's own choice (``None``; all-MiniLM-L6-v2 normalises).
    pooling : {"mean", "cls", "max", "lasttoken", "weightedmean"} or None, default=None
        How token features become one vector; ``None`` keeps the model's.
    max_length : int or None, default=None
        Tokens the backbone reads at once; ``None`` keeps the model's (MiniLM: 256).
    text_columns : str, list of str or None, default=None
        When ``X`` is a pandas DataFrame of several columns (a table), the
        columns read as text; ``None`` detects them (columns of strings whose
        non-empty values average 3 words or more, or 2 or more with over half
        of them distinct). Each text column is encoded apart (a missing cell
        is an empty text); every other column (numbers, booleans, dates,
        categories) is imputed, scaled or one-hot encoded by a fitted
        scikit-learn ``ColumnTransformer`` and follows the text features, so
        ``make_pipeline(PretrainedFeaturizer(), HistGradientBoostingClassifier())``
        learns from the whole table. A list of texts or a one-column DataFrame
        is read as before.
    long_texts : {"chunk", "truncate", "head_tail"}, default="chunk"
        What happens to a text longer than that. ``"chunk"`` cuts it into
        consecutive chunks, encodes each and pools their features into one
        row (see ``chunk_pooling``); ``"truncate"`` keeps the first tokens;
        ``"head_tail"`` the first quarter and the last three quarters of the
        limit (Sun et al., 2019). A text within the limit gets exactly the
        features it always had. When tokens are dropped, ``transform`` warns
        once (:class:`skadapt.LongTextWarning`).
    chunk_overlap : int, default=0
        ``"chunk"``: tokens shared by neighbouring chunks (less than a chunk).
    max_chunks : int, default=32
        ``"chunk"``: at most this many chunks per text; beyond it the first
        ``max_chunks - 1`` and the last are read (``max_chunks=1``: the
        first), with a warning. A batch holds at most ``max(batch_size,
        max_chunks)`` sequences of the limit's length.
    chunk_pooling : {"mean", "max"}, default="mean"
        ``"chunk"``: a long text's row is the mean of its chunks' features
        or their maximum per feature (not normalised again).
    backbone_kwargs : dict, default=None
        Further backbone options.
    cache : bool, str, path or joblib.Memory, default=True
        Reuse the features of texts already encoded by this backbone with the
        same weights and options — across folds, grid candidates and refits
        (see ``docs/caching.md``). ``True``: in this process (a bounded
        in-memory store); a folder or a ``joblib.Memory``: also on disk, shared
        by worker processes and later runs; ``False``: always encode.
    device : {"auto", "cpu", "cuda", "mps"}, default="auto"
        ``"auto"`` uses a CUDA GPU when one is present. Resolved at each
        ``transform``, so a featurizer pickled on a GPU machine runs on a CPU one.
    precision : {"auto", "fp32", "bf16", "fp16"}, default="auto"
        ``"auto"``: bfloat16 where the device computes it natively (a CPU
        with AVX-512 BF16 or AMX, a CUDA GPU of the Ampere generation or
        newer), fp32 elsewhere; resolved at ``fit`` into ``precision_`` and
        again at each ``transform`` on the device of that call. ``"bf16"``/
        ``"fp16"``: encode under ``torch.autocast`` always. Features are
        returned as float32 either way, and cached apart from fp32 ones.
    verbose : int, default=0
        ``1`` shows a progress bar over the batches.

    Attributes
    ----------
    backbone_ : skadapt.backbones.Backbone
        The loaded backbone recipe (tokeniser).
    module_ : torch.nn.Module
        The frozen backbone module, in eval mode; shared with every other
        featurizer of the same backbone and options in this process.
    n_features_out_ : int
        Width of the features.
    precision_ : {"fp32", "bf16", "fp16"}
        The precision the features are encoded in: ``precision``, with
        ``"auto"`` resolved on the device at ``fit``. Kept by
        ``skadapt.save``/``load``.
    text_splitter_ : dict or None
        Text backbones: how long texts are cut (policy, limit in tokens,
        overlap, bound, pooling); ``None`` for other inputs.
    table_ : dict or None
        For a table: its ``columns``, the ``kinds`` found (``"text"``,
        ``"number"``, ``"bool"``, ``"datetime"``, ``"category"``) and its
        ``text_columns``; ``None`` for texts.
    table_preprocessor_ : sklearn.compose.ColumnTransformer or None
        The fitted preprocessing of a table's other columns.
    feature_names_in_ : ndarray of str
        A table's columns (only when fitted on a table).

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from skadapt import PretrainedFeaturizer
    >>> featurizer = PretrainedFeaturizer().fit(["a first text"])
    >>> featurizer.transform(["hello world", "good film"]).shape
    (2, 384)
    >>> clf = make_pipeline(PretrainedFeaturizer(), LogisticRegression())

    A table: each text column's features, then its other columns preprocessed.

    >>> import pandas as pd
    >>> table = pd.DataFrame({"title": ["Great dress", "Too small"], "review": ["I love it, fits well.",
    ...                       "Had to send it back."], "age": [34, 51], "department": ["Dresses", "Tops"]})
    >>> featurizer = PretrainedFeaturizer(text_columns=["title", "review"]).fit(table)
    >>> featurizer.transform(table).shape
    (2, 771)
    >>> featurizer.get_feature_names_out()[[0, 384, 768, 769]].tolist()
    ['title_0', 'review_0', 'age', 'department_Dresses']
    """

    # Checked by sklearn's _validate_params at fit.
    _parameter_constraints: dict = {
        "backbone": [str],  # a registered name: get_backbone says which exist
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        # normalize, pooling and max_length go to the backbone, which knows its own pooling modes and limits
        "normalize": ["boolean", None],
        "pooling": [str, None],
        "max_length": [Interval(Integral, 1, None, closed="left"), None],
        "text_columns": [str, list, tuple, None],  # the names are checked against the table's columns
        **long.FROZEN_CONSTRAINTS,
        "backbone_kwargs": [dict, None],
        "cache": [bool, str, os.PathLike, joblib.Memory, None],
        "device": [v.DeviceOptions()],
        "precision": [StrOptions(set(x.PRECISIONS))],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        backbone="minilm",
        *,
        batch_size=32,
        normalize=None,
        pooling=None,
        max_length=None,
        text_columns=None,
        long_texts="chunk",
        chunk_overlap=0,
        max_chunks=32,
        chunk_pooling="mean",
        backbone_kwargs=None,
        cache=True,
        device="auto",
        precision="auto",
        verbose=0,
    ):
        self.backbone = backbone
        self.batch_size = batch_size
        self.normalize = normalize
        self.pooling = pooling
        self.max_length = max_length
        self.text_columns = text_columns
        self.long_texts = long_texts
        self.chunk_overlap = chunk_overlap
        self.max_chunks = max_chunks
        self.chunk_pooling = chunk_pooling
        self.backbone_kwargs = backbone_kwargs
        self.cache = cache
        self.device = device
        self.precision = precision
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = v.set_input_tags(super().__sklearn_tags__(), self.backbone)
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags

    def _backbone_options(self):
        options = dict(self.backbone_kwargs or {})
        for name in ("normalize", "pooling", "max_length"):
            if getattr(self, name) is not None:
                options[name] = getattr(self, name)
        return options

    def fit(self, X, y=None, sample_weight=None):
        """Load the pretrained backbone; ``X`` is only validated.

        Parameters
        ----------
        X : list of str, 1-D array, Series, DataFrame or images
            The texts (or a table, a numeric array for ``mlp``, or images for
            an image backbone).
        y : None
            Ignored: the features do not depend on labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Validated, then unused: a frozen backbone learns nothing from the
            rows, so their weights matter only to the model fitted on the
            features (route them there with ``set_fit_request``).

        Returns
        -------
        self
        """
        self._validate_params()
        spec = get_backbone(self.backbone)
        if not spec.has_pretrained:
            raise ValueError(
                f"backbone {self.backbone!r} has no pretrained weights, so its features would be "
                "random; use a pretrained backbone such as 'minilm' (see skadapt.list_backbones())."
            )
        table = tbl.fit(self, X, spec.input_kind)
        if table["table_"] is None:
            X = v.check_input(self, X, spec.input_kind, reset=True)
        v.check_sample_weight(sample_weight, len(X))
        stores = stores_for(self.cache)
        device = x.resolve_device(self.device)
        precision = x.resolve_precision(self.precision, device)
        x.check_precision(precision, device)
        options = self._backbone_options()
        backbone = spec.create(**options)
        if spec.input_kind == "array":
            v.check_width(backbone, X, self.backbone)
        module = build_module(backbone, pretrained=True, trainable=False)  # shared, on the CPU
        splitter = long.fit_splitter(self, backbone)  # once built: the recipe knows its limit
        if device != "cpu":  # a private copy: the shared module stays where others expect it
            module = copy.deepcopy(module).to(device)
        tbl.set_state(self, table)
        self.backbone_ = backbone
        self.module_ = module
        n_texts = len(table["table_"]["text_columns"]) if table["table_"] else 1
        self.n_features_out_ = backbone.out_features * n_texts + tbl.n_features(table)
        self.text_splitter_ = splitter
        self.precision_ = precision
        identity_options = options if precision == "fp32" else {**options, "precision": precision}
        if splitter is not None:  # long texts cut another way are other features
            identity_options = {**identity_options, "long_texts": long.feature_policy(splitter)}
        self.cache_key_ = feature_identity(spec, backbone, identity_options) if stores else None
        return self

    def transform(self, X):
        """Features of ``X``: a float32 array of shape ``(n_samples, n_features_out_)``.

        Parameters
        ----------
        X : list of str, 1-D array, Series, DataFrame or images
            As in :meth:`fit`; a table needs the columns seen in ``fit``.

        Returns
        -------
        features : ndarray of shape (n_samples, n_features_out_), dtype float32
            For a table: each text column's features, then the other
            columns preprocessed (see :meth:`get_feature_names_out`).
        """
        check_is_fitted(self)
        if tbl.fitted(self):
            return self._transform_table(X)
        X = v.check_input(self, X, self.backbone_.input_kind, reset=False)
        return self._encode(X)

    def _transform_table(self, X):
        """Each text column's features, then the other columns preprocessed: one float32 block."""
        X = tables.check_table(self, X)
        blocks = [self._encode(tables.column_texts(X, name)) for name in self.table_["text_columns"]]
        blocks.append(tables.table_features(X, self.table_, self.table_preprocessor_))
        return np.hstack(blocks)

    def _encode(self, X):
        """The backbone's features of a list of texts (or images, or a numeric matrix)."""
        import torch

        from ._network import ChunkPooling, encode

        # Resolved at each call, not stored at fit: a featurizer fitted and
        # pickled on a GPU machine then transforms on a CPU-only one.
        device = x.resolve_device(self.device)
        current, wanted = next(self.module_.parameters()).device, torch.device(device)
        if current.type != wanted.type or (wanted.index is not None and current.index != wanted.index):
            self.module_ = copy.deepcopy(self.module_).to(device)

        # "auto" follows the device of this call (as the device does); the features
        # are cached under fit's precision, so another one here bypasses the cache.
        precision = x.resolve_precision(self.precision, device)
        dtype = x.check_precision(precision, device)
        splitter = getattr(self, "text_splitter_", None)
        pool = ChunkPooling(splitter["pooling"], self.n_features_out_) if splitter else None

        def encode_texts(texts):
            # The warning counts the texts encoded now; those read from the cache were counted when encoded.
            items, _ = long.prepare(self.backbone_, splitter, texts, self.backbone, "X", stacklevel=7)
            return encode(self.backbone_, self.module_, items, batch_size=self.batch_size, device=device,
                          progress=bool(self.verbose), dtype=dtype, pool=pool)

        stores = stores_for(self.cache)
        if (not stores or self.cache_key_ is None or self.backbone_.input_kind == "array"
                or precision != getattr(self, "precision_", precision)):
            return encode_texts(X)
        return cached_encode(list(X), self.cache_key_, stores, encode_texts)

    def __getstate__(self):
        # Weights are pickled from the CPU, so that unpickling needs no GPU.
        state = self.__dict__.copy()
        if "module_" in state and next(state["module_"].parameters()).device.type != "cpu":
            state["module_"] = copy.deepcopy(state["module_"]).to("cpu")
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        long.restore_defaults(self)
        if "module_" in vars(self) and "precision_" not in vars(self):  # pickled before precision="auto" existed
            self.precision_ = self.precision

    def get_feature_names_out(self, input_features=None):
        """Names of the output features.

        ``<backbone>_0`` ... ``<backbone>_<d-1>``; for a table ``<column>_<i>`` per text
        column, then the preprocessed other columns' names (``age``, ``department_Dresses``, ...).

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Ignored: the names follow from the backbone and the columns seen in ``fit``.

        Returns
        -------
        feature_names_out : ndarray of str objects
            One name per column of :meth:`transform`'s output.
        """
        check_is_fitted(self)
        if tbl.fitted(self):
            width = self.backbone_.out_features
            names = [f"{column}_{i}" for column in self.table_["text_columns"] for i in range(width)]
            return np.asarray(names + tables.table_feature_names(self.table_preprocessor_), dtype=object)
        prefix = self.backbone.split(":")[0].replace("-", "_")
        return np.asarray([f"{prefix}_{i}" for i in range(self.n_features_out_)], dtype=object)
