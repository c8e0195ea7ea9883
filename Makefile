# One-command workflows. Every target sets up .venv first when needed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
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
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required (set PYTHON=/path/to/python3.11)"'
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
