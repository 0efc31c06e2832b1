# Every target creates .venv from the pins when it is missing (or when the pins changed).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test lab lint bench

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

# make run ARGS="--refresh 03"  passes options to `python -m helpers.run` (see its --help).
run: $(STAMP)
	$(BIN)/python -m helpers.run $(ARGS)

# The second pytest replays the committed notebooks (nbval) on a fresh stack that its plugin starts
# before any kernel: session fixtures never run for nbval items.
# Two workers, a test file each at a time (module-scoped stacks are not started twice): the suite
# stays within 5 minutes on 2 cores.
test: $(STAMP)
	bash scripts/system_packages.sh
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 --dist loadfile
	$(BIN)/python -m pytest -p tests.notebooks.nbval_stack --nbval --nbval-current-env \
	  --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout 120 notebooks/

# JupyterLab prints its URL (with the login token) below; Ctrl-C stops it, the stack keeps running.
lab: $(STAMP)
	$(BIN)/python -m helpers.stack up
	@echo "Starting JupyterLab on notebooks/: open the http://127.0.0.1:.../lab?token=... URL it prints."
	JUPYTER_PREFER_ENV_PATH=1 $(BIN)/jupyter lab --notebook-dir notebooks --ip 127.0.0.1 \
	  $$(test "$$(id -u)" = 0 && echo --allow-root) $(ARGS)

# Every benchmark in full (data path, load, crash, fuzz, and the app-server/workbook ones when present);
# figures in build/bench/<name>.json, merged into build/bench/results.json.
bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py
