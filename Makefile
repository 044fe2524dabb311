# The two set-up commands of the README. Each creates or reuses .venv, installs torch==2.13.0
# (the CPU wheel; an unpinned torch would pull a multi-GB CUDA build) and pricegym in editable
# mode, then runs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.pricegym-installed
DEMO_DIR ?= runs/demo

.PHONY: demo test setup lint clean

setup: $(INSTALLED)

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(INSTALLED)

demo: $(INSTALLED)
	$(BIN)/pricegym world describe --world synthetic
	$(BIN)/pricegym world sample --world synthetic --out $(DEMO_DIR)/transactions.parquet --overwrite
	$(BIN)/pricegym fit-demand --world synthetic --out $(DEMO_DIR)/demand --overwrite
	$(BIN)/pricegym fit-pricer --world synthetic --out $(DEMO_DIR)/pricer --overwrite
	$(BIN)/python -m pricegym.experiments.markdown_headroom --episodes 10 --demand-run $(DEMO_DIR)/demand
	$(BIN)/python -m pricegym.experiments.discount_headroom --episodes 10 --demand-run $(DEMO_DIR)/demand
	$(BIN)/python -m pricegym.experiments.competition_headroom --episodes 10 --demand-run $(DEMO_DIR)/demand
	$(BIN)/pricegym bench-speed --quick --demand-run $(DEMO_DIR)/demand

test: $(INSTALLED)
	$(BIN)/python -m pytest

lint: $(INSTALLED)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache
