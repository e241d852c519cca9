"""The disk embedding cache stays within its bound, merges its shards, and survives faults."""

import os
import time

import numpy as np
import pytest

from skadapt import PretrainedFeaturizer
from skadapt.cache import clear_caches
from skadapt.cache import embeddings as emb
from skadapt.cli import main

pytestmark = pytest.mark.usefixtures("empty_caches")


def rows(n, seed=0, width=16):
    return np.random.default_rng(seed).random((n, width)).astype(np.float32)


def keys(prefix, n):
    return emb.text_keys([f"{prefix}{i}" for i in range(n)])  # as the cache keys texts


def test_least_recently_used_shards_go_first_beyond_the_bound(tmp_path):
    store = emb.DiskStore(tmp_path / "skadapt-embeddings", max_bytes=None)
    for name in ("a", "b", "c"):
        store.put_many("identity", keys(name, 100), rows(100))
        time.sleep(0.02)  # distinct modification times
    shard_bytes = max(p.stat().st_size for p in (tmp_path / "skadapt-embeddings" / "identity").glob("*.npz"))
    assert store.get_many("identity", keys("a", 100)).keys() == set(keys("a", 100))  # "a" is used again: kept
    store.max_bytes = int(2.5 * shard_bytes)
    store.put_many("identity", keys("d", 100), rows(100))
    fresh = emb.DiskStore(tmp_path / "skadapt-embeddings")  # another process's view
    assert fresh.lacking("identity", keys("b", 100) + keys("c", 100)) == keys("b", 100) + keys("c", 100)
    assert not fresh.lacking("identity", keys("a", 100) + keys("d", 100))
    total = sum(p.stat().st_size for p in (tmp_path / "skadapt-embeddings").rglob("*.npz"))
    assert total <= 2.5 * shard_bytes


def test_many_small_shards_are_merged_into_one(tmp_path):
    store = emb.DiskStore(tmp_path / "skadapt-embeddings")
    expected = {}
    for i in range(emb.COMPACT_AT + 1):
        block = rows(3, seed=i)
        store.put_many("identity", keys(f"k{i}_", 3), block)
        expected.update(zip(keys(f"k{i}_", 3), block))
    shards = list((tmp_path / "skadapt-embeddings" / "identity").glob("*.npz"))
    assert len(shards) == 1
    found = emb.DiskStore(tmp_path / "skadapt-embeddings").get_many("identity", list(expected))
    assert found.keys() == expected.keys()
    assert all(np.array_equal(found[k], expected[k]) for k in expected)


def test_a_write_killed_midway_leaves_a_cache_that_reads_and_cleans_up(tmp_path, tiny_sbert, texts):
    X = texts[0][:8]
    folder = tmp_path / "cache"
    expected = PretrainedFeaturizer(tiny_sbert, cache=folder).fit(X).transform(X)
    identity = next((folder / "skadapt-embeddings").iterdir())
    # What a SIGKILL during np.savez leaves: a temporary file (renamed only when complete), here an old one,
    # and a shard cut short (a disk that lost its tail).
    stale = identity / "half-written.tmp"
    stale.write_bytes(b"PK\x03\x04 partial")
    os.utime(stale, (time.time() - 2 * emb.STALE_SECONDS,) * 2)
    shard = next(identity.glob("*.npz"))
    shard.write_bytes(shard.read_bytes()[:100])
    clear_caches()  # a new process
    with pytest.warns(RuntimeWarning, match="is corrupt; it was removed"):
        again = PretrainedFeaturizer(tiny_sbert, cache=folder).fit(X).transform(X)
    np.testing.assert_array_equal(again, expected)  # no wrong rows: the damaged ones were encoded again
    assert not stale.exists()


def test_a_read_only_cache_folder_warns_and_the_fit_goes_on(tmp_path, tiny_sbert, texts, monkeypatch):
    X = texts[0][:8]

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(emb.DiskStore, "_write", full)
    with pytest.warns(RuntimeWarning, match="cannot be written .No space left on device.; features are kept in memory"):
        features = PretrainedFeaturizer(tiny_sbert, cache=tmp_path).fit(X).transform(X)
    expected = PretrainedFeaturizer(tiny_sbert, cache=False).fit(X).transform(X)
    np.testing.assert_array_equal(features, expected)


def test_the_bound_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SKADAPT_CACHE_MAX_BYTES", "1e6")
    assert emb.stores_for(tmp_path)[1].max_bytes == 1_000_000
    monkeypatch.setenv("SKADAPT_CACHE_MAX_BYTES", "lots")
    with pytest.raises(ValueError, match="SKADAPT_CACHE_MAX_BYTES must be a number of bytes, got 'lots'"):
        emb.stores_for(tmp_path)


def test_cache_info_and_clear_from_the_command_line(tmp_path, tiny_sbert, texts, capsys):
    X = texts[0][:8]
    PretrainedFeaturizer(tiny_sbert, cache=tmp_path).fit(X).transform(X)
    assert main(["cache", "info", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "1 backbone(s), 8 rows" in out and "SKADAPT_CACHE_MAX_BYTES" in out
    assert main(["cache", "clear", str(tmp_path)]) == 0
    assert not (tmp_path / "skadapt-embeddings").exists()
    assert main(["cache", "info", str(tmp_path)]) == 2
    assert "holds no embedding cache" in capsys.readouterr().err
