# make run: set up .venv with what running needs and start the app (PORT=8502 make run for another port).
# make test: also install the test tools, and run the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
STAMP := $(VENV)/.installed
PORT ?= 8501
PROCESSES ?= 2
PROXY_PORT ?= 8080

.PHONY: run serve test lint typecheck bench bench-load validate clean

# What running the app needs: the package and its runtime dependencies only.
$(RUN_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $(RUN_STAMP)

# Everything else (tests, lint, type checks, benches): the runtime plus the test extra.
$(STAMP): $(RUN_STAMP)
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

run: $(RUN_STAMP)
	$(BIN)/streamlit run dashboard/app.py --server.port $(PORT)

# A room on one machine: PROCESSES app processes behind nginx on PROXY_PORT (deploy/README.md).
serve: $(STAMP)
	$(BIN)/python deploy/serve.py --processes $(PROCESSES) --port $(PROXY_PORT) --first-port $(PORT)

test: $(STAMP)
	$(BIN)/python -m logic validate cases
	$(BIN)/python -m logic claims --failed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy logic dashboard
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(STAMP)
	$(BIN)/mypy logic dashboard

validate: $(STAMP)
	$(BIN)/python -m logic validate cases

bench: $(STAMP)
	$(BIN)/python bench/bench_core.py
	$(BIN)/python bench/bench_pages.py
	$(BIN)/python bench/bench_library.py
	$(BIN)/python bench/bench_analytics.py
	$(BIN)/python bench/bench_author.py
	$(BIN)/python bench/bench_live.py --idle 100

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
