# Everything runs from a local virtual environment that `make setup` creates.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: setup run test test-slow test-notebooks test-gpu bench lint lab clean demo

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,bench,notebooks,sweep]'
	touch $(STAMP)

run: setup            ## reproduce the paper's figures at quick scale into figures/
	$(VENV)/bin/lasandbox reproduce --quick

demo: setup           ## LookAhead vs SGD/Adam on digits
	$(VENV)/bin/lasandbox demo

test: setup           ## the default test run (CPU; CUDA backend under the simulator)
	$(PY) -m pytest

test-slow: setup      ## the slow lane
	$(PY) -m pytest -m slow

test-notebooks: setup ## execute every notebook top to bottom
	$(PY) -m pytest -m notebooks -s

test-gpu: setup       ## only on a machine with an NVIDIA GPU
	$(PY) -m pytest -m gpu

bench: setup          ## kernel benchmark at full size (prints ratios, writes figures/kernels.*)
	$(VENV)/bin/lasandbox bench kernels

lint: setup
	$(VENV)/bin/ruff check .

lab: setup            ## JupyterLab on the notebooks (pairs notebooks/*.py with .ipynb files git ignores)
	$(VENV)/bin/jupytext --sync notebooks/[0-9]*.py
	$(VENV)/bin/jupyter lab notebooks/

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
