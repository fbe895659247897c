# Two commands for a newcomer: `make run` and `make test`. Each creates the
# virtual environment in .venv (pinned versions from constraints.txt) first.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run sandbox test lint check-types format sync migrate bench clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is needed" if sys.version_info < (3, 11) else 0)'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Run the bot (reads .env; see .env.example). No token, in a terminal: the sandbox.
run: $(STAMP)
	$(BIN)/magbot run

## Try the bot in this terminal against a local Discord (RESET=1 starts over, LOCALE=fr in French).
sandbox: $(STAMP)
	$(BIN)/magbot sandbox $(if $(RESET),--reset) $(if $(LOCALE),--locale $(LOCALE))

## Lint, format check, types, layer contracts, then every test (one worker per core,
## a test module's tests together: they share its bot process). WORKERS=1 runs them in turn.
WORKERS ?= auto
test: lint check-types
	$(BIN)/pytest --numprocesses $(WORKERS) --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

check-types: $(STAMP)
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

sync: $(STAMP)
	$(BIN)/magbot sync $(if $(GUILD),--guild $(GUILD))

migrate: $(STAMP)
	$(BIN)/magbot db upgrade

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
