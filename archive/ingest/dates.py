"""Publication dates from plain text.

A *stated* date is one the text gives as its own: a leading ``date YYYY-MM-DD`` line (the seeds'
format), a dateline ("LONDON, 5 March 2005 -") or a "Published: ..." line at the top. Otherwise the
date may be *inferred*, but only from evidence that it is the publication date (see
``inferred_date``): a news report's opening sentences give the day of the event they report, or the
text ties its latest date to its present ("now", "today"). A text whose dates are history (a birth
date in a profile, an anniversary, a deadline to come) stays undated. Never the ingest time.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

from archive.models import after_tomorrow

if TYPE_CHECKING:
    from archive.ingest.drafts import Draft

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
# Spaces within a date, a line break included (a PDF's text layer breaks lines anywhere), but not a
# blank line: "Tuesday, 1 March" above a "2000 GMT" kick-off line is no date in the year 2000.
_SP = r"(?:[^\S\n]+\n?|\n)[^\S\n]*"
DATE_PATTERNS = [
    re.compile(r"\b(?P<year>(?:1[89]|20)\d\d)-(?P<month>[01]\d)-(?P<day>[0-3]\d)\b"),
    re.compile(rf"\b{_MONTH}{_SP}{_DAY},?{_SP}{_YEAR}\b", re.IGNORECASE),
    re.compile(rf"\b{_DAY}{_SP}(?:of{_SP})?{_MONTH},?{_SP}{_YEAR}\b", re.IGNORECASE),
]
LEADING_DATE_LINE = re.compile(r"\A\s*date[:\s]\s*(\d{4}-\d{2}-\d{2})\b[ \t]*", re.IGNORECASE)
# "LONDON, 5 March 2005 -", "NEW DELHI (Reuters) Nov 26, 2008:", "Published: 5 November 2025".
DATELINE = re.compile(
    r"\A(?:(?P<said>(?i:published|posted|updated|first published|date))\b[^\w\n]*(?i:on\s+)?"
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
    return [(start, date) for start, _, date in _full_dates_with_ends(text)]


def _full_dates_with_ends(text: str) -> list[tuple[int, int, dt.date]]:
    found = []
    for pattern in DATE_PATTERNS:
        for match in pattern.finditer(text):
            date = _to_date(match)
            if date is not None:
                found.append((match.start(), match.end(), date))
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


def date_line(line: str) -> dt.date | None:
    """The date of a line that states only a date ("Published: 12 April 2005", "2005-04-12",
    "LONDON, 5 March 2005"), which is no headline; None for any other line (a dateline with the
    story after it, a sentence)."""
    if len(line) > 120:
        return None
    prefix = DATELINE.match(line)
    start = prefix.end() if prefix else 0
    for position, date in full_dates(line):
        if position == start and not _SENTENCE_WORD.search(line[position:]):
            return date
    return None


# The longest way a full date is written ("Wednesday, 14 September 2005, 10:30 GMT" and more).
_DATE_CHARS = 80


def dateline_date(lines: list[str]) -> dt.date | None:
    """A date stated at the top of the body: a dateline or a "Published:" line."""
    for line in lines[:3]:
        prefix = DATELINE.match(line)
        start = prefix.end() if prefix else 0
        # Only the line's head can hold it: a scan's dateline begins a long lead paragraph
        # (OCR joins a page's lines), which is read no further.
        for position, end, date in _full_dates_with_ends(line[: start + _DATE_CHARS]):
            if position != start:
                continue
            if prefix and prefix.group("said"):
                return date  # "Published: 12 April 2005"
            # A dateline's date follows its place and ends it ("LONDON, 5 March 2005 - "), where
            # a sentence that opens with a date goes on ("On Monday, 14 June 1999, the board
            # met"); a line of its own is a date line (a time or a zone may follow, no sentence).
            if prefix and _DATELINE_END.match(line, end):
                return date
            if not prefix and not _SENTENCE_WORD.search(line[position:]):
                return date
    return None


# What ends a dateline after its date: perhaps a time and a zone, then a dash, a colon, an
# agency's bracket or the end of the line.
_DATELINE_END = re.compile(
    r"(?:,?\s*\d{1,2}[:.]\d{2}(?:\s*[ap]\.?m\.?)?(?:\s*[A-Z]{2,4})?)?\s*(?:[-\u2013\u2014:(]|$)"
)


# --- Inferred dates -------------------------------------------------------------------------
#
# The latest date a text mentions is only a lower bound of its publication, and in a profile, a
# retrospective or a results note it is a birth date, an anniversary or a period end, years before
# the text was written. A date is inferred only with evidence that it is the publication's day:
#
# - it is in the *lead* (the first two sentences after the headline and a subtitle), as the day
#   the reported event happened *on* ("... died in Miami at the age of 87 on 4 February 2005"), in
#   the first sentence, or in the second when the text speaks of this week's news ("yesterday",
#   "on Saturday", "last weekend");
# - or a story told up to its present ends with it: after earlier years, it is the last full date
#   the text mentions, in its last five sentences (of ten or more), and "now", "today" or
#   "currently" is in its sentence or the next ("Fast forward to April 10, 2025: ... arrived in
#   Delhi. ... Rana now faces trial.");
#
# and, either way, with nothing against it: no date or year the text mentions is later (a text is
# not older than anything it reports, and a later year means the date is history); its sentence
# does not look ahead ("will", "would", "due", "deadline") or back ("born", "ago", "anniversary",
# "since"); it is not a bound or the end of a range ("until", "before", "by", "as of", "the year
# to", "from 20 March to 27 March 2004"); it is not in the future; and when the text opens with a
# dateline that gives the day but not the year ("SALVADOR, Feb 26 -"), it is that day.

# A year standing alone ("in 2004", "the 2006 finals"), not a time ("2000 GMT") or an amount.
_YEAR_MENTION = re.compile(
    r"(?<![\d£$€.,])\b(?:1[89]|20)\d\d\b(?![.,]\d)(?!\s*(?:GMT|BST|UTC|CET|EST|EDT|PST|hrs?)\b)"
)
_CLOSING = "\"'\u201d\u2019)\\]"  # quotes and brackets that may follow a full stop
_OPENING = "\"'\u201c\u2018(\\["
_SENTENCE_END = re.compile(
    rf"[.!?][{_CLOSING}]*(?=\s+[{_OPENING}]?[A-Z0-9])|[.!?][{_CLOSING}]*\s*$"
)
_ENDS_LIKE_A_SENTENCE = re.compile(rf"[.!?][{_CLOSING}]*$")
_NO_END_AFTER = frozenset(
    """mr mrs ms dr st sr jr gen lt col sgt capt prof rev gov sen rep no vs v inc co corp ltd
    jan feb mar apr jun jul aug sep sept oct nov dec u.s u.k e.g i.e""".split()
)
_PARAGRAPH_BREAK = re.compile(r"\n[^\S\n]*\n\s*")
_WORDS = re.compile(r"[a-z]+(?:'[a-z]+)?")
_AHEAD = frozenset(
    """will shall would due deadline deadlines expire expires expiring expiry upcoming forthcoming
    next scheduled payable mature maturing matures maturity redeemable""".split()
)
_AHEAD_PHRASES = re.compile(
    r"\b(?:takes? place|to be (?:held|released|published)|set to|(?:is|are) to (?!have\b)"
    r"|(?:is|are) expected to|of record)\b"
)
_BACK = frozenset(
    """born ago anniversary anniversaries since founded birthday birthdays centenary previous
    previously earlier prior formerly originally compared expired""".split()
)
_BACK_PHRASES = re.compile(r"\b(?:years? later|back then|at the time|in those days)\b")
_BOUND_BEFORE = frozenset(
    """until till through thru before after since by from between pre post ended ending ends end
    beginning starting started commencing expiring due maturing payable effective""".split()
)
_PERIOD = frozenset(
    """day days week weeks month months quarter quarters year years period half season""".split()
)
_MONTH_NAMES = "|".join(sorted(MONTHS, key=len, reverse=True))
# "May 15-June 15, 1987", "July 1, 1986, to March 1, 1987", "20 March to 27 March 2004".
_RANGE_END = re.compile(
    rf"(?:\d|\b(?:{_MONTH_NAMES}))\.?,?\s*(?:-|\u2013|to|and|through|until|till)\s*$", re.I
)
# A wire dateline without the year: "SALVADOR, Feb 26 -", "NEW YORK, March 2 -".
_DAY_DATELINE = re.compile(
    rf"[A-Z][A-Za-z .'-]{{1,40}}(?:\([A-Za-z .]+\))?,(?:[^\S\n]+[A-Z][A-Za-z .]{{1,30}},)?"
    rf"[^\S\n]+(?P<month>(?i:{_MONTH_NAMES}))\.?[^\S\n]+(?P<day>[0-3]?\d)\b(?![,.]?\s*\d)"
)
WEEKDAYS = frozenset("monday tuesday wednesday thursday friday saturday sunday".split())
# A report of this week's news: "yesterday", "on Saturday", "last weekend".
_RECENT = re.compile(
    r"\b(?:yesterday|today|tonight|last (?:night|week|weekend)|this (?:week|weekend|morning)"
    r"|(?:mon|tues|wednes|thurs|fri|satur|sun)day)\b",
    re.I,
)
CLOSING_SENTENCES = 5
_PRESENT = re.compile(
    r"\b(?:now|today|currently|at present|so far|this (?:week|month|morning|evening))\b", re.I
)


def _sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence; the headline line and a blank line always end one, another
    line break does not (a PDF's text layer breaks lines within sentences)."""
    spans = []
    line_end = text.find("\n")
    headline = [(0, line_end)] if line_end > 0 else []
    for start, end in headline + _after_headline(text):
        cut = start
        for match in _SENTENCE_END.finditer(text, start, end):
            word = text[cut : match.start()].rsplit(None, 1)[-1:] or [""]
            if word[0].lower().strip(_OPENING) in _NO_END_AFTER:
                continue  # "Mr. Smith", "Jan. 5, 1987"
            spans.append((cut, match.end()))
            cut = match.end()
            while cut < end and text[cut].isspace():
                cut += 1
        if cut < end:
            spans.append((cut, end))
    return spans


def _paragraphs(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for match in _PARAGRAPH_BREAK.finditer(text):
        if text[start : match.start()].strip():
            spans.append((start, match.start()))
        start = match.end()
    if text[start:].strip():
        spans.append((start, len(text.rstrip())))
    return spans


def _after_headline(text: str) -> list[tuple[int, int]]:
    """The paragraphs after the first line, which is the headline (as the readers store it)."""
    line_end = text.find("\n")
    if line_end < 0:
        return []
    paragraphs = []
    for start, end in _paragraphs(text):
        if end <= line_end:
            continue
        start = max(start, line_end)
        while text[start].isspace():
            start += 1
        paragraphs.append((start, end))
    return paragraphs


def _lead(text: str) -> tuple[int, int] | None:
    """Where the first two sentences after the headline are. Paragraphs that do not end like a
    sentence (a subtitle) are not the lead; after more than one, the text is no news report (a
    table, a fixture's ground and kick-off lines)."""
    for number, (start, end) in enumerate(_after_headline(text)):
        if number >= 2:
            return None
        if _ENDS_LIKE_A_SENTENCE.search(text[start:end]):
            sentences = [s for s in _sentences(text) if s[0] >= start][:2]
            return (sentences[0][0], sentences[-1][1]) if sentences else None
    return None


def _against(text: str, sentence: tuple[int, int], position: int) -> bool:
    """The date at ``position`` is a bound, or its sentence looks ahead or back in time."""
    words = _WORDS.findall(text[sentence[0] : position].lower())
    before = words[-1] if words else ""
    if before in _BOUND_BEFORE:
        return True
    if before in ("of", "at") and words[-2:-1] == ["as"]:
        return True  # "as of 1 April 1987"
    if before == "to" and ((words[-2:-1] and words[-2] in _PERIOD) or "from" in words[-8:]):
        return True  # "the three months to 31 December 2004", "from 20 March to 27 March 2004"
    if before == "and" and "between" in words[-8:]:
        return True
    if _RANGE_END.search(text, max(sentence[0], position - 30), position):
        return True
    clause = re.split(r"[,;:(]", text[sentence[0] : position])[-1].lower()
    if {"which", "from"} & set(_WORDS.findall(clause)):
        return True  # background ("the offer, which began on ..."), a comparison ("up from ...")
    said = text[sentence[0] : sentence[1]].lower()
    found = set(_WORDS.findall(said))
    return bool(
        found & _AHEAD
        or found & _BACK
        or _AHEAD_PHRASES.search(said)
        or _BACK_PHRASES.search(said)
        or "'ll" in said
    )


def inferred_date(text: str, today: dt.date | None = None) -> dt.date | None:
    """A publication date the text gives evidence for (see above), or None.

    ``text`` is the whole document, headline first (as the readers store it).
    """
    today = today or dt.date.today()
    mentioned = full_dates(text)
    if not mentioned:
        return None
    latest = max(date for _, date in mentioned)
    latest_year = max([latest.year] + [int(m.group()) for m in _YEAR_MENTION.finditer(text)])
    if latest > today or latest_year > latest.year:
        return None  # the text mentions something later than any date it could be published on
    day = _dateline_day(text)
    if day is not None and day != (latest.month, latest.day):
        return None  # the dateline says which day it is, and it is another one
    sentences = _sentences(text)
    lead = _lead(text)
    years = [(m.start(), int(m.group())) for m in _YEAR_MENTION.finditer(text)]
    for position, date in mentioned:
        if date != latest:
            continue
        sentence = next((s for s in sentences if s[0] <= position < s[1]), None)
        if sentence is None or _against(text, sentence, position):
            continue
        words = _WORDS.findall(text[sentence[0] : position].lower())
        if (
            lead
            and lead[0] <= position < lead[1]
            and words[-1:]
            and (words[-1] == "on" or words[-1] in WEEKDAYS)
            and _prose(text[sentence[0] : sentence[1]])
            and (sentence[0] == lead[0] or _RECENT.search(text))
        ):
            return date
        number = sentences.index(sentence)
        following = sentences[min(number + 1, len(sentences) - 1)]
        history = any(p < position and y < date.year for p, y in years)
        last = all(p <= position for p, _ in mentioned)
        if (
            history
            and last
            and len(sentences) >= 2 * CLOSING_SENTENCES
            and number >= len(sentences) - CLOSING_SENTENCES
            and _PRESENT.search(text, sentence[0], following[1])
        ):
            return date
    return None


def _prose(sentence: str) -> bool:
    """A sentence, not a row of figures ("Shr 18 cts Net 1,948,000 Revs 3,397,000 Note: ..."):
    its dates aside, under a quarter of its tokens are figures, and its words are not all names
    and labels."""
    for pattern in DATE_PATTERNS:
        sentence = pattern.sub(" ", sentence)
    tokens = sentence.split()
    words = [token for token in tokens if token[:1].isalpha()]
    figures = sum(any(c.isdigit() for c in token) for token in tokens)
    return figures < 0.25 * len(tokens) and sum(w[0].islower() for w in words) >= 0.4 * len(words)


def _dateline_day(text: str) -> tuple[int, int] | None:
    """(month, day) of a dateline without a year opening the first paragraph after the title."""
    paragraphs = _after_headline(text)
    if not paragraphs:
        return None
    match = _DAY_DATELINE.match(text, paragraphs[0][0])
    if not match or not re.match(r"\s*(?:-|\u2013|\u2014|:)", text[match.end() : match.end() + 3]):
        return None
    return MONTHS[match.group("month").lower()], int(match.group("day"))


def undated_if_ahead(draft: Draft) -> None:
    """A publication date after tomorrow (``models.after_tomorrow``) kept would head "newest
    first" and stretch the archive's timeline over decades: the document comes in undated, and
    the import says so."""
    if draft.published is not None and after_tomorrow(draft.published):
        kind = "an inferred" if draft.date_inferred else "the"
        draft.warnings.append(
            f"Its date, {draft.published.isoformat()}, is in the future: {kind} date was left "
            "out, and the document imported undated."
        )
        draft.published, draft.date_inferred = None, False
