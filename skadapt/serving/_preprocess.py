"""Rows -> the ONNX model's inputs, with numpy and the tokenizers library only.

The torch path prepares rows with the backbone recipe (``prepare`` then
``collate``); serving must not import torch, so each kind of recipe
describes its preprocessing as JSON (``Backbone.serving_preprocessing``)
and this module replays it: same ids, same padding, same masks.
"""

import json
import os
import re

import numpy as np

from .._texts import check_texts


def make_preprocessor(description, folder, backbone="the backbone", whole=False):
    """The preprocessor that ``description`` (from ``Backbone.serving_preprocessing``) describes;
    ``backbone`` is named in input errors, as the estimators name it. ``whole``: texts are
    not truncated (the model's ``long_texts`` policy cuts them afterwards)."""
    kind = description.get("kind")
    if kind == "tokens":
        return TokenizerPreprocessor(description, folder, backbone, whole)
    if kind == "words":
        return WordPreprocessor(description, folder, backbone, whole)
    if kind == "array":
        return ArrayPreprocessor(description)
    raise ValueError(f"the ONNX model in {folder!r} needs preprocessing of kind {kind!r}, unknown to this skadapt.")


def pad(sequences, pad_id, min_length):
    """``(ids, mask)`` int64 arrays padded to the longest sequence, as ``backbones.base.pad_batch``."""
    length = max([min_length, *(len(s) for s in sequences)])
    ids = np.full((len(sequences), length), pad_id, dtype=np.int64)
    mask = np.zeros((len(sequences), length), dtype=np.int64)
    for row, seq in enumerate(sequences):
        ids[row, : len(seq)] = seq
        mask[row, : len(seq)] = 1
    return ids, mask


class _SequencePreprocessor:
    sequences = True

    def collate(self, items):
        ids, mask = pad(items, self.pad_id, self.min_length)
        return {"input_ids": ids, "attention_mask": mask}


class TokenizerPreprocessor(_SequencePreprocessor):
    """A Hugging Face fast tokeniser's ``tokenizer.json``, run by the tokenizers library."""

    def __init__(self, description, folder, backbone, whole=False):
        from tokenizers import Tokenizer

        self.backbone = backbone
        self.tokenizer = Tokenizer.from_file(os.path.join(folder, description["file"]))
        # Padding is per batch (below); truncation as the torch path's tokenize().
        self.tokenizer.no_padding()
        if whole:
            self.tokenizer.no_truncation()
        else:
            self.tokenizer.enable_truncation(int(description["max_length"]))
        self.pad_id = int(description["pad_id"])
        self.min_length = int(description.get("min_length", 1))

    def prepare(self, X):
        texts = check_texts(X, self.backbone)
        return [np.asarray(e.ids, dtype=np.int64) for e in self.tokenizer.encode_batch(texts)]


class WordPreprocessor(_SequencePreprocessor):
    """Word ids from a vocabulary (TextCNN): scikit-learn's ``CountVectorizer``
    analyzer (lowercase, then the token pattern), replayed with ``re`` so that
    serving does not import scikit-learn (over a second of start-up)."""

    def __init__(self, description, folder, backbone, whole=False):
        self.backbone = backbone
        with open(os.path.join(folder, description["vocabulary"]), encoding="utf-8") as file:
            self.vocabulary = json.load(file)
        self.pattern = re.compile(description["token_pattern"])
        self.lowercase = bool(description["lowercase"])
        self.max_length = None if whole else int(description["max_length"])
        self.unknown = int(description["unknown_id"])
        self.pad_id = int(description["pad_id"])
        self.min_length = int(description.get("min_length", 1))

    def prepare(self, X):
        items = []
        for text in check_texts(X, self.backbone):
            tokens = self.pattern.findall(text.lower() if self.lowercase else text)[: self.max_length]
            items.append(np.fromiter((self.vocabulary.get(t, self.unknown) for t in tokens), dtype=np.int64,
                                     count=len(tokens)))
        return items


class ArrayPreprocessor:
    """A numeric matrix, as float32 rows."""

    sequences = False

    def __init__(self, description):
        self.n_features = int(description["n_features"])

    def prepare(self, X):
        if isinstance(X, (str, bytes)) or (isinstance(X, (list, tuple)) and X and isinstance(X[0], str)):
            raise ValueError("X must be a numeric 2-D array, got text.")
        try:
            array = np.asarray(X, dtype=np.float32)
        except (TypeError, ValueError):
            raise ValueError("X must be a numeric 2-D array.") from None
        if array.ndim != 2 or array.shape[1] != self.n_features:
            raise ValueError(f"X must be a 2-D array with {self.n_features} columns, got shape {array.shape}.")
        if not np.isfinite(array).all():
            raise ValueError("X contains NaN or infinity.")
        return array

    def collate(self, items):
        return {"x": np.ascontiguousarray(items, dtype=np.float32)}
