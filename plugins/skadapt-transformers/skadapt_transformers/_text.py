"""``hf-text:PATH``: a Hugging Face text encoder (``AutoModel`` + ``AutoTokenizer``)."""


import numpy as np
from torch import nn

from skadapt.backbones import max_tokens, pad_batch, tokenize, tokenizer_preprocessing

from ._common import HuggingFaceBackbone, _first_line, check_bool, check_path, probe

POOLING_MODES = ("mean", "cls")


class HFTextBackbone(HuggingFaceBackbone):
    """A Hugging Face text encoder (BERT, RoBERTa, DistilBERT, ...) as a backbone.

    The model is loaded with ``transformers.AutoModel`` and its tokeniser
    with ``AutoTokenizer``; the features are its last hidden states pooled
    over the tokens. Texts are tokenised once, in ``prepare``, and padded
    per batch.

    Parameters
    ----------
    model_name_or_path : str
        A local folder written by ``save_pretrained`` (config, weights,
        tokeniser), or a hub id (needs a network). Given in the backbone
        name: ``"hf-text:/path/to/model"``.
    pooling : {"mean", "cls"}, default="mean"
        ``"mean"``: the mean of the token states, padding left out;
        ``"cls"``: the state of the first token (``[CLS]`` for BERT-like
        tokenisers). The model's own pooler is not used.
    max_length : int or None, default=None
        Tokens kept per text (longer texts are truncated), never more than
        the model's position embeddings; ``None``: the tokeniser's
        ``model_max_length`` within that limit (512 when neither says).
    normalize : bool, default=False
        L2-normalise the features.
    trust_remote_code : bool, default=False
        Allow a model whose folder carries its own Python code to run it.
        Off unless you turn it on; turn it on only for code you trust.
    """

    input_kind = "text"
    registered_name = "hf-text"
    expected = "a text encoder (a transformers model config with a vocabulary, and a tokenizer)"
    _repr_options = ("pooling", "max_length", "normalize")

    def __init__(self, model_name_or_path, pooling="mean", max_length=None, normalize=False, trust_remote_code=False):
        self.model_name_or_path = check_path(self.registered_name, model_name_or_path)
        if pooling not in POOLING_MODES:
            raise ValueError(f"pooling must be one of {POOLING_MODES}, got {pooling!r}.")
        if max_length is not None and (
            isinstance(max_length, bool) or not isinstance(max_length, (int, np.integer)) or max_length < 2
        ):
            raise ValueError(f"max_length must be an integer >= 2 or None, got {max_length!r}.")
        self.pooling = pooling
        self.max_length = None if max_length is None else int(max_length)
        self.normalize = check_bool(normalize, "normalize")
        self.trust_remote_code = check_bool(trust_remote_code, "trust_remote_code")

    def _check_config(self, config):
        super()._check_config(config)
        if hasattr(config, "num_channels"):
            raise self._error(
                f"the folder holds a {config.model_type!r} model that takes images (its config has "
                f"num_channels); expected {self.expected}. Use 'hf-vision:{self.model_name_or_path}' for it."
            )
        if getattr(config, "vocab_size", None) is None:
            raise self._error(
                f"the folder holds a {config.model_type!r} model without a vocabulary (its config has no "
                f"vocab_size); expected {self.expected}."
            )

    def _load_tokenizer(self):
        from transformers import AutoTokenizer

        try:
            return AutoTokenizer.from_pretrained(self.model_name_or_path, trust_remote_code=self.trust_remote_code)
        except (OSError, ValueError, KeyError, ImportError, TypeError) as exc:
            raise self._error(
                f"cannot load a tokenizer from {self.model_name_or_path!r} ({type(exc).__name__}: "
                f"{_first_line(exc)}); expected {self.expected}. Save the tokenizer into the model folder "
                "with tokenizer.save_pretrained(folder)."
            ) from None

    def build(self, *, pretrained):
        config = self._load_config()
        self._check_config(config)
        tokenizer = self._load_tokenizer()
        model, _ = self._load_model(config, pretrained)
        module = TextEncoder(model, self.pooling, self.normalize)
        self.tokenizer_ = tokenizer
        self.max_length_ = self._resolve_max_length(model, tokenizer)
        try:  # one short text: the width, and a clear error for a model that is no text encoder
            features = probe(module, self.collate(self.prepare(["a"])))
        except Exception as exc:
            raise self._error(
                f"the {config.model_type!r} model does not run as a text encoder on token ids "
                f"({type(exc).__name__}: {_first_line(exc)}); expected {self.expected}."
            ) from None
        self.out_features = int(features.shape[-1])
        return module

    def _resolve_max_length(self, model, tokenizer):
        """Tokens per text: the option or the tokeniser's limit, never past the model's positions."""
        tokenizer_limit = getattr(tokenizer, "model_max_length", None)
        if not isinstance(tokenizer_limit, int) or tokenizer_limit > 1_000_000:  # "no limit" sentinel
            tokenizer_limit = None
        return max_tokens(model, self.max_length, tokenizer_limit)

    def prepare(self, X):
        return tokenize(self.tokenizer_, X, self.max_length_)

    def prepare_whole(self, X):
        return tokenize(self.tokenizer_, X, None)

    def sequence_limit(self):
        return self.max_length_

    def collate(self, items):
        ids, mask = pad_batch(items, self.tokenizer_.pad_token_id or 0)
        return {"input_ids": ids, "attention_mask": mask}

    def _preprocessor(self):
        return self.tokenizer_

    def serving_preprocessing(self, folder):
        return tokenizer_preprocessing(self.tokenizer_, self.max_length_, folder)

    def export_options(self):
        # Not the path (the export folder is the model) nor trust_remote_code:
        # an exported folder runs no code of its own unless its user asks again.
        return {"pooling": self.pooling, "max_length": self.max_length_, "normalize": self.normalize}

    def layer_groups(self, module):
        # The model's pooler (BERT's dense + tanh on [CLS]) is never used:
        # the features pool the token states, so it is in no group.
        return self._layer_groups(module, "layer", unused=("pooler",))


class TextEncoder(nn.Module):
    """A Hugging Face model: token ids in, pooled (and optionally normalised) states out."""

    def __init__(self, model, pooling="mean", normalize=False):
        super().__init__()
        self.model = model
        self.pooling = pooling
        self.normalize = normalize

    def forward(self, input_ids, attention_mask):
        hidden = self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        if self.pooling == "cls":
            features = hidden[:, 0]
        else:
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            features = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
        if self.normalize:
            features = nn.functional.normalize(features, p=2, dim=1)
        return features
