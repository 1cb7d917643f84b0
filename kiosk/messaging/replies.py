"""What a host's reply to the arrival SMS says, in any of the kiosk's ten languages: on the way (perhaps in so many
minutes), cannot come, or one of Twilio's keywords (STOP, START, HELP), which are Twilio's to handle.

Anything that is neither a keyword nor a refusal counts as on the way: "OK", "ok!", "kommer", "on my way", "👍".
A refusal ("kan ikke", "can't come", "nie mogę") makes reception hear of the visitor at once, so the tablet never
says a host is coming who said they are not. The text itself is read here and then forgotten: nothing keeps it.
"""

import re
import unicodedata
from dataclasses import dataclass

COMING, DECLINED, KEYWORD = "coming", "declined", "keyword"
# The most minutes a reply may give; a larger number is a time of day or something else, not a wait.
MAX_MINUTES = 180

# Twilio's opt-out, opt-in and help keywords (a reply that is only one of these); docs/sms.md. "YES" re-subscribes
# at Twilio too, but from a host it means they are coming, so it counts as that.
TWILIO_KEYWORDS = frozenset({"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "start", "unstop", "help",
                             "info"})

# A reply that begins with one of these words says no ("Nei, sitter i møte"), unless it is a "no problem".
NO_WORDS = frozenset({"no", "nope", "nei", "nej", "ei", "nein", "nie", "ні", "нет", "لا", "cannot", "can't", "cant",
                      "unable"})
NO_PROBLEM = re.compile(r"^(no (problem|prob|worries)|nie ma (problemu|sprawy)|ei (hätää|ongelmaa)|kein problem|"
                        r"ні, (все|усе) добре)")
# Refusals anywhere in a reply, in each language.
REFUSALS = re.compile(
    r"\b(can ?not|can'?t|won'?t be able|not coming|not able|"  # en
    r"kan ikke|kan ikkje|kommer ikke|kommer ikkje|rekker ikke|rekk ikkje|har ikke tid|har ikkje tid|"  # nb nn da
    r"kan inte|kommer inte|hinner inte|"  # sv
    r"en pääse|en voi|en ehdi|en tule|"  # fi
    r"kann nicht|komme nicht|schaffe es nicht|"  # de
    r"nie mogę|nie moge|nie dam rady|nie przyjdę|nie zdążę|"  # pl
    r"не можу|не зможу|не прийду|не встигну)\b"  # uk
    r"|لا أستطيع|لا يمكنني|لن آتي|لن أستطيع"  # ar (\b does not hold between Arabic letters and spaces)
)
# A time of day ("10:30", "kl. 14.15") is not a number of minutes.
CLOCK = re.compile(r"\d{1,2}[:.]\d{2}")
# A number, or a range ("5-10"), and the word after it.
NUMBER = re.compile(r"(\d{1,4})(?:\s*[-–—]\s*(\d{1,4}))?\s*(\w*)")
# Units that make a number hours: h, t(ime), timer, timme, tunti, Stunde, godzina, година, ساعة …
HOURS = re.compile(r"^(h|hr|hrs|hours?|t|time|timer|timen|tim|timme|timmar|tunti|tuntia|tunnin|std|stunde|stunden|"
                   r"godz|godzina|godziny|godzin|год|година|години|годин|ساعة|ساعات|ساعه)$")


@dataclass(frozen=True)
class Reply:
    kind: str  # COMING, DECLINED or KEYWORD
    minutes: int | None = None  # for COMING: how soon, when the reply said


def understand(body: str, opt_out_type: str | None = None) -> Reply:
    """What a reply says. `opt_out_type` is Twilio's OptOutType parameter (STOP, START, HELP), sent when the
    account's Advanced Opt-Out recognised a keyword in whatever language it is set up for."""
    text = " ".join(unicodedata.normalize("NFKC", body).casefold().replace("’", "'").split())
    words = re.findall(r"[\w']+", text)
    if opt_out_type or (len(words) == 1 and words[0] in TWILIO_KEYWORDS):
        return Reply(KEYWORD)
    if REFUSALS.search(text) or (words and words[0] in NO_WORDS and not NO_PROBLEM.match(text)):
        return Reply(DECLINED)
    return Reply(COMING, minutes(text))


def minutes(text: str) -> int | None:
    """The minutes a reply gives ("5", "5 min", "10 minutter", "5-10", "1 time"), or None: none given, a time of
    day, 0 (now), or more than MAX_MINUTES. Digits of any script count (٥ is 5)."""
    if CLOCK.search(text):
        return None
    match = NUMBER.search(text)
    if match is None:
        return None
    first, last, unit = match.groups()
    value = int(last or first) * (60 if HOURS.match(unit) else 1)
    return value if 0 < value <= MAX_MINUTES else None
