"""The optimised int8 export and the runtimes that serve ONNX folders (ONNX Runtime, OpenVINO)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import skadapt
from skadapt import FineTunedClassifier, PretrainedFeaturizer, ScratchClassifier, ScratchRegressor
from skadapt.cli import main
from skadapt.serving import _export

pytest.importorskip("onnxruntime")
pytestmark = pytest.mark.usefixtures("empty_caches")

NEW = ["an unseen sentence, with NEW words!", "😀 très bien", "", "word " * 400, "i loved every minute"]


def _ops(folder):
    import onnx

    return {node.op_type for node in onnx.load(os.path.join(folder, "model.onnx")).graph.node}


def _manifest(folder):
    with open(os.path.join(folder, "skadapt-model.json"), encoding="utf-8") as file:
        return json.load(file)


def _rewrite_manifest(folder, change):
    manifest = _manifest(folder)
    change(manifest)
    with open(os.path.join(folder, "skadapt-model.json"), "w", encoding="utf-8") as file:
        json.dump(manifest, file)


@pytest.fixture
def classifier(tiny_sbert, texts):
    X, y = texts
    return FineTunedClassifier(tiny_sbert, max_epochs=2, random_state=0).fit(X, y)


def test_optimised_int8_folder_gives_the_same_predictions_after_load_and_in_a_new_process(tmp_path, classifier,
                                                                                         texts):
    X, _ = texts
    rows = X + NEW
    folder = skadapt.export_onnx(classifier, tmp_path / "int8", quantize="int8")
    # Quantised as the exporting CPU's configuration says, every linear layer on 8-bit weights.
    ops = _ops(folder)
    assert {"MatMulInteger", "DynamicQuantizeLinear"} <= ops and "MatMul" in ops, ops  # attention scores stay fp32
    node = _manifest(folder)["model"]
    assert node["onnx_format"] == 2 and node["skadapt_version"] == skadapt.__version__
    assert node["int8"] == {"config": _export.int8_config(), "per_channel": True,
                            "weights": "QInt8" if _export.int8_config() == "avx512_vnni" else "QUInt8"}

    served = skadapt.load(folder)
    proba = served.predict_proba(rows)
    assert served.quantize == "int8" and served.runtime == "onnxruntime"
    np.testing.assert_array_equal(skadapt.load(folder).predict_proba(rows), proba)  # loaded again: same answers
    assert (served.predict(rows) == classifier.predict(rows)).mean() >= 0.8  # int8 moves a few borderline rows
    assert np.abs(proba - classifier.predict_proba(rows)).max() < 0.1
    script = ("import json, skadapt\n"
              f"print(json.dumps(skadapt.load({folder!r}).predict_proba({rows!r}).tolist()))\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    np.testing.assert_allclose(np.array(json.loads(out)), proba, rtol=0, atol=1e-6)


def test_int8_configuration_follows_the_cpu_flags(tmp_path, monkeypatch, classifier):
    assert _export.int8_config({"avx2", "avx512f", "avx512_vnni"}) == "avx512_vnni"
    assert _export.int8_config({"avx2", "avx512f"}) == "avx2"
    assert _export.int8_config(set()) == "avx2"
    monkeypatch.setattr(_export, "cpu_flags", lambda: {"sse4_2", "avx2"})
    folder = skadapt.export_onnx(classifier, tmp_path / "avx2", quantize="int8")
    assert _manifest(folder)["model"]["int8"] == {"config": "avx2", "weights": "QUInt8", "per_channel": True}
    import onnx

    graph = onnx.load(os.path.join(folder, "model.onnx")).graph
    dtypes = {init.data_type for init in graph.initializer if init.name.endswith("_quantized")}
    assert dtypes == {onnx.TensorProto.UINT8}  # uint8 weights, as optimum's avx2 configuration
    served = skadapt.load(folder)
    assert (served.predict(NEW) == classifier.predict(NEW)).mean() >= 0.6


def test_the_first_call_needs_no_warm_up(tmp_path, classifier, monkeypatch):
    """The warm-up batch runs at load: the first predict runs no shape the runtime has not seen before."""
    from skadapt.serving import _runtime

    calls = []
    original = _runtime.OrtEngine.run
    monkeypatch.setattr(_runtime.OrtEngine, "run", lambda self, inputs: calls.append(inputs["input_ids"].shape)
                        or original(self, inputs))
    served = skadapt.load(skadapt.export_onnx(classifier, tmp_path / "onnx"))
    assert calls == [(served.batch_size, _runtime.WARM_UP_TOKENS)]


def test_runtime_errors_are_one_clear_sentence(tmp_path, monkeypatch, classifier, texts, capsys):
    X, _ = texts
    onnx_folder = skadapt.export_onnx(classifier, tmp_path / "onnx")
    torch_folder = skadapt.save(classifier, tmp_path / "torch")
    with pytest.raises(ValueError, match=r"^runtime must be one of 'onnxruntime', 'openvino', got 'tensorrt'\.$"):
        skadapt.load(onnx_folder, runtime="tensorrt")
    with pytest.raises(ValueError, match="runtime='openvino' is for folders written by skadapt.export_onnx"):
        skadapt.load(torch_folder, runtime="openvino")
    monkeypatch.setitem(sys.modules, "openvino", None)  # not installed
    with pytest.raises(ImportError, match=r"^runtime='openvino' needs OpenVINO: pip install 'skadapt\[openvino\]'\.$"):
        skadapt.load(onnx_folder, runtime="openvino")
    data = tmp_path / "rows.csv"
    data.write_text("text\na fine film\n")
    assert main(["predict", onnx_folder, str(data), "--runtime", "openvino"]) == 2
    assert "pip install 'skadapt[openvino]'" in capsys.readouterr().err
    monkeypatch.delitem(sys.modules, "openvino")


def test_onnx_folders_of_another_format_version(tmp_path, classifier, texts):
    X, _ = texts
    folder = skadapt.export_onnx(classifier, tmp_path / "onnx")
    expected = skadapt.load(folder).predict_proba(X)
    # Exported by skadapt 0.1 before the format was numbered: format 1, read as it is.
    _rewrite_manifest(folder, lambda m: [m["model"].pop(k) for k in ("onnx_format", "skadapt_version", "int8")])
    assert "onnx_format" not in _manifest(folder)["model"]
    np.testing.assert_array_equal(skadapt.load(folder).predict_proba(X), expected)
    # A newer format, from a newer skadapt: refused, naming both versions.
    def newer(manifest):
        manifest["model"]["onnx_format"] = 99
        manifest["versions"]["skadapt"] = "9.0.0"
    _rewrite_manifest(folder, newer)
    with pytest.raises(ValueError, match=r"exported by skadapt 9\.0\.0 in ONNX folder format 99, newer than this "
                                         r"skadapt \(.+\) reads \(up to 2\): upgrade skadapt"):
        skadapt.load(folder)


def test_a_graph_the_runtime_cannot_run_is_one_sentence(tmp_path, classifier):
    import onnx
    from onnx import helper

    from skadapt._files.manifest import write_manifest

    folder = skadapt.export_onnx(classifier, tmp_path / "onnx")
    model = onnx.load(os.path.join(folder, "model.onnx"))
    model.graph.node.append(helper.make_node("NoSuchOp", ["output"], ["extra"], domain="com.example"))
    model.graph.output.append(helper.make_tensor_value_info("extra", onnx.TensorProto.FLOAT, None))
    model.opset_import.append(helper.make_opsetid("com.example", 1))
    onnx.save(model, os.path.join(folder, "model.onnx"))
    manifest = _manifest(folder)
    os.remove(os.path.join(folder, "skadapt-model.json"))
    write_manifest(folder, manifest["model"], runtime="onnx", metadata={})
    with pytest.raises(ValueError, match=r"^ONNX Runtime \S+ cannot run model.onnx in .*: install a runtime version"):
        skadapt.load(folder)


# -- OpenVINO ---------------------------------------------------------------------
def _openvino_models(tiny_sbert, texts):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    X, y = texts
    numbers = np.random.default_rng(0).random((36, 5))
    quick = {"max_epochs": 2, "random_state": 0}
    return [
        ("fine-tuned", FineTunedClassifier(tiny_sbert, **quick).fit(X, y), X + NEW),
        ("textcnn regressor", ScratchRegressor(**quick).fit(X, np.arange(len(X)) % 5 / 5), X + NEW),
        ("mlp", ScratchClassifier("mlp", **quick).fit(numbers, np.arange(36) % 3), numbers),
        ("featurizer + logistic regression",
         make_pipeline(PretrainedFeaturizer(tiny_sbert), LogisticRegression()).fit(X, y), X + NEW),
    ]


def test_openvino_agrees_with_onnxruntime(tmp_path, tiny_sbert, texts):
    pytest.importorskip("openvino")
    for name, model, rows in _openvino_models(tiny_sbert, texts):
        folder = skadapt.export_onnx(model, tmp_path / name.replace(" ", "-"))
        ort, ov = skadapt.load(folder), skadapt.load(folder, runtime="openvino")
        assert ov.runtime == "openvino" and "openvino" in repr(ov)
        # bf16 on a CPU that computes it natively: a few thousandths, not the same labels everywhere.
        atol = 2e-2 if ov._session.precision == "bf16" else 1e-4
        if hasattr(model, "predict_proba"):
            np.testing.assert_allclose(ov.predict_proba(rows), ort.predict_proba(rows), atol=atol, err_msg=name)
            assert (ov.predict(rows) == ort.predict(rows)).mean() >= 0.9, name
        else:
            np.testing.assert_allclose(ov.predict(rows), ort.predict(rows), atol=atol * 10, err_msg=name)


def test_openvino_serves_an_int8_folder_and_many_threads(tmp_path, classifier, texts):
    pytest.importorskip("openvino")
    from concurrent.futures import ThreadPoolExecutor

    X, _ = texts
    folder = skadapt.export_onnx(classifier, tmp_path / "int8", quantize="int8")
    ov = skadapt.load(folder, runtime="openvino")
    expected = ov.predict_proba(X)
    assert (ov.predict(X) == skadapt.load(folder).predict(X)).mean() >= 0.9
    with ThreadPoolExecutor(4) as pool:  # one infer request per thread
        results = list(pool.map(lambda _: ov.predict_proba(X), range(8)))
    for proba in results:
        np.testing.assert_allclose(proba, expected, atol=1e-6)
