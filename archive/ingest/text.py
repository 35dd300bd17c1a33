"""Plain text: decoding bytes of unknown encoding, and dropping the page chrome a copy-paste from a
news site brings along (share buttons, gallery links, lone symbols)."""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from collections.abc import Iterable
from html.entities import html5

from archive.ingest.drafts import ReadError
from archive.storedtext import stored_text

# A line made only of these words is navigation, not article text ("Gallery Gallery Videos Videos
# Share on WhatsApp Share", "Advertisement", "Read more").
CHROME_WORDS = frozenset(
    """
    advertisement advertisements ad ads gallery galleries video videos photo photos share shares
    sharing on whatsapp facebook twitter x telegram linkedin email e-mail print copy link comment
    comments read more also follow us subscribe sign in up newsletter skip to content menu home
    """.split()
)
CHROME_MUST_HAVE = frozenset(
    "advertisement advertisements gallery galleries share sharing whatsapp facebook twitter "
    "telegram linkedin subscribe newsletter".split()
)
_WORD = re.compile(r"[\w-]+", re.UNICODE)


def decode(data: bytes) -> str:
    """Text from bytes: UTF-8 if it is, else the encoding charset-normalizer detects."""
    if not data.strip():
        raise ReadError("The file is empty.")
    if looks_binary(data):
        raise ReadError("The file is binary, not text.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    # Short Western texts decode equally well in several Latin code pages and the detector's
    # pick among them is arbitrary; like browsers, fall back to windows-1252 for those.
    if best is None or best.encoding in LATIN_CODEPAGES:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            pass
    if best is None:
        raise ReadError("The text encoding could not be recognised (it is not UTF-8).")
    return str(best)


LATIN_CODEPAGES = frozenset(
    "cp1250 cp1252 cp1254 cp1257 latin_1 iso8859_2 iso8859_3 iso8859_4 iso8859_9 iso8859_10 "
    "iso8859_13 iso8859_14 iso8859_15 iso8859_16 mac_latin2 mac_roman mac_iceland cp437 cp850 "
    "cp852 cp775 cp858".split()
)


def looks_binary(data: bytes) -> bool:
    """NUL bytes, or many control bytes, in the first 8 KB: a binary file, not text."""
    head = data[:8192]
    if b"\x00" in head:
        return True
    controls = sum(1 for byte in head if byte < 32 and byte not in (9, 10, 12, 13))
    return controls > len(head) * 0.05


# "&#233;", "&#xE9;", "&eacute;": a character reference, with its semicolon (a bare "&para" in
# "Smith&parachute" is text, though HTML5 would read it as "¶").
_REFERENCE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def decode_references(text: str) -> str:
    """Plain text with the HTML character references a scrape left in it written as the
    characters they stand for: "Jos&#233; Manuel Barroso" is José Manuel Barroso, to the reader,
    to search and to the name extractor. A reference to no character, or to a control
    character (a line break included), stays as written; an invisible one (a soft hyphen) goes."""

    def character(match: re.Match[str]) -> str:
        reference = match.group()
        # A named reference by its whole name only: html.unescape reads "&notit;" as "¬it;".
        numeric = reference[1] == "#"
        decoded = html.unescape(reference) if numeric else html5.get(reference[1:], "")
        if not decoded or decoded == "\ufffd":
            return reference
        category = unicodedata.category(decoded[0])
        if category in ("Cc", "Zl", "Zp"):
            return reference
        if category == "Cf":
            return ""  # a soft hyphen, a zero-width space: no character of the text
        if decoded == "¿" and _between_letters(match):
            # "Mr Blair&#191;s government": a typographic apostrophe that a conversion to
            # Latin-1 turned into "¿", which never stands inside a word.
            return "'"
        return decoded

    def _between_letters(match: re.Match[str]) -> bool:
        start, end = match.span()
        return match.string[start - 1 : start].isalpha() and match.string[end : end + 1].isalpha()

    return _REFERENCE.sub(character, text) if "&" in text else text


def normalise_text(text: str) -> str:
    """Unify line breaks and spaces; keep paragraphs (blank lines) and the words unchanged."""
    text = stored_text(unicodedata.normalize("NFC", text))
    text = text.replace("\xa0", " ").replace("\u200b", "").replace("\ufeff", "")
    lines = [" ".join(line.split()) for line in text.split("\n")]
    paragraphs: list[str] = []
    blank = False
    for line in lines:
        if not line:
            blank = True
            continue
        if paragraphs and blank:
            paragraphs.append("")
        paragraphs.append(line)
        blank = False
    return "\n".join(paragraphs)


_SENTENCE_CLOSE = re.compile(r"[.!?:;\"\u201d\u2019')]$")
# A line shorter than this share of the page's full line is no wrapped line of prose.
WRAPPED_LINE_SHARE = 0.75


def unwrap_lines(page: str, vocabulary: set[str] | frozenset[str] = frozenset()) -> str:
    """A PDF page's text layer as paragraphs: the layout breaks every printed line. A line goes
    on in the next when the next line's first word would not have fitted on it (the page's
    usual full line, its 80th-percentile length: the layout wrapped it), or when it ends
    mid-sentence and the next begins in lowercase; the lines of a paragraph are joined as an
    OCR's are (:func:`join_lines`, with the document's ``vocabulary``). A short line, a blank
    line, a headline or a table's row ("Shr 20 cts vs 18 cts") ends a paragraph: paragraphs are
    then separated by a blank line, as in a ``.txt`` file."""
    lines = [" ".join(line.split()) for line in page.split("\n")]
    lengths = sorted(len(line) for line in lines if line)
    if len(lengths) < 3:
        return page
    full = lengths[min(len(lengths) - 1, int(len(lengths) * 0.8))]
    paragraphs: list[list[list[str]]] = [[]]
    for line, following in zip(lines, [*lines[1:], ""], strict=True):
        if not line:
            if paragraphs[-1]:
                paragraphs.append([])
            continue
        paragraphs[-1].append(line.split())
        next_word = following.split(" ", 1)[0]
        wrapped = bool(next_word) and len(line) + 1 + len(next_word) > full
        mid_sentence = not _SENTENCE_CLOSE.search(line) and following[:1].islower()
        # A sentence's end before a short line that ends no sentence: a heading, a table's row.
        heading = (
            _SENTENCE_CLOSE.search(line)
            and len(following) < WRAPPED_LINE_SHARE * full
            and not _SENTENCE_CLOSE.search(following)
        )
        if following and (heading or not (wrapped or mid_sentence)):
            paragraphs.append([])
    return "\n\n".join(join_lines(lines_of, vocabulary) for lines_of in paragraphs if lines_of)


# --- Lines of print as one paragraph (a PDF's text layer, an OCR's lines) -------------------

_HYPHENS = ("-", "\u00ad", "\u2010")


def _fold_word(word: str) -> str:
    return word.strip(".,;:!?\"'()[]\u201c\u201d\u2018\u2019").casefold()


def vocabulary(words: Iterable[str]) -> set[str]:
    """The words of a document, folded: what :func:`join_lines` looks a hyphenated word up in."""
    return {_fold_word(word) for word in words}


def _join_hyphenated(left: str, right: str, vocabulary: set[str] | frozenset[str]) -> str:
    """One word from a word broken at a line end ("pro-" + "posal"). The hyphen goes unless the
    hyphenated form appears elsewhere in the text and the joined one does not ("well-known"):
    most line-end hyphens in print are the typesetter's, not the word's."""
    stem = left.rstrip("".join(_HYPHENS))
    joined, kept = stem + right, f"{stem}-{right}"
    if _fold_word(kept) in vocabulary and _fold_word(joined) not in vocabulary:
        return kept
    return joined


def join_lines(lines: list[list[str]], vocabulary: set[str] | frozenset[str]) -> str:
    """A paragraph's lines (each a list of words) as one line of text, hyphenated line ends
    joined (:func:`_join_hyphenated`)."""
    out: list[str] = []
    for line in lines:
        if not line:
            continue
        if (
            out
            and out[-1].endswith(_HYPHENS)
            and len(out[-1]) > 2
            and out[-1][-2].isalpha()
            and line[0][:1].islower()
        ):
            out[-1] = _join_hyphenated(out[-1], line[0], vocabulary)
            line = line[1:]
        out.extend(line)
    return " ".join(out)


def is_chrome(line: str) -> bool:
    """A line that is page furniture: no letters or digits at all, or only sharing/gallery words."""
    if not any(ch.isalnum() for ch in line):
        return True
    words = [w.casefold() for w in _WORD.findall(line)]
    return (
        0 < len(words) <= 12
        and all(w in CHROME_WORDS for w in words)
        and any(w in CHROME_MUST_HAVE for w in words)
    )


def drop_chrome(text: str) -> str:
    """The text without chrome lines (blank-line structure kept)."""
    kept = [line for line in text.split("\n") if not line or not is_chrome(line)]
    return normalise_text("\n".join(kept))


# "U.S.", "U. K.", "U.S.A": letters each followed by a dot (the last dot may be missing).
_DOTTED_INITIALISM = re.compile(r"(?:[^\W\d_]\. ?)+[^\W\d_]\.?")
# "US", "UK", "USA": two to five capitals.
_BARE_INITIALISM = re.compile(r"[^\W\d_a-z]{2,5}")


@functools.lru_cache(maxsize=1 << 16)
def initialism_letters(name: str) -> str:
    """The letters of an initialism, written with or without dots ("U.S." and "US" -> "US"):
    the same name, spelled as wires and as most web sites spell it. "" for any other name."""
    name = name.strip()
    if _DOTTED_INITIALISM.fullmatch(name):
        return name.replace(".", "").replace(" ", "")
    if _BARE_INITIALISM.fullmatch(name) and name.isupper():
        return name
    return ""


# Words an acronym skips: "Securities and Exchange Commission" is the SEC.
_ACRONYM_SKIPS = frozenset("of and the for & de du la le on in at to".split())


@functools.lru_cache(maxsize=1 << 16)
def initials_of(name: str) -> str:
    """The acronym a name of two words or more would have: the first letters of its words
    (hyphenated parts count as words), skipping "of", "and", "the" and the like ("European
    Union" -> "EU", "Securities and Exchange Commission" -> "SEC", "Hewlett-Packard" -> "HP").
    "" unless every word that counts is a capitalised word ("Ex-downing Street", "US Senate")."""
    words = [w for w in re.split(r"[\s-]+", name.strip()) if w]
    counted = [w for w in words if w.casefold() not in _ACRONYM_SKIPS]
    # Each a word, capitalised: not an initialism itself ("U.S. Steel", "UBS Securities").
    if len(counted) < 2 or not all(w[:1].isupper() and w[1:].islower() for w in counted):
        return ""
    return "".join(w[0] for w in counted)


# An initial's full stop before the next word of a name: "George W. Bush", "J. K. Rowling".
_INITIAL_STOP = re.compile(r"(?<!\S)(\w)\.(?=\s)")


@functools.lru_cache(maxsize=1 << 16)
def fold_name(name: str) -> str:
    """How names are compared: casefolded, single spaces, without accents ("José Manuel
    Barroso" and "Jose Manuel Barroso" are one name; "São Paulo" and "Sao Paulo" one place),
    and without the full stop of an initial inside a name ("George W. Bush" and "George W Bush";
    "U.S." and "St. Louis" keep theirs). Folding a folded name changes nothing. Cached:
    resolution folds the same names many times."""
    if not name.isascii():
        decomposed = unicodedata.normalize("NFKD", name)
        name = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_INITIAL_STOP.sub(r"\1", name.casefold()).split())


def first_line(text: str) -> str:
    return next((line for line in text.split("\n") if line.strip()), "")
