"""``sample_weight`` in ``fit``: rows' losses weighted, in the probe start and the contrastive stage too."""

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.model_selection import cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skadapt import FineTunedClassifier, FineTunedRegressor, ScratchClassifier, ScratchRegressor
from skadapt.estimators._contrastive import ContrastiveBatches


def clusters(n=60, seed=0):
    """Two well-separated clusters with their labels, and the same points again with the labels flipped."""
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(-2, 0.3, (n // 2, 2)), rng.normal(2, 0.3, (n // 2, 2))]).astype(np.float32)
    y = np.repeat([0, 1], n // 2)
    return np.vstack([X, X]), np.concatenate([y, 1 - y])


def test_rows_of_weight_zero_are_left_out_of_the_loss():
    X, y = clusters()
    clean = np.r_[np.ones(60), np.zeros(60)]  # the flipped copies weigh nothing
    model = ScratchClassifier("mlp", lr=1e-2, max_epochs=30, random_state=0).fit(X, y, sample_weight=clean)
    assert (model.predict(X[:60]) == y[:60]).mean() == 1.0
    flipped = ScratchClassifier("mlp", lr=1e-2, max_epochs=30, random_state=0).fit(X, y, sample_weight=1 - clean)
    assert (flipped.predict(X[:60]) == 1 - y[:60]).mean() == 1.0


def test_a_regressor_moves_to_the_weighted_mean():
    X = np.zeros((40, 3), dtype=np.float32)  # nothing to tell the rows apart: the best answer is a mean
    y = np.r_[np.zeros(20), np.full(20, 10.0)]
    weights = np.r_[np.ones(20), np.full(20, 9.0)]
    # one batch of every row: the loss is the weighted one, minimised at the weighted mean (dropout
    # and weight decay keep it from landing on it exactly)
    model = ScratchRegressor("mlp", lr=1e-2, max_epochs=100, batch_size=40, random_state=0)
    model.fit(X, y, sample_weight=weights)
    assert model.predict(X[:1])[0] == pytest.approx(9.0, abs=1.0)  # unweighted, it is 5 (4.8)


def test_weights_of_one_are_no_weights_exactly():
    X, y = clusters()
    plain = ScratchClassifier("mlp", max_epochs=2, random_state=0).fit(X, y)
    ones = ScratchClassifier("mlp", max_epochs=2, random_state=0).fit(X, y, sample_weight=np.ones(len(y)))
    np.testing.assert_array_equal(plain.predict_proba(X), ones.predict_proba(X))


def test_the_probe_start_is_fitted_with_the_weights(tiny_sbert):
    texts = ["a wonderful film", "great acting", "loved it", "dull and long", "a tedious mess", "hated it"] * 4
    y = np.array(["pos"] * 3 + ["neg"] * 3 + ["neg"] * 3 + ["pos"] * 3 + ["pos"] * 3 + ["neg"] * 3 + ["neg"] * 3
                 + ["pos"] * 3)
    weights = np.tile(np.r_[np.ones(6), np.zeros(6)], 2)  # the rows that flip the labels weigh nothing
    # a frozen body and a tiny learning rate: the head is the probe's
    model = FineTunedClassifier(tiny_sbert, frozen_groups="all", lr=1e-9, max_epochs=1, contrastive_steps=0,
                                random_state=0).fit(texts, y, sample_weight=weights)
    assert list(model.predict(texts[:6])) == list(y[:6])


def test_the_contrastive_stage_never_draws_a_row_of_weight_zero():
    batches = ContrastiveBatches(np.array([0.0, 1.0, 0.5, 0.0, 2.0]), batch_rows=32, steps=20)
    assert batches.batch_rows == 3
    assert all(sorted(batch) == [1, 2, 4] for batch in batches)


def test_weights_reach_every_kind_of_model_and_table(tiny_sbert):
    texts = ["fits well, lovely fabric", "too small and thin", "great colour", "returned it, poor"] * 5
    weights = np.linspace(0.5, 2.0, 20)
    FineTunedRegressor(tiny_sbert, max_epochs=1, random_state=0).fit(texts, np.arange(20.0), sample_weight=weights)
    multilabel = np.array([[1, 0], [0, 1], [1, 1], [0, 0]] * 5)
    ScratchClassifier(max_epochs=1, random_state=0).fit(texts, multilabel, sample_weight=weights)
    table = pd.DataFrame({"review": texts, "age": np.arange(20) + 20, "size": ["S", "M", "L", "M"] * 5})
    model = ScratchClassifier(max_epochs=1, random_state=0).fit(table, ["a", "b"] * 10, sample_weight=weights)
    assert model.predict(table).shape == (20,)


def test_metadata_routing_passes_weights_through_a_pipeline():
    X, y = clusters()
    clean = np.r_[np.ones(60), np.zeros(60)]
    order = np.random.default_rng(0).permutation(len(y))  # every fold trains on clean rows
    X, y, clean = X[order], y[order], clean[order]
    with sklearn.config_context(enable_metadata_routing=True):
        model = make_pipeline(StandardScaler().set_fit_request(sample_weight=False),
                              ScratchClassifier("mlp", lr=1e-2, max_epochs=30, random_state=0)
                              .set_fit_request(sample_weight=True).set_score_request(sample_weight=True))
        result = cross_validate(model, X, y, cv=2, params={"sample_weight": clean}, return_estimator=True)
    kept = clean == 1
    assert all((fitted.predict(X[kept]) == y[kept]).mean() == 1.0 for fitted in result["estimator"])


@pytest.mark.parametrize("weights, message", [
    (np.r_[-1.0, np.ones(119)], "Negative values in data passed to .sample_weight"),
    (np.ones(5), r"sample_weight.shape == \(5,\), expected \(120,\)"),
    (np.zeros(120), "Sample weights must contain at least one non-zero number"),
])
def test_bad_weights_get_one_clear_sentence(weights, message):
    X, y = clusters()
    with pytest.raises(ValueError, match=message):
        ScratchClassifier("mlp", max_epochs=1).fit(X, y, sample_weight=weights)


def test_the_featurizer_validates_weights_and_gives_the_same_features(tiny_sbert):
    from skadapt import PretrainedFeaturizer

    texts = ["a good film", "a bad film", "so so"]
    plain = PretrainedFeaturizer(tiny_sbert, cache=False).fit(texts)
    weighted = PretrainedFeaturizer(tiny_sbert, cache=False).fit(texts, sample_weight=[1, 2, 0])
    np.testing.assert_array_equal(plain.transform(texts), weighted.transform(texts))
    with pytest.raises(ValueError, match="(?i)negative"):
        PretrainedFeaturizer(tiny_sbert, cache=False).fit(texts, sample_weight=[1, -1, 1])
