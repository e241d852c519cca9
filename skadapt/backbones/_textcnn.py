import numpy as np
import torch
from sklearn.feature_extraction.text import CountVectorizer
from torch import nn

from .base import Backbone, pad_batch

PAD, UNK = 0, 1
# Words, plus punctuation and clitics as their own tokens, as Kim's clean_str does.
TOKEN_PATTERN = r"[\w]+(?:'\w+)?|'\w+|[^\w\s]"


class TextCNNBackbone(Backbone):
    """Kim (2014) convolutional sentence encoder with its own vocabulary.

    The vocabulary is learned from the training texts by sklearn's
    ``CountVectorizer``; words seen fewer than ``min_df`` times map to an
    unknown-word token. Each text becomes a sequence of word ids; convolutions
    of widths ``filter_sizes`` with ReLU and max-over-time pooling give
    ``num_filters * len(filter_sizes)`` features.

    Parameters
    ----------
    embedding_dim : int, default=300
    num_filters : int, default=100
        Feature maps per filter width.
    filter_sizes : tuple of int, default=(3, 4, 5)
    max_length : int, default=256
        Tokens kept per text; longer texts are truncated.
    min_df : int, default=1
    max_vocab : int or None, default=None
        Keep only the most frequent words.
    lowercase : bool, default=True
    """

    input_kind = "text"
    has_pretrained = False

    def __init__(
        self,
        embedding_dim=300,
        num_filters=100,
        filter_sizes=(3, 4, 5),
        max_length=256,
        min_df=1,
        max_vocab=None,
        lowercase=True,
    ):
        for name, value in [("embedding_dim", embedding_dim), ("num_filters", num_filters), ("max_length", max_length), ("min_df", min_df)]:
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}.")
        sizes = tuple(filter_sizes)
        if not sizes or any(not isinstance(k, (int, np.integer)) or k < 1 for k in sizes):
            raise ValueError(f"filter_sizes must be positive integers, got {filter_sizes!r}.")
        self.embedding_dim = int(embedding_dim)
        self.num_filters = int(num_filters)
        self.filter_sizes = tuple(int(k) for k in sizes)
        self.max_length = int(max_length)
        self.min_df = int(min_df)
        self.max_vocab = max_vocab
        self.lowercase = bool(lowercase)

    def fit(self, X):
        vectorizer = CountVectorizer(
            lowercase=self.lowercase,
            token_pattern=TOKEN_PATTERN,
            min_df=self.min_df,
            max_features=self.max_vocab,
        )
        try:
            vectorizer.fit(X)
            words = vectorizer.get_feature_names_out()
        except ValueError:  # every text empty: no vocabulary at all
            words = np.array([], dtype=object)
        self.vocabulary_ = {word: i + 2 for i, word in enumerate(words)}
        self.analyzer_ = CountVectorizer(lowercase=self.lowercase, token_pattern=TOKEN_PATTERN).build_analyzer()
        return self

    def export_state(self):
        return {"vocabulary_": self.vocabulary_}  # the analyzer is a function, rebuilt from the options

    def restore_state(self, state):
        self.vocabulary_ = dict(state["vocabulary_"])
        self.analyzer_ = CountVectorizer(lowercase=self.lowercase, token_pattern=TOKEN_PATTERN).build_analyzer()
        return self

    def build(self, *, pretrained):
        if pretrained:
            raise ValueError("backbone 'textcnn' has no pretrained weights; use ScratchClassifier.")
        self.out_features = self.num_filters * len(self.filter_sizes)
        return _TextCNN(len(self.vocabulary_) + 2, self.embedding_dim, self.num_filters, self.filter_sizes)

    def prepare(self, X):
        return self._word_ids(X, self.max_length)

    def prepare_whole(self, X):
        return self._word_ids(X, None)

    def sequence_limit(self):
        return self.max_length

    def _word_ids(self, X, max_length):
        items = np.empty(len(X), dtype=object)
        vocab = self.vocabulary_
        for i, text in enumerate(X):
            tokens = self.analyzer_(text)[:max_length]
            items[i] = np.fromiter((vocab.get(t, UNK) for t in tokens), dtype=np.int64, count=len(tokens))
        return items

    def collate(self, items):
        ids, mask = pad_batch(items, PAD, min_length=max(self.filter_sizes))
        return {"input_ids": ids, "attention_mask": mask}

    def serving_preprocessing(self, folder):
        import json
        import os

        with open(os.path.join(folder, "vocabulary.json"), "w", encoding="utf-8") as file:
            json.dump(self.vocabulary_, file, ensure_ascii=False)
        return {"kind": "words", "vocabulary": "vocabulary.json", "token_pattern": TOKEN_PATTERN,
                "lowercase": self.lowercase, "max_length": self.max_length, "unknown_id": UNK, "pad_id": PAD,
                "min_length": max(self.filter_sizes)}

    def layer_groups(self, module):
        return [("embedding", ["embedding."]), ("convs", ["convs."])]

    def __repr__(self):
        return (
            f"TextCNNBackbone(embedding_dim={self.embedding_dim}, num_filters={self.num_filters}, "
            f"filter_sizes={self.filter_sizes}, max_length={self.max_length})"
        )


class _TextCNN(nn.Module):
    def __init__(self, vocab_size, embedding_dim, num_filters, filter_sizes):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=PAD)
        nn.init.uniform_(self.embedding.weight, -0.25, 0.25)  # Kim's initialisation
        with torch.no_grad():
            self.embedding.weight[PAD].zero_()
        self.convs = nn.ModuleList(nn.Conv1d(embedding_dim, num_filters, k) for k in filter_sizes)

    def forward(self, input_ids, attention_mask=None):
        x = self.embedding(input_ids).transpose(1, 2)
        if attention_mask is None:
            return torch.cat([torch.relu(conv(x)).amax(dim=2) for conv in self.convs], dim=1)
        lengths = attention_mask.sum(dim=1, keepdim=True)
        pooled = []
        for conv in self.convs:
            width = conv.kernel_size[0]
            h = torch.relu(conv(x))
            # Windows that reach into the batch's padding are dropped, so a
            # row's features do not depend on the other rows in its batch. A
            # text shorter than the filter keeps its first window (zero-padded,
            # the same in any batch). ReLU outputs are >= 0, so zeroing the
            # dropped windows leaves the maximum unchanged.
            last = lengths.clamp(min=width) - width
            valid = torch.arange(h.shape[2], device=h.device) <= last
            pooled.append((h * valid.unsqueeze(1)).amax(dim=2))
        return torch.cat(pooled, dim=1)
