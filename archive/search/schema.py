"""The index schema, and where an article becomes index fields (:func:`to_fields`).

Text fields (title, body) are analysed for search; person, organisation, place, publication and day
are exact values, one term per value, from which the facet tables in ``facets.py`` are built.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from whoosh import analysis, fields, formats

from archive.search.analyzer import (
    TEXT_ANALYZER,
    NewsTextAnalyzer,
    describe,
    english_stem,
    same_analysis,
)

TEXT_FIELDS = ("title", "body")

# Multi-valued exact fields hold one value per line, so names may contain spaces and commas.
VALUE_SEPARATOR = "\n"
# The multi-valued exact fields, each with the IndexedDocument attribute that holds its names.
MULTI_VALUE_FIELDS = {"person": "persons", "organisation": "organisations", "place": "places"}


class TextPositions(formats.Positions):
    """Whoosh's positions format, writing the same bytes, with the terms and positions of a
    text from :meth:`NewsTextAnalyzer.term_positions` instead of a ``Token`` per word: Whoosh's
    ``word_values`` and the analyzer's generator were about a sixth of an index build's CPU.
    An index stores (pickles) its schema, so this class's name is part of the index format."""

    def word_values(self, value, analyzer, **kwargs):
        plain = isinstance(analyzer, NewsTextAnalyzer) and isinstance(value, str)
        if not plain or kwargs.keys() - {"mode"}:
            yield from super().word_values(value, analyzer, **kwargs)
            return
        boost = self.field_boost
        for term, positions in analyzer.term_positions(value).items():
            yield term, len(positions), float(len(positions)) * boost, self.encode(positions)


def _text_field(analyzer: NewsTextAnalyzer) -> fields.TEXT:
    field_type = fields.TEXT(analyzer=analyzer, stored=True)
    field_type.format = TextPositions(field_boost=field_type.format.field_boost)
    return field_type


def _multi_value_field() -> fields.KEYWORD:
    field_type = fields.KEYWORD(stored=True, scorable=False)
    field_type.analyzer = analysis.RegexTokenizer(r"[^\n]+")
    return field_type


def build_schema(
    stem: Callable[[str], str] = english_stem, index_date_inferred: bool = True
) -> fields.Schema:
    """The index's fields. ``stem`` and ``index_date_inferred`` are parameters only so that a
    test can build an index the way an older version of the site did (another stemmer; the
    inferred-date flag only stored); the site always uses the defaults."""
    analyzer = TEXT_ANALYZER if stem is english_stem else NewsTextAnalyzer(stem)
    return fields.Schema(
        id=fields.ID(unique=True, stored=True),
        title=_text_field(analyzer),
        body=_text_field(analyzer),
        **{fieldname: _multi_value_field() for fieldname in MULTI_VALUE_FIELDS},
        publication=fields.ID(stored=True),
        # The publication date as YYYYMMDD; absent when the document has no date.
        day=fields.ID(stored=True),
        # Indexed (terms b"t"/b"f") so the facet tables can tell stated dates from inferred ones.
        date_inferred=fields.BOOLEAN(stored=True) if index_date_inferred else fields.STORED,
        source_url=fields.STORED,
        # The story the document is a copy of (archive/ingest/copies.py); absent: none yet.
        story=fields.ID(stored=True),
    )


SCHEMA = build_schema()


def outdated_analysis(schema: fields.Schema) -> str:
    """Why an index with ``schema`` analyses text differently from this code ("" when it does
    not). Queries are analysed with this code's analyzer, so a word whose stem changed would miss
    the documents an older index holds it in: such an index needs a rebuild. So does an index
    without a field this version fills (built before organisations and places were facets): its
    documents would be missing from those facets and filters; or one that only stores a field
    this version indexes (``date_inferred``, before entity pages told stated dates from inferred
    ones): every date would count as stated."""
    missing = [name for name in SCHEMA.names() if name not in schema]
    if missing:
        names = ", ".join(repr(name) for name in missing)
        return f"the index has no {names} field{'s' if len(missing) > 1 else ''}"
    unindexed = [n for n in SCHEMA.names() if SCHEMA[n].indexed and not schema[n].indexed]
    if unindexed:
        names = ", ".join(repr(name) for name in unindexed)
        return f"the index does not index {names}"
    for fieldname in TEXT_FIELDS:
        found = schema[fieldname].analyzer if fieldname in schema else None
        if not same_analysis(found, TEXT_ANALYZER):
            return (
                f"the index analyses {fieldname!r} with {describe(found)}, this version of the "
                f"site with {describe(TEXT_ANALYZER)}"
            )
    return ""


# Fields a user's query searches when it names no field, and how much each weighs. Each field is
# scored on its own (BM25F) and the scores add up. A headline match must outrank the same word in
# the text (without a boost, a long-ish headline can lose to a short text), but a large boost
# hurts long queries: BEIR SciFact nDCG@10 was 0.528 with 3.0, 0.575 with 1.5, 0.591 with 1.0
# (bench/scifact_eval.py).
DEFAULT_SEARCH_FIELDS = {"title": 1.5, "body": 1.0}
# Fields a query may name explicitly (`title:murree`, `person:"Madhukar Gupta"`).
QUERYABLE_FIELDS = ("title", "body", *MULTI_VALUE_FIELDS, "publication")


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
    """The Whoosh fields for one document."""
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
