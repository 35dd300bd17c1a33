"""The embedded engine's Whoosh schema: the fields of ``archive/search/schema.py`` as Whoosh
field types, and how to tell an index built with other analysis (:func:`outdated_analysis`).
"""

from __future__ import annotations

from collections.abc import Callable

from whoosh import analysis, fields, formats

from archive.search.analyzer import (
    EXACT_ANALYZER,
    TEXT_ANALYZER,
    NewsTextAnalyzer,
    describe,
    english_stem,
    same_analysis,
)
from archive.search.schema import EXACT_FIELDS, MULTI_VALUE_FIELDS, TEXT_FIELDS


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


def _text_field(analyzer: NewsTextAnalyzer, stored: bool = True) -> fields.TEXT:
    field_type = fields.TEXT(analyzer=analyzer, stored=stored)
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
        # The same text unstemmed, for quoted words (not stored: the text is stored above).
        **{exact: _text_field(EXACT_ANALYZER, stored=False) for exact in EXACT_FIELDS.values()},
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
    expected = {name: TEXT_ANALYZER for name in TEXT_FIELDS}
    expected.update({exact: EXACT_ANALYZER for exact in EXACT_FIELDS.values()})
    for fieldname, analyzer in expected.items():
        found = schema[fieldname].analyzer if fieldname in schema else None
        if not same_analysis(found, analyzer):
            return (
                f"the index analyses {fieldname!r} with {describe(found)}, this version of the "
                f"site with {describe(analyzer)}"
            )
    return ""
