"""The estimators' long-text parameters: one splitter per fit, items per call, the warning.

The cutting itself is in ``skadapt._long_texts`` (shared with ONNX serving);
this module ties it to a backbone recipe and an estimator's parameters.
"""

from numbers import Integral

from sklearn.utils._param_validation import StrOptions

from .. import _long_texts as lt
from ._validation import NotBool, NotedOptions

# Declared constraints of the long-text parameters (the overlap is compared with the backbone's limit once
# it is built). The featurizer has no attention pooling: it is learned.
CONSTRAINTS = {
    "long_texts": [StrOptions(set(lt.POLICIES))],
    "chunk_overlap": [NotBool(Integral, 0, None, closed="left")],
    "max_chunks": [NotBool(Integral, 1, None, closed="left")],
    "chunk_pooling": [StrOptions(set(lt.POOLINGS))],
}
FROZEN_CONSTRAINTS = {
    **CONSTRAINTS,
    "chunk_pooling": [NotedOptions(set(lt.POOLINGS) - {"attention"}, "attention pooling is learned, so only the "
                                   "fine-tuned and scratch estimators have it")],
}


def chunk_pooling(estimator, recipe):
    """The pooling the network needs (``None``: texts are never chunked)."""
    if recipe.input_kind != "text" or estimator.long_texts != "chunk":
        return None
    return estimator.chunk_pooling


def fit_splitter(estimator, recipe):
    """The state of the :class:`~skadapt._long_texts.TextSplitter` for a built recipe, or ``None``
    when it takes no text or cannot read a text whole (then its own ``prepare`` truncates)."""
    if recipe.input_kind != "text":
        return None
    limit = recipe.sequence_limit()
    if limit is None or recipe.prepare_whole([""]) is None:
        return None
    special = lt.special_tokens(recipe.prepare_whole)
    if special is None:  # cannot tell the special tokens apart: the recipe's own truncation stays
        return None
    front, back = special
    return lt.TextSplitter(estimator.long_texts, limit, front, back, overlap=estimator.chunk_overlap,
                           max_chunks=estimator.max_chunks, pooling=estimator.chunk_pooling).state()


def prepare(recipe, splitter, X, backbone, where, *, warn=True, stacklevel=4):
    """``(items, stats)``: the recipe's items for ``X``, long texts cut as ``splitter`` says
    (``stats``: ``None`` without a splitter), with a :class:`~skadapt._long_texts.LongTextWarning`
    when tokens were dropped."""
    if splitter is None:
        return recipe.prepare(X), None
    items, stats = lt.TextSplitter.from_state(splitter).split(recipe.prepare_whole(X))
    if warn:
        lt.warn_dropped(stats, backbone, where, stacklevel=stacklevel)
    return items, stats


def summary(stats):
    """The counts a fitted estimator keeps (``long_text_stats_``)."""
    if stats is None:
        return None
    keys = ("n_texts", "n_over_limit", "n_over_max_chunks", "content_tokens", "dropped_tokens")
    return {k: int(stats[k]) for k in keys}


def feature_policy(splitter):
    """What of a splitter changes a text's frozen features: the embedding cache's key.

    Attention pooling starts from the mean (zero weights), so the linear-probe
    start of an estimator with it shares the mean-pooled features.
    """
    state = dict(splitter)
    if state["policy"] != "chunk":
        return {k: state[k] for k in ("policy", "limit")}
    state["pooling"] = "mean" if state["pooling"] == "attention" else state["pooling"]
    return state


def restore_defaults(estimator):
    """Give an estimator pickled before long texts were read whole the parameters that describe
    what it does: it truncates (``text_splitter_`` absent means the recipe's own truncation)."""
    for name, value in (("text_columns", None), ("long_texts", "truncate"), ("chunk_overlap", 0), ("max_chunks", 32),
                        ("chunk_pooling", "mean")):
        if name not in vars(estimator):
            setattr(estimator, name, value)
