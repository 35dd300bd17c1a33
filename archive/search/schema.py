"""The index's fields, and where an article becomes index fields (:func:`to_fields`), for every
engine (the embedded engine's Whoosh schema is ``whoosh/schema.py``).

Text fields (title, body) are analysed for search; person, organisation, place, publication and day
are exact values, one term per value, from which the facet tables in ``facets.py`` are built.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

TEXT_FIELDS = ("title", "body")
# Each text field's exact twin: the same words, not stemmed (analyzer.ExactTextAnalyzer). A
# quoted word or phrase searches these, so `"federer"` finds Federer and not "federal", whose
# stem is the same. Filled by each engine from the document's own title and body.
EXACT_FIELDS = {"title": "title_exact", "body": "body_exact"}
# Which text field an exact field is the twin of.
EXACT_OF = {exact: fieldname for fieldname, exact in EXACT_FIELDS.items()}

# Multi-valued exact fields hold one value per line, so names may contain spaces and commas.
VALUE_SEPARATOR = "\n"
# The multi-valued exact fields, each with the IndexedDocument attribute that holds its names.
MULTI_VALUE_FIELDS = {"person": "persons", "organisation": "organisations", "place": "places"}


# Fields a user's query searches when it names no field, and how much each weighs. Each field is
# scored on its own (BM25F) and the scores add up. A headline match must outrank the same word in
# the text (without a boost, a long-ish headline can lose to a short text), but a large boost
# hurts long queries: BEIR SciFact nDCG@10 was 0.528 with 3.0, 0.575 with 1.5, 0.591 with 1.0
# (bench/scifact_eval.py).
DEFAULT_SEARCH_FIELDS = {"title": 1.5, "body": 1.0}
# Fields a query may name explicitly (`title:murree`, `person:"Madhukar Gupta"`).
QUERYABLE_FIELDS = ("title", "body", *MULTI_VALUE_FIELDS, "publication")


def values_named(values: Iterable[str], text: str, pattern: bool = False) -> list[str]:
    """The values a query names in a value field, for every engine: the value written exactly
    so (``person:"Madhukar Gupta"``), else every value that has each of the text's words, in
    any case (``person:gupta``); with ``pattern`` (the query's word had a wildcard, not inside
    quotes) a word with one stands for the words it matches (``person:bl*``: "Tony Blair",
    "Joe Bloggs")."""
    values = list(values)
    if text in values:
        return [text]
    words = text.casefold().split()
    if not words:
        return []
    patterns = [
        re.compile(fnmatch.translate(word)) if pattern and ("*" in word or "?" in word) else None
        for word in words
    ]

    def names(value: str) -> bool:
        own = value.casefold().split()
        return all(
            any(pattern.match(w) for w in own) if pattern else word in own
            for word, pattern in zip(words, patterns, strict=True)
        )

    return [value for value in values if names(value)]


def clean_value(value: str) -> str:
    """One line, single spaces: the form a person's (organisation's, place's, publication's) name
    takes in the index."""
    return " ".join(value.split())


@dataclass(frozen=True)
class IndexedDocument:
    """What the index knows about one document; built from the database by ``archive.indexing``."""

    id: int
    title: str
    body: str
    published: dt.date | None = None
    date_inferred: bool = False
    publication: str | None = None
    persons: tuple[str, ...] = field(default_factory=tuple)
    source_url: str = ""
    organisations: tuple[str, ...] = field(default_factory=tuple)
    places: tuple[str, ...] = field(default_factory=tuple)
    # The story the document belongs to (archive/ingest/copies.py; None: not clustered yet),
    # and whether that story has other copies: the cluster engine folds and counts by story
    # only where there is something to fold (the embedded one counts the story's documents).
    story: int | None = None
    story_shared: bool = field(default=False, compare=False)


def to_fields(doc: IndexedDocument) -> dict[str, object]:
    """The index fields of one document: what the embedded engine stores, and what a digest
    of the document covers."""
    values: dict[str, object] = {
        "id": str(doc.id),
        "title": doc.title,
        "body": doc.body,
        "date_inferred": bool(doc.date_inferred),
        "source_url": doc.source_url or "",
    }
    for fieldname, attribute in MULTI_VALUE_FIELDS.items():
        names = [clean_value(name) for name in getattr(doc, attribute) if clean_value(name)]
        if names:
            values[fieldname] = VALUE_SEPARATOR.join(dict.fromkeys(names))
    publication = clean_value(doc.publication or "")
    if publication:
        values["publication"] = publication
    if doc.published is not None:
        values["day"] = day_key(doc.published)
    if doc.story:
        values["story"] = str(doc.story)
    return values


def day_key(day: dt.date) -> str:
    """YYYYMMDD, zero-padded for every year (strftime does not pad years before 1000)."""
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def from_stored(stored: dict[str, object]) -> IndexedDocument:
    """Rebuild an :class:`IndexedDocument` from a hit's stored fields."""
    day = str(stored.get("day") or "")
    names = {
        attribute: tuple(n for n in str(stored.get(fieldname) or "").split(VALUE_SEPARATOR) if n)
        for fieldname, attribute in MULTI_VALUE_FIELDS.items()
    }
    return IndexedDocument(
        id=int(str(stored["id"])),
        title=str(stored.get("title") or ""),
        body=str(stored.get("body") or ""),
        published=dt.date(int(day[:4]), int(day[4:6]), int(day[6:8])) if day else None,
        date_inferred=bool(stored.get("date_inferred")),
        publication=str(stored.get("publication") or "") or None,
        source_url=str(stored.get("source_url") or ""),
        story=int(str(stored["story"])) if stored.get("story") else None,
        **names,
    )


def document_digest(doc: IndexedDocument) -> str:
    """A fingerprint of everything the index stores for a document, to compare any backend's
    index with the database (``manage.py check_index``)."""
    fields = to_fields(doc)
    fields.pop("date_inferred", None)
    fields["date_inferred"] = bool(doc.date_inferred)
    text = json.dumps(fields, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def __getattr__(name: str) -> object:
    """Indexes built before the embedded engine's schema moved to ``whoosh/schema.py`` name its
    positions format here (a Whoosh index pickles its schema): opening one finds the class, so
    ``check_index`` can say the index needs a rebuild instead of failing to read it."""
    if name == "TextPositions":
        from archive.search.whoosh.schema import TextPositions

        return TextPositions
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
