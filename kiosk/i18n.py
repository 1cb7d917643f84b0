"""Languages: Flask-Babel, with the kiosk's default locale. Catalogues live in kiosk/translations.

A visitor's choice lives in the Flask session only, until the kiosk resets. SMS are built with force_locale()
in the reader's language: the host's directory language, the visitor's choice, the default for reception.

The admin area has a language of its own (ADMIN_LANGUAGES): the admin's choice from its picker
(/admin/language/<code>), under its own session key, else the browser's Accept-Language, else English. Its strings
are a second gettext domain, "admin" (kiosk/translations/<code>/LC_MESSAGES/admin.po, extracted with
babel-admin.cfg): Python marks them with admin_gettext, admin_lazy_gettext and admin_ngettext (imported as _a, _la
and _na), admin templates with _() and {% trans %}, which on admin pages read the admin catalogue over the kiosk's.
"""

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from babel.lists import format_list
from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import Babel, Domain, get_locale
from flask_wtf.i18n import translations as wtforms_translations

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

# The admin area's languages, in the order of its picker; each has an admin.po but English, the source text.
ADMIN_LANGUAGES = {code: LANGUAGES[code] for code in ("nb", "nn", "sv", "da", "fi", "en")}
ADMIN_SESSION_KEY = "admin_locale"  # apart from the kiosk's: a tablet's visitor never changes an admin's language
# Browser language tags for one of ours under another name: "no" is Norwegian without naming a written standard.
LANGUAGE_ALIASES = {"no": "nb"}
PHONE_PATH = "/p/"  # the visitor's own phone's pages (kiosk/walkin/phone_views.py)

babel = Babel()
# Admin pages: the admin catalogue merged over the kiosk's, which holds the error pages and the phone-number
# messages the admin forms show too. Later domains win where both have a string.
admin_domain = Domain(translation_directories=[str(TRANSLATIONS), str(TRANSLATIONS)], domain="messages;admin")


def init_app(app: Flask) -> None:
    if app.config["DEFAULT_LOCALE"] not in LANGUAGES:
        raise ConfigError(f"KIOSK_DEFAULT_LOCALE must be one of {', '.join(LANGUAGES)}, "
                          f"not {app.config['DEFAULT_LOCALE']!r}.")
    babel.init_app(app, locale_selector=select_locale)
    app.before_request(_choose_catalogue)
    app.jinja_env.globals.update(ui_language=ui_language, text_direction=text_direction, languages=LANGUAGES,
                                 admin_languages=ADMIN_LANGUAGES)
    app.jinja_env.filters["or_list"] = or_list


def select_locale() -> str:
    # Admin pages follow the admin; webhooks and commands have no visitor to follow. A visitor's own phone
    # (PHONE_PATH) follows the language it asks for until the visitor picks one.
    if has_request_context():
        if in_admin_area():
            return admin_locale()
        if session.get(SESSION_KEY) in LANGUAGES:
            return session[SESSION_KEY]
        if request.path.startswith(PHONE_PATH):
            return browser_language(LANGUAGES) or default_locale()
    return default_locale()


def in_admin_area() -> bool:
    return has_request_context() and request.path.startswith("/admin")


def _choose_catalogue() -> None:
    """Templates' _() and {% trans %} read the admin catalogue on admin pages, the kiosk's on every other page.
    Set on every request: a test that holds an app context open shares one `g` between its requests."""
    (admin_domain if in_admin_area() else babel.domain_instance).as_default()


def default_locale() -> str:
    """The kiosk's starting language: the current location's (kiosk/locations), else KIOSK_DEFAULT_LOCALE."""
    location = g.get("location")
    own = location.override("DEFAULT_LOCALE") if location is not None else None
    return own if own in LANGUAGES else current_app.config["DEFAULT_LOCALE"]


def choose(code: str) -> bool:
    """Show the kiosk in `code` for this session; False for a language we do not have."""
    if code not in LANGUAGES:
        return False
    session[SESSION_KEY] = code
    return True


def reset() -> None:
    """Back to the default language: a new visitor comes next."""
    session.pop(SESSION_KEY, None)


# The admin area's language


def admin_locale() -> str:
    """The language the admin chose with the picker, else the browser's best match among ours, else English."""
    chosen = session.get(ADMIN_SESSION_KEY)
    return str(chosen) if chosen in ADMIN_LANGUAGES else browser_admin_language()


def browser_admin_language() -> str:
    """The browser's most wanted language that the admin area has, else English."""
    return browser_language(ADMIN_LANGUAGES) or "en"


def browser_language(languages: Iterable[str]) -> str | None:
    """The browser's most wanted language among `languages` (Accept-Language), or None. A tag counts by its language
    ("nb-NO" is nb, "en-GB" en) and "no" is bokmål, so "no-NO,en;q=0.5" is nb: werkzeug's best_match would take the
    exact "en" over a partial match, however much less the browser wants it."""
    for tag, quality in request.accept_languages:  # most wanted first
        language = tag.lower().replace("_", "-").split("-")[0]
        language = LANGUAGE_ALIASES.get(language, language)
        if quality > 0 and language in languages:
            return language
    return None


def choose_admin_language(code: str) -> bool:
    """Show the admin area in `code` for this browser's session; False for a language it does not have."""
    if code not in ADMIN_LANGUAGES:
        return False
    session[ADMIN_SESSION_KEY] = code
    return True


def admin_gettext(string: str, **variables: Any) -> str:
    """An admin string, in the admin's language (import it as _a: `make translations` extracts it for admin.pot)."""
    return str(admin_domain.gettext(string, **variables))


def admin_ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    """admin_gettext with a plural; %(num)d is the number (import it as _na)."""
    return str(admin_domain.ngettext(singular, plural, num, **variables))


def admin_lazy_gettext(string: str, **variables: Any) -> Any:
    """admin_gettext when the string is shown, for form labels and messages built at import (import it as _la)."""
    return admin_domain.lazy_gettext(string, **variables)


class AdminFormTranslations:
    """WTForms' own messages ("Not a valid choice.") in the admin's language: the admin catalogue's translation,
    else WTForms' catalogue (it has none for Danish or Nynorsk, hence the admin catalogue's copies)."""

    def gettext(self, string: str) -> str:
        translated = str(admin_domain.get_translations().ugettext(string))
        return translated if translated != string else str(wtforms_translations.gettext(string))

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        translated = str(admin_domain.get_translations().ungettext(singular, plural, n))
        if translated not in (singular, plural):
            return translated
        return str(wtforms_translations.ngettext(singular, plural, n))


admin_form_translations = AdminFormTranslations()


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


def or_list(items: Iterable[object]) -> str:
    """"a, b or c" in the page's language (Jinja filter `or_list`)."""
    return format_list([str(item) for item in items], style="or", locale=get_locale() or "en")
