"""Languages: Flask-Babel, with the kiosk's default locale. Catalogues live in kiosk/translations.

A visitor's choice lives in the Flask session only, until the kiosk resets. SMS are built with force_locale()
in the reader's language: the host's directory language, the visitor's choice, the default for reception.
"""

from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import Babel, get_locale

from kiosk.config import ConfigError

if TYPE_CHECKING:  # kiosk.hosts.directory imports this module
    from kiosk.hosts.directory import Host

TRANSLATIONS = Path(__file__).parent / "translations"
# Each language by its own name, in the order of the picker. English is the source text and has no catalogue.
LANGUAGES = {
    "nb": "Norsk bokmål",
    "nn": "Nynorsk",
    "sv": "Svenska",
    "da": "Dansk",
    "fi": "Suomi",
    "en": "English",
    "de": "Deutsch",
    "pl": "Polski",
    "uk": "Українська",
    "ar": "العربية",
}
RIGHT_TO_LEFT = {"ar"}
SESSION_KEY = "locale"

babel = Babel()


def init_app(app: Flask) -> None:
    if app.config["DEFAULT_LOCALE"] not in LANGUAGES:
        raise ConfigError(f"KIOSK_DEFAULT_LOCALE must be one of {', '.join(LANGUAGES)}, "
                          f"not {app.config['DEFAULT_LOCALE']!r}.")
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals.update(ui_language=ui_language, text_direction=text_direction, languages=LANGUAGES)


def select_locale() -> str:
    # The admin area is English (it has no catalogue); webhooks and commands have no visitor to follow.
    if has_request_context():
        if request.path.startswith("/admin"):
            return "en"
        if session.get(SESSION_KEY) in LANGUAGES:
            return session[SESSION_KEY]
    return default_locale()


def default_locale() -> str:
    return current_app.config["DEFAULT_LOCALE"]


def choose(code: str) -> bool:
    """Show the kiosk in `code` for this session; False for a language we do not have."""
    if code not in LANGUAGES:
        return False
    session[SESSION_KEY] = code
    return True


def reset() -> None:
    """Back to the default language: a new visitor comes next."""
    session.pop(SESSION_KEY, None)


def host_locale(host: "Host | None") -> str:
    """The host's directory language if we have it, else the kiosk's default."""
    language = (host.language or "") if host else ""
    return language if language in LANGUAGES else default_locale()


def ui_language() -> str:
    """The language the page is really in: the locale if it has a catalogue, else the English source text."""
    locale = str(get_locale())
    return locale if (TRANSLATIONS / locale).is_dir() else "en"


def text_direction() -> str:
    return "rtl" if ui_language() in RIGHT_TO_LEFT else "ltr"
