"""Reading a school's roster: columns, roles, names, duplicates, and refusing what a roster must not hold (R34)."""


import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.schools.visits import Person, RosterError, parse_roster_file, parse_roster_text
from tests.helpers import xlsx


def parse(text, max_rows=2000):
    return parse_roster_file(text.encode(), "roster.csv", max_rows=max_rows)


def test_a_csv_roster_gives_people_with_role_and_class():
    roster = parse("navn;rolle;klasse\nOla Nordmann;elev;8B\nKari Lærer;lærer;\nPer Hansen;;8B\n")
    assert roster.people == [Person("Ola", "Nordmann", "pupil", "8B"), Person("Kari", "Lærer", "teacher", ""),
                             Person("Per", "Hansen", "pupil", "8B")]
    assert roster.lines == [2, 3, 4]


def test_first_and_last_name_columns_are_read():
    roster = parse("First name,Last name,Role\nOla,Nordmann,student\nAnne,Berg,lærar\n")
    assert roster.people == [Person("Ola", "Nordmann", "pupil"), Person("Anne", "Berg", "teacher")]


@pytest.mark.parametrize("word, role", [("elev", "pupil"), ("Pupil", "pupil"), ("student", "pupil"),
                                        ("lærer", "teacher"), ("Teacher", "teacher"), ("lærar", "teacher")])
def test_roles_are_understood_in_norwegian_and_english(word, role):
    assert parse(f"name,role\nOla Nordmann,{word}\n").people[0].role == role


def test_an_xlsx_roster_is_read():
    roster = parse_roster_file(xlsx([["Name", "Class"], ["Ola Nordmann", "8B"]]), "roster.xlsx", max_rows=10)
    assert roster.people == [Person("Ola", "Nordmann", "pupil", "8B")]


def test_a_pasted_list_is_one_pupil_per_line():
    roster = parse_roster_text("Ola Nordmann\n\n  Kari Berg  \nMuhammad\n", max_rows=10)
    assert roster.people == [Person("Ola", "Nordmann"), Person("Kari", "Berg"), Person("Muhammad", "")]
    assert roster.lines == [1, 3, 4]


def test_short_name_is_first_name_and_last_initial():
    assert Person("Ola", "Nordmann").short_name == "Ola N."
    assert Person("Anne Marie", "Ødegård").short_name == "Anne Marie Ø."
    assert Person("Muhammad", "").short_name == "Muhammad"


def test_duplicates_and_bad_rows_are_listed_by_line():
    roster = parse("name,role\nOla Nordmann,elev\nola nordmann,elev\n,elev\n=HYPERLINK(1),elev\nKari Berg,rektor\n")
    assert [p.first_name for p in roster.people] == ["Ola"]
    assert [(d.line, d.message) for d in roster.duplicates] == [(3, "the same person as on line 2")]
    assert [e.line for e in roster.errors] == [4, 5, 6]
    assert "formula" in roster.errors[1].message
    assert "role" in roster.errors[2].message


@pytest.mark.parametrize("cell", ["01020312345", "010203 12345", "01.02.2010", "1.2.10", "2010-02-01",
                                  "01/02/2010", "2010.2.1"])
def test_a_roster_with_an_id_number_or_birth_date_is_refused(cell):
    with pytest.raises(RosterError, match="national identity number or a date of birth") as e:
        parse(f"name,class\nOla Nordmann,8B\nKari Berg,{cell}\n")
    assert cell not in str(e.value)
    assert "line 3" in str(e.value)


def test_a_pasted_list_with_an_id_number_is_refused():
    with pytest.raises(RosterError, match="national identity number"):
        parse_roster_text("Ola Nordmann\nKari Berg 01020312345\n", max_rows=10)


def test_an_xlsx_birth_date_cell_is_refused():
    from datetime import date

    with pytest.raises(RosterError, match="date of birth"):
        parse_roster_file(xlsx([["Name", "Class"], ["Ola Nordmann", date(2010, 2, 1)]]), "r.xlsx", max_rows=10)


@pytest.mark.parametrize("column", ["fødselsnummer", "birth date", "allergies", "phone", "e-mail"])
def test_a_roster_with_any_other_column_is_refused(column):
    with pytest.raises(RosterError, match="may only have the columns") as e:
        parse(f"name,{column}\nOla Nordmann,x\n")
    assert column in str(e.value)


def test_a_roster_without_a_name_column_is_refused():
    with pytest.raises(RosterError, match="needs a column for the name"):
        parse("role,class\nelev,8B\n")


def test_a_roster_over_the_row_limit_is_refused():
    with pytest.raises(RosterError, match="more than 3 rows"):
        parse("name\n" + "".join(f"Pupil Number{chr(65 + i)}\n" for i in range(4)), max_rows=3)
    with pytest.raises(RosterError, match="more than 3 names"):
        parse_roster_text("A\nB\nC\nD\n", max_rows=3)


def test_spreadsheet_errors_become_roster_errors():
    with pytest.raises(RosterError, match="binary data"):
        parse_roster_file(b"name\n\x00\x01", "roster.csv", max_rows=10)


ANY_BYTES = (st.binary(max_size=400) | st.text(max_size=300).map(str.encode)
             | st.binary(max_size=200).map(b"PK\x03\x04".__add__))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(ANY_BYTES)
def test_any_bytes_give_a_roster_or_a_roster_error(data):
    try:
        parse_roster_file(data, "roster.csv", max_rows=50)
    except RosterError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_pasted_text_gives_a_roster_or_a_roster_error(text):
    try:
        parse_roster_text(text, max_rows=50)
    except RosterError:
        pass
