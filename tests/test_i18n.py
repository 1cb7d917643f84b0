"""Languages: complete catalogues, the language picker, the reset to the default, and SMS in the reader's language."""

import re
from gettext import c2py
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from kiosk.config import ConfigError
from kiosk.db import get_db
from kiosk.i18n import LANGUAGES, RIGHT_TO_LEFT, TRANSLATIONS
from kiosk.settings import save_settings
from tests.helpers import create_host, get_page, pair_tablet, post_check_in

ROOT = Path(__file__).parent.parent
TRANSLATED = [code for code in LANGUAGES if code != "en"]  # English is the source text
PLURALS = {"pl": 3, "uk": 3, "ar": 6}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]")
HOST = "+4741234567"
VISITOR = "+4741234999"
RECEPTION = "+4741000000"


def source_messages():
    """Every string the kiosk shows, extracted from the source now, as `make translations` does."""
    with open(ROOT / "babel.cfg") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
    return {message[2] for message in extract_from_dir(str(ROOT), method_map, options_map, keywords=keywords)}


def msgid_key(msgid):
    return msgid if isinstance(msgid, str) else tuple(msgid)


@pytest.fixture(scope="module")
def extracted():
    return {msgid_key(m) for m in source_messages()}


def catalogue(code):
    with open(TRANSLATIONS / code / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=code)


def forms(message):
    return list(message.string) if message.pluralizable else [message.string]


# The catalogues


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_string_in_the_source_is_translated(code, extracted):
    messages = {msgid_key(m.id): m for m in catalogue(code) if m.id}
    missing = sorted(str(i) for i in extracted if i not in messages or not all(forms(messages[i])))
    fuzzy = sorted(str(i) for i in extracted if i in messages and messages[i].fuzzy)
    assert not missing, f"untranslated in {code} (run `make translations`, then translate): {missing}"
    assert not fuzzy, f"fuzzy in {code}: {fuzzy}"


def test_the_message_template_matches_the_source(extracted):
    with open(TRANSLATIONS / "messages.pot", "rb") as f:
        template = {msgid_key(m.id) for m in read_po(f) if m.id}
    assert template == extracted, "kiosk/translations/messages.pot is stale: run `make translations`"


@pytest.mark.parametrize("code", TRANSLATED)
def test_no_sentence_is_left_in_english(code):
    # Single words may be the same ("Start", "E-mail"); a sentence copied from the msgid is a missed translation.
    for message in catalogue(code):
        if message.id and not message.pluralizable and " " in message.id:
            assert message.string != message.id, (code, message.id)


@pytest.mark.parametrize("code", TRANSLATED)
def test_translations_keep_the_placeholders(code):
    for message in catalogue(code):
        if not message.id or not message.string:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        expected = set().union(*(PLACEHOLDER.findall(i) for i in ids))
        for form in forms(message):
            found = set(PLACEHOLDER.findall(form))
            # A plural form may spell its number out ("one person", "two people") instead of using %(num)d.
            assert found <= expected and expected - found <= {"num"}, (code, message.id, form)


@pytest.mark.parametrize("code", TRANSLATED)
def test_plural_forms_fit_the_language(code):
    cat = catalogue(code)
    assert cat.num_plurals == PLURALS.get(code, 2)
    for message in cat:
        if message.id and message.pluralizable:
            assert len(message.string) == cat.num_plurals, (code, message.id)


@pytest.mark.parametrize("n, form", [(1, 0), (2, 1), (4, 1), (5, 2), (12, 2), (22, 1), (25, 2), (101, 2)])
def test_polish_plural_rule_picks_the_right_form(n, form):
    assert c2py(catalogue("pl").plural_expr)(n) == form


@pytest.mark.parametrize("n, form", [(0, 0), (1, 1), (2, 2), (3, 3), (10, 3), (11, 4), (99, 4), (100, 5), (103, 3)])
def test_arabic_plural_rule_picks_the_right_form(n, form):
    assert c2py(catalogue("ar").plural_expr)(n) == form


@pytest.mark.parametrize("code", TRANSLATED)
def test_compiled_catalogues_match_the_po_files(code):
    with open(TRANSLATIONS / code / "LC_MESSAGES" / "messages.mo", "rb") as f:
        compiled = {msgid_key(m.id): tuple(forms(m)) for m in read_mo(f) if m.id}
    written = {msgid_key(m.id): tuple(forms(m)) for m in catalogue(code) if m.id and m.string and not m.fuzzy}
    assert compiled == written, f"{code}/LC_MESSAGES/messages.mo is out of date: run `make translations`"


# The language picker


@pytest.fixture
def nb_app(make_app):
    """An app that starts in Norwegian Bokmål, the kiosk's real default."""
    return make_app(DEFAULT_LOCALE="nb")


@pytest.fixture
def nb_client(nb_app):
    """A paired kiosk tablet on the Bokmål app."""
    client = nb_app.test_client()
    pair_tablet(nb_app, client)
    return client


def html(page):
    return page.select_one("html")


def test_the_kiosk_starts_in_bokmaal(nb_client):
    page = get_page(nb_client, "/kiosk/")
    assert (html(page)["lang"], html(page)["dir"]) == ("nb", "ltr")
    assert page.select_one("a.button[href='/kiosk/checkin']").text.strip() == "Sjekk inn"


def test_the_picker_lists_each_language_by_its_own_name(nb_client):
    links = get_page(nb_client, "/kiosk/").select("nav.languages a")
    assert [a.text.strip() for a in links] == [
        "Norsk bokmål", "Nynorsk", "Svenska", "Dansk", "Suomi", "English", "Deutsch", "Polski", "Українська", "العربية"]
    assert [a["lang"] for a in links] == list(LANGUAGES)
    assert links[0]["href"] == "/kiosk/language/nb?next=/kiosk/"
    assert [a.text.strip() for a in links if a.get("aria-current")] == ["Norsk bokmål"]


@pytest.mark.parametrize("url, status", [("/kiosk/", 200), ("/kiosk/checkin", 200), ("/kiosk/no-such-page", 404)])
def test_the_picker_is_on_every_kiosk_screen(nb_client, url, status):
    assert len(get_page(nb_client, url, status).select("nav.languages a")) == len(LANGUAGES)


def test_an_unpaired_tablet_can_change_language_too(nb_app):
    client = nb_app.test_client()
    assert client.get("/kiosk/language/en?next=/kiosk/").status_code == 302
    page = get_page(client, "/kiosk/", status=403)
    assert html(page)["lang"] == "en"
    assert page.select_one("h1").text.strip() == "This tablet is not registered"


@pytest.mark.parametrize("code", TRANSLATED + ["en"])
def test_choosing_a_language_sets_html_lang_and_direction(nb_client, code):
    response = nb_client.get(f"/kiosk/language/{code}?next=/kiosk/checkin")
    assert (response.status_code, response.headers["Location"]) == (302, "/kiosk/checkin")
    page = get_page(nb_client, "/kiosk/checkin")
    assert html(page)["lang"] == code
    assert html(page)["dir"] == ("rtl" if code in RIGHT_TO_LEFT else "ltr")
    current = page.select_one("nav.languages a[aria-current]")
    assert current["lang"] == code


def test_the_welcome_screen_shows_the_welcome_text_of_the_visitors_language(nb_app, nb_client):
    with nb_app.app_context():
        save_settings(get_db(), {"WELCOME_TEXT": "Ta gjerne en kaffe.", "WELCOME_TEXT_EN": "Have a coffee."})

    def welcome_text():
        return [(p.text, p.get("lang")) for p in get_page(nb_client, "/kiosk/").select("p.lead")][:-1]

    assert welcome_text() == [("Ta gjerne en kaffe.", None)]
    nb_client.get("/kiosk/language/en")
    assert welcome_text() == [("Have a coffee.", None)]
    nb_client.get("/kiosk/language/sv")
    assert welcome_text() == [("Ta gjerne en kaffe.", "nb")]  # no Swedish text: the default language's
    with nb_app.app_context():
        save_settings(get_db(), {"WELCOME_TEXT": None})
    assert welcome_text() == []


def test_arabic_is_right_to_left_and_in_arabic(nb_client):
    nb_client.get("/kiosk/language/ar")
    page = get_page(nb_client, "/kiosk/checkin")
    assert (html(page)["lang"], html(page)["dir"]) == ("ar", "rtl")
    assert page.select_one("h1").text.strip() == "تسجيل الحضور"


def test_form_errors_are_in_the_visitors_language(nb_client):
    nb_client.get("/kiosk/language/sv")
    response = post_check_in(nb_client, name="", phone="12")
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "Ange ditt för- och efternamn." in text
    assert "Numret är för kort." in text


def test_an_unknown_language_is_not_found_and_changes_nothing(nb_client):
    assert nb_client.get("/kiosk/language/xx?next=/kiosk/").status_code == 404
    assert html(get_page(nb_client, "/kiosk/"))["lang"] == "nb"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x",
                                    "kiosk/", ""])
def test_the_picker_never_sends_the_tablet_off_site(nb_client, target):
    response = nb_client.get("/kiosk/language/de", query_string={"next": target})
    assert response.headers["Location"] == "/kiosk/"


def test_admin_pages_follow_the_admin_language_not_the_kiosks(nb_client):
    # The admin area has its own language (tests/test_admin_i18n.py): the browser's, else English, or the admin's
    # choice; never the kiosk's default or the language a visitor chose on the tablet.
    nb_client.get("/kiosk/language/de")
    assert html(get_page(nb_client, "/admin/login"))["lang"] == "en"
    nb_client.get("/admin/language/nn?next=/admin/login")
    page = get_page(nb_client, "/admin/no-such-page", status=404)
    assert html(page)["lang"] == "nn"
    assert not page.select("nav.languages")
    assert html(get_page(nb_client, "/kiosk/"))["lang"] == "de"


# Back to the default language when the kiosk resets


def test_the_idle_timer_returns_to_the_default_language(nb_client):
    nb_client.get("/kiosk/language/en")
    page = get_page(nb_client, "/kiosk/checkin")
    assert html(page)["lang"] == "en"
    idle_url = page.select_one("#checkin-form")["data-idle-url"]
    assert idle_url == "/kiosk/?reset=1"
    response = nb_client.get(idle_url)
    assert response.headers["Location"] == "/kiosk/"
    assert html(get_page(nb_client, "/kiosk/"))["lang"] == "nb"


def status_page_after_check_in(app, client, language):
    """Check in for a new host on the tablet switched to `language`; returns the status page it leads to."""
    host = add_host(app)
    client.get(f"/kiosk/language/{language}")
    response = post_check_in(client, host_id=host.id)
    return get_page(client, response.headers["Location"])


def test_the_status_screen_returns_to_the_default_language(nb_app, nb_client):
    status_page = status_page_after_check_in(nb_app, nb_client, "pl")
    assert html(status_page)["lang"] == "pl"
    box = status_page.select_one("#visit-status")
    assert box["data-home-url"] == "/kiosk/?reset=1"
    assert box.select_one("a.button")["href"] == "/kiosk/?reset=1"
    nb_client.get(box["data-home-url"])
    assert html(get_page(nb_client, "/kiosk/"))["lang"] == "nb"
    nb_app.extensions["dispatcher"].drain(timeout=10)


def test_a_welcome_screen_left_in_another_language_resets_itself(nb_client):
    assert not get_page(nb_client, "/kiosk/").select("#welcome-reset")
    nb_client.get("/kiosk/language/fi")
    page = get_page(nb_client, "/kiosk/")
    assert not page.select("meta[http-equiv=refresh]")  # axe: a timed refresh cannot be extended by the visitor
    reset = page.select_one("script#welcome-reset")
    assert reset["data-idle-url"] == "/kiosk/?reset=1"
    assert int(reset["data-idle-seconds"]) > 0


# SMS in the reader's language


def add_host(app, *, language="nb"):
    """A host in the directory. The app context is closed again at once: Flask-Babel caches the locale on it, and
    a context held open across test requests would carry one request's language into the next."""
    with app.app_context():
        host = create_host(get_db(), phone=HOST)
        get_db()["hosts"].update(host.id, {"language": language})
        return host


def check_in(app, client, *, language=None, host_id="", **extra):
    """Check in on the tablet, in `language` if given, and return the SMS bodies by recipient number."""
    if language:
        client.get(f"/kiosk/language/{language}")
    response = post_check_in(client, phone="412 34 999", host_id=host_id, **extra)
    assert response.status_code == 302, response.data[:500]
    app.extensions["dispatcher"].drain(timeout=10)
    return {sms.to: sms.body for sms in app.extensions["sms"].outbox}


def test_the_host_gets_the_sms_in_the_directory_language(nb_app, nb_client):
    host = add_host(nb_app, language="sv")
    sent = check_in(nb_app, nb_client, host_id=host.id)
    assert sent[HOST] == "Ragnhild Berg har kommit till receptionen och väntar på dig."
    assert sent[VISITOR].startswith("Velkommen til Velkommen, Ragnhild. Kari Ødegård har fått beskjed")


@pytest.mark.parametrize("language", [None, "xx", ""])
def test_a_host_without_a_known_language_gets_the_default(nb_app, nb_client, language):
    host = add_host(nb_app, language=language)
    sent = check_in(nb_app, nb_client, language="de", host_id=host.id)
    assert sent[HOST] == "Ragnhild Berg har kommet til resepsjonen og venter på deg."


def test_the_visitor_gets_the_sms_in_the_language_they_chose(nb_app, nb_client):
    host = add_host(nb_app, language="nn")
    sent = check_in(nb_app, nb_client, language="uk", host_id=host.id)
    assert sent[VISITOR] == ("Вітаємо, Ragnhild! Ласкаво просимо до компанії Velkommen. "
                             "Kari Ødegård вже знає, що ви тут.")
    assert sent[HOST] == "Ragnhild Berg har kome til resepsjonen og ventar på deg."


def test_reception_gets_the_sms_in_the_default_language(nb_app, nb_client):
    sent = check_in(nb_app, nb_client, language="ar", host_id="reception")
    assert sent[RECEPTION] == ("Ragnhild Berg er i resepsjonen, men vet ikke hvem besøket gjelder. "
                               "Kan du hjelpe til?")
    assert sent[VISITOR] == "مرحبًا Ragnhild، أهلًا بك في Velkommen. تم إبلاغ الاستقبال بوصولك."


def test_the_page_after_check_in_stays_in_the_visitors_language(nb_app, nb_client):
    status_page = status_page_after_check_in(nb_app, nb_client, "da")
    assert status_page.select_one("h1").text.strip() == "Du er tjekket ind"
    nb_app.extensions["dispatcher"].drain(timeout=10)


def test_the_budget_notice_to_reception_is_in_the_default_language(make_app):
    app = make_app(DEFAULT_LOCALE="nb", SMS_BUDGET_PER_HOUR=0)
    client = app.test_client()
    pair_tablet(app, client)
    sent = check_in(app, client, language="de", host_id=add_host(app).id)
    assert VISITOR not in sent
    assert sent[RECEPTION] == ("Kioskens SMS-kvote for besøkende er brukt opp for denne timen. "
                               "De ansatte som får besøk, får fortsatt beskjed.")
    assert sent[HOST] == "Ragnhild Berg har kommet til resepsjonen og venter på deg."


def test_a_default_language_without_a_catalogue_is_refused(make_app):
    with pytest.raises(ConfigError, match="KIOSK_DEFAULT_LOCALE"):
        make_app(DEFAULT_LOCALE="xx")


def test_a_sentence_that_starts_with_reception_starts_with_a_capital_letter(nb_app, nb_client):
    """"resepsjonen har fått…" read as a sentence at the start of a line (issue 11, item 7)."""
    from kiosk.walkin.forms import RECEPTION

    response = post_check_in(nb_client, host_id=RECEPTION)
    status_page = get_page(nb_client, response.headers["Location"])
    sent = status_page.select_one("li[data-recipient=host] [data-when=sent]").text
    assert sent == "Resepsjonen har fått en SMS om at du er her."
    nb_app.extensions["dispatcher"].drain(timeout=10)
