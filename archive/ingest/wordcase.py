"""How the archive writes its words: the evidence that a capitalised word is a common word.

The small model calls "Pop Idol" a person, and reads "Making Michael Howard" (a headline's
first word run into a name) as one. Nothing in one article says that "Pop" or "Making" is not
a name, but the archive as a whole does: it writes "pop" and "making" in lowercase in many
documents, and capitalised within a sentence in few. A real first or last name is the other way
round ("Brown": 3 documents in lowercase, 116 capitalised), and the few names that are also
common words ("Will Young", "Mark Thompson") begin many of the archive's person names, which
resolution checks first (:meth:`archive.ingest.resolution.Evidence.common_word`).

For every document whose names are extracted, :func:`words_of` lists the words its text writes
in lowercase and the words it capitalises inside a sentence (not a sentence's first word, not a
line in title case such as a headline, not an acronym); :class:`WordCaseBook` adds them to the
:class:`~archive.models.WordCase` table as the documents are saved (in the same transaction) and
reads the counts of the words resolution asks about. A document that is updated or deleted
leaves its counts in place: the counts are evidence of how the archive's language is written,
and ``manage.py resolve_entities --recount-words`` counts them again from every document.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable

# A word: letters, with inner apostrophes or hyphens ("o'clock", "well-known").
_WORD = re.compile(r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*")
# What ends a sentence or opens a quotation before a word that is capitalised for that reason.
_OPENERS = frozenset(".!?:;\"'\u2018\u201c(\u2014\u2013-")
MAX_WORD = 64
# A word is common when the archive writes it in lowercase in at least this many documents,
# and in more documents in lowercase than capitalised within a sentence.
COMMON_MIN_DOCUMENTS = 3


def words_of(text: str) -> tuple[set[str], set[str]]:
    """The words (casefolded) that ``text`` writes in lowercase, and those it capitalises within
    a sentence on their own or as the last word of a name (a word capitalised before another
    capitalised word begins a name or a title: that capital says nothing of the word). A line
    with more capitalised words than lowercase ones (a headline in title case, a list of names)
    counts only its lowercase words. A text that capitalises no word within a sentence at all
    (wire copy sent in lowercase: "energy minister arturo hernandez grisanti told reuters")
    writes names in lowercase too, and counts nothing."""
    lowercase: set[str] = set()
    capitalised: set[str] = set()
    any_capital = False  # within a sentence, anywhere in the text
    for line in text.split("\n"):
        found = _WORD.findall(line)
        lower = [word for word in found if word.islower()]
        lowercase.update(lower)
        if len(lower) * 2 < len(found) or len(lower) == len(found):
            continue  # title case (its capitals say nothing of the words), or no capitals
        opens = True  # at the line's start, a word begins a sentence
        end = 0
        matches = list(_WORD.finditer(line))
        for position, match in enumerate(matches):
            gap = line[end : match.start()].rstrip()
            if gap:
                opens = gap[-1] in _OPENERS
            word = match.group()
            if not opens and _capitalised(word):
                any_capital = True
                if not _runs_into_a_name(line, matches, position):
                    capitalised.add(word.casefold())
            opens, end = False, match.end()
    if not any_capital:
        return set(), set()
    return {w for w in lowercase if len(w) <= MAX_WORD}, {
        w for w in capitalised if len(w) <= MAX_WORD
    }


def _capitalised(word: str) -> bool:
    return word[:1].isupper() and not word.isupper()


def _runs_into_a_name(line: str, matches: list, position: int) -> bool:
    """Whether the word is followed, across spaces only, by another capitalised word: then its
    capital is the first word's of a name or a title ("Treasurer Peter Costello", "wing Cedric
    Heymans" in a line-up, "Will Young"), which says nothing of the word on its own."""
    if position + 1 >= len(matches):
        return False
    following = matches[position + 1]
    between = line[matches[position].end() : following.start()]
    return (not between or between.isspace()) and _capitalised(following.group())


class WordCaseBook:
    """The counts of the words resolution asks about, read from the database once each and kept
    up to date as an import adds documents. Without ``database`` (a test's evidence, built by
    hand) it holds only what was added to it."""

    def __init__(self, database: bool = False) -> None:
        self.database = database
        self._counts: dict[str, list[int]] = {}
        # Whether each word read was common when first read (see ``flipped``).
        self._common_at_first: dict[str, bool] = {}

    def load(self, words: Iterable[str]) -> None:
        """Read the counts of these words (casefolded) that are not read yet, in few queries."""
        missing = sorted({w.casefold() for w in words} - self._counts.keys())
        if not missing:
            return
        if len(self._counts) > 500_000:
            self._counts.clear()  # a bound on memory over a very long import
        for word in missing:
            self._counts[word] = [0, 0]
        if self.database:
            from archive.models import WordCase

            for start in range(0, len(missing), 500):
                for word, lower, capital in WordCase.objects.filter(
                    word__in=missing[start : start + 500]
                ).values_list("word", "lowercase", "capitalised"):
                    self._counts[word] = [lower, capital]
        for word in missing:
            self._common_at_first.setdefault(word, _common(*self._counts[word]))

    def counts(self, word: str) -> tuple[int, int]:
        """(documents in lowercase, documents capitalised within a sentence)."""
        folded = word.casefold()
        if folded not in self._counts:
            self.load([folded])
        lower, capital = self._counts[folded]
        return lower, capital

    def common(self, word: str) -> bool:
        """Whether the archive mostly writes this word in lowercase: a common word."""
        return _common(*self.counts(word))

    def flipped(self) -> set[str]:
        """The words read that the documents added since made common, or no longer common:
        names beginning with them may resolve differently now."""
        return {
            word
            for word, was in self._common_at_first.items()
            if word in self._counts and _common(*self._counts[word]) != was
        }

    def add(self, texts: Iterable[str]) -> None:
        """Count the words of these documents' texts, in the database (inside the caller's
        transaction: the documents' save) and in what this book has read."""
        lower: Counter = Counter()
        capital: Counter = Counter()
        for text in texts:
            lowercase, capitalised = words_of(text)
            lower.update(lowercase)
            capital.update(capitalised)
        for word, count in lower.items():
            if word in self._counts:
                self._counts[word][0] += count
        for word, count in capital.items():
            if word in self._counts:
                self._counts[word][1] += count
        if self.database:
            _write(lower, capital)


def _common(lower: int, capital: int) -> bool:
    return lower >= COMMON_MIN_DOCUMENTS and lower > capital


def _write(lower: Counter, capital: Counter) -> None:
    """Add the counts to the table: one upsert of every word (SQLite and PostgreSQL)."""
    from django.db import connection

    from archive.models import WordCase

    rows = [(word, lower[word], capital[word]) for word in sorted(lower.keys() | capital.keys())]
    if not rows:
        return
    table = connection.ops.quote_name(WordCase._meta.db_table)
    sql = (
        f"INSERT INTO {table} (word, lowercase, capitalised) VALUES (%s, %s, %s) "
        f"ON CONFLICT (word) DO UPDATE SET lowercase = {table}.lowercase + excluded.lowercase, "
        f"capitalised = {table}.capitalised + excluded.capitalised"
    )
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 5000):
            cursor.executemany(sql, rows[start : start + 5000])


def recount(progress: Callable[[int, int], None] | None = None) -> int:
    """Count every word again from the text of every document whose names were extracted (after
    deletions and edits, or for an archive imported before the table existed); returns the
    number of documents read."""
    from django.db import transaction

    from archive.ingest.pipeline import extraction_text_of
    from archive.models import Document, WordCase

    documents = Document.objects.filter(entities_extracted=True)
    total = documents.count()
    done = 0
    with transaction.atomic():
        WordCase.objects.all().delete()
        book = WordCaseBook(database=True)
        texts: list[str] = []
        for title, body in documents.order_by("pk").values_list("title", "body").iterator(2000):
            texts.append(extraction_text_of(title, body))
            if len(texts) >= 2000:
                book.add(texts)
                done += len(texts)
                texts = []
                if progress is not None:
                    progress(done, total)
        book.add(texts)
        done += len(texts)
    if progress is not None:
        progress(done, total)
    return done
