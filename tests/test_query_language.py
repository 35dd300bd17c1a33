"""The query language of the search box (archive/search/query.py), did-you-mean
(archive/search/spelling.py) and the any-words fallback for long queries (engine.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from archive import search
from archive.models import Organisation, Person, Place, merge_persons
from archive.params import canonical_filters
from archive.search import SearchRequest

pytestmark = pytest.mark.usefixtures("search_backend")


def titles(q: str, **options) -> set[str]:
    response = search.search(SearchRequest(q=q, page_size=100, **options))
    return {hit.title for hit in response.hits}


@pytest.fixture
def dated(make_document):
    for title, day in [
        ("Harbour 2007", dt.date(2007, 6, 1)),
        ("Harbour 2008 November", dt.date(2008, 11, 26)),
        ("Harbour 2009", dt.date(2009, 1, 1)),
        ("Harbour 2010 last day", dt.date(2010, 12, 31)),
        ("Harbour 2011", dt.date(2011, 3, 3)),
        ("Harbour undated", None),
    ]:
        # A text of its own each: one text twice (undated) would be one story.
        make_document(title=title, body=f"The harbour was busy: {title}.", published=day)


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("date:[2008 TO 2010]", {"Harbour 2008 November", "Harbour 2009", "Harbour 2010 last day"}),
        ("harbour date:2008-11", {"Harbour 2008 November"}),
        ("date:2008-11-26", {"Harbour 2008 November"}),
        ("date:>2009", {"Harbour 2010 last day", "Harbour 2011"}),
        ("date:<2009", {"Harbour 2007", "Harbour 2008 November"}),
        ("date:[2010 TO]", {"Harbour 2010 last day", "Harbour 2011"}),
        ("harbour NOT date:[2008 TO 2011]", {"Harbour 2007", "Harbour undated"}),
        # "*" is an open end, as Lucene writes it (a QA find: "“*” is not a date").
        ("date:[2010 TO *]", {"Harbour 2010 last day", "Harbour 2011"}),
        ("date:[* TO 2008]", {"Harbour 2007", "Harbour 2008 November"}),
        (
            "date:[* TO *]",
            {
                "Harbour 2007",
                "Harbour 2008 November",
                "Harbour 2009",
                "Harbour 2010 last day",
                "Harbour 2011",
            },
        ),
    ],
)
def test_date_ranges(dated, q, expected):
    assert titles(q) == expected


def test_a_bad_date_is_explained_and_left_out(dated):
    response = search.search(SearchRequest(q="harbour date:2008-13", page_size=100))
    assert response.total == 6
    assert any("“2008-13” is not a date" in notice for notice in response.notices)


def test_a_backwards_range_is_read_the_right_way_round_and_said(dated):
    """``date:[2010 TO 2008]`` found nothing and the page said to check the spelling."""
    response = search.search(SearchRequest(q="harbour date:[2010 TO 2008]", page_size=100))
    assert {hit.title for hit in response.hits} == {
        "Harbour 2008 November",
        "Harbour 2009",
        "Harbour 2010 last day",
    }
    assert "it was read as date:[2008 TO 2010]" in " ".join(response.notices)
    response = search.search(SearchRequest(q="harbour date:{2010 TO 2008}", page_size=100))
    assert {hit.title for hit in response.hits} == {"Harbour 2009"}
    assert "it was read as date:{2008 TO 2010}" in " ".join(response.notices)


@pytest.mark.parametrize("text", ["99999", "2008111", "20081", "2008-13"])
def test_digits_that_are_no_date_are_said_to_be_none(dated, text):
    """Run together, a month and a day take two digits each: "99999" was September 9999."""
    response = search.search(SearchRequest(q=f"harbour date:{text}", page_size=100))
    assert response.total == 6
    assert any(f"“{text}” is not a date" in notice for notice in response.notices)


def test_dates_run_together_read_as_written(dated):
    assert titles("date:200811") == titles("date:2008-11") == {"Harbour 2008 November"}
    assert titles("date:20081126") == {"Harbour 2008 November"}
    assert titles("date:2008-1-1") == titles("date:[2008-01-01 TO 2008-01-01]")


def test_person_and_publication_fields_accept_any_case_and_part_of_a_name(make_document):
    make_document(title="Gupta speaks", persons=("Madhukar Gupta",), publication="Reuters Business")
    make_document(title="Kumawat speaks", persons=("M L Kumawat",), publication="BBC")
    assert titles("person:gupta") == {"Gupta speaks"}
    assert titles('person:"Madhukar Gupta"') == {"Gupta speaks"}
    assert titles("person:GUPTA speaks") == {"Gupta speaks"}
    assert titles("publication:reuters") == {"Gupta speaks"}
    assert titles("NOT publication:reuters") == {"Kumawat speaks"}
    assert titles("person:nobody") == set()


def test_a_wildcard_in_a_value_field_matches_the_words_of_values_and_a_typo_mark_is_not_read(
    make_document,
):
    """``person:bl*`` finds every value with a word that begins so, in any case, on every
    engine; ``person:blair~`` is ``person:blair`` (a value is searched by its words)."""
    make_document(
        title="Blair speaks", body="On schools.", persons=("Tony Blair",), publication="BBC News"
    )
    make_document(
        title="Bloggs speaks", body="On roads.", persons=("Joe Bloggs",), publication="Reuters"
    )
    make_document(title="Gupta speaks", body="On trains.", persons=("Madhukar Gupta",))
    assert titles("person:bl*") == {"Blair speaks", "Bloggs speaks"}
    assert titles("person:BL*") == {"Blair speaks", "Bloggs speaks"}
    assert titles("person:*ggs") == {"Bloggs speaks"}
    assert titles("person:tony bl*") == {"Blair speaks"}
    assert titles("publication:reu*") == {"Bloggs speaks"}
    assert titles("person:blair~") == titles("person:blair") == {"Blair speaks"}
    # In quotes a star is a character, as everywhere in the query language.
    assert titles('person:"tony bl*"') == set()
    response = search.search(SearchRequest(q="person:bl*"))
    assert not response.notices


def test_a_value_word_shared_by_thousands_of_names_still_filters(make_document):
    """``person:john`` in a large archive names thousands of people: on the cluster a filter on
    their ids, which searchd refused past 4,096 values ("set length 5001 (should be in 0..4096
    range)"), so the search found nothing."""
    people = Person.objects.bulk_create(
        [Person(name=f"Sam Kx{number}", slug=f"sam-kx{number}") for number in range(4_500)]
    )
    for number in range(3):
        document = make_document(title=f"Crowd {number}", body=f"A crowd of {number} gathered.")
        document.persons.add(*people[number * 1_500 : (number + 1) * 1_500])
    make_document(title="Alone", body="A crowd of one.")
    response = search.search(SearchRequest(q="person:sam crowd", page_size=100))
    assert {hit.title for hit in response.hits} == {"Crowd 0", "Crowd 1", "Crowd 2"}
    assert not response.notices


def test_a_value_in_the_query_filters_and_does_not_rank(make_document):
    """Adding ``person:"…"`` to a query keeps its order and its scores (the embedded engine
    scores a value's match 0; the cluster's facts field does not rank), whichever shard holds
    the documents."""
    for number, repeats in enumerate([1, 3, 2, 5, 4, 1, 2, 3], start=1):
        make_document(
            title=f"Report {number}",
            body=" ".join(["harbour"] * repeats) + f" and the pier {number}.",
            persons=("Tony Blair",) if number % 2 else ("Tony Blair", "Cherie Blair"),
        )

    def ranked(q: str) -> list[tuple[str, float]]:
        response = search.search(SearchRequest(q=q, page_size=100))
        return [(hit.title, round(hit.score or 0.0, 3)) for hit in response.hits]

    plain = ranked("harbour")
    assert len(plain) == 8
    assert ranked('harbour person:"Tony Blair"') == plain
    scores = {score for _, score in ranked('person:"Tony Blair"')}
    assert len(scores) == 1


def test_a_pattern_that_names_hundreds_of_values_answers_as_on_every_engine(make_document):
    """``person:s*`` in a large archive names thousands of people. Beside other words, or in an
    OR of one field, it filters on every engine; as tokens of the cluster's MATCH() an OR of 923
    values took searchd over its 3 s limit (a 4,158-document archive), so nothing was found."""
    for number in range(8):
        people = [f"Sam Kx{number}v{n}" for n in range(40)] + [
            f"Sue Lx{number}v{n}" for n in range(40)
        ]
        make_document(
            title=f"Report {number}",
            body=("The harbour reopened." if number % 2 else "The pier was shut.") + f" {number}",
            persons=tuple(people),
        )
    make_document(title="Nobody", body="The harbour was quiet.")
    every = {f"Report {n}" for n in range(8)}
    harbour = {f"Report {n}" for n in range(1, 8, 2)}
    assert titles("person:s*") == every
    assert titles("person:s* harbour") == harbour
    assert titles("(person:sam OR person:su*) harbour") == harbour
    assert titles("harbour -person:s*") == {"Nobody"}
    assert titles("person:kx3* OR person:lx5*") == {"Report 3", "Report 5"}
    response = search.search(SearchRequest(q="person:s* harbour"))
    assert not response.notices


def test_a_field_query_takes_an_alias_as_the_filters_do(client, seeds):
    """The seeds make "Ajmal Kasab" an alias of the person "Azmal Kasab": the query language
    searches the person, as ``?person=Ajmal+Kasab`` filters by it (case and spacing as there)."""
    kasab = Person.objects.get(name="Azmal Kasab").documents.get().title
    everything = {document.title for document in seeds}
    assert titles('person:"Azmal Kasab"') == {kasab}
    assert titles('person:"Ajmal Kasab"') == {kasab}
    assert titles('person:"Ajmal   Kasab" pakistan') == {kasab}
    assert titles('person:"Ajmal Kasab" OR person:"Madhukar Gupta"') == everything
    assert titles('NOT person:"Ajmal Kasab"') == everything - {kasab}
    for name in ("Ajmal Kasab", "ajmal kasab", "Ajmal Kasab Junior", "Nobody Known"):
        filtered = canonical_filters(SearchRequest(persons=(name,), page_size=100))
        assert titles(f'person:"{name}"') == {hit.title for hit in search.search(filtered).hits}
    data = client.get("/api/search", {"q": 'person:"Ajmal Kasab"'}).json()
    assert [result["title"] for result in data["results"]] == [kasab]


def test_organisation_and_place_fields_take_aliases(make_entity_document):
    make_entity_document(title="Summit", organisations=("European Union",), places=("Mumbai",))
    make_entity_document(title="Other", organisations=("United Nations",), places=("London",))
    Organisation.objects.get(name="European Union").aliases.create(name="EU")
    Place.objects.get(name="Mumbai").aliases.create(name="Bombay")
    assert titles("organisation:EU") == titles('place:"Bombay"') == {"Summit"}
    assert titles('organisation:"European Union" place:Mumbai') == {"Summit"}
    assert titles("NOT place:Bombay") == {"Other"}
    assert titles("place:Bombay2") == set()


def test_after_a_merge_the_old_name_in_a_field_query_finds_the_kept_person(seeds, make_document):
    make_document(title="Ralph speaks", persons=("Ralph X",))
    keep = Person.objects.get(name="Azmal Kasab")
    kept_before = titles('person:"Azmal Kasab"')
    merge_persons(keep, [Person.objects.get(name="Ralph X")])
    assert titles('person:"Ralph X"') == kept_before | {"Ralph speaks"}
    assert titles('person:"Azmal Kasab"') == kept_before | {"Ralph speaks"}


def test_typo_tolerance_and_prefixes(make_document):
    make_document(title="Hotel siege", body="Gunmen held the hotel.")
    make_document(title="Station", body="Trains were stopped.")
    assert titles("hotal") == set()
    assert titles("hotal~") == {"Hotel siege"}
    assert titles("hot*") == {"Hotel siege"}


def test_a_name_written_like_a_field_that_is_none_is_searched_as_words_and_said(make_document):
    """ "headline:blair" found the documents with both words, silently: the user meant a field
    (title:). The words are still searched; a notice names the fields."""
    make_document(title="Blair speaks", body="The headline writer was busy.")
    response = search.search(SearchRequest(q="headline:blair"))
    assert [hit.title for hit in response.hits] == ["Blair speaks"]
    assert response.notices == (
        "“headline:” is not a field of this archive, so it was searched as words. The fields "
        "are title:, body:, person:, organisation:, place:, publication: and date: (in "
        "lowercase).",
    )
    for fine in ("title:blair", '"headline:blair"', "http://example.com blair", "10:30 blair"):
        notices = search.search(SearchRequest(q=fine)).notices
        assert not any("not a field" in notice for notice in notices), fine


def test_a_field_with_nothing_after_it_is_searched_as_a_word_and_said(make_document):
    """ "person:" alone searched the word "person" (122 documents), silently."""
    make_document(title="Person of the year", body="A quiet choice.")
    response = search.search(SearchRequest(q="person:"))
    assert [hit.title for hit in response.hits] == ["Person of the year"]
    assert response.notices == (
        "“person:” had nothing after it, so it was searched as a word: write the value right "
        'after the colon (person:"Tony Blair").',
    )
    assert (
        "“title:”, “date:” had nothing after them"
        in search.search(SearchRequest(q="blair title: date:")).notices[0]
    )
    assert (
        "“person:” had nothing after it"
        in search.search(SearchRequest(q="(person:) harbour")).notices[0]
    )
    # A new user's find: the README's own example, a quoted value, had the notice too.
    quoted = (
        'person:"Tony Blair"',
        'organisation:"European Union" place:"New York"',
        'blair -person:"Tony Blair"',
        'title:"prime minister" (person:"Tony Blair")',
    )
    for fine in ("person:blair", '"person: blair"', "see: this", "http: x", *quoted):
        notices = search.search(SearchRequest(q=fine)).notices
        assert not any("nothing after" in notice for notice in notices), fine
    assert (
        "“place:” had nothing after it"
        in search.search(SearchRequest(q='person:"Tony Blair" place: "New York"')).notices[0]
    )


def test_typo_tolerance_stops_at_two_edits_and_says_so(make_document):
    make_document(title="Hotel siege", body="Gunmen held the hotel.")
    make_document(title="Station", body="Trains were stopped.")
    # Five edits would turn "hotel" into any word of five letters ("held", "were"...).
    response = search.search(SearchRequest(q="hotel~5"))
    assert {hit.title for hit in response.hits} == {"Hotel siege"}
    assert response.notices == ("Typo tolerance goes up to 2 edits: ~5 was searched as ~2.",)
    assert search.search(SearchRequest(q="hotel~2")).notices == ()


def test_a_wildcard_that_spells_out_an_ending_that_finds_nothing_says_why(
    make_document, search_backend
):
    make_document(title="Threat", body="Terrorism was discussed.")
    response = search.search(SearchRequest(q="terr?rism"))
    if search_backend == "whoosh":
        # The index keeps "terror": a pattern for the whole word misses it, and says why.
        assert response.total == 0
        assert any("cut to their stems" in notice for notice in response.notices)
    else:
        # The cluster searches the part before an inner wildcard as a prefix, and says so.
        assert response.total == 1
        assert any("not supported by this search engine" in n for n in response.notices)
    assert titles("terr*") == {"Threat"}
    # A pattern that finds something needs no explanation.
    for q in ("terr?r", "terror*"):
        found = search.search(SearchRequest(q=q))
        assert found.total == 1
        assert not any("stems" in notice for notice in found.notices)


def test_proximity(make_document):
    make_document(title="Near", body="Zardari made an offer of peace.")
    make_document(
        title="Far", body="Zardari spoke for an hour about trade, water, and then an offer."
    )
    assert titles('"zardari offer"') == set()
    assert titles('"zardari offer"~3') == {"Near"}
    assert titles('"zardari offer"~20') == {"Near", "Far"}


def test_proximity_in_the_written_order_or_a_notice_that_it_is_not(make_document, search_backend):
    """The embedded engine keeps a proximity phrase's order; Sphinx's proximity does not, and
    the cluster says so rather than answer silently otherwise."""
    make_document(title="Reversed", body="An offer came from Zardari.")
    response = search.search(SearchRequest(q='"zardari offer"~5'))
    said = any("in any order" in notice for notice in response.notices)
    if search_backend == "whoosh":
        assert (response.total, said) == (0, False)
    else:
        assert (response.total, said) == (1, True)
    assert not any("in any order" in n for n in search.search(SearchRequest(q="zardari")).notices)


def test_the_widened_notice_counts_documents_on_both_sides_when_copies_are_folded(make_document):
    """Two printings of one story are one result but two documents: the notice said "2
    documents with some of them" for 3 (the stories after the all-words one)."""
    make_document(title="All", body="Gunmen attacked the hotel and the station in Mumbai.")
    printed = "Gunmen attacked a bank in the old city early on Tuesday, the police said."
    make_document(title="Two", body=printed)
    make_document(title="Two again", body=printed)
    make_document(title="One", body="A quiet station.")
    response = search.search(SearchRequest(q="gunmen attacked hotel station mumbai"))
    assert (response.total, response.documents) == (3, 4)
    assert "1 document has all the words; 3 documents with some of them follow." in response.notices


def test_titles_weigh_more_than_bodies(make_document):
    make_document(title="Other news", body="The siege ended on Saturday.")
    make_document(title="Siege ends", body="It ended on Saturday.")
    response = search.search(SearchRequest(q="siege"))
    assert [hit.title for hit in response.hits] == ["Siege ends", "Other news"]


def test_a_long_query_lists_all_words_matches_first_then_some_words(make_document):
    make_document(title="All", body="Gunmen attacked the hotel and the station in Mumbai.")
    make_document(title="Two", body="Gunmen attacked a bank.")
    make_document(title="One", body="A quiet station.")
    make_document(title="None", body="Weather report.")
    response = search.search(SearchRequest(q="gunmen attacked hotel station mumbai"))
    assert next(hit.title for hit in response.hits) == "All"
    assert {hit.title for hit in response.hits} == {"All", "Two", "One"}
    assert next(hit.score for hit in response.hits) < 1e5  # the real score, not the ranking bonus
    assert "1 document has all the words; 2 documents with some of them follow." in response.notices

    # With no document holding all the words, the best partial matches still come back.
    response = search.search(SearchRequest(q="gunmen attacked a bank near the quiet station"))
    assert [hit.title for hit in response.hits][:2] == ["Two", "One"]


def test_operators_are_taken_literally_without_a_fallback(make_document):
    make_document(title="Two", body="Gunmen attacked a bank.")
    assert titles("gunmen AND attacked AND hotel") == set()
    assert titles('"gunmen attacked hotel"') == set()


def test_did_you_mean_on_the_seeds(seeds):
    response = search.search(SearchRequest(q="Muree"))
    assert response.total == 0
    assert response.suggestion is not None
    assert response.suggestion.q == "murree"
    assert response.suggestion.total == search.search(SearchRequest(q="murree")).total > 0


def test_did_you_mean_looks_past_misleading_stems_and_prefers_a_missed_double_letter(
    make_document,
):
    """Found on the imported BBC + Reuters + headlines archive: "elecion" was corrected to a
    one-document typo ("electrion") because the stem of "election" ("elect") is three edits
    from "elecion"; "muree" became "murex", as frequent and as close as "murree" by plain
    edit distance."""
    make_document(title="Murree hills", body="Snow closed the road to Murree.")
    for n in range(3):
        make_document(title=f"Shells {n}", body="A murex shell was found on the beach.")
        make_document(title=f"Vote {n}", body="The election results came in overnight.")
    make_document(title="Typo", body="The electrion was close.")
    assert search.search(SearchRequest(q="muree")).suggestion.q == "murree"
    assert search.search(SearchRequest(q="elecion")).suggestion.q == "election"
    assert search.search(SearchRequest(q="elecion resuls")).suggestion.q == "election results"


def test_did_you_mean_counts_two_swapped_letters_as_one_slip(make_document):
    """ "tony bliar" was offered nothing on the BBC archive: "liar" (one letter dropped) was
    nearer than "blair" (two letters swapped, two edits to plain edit distance), and no
    document has "tony liar". Swapped neighbours are one slip, so the far commoner word wins."""
    for n in range(3):
        make_document(title=f"Premier {n}", body="Tony Blair spoke in the Commons.")
    make_document(title="Fable", body="The boy who cried wolf was a liar.")
    assert search.search(SearchRequest(q="bliar")).suggestion.q == "blair"
    assert search.search(SearchRequest(q="tony bliar")).suggestion.q == "tony blair"


def test_no_suggestion_when_nothing_better_is_found(seeds):
    assert search.search(SearchRequest(q="qwxyzzq")).suggestion is None
    assert search.search(SearchRequest(q="murree")).suggestion is None


def test_the_page_and_api_offer_the_suggestion_with_the_filters(client, seeds):
    page = client.get("/", {"q": "Muree", "sort": "newest"})
    assert "Did you mean" in page.content.decode()
    assert "?q=murree&amp;sort=newest" in page.content.decode()
    data = client.get("/api/search", {"q": "Muree"}).json()
    assert data["suggestion"]["q"] == "murree"


def test_the_page_explains_the_query_language(client, seeds):
    html = client.get("/").content.decode()
    for example in (
        '"zardari offer"~5',
        "immigr*",
        "mumbay~",
        "person:gupta",
        "date:[2008 TO 2010]",
    ):
        assert example.replace('"', "&quot;") in html or example in html


def test_the_any_words_fallback_sorted_by_date(make_document):
    make_document(title="Two", body="Gunmen attacked a bank.", published=dt.date(2001, 1, 1))
    make_document(title="One", body="A quiet station.", published=dt.date(2002, 1, 1))
    response = search.search(SearchRequest(q="gunmen attacked quiet station", sort="newest"))
    assert [hit.title for hit in response.hits] == ["One", "Two"]
    assert all(hit.score is None for hit in response.hits)


def test_a_pasted_sentence_with_punctuation_still_falls_back_to_some_words(make_document):
    make_document(title="Cytokines", body="Interleukin levels rose in mice after the infection.")
    make_document(title="Other", body="Weather report.")
    response = search.search(SearchRequest(q="Do interleukin (IL) levels rise in mice: a review?"))
    assert [hit.title for hit in response.hits] == ["Cytokines"]


def test_a_question_mark_ends_a_question_but_is_a_wildcard_inside_a_word(make_document):
    make_document(title="Rights", body="The women marched.")
    assert titles("women?") == {"Rights"}
    assert titles("wom?n") == {"Rights"}


def test_no_suggestion_more_slips_away_than_a_typo_makes(make_document):
    """Found by a new user: "Ségolène", in no document, was offered "stolen": its stem
    ("segolen") is two edits from "stolen", but the word as typed is four slips from it. A
    suggestion is at most as far from the typed word (accents aside) as a typo goes: two
    slips in a long word, one in a short one."""
    for n in range(3):
        make_document(title=f"Theft {n}", body="The stolen car was found in a ditch.")
        make_document(title=f"Vote {n}", body="Ségolène Royal spoke after the election.")
    make_document(title="Other", body="Nothing to see.")
    assert search.search(SearchRequest(q="Segolene")).suggestion is None  # found as it is
    assert search.search(SearchRequest(q="Segolenne")).suggestion.q == "ségolène"
    assert search.search(SearchRequest(q="stoeln")).suggestion.q == "stolen"
    assert search.search(SearchRequest(q="Sgolène")).suggestion.q == "ségolène"


def test_no_suggestion_for_a_word_far_from_every_known_one(make_document):
    for n in range(3):
        make_document(title=f"Theft {n}", body="The stolen car was found in a ditch.")
        make_document(title=f"Campus {n}", body="Two universities merged.")
    assert search.search(SearchRequest(q="Ségolène")).suggestion is None
    assert search.search(SearchRequest(q="segolene")).suggestion is None
    # One slip from the stem, the word may end otherwise (a review's find: the archive writes
    # only the plural, and "unversity" lost its suggestion).
    assert search.search(SearchRequest(q="unversity")).suggestion.q == "universities"
    assert search.search(SearchRequest(q="universty")).suggestion.q == "universities"
