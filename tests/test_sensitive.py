"""R34: national identity numbers and dates of birth are found in any grouping, so a roster holding one is refused
whole (issue 9, item 1); class names and ordinary names pass."""

from datetime import date

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from kiosk import sensitive
from kiosk.schools.visits import RosterError, parse_roster_file
from tests.helpers import xlsx

SEPARATORS = st.sampled_from(["", "", "", " ", ".", "-", "/", "  ", " - "])
BIRTH_DATES = st.dates(min_value=date(1920, 1, 1), max_value=date(2049, 12, 31))


def grouped(digits, separators):
    """`digits` with a separator (often none) after each digit but the last."""
    return "".join(d + separators[i % len(separators)] for i, d in enumerate(digits[:-1])) + digits[-1]


def norwegian(birth, individual, d_number=False):
    day = birth.day + (40 if d_number else 0)
    digits = [int(c) for c in f"{day:02d}{birth:%m%y}{individual:03d}"]
    k1 = sensitive._mod11(digits, (3, 7, 6, 1, 8, 9, 4, 5, 2))
    assume(k1 is not None)
    k2 = sensitive._mod11(digits + [k1], (5, 4, 3, 2, 7, 6, 5, 4, 3, 2))
    assume(k2 is not None)
    return "".join(map(str, digits)) + f"{k1}{k2}"


def swedish(birth, individual, coordination=False, long=False):
    day = birth.day + (60 if coordination else 0)
    body = f"{birth:%y%m}{day:02d}{individual:03d}"
    check = next(str(c) for c in range(10) if sensitive.luhn_ok(body + str(c)))
    return (f"{birth:%Y}"[:2] if long else "") + body + check


@given(BIRTH_DATES, st.integers(0, 999), st.booleans(), st.lists(SEPARATORS, min_size=1, max_size=10))
def test_r34_every_valid_norwegian_number_or_d_number_in_any_grouping_is_found(birth, individual, d_number, seps):
    number = norwegian(birth, individual, d_number)
    assert sensitive.is_norwegian(number)
    assert sensitive.find(grouped(number, seps)) == sensitive.IDENTITY_NUMBER


@given(BIRTH_DATES, st.integers(0, 999), st.booleans(), st.booleans(), st.lists(SEPARATORS, min_size=1, max_size=12))
def test_r34_every_valid_swedish_personnummer_or_samordningsnummer_is_found(birth, individual, coordination, long,
                                                                           seps):
    number = swedish(birth, individual, coordination, long)
    assert sensitive.is_swedish(number)
    assert sensitive.find(f"Kari {grouped(number, seps)}") == sensitive.IDENTITY_NUMBER


@given(BIRTH_DATES, st.integers(0, 9999), st.lists(SEPARATORS, min_size=1, max_size=10))
def test_r34_every_danish_cpr_number_is_found(birth, serial, seps):
    assert sensitive.find(grouped(f"{birth:%d%m%y}{serial:04d}", seps)) == sensitive.IDENTITY_NUMBER


@given(BIRTH_DATES, st.integers(2, 899), st.sampled_from(["-", "+", "A", "B", "Y", "X"]))
def test_r34_every_valid_finnish_hetu_is_found(birth, individual, century):
    birth_text, individual_text = f"{birth:%d%m%y}", f"{individual:03d}"
    hetu = f"{birth_text}{century}{individual_text}{sensitive.hetu_check(birth_text, individual_text)}"
    assert sensitive.find(hetu) == sensitive.IDENTITY_NUMBER
    assert sensitive.find(hetu.lower()) == sensitive.IDENTITY_NUMBER


@pytest.mark.parametrize("cell", [
    # Stored before issue 9: every one must be refused now.
    "010199-12345", "010199.12345", "0101 99 12345", "01 01 99 12345", "010199  12345", "010199 123 45", "010199",
    "19990101", "01011999", "01 01 1999", "1. januar 1999", "1019912345",
    # Dates of birth in the common Nordic spellings.
    "01.01.1999", "1.1.99", "1999-01-01", "01/01/99", "1 jan 1999", "1. jan. 99", "15. mars 2011", "3 maj 2010",
])
def test_r34_the_spellings_the_issue_lists_are_found(cell):
    assert sensitive.find(cell) is not None


@pytest.mark.parametrize("text", [
    "10A", "VG2 Elektro", "2STA", "8B", "VG3 Bygg og anlegg", "1STB", "10. trinn", "Ola Nordmann", "Mai Lie",
    "Anne-Marie Østby", "Kari O'Brien", "Liv 2", "gruppe 3", "9C/9D", "", "Jan Erik Mai",
])
def test_r34_class_names_and_names_pass(text):
    assert sensitive.find(text) is None


@given(st.from_regex(r"(VG[1-3]|[1-9]|10)[A-Z]{0,4}( [A-Za-zæøå]{2,12})?", fullmatch=True))
def test_r34_generated_class_names_pass(text):
    assert sensitive.find(text) is None


def test_r34_an_xlsx_number_cell_that_lost_its_leading_zero_is_refused_naming_line_and_column():
    with pytest.raises(RosterError) as e:
        parse_roster_file(xlsx([["Name", "Class"], ["Ola Nordmann", "8B"], ["Kari Berg", 1019912345]]), "r.xlsx",
                          max_rows=10)
    assert "line 3, column “class”" in str(e.value)
    assert "1019912345" not in str(e.value)


@pytest.mark.parametrize("cell", ["010199 123 45", "1. januar 1999", "990101-1234"])
def test_r34_the_refusal_names_line_and_column_never_the_value(cell):
    data = f"navn;klasse\nOla Nordmann;8B\nKari Berg;{cell}\n".encode()
    with pytest.raises(RosterError) as e:
        parse_roster_file(data, "r.csv", max_rows=10)
    assert "line 3, column “klasse”" in str(e.value)
    assert cell not in str(e.value) and "1999" not in str(e.value)
