"""Publication dates from plain text.

A *stated* date is one the text gives as its own: a leading ``date YYYY-MM-DD`` line (the seeds'
format), a dateline ("LONDON, 5 March 2005 -") or a "Published: ..." line at the top. Otherwise the
date is *inferred*: the latest full date the text mentions (an article cannot be older than the
events it reports), never later than today. Never the ingest time.
"""

from __future__ import annotations

import datetime as dt
import re

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:1[89]|20)\d\d)"
DATE_PATTERNS = [
    re.compile(r"\b(?P<year>(?:1[89]|20)\d\d)-(?P<month>[01]\d)-(?P<day>[0-3]\d)\b"),
    re.compile(rf"\b{_MONTH}\s+{_DAY},?\s+{_YEAR}\b", re.IGNORECASE),
    re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}\b", re.IGNORECASE),
]
LEADING_DATE_LINE = re.compile(r"\A\s*date[:\s]\s*(\d{4}-\d{2}-\d{2})\b[ \t]*", re.IGNORECASE)
# "LONDON, 5 March 2005 -", "NEW DELHI (Reuters) Nov 26, 2008:", "Published: 5 November 2025".
DATELINE = re.compile(
    r"\A(?:(?i:published|posted|updated|first published|date)\b[^\w\n]*(?i:on\s+)?"
    r"|[A-Z][A-Za-z .'-]{1,40}(?:\([A-Za-z .]+\))?,\s+"
    r"|[A-Z][A-Z .'-]{1,40}(?:\([A-Za-z .]+\))?\s+)"
)


_SENTENCE_WORD = re.compile(r"\b(?!(?:am|pm|at|on|updated|published)\b)[a-z]{2,}\b")


def _to_date(match: re.Match) -> dt.date | None:
    month = match.group("month")
    month_number = int(month) if month.isdigit() else MONTHS.get(month.lower().rstrip("."))
    try:
        return dt.date(int(match.group("year")), month_number or 0, int(match.group("day")))
    except (TypeError, ValueError):
        return None


def full_dates(text: str) -> list[tuple[int, dt.date]]:
    """Every complete day-month-year date in ``text``, with its position."""
    found = []
    for pattern in DATE_PATTERNS:
        for match in pattern.finditer(text):
            date = _to_date(match)
            if date is not None:
                found.append((match.start(), date))
    return sorted(found)


def split_leading_date_line(text: str) -> tuple[dt.date | None, str]:
    """A leading ``date YYYY-MM-DD`` marker and the text without it (the seeds put one before the
    headline, sometimes on the same line)."""
    match = LEADING_DATE_LINE.match(text)
    if not match:
        return None, text
    try:
        date = dt.date.fromisoformat(match.group(1))
    except ValueError:
        return None, text
    return date, text[match.end() :]


def dateline_date(lines: list[str]) -> dt.date | None:
    """A date stated at the top of the body: a dateline or a "Published:" line."""
    for line in lines[:3]:
        if len(line) > 400:
            continue
        prefix = DATELINE.match(line)
        start = prefix.end() if prefix else 0
        for position, date in full_dates(line):
            # A dateline's date follows its place; a line of its own is a date line (a time or
            # a zone may follow it, not a sentence).
            if position == start and (prefix or not _SENTENCE_WORD.search(line[position:])):
                return date
    return None


def inferred_date(text: str, today: dt.date | None = None) -> dt.date | None:
    """The latest full date the text mentions that is not in the future."""
    today = today or dt.date.today()
    dates = [date for _, date in full_dates(text) if date <= today]
    return max(dates) if dates else None
