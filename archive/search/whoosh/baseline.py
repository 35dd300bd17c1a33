"""The benchmark's reference: one search done "the straightforward Whoosh way".

``bench/alternatives.py`` measures the site's search against this (and against SQLite FTS5 and
tantivy). It lives here because ``archive/search`` is the only package that imports Whoosh.

It uses the site's own schema and analyzers (:data:`~archive.search.whoosh.schema.SCHEMA`,
:func:`~archive.search.schema.to_fields`), so it finds what the site finds, but none of the site's
machinery: no numpy facet tables, no block-wise scoring, no searcher pool. A search is what the
Whoosh documentation shows: ``MultifieldParser`` over title and body, then one
``searcher.search(query, limit=10, groupedby=..., filter=...)`` whose facets walk every hit in
Python, then ``hit.highlights("body")`` for each of the ten hits, which re-tokenises the stored
body. That path is known to be slow on broad queries; it is deliberately left unoptimised, since
the point is to show what the site's own engine saves. (The opened index is kept between searches
and a searcher is opened per search, as the Whoosh documentation recommends for a web app.)
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path

from whoosh import analysis, highlight, qparser, query, sorting
from whoosh import index as whoosh_index

from archive.search.facets import FACET_LIMIT, UNDATED, UNKNOWN_PUBLICATION
from archive.search.highlight import MarkFormatter, lead
from archive.search.schema import DEFAULT_SEARCH_FIELDS, EXACT_FIELDS, IndexedDocument, to_fields
from archive.search.whoosh.schema import SCHEMA

# What the site's text analyzer drops, so the other engines can drop the same words from a query.
STOP_WORDS: frozenset[str] = frozenset(analysis.STOP_WORDS)
MIN_WORD_CHARS = 2  # shorter tokens are dropped by the analyzer too (StemmingAnalyzer's minsize)

HITS = 10
LEAD_CHARS = 200

_indexes: dict[str, whoosh_index.Index] = {}
_indexes_lock = threading.Lock()


class _WhooshMarkFormatter(MarkFormatter, highlight.Formatter):
    """The site's marks (escaped text, ``<mark>``) in Whoosh's own highlighter."""


def build_baseline_index(docs: Iterable[IndexedDocument], path: Path) -> int:
    """Write ``docs`` into a new index at ``path`` with one plain writer; returns the count.

    One writer in one process, one commit: the straightforward build (the site's rebuild uses a
    writer per core).
    """
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    ix = whoosh_index.create_in(str(path), SCHEMA)
    writer = ix.writer(limitmb=256)
    count = 0
    try:
        for doc in docs:
            fields = to_fields(doc)
            fields.update({exact: fields[name] for name, exact in EXACT_FIELDS.items()})
            writer.add_document(**fields)
            count += 1
    except BaseException:
        writer.cancel()
        raise
    writer.commit()
    with _indexes_lock:
        _indexes.pop(str(path), None)
    return count


def _open(path: Path) -> whoosh_index.Index:
    key = str(path)
    with _indexes_lock:
        ix = _indexes.get(key)
        if ix is None:
            ix = _indexes[key] = whoosh_index.open_dir(key)
    return ix


def _filter(
    persons: tuple[str, ...], publications: tuple[str, ...], year: int | None
) -> query.Query | None:
    """Persons OR'ed, publications OR'ed, the year; the three AND'ed."""
    parts: list[query.Query] = []
    if persons:
        parts.append(query.Or([query.Term("person", name) for name in persons]))
    if publications:
        parts.append(query.Or([query.Term("publication", name) for name in publications]))
    if year is not None:
        parts.append(query.Prefix("day", f"{year:04d}"))  # day is YYYYMMDD
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else query.And(parts)


def _year_facet(searcher) -> sorting.QueryFacet:
    """A facet over the year: one query per year in the index, "undated" for the rest."""
    years = sorted({term[:4].decode("ascii") for term in searcher.lexicon("day")})
    return sorting.QueryFacet({year: query.Prefix("day", year) for year in years}, other=UNDATED)


def _top(counts: dict, rename: dict) -> dict[str, int]:
    """Whoosh's group counts as the site's facet values: keys renamed (to None: dropped), the
    FACET_LIMIT biggest, ties alphabetically."""
    named: dict[str, int] = {}
    for key, count in counts.items():
        name = rename.get(key, key)
        if name is not None:
            named[str(name)] = named.get(str(name), 0) + int(count)
    ordered = sorted(named.items(), key=lambda item: (-item[1], item[0]))
    return dict(ordered[:FACET_LIMIT])


def baseline_search(
    path: Path,
    q: str,
    persons: tuple[str, ...] = (),
    publications: tuple[str, ...] = (),
    year: int | None = None,
) -> dict:
    """One search on the index at ``path``.

    Returns ``{"total", "facets": {"person", "publication", "year"}, "snippets", "ids"}``: facet
    counts are over every hit after all filters (documents without a publication count under
    ``""``, undated ones under ``"undated"``); snippets and ids are the top ten hits', best first
    (newest first when ``q`` is empty).
    """
    ix = _open(Path(path))
    with ix.searcher() as searcher:
        groupedby = {
            "person": sorting.FieldFacet("person", allow_overlap=True),
            "publication": sorting.FieldFacet("publication", allow_overlap=True),
            "year": _year_facet(searcher),
        }
        options = {
            "limit": HITS,
            "groupedby": groupedby,
            "maptype": sorting.Count,
            "filter": _filter(tuple(persons), tuple(publications), year),
        }
        body_field = "body"
        if q.strip():
            boosts = DEFAULT_SEARCH_FIELDS
            if len(q) > 1 and q.startswith('"') and q.endswith('"'):
                # A quoted phrase searches the unstemmed fields, as the site does (EXACT_FIELDS).
                boosts = {EXACT_FIELDS[name]: weight for name, weight in boosts.items()}
                body_field = EXACT_FIELDS["body"]
            parser = qparser.MultifieldParser(list(boosts), schema=ix.schema, fieldboosts=boosts)
            results = searcher.search(parser.parse(q), **options)
        else:
            # Newest first: dated documents before undated ones, then by day, descending.
            newest = sorting.MultiFacet(
                [
                    sorting.QueryFacet({0: query.Every("day")}, other=1),
                    sorting.FieldFacet("day", reverse=True),
                ]
            )
            results = searcher.search(query.Every(), sortedby=newest, **options)

        results.formatter = _WhooshMarkFormatter()
        snippets = []
        ids = []
        # With groupedby, Whoosh scores and sorts every hit (UnlimitedCollector), not just ten.
        for hit in results[:HITS]:
            snippet = hit.highlights(body_field, text=hit["body"], top=1) if q.strip() else ""
            snippets.append(snippet or lead(hit["body"], LEAD_CHARS))
            ids.append(int(hit["id"]))
        return {
            "total": len(results),
            "facets": {
                "person": _top(results.groups("person"), {None: None}),
                "publication": _top(results.groups("publication"), {None: UNKNOWN_PUBLICATION}),
                "year": _top(results.groups("year"), {}),
            },
            "snippets": snippets,
            "ids": ids,
        }
