"""The documentation is tested: its code runs and the site builds.

* Every ```python block of every page under ``docs/`` and of ``README.md``
  runs. The blocks of one page run in order in one namespace, so a later
  block can use the names of an earlier one; a block written as a doctest
  (``>>>`` lines) is checked as one. A block preceded by the comment
  ``<!-- docs-test: skip -->`` (blank lines between are allowed) is not run.
* The doctests in skadapt's docstrings — the examples of the API reference —
  run, one test per module.
* ``mkdocs build --strict`` (warnings are errors) builds the site.

Pages and modules whose examples fit an estimator on the real
all-MiniLM-L6-v2 are marked ``slow`` (``-m "not slow"`` leaves them out).
"""

import doctest
import os
import pkgutil
import re
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

import skadapt

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted(ROOT.glob("docs/**/*.md")) + [ROOT / "README.md"]
SKIP_MARKER = "<!-- docs-test: skip -->"
DOCTEST_FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE

# Code that loads the real MiniLM: an estimator on its default backbone, or "minilm" by name.
_MINILM = re.compile(r"(PretrainedFeaturizer|FineTunedClassifier|FineTunedRegressor)\(\s*(\)|[a-z_]+\s*=)|[\"']minilm[\"']")


@dataclass
class Block:
    page: Path
    line: int  # 1-based line of the first code line
    code: str
    skip: str = ""  # why it is not run, if it is not

    @property
    def is_doctest(self):
        return self.code.lstrip().startswith(">>>")


_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")


def code_blocks(page):
    """The ```python blocks of a Markdown page, in order (fences may be indented, as in lists)."""
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks, i, skip_next = [], 0, ""
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            if lines[i].strip() == SKIP_MARKER:
                skip_next = f"marked {SKIP_MARKER}"
            elif lines[i].strip():
                skip_next = ""
            i += 1
            continue
        indent, fence = len(match["indent"]), match["fence"]
        language = (match["info"].split() or [""])[0].lower().lstrip(".{")
        body, j = [], i + 1
        while j < len(lines):
            closing = lines[j].strip()
            if closing.startswith(fence[0] * len(fence)) and not closing.strip(fence[0]):
                break
            body.append(lines[j][indent:] if lines[j][:indent].strip() == "" else lines[j])
            j += 1
        if language in ("python", "py", "pycon"):
            blocks.append(Block(page, i + 2, "\n".join(body) + "\n", skip_next))
        skip_next = ""
        i = j + 1
    return blocks


def _page_param(page):
    blocks = code_blocks(page)
    code = "\n".join(b.code for b in blocks if not b.skip)
    marks = [pytest.mark.slow] if _MINILM.search(code) and ".fit(" in code else []
    return pytest.param(page, marks=marks, id=str(page.relative_to(ROOT)))


@pytest.fixture
def in_tmp_dir(tmp_path, monkeypatch):
    """Examples write files (models, caches, results) into a scratch folder, not the repository."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    # Starting a dask LocalCluster writes thread limits (OMP_NUM_THREADS, ...)
    # into this process's environment; later tests must not inherit them.
    environ = dict(os.environ)
    yield tmp_path
    os.environ.clear()
    os.environ.update(environ)
    import matplotlib.pyplot as plt

    plt.close("all")


def _run_doctest(test, report):
    runner = doctest.DocTestRunner(optionflags=DOCTEST_FLAGS)
    runner.run(test, out=report.append, clear_globs=False)
    return runner.summarize(verbose=False)


@pytest.mark.parametrize("page", [_page_param(p) for p in PAGES if code_blocks(p)])
def test_page_examples_run(page, in_tmp_dir):
    namespace = {"__name__": "__docs__"}
    ran, skipped = 0, []
    for block in code_blocks(page):
        if block.skip:
            skipped.append(f"{page.relative_to(ROOT)}:{block.line} {block.skip}")
            if "temporarily" in block.skip:
                warnings.warn(f"example not run: {skipped[-1]}", stacklevel=1)
            continue
        where = f"{page.relative_to(ROOT)}:{block.line}"
        if block.is_doctest:
            test = doctest.DocTestParser().get_doctest(block.code, namespace, where, str(page), block.line - 1)
            report = []
            if _run_doctest(test, report).failed:
                pytest.fail(f"doctest in {where} failed:\n" + "".join(report), pytrace=False)
        else:
            # Padded so that a traceback names the line of the Markdown file.
            code = compile("\n" * (block.line - 1) + block.code, str(page), "exec")
            try:
                exec(code, namespace)
            except Exception as exc:
                raise AssertionError(f"the example at {where} raised {type(exc).__name__}: {exc}") from exc
        ran += 1
    if not ran:
        pytest.skip("every example is skipped: " + "; ".join(skipped))


def test_skip_marker_and_parsing(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "Text.\n\n```python\na = 1\n```\n\n<!-- docs-test: skip -->\n\n```python\nraise SystemExit\n```\n\n"
        "1. A list item:\n\n    ```python\n    b = a + 1\n    ```\n\n```bash\nrm -rf /\n```\n\n"
        "```python\n>>> a + 1\n2\n```\n",
        encoding="utf-8",
    )
    blocks = code_blocks(page)
    assert [b.code for b in blocks] == ["a = 1\n", "raise SystemExit\n", "b = a + 1\n", ">>> a + 1\n2\n"]
    assert [bool(b.skip) for b in blocks] == [False, True, False, False]
    assert [b.line for b in blocks] == [4, 10, 16, 24]
    assert blocks[3].is_doctest


# -- doctests of the docstrings ---------------------------------------------
def _modules_with_examples():
    for info in pkgutil.walk_packages(skadapt.__path__, "skadapt."):
        if info.name.rsplit(".", 1)[-1] == "__main__":  # runs the command line on import
            continue
        spec = info.module_finder.find_spec(info.name)
        source = Path(spec.origin).read_text(encoding="utf-8") if spec and spec.origin else ""
        if ">>>" in source:
            fits = [line for line in source.splitlines()
                    if line.lstrip().startswith(">>>") and ".fit(" in line and "+SKIP" not in line]
            marks = [pytest.mark.slow] if any(_MINILM.search(line) for line in fits) else []
            yield pytest.param(info.name, marks=marks, id=info.name)


@pytest.mark.parametrize("module_name", list(_modules_with_examples()))
def test_docstring_examples(module_name, in_tmp_dir):
    import importlib

    module = importlib.import_module(module_name)
    tests = [t for t in doctest.DocTestFinder(exclude_empty=True).find(module) if t.examples]
    assert tests, f"{module_name} has '>>>' in its source but no doctest was found"
    report = []
    failed = sum(_run_doctest(test, report).failed for test in tests)
    if failed:
        pytest.fail(f"{failed} docstring example(s) of {module_name} failed:\n" + "".join(report), pytrace=False)


# -- the site ----------------------------------------------------------------
def test_site_builds_strictly(tmp_path):
    pytest.importorskip("mkdocs", reason="the docs extra is not installed: pip install -e '.[docs]'")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{log[-6000:]}"
    # The API reference is generated from the docstrings, read from the source.
    api = (site / "api" / "estimators" / "index.html").read_text(encoding="utf-8")
    assert "LP-FT" in api and "frozen_groups" in api and "Kim" in api
    assert (site / "index.html").exists() and (site / "quickstart" / "index.html").exists()
