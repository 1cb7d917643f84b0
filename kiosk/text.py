"""Rules for text people type or import that more than one domain checks."""

import re
import unicodedata

from kiosk.spreadsheet import FORMULA_TRIGGERS

_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")


def is_email(text: str | None) -> bool:
    """Something@domain.tld: enough to catch a typo, without pretending to validate a mailbox."""
    return bool(_EMAIL.fullmatch(text or ""))


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class TextError(ValueError):
    """A text cannot be used; the message completes "line N: …" ("the name is longer than 100 characters")."""


def cell_text(text: str, label: str, max_length: int, *, may_be_formula: bool = False) -> str:
    """`text` (in NFC) if it is one line of at most `max_length` characters that a spreadsheet will not run as a
    formula (R28; pass may_be_formula=True where an export escapes it anyway); raises TextError saying why."""
    text = unicodedata.normalize("NFC", text)
    if not may_be_formula and text.startswith(FORMULA_TRIGGERS):
        raise TextError(f"the {label} starts with =, +, -, @ or a tab, which a spreadsheet would run as a formula")
    if _CONTROL.search(text):
        raise TextError(f"the {label} contains a line break or another invisible character")
    if len(text) > max_length:
        raise TextError(f"the {label} is longer than {max_length} characters")
    return text


def sentence(text: str) -> str:
    """A translated sentence that may start with a placeholder ("resepsjonen har fått …") with a capital letter."""
    return text[:1].upper() + text[1:]
