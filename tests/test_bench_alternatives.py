"""The benchmark's comparison engines (bench/alternatives.py) answer the same question as the
site's search, or the benchmark's ratios would compare different work: on a generated corpus whose
words every stemmer treats alike, the same totals and facet counts for each query, the same
newest-first order, and escaped snippets with the query words marked. Where the engines' stemmers
do differ, one example of each documented difference is pinned."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

import pytest
from django.test import override_settings

from archive import search
from bench.alternatives import (
    FACETS,
    EngineResult,
    SqliteFts5,
    Tantivy,
    WhooshNaive,
    engines,
    fts5_match,
    read_corpus,
    split_query,
)
from bench.queries import BenchQuery

# Words whose Porter (FTS5) and Snowball (Whoosh, tantivy) stems group the same way, so the
# engines must agree exactly; the known differences are tested apart below.
VOCABULARY = """harbour harbours budget budgets storm storms railway railways rail election
elections minister ministers council councils river rivers market markets bridge bridges school
schools hospital winter summer garden gardens station train trains festival music museum ferry
island islands coast village villages farmer farmers harvest wheat copper silver gold bank banks
court courts judge judges police strike strikes union unions factory factories port ports ship
ships cargo fleet weather flood floods drought tunnel tunnels airport airports tower towers castle
castles mountain valley forest lake lakes desert northern southern eastern western report reports
plan plans the of and in to""".split()
FIRST_NAMES = "Ann Bob Cleo Dev Eva Femi Gus Hana Ivo Jun Kai Lea".split()
LAST_NAMES = "Lee Marsh Novak Okafor Park Quinn Rossi Sato Tan Ueda Vega Wu".split()
PERSONS = [f"{first} {last}" for first, last in zip(FIRST_NAMES, LAST_NAMES, strict=True)]
PUBLICATIONS = ["Daily Post", "Evening Star", "Harbour Times", "The Ledger", "Valley Herald"]
DOCS = 300

QUERIES = [
    BenchQuery("word", "harbour"),
    BenchQuery("two words", "storm budget"),
    BenchQuery("phrase", '"prime minister"'),
    BenchQuery("prefix", "rail*"),
    BenchQuery("word + person", "budget", persons=("Ann Lee",)),
    BenchQuery("two persons", "election", persons=("Bob Marsh", "Cleo Novak")),
    BenchQuery("two publications + year", "storm", publications=PUBLICATIONS[:2], year=2004),
    BenchQuery("browse", ""),
    BenchQuery("browse + year", "", year=2003),
    BenchQuery("stop words only", "the of"),
]


def make_corpus(path: Path, docs: int = DOCS) -> Path:
    """Synthetic articles: words from VOCABULARY, "prime minister" in some, 0-3 persons, a
    publication (or none), a date in 2001-2006 (or none); a few carry markup to escape."""
    rng = random.Random(20260522)
    with path.open("w", encoding="utf-8") as out:
        for number in range(docs):
            words = rng.choices(VOCABULARY, k=rng.randint(30, 90))
            if rng.random() < 0.25:
                spot = rng.randrange(len(words))
                words[spot:spot] = ["prime", "minister"]
            if rng.random() < 0.05:
                words.insert(rng.randrange(len(words)), "<script>alert('x')</script> R&D")
            record = {
                "title": " ".join(rng.choices(VOCABULARY, k=rng.randint(3, 7))).capitalize(),
                "body": " ".join(words) + ".",
                "external_id": f"synthetic-{number}",
                "persons": rng.sample(PERSONS, rng.randint(0, 3)),
            }
            if rng.random() < 0.9:
                record["publication"] = rng.choice(PUBLICATIONS)
            if rng.random() < 0.9:
                day = dt.date(2001, 1, 1) + dt.timedelta(days=rng.randrange(6 * 365))
                record["published"] = day.isoformat()
            out.write(json.dumps(record) + "\n")
    return path


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return make_corpus(tmp_path_factory.mktemp("corpus") / "corpus.jsonl")


@pytest.fixture(scope="module")
def built(corpus, tmp_path_factory) -> dict[str, object]:
    """Every alternative engine, built once for the module."""
    workdir = tmp_path_factory.mktemp("alternatives")
    result = {}
    for engine in engines():
        stats = engine.build(corpus, workdir / engine.name)
        assert stats["docs"] == DOCS
        assert stats["bytes_on_disk"] > 0
        result[engine.name] = engine
    return result


@pytest.fixture(scope="module")
def site_index(corpus, tmp_path_factory) -> Path:
    """The site's own index of the same documents, built the way `rebuild_index` builds it."""
    path = tmp_path_factory.mktemp("site") / "index"
    with override_settings(ARCHIVE_INDEX_DIR=path):
        search.create_index_if_missing()
        assert search.rebuild_index(read_corpus(corpus)) == DOCS
    return path


@pytest.fixture
def ours(site_index, index_dir, settings):
    """Runs a BenchQuery through the site's own search, on ``site_index``."""
    settings.ARCHIVE_INDEX_DIR = site_index

    def run(query: BenchQuery) -> search.SearchResponse:
        return search.search(
            search.SearchRequest(
                q=query.q,
                persons=query.persons,
                publications=query.publications,
                year=query.year,
                page_size=10,
            )
        )

    return run


def comparable_facets(response: search.SearchResponse, query: BenchQuery) -> dict:
    """The site's facets that count over the same hits as the alternatives': those without an
    active filter (the site counts each facet without its own filter)."""
    active = {"person": bool(query.persons), "publication": bool(query.publications)}
    active["year"] = query.year is not None
    return {
        name: {v.value: v.count for v in response.facets[name].values if v.count}
        for name in FACETS
        if not active[name]
    }


@pytest.mark.parametrize("query", QUERIES, ids=[q.name for q in QUERIES])
def test_engines_agree_with_the_site(query, built, ours):
    response = ours(query)
    expected = comparable_facets(response, query)
    if query.name != "stop words only":
        assert response.total > 0, "the corpus should give every query some hits"
    for name, engine in built.items():
        result = engine.search(query)
        assert isinstance(result, EngineResult)
        assert result.total == response.total, name
        for facet, counts in expected.items():
            assert result.facets[facet] == counts, (name, facet)
        # Filters narrow every facet: a filtered facet holds only the chosen values.
        if query.persons:
            assert set(result.facets["person"]) >= set(query.persons), name
        if query.publications:
            assert set(result.facets["publication"]) <= set(query.publications), name
        if query.year is not None:
            assert set(result.facets["year"]) == {str(query.year)}, name
        assert len(result.snippets) == len(result.ids) == min(10, response.total), name


@pytest.mark.parametrize(
    "query", [q for q in QUERIES if q.q.strip() and q.name != "stop words only"], ids=str
)
def test_snippets_mark_the_query_words(query, built, corpus):
    bodies = {doc.id: doc.body.lower() for doc in read_corpus(corpus)}
    parts = split_query(query.q)
    words = [*parts.words, *(" ".join(p) for p in parts.phrases), *parts.prefixes]
    for name, engine in built.items():
        result = engine.search(query)
        in_body = [i for i in result.ids if any(word in bodies[i] for word in words)]
        assert in_body, name  # the top hits are not all title-only matches
        for doc_id, snippet in zip(result.ids, result.snippets, strict=True):
            if doc_id in in_body:
                assert "<mark>" in snippet, (name, doc_id, snippet)
            assert "<script>" not in snippet, name


def test_browse_lists_newest_first_undated_last(built, ours, corpus):
    dates = {doc.id: doc.published for doc in read_corpus(corpus)}
    response = ours(BenchQuery("browse", ""))
    expected = [h.published for h in response.hits]
    assert None not in expected
    for name, engine in built.items():
        result = engine.search(BenchQuery("browse", ""))
        assert [dates[i] for i in result.ids] == expected, name


def test_markup_in_a_document_is_escaped(built):
    query = BenchQuery("markup", "alert")
    for name, engine in built.items():
        result = engine.search(query)
        assert result.total > 0, name
        assert all("<script>" not in s for s in result.snippets), name
        assert any("&lt;script&gt;" in s for s in result.snippets), name


@pytest.mark.parametrize(
    "text", ['title:harbour (storm) -budget "unclosed', "NEAR AND OR NOT", '* ** "" \' ;', "ü"]
)
def test_odd_query_text_never_breaks_an_engine(text, built):
    for engine in built.values():
        engine.search(BenchQuery("odd", text))


def test_split_query():
    parts = split_query('Budget  "Prime Minister" rail* the a "x" "of"')
    assert parts.words == ("budget",)
    assert parts.phrases == (("prime", "minister"),)
    assert parts.prefixes == ("rail",)
    assert split_query("  ") is None
    assert split_query("the of").empty
    # Every word is quoted for FTS5, so none is read as an operator or a column name.
    assert fts5_match(split_query('near title:x "a b" pre*')) == '"near" "title" "a b" "pre" *'


def test_known_stemming_differences(tmp_path):
    """What the engines' docstrings say: Porter (FTS5) makes "news" "new", Snowball (the site's
    Whoosh analyzer, tantivy) does not; the two stemmers reduce the prefix "pres" differently
    (Porter: "pre", so it finds "prevent"); all three undouble consonants ("planned" is "plan");
    every engine folds accents."""
    corpus = tmp_path / "tiny.jsonl"
    lines = [
        {"title": "One", "body": "A new bridge opens", "external_id": "1"},
        {"title": "Two", "body": "The news from the port", "external_id": "2"},
        {"title": "Three", "body": "Storms prevent the ferry from sailing", "external_id": "3"},
        {"title": "Four", "body": "The president visits", "external_id": "4"},
        {"title": "Five", "body": "Café society", "external_id": "5"},
        {"title": "Six", "body": "They planned a bridge", "external_id": "6"},
        {"title": "Seven", "body": "The plan for the port", "external_id": "7"},
    ]
    corpus.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    totals = {}
    for engine in (WhooshNaive(), SqliteFts5(), Tantivy()):
        engine.build(corpus, tmp_path / engine.name)
        totals[engine.name] = tuple(
            engine.search(BenchQuery("q", q)).total for q in ("news", "pres*", "plan", "cafe")
        )
    assert totals["whoosh-naive"] == (1, 1, 2, 1)
    assert totals["sqlite-fts5"] == (2, 2, 2, 1)
    assert totals["tantivy"] == (1, 1, 2, 1)
