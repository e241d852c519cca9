# Two commands do all the set-up on a fresh machine (see README.md):
#   make demo   creates .venv and runs `skadapt compare` on the bundled SST-2
#   make test   creates .venv and runs the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test docs venv benchmark clean

$(BIN)/.installed: pyproject.toml plugins/skadapt-bow/pyproject.toml plugins/skadapt-transformers/pyproject.toml plugins/skadapt-static/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# The CPU build of torch first: a looser requirement would pull a CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[test,dask,docs,onnx,openvino]" -e ./plugins/skadapt-bow -e ./plugins/skadapt-transformers -e ./plugins/skadapt-static
	touch $@

venv: $(BIN)/.installed

demo: venv
	$(BIN)/skadapt compare

test: venv
	SCIPY_ARRAY_API=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 $(BIN)/python -m pytest -q tests plugins/skadapt-bow/tests plugins/skadapt-transformers/tests plugins/skadapt-static/tests

docs: venv
	$(BIN)/mkdocs build --strict

benchmark: venv
	$(BIN)/python benchmarks/strategies.py

clean:
	rm -rf $(VENV) build *.egg-info
