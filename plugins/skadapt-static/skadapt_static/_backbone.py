import os

import numpy as np
import torch
from torch import nn

from skadapt.backbones import Backbone, pad_batch

from ._source import distilled_folder, resolve

PAD = 0  # any valid row: padded positions are masked out of the mean


class StaticBackbone(Backbone):
    """Static token embeddings (model2vec): a text's features are the mean of its tokens' vectors.

    The vectors come from a model2vec ``StaticModel``: distilled from a
    sentence-transformers model by ``model2vec.distill`` (once; the result is
    cached on disk, see ``skadapt_static._source``) or read from a model2vec
    folder. Texts are tokenised by the static model's own tokenizer, as
    ``StaticModel.encode`` does, and the module is its embedding table as a
    ``torch.nn.Embedding`` with a masked mean (unknown tokens and padding left
    out) and the model's L2 normalisation, so that ``PretrainedFeaturizer``
    gives ``StaticModel.encode``'s features (up to the float16 rounding of
    the stored vectors), ``FineTuned*`` trains the table from the static
    vectors, and ``Scratch*`` trains the same table from random vectors.

    Parameters
    ----------
    source : str
        The part after ``static:``: ``"minilm"`` (or any registered backbone
        that reads a local sentence-transformers folder, e.g.
        ``"sbert:/path"``), a sentence-transformers or Hugging Face model
        folder (distilled), or a model2vec folder (loaded).
    max_length : int or None, default=None
        Tokens read per text; ``None`` keeps the static model's own
        (model2vec's default, 512).
    normalize : bool or None, default=None
        L2-normalise the features (``True``), don't (``False``), or keep the
        static model's choice (``None``; distilled models normalise).
    pca_dims : int or None, default=256
        Distillation only: the width the token vectors are reduced to by
        PCA (``None``: the source model's width).
    sif_coefficient : float or None, default=1e-4
        Distillation only: the SIF weighting of frequent tokens (``None``:
        no weighting).
    """

    input_kind = "text"
    has_pretrained = True
    # An embedding table from random vectors, averaged: the rate fastText-style
    # models learn at (1e-3 barely moves them in ten epochs).
    scratch_lr = 1e-2

    def __init__(self, source, max_length=None, normalize=None, pca_dims=256, sif_coefficient=1e-4):
        if max_length is not None and (isinstance(max_length, bool) or not isinstance(max_length, (int, np.integer))
                                       or max_length < 1):
            raise ValueError(f"max_length must be a positive integer or None, got {max_length!r}.")
        if normalize not in (None, True, False):
            raise ValueError(f"normalize must be True, False or None, got {normalize!r}.")
        if pca_dims is not None and (isinstance(pca_dims, bool) or not isinstance(pca_dims, (int, np.integer))
                                     or pca_dims < 1):
            raise ValueError(f"pca_dims must be a positive integer or None, got {pca_dims!r}.")
        if sif_coefficient is not None and not (isinstance(sif_coefficient, (float, int)) and 0 < sif_coefficient < 1):
            raise ValueError(f"sif_coefficient must be a number in (0, 1) or None, got {sif_coefficient!r}.")
        resolve(source)  # a bad argument fails here, in one sentence, before anything is loaded
        self.source = source
        self.max_length = None if max_length is None else int(max_length)
        self.normalize = normalize
        self.pca_dims = None if pca_dims is None else int(pca_dims)
        self.sif_coefficient = None if sif_coefficient is None else float(sif_coefficient)

    # -- the static model --------------------------------------------------------
    def static_folder(self):
        """The model2vec folder this recipe reads (distilled into the cache first if needed)."""
        kind, folder = resolve(self.source)
        if kind == "distil":
            settings = {"pca_dims": self.pca_dims, "sif_coefficient": self.sif_coefficient}
            folder = distilled_folder(folder, self.source, settings)
        return folder

    def load_static(self):
        """The ``model2vec.StaticModel`` behind this recipe."""
        from model2vec import StaticModel

        folder = self.static_folder()
        try:
            return StaticModel.from_pretrained(folder, force_download=False)
        except Exception as exc:  # a damaged folder: one sentence, not model2vec's traceback
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise ValueError(
                f"backbone 'static:{self.source}': could not load the model2vec model in {folder} "
                f"({type(exc).__name__}: {first})."
            ) from None

    def build(self, *, pretrained):
        static = self.load_static()
        tokenizer = static.tokenizer  # StaticModel keeps its own copy, padding off
        tokenizer.no_padding()
        self.max_length_ = self.max_length if self.max_length is not None else static.max_length
        # Set once here and never changed after: threads may tokenise with it at once.
        if self.max_length_ is None:
            tokenizer.no_truncation()
        else:
            tokenizer.enable_truncation(self.max_length_)
        self.tokenizer_ = tokenizer
        self.normalize_ = bool(static.normalize if self.normalize is None else self.normalize)
        self.unk_id_ = -1 if static.unk_token_id is None else int(static.unk_token_id)
        vectors = token_vectors(static)
        self.out_features = int(vectors.shape[1])
        module = StaticEmbedding(len(vectors), self.out_features, normalize=self.normalize_, unk_id=self.unk_id_)
        if pretrained:
            with torch.no_grad():
                module.embedding.weight.copy_(torch.from_numpy(vectors))
        return module

    # -- preprocessing -----------------------------------------------------------
    # No prepare_whole/sequence_limit: a mean of token vectors has no window to
    # cut texts into, so the estimators' long_texts policies do not apply; a text
    # is read up to max_length tokens, as StaticModel.encode reads it (pass a
    # larger max_length to average whole long documents).
    def prepare(self, X):
        # model2vec's own tokenisation (StaticModel.tokenize): no special tokens.
        # Unknown tokens stay in (the module leaves them out of the mean), so
        # that ONNX serving, which replays only the tokenizer, gets the same ids.
        encodings = self.tokenizer_.encode_batch_fast(list(X), add_special_tokens=False)
        items = np.empty(len(encodings), dtype=object)
        for i, encoding in enumerate(encodings):
            items[i] = np.asarray(encoding.ids, dtype=np.int64)
        return items

    def collate(self, items):
        ids, mask = pad_batch(items, PAD)
        return {"input_ids": ids, "attention_mask": mask}

    def layer_groups(self, module):
        return [("embedding", ["embedding."])]

    # -- export and serving ------------------------------------------------------
    def export(self, module, folder):
        # A model2vec folder with the trained table: loadable as "static:FOLDER"
        # and by model2vec itself (StaticModel.from_pretrained).
        from model2vec import StaticModel

        vectors = module.embedding.weight.detach().cpu().numpy().astype(np.float32)
        config = {"model_type": "model2vec", "architectures": ["StaticModel"], "hidden_dim": int(vectors.shape[1]),
                  "pooling": "mean", "tokenizer_name": str(self.source)}
        StaticModel(vectors=vectors, tokenizer=self.tokenizer_, config=config, normalize=self.normalize_,
                    max_length=self.max_length_).save_pretrained(folder)
        return {"backbone": "static", "argument": "."}

    def export_options(self):
        return {"max_length": self.max_length}  # normalisation is saved in the folder's config

    def export_state(self):
        return {}  # the tokenizer and vectors are in the folder

    def serving_preprocessing(self, folder):
        # The ids of prepare(): the tokenizer without special tokens. model2vec's
        # tokenizers have no post-processor, so encode() adds none; one that has
        # one cannot be replayed exactly, and is not exported.
        if self.tokenizer_.post_processor is not None:
            return None
        self.tokenizer_.save(os.path.join(folder, "tokenizer.json"))
        limit = self.max_length_ if self.max_length_ is not None else 1_000_000
        return {"kind": "tokens", "file": "tokenizer.json", "max_length": int(limit), "pad_id": PAD}

    def library_versions(self):
        import model2vec
        import tokenizers

        return [*super().library_versions(), model2vec.__version__, tokenizers.__version__]

    def __repr__(self):
        return f"StaticBackbone({os.path.basename(str(self.source).rstrip('/'))!r})"


def token_vectors(static):
    """One float32 vector per token id of a ``StaticModel``, as its ``encode`` looks them up
    (a vocabulary-quantised model's shared rows and weights expanded)."""
    vectors = np.asarray(static.embedding)
    if static.token_mapping is not None:
        vectors = vectors[np.asarray(static.token_mapping)]
    vectors = vectors.astype(np.float32)
    if static.weights is not None:
        vectors = vectors * np.asarray(static.weights, dtype=np.float32)[:, None]
    return np.ascontiguousarray(vectors)


class StaticEmbedding(nn.Module):
    """Token ids in, the masked mean of their vectors out (L2-normalised if ``normalize``)."""

    def __init__(self, n_tokens, dim, *, normalize, unk_id=-1):
        super().__init__()
        self.embedding = nn.Embedding(n_tokens, dim)
        self.normalize = bool(normalize)
        self.unk_id = int(unk_id)

    def forward(self, input_ids, attention_mask):
        # Always in float32, whatever precision the estimator runs in: a lookup
        # and a mean are bound by memory, not arithmetic, so bf16 autocast only
        # adds casts (1.5x slower encoding here) and rounds the features.
        with torch.autocast(input_ids.device.type, enabled=False):
            vectors = self.embedding(input_ids)
            mask = attention_mask.to(vectors.dtype)
            if self.unk_id >= 0:  # model2vec drops unknown tokens before averaging
                mask = mask * (input_ids != self.unk_id).to(vectors.dtype)
            summed = torch.bmm(mask.unsqueeze(1), vectors).squeeze(1)
            features = summed / mask.sum(dim=1, keepdim=True).clamp(min=1.0)
            if self.normalize:
                features = nn.functional.normalize(features, dim=-1)
        return features
