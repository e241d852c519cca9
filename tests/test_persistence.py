"""skadapt.save / skadapt.load: every kind of model back with identical predictions, and no pickle on the way."""

import json
import os
import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import FeatureUnion, make_pipeline
from sklearn.preprocessing import FunctionTransformer

import skadapt
from skadapt import (
    FineTunedClassifier,
    FineTunedRegressor,
    PretrainedFeaturizer,
    ScratchClassifier,
    ScratchRegressor,
)
from skadapt.cache import clear_caches
from skadapt.persistence import read_metadata

RNG = np.random.default_rng(0)
NUMBERS = RNG.random((36, 5))
SCORES = RNG.random((36, 2))
TAGS = np.c_[np.arange(36) % 2, np.arange(36) % 3 == 0, np.zeros(36)].astype(bool)  # one label never set


pytestmark = pytest.mark.usefixtures("empty_caches")  # conftest: no backbone or features left from other tests


@pytest.fixture
def corpus(texts):
    X, y = texts
    return X, np.asarray(y)


def _models(tiny_sbert, corpus):
    """``(name, fitted model, X)`` for every kind of model save must take."""
    texts, labels = corpus
    n = len(texts)
    text_tags = np.c_[np.arange(n) % 2, np.arange(n) % 3 == 0].astype(int)
    text_scores = RNG.random((n, 2))
    grid = GridSearchCV(make_pipeline(PretrainedFeaturizer(tiny_sbert), LogisticRegression()),
                        {"logisticregression__C": [0.1, 1.0]}, cv=2).fit(texts, labels)
    quick = {"max_epochs": 2, "random_state": 0}
    return [
        ("scratch mlp, 3 classes", ScratchClassifier("mlp", **quick).fit(NUMBERS, np.arange(36) % 3), NUMBERS),
        ("scratch textcnn, string labels", ScratchClassifier(**quick).fit(texts, labels), texts),
        ("scratch mlp, multi-label bools", ScratchClassifier("mlp", threshold=0.3, **quick).fit(NUMBERS, TAGS),
         NUMBERS),
        ("scratch regressor, 1-D", ScratchRegressor("mlp", **quick).fit(NUMBERS, SCORES[:, 0] * 10), NUMBERS),
        ("scratch regressor, 2 outputs", ScratchRegressor("mlp", loss="huber", **quick).fit(NUMBERS, SCORES),
         NUMBERS),
        ("fine-tuned, class weights", FineTunedClassifier(tiny_sbert, class_weight="balanced", max_epochs=1,
                                                          random_state=0).fit(texts, labels), texts),
        ("fine-tuned multi-label", FineTunedClassifier(tiny_sbert, max_epochs=1, random_state=0).fit(
            texts, text_tags), texts),
        ("fine-tuned regressor", FineTunedRegressor(tiny_sbert, max_epochs=1, random_state=0).fit(
            texts, text_scores), texts),
        ("featurizer", PretrainedFeaturizer(tiny_sbert, normalize=True).fit(texts), texts),
        ("grid search's best pipeline", grid.best_estimator_, texts),
        ("pipeline with a ridge head", make_pipeline(PretrainedFeaturizer(tiny_sbert), RidgeCV()).fit(
            texts, text_scores), texts),
    ]


def _answers(model, X):
    return {name: getattr(model, name)(X) for name in ("predict", "predict_proba", "transform")
            if hasattr(model, name)}


def _last(model):
    return model.steps[-1][1] if hasattr(model, "steps") else model


@pytest.mark.filterwarnings("ignore:In the training y, label column")  # the constant label is on purpose
def test_every_kind_of_model_round_trips_with_identical_predictions(tmp_path, tiny_sbert, corpus):
    for name, model, X in _models(tiny_sbert, corpus):
        folder = skadapt.save(model, tmp_path / name.replace(" ", "-").replace(",", ""))
        loaded = skadapt.load(folder)
        assert type(loaded) is type(model), name
        expected, got = _answers(model, X), _answers(loaded, X)
        assert expected.keys() == got.keys(), name
        for method in expected:
            np.testing.assert_array_equal(got[method], expected[method], err_msg=f"{name}: {method}")
            assert got[method].dtype == expected[method].dtype, f"{name}: {method}"
        params = {k: v for k, v in model.get_params().items() if not hasattr(v, "fit") and k != "steps"}
        assert {k: v for k, v in loaded.get_params().items() if k in params} == params, name
        last, last_loaded = _last(model), _last(loaded)
        fitted = [a for a in ("classes_", "target_mean_", "target_scale_", "n_features_in_", "n_outputs_",
                              "n_features_out_") if hasattr(last, a)]
        assert fitted, name  # every model has one of them: otherwise nothing below is compared
        for attribute in fitted:
            np.testing.assert_array_equal(getattr(last_loaded, attribute), getattr(last, attribute))
        if hasattr(last, "history_"):
            assert last_loaded.history_[:, "train_loss"] == last.history_[:, "train_loss"], name
        clone(loaded)  # a loaded model is an ordinary estimator


def test_loading_never_unpickles(tmp_path, tiny_sbert, monkeypatch, corpus):
    import torch

    texts, labels = corpus
    pipeline = make_pipeline(PretrainedFeaturizer(tiny_sbert), LogisticRegression()).fit(texts, labels)
    fine_tuned = FineTunedClassifier(tiny_sbert, max_epochs=1, random_state=0).fit(texts, labels)
    folders = [skadapt.save(pipeline, tmp_path / "pipeline"), skadapt.save(fine_tuned, tmp_path / "fine-tuned")]
    clear_caches()  # load reads the backbone from the folder, not from this process's cache

    def refuse(*args, **kwargs):
        raise AssertionError("pickle was called during load")

    real_torch_load = torch.load

    def weights_only_torch_load(*args, **kwargs):
        if kwargs.get("weights_only") is not True:
            raise AssertionError("torch.load without weights_only=True during load")
        return real_torch_load(*args, **kwargs)

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    monkeypatch.setattr(torch, "load", weights_only_torch_load)
    for folder in folders:
        skadapt.load(folder).predict(texts[:3])
    for root, _, names in os.walk(tmp_path):
        for name in names:
            with open(os.path.join(root, name), "rb") as file:
                assert file.read(1) != b"\x80", f"{name} looks like a pickle"


@pytest.fixture
def saved(tmp_path):
    model = ScratchClassifier("mlp", max_epochs=1, random_state=0).fit(NUMBERS, np.arange(36) % 2)
    return skadapt.save(model, tmp_path / "model", metadata={"task": "classification", "names": ["a", "b"]})


def _manifest(folder):
    with open(os.path.join(folder, "skadapt-model.json"), encoding="utf-8") as file:
        return json.load(file)


def _write_manifest(folder, manifest):
    with open(os.path.join(folder, "skadapt-model.json"), "w", encoding="utf-8") as file:
        json.dump(manifest, file)


def test_metadata_travels_with_the_model(saved):
    assert read_metadata(saved) == {"task": "classification", "names": ["a", "b"]}
    manifest = _manifest(saved)
    assert manifest["versions"]["skadapt"] == skadapt.__version__ and "torch" in manifest["versions"]
    assert "model/head.safetensors" in manifest["files"]


def test_tampered_weights_are_refused(saved):
    weights = os.path.join(saved, "model", "backbone", "model.safetensors")
    data = bytearray(open(weights, "rb").read())
    data[-1] ^= 1
    open(weights, "wb").write(bytes(data))
    with pytest.raises(ValueError, match="does not match the digest recorded when the model was saved"):
        skadapt.load(saved)


def test_truncated_and_incomplete_folders_are_refused(saved):
    head = os.path.join(saved, "model", "head.safetensors")
    with open(head, "r+b") as file:
        file.truncate(os.path.getsize(head) // 2)
    with pytest.raises(ValueError, match="modified or truncated"):
        skadapt.load(saved)
    os.remove(head)
    with pytest.raises(ValueError, match="is incomplete: model/head.safetensors is missing"):
        skadapt.load(saved)
    os.remove(os.path.join(saved, "skadapt-model.json"))
    with pytest.raises(ValueError, match="has no skadapt-model.json"):
        skadapt.load(saved)


def test_a_manifest_naming_an_unknown_class_is_refused(saved):
    manifest = _manifest(saved)
    manifest["model"]["class"] = "os.system"
    _write_manifest(saved, manifest)
    with pytest.raises(ValueError, match="names the class 'os.system', which is not a skadapt estimator"):
        skadapt.load(saved)
    with pytest.raises(ValueError, match="'os.system', which is not a subclass of a skadapt estimator"):
        skadapt.load(saved, trusted=["os.system"])  # trusting a name does not make any callable a model
    manifest["model"] = {"type": "pickle", "file": "x"}
    _write_manifest(saved, manifest)
    with pytest.raises(ValueError, match="unknown type 'pickle'"):
        skadapt.load(saved)


def test_a_manifest_cannot_point_outside_the_folder(saved):
    manifest = _manifest(saved)
    manifest["files"]["../outside"] = "0" * 64
    _write_manifest(saved, manifest)
    with pytest.raises(ValueError, match="outside the folder"):
        skadapt.load(saved)


def double(X):
    return 2 * X


def test_an_untrusted_type_in_a_skops_file_is_refused_until_trusted(tmp_path):
    model = make_pipeline(FunctionTransformer(double), LogisticRegression()).fit(NUMBERS, np.arange(36) % 2)
    folder = skadapt.save(model, tmp_path / "model")
    name = f"{__name__}.double"
    with pytest.raises(ValueError, match=f"types that are not trusted: {name}; if you trust them"):
        skadapt.load(folder)
    loaded = skadapt.load(folder, trusted=[name])
    np.testing.assert_array_equal(loaded.predict_proba(NUMBERS), model.predict_proba(NUMBERS))
    with pytest.raises(ValueError, match="trusted must be a list of type names"):
        skadapt.load(folder, trusted=name)


def test_other_library_versions_give_a_warning(saved):
    manifest = _manifest(saved)
    manifest["versions"]["skadapt"] = "0.0.1"
    manifest["versions"]["scikit-learn"] = "1.0"
    _write_manifest(saved, manifest)
    with pytest.warns(UserWarning, match=r"saved with skadapt 0\.0\.1 \(now .*\), scikit-learn 1\.0"):
        skadapt.load(saved)


def test_a_failed_save_leaves_nothing_behind(tmp_path, monkeypatch, saved):
    from skadapt.persistence import _save

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_save, "_write_skops", full_disk)
    model = make_pipeline(ScratchClassifier("mlp", max_epochs=1).fit(NUMBERS, np.arange(36) % 2))
    pipeline = make_pipeline(PretrainedFeaturizer("exported:" + os.path.join(saved, "model", "backbone")),
                             LogisticRegression())
    del model
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(OSError, match="No space left"):
        skadapt.save(pipeline.fit(NUMBERS, np.arange(36) % 2), tmp_path / "new")
    assert sorted(os.listdir(tmp_path)) == before  # no "new", no staging folder
    with pytest.raises(OSError):  # replacing a model: the old one stays whole
        skadapt.save(pipeline, saved, overwrite=True)
    skadapt.load(saved).predict(NUMBERS)


def test_overwrite_keeps_the_old_model_whole_when_the_final_rename_fails(tmp_path, monkeypatch):
    from skadapt._files import staging as _staging

    old = ScratchClassifier("mlp", max_epochs=1, random_state=0).fit(NUMBERS, np.arange(36) % 2)
    new = ScratchClassifier("mlp", max_epochs=1, random_state=1).fit(NUMBERS, 1 - np.arange(36) % 2)
    skadapt.save(old, tmp_path / "model")
    real_replace = os.replace

    def failing_replace(source, target):  # moving the new model into place fails, like a full or flaky disk
        if os.path.basename(source).startswith(".skadapt-staging-"):
            raise OSError("rename failed")
        real_replace(source, target)

    monkeypatch.setattr(_staging.os, "replace", failing_replace)
    with pytest.raises(OSError, match="rename failed"):
        skadapt.save(new, tmp_path / "model", overwrite=True)
    monkeypatch.setattr(_staging.os, "replace", real_replace)
    assert sorted(os.listdir(tmp_path)) == ["model"]  # nothing staged or set aside is left behind
    np.testing.assert_array_equal(skadapt.load(tmp_path / "model").predict(NUMBERS), old.predict(NUMBERS))
    skadapt.save(new, tmp_path / "model", overwrite=True)
    np.testing.assert_array_equal(skadapt.load(tmp_path / "model").predict(NUMBERS), new.predict(NUMBERS))


def test_what_cannot_be_saved_gets_one_clear_error(tmp_path, corpus):
    texts, labels = corpus
    with pytest.raises(NotFittedError):
        skadapt.save(ScratchClassifier("mlp"), tmp_path / "a")
    search = GridSearchCV(ScratchClassifier("mlp", max_epochs=1), {"lr": [1e-3]}, cv=2).fit(NUMBERS, np.arange(36) % 2)
    with pytest.raises(ValueError, match="save its best_estimator_"):
        skadapt.save(search, tmp_path / "b")
    with pytest.raises(ValueError, match="model must be a fitted skadapt estimator"):
        skadapt.save({"model": 1}, tmp_path / "c")
    union = make_pipeline(FeatureUnion([("features", PretrainedFeaturizer("exported:x"))]), LogisticRegression())
    with pytest.raises(ValueError, match="step 'featureunion' .FeatureUnion. holds a skadapt estimator inside"):
        skadapt.save(union, tmp_path / "c")
    unseeded = ScratchClassifier("mlp", max_epochs=1, random_state=np.random.RandomState(0))
    with pytest.raises(ValueError, match="parameter random_state=RandomState.* cannot be saved as JSON"):
        skadapt.save(unseeded.fit(NUMBERS, np.arange(36) % 2), tmp_path / "d")
    fitted = ScratchClassifier("mlp", max_epochs=1).fit(NUMBERS, np.arange(36) % 2)
    with pytest.raises(ValueError, match="metadata must be plain data"):
        skadapt.save(fitted, tmp_path / "e", metadata={"when": object()})
    skadapt.save(fitted, tmp_path / "f")
    with pytest.raises(ValueError, match="exists and is not empty; pass overwrite=True"):
        skadapt.save(fitted, tmp_path / "f")
    assert not any(name.startswith((".skadapt-staging", "a", "b", "c", "d", "e")) for name in os.listdir(tmp_path))


def test_callbacks_are_dropped_with_a_warning(tmp_path):
    from skorch.callbacks import EpochTimer

    model = ScratchClassifier("mlp", max_epochs=1, callbacks=[EpochTimer()]).fit(NUMBERS, np.arange(36) % 2)
    with pytest.warns(UserWarning, match="callbacks are code and are not saved"):
        folder = skadapt.save(model, tmp_path / "model")
    loaded = skadapt.load(folder)
    assert loaded.callbacks is None
    np.testing.assert_array_equal(loaded.predict_proba(NUMBERS), model.predict_proba(NUMBERS))


class LabelledScratch(ScratchClassifier):
    """A user's subclass: skadapt saves and exports it as it does its own classes."""

    def describe(self):
        return f"{len(self.classes_)} classes"


def test_a_subclass_saves_and_loads_when_trusted(tmp_path):
    y = np.arange(36) % 2
    clf = LabelledScratch("mlp", max_epochs=1, random_state=0).fit(NUMBERS, y)
    folder = skadapt.save(clf, tmp_path / "model")
    name = f"{LabelledScratch.__module__}.LabelledScratch"
    with pytest.raises(ValueError, match=r"trusted=\['.*LabelledScratch'\]"):
        skadapt.load(folder)
    loaded = skadapt.load(folder, trusted=[name])
    assert type(loaded) is LabelledScratch and loaded.describe() == "2 classes"
    np.testing.assert_array_equal(loaded.predict_proba(NUMBERS), clf.predict_proba(NUMBERS))
    # Exporting its backbone and serving it answer "is it a skadapt estimator?" the same way.
    skadapt.export_backbone(clf, tmp_path / "backbone")
    served = skadapt.load(skadapt.export_onnx(clf, tmp_path / "onnx"))
    np.testing.assert_allclose(served.predict_proba(NUMBERS), clf.predict_proba(NUMBERS), atol=1e-4)


def test_a_subclass_defined_in_a_function_is_refused_before_writing(tmp_path):
    class Local(ScratchClassifier):
        pass

    clf = Local("mlp", max_epochs=1, random_state=0).fit(NUMBERS, np.arange(36) % 2)
    with pytest.raises(ValueError, match="defined inside a function"):
        skadapt.save(clf, tmp_path / "model")
    assert not (tmp_path / "model").exists()
