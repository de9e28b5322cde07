# Quick start: `make run` (a three-scene story on tiny-shapes) and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.t2v-installed

.PHONY: install run test lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first and pinned: the CPU wheel here, the CUDA build on a GPU machine.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev,nlp]'
	touch $(STAMP)

install: $(STAMP)

STORY := A big red ball moves right on a black background. Then it bounces. Finally the ball grows.

run: install
	$(VENV)/bin/t2v story "$(STORY)" -o outputs/story.mp4 --clips-dir outputs/clips

test: install
	# pytest exits 5 when it collects nothing; that is not a failing suite.
	$(PY) -m pytest -q; rc=$$?; if [ $$rc -eq 5 ]; then exit 0; fi; exit $$rc

lint: install
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) outputs .pytest_cache
