"""Finding national identity numbers and dates of birth in text a school sends (SECURITY.md R34): a roster may hold
names, role and class only, and pupils are minors.

What counts, in any grouping of spaces, dots, hyphens, slashes or plus signs:
- Norwegian fødselsnummer and D-numbers (11 digits, two mod-11 check digits), also with the leading zero Excel
  drops from a number cell (10 digits);
- Swedish personnummer and samordningsnummer (10 or 12 digits, Luhn check digit);
- Danish CPR numbers (10 digits starting with a date; their check digit was given up in 2007);
- Finnish HETU (DDMMYY, a century sign, 3 digits and a check character);
- dates: 01.01.1999, 1.1.99, 1999-01-01, 01/01/99, 010199, 19990101, "1. januar 1999", "1 jan 1999".

Any run of ten or more digits is refused as well, valid check digits or not: a mistyped identity number is still
one, and no class or name has ten digits.
"""

import re
from datetime import date

IDENTITY_NUMBER = "a national identity number"
DATE_OF_BIRTH = "a date of birth"

# Digits that may be grouped by single separators: "010199 12345", "01.01.99-123.45".
_DIGIT_RUN = re.compile(r"(?<![\d])\d+(?:[ \t./+-]{1,3}\d+)*(?![\d])")
_HETU = re.compile(r"(?<![\w])(\d{6})[ ]?([-+A-FU-Y])[ ]?(\d{3})[ ]?([0-9A-Y])(?![\w])", re.IGNORECASE)
_HETU_CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"
_SEPARATED_DATE = re.compile(r"(?<![\d])(\d{1,4})[ ]?[./-][ ]?(\d{1,2})[ ]?[./-][ ]?(\d{1,4})(?![\d])")
MONTHS = {
    1: "januar january janvier jan tammikuu tammi", 2: "februar february febr feb helmikuu helmi",
    3: "mars march marts mar maaliskuu maalis", 4: "april apr huhtikuu huhti", 5: "mai may maj toukokuu touko",
    6: "juni june jun kesäkuu kesä", 7: "juli july jul heinäkuu heinä", 8: "august augusti aug elokuu elo",
    9: "september sept sep syyskuu syys", 10: "oktober october okt oct lokakuu loka",
    11: "november nov marraskuu marras", 12: "desember december des dec joulukuu joulu",
}
_MONTH_NUMBER = {word: number for number, words in MONTHS.items() for word in words.split()}
_WORDED_DATE = re.compile(
    r"(?<![\d])(\d{1,2})\.?\s*(?:de\s+)?(" + "|".join(sorted(_MONTH_NUMBER, key=len, reverse=True)) +
    r")[a-zäö]*\.?,?\s*(\d{2}|\d{4})(?![\d])", re.IGNORECASE)


def find(text: str) -> str | None:
    """What sensitive thing `text` holds (IDENTITY_NUMBER or DATE_OF_BIRTH), or None. Never returns the value."""
    if not text or not any(c.isdigit() for c in text):
        return None
    if _HETU.search(text) and any(_is_hetu(*m.groups()) for m in _HETU.finditer(text)):
        return IDENTITY_NUMBER
    for match in _DIGIT_RUN.finditer(text):
        kind = _digits_kind(re.sub(r"\D", "", match.group()))
        if kind:
            return kind
    if any(_is_date_parts(*m.groups()) for m in _SEPARATED_DATE.finditer(text)):
        return DATE_OF_BIRTH
    for m in _WORDED_DATE.finditer(text):
        if _is_date(int(m.group(1)), _MONTH_NUMBER[m.group(2).casefold()], _year(m.group(3))):
            return DATE_OF_BIRTH
    return None


def _digits_kind(digits: str) -> str | None:
    if len(digits) >= 10 or is_norwegian(digits) or is_swedish(digits):
        return IDENTITY_NUMBER
    if len(digits) == 6 and (_ddmmyy(digits) or _is_date(int(digits[4:]), int(digits[2:4]), _year(digits[:2]))):
        return DATE_OF_BIRTH
    if len(digits) == 8 and (_is_date(int(digits[:2]), int(digits[2:4]), int(digits[4:]))
                             or _is_date(int(digits[6:]), int(digits[4:6]), int(digits[:4]))):
        return DATE_OF_BIRTH
    return None


# Check digits: used by the detector's tests to make valid numbers, and to say what a run of digits is.


def is_norwegian(digits: str) -> bool:
    """A fødselsnummer or D-number (day + 40), with both mod-11 check digits right; also without its leading zero."""
    if len(digits) == 10:
        digits = "0" + digits
    if len(digits) != 11 or not digits.isdigit():
        return False
    d = [int(c) for c in digits]
    k1 = _mod11(d[:9], (3, 7, 6, 1, 8, 9, 4, 5, 2))
    k2 = _mod11(d[:9] + [k1 or 0], (5, 4, 3, 2, 7, 6, 5, 4, 3, 2))
    day = d[0] * 10 + d[1]
    return k1 == d[9] and k2 == d[10] and 1 <= day % 40 <= 31 and 1 <= (d[2] * 10 + d[3]) % 40 <= 12


def _mod11(digits: list[int], weights: tuple[int, ...]) -> int | None:
    rest = 11 - sum(a * b for a, b in zip(digits, weights, strict=True)) % 11
    return {11: 0, 10: None}.get(rest, rest)


def is_swedish(digits: str) -> bool:
    """A personnummer or samordningsnummer (day + 60), 10 or 12 digits, with its Luhn check digit right."""
    if len(digits) == 12:
        digits = digits[2:]
    if len(digits) != 10 or not digits.isdigit():
        return False
    month, day = int(digits[2:4]), int(digits[4:6])
    return 1 <= month <= 12 and 1 <= day % 60 <= 31 and luhn_ok(digits)


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        n = int(c) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def _is_hetu(birth: str, century: str, individual: str, check: str) -> bool:
    return (_ddmmyy(birth) is not None
            and _HETU_CHECK[int(birth + individual) % 31] == check.upper())


def hetu_check(birth: str, individual: str) -> str:
    return _HETU_CHECK[int(birth + individual) % 31]


# Dates


def _ddmmyy(digits: str) -> bool | None:
    return _is_date(int(digits[:2]), int(digits[2:4]), _year(digits[4:])) or None


def _is_date_parts(a: str, b: str, c: str) -> bool:
    """1.1.99, 01/01/1999 or 1999-01-01."""
    if len(a) == 4:
        return len(c) <= 2 and _is_date(int(c), int(b), int(a))
    return len(a) <= 2 and len(c) in (2, 4) and _is_date(int(a), int(b), _year(c))


def _year(text: str) -> int:
    year = int(text)
    return year if len(text) == 4 else 2000 + year if year < 50 else 1900 + year


def _is_date(day: int, month: int, year: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return 1900 <= year <= 2100
