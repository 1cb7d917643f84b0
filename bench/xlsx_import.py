"""Benchmark: read and parse a 100,000-row host list as CSV and as XLSX (issue 11, item 9).

    .venv/bin/python bench/xlsx_import.py [--rows 100000] [--repeat 3] [--profile csv|xlsx]

Builds one host list (name, phone, department, email, language; Norwegian names, +47 4xx mobile numbers) as CSV
UTF-8 with semicolons and as an XLSX laid out the way Excel saves one (shared strings, cell references, every fifth
phone a number cell, as Excel keeps a typed 41234567), in a temp folder. Each file is read and parsed in a fresh
Python process, so its peak memory (VmHWM) is its own and the first read pays the reader's import, as
`flask hosts import` does. Prints a Markdown table: wall seconds, CPU seconds in brackets (steadier when the
machine is shared), and peak RSS with the RSS after imports in brackets. The database write is not timed here:
bench/run.py times the whole `flask hosts import`.
"""

import argparse
import csv
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
FIRST = ["Ola", "Kari", "Åse", "Ingrid", "Øystein", "Bjørn", "Sigrid", "Håkon", "Marte", "Jørgen", "Solveig",
         "Eirik", "Ragnhild", "Tor", "Astrid", "Henrik", "Ingebjørg", "Magnus", "Nora", "Emma", "Aksel", "Liv",
         "Sindre", "Thea", "Mathias", "Ida", "Jonas", "Maja", "Amir", "Fatima", "Oleksandr", "Siri", "Kjell"]
LAST = ["Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen", "Kristiansen", "Jensen",
        "Karlsen", "Pettersen", "Eriksen", "Berg", "Haugen", "Hagen", "Dahl", "Jørgensen", "Halvorsen", "Lund",
        "Sørensen", "Moen", "Strand", "Solberg", "Eide", "Bakken", "Lie", "Nguyen", "Ali", "Solheim", "Nygård",
        "Holm", "Sæther", "Aas", "Myhre", "Ødegård", "Aasen", "Fjeld", "Brekke", "Vik", "O'Brien", "Ærø"]
DEPARTMENTS = ["Salg", "Økonomi", "HR", "IT", "Juridisk", "Teknologi", "Markedsføring", "Resepsjon", "Ledelse",
               "Kundeservice", "Innkjøp", "Drift og vedlikehold"]
LANGUAGE = ["nb", "nb", "nb", "nb", "nn", "en", "sv", "pl", ""]
MOBILE_PREFIXES = [40, 41, 46, 47, 48]  # Norwegian mobile numbers: 4xx xx xxx
HEADER = ["Navn", "Mobil", "Avdeling", "E-post", "Språk"]
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT_TYPES = (
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>'
)
STYLES = (
    f'<styleSheet xmlns="{MAIN}"><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
    '</fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
)
_ASCII = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "'": ""})


def host_rows(count, rng):
    """Rows of the list: phones distinct (an import refuses a number twice); an int is a number cell in XLSX."""
    rows = []
    for i, n in enumerate(rng.sample(range(5_000_000), count)):
        mobile = MOBILE_PREFIXES[n // 1_000_000] * 1_000_000 + n % 1_000_000
        first, last = rng.choice(FIRST), rng.choice(LAST)
        digits = str(mobile)
        phone = [f"+47 {digits[:3]} {digits[3:5]} {digits[5:]}", f"{digits[:3]} {digits[3:5]} {digits[5:]}",
                 f"+47{digits}", digits, mobile][i % 5]
        email = f"{first}.{last}.{i}@bedrift.no".lower().translate(_ASCII)
        rows.append([f"{first} {last}", phone, rng.choice(DEPARTMENTS), email, rng.choice(LANGUAGE)])
    return rows


def write_csv(path, rows):
    with open(path, "w", newline="", encoding="utf-8-sig") as f:  # Excel's "CSV UTF-8"
        writer = csv.writer(f, delimiter=";")
        writer.writerow(HEADER)
        writer.writerows(rows)


def write_xlsx(path, rows):
    """The workbook as Excel saves it: strings in the shared-strings table, cell references, numbers as numbers."""
    strings = {}
    sheet = [f'<row r="1" spans="1:5">{_cells(1, HEADER, strings)}</row>']
    sheet += [f'<row r="{line}" spans="1:5">{_cells(line, row, strings)}</row>' for line, row in enumerate(rows, 2)]
    shared = "".join(f"<si><t>{escape(text)}</t></si>" for text in strings)
    parts = {
        "[Content_Types].xml": CONTENT_TYPES,
        "_rels/.rels": f'<Relationships xmlns="{RELS}"><Relationship Id="rId1" Type="{DOC}/officeDocument" '
                       'Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook xmlns="{MAIN}" xmlns:r="{DOC}"><sheets>'
                           '<sheet name="Ansatte" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{RELS}">'
            f'<Relationship Id="rId1" Type="{DOC}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{DOC}/sharedStrings" Target="sharedStrings.xml"/>'
            f'<Relationship Id="rId3" Type="{DOC}/styles" Target="styles.xml"/></Relationships>',
        "xl/styles.xml": STYLES,
        "xl/sharedStrings.xml": f'<sst xmlns="{MAIN}" count="{len(rows) * 4 + 5}" '
                                f'uniqueCount="{len(strings)}">{shared}</sst>',
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{MAIN}" xmlns:r="{DOC}"><dimension ref="A1:E{len(rows) + 1}"/>'
                                    f'<sheetData>{"".join(sheet)}</sheetData></worksheet>',
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, xml in parts.items():
            archive.writestr(name, '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + xml)


def _cells(line, row, strings):
    cells = []
    for column, value in zip("ABCDE", row, strict=True):
        if isinstance(value, int):
            cells.append(f'<c r="{column}{line}"><v>{value}</v></c>')
        elif value:
            cells.append(f'<c r="{column}{line}" t="s"><v>{strings.setdefault(value, len(strings))}</v></c>')
    return "".join(cells)


def child(path, profile):
    """One measured run in this fresh process; prints its figures as JSON."""
    sys.path.insert(0, str(ROOT))
    from kiosk.hosts.directory import parse_hosts
    from kiosk.spreadsheet import read_table

    baseline = peak_mb()
    data = Path(path).read_bytes()
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    start, start_cpu = time.perf_counter(), time.process_time()
    table = read_table(data, Path(path).name, max_rows=200_000)  # the CLI's limit (kiosk/cli.py)
    read, read_cpu = time.perf_counter(), time.process_time()
    result = parse_hosts(table, region="NO")
    parsed, parsed_cpu = time.perf_counter(), time.process_time()
    if profiler:
        import pstats

        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(25)
    peak = peak_mb()
    print(json.dumps({"read": read - start, "parse": parsed - read, "cpu": parsed_cpu - start_cpu,
                      "read_cpu": read_cpu - start_cpu, "parse_cpu": parsed_cpu - read_cpu, "peak_mb": peak,
                      "baseline_mb": baseline, "rows": len(table.rows), "hosts": len(result.hosts),
                      "errors": [f"{e.line}: {e.message}" for e in result.errors[:3]]}))


def peak_mb():
    """This process's peak RSS. Linux's ru_maxrss carries the parent's peak over fork and exec; VmHWM does not."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux, the BSDs
    return int(next(line for line in status.splitlines() if line.startswith("VmHWM:")).split()[1]) / 1024


def run_child(path, profile=None):
    command = [sys.executable, __file__, "--child", str(path)] + (["--profile-child"] if profile else [])
    done = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True)
    if profile:
        print(done.stderr, file=sys.stderr)
    return json.loads(done.stdout)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", choices=["csv", "xlsx"], help="print a cProfile of one run to stderr")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--profile-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.profile_child)
    with tempfile.TemporaryDirectory(prefix="velkommen-bench-") as folder:
        files = {"CSV": Path(folder) / "hosts.csv", "XLSX": Path(folder) / "hosts.xlsx"}
        rows = host_rows(args.rows, random.Random(11))
        write_csv(files["CSV"], rows)
        write_xlsx(files["XLSX"], rows)
        del rows  # each child process reads the files; this one need not keep the list
        if args.profile:
            run_child(files[args.profile.upper()], profile=True)
        else:
            print_table(files, args.rows, args.repeat)
    return None


def print_table(files, count, repeat):
    print(f"| {count:,} hosts, median of {repeat} fresh processes | file MB | read_table s (CPU) | "
          "parse_hosts s (CPU) | total s (CPU) | peak RSS MB (after imports) |")
    print("|---|---|---|---|---|---|")
    for label, path in files.items():
        runs = [run_child(path) for _ in range(repeat)]
        assert all(run["hosts"] == count for run in runs), runs[0]["errors"]
        m = {key: statistics.median(run[key] for run in runs) for key in runs[0] if isinstance(runs[0][key], float)}
        print(f"| {label} | {path.stat().st_size / 1e6:.1f} | {m['read']:.2f} ({m['read_cpu']:.2f}) | "
              f"{m['parse']:.2f} ({m['parse_cpu']:.2f}) | {m['read'] + m['parse']:.2f} ({m['cpu']:.2f}) | "
              f"{m['peak_mb']:.0f} ({m['baseline_mb']:.0f}) |")

if __name__ == "__main__":
    main()
