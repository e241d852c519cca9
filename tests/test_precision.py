"""Mixed precision: the code paths a GPU uses, exercised on the CPU (torch autocasts there too)."""

import pickle

import numpy as np
import pytest

from skadapt import FineTunedClassifier, PretrainedFeaturizer, ScratchClassifier
from skadapt.cache import clear_caches
from skadapt.estimators import _network


@pytest.fixture(autouse=True)
def empty_caches():
    clear_caches()
    yield
    clear_caches()


def test_reduced_precision_features_are_close_but_cached_apart(tiny_sbert, texts, monkeypatch):
    calls = []
    real = _network.encode
    monkeypatch.setattr(_network, "encode", lambda *a, **k: calls.append(k["dtype"]) or real(*a, **k))
    X = texts[0][:12]
    full = PretrainedFeaturizer(tiny_sbert, device="cpu").fit(X).transform(X)
    half = PretrainedFeaturizer(tiny_sbert, device="cpu", precision="bf16").fit(X).transform(X)
    assert half.dtype == np.float32
    assert not np.array_equal(half, full)  # autocast really ran in bfloat16 ...
    cosine = (half * full).sum(1) / np.linalg.norm(half, axis=1) / np.linalg.norm(full, axis=1)
    assert cosine.min() > 0.99  # ... and changed the features only slightly
    PretrainedFeaturizer(tiny_sbert, device="cpu", precision="bf16").fit(X).transform(X)
    import torch

    assert calls == [None, torch.bfloat16]  # the bf16 rows did not come from the fp32 cache; the third call hit


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_fine_tuning_in_mixed_precision(tiny_sbert, texts, precision):
    X, y = texts
    reference = FineTunedClassifier(tiny_sbert, max_epochs=2, lr=1e-3, random_state=0, device="cpu").fit(X, y)
    clf = FineTunedClassifier(tiny_sbert, max_epochs=2, lr=1e-3, random_state=0, device="cpu",
                              precision=precision).fit(X, y)
    losses = clf.history_[:, "train_loss"]
    assert np.isfinite(losses).all()
    proba = clf.predict_proba(X)
    assert proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    # Same seed, same data: mixed precision follows the fp32 run closely.
    np.testing.assert_allclose(proba, reference.predict_proba(X), atol=0.1)
    restored = pickle.loads(pickle.dumps(clf))  # no loss-scaler or optimizer state left to pickle
    np.testing.assert_array_equal(restored.predict_proba(X), proba)


def test_fp16_uses_loss_scaling(texts):
    X, y = texts
    clf = ScratchClassifier("textcnn", backbone_kwargs={"embedding_dim": 8, "num_filters": 4}, max_epochs=1,
                            device="cpu", precision="fp16", random_state=0)
    seen = []
    real = _network._MixedPrecision.train_step

    def spy(net, batch, **kwargs):
        step = real(net, batch, **kwargs)
        seen.append(net.grad_scaler_.get_scale())
        return step

    import unittest.mock

    with unittest.mock.patch.object(_network._MixedPrecision, "train_step", spy):
        clf.fit(X, y)
    assert seen and all(scale > 1 for scale in seen)
    assert clf.net_.grad_scaler_ is None


@pytest.mark.parametrize("Estimator", [PretrainedFeaturizer, FineTunedClassifier, ScratchClassifier])
def test_unknown_precision_is_rejected(Estimator, texts):
    X, y = texts
    with pytest.raises(ValueError, match=rf"'precision' parameter of {Estimator.__name__} must be a str among "
                                         r"\{.*'bf16'.*\}\. Got 'fp8' instead"):
        Estimator(precision="fp8", device="cpu").fit(X, y)
