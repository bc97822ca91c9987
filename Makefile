# make run   - set up .venv (first time only) and open the app at http://localhost:8501
# make test  - set up .venv with the test tools and run every test, browser tests included
# make bench - measure accuracy, latency, throughput, training speed and memory; writes bench/results.md
# make bench-quick - the same with small sizes (a smoke run, about half a minute); writes test-artifacts/
# make serve - run the HTTP API at http://127.0.0.1:8000 (docs at /docs)
# make bench-browser - one Chromium session draws numbers: last stroke (or Recognize) to the number on screen
# make bench-serve - the HTTP API under load (50 clients x 40 requests); writes its section of bench/results.md

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501
SERVE_PORT ?= 8000
SERVE_ARGS ?=

# A stamp named after the requirements' hash: set-up is skipped until they change.
RUN_HASH  := $(shell cat requirements.txt | sha256sum | cut -c1-16)
TEST_HASH := $(shell cat requirements.txt requirements-test.txt | sha256sum | cut -c1-16)
RUN_STAMP  := $(VENV)/.installed-run-$(RUN_HASH)
TEST_STAMP := $(VENV)/.installed-test-$(TEST_HASH)

# Tests read MNIST from the shared copy beside the project unless told otherwise.
MDR_DATA_DIR ?= ../shared/data/mnist
PYTEST_ARGS  ?=

BENCH_ARGS ?=

.PHONY: run serve test bench bench-quick bench-browser bench-serve install install-test clean

run: $(RUN_STAMP)
	$(PY) -m streamlit run Home.py --server.address 127.0.0.1 --server.port $(PORT)

serve: $(RUN_STAMP)
	$(PY) -m mdr serve --host 127.0.0.1 --port $(SERVE_PORT) $(SERVE_ARGS)

test: $(TEST_STAMP)
	MDR_DATA_DIR="$(MDR_DATA_DIR)" $(PY) -m pytest $(PYTEST_ARGS)

bench: $(TEST_STAMP)
	MDR_DATA_DIR="$(MDR_DATA_DIR)" $(PY) -m bench $(BENCH_ARGS)

bench-quick: $(TEST_STAMP)
	MDR_DATA_DIR="$(MDR_DATA_DIR)" $(PY) -m bench --quick --out test-artifacts/bench-quick.md $(BENCH_ARGS)

bench-browser: $(TEST_STAMP)
	MDR_DATA_DIR="$(MDR_DATA_DIR)" $(PY) -m bench.browser_latency $(BENCH_ARGS)

bench-serve: $(TEST_STAMP)
	MDR_DATA_DIR="$(MDR_DATA_DIR)" $(PY) -m bench.serve_load $(BENCH_ARGS)

install: $(RUN_STAMP)
install-test: $(TEST_STAMP)

$(PY):
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	rm -f $(VENV)/.installed-run-*
	touch $@

$(TEST_STAMP): requirements.txt requirements-test.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt -r requirements-test.txt
	rm -f $(VENV)/.installed-test-*
	touch $@

clean:
	rm -rf test-artifacts .pytest_cache
