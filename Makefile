# One-command workflows. Every target sets up .venv first when needed.
# Python 3.10 to 3.13: the first of these commands that runs one (PYTHON=/path/to/python picks another).
SUPPORTED := import sys; sys.exit(not (3, 10) <= sys.version_info[:2] <= (3, 13))
ifndef PYTHON
PYTHON := $(firstword $(foreach p,python3.11 python3 python3.13 python3.12 python3.10 python,\
            $(shell $(p) -c '$(SUPPORTED)' >/dev/null 2>&1 && command -v $(p))))
endif
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Tests and CI read the Shakespeare corpus from the shared mirror beside the checkout.
export RNNLAB_DATA_MIRROR ?= $(abspath ../shared/data)

SUBMISSION ?=
STUDENT    ?=
OUT        ?= grading

.PHONY: setup lab test release check grade bench clean

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -n "$(PYTHON)" || { echo "make setup: no Python 3.10 to 3.13 found (set PYTHON=/path/to/python3)"; exit 1; }
	@$(PYTHON) -c '$(SUPPORTED)' || { echo "make setup: $(PYTHON) is not Python 3.10 to 3.13"; exit 1; }
	@echo "make setup: using $$($(PYTHON) -c 'import sys; print("Python", sys.version.split()[0], "at", sys.executable)')"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

lab: setup
	$(BIN)/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

test: setup
	$(BIN)/python -m pytest

release: setup
	$(BIN)/rnngrade release

check: setup
	$(BIN)/rnngrade check

grade: setup
	@test -n "$(SUBMISSION)" || (echo "usage: make grade SUBMISSION=path/to/folder-or.zip [STUDENT=id] [OUT=dir]"; exit 2)
	$(BIN)/rnngrade grade "$(SUBMISSION)" $(if $(STUDENT),--student "$(STUDENT)") --out "$(OUT)"

bench: setup
	$(BIN)/python bench/run_bench.py

clean:
	rm -rf $(VENV) data/cache grading
