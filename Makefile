# make run: set up and start the demo on http://127.0.0.1:8000.  make test: set up and run every test.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export KIOSK_DEMO ?= 1

.PHONY: run test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

run: $(VENV)/.runtime
	$(BIN)/flask --app app demo
	@echo
	@echo "  Velkommen demo on http://127.0.0.1:8000 - SMS are printed here, not sent."
	@echo "  Register this browser as the kiosk tablet with the link below (valid 10 minutes):"
	@$(BIN)/flask --app app kiosk pair --name "Demo tablet" | sed 's/^/  /'
	@echo
	KIOSK_SMS_BACKEND=$${KIOSK_SMS_BACKEND:-console} $(BIN)/gunicorn -c gunicorn.conf.py app:app

test: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

bench: $(VENV)/.dev
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
