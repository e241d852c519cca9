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
