"""How many SMS segments a text costs (GSM 03.38 / 3GPP TS 23.038), as a carrier and Twilio bill it.

A text made only of GSM-7 characters is sent in 7-bit septets: 160 in a single SMS, 153 per segment once it is
split (each segment carries a 7-septet header). The extension table's characters (€ [ ] { } ^ ~ \\ | and form
feed) take two septets each, and a segment never ends between the two. One character outside GSM-7 (á, ł, ’, an
emoji, Arabic or Cyrillic script) sends the whole text as UCS-2: 70 UTF-16 code units in a single SMS, 67 per
segment once split, and a segment never ends inside a surrogate pair.

Twilio's optional "smart encoding" swaps some look-alikes (’ “ – …) for GSM ones before sending; it is off by
default and we do not count on it, so these count as UCS-2 here.
"""

# The basic character set, in table order (0x00-0x7F); 0x1B, the escape to the extension table, is left out.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: each is sent as the escape septet and one more.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE = 160
GSM7_PER_PART = 153
UCS2_SINGLE = 70
UCS2_PER_PART = 67


def is_gsm7(text: str) -> bool:
    """True when every character of `text` is in the GSM 03.38 basic set or its extension table."""
    return all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text)


def units(text: str) -> list[int]:
    """The size of each character in its encoding: septets for a GSM-7 text, UTF-16 code units for UCS-2."""
    if is_gsm7(text):
        return [2 if char in GSM7_EXTENSION else 1 for char in text]
    return [2 if ord(char) > 0xFFFF else 1 for char in text]


def length(text: str) -> int:
    """Septets (GSM-7) or UTF-16 code units (UCS-2) that `text` takes."""
    return sum(units(text))


def encoding(text: str) -> str:
    """"GSM-7" or "UCS-2": how `text` is sent."""
    return "GSM-7" if is_gsm7(text) else "UCS-2"


def segments(text: str) -> int:
    """How many SMS `text` is sent as (and billed for). An empty text still is one SMS."""
    sizes = units(text)
    single, per_part = (GSM7_SINGLE, GSM7_PER_PART) if is_gsm7(text) else (UCS2_SINGLE, UCS2_PER_PART)
    if sum(sizes) <= single:
        return 1
    count, used = 1, 0
    for size in sizes:  # a character never straddles two segments
        if used + size > per_part:
            count, used = count + 1, 0
        used += size
    return count
