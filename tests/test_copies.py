"""Copy detection (archive/ingest/copies.py): which printings join one story, on every way in
(saves, bulk imports, updates), and editors' splits and joins surviving re-imports and
re-clustering."""

from __future__ import annotations

import datetime as dt
import json
import re
import zlib

import numpy as np
import pytest
from django.core.management import call_command

from archive import search, stories
from archive.ingest import copies
from archive.models import CopyBand, CopySignature, Document, Story
from tests.stories_data import article, cut_last, with_correction, with_dateline


def _story(document: Document) -> int | None:
    return Document.objects.get(pk=document.pk).story_id


def test_signatures_and_bands_are_stored(make_document):
    doc = make_document(body=article(10))
    signature = CopySignature.objects.get(document=doc)
    assert signature.text_hash == copies.text_key(doc)
    assert len(bytes(signature.hashvalues)) == copies.NUM_PERM * 4
    assert CopyBand.objects.filter(document_id=doc.pk).count() == copies.BANDS
    assert doc.story_id is None or _story(doc) is not None
    assert Story.objects.count() == 1


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Mumbai",
        "Gunmen attacked",
        article(3),
        article(4) + " " + article(4),  # repeated phrases: each distinct shingle counts once
        "Ségolène Royal, à Paris: «Non». ÉTÉ été Été — 2008 Mumbai 26/11 attacks",
    ],
)
def test_signatures_are_datasketchs_minhash_so_stored_ones_stay_valid(text):
    """The signature is computed without a MinHash object per text; its values must be the
    ones datasketch gives for the same shingles, or every stored signature and band key would
    be wrong for the documents saved after this change."""
    from datasketch import MinHash

    words = re.findall(r"\w+", text.casefold())
    shingles = (
        {" ".join(words[i : i + 3]) for i in range(max(1, len(words) - 2))} if words else set()
    )
    reference = MinHash(
        num_perm=copies.NUM_PERM, seed=1, scheme="affine32", hashfunc=lambda value: value
    )
    reference.update_batch([zlib.crc32(s.encode("utf-8")) for s in shingles])
    ours = copies.signature(text)
    assert ours.hashvalues.dtype == np.uint32
    assert ours.hashvalues.tolist() == reference.hashvalues.tolist()
    assert ours.shingles == len({zlib.crc32(s.encode("utf-8")) for s in shingles})
    rows = copies.ROWS
    values = reference.hashvalues.astype(np.uint32)
    assert ours.band_keys() == tuple(
        copies._key(bytes([band]) + values[band * rows : (band + 1) * rows].tobytes())
        for band in range(copies.BANDS)
    )


def test_a_copy_with_a_new_headline_and_a_cut_last_paragraph_joins_its_story(make_document):
    text = article(11)
    first = make_document(title="Original headline", body=text, publication="Reuters")
    copy = make_document(title="Quite another headline", body=cut_last(text), publication="AP")
    assert _story(first) == _story(copy) is not None


@pytest.mark.parametrize(
    "edit",
    [lambda t: t, with_dateline, with_correction, lambda t: t.upper()],
    ids=["exact", "dateline", "correction", "case"],
)
def test_edited_printings_join(make_document, edit):
    text = article(12)
    first = make_document(body=text)
    copy = make_document(body=edit(text), external_id="another-wire-id")
    assert _story(first) == _story(copy)


def test_different_articles_about_the_same_event_stay_apart(make_document):
    quote = "The city will not be cowed by terror said the chief minister on Thursday night."
    first = make_document(body=article(13, topic="mumbai") + "\n\n" + quote)
    second = make_document(body=quote + "\n\n" + article(14, topic="mumbai"))
    assert _story(first) != _story(second)


def test_short_texts_repeated_on_other_days_are_different_stories(make_document):
    day = dt.date(1987, 3, 2)
    text = "Fed adds reserves via customer repurchases"
    first = make_document(title=text, body=text, published=day)
    same_day = make_document(title=text, body=text, published=day, external_id="b")
    later = make_document(
        title=text, body=text, published=day + dt.timedelta(days=30), external_id="c"
    )
    assert _story(first) == _story(same_day)
    assert _story(later) != _story(first)


def test_an_update_moves_a_document_between_stories(make_document):
    a, b = article(15), article(16)
    doc_a = make_document(body=a)
    doc_b = make_document(body=b)
    changing = make_document(body=cut_last(a), external_id="x")
    assert _story(changing) == _story(doc_a)
    changing.body = with_dateline(b)
    changing.save()
    assert _story(changing) == _story(doc_b)
    assert _story(doc_a) != _story(doc_b)
    # Now unlike anything: a story of its own.
    changing.body = article(17)
    changing.save()
    assert _story(changing) not in (_story(doc_a), _story(doc_b))


def test_an_update_through_ingest_moves_it_too(transactional_db, tmp_path):
    a, b = article(18), article(19)
    path = tmp_path / "batch.jsonl"
    path.write_text(
        "\n".join(
            json.dumps({"title": t, "body": body, "external_id": i, "persons": []})
            for t, body, i in [("A", a, "a"), ("B", b, "b"), ("C", cut_last(a), "c")]
        )
    )
    call_command("ingest", str(path), verbosity=0)
    doc = {d.external_id: d for d in Document.objects.all()}
    assert doc["c"].story_id == doc["a"].story_id != doc["b"].story_id
    path.write_text(json.dumps({"title": "C", "body": cut_last(b), "external_id": "c"}))
    call_command("ingest", str(path), verbosity=0)
    assert _story(doc["c"]) == doc["b"].story_id


def test_a_bulk_import_folds_its_copies_in_the_index(transactional_db, tmp_path):
    text = article(20, topic="ceasefire")
    records = [
        {
            "title": f"Printing {n}",
            "body": with_dateline(text, f"CITY{n} -"),
            "persons": [],
            "publication": f"Paper {n}",
            "external_id": f"p{n}",
        }
        for n in range(6)
    ] + [
        {
            "title": f"Other {n}",
            "body": article(100 + n, topic="ceasefire"),
            "persons": [],
            "external_id": f"o{n}",
        }
        for n in range(3)
    ]
    path = tmp_path / "bulk.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records))
    call_command("ingest", str(path), verbosity=0)
    assert (
        Document.objects.filter(external_id__startswith="p").values("story").distinct().count() == 1
    )
    response = search.search(search.SearchRequest("ceasefire"))
    assert (response.total, response.documents) == (4, 9)


def test_fixtures_get_stories(seeds):
    assert all(doc.story_id for doc in Document.objects.all())
    assert Story.objects.count() == 2  # the two seed articles are different stories


def test_an_editors_split_survives_reimport_and_reclustering(make_document, tmp_path):
    text = article(21)
    keep = make_document(body=text, external_id="k")
    moved = make_document(body=cut_last(text), external_id="m")
    assert _story(keep) == _story(moved)
    new_story = stories.split_off([Document.objects.get(pk=moved.pk)])
    assert _story(moved) == new_story.pk != _story(keep)
    # A re-import with an edited text, and a re-clustering, keep the split.
    path = tmp_path / "again.jsonl"
    path.write_text(json.dumps({"title": "M", "body": with_correction(text), "external_id": "m"}))
    call_command("ingest", str(path), verbosity=0)
    call_command("cluster_copies", verbosity=0)
    assert _story(moved) == new_story.pk != _story(keep)
    # A new copy still joins a story (the closest copy's).
    third = make_document(body=with_dateline(text), external_id="t")
    assert _story(third) in (_story(keep), new_story.pk)


def test_an_editors_join_survives_reclustering(make_document):
    a = make_document(body=article(22))
    b = make_document(body=article(23))
    kept = stories.join([Story.objects.get(pk=_story(a)), Story.objects.get(pk=_story(b))])
    call_command("cluster_copies", verbosity=0)
    assert _story(a) == _story(b) == kept.pk


def test_recluster_rebuilds_lost_stories_and_keeps_ids(make_document, capsys):
    text = article(24)
    docs = [
        make_document(body=text, external_id="a"),
        make_document(body=cut_last(text), external_id="b"),
        make_document(body=article(25), external_id="c"),
    ]
    before = {d.pk: _story(d) for d in docs}
    # An archive from before copy detection: no signatures, no stories.
    CopySignature.objects.all().delete()
    CopyBand.objects.all().delete()
    Document.objects.update(story=None)
    call_command("cluster_copies")
    out = capsys.readouterr().out
    assert "3 documents in 2 stories (1 copies folded); 3 signatures computed" in out
    after = {d.pk: _story(d) for d in docs}
    assert after[docs[0].pk] == after[docs[1].pk] != after[docs[2].pk]
    assert set(after.values()) <= set(before.values()) | set(
        Story.objects.values_list("pk", flat=True)
    )
    response = search.search(search.SearchRequest(""))
    assert (response.total, response.documents) == (2, 3)


def test_the_document_page_lists_copies_and_changes(client, make_document):
    text = article(26)
    first = make_document(
        title="First", body=text, publication="Reuters", published=dt.date(2008, 11, 27)
    )
    copy = make_document(
        title="Second",
        body=with_correction(cut_last(text)),
        publication="AP",
        published=dt.date(2008, 11, 28),
    )
    html = client.get(copy.get_absolute_url()).content.decode()
    assert "Other copies of this story" in html and "First" in html
    assert "What this copy changed from the earliest, in Reuters on 27 November 2008" in html
    assert "change--added" in html and "Correction: an earlier version" in html
    assert "change--removed" in html
    html = client.get(first.get_absolute_url()).content.decode()
    assert "Other copies of this story" in html and "What this copy changed" not in html
    # Undated copies: which came first is unknown, so the page names the first imported.
    plain = make_document(title="Undated", body=article(28), publication="BBC")
    undated = make_document(title="Undated too", body=cut_last(article(28)), publication="BBC")
    assert _story(plain) == _story(undated)
    html = client.get(undated.get_absolute_url()).content.decode()
    assert "What this copy changed from the first imported, in BBC" in html


def test_a_lead_edited_beside_an_added_paragraph_shows_as_changed_word_by_word():
    """A copy with a new headline, one date changed in its lead and a paragraph added: the
    lead is "changed" (5 -> 6 March), not removed and added whole."""
    from archive.stories import differences

    lead = "The chancellor will present the budget on 5 March, the Treasury said on Monday."
    original = f"Budget date set\n\n{lead}\n\nThe date had been expected for weeks."
    copy = (
        f"Budget on 6 March\n\n{lead.replace('5 March', '6 March')}\n\n"
        "Opposition parties said they were ready.\n\nThe date had been expected for weeks."
    )
    kinds = [(c.kind, c.text[:20]) for c in differences(original, copy)]
    assert kinds == [
        ("removed", "Budget date set"),
        ("added", "Budget on 6 March"),
        ("changed", "The chancellor will "),
        ("added", "Opposition parties s"),
    ]
    changed = next(c for c in differences(original, copy) if c.kind == "changed")
    assert ("removed", "5") in changed.parts and ("added", "6") in changed.parts


def test_admin_split_and_join(admin_client, make_document):
    text = article(27)
    a = make_document(body=text)
    b = make_document(body=cut_last(text), external_id="b")
    response = admin_client.post(
        "/admin/archive/document/",
        {"action": "split_story", "_selected_action": [b.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert _story(a) != _story(b)
    assert Document.objects.get(pk=b.pk).story_pinned
    response = admin_client.post(
        "/admin/archive/story/",
        {"action": "join_selected", "_selected_action": [_story(a), _story(b)]},
        follow=True,
    )
    assert response.status_code == 200
    assert _story(a) == _story(b)
    assert admin_client.get(f"/admin/archive/story/{_story(a)}/change/").status_code == 200
    assert admin_client.get("/admin/archive/story/").status_code == 200


def test_the_stories_list_shows_the_most_copies_first(admin_client, make_document):
    text = article(29)
    shared = [make_document(body=text, external_id="a"), make_document(body=cut_last(text))]
    alone = make_document(body=article(30), external_id="later")  # the newest story
    assert _story(shared[0]) == _story(shared[1]) != _story(alone)
    page = admin_client.get("/admin/archive/story/")
    changelist = page.context["cl"]
    assert [s.pk for s in changelist.result_list][:2] == [_story(shared[0]), _story(alone)]
    # Its header says so: sorted, descending; one click gives the fewest first.
    header = re.search(r'<th scope="col" class="([^"]*column-copy_count[^"]*)"', page.text)
    assert header and "sorted descending" in header.group(1)
    # The copies column sorts too (its header's link), fewest first.
    changelist = admin_client.get("/admin/archive/story/", {"o": "3"}).context["cl"]
    assert changelist.result_list[0].pk == _story(alone)


def test_init_archive_finds_copies_of_an_archive_from_before(make_document, capsys):
    text = article(28)
    a = make_document(body=text, external_id="a")
    b = make_document(body=cut_last(text), external_id="b")
    CopySignature.objects.all().delete()
    CopyBand.objects.all().delete()
    Document.objects.update(story=None)
    Story.objects.all().delete()
    call_command("init_archive")
    assert "Finding the copies" in capsys.readouterr().out
    assert _story(a) == _story(b) is not None
    call_command("init_archive")  # nothing left to do
    assert "Finding the copies" not in capsys.readouterr().out


def test_page_keys_name_one_article_page():
    key = copies.page_key
    assert key("https://www.example.com/news/story-1/") == key("http://example.com/news/story-1")
    assert key("https://example.com/news/story-1.amp") == key("https://example.com/news/story-1")
    assert key("https://example.com/a?utm_source=x&id=3") == key("https://example.com/a?id=3")
    assert key("https://www.youtube.com/watch?v=A") != key("https://www.youtube.com/watch?v=B")
    assert key("https://example.com/") == 0 == key("") == key("javascript:alert(1)")


def test_printings_of_one_page_join_however_re_headlined(make_document):
    url = "https://www.cnn.com/2022/02/03/world/syria-raid/index.html"
    first = make_document(
        title="a", body="Civilians reported dead after US raid in Syria", source_url=url
    )
    second = make_document(
        title="b",
        body="US raid in Syria kills ISIS leader",
        source_url=url.replace("https://www.", "http://"),
        external_id="2",
    )
    third = make_document(
        title="c",
        body="Civilians flee the fighting in northern Syria",
        external_id="3",
        source_url="https://www.cnn.com/2022/02/04/world/other/index.html",
    )
    assert _story(first) == _story(second)
    assert _story(third) != _story(first)


def test_daily_repeats_of_a_short_text_do_not_chain_into_one_story(make_document):
    text = "Fed adds reserves via customer repurchases"
    start = dt.date(1987, 3, 2)
    docs = [
        make_document(
            title=text, body=text, published=start + dt.timedelta(days=n), external_id=f"day{n}"
        )
        for n in range(10)
    ]
    stories_seen = [_story(doc) for doc in docs]
    first = stories_seen[0]
    assert stories_seen[:4] == [first] * 4  # within three days of the first printing
    assert first not in stories_seen[4:]
    call_command("cluster_copies", verbosity=0)
    assert [_story(doc) for doc in docs][:4] == [first] * 4
    assert first not in [_story(doc) for doc in docs][4:]


def test_deleting_a_copy_tidies_its_story_and_the_index(make_document):
    from archive import indexing

    text = article(29)
    first = make_document(body=text)
    copy = make_document(body=cut_last(text), external_id="c")
    story = _story(first)
    assert search.search(search.SearchRequest(copies="all")).hits[0].story == story
    copy.delete()
    drift, _ = indexing.check()
    assert drift.ok, drift  # the one left is indexed as a story of one
    [hit] = search.search(search.SearchRequest()).hits
    assert hit.story == story
    # A story of one is still found by its id (the story= filter of the API and the page).
    assert search.search(search.SearchRequest(story=story)).total == 1
    first.delete()
    assert not Story.objects.filter(pk=story).exists()


def test_band_rows_follow_updates_and_deletions(make_document):
    doc = make_document(body=article(30), source_url="https://example.com/news/a")
    assert CopyBand.objects.filter(document_id=doc.pk).count() == copies.BANDS + 1  # + the page
    doc.body = article(31)
    doc.save()
    keys = set(CopyBand.objects.filter(document_id=doc.pk).values_list("key", flat=True))
    assert keys == set(copies.signature(doc.body, doc.source_url).band_keys())
    doc.delete()
    assert not CopyBand.objects.filter(document_id=doc.pk).exists()
    assert not CopySignature.objects.exists()
