# Speech emotion recognition on RAVDESS: `make` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
KERNEL := ser

# Run parameters (see README): QUICK=1 for a minutes-long run, EPOCHS/SEED override,
# FRESH=1 re-runs every notebook and ignores the training cache (trains everything).
QUICK ?= 0
EPOCHS ?=
SEED ?= 42
FRESH ?= 0
export SER_FRESH := $(FRESH)
ifeq ($(FRESH),1)
FORCE := FORCE
endif
# Where a run writes models/, figures/ and reports/. The committed full run is
# at the top level; CI and tests point OUT at a temporary folder.
OUT ?= .
export SER_OUTPUT_DIR := $(abspath $(OUT))
REPORTS := $(OUT)/reports

NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
NAMES := $(notdir $(NOTEBOOKS:.ipynb=))
EXECUTED := $(NAMES:%=$(REPORTS)/%.ipynb)
PAGES := $(NAMES:%=$(REPORTS)/%.html) $(NAMES:%=$(REPORTS)/%.code.html)
NB_PARAMS := seed=$(SEED) quick=$(QUICK) epochs=$(EPOCHS)
PKG := src/ser

.PHONY: help setup data features train evaluate report demo test check lab lint clean FORCE

help: ## List the targets
	@echo "Usage: make TARGET [QUICK=1] [FRESH=1] [EPOCHS=n] [SEED=n] [RAVDESS_DIR=path] [OUT=dir]"
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -c requirements.lock -e '.[dev,demo]'
	$(PY) -c "from ser.reporting.notebooks import install_kernel; print('kernel:', install_kernel('$(KERNEL)'))"
	touch $@

setup: $(STAMP) ## Create .venv with the pinned packages, the package (editable) and the Jupyter kernel

data: $(STAMP) ## Use RAVDESS_DIR if set, or download and verify the RAVDESS archive into data/raw/
	$(PY) -m ser data

# Executed notebooks: papermill runs each source with the run's parameters.
$(REPORTS)/%.ipynb: notebooks/%.ipynb requirements.lock $(FORCE) | $(STAMP)
	$(PY) -m ser.reporting.notebooks $< $@ $(NB_PARAMS)

# Two HTML pages per notebook, rendered in one process: for readers (no code) and with code.
$(REPORTS)/%.html $(REPORTS)/%.code.html: $(REPORTS)/%.ipynb $(PKG)/reporting/pages.py
	$(PY) -m ser.reporting.pages $<

# What each notebook's outputs depend on (the DAG): a change re-runs exactly the
# notebooks that show it. The package's subpackages are the pipeline's stages, so
# a notebook depends on the stages it calls. Notebook 03 reads the feature cache,
# not notebook 02's output, so 02 is an order-only prerequisite (it runs first, its
# re-run retrains nothing); within 03, only the trainings whose cache key changed
# run again. Notebooks 04 and 05 read what 03 writes (models/ and its runs), through
# a digest that changes only when those files' contents do: re-running 03 for a
# markdown edit re-runs neither.
stage = $(wildcard $(addprefix $(PKG)/,$(addsuffix /*.py,$(1))))
FOUNDATION := $(addprefix $(PKG)/,__init__.py config.py environment.py scoring.py)
RUNNER := $(FOUNDATION) $(PKG)/reporting/notebooks.py $(call stage,data)
PLOTS := $(PKG)/reporting/plots.py
TEMPLATES := $(PKG)/reporting/templating.py $(wildcard $(PKG)/reporting/templates/*)
TRAINED := $(REPORTS)/03_training.outputs
$(REPORTS)/01_data_exploration.ipynb: $(RUNNER) $(PLOTS)
$(REPORTS)/02_feature_extraction.ipynb: $(RUNNER) $(call stage,models features) $(PLOTS)
$(REPORTS)/03_training.ipynb: $(RUNNER) $(call stage,models features inference training) $(PLOTS) \
  | $(REPORTS)/02_feature_extraction.ipynb
$(TRAINED): $(REPORTS)/03_training.ipynb
	$(PY) -m ser.reporting.outputs $(OUT)/models $@
$(REPORTS)/04_evaluation.ipynb: $(TRAINED) $(RUNNER) \
  $(call stage,models features inference training evaluation) \
  $(filter-out $(PKG)/reporting/index_page.py $(PKG)/reporting/pages.py,$(call stage,reporting)) $(TEMPLATES)
$(REPORTS)/05_demo.ipynb: $(TRAINED) $(RUNNER) $(call stage,models features inference app) $(PLOTS) \
  $(TEMPLATES)
$(REPORTS)/06_your_own_data.ipynb: $(RUNNER) $(call stage,models features inference training) $(PLOTS)

features: $(REPORTS)/02_feature_extraction.html ## Extract (or load cached) MFCC, log-mel and eGeMAPS features: notebook 02
train: $(REPORTS)/03_training.html ## Train (or reuse from the training cache) the BiLSTM, the CNN and the encoder heads, choose on validation actors, ship: notebook 03

evaluate: $(REPORTS)/04_evaluation.html ## Evaluate, write reports/metrics.json and the model card: notebook 04

# The front page: headline numbers from metrics.json, timings from the executed notebooks.
$(REPORTS)/index.html: $(EXECUTED) $(TEMPLATES) $(FOUNDATION) $(PKG)/reporting/index_page.py \
  $(call stage,evaluation) $(PKG)/training/plan.py $(PKG)/training/training_cache.py
	$(PY) -m ser.reporting.index_page $(REPORTS)

report: $(PAGES) $(REPORTS)/index.html ## Execute every notebook and render the HTML report (reports/index.html)

DEMO_PORT ?= 8866
# Kernels of the app page: visitors at once (about 300 MB each), and seconds after
# which a kernel whose page is gone, or an idle one, is shut down.
DEMO_MAX_USERS ?= 4
DEMO_ORPHAN_TIMEOUT ?= 60
DEMO_IDLE_TIMEOUT ?= 600
# MODEL=dir serves another model folder (one written by `python -m ser train`).
MODEL ?=
demo: $(STAMP) ## Serve the demo app (upload, record, timeline) at http://127.0.0.1:8866 [MODEL=dir]
	$(PY) -m ser.app --port=$(DEMO_PORT) --max-users=$(DEMO_MAX_USERS) \
	  --orphan-timeout=$(DEMO_ORPHAN_TIMEOUT) --idle-timeout=$(DEMO_IDLE_TIMEOUT) \
	  $(if $(MODEL),--model=$(MODEL))

test: $(STAMP) ## Run the whole test suite (needs RAVDESS_DIR for the notebook tests)
	$(PY) -m pytest

check: lint ## The fast loop: lint, then the tests not marked slow, on both cores
	$(PY) -m pytest -m "not slow" -q -n 2

lab: $(STAMP) ## Open JupyterLab with the project kernel
	$(PY) -m jupyter lab notebooks/

lint: $(STAMP) ## Check style with ruff
	$(PY) -m ruff check src tests bench
	$(PY) -m ruff format --check src tests bench

clean: ## Remove executed notebooks and HTML of this OUT, caches (keeps .venv, data, the training cache and models)
	rm -f $(EXECUTED) $(PAGES) $(TRAINED) $(REPORTS)/*.partial.ipynb $(REPORTS)/*.failed.ipynb
	rm -rf .pytest_cache .ruff_cache
	find . -name __pycache__ -not -path './.venv/*' -prune -exec rm -rf {} +

FORCE:
