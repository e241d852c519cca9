"""The backbone registry and its plugins, as users and plugin authors rely on them.

Test plugins go through the real machinery: a module object in ``sys.modules``
with a ``@hookimpl register_backbones``, reached through a real
``importlib.metadata.EntryPoint`` (third-party plugins) or through
``skadapt.plugins.DEFAULT_PLUGINS`` (built-ins). Every test starts and ends
with a fresh registry, so the others see the normal one.
"""

import importlib.metadata
import importlib.util
import os
import subprocess
import sys
import types

import numpy as np
import pytest

import skadapt
from skadapt import DuplicateBackboneError, ScratchClassifier, UnknownBackboneError
from skadapt.plugins import PluginWarning

BUILT_INS = {"minilm", "mlp", "sbert", "textcnn"}
ROW_KEYS = {"name", "input_kind", "pretrained", "plugin", "description"}

_real_entry_points = importlib.metadata.entry_points


@pytest.fixture(autouse=True)
def fresh_registry(monkeypatch):
    monkeypatch.delenv("SKADAPT_DISABLE_PLUGINS", raising=False)
    monkeypatch.delenv("SKADAPT_PLUGINS", raising=False)
    skadapt.reset_registry()
    yield
    skadapt.reset_registry()


def _names():
    return {row["name"] for row in skadapt.list_backbones()}


def _plugin_module(monkeypatch, module_name, hook):
    """A real module in ``sys.modules`` whose ``register_backbones`` is ``hook``."""
    module = types.ModuleType(module_name)
    module.register_backbones = skadapt.hookimpl(hook)
    monkeypatch.setitem(sys.modules, module_name, module)
    return module


def _add_entry_points(monkeypatch, *pairs):
    """Add ``(entry point name, module name)`` pairs to the ``skadapt`` group, after the installed ones."""
    extra = [importlib.metadata.EntryPoint(name=name, value=value, group="skadapt") for name, value in pairs]

    def entry_points(**params):
        found = _real_entry_points(**params)
        if params.get("group") == "skadapt":
            return [*found, *extra]
        return found

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)


def _registering(name, factory="skadapt.backbones._mlp:MLPBackbone", input_kind="array", **kwargs):
    def register_backbones(register):
        register(name, factory, input_kind=input_kind, **kwargs)

    return register_backbones


def _others_still_work():
    """Every built-in is listed, and one of them still builds and trains."""
    assert BUILT_INS <= _names()
    assert skadapt.get_backbone("textcnn").input_kind == "text"
    rng = np.random.RandomState(0)
    X = rng.normal(size=(20, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    clf = ScratchClassifier(backbone="mlp", max_epochs=1, device="cpu", random_state=0).fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (20, 2) and np.allclose(proba.sum(axis=1), 1.0)


# -- the installed third-party plugin -----------------------------------------


def test_installed_bow_plugin_is_found_through_its_entry_point():
    import skadapt_bow  # noqa: F401  (installed by `make test`; a missing plugin is a failure)
    (row,) = skadapt.list_backbones("bow")
    assert row["plugin"] == "skadapt-bow"
    assert row["input_kind"] == "text" and row["pretrained"] is False
    spec = skadapt.get_backbone("bow")
    assert spec.input_kind == "text"
    assert spec.plugin == "bow" and spec.distribution == "skadapt-bow"
    assert BUILT_INS <= _names()


def test_installed_bow_plugin_trains_a_scratch_classifier():
    import skadapt_bow  # noqa: F401  (installed by `make test`; a missing plugin is a failure)
    good = ["a wonderful film", "great acting", "loved it", "beautiful and funny", "a clever story", "warm and charming"]
    bad = ["dull and long", "a tedious mess", "hated it", "boring plot", "the worst film", "bad jokes"]
    X = (good + bad) * 5
    y = (["pos"] * 6 + ["neg"] * 6) * 5
    clf = ScratchClassifier(backbone="bow", max_epochs=2, device="cpu", random_state=0).fit(X, y)
    assert type(clf.backbone_).__module__ == "skadapt_bow._backbone"
    assert list(clf.classes_) == ["neg", "pos"]
    pred = clf.predict(["a great film", "a boring mess", "words never seen"])
    assert pred.shape == (3,)
    assert set(pred) <= {"neg", "pos"}
    assert clf.predict_proba(X[:4]).shape == (4, 2)


def test_disable_env_hides_third_party_plugins_but_keeps_built_ins(monkeypatch):
    _plugin_module(monkeypatch, "skadapt_test_extra", _registering("extra"))
    _add_entry_points(monkeypatch, ("extra", "skadapt_test_extra"))
    assert "extra" in _names()
    if importlib.util.find_spec("skadapt_bow") is not None:
        assert "bow" in _names()

    monkeypatch.setenv("SKADAPT_DISABLE_PLUGINS", "1")
    skadapt.reset_registry()
    names = _names()
    assert "extra" not in names and "bow" not in names
    assert BUILT_INS <= names
    with pytest.raises(UnknownBackboneError):
        skadapt.get_backbone("bow")

    monkeypatch.setenv("SKADAPT_DISABLE_PLUGINS", "0")  # "0" means not disabled
    skadapt.reset_registry()
    assert "extra" in _names()


def test_the_allow_list_loads_only_the_plugins_it_names(monkeypatch):
    _plugin_module(monkeypatch, "skadapt_test_extra", _registering("extra"))
    _plugin_module(monkeypatch, "skadapt_test_other", _registering("other"))
    _add_entry_points(monkeypatch, ("extra", "skadapt_test_extra"), ("other", "skadapt_test_other"))
    monkeypatch.setenv("SKADAPT_PLUGINS", "extra")
    names = _names()
    assert "extra" in names and "other" not in names and "bow" not in names
    assert BUILT_INS <= names  # built-ins are not plugins to choose

    monkeypatch.setenv("SKADAPT_PLUGINS", "extra, skadapt-bow, nonesuch")  # a distribution's name works too
    skadapt.reset_registry()
    with pytest.warns(PluginWarning, match="SKADAPT_PLUGINS names 'nonesuch', which no installed skadapt plugin"):
        names = _names()
    assert "extra" in names and "other" not in names
    if importlib.util.find_spec("skadapt_bow") is not None:
        assert "bow" in names


def test_a_third_party_plugin_registers_a_class_factory(monkeypatch):
    from skadapt.backbones._mlp import MLPBackbone

    class TinyBackbone(MLPBackbone):
        """A tiny MLP, registered as a class."""

    _plugin_module(monkeypatch, "skadapt_test_tiny", lambda register: register("tiny", TinyBackbone, aliases=("wee",)))
    _add_entry_points(monkeypatch, ("tiny", "skadapt_test_tiny"))
    spec = skadapt.get_backbone("wee")
    # input_kind, pretrained and description come from the class itself.
    assert (spec.name, spec.input_kind, spec.has_pretrained) == ("tiny", "array", False)
    assert spec.description == "A tiny MLP, registered as a class."
    assert spec.plugin == "tiny"
    assert isinstance(spec.create(hidden_layer_sizes=(4,)), TinyBackbone)


# -- broken plugins are skipped with a warning ---------------------------------


def test_plugin_that_fails_to_import_warns_and_the_rest_works(monkeypatch):
    _add_entry_points(monkeypatch, ("broken", "no_such_module_xyz"))
    with pytest.warns(PluginWarning, match=r"'broken'.*ModuleNotFoundError.*no_such_module_xyz"):
        names = _names()
    assert "broken" not in names
    if importlib.util.find_spec("skadapt_bow") is not None:
        assert "bow" in names
    _others_still_work()


def test_installed_plugin_that_fails_to_import_names_its_distribution(monkeypatch):
    import skadapt_bow  # noqa: F401  (installed by `make test`; a missing plugin is a failure)
    monkeypatch.setitem(sys.modules, "skadapt_bow", None)  # makes `import skadapt_bow` fail
    with pytest.warns(PluginWarning, match=r"'bow' \(distribution 'skadapt-bow'\) failed to load"):
        names = _names()
    assert "bow" not in names
    _others_still_work()


def test_plugin_whose_hook_raises_warns_and_the_rest_works(monkeypatch):
    def register_backbones(register):
        register("half", "skadapt.backbones._mlp:MLPBackbone", input_kind="array")
        raise RuntimeError("boom")

    _plugin_module(monkeypatch, "skadapt_test_exploding", register_backbones)
    _add_entry_points(monkeypatch, ("exploding", "skadapt_test_exploding"))
    with pytest.warns(PluginWarning, match=r"'exploding'.*RuntimeError: boom"):
        names = _names()
    assert "half" not in names  # a plugin that fails halfway registers nothing
    _others_still_work()


def test_plugin_registering_an_invalid_backbone_warns(monkeypatch):
    _plugin_module(monkeypatch, "skadapt_test_badkind", _registering("audio", input_kind="audio"))
    _add_entry_points(monkeypatch, ("badkind", "skadapt_test_badkind"))
    with pytest.warns(PluginWarning, match=r"'badkind'.*input_kind must be one of"):
        names = _names()
    assert "audio" not in names
    _others_still_work()


def test_plugin_with_a_wrong_hook_signature_warns(monkeypatch):
    module = types.ModuleType("skadapt_test_badsig")
    module.register_backbones = skadapt.hookimpl(lambda reg: None)  # not the hookspec's argument
    monkeypatch.setitem(sys.modules, "skadapt_test_badsig", module)
    _add_entry_points(monkeypatch, ("badsig", "skadapt_test_badsig"))
    with pytest.warns(PluginWarning, match=r"'badsig'"):
        names = _names()
    assert BUILT_INS <= names


# -- conflicts ------------------------------------------------------------------


def test_two_plugins_registering_one_name_raise_naming_both(monkeypatch):
    _plugin_module(monkeypatch, "skadapt_test_first", _registering("dup"))
    _plugin_module(monkeypatch, "skadapt_test_second", _registering("dup"))
    _add_entry_points(monkeypatch, ("first", "skadapt_test_first"), ("second", "skadapt_test_second"))
    with pytest.raises(DuplicateBackboneError, match="'dup'") as excinfo:
        skadapt.get_backbone("mlp")
    message = str(excinfo.value)
    assert "'first'" in message and "'second'" in message


def test_plugin_reusing_a_built_in_alias_raises_naming_both(monkeypatch):
    _plugin_module(monkeypatch, "skadapt_test_kim", _registering("kim", aliases=("kim-cnn",)))
    _add_entry_points(monkeypatch, ("kim", "skadapt_test_kim"))
    with pytest.raises(DuplicateBackboneError, match="'kim-cnn'") as excinfo:
        skadapt.list_backbones()
    message = str(excinfo.value)
    assert "'kim'" in message and "'skadapt.backbones.textcnn'" in message


def test_default_plugins_are_registered_like_built_ins(monkeypatch):
    _plugin_module(monkeypatch, "skadapt_test_builtin", _registering("extra-builtin", description="An extra one."))
    monkeypatch.setattr(
        skadapt.plugins, "DEFAULT_PLUGINS", (*skadapt.plugins.DEFAULT_PLUGINS, "skadapt_test_builtin")
    )
    monkeypatch.setenv("SKADAPT_DISABLE_PLUGINS", "1")  # built-ins are not third-party plugins
    (row,) = skadapt.list_backbones("extra-*")
    assert row["plugin"] == "skadapt_test_builtin"
    assert row["description"] == "An extra one."


# -- lookups ----------------------------------------------------------------------


def test_unknown_backbone_lists_names_and_suggests_the_closest():
    with pytest.raises(UnknownBackboneError) as excinfo:
        skadapt.get_backbone("textcn")
    assert isinstance(excinfo.value, ValueError)
    message = str(excinfo.value)
    assert "Did you mean 'textcnn'?" in message
    for name in BUILT_INS:
        assert name in message


def test_unknown_backbone_in_an_estimator_raises_value_error():
    with pytest.raises(ValueError, match="Did you mean 'textcnn'"):
        ScratchClassifier(backbone="textcn").fit(["a good film", "a bad film"], ["pos", "neg"])


def test_name_with_argument_resolves_to_the_spec():
    spec = skadapt.get_backbone("sbert:/some/path")
    assert spec.name == "sbert"
    assert spec.argument == "/some/path"
    assert skadapt.get_backbone("sentence-transformers:/other").argument == "/other"


@pytest.mark.parametrize(
    "name, message",
    [
        ("sbert", r"'sbert' needs an argument after a colon"),
        ("sbert:", r"'sbert' needs an argument after a colon"),
        ("mlp:7", r"'mlp' takes no ':argument'"),
        ("textcnn:oops", r"'textcnn' takes no ':argument'"),
    ],
)
def test_backbone_argument_misuse(name, message):
    with pytest.raises(skadapt.UnknownBackboneError, match=message):
        skadapt.get_backbone(name)


def test_list_backbones_filter_and_rows():
    rows = skadapt.list_backbones("t*")
    assert rows and all(row["name"].startswith("t") for row in rows)
    assert "textcnn" in [row["name"] for row in rows]
    all_rows = skadapt.list_backbones()
    assert [row["name"] for row in all_rows] == sorted(row["name"] for row in all_rows)
    for row in all_rows:
        assert ROW_KEYS <= set(row)
        assert row["input_kind"] in ("text", "array", "image", "auto")
        assert isinstance(row["pretrained"], bool)
    assert skadapt.list_backbones("no-such-*") == []


def test_import_and_listing_stay_cheap():
    code = (
        "import sys, skadapt; "
        "print('transformers' in sys.modules, 'torch' in sys.modules); "
        "skadapt.list_backbones(); "
        "print('transformers' in sys.modules, 'torch' in sys.modules)"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120, check=True)
    import_line, listing_line = out.stdout.split("\n")[:2]
    assert import_line == "False False"
    assert listing_line == "False False"  # plugins register "module:attribute" strings
