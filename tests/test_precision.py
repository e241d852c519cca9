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
    full = PretrainedFeaturizer(tiny_sbert, device="cpu", precision="fp32").fit(X).transform(X)
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
    reference = FineTunedClassifier(tiny_sbert, max_epochs=2, lr=1e-3, random_state=0, device="cpu",
                                    precision="fp32").fit(X, y)
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


# -- precision="auto": bf16 where the device computes it natively, fp32 elsewhere ----------------------------
from skadapt import FineTunedRegressor  # noqa: E402
from skadapt.estimators import _execution  # noqa: E402


@pytest.fixture
def native_bf16(monkeypatch):
    """Set whether the CPU computes bfloat16 natively (what torch reports, mocked)."""
    def set_native(value):
        monkeypatch.setattr(_execution, "cpu_native_bf16", lambda: value)
    return set_native


def _tiny_fine_tuned(tiny_sbert, **params):
    return FineTunedClassifier(tiny_sbert, **{"max_epochs": 1, "lr": 1e-3, "device": "cpu", "random_state": 0,
                                              **params})


@pytest.mark.parametrize("native, expected", [(False, "fp32"), (True, "bf16")])
def test_auto_follows_native_bf16(tiny_sbert, texts, native_bf16, native, expected):
    import torch

    X, y = texts
    native_bf16(native)
    assert _execution.resolve_precision("auto", "cpu") == expected
    clf = _tiny_fine_tuned(tiny_sbert).fit(X, y)
    assert clf.precision == "auto"  # the parameter is left as given ...
    assert clf.precision_ == expected  # ... and the fitted estimator says what ran
    assert clf.net_.precision_dtype is (torch.bfloat16 if native else None)
    scratch = ScratchClassifier("textcnn", backbone_kwargs={"embedding_dim": 8, "num_filters": 4}, max_epochs=1,
                                device="cpu", random_state=0).fit(X, y)
    assert scratch.precision_ == expected
    regressor = FineTunedRegressor(tiny_sbert, max_epochs=1, device="cpu", random_state=0).fit(X, np.arange(len(X)))
    assert regressor.precision_ == expected
    featurizer = PretrainedFeaturizer(tiny_sbert, device="cpu").fit(X)
    assert featurizer.precision_ == expected


def test_auto_is_fp32_on_gpus_without_native_bf16(monkeypatch):
    import torch

    calls = []

    def is_bf16_supported(including_emulation=True):
        calls.append(including_emulation)
        return including_emulation  # a pre-Ampere GPU: bf16 only emulated
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", is_bf16_supported)
    assert _execution.resolve_precision("auto", "cuda:0") == "fp32"
    assert calls == [False]  # emulation does not count
    assert _execution.resolve_precision("auto", "mps") == "fp32"


def test_cpu_detection_falls_back_to_cpuinfo(monkeypatch):
    import torch

    for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"):
        monkeypatch.delattr(torch.cpu, name, raising=False)
    for flags, expected in [({"avx2", "avx512f"}, False), ({"avx2", "avx512_bf16"}, True), ({"amx_bf16"}, True)]:
        monkeypatch.setattr(_execution, "cpu_flags", lambda flags=flags: frozenset(flags))
        assert _execution.cpu_reports_bf16.__wrapped__() is expected


def test_the_environment_can_pin_auto(monkeypatch):
    monkeypatch.setattr(_execution, "cpu_reports_bf16", lambda: True)
    monkeypatch.setenv("SKADAPT_CPU_BF16", "0")
    assert _execution.resolve_precision("auto", "cpu") == "fp32"
    monkeypatch.setattr(_execution, "cpu_reports_bf16", lambda: False)
    monkeypatch.setenv("SKADAPT_CPU_BF16", "1")
    assert _execution.resolve_precision("auto", "cpu") == "bf16"
    monkeypatch.setenv("SKADAPT_CPU_BF16", "")
    assert _execution.resolve_precision("auto", "cpu") == "fp32"


@pytest.mark.parametrize("native", [False, True])
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_an_explicit_precision_wins(tiny_sbert, texts, native_bf16, native, precision):
    X, y = texts
    native_bf16(native)
    assert _tiny_fine_tuned(tiny_sbert, precision=precision).fit(X, y).precision_ == precision
    assert PretrainedFeaturizer(tiny_sbert, device="cpu", precision=precision).fit(X).precision_ == precision


@pytest.mark.parametrize("precision", ["auto", "fp32", "bf16"])
def test_random_state_reproduces_under_each_precision(tiny_sbert, texts, precision):
    X, y = texts
    # the contrastive stage too, which draws its batches from the seeded generator
    first = _tiny_fine_tuned(tiny_sbert, precision=precision, contrastive_steps=2).fit(X, y)
    second = _tiny_fine_tuned(tiny_sbert, precision=precision, contrastive_steps=2).fit(X, y)
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    np.testing.assert_array_equal(first.history_[:, "train_loss"], second.history_[:, "train_loss"])
    other = _tiny_fine_tuned(tiny_sbert, precision=precision, contrastive_steps=2, random_state=1).fit(X, y)
    assert not np.array_equal(other.predict_proba(X), first.predict_proba(X))  # the seed does matter


def test_precision_survives_save_and_load(tiny_sbert, texts, native_bf16, tmp_path):
    import skadapt

    X, y = texts
    native_bf16(True)
    clf = _tiny_fine_tuned(tiny_sbert).fit(X, y)
    featurizer = PretrainedFeaturizer(tiny_sbert, device="cpu").fit(X)
    for model, name in [(clf, "fine-tuned"), (featurizer, "featurizer")]:
        loaded = skadapt.load(skadapt.save(model, tmp_path / name))
        assert loaded.precision == "auto" and loaded.precision_ == "bf16"
    loaded = skadapt.load(tmp_path / "fine-tuned")
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    assert pickle.loads(pickle.dumps(clf)).precision_ == "bf16"


def test_folders_and_pickles_from_before_auto_still_load(tiny_sbert, texts, tmp_path):
    import json
    from pathlib import Path

    import skadapt
    from skadapt._files.manifest import sha256

    X, y = texts
    clf = _tiny_fine_tuned(tiny_sbert, precision="bf16").fit(X, y)
    folder = skadapt.save(clf, tmp_path / "model")
    # A folder written before precision_ existed: no such fitted attribute (the manifest re-digested).
    removed = 0
    for path in Path(folder).rglob("*.json"):
        text = path.read_text()
        if '"precision_"' in text:
            data = json.loads(text)
            removed += _drop_key(data, "precision_")
            path.write_text(json.dumps(data))
    assert removed
    _redigest(folder, sha256)
    loaded = skadapt.load(folder)
    assert loaded.precision_ == "bf16"  # what the saved precision parameter said
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    old = pickle.loads(pickle.dumps(clf))
    del old.precision_
    assert pickle.loads(pickle.dumps(old)).precision_ == "bf16"


def _drop_key(data, key):
    """Remove ``key`` wherever it is in nested JSON; return how many were removed."""
    if isinstance(data, dict):
        return int(data.pop(key, None) is not None) + sum(_drop_key(v, key) for v in data.values())
    if isinstance(data, list):
        return sum(_drop_key(v, key) for v in data)
    return 0


def _redigest(folder, sha256):
    import json
    from pathlib import Path

    manifest_path = Path(folder) / "skadapt-model.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["files"] = {name: sha256(Path(folder) / name) for name in manifest["files"]}
    manifest_path.write_text(json.dumps(manifest))


def test_an_unknown_precision_is_one_sentence_naming_it():
    with pytest.raises(ValueError, match=r"^precision must be one of 'auto', 'fp32', 'bf16', 'fp16', got 'fp8'\.$"):
        _execution.resolve_precision("fp8", "cpu")
