# Article Assistant: `make run` starts the web chat, `make test` runs the tests.
# Both set up what they need on first use (a venv in .venv); later runs skip it via stamp files.
# `run` installs only what the assistant needs (about 1.5 min); `test` adds the dev extra, whose
# llama-cpp-python compiles from source once (~8.5 min on 2 cores; pip caches the built wheel).

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.setup-done
DEV_STAMP := $(VENV)/.setup-dev-done
# The CPU build of torch lies on disk here; an unpinned torch would pull a multi-GB CUDA build.
TORCH := torch==2.13.0
PYTEST_ARGS ?=

# Offline by default: no model hub, no Gradio / Chroma telemetry (the code sets the same defaults).
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False
export ORT_DISABLE_TELEMETRY := 1

.PHONY: help run test setup browser index clean distclean

help:
	@echo "make run        set up if needed, then start the web chat on http://127.0.0.1:7860"
	@echo "make test       set up if needed, then run the test suite (PYTEST_ARGS='-k cli' to narrow it)"
	@echo "make setup      create .venv and install the project with its dev extra (tests, LLM backends)"
	@echo "make index      sync corpus/ into the index"
	@echo "make clean      remove the index and caches (keeps .venv); make distclean also removes .venv"

# The demo opens on the shipped article, whatever is uploaded next to it.
run: $(STAMP)
	ASSISTANT_DEFAULT_ARTICLE=$${ASSISTANT_DEFAULT_ARTICLE:-ketamine-opioid} $(BIN)/assistant serve

test: setup
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

index: $(STAMP)
	$(BIN)/assistant index

setup: $(DEV_STAMP) browser

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || \
		echo "warning: $(PYTHON) is not Python 3.11; the local CPU torch wheel is for 3.11 (try: make setup PYTHON=python3.11)" >&2
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@# The pip bundled with Python 3.11 (23.2) drops extras spelled with '_' (justext needs
	@# lxml[html_clean]), which leaves trafilatura unable to read HTML; a current pip resolves them.
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24.3"
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(DEV_STAMP): $(STAMP)
	@# The dev extra includes llama-cpp-python (the llama.cpp server tests), which compiles from source on a
	@# fresh machine; pip keeps the built wheel in its cache, so later set-ups reuse it.
	@$(BIN)/python -c "import llama_cpp" 2>/dev/null || \
		echo "setup: installing the dev extra; llama-cpp-python compiles from source unless pip has it cached (~8-9 min on 2 cores)"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

# Debian's Chromium, for the browser tests (Playwright drives /usr/bin/chromium; never `playwright install`),
# and strace, which watches the server's every connect() over a whole visit (tests/test_server_security.py).
browser:
	@if [ ! -x /usr/bin/chromium ] || ! command -v strace >/dev/null; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing Debian chromium and strace for the browser and network tests"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium strace; \
		else \
			echo "note: chromium or strace is missing and we are not root; the tests needing them will be skipped" >&2; \
		fi; \
	fi

clean:
	rm -rf .assistant-index .pytest_cache build *.egg-info
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -print0 | xargs -0 rm -rf

distclean: clean
	rm -rf $(VENV)
