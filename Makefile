# The two commands a newcomer needs: `make report` (the main job) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TARGET ?= local

.PHONY: help venv report test lab bench lint lock clean-notebooks clean

help:
	@echo "make report   run every notebook headless against the embedded local AWS; HTML under outputs/"
	@echo "make test     lint, type-check and run the test suite"
	@echo "make lab      open the notebooks in JupyterLab with a local AWS running"
	@echo "make bench    print the benchmark figures"
	@echo "make lock     re-pin every dependency in constraints.txt (then make test)"
	@echo "TARGET=aws make report   the same against your AWS account (see README)"

# Every dependency is installed at the version in constraints.txt (what `make test` and CI test); `make lock`
# refreshes it.
$(STAMP): pyproject.toml constraints.txt
	@echo "setting up $(VENV) from pyproject.toml and constraints.txt (the first time takes about a minute; log: $(VENV)/install.log)"
	@$(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --upgrade pip > $(VENV)/install.log 2>&1 || { tail -40 $(VENV)/install.log; exit 1; }
	@$(PY) -m pip install -c constraints.txt -e '.[dev]' >> $(VENV)/install.log 2>&1 || { tail -40 $(VENV)/install.log; exit 1; }
	@touch $(STAMP)

venv: $(STAMP)

report: $(STAMP)
	$(PY) -m runbook_lib report --target $(TARGET)

# The CDK exports of `fix --export` are validated with the real aws-cdk-lib: synthesized in Python, type-checked in
# TypeScript (issue 11). That toolchain is large, so it lives apart from the venv, under .cdk/ (about a minute and
# 700 MB, once per version); plain `pytest` leaves those tests out (marker opt_in), `make test` runs them.
CDK_DIR := .cdk
CDK_PY_VERSION := 2.275.0
CDK_NPM := aws-cdk-lib@2.276.0 constructs@10.8.1 typescript@7.0.2
CDK_STAMP := $(CDK_DIR)/.installed-$(CDK_PY_VERSION)-$(subst @,-,$(subst $() ,_,$(CDK_NPM)))
$(CDK_STAMP):
	@echo "setting up the CDK toolchain for the export tests in $(CDK_DIR) (once; log: $(CDK_DIR)/install.log)"
	@command -v npm >/dev/null || { echo "make test needs Node.js and npm (the CDK export tests): install them"; exit 1; }
	@rm -rf $(CDK_DIR) && mkdir -p $(CDK_DIR)
	@$(PYTHON) -m venv $(CDK_DIR)/py
	@$(CDK_DIR)/py/bin/python -m pip install aws-cdk-lib==$(CDK_PY_VERSION) > $(CDK_DIR)/install.log 2>&1 || { tail -40 $(CDK_DIR)/install.log; exit 1; }
	@npm install --prefix $(CDK_DIR)/ts --no-audit --no-fund $(CDK_NPM) >> $(CDK_DIR)/install.log 2>&1 || { tail -40 $(CDK_DIR)/install.log; exit 1; }
	@touch $@

test: $(STAMP) $(CDK_STAMP)
	$(PY) -m ruff check runbook_lib tests benchmarks notebooks
	$(PY) -m mypy
	$(PY) -m runbook_lib clean-notebooks --check notebooks
	RUNBOOK_CDK_PYTHON=$(CURDIR)/$(CDK_DIR)/py/bin/python RUNBOOK_CDK_TS_DIR=$(CURDIR)/$(CDK_DIR)/ts \
		$(PY) -m pytest -m 'opt_in or not opt_in'

lab: $(STAMP)
	$(PY) -m runbook_lib lab

# Every benchmark prints its figures beside the baselines; bench fails when any misses a target.
bench: $(STAMP)
	@status=0; for b in benchmarks/bench_*.py; do $(PY) $$b || status=1; done; exit $$status

lint: $(STAMP)
	$(PY) -m ruff check runbook_lib tests benchmarks notebooks

# Re-resolve every dependency in a clean venv (newest versions pyproject.toml allows) and pin them in
# constraints.txt; then run `make test` and commit both if it passes.
LOCK_VENV := .venv-lock
lock:
	rm -rf $(LOCK_VENV)
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --upgrade pip > /dev/null
	$(LOCK_VENV)/bin/python -m pip install -e '.[dev]' > $(LOCK_VENV)/install.log 2>&1 || { tail -40 $(LOCK_VENV)/install.log; exit 1; }
	{ sed -n '1,2p' constraints.txt; $(LOCK_VENV)/bin/python -m pip freeze --exclude-editable; } > constraints.txt.new
	mv constraints.txt.new constraints.txt
	rm -rf $(LOCK_VENV)

clean-notebooks: $(STAMP)
	$(PY) -m runbook_lib clean-notebooks notebooks

clean:
	rm -rf outputs/2* outputs/latest
