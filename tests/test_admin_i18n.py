"""The admin area's languages: its own catalogue ("admin" domain), its own picker and session key, the browser's
Accept-Language as the default, and English when nothing matches."""

import re
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from kiosk.admin import charts, stats
from kiosk.db import get_db
from kiosk.i18n import ADMIN_LANGUAGES, ADMIN_SESSION_KEY, LANGUAGES, TRANSLATIONS
from kiosk.schools.visits import today
from tests.helpers import ADMIN_PASSWORD, create_admin, create_host, csrf_token, get_page, parse_page, sign_in

ROOT = Path(__file__).parent.parent
TRANSLATED = [code for code in ADMIN_LANGUAGES if code != "en"]  # English is the source text
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]")
# What `make translations` passes for the admin domain: --no-default-keywords -k _a -k _la -k _na:1,2 (the
# templates' _, gettext, ngettext and pgettext come from babel-admin.cfg).
ADMIN_KEYWORDS = {"_a": None, "_la": None, "_na": (1, 2)}
NB_BROWSER = "nb-NO,nb;q=0.9,en;q=0.8"
NAV_NB = ["Ansatte", "Skolebesøk", "Kiosker", "Lokasjoner", "Katalogsynkronisering", "Statistikk", "Aktivitetslogg",
          "Innstillinger"]


def extract(cfg, keywords):
    with open(ROOT / cfg) as f:
        method_map, options_map = parse_mapping_cfg(f)
    return list(extract_from_dir(str(ROOT), method_map, options_map, keywords=keywords))


def msgid_key(msgid):
    return msgid if isinstance(msgid, str) else tuple(msgid)


def message_keys(messages):
    """(context, msgid) of extracted messages, as a catalogue keys them."""
    return {(context, msgid_key(message)) for _, _, message, _, context in messages}


@pytest.fixture(scope="module")
def admin_messages():
    return extract("babel-admin.cfg", ADMIN_KEYWORDS)


@pytest.fixture(scope="module")
def kiosk_messages():
    return extract("babel.cfg", {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None})


def catalogue(code):
    with open(TRANSLATIONS / code / "LC_MESSAGES" / "admin.po", "rb") as f:
        return read_po(f, locale=code)


def forms(message):
    return list(message.string) if message.pluralizable else [message.string]


def context_text(context):
    return context.decode() if isinstance(context, bytes) else context  # read_mo gives bytes


# The catalogues


def test_the_admin_languages_are_kiosk_languages_each_with_an_admin_catalogue():
    assert list(ADMIN_LANGUAGES) == ["nb", "nn", "sv", "da", "fi", "en"]
    assert all(ADMIN_LANGUAGES[code] == LANGUAGES[code] for code in ADMIN_LANGUAGES)
    have = {path.parent.parent.name for path in TRANSLATIONS.glob("*/LC_MESSAGES/admin.po")}
    assert have == set(TRANSLATED), "the admin area has catalogues for nb nn sv da fi only"


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_admin_string_in_the_source_is_translated(code, admin_messages):
    messages = {(m.context, msgid_key(m.id)): m for m in catalogue(code) if m.id}
    extracted = message_keys(admin_messages)
    missing = sorted(str(key) for key in extracted if key not in messages or not all(forms(messages[key])))
    fuzzy = sorted(str(key) for key in extracted if key in messages and messages[key].fuzzy)
    assert not missing, f"untranslated in {code}/admin.po (run `make translations`, then translate): {missing}"
    assert not fuzzy, f"fuzzy in {code}/admin.po: {fuzzy}"


def test_the_admin_message_template_matches_the_source(admin_messages):
    with open(TRANSLATIONS / "admin.pot", "rb") as f:
        template = {(m.context, msgid_key(m.id)) for m in read_po(f) if m.id}
    assert template == message_keys(admin_messages), "kiosk/translations/admin.pot is stale: run `make translations`"


def test_the_two_domains_keep_their_strings_apart(admin_messages, kiosk_messages):
    admin_files = {filename for filename, *_ in admin_messages}
    kiosk_files = {filename for filename, *_ in kiosk_messages}
    assert {f for f in kiosk_files if f.startswith("templates/admin/")} == set()
    assert {f for f in admin_files if f.startswith("templates/") and not f.startswith("templates/admin/")} == set()
    kiosk_ids = {key for _, key in message_keys(kiosk_messages)}
    admin_ids = {key for _, key in message_keys(admin_messages)}
    assert "The host is saved." in admin_ids and "The host is saved." not in kiosk_ids  # _a in a view
    assert "Enter the school’s name." in admin_ids and "Enter the school’s name." not in kiosk_ids  # _la in a form
    assert "Enter your name." in kiosk_ids and "Enter your name." not in admin_ids  # the kiosk's _l, same module


@pytest.mark.parametrize("code", TRANSLATED)
def test_no_admin_sentence_is_left_in_english(code):
    for message in catalogue(code):
        if message.id and not message.pluralizable and " " in message.id:
            assert message.string != message.id, (code, message.id)


@pytest.mark.parametrize("code", TRANSLATED)
def test_admin_translations_keep_the_placeholders_and_markup(code):
    for message in catalogue(code):
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        expected = set().union(*(PLACEHOLDER.findall(i) for i in ids))
        tags = sorted(re.findall(r"</?\w+", ids[0]))
        for form in forms(message):
            found = set(PLACEHOLDER.findall(form))
            # A plural form may spell its number out ("den ene ansatte") instead of using %(num)s.
            assert found <= expected and expected - found <= {"num"}, (code, message.id, form)
            assert sorted(re.findall(r"</?\w+", form)) == tags, (code, message.id, form)


@pytest.mark.parametrize("code", TRANSLATED)
def test_admin_plural_forms_fit_the_language(code):
    cat = catalogue(code)
    assert cat.num_plurals == 2
    for message in cat:
        if message.id and message.pluralizable:
            assert len(message.string) == cat.num_plurals, (code, message.id)


@pytest.mark.parametrize("code", TRANSLATED)
def test_compiled_admin_catalogues_match_the_po_files(code):
    with open(TRANSLATIONS / code / "LC_MESSAGES" / "admin.mo", "rb") as f:
        compiled = {(context_text(m.context), msgid_key(m.id)): tuple(forms(m)) for m in read_mo(f) if m.id}
    written = {(m.context, msgid_key(m.id)): tuple(forms(m)) for m in catalogue(code)
               if m.id and m.string and not m.fuzzy}
    assert compiled == written, f"{code}/LC_MESSAGES/admin.mo is out of date: run `make translations`"


@pytest.mark.parametrize("code", ["nb", "nn"])
def test_norwegian_calls_a_host_ansatt_or_tilsett_never_vert(code):
    # The translators' note on "Hosts" (templates/admin/base.html) and the header of each Norwegian admin.po.
    for message in catalogue(code):
        for form in forms(message) if message.id else []:
            assert not re.search(r"\bvert(en|er|ene)?\b", form, re.IGNORECASE), (code, message.id, form)


# The language: Accept-Language, else English


def html(page):
    return page.select_one("html")


def browser(app, accept_language=None):
    """A test client of a browser that sends this Accept-Language header (none when None)."""
    client = app.test_client()
    if accept_language is not None:
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = accept_language
    return client


@pytest.mark.parametrize("accept_language, code, heading", [
    (NB_BROWSER, "nb", "Logg inn"),
    ("no", "nb", "Logg inn"),
    ("no-NO,en;q=0.5", "nb", "Logg inn"),
    ("nn-NO,nn;q=0.9,nb;q=0.8", "nn", "Logg inn"),
    ("sv-SE,sv;q=0.9,en;q=0.8", "sv", "Logga in"),
    ("da", "da", "Log ind"),
    ("fi-FI", "fi", "Kirjaudu sisään"),
    ("en-GB,en;q=0.9", "en", "Sign in"),
    ("de", "en", "Sign in"),
    ("de-DE,pl;q=0.8", "en", "Sign in"),
    ("de-DE,sv;q=0.8,nb;q=0.5", "sv", "Logga in"),
    ("*", "en", "Sign in"),
    ("nb;q=0,da;q=0.4", "da", "Log ind"),
    (None, "en", "Sign in"),
])
def test_the_sign_in_page_follows_the_browsers_language(app, accept_language, code, heading):
    page = get_page(browser(app, accept_language), "/admin/login")
    assert (html(page)["lang"], html(page)["dir"]) == (code, "ltr")
    assert page.select_one("h1").text.strip() == heading


def test_the_picker_lists_each_admin_language_by_its_own_name(app):
    page = get_page(browser(app, NB_BROWSER), "/admin/login")
    links = page.select("#admin-languages a")
    assert [a.text.strip() for a in links] == ["Norsk bokmål", "Nynorsk", "Svenska", "Dansk", "Suomi", "English"]
    assert [a["lang"] for a in links] == list(ADMIN_LANGUAGES)
    assert links[1]["href"] == "/admin/language/nn?next=/admin/login"
    assert [a.text.strip() for a in links if a.get("aria-current")] == ["Norsk bokmål"]
    assert page.select_one("#admin-languages").text.split()[0] == "Språk:"


def test_the_picker_switches_the_language_and_beats_the_browsers(app):
    client = browser(app, NB_BROWSER)
    response = client.get("/admin/language/sv?next=/admin/login")
    assert (response.status_code, response.headers["Location"]) == (302, "/admin/login")
    page = get_page(client, "/admin/login")
    assert html(page)["lang"] == "sv"
    assert page.select_one("#admin-languages a[aria-current]")["lang"] == "sv"
    client.get("/admin/language/en?next=/admin/login")
    assert html(get_page(client, "/admin/login"))["lang"] == "en"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x",
                                    "/kiosk/", "admin/", ""])
def test_the_picker_never_sends_the_admin_off_site_or_out_of_the_admin_area(app, target):
    response = browser(app).get("/admin/language/nb", query_string={"next": target})
    assert response.headers["Location"] == "/admin/"


@pytest.mark.parametrize("code", ["de", "ar", "xx", "NB"])
def test_a_language_the_admin_area_lacks_is_not_found_and_changes_nothing(app, code):
    client = browser(app)
    assert client.get(f"/admin/language/{code}?next=/admin/login").status_code == 404
    assert html(get_page(client, "/admin/login"))["lang"] == "en"


def test_choosing_a_language_is_a_display_preference_only(app, db):
    """A GET without a CSRF token may change the language, and nothing else: no sign-in, no audit event."""
    client = browser(app)
    assert client.post("/admin/language/nb").status_code in (400, 405)  # GET only
    response = client.get("/admin/language/nb?next=/admin/hosts")
    assert response.headers["Location"] == "/admin/hosts"
    assert client.get("/admin/hosts").headers["Location"] == "/admin/login"
    assert db["audit_events"].count == 0
    with client.session_transaction() as session:
        assert dict(session) == {ADMIN_SESSION_KEY: "nb"}


def test_switching_on_a_page_that_answers_a_form_goes_to_the_start(signed_in):
    page = get_page(signed_in, "/admin/kiosks")
    response = signed_in.post("/admin/kiosks/pair", data={"csrf_token": csrf_token(page), "name": "Resepsjon"})
    link = parse_page(response).select_one("#admin-languages a[lang=da]")["href"]
    assert link == "/admin/language/da?next=/admin/kiosks/pair"
    assert signed_in.get(link).headers["Location"] == "/admin/"  # not a 405 from GET /admin/kiosks/pair
    assert signed_in.get("/admin/language/da?next=/admin/hosts?q=kari").headers["Location"] == "/admin/hosts?q=kari"
    assert signed_in.get("/admin/language/da?next=/admin/schools").headers["Location"] == "/admin/schools"


def test_the_admin_language_and_the_kiosks_are_apart(make_app):
    app = make_app(DEFAULT_LOCALE="nb")
    client = browser(app)
    client.get("/kiosk/language/de")
    assert html(get_page(client, "/admin/login"))["lang"] == "en"  # not the kiosk's German, nor its default
    client.get("/admin/language/fi")
    assert html(get_page(client, "/kiosk/", status=403))["lang"] == "de"
    with client.session_transaction() as session:
        assert (session["locale"], session[ADMIN_SESSION_KEY]) == ("de", "fi")


def test_error_pages_in_the_admin_area_are_in_the_admin_language(app):
    client = browser(app, NB_BROWSER)
    page = get_page(client, "/admin/no-such-page", status=404)
    assert (html(page)["lang"], page.select_one("h1").text.strip()) == ("nb", "Fant ikke siden")
    assert not page.select("nav.languages")  # the kiosk's picker is for the tablet
    response = client.post("/admin/login", data={"username": "ana", "password": "x"})  # no CSRF token
    assert response.status_code == 400
    assert parse_page(response).select_one("h1").text.strip() == "Siden er utløpt"


# Signed in


@pytest.fixture
def nb_admin(app, db):
    """A signed-in admin whose browser asks for Norwegian Bokmål."""
    create_admin(db)
    client = browser(app, NB_BROWSER)
    assert sign_in(client).status_code == 302
    return client


def post_form(client, url, page_url=None, **data):
    page = get_page(client, page_url or url)
    return client.post(url, data={"csrf_token": csrf_token(page), **data})


def flashes(page):
    return [p.text.strip() for p in page.select(".messages p")]


def test_a_signed_in_admin_reads_the_nav_and_pages_in_bokmaal(nb_admin, db):
    create_host(db)
    page = get_page(nb_admin, "/admin/hosts")
    assert (html(page)["lang"], html(page)["dir"]) == ("nb", "ltr")
    assert [a.text for a in page.select("nav a")] == NAV_NB
    assert page.select_one("form.sign-out button").text == "Logg ut"
    assert page.title.text == "Ansatte – Administrasjon – Velkommen"
    assert page.select_one("caption").text.strip() == "1 ansatt"
    assert page.select_one("label[for=all-matching]").text.strip() == "Eller den ene ansatte i ansattlisten"


def test_the_chosen_language_outlives_signing_in_and_out(app, db):
    create_admin(db)
    client = browser(app)
    client.get("/admin/language/nn?next=/admin/login")
    assert sign_in(client).status_code == 302
    page = get_page(client, "/admin/hosts")
    assert [a.text for a in page.select("nav a")][0] == "Tilsette"
    response = client.post("/admin/logout", data={"csrf_token": csrf_token(page)})
    page = get_page(client, response.headers["Location"])
    assert (html(page)["lang"], flashes(page)) == ("nn", ["Du er logga ut."])


def test_flash_messages_are_in_bokmaal(nb_admin, db):
    response = post_form(nb_admin, "/admin/settings", COMPANY_NAME="Velkommen", ACCENT_COLOR="#0b5cad",
                         **{key: value for key, value in {"SMS_PER_NUMBER_PER_HOUR": 3, "SMS_PER_NUMBER_PER_DAY": 5,
                                                          "SMS_PREFIX_NUMBERS_PER_HOUR": 10, "SMS_BUDGET_PER_HOUR": 40,
                                                          "SMS_BUDGET_PER_DAY": 200,
                                                          "CHECKINS_PER_DEVICE_PER_HOUR": 60}.items()})
    assert flashes(get_page(nb_admin, response.headers["Location"])) == ["Ingenting ble endret."]
    ids = [create_host(db, phone=f"+474123456{n}").id for n in (1, 2)]
    response = post_form(nb_admin, "/admin/hosts/selected", page_url="/admin/hosts", action="deactivate", host=ids)
    assert flashes(get_page(nb_admin, response.headers["Location"])) == ["2 ansatte er deaktivert."]
    response = post_form(nb_admin, "/admin/hosts/selected", page_url="/admin/hosts", action="reactivate",
                         host=ids[:1])
    assert flashes(get_page(nb_admin, response.headers["Location"])) == ["1 ansatt er aktivert igjen."]


def test_the_statistics_page_is_in_bokmaal_its_csv_stays_english(nb_admin, app):
    with app.app_context():
        db = get_db()
        day = today().isoformat()
        db["refusals"].insert({"hour": f"{day}T10", "reason": "too_fast", "count": 1234})
    page = get_page(nb_admin, "/admin/statistics")
    assert page.select_one("h1").text == "Statistikk"
    assert [h.text for h in page.select("h2")] == ["Innsjekkinger per dag", "Innsjekkinger per time på døgnet",
                                                   "SMS-er per dag, etter status", "Avviste innsjekkinger etter årsak",
                                                   "Svar fra ansatte"]
    assert page.select_one("#checkins-per-day-chart-empty").text == "Ingen innsjekkinger de siste 30 dagene."
    assert page.select_one("#refusals-chart-summary").text == (
        "1\xa0234 innsjekkinger ble avvist de siste 30 dagene, oftest på grunn av too_fast (1\xa0234).")
    assert [th.text for th in page.select("#refusals thead th")] == ["Årsak", "Antall"]
    assert page.select_one("#refusals").find_parent("details").select_one("summary").text == "Vis tallene"
    csv_text = nb_admin.get("/admin/statistics.csv").get_data(as_text=True)
    assert csv_text.lstrip("\ufeff").splitlines()[0] == "table,label,status,count"


def test_chart_summaries_days_and_statuses_follow_the_admin_language(app):
    days = ["2026-03-01", "2026-03-02"]
    sms = [stats.SmsDay("2026-03-02", {"sent": 1, "delivered": 5, "failed": 1, "undelivered": 2})]
    with app.test_request_context("/admin/statistics", headers={"Accept-Language": "sv"}):
        chart = charts.sms_per_day(days, sms)
        assert chart.summary == "9 sms de senaste 2 dagarna: 1 skickat, 5 levererat, 1 misslyckades, 2 ej levererat."
        assert charts.short_day("2026-03-02") == "2 mars"
        assert [t.text for t in chart.texts if t.anchor == "start"] == [
            "Skickat", "Levererat", "Misslyckades", "Ej levererat"]  # the legend
    with app.test_request_context("/admin/statistics"):
        assert charts.short_day("2026-03-02") == "2 Mar"


def field_error(response, field):
    return parse_page(response).select_one(f"#{field}-error").text.strip()


@pytest.mark.parametrize("fields, field, message", [
    ({"name": ""}, "name", "Skriv inn navnet på den ansatte."),  # ours, from the admin catalogue
    ({"phone": "123"}, "phone", "Nummeret er for kort. Sjekk at du har fått med alle sifrene."),  # the kiosk's
    ({"language": "xx"}, "language", "Ugyldig valg."),  # WTForms' own, from the admin catalogue
])
def test_form_errors_are_in_bokmaal(nb_admin, fields, field, message):
    data = {"name": "Per Hansen", "phone": "412 34 999", "department": "", "email": "", "language": "", **fields}
    response = post_form(nb_admin, "/admin/hosts/new", **data)
    assert response.status_code == 422
    page = parse_page(response)
    assert page.title.text.startswith("Feil: Legg til en ansatt")
    assert page.select_one(".error-summary h2").text == "Se over skjemaet"
    assert field_error(response, field) == message


@pytest.mark.parametrize("code, message", [("nn", "Ugyldig val."), ("da", "Ugyldigt valg."),
                                           ("sv", "Ogiltigt val."), ("fi", "Virheellinen valinta.")])
def test_wtforms_own_messages_follow_the_admin_language_even_where_wtforms_has_no_catalogue(nb_admin, code, message):
    nb_admin.get(f"/admin/language/{code}")
    response = post_form(nb_admin, "/admin/hosts/new", name="Per Hansen", phone="412 34 999", language="xx")
    assert field_error(response, "language") == message


def test_a_failed_sign_in_is_explained_in_bokmaal(app, db):
    create_admin(db)
    client = browser(app, NB_BROWSER)
    page = get_page(client, "/admin/login")
    assert [label.text.strip() for label in page.select("main label")] == ["Brukernavn", "Passord"]
    response = client.post("/admin/login", data={"csrf_token": csrf_token(page), "username": "ana",
                                                 "password": ADMIN_PASSWORD + "x"})
    assert response.status_code == 422
    assert parse_page(response).select_one(".error-summary li").text == (
        "Brukernavnet eller passordet er feil, eller kontoen er låst en stund etter for mange forsøk.")


def test_the_audit_log_names_actions_in_the_admin_language(nb_admin, app):
    with app.app_context():
        get_db()["audit_events"].insert({"at": "2026-01-01T00:00:00+00:00", "admin_id": 1, "action": "brand_new"})
    rows = get_page(nb_admin, "/admin/audit").select("#audit-events tbody tr")
    assert [row.select("td")[2].text for row in rows] == ["brand new", "innlogging"]  # unknown ones as stored


# Every screen in every language: a translation that breaks its formatting shows up here, not in an office


ADMIN_PAGES = ["/admin/hosts", "/admin/hosts/new", "/admin/hosts/1", "/admin/hosts/1/delete", "/admin/hosts/import",
               "/admin/kiosks", "/admin/statistics", "/admin/audit", "/admin/settings", "/admin/schools/",
               "/admin/schools/new", "/admin/schools/consents", "/admin/directory-sync", "/admin/locations",
               "/admin/locations/new", "/admin/locations/1"]
HOSTS_CSV = "navn;mobil;avdeling\nKari Ødegård;412 34 567;Salg\nOla Ny;412 34 568;\nUten Nummer;;\n"
ROSTER_CSV = "navn;rolle;klasse\nOla Nordmann;elev;8B\nOla Nordmann;elev;8B\nLiv Lærer;lærer;\n"


@pytest.fixture
def signed_in(app, db):
    create_admin(db)
    create_host(db, name="Kari Ø.", phone="+4741234567", department="Sales")
    create_host(db, name="Siri Slutter", phone="+4741234599")
    client = browser(app)
    assert sign_in(client).status_code == 302
    return client


def upload(client, url, page_url, **fields):
    page = get_page(client, page_url)
    return client.post(url, data={"csrf_token": csrf_token(page), **fields}, content_type="multipart/form-data")


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_admin_screen_renders_in_every_admin_language(signed_in, code):
    client = signed_in
    client.get(f"/admin/language/{code}")
    english_nav = ["Hosts", "School visits", "Kiosks", "Locations", "Directory sync", "Statistics", "Audit log",
                   "Settings"]
    for url in ADMIN_PAGES:
        page = get_page(client, url)
        assert html(page)["lang"] == code, url
        assert not set(a.text for a in page.select("nav a")) & set(english_nav), url
    preview = upload(client, "/admin/hosts/import", "/admin/hosts/import", file=(BytesIO(HOSTS_CSV.encode()), "h.csv"))
    assert preview.status_code == 200 and parse_page(preview).select_one("#kept-fields")
    school = upload(client, "/admin/schools/new", "/admin/schools/new", school="Bjerke skole",
                    visit_date=today().isoformat(), host_id="1", arrival_time="09:30", teacher_phone="",
                    pasted="", roster=(BytesIO(ROSTER_CSV.encode()), "r.csv"))
    assert school.status_code == 200 and parse_page(school).select_one("#roster")
    pairing = upload(client, "/admin/kiosks/pair", "/admin/kiosks", name="Resepsjon")
    assert pairing.status_code == 200 and parse_page(pairing).select_one("#pairing-code")
    page = get_page(client, "/admin/hosts")
    confirm = client.post("/admin/hosts/selected", data={"csrf_token": csrf_token(page), "action": "delete",
                                                          "host": ["1", "2"]})
    assert confirm.status_code == 200 and html(parse_page(confirm))["lang"] == code
