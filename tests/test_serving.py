"""export_onnx and OnnxModel: the ONNX Runtime answers are the torch answers, without torch."""

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.model_selection import GridSearchCV
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline

import skadapt
from skadapt import (
    FineTunedClassifier,
    FineTunedRegressor,
    PretrainedFeaturizer,
    ScratchClassifier,
    ScratchRegressor,
)
from skadapt.cli import main
from skadapt.serving import OnnxModel

pytest.importorskip("onnxruntime")

RNG = np.random.default_rng(0)
NUMBERS = RNG.random((36, 5))
# Texts unlike the training ones: unknown words, emoji, a long text truncated by the tokeniser.
NEW = ["an unseen sentence, with NEW words!", "😀 très bien", "", "word " * 400, "i loved every minute"]


pytestmark = pytest.mark.usefixtures("empty_caches")  # conftest: no backbone or features left from other tests


@pytest.fixture
def corpus(texts):
    """The shared training texts plus texts unlike them (``NEW``)."""
    X, y = texts
    return X + NEW, np.asarray(y + ["pos", "neg", "pos", "neg", "pos"])


def _onnx_models(tiny_sbert, corpus):
    texts, labels = corpus
    n = len(texts)
    tags = np.c_[np.arange(n) % 2, np.arange(n) % 3 == 0]
    scores = RNG.random((n, 2))
    quick = {"max_epochs": 1, "random_state": 0}
    return [
        ("fine-tuned classifier", FineTunedClassifier(tiny_sbert, **quick).fit(texts, labels), texts),
        ("fine-tuned multi-label", FineTunedClassifier(tiny_sbert, threshold=0.4, **quick).fit(texts, tags), texts),
        ("fine-tuned regressor", FineTunedRegressor(tiny_sbert, **quick).fit(texts, scores), texts),
        ("scratch textcnn", ScratchClassifier(**quick).fit(texts, labels), texts),
        ("scratch textcnn regressor, 1-D", ScratchRegressor(**quick).fit(texts, scores[:, 0]), texts),
        ("scratch mlp", ScratchClassifier("mlp", **quick).fit(NUMBERS, np.arange(36) % 3), NUMBERS),
        ("featurizer", PretrainedFeaturizer(tiny_sbert).fit(texts), texts),
        ("featurizer + grid-searched logistic regression", make_pipeline(
            PretrainedFeaturizer(tiny_sbert), GridSearchCV(LogisticRegression(), {"C": [0.1, 1]}, cv=2)
        ).fit(texts, labels), texts),
        ("featurizer + one-vs-rest", make_pipeline(
            PretrainedFeaturizer(tiny_sbert), OneVsRestClassifier(LogisticRegression())).fit(texts, tags), texts),
        ("featurizer + ridge", make_pipeline(PretrainedFeaturizer(tiny_sbert), RidgeCV()).fit(texts, scores), texts),
    ]


def test_onnx_answers_match_torch_for_every_kind_of_model(tmp_path, tiny_sbert, corpus):
    for name, model, X in _onnx_models(tiny_sbert, corpus):
        served = skadapt.load(skadapt.export_onnx(model, tmp_path / name.replace(" ", "-")))
        assert isinstance(served, OnnxModel)
        if hasattr(model, "predict_proba"):
            proba = served.predict_proba(X)
            assert proba.dtype == np.float64 and proba.shape == model.predict_proba(X).shape
            assert np.abs(proba - model.predict_proba(X)).max() < 1e-4, name
            np.testing.assert_array_equal(served.classes_, model.classes_)
        if hasattr(model, "predict"):
            expected = model.predict(X)
            got = served.predict(X)
            assert got.shape == expected.shape and got.dtype == expected.dtype, name
            if expected.dtype.kind == "f":
                assert np.abs(got - expected).max() < 1e-4, name
            else:
                np.testing.assert_array_equal(got, expected, err_msg=name)
        else:
            features = served.transform(X)
            assert features.dtype == np.float32 and np.abs(features - model.transform(X)).max() < 1e-4
            assert not hasattr(served, "predict_proba")


def test_int8_weights_shrink_the_model_and_keep_its_answers_close(tmp_path, tiny_sbert, corpus):
    texts, labels = corpus
    model = FineTunedClassifier(tiny_sbert, max_epochs=1, random_state=0).fit(texts, labels)
    fp32 = skadapt.export_onnx(model, tmp_path / "fp32")
    int8 = skadapt.export_onnx(model, tmp_path / "int8", quantize="int8")
    size = {f: os.path.getsize(os.path.join(f, "model.onnx")) for f in (fp32, int8)}
    assert size[int8] < size[fp32] / 2
    served = skadapt.load(int8)
    assert served.quantize == "int8"
    assert np.abs(served.predict_proba(texts) - model.predict_proba(texts)).max() < 0.1
    assert (served.predict(texts) == model.predict(texts)).mean() >= 0.8
    assert abs(served.score(texts, labels) - model.score(texts, labels)) <= 0.2


def test_serving_imports_neither_torch_nor_sklearn(tmp_path, corpus):
    texts, labels = corpus
    model = ScratchClassifier(max_epochs=1, random_state=0).fit(texts, labels)
    folder = skadapt.export_onnx(model, tmp_path / "onnx")
    script = (
        "import sys, skadapt\n"
        f"model = skadapt.load({folder!r})\n"
        f"print(list(model.predict({NEW!r})))\n"
        "print(sorted(m for m in ('torch', 'sklearn', 'transformers', 'scipy') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    predicted, imported = out.strip().splitlines()
    assert predicted == str(list(model.predict(NEW)))
    assert imported == "[]"


def test_serving_tokenisation_equals_the_backbones(tmp_path, tiny_sbert, corpus):
    from skadapt.serving._preprocess import make_preprocessor

    texts, labels = corpus
    texts += ["Don't stop: it's 3.5x faster — naïve café", "UPPER lower MiXeD", "tab\there\nnewline"]
    for backbone, X in ((tiny_sbert, texts), ("textcnn", texts)):
        model = ScratchClassifier(backbone, max_epochs=1, random_state=0).fit(texts, np.arange(len(texts)) % 2)
        folder = tmp_path / backbone.split(":")[0]
        folder.mkdir()
        description = model.backbone_.serving_preprocessing(str(folder))
        served = make_preprocessor(description, str(folder)).prepare(X)
        expected = model.backbone_.prepare(X)
        assert len(served) == len(expected)
        for got, want in zip(served, expected):
            np.testing.assert_array_equal(got, want)


def test_onnx_model_refuses_bad_input_like_the_estimator(tmp_path, corpus):
    texts, labels = corpus
    served = skadapt.load(skadapt.export_onnx(ScratchClassifier(max_epochs=1).fit(texts, labels), tmp_path / "a"))
    with pytest.raises(ValueError, match="got a single string"):
        served.predict("one text")
    with pytest.raises(ValueError, match=r"X\[1\] is a int"):
        served.predict(["a", 3])
    with pytest.raises(AttributeError, match="transform is for featurizers"):
        served.transform(texts)
    regressor = ScratchRegressor("mlp", max_epochs=1).fit(NUMBERS, RNG.random(36))
    served = skadapt.load(skadapt.export_onnx(regressor, tmp_path / "b"))
    assert not hasattr(served, "predict_proba")
    with pytest.raises(ValueError, match="with 5 columns, got shape"):
        served.predict(NUMBERS[:, :3])


def test_what_cannot_be_exported_gets_one_clear_error(tmp_path, corpus):
    texts, labels = corpus
    with pytest.raises(NotFittedError):
        skadapt.export_onnx(ScratchClassifier(), tmp_path / "a")
    tfidf = make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(texts, labels)
    with pytest.raises(ValueError, match="Pipeline that starts with a PretrainedFeaturizer"):
        skadapt.export_onnx(tfidf, tmp_path / "b")
    images = RNG.integers(0, 255, (12, 8, 8), dtype=np.uint8)
    cnn = ScratchClassifier("cnn", max_epochs=1).fit(images, np.arange(12) % 2)
    with pytest.raises(ValueError, match="backbone 'cnn' cannot be exported to ONNX"):
        skadapt.export_onnx(cnn, tmp_path / "c")
    mlp = ScratchClassifier("mlp", max_epochs=1).fit(NUMBERS, np.arange(36) % 2)
    with pytest.raises(ValueError, match="quantize must be None or 'int8', got 'fp16'"):
        skadapt.export_onnx(mlp, tmp_path / "d", quantize="fp16")
    assert sorted(os.listdir(tmp_path)) == []  # nothing half-written


def test_export_onnx_then_predict_from_the_command_line(tmp_path, capsys, texts):
    data = tmp_path / "data.csv"
    pd.DataFrame({"text": texts[0], "label": texts[1]}).to_csv(data, index=False)
    best, onnx = tmp_path / "best", tmp_path / "onnx"
    assert main(["compare", str(data), "--strategies", "scratch", "--train-sizes", "all", "--test-size", "0.25",
                 "--max-epochs", "1", "--output", str(tmp_path / "out"), "--save-best", str(best)]) == 0
    assert main(["export-onnx", str(best), str(onnx), "--quantize", "int8", "--calibration", str(data)]) == 0
    # each layer's inputs measured on the file's texts (smoothing; docs/serving.md)
    from skadapt._files.manifest import read_manifest

    assert read_manifest(onnx)["model"]["int8"]["smoothing"]["rows"] == len(texts[0])
    assert main(["export-onnx", str(best), str(tmp_path / "fp32"), "--calibration", str(data)]) == 2
    assert "--calibration applies to --quantize int8 only" in capsys.readouterr().err
    capsys.readouterr()
    assert main(["predict", str(best), str(data)]) == 0
    from_torch = pd.read_csv(__import__("io").StringIO(capsys.readouterr().out))
    assert main(["predict", str(onnx), str(data)]) == 0
    from_onnx = pd.read_csv(__import__("io").StringIO(capsys.readouterr().out))
    assert list(from_onnx.columns) == list(from_torch.columns) == ["text", "prediction", "proba_neg", "proba_pos"]
    assert (from_onnx["prediction"] == from_torch["prediction"]).mean() > 0.9
    assert main(["export-onnx", str(best), str(onnx)]) == 2
    assert "exists and is not empty" in capsys.readouterr().err


def test_one_onnx_model_serves_many_threads_at_once(tmp_path, tiny_sbert, corpus):
    from concurrent.futures import ThreadPoolExecutor

    texts, labels = corpus
    model = FineTunedClassifier(tiny_sbert, max_epochs=1, random_state=0).fit(texts, labels)
    served = skadapt.load(skadapt.export_onnx(model, tmp_path / "onnx"))
    expected = served.predict_proba(texts)
    # A web server's threads: the tokeniser is configured once at load and only read after, so no
    # "Already borrowed" from the tokenizers library, and ONNX Runtime sessions are safe to share.
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: served.predict_proba(texts[i % 7:] + texts[: i % 7]), range(32)))
    for i, proba in enumerate(results):
        shift = i % 7
        np.testing.assert_allclose(proba, np.roll(expected, -shift, axis=0), atol=1e-6)  # other batches: other padding
