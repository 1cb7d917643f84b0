"""Languages: Flask-Babel, with the kiosk's default locale. Catalogues live in kiosk/translations."""

from pathlib import Path

from flask import current_app
from flask_babel import Babel, get_locale

TRANSLATIONS = Path(__file__).parent / "translations"

babel = Babel()


def init_app(app):
    babel.init_app(app, locale_selector=lambda: current_app.config["DEFAULT_LOCALE"])
    app.jinja_env.globals["ui_language"] = ui_language


def ui_language():
    """The language the page is really in: the locale if it has a catalogue, else the English source text."""
    locale = str(get_locale())
    return locale if (TRANSLATIONS / locale).is_dir() else "en"
