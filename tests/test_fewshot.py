"""Few rows per class: the contrastive body stage, its automatic choice and its memory."""

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, train_test_split

from skadapt import FineTunedClassifier, FineTunedRegressor
from skadapt.estimators import _contrastive
from skadapt.estimators._contrastive import ContrastiveBatches, PairSimilarityLoss, row_weights, target_similarity


def per_class(X, y, n, seed=0):
    """``n`` rows of every class, drawn as benchmarks/fewshot.py draws them."""
    X_sub, _, y_sub, _ = train_test_split(np.asarray(X, dtype=object), y, train_size=n * len(np.unique(y)),
                                          stratify=y, random_state=seed)
    return list(X_sub), y_sub


def test_eight_rows_per_class_beat_a_constant_predictor_widely():
    from skadapt.datasets import load_trec

    X, y = load_trec(return_X_y=True)
    X_test, y_test = load_trec(split="test", return_X_y=True)
    X8, y8 = per_class(X, y, 8)
    clf = FineTunedClassifier(random_state=0, device="cpu").fit(X8, y8)
    constant = np.mean(np.asarray(y_test) == "DESC")  # the most frequent test class: 0.276
    assert clf.contrastive_steps_ > 0  # the default ran the stage
    assert clf.score(X_test, y_test) > constant + 0.4


def test_auto_runs_the_stage_only_on_few_rows_per_class(tiny_sbert, texts):
    X, y = texts  # 18 rows per class
    common = dict(max_epochs=1, device="cpu", random_state=0)
    assert FineTunedClassifier(tiny_sbert, **common).fit(X, y).contrastive_steps_ == 16  # the floor
    many = X * 6  # 108 rows per class
    assert FineTunedClassifier(tiny_sbert, **common).fit(many, y * 6).contrastive_steps_ == 0
    assert FineTunedClassifier(tiny_sbert, contrastive_steps=3, **common).fit(many, y * 6).contrastive_steps_ == 3
    assert FineTunedClassifier(tiny_sbert, frozen_groups="all", **common).fit(X, y).contrastive_steps_ == 0
    # Regression (multi-label by the same rule): measured on single-label data only, so "auto" leaves it alone.
    assert FineTunedRegressor(tiny_sbert, **common).fit(X, np.arange(len(X), dtype=float)).contrastive_steps_ == 0


def test_same_random_state_same_predictions_and_the_stage_changes_the_model(tiny_sbert, texts):
    X, y = texts
    make = lambda **kw: FineTunedClassifier(tiny_sbert, contrastive_steps=4, lr=1e-3, max_epochs=1, device="cpu", **kw)  # noqa: E731
    first = make(random_state=3).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, make(random_state=3).fit(X, y).predict_proba(X))
    assert not np.allclose(first, make(random_state=4).fit(X, y).predict_proba(X))
    without = FineTunedClassifier(tiny_sbert, contrastive_steps=0, lr=1e-3, max_epochs=1, device="cpu",
                                  random_state=3).fit(X, y).predict_proba(X)
    assert not np.allclose(first, without)


def test_contrastive_steps_round_trip_clone_and_grid_search(tiny_sbert, texts):
    X, y = texts
    est = FineTunedClassifier(tiny_sbert, contrastive_steps=5, max_epochs=1, device="cpu", random_state=0)
    assert clone(est).get_params()["contrastive_steps"] == 5
    assert "contrastive_steps=5" in repr(est)
    search = GridSearchCV(est, {"contrastive_steps": [0, 2]}, cv=2).fit(X, y)
    assert [p["contrastive_steps"] for p in search.cv_results_["params"]] == [0, 2]
    assert search.best_estimator_.contrastive_steps_ == search.best_params_["contrastive_steps"]


@pytest.mark.parametrize("bad", [-1, 2.5, "many", True])
def test_bad_contrastive_steps_is_refused(tiny_sbert, texts, bad):
    with pytest.raises(ValueError, match=r"'contrastive_steps' parameter of FineTunedClassifier must be a str among "
                                         r"\{'auto'\} or an int in the range \[0, inf\)"):
        FineTunedClassifier(tiny_sbert, contrastive_steps=bad, device="cpu").fit(*texts)


@pytest.mark.parametrize("bad", [0, -1e-4, "fast", None])
def test_bad_contrastive_lr_is_refused(tiny_sbert, texts, bad):
    with pytest.raises(ValueError, match=r"'contrastive_lr' parameter of FineTunedClassifier must be a str among "
                                         r"\{'auto'\} or a float in the range \(0.0, inf\)"):
        FineTunedClassifier(tiny_sbert, contrastive_lr=bad, device="cpu").fit(*texts)


def test_multilabel_and_regression_train_the_body_on_their_own_similarity(tiny_sbert, texts):
    X, _ = texts
    Y = np.array([[i % 2, (i // 2) % 2, i % 3 == 0] for i in range(len(X))], dtype=int)
    values = np.linspace(0, 1, len(X))
    for est, y in ((FineTunedClassifier, Y), (FineTunedRegressor, values)):
        make = lambda steps: est(tiny_sbert, contrastive_steps=steps, lr=1e-3, max_epochs=1, device="cpu", random_state=0)  # noqa: E731,B023
        with_stage, without = make(3).fit(X, y), make(0).fit(X, y)
        assert with_stage.contrastive_steps_ == 3
        outputs = "predict_proba" if est is FineTunedClassifier else "predict"  # 0/1 labels may not move
        assert not np.allclose(getattr(with_stage, outputs)(X[:6]), getattr(without, outputs)(X[:6]))
        moved = [not torch.equal(a, b) for a, b in zip(with_stage.net_.module_.backbone.parameters(),
                                                        without.net_.module_.backbone.parameters())]
        assert any(moved)


def test_target_similarity_for_each_kind():
    labels = torch.tensor([0, 1, 0])
    np.testing.assert_array_equal(target_similarity(labels, "labels"), [[1, 0, 1], [0, 1, 0], [1, 0, 1]])
    sets = torch.tensor([[1, 1, 0], [1, 0, 0], [0, 0, 0]])
    np.testing.assert_allclose(target_similarity(sets, "label_sets"), [[1, 0.5, 0], [0.5, 1, 0], [0, 0, 1]])
    values = torch.tensor([[0.0], [0.0], [1.0]])
    np.testing.assert_allclose(target_similarity(values, "values"),
                               [[1, 1, np.exp(-1)], [1, 1, np.exp(-1)], [np.exp(-1), np.exp(-1), 1]], rtol=1e-6)


def test_the_loss_weighs_same_and_different_label_pairs_equally():
    loss = PairSimilarityLoss("labels")
    # Three rows of one class, one of another: cosines all 0 except the same-class pairs.
    embeddings = torch.eye(4)
    y = torch.tensor([0, 0, 0, 1])
    # Same-class pairs (3) have cosine 0 but want 1: error 1 each; different pairs are right.
    assert loss(embeddings, y).item() == pytest.approx(0.5)


def test_pair_sampling_memory_is_linear_in_the_rows(monkeypatch, tiny_sbert):
    """What the stage builds, counted: one weight per row, and per step one batch and its pair matrix."""
    built = []
    real = _contrastive.target_similarity
    monkeypatch.setattr(_contrastive, "target_similarity",
                        lambda y, kind: built.append(tuple(y.shape)) or real(y, kind))
    for n in (200, 20_000):
        y = np.arange(n) % 2
        sampler = ContrastiveBatches(row_weights(y, "labels"), 32, steps=3)
        assert sampler.weights.numel() == n  # O(n): the only per-row state
        batches = list(sampler)
        assert [len(b) for b in batches] == [32, 32, 32]
        assert all(len(set(b)) == 32 for b in batches)  # distinct rows
    # A fit on 10x more rows builds the same pair matrices: B x B per step, whatever n.
    shapes = {}
    for n in (64, 640):
        built.clear()
        X = [f"text number {i} " + ("good" if i % 2 else "bad") for i in range(n)]
        FineTunedClassifier(tiny_sbert, contrastive_steps=2, max_epochs=1, device="cpu",
                            random_state=0).fit(X, np.arange(n) % 2)
        shapes[n] = list(built)
    assert shapes[64] == shapes[640] == [(32,), (32,)]


def test_class_balanced_batches_hold_rare_classes():
    y = np.array([0] * 990 + [1] * 10)
    torch.manual_seed(0)
    batches = list(ContrastiveBatches(row_weights(y, "labels"), 32, steps=50))
    rare = np.mean([np.sum(y[b] == 1) for b in batches])
    assert rare > 5  # uniform sampling would give 0.32 rows of the rare class per batch


def test_after_the_stage_the_probe_keeps_its_features_out_of_the_cache(tiny_sbert, texts, encoded, empty_caches):
    """The probe then sees a trained backbone: its features are not the pretrained ones the cache holds."""
    from skadapt import PretrainedFeaturizer

    X, y = texts
    FineTunedClassifier(tiny_sbert, contrastive_steps=2, lr=1e-3, max_epochs=1, device="cpu", random_state=0).fit(X, y)
    assert encoded == [len(X)]  # encoded by the trained backbone, not looked up
    features = PretrainedFeaturizer(tiny_sbert, device="cpu").fit(X).transform(X)
    assert encoded == [len(X), len(set(X))]  # the featurizer found nothing cached: it encoded the pretrained features
    clear = PretrainedFeaturizer(tiny_sbert, device="cpu", cache=False).fit(X).transform(X)
    np.testing.assert_allclose(features, clear, atol=1e-6)
