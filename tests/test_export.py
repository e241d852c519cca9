"""A fitted model becomes a pretrained backbone: safetensors + JSON, identical features."""

import json
import os
import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skadapt import FineTunedClassifier, PretrainedFeaturizer, ScratchClassifier, export_backbone, get_backbone
from skadapt.cache import clear_caches


@pytest.fixture(autouse=True)
def empty_caches():
    clear_caches()
    yield
    clear_caches()


def trained_features(clf, X):
    """What the fitted classifier's own backbone computes for ``X``."""
    from skadapt.estimators import _validation as v
    from skadapt.estimators._network import encode

    items = clf.backbone_.prepare(v.check_input(clf, X, clf.backbone_.input_kind, reset=False))
    return encode(clf.backbone_, clf.net_.module_.backbone.eval(), items, batch_size=8, device="cpu")


def images(n=30, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 255, (n, 8, 8), dtype=np.uint8)
    return X, np.arange(n) % 3


def assert_no_pickles(folder):
    for root, _, names in os.walk(folder):
        for name in names:
            with open(os.path.join(root, name), "rb") as file:
                head = file.read(2)
            assert head[:1] != b"\x80", f"{name} looks like a pickle"
            assert not name.endswith((".bin", ".pkl", ".pt", ".pth")), name


def test_scratch_cnn_exports_as_a_pretrained_image_backbone(tmp_path):
    X, y = images()
    clf = ScratchClassifier(backbone="cnn", backbone_kwargs={"channels": (8, 16)}, max_epochs=2,
                            random_state=0, device="cpu").fit(X, y)
    name = export_backbone(clf, tmp_path / "cnn")
    assert name == f"exported:{tmp_path / 'cnn'}"
    assert sorted(os.listdir(tmp_path / "cnn")) == ["model.safetensors", "skadapt-backbone.json"]
    assert_no_pickles(tmp_path / "cnn")
    spec = get_backbone(name)
    assert spec.input_kind == "image" and spec.has_pretrained
    features = PretrainedFeaturizer(name, device="cpu").fit(X).transform(X)
    np.testing.assert_allclose(features, trained_features(clf, X), atol=1e-6)
    config = json.loads((tmp_path / "cnn" / "skadapt-backbone.json").read_text())
    assert config["backbone"] == "cnn" and config["trained_by"]["classes"] == ["0", "1", "2"]


def test_fine_tuning_starts_from_the_exported_weights(tmp_path):
    X, y = images()
    clf = ScratchClassifier(backbone="cnn", backbone_kwargs={"channels": (8,)}, max_epochs=2,
                            random_state=0, device="cpu").fit(X, y)
    name = export_backbone(clf, tmp_path / "cnn")
    # Head only: the backbone keeps exactly the exported weights.
    head_only = FineTunedClassifier(name, frozen_groups="all", max_epochs=1, device="cpu", random_state=0).fit(X, y)
    exported = clf.net_.module_.backbone.state_dict()
    for key, value in head_only.net_.module_.backbone.state_dict().items():
        torch.testing.assert_close(value, exported[key], msg=key)
    # From scratch with the exported architecture: random weights, same shapes.
    scratch = ScratchClassifier(name, max_epochs=1, device="cpu", random_state=0).fit(X, y)
    weights = scratch.net_.module_.backbone.state_dict()
    assert weights.keys() == exported.keys()
    assert not torch.equal(weights["blocks.0.0.weight"], exported["blocks.0.0.weight"])


def test_text_vocabulary_and_weights_round_trip(tmp_path, texts):
    X, y = texts
    clf = ScratchClassifier(backbone="textcnn", backbone_kwargs={"embedding_dim": 16, "num_filters": 4},
                            max_epochs=2, random_state=0, device="cpu").fit(X, y)
    name = export_backbone(clf, tmp_path / "textcnn")
    featurizer = PretrainedFeaturizer(name, device="cpu").fit(X)
    unseen = ["a completely unseen sentence", *X[:3]]
    np.testing.assert_allclose(featurizer.transform(unseen), trained_features(clf, unseen), atol=1e-6)
    # Fine-tuning keeps the exported vocabulary rather than learning a new one.
    tuned = FineTunedClassifier(name, max_epochs=1, device="cpu", random_state=0).fit(["other words only"] * 2, [0, 1])
    assert tuned.backbone_.recipe.vocabulary_ == clf.backbone_.vocabulary_


def test_fine_tuned_sentence_transformer_exports_its_own_folder(tmp_path, tiny_sbert, texts):
    X, y = texts
    tuned = FineTunedClassifier(tiny_sbert, max_epochs=1, random_state=0, device="cpu").fit(X, y)
    name = export_backbone(tuned, tmp_path / "tuned")
    assert_no_pickles(tmp_path / "tuned")
    expected = trained_features(tuned, X[:6])
    for backbone in (name, f"sbert:{tmp_path / 'tuned'}"):  # also a plain sentence-transformers folder
        got = PretrainedFeaturizer(backbone, device="cpu").fit(X).transform(X[:6])
        np.testing.assert_allclose(got, expected, atol=1e-5)
    # An exported backbone fine-tuned again exports again.
    again = FineTunedClassifier(name, max_epochs=1, random_state=0, device="cpu").fit(X, y)
    second = export_backbone(make_pipeline(FunctionTransformer(), again), tmp_path / "again")
    np.testing.assert_allclose(PretrainedFeaturizer(second, device="cpu").fit(X).transform(X[:6]),
                               trained_features(again, X[:6]), atol=1e-5)


def test_an_estimator_on_an_exported_backbone_pickles_and_clones(tmp_path):
    X, y = images()
    clf = ScratchClassifier(backbone="cnn", backbone_kwargs={"channels": (8,)}, max_epochs=1,
                            random_state=0, device="cpu").fit(X, y)
    name = export_backbone(clf, tmp_path / "cnn")
    tuned = FineTunedClassifier(name, max_epochs=1, device="cpu", random_state=0).fit(X, y)
    restored = pickle.loads(pickle.dumps(tuned))
    np.testing.assert_array_equal(restored.predict_proba(X), tuned.predict_proba(X))
    assert clone(tuned).get_params()["backbone"] == name


def test_export_refuses_what_it_cannot_do(tmp_path, texts):
    X, y = texts
    with pytest.raises(NotFittedError):
        export_backbone(ScratchClassifier(backbone="textcnn"), tmp_path / "a")
    with pytest.raises(ValueError, match="estimator must be a fitted Scratch- or FineTuned- Classifier or Regressor"):
        export_backbone(PretrainedFeaturizer(), tmp_path / "a")
    clf = ScratchClassifier(backbone="textcnn", backbone_kwargs={"embedding_dim": 8, "num_filters": 2},
                            max_epochs=1, random_state=0, device="cpu").fit(X, y)
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="exists and is not empty; pass overwrite=True"):
        export_backbone(clf, tmp_path / "taken")
    assert os.listdir(tmp_path / "taken") == ["notes.txt"]
    export_backbone(clf, tmp_path / "taken", overwrite=True)
    assert "notes.txt" not in os.listdir(tmp_path / "taken")
    assert [p for p in os.listdir(tmp_path) if p.startswith(".export-")] == []  # no staging left behind


def test_bad_exported_folders_and_options(tmp_path, texts):
    X, y = texts
    with pytest.raises(ValueError, match="no such folder"):
        PretrainedFeaturizer(f"exported:{tmp_path / 'nope'}").fit(X)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="has no skadapt-backbone.json"):
        PretrainedFeaturizer(f"exported:{tmp_path / 'empty'}").fit(X)
    clf = ScratchClassifier(backbone="textcnn", backbone_kwargs={"embedding_dim": 8, "num_filters": 2},
                            max_epochs=1, random_state=0, device="cpu").fit(X, y)
    name = export_backbone(clf, tmp_path / "cnn")
    with pytest.raises(ValueError, match="do not fit backbone 'textcnn'"):
        PretrainedFeaturizer(name, backbone_kwargs={"num_filters": 3}, device="cpu").fit(X)
    with pytest.raises(ValueError, match="expects text"):
        PretrainedFeaturizer(name, device="cpu").fit(np.zeros((3, 4)))


def test_an_exported_numeric_backbone_refuses_another_width_clearly(tmp_path):
    X = np.random.default_rng(0).random((30, 4))
    clf = ScratchClassifier("mlp", max_epochs=1, random_state=0).fit(X, np.arange(30) % 2)
    name = export_backbone(clf, tmp_path / "mlp")
    message = r"X has 3 features, but backbone 'exported:.*' takes 4 per row \(the width it was trained on\)"
    with pytest.raises(ValueError, match=message):
        PretrainedFeaturizer(name).fit(X[:, :3])
    with pytest.raises(ValueError, match=message):
        FineTunedClassifier(name, max_epochs=1).fit(X[:, :3], np.arange(30) % 2)
    assert PretrainedFeaturizer(name).fit(X).transform(X).shape == (30, 100)
