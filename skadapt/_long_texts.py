"""Texts longer than a backbone's limit: truncated, head + tail, or cut into chunks.

A leaf module (numpy only), shared by the estimators and by ONNX serving, so
that both cut a text into the same token sequences. A backbone reads at most
``limit`` tokens at once (MiniLM 256, TextCNN 256 words); the recipe's
``prepare_whole`` gives each text's ids with nothing cut, special tokens
included, and :class:`TextSplitter` turns them into what the module reads:

* ``"truncate"``: the first ``limit`` tokens (what the tokenizer's own
  truncation gives);
* ``"head_tail"``: the first quarter and the last three quarters of the
  limit's content tokens (Sun et al. 2019, "How to Fine-Tune BERT for Text
  Classification?": head 128 + tail 382 of 510 was their best);
* ``"chunk"``: consecutive windows of ``limit`` tokens (each with the model's
  special tokens, ``overlap`` content tokens shared by neighbours); the
  network pools the windows' features into one row.

A text within the limit stays the single sequence it is today under every
policy, so short texts take exactly today's path.

No library does this for every backbone: Hugging Face tokenizers can return
overflowing windows (``return_overflowing_tokens``), but neither head + tail
nor TextCNN's words, and serving would need a second implementation of each.
"""

import warnings

import numpy as np

POLICIES = ("truncate", "head_tail", "chunk")
POOLINGS = ("mean", "max", "attention")
HEAD_SHARE = 0.25  # of the content tokens kept by "head_tail" (Sun et al. 2019)


class LongTextWarning(UserWarning):
    """Tokens of long texts were dropped (truncation, or the bound on chunks per text)."""


PROBE_WORD = "text"  # a word every tokenizer keeps (an analyser may drop one-letter words)


def special_tokens(whole):
    """``(front, back)``: how many ids the tokenizer puts before and after a text's own, or ``None``.

    Read from the tokenisation of an empty text and of one word: their
    common prefix is the front, the rest of the empty text's ids the back
    (BERT: ``[CLS]`` / ``[SEP]``; TextCNN's words: none). ``None`` when the
    word gives no more ids than the empty text.
    """
    empty, word = (list(ids) for ids in whole(["", PROBE_WORD]))
    if len(word) <= len(empty):
        return None  # the probe word gave no token: the special tokens cannot be told apart
    front = 0
    while front < min(len(empty), len(word)) and empty[front] == word[front]:
        front += 1
    return front, len(empty) - front


class Chunks:
    """The token sequences a long text was cut into, read as one row.

    ``len()`` is the number of tokens, so that sorting rows by length
    (batches with little padding) sees a long text as long.
    """

    __slots__ = ("sequences",)

    def __init__(self, sequences):
        self.sequences = list(sequences)

    def __len__(self):
        return sum(len(s) for s in self.sequences)

    def __repr__(self):
        return f"Chunks({len(self.sequences)} sequences, {len(self)} tokens)"


def n_sequences(item):
    """How many sequences a row sends through the backbone."""
    while hasattr(item, "text"):  # a table row (skadapt.tables.TableItem) or a weighted row: its text's
        item = item.text
    return len(item.sequences) if isinstance(item, Chunks) else 1


class TextSplitter:
    """Cuts token ids to a backbone's limit by a policy; plain data (:meth:`state`), so it saves as JSON.

    Parameters
    ----------
    policy : {"truncate", "head_tail", "chunk"}
    limit : int
        Tokens the backbone reads at once, special tokens included.
    front, back : int
        Special tokens before and after a text's own (see :func:`special_tokens`).
    overlap : int
        ``"chunk"``: content tokens shared by neighbouring chunks.
    max_chunks : int
        ``"chunk"``: at most this many chunks per text; beyond it the first
        ``max_chunks - 1`` and the last are kept (``max_chunks=1``: the first).
    pooling : {"mean", "max", "attention"}
        ``"chunk"``: how the network pools a text's chunks (recorded here for serving).
    """

    def __init__(self, policy, limit, front, back, overlap=0, max_chunks=32, pooling="mean"):
        self.policy = policy
        self.limit = int(limit)
        self.front = int(front)
        self.back = int(back)
        self.overlap = int(overlap)
        self.max_chunks = int(max_chunks)
        self.pooling = pooling
        self.width = self.limit - self.front - self.back  # content tokens per sequence
        if self.width < 1:
            raise ValueError(f"the backbone's limit of {self.limit} tokens leaves no room for text beside its "
                             f"{self.front + self.back} special tokens.")
        if policy == "chunk" and self.overlap >= self.width:
            raise ValueError(f"chunk_overlap must be smaller than the {self.width} text tokens of a chunk "
                             f"(the backbone's limit of {self.limit} less its special tokens), got {self.overlap}.")

    def state(self):
        return {"policy": self.policy, "limit": self.limit, "front": self.front, "back": self.back,
                "overlap": self.overlap, "max_chunks": self.max_chunks, "pooling": self.pooling}

    @classmethod
    def from_state(cls, state):
        return cls(**state)

    def split(self, whole):
        """``(items, stats)`` for the whole ids of each text (an object array of 1-D int arrays).

        ``items`` holds, per text, its ids when they are within the limit
        (the very array given), else what the policy keeps (an array, or
        :class:`Chunks`). ``stats`` counts texts and tokens for the warning.
        """
        items = np.empty(len(whole), dtype=object)
        stats = {**self.state(), "n_texts": len(whole), "n_over_limit": 0, "content_tokens": 0, "dropped_tokens": 0,
                 "n_over_max_chunks": 0}
        for i, ids in enumerate(whole):
            if len(ids) <= self.limit:
                items[i] = ids
                continue
            content = len(ids) - self.front - self.back
            stats["n_over_limit"] += 1
            stats["content_tokens"] += content
            items[i], kept = self._cut(ids)
            stats["dropped_tokens"] += content - kept
            stats["n_over_max_chunks"] += int(isinstance(items[i], Chunks) and kept < content)
        return items, stats

    def _cut(self, ids):
        prefix, content, suffix = ids[: self.front], ids[self.front : len(ids) - self.back], ids[len(ids) - self.back :]
        if self.policy == "truncate":
            return np.concatenate([prefix, content[: self.width], suffix]), self.width
        if self.policy == "head_tail":
            head = round(self.width * HEAD_SHARE)
            tail = self.width - head
            return np.concatenate([prefix, content[:head], content[len(content) - tail :], suffix]), self.width
        step = self.width - self.overlap
        # Windows every `step` tokens, the last one ending where the text ends: every chunk is full, so a
        # text just past the limit is not pooled with a nearly empty chunk (features do not jump there).
        starts = [*range(0, len(content) - self.width, step), len(content) - self.width]
        kept = len(content)
        if len(starts) > self.max_chunks:
            if self.max_chunks == 1:
                starts, kept = [0], self.width
            else:
                # The head and the very end: a review's verdict, a ticket's request, often come last.
                head = starts[: self.max_chunks - 1]
                end_of_head = head[-1] + self.width
                starts = [*head, len(content) - self.width]
                kept = end_of_head + min(self.width, len(content) - end_of_head)
        sequences = [np.concatenate([prefix, content[s : s + self.width], suffix]) for s in starts]
        return Chunks(sequences), kept


def warn_dropped(stats, backbone, where, *, stacklevel=3):
    """One :class:`LongTextWarning` when the policy or the bound on chunks dropped tokens."""
    if not stats or not stats["dropped_tokens"]:
        return
    share = stats["dropped_tokens"] / max(1, stats["content_tokens"])
    policy, limit = stats["policy"], stats["limit"]
    if policy == "chunk":
        left_out = "all but the first chunk" if stats["max_chunks"] == 1 else "middle chunks"
        message = (f"{stats['n_over_max_chunks']} of {stats['n_texts']} texts in {where} need more than "
                   f"max_chunks={stats['max_chunks']} chunks of backbone {backbone!r}; {share:.0%} of the long texts' "
                   f"tokens were left out ({left_out}). Raise max_chunks to read them whole.")
    else:
        message = (f"{stats['n_over_limit']} of {stats['n_texts']} texts in {where} exceed the {limit}-token limit "
                   f"of backbone {backbone!r}; long_texts={policy!r} dropped {share:.0%} of their tokens. Set "
                   "long_texts='chunk' to read every token.")
    warnings.warn(message, LongTextWarning, stacklevel=stacklevel)


def layout(items):
    """``(sequences, index, mask)`` of a batch holding chunked rows, ``None`` when every row is one sequence.

    ``sequences``: every row's sequences, flat; ``index`` ``(n_rows, k)``:
    positions in ``sequences`` of each row's chunks (``k``: the most chunks
    of a row in the batch; padding positions point at 0); ``mask`` ``(n_rows,
    k)``: 1 on real chunks.
    """
    if not any(isinstance(item, Chunks) for item in items):
        return None
    return force_layout(items)


def force_layout(items):
    """:func:`layout` even when every row is one sequence (ONNX serving: one graph for every batch)."""
    counts = [n_sequences(item) for item in items]
    width = max(counts)
    sequences = []
    index = np.zeros((len(items), width), dtype=np.int64)
    mask = np.zeros((len(items), width), dtype=np.int64)
    for row, item in enumerate(items):
        start = len(sequences)
        sequences.extend(item.sequences if isinstance(item, Chunks) else [item])
        index[row, : counts[row]] = np.arange(start, start + counts[row])
        mask[row, : counts[row]] = 1
    return sequences, index, mask


def capped_batches(order, sizes, batch_size):
    """Consecutive batches of ``order``: at most ``batch_size`` rows and, with chunked rows,
    at most ``batch_size`` sequences (a row with more chunks is a batch of its own).

    Each sequence holds at most the backbone's limit of tokens, so a batch
    holds at most ``max(batch_size, max_chunks)`` sequences of that length,
    however long its texts are. With one sequence per row it is plain batching.
    """
    batches, current, seqs = [], [], 0
    for i in order:
        size = int(sizes[i])
        if current and (len(current) == batch_size or seqs + size > batch_size):
            batches.append(current)
            current, seqs = [], 0
        current.append(int(i))
        seqs += size
    if current:
        batches.append(current)
    return batches
