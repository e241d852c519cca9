"""The contract every backbone recipe fulfils."""

import inspect
import threading

WEIGHTS_FILE = "model.safetensors"


class Backbone:
    """A backbone recipe: preprocessing, an ``nn.Module`` and its layer groups.

    The estimators use a backbone in this order, once per ``fit``::

        backbone = spec.create(**backbone_kwargs)   # options only, nothing loaded
        backbone.fit(X)                      # learn preprocessing (vocabulary, width)
        module = backbone.build(pretrained=True)   # weights loaded or random
        items = backbone.prepare(X)          # tokenise once, per row
        batch = backbone.collate(items[:32]) # pad per batch -> dict of tensors
        features = module(**batch)           # (batch, backbone.out_features)

    Subclasses set the class attributes and implement :meth:`build`,
    :meth:`prepare` and :meth:`collate`; :meth:`fit`,
    :meth:`layer_groups` and the export methods have defaults. Backbone
    objects are pickled with a fitted estimator, so keep them free of open
    files and live modules.

    What :meth:`prepare` receives depends on ``input_kind``: a list of
    ``str`` for ``"text"``; a float array ``(n, n_features)`` for
    ``"array"``; for ``"image"`` a list of ``float32`` arrays
    ``(height, width, channels)`` with values in ``[0, 1]`` and 1 or 3
    channels, sizes possibly differing (see :func:`skadapt.images.load_images`).

    :func:`skadapt.export_backbone` saves a trained module with
    :meth:`export`, :meth:`export_options` and :meth:`export_state`; the
    backbone ``"exported:FOLDER"`` re-creates the recipe from them.

    Attributes
    ----------
    input_kind : {"text", "array", "image"}
        What ``X`` the backbone accepts.
    has_pretrained : bool
        Whether ``build(pretrained=True)`` is possible.
    out_features : int
        Width of the features the module outputs; set by :meth:`build`.
    scratch_lr : float
        The learning rate ``Scratch*(lr="auto")`` trains it at from random
        weights (1e-3, AdamW's usual; a small MLP takes 1e-2).
    """

    input_kind = "text"
    has_pretrained = False
    out_features = None
    scratch_lr = 1e-3

    def fit(self, X):
        """Learn preprocessing state from the training inputs; returns self."""
        return self

    def build(self, *, pretrained):
        """Return the ``nn.Module``; ``forward(**batch)`` returns ``(n, out_features)``."""
        raise NotImplementedError

    def prepare(self, X):
        """Turn validated ``X`` into a sequence of per-row items (tokenise once)."""
        raise NotImplementedError

    def collate(self, items):
        """Turn a list of items from :meth:`prepare` into a dict of tensors."""
        raise NotImplementedError

    # -- long texts: optional, for text recipes ---------------------------------
    def prepare_whole(self, X):
        """Each text's ids with nothing cut (an object array of 1-D ``int64`` arrays), or ``None``.

        The same ids as :meth:`prepare`, special tokens included, but without
        truncation: the estimators' ``long_texts`` policy then truncates, keeps
        head and tail, or cuts the text into chunks of :meth:`sequence_limit`
        tokens (see ``skadapt._long_texts``). A text within the limit must
        give exactly :meth:`prepare`'s ids. The default, ``None``, means the
        recipe cannot: its own :meth:`prepare` (and truncation) is used.
        """
        return None

    def sequence_limit(self):
        """Tokens the module reads at once (after :meth:`build`), for :meth:`prepare_whole`; ``None`` if unbounded."""
        return None

    def layer_groups(self, module):
        """Parameter-name prefixes of ``module``, grouped from input to output.

        Returns a list of ``(group_name, [prefix, ...])``. Freezing the bottom
        groups and layer-wise learning rates work on these groups. The default
        is one group per top-level child that has parameters.
        """
        return [
            (name, [name + "."])
            for name, child in module.named_children()
            if any(True for _ in child.parameters())
        ]

    # -- export: a trained module becomes a pretrained backbone ---------------
    def export(self, module, folder):
        """Save the trained ``module`` into the existing ``folder``; say how to rebuild it.

        Returns a dict. The default saves the weights as
        :data:`WEIGHTS_FILE` (safetensors: tensors only, nothing that runs
        code on load) and returns ``{"weights": WEIGHTS_FILE}``: the recipe is
        then re-created from :meth:`export_options` and :meth:`export_state`,
        and the weights are loaded into ``build(pretrained=False)``'s module.
        A recipe whose module is a model folder of its own (a
        sentence-transformers or Hugging Face model) saves that folder instead
        and returns ``{"backbone": registered_name, "argument": "."}``: the
        backbone is then ``"registered_name:FOLDER"`` with :meth:`export_options`.
        """
        import os

        from safetensors.torch import save_model

        save_model(module, os.path.join(folder, WEIGHTS_FILE))
        return {"weights": WEIGHTS_FILE}

    def export_options(self):
        """The constructor options that re-create this recipe (JSON-serialisable).

        The default reads every ``__init__`` parameter back from the
        attribute of the same name.
        """
        parameters = inspect.signature(type(self).__init__).parameters
        return {
            name: getattr(self, name)
            for name, p in parameters.items()
            if name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and hasattr(self, name)
        }

    def export_state(self):
        """The preprocessing state :meth:`fit` learned, JSON-serialisable.

        The default returns every attribute ending in ``_`` (numbers,
        strings, lists, dicts and numpy arrays are saved); override it, with
        :meth:`restore_state`, when such an attribute is not plain data.
        """
        return {k: v for k, v in vars(self).items() if k.endswith("_")}

    def restore_state(self, state):
        """Set the state :meth:`export_state` returned; returns self."""
        vars(self).update(state)
        return self

    def input_width(self):
        """Features per row this recipe requires (``"array"`` input), or ``None`` if any width is fine.

        A recipe re-created from an export keeps the width it was trained on;
        the estimators then refuse another width with a clear error instead
        of a shape error from inside torch.
        """
        return None

    def library_versions(self):
        """Versions of the libraries that compute this backbone's features (a list of str).

        Part of the embedding cache's key, so that features computed by other
        library versions are not reused; the default is torch's version. A
        recipe built on other libraries (transformers, say) adds theirs.
        """
        import torch

        return [torch.__version__]

    # -- serving: the same preprocessing without torch -------------------------
    def serving_preprocessing(self, folder):
        """Describe :meth:`prepare` and :meth:`collate` for ONNX serving, which runs without torch.

        Write the files it needs (a tokeniser, a vocabulary) into ``folder``
        and return a JSON-serialisable dict that ``skadapt.serving`` replays:
        ``{"kind": "tokens", "file", "max_length", "pad_id"}`` (a Hugging Face
        ``tokenizer.json``), ``{"kind": "words", "vocabulary", "token_pattern",
        "lowercase", "max_length", "unknown_id", "pad_id", "min_length"}`` or
        ``{"kind": "array", "n_features"}``; the ONNX model's inputs are
        :meth:`collate`'s keys. The default returns ``None``: the backbone
        cannot be exported to ONNX.
        """
        return None

    def __repr__(self):
        return f"{type(self).__name__}()"


TOKENIZE_CHUNK = 2048
# A Hugging Face fast tokenizer is shared by every copy of a backbone in a
# process, and each call first sets its truncation length on the shared Rust
# object: threads calling with different lengths got each other's (122 wrong
# results in 300 calls from 8 threads), or "Already borrowed". One call at a time.
_TOKENIZER_LOCK = threading.Lock()


def tokenize(tokenizer, texts, max_length):
    """Token ids of each text (a Hugging Face tokenizer), as an object array
    of ``int64`` arrays, truncated to ``max_length`` (``None``: whole); no padding.

    In chunks: a fast tokenizer returns a heavy ``Encoding`` object per text
    (tokens, offsets, masks), several times the ids' size; freed chunk by
    chunk, 100,000 texts never hold them all at once.
    """
    import numpy as np

    texts = list(texts)
    items = np.empty(len(texts), dtype=object)
    for start in range(0, len(texts), TOKENIZE_CHUNK):
        with _TOKENIZER_LOCK:
            encoded = tokenizer(
                texts[start : start + TOKENIZE_CHUNK],
                truncation=max_length is not None,
                max_length=max_length,
                return_attention_mask=False,
                return_token_type_ids=False,
                verbose=False,  # whole texts past the model's limit are expected: they are cut afterwards
            )["input_ids"]
        for i, ids in enumerate(encoded, start=start):
            items[i] = np.asarray(ids, dtype=np.int64)
    return items


def tokenizer_preprocessing(tokenizer, max_length, folder):
    """:meth:`Backbone.serving_preprocessing` for texts tokenised by :func:`tokenize`.

    Saves the fast tokeniser's ``tokenizer.json`` (read by the tokenizers
    library, without transformers or torch); ``None`` for a slow tokeniser,
    which has no such file.
    """
    import os

    if not getattr(tokenizer, "is_fast", False):
        return None
    tokenizer.backend_tokenizer.save(os.path.join(folder, "tokenizer.json"))
    return {"kind": "tokens", "file": "tokenizer.json", "max_length": int(max_length),
            "pad_id": int(tokenizer.pad_token_id or 0)}


def max_tokens(hf_model, requested, default):
    """Tokens per text for a Hugging Face model: ``requested``, else
    ``default``, never past the model's positions (a warning when
    ``requested`` is larger)."""
    import warnings

    limit = getattr(hf_model.config, "max_position_embeddings", None)
    # RoBERTa-style models number positions after the padding index.
    padding_idx = getattr(getattr(hf_model, "embeddings", None), "padding_idx", None)
    if limit is not None and isinstance(padding_idx, int):
        limit -= padding_idx + 1
    wanted = requested or default or limit or 512
    if limit is not None and wanted > limit:
        if requested is not None:
            warnings.warn(
                f"max_length={requested} exceeds what the model can take ({limit} tokens); "
                f"texts are truncated to {limit} tokens.",
                UserWarning,
                stacklevel=4,
            )
        wanted = limit
    return int(wanted)


def pad_batch(sequences, pad_value=0, min_length=1):
    """Pad a list of 1-D integer arrays to the longest one (at least ``min_length``).

    Returns ``(ids, mask)`` as ``int64`` tensors of shape ``(n, length)``;
    ``mask`` is 1 on real tokens. Padding per batch rather than to a global
    maximum keeps short batches cheap.
    """
    import torch

    length = max([min_length, *(len(s) for s in sequences)])
    ids = torch.full((len(sequences), length), pad_value, dtype=torch.long)
    mask = torch.zeros((len(sequences), length), dtype=torch.long)
    for row, seq in enumerate(sequences):
        ids[row, : len(seq)] = torch.as_tensor(seq, dtype=torch.long)
        mask[row, : len(seq)] = 1
    return ids, mask
