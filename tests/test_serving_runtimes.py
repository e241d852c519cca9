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
                            "weights": "QInt8" if _export.int8_config() == "avx512_vnni" else "QUInt8",
                            # smoothed on the bundled sentences: the six linear layers of each of the two
                            # transformer layers, BERT's pooler and the head
                            "smoothing": {"alpha": 0.75, "rows": 192, "rows_from": "bundled", "layers": 2 * 6 + 2}}

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
    assert {k: v for k, v in _manifest(folder)["model"]["int8"].items() if k != "smoothing"} == {
        "config": "avx2", "weights": "QUInt8", "per_channel": True}
    import onnx

    graph = onnx.load(os.path.join(folder, "model.onnx")).graph
    dtypes = {init.data_type for init in graph.initializer if init.name.endswith("_quantized")}
    assert dtypes == {onnx.TensorProto.UINT8}  # uint8 weights, as optimum's avx2 configuration
    served = skadapt.load(folder)
    assert (served.predict(NEW) == classifier.predict(NEW)).mean() >= 0.6


def test_smoothing_moves_input_ranges_into_the_weights_and_leaves_the_outputs_as_they_were():
    import torch
    from torch import nn

    from skadapt.serving._smooth import smooth_linear_inputs

    class Block(nn.Module):  # three layers reading one input, as a transformer's query, key and value
        def __init__(self):
            super().__init__()
            self.query, self.key, self.value = nn.Linear(8, 4), nn.Linear(8, 4), nn.Linear(8, 4)
            self.out = nn.Linear(4, 2)

        def forward(self, x):
            return self.out(self.query(x) * self.key(x) + self.value(x))

    torch.manual_seed(0)
    block = Block().eval()
    x = torch.randn(64, 8)
    x[:, 3] *= 50  # one channel far larger than the rest
    with torch.no_grad():
        before = block(x)
    assert smooth_linear_inputs(block, [(x[:32],), (x[32:],)]) == 4
    with torch.no_grad():
        np.testing.assert_allclose(block(x).numpy(), before.numpy(), rtol=1e-4, atol=1e-5)
    scales = [block.query[0], block.key[0], block.value[0]]
    assert all(s is scales[0] for s in scales)
    seen = (x * scales[0].inverse).abs().amax(dim=0)
    assert seen.max() / seen.median() < 0.5 * x.abs().amax(dim=0).max() / x.abs().amax(dim=0).median()
    tied = Block().eval()
    tied.key = tied.query  # one layer in two places: not smoothed, the outputs stay right
    with torch.no_grad():
        before = tied(x)
    assert smooth_linear_inputs(tied, [(x,)]) == 2
    assert isinstance(tied.query, nn.Linear) and tied.key is tied.query
    with torch.no_grad():
        np.testing.assert_allclose(tied(x).numpy(), before.numpy(), rtol=1e-4, atol=1e-5)


def test_smoothing_keeps_int8_predictions_those_of_fp32_where_one_input_is_far_larger(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 6)).astype(np.float32)
    y = (X[:, 1] + X[:, 2] - X[:, 3] > 0).astype(int)
    X[:, 0] *= 300  # a column far larger than the rest, which the label ignores
    mlp = ScratchClassifier("mlp", max_epochs=30, random_state=0).fit(X, y)
    agree = {}
    for name, calibration in (("plain", None), ("smoothed", X[:100])):
        folder = skadapt.export_onnx(mlp, tmp_path / name, quantize="int8", calibration=calibration)
        agree[name] = (skadapt.load(folder).predict(X) == mlp.predict(X)).mean()
    # one scale for the whole input leaves the small columns a step or two of int8: the model is lost
    assert agree["plain"] < 0.8 and agree["smoothed"] > 0.95, agree
    # array models are smoothed on rows given, never on the bundled sentences
    assert _manifest(tmp_path / "plain")["model"]["int8"]["smoothing"] is None
    assert _manifest(tmp_path / "smoothed")["model"]["int8"]["smoothing"] == {
        "alpha": 0.75, "rows": 100, "rows_from": "given", "layers": 2}


def test_calibration_is_checked_and_can_be_turned_off(tmp_path, classifier, texts):
    with pytest.raises(ValueError, match=r"^calibration applies to quantize='int8' only"):
        skadapt.export_onnx(classifier, tmp_path / "fp32", calibration=["a text"])
    with pytest.raises(ValueError, match=r"^calibration must be a non-empty sequence of rows"):
        skadapt.export_onnx(classifier, tmp_path / "int8", quantize="int8", calibration=[])
    with pytest.raises(ValueError, match=r"^calibration must be a non-empty sequence of rows"):
        skadapt.export_onnx(classifier, tmp_path / "int8", quantize="int8", calibration="one text")
    import onnx

    def muls(folder):
        return sum(node.op_type == "Mul" for node in onnx.load(os.path.join(folder, "model.onnx")).graph.node)

    plain = skadapt.export_onnx(classifier, tmp_path / "plain", quantize="int8", calibration=False)
    given = skadapt.export_onnx(classifier, tmp_path / "given", quantize="int8", calibration=texts[0][:10])
    assert _manifest(plain)["model"]["int8"]["smoothing"] is None
    assert _manifest(given)["model"]["int8"]["smoothing"]["rows"] == 10
    assert muls(given) > muls(plain)  # the inputs' scales, as multiplications before the layers


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
