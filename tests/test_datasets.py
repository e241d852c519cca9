"""Tests for the bundled datasets in skadapt.datasets."""

import doctest
import io
import re

import numpy as np
import pandas as pd
import pytest
from sklearn.preprocessing import MultiLabelBinarizer

from skadapt import datasets
from skadapt.datasets import (
    DATASET_SPLITS,
    list_datasets,
    load_cr,
    load_dataset,
    load_emobank,
    load_goemotions,
    load_review_polarity,
    load_sst2,
    load_trec,
    load_womens_clothing,
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
    ("review_polarity", "train"): 1600,
    ("review_polarity", "test"): 400,
}
CLASSES = {
    "sst2": ["negative", "positive"],
    "trec": ["ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"],
    "cr": ["negative", "positive"],
    "review_polarity": ["negative", "positive"],
}
LOADERS = {
    "sst2": load_sst2,
    "trec": load_trec,
    "cr": load_cr,
    "review_polarity": load_review_polarity,
}
ALL_SPLITS = [
    (name, split) for name in CLASSES for split in (*DATASET_SPLITS[name], "all")
]

# Regression and multi-label sets.
TARGET_SIZES = {
    ("emobank", "train"): 8062,
    ("emobank", "dev"): 1000,
    ("emobank", "test"): 1000,
    ("goemotions", "train"): 43410,
    ("goemotions", "dev"): 5426,
    ("goemotions", "test"): 5427,
}
EMOTIONS = [
    "admiration", "amusement", "anger", "annoyance", "approval", "caring",
    "confusion", "curiosity", "desire", "disappointment", "disapproval", "disgust",
    "embarrassment", "excitement", "fear", "gratitude", "grief", "joy", "love",
    "nervousness", "optimism", "pride", "realization", "relief", "remorse",
    "sadness", "surprise", "neutral",
]  # fmt: skip
TARGETS = {"emobank": ["V", "A", "D"], "goemotions": EMOTIONS}
TASKS = {"emobank": "regression", "goemotions": "multilabel"}
TARGET_DTYPES = {"emobank": np.float64, "goemotions": np.int64}
TARGET_LOADERS = {"emobank": load_emobank, "goemotions": load_goemotions}
TARGET_SPLITS = [
    (name, split) for name in TARGETS for split in (*DATASET_SPLITS[name], "all")
]


def test_registry():
    assert list_datasets() == [
        "cr", "emobank", "goemotions", "review_polarity", "sst2", "trec",
        "womens_clothing",
    ]  # fmt: skip
    assert dict(DATASET_SPLITS) == {
        "cr": ("train", "test"),
        "emobank": ("train", "dev", "test"),
        "goemotions": ("train", "dev", "test"),
        "review_polarity": ("train", "test"),
        "sst2": ("train", "dev", "test"),
        "trec": ("train", "test"),
        "womens_clothing": ("train", "test"),
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
    assert bunch.task == "classification"


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
    ("name", "suggestion"),
    [
        ("sst", "sst2"),
        ("SST2", "sst2"),
        ("tre", "trec"),
        ("emobnak", "emobank"),
        ("go_emotions", "goemotions"),
        ("review-polarity", "review_polarity"),
        ("polarity", "review_polarity"),
        ("womens-clothing", "womens_clothing"),
        ("clothing", "womens_clothing"),
    ],
)
def test_unknown_name(name, suggestion):
    message = (
        f"name={name!r} is not a bundled dataset; choose one of 'cr', 'emobank', "
        f"'goemotions', 'review_polarity', 'sst2', 'trec', 'womens_clothing' (did "
        f"you mean {suggestion!r}?)."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        load_dataset(name)


@pytest.mark.parametrize("name", ["imdb", None])
def test_unknown_name_without_suggestion(name):
    message = (
        r"choose one of 'cr', 'emobank', 'goemotions', 'review_polarity', 'sst2', "
        r"'trec', 'womens_clothing'\.$"
    )
    with pytest.raises(ValueError, match=message):
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


# -- long documents (review_polarity) ------------------------------------------
def _words(texts):
    return np.array([len(text.split()) for text in texts])


@pytest.mark.parametrize(("split", "n"), [("train", 1600), ("test", 400)])
def test_review_polarity_shapes_and_balance(split, n):
    bunch = load_review_polarity(split=split)
    assert len(bunch.data) == bunch.target.shape[0] == n
    assert bunch.target.shape == (n,)
    assert bunch.target_names.tolist() == ["negative", "positive"]
    assert set(bunch.target) == {"negative", "positive"}
    assert (bunch.target == "positive").sum() == (bunch.target == "negative").sum()
    # Rows are in fold order, 200 per fold, each fold balanced.
    for fold in np.split(bunch.target, n // 200):
        assert (fold == "positive").sum() == (fold == "negative").sum() == 100


def test_review_polarity_return_X_y():
    X, y = load_review_polarity(split="test", return_X_y=True)
    bunch = load_review_polarity(split="test")
    assert isinstance(X, list) and isinstance(y, np.ndarray)
    assert X == bunch.data
    np.testing.assert_array_equal(y, bunch.target)
    assert X[0].startswith("there were four movies that earned jamie lee curtis")
    assert y[0] == "negative"


@pytest.mark.parametrize("split", ["train", "test"])
def test_review_polarity_texts_are_long(split):
    words = _words(load_review_polarity(split=split).data)
    assert words.mean() > 500
    assert np.median(words) > 500
    assert (words > 256).mean() > 0.95
    assert (words > 512).mean() > 0.7


def test_review_polarity_length_statistics_match_descr():
    train, test = load_review_polarity(), load_review_polarity(split="test")
    for bunch, mean, median, longest in [
        (train, "746.0", "697", 2678),
        (test, "747.9", "689", 2033),
    ]:
        words = _words(bunch.data)
        assert f"{words.mean():.1f}" == mean
        assert f"{np.median(words):g}" == median
        assert words.max() == longest
        assert f"{words.mean():.1f}" in bunch.DESCR
    assert "98.1% (1569)" in train.DESCR and "76.4% (1222)" in train.DESCR


def test_review_polarity_no_overlap():
    train = load_review_polarity().data
    test = load_review_polarity(split="test").data
    assert len(set(train)) == len(train)
    assert len(set(test)) == len(test)
    assert not set(train) & set(test)
    everything = load_review_polarity(split="all").data
    assert everything == train + test


def test_review_polarity_descr():
    descr = load_review_polarity().DESCR
    assert descr.startswith(".. _review_polarity_dataset:")
    for fact in (
        "Pang, B. and Lee, L. (2004)",
        "A Sentimental Education",
        "(ACL 2004)",
        "54b73f0a8b25ed7ea9b68c632c2ab03c4372e93b",
        "License",
        "folds 1-8",
        "folds 9-10",
        "10-fold cross-validation",
        "86.4",
        "89.45",
        "all-MiniLM-L6-v2",
    ):
        assert fact in descr


def test_review_polarity_split_errors():
    with pytest.raises(ValueError, match=r"^split='dev' is not a split of 'review_p"):
        load_review_polarity(split="dev")
    message = "choose one of 'train', 'test', 'all' (did you mean 'test'?)."
    with pytest.raises(ValueError, match=re.escape(message)):
        load_review_polarity(split="tset")
    with pytest.raises(TypeError):
        load_review_polarity("train")  # split is keyword-only


# -- regression (emobank) and multi-label (goemotions) -------------------------
def _labels_of(bunch, row):
    """The ``;``-joined labels of one row of a goemotions indicator matrix."""
    return ";".join(bunch.target_names[bunch.target[row] == 1])


@pytest.mark.parametrize(("name", "split"), TARGET_SIZES)
def test_target_split_sizes(name, split):
    bunch = load_dataset(name, split=split)
    assert len(bunch.data) == TARGET_SIZES[name, split]
    assert bunch.target.shape == (TARGET_SIZES[name, split], len(TARGETS[name]))


@pytest.mark.parametrize(("name", "split"), TARGET_SPLITS)
def test_target_bunch(name, split):
    bunch = TARGET_LOADERS[name](split=split)
    assert bunch.name == name
    assert bunch.split == split
    assert bunch.task == TASKS[name]
    assert bunch.frame is None
    assert isinstance(bunch.data, list)
    assert all(isinstance(text, str) and text.strip() for text in bunch.data)
    assert isinstance(bunch.target, np.ndarray)
    assert bunch.target.dtype == TARGET_DTYPES[name]
    assert bunch.target.shape == (len(bunch.data), len(TARGETS[name]))
    assert bunch.target.flags.c_contiguous
    assert isinstance(bunch.target_names, np.ndarray)
    assert bunch.target_names.dtype == object
    assert bunch.target_names.tolist() == TARGETS[name]
    assert isinstance(bunch.DESCR, str)
    assert re.search(rf"^\.\. _{name}_dataset:", bunch.DESCR)


@pytest.mark.parametrize("split", [*DATASET_SPLITS["emobank"], "all"])
def test_emobank_targets(split):
    y = load_emobank(split=split).target
    assert np.isfinite(y).all()
    assert ((y >= 1) & (y <= 5)).all()
    # Not constant: every dimension varies around the middle of the scale.
    assert (y.std(axis=0) > 0.1).all()
    assert (np.abs(y.mean(axis=0) - 3) < 0.2).all()


def test_emobank_rows():
    test = load_emobank(split="test")
    assert test.data[0] == "If I wasn't working here."
    np.testing.assert_array_equal(test.target[0], [2.8, 3.1, 2.8])
    assert test.data[1] == "I've got more than a job; I've got a career.\""
    np.testing.assert_array_equal(test.target[1], [3.27, 3.36, 3.36])
    dev = load_emobank(split="dev")
    assert dev.data[2] == (
        "A Goodwill staff member addresses a group of welfare recipients:"
    )
    np.testing.assert_array_equal(dev.target[2], [3.0, 2.62, 3.12])
    for word in ("valence", "arousal", "dominance", "CC BY-SA 4.0"):
        assert word in test.DESCR


@pytest.mark.parametrize("split", [*DATASET_SPLITS["goemotions"], "all"])
def test_goemotions_indicator(split):
    y = load_goemotions(split=split).target
    assert set(np.unique(y).tolist()) == {0, 1}
    per_row = y.sum(axis=1)
    assert per_row.min() >= 1  # every comment has at least one label
    assert per_row.max() <= 5


def test_goemotions_rows():
    train, dev = load_goemotions(), load_goemotions(split="dev")
    test = load_goemotions(split="test")
    rows = [
        (train, 0, "My favourite food is anything I didn't have to cook myself.",
         "neutral"),
        (train, 7, "We need more boards and to create a bit more space for [NAME]. "
         "Then we\u2019ll be good.", "desire;optimism"),
        (dev, 1, "You know the answer man, you are programmed to capture those codes "
         "they send you, don\u2019t avoid them!", "approval;neutral"),
        (dev, 2, "I've never been this sad in my life!", "sadness"),
        (test, 2, "Kings fan here, good luck to you guys! Will be an interesting "
         "game to watch! ", "excitement"),
    ]  # fmt: skip
    for bunch, row, text, labels in rows:
        assert bunch.data[row] == text
        assert _labels_of(bunch, row) == labels
    # The same matrix as MultiLabelBinarizer over the ";"-joined labels.
    binarizer = MultiLabelBinarizer(classes=EMOTIONS)
    expected = binarizer.fit_transform([labels.split(";") for *_, labels in rows])
    got = np.stack([bunch.target[row] for bunch, row, *_ in rows])
    np.testing.assert_array_equal(got, expected)
    assert got.dtype == expected.dtype


def test_goemotions_label_counts():
    bunch = load_goemotions(as_frame=True)
    counts = bunch.target.sum()
    assert counts["grief"] == 77
    assert counts["neutral"] == 14219
    assert counts.idxmin() == "grief"
    several = (bunch.target.sum(axis=1) >= 2).sum()
    assert several == 7102  # 16.4% of the training rows
    for fact in ("Apache-2.0", "0.46", "0.40", "0.63", "Table 4"):
        assert fact in bunch.DESCR


def test_goemotions_unknown_label_fails():
    labels = pd.Series(["joy;gratitude", "neutral"])
    indicator = _base._indicator(labels, EMOTIONS, "x.csv")
    assert list(indicator.columns) == EMOTIONS
    assert indicator.to_numpy().sum(axis=1).tolist() == [2, 1]
    with pytest.raises(ValueError, match=r"x\.csv has labels .*: 'glee'"):
        _base._indicator(pd.Series(["joy;glee", "anger"]), EMOTIONS, "x.csv")
    with pytest.raises(ValueError, match=r"^x\.csv has labels .*: ''$"):
        _base._indicator(pd.Series(["joy;", "anger"]), EMOTIONS, "x.csv")


@pytest.mark.parametrize("name", TARGETS)
def test_target_as_frame(name):
    bunch = load_dataset(name, split="test", as_frame=True)
    assert isinstance(bunch.frame, pd.DataFrame)
    assert list(bunch.frame.columns) == ["text", *TARGETS[name]]
    assert isinstance(bunch.data, pd.Series)
    assert isinstance(bunch.target, pd.DataFrame)
    pd.testing.assert_series_equal(bunch.data, bunch.frame["text"])
    pd.testing.assert_frame_equal(bunch.target, bunch.frame[TARGETS[name]])
    assert (bunch.target.dtypes == TARGET_DTYPES[name]).all()
    assert bunch.frame.notna().all().all()
    plain = load_dataset(name, split="test")
    assert bunch.data.tolist() == plain.data
    np.testing.assert_array_equal(bunch.target.to_numpy(), plain.target)


@pytest.mark.parametrize("name", TARGETS)
def test_target_return_X_y(name):
    X, y = TARGET_LOADERS[name](return_X_y=True)
    bunch = TARGET_LOADERS[name]()
    assert X == bunch.data
    np.testing.assert_array_equal(y, bunch.target)
    assert y.dtype == TARGET_DTYPES[name]

    X, y = TARGET_LOADERS[name](split="dev", return_X_y=True, as_frame=True)
    assert isinstance(X, pd.Series)
    assert isinstance(y, pd.DataFrame)
    assert y.shape == (TARGET_SIZES[name, "dev"], len(TARGETS[name]))


@pytest.mark.parametrize("name", TARGETS)
def test_target_all_is_every_split_in_order(name):
    splits = DATASET_SPLITS[name]
    parts = [load_dataset(name, split=split) for split in splits]
    everything = load_dataset(name, split="all")
    assert len(everything.data) == sum(TARGET_SIZES[name, split] for split in splits)
    assert everything.data == [text for part in parts for text in part.data]
    np.testing.assert_array_equal(
        everything.target, np.concatenate([part.target for part in parts])
    )
    frame = load_dataset(name, split="all", as_frame=True).frame
    assert frame.index.equals(pd.RangeIndex(len(everything.data)))


def test_target_split_errors():
    message = (
        "split='tset' is not a split of 'goemotions'; choose one of 'train', 'dev', "
        "'test', 'all' (did you mean 'test'?)."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        load_goemotions(split="tset")
    with pytest.raises(ValueError, match=r"^split='validation' is not a split of "):
        load_emobank(split="validation")
    with pytest.raises(ValueError, match=r"^split=None is not a split of 'emobank'"):
        load_dataset("emobank", split=None)
    with pytest.raises(TypeError):
        load_emobank("train")  # split is keyword-only


@pytest.mark.parametrize("name", TARGETS)
def test_target_results_are_fresh_objects(name):
    bunch = TARGET_LOADERS[name]()
    expected = bunch.target.copy()
    bunch.target[:] = 0
    bunch.target_names[:] = "x"
    bunch.data.clear()
    frame = TARGET_LOADERS[name](as_frame=True).frame
    frame.loc[0, "text"] = "changed"
    frame[TARGETS[name][0]] = 0

    again = TARGET_LOADERS[name]()
    np.testing.assert_array_equal(again.target, expected)
    assert again.target_names.tolist() == TARGETS[name]
    assert len(again.data) == TARGET_SIZES[name, "train"]
    assert TARGET_LOADERS[name](as_frame=True).frame.loc[0, "text"] != "changed"


def test_public_api():
    assert sorted(datasets.__all__) == sorted(_base.__all__)
    for name in datasets.__all__:
        assert getattr(datasets, name) is getattr(_base, name)


def test_docstring_examples():
    result = doctest.testmod(_base, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


# -- a table with text (womens_clothing) ---------------------------------------
CLOTHING_FEATURES = [
    "Title", "Review Text", "Age", "Division Name", "Department Name", "Class Name",
]  # fmt: skip
CLOTHING_TEXT = ["Title", "Review Text"]
CLOTHING_CATEGORIES = ["Division Name", "Department Name", "Class Name"]
CLOTHING_SIZES = {"train": 18788, "test": 4698, "all": 23486}
# Per split: empty titles, empty review texts, rows with missing categories.
CLOTHING_MISSING = {"train": (3063, 667, 11), "test": (747, 178, 3)}
CLOTHING_RATINGS = {
    "train": [687, 1248, 2332, 4084, 10437],
    "test": [155, 317, 539, 993, 2694],
}
CLOTHING_RECOMMENDED = {"train": [3375, 15413], "test": [797, 3901]}


def _is_str_column(column):
    return pd.api.types.is_string_dtype(column) and not isinstance(
        column.dtype, pd.CategoricalDtype
    )


@pytest.mark.parametrize("split", CLOTHING_SIZES)
def test_womens_clothing_table(split):
    bunch = load_womens_clothing(split=split)
    n = CLOTHING_SIZES[split]
    X = bunch.data
    assert isinstance(X, pd.DataFrame)
    assert X.shape == (n, 6)
    assert list(X.columns) == CLOTHING_FEATURES
    assert X.index.equals(pd.RangeIndex(n))
    assert bunch.feature_names == CLOTHING_FEATURES
    assert bunch.text_columns == CLOTHING_TEXT
    assert X["Age"].dtype == np.int64
    assert X["Age"].between(18, 99).all()
    for column in CLOTHING_TEXT:
        # A missing text is "", never NaN.
        assert _is_str_column(X[column])
        assert X[column].notna().all()
        assert all(isinstance(text, str) for text in X[column])
    for column in CLOTHING_CATEGORIES:
        assert _is_str_column(X[column])
        present = X[column].dropna()
        assert all(isinstance(value, str) and value for value in present)
        missing = X[column][X[column].isna()].tolist()
        assert all(isinstance(value, float) and np.isnan(value) for value in missing)
    assert bunch.name == "womens_clothing"
    assert bunch.split == split
    assert bunch.frame is None
    assert re.search(r"^\.\. _womens_clothing_dataset:", bunch.DESCR)


@pytest.mark.parametrize("split", CLOTHING_MISSING)
def test_womens_clothing_missing_values(split):
    X = load_womens_clothing(split=split).data
    titles, reviews, categories = CLOTHING_MISSING[split]
    assert (X["Title"] == "").sum() == titles
    assert (X["Review Text"] == "").sum() == reviews
    assert X[CLOTHING_TEXT + ["Age"]].notna().all().all()
    # The three categories are missing together, in the same rows.
    missing = X[CLOTHING_CATEGORIES].isna()
    assert missing.sum().tolist() == [categories] * 3
    assert missing.all(axis=1).sum() == categories
    assert not (X[CLOTHING_CATEGORIES] == "").any().any()


@pytest.mark.parametrize("split", ["train", "test"])
def test_womens_clothing_targets(split):
    rating = load_womens_clothing(split=split)
    assert rating.task == "regression"
    assert rating.target_names.tolist() == ["Rating"]
    assert rating.target_names.dtype == object
    assert isinstance(rating.target, np.ndarray)
    assert rating.target.dtype == np.int64
    assert rating.target.shape == (CLOTHING_SIZES[split],)
    assert rating.target.flags.c_contiguous
    assert np.bincount(rating.target).tolist() == [0, *CLOTHING_RATINGS[split]]

    recommended = load_womens_clothing(split=split, target="Recommended IND")
    assert recommended.task == "classification"
    assert recommended.target_names.tolist() == ["not recommended", "recommended"]
    assert recommended.target.dtype == np.int64
    assert np.bincount(recommended.target).tolist() == CLOTHING_RECOMMENDED[split]
    pd.testing.assert_frame_equal(recommended.data, rating.data)


def test_womens_clothing_targets_agree_on_most_rows():
    # Why one target is never a feature for the other (docstring and DESCR).
    bunch = load_womens_clothing(split="all")
    recommended = load_womens_clothing(split="all", target="Recommended IND")
    agree = ((bunch.target >= 4) == (recommended.target == 1)).mean()
    assert f"{agree:.1%}" == "93.6%"
    assert "93.6%" in bunch.DESCR
    assert "93.6%" in load_womens_clothing.__doc__


@pytest.mark.parametrize("target", ["Rating", "Recommended IND"])
def test_womens_clothing_as_frame(target):
    bunch = load_womens_clothing(split="test", target=target, as_frame=True)
    assert list(bunch.frame.columns) == [*CLOTHING_FEATURES, target]
    assert isinstance(bunch.target, pd.Series)
    assert bunch.target.name == target
    assert bunch.target.dtype == np.int64
    pd.testing.assert_frame_equal(bunch.data, bunch.frame[CLOTHING_FEATURES])
    pd.testing.assert_series_equal(bunch.target, bunch.frame[target])
    plain = load_womens_clothing(split="test", target=target)
    pd.testing.assert_frame_equal(bunch.data, plain.data)
    np.testing.assert_array_equal(bunch.target.to_numpy(), plain.target)
    # The other target is never handed out.
    other = {"Rating": "Recommended IND", "Recommended IND": "Rating"}[target]
    assert other not in bunch.frame.columns
    assert other not in bunch.data.columns


def test_womens_clothing_return_X_y():
    X, y = load_womens_clothing(split="test", return_X_y=True)
    bunch = load_womens_clothing(split="test")
    assert isinstance(X, pd.DataFrame) and isinstance(y, np.ndarray)
    pd.testing.assert_frame_equal(X, bunch.data)
    np.testing.assert_array_equal(y, bunch.target)
    X, y = load_womens_clothing(
        split="test", target="Recommended IND", return_X_y=True, as_frame=True
    )
    assert isinstance(X, pd.DataFrame) and isinstance(y, pd.Series)
    assert X.shape == (4698, 6) and y.shape == (4698,)
    assert y.name == "Recommended IND"


def test_womens_clothing_rows():
    X, y = load_womens_clothing(return_X_y=True)
    assert X.loc[0, "Title"] == "Cannot get enough of this!"
    assert X.loc[0, "Review Text"].startswith("This is beautiful and fits perfect.")
    assert X.iloc[1].tolist() == [
        "Love it",
        "This skirt is so cozy and comfortable. it is form fitting but has a lot of "
        "give/stretch. the material feels high quality and heavy without being "
        "overly hot. i am sure this will be a go to skirt.",
        40, "General", "Bottoms", "Skirts",
    ]  # fmt: skip
    assert y[:2].tolist() == [5, 5]
    # The original's spelling of the division is kept.
    divisions = set(X["Division Name"].dropna())
    assert divisions == {"General", "General Petite", "Initmates"}


def test_womens_clothing_all_and_generic_loader():
    train, test = load_womens_clothing(), load_womens_clothing(split="test")
    everything = load_womens_clothing(split="all", as_frame=True)
    expected = pd.concat([train.data, test.data], ignore_index=True)
    pd.testing.assert_frame_equal(everything.data, expected)
    np.testing.assert_array_equal(
        everything.target.to_numpy(), np.concatenate([train.target, test.target])
    )
    # load_dataset loads it with its default target, "Rating".
    generic = load_dataset("womens_clothing", split="test")
    pd.testing.assert_frame_equal(generic.data, test.data)
    np.testing.assert_array_equal(generic.target, test.target)
    assert generic.task == "regression"
    assert generic.keys() == test.keys()
    X, y = load_dataset("womens_clothing", split="test", return_X_y=True)
    assert X.shape == (4698, 6) and y.dtype == np.int64


@pytest.mark.parametrize(
    ("target", "suggestion"),
    [("rating", "Rating"), ("recommended", "Recommended IND"), ("Age", None),
     (None, None), (["Rating"], None)],
)  # fmt: skip
def test_womens_clothing_bad_target(target, suggestion):
    message = (
        f"target={target!r} is not a target of 'womens_clothing'; choose one of "
        "'Rating', 'Recommended IND'"
    )
    message += f" (did you mean {suggestion!r}?)." if suggestion else "."
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        load_womens_clothing(target=target)


def test_womens_clothing_split_errors():
    message = (
        "split='dev' is not a split of 'womens_clothing'; choose one of 'train', "
        "'test', 'all'."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        load_womens_clothing(split="dev")
    with pytest.raises(TypeError):
        load_womens_clothing("train")  # split is keyword-only


def test_womens_clothing_results_are_fresh_objects():
    bunch = load_womens_clothing(split="test", as_frame=True)
    bunch.data.loc[0, "Title"] = "changed"
    bunch.data["Age"] = 0
    bunch.frame.loc[0, "Review Text"] = "changed"
    bunch.frame["Rating"] = 0
    plain = load_womens_clothing(split="test")
    plain.target[:] = 0
    del plain.data["Title"]

    again = load_womens_clothing(split="test", as_frame=True)
    assert again.data.loc[0, "Title"] != "changed"
    assert again.frame.loc[0, "Review Text"] != "changed"
    assert again.data["Age"].min() == 19
    assert again.target.min() == 1
    assert load_womens_clothing(split="test").target.min() == 1
    assert list(again.data.columns) == CLOTHING_FEATURES


def test_womens_clothing_descr():
    descr = load_womens_clothing().DESCR
    for fact in (
        "CC0 1.0",
        "Brooks, N. (2018)",
        "Benchmarking Multimodal AutoML for Tabular Data with Text Fields",
        "31a3d4bdcaf1499e4a8bfc74d4b935280a616d91",
        "RandomState(123)",
        "18788",
        "4698",
        "0.654",
        "Initmates",
    ):
        assert fact in descr


def test_womens_clothing_bad_class_code(monkeypatch):
    frame = pd.DataFrame(
        {column: ["x"] for column in CLOTHING_FEATURES}
        | {"Age": [30], "Rating": [5], "Recommended IND": [2]}
    )
    monkeypatch.setattr(_base, "_read_file", lambda *args, **kwargs: frame)
    with pytest.raises(ValueError, match=r"'Recommended IND' holds values other"):
        _base._read_table_split.__wrapped__("womens_clothing", "train")
