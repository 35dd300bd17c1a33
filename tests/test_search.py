"""Search behaviour through the public API: counts, facets, sorting, paging, odd queries."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from archive import search
from archive.search import SearchRequest

pytestmark = pytest.mark.usefixtures("search_backend")


def counts(response, facet: str) -> dict[str, int]:
    return {v.value: v.count for v in response.facets[facet].values}


@pytest.fixture
def corpus(make_document):
    """Twelve documents: enough for two pages, with overlapping persons and publications."""
    docs = []
    for i in range(12):
        persons = ["Alice Archer"] if i % 2 == 0 else ["Bob Baker"]
        if i % 3 == 0:
            persons.append("Carol Clark")
        docs.append(
            make_document(
                title=f"Harbour story {i}",
                body=f"The harbour pilot number {i} reported fog."
                + (" Storm warning." if i < 4 else ""),
                persons=tuple(persons),
                publication="Daily Post" if i % 4 else "Evening Star",
                published=dt.date(2000 + i % 3, 1 + i % 12, 1) if i != 11 else None,
            )
        )
    return docs


def test_facets_are_counted_over_all_hits_not_just_the_page(corpus):
    response = search.search(SearchRequest(q="harbour", page_size=5))
    assert response.total == 12
    assert len(response.hits) == 5
    assert counts(response, "person") == {"Alice Archer": 6, "Bob Baker": 6, "Carol Clark": 4}
    assert counts(response, "publication") == {"Daily Post": 9, "Evening Star": 3}
    assert counts(response, "year") == {"2000": 4, "2001": 4, "2002": 3, "undated": 1}
    assert sum(counts(response, "year").values()) == response.total


def test_values_in_one_facet_combine_with_or(corpus):
    response = search.search(SearchRequest(q="harbour", persons=("Alice Archer", "Carol Clark")))
    # Alice: 0,2,4,6,8,10; Carol: 0,3,6,9 -> union of 8 documents
    assert response.total == 8


def test_different_facets_combine_with_and(corpus):
    response = search.search(
        SearchRequest(q="harbour", persons=("Alice Archer",), publications=("Evening Star",))
    )
    # Alice (even) AND Evening Star (i % 4 == 0): 0, 4, 8
    assert sorted(hit.title for hit in response.hits) == [
        "Harbour story 0",
        "Harbour story 4",
        "Harbour story 8",
    ]


def test_each_facet_is_counted_without_its_own_filter(corpus):
    response = search.search(SearchRequest(q="harbour", persons=("Alice Archer",)))
    assert response.total == 6
    # The person facet ignores the person filter, so Bob stays visible with his full count...
    assert counts(response, "person") == {"Alice Archer": 6, "Bob Baker": 6, "Carol Clark": 4}
    # ...while the other facets are narrowed by it.
    assert counts(response, "publication") == {"Daily Post": 3, "Evening Star": 3}
    selected = [v.value for v in response.facets["person"].values if v.selected]
    assert selected == ["Alice Archer"]


def test_year_then_month_drill_down(corpus):
    response = search.search(SearchRequest(q="harbour", year=2001))
    assert response.total == 4
    # Years ignore the year filter; months show the chosen year only.
    assert counts(response, "year")["2000"] == 4
    assert counts(response, "month") == {"2001-02": 1, "2001-05": 1, "2001-08": 1, "2001-11": 1}
    drilled = search.search(SearchRequest(q="harbour", year=2001, month=5))
    assert [hit.title for hit in drilled.hits] == ["Harbour story 4"]
    assert counts(drilled, "month")["2001-08"] == 1  # other months stay visible


def test_undated_and_unknown_buckets_filter(corpus, make_document):
    make_document(title="Harbour note", body="No publication here.")
    undated = search.search(SearchRequest(q="harbour", undated=True))
    assert sorted(hit.title for hit in undated.hits) == ["Harbour note", "Harbour story 11"]
    unknown = search.search(SearchRequest(q="harbour", publications=("",)))
    assert [hit.title for hit in unknown.hits] == ["Harbour note"]
    assert counts(unknown, "publication")[""] == 1


def test_date_range_filter(corpus):
    response = search.search(
        SearchRequest(q="harbour", date_from=dt.date(2001, 1, 1), date_to=dt.date(2001, 12, 31))
    )
    assert response.total == 4
    assert all(hit.published.year == 2001 for hit in response.hits)


def test_browse_mode_lists_everything_newest_first(corpus):
    response = search.search(SearchRequest(page_size=100))
    assert response.total == 12
    assert response.sort == "newest"
    dates = [hit.published for hit in response.hits]
    dated = [d for d in dates if d]
    assert dated == sorted(dated, reverse=True)
    assert dates[-1] is None  # undated last
    assert all(hit.score is None for hit in response.hits)


def test_sort_oldest_and_newest_with_a_query(corpus):
    oldest = search.search(SearchRequest(q="harbour", sort="oldest", page_size=100))
    dated = [hit.published for hit in oldest.hits if hit.published]
    assert dated == sorted(dated)
    assert oldest.hits[-1].published is None
    newest = search.search(SearchRequest(q="harbour", sort="newest", page_size=3))
    assert [h.published for h in newest.hits] == sorted(
        [h.published for h in oldest.hits if h.published], reverse=True
    )[:3]


def test_relevance_ranks_and_pages_cover_all_hits_once(corpus):
    seen = []
    for page in (1, 2, 3):
        response = search.search(SearchRequest(q="harbour storm", page=page, page_size=2))
        seen += [hit.id for hit in response.hits]
    assert response.total == 4
    assert len(seen) == len(set(seen)) == 4
    ranked = search.search(SearchRequest(q="harbour OR storm", page_size=20))
    # Documents with both words outrank those with one.
    assert {h.title for h in ranked.hits[:4]} == {f"Harbour story {i}" for i in range(4)}
    scores = [h.score for h in ranked.hits]
    assert scores == sorted(scores, reverse=True)


def test_title_matches_outrank_body_matches(make_document):
    make_document(title="Weather", body="Report on the monsoon arriving late.")
    make_document(title="Monsoon arrives", body="Report on the weather.")
    response = search.search(SearchRequest(q="monsoon"))
    assert response.hits[0].title == "Monsoon arrives"


def test_a_page_past_the_end_is_empty_but_keeps_the_total(corpus):
    response = search.search(SearchRequest(q="harbour", page=99))
    assert response.total == 12
    assert response.hits == []


NO_WORDS = "no searchable words"
CUT = "longer than 1000 characters"


@pytest.mark.parametrize(
    ("text", "total", "notice"),
    [
        ('"unbalanced', 0, None),
        ('"harbour pilot', 12, None),  # an unclosed phrase is still the phrase
        ("AND", 0, NO_WORDS),
        (")(", 0, NO_WORDS),
        ("OR OR NOT", 0, NO_WORDS),
        ("[a TO", 0, NO_WORDS),
        ("harbour AND", 12, None),
        ("storm OR", 4, None),
        ("title:", 0, "“title:” had nothing after it"),
        ("title:storm", 0, None),  # storm is only in bodies
        ("*", 12, None),
        ("harbour~~~", 12, None),
        ("\x00\x01harbour\x1f", 12, None),
        ("x" * 5000, 0, CUT),
        ("harbour " * 1000, 12, CUT),
        # An unclosed quote is dropped: the documents naming a person called Alice (Archer).
        ('person:"Alice', 6, None),
        ("id:1 day:2000", 0, "“id:”, “day:” are not fields of this archive"),
        ("ünïcödé 日本語 🚢", 0, None),
    ],
)
def test_malformed_queries_search_leniently(corpus, text, total, notice):
    response = search.search(SearchRequest(q=text))
    assert response.total == total
    if notice is None:
        assert response.notices == ()
    else:
        assert len(response.notices) == 1
        assert notice in response.notices[0]


def test_control_characters_are_dropped_and_words_still_found(corpus):
    response = search.search(SearchRequest(q="\x00harbour\x07"))
    assert response.total == 12
    assert response.query_text == "harbour"


def test_overlong_queries_are_cut_with_a_notice(corpus, settings):
    settings.ARCHIVE_QUERY_MAX_CHARS = 50
    response = search.search(SearchRequest(q="harbour " * 100))
    assert len(response.query_text) <= 50
    assert any("longer than 50 characters" in n for n in response.notices)
    assert response.total == 12


def test_queries_without_searchable_words_say_so(corpus):
    response = search.search(SearchRequest(q="the and of"))
    assert response.total == 0
    assert any("no searchable words" in n for n in response.notices)


def test_fields_can_be_named_in_queries(corpus):
    assert search.search(SearchRequest(q='person:"Carol Clark"')).total == 4
    assert search.search(SearchRequest(q="title:fog")).total == 0
    assert search.search(SearchRequest(q="fog")).total == 12
    # Unqueryable fields are read as plain words, not as a field.
    assert search.search(SearchRequest(q="id:1")).total == 0


def test_prefix_and_phrase_queries(corpus):
    assert search.search(SearchRequest(q="harb*")).total == 12
    assert search.search(SearchRequest(q='"storm warning"')).total == 4
    assert search.search(SearchRequest(q='"warning storm"')).total == 0


@pytest.mark.whoosh_only
def test_no_index_raises_index_unavailable(db, settings, tmp_path):
    settings.ARCHIVE_INDEX_DIR = tmp_path / "nowhere"
    with pytest.raises(search.IndexUnavailable, match="rebuild_index"):
        search.search(SearchRequest(q="anything"))


@pytest.mark.parametrize(
    ("text", "titles"),
    [
        ("harbour -storm", {f"Harbour story {i}" for i in range(4, 12)}),
        ("storm OR pilot", {f"Harbour story {i}" for i in range(12)}),
        ("storm AND NOT fog", set()),
        ("stor*", {f"Harbour story {i}" for i in range(12)}),
        ('"storm warning"', {f"Harbour story {i}" for i in range(4)}),
        ('"warning storm"', set()),
        ("title:story body:storm", {f"Harbour story {i}" for i in range(4)}),
    ],
)
def test_boolean_prefix_phrase_and_field_queries_match_exactly(corpus, text, titles):
    response = search.search(SearchRequest(q=text, page_size=100))
    assert {hit.title for hit in response.hits} == titles
    assert response.total == len(titles)


def test_every_matching_field_adds_to_the_score(make_document):
    """A document matching both words in its title and its body must outrank one that matches a
    word only in the body (Whoosh's own top-N shortcut can drop a field's share of the score)."""
    make_document(title="Blair and Brown meet", body="Blair spoke. Brown listened. Blair left.")
    make_document(title="Blair speaks", body="Blair and Brown. Blair again.")
    make_document(title="Other news", body="Blair and Brown, twice: Blair, Brown.")
    response = search.search(SearchRequest(q="blair brown"))
    assert [hit.title for hit in response.hits] == [
        "Blair and Brown meet",
        "Blair speaks",
        "Other news",
    ]
    scores = [hit.score for hit in response.hits]
    assert scores == sorted(scores, reverse=True) and scores[0] > scores[1] > scores[2]


@pytest.mark.whoosh_only
def test_phrases_matched_from_positions_agree_with_whoosh(make_document):
    """The numpy phrase matcher (scoring.Evaluation._phrase) against Whoosh's own phrase matcher,
    on random texts from a small vocabulary, so that most phrases match some documents and not
    others; with stop words inside phrases, repeated words, and words split over segments."""

    rng = random.Random(11)
    vocabulary = "storm harbour pilot warning fog ship night the of storms".split()
    for number in range(40):
        words = [rng.choice(vocabulary) for _ in range(rng.randint(3, 30))]
        make_document(title=f"Story {number} {rng.choice(vocabulary)}", body=" ".join(words))
    phrases = {
        " ".join(rng.choice(vocabulary) for _ in range(rng.randint(2, 4))) for _ in range(80)
    }
    matched_some = _agree_with_whoosh([f'"{phrase}"' for phrase in sorted(phrases)])
    assert matched_some >= 10  # the comparison covered matching phrases, not only misses


def _agree_with_whoosh(queries: list[str]) -> int:
    """Assert that the engine's own matching (``scoring.Evaluation``) finds, for each query,
    the documents Whoosh's matcher finds; returns how many queries matched some."""
    from archive.search.query import parse_query
    from archive.search.whoosh.index import borrowed_searcher
    from archive.search.whoosh.scoring import Evaluation

    matched_some = 0
    with borrowed_searcher() as searcher:
        size = searcher.doc_count_all()
        for text in queries:
            node = parse_query(text).query
            if node is None:
                continue
            evaluation = Evaluation(searcher, size)
            ours, _ = evaluation.evaluate(node)
            whoosh = evaluation._whoosh_mask(node)
            assert (ours == whoosh).all(), text
            matched_some += bool(whoosh.any())
    return matched_some


SUFFIXES = ("~", "~2", "~1/2", "~2/3")


@pytest.mark.whoosh_only
def test_fuzzy_and_wildcard_words_expand_as_whoosh_expands_them(make_document):
    """``scoring.fuzzy_terms`` and ``wildcard_terms`` (the cached word lists, compared by
    rapidfuzz or a regular expression, some 100 times faster than Whoosh's walks of the on-disk
    word list) find the documents Whoosh's own ``FuzzyTerm`` and ``Wildcard`` find: one and two
    edits, with and without a kept prefix, leading and inner wildcards, character sets."""
    rng = random.Random(12)
    vocabulary = "storm storms stork harbour harbor pilot pilots plot warning warming fog".split()
    for number in range(30):
        words = [rng.choice(vocabulary) for _ in range(rng.randint(2, 12))]
        make_document(title=f"Story {number}", body=" ".join(words))
    fuzzy = [w + s for w in ("storm", "harbr", "pilt", "warnin", "fgo", "stor") for s in SUFFIXES]
    wildcards = ["*orm", "st?rm*", "*a*", "p[il]lot*", "harb*r", "*", "?", "w*ing", "zz*z"]
    assert _agree_with_whoosh(fuzzy + wildcards) >= 20


def test_ties_are_ordered_by_document_id_on_every_engine(make_document):
    """Documents of one day, or of one score, come in document id order (newest: the highest
    id first), not in the order an index happens to hold them: a document saved again moves to
    the end of the embedded index, and a parallel rebuild shuffles it, so a bookmarked page
    changed after a rebuild and the two engines ordered ties differently."""
    day = dt.date(2004, 5, 1)
    weather = ("fog", "rain", "snow", "wind", "hail", "sleet")  # not copies of each other
    docs = [
        make_document(title=f"Report {w}", body=f"The harbour pilot reported {w}.", published=day)
        for w in weather
    ]
    docs[2].title = "Report snow"  # the same words
    docs[2].save()  # indexed again: its index entry is now the newest
    ids = sorted(d.pk for d in docs)
    for sort, expected in (("newest", ids[::-1]), ("oldest", ids), ("relevance", ids)):
        response = search.search(SearchRequest(q="harbour pilot", sort=sort, page_size=10))
        assert [hit.id for hit in response.hits] == expected, sort
    browse = search.search(SearchRequest(page_size=10))
    assert [hit.id for hit in browse.hits] == ids[::-1]
    second_page = search.search(SearchRequest(q="harbour", sort="newest", page=2, page_size=4))
    assert [hit.id for hit in second_page.hits] == ids[::-1][4:]


def test_every_query_form_answers_on_an_empty_archive(transactional_db):
    """A review's find: on a new archive (an index with no documents) a phrase query failed
    with an AttributeError, a 500 on the page."""
    from archive import indexing

    indexing.rebuild()
    for q in (
        '"tony blair"',
        'headline:"Tony Blair"',
        'place: "New York"',
        '"zardari offer"~5',
        "blair",
        "bl*",
        "blair~",
        "person:blair",
        "date:2008",
        "",
    ):
        assert search.search(SearchRequest(q=q)).total == 0, q
