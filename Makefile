# 「PyTorchで学ぶ行列因子分解 / Matrix Factorization with PyTorch」
#   make lab    -- set up .venv, then open JupyterLab on your own copy of the series
#   make test   -- set up .venv, then run every test and re-check every notebook (nbval)
#   make html   -- the offline HTML book in build/html (open build/html/index.html)
#   make e2e    -- browser tests: JupyterLab runs every notebook, the book offline (needs apt)
# Other targets: make notebooks | make lint | make nav | make lab-reset | make clean
#   make bench  -- speed/accuracy tables on 100k-/1M-like data, ratings and implicit feedback (make bench-large:
#                  25M-like; bench-memory: memory of ALS and top-N at 25M-like; bench-neural: 16's search); see benchmarks/

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
WORK := my-notebooks
# Optional: a package index for the CPU-only PyTorch build, e.g.
#   make lab TORCH_INDEX=https://download.pytorch.org/whl/cpu
TORCH_INDEX ?=
# Optional: extra arguments for JupyterLab, e.g. LAB_ARGS="--no-browser --port 8890"
LAB_ARGS ?=
# Jupyter refuses to run as root (common in containers) unless told explicitly.
ROOT_ARG := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root)

.PHONY: help setup lab lab-reset test notebooks nav lint clean bench bench-large bench-memory bench-neural html e2e e2e-deps

help:
	@sed -n '1,8p' Makefile

setup: $(STAMP)

# The stamp is older than requirements.txt or pyproject.toml => the venv is stale: reinstall.
$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0) if sys.version_info >= (3, 11) else sys.exit("Python 3.11 以上が必要です（見つかったのは " + sys.version.split()[0] + "）。例: make PYTHON=python3.11 ...\nPython 3.11 or newer is required (found " + sys.version.split()[0] + "). Example: make PYTHON=python3.11 ...")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(if $(TORCH_INDEX),$(BIN)/python -m pip install "$$(grep -E '^torch==' requirements.txt)" --index-url $(TORCH_INDEX))
	$(BIN)/python -m pip install -r requirements.txt
	$(BIN)/python -m pip install --no-deps -e .
	@# Build matplotlib's font cache now: on first use it prints a notice to stderr,
	@# which would otherwise land in a notebook's output and fail the strict check.
	MPLBACKEND=Agg $(BIN)/python -c "import matplotlib.pyplot, matplotlib_fontja"
	@touch $(STAMP)

lab: $(STAMP)
	@$(BIN)/python -m tools.workcopy notebooks $(WORK)
	@echo "JupyterLab を 127.0.0.1 で起動します。ログに出る http://127.0.0.1:...?token=... の URL を開いてください（終了は Ctrl-C）。"
	@echo "Starting JupyterLab on 127.0.0.1. Open the http://127.0.0.1:...?token=... URL printed below (stop with Ctrl-C)."
	$(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.root_dir=$(WORK) \
		--LabApp.default_url=/lab/tree/00_index.ipynb $(ROOT_ARG) $(LAB_ARGS)

# Keep the old copy (renamed with a timestamp) and make a fresh one from notebooks/.
lab-reset: $(STAMP)
	@if [ -d $(WORK) ]; then mv $(WORK) $(WORK).bak-$$(date +%Y%m%d-%H%M%S); fi
	@$(BIN)/python -m tools.workcopy notebooks $(WORK)

# Two processes (TEST_WORKERS=1 for one): --dist loadscope keeps each notebook's cells, which share a
# kernel, in the same process and order.
TEST_WORKERS ?= 2

test: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadscope --nbval --nbval-current-env

# Regenerate navigation and contents, then re-execute every notebook (and worked solutions) in place.
notebooks: $(STAMP)
	$(BIN)/python -m tools.series
	$(BIN)/python -m tools.execute
	$(BIN)/python -m tools.execute solutions/*.ipynb

nav: $(STAMP)
	$(BIN)/python -m tools.series

lint: $(STAMP)
	$(BIN)/ruff check helpers tests tools benchmarks notebooks solutions

# Benchmarks: peers and numba come from requirements-bench.txt, installed on top of the series' venv.
BENCH_STAMP := $(VENV)/.bench-installed
# glibc malloc: keep freed memory for reuse instead of unmapping it (benchmarks/README.md measures why).
# Read at process start only, so set here; the runner sets the same for its workers.
BENCH_ENV := MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=1099511627776
# Optional: extra arguments for the runner, e.g. BENCH_ARGS="--threads 2 --json build/bench/out.json"
BENCH_ARGS ?=

# LIBMF (PyPI libmf, source only) is compiled here with SSE and OpenMP: its setup.py reads CXXFLAGS, not
# CFLAGS, and a wheel cached from a plain build would be reused silently, hence --no-cache-dir. The flags
# are written next to the stamp, and the peer table prints which build ran.
LIBMF_CXXFLAGS := -O3 -DUSESSE -DUSEOMP -fopenmp -march=native
$(BENCH_STAMP): $(STAMP) requirements-bench.txt
	$(BIN)/python -m pip install -r requirements-bench.txt
	CXXFLAGS="$(LIBMF_CXXFLAGS)" LDFLAGS=-fopenmp $(BIN)/python -m pip install --no-cache-dir --no-deps \
		--force-reinstall --no-binary libmf libmf==0.9.2
	@echo "CXXFLAGS=$(LIBMF_CXXFLAGS) LDFLAGS=-fopenmp" > $(VENV)/.libmf-build
	@touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BENCH_ENV) $(BIN)/python -m benchmarks.run $(BENCH_ARGS)

bench-large: $(BENCH_STAMP)
	$(BENCH_ENV) $(BIN)/python -m benchmarks.run --large $(BENCH_ARGS)

# The dot product, NeuMF and MLP of notebook 16, each tuned by 15's TPE search at one budget (a few minutes);
# writes the JSON that notebook 16 prints.
bench-neural: $(STAMP)
	$(BIN)/python -m benchmarks.neural_search --json benchmarks/results/neural_search.json $(BENCH_ARGS)

# Peak memory of one ALS sweep and of top-N for every user at the 25M-like shape (needs only the series' venv).
bench-memory: $(STAMP)
	$(BIN)/python -m benchmarks.memory_25m $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build .pytest_cache .ruff_cache .hypothesis

# The offline book: executed notebooks and solutions as pages, MathJax copied from a PyPI package.
# `make html` always rebuilds; `make e2e` rebuilds only when a source is newer than the book.
BOOK_SOURCES := $(wildcard notebooks/*.ipynb solutions/*.ipynb tools/book.py tools/templates/book/*) \
	README.md docs/teaching.md benchmarks/README.md

html: $(STAMP)
	$(BIN)/python -m tools.book build/html

build/html/book.json: $(STAMP) $(BOOK_SOURCES)
	$(BIN)/python -m tools.book build/html

# Browser tests. Debian's chromium and Japanese fonts come from apt when missing (root, or sudo);
# Playwright drives that chromium and never downloads a browser of its own.
E2E_STAMP := $(VENV)/.e2e-installed
E2E_DEBS := chromium fonts-noto-cjk

$(E2E_STAMP): $(STAMP) requirements-e2e.txt
	$(BIN)/python -m pip install -r requirements-e2e.txt
	@touch $(E2E_STAMP)

e2e-deps:
	@missing=$$(for p in $(E2E_DEBS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "apt で入れます / installing with apt: $$missing"; \
		sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$sudo apt-get update -qq && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

e2e: build/html/book.json e2e-deps $(E2E_STAMP)
	$(BIN)/python -m pytest --e2e tests/e2e -v
