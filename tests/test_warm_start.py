"""Continuing training: ``warm_start=True`` and ``partial_fit`` keep the weights and Adam's state."""

import pickle

import numpy as np
import pandas as pd
import pytest

import skadapt
from skadapt import FineTunedClassifier, ScratchClassifier, ScratchRegressor


def data(n=60, seed=0):
    X = np.random.default_rng(seed).random((n, 3))
    return X, (X[:, 0] > 0.5).astype(int)


def test_a_warm_started_fit_continues_where_the_last_one_stopped():
    X, y = data()
    fresh = ScratchClassifier("mlp", max_epochs=3, random_state=0).fit(X, y)
    warm = ScratchClassifier("mlp", max_epochs=3, random_state=0, warm_start=True).fit(X, y)
    first_loss = warm.history_[-1, "train_loss"]
    warm.fit(X, y)
    assert len(warm.history_) == 6  # one history across both fits
    assert warm.history_[3, "train_loss"] < fresh.history_[0, "train_loss"]
    assert warm.history_[-1, "train_loss"] < first_loss
    assert warm.net_.optimizer_.state  # Adam's moments kept for the next fit


def test_without_warm_start_a_second_fit_starts_afresh_and_drops_the_optimizer_state():
    X, y = data()
    model = ScratchClassifier("mlp", max_epochs=3, random_state=0).fit(X, y)
    first = model.predict_proba(X)
    model.fit(X, y)
    assert len(model.history_) == 3
    np.testing.assert_allclose(model.predict_proba(X), first, rtol=1e-6)
    assert not model.net_.optimizer_.state  # pickles as small as before warm_start existed
    warm = ScratchClassifier("mlp", max_epochs=3, random_state=0, warm_start=True).fit(X, y)
    assert len(pickle.dumps(model)) < len(pickle.dumps(warm))


def test_partial_fit_trains_one_epoch_per_call_with_the_classes_of_the_first_call():
    X, y3 = data(90)
    y3 = np.digitize(X[:, 0], [1 / 3, 2 / 3])
    model = ScratchClassifier("mlp", random_state=0)
    for epoch in range(8):
        for rows in np.array_split(np.arange(90), 3):
            first = rows[rows < 30] if epoch == 0 and rows[0] == 0 else rows
            model.partial_fit(X[first], y3[first], classes=[0, 1, 2])
    assert model.classes_.tolist() == [0, 1, 2]
    assert len(model.history_) == 24
    assert model.score(X, y3) > 0.6
    with pytest.raises(ValueError, match="not among the classes"):
        model.partial_fit(X[:2], [0, 3])
    with pytest.raises(ValueError, match="cannot add or drop a class"):
        model.partial_fit(X[:2], [0, 1], classes=[0, 1])


def test_partial_fit_after_fit_trains_at_the_peak_rate_not_the_decayed_one():
    X, y = data()
    model = ScratchClassifier("mlp", max_epochs=2, random_state=0).fit(X, y)
    assert model.net_.optimizer_.param_groups[0]["lr"] < 1e-2  # the schedule decayed it
    model.partial_fit(X, y)
    assert model.net_.optimizer_.param_groups[0]["lr"] == 1e-2
    assert len(model.history_) == 3


def test_first_partial_fit_refuses_balanced_class_weights_it_cannot_compute():
    X, y = data()
    with pytest.raises(ValueError, match="class_weight='balanced'"):
        ScratchClassifier("mlp", class_weight="balanced").partial_fit(X[:10], y[:10], classes=[0, 1])


def test_regressor_partial_fit_keeps_the_first_calls_target_scaling():
    X, _ = data()
    y = 100 + 10 * X.sum(axis=1)
    model = ScratchRegressor("mlp", random_state=0)
    for _ in range(15):
        model.partial_fit(X, y)
    mean = model.target_mean_.copy()
    model.partial_fit(X[:10], y[:10] + 50)
    np.testing.assert_array_equal(model.target_mean_, mean)
    assert model.score(X[10:], y[10:]) > 0.3
    with pytest.raises(ValueError, match="2 outputs"):
        model.partial_fit(X, np.c_[y, y])


def test_a_warm_started_model_round_trips_and_trains_on_after_loading(tmp_path):
    X, y = data()
    model = ScratchClassifier("mlp", max_epochs=2, random_state=0, warm_start=True).fit(X, y)
    skadapt.save(model, tmp_path / "model")
    loaded = skadapt.load(tmp_path / "model")
    assert loaded.warm_start
    np.testing.assert_allclose(loaded.predict_proba(X), model.predict_proba(X), rtol=1e-6)
    loaded.fit(X, y)  # continues, with a fresh optimizer
    assert len(loaded.history_) == 4


def test_text_and_table_models_continue_too(tiny_sbert):
    texts = ["a good film", "a bad film", "great acting", "dull plot"] * 3
    labels = [1, 0, 1, 0] * 3
    model = FineTunedClassifier(tiny_sbert, max_epochs=1, random_state=0, warm_start=True).fit(texts, labels)
    model.fit(texts[:6], labels[:6])
    assert len(model.history_) == 2
    table = pd.DataFrame({"review": texts, "price": np.arange(12.0)})
    scratch = ScratchClassifier(max_epochs=1, random_state=0, text_columns=["review"]).partial_fit(table, labels)
    scratch.partial_fit(table.iloc[:4], labels[:4])
    assert len(scratch.history_) == 2 and scratch.predict(table).shape == (12,)
