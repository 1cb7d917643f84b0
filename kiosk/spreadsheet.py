"""Tables from the files Excel and Google Sheets export (CSV or XLSX), and CSV that opens safely in them.

read_table() turns untrusted bytes into a header and rows, or raises SpreadsheetError with a message a
receptionist understands. write_csv() escapes formula triggers (SECURITY.md R28); read_table() undoes that
escape, so an export imports again unchanged.
"""

import codecs
import csv
import io
import re
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TYPE_CHECKING, AnyStr, TextIO

if TYPE_CHECKING:  # openpyxl is imported only when an XLSX file comes
    from openpyxl.workbook.workbook import Workbook

MAX_ROWS = 100_000
MAX_COLUMNS = 1_000
# A small XLSX can unpack to gigabytes; refuse before openpyxl reads it.
MAX_UNPACKED_BYTES = 200 * 1024 * 1024

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\0")
ESCAPE = "'"
_ESCAPED = (*FORMULA_TRIGGERS, ESCAPE)
DELIMITERS = (",", ";", "\t")
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_BYTES = re.compile(_CONTROL.pattern.encode())
_SNIFF_CHARS = 64 * 1024

SAVE_AS = "In Excel or Google Sheets, save or download it as “CSV UTF-8” or as an Excel workbook (.xlsx)."
NOT_TEXT = "This file is not a spreadsheet: it contains binary data. " + SAVE_AS


class SpreadsheetError(ValueError):
    """The file cannot be read as a table; str(error) says why in plain words."""


@dataclass(frozen=True)
class Row:
    line: int  # the row number Excel shows for this row
    values: dict[str, str]


@dataclass(frozen=True)
class LineProblem:
    """A row that cannot be used: the line the spreadsheet shows it on, and why ("the name is missing")."""

    line: int
    message: str


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[Row]


def read_table(data: bytes, filename: str, *, max_rows: int = MAX_ROWS, max_columns: int = MAX_COLUMNS) -> Table:
    """The first sheet of an XLSX file, or a CSV file, as a normalised header and trimmed rows.

    The content decides the format, not the name: a ZIP is read as XLSX, anything else as CSV text.
    """
    if not data:
        raise SpreadsheetError("The file is empty.")
    if data.startswith(ZIP_MAGIC):
        records = _xlsx_records(data, filename)
    else:
        records = _csv_records(_decode(data))
    return _table(records, max_rows=max_rows, max_columns=max_columns)


def safe_cell(value: object) -> str:
    """The text of a cell for export, with a ' in front if a spreadsheet could read it as a formula (R28)."""
    text = "" if value is None else str(value)
    return ESCAPE + text if text.startswith(_ESCAPED) else text


def write_csv(rows: Iterable[Iterable[object]], header: Iterable[str], stream: TextIO) -> None:
    """Write RFC 4180 CSV with safe cells to a text stream opened with encoding="utf-8", newline="".

    The byte order mark makes Excel read the file as UTF-8, so æ, ø and å survive.
    """
    stream.write("\ufeff")
    writer = csv.writer(stream, quoting=csv.QUOTE_MINIMAL)
    writer.writerow([safe_cell(name) for name in header])
    writer.writerows([safe_cell(value) for value in row] for row in rows)


def _table(records: Iterable[tuple[int, list[str]]], *, max_rows: int, max_columns: int) -> Table:
    rows = ((line, cells) for line, cells in records if any(cells))
    header = _header(next(rows, None), max_columns)
    table = Table(header, [])
    for line, cells in rows:
        if len(table.rows) == max_rows:
            raise SpreadsheetError(f"The file has more than {max_rows:,} rows. Split it into smaller files.")
        _check_width(line, cells, max_columns)
        table.rows.append(Row(line, _values(header, cells)))
    if not table.rows:
        raise SpreadsheetError("The file has a header row but no rows below it.")
    return table


def _header(first: tuple[int, list[str]] | None, max_columns: int) -> list[str]:
    if first is None:
        raise SpreadsheetError("The file has no header row: it is empty or has only blank lines.")
    _, cells = first
    names = [" ".join(cell.split()).casefold() for cell in cells]
    while not names[-1]:
        names.pop()
    if len(names) > max_columns:
        raise SpreadsheetError(f"The header row has more than {max_columns:,} columns.")
    twice = sorted(name for name, count in Counter(names).items() if name and count > 1)
    if twice:
        raise SpreadsheetError(f"The header row has the column “{twice[0]}” more than once. Keep one of them.")
    return names


def _check_width(line: int, cells: list[str], max_columns: int) -> None:
    if len(cells) > max_columns and any(cells[max_columns:]):
        raise SpreadsheetError(f"Line {line} has more than {max_columns:,} columns.")


def _values(header: list[str], cells: list[str]) -> dict[str, str]:
    values = dict.fromkeys(header, "")
    values.update(zip(header, cells, strict=False))  # short rows keep "" for the missing cells
    values.pop("", None)
    return values


def _clean(text: str) -> str:
    """Trim spaces, and undo safe_cell(): a ' that escapes a formula trigger or another '."""
    text = text.strip()
    return text[1:] if text.startswith(ESCAPE) and text[1:].startswith(_ESCAPED) else text


# CSV


def _decode(data: bytes) -> str:
    if data.startswith(OLE_MAGIC):
        raise SpreadsheetError("This is an old-style Excel file (.xls), which cannot be read. " + SAVE_AS)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _text_only(_decode_as(data, "utf-16"))  # Excel's "Unicode text"
    _text_only(data)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        _refuse_mixed(data)
        return _decode_as(data, "cp1252")  # Excel's "CSV (comma delimited)" on Windows


def _refuse_mixed(data: bytes) -> None:
    """A file that is neither all UTF-8 nor all Windows-1252 (lines pasted together from two sources) would show
    "Ã˜degÃ¥rd" for "Ødegård" whichever way it is read: refuse it, naming the first line that is not UTF-8."""
    lines = data.split(b"\n")
    utf8 = any(not line.isascii() and _is_utf8(line) for line in lines)
    first_bad = next((number for number, line in enumerate(lines, start=1) if not _is_utf8(line)), None)
    if utf8 and first_bad is not None:
        raise SpreadsheetError(
            f"This file mixes two ways of writing letters: line {first_bad} is written differently from other lines "
            "with letters like Æ, Ø or Å, so names like Ødegård would come out garbled. " + SAVE_AS)


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _text_only(content: AnyStr) -> AnyStr:
    """Refuse NUL and other control characters (bytes or str): no spreadsheet exports them in CSV."""
    pattern = _CONTROL if isinstance(content, str) else _CONTROL_BYTES
    if pattern.search(content):
        raise SpreadsheetError(NOT_TEXT)
    return content


def _decode_as(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as e:
        raise SpreadsheetError("The letters in this file could not be read. " + SAVE_AS) from e


def _csv_records(text: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text), skipinitialspace=True)
    line = 0
    try:
        for line, cells in enumerate(reader, start=1):
            yield line, [_clean(cell) for cell in cells]
    except csv.Error as e:
        raise SpreadsheetError(
            f"Line {line + 1} could not be read: it has a cell that is far too long, "
            "or a quote mark (\") that is never closed."
        ) from e


def sniff_delimiter(text: str) -> str:
    """Comma, semicolon or tab: whichever the first non-blank line has most of, outside quotes."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = seen = False
    for char in text[:_SNIFF_CHARS]:
        if char == '"':
            quoted = not quoted
        elif quoted:
            continue
        elif char in counts:
            counts[char] += 1
        elif char in "\r\n" and seen:
            break
        seen = seen or not char.isspace()
    return max(DELIMITERS, key=counts.__getitem__)


# XLSX


def _xlsx_records(data: bytes, filename: str) -> Iterator[tuple[int, list[str]]]:
    _check_zip(data, filename)
    workbook = _open_workbook(data)
    try:
        for line, values in enumerate(_sheet_values(workbook), start=1):
            yield line, [_clean(_cell_text(value)) for value in values]
    finally:
        workbook.close()


def _check_zip(data: bytes, filename: str) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
        raise SpreadsheetError("This Excel file is damaged and cannot be read. " + SAVE_AS) from e
    if "xl/workbook.xml" not in {member.filename for member in members}:
        raise SpreadsheetError(f"{filename} is a ZIP archive or another kind of document, not a spreadsheet. {SAVE_AS}")
    if sum(member.file_size for member in members) > MAX_UNPACKED_BYTES:
        raise SpreadsheetError("This Excel file is too large when unpacked. Split it into smaller files.")


def _open_workbook(data: bytes) -> "Workbook":
    # openpyxl takes a while to import, and only XLSX files need it.
    import openpyxl

    try:
        return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many types (KeyError, zipfile, XML, ValueError) on bad files
        raise SpreadsheetError("This Excel file is damaged and cannot be read. " + SAVE_AS) from e


def _sheet_values(workbook: "Workbook") -> Iterator[tuple[object, ...]]:
    try:
        sheet = workbook.worksheets[0]
        # The stored sheet size can be wrong or huge; read each row to its last cell instead.
        sheet.reset_dimensions()
        yield from sheet.iter_rows(values_only=True)
    except Exception as e:  # the sheet's XML is parsed lazily, so damage shows up while iterating
        raise SpreadsheetError("This Excel file is damaged and cannot be read. " + SAVE_AS) from e


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a phone number typed into a number cell: 41234567.0
    if isinstance(value, datetime) and value.time() == time(0):
        return value.date().isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)
