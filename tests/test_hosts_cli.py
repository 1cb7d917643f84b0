import io
import stat
import zipfile

import openpyxl
import pytest

from kiosk import cli
from kiosk.hosts.directory import list_hosts

HEADER = "name,phone,department,email,language"


def hosts_file(tmp_path, *lines, header=HEADER, name="hosts.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes("\n".join([header, *lines, ""]).encode(encoding))
    return path


def xlsx_file(tmp_path, rows, *, name="hosts.xlsx"):
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    path = tmp_path / name
    workbook.save(path)
    return path


def invoke(runner, *args):
    result = runner.invoke(args=["hosts", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


def directory(db):
    return [(h.name, h.phone, h.department, h.email, h.language) for h in list_hosts(db)]


# Import


def test_import_adds_hosts_and_says_how_many(runner, db, tmp_path):
    path = hosts_file(tmp_path, "Kari Ødegård,412 34 567,Salg,kari@example.no,nb", "Ola Nordmann,+47 91234567,,,")

    result = invoke(runner, "import", str(path))

    assert result.exit_code == 0
    assert result.output == "Imported 2 hosts: 2 added, 0 updated, 0 unchanged.\n"
    assert directory(db) == [
        ("Kari Ødegård", "+4741234567", "Salg", "kari@example.no", "nb"),
        ("Ola Nordmann", "+4791234567", None, None, None),
    ]


def test_import_reads_a_windows_1252_file_with_semicolons_and_norwegian_headers(runner, db, tmp_path):
    path = hosts_file(tmp_path, "Åse Ærø;004741234567;Økonomi", header="Navn;Mobil;Avdeling", encoding="cp1252")

    assert invoke(runner, "import", str(path)).exit_code == 0
    assert directory(db) == [("Åse Ærø", "+4741234567", "Økonomi", None, None)]


def test_import_reads_an_xlsx_file_with_numbers_stored_as_numbers(runner, db, tmp_path):
    rows = [["Navn", "Mobil", "Språk"], ["Kari Ødegård", 41234567.0, "NB"], ["Ola", 4791234567, None]]
    path = xlsx_file(tmp_path, rows)

    assert invoke(runner, "import", str(path)).exit_code == 0
    assert directory(db) == [
        ("Kari Ødegård", "+4741234567", None, None, "nb"),
        ("Ola", "+4791234567", None, None, None),
    ]


def test_import_again_updates_instead_of_duplicating(runner, db, tmp_path):
    invoke(runner, "import", str(hosts_file(tmp_path, "Kari,41234567,Salg,,", name="first.csv")))

    result = invoke(runner, "import", str(hosts_file(tmp_path, "Kari Berg,412 34 567,HR,,", "Ola,91234567,,,")))

    assert result.output == "Imported 2 hosts: 1 added, 1 updated, 0 unchanged.\n"
    assert directory(db) == [("Kari Berg", "+4741234567", "HR", None, None), ("Ola", "+4791234567", None, None, None)]


def test_import_keeps_the_fields_a_file_has_no_column_for(runner, db, tmp_path):
    invoke(runner, "import", str(hosts_file(tmp_path, "Kari,41234567,Salg,kari@example.no,en", name="first.csv")))

    result = invoke(runner, "import", str(hosts_file(tmp_path, "Kari Berg,41234567", header="navn,mobil")))

    assert result.output == "Imported 1 host: 0 added, 1 updated, 0 unchanged.\n"
    assert directory(db) == [("Kari Berg", "+4741234567", "Salg", "kari@example.no", "en")]


def test_deactivate_missing_deactivates_the_hosts_not_in_the_file(runner, db, tmp_path):
    invoke(runner, "import", str(hosts_file(tmp_path, "Kari,41234567,,,", "Ola,91234567,,,", name="first.csv")))

    result = invoke(runner, "import", "--deactivate-missing", str(hosts_file(tmp_path, "Kari,41234567,,,")))

    assert result.output == "Imported 1 host: 0 added, 0 updated, 1 unchanged, 1 deactivated.\n"
    assert [(row["name"], row["active"]) for row in db.query("SELECT name, active FROM hosts ORDER BY name")] == [
        ("Kari", 1), ("Ola", 0)]


def test_import_matches_on_email_when_the_phone_number_changed(runner, db, tmp_path):
    invoke(runner, "import", str(hosts_file(tmp_path, "Kari,41234567,,kari@example.no,", name="first.csv")))

    result = invoke(runner, "import", str(hosts_file(tmp_path, "Kari,91234567,,KARI@example.no,")))

    assert result.output == "Imported 1 host: 0 added, 1 updated, 0 unchanged.\n"
    assert directory(db) == [("Kari", "+4791234567", None, "KARI@example.no", None)]


def test_a_file_with_a_bad_row_imports_nothing_and_lists_every_bad_row(runner, db, tmp_path):
    path = hosts_file(tmp_path, "Kari,41234567,,,", "Ola,22 12 34 56,,,", ",91234567,,,", "Per,91234568,,,")

    result = invoke(runner, "import", str(path))

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "line 3: the phone number 22 12 34 56 cannot be used: Enter a mobile number. "
        "We can only send text messages to mobile phones.",
        "line 4: the name is missing",
        "Error: Nothing was imported: 2 rows have problems (listed above). Fix them and import the file again, "
        "or add --skip-invalid to import the other 2 rows.",
    ]
    assert directory(db) == []


def test_a_file_with_a_bad_row_leaves_the_directory_unchanged(runner, db, tmp_path):
    invoke(runner, "import", str(hosts_file(tmp_path, "Kari,41234567,Salg,,", name="first.csv")))

    invoke(runner, "import", str(hosts_file(tmp_path, "Kari Berg,41234567,HR,,", "=cmd,91234567,,,")))

    assert directory(db) == [("Kari", "+4741234567", "Salg", None, None)]


def test_skip_invalid_imports_the_good_rows_and_lists_the_skipped_ones(runner, db, tmp_path):
    path = hosts_file(tmp_path, "Kari,41234567,,,", "Ola,22 12 34 56,,,", "Per,41234567,,,")

    result = invoke(runner, "import", "--skip-invalid", str(path))

    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        "line 3: the phone number 22 12 34 56 cannot be used: Enter a mobile number. "
        "We can only send text messages to mobile phones.",
        "line 4: the phone number is also on line 2",
    ]
    assert result.stdout.splitlines() == [
        "Imported 1 host: 1 added, 0 updated, 0 unchanged.",
        "Skipped 2 rows with problems (listed above).",
    ]
    assert directory(db) == [("Kari", "+4741234567", None, None, None)]


def test_import_names_the_columns_it_ignored(runner, tmp_path):
    result = invoke(runner, "import", str(hosts_file(tmp_path, "Kari,41234567,CEO", header="navn,mobil,tittel")))

    assert result.stdout.splitlines()[-1] == "Ignored the columns: tittel."


def _zip_renamed_csv():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hosts.csv", "name,phone\nKari,41234567\n")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "content, message",
    [
        (b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4, "This file is not a spreadsheet: it contains binary data"),
        (_zip_renamed_csv(), "hosts.csv is a ZIP archive or another kind of document, not a spreadsheet"),
        (b"name,phone\nKari\x00\x00,41234567\n", "This file is not a spreadsheet: it contains binary data"),
        (b"", "The file is empty."),
        (b"name,phone\r\n", "The file has a header row but no rows below it."),
        (b"\n\n", "The file has no header row"),
        (b"navn,avdeling\nKari,Salg\n", "The header row needs a column for the name"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), "This is an old-style Excel file (.xls)"),
    ],
)
def test_a_file_that_is_not_a_host_list_is_refused_in_plain_words(runner, db, tmp_path, content, message):
    path = tmp_path / "hosts.csv"
    path.write_bytes(content)

    result = invoke(runner, "import", str(path))

    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: hosts.csv: {message}")
    assert directory(db) == []


def test_a_file_larger_than_the_limit_is_refused_before_it_is_read(runner, db, tmp_path):
    path = tmp_path / "hosts.csv"
    with path.open("wb") as handle:
        handle.write(HEADER.encode() + b"\n" + b"Kari,41234567,,,\n")
        handle.truncate(cli.IMPORT_MAX_BYTES + 1)

    result = invoke(runner, "import", str(path))

    assert result.exit_code == 1
    assert result.stderr == (
        "Error: hosts.csv: The file is larger than 20 MB. Split it into smaller files and import each.\n"
    )
    assert directory(db) == []


def test_a_missing_file_is_refused(runner, tmp_path):
    result = invoke(runner, "import", str(tmp_path / "nowhere.csv"))

    assert result.exit_code == 2
    assert "does not exist" in result.stderr


# Export


def test_export_writes_csv_with_a_bom_to_stdout(runner, tmp_path):
    invoke(runner, "import", str(hosts_file(tmp_path, "Kari Ødegård,41234567,Salg,kari@example.no,nb")))

    result = invoke(runner, "export")

    assert result.stdout_bytes == (
        "\ufeffname,phone,department,email,language\r\nKari Ødegård,'+4741234567,Salg,kari@example.no,nb\r\n"
    ).encode("utf-8")


def test_export_output_writes_a_file_only_its_owner_can_read(runner, tmp_path):
    invoke(runner, "import", str(hosts_file(tmp_path, "Kari,41234567,,,")))
    output = tmp_path / "export.csv"

    result = invoke(runner, "export", "--output", str(output))

    assert result.stderr == f"Exported 1 hosts to {output}.\n"
    assert output.read_text(encoding="utf-8-sig").splitlines()[1] == "Kari,'+4741234567,,,"
    assert stat.S_IMODE(output.stat().st_mode) == 0o600


def test_export_then_import_changes_nothing(runner, db, tmp_path):
    lines = ["Kari Ødegård,41234567,Salg,kari@example.no,nb", "'t Hooft,+44 7400 123456,\"R&D, Oslo\",,en"]
    invoke(runner, "import", str(hosts_file(tmp_path, *lines)))
    before = directory(db)
    output = tmp_path / "export.csv"
    invoke(runner, "export", "--output", str(output))

    result = invoke(runner, "import", str(output))

    assert result.output == "Imported 2 hosts: 0 added, 0 updated, 2 unchanged.\n"
    assert directory(db) == before


# List


def test_list_shows_hosts_with_masked_phone_numbers(runner, tmp_path):
    invoke(runner, "import", str(hosts_file(tmp_path, "Kari Ødegård,41234567,Salg,,nb", "Ola,91234599,,,")))

    result = invoke(runner, "list")

    assert result.output.splitlines() == [
        "ID  Name          Phone           Department  Language",
        "1   Kari Ødegård  +47 4** ** *67  Salg        nb",
        "2   Ola           +47 9** ** *99",
    ]


def test_list_says_when_the_directory_is_empty(runner):
    assert invoke(runner, "list").output == "The directory is empty. Add hosts with: flask hosts import FILE\n"
