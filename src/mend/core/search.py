"""How a free-text search box is read: names, phone digits, an email, a date of birth."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

_DATE_PATTERNS = (
    re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})$"),
    re.compile(r"^(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4})$"),
    re.compile(r"^(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})$"),
)
MIN_PHONE_DIGITS = 3


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """The parts of a search string. An empty query matches everything."""

    words: tuple[str, ...] = ()
    digits: str = ""
    email: str = ""
    birth_date: date | None = None
    raw: str = ""
    notes: tuple[str, ...] = field(default=())

    @property
    def is_empty(self) -> bool:
        return not (self.words or self.digits or self.email or self.birth_date)


def parse_date(text: str) -> date | None:
    """ISO (1980-04-23) or day-first (23/04/1980, 23.04.1980); None when not a real date."""
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            try:
                return date(int(match["y"]), int(match["m"]), int(match["d"]))
            except ValueError:
                return None
    return None


def parse_search(text: str) -> SearchQuery:
    raw = " ".join(text.split())[:200]
    if not raw:
        return SearchQuery()
    birth_date = parse_date(raw)
    if birth_date is not None:
        return SearchQuery(birth_date=birth_date, raw=raw)
    if "@" in raw and " " not in raw:
        return SearchQuery(email=raw.lower(), raw=raw)
    stripped = re.sub(r"[\s()+.\-]", "", raw)
    if stripped.isdigit():
        if len(stripped) >= MIN_PHONE_DIGITS:
            return SearchQuery(digits=stripped, raw=raw)
        return SearchQuery(words=(raw,), raw=raw)
    words = tuple(word for word in raw.split(" ") if word)
    return SearchQuery(words=words, raw=raw)


def phone_digits(phone: str) -> str:
    """Only the digits of a phone number, for matching whatever punctuation was typed."""
    return "".join(char for char in phone if char.isdigit())
