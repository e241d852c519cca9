"""The plugin as installed: entry point, registry rows, lazy imports, trust_remote_code, errors."""

import importlib.metadata
import inspect
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import skadapt
from skadapt import FineTunedClassifier, PretrainedFeaturizer, UnknownBackboneError, get_backbone


def test_installed_and_discovered_through_its_entry_point():
    eps = [ep for ep in importlib.metadata.entry_points(group="skadapt") if ep.value == "skadapt_transformers"]
    assert [(ep.name, ep.dist.name) for ep in eps] == [("transformers", "skadapt-transformers")]
    requires = " ".join(importlib.metadata.requires("skadapt-transformers"))
    assert all(dep in requires for dep in ("skadapt", "transformers", "pillow"))

    rows = {row["name"]: row for row in skadapt.list_backbones("hf-*")}
    assert set(rows) == {"hf-text", "hf-vision"}
    assert rows["hf-text"]["input_kind"] == "text" and rows["hf-vision"]["input_kind"] == "image"
    assert all(row["pretrained"] and row["plugin"] == "skadapt-transformers" for row in rows.values())

    spec = get_backbone("hf-vision:/models/vit")
    assert spec.takes_argument and spec.argument == "/models/vit" and spec.plugin == "transformers"
    assert spec.distribution == "skadapt-transformers"
    with pytest.raises(UnknownBackboneError, match="needs an argument after a colon"):
        get_backbone("hf-text")


def test_registering_imports_neither_torch_nor_transformers():
    code = (
        "import sys, skadapt, skadapt_transformers\n"
        "assert len(skadapt.list_backbones('hf-*')) == 2\n"
        "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _record_loader_calls(monkeypatch):
    """Wrap every transformers loader the recipes call; record its trust_remote_code."""
    import transformers

    calls = []
    targets = [
        ("AutoConfig", "from_pretrained"), ("AutoTokenizer", "from_pretrained"),
        ("AutoImageProcessor", "from_pretrained"), ("AutoModel", "from_pretrained"), ("AutoModel", "from_config"),
    ]
    for cls_name, method in targets:
        cls = getattr(transformers, cls_name)
        original = getattr(cls, method)

        def wrapper(*args, _original=original, _name=f"{cls_name}.{method}", **kwargs):
            calls.append((_name, kwargs.get("trust_remote_code", "not passed")))
            return _original(*args, **kwargs)

        monkeypatch.setattr(cls, method, wrapper)
    return calls


@pytest.mark.parametrize("trust", [False, True])
def test_trust_remote_code_is_off_by_default_and_reaches_every_loader(monkeypatch, tiny_bert, tiny_vit, trust):
    for name in ("hf-text", "hf-vision"):
        factory = get_backbone(f"{name}:{tiny_bert}").load_factory()
        assert inspect.signature(factory).parameters["trust_remote_code"].default is False
        assert get_backbone(f"{name}:{tiny_bert}").create().trust_remote_code is False
    calls = _record_loader_calls(monkeypatch)
    options = {"trust_remote_code": True} if trust else {}
    for name, folder in (("hf-text", tiny_bert), ("hf-vision", tiny_vit)):
        for pretrained in (True, False):
            get_backbone(f"{name}:{folder}").create(**options).build(pretrained=pretrained)
    assert {name for name, _ in calls} == {
        "AutoConfig.from_pretrained", "AutoTokenizer.from_pretrained", "AutoImageProcessor.from_pretrained",
        "AutoModel.from_pretrained", "AutoModel.from_config",
    }
    assert {value for _, value in calls} == {trust}


def test_code_in_a_model_folder_never_runs_unless_trusted(tmp_path):
    folder = tmp_path / "custom"
    folder.mkdir()
    (folder / "config.json").write_text(
        '{"model_type": "custom-bert", "auto_map": {"AutoConfig": "configuration_custom.CustomConfig", '
        '"AutoModel": "modeling_custom.CustomModel"}}'
    )
    (folder / "configuration_custom.py").write_text(
        "import pathlib\npathlib.Path(__file__).with_name('RAN').write_text('ran')\n"
    )
    for name, X in (("hf-text", ["a text"]), ("hf-vision", np.zeros((1, 4, 4), np.uint8))):
        with pytest.raises(ValueError, match=rf"backbone '{name}:.*custom code.*trust_remote_code': True"):
            PretrainedFeaturizer(f"{name}:{folder}", device="cpu").fit(X)
    assert not (folder / "RAN").exists()


def test_wrong_folders_raise_one_clear_error(tmp_path, tiny_bert, tiny_vit):
    missing = tmp_path / "nowhere"
    message = f"backbone 'hf-text:{missing}': no such folder; expected a Hugging Face model folder"
    with pytest.raises(ValueError, match=re.escape(message)):
        PretrainedFeaturizer(f"hf-text:{missing}").fit(["a text"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match=r"is not a Hugging Face model folder \(it has no config.json\)"):
        get_backbone(f"hf-vision:{tmp_path / 'empty'}").create()
    with pytest.raises(ValueError, match=r"hf-text:.*takes images.*expected a text encoder.*Use 'hf-vision:"):
        PretrainedFeaturizer(f"hf-text:{tiny_vit}", device="cpu").fit(["a text"])
    with pytest.raises(ValueError, match=r"hf-vision:.*does not take images.*expected a vision encoder.*'hf-text:"):
        FineTunedClassifier(f"hf-vision:{tiny_bert}", device="cpu").fit(np.zeros((2, 4, 4), np.uint8), [0, 1])
    # A hub id is looked up only at build, and offline that fails clearly.
    with pytest.raises(ValueError, match=r"hf-text:no-such-org/no-such-model': cannot read a Hugging Face model"):
        get_backbone("hf-text:no-such-org/no-such-model").create().build(pretrained=True)


def test_options_are_checked(tiny_bert, tiny_vit):
    text, vision = get_backbone(f"hf-text:{tiny_bert}"), get_backbone(f"hf-vision:{tiny_vit}")
    with pytest.raises(ValueError, match="pooling must be one of"):
        text.create(pooling="max")
    with pytest.raises(ValueError, match="pooling must be one of"):
        vision.create(pooling="first")
    with pytest.raises(ValueError, match="max_length must be an integer >= 2"):
        text.create(max_length=1)
    with pytest.raises(ValueError, match="normalize must be True or False"):
        vision.create(normalize="yes")
    with pytest.raises(ValueError, match="does not fit backbone 'hf-vision'.*its options are"):
        vision.create(max_length=8)  # e.g. PretrainedFeaturizer(max_length=...) on an image model
    assert os.path.samefile(text.create().model_name_or_path, tiny_bert)
