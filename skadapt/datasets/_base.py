"""Loaders for the small text-classification datasets bundled with skadapt.

Every split is stored as ``data/<name>/<split>.csv.gz`` (columns ``text`` and
``label``, both strings) and described in ``descr/<name>.rst``. The files are
read through :mod:`importlib.resources`, so they also load from an installed
wheel or a zip archive.
"""

import difflib
from functools import lru_cache
from importlib import resources
from types import MappingProxyType

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

__all__ = [
    "DATASET_SPLITS",
    "list_datasets",
    "load_cr",
    "load_dataset",
    "load_sst2",
    "load_trec",
]

_PACKAGE = "skadapt.datasets"

DATASET_SPLITS = MappingProxyType(
    {
        "cr": ("train", "test"),
        "sst2": ("train", "dev", "test"),
        "trec": ("train", "test"),
    }
)
"""Read-only mapping of each bundled dataset to its splits.

The splits are listed in the order in which ``split="all"`` joins them.
"""


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
    ['cr', 'sst2', 'trec']
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


def _read_csv(source, **kwargs):
    """Read a ``text,label`` CSV, keeping every field as a string.

    ``keep_default_na=False`` keeps texts such as ``"NA"`` or ``"null"`` as
    strings instead of turning them into missing values.
    """
    return pd.read_csv(source, dtype=str, keep_default_na=False, **kwargs)


@lru_cache(maxsize=None)
def _read_split(name, split):
    # Cached and shared between calls: never hand this frame out uncopied.
    path = resources.files(_PACKAGE) / "data" / name / f"{split}.csv.gz"
    with path.open("rb") as file:
        return _read_csv(file, compression="gzip")


@lru_cache(maxsize=None)
def _target_names(name):
    labels = (_read_split(name, split)["label"] for split in DATASET_SPLITS[name])
    return tuple(sorted(set().union(*labels)))


@lru_cache(maxsize=None)
def _descr(name):
    return (resources.files(_PACKAGE) / "descr" / f"{name}.rst").read_text(
        encoding="utf-8"
    )


def load_dataset(name, *, split="train", return_X_y=False, as_frame=False):
    """Load a bundled text-classification dataset by name.

    Parameters
    ----------
    name : {"cr", "sst2", "trec"}
        Dataset to load; see :func:`list_datasets`.
    split : str, default="train"
        Split to load: one of ``DATASET_SPLITS[name]`` (``"train"``,
        ``"test"`` and, for ``"sst2"`` only, ``"dev"``), or ``"all"`` for
        every split joined in the order train, dev, test.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.
    as_frame : bool, default=False
        If True, ``data`` and ``target`` are pandas Series and ``frame`` is a
        DataFrame with the columns ``text`` and ``label``.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the attributes:

        data : list of str or pandas Series
            The texts.
        target : ndarray of str, dtype object, or pandas Series
            The label of each text.
        target_names : ndarray of str, dtype object
            Sorted class labels of the dataset.
        frame : pandas DataFrame or None
            The columns ``text`` and ``label`` if ``as_frame=True``, else None.
        DESCR : str
            Description of the dataset: source, classes, sizes and citations.
        name : str
            The dataset name.
        split : str
            The split that was loaded.

    (data, target) : tuple if ``return_X_y`` is True
        The texts and labels, as described above.

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
    """
    if not isinstance(name, str) or name not in DATASET_SPLITS:
        raise _invalid("name", name, list_datasets(), "a bundled dataset")
    splits = DATASET_SPLITS[name]
    if split == "all":
        parts = splits
    elif isinstance(split, str) and split in splits:
        parts = (split,)
    else:
        raise _invalid("split", split, (*splits, "all"), f"a split of {name!r}")

    frame = pd.concat([_read_split(name, part) for part in parts], ignore_index=True)
    data, target = frame["text"], frame["label"]
    if not as_frame:
        data, target, frame = data.tolist(), target.to_numpy(dtype=object), None
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        target_names=np.array(_target_names(name), dtype=object),
        frame=frame,
        DESCR=_descr(name),
        name=name,
        split=split,
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
        ``frame``, ``DESCR``, ``name`` and ``split``; see
        :func:`load_dataset`.

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
        ``frame``, ``DESCR``, ``name`` and ``split``; see
        :func:`load_dataset`.

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
        ``frame``, ``DESCR``, ``name`` and ``split``; see
        :func:`load_dataset`.

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
