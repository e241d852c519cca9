import numpy as np
from sklearn.feature_extraction.text import CountVectorizer
from torch import nn

from skadapt.backbones import Backbone, pad_batch

PAD, UNK = 0, 1
TOKEN_PATTERN = r"(?u)\b\w+\b"  # words of any length, "a" and "i" included


class BagOfWordsBackbone(Backbone):
    """Bag-of-embeddings text encoder with its own vocabulary.

    The vocabulary is learned from the training texts by sklearn's
    ``CountVectorizer``; words found in fewer than ``min_df`` texts map to an
    unknown-word embedding. A text's features are the mean of its word
    embeddings (``torch.nn.EmbeddingBag(mode="mean")``), padding excluded.

    Parameters
    ----------
    embedding_dim : int, default=64
        Width of the word embeddings and of the features.
    min_df : int, default=1
    max_length : int, default=256
        Words kept per text; longer texts are truncated.
    """

    input_kind = "text"
    has_pretrained = False

    def __init__(self, embedding_dim=64, min_df=1, max_length=256):
        for name, value in [("embedding_dim", embedding_dim), ("min_df", min_df), ("max_length", max_length)]:
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}.")
        self.embedding_dim = int(embedding_dim)
        self.min_df = int(min_df)
        self.max_length = int(max_length)

    def fit(self, X):
        vectorizer = CountVectorizer(token_pattern=TOKEN_PATTERN, min_df=self.min_df)
        try:
            words = vectorizer.fit(X).get_feature_names_out()
        except ValueError:  # no word in any text (or none frequent enough)
            words = np.array([], dtype=object)
        self.vocabulary_ = {word: i + 2 for i, word in enumerate(words)}
        self.analyzer_ = CountVectorizer(token_pattern=TOKEN_PATTERN).build_analyzer()
        return self

    def build(self, *, pretrained):
        if pretrained:
            raise ValueError("backbone 'bow' has no pretrained weights; use ScratchClassifier.")
        self.out_features = self.embedding_dim
        return _BagOfEmbeddings(len(self.vocabulary_) + 2, self.embedding_dim)

    def prepare(self, X):
        return self._word_ids(X, self.max_length)

    def prepare_whole(self, X):  # so that long texts can be cut into chunks (the estimators' long_texts)
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
        ids, _ = pad_batch(items, PAD)
        return {"input_ids": ids}

    def layer_groups(self, module):
        return [("embedding", ["embedding."])]

    def __repr__(self):
        return (
            f"BagOfWordsBackbone(embedding_dim={self.embedding_dim}, min_df={self.min_df}, "
            f"max_length={self.max_length})"
        )


class _BagOfEmbeddings(nn.Module):
    def __init__(self, vocab_size, embedding_dim):
        super().__init__()
        # The padding id is left out of each mean; an empty text gives zeros.
        self.embedding = nn.EmbeddingBag(vocab_size, embedding_dim, mode="mean", padding_idx=PAD)

    def forward(self, input_ids):
        return self.embedding(input_ids)
