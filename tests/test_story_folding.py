"""Copies of one story fold into one result: totals, representatives, the story filter, facet
counts by story or by document, and the API's shape. Run on every search backend."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from archive import search
from archive.models import Document
from archive.search.schema import IndexedDocument
from archive.search.types import SearchRequest
from tests.stories_data import article, cut_last, with_dateline

pytestmark = pytest.mark.usefixtures("search_backend")

D1, D2, D3 = dt.date(2008, 11, 27), dt.date(2008, 11, 28), dt.date(2009, 1, 5)


@pytest.fixture
def archive(make_document):
    """One wire story printed three times (three papers, three days; all mention Ajmal Kasab)
    and two other articles on the same subject."""
    text = article(1, topic="siege")
    wire = make_document(
        title="Gunmen attack Mumbai hotels",
        body=text,
        publication="Reuters",
        published=D1,
        persons=("Ajmal Kasab",),
    )
    reprint = make_document(
        title="Terror in Mumbai",
        body=with_dateline(cut_last(text)),
        publication="The Hindu",
        published=D2,
        persons=("Ajmal Kasab",),
    )
    late = make_document(
        title="Mumbai: the siege ends",
        body=text + "\n\n" + "Update: the last gunman was caught.",
        publication="Dawn",
        published=D3,
        persons=("Ajmal Kasab",),
    )
    other = make_document(
        title="Siege survivors speak",
        body=article(2, topic="siege"),
        publication="The Hindu",
        published=D2,
        persons=("Ajmal Kasab",),
    )
    analysis = make_document(
        title="What the siege means",
        body=article(3, topic="siege"),
        publication="Dawn",
        published=D3,
    )
    return {"wire": wire, "reprint": reprint, "late": late, "other": other, "analysis": analysis}


def _story(document: Document) -> int:
    return Document.objects.get(pk=document.pk).story_id


def test_copies_share_a_story_and_others_do_not(archive):
    stories = {name: _story(doc) for name, doc in archive.items()}
    assert stories["wire"] == stories["reprint"] == stories["late"]
    assert len({stories["wire"], stories["other"], stories["analysis"]}) == 3


def test_a_folded_search_lists_one_result_per_story(archive):
    response = search.search(search.SearchRequest("siege"))
    assert response.total == 3
    assert response.total_documents == 5
    assert response.documents == 5
    ids = [hit.id for hit in response.hits]
    assert len(ids) == 3
    wire_story = _story(archive["wire"])
    assert sum(1 for hit in response.hits if hit.story == wire_story) == 1
    assert {archive["other"].pk, archive["analysis"].pk} <= set(ids)


def test_every_document_when_copies_all(archive):
    response = search.search(search.SearchRequest("siege", copies="all"))
    assert response.total == 5
    assert response.total_documents is None and response.documents == 5
    assert len(response.hits) == 5


def test_the_representative_follows_the_sort(archive):
    oldest = search.search(search.SearchRequest("siege", sort="oldest"))
    assert oldest.hits[0].id == archive["wire"].pk  # the earliest printing
    newest = search.search(search.SearchRequest("siege", sort="newest"))
    wire_story = _story(archive["wire"])
    [shown] = [hit for hit in newest.hits if hit.story == wire_story]
    assert shown.id == archive["late"].pk
    # Browsing folds too: five documents, three stories.
    browse = search.search(search.SearchRequest(""))
    assert (browse.total, browse.documents) == (3, 5)


def test_paging_over_stories(archive):
    first = search.search(search.SearchRequest("siege", sort="oldest", page_size=2))
    second = search.search(search.SearchRequest("siege", sort="oldest", page_size=2, page=2))
    assert first.total == second.total == 3
    assert first.pages == 2
    assert len(first.hits) == 2 and len(second.hits) == 1
    assert not {h.id for h in first.hits} & {h.id for h in second.hits}


def test_the_story_filter_lists_every_copy(archive):
    story = _story(archive["wire"])
    response = search.search(search.SearchRequest(story=story, copies="all", sort="oldest"))
    assert [hit.id for hit in response.hits] == [
        archive["wire"].pk,
        archive["reprint"].pk,
        archive["late"].pk,
    ]
    folded = search.search(search.SearchRequest(story=story))
    assert (folded.total, folded.documents) == (1, 3)


def test_the_story_filter_finds_a_story_of_one(archive, client):
    """Every result carries its story's id, a story of one too: asking for its copies finds it."""
    story = _story(archive["analysis"])
    for copies in ("fold", "all"):
        response = search.search(search.SearchRequest(story=story, copies=copies))
        assert [hit.id for hit in response.hits] == [archive["analysis"].pk], copies
        assert response.hits[0].story == story
    api = client.get("/api/search", {"story": story}).json()
    assert [r["id"] for r in api["results"]] == [archive["analysis"].pk]
    assert api["results"][0]["story"]["id"] == story
    assert api["results"][0]["story"]["copies"] == 1


def test_the_story_filters_chip_and_tab_title_name_the_story_by_its_first_headline(archive, client):
    """A reader filtering on a story sees its first printing's headline, not its id."""
    story = _story(archive["wire"])
    html = client.get("/", {"story": story, "copies": "all"}).content.decode()
    chips = html.split('aria-label="Active filters"')[1].split("</ul>")[0]
    assert "Gunmen attack Mumbai hotels" in chips
    assert f"story {story}" not in chips
    title = html.split("<title>")[1].split("</title>")[0]
    assert title.startswith("Gunmen attack Mumbai hotels")
    # No such story: the chip still says which filter is on.
    html = client.get("/", {"story": 999_999}).content.decode()
    assert "story 999999" in html.split('aria-label="Active filters"')[1]


def _counts(response, facet):
    return {v.value: v.count for v in response.facets[facet].values}


def test_facets_count_stories_or_documents(archive):
    stories = search.search(search.SearchRequest("siege"))
    assert _counts(stories, "person") == {"Ajmal Kasab": 2}  # the wire story and "other"
    assert _counts(stories, "publication") == {"Reuters": 1, "The Hindu": 2, "Dawn": 2}
    assert _counts(stories, "year") == {"2008": 2, "2009": 2}
    documents = search.search(search.SearchRequest("siege", counts="documents"))
    assert _counts(documents, "person") == {"Ajmal Kasab": 4}
    assert _counts(documents, "year") == {"2008": 3, "2009": 2}
    every = search.search(search.SearchRequest("siege", copies="all"))
    assert _counts(every, "person") == {"Ajmal Kasab": 4}  # every document: documents counted
    chosen = search.search(search.SearchRequest("siege", copies="all", counts="stories"))
    assert _counts(chosen, "person") == {"Ajmal Kasab": 2}


def test_month_counts_by_story(archive):
    response = search.search(search.SearchRequest("siege", year=2008))
    assert _counts(response, "month") == {"2008-11": 2}
    response = search.search(search.SearchRequest("siege", year=2008, counts="documents"))
    assert _counts(response, "month") == {"2008-11": 3}


def test_api_carries_the_story(client, archive):
    data = client.get("/api/search", {"q": "siege", "sort": "oldest"}).json()
    assert data["total"] == 3 and data["total_documents"] == 5
    first = data["results"][0]
    assert first["id"] == archive["wire"].pk
    assert first["story"] == {
        "id": _story(archive["wire"]),
        "copies": 3,
        "publications": 3,
        "first_published": "2008-11-27",
    }
    alone = next(r for r in data["results"] if r["id"] == archive["analysis"].pk)
    assert alone["story"]["copies"] == 1
    every = client.get("/api/search", {"q": "siege", "copies": "all"}).json()
    assert every["total"] == every["total_documents"] == 5
    bad = client.get("/api/search", {"q": "siege", "copies": "some"})
    assert bad.status_code == 400 and "copies" in bad.json()["error"]


def test_a_folded_export_says_its_rows_are_stories(client, archive):
    data = json.loads(client.get("/export.json", {"q": "siege"}).content)
    assert data["exported"] == 3 and data["total_documents"] == 5
    assert (
        "One row per story: 3 stories stand for 5 documents (story_copies gives each story's "
        "copies); add copies=all to export every document."
    ) in data["notices"]
    every = json.loads(client.get("/export.json", {"q": "siege", "copies": "all"}).content)
    assert every["exported"] == 5
    assert not any(notice.startswith("One row per story") for notice in every["notices"])


def test_the_page_says_both_counts_and_links_every_copy(client, archive):
    html = client.get("/", {"q": "siege"}).content.decode()
    assert "3 stories" in html and "(5 documents)" in html
    story = _story(archive["wire"])
    assert f"story={story}&amp;copies=all" in html
    assert "One of 3 copies in 3 publications, first printed 27 November 2008 in Reuters" in html
    assert "copies=all" in html and "Show every copy" in html
    every = client.get("/", {"q": "siege", "copies": "all"}).content.decode()
    assert "5 results" in every and "One result per story" in every
    copies = client.get("/", {"story": story, "copies": "all"}).content.decode()
    assert "Copies of" in copies  # the filter's chip


def test_every_copy_keeps_the_query_and_says_when_some_copies_do_not_match(client, archive):
    """Only the late copy says "caught": its "Every copy" link lists the story's copies for the
    same query (each with its snippets), and the page says that 1 of the 3 matches, with a link
    to all three."""
    story = _story(archive["wire"])
    html = client.get("/", {"q": "caught"}).content.decode()
    assert f"?q=caught&amp;story={story}&amp;copies=all&amp;sort=oldest" in html
    copies = client.get(
        "/", {"q": "caught", "story": story, "copies": "all", "sort": "oldest"}
    ).content.decode()
    assert "1 of this story’s 3 copies matches the search." in copies
    every_copy = f"/?story={story}&amp;copies=all&amp;sort=oldest"
    assert f'hx-get="{every_copy}">Show all 3 copies</a>' in copies
    assert "<mark>caught</mark>" in copies
    # Every copy found: no such notice.
    every = client.get(
        "/", {"q": "siege", "story": story, "copies": "all", "sort": "oldest"}
    ).content.decode()
    assert "copies match" not in every and "3 results" in every
    # A filter that leaves out copies is said too.
    filtered = client.get(
        "/", {"story": story, "copies": "all", "publication": "Dawn"}, follow=True
    ).content.decode()
    assert "1 of this story’s 3 copies matches the search." in filtered
    # Neither a query nor a filter: no such notice, even while the index lags the database (a
    # document moved into the story by an update that the index has not seen).
    Document.objects.filter(pk=archive["analysis"].pk).update(story=story)
    lagging = client.get("/", {"story": story, "copies": "all", "sort": "oldest"}).content
    assert "copies match" not in lagging.decode()


def test_the_date_chart_and_the_entity_page_say_stories_where_they_count_stories(client, archive):
    # The 2008 bar counts 2 stories (the wire and its reprint are one) of 3 documents.
    html = client.get("/", {"q": "siege"}).content.decode()
    assert 'aria-label="2008: 2 stories"' in html
    every = client.get("/", {"q": "siege", "copies": "all"}).content.decode()
    assert 'aria-label="2008: 3 documents"' in every
    # Every copy listed, stories counted: the bars say so.
    chosen = client.get("/", {"q": "siege", "copies": "all", "counts": "stories"}).content.decode()
    assert 'aria-label="2008: 2 stories"' in chosen and "Stories per year" in chosen
    # Kasab's page: 4 documents, 2 stories.
    person = Document.objects.get(pk=archive["wire"].pk).persons.get()
    page = client.get(f"/persons/{person.slug}/").content.decode()
    assert "<strong>4</strong> documents</a> (2 stories" in page
    # Filtered without a query: what matches the filters, not the archive.
    assert (
        "1 document matches the filters"
        in client.get("/", {"publication": "Reuters"}).content.decode()
    )


def test_the_page_lets_researchers_choose_what_facets_count(client, archive):
    html = client.get("/", {"q": "siege"}).content.decode()
    assert "Counts are stories" in html and "counts=documents" in html
    html = client.get("/", {"q": "siege", "counts": "documents"}).content.decode()
    assert "Counts are documents" in html and "count stories" in html
    html = client.get("/", {"q": "siege", "copies": "all"}).content.decode()
    assert "Counts are documents" in html and "counts=stories" in html


def test_on_the_cluster_a_story_lies_on_one_shard_and_a_moved_copy_leaves_its_old_one(
    archive, search_backend
):
    """The cluster counts stories on each shard and adds the counts up: exact only while every
    copy of a story lies on one shard, and a document lies on one shard only."""
    if search_backend != "sphinxql":
        pytest.skip("about the cluster's shards")
    from archive.search import backends
    from archive.search.sphinxql.cluster import connect

    backend = backends.current()
    index = f"articles_{backend.dictionary.active_slot()}"

    def placement() -> dict[int, set[int]]:
        """Document id -> the shards that hold it (every replica of a shard agreeing)."""
        where: dict[int, set[int]] = {}
        for number, replicas in enumerate(backend.topology.shards):
            held = []
            for replica in replicas:
                connection = connect(replica)
                try:
                    with connection.cursor() as cursor:
                        cursor.execute(f"SELECT id FROM {index} LIMIT 1000")
                        held.append({int(row[0]) for row in cursor.fetchall()})
                finally:
                    connection.close()
            assert all(ids == held[0] for ids in held)  # a mirror holds what its shard holds
            for doc_id in held[0]:
                where.setdefault(doc_id, set()).add(number)
        return where

    def check() -> None:
        where = placement()
        assert set(where) == {d.pk for d in archive.values()}
        assert all(len(shards) == 1 for shards in where.values())
        by_story: dict[int, set[int]] = {}
        for document in Document.objects.all():
            by_story.setdefault(document.story_id, set()).update(where[document.pk])
        assert all(len(shards) == 1 for shards in by_story.values())

    check()
    wire, reprint = archive["wire"], archive["reprint"]
    assert _story(wire) == _story(reprint)
    reprint.body = article(9, topic="siege")  # no longer a copy: a story of its own
    reprint.save()
    assert _story(reprint) != _story(wire)
    check()
    stories = search.search(search.SearchRequest("siege"))
    assert _counts(stories, "person") == {"Ajmal Kasab": 3}
    assert stories.total == 4 and stories.total_documents == 5


def test_documents_with_inferred_dates_are_counted_folded_or_not(archive, make_document):
    """The page says how many matching documents have an inferred date: documents, whether the
    results are folded into stories or not (the cluster counts them with the stories)."""
    make_document(
        title="Siege anniversary",
        body=article(4, topic="siege"),
        published=D3,
        date_inferred=True,
    )
    make_document(
        title="Siege inquiry",
        body=article(5, topic="siege"),
        published=D2,
        date_inferred=True,
    )
    folded = search.search(search.SearchRequest(q="siege"))
    every = search.search(search.SearchRequest(q="siege", copies="all"))
    assert folded.inferred_dates == every.inferred_dates == 2
    assert folded.total == every.total - 2  # the three printings of the wire story are one
    one = search.search(search.SearchRequest(q="siege", publications=("Dawn",)))
    assert one.inferred_dates == 0


def test_on_the_cluster_a_story_counts_once_while_its_first_copy_waits_for_its_rewrite(
    archive, search_backend
):
    """A story's second copy can reach the cluster before its first copy's own rewrite (which
    says the story now has copies) comes from the outbox: the story still counts once."""
    if search_backend != "sphinxql":
        pytest.skip("about the cluster's shards")
    from archive.search import backends

    backend = backends.current()
    story = 987_654
    text = "Zanzibarite ore found near the harbour, the survey said."
    first = IndexedDocument(id=900_001, title="Ore find", body=text, story=story)
    second = IndexedDocument(
        id=900_002, title="Ore find", body=text, story=story, story_shared=True
    )
    backend.update_documents([first])  # alone in its story when written
    backend.update_documents([second])  # its copy; the first's rewrite has not come yet
    found = backend.search(SearchRequest("zanzibarite"))
    assert (found.total, found.total_documents) == (1, 2)
    backend.update_documents([], delete_ids=[first.id, second.id])


def test_on_the_cluster_facets_from_shard_lists_cut_short_equal_full_counts(
    archive, make_document, search_backend, monkeypatch
):
    """In a search each shard returns only its largest counts of a value facet (SHARD_TOP):
    the values shown and their counts must be what full counts give, whether the cut lists
    prove it or the facet is counted again in full."""
    if search_backend != "sphinxql":
        pytest.skip("about the cluster's shards")
    from archive.search.sphinxql import backend as cluster

    names = [f"Harbour Master {chr(65 + k // 26)}{chr(65 + k % 26)}" for k in range(60)]
    bodies = [article(500 + d, topic="harbour") for d in range(60)]
    for d, body in enumerate(bodies):  # the k-th name is in documents k..59: 60 - k stories
        make_document(title=f"Harbour {d}", body=body, persons=tuple(names[: d + 1]))
    make_document(title="Harbour reprint", body=bodies[0], persons=names[:1])  # a copy
    recounts = []
    run_groups = cluster._Plan.run_groups

    def counted_again(plan, *args, **kwargs):
        recounts.append(1)
        return run_groups(plan, *args, **kwargs)

    monkeypatch.setattr(cluster._Plan, "run_groups", counted_again)

    def persons() -> list[tuple[str, int]]:
        found = search.search(SearchRequest(q="harbour"))
        assert found.total == 60  # the reprint folds into its story
        return [(value.value, value.count) for value in found.facets["person"].values]

    monkeypatch.setattr(cluster, "SHARD_TOP", 10**6)
    full = persons()
    assert full[:2] == [(names[0], 60), (names[1], 59)] and len(full) >= 50
    assert not recounts
    monkeypatch.setattr(cluster, "SHARD_TOP", 57)  # the lists prove the top values
    assert persons() == full
    assert not recounts, "the cut lists should have been enough"
    monkeypatch.setattr(cluster, "SHARD_TOP", 3)  # they cannot: counted again
    assert persons() == full
    assert recounts


def test_the_no_results_help_counts_documents_as_it_says(archive, client):
    """ "'siege' finds 5 documents, but the filters exclude all of them": five documents in
    three stories; the help said 3 (stories) beside the word "documents"."""
    page = client.get("/", {"q": "siege", "person": "Nobody Here"}).content.decode()
    assert "finds 5 documents, but the filters exclude all of them" in page
    assert '<span class="no-results__count">5 documents</span>' in page
