# The two commands a newcomer needs: `make report` (the main job) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TARGET ?= local

.PHONY: help venv report test lab bench lint clean-notebooks clean

help:
	@echo "make report   run every notebook headless against the embedded local AWS; HTML under outputs/"
	@echo "make test     lint, type-check and run the test suite"
	@echo "make lab      open the notebooks in JupyterLab with a local AWS running"
	@echo "make bench    print the benchmark figures"
	@echo "TARGET=aws make report   the same against your AWS account (see README)"

$(STAMP): pyproject.toml
	@echo "setting up $(VENV) from pyproject.toml (the first time takes about a minute; log: $(VENV)/install.log)"
	@$(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --upgrade pip > $(VENV)/install.log 2>&1 || { tail -40 $(VENV)/install.log; exit 1; }
	@$(PY) -m pip install -e '.[dev]' >> $(VENV)/install.log 2>&1 || { tail -40 $(VENV)/install.log; exit 1; }
	@touch $(STAMP)

venv: $(STAMP)

report: $(STAMP)
	$(PY) -m runbook_lib report --target $(TARGET)

test: $(STAMP)
	$(PY) -m ruff check runbook_lib tests benchmarks notebooks
	$(PY) -m mypy
	$(PY) -m runbook_lib clean-notebooks --check notebooks
	$(PY) -m pytest

lab: $(STAMP)
	$(PY) -m runbook_lib lab

bench: $(STAMP)
	$(PY) benchmarks/bench_runbook.py
	$(PY) benchmarks/bench_model.py
	$(PY) benchmarks/bench_check.py

lint: $(STAMP)
	$(PY) -m ruff check runbook_lib tests benchmarks notebooks

clean-notebooks: $(STAMP)
	$(PY) -m runbook_lib clean-notebooks notebooks

clean:
	rm -rf outputs/2* outputs/latest
