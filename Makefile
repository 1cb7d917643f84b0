# make run: set up and start the demo on http://127.0.0.1:8000.  make test: set up and run every test.
# make test-fast: every test but the Chromium ones, on two cores. make test runs those on two cores as well, then
# the Chromium ones one at a time (their timings and the screen they share would not survive running side by side).
# make translations: extract the kiosk's strings, merge them into every catalogue, compile the .mo files.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export KIOSK_DEMO ?= 1

.PHONY: run test test-fast lint bench faults clean translations

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# The address the demo listens on (gunicorn.conf.py reads KIOSK_BIND too); the links printed follow it.
export KIOSK_BIND ?= 127.0.0.1:8000
DEMO_URL = $${KIOSK_PUBLIC_URL:-http://$(KIOSK_BIND)}

run: $(VENV)/.runtime
	$(BIN)/flask --app app demo
	@echo
	@echo "  Velkommen demo on $(DEMO_URL) - SMS are printed here, not sent."
	@echo "  Register this browser as the kiosk tablet with the link below:"
	@$(BIN)/flask --app app kiosk pair --name "Demo tablet" | sed 's/^/  /'
	@echo "  The admin area is $(DEMO_URL)/admin/ - create your account first, in another terminal:"
	@echo "    KIOSK_DEMO=1 $(BIN)/flask --app app admin create YOUR-NAME"
	@echo
	KIOSK_SMS_BACKEND=$${KIOSK_SMS_BACKEND:-console} $(BIN)/gunicorn -c gunicorn.conf.py app:app

test: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 2 -m "not browser"
	$(BIN)/python -m pytest -m browser

# Everything but the Chromium tests, on both cores: for the edit-test loop. `make test` is what CI runs.
test-fast: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 2 -m "not browser"

# The compiled .mo files are committed; tests/test_i18n.py and tests/test_admin_i18n.py fail when one is older than
# its .po. Two domains: "messages" (the kiosk, nine catalogues) and "admin" (the admin area, admin.po in nb nn sv da
# fi); `pybabel update -D admin` only touches the admin.po files that exist.
translations: $(VENV)/.runtime
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
		--add-comments=Translators: --project=Velkommen -o kiosk/translations/messages.pot .
	$(BIN)/pybabel update -i kiosk/translations/messages.pot -d kiosk/translations --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel extract -F babel-admin.cfg --no-default-keywords -k _a -k _la -k _na:1,2 --no-location \
		--sort-output --add-comments=Translators: --project=Velkommen -o kiosk/translations/admin.pot .
	$(BIN)/pybabel update -D admin -i kiosk/translations/admin.pot -d kiosk/translations --no-fuzzy-matching \
		--ignore-obsolete
	$(BIN)/pybabel compile -d kiosk/translations --statistics
	$(BIN)/pybabel compile -D admin -d kiosk/translations --statistics

bench: $(VENV)/.dev
	$(BIN)/python bench/run.py
	$(BIN)/python bench/roster.py
	$(BIN)/python bench/xlsx_import.py
	$(BIN)/python bench/scim.py
	$(BIN)/python bench/replies.py
	$(BIN)/python bench/locations.py

# About twelve minutes: six faults side by side under gunicorn, with the default SMS timings (bench/README.md).
faults: $(VENV)/.dev
	$(BIN)/python bench/faults.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
