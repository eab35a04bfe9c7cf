# Set-up, demo and tests for a fresh machine. Only `python3` (>= 3.10) is needed beforehand.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.artforge-installed
DEMO_MINUTES ?= 15

.PHONY: setup test demo bench clean

# torch is installed first and pinned, so nothing below resolves to another (multi-GB) build.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[openmoji,test]"
	touch $(STAMP)

setup: $(STAMP)

test: setup
	$(BIN)/python -m pytest

datasets/openmoji-64.zip: | setup
	$(BIN)/artforge prepare openmoji --size 64 --out $@

# The built-in default job: emoji -> a DCGAN sized to this machine and trained for DEMO_MINUTES -> samples, report.
demo: setup datasets/openmoji-64.zip
	$(BIN)/artforge train datasets/openmoji-64.zip --minutes $(DEMO_MINUTES) --out runs/demo
	$(BIN)/artforge sample runs/demo --n 64 --seed 0 --out runs/demo-samples
	$(BIN)/artforge report runs/demo
	@echo "demo done: samples in runs/demo-samples/grid.png, report in the newest runs/demo/*/report.html"

bench: setup
	$(BIN)/python benchmarks/train_throughput.py

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
