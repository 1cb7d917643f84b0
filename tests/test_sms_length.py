"""SMS length (issue 11): every SMS the kiosk sends, in every language, built by the app's own functions with
typical names, fits one segment with a GSM-7 name and at most two with a name that makes it UCS-2.

bench/sms_length.py prints the same texts as the table in bench/README.md.
"""

import math
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file
from flask import Flask
from flask_babel import force_locale

from kiosk import create_app
from kiosk import db as store
from kiosk.db import get_db
from kiosk.devices import pairing
from kiosk.guard import abuse
from kiosk.i18n import LANGUAGES
from kiosk.messaging import delivery, notify, sweeper, texts
from kiosk.phone import PhoneNumber
from kiosk.schools import visits as schools
from kiosk.sms.segments import GSM7_BASIC, GSM7_EXTENSION, encoding, is_gsm7, length, segments
from kiosk.walkin import checkin
from kiosk.walkin.checkin import CheckIn
from tests.conftest import TEST_CONFIG
from tests.helpers import create_host

# Languages whose words are all GSM-7 (æ ø å ä ö ü ß é are); Polish, Ukrainian and Arabic are UCS-2 whatever the name.
GSM_LANGUAGES = ("nb", "nn", "sv", "da", "fi", "en", "de")


@dataclass(frozen=True)
class Names:
    """A typical visit: who comes, whom to see, where. `kind` names the case in the figures."""

    kind: str
    visitor: str
    host: str


GSM_NAME = Names("GSM-7 name", visitor="Kari Nordmann-Hansen", host="Marte Kristiansen")
UCS2_NAME = Names("UCS-2 name", visitor="José Fernández López", host="Małgorzata Wójcik")
COMPANY = "Velkommen AS"
TABLET = "Reception tablet"
LOCATION = "Stavanger"  # issue 16: the host's SMS names the location when there are several
SCHOOL, PUPILS = "Bjørnholt skole", 25
AT_10_02 = store.timestamp(datetime(2026, 12, 3, 9, 2, tzinfo=UTC))  # 10:02 in Oslo
RECEPTION = PhoneNumber(TEST_CONFIG["RECEPTION_PHONE"])
# Where SMS texts are written, and the words that go into other texts rather than being sent alone.
ROOT = Path(__file__).parent.parent
SMS_MODULES = [*sorted((ROOT / "kiosk" / "messaging").glob("*.py")), ROOT / "kiosk" / "walkin" / "checkin.py",
               ROOT / "kiosk" / "schools" / "visits.py", ROOT / "kiosk" / "guard" / "abuse.py"]
PARTS = {"reception", "the kiosk", "Reply OK when you are on your way, or a number of minutes."}
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]")


@dataclass(frozen=True)
class Sms:
    template: str
    language: str
    names: Names
    text: str

    @property
    def segments(self) -> int:
        return segments(self.text)


def build_app(folder: str) -> Flask:
    # With replies on (issue 14), so the host's SMS carries its longest wording: "Reply OK when you are on your way…"
    return create_app({**TEST_CONFIG, "DATABASE": str(Path(folder) / "kiosk.db"), "COMPANY_NAME": COMPANY,
                       "LOG_LEVEL": "ERROR", "PUBLIC_URL": "https://kiosk.example.org", "TWILIO_AUTH_TOKEN": "x"})


@contextmanager
def reader_language(app: Flask, language: str) -> Iterator[None]:
    """Everything in `language`: the kiosk's default (reception's texts), and the locale of the code in the block
    (the visitor's choice on the kiosk). Hosts get theirs from the directory."""
    default = app.config["DEFAULT_LOCALE"]
    app.config["DEFAULT_LOCALE"] = language
    try:
        with force_locale(language):
            yield
    finally:
        app.config["DEFAULT_LOCALE"] = default


def sms_texts(app: Flask) -> list[Sms]:
    """Every SMS the kiosk sends, in every language, with the GSM-7 and the UCS-2 names; several per template when
    its wording depends on a count (the school texts' plural forms)."""
    with app.app_context():
        db = get_db()
        return [sms for language in LANGUAGES for names in (GSM_NAME, UCS2_NAME)
                for sms in _texts(app, db, language, names)]


def _texts(app, db, language, names):
    host = create_host(db, name=names.host, phone="+4741234567", language=language)
    device, _ = pairing.pair(db, pairing.create_pairing_code(db, TABLET).code)
    visit_id, nobody_id = f"sms-{language}-{names.kind}", f"sms-{language}-{names.kind}-reception"
    checkin.create_visit(db, visit_id, host.id, device.id)
    checkin.create_visit(db, nobody_id, None, device.id)
    walk_in = CheckIn(names.visitor, PhoneNumber("+4741234999"), host)
    school = schools.SchoolVisit(id=1, school=SCHOOL, visit_date="2026-12-03", host_id=host.id, arrival_time="10:00",
                                 people=PUPILS)
    found = []

    def add(template, text):
        found.append(Sms(template, language, names, text))

    with reader_language(app, language):
        add("host: visitor arrived", checkin._host_message(visit_id, walk_in, RECEPTION).body)
        add("host: visitor arrived, several locations",
            checkin._host_message(visit_id, walk_in, RECEPTION, place=LOCATION).body)
        with mock.patch.object(checkin.inbound, "replies_enabled", return_value=False):
            add("host: visitor arrived, no replies", checkin._host_message(visit_id, walk_in, RECEPTION).body)
            add("host: visitor arrived, several locations, no replies",
                checkin._host_message(visit_id, walk_in, RECEPTION, place=LOCATION).body)
        add("reception: visitor without host",
            checkin._host_message(visit_id, replace(walk_in, host=None), RECEPTION).body)
        confirmation = checkin._confirmation(db, visit_id, walk_in)
        add("visitor: host told", confirmation.host_told)
        add("visitor: reception told", confirmation.reception_told)
        slow, failed = texts.reception_messages(visit_id, names.visitor, host, RECEPTION)
        add("reception: host SMS slow", slow.body)
        add("reception: host SMS failed", failed.body)
        fallback = delivery._reception_fallback(db, delivery.Message(1, visit_id, "host", notify.UNDELIVERED, "SM1"))
        add("reception: host SMS undelivered", fallback.body)
        # The sweeper's texts, from the visit record alone, made at 10:02
        db.execute("UPDATE visits SET created_at = ? WHERE id IN (?, ?)", [AT_10_02, visit_id, nobody_id])
        add("reception: unannounced", sweeper._reception_sms(db, visit_id, 0).body)
        add("reception: unannounced, no host", sweeper._reception_sms(db, nobody_id, 0).body)
        add("reception: host silent", texts.silent_host_text(db, *texts.visit_facts(db, visit_id)))
        add("reception: host cannot come", texts.declined_text(db, *texts.visit_facts(db, visit_id)))
        with mock.patch.object(notify, "send_notice") as send_notice:
            assert checkin.ask_for_help(db, device)
        add("reception: refused visitor", send_notice.call_args.args[1])
        add("reception: SMS budget (hour)", abuse._budget_notice("hour"))
        add("reception: SMS budget (day)", abuse._budget_notice("day"))
        for new in (1, 2, 5, 23):
            add("host: school arrived", schools._host_text(school, new, 0, None))
            add("host: school arrived, several locations", schools._host_text(school, new, 0, LOCATION))
        for new in (1, 2, 5):
            add("host: school more arrived", schools._host_text(school, new, 23 - new, None))
        add("teacher: host told", schools._teacher_text(school, 23, host))
        add("teacher: reception told", schools._teacher_text(school, 23, None))
    return found


@pytest.fixture(scope="module")
def built() -> list[Sms]:
    with tempfile.TemporaryDirectory() as folder:
        app = build_app(folder)
        try:
            return sms_texts(app)
        finally:
            app.extensions["dispatcher"].drain(timeout=10)


def too_long(built: list[Sms], names: Names, languages, limit: int) -> list[str]:
    """The texts for `names` in `languages` that take more than `limit` segments, to show in a failure."""
    return [f"{sms.template} [{sms.language}] {sms.segments} segments, {encoding(sms.text)}, "
            f"{length(sms.text)} units: {sms.text}" for sms in built
            if sms.names == names and sms.language in languages and sms.segments > limit]


# Counting segments


@pytest.mark.parametrize("text, gsm", [
    ("Kari Nordmann-Hansen", True),
    ("Æ Ø Å æ ø å Ä Ö Ü ä ö ü ß é É è à ù ì ò Ç Ñ ñ ¡ ¿ § £ ¥ ¤ Δ Ω _ @ $", True),
    ("€ [ ] { } ^ ~ \\ |", True),
    ("\n\r", True),
    ("José Fernández López", False),  # á, ó, é: only é is GSM-7
    ("Małgorzata Wójcik", False),
    ("ç", False),  # only the capital Ç is in the table
    ("it’s", False), ("“quoted”", False), ("10–12", False), ("wait…", False), ("`", False),
    ("Привіт", False), ("مرحبًا", False), ("🙂", False),
    ("", True),
])
def test_gsm7_is_the_gsm_03_38_table(text, gsm):
    assert is_gsm7(text) is gsm


def test_gsm_alphabet_has_its_127_characters_and_10_extensions():
    assert (len(GSM7_BASIC), len(GSM7_EXTENSION)) == (127, 10)
    assert not GSM7_BASIC & GSM7_EXTENSION


@pytest.mark.parametrize("text, expected", [
    ("", 1),
    ("a" * 160, 1), ("a" * 161, 2),
    ("a" * 306, 2), ("a" * 307, 3),
    ("ø" * 160, 1),  # Norwegian letters are one septet
    ("€" * 80, 1), ("€" * 81, 2),  # extension characters count double
    ("a" * 159 + "[", 2),
    ("a" * 152 + "[" + "a" * 152, 3),  # the escape pair is not split: it opens the second segment
    ("a" * 151 + "[" + "a" * 153, 2),
    ("á" * 70, 1), ("á" * 71, 2),
    ("a" * 69 + "ł", 1), ("a" * 70 + "ł", 2),  # one Polish letter makes it all UCS-2
    ("a" * 133 + "ł", 2), ("a" * 134 + "ł", 3),
    ("€" * 69 + "ł", 1),  # in UCS-2, € is one code unit like any other
    ("🙂" * 35, 1), ("🙂" * 36, 2),  # outside the BMP: a surrogate pair, two code units
    ("a" * 66 + "🙂" + "a" * 66, 3),  # the pair is not split: it opens the second segment
    ("Привіт" * 11 + "ab", 1), ("Привіт" * 12, 2),
])
def test_segments(text, expected):
    assert segments(text) == expected


@pytest.mark.parametrize("size", [1, 70, 71, 134, 135, 500])
def test_ucs2_segments_are_67_code_units_each(size):
    text = "ł" * size
    assert segments(text) == (1 if size <= 70 else math.ceil(size / 67))


@pytest.mark.parametrize("size", [1, 160, 161, 306, 307, 459, 460, 1000])
def test_gsm_segments_are_153_septets_each(size):
    text = "e" * size
    assert segments(text) == (1 if size <= 160 else math.ceil(size / 153))


# Every SMS the kiosk sends


def test_every_template_is_built_in_every_language(built):
    templates = {sms.template for sms in built}
    assert len(templates) == 22
    for language in LANGUAGES:
        for names in (GSM_NAME, UCS2_NAME):
            assert {sms.template for sms in built if (sms.language, sms.names) == (language, names)} == templates
    assert all(sms.text and "%(" not in sms.text for sms in built)


def test_every_text_in_the_sms_modules_is_measured(built):
    # A new SMS text must be added to _texts() above, so that it is measured too.
    english = [sms.text for sms in built if sms.language == "en"]
    for path in SMS_MODULES:
        for _, msgid, _, _ in extract_from_file("python", str(path), keywords=DEFAULT_KEYWORDS):
            for form in msgid if isinstance(msgid, tuple) else (msgid,):
                pattern = ".+".join(map(re.escape, PLACEHOLDER.split(form)))
                assert form in PARTS or any(re.fullmatch(pattern, text) for text in english), (path.name, form)


def test_the_host_sms_asks_for_a_reply_in_every_language(built):
    # Issue 14: the reply line is part of what is measured above, in the host's language.
    english = [sms.text for sms in built if sms.template == "host: visitor arrived" and sms.language == "en"]
    assert english and all(text.endswith("Reply OK when you are on your way, or a number of minutes.")
                           for text in english)
    others = [sms.text for sms in built if sms.template == "host: visitor arrived" and sms.language != "en"]
    assert all("Reply OK" not in text and "OK" in text for text in others)


def test_the_norwegian_host_sms_with_its_reply_line_is_one_gsm_7_segment(built):
    norwegian = [sms for sms in built if sms.template == "host: visitor arrived" and sms.language in ("nb", "nn")
                 and sms.names == GSM_NAME]
    assert len(norwegian) == 2
    assert all(is_gsm7(sms.text) and sms.segments == 1 for sms in norwegian), [sms.text for sms in norwegian]


def test_typical_names_are_20_characters():
    assert len(GSM_NAME.visitor) == len(UCS2_NAME.visitor) == 20
    assert is_gsm7(GSM_NAME.visitor + GSM_NAME.host + SCHOOL + TABLET + COMPANY)
    assert not is_gsm7(UCS2_NAME.visitor) and not is_gsm7(UCS2_NAME.host)


def test_a_gsm_name_keeps_every_sms_gsm_7_in_latin_languages(built):
    # One ’ or – in a translation would make the SMS UCS-2 and halve what it holds.
    assert not [f"{sms.template} [{sms.language}]: {sms.text}" for sms in built
                if sms.names == GSM_NAME and sms.language in GSM_LANGUAGES and not is_gsm7(sms.text)]


def test_a_gsm_name_keeps_every_sms_to_one_segment(built):
    assert not too_long(built, GSM_NAME, GSM_LANGUAGES, 1)


def test_polish_ukrainian_and_arabic_take_at_most_two_segments(built):
    assert not too_long(built, GSM_NAME, [code for code in LANGUAGES if code not in GSM_LANGUAGES], 2)


def test_a_ucs2_name_takes_at_most_two_segments(built):
    assert not too_long(built, UCS2_NAME, LANGUAGES, 2)
