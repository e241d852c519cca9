"""Tables with text: several text columns and numeric, boolean, date or categorical columns (issue 20)."""

import json
import re

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

import skadapt
from skadapt import FineTunedClassifier, FineTunedRegressor, PretrainedFeaturizer, ScratchClassifier
from skadapt.tables import OtherColumns, detect_kinds

pytestmark = pytest.mark.usefixtures("empty_caches")  # conftest: no backbone or features left from other tests

WORDS = "soft warm fabric fits well size small large colour bright dull returned love hate wear wash".split()


def table(n=60, seed=0):
    """A clothing-review-like table whose label depends on ``age`` only (the texts are noise)."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "title": [" ".join(rng.choice(WORDS, rng.integers(2, 5))) for _ in range(n)],
        "review": [" ".join(rng.choice(WORDS, 8)) for _ in range(n)],
        "age": rng.integers(18, 80, n).astype(float),
        "department": rng.choice(["Tops", "Dresses", "Jackets"], n),
        "member": rng.random(n) > 0.5,
    })
    y = np.where(frame["age"] > 48, "old", "young")
    return frame, y


# -- detection -------------------------------------------------------------------------------------------------


def test_text_columns_are_detected_by_the_documented_rule():
    frame = pd.DataFrame({
        "title": ["love it so much", "too small", "runs large", "nice", "great colour and fit", "bad"],
        "division": ["General Petite", "General", "General Petite", "Intimates", "General", "General"],
        "mixed": ["12", "words here", 3, "7", None, "x"],
        "age": [20, 30, 40, 50, 60, 70],
        "when": pd.to_datetime(["2020-01-01"] * 6),
        "flag": [True, False] * 3,
    })
    assert detect_kinds(frame) == {"title": "text", "division": "category", "mixed": "category", "age": "number",
                                   "when": "datetime", "flag": "bool"}
    assert detect_kinds(frame, text_columns=["division"])["title"] == "category"


# -- one column: today's path ----------------------------------------------------------------------------------


def test_a_one_column_frame_keeps_todays_path_bit_for_bit(tiny_sbert, texts):
    X, y = texts
    frame = pd.DataFrame({"text": X})
    listed = FineTunedClassifier(tiny_sbert, max_epochs=1, random_state=0).fit(X, y)
    framed = FineTunedClassifier(tiny_sbert, max_epochs=1, random_state=0).fit(frame, y)
    assert np.array_equal(listed.predict_proba(X), framed.predict_proba(frame))
    assert framed.table_ is None and not hasattr(framed, "feature_names_in_")


# -- transfer --------------------------------------------------------------------------------------------------


def test_the_featurizer_encodes_each_text_column_and_appends_the_other_columns(tiny_sbert):
    frame, y = table()
    featurizer = PretrainedFeaturizer(tiny_sbert).fit(frame)
    features = featurizer.transform(frame)
    names = featurizer.get_feature_names_out()
    width = featurizer.backbone_.out_features
    assert features.dtype == np.float32 and features.shape == (60, len(names)) == (60, featurizer.n_features_out_)
    assert names[0] == "title_0" and names[width] == "review_0" and "age" in names and "department_Tops" in names
    alone = PretrainedFeaturizer(tiny_sbert).fit(frame["review"]).transform(frame["review"])
    np.testing.assert_array_equal(features[:, width:2 * width], alone)
    assert list(featurizer.feature_names_in_) == list(frame.columns)
    pipe = make_pipeline(PretrainedFeaturizer(tiny_sbert), HistGradientBoostingClassifier(max_iter=30)).fit(frame, y)
    assert (pipe.predict(frame) == y).mean() > 0.9  # the label is in the age column, which the pipeline reads


# -- fusion: the tabular columns reach the head -------------------------------------------------------------------


def test_the_fusion_network_learns_a_label_held_by_a_numeric_column():
    (frame, y), (test, y_test) = table(200), table(100, seed=1)
    for rows in (frame, test):  # two texts in turn: nothing in them tells the label
        rows["title"] = np.resize(["love this dress", "not for me"], len(rows))
        rows["review"] = np.resize(["soft warm fabric fits well", "size small large colour"], len(rows))
    clf = ScratchClassifier("textcnn", max_epochs=40, lr=1e-2, random_state=0).fit(frame, y)
    assert (clf.predict(test) == y_test).mean() > 0.85
    texts_only = ScratchClassifier("textcnn", max_epochs=40, lr=1e-2, random_state=0).fit(frame["review"], y)
    assert (texts_only.predict(test["review"]) == y_test).mean() < 0.7


def test_fine_tuning_starts_from_a_probe_on_text_and_table_features(tiny_sbert):
    frame, y = table(120)
    clf = FineTunedClassifier(tiny_sbert, max_epochs=1, lr=1e-5, random_state=0).fit(frame, y)
    assert clf.net_.module_.head[-1].in_features == clf.backbone_.out_features + 1 + 3 + 1
    assert (clf.predict(frame) == y).mean() > 0.9  # the probe alone reads age


def test_unseen_categories_and_missing_cells_at_predict_time(tiny_sbert):
    frame, y = table()
    clf = FineTunedRegressor(tiny_sbert, max_epochs=1, random_state=0).fit(frame, (frame["age"] / 10).to_numpy())
    odd = frame.head(4).copy()
    odd["department"] = ["Shoes", None, "Tops", np.nan]
    odd.loc[odd.index[0], "age"] = np.nan
    odd["title"] = [None, "", np.nan, "ok"]
    odd["review"] = odd["review"].astype(object)
    odd.loc[odd.index[1], "review"] = None
    assert np.isfinite(clf.predict(odd)).all()


# -- sklearn and shipping ----------------------------------------------------------------------------------------


def test_a_table_model_clones_grid_searches_saves_and_loads(tiny_sbert, tmp_path):
    frame, y = table()
    clf = FineTunedClassifier(tiny_sbert, text_columns=["title", "review"], max_epochs=1, random_state=0)
    assert clone(clf).get_params()["text_columns"] == ["title", "review"]
    search = GridSearchCV(clf, {"lr": [1e-5, 1e-4]}, cv=2).fit(frame, y)
    fitted = search.best_estimator_
    loaded = skadapt.load(skadapt.save(fitted, tmp_path / "clf"))
    np.testing.assert_array_equal(loaded.predict_proba(frame), fitted.predict_proba(frame))
    assert loaded.table_ == fitted.table_
    pipe = make_pipeline(PretrainedFeaturizer(tiny_sbert), LogisticRegression()).fit(frame, y)
    loaded = skadapt.load(skadapt.save(pipe, tmp_path / "pipe"))
    np.testing.assert_array_equal(loaded.predict_proba(frame), pipe.predict_proba(frame))
    with pytest.raises(ValueError, match="fitted on a table.*skadapt.save/load"):
        skadapt.export_onnx(fitted, tmp_path / "onnx")


# -- bad input: one sentence each ----------------------------------------------------------------------------------


@pytest.fixture
def fitted(tiny_sbert):
    frame, y = table(30)
    return PretrainedFeaturizer(tiny_sbert).fit(frame), frame


@pytest.mark.parametrize("change, message", [
    (lambda f: f.drop(columns="age"), r"lacks the column\(s\) 'age'"),
    (lambda f: f.assign(extra=1), r"has the column\(s\) 'extra' that PretrainedFeaturizer did not see in fit"),
    (lambda f: f.assign(age="old"), r"column 'age' of X held numbers in fit, but row 0 holds 'old'"),
    (lambda f: f["review"].tolist(), r"fitted on a table with columns .*; X must be a DataFrame"),
])
def test_predict_time_columns_are_checked(fitted, change, message):
    featurizer, frame = fitted
    with pytest.raises(ValueError, match=message):
        featurizer.transform(change(frame))


@pytest.mark.parametrize("frame, kwargs, message", [
    (pd.DataFrame({"a": ["", None], "b": ["", ""], "n": [1, 2]}), {"text_columns": ["a", "b"]},
     r"every text column of X \('a', 'b'\) is empty in every row"),
    (pd.DataFrame({"n": [1.0, 2.0], "c": ["x", "y"]}), {}, "is a table with no text column"),
    (pd.DataFrame({"t": ["a b c", "d e f"], "n": [1, 2]}), {"text_columns": ["n"]},
     "text_columns names 'n', but that column holds numbers"),
    (pd.DataFrame({"t": ["a b c", "d e f"], "n": [1, 2]}), {"text_columns": ["text"]},
     "text_columns names 'text', which is not a column of X"),
    (pd.DataFrame({"t": ["a b c", "d e f"], "n": pd.to_timedelta([1, 2], unit="s")}), {},
     r"column 'n' of X holds durations .*dt.total_seconds\(\)"),
    (pd.DataFrame({"t": ["a b c", "d e f"], "l": [[1], [2]]}), {}, "column 'l' of X holds a list in row 0"),
    (pd.DataFrame({0: ["a b c", "d e f"], 1: [1, 2]}), {}, "column names must be strings"),
])
def test_tables_that_cannot_be_read_get_one_clear_sentence(tiny_sbert, frame, kwargs, message):
    with pytest.raises(ValueError, match=message):
        PretrainedFeaturizer(tiny_sbert, **kwargs).fit(frame)


def test_documented_results_for_dates_many_categories_and_option_like_names(tiny_sbert):
    n = 3000
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "review": [" ".join(rng.choice(WORDS, 5)) for _ in range(n)],
        "lr": rng.random(n),  # named like an option: only a name
        "sold": pd.date_range("2024-01-01", periods=n, freq="h"),
        "sku": [f"SKU{i}" for i in range(n)],  # distinct in every row
    })
    featurizer = PretrainedFeaturizer(tiny_sbert).fit(frame)
    names = list(featurizer.get_feature_names_out())
    assert featurizer.table_["kinds"] == {"review": "text", "lr": "number", "sold": "datetime", "sku": "category"}
    assert "lr" in names and "sold" in names
    assert sum(name.startswith("sku_") for name in names) == 32  # the 31 most frequent and one for the rest
    unseen = frame.head(2).assign(sku=["new", "SKU5"])
    assert np.isfinite(featurizer.transform(unseen)).all()


def test_other_columns_is_the_other_columns_alone_for_any_sklearn_model():
    frame, y = table()
    other = OtherColumns().fit(frame)
    assert list(other.get_feature_names_out()) == ["age", "member", "department_Dresses", "department_Jackets",
                                                   "department_Tops"]
    model = make_pipeline(OtherColumns(), HistGradientBoostingClassifier(random_state=0)).fit(frame, y)
    assert model.score(frame, y) == 1.0  # the label is held by age alone
    with pytest.raises(ValueError, match="X lacks the column"):
        other.transform(frame.drop(columns="age"))


# -- compare ---------------------------------------------------------------------------------------------------


def test_compare_reads_a_table_csv_with_feature_columns_auto(tiny_sbert, tmp_path, capsys):
    from skadapt.cli import main

    frame, y = table(80)
    frame.insert(0, "order_id", np.arange(1000, 1080))  # unique per row: a row identifier, dropped
    frame.loc[3, "review"] = None  # a missing text cell is an empty text
    frame["label"] = y
    path = tmp_path / "reviews.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "out"
    code = main(["compare", str(path), "--feature-columns", "auto", "--backbone", tiny_sbert, "--max-epochs", "1",
                 "--train-sizes", "all", "--output", str(out), "--save-best", str(tmp_path / "best")])
    assert code == 0
    report = json.loads((out / "results.json").read_text())
    assert report["meta"]["columns"] == {"text": ["title", "review"],
                                         "other": {"age": "number", "department": "category", "member": "bool"},
                                         "dropped": ["order_id"]}
    rows = {r["strategy"]: r for r in report["results"]}
    assert list(rows) == ["other", "tfidf", "scratch", "transfer", "transfer-hgb", "finetune"]
    assert all(r["status"] == "ok" for r in rows.values())
    assert rows["other"]["accuracy"] >= 0.9  # the label is age's: the other columns alone find it
    printed = capsys.readouterr()
    assert "dropped as row identifiers: order_id" in printed.err and "other columns: age (number)" in printed.out

    new = tmp_path / "new.csv"
    frame.drop(columns=["label", "order_id"]).head(5).to_csv(new, index=False)
    assert main(["predict", str(tmp_path / "best"), str(new), "--output", str(tmp_path / "p.csv")]) == 0
    predicted = pd.read_csv(tmp_path / "p.csv")
    assert list(predicted.columns[:5]) == ["title", "review", "age", "department", "member"]
    assert set(predicted["prediction"]) <= {"old", "young"}
    frame.drop(columns=["label", "age"]).head(5).to_csv(new, index=False)
    assert main(["predict", str(tmp_path / "best"), str(new)]) == 2
    assert "lacks the column(s) 'age'" in capsys.readouterr().err


@pytest.mark.parametrize("extra, message", [
    (["--feature-columns", "label"], "--feature-columns names 'label', the label column"),
    (["--feature-columns", "agee"], "has no column 'agee'.*did you mean 'age'"),
    (["--strategies", "other"], "--strategies: other learns from a table's columns besides its text"),
])
def test_compare_on_a_table_refuses_bad_column_choices(tmp_path, capsys, extra, message):
    from skadapt.cli import main

    frame, y = table(20)
    path = tmp_path / "t.csv"
    frame.assign(label=y, text=frame["review"]).to_csv(path, index=False)
    assert main(["compare", str(path), "--output", str(tmp_path / "o"), *extra]) == 2
    assert re.search(message, capsys.readouterr().err)
