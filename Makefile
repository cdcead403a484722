# rccdash: the two commands a newcomer needs are `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test lint format bench faults fuzz docs screenshots install browser-deps clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "rccdash needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

install: $(STAMP)  ## create .venv and install rccdash with its test tools

demo: $(STAMP)  ## generate + load the synthetic county, then serve the dashboard
	$(BIN)/rccdash demo

browser-deps:  ## Debian's chromium and CJK fonts for the browser tests, when missing
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then \
		echo "installing chromium and fonts-noto-cjk for the browser tests"; \
		export DEBIAN_FRONTEND=noninteractive; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk >/dev/null; \
	fi

test: $(STAMP) browser-deps  ## the whole suite, browser tests included
	GX_ANALYTICS_ENABLED=false $(BIN)/pytest -n 2 --dist loadgroup

lint: $(STAMP)  ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)  ## speed and memory benchmarks (writes bench/results/)
	$(BIN)/python bench/run.py

faults: $(STAMP)  ## kill loads and publications at random moments; the warehouse stays whole
	$(BIN)/python bench/faults.py

fuzz: $(STAMP)  ## 10,000 hostile files (broken, mis-encoded, bombs): each loads or is rejected cleanly
	$(BIN)/python bench/fuzz.py --cases 10000

docs: $(STAMP)  ## regenerate docs/schema.md from the schema
	$(BIN)/rccdash schema --doc docs/schema.md

screenshots: $(STAMP)  ## the user guide's pictures: every page of the demo county in Chromium
	@test -f data/warehouse.duckdb || $(BIN)/rccdash demo --no-serve
	$(BIN)/python docs/screenshots.py

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache
