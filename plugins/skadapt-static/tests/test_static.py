"""The static backbone: entry point, distillation and its cache, the three ways, save/load, ONNX, bad folders.

Estimators run with ``precision="fp32"``: on a CPU with native bf16, ``"auto"`` computes under bf16
autocast, and these tests compare outputs to 1e-5.
"""

import importlib.metadata
import json
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

import skadapt
from skadapt import (
    FineTunedClassifier,
    FineTunedRegressor,
    PretrainedFeaturizer,
    ScratchClassifier,
    get_backbone,
)


def test_installed_and_discovered_through_its_entry_point():
    eps = [ep for ep in importlib.metadata.entry_points(group="skadapt") if ep.value == "skadapt_static"]
    assert [(ep.name, ep.dist.name) for ep in eps] == [("static", "skadapt-static")]
    assert "model2vec" in " ".join(importlib.metadata.requires("skadapt-static"))
    [row] = skadapt.list_backbones("static")
    assert (row["input_kind"], row["pretrained"], row["plugin"]) == ("text", True, "skadapt-static")
    spec = get_backbone("static:minilm")
    assert spec.takes_argument and spec.argument == "minilm" and spec.distribution == "skadapt-static"


def test_registering_imports_neither_torch_nor_model2vec():
    code = (
        "import sys, skadapt\n"
        "assert [r['name'] for r in skadapt.list_backbones('static')] == ['static']\n"
        "print(sorted(m for m in ('torch', 'model2vec') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_features_are_model2vec_encode_and_the_distilled_model_is_cached(tiny_static, static_cache, texts,
                                                                          monkeypatch):
    X, _ = texts
    X = [*X, "", "unseen words zzz qqq", "the " * 40]  # empty, unknown tokens, a long text
    featurizer = PretrainedFeaturizer(tiny_static, cache=False, device="cpu", precision="fp32").fit(X)
    features = featurizer.transform(X)
    assert features.shape == (len(X), featurizer.backbone_.out_features) and features.dtype == np.float32

    static = featurizer.backbone_.load_static()
    expected = static.encode(X).astype(np.float32)  # model2vec's own tokenise + mean + normalise
    np.testing.assert_allclose(features, expected, atol=2e-3)
    assert np.all(features[len(X) - 3] == 0)  # an empty text: nothing to average
    np.testing.assert_allclose(np.linalg.norm(features[:-3], axis=1), 1, atol=1e-5)

    # Distilled once: a second recipe reads the cache and never distils again.
    folders = [f for f in os.listdir(static_cache) if not f.startswith(".")]
    assert len(folders) == 1
    with open(os.path.join(static_cache, folders[0], "skadapt-static-source.json")) as file:
        key = json.load(file)["key"]
    assert key["settings"] == {"pca_dims": 256, "sif_coefficient": 1e-4} and key["source"]

    import model2vec.distill

    def no_distil(*args, **kwargs):
        raise AssertionError("distilled again")

    monkeypatch.setattr(model2vec.distill, "distill", no_distil)
    skadapt.cache.clear_caches()
    again = PretrainedFeaturizer(tiny_static, cache=False, device="cpu", precision="fp32").fit(X).transform(X)
    np.testing.assert_array_equal(again, features)
    # Other distillation settings are another model: distilled into its own folder.
    monkeypatch.undo()
    narrow = PretrainedFeaturizer(tiny_static, backbone_kwargs={"pca_dims": 8}, cache=False, device="cpu",
                                  precision="fp32").fit(X)
    assert narrow.transform(X[:2]).shape == (2, 8)
    assert len([f for f in os.listdir(static_cache) if not f.startswith(".")]) == 2


def test_fine_tuning_trains_the_table_from_the_static_vectors(tiny_static, texts):
    X, y = texts
    recipe = get_backbone(tiny_static).create()
    start = recipe.build(pretrained=True).embedding.weight.detach().clone()
    clf = FineTunedClassifier(tiny_static, lr=1e-2, max_epochs=5, batch_size=8, device="cpu", precision="fp32",
                              random_state=0).fit(X, y)
    trained = clf.net_.module_.backbone.embedding.weight.detach()
    assert trained.shape == start.shape and not torch.allclose(trained, start)
    assert [g for g, _ in clf.backbone_.layer_groups(clf.net_.module_.backbone)] == ["embedding"]
    assert np.mean(clf.predict(X) == np.asarray(y)) >= 0.9

    reg = FineTunedRegressor(tiny_static, lr=1e-2, max_epochs=2, batch_size=8, device="cpu", precision="fp32",
                             random_state=0).fit(X, np.arange(len(X), dtype=float) % 3)
    assert reg.predict(X[:3]).shape == (3,)


def test_scratch_trains_the_same_table_from_random_vectors(tiny_static, texts):
    X, y = texts
    recipe = get_backbone(tiny_static).create()
    pretrained = recipe.build(pretrained=True).embedding.weight
    scratch = recipe.build(pretrained=False).embedding.weight
    assert pretrained.shape == scratch.shape and not torch.allclose(pretrained, scratch)
    clf = ScratchClassifier(tiny_static, max_epochs=10, batch_size=8, device="cpu", precision="fp32",
                            random_state=0).fit(X, y)
    assert np.mean(clf.predict(X) == np.asarray(y)) >= 0.9
    restored = pickle.loads(pickle.dumps(clf))  # the recipe (and its tokenizer) pickles with the estimator
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))


def test_save_load_round_trip_and_the_export_is_a_model2vec_folder(tmp_path, tiny_static, texts):
    from model2vec import StaticModel

    X, y = texts
    clf = FineTunedClassifier(tiny_static, lr=1e-2, max_epochs=2, batch_size=8, device="cpu", precision="fp32",
                              random_state=0).fit(X, y)
    loaded = skadapt.load(skadapt.save(clf, tmp_path / "saved"))
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))

    # The trained table, exported, is a model2vec folder: static:FOLDER loads it as it is,
    # and model2vec itself encodes the same features.
    folder = skadapt.export_backbone(clf, tmp_path / "exported").split(":", 1)[1]
    featurizer = PretrainedFeaturizer(f"static:{folder}", cache=False, device="cpu", precision="fp32").fit(X)
    trained = clf.net_.module_.backbone.eval()
    with torch.no_grad():
        expected = trained(**clf.backbone_.collate(list(clf.backbone_.prepare(X)))).numpy()
    np.testing.assert_allclose(featurizer.transform(X), expected, atol=1e-6)
    np.testing.assert_allclose(StaticModel.from_pretrained(folder, force_download=False).encode(X), expected,
                               atol=1e-5)

    # Transfer: a featurizer pipeline round-trips too.
    pipe = make_pipeline(PretrainedFeaturizer(tiny_static, device="cpu", precision="fp32"),
                         LogisticRegression()).fit(X, y)
    loaded_pipe = skadapt.load(skadapt.save(pipe, tmp_path / "pipeline"))
    np.testing.assert_array_equal(loaded_pipe.predict_proba(X), pipe.predict_proba(X))


def test_served_through_onnx_with_the_same_predictions(tmp_path, tiny_static, texts):
    pytest.importorskip("onnxruntime")
    X, y = texts
    X_new = [*X, "", "zzz unseen qqq", "a tedious film"]
    clf = FineTunedClassifier(tiny_static, lr=1e-2, max_epochs=2, batch_size=8, device="cpu", precision="fp32",
                              random_state=0).fit(X, y)
    served = skadapt.load(skadapt.export_onnx(clf, tmp_path / "onnx"))
    assert np.abs(served.predict_proba(X_new) - clf.predict_proba(X_new)).max() < 1e-5
    np.testing.assert_array_equal(served.predict(X_new), clf.predict(X_new))


def _one_sentence_error(backbone, match):
    with pytest.raises(ValueError, match=match) as info:
        PretrainedFeaturizer(backbone, device="cpu", precision="fp32").fit(["a text"])
    message = str(info.value)
    assert message.count("\n") == 0 and f"backbone '{backbone}'" in message
    error = info.value  # not a chained error from inside model2vec or transformers
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)
    return message


def test_a_folder_that_is_no_model_is_one_clear_sentence(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    _one_sentence_error(f"static:{empty}", "neither a model2vec folder .* nor a sentence-transformers model")
    (empty / "config.json").write_text(json.dumps({"hello": 1}))
    (empty / "notes.txt").write_text("not a model")
    _one_sentence_error(f"static:{empty}", "neither a model2vec folder")
    _one_sentence_error(f"static:{tmp_path / 'missing'}", "is not a folder")
    _one_sentence_error("static:textcnn", "does not read a local sentence-transformers folder")
    _one_sentence_error("static:no-such-thing", "neither a folder nor a usable sentence-transformers backbone")


def test_a_broken_model_folder_fails_in_one_sentence(tmp_path, tiny_sbert):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(tiny_sbert, broken, ignore=shutil.ignore_patterns("*.safetensors"))  # no weights
    _one_sentence_error(f"static:{broken}", "could not distil a static model from")
    fake = tmp_path / "fake-model2vec"
    fake.mkdir()
    (fake / "config.json").write_text(json.dumps({"model_type": "model2vec"}))
    _one_sentence_error(f"static:{fake}", "lacks its files")


def test_compare_runs_the_static_way_beside_the_others(tmp_path, tiny_sbert, texts):
    import json

    import pandas as pd

    from skadapt.cli import main

    X, y = texts
    data = tmp_path / "data.csv"
    pd.DataFrame({"text": X, "label": y}).to_csv(data, index=False)
    out = tmp_path / "out"
    code = main(["compare", str(data), "--text-column", "text", "--label-column", "label", "--backbone",
                 f"sbert:{tiny_sbert}", "--strategies", "static,tfidf", "--train-sizes", "all", "--max-epochs", "1",
                 "--output", str(out)])
    assert code == 0
    rows = json.loads((out / "results.json").read_text())["results"]
    static = [r for r in rows if r["strategy"] == "static"]
    assert static and static[0]["status"] == "ok" and 0.0 <= static[0]["accuracy"] <= 1.0
    assert "static" in static[0]["model"]
