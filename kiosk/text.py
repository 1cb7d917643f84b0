"""Rules for text people type that more than one domain checks."""

import re

_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")


def is_email(text):
    """Something@domain.tld: enough to catch a typo, without pretending to validate a mailbox."""
    return bool(_EMAIL.fullmatch(text or ""))
