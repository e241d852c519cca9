"""Loaders for the small text datasets bundled with skadapt.

Every split is stored as ``data/<name>/<split>.csv.gz`` and described in
``descr/<name>.rst``. Each file of a text set has a ``text`` column followed
by the target: ``label`` (a string) for the classification sets, ``V``, ``A``
and ``D`` (numbers) for ``emobank``, and ``labels`` (emotion names joined by
``;``) for ``goemotions``. A table set (``womens_clothing``) has its feature
columns, text and others, followed by all its targets; its loader hands out
one target and never the others. The files are read through
:mod:`importlib.resources`, so they also load from an installed wheel or a
zip archive.
"""

import difflib
from functools import lru_cache
from importlib import resources
from types import MappingProxyType
from typing import NamedTuple

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

__all__ = [
    "DATASET_SPLITS",
    "list_datasets",
    "load_cr",
    "load_dataset",
    "load_emobank",
    "load_goemotions",
    "load_review_polarity",
    "load_sst2",
    "load_trec",
    "load_womens_clothing",
]

_PACKAGE = "skadapt.datasets"

DATASET_SPLITS = MappingProxyType(
    {
        "cr": ("train", "test"),
        "emobank": ("train", "dev", "test"),
        "goemotions": ("train", "dev", "test"),
        "review_polarity": ("train", "test"),
        "sst2": ("train", "dev", "test"),
        "trec": ("train", "test"),
        "womens_clothing": ("train", "test"),
    }
)
"""Read-only mapping of each bundled dataset to its splits.

The splits are listed in the order in which ``split="all"`` joins them.
"""

# What each text dataset's target is; the ``task`` of its Bunch. A table
# set's task depends on the target chosen: see _TABLES.
_TASKS = MappingProxyType(
    {
        "cr": "classification",
        "emobank": "regression",
        "goemotions": "multilabel",
        "review_polarity": "classification",
        "sst2": "classification",
        "trec": "classification",
    }
)

# The 27 emotions and neutral of GoEmotions, in the order of the official
# ``emotions.txt`` (the order of its emotion ids).
_GOEMOTIONS_LABELS = (
    "admiration",
    "amusement",
    "anger",
    "annoyance",
    "approval",
    "caring",
    "confusion",
    "curiosity",
    "desire",
    "disappointment",
    "disapproval",
    "disgust",
    "embarrassment",
    "excitement",
    "fear",
    "gratitude",
    "grief",
    "joy",
    "love",
    "nervousness",
    "optimism",
    "pride",
    "realization",
    "relief",
    "remorse",
    "sadness",
    "surprise",
    "neutral",
)

# The target columns of the sets whose targets are fixed in advance; a
# classification set's classes are the labels found in its files.
_TARGET_COLUMNS = MappingProxyType(
    {"emobank": ("V", "A", "D"), "goemotions": _GOEMOTIONS_LABELS}
)

# The dtype of ``target`` as an ndarray, by task.
_TARGET_DTYPES = MappingProxyType(
    {"classification": object, "regression": np.float64, "multilabel": np.int64}
)


class _Table(NamedTuple):
    """How to read a table set: its kinds of columns and its targets.

    The feature columns that are neither text nor categories hold whole
    numbers (int64), as do the targets.
    """

    features: tuple  # the feature columns, in the order of the files
    text_columns: tuple  # free text, str; a missing text is ""
    category_columns: tuple  # str; a missing category is NaN
    # target column -> (task, target_names): the class of each code 0, 1, ...
    # for a classification target, the column's name for a regression one.
    # The first is the target of load_dataset.
    targets: MappingProxyType


_TABLES = MappingProxyType(
    {
        "womens_clothing": _Table(
            features=(
                "Title",
                "Review Text",
                "Age",
                "Division Name",
                "Department Name",
                "Class Name",
            ),
            text_columns=("Title", "Review Text"),
            category_columns=("Division Name", "Department Name", "Class Name"),
            targets=MappingProxyType(
                {
                    "Rating": ("regression", ("Rating",)),
                    "Recommended IND": (
                        "classification",
                        ("not recommended", "recommended"),
                    ),
                }
            ),
        )
    }
)


def list_datasets():
    """Return the names of the bundled datasets.

    Returns
    -------
    names : list of str
        Sorted dataset names, each a valid ``name`` for :func:`load_dataset`.

    Examples
    --------
    >>> from skadapt.datasets import list_datasets
    >>> list_datasets()
    ['cr', 'emobank', 'goemotions', 'review_polarity', 'sst2', 'trec',
     'womens_clothing']
    """
    return sorted(DATASET_SPLITS)


def _invalid(param, value, choices, what):
    """Build the ValueError for a ``param=value`` that is not in ``choices``."""
    options = ", ".join(repr(choice) for choice in choices)
    message = f"{param}={value!r} is not {what}; choose one of {options}"
    if isinstance(value, str):
        close = difflib.get_close_matches(value.lower(), choices, n=1)
        if close:
            message += f" (did you mean {close[0]!r}?)"
    return ValueError(message + ".")


def _read_csv(source, dtype=str, **kwargs):
    """Read a bundled CSV, keeping every field as a string unless ``dtype`` says.

    ``keep_default_na=False`` keeps texts such as ``"NA"`` or ``"null"`` as
    strings instead of turning them into missing values.
    """
    return pd.read_csv(source, dtype=dtype, keep_default_na=False, **kwargs)


def _read_file(name, split, **kwargs):
    path = resources.files(_PACKAGE) / "data" / name / f"{split}.csv.gz"
    with path.open("rb") as file:
        return _read_csv(file, compression="gzip", **kwargs)


def _indicator(labels, classes, where):
    """The 0/1 indicator DataFrame of ``;``-joined ``labels``.

    One int64 column per class, in the order of ``classes``: the matrix that
    :class:`~sklearn.preprocessing.MultiLabelBinarizer` gives. A label outside
    ``classes`` (an empty one included) raises a ValueError.
    """
    dummies = labels.str.get_dummies(sep=";")
    unknown = sorted(set(dummies.columns) - set(classes))
    if unknown:
        raise ValueError(
            f"{where} has labels that are not among its {len(classes)} classes: "
            + ", ".join(repr(label) for label in unknown)
        )
    return dummies.reindex(columns=list(classes), fill_value=0).astype(np.int64)


@lru_cache(maxsize=None)
def _read_split(name, split):
    """One split as a DataFrame: ``text``, then the target column(s).

    Cached and shared between calls: never hand this frame out uncopied.
    """
    task = _TASKS[name]
    if task == "regression":
        dtypes = dict.fromkeys(_TARGET_COLUMNS[name], np.float64)
        return _read_file(name, split, dtype={"text": str, **dtypes})
    frame = _read_file(name, split)
    if task == "multilabel":
        where = f"data/{name}/{split}.csv.gz"
        target = _indicator(frame["labels"], _TARGET_COLUMNS[name], where)
        frame = pd.concat([frame[["text"]], target], axis=1)
    return frame


@lru_cache(maxsize=None)
def _read_table_split(name, split):
    """One split of a table set: its feature columns, then its targets.

    Texts keep ``""`` for a missing value; an empty category becomes NaN.
    Cached and shared between calls: never hand this frame out uncopied.
    """
    table = _TABLES[name]
    strings = (*table.text_columns, *table.category_columns)
    numbers = [c for c in (*table.features, *table.targets) if c not in strings]
    dtype = {**dict.fromkeys(strings, str), **dict.fromkeys(numbers, np.int64)}
    na_values = {column: [""] for column in table.category_columns}
    frame = _read_file(name, split, dtype=dtype, na_values=na_values)
    for target, (task, target_names) in table.targets.items():
        codes = range(len(target_names))
        if task == "classification" and not frame[target].isin(codes).all():
            raise ValueError(
                f"data/{name}/{split}.csv.gz: {target!r} holds values other "
                f"than the class codes 0 to {len(target_names) - 1}"
            )
    return frame[[*table.features, *table.targets]]


@lru_cache(maxsize=None)
def _target_names(name):
    if name in _TARGET_COLUMNS:
        return _TARGET_COLUMNS[name]
    labels = (_read_split(name, split)["label"] for split in DATASET_SPLITS[name])
    return tuple(sorted(set().union(*labels)))


def _parts(name, split):
    """The splits of ``name`` that ``split`` stands for, in order."""
    splits = DATASET_SPLITS[name]
    if split == "all":
        return splits
    if isinstance(split, str) and split in splits:
        return (split,)
    raise _invalid("split", split, (*splits, "all"), f"a split of {name!r}")


def _load_table(name, split, target, *, return_X_y, as_frame):
    """Load the table set ``name`` with the target column ``target``."""
    parts = _parts(name, split)
    table = _TABLES[name]
    if not isinstance(target, str) or target not in table.targets:
        raise _invalid("target", target, tuple(table.targets), f"a target of {name!r}")
    task, target_names = table.targets[target]
    # The features and the chosen target only: another target is never handed
    # out, not even in ``frame``, so that it cannot leak into the features.
    frame = pd.concat(
        [_read_table_split(name, part)[[*table.features, target]] for part in parts],
        ignore_index=True,
    )
    data = frame[list(table.features)].copy()
    if as_frame:
        y = frame[target]
    else:
        # A C-ordered copy, so that nothing handed out shares the cache.
        y, frame = np.array(frame[target].to_numpy(dtype=np.int64), order="C"), None
    if return_X_y:
        return data, y
    return Bunch(
        data=data,
        target=y,
        target_names=np.array(target_names, dtype=object),
        frame=frame,
        feature_names=list(table.features),
        text_columns=list(table.text_columns),
        DESCR=_descr(name),
        name=name,
        split=split,
        task=task,
    )


@lru_cache(maxsize=None)
def _descr(name):
    return (resources.files(_PACKAGE) / "descr" / f"{name}.rst").read_text(
        encoding="utf-8"
    )


def load_dataset(name, *, split="train", return_X_y=False, as_frame=False):
    """Load a bundled text dataset by name.

    Parameters
    ----------
    name : str
        Dataset to load, one of :func:`list_datasets`: ``"cr"``,
        ``"emobank"``, ``"goemotions"``, ``"review_polarity"``, ``"sst2"``,
        ``"trec"`` or ``"womens_clothing"``. ``"womens_clothing"`` is a table:
        it loads as :func:`load_womens_clothing` does with its default target,
        ``"Rating"`` (choose the other target there).
    split : str, default="train"
        Split to load: one of ``DATASET_SPLITS[name]`` (``"train"``,
        ``"test"`` and, for ``"emobank"``, ``"goemotions"`` and ``"sst2"``,
        ``"dev"``), or ``"all"`` for every split joined in the order train,
        dev, test.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.
    as_frame : bool, default=False
        If True, ``data`` is a pandas Series, ``target`` a Series (one target
        column) or a DataFrame (several), and ``frame`` is a DataFrame of the
        column ``text`` followed by the target column(s). For the table
        ``womens_clothing``, ``data`` is a DataFrame either way; see
        :func:`load_womens_clothing`.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the attributes:

        data : list of str, pandas Series or pandas DataFrame
            The texts; for the table ``womens_clothing``, always a DataFrame
            of its feature columns.
        target : ndarray, pandas Series or pandas DataFrame
            What is to be predicted for each text; its form depends on
            ``task``. ``"classification"`` (``cr``, ``review_polarity``,
            ``sst2``, ``trec``): the label, an ndarray of str (dtype object)
            of shape (n_samples,), or a Series named ``label``.
            ``"regression"`` (``emobank``): an ndarray of float64 of shape
            (n_samples, 3), or a DataFrame with the columns ``V``, ``A``,
            ``D``. ``"multilabel"`` (``goemotions``): a 0/1 indicator matrix,
            an ndarray of int64 of shape (n_samples, 28), or a DataFrame with
            one column per label.
        target_names : ndarray of str, dtype object
            The sorted class labels of a classification set; otherwise the
            names of the target columns, in their order.
        frame : pandas DataFrame or None
            If ``as_frame=True``, the column ``text`` followed by the target
            column(s) (``label``; ``V``, ``A``, ``D``; or one per label), else
            None.
        DESCR : str
            Description of the dataset: source, targets, sizes and citations.
        name : str
            The dataset name.
        split : str
            The split that was loaded.
        task : {"classification", "regression", "multilabel"}
            The kind of target.

        The table ``womens_clothing`` also has ``feature_names`` and
        ``text_columns``; see :func:`load_womens_clothing`.

    (data, target) : tuple if ``return_X_y`` is True
        The texts and targets, as described above.

    Raises
    ------
    ValueError
        If ``name`` is not a bundled dataset or ``split`` is not one of its
        splits.

    Examples
    --------
    >>> from skadapt.datasets import load_dataset
    >>> bunch = load_dataset("trec", split="test")
    >>> len(bunch.data)
    500
    >>> bunch.target_names
    array(['ABBR', 'DESC', 'ENTY', 'HUM', 'LOC', 'NUM'], dtype=object)
    >>> X, y = load_dataset("sst2", split="all", return_X_y=True)
    >>> len(X)
    9613
    >>> emobank = load_dataset("emobank", split="dev")
    >>> emobank.task, emobank.target.shape
    ('regression', (1000, 3))
    """
    if not isinstance(name, str) or name not in DATASET_SPLITS:
        raise _invalid("name", name, list_datasets(), "a bundled dataset")
    if name in _TABLES:
        target = next(iter(_TABLES[name].targets))
        return _load_table(
            name, split, target, return_X_y=return_X_y, as_frame=as_frame
        )
    parts = _parts(name, split)

    task, target_names = _TASKS[name], _target_names(name)
    frame = pd.concat([_read_split(name, part) for part in parts], ignore_index=True)
    data = frame["text"]
    target = frame["label"] if task == "classification" else frame[list(target_names)]
    if not as_frame:
        # A C-ordered copy, so that nothing handed out shares the cache.
        target = np.array(target.to_numpy(dtype=_TARGET_DTYPES[task]), order="C")
        data, frame = data.tolist(), None
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        target_names=np.array(target_names, dtype=object),
        frame=frame,
        DESCR=_descr(name),
        name=name,
        split=split,
        task=task,
    )


def load_sst2(*, split="train", return_X_y=False, as_frame=False):
    """Load the SST-2 binary movie-review sentiment dataset.

    Sentences from the Stanford Sentiment Treebank (Socher et al. 2013) with
    the neutral ones removed, in the official train/dev/test split.

    =================   ===================================
    Classes             2 (negative, positive)
    Samples per split   train 6920, dev 872, test 1821
    Features            text, one sentence each
    =================   ===================================

    Read more in ``load_sst2().DESCR``.

    Parameters
    ----------
    split : {"train", "dev", "test", "all"}, default="train"
        Split to load; ``"all"`` joins train, dev and test in that order.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.
    as_frame : bool, default=False
        If True, ``data`` and ``target`` are pandas Series and ``frame`` is a
        DataFrame with the columns ``text`` and ``label``.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With the attributes ``data``, ``target``, ``target_names``,
        ``frame``, ``DESCR``, ``name``, ``split`` and ``task``
        (``"classification"``); see :func:`load_dataset`.

    (data, target) : tuple if ``return_X_y`` is True
        The texts and their labels.

    Examples
    --------
    >>> from skadapt.datasets import load_sst2
    >>> X, y = load_sst2(split="dev", return_X_y=True)
    >>> len(X), len(y)
    (872, 872)
    >>> load_sst2().target_names
    array(['negative', 'positive'], dtype=object)
    """
    return load_dataset("sst2", split=split, return_X_y=return_X_y, as_frame=as_frame)


def load_trec(*, split="train", return_X_y=False, as_frame=False):
    """Load the TREC question-type dataset (coarse labels).

    Questions labelled with one of six answer types (Li & Roth 2002), in the
    official train/test split.

    =================   ===================================
    Classes             6 (ABBR, DESC, ENTY, HUM, LOC, NUM)
    Samples per split   train 5452, test 500
    Features            text, one question each
    =================   ===================================

    Read more in ``load_trec().DESCR``.

    Parameters
    ----------
    split : {"train", "test", "all"}, default="train"
        Split to load; ``"all"`` joins train and test in that order.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.
    as_frame : bool, default=False
        If True, ``data`` and ``target`` are pandas Series and ``frame`` is a
        DataFrame with the columns ``text`` and ``label``.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With the attributes ``data``, ``target``, ``target_names``,
        ``frame``, ``DESCR``, ``name``, ``split`` and ``task``
        (``"classification"``); see :func:`load_dataset`.

    (data, target) : tuple if ``return_X_y`` is True
        The texts and their labels.

    Examples
    --------
    >>> from skadapt.datasets import load_trec
    >>> X, y = load_trec(return_X_y=True)
    >>> len(X)
    5452
    >>> X[0], y[0]
    ('How did serfdom develop in and then leave Russia ?', 'DESC')
    """
    return load_dataset("trec", split=split, return_X_y=return_X_y, as_frame=as_frame)


def load_cr(*, split="train", return_X_y=False, as_frame=False):
    """Load the CR customer-review sentiment dataset.

    Sentences from product reviews (Hu & Liu 2004). CR has no official split;
    this one is a stratified 80/20 train/test split drawn with seed 0.

    =================   ===================================
    Classes             2 (negative, positive)
    Samples per split   train 3016, test 755
    Features            text, one sentence each
    =================   ===================================

    Read more in ``load_cr().DESCR``.

    Parameters
    ----------
    split : {"train", "test", "all"}, default="train"
        Split to load; ``"all"`` joins train and test in that order.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.
    as_frame : bool, default=False
        If True, ``data`` and ``target`` are pandas Series and ``frame`` is a
        DataFrame with the columns ``text`` and ``label``.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With the attributes ``data``, ``target``, ``target_names``,
        ``frame``, ``DESCR``, ``name``, ``split`` and ``task``
        (``"classification"``); see :func:`load_dataset`.

    (data, target) : tuple if ``return_X_y`` is True
        The texts and their labels.

    Examples
    --------
    >>> from skadapt.datasets import load_cr
    >>> cr = load_cr(split="test", as_frame=True)
    >>> cr.frame.shape
    (755, 2)
    >>> list(cr.frame.columns)
    ['text', 'label']
    """
    return load_dataset("cr", split=split, return_X_y=return_X_y, as_frame=as_frame)


def load_emobank(*, split="train", return_X_y=False, as_frame=False):
    """Load the EmoBank sentence-emotion dataset (regression, three targets).

    English sentences from several genres (news, blogs, fiction, letters,
    essays and more), each rated for the emotion it expresses on three
    dimensions (Buechel & Hahn 2017), in the official train/dev/test split.
    Each target is the mean rating on a 1 to 5 scale (weighted mean of the
    writer and reader perspectives).

    =================   ===================================
    Targets             valence, arousal, dominance (1-5)
    Samples per split   train 8062, dev 1000, test 1000
    Features            text, one sentence each
    =================   ===================================

    Read more in ``load_emobank().DESCR``.

    Parameters
    ----------
    split : {"train", "dev", "test", "all"}, default="train"
        Split to load; ``"all"`` joins train, dev and test in that order.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.
    as_frame : bool, default=False
        If True, ``data`` is a pandas Series, ``target`` a DataFrame with the
        columns ``V``, ``A``, ``D``, and ``frame`` a DataFrame with the
        columns ``text``, ``V``, ``A``, ``D``.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With the attributes ``data``, ``target`` (an ndarray of float64 of
        shape (n_samples, 3), columns valence, arousal, dominance),
        ``target_names`` (``V``, ``A``, ``D``), ``frame``, ``DESCR``,
        ``name``, ``split`` and ``task`` (``"regression"``); see
        :func:`load_dataset`.

    (data, target) : tuple if ``return_X_y`` is True
        The texts and their ratings.

    Examples
    --------
    >>> from skadapt.datasets import load_emobank
    >>> emobank = load_emobank(split="test")
    >>> emobank.target.shape, emobank.target.dtype
    ((1000, 3), dtype('float64'))
    >>> emobank.target_names
    array(['V', 'A', 'D'], dtype=object)
    >>> emobank.data[0], emobank.target[0].tolist()
    ("If I wasn't working here.", [2.8, 3.1, 2.8])
    """
    return load_dataset(
        "emobank", split=split, return_X_y=return_X_y, as_frame=as_frame
    )


def load_goemotions(*, split="train", return_X_y=False, as_frame=False):
    """Load the GoEmotions Reddit-comment dataset (multi-label, 28 labels).

    English Reddit comments, each labelled with one or more of 27 emotions or
    ``neutral`` (Demszky et al. 2020): the official train/dev/test split of
    the comments on whose labels at least two raters agreed. The target is a
    0/1 indicator matrix, one column per label.

    =================   ===================================
    Labels              28 (27 emotions and neutral)
    Samples per split   train 43410, dev 5426, test 5427
    Features            text, one comment each
    =================   ===================================

    Read more in ``load_goemotions().DESCR``.

    Parameters
    ----------
    split : {"train", "dev", "test", "all"}, default="train"
        Split to load; ``"all"`` joins train, dev and test in that order.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.
    as_frame : bool, default=False
        If True, ``data`` is a pandas Series, ``target`` a DataFrame with one
        0/1 column per label, and ``frame`` a DataFrame of the column
        ``text`` followed by those 28 columns.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With the attributes ``data``, ``target`` (an ndarray of int64 of
        shape (n_samples, 28), the indicator matrix that
        :class:`~sklearn.preprocessing.MultiLabelBinarizer` gives),
        ``target_names`` (the 28 labels in the official GoEmotions order:
        ``admiration`` to ``surprise``, then ``neutral``), ``frame``,
        ``DESCR``, ``name``, ``split`` and ``task`` (``"multilabel"``); see
        :func:`load_dataset`.

    (data, target) : tuple if ``return_X_y`` is True
        The texts and their indicator matrix.

    Examples
    --------
    >>> from skadapt.datasets import load_goemotions
    >>> goemotions = load_goemotions(split="dev")
    >>> goemotions.target.shape, goemotions.target.dtype
    ((5426, 28), dtype('int64'))
    >>> goemotions.target_names[:3].tolist(), goemotions.target_names[-1]
    (['admiration', 'amusement', 'anger'], 'neutral')
    >>> row = goemotions.target[1]
    >>> goemotions.target_names[row == 1].tolist()
    ['approval', 'neutral']
    """
    return load_dataset(
        "goemotions", split=split, return_X_y=return_X_y, as_frame=as_frame
    )


def load_review_polarity(*, split="train", return_X_y=False, as_frame=False):
    """Load the movie-review polarity dataset v2.0 (long documents).

    Full-length movie reviews labelled by the polarity of the reviewer's
    rating (Pang & Lee 2004), 1000 positive and 1000 negative. Each text is a
    whole review of about 750 words, so most are longer than the 256 or 512
    tokens a sentence encoder reads. The split follows the authors' ten
    cross-validation folds: train is folds 1-8, test folds 9-10.

    =================   ===================================
    Classes             2 (negative, positive)
    Samples per split   train 1600, test 400
    Features            text, one whole review each
    =================   ===================================

    Read more in ``load_review_polarity().DESCR``.

    Parameters
    ----------
    split : {"train", "test", "all"}, default="train"
        Split to load; ``"all"`` joins train and test in that order (folds 1
        to 10).
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.
    as_frame : bool, default=False
        If True, ``data`` and ``target`` are pandas Series and ``frame`` is a
        DataFrame with the columns ``text`` and ``label``.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With the attributes ``data``, ``target``, ``target_names``,
        ``frame``, ``DESCR``, ``name``, ``split`` and ``task``
        (``"classification"``); see :func:`load_dataset`. The rows are in
        fold order, 200 per fold: row ``i`` of the train split is in fold
        ``i // 200 + 1``, row ``i`` of the test split in fold ``i // 200 + 9``.

    (data, target) : tuple if ``return_X_y`` is True
        The texts and their labels.

    Examples
    --------
    >>> from skadapt.datasets import load_review_polarity
    >>> X, y = load_review_polarity(split="test", return_X_y=True)
    >>> len(X), len(y)
    (400, 400)
    >>> load_review_polarity().target_names
    array(['negative', 'positive'], dtype=object)
    >>> X[0][:49], y[0]
    ('there were four movies that earned jamie lee curt', 'negative')

    The authors' folds, to rebuild their 10-fold protocol on ``split="all"``:

    >>> import numpy as np
    >>> from sklearn.model_selection import PredefinedSplit
    >>> X_all, y_all = load_review_polarity(split="all", return_X_y=True)
    >>> folds = PredefinedSplit(np.arange(len(X_all)) // 200)
    >>> folds.get_n_splits()
    10
    """
    return load_dataset(
        "review_polarity", split=split, return_X_y=return_X_y, as_frame=as_frame
    )


def load_womens_clothing(
    *, split="train", target="Rating", return_X_y=False, as_frame=False
):
    """Load the Women's E-Commerce Clothing Reviews dataset (a table with text).

    Customer reviews of a women's clothing shop (Brooks 2018, the Kaggle
    dataset ``nicapotato/womens-ecommerce-clothing-reviews``): each row holds
    two texts, the review's title and body, beside the reviewer's age and the
    product's division, department and class. The target is the star rating,
    a regression from 1 to 5 as in the multimodal AutoML benchmark of Shi et
    al. (2021, dataset "cloth"), or whether the reviewer recommends the
    product. The split is that benchmark's 80/20 split, stratified by
    division.

    =================   ===============================================
    Targets             ``Rating`` (1-5) or ``Recommended IND`` (0/1)
    Samples per split   train 18788, test 4698
    Features            2 text, 1 numeric and 3 categorical columns
    =================   ===============================================

    ``data`` is always a pandas DataFrame of the six feature columns, in this
    order and with their original names:

    * ``Title`` and ``Review Text``: str, a missing text is the empty string
      ``""`` (3810 titles and 845 review texts of the 23486 rows are empty);
    * ``Age``: int64;
    * ``Division Name``, ``Department Name``, ``Class Name``: str, a missing
      category is NaN (14 rows).

    The two targets are never both handed out: the one not chosen is left out
    of ``data`` and ``frame``. Do not add it back as a feature, since they
    nearly tell each other: ``Rating >= 4`` agrees with ``Recommended IND`` on
    93.6% of the rows.

    Read more in ``load_womens_clothing().DESCR``.

    Parameters
    ----------
    split : {"train", "test", "all"}, default="train"
        Split to load; ``"all"`` joins train and test in that order.
    target : {"Rating", "Recommended IND"}, default="Rating"
        The target column. ``"Rating"``: the star rating, int64 from 1 to 5,
        ``task="regression"`` (the benchmark scores it with R^2).
        ``"Recommended IND"``: 1 if the reviewer recommends the product, else
        0 (82% ones), ``task="classification"``.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.
    as_frame : bool, default=False
        If True, ``target`` is a pandas Series named after the target column
        and ``frame`` a DataFrame of the six feature columns followed by the
        target column; else ``target`` is an ndarray and ``frame`` is None.
        ``data`` is a DataFrame either way.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the attributes:

        data : pandas DataFrame of shape (n_samples, 6)
            The feature columns, as described above.
        target : ndarray of int64 of shape (n_samples,) or pandas Series
            The rating (1 to 5) or the recommendation (0 or 1).
        target_names : ndarray of str, dtype object
            ``["Rating"]`` for the rating (the name of the target column, as
            for a regression set); ``["not recommended", "recommended"]``,
            the meaning of the codes 0 and 1, for the recommendation.
        frame : pandas DataFrame or None
            If ``as_frame=True``, the six feature columns followed by the
            target column, else None.
        feature_names : list of str
            The six feature columns, in order.
        text_columns : list of str
            The free-text columns: ``["Title", "Review Text"]``.
        DESCR : str
            Description of the dataset: source, licence, split, columns,
            statistics, reference results and citations.
        name : str
            ``"womens_clothing"``.
        split : str
            The split that was loaded.
        task : {"regression", "classification"}
            The kind of target: ``"regression"`` for ``Rating``,
            ``"classification"`` for ``Recommended IND``.

    (data, target) : tuple if ``return_X_y`` is True
        The feature DataFrame and the target, as described above.

    Raises
    ------
    ValueError
        If ``split`` is not one of the splits above or ``target`` is not one
        of the two target columns.

    Examples
    --------
    >>> from skadapt.datasets import load_womens_clothing
    >>> X, y = load_womens_clothing(return_X_y=True)
    >>> X.shape, y.shape
    ((18788, 6), (18788,))
    >>> list(X.columns)
    ['Title', 'Review Text', 'Age', 'Division Name', 'Department Name', 'Class Name']
    >>> X.loc[1, "Title"], int(X.loc[1, "Age"]), X.loc[1, "Class Name"], int(y[1])
    ('Love it', 40, 'Skirts', 5)
    >>> int((X["Title"] == "").sum()), int(X["Class Name"].isna().sum())
    (3063, 11)

    The recommendation as a classification target; the rating is not among
    the columns:

    >>> clothing = load_womens_clothing(
    ...     split="test", target="Recommended IND", as_frame=True
    ... )
    >>> clothing.task, clothing.target_names.tolist()
    ('classification', ['not recommended', 'recommended'])
    >>> clothing.target.value_counts().sort_index().tolist()
    [797, 3901]
    >>> list(clothing.frame.columns)[-2:], clothing.text_columns
    (['Class Name', 'Recommended IND'], ['Title', 'Review Text'])
    """
    return _load_table(
        "womens_clothing", split, target, return_X_y=return_X_y, as_frame=as_frame
    )
