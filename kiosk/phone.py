"""Phone numbers, parsed once at the edge into a value object that holds E.164."""

import functools
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Self

import phonenumbers
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from phonenumbers import NumberParseException, PhoneNumberType

MOBILE_TYPES = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)


class InvalidPhoneError(ValueError):
    """A typed number cannot receive our SMS; `code` says why, `message` says it in plain words."""

    NOT_A_NUMBER = "not_a_number"
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    INVALID = "invalid"
    NOT_MOBILE = "not_mobile"
    COUNTRY_NOT_ALLOWED = "country_not_allowed"
    LOOKS_FOREIGN = "looks_foreign"

    MESSAGES = {
        NOT_A_NUMBER: _l("Enter a mobile number, for example 412 34 567."),
        TOO_SHORT: _l("This number is too short. Check that you typed all the digits."),
        TOO_LONG: _l("This number is too long. Check that you typed it correctly."),
        INVALID: _l("This is not a valid phone number. Check that you typed it correctly."),
        NOT_MOBILE: _l("Enter a mobile number. We can only send text messages to mobile phones."),
        COUNTRY_NOT_ALLOWED: _l("We cannot send text messages to numbers from this country. Please ask at the desk."),
        LOOKS_FOREIGN: _l("This looks like a number from %(country)s. Add %(prefix)s in front of it."),
    }

    def __init__(self, code: str, *, region: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.region = region  # LOOKS_FOREIGN: the country whose mobile number this would be

    @property
    def message(self) -> str:
        if self.code == self.LOOKS_FOREIGN and self.region:
            country = get_locale().territories.get(self.region, self.region) if get_locale() else self.region
            prefix = f"+{phonenumbers.country_code_for_region(self.region)}"
            if get_locale() and get_locale().character_order == "right-to-left":
                prefix = f"\u2066{prefix}\u2069"  # left-to-right isolate: "+46", not "46+", in Arabic
            return str(self.MESSAGES[self.code]) % {"country": country, "prefix": prefix}
        return str(self.MESSAGES[self.code])


_PARSE_CODES = {
    NumberParseException.TOO_SHORT_NSN: InvalidPhoneError.TOO_SHORT,
    NumberParseException.TOO_SHORT_AFTER_IDD: InvalidPhoneError.TOO_SHORT,
    NumberParseException.TOO_LONG: InvalidPhoneError.TOO_LONG,
}
_LENGTH_CODES = {
    phonenumbers.ValidationResult.TOO_SHORT: InvalidPhoneError.TOO_SHORT,
    phonenumbers.ValidationResult.TOO_LONG: InvalidPhoneError.TOO_LONG,
}
_ALLOWED_CHARACTERS = re.compile(r"[\d\s+().\-/]+")


@dataclass(frozen=True)
class PhoneNumber:
    e164: str

    @classmethod
    def parse(cls, raw: str | None, *, region: str, allowed_countries: Collection[str] | None = None,
              nearby: Collection[str] = ()) -> Self:
        """Parse what a person typed; raise InvalidPhoneError unless it is a mobile number we may text.

        A number without a country code that is wrong in `region` but a mobile number in one of the `nearby`
        countries is refused with LOOKS_FOREIGN, naming that country: "070-123 45 67" typed in Norway is Swedish.
        """
        text = (raw or "").strip()
        if not text or not _ALLOWED_CHARACTERS.fullmatch(text) or not any(c.isdigit() for c in text):
            raise InvalidPhoneError(InvalidPhoneError.NOT_A_NUMBER)
        fast = _home_mobile(text, region)
        if fast is not None and (allowed_countries is None or region in allowed_countries):
            return cls(fast)
        try:
            number = phonenumbers.parse(text, region)
        except NumberParseException as e:
            code = _PARSE_CODES.get(e.error_type, InvalidPhoneError.NOT_A_NUMBER)
            raise _foreign(text, region, nearby) or InvalidPhoneError(code) from e
        kind = phonenumbers.number_type(number)  # UNKNOWN exactly when is_valid_number() is False
        if kind == PhoneNumberType.UNKNOWN:
            length = phonenumbers.is_possible_number_with_reason(number)
            code = _LENGTH_CODES.get(length, InvalidPhoneError.INVALID)
            raise _foreign(text, region, nearby) or InvalidPhoneError(code)
        if kind not in MOBILE_TYPES:
            raise InvalidPhoneError(InvalidPhoneError.NOT_MOBILE)
        if allowed_countries is not None and phonenumbers.region_code_for_number(number) not in allowed_countries:
            raise InvalidPhoneError(InvalidPhoneError.COUNTRY_NOT_ALLOWED)
        return cls(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))

    @property
    def region(self) -> str | None:
        return phonenumbers.region_code_for_number(phonenumbers.parse(self.e164))

    @property
    def masked(self) -> str:
        """International form with all but the first and last two national digits hidden: +47 9** ** *67."""
        return mask(self.e164)

    def __str__(self) -> str:
        return self.e164


_SPECIAL_TYPES = ("premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan", "voicemail")


@functools.cache
def _home_rules(region: str) -> tuple[str, re.Pattern[str], list[re.Pattern[str]], re.Pattern[str]] | None:
    """The country code, the mobile pattern, the patterns phonenumbers checks before mobile and the leading digits
    of `region`; None for a region with a national prefix (0 in Sweden), which takes the full path."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.national_prefix or metadata.mobile is None:
        return None
    if not metadata.mobile.national_number_pattern:
        return None
    special = [re.compile(getattr(metadata, kind).national_number_pattern) for kind in _SPECIAL_TYPES
               if getattr(metadata, kind) is not None and getattr(metadata, kind).national_number_pattern]
    # A country code shared by several regions (+47: Norway and Svalbard) tells them apart by leading digits.
    leading = re.compile(metadata.leading_digits) if metadata.leading_digits else re.compile("")
    return str(metadata.country_code), re.compile(metadata.mobile.national_number_pattern), special, leading


def _home_mobile(text: str, region: str) -> str | None:
    """E.164 of a plain mobile number of `region` ("412 34 567", "+47 412 34 567", "004741234567"), decided with
    phonenumbers' own patterns without its full parser, which an import of 100,000 hosts spent 3 s in; None for
    anything else, which takes the full path (tests/test_phone.py checks the two agree)."""
    rules = _home_rules(region)
    digits = text.replace(" ", "")
    if rules is None or not digits.lstrip("+").isdigit() or digits.count("+") > 1:
        return None
    code, mobile, special, leading = rules
    if digits.startswith("+" + code):
        national = digits[1 + len(code):]
    elif digits.startswith("00" + code):
        national = digits[2 + len(code):]
    elif digits.isdigit():
        national = digits
    else:
        return None
    if not mobile.fullmatch(national) or not leading.match(national) or any(p.fullmatch(national) for p in special):
        return None
    return f"+{code}{national}"


def _foreign(text: str, region: str, nearby: Collection[str]) -> InvalidPhoneError | None:
    """LOOKS_FOREIGN if `text`, typed without a country code, is a mobile number in one of the nearby countries."""
    if text.startswith(("+", "00")):
        return None
    for other in sorted(set(nearby) - {region}):
        try:
            number = phonenumbers.parse(text, other)
        except NumberParseException:
            continue
        if phonenumbers.number_type(number) in MOBILE_TYPES:
            return InvalidPhoneError(InvalidPhoneError.LOOKS_FOREIGN, region=other)
    return None


def mask(e164: str) -> str:
    """+4791234567 -> +47 9** ** *67: country code, first and last two national digits, grouped 3-2-rest."""
    number = phonenumbers.parse(e164)
    national = str(number.national_number)
    hidden = national[:1] + "*" * (len(national) - 3) + national[-2:]
    return f"+{number.country_code} {hidden[:3]} {hidden[3:5]} {hidden[5:]}".rstrip()
