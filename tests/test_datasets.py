"""Tests for the bundled datasets in skadapt.datasets."""

import doctest
import io
import re

import numpy as np
import pandas as pd
import pytest

from skadapt import datasets
from skadapt.datasets import (
    DATASET_SPLITS,
    list_datasets,
    load_cr,
    load_dataset,
    load_sst2,
    load_trec,
)
from skadapt.datasets import _base

SIZES = {
    ("sst2", "train"): 6920,
    ("sst2", "dev"): 872,
    ("sst2", "test"): 1821,
    ("trec", "train"): 5452,
    ("trec", "test"): 500,
    ("cr", "train"): 3016,
    ("cr", "test"): 755,
}
CLASSES = {
    "sst2": ["negative", "positive"],
    "trec": ["ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"],
    "cr": ["negative", "positive"],
}
LOADERS = {"sst2": load_sst2, "trec": load_trec, "cr": load_cr}
ALL_SPLITS = [
    (name, split) for name in CLASSES for split in (*DATASET_SPLITS[name], "all")
]


def test_registry():
    assert list_datasets() == ["cr", "sst2", "trec"]
    assert dict(DATASET_SPLITS) == {
        "cr": ("train", "test"),
        "sst2": ("train", "dev", "test"),
        "trec": ("train", "test"),
    }
    with pytest.raises(TypeError):
        DATASET_SPLITS["new"] = ("train",)


@pytest.mark.parametrize(("name", "split"), SIZES)
def test_split_sizes(name, split):
    bunch = load_dataset(name, split=split)
    assert len(bunch.data) == len(bunch.target) == SIZES[name, split]


@pytest.mark.parametrize(("name", "split"), ALL_SPLITS)
def test_bunch(name, split):
    bunch = LOADERS[name](split=split)
    assert bunch.name == name
    assert bunch.split == split
    assert bunch.frame is None
    assert isinstance(bunch.data, list)
    assert all(isinstance(text, str) and text.strip() for text in bunch.data)
    assert isinstance(bunch.target, np.ndarray)
    assert bunch.target.dtype == object
    assert all(isinstance(label, str) for label in bunch.target)
    assert bunch.target_names.tolist() == CLASSES[name]
    assert sorted(set(bunch.target)) == CLASSES[name]
    assert isinstance(bunch.DESCR, str)
    assert re.search(rf"^\.\. _{name}_dataset:", bunch.DESCR)


@pytest.mark.parametrize("name", CLASSES)
def test_as_frame(name):
    bunch = load_dataset(name, split="test", as_frame=True)
    assert isinstance(bunch.frame, pd.DataFrame)
    assert list(bunch.frame.columns) == ["text", "label"]
    assert isinstance(bunch.data, pd.Series)
    assert isinstance(bunch.target, pd.Series)
    pd.testing.assert_series_equal(bunch.data, bunch.frame["text"])
    pd.testing.assert_series_equal(bunch.target, bunch.frame["label"])
    assert bunch.frame.notna().all().all()
    assert bunch.data.tolist() == load_dataset(name, split="test").data


@pytest.mark.parametrize("name", CLASSES)
def test_return_X_y(name):
    X, y = LOADERS[name](return_X_y=True)
    bunch = LOADERS[name]()
    assert X == bunch.data
    np.testing.assert_array_equal(y, bunch.target)

    X, y = LOADERS[name](return_X_y=True, as_frame=True)
    assert isinstance(X, pd.Series)
    assert isinstance(y, pd.Series)


@pytest.mark.parametrize("name", CLASSES)
def test_all_is_every_split_in_order(name):
    splits = DATASET_SPLITS[name]
    parts = [load_dataset(name, split=split) for split in splits]
    everything = load_dataset(name, split="all", as_frame=True)
    assert len(everything.data) == sum(SIZES[name, split] for split in splits)
    assert everything.data.tolist() == [text for part in parts for text in part.data]
    assert everything.target.tolist() == [y for part in parts for y in part.target]
    assert everything.frame.index.equals(pd.RangeIndex(len(everything.data)))


def test_na_like_texts_stay_strings():
    csv = "text,label\nNA,positive\nnull,negative\nN/A,positive\nnan,negative\n"
    frame = _base._read_csv(io.StringIO(csv))
    assert frame["text"].tolist() == ["NA", "null", "N/A", "nan"]
    assert frame.notna().all().all()


@pytest.mark.parametrize(
    ("name", "suggestion"), [("sst", "sst2"), ("SST2", "sst2"), ("tre", "trec")]
)
def test_unknown_name(name, suggestion):
    message = (
        f"name={name!r} is not a bundled dataset; choose one of 'cr', 'sst2', 'trec' "
        f"(did you mean {suggestion!r}?)."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        load_dataset(name)


@pytest.mark.parametrize("name", ["imdb", None])
def test_unknown_name_without_suggestion(name):
    with pytest.raises(ValueError, match=r"choose one of 'cr', 'sst2', 'trec'\.$"):
        load_dataset(name)


def test_unknown_split():
    message = (
        "split='tset' is not a split of 'trec'; choose one of 'train', 'test', "
        "'all' (did you mean 'test'?)."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        load_trec(split="tset")
    with pytest.raises(ValueError, match=r"^split='dev' is not a split of 'cr'"):
        load_cr(split="dev")
    with pytest.raises(ValueError, match=r"'train', 'dev', 'test', 'all'\.$"):
        load_sst2(split="validation")


def test_results_are_fresh_objects():
    bunch = load_trec()
    bunch.data.clear()
    bunch.target[:] = "HUM"
    bunch.target_names[:] = "x"
    X, y = load_trec(return_X_y=True)
    X.append("extra")
    frame = load_trec(as_frame=True).frame
    frame.loc[0, "text"] = "changed"
    frame["label"] = "NUM"

    again = load_trec()
    assert len(again.data) == 5452
    assert again.data[0] == "How did serfdom develop in and then leave Russia ?"
    assert sorted(set(again.target)) == CLASSES["trec"]
    assert again.target_names.tolist() == CLASSES["trec"]
    assert load_trec(as_frame=True).frame["label"].value_counts()["NUM"] == 896


def test_public_api():
    assert sorted(datasets.__all__) == sorted(_base.__all__)
    for name in datasets.__all__:
        assert getattr(datasets, name) is getattr(_base, name)


def test_docstring_examples():
    result = doctest.testmod(_base, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
