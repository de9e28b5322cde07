# Quick start: `make run` (a three-scene story on tiny-shapes), `make demo` (the web demo) and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.t2v-installed

.PHONY: install chromium run demo demo-figures finetune test lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first and pinned: the CPU wheel here, the CUDA build on a GPU machine.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev,nlp,demo]'
	touch $(STAMP)

install: $(STAMP)

# Debian's Chromium for the browser tests (Playwright's own browser download cannot work here); quick when present.
chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

STORY := A big red ball moves right on a black background. Then it bounces. Finally the ball grows.

run: install
	$(VENV)/bin/t2v story "$(STORY)" -o outputs/story.mp4 --clips-dir outputs/clips

demo: install
	$(VENV)/bin/t2v demo

# Reward fine-tuning of tiny-shapes (README, "Reward fine-tuning"): the clips it edits, then the LoRA.
finetune: install
	$(PY) -m t2v.rewards.shapes_alignment.clips --out runs/shapes_train_clips_2000.safetensors --clips 2000
	$(VENV)/bin/accelerate launch -m t2v.rewards.train --config configs/tiny_shapes_alignment.yaml

# The README's screenshots of the web demo, made by its browser test.
demo-figures: install chromium
	OMP_NUM_THREADS=1 $(PY) tests/test_demo_browser.py --figures benchmarks/figures

test: install chromium
	# pytest exits 5 when it collects nothing; that is not a failing suite.
	$(PY) -m pytest -q; rc=$$?; if [ $$rc -eq 5 ]; then exit 0; fi; exit $$rc

lint: install
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) outputs .pytest_cache
