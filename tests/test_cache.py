"""Each text is encoded once per backbone; cached features are exactly the fresh ones."""

import subprocess
import sys
import textwrap
import warnings

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from skadapt import FineTunedClassifier, PretrainedFeaturizer
from skadapt.backbones._sbert import SentenceTransformerBackbone
from skadapt.cache import clear_caches


@pytest.fixture(autouse=True)
def empty_caches():
    clear_caches()
    yield
    clear_caches()


def featurizer(model, **params):
    return PretrainedFeaturizer(model, device="cpu", **params)


def test_a_hit_returns_exactly_the_fresh_features(tiny_sbert, texts, encoded):
    X = texts[0][:12]
    fresh = featurizer(tiny_sbert, cache=False).fit(X).transform(X)
    first = featurizer(tiny_sbert).fit(X).transform(X)
    again = featurizer(tiny_sbert).fit(X).transform(X[::-1])[::-1]
    np.testing.assert_array_equal(first, fresh)
    np.testing.assert_array_equal(again, first)
    assert encoded == [12, 12]  # the uncached encode, then the first cached one; the third hit


def test_output_is_the_callers_to_modify(tiny_sbert, texts):
    X = texts[0][:4]
    est = featurizer(tiny_sbert).fit(X)
    first = est.transform(X)
    expected = first.copy()
    first[:] = 0.0
    np.testing.assert_array_equal(est.transform(X), expected)


def test_duplicates_and_partial_hits_encode_only_new_texts(tiny_sbert, encoded):
    est = featurizer(tiny_sbert).fit(["x"])
    est.transform(["a", "b", "a", "b"])
    est.transform(["b", "c", "a", "d", "c"])
    assert encoded == [2, 2]


@pytest.mark.parametrize("change", [
    {"normalize": True}, {"pooling": "cls"}, {"max_length": 4}, {"backbone_kwargs": {"max_length": 5}},
])
def test_every_output_changing_option_misses(tiny_sbert, texts, encoded, change):
    X = texts[0][:6]
    base = featurizer(tiny_sbert).fit(X).transform(X)
    changed = featurizer(tiny_sbert, **change).fit(X).transform(X)
    assert encoded == [6, 6]
    np.testing.assert_array_equal(changed, featurizer(tiny_sbert, cache=False, **change).fit(X).transform(X))
    assert not np.allclose(base, changed)


def test_other_weights_at_the_same_path_miss(tmp_path, tiny_sbert, texts):
    """A model folder overwritten with new weights is neither served from the
    shared-model memory nor from the embedding cache."""
    import shutil

    from sentence_transformers import SentenceTransformer

    X = texts[0][:5]
    folder = tmp_path / "model"
    shutil.copytree(tiny_sbert.split(":", 1)[1], folder)
    before = featurizer(f"sbert:{folder}", cache=tmp_path / "cache").fit(X).transform(X)
    model = SentenceTransformer(str(folder), device="cpu")
    for param in model.parameters():
        param.data.mul_(1.5)
    model.save(str(folder))
    after = featurizer(f"sbert:{folder}", cache=tmp_path / "cache").fit(X).transform(X)
    assert not np.allclose(before, after)
    np.testing.assert_array_equal(after, featurizer(f"sbert:{folder}", cache=False).fit(X).transform(X))


def test_grid_search_encodes_each_text_once(tiny_sbert, texts, encoded):
    X, y = texts
    n_distinct = len(set(X))
    pipe = make_pipeline(featurizer(tiny_sbert), LogisticRegression())
    search = GridSearchCV(pipe, {"logisticregression__C": [0.1, 1.0, 10.0]}, cv=3).fit(X, y)
    search.predict(X)
    assert sum(encoded) == n_distinct  # 3 candidates x 3 folds + refit + predict: one encode per text


def test_clones_share_one_loaded_model(tiny_sbert, texts, monkeypatch):
    X, y = texts
    builds = []
    real = SentenceTransformerBackbone.build

    def counting(self, **kwargs):
        builds.append(kwargs)
        return real(self, **kwargs)

    monkeypatch.setattr(SentenceTransformerBackbone, "build", counting)
    est = featurizer(tiny_sbert)
    for _ in range(3):
        clone(est).fit(X)
    tuned = FineTunedClassifier(tiny_sbert, max_epochs=1, batch_size=8, device="cpu", random_state=0)
    clone(tuned).fit(X, y)
    clone(tuned).fit(X, y)
    assert builds == [{"pretrained": True}]


def test_training_one_model_does_not_change_another(tiny_sbert, texts):
    X, y = texts
    features = featurizer(tiny_sbert, cache=False).fit(X)
    before = features.transform(X)
    params = dict(max_epochs=2, batch_size=8, lr=1e-3, device="cpu", random_state=0, head_init="random")
    first = FineTunedClassifier(tiny_sbert, **params).fit(X, y)
    second = FineTunedClassifier(tiny_sbert, **params).fit(X, y)
    # the second fit started from the pretrained weights, not from the first's result
    np.testing.assert_allclose(first.predict_proba(X), second.predict_proba(X), atol=1e-6)
    np.testing.assert_array_equal(features.transform(X), before)
    np.testing.assert_array_equal(featurizer(tiny_sbert, cache=False).fit(X).transform(X), before)


def test_disk_cache_is_shared_by_another_process(tiny_sbert, texts, tmp_path, encoded):
    X = texts[0][:8]
    script = textwrap.dedent(f"""
        import numpy as np
        from skadapt import PretrainedFeaturizer
        X = {X!r}
        Z = PretrainedFeaturizer({tiny_sbert!r}, device="cpu", cache={str(tmp_path)!r}).fit(X).transform(X)
        np.save({str(tmp_path / "other.npy")!r}, Z)
    """)
    subprocess.run([sys.executable, "-c", script], check=True)
    Z = featurizer(tiny_sbert, cache=joblib.Memory(tmp_path, verbose=0)).fit(X).transform(X)
    assert encoded == []  # everything came from the other process's files
    np.testing.assert_array_equal(Z, np.load(tmp_path / "other.npy"))


@pytest.mark.parametrize("damage", ["garbage", "truncated", "tampered"])
def test_a_corrupt_cache_file_is_detected_and_recomputed(tiny_sbert, texts, tmp_path, encoded, damage):
    X = texts[0][:6]
    expected = featurizer(tiny_sbert, cache=tmp_path).fit(X).transform(X)
    (shard,) = tmp_path.glob("skadapt-embeddings/*/*.npz")
    if damage == "garbage":
        shard.write_bytes(b"not a cache file")
    elif damage == "truncated":
        shard.write_bytes(shard.read_bytes()[:200])
    else:  # a well-formed file whose numbers were changed
        with np.load(shard) as data:
            keys, rows, checksum = data["keys"], data["rows"] + 1.0, data["checksum"]
        np.savez(shard, keys=keys, rows=rows, checksum=checksum)
    clear_caches()  # a new process: nothing in memory
    with pytest.warns(RuntimeWarning, match="is corrupt; it was removed"):
        Z = featurizer(tiny_sbert, cache=tmp_path).fit(X).transform(X)
    np.testing.assert_array_equal(Z, expected)
    assert encoded == [6, 6]
    assert not shard.exists()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clear_caches()
        featurizer(tiny_sbert, cache=tmp_path).fit(X).transform(X)  # the rewritten shard is sound


def test_bad_cache_argument(tiny_sbert):
    with pytest.raises(ValueError, match=r"'cache' parameter of PretrainedFeaturizer must be an instance of 'bool', "
                                         r"an instance of 'str', .*'joblib.memory.Memory' or None\. Got 3 instead"):
        featurizer(tiny_sbert, cache=3).fit(["a"])


def test_linear_probe_and_featurizer_share_encodings(tiny_sbert, texts, encoded):
    X, y = texts
    FineTunedClassifier(tiny_sbert, max_epochs=1, batch_size=8, device="cpu", random_state=0,
                        contrastive_steps=0).fit(X, y)
    assert encoded == [len(set(X))]  # the probe encoded each distinct text once
    featurizer(tiny_sbert).fit(X).transform(X)
    assert encoded == [len(set(X))]  # and the featurizer found them all


def test_memory_store_is_bounded():
    from skadapt.cache.embeddings import MemoryStore

    store = MemoryStore(max_bytes=10 * 4 * 8)  # ten rows of 8 floats
    rows = np.ones((2, 8), dtype=np.float32)
    for i in range(8):
        store.put_many("model", [f"a{i}", f"b{i}"], rows)
    assert len(store) == 10
    assert store.get_many("model", ["a0", "b7"]).keys() == {"b7"}  # least recently used went first
    store.put_many("model", [f"big{i}" for i in range(3)], np.ones((3, 8), dtype=np.float32))
    assert not store.get_many("model", ["big0"])  # one call over a quarter of the bound is not kept


def test_a_changed_config_file_misses(tmp_path, tiny_sbert, texts):
    """Files that change the output without changing a weight (here the pooling
    config) are part of the key too."""
    import json
    import shutil

    X = texts[0][:5]
    folder = tmp_path / "model"
    shutil.copytree(tiny_sbert.split(":", 1)[1], folder)
    before = featurizer(f"sbert:{folder}", cache=tmp_path / "cache").fit(X).transform(X)
    (config_path,) = folder.glob("*Pooling/config.json")
    config = json.loads(config_path.read_text())
    config["pooling_mode"] = "cls"
    config_path.write_text(json.dumps(config))
    clear_caches()  # even a new process with only the disk cache must miss
    after = featurizer(f"sbert:{folder}", cache=tmp_path / "cache").fit(X).transform(X)
    assert not np.allclose(before, after)
    np.testing.assert_array_equal(after, featurizer(f"sbert:{folder}", cache=False).fit(X).transform(X))
