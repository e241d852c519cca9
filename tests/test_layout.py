"""The architecture's arrows point one way (see README's layout), and importing is cheap."""

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np

import skadapt

PACKAGE = Path(skadapt.__file__).parent


def _imports(path):
    """Every module a file imports, resolved to absolute ``skadapt...`` names where relative."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(p for p in (base, node.module or "") if p)
            found += [module] + [f"{module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names]
    return found


# The floors of the house, lowest first. A module may import its own package and the floors below
# it, never one beside or above (lazy imports inside functions count too: they run up the house all the same).
FLOORS = [
    {"_version", "_hardware", "_files", "_texts", "_long_texts", "hookspecs", "images", "datasets"},
    {"plugins"},
    {"registry"},
    {"backbones", "cache", "tables"},
    {"estimators"},
    {"serving"},  # export asks the estimators; its runtime needs neither them nor persistence
    {"persistence"},  # walks models; loads ONNX folders through serving
    {"auto", "dask", "testing"},
    {"cli"},
    {"__init__", "__main__"},
]


def _imported_modules(path):
    """The modules a file imports: ``from . import hookspecs`` imports ``skadapt.hookspecs``, not ``skadapt``."""
    found = []
    for name in _imports(path):
        *package, last = name.split(".")
        if package and (PACKAGE.parent.joinpath(*package, last).is_dir()
                        or PACKAGE.parent.joinpath(*package, last + ".py").is_file()):
            found = [m for m in found if m != ".".join(package)] + [name]
        elif ".".join(package) not in found:
            found.append(name)
    return found


def _unit(module):
    """``skadapt.estimators._base`` -> ``estimators``; ``skadapt`` -> ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_every_import_goes_to_a_lower_floor():
    floor = {unit: i for i, units in enumerate(FLOORS) for unit in units}
    climbs = []
    for path in PACKAGE.rglob("*.py"):
        source = _unit(".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts))
        assert source in floor, f"{path.relative_to(PACKAGE)} is on no floor: add its package to FLOORS"
        for module in _imported_modules(path):
            target = _unit(module) if module.startswith("skadapt.") or module == "skadapt" else None
            if target is None or target == source:
                continue
            if target not in floor or floor[target] >= floor[source]:
                climbs.append(f"{path.relative_to(PACKAGE)} imports {module}")
    assert climbs == []


def test_the_file_helpers_import_nothing_of_skadapt():
    for path in (PACKAGE / "_files").glob("*.py"):
        assert not [m for m in _imports(path) if m.startswith("skadapt")], path.name


def test_backbones_and_caches_do_not_import_the_estimators_or_the_package_root():
    for folder in ("backbones", "cache"):
        for path in (PACKAGE / folder).glob("*.py"):
            imported = _imports(path)
            assert not any(m.startswith("skadapt.estimators") for m in imported), f"{path.name} imports estimators"
            assert "skadapt.__version__" not in imported, f"{path.name} reads the version from the package root"


def test_the_cache_imports_no_model_library():
    for path in (PACKAGE / "cache").glob("*.py"):
        imported = [m.split(".")[0] for m in _imports(path)]
        assert "sentence_transformers" not in imported, path.name


def test_importing_serving_loads_no_estimator_or_persistence_writer():
    script = ("import sys, skadapt.serving\n"
              "print(sorted(m for m in sys.modules if m.startswith(('skadapt.estimators', 'skadapt.persistence', "
              "'skadapt._files.staging', 'skadapt._files.manifest'))))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_importing_skadapt_or_serving_imports_neither_torch_nor_sklearn():
    script = ("import sys, skadapt, skadapt.serving, skadapt.persistence, skadapt.cli\n"
              "print(sorted(m for m in ('torch', 'sklearn', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_features_of_an_image_backbone_are_cached_without_text_libraries(tmp_path):
    X = np.random.default_rng(0).random((20, 8, 8))
    clf = skadapt.ScratchClassifier("cnn", max_epochs=1, random_state=0).fit(X, np.arange(20) % 2)
    name = skadapt.export_backbone(clf, tmp_path / "cnn")
    script = (
        "import sys, numpy as np\n"
        "from skadapt import PretrainedFeaturizer\n"
        f"f = PretrainedFeaturizer({name!r}).fit(np.zeros((2, 8, 8)))\n"
        "print(f.cache_key_ is not None, 'sentence_transformers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "False"]
