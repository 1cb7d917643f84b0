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
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import AnyStr, TextIO

from python_calamine import CalamineError, CalamineSheet, CalamineWorkbook, SheetTypeEnum

MAX_ROWS = 100_000
MAX_COLUMNS = 1_000
# A small XLSX can unpack to gigabytes; refuse before it is unpacked.
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
# calamine holds a sheet as a grid from its first to its farthest filled cell, 32 bytes a cell: 160 MB at most.
MAX_CELLS = 5_000_000

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
DAMAGED = "This Excel file is damaged and cannot be read. " + SAVE_AS


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


def _cleaned(cells: Iterable[str]) -> list[str]:
    """Cells with spaces trimmed, and safe_cell() undone: a ' that escapes a formula trigger or another '."""
    cleaned = [cell.strip() for cell in cells]
    if ESCAPE not in "".join(cleaned):  # most rows: one look at the whole row
        return cleaned
    return [_unescaped(cell) if cell.startswith(ESCAPE) else cell for cell in cleaned]


def _unescaped(text: str) -> str:
    return text[1:] if text[1:].startswith(_ESCAPED) else text


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
            yield line, _cleaned(cells)
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
#
# python-calamine reads a sheet whole, into a grid as tall and wide as its farthest cell with a value (32 bytes a
# cell), and when it cannot get that memory the process stops: no exception to catch. So the parts of the ZIP
# are unpacked here first (no more than each says it holds, CRC checked), measured, and packed again uncompressed:
# calamine then reads exactly the bytes that were measured, whatever its own ZIP reader would make of the archive.
# Cell references are ASCII, so the measuring searches the XML as bytes; it may overestimate a sheet, never
# underestimate it.

# A cell, <c ...> or <x:c ...>; the group is not empty when its first attribute is r.
_CELL_TAG = re.compile(rb"<(?!/)(?:[^\s<>:]*:)*c(?:([ \t\n\f\r]+r[ \t\n\f\r]*=)|[\s/>])")
_ROW_TAG = re.compile(rb"<(?:[^\s<>:]*:)*/?row[\s/>]")
# Every attribute named r, anywhere: calamine takes a cell's position from the last r it has, if any.
_REFERENCE = re.compile(rb"r(?<![\w:.\-]r)[ \t\n\f\r]*=[ \t\n\f\r]*[\"']([A-Za-z]*)([0-9]*)[\"']")
# Parts only calamine's XLSB and ODS readers open. calamine guesses the format, and tries those when its XLSX reader
# fails; without these parts it can only read the archive as XLSX, the format that was measured.
_OTHER_FORMATS = {"xl/workbook.bin", "mimetype"}
# RuntimeError: a part is encrypted, or (NotImplementedError) packed in a way Python cannot unpack.
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError, RuntimeError)
_FAR = 10**12  # further out than any sheet can reach: a reference too long to be real
_CHUNK = 256 * 1024


def _xlsx_records(data: bytes, filename: str) -> Iterator[tuple[int, list[str]]]:
    sheet = _first_sheet(_repacked(data, filename))
    padding = [""] * (sheet.start or (0, 0))[1]  # calamine leaves out the blank columns left of the first value
    # iter_rows() gives the blank rows above the first value too, so the count is the row number Excel shows.
    for line, values in enumerate(sheet.iter_rows(), start=1):
        yield line, padding + _cleaned([value if type(value) is str else _cell_text(value) for value in values])


def _repacked(data: bytes, filename: str) -> io.BytesIO:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except _ZIP_ERRORS as e:
        raise SpreadsheetError(DAMAGED) from e
    with archive:
        _check_zip(archive.infolist(), filename)
        return _measured_copy(archive)


def _check_zip(members: list[zipfile.ZipInfo], filename: str) -> None:
    if "xl/workbook.xml" not in {member.filename for member in members}:
        raise SpreadsheetError(f"{filename} is a ZIP archive or another kind of document, not a spreadsheet. {SAVE_AS}")
    if sum(member.file_size for member in members) > MAX_UNPACKED_BYTES:
        raise SpreadsheetError("This Excel file is too large when unpacked. Split it into smaller files.")


def _measured_copy(archive: zipfile.ZipFile) -> io.BytesIO:
    copy = io.BytesIO()
    with zipfile.ZipFile(copy, "w", zipfile.ZIP_STORED) as target:
        for name in dict.fromkeys(archive.namelist()):  # a name twice: Python reads the last, and so will calamine
            if name.replace("\\", "/").lower() in _OTHER_FORMATS:
                continue
            part = _unpacked(archive, name)
            _check_grid(part)
            target.writestr(name, part)
    copy.seek(0)
    return copy


def _unpacked(archive: zipfile.ZipFile, name: str) -> bytearray:
    part = bytearray()  # grown a megabyte at a time: ZipFile.read() holds a part twice while it joins the pieces
    try:
        with archive.open(name) as source:
            while piece := source.read(1024 * 1024):
                part += piece
    except _ZIP_ERRORS as e:
        raise SpreadsheetError(DAMAGED) from e
    return part


def _check_grid(part: bytearray) -> None:
    """Refuse a sheet whose grid in calamine would hold more than MAX_CELLS cells."""
    cells = unreferenced = rows = columns = 0
    for start, end in _chunks(part):
        found = _CELL_TAG.findall(part, start, end)
        cells += len(found)
        unreferenced += found.count(b"")
        references = _REFERENCE.findall(part, start, end)
        rows = max(rows, *map(_row_number, {digits for _, digits in references}), 0)
        columns = max(columns, *map(_column_number, {letters for letters, _ in references}), 0)
        if cells > MAX_CELLS or rows * max(columns, 1) > MAX_CELLS:
            raise _too_many_cells()
    if unreferenced:
        # A cell without a reference goes right of the one before it, a row without one below the row before.
        rows += sum(len(_ROW_TAG.findall(part, start, end)) for start, end in _chunks(part))
        if rows * (columns + cells) > MAX_CELLS:
            raise _too_many_cells()


def _too_many_cells() -> SpreadsheetError:
    return SpreadsheetError(
        f"This Excel file has more than {MAX_CELLS:,} cells, counting the empty ones between the list and its "
        "farthest filled cell. Delete what lies below and to the right of the list, or split it into smaller files."
    )


def _chunks(part: bytearray) -> Iterator[tuple[int, int]]:
    """Pieces of about _CHUNK bytes that end before a "<", so that no tag or reference is cut in two, and the lists
    of matches stay small whatever the part holds."""
    start = 0
    while start < len(part):
        end = part.find(b"<", start + _CHUNK)
        end = len(part) if end == -1 else end
        if part.count(b"=", start, end) > _CHUNK:  # more attributes than a piece can hold without a tag: not XML
            raise SpreadsheetError(DAMAGED)
        yield start, end
        start = end


def _row_number(digits: bytes) -> int:
    if not digits:
        return 0
    return int(digits) if len(digits) < 13 else _FAR


def _column_number(letters: bytes) -> int:
    if len(letters) > 8:
        return _FAR
    number = 0
    for letter in letters.upper():
        number = number * 26 + letter - ord("A") + 1
    return number


def _first_sheet(archive: io.BytesIO) -> CalamineSheet:
    """The first worksheet (a chart sheet can come first), read whole."""
    try:
        with CalamineWorkbook.from_filelike(archive) as workbook:
            archive.close()  # calamine holds its own copy: let this one go before the sheet is read
            kinds = [sheet.typ for sheet in workbook.sheets_metadata]
            return workbook.get_sheet_by_index(kinds.index(SheetTypeEnum.WorkSheet))
    except (CalamineError, ValueError) as e:  # ValueError: no worksheet at all
        raise SpreadsheetError(DAMAGED) from e


def _cell_text(value: object) -> str:
    """The text a cell shows. calamine gives numbers as floats, dates by their format (date, datetime, time or
    timedelta), and an error such as #N/A or #DIV/0! as "", like an empty cell."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a phone number typed into a number cell: 41234567.0
    if isinstance(value, datetime) and value.time() == time(0):
        return value.date().isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)
