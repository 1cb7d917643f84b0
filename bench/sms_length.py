"""SMS length: every SMS the kiosk sends, in every language, with a 20-character GSM-7 name and a UCS-2 one (issue 11).

    .venv/bin/python bench/sms_length.py [--texts]

Builds the texts as tests/test_sms_length.py does (the app's own functions, the catalogues as compiled) and prints
the Markdown tables of bench/README.md: characters, encoding (G: GSM-7, U: UCS-2) and segments for each template
and language. Where a template's wording depends on a count, the longest form is shown. --texts prints every text.
"""

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kiosk.i18n import LANGUAGES  # noqa: E402
from kiosk.sms.segments import encoding, length  # noqa: E402
from tests.test_sms_length import GSM_NAME, UCS2_NAME, build_app, sms_texts  # noqa: E402


def longest(built, template, language, names):
    """The form of a template that takes the most septets or code units."""
    return max((sms for sms in built if (sms.template, sms.language, sms.names) == (template, language, names)),
               key=lambda sms: (sms.segments, length(sms.text)))


def cell(sms):
    text = f"{len(sms.text)} {encoding(sms.text)[0]} {sms.segments}"
    return f"**{text}**" if sms.segments > 1 else text


def table(built, names):
    templates = list(dict.fromkeys(sms.template for sms in built))
    lines = [f"| {names.kind} | " + " | ".join(LANGUAGES) + " | worst |",
             "|---|" + "---|" * (len(LANGUAGES) + 1)]
    for template in templates:
        row = [longest(built, template, language, names) for language in LANGUAGES]
        worst = max(sms.segments for sms in row)
        lines.append(f"| {template} | " + " | ".join(cell(sms) for sms in row) + f" | {worst} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--texts", action="store_true", help="print every text too")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = build_app(folder)
        built = sms_texts(app)
        app.extensions["dispatcher"].drain(timeout=10)
    print(f"Visitor {GSM_NAME.visitor!r}, host {GSM_NAME.host!r}; visitor {UCS2_NAME.visitor!r}, "
          f"host {UCS2_NAME.host!r}. Each cell: characters, encoding, segments.\n")
    for names in (GSM_NAME, UCS2_NAME):
        print(table(built, names), end="\n\n")
    if args.texts:
        for sms in built:
            print(f"{sms.template} [{sms.language}, {sms.names.kind}] {len(sms.text)} {encoding(sms.text)} "
                  f"{sms.segments}: {sms.text}")


if __name__ == "__main__":
    main()
