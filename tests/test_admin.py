"""Editors work in the admin; their saves and deletes reach the index."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from archive import search
from archive.models import Document, Person, Publication


def import_stories(stories: list[tuple[str, str]]) -> None:
    """Import (external id, text) stories as one JSONL file, names extracted, as a user would."""
    import json

    from archive import ingest

    lines = [
        json.dumps({"title": t.split("\n")[0], "body": t, "external_id": k}) for k, t in stories
    ]
    ingest.ingest([ingest.SourceFile("s.jsonl", ("\n".join(lines) + "\n").encode())])


@pytest.fixture
def staff_client(client, transactional_db):
    user = User.objects.create_superuser("editor", "editor@example.com", "a-long-password-1")
    client.force_login(user)
    return client


def test_admin_needs_a_staff_login(client, seeds):
    response = client.get(reverse("admin:archive_document_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


@pytest.mark.parametrize("model", ["document", "person", "publication"])
def test_admin_lists_and_searches(staff_client, seeds, model):
    url = reverse(f"admin:archive_{model}_changelist")
    assert staff_client.get(url).status_code == 200
    assert staff_client.get(url, {"q": "Gupta"}).status_code == 200


def test_admin_filters_documents(staff_client, seeds):
    url = reverse("admin:archive_document_changelist")
    response = staff_client.get(url, {"date_inferred__exact": "1"})
    assert response.status_code == 200
    assert "Inside Story!" in response.content.decode()
    assert "Farhatullah Babar admits" not in response.content.decode()


def test_admin_edit_with_persons_reaches_the_index(staff_client, seeds):
    document = Document.objects.get(external_id="seed:000_be9e6538dc8b1c7a")
    gupta = Person.objects.get(name="Madhukar Gupta")
    url = reverse("admin:archive_document_change", args=[document.pk])
    assert staff_client.get(url).status_code == 200
    response = staff_client.post(
        url,
        {
            "title": "Edited in the admin",
            "body": "A corrected body mentioning Rawalpindi.",
            "published": "2025-04-11",
            "date_inferred": "on",
            "publication": "",
            "persons": [str(gupta.pk)],
            "source_url": "",
            "external_id": document.external_id,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    result = search.search(search.SearchRequest(q="Rawalpindi"))
    assert [hit.title for hit in result.hits] == ["Edited in the admin"]
    assert result.hits[0].persons == ("Madhukar Gupta",)
    assert search.search(search.SearchRequest(q="Murree")).total == 0


def test_an_admin_edit_keeps_the_texts_line_breaks_as_they_were(staff_client, seeds):
    """A browser sends a textarea's line breaks as "\\r\\n": editing only the title rewrote
    every line break of the text."""
    document = Document.objects.get(external_id="seed:000_be9e6538dc8b1c7a")
    body = document.body
    assert "\n" in body and "\r" not in body
    url = reverse("admin:archive_document_change", args=[document.pk])
    response = staff_client.post(
        url,
        {
            "title": "A new title",
            "body": body.replace("\n", "\r\n"),
            "published": document.published.isoformat(),
            "publication": document.publication_id or "",
            "persons": [str(pk) for pk in document.persons.values_list("pk", flat=True)],
            "source_url": document.source_url,
            "external_id": document.external_id,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    document.refresh_from_db()
    assert (document.title, document.body) == ("A new title", body)


def test_an_editor_cannot_save_a_date_in_the_future(staff_client, seeds):
    document = Document.objects.get(external_id="seed:000_be9e6538dc8b1c7a")
    url = reverse("admin:archive_document_change", args=[document.pk])
    response = staff_client.post(
        url,
        {
            "title": document.title,
            "body": document.body,
            "published": "2099-04-11",
            "publication": document.publication_id or "",
            "persons": [str(pk) for pk in document.persons.values_list("pk", flat=True)],
            "source_url": document.source_url,
            "external_id": document.external_id,
        },
    )
    assert response.status_code == 200
    assert "2099-04-11 is in the future: check the year." in response.content.decode()
    document.refresh_from_db()
    assert document.published.year != 2099


def test_the_migration_cleans_texts_saved_before(transactional_db):
    """Titles and texts stored with control characters or "\\r\\n" before the archive cleaned
    them: cleaned, fingerprinted again, and sent to the index through the outbox."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from archive.models import IndexTask, content_hash

    before = [("archive", "0015_former_name_merge_undo")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    OldDocument = executor.loader.project_state(before).apps.get_model("archive", "Document")
    dirty = OldDocument.objects.create(
        title="Red\x1b[31m", body="One line\r\nanother\x08.", content_hash="stale"
    )
    clean = OldDocument.objects.create(title="Plain", body="Nothing to do.", content_hash="kept")
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    rows = dict(Document.objects.values_list("pk", "title"))
    assert rows == {dirty.pk: "Red", clean.pk: "Plain"}
    cleaned = Document.objects.get(pk=dirty.pk)
    assert cleaned.body == "One line\nanother."
    assert cleaned.content_hash == content_hash("One line\nanother.")
    assert Document.objects.get(pk=clean.pk).content_hash == "kept"
    assert set(IndexTask.objects.values_list("document_id", flat=True)) >= {dirty.pk}
    assert clean.pk not in set(IndexTask.objects.values_list("document_id", flat=True))


def test_admin_delete_reaches_the_index(staff_client, seeds):
    document = Document.objects.get(external_id="seed:000_be9e6538dc8b1c7a")
    url = reverse("admin:archive_document_delete", args=[document.pk])
    response = staff_client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert search.search(search.SearchRequest(q="Murree")).total == 0
    assert search.search(search.SearchRequest()).total == 1


def test_admin_person_rename_reaches_the_index(staff_client, seeds):
    person = Person.objects.get(name="Farhatullah Babar")
    url = reverse("admin:archive_person_change", args=[person.pk])
    response = staff_client.post(
        url,
        {
            "name": "Farhatullah Babar (spokesperson)",
            "aliases-TOTAL_FORMS": "1",
            "aliases-INITIAL_FORMS": "1",
            "aliases-0-id": str(person.aliases.get().pk),
            "aliases-0-person": str(person.pk),
            "aliases-0-name": "Babur",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    facet = search.search(search.SearchRequest()).facets["person"]
    assert "Farhatullah Babar (spokesperson)" in {v.value for v in facet.values}
    assert "Farhatullah Babar" not in {v.value for v in facet.values}


@pytest.mark.parametrize(
    ("model", "params", "present", "absent"),
    [
        ("person", {"has_aliases": "yes"}, "Farhatullah Babar", "Madhukar Gupta"),
        ("person", {"has_aliases": "no"}, "Madhukar Gupta", "Farhatullah Babar"),
        ("publication", {"has_documents": "no"}, "Idle Gazette", "Busy Times"),
        ("publication", {"has_documents": "yes"}, "Busy Times", "Idle Gazette"),
    ],
)
def test_admin_list_filters(staff_client, seeds, make_document, model, params, present, absent):
    make_document(title="Busy", body="Text.", publication="Busy Times")
    Publication.objects.create(name="Idle Gazette")
    html = staff_client.get(reverse(f"admin:archive_{model}_changelist"), params).content.decode()
    assert present in html
    assert absent not in html


# --- Upload documents ---------------------------------------------------------------------------


def upload(client, *files, **data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    payload = {"files": [SimpleUploadedFile(name, content) for name, content in files]}
    payload.update({"extract_persons": "on", **data})
    return client.post(reverse("admin:archive_document_upload"), payload)


def upload_and_import(client, *files, **data):
    """Upload, as an editor does (the answer is the job's page at once), let a worker import
    it, and return the job's page."""
    from django.core.management import call_command

    response = upload(client, *files, **data)
    assert response.status_code == 302, response.content[:500]
    call_command("worker", batch=True, reload=False, startup_delay=False, verbosity=0)
    return client.get(response["Location"])


def test_upload_page_is_staff_only(client, transactional_db):
    url = reverse("admin:archive_document_upload")
    assert "/admin/login/" in client.get(url)["Location"]
    User.objects.create_user("reader", "r@example.com", "a-long-password-1", is_staff=False)
    client.login(username="reader", password="a-long-password-1")
    assert "/admin/login/" in client.get(url)["Location"]
    # Staff without the permission to add documents are refused too.
    User.objects.all().delete()
    User.objects.create_user("viewer", "v@example.com", "a-long-password-1", is_staff=True)
    client.login(username="viewer", password="a-long-password-1")
    assert client.get(url).status_code == 403


def test_an_upload_without_files_asks_for_one(staff_client):
    from archive.models import IngestJob

    response = staff_client.post(reverse("admin:archive_document_upload"), {"publication": ""})
    assert response.status_code == 200
    assert "Choose at least one file to upload." in response.content.decode()
    assert not IngestJob.objects.exists()


@pytest.mark.parametrize(
    "model, wording", [("person", "Not a person"), ("organisation", "Not an organisation")]
)
def test_the_not_this_kind_action_names_its_kind(staff_client, model, wording):
    from archive.models import ENTITY_MODELS

    ENTITY_MODELS[model].objects.create(name="Somebody Somewhere")  # actions show with rows
    html = staff_client.get(reverse(f"admin:archive_{model}_changelist")).content.decode()
    assert f"{wording}: remove everywhere, never again" in html


def test_upload_needs_csrf(transactional_db):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    user = User.objects.create_superuser("editor", "editor@example.com", "a-long-password-1")
    strict.force_login(user)
    response = upload(strict, ("a.txt", b"Title\n\nBody."))
    assert response.status_code == 403
    assert Document.objects.count() == 0


def test_upload_files_and_a_zip_shows_results_with_links(staff_client):
    import io
    import json
    import zipfile

    bundle = io.BytesIO()
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr(
            "inside.txt", "Zipped story\n\nA story from the zip, told by Mary Shelley."
        )
        archive.writestr("../evil.txt", "No\n\nNo.")
    jsonl = "\n".join(
        [
            json.dumps(
                {"title": "From JSONL", "body": "Record body.", "persons": ["Ada Lovelace"]}
            ),
            "{not json",
        ]
    )
    page = staff_client.get(reverse("admin:archive_document_upload"))
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.content.decode()
    response = upload_and_import(
        staff_client,
        ("story.txt", b"Harbour story\n\nPilot Maria Santos guided the ship. Santos said so."),
        ("bulk.jsonl", jsonl.encode()),
        ("bundle.zip", bundle.getvalue()),
        ("photo.gif", b"GIF89a\0\0"),
        ("empty.txt", b""),
        publication="Upload Gazette",
    )
    assert response.status_code == 200
    html = response.content.decode()
    # Zip members count as files: story, bulk, bundle/inside, bundle/../evil, photo, empty.
    assert "6 of 6 files read</strong>:" in html
    assert "3 documents created, 0 updated, 0 duplicates; 4 files or records failed" in html
    assert "The file is empty." in html  # that file's failure; the rest came in
    for document in Document.objects.all():
        change_url = reverse("admin:archive_document_change", args=[document.pk])
        assert f'href="{change_url}"' in html
        assert document.publication.name == "Upload Gazette"
    assert {p.name for p in Document.objects.get(title="Harbour story").persons.all()} == {
        "Maria Santos"
    }
    assert "Unsafe path" in html and "Not valid JSON" in html and "Unknown file type" in html
    assert search.search(search.SearchRequest(q="story")).total == 2
    # The same upload again adds nothing.
    again = upload_and_import(
        staff_client,
        ("story.txt", b"Harbour story\n\nPilot Maria Santos guided the ship. Santos said so."),
    )
    assert "0 documents created, 0 updated, 1 duplicate; 0 files or records failed" in (
        again.content.decode()
    )
    assert Document.objects.count() == 3


def test_changelist_links_to_the_upload_page(staff_client):
    html = staff_client.get(reverse("admin:archive_document_changelist")).content.decode()
    assert reverse("admin:archive_document_upload") in html


# --- Merging persons -------------------------------------------------------------------------


def test_merge_persons_carries_aliases_relinks_documents_and_updates_the_index(staff_client, seeds):
    babar = Person.objects.get(name="Farhatullah Babar")
    babur = Person.objects.create(name="F. Babur")
    babur.aliases.create(name="Babar sahib")
    other = Document.objects.get(external_id="seed:000_be9e6538dc8b1c7a")
    other.persons.add(babur)
    url = reverse("admin:archive_person_changelist")
    chosen = {"action": "merge_selected", "_selected_action": [babar.pk, babur.pk]}
    confirm = staff_client.post(url, chosen)
    assert confirm.status_code == 200
    assert "Choose the name to keep" in confirm.content.decode()
    assert Person.objects.filter(pk=babur.pk).exists()  # nothing happens before confirming
    done = staff_client.post(url, {**chosen, "confirm": "yes", "keep": babar.pk}, follow=True)
    assert "Merged F. Babur into Farhatullah Babar" in done.content.decode()
    assert not Person.objects.filter(pk=babur.pk).exists()
    assert {a.name for a in babar.aliases.all()} >= {"Babur", "F. Babur", "Babar sahib"}
    assert set(babar.documents.all()) == set(Document.objects.all())
    response = search.search(search.SearchRequest(persons=("Farhatullah Babar",)))
    assert response.total == 2
    assert "F. Babur" not in {v.value for v in response.facets["person"].values}
    # The merged name now resolves when documents come in.
    from archive.ingest.store import known_persons

    assert known_persons()("f. babur") == "Farhatullah Babar"


# --- Entity review: the least sure values, and decisions that stay ------------------------------


@pytest.mark.parametrize("model", ["organisation", "place", "entitydecision", "formername"])
def test_entity_admins_list_and_search(staff_client, seeds, model):
    url = reverse(f"admin:archive_{model}_changelist")
    assert staff_client.get(url).status_code == 200
    assert staff_client.get(url, {"q": "Mumbai"}).status_code == 200


def test_the_review_list_shows_the_least_sure_unreviewed_values_first(staff_client, seeds):
    from archive.models import Person

    document = seeds[0]
    assert len(seeds) >= 2
    sure = Person.objects.create(name="Sure Person", confidence=0.95)
    unsure = Person.objects.create(name="Doubtful Value", confidence=0.3)
    checked = Person.objects.create(name="Checked Value", confidence=0.2, reviewed=True)
    document.persons.add(sure, unsure, checked)
    url = reverse("admin:archive_person_changelist")
    page = staff_client.get(url, {"review": "todo"}).content.decode()
    assert "Doubtful Value" in page
    # Each "reviewed" box is named for its value, and points at no help text it lacks.
    assert 'aria-label="Doubtful Value: reviewed"' in page
    assert "reviewed_helptext" not in page
    assert "Sure Person" not in page and "Checked Value" not in page
    listing = staff_client.get(url).content.decode()
    assert listing.index("Doubtful Value") < listing.index("Sure Person")
    # Among equally unsure values, the one in more documents first (it misleads more searches),
    # whatever the alphabet says.
    widespread = Person.objects.create(name="Zz Widespread", confidence=0.3)
    for seed in seeds:
        seed.persons.add(widespread)
    listing = staff_client.get(url, {"review": "todo"}).content.decode()
    assert listing.index("Zz Widespread") < listing.index("Doubtful Value")
    # Most at stake first: (1 - confidence) x documents, the links a review can mend. A value
    # at 0.5 in every seed document (1.0 at stake) before one at 0.1 in one (0.9).
    broad = Person.objects.create(name="Broad Half Sure", confidence=0.5)
    for seed in seeds:
        seed.persons.add(broad)
    narrow = Person.objects.create(name="Narrow Unsure", confidence=0.1)
    document.persons.add(narrow)
    listing = staff_client.get(url, {"review": "todo"}).content.decode()
    assert listing.index("Broad Half Sure") < listing.index("Narrow Unsure")
    # The document count links to the documents, to read the value in context.
    documents = staff_client.get(
        reverse("admin:archive_document_changelist"), {"persons__id__exact": unsure.pk}
    )
    assert documents.status_code == 200
    assert document.title[:20] in documents.content.decode()


def test_not_a_person_removes_the_value_everywhere_and_is_remembered(staff_client, seeds):
    from archive.models import EntityDecision, Person

    wrong = Person.objects.create(name="Wright Stuff", confidence=0.4)
    seeds[0].persons.add(wrong)
    # The action asks first, as a delete does: nothing changes until the editor confirms.
    asked = staff_client.post(
        reverse("admin:archive_person_changelist"),
        {"action": "not_this_kind", "_selected_action": [wrong.pk]},
    )
    assert asked.status_code == 200
    assert "Wright Stuff (1 document)" in asked.content.decode()
    assert Person.objects.filter(name="Wright Stuff").exists()
    response = staff_client.post(
        reverse("admin:archive_person_changelist"),
        {"action": "not_this_kind", "_selected_action": [wrong.pk], "confirm": "yes"},
    )
    assert response.status_code == 302
    assert not Person.objects.filter(name="Wright Stuff").exists()
    assert EntityDecision.objects.filter(
        kind="person", name="Wright Stuff", decision=EntityDecision.NOT
    ).exists()
    assert "Wright Stuff" not in search.search(search.SearchRequest()).facets["person"].values


def test_a_rename_keeps_the_old_name_as_an_alias_and_marks_it_reviewed(staff_client, seeds):
    from archive.models import Place

    place = Place.objects.create(name="Calcutta", confidence=0.5)
    seeds[0].places.add(place)
    response = staff_client.post(
        reverse("admin:archive_place_change", args=[place.pk]),
        {
            "name": "Kolkata",
            "reviewed": "",
            "aliases-TOTAL_FORMS": "0",
            "aliases-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:1500]
    place.refresh_from_db()
    assert place.name == "Kolkata" and place.reviewed
    assert [a.name for a in place.aliases.all()] == ["Calcutta"]


def test_deleting_an_alias_splits_it_off_for_good(staff_client, seeds):
    from archive.models import EntityDecision, Person

    babar = Person.objects.get(name="Farhatullah Babar")
    alias = babar.aliases.get()
    response = staff_client.post(
        reverse("admin:archive_person_change", args=[babar.pk]),
        {
            "name": babar.name,
            "aliases-TOTAL_FORMS": "1",
            "aliases-INITIAL_FORMS": "1",
            "aliases-0-id": str(alias.pk),
            "aliases-0-person": str(babar.pk),
            "aliases-0-name": alias.name,
            "aliases-0-DELETE": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:1500]
    assert EntityDecision.objects.filter(
        kind="person", name=alias.name, decision=EntityDecision.APART, other=babar.name
    ).exists()
    page = staff_client.get(response["Location"]).content.decode()
    assert f"Split off “{alias.name}”" in page and "resolved again" in page
    assert "Still joined" not in page  # the alias deleted is not listed as one that stays


def test_a_wrong_merge_is_undone_in_one_step_from_former_names(staff_client):
    """An editor merges two places by mistake; the message after the merge links to the
    former names, where one action splits the name off again: its documents get it back as a
    value of its own, the merged value loses the alias, and no later pass joins them again."""

    from archive.models import EntityDecision, FormerName, Place

    stories = [
        ("a", "Paris talks\n\nTony Blair met officials in Paris on Monday, in Paris again."),
        ("b", "Conference\n\nTony Blair spoke in Brighton on Tuesday. In Brighton he said so."),
    ]
    import_stories(stories)
    paris, brighton = Place.objects.get(name="Paris"), Place.objects.get(name="Brighton")
    url = reverse("admin:archive_place_changelist")
    chosen = {"action": "merge_selected", "_selected_action": [paris.pk, brighton.pk]}
    done = staff_client.post(url, {**chosen, "confirm": "yes", "keep": paris.pk}, follow=True)
    page = done.content.decode()
    assert "Merged Brighton into Paris" in page
    undo = reverse("admin:archive_formername_changelist") + "?successor=Paris&amp;kind=place"
    assert undo in page
    assert [p.name for p in Document.objects.get(external_id="b").places.all()] == ["Paris"]

    former = FormerName.objects.get(kind="place", name="Brighton")
    listing = staff_client.get(
        reverse("admin:archive_formername_changelist"), {"successor": "Paris"}
    )
    assert "Brighton" in listing.content.decode()
    response = staff_client.post(
        reverse("admin:archive_formername_changelist"),
        {"action": "split_off_again", "_selected_action": [former.pk]},
        follow=True,
    )
    assert "“Brighton” is a value of its own again, in its 1 document" in (
        response.content.decode()
    )
    assert [p.name for p in Document.objects.get(external_id="b").places.all()] == ["Brighton"]
    assert [p.name for p in Document.objects.get(external_id="a").places.all()] == ["Paris"]
    assert not Place.objects.get(name="Paris").aliases.filter(name="Brighton").exists()
    assert EntityDecision.objects.filter(
        kind="place", name="Brighton", decision=EntityDecision.APART, other="Paris"
    ).exists()
    response = search.search(search.SearchRequest(filters={"place": ["Brighton"]}))
    assert response.total == 1


def test_undoing_a_merge_gives_back_the_documents_and_aliases_of_loaded_documents(
    staff_client, seeds
):
    """Documents loaded from a fixture have no mentions to resolve again: the undo itself gives
    the value back its documents and aliases, and takes the merge's links off the other."""
    from archive.models import FormerName

    keep = Person.objects.get(name="Farhatullah Babar")
    other = Person.objects.create(name="Someone Else")
    other.aliases.create(name="S. Else")
    only_other = Document.objects.exclude(persons=keep).first() or seeds[-1]
    keep.documents.remove(only_other)
    other.documents.add(only_other)
    url = reverse("admin:archive_person_changelist")
    chosen = {"action": "merge_selected", "_selected_action": [keep.pk, other.pk]}
    staff_client.post(url, {**chosen, "confirm": "yes", "keep": keep.pk})
    assert keep.documents.filter(pk=only_other.pk).exists()
    former = FormerName.objects.get(kind="person", name="Someone Else")
    response = staff_client.post(
        reverse("admin:archive_formername_changelist"),
        {"action": "split_off_again", "_selected_action": [former.pk]},
        follow=True,
    )
    assert (
        "“Someone Else” is a value of its own again, in its 1 document, with “S. Else”, and is "
        "never joined to “Farhatullah Babar” again." in response.content.decode()
    )
    back = Person.objects.get(name="Someone Else")
    assert list(back.documents.all()) == [only_other]
    assert [a.name for a in back.aliases.all()] == ["S. Else"]
    assert not keep.documents.filter(pk=only_other.pk).exists()
    assert not keep.aliases.filter(name__in=["Someone Else", "S. Else"]).exists()
    assert not FormerName.objects.filter(name="Someone Else").exists()
    found = search.search(search.SearchRequest(persons=("Someone Else",)))
    assert found.total == 1


def test_admin_pages_name_the_sites_icon(staff_client, seeds):
    """Otherwise a browser asks for /favicon.ico on every admin page, and logs a 404."""
    page = staff_client.get("/admin/").content.decode()
    assert 'rel="icon"' in page and "archive/favicon.svg" in page
    assert "News archive administration" in page


# --- Undoing merges: what the admin's one step must get right ------------------------------------


def _docs(*titles):
    return [Document.objects.create(title=t, body=f"{t} text.") for t in titles]


def _names(document):
    return sorted(p.name for p in document.persons.all())


def _undo(name):
    from archive.models import FormerName, unmerge

    former = FormerName.objects.get(kind="person", name=name)
    return unmerge(former, FormerName.objects.successor("person", name=name))


def test_undoing_one_of_two_merged_values_leaves_the_other_its_shared_document(db):
    from archive.models import merge_entities

    kay, anne, bea = (Person.objects.create(name=n) for n in ("Kay Keep", "Anne Alpha", "Bea B"))
    (shared,) = _docs("Shared")
    anne.documents.add(shared)
    bea.documents.add(shared)
    merge_entities(kay, [anne, bea])
    _undo("Anne Alpha")
    assert _names(shared) == ["Anne Alpha", "Kay Keep"]  # Bea, now Kay, still names it


def test_undoing_a_merge_leaves_a_document_the_value_it_went_into_had_on_its_own(db):
    from archive.models import merge_entities

    kay, ex, zed = (Person.objects.create(name=n) for n in ("Kay Keep", "Ex Other", "Zed Zulu"))
    (d,) = _docs("D")
    ex.documents.add(d)
    zed.documents.add(d)
    merge_entities(kay, [ex])
    merge_entities(zed, [Person.objects.get(name="Kay Keep")])
    _undo("Ex Other")
    assert _names(d) == ["Ex Other", "Zed Zulu"]


def test_undoing_a_chain_of_merges_in_any_order_gives_each_value_its_own_documents(db):
    from archive.models import merge_entities

    ay, bee, cee = (Person.objects.create(name=n) for n in ("Ay One", "Bee Two", "Cee Three"))
    a, b, c = _docs("A", "B", "C")
    ay.documents.add(a)
    bee.documents.add(b)
    cee.documents.add(c)
    merge_entities(ay, [cee])
    merge_entities(bee, [Person.objects.get(name="Ay One")])
    assert [_names(x) for x in (a, b, c)] == [["Bee Two"]] * 3
    _undo("Cee Three")
    assert _names(c) == ["Cee Three"]
    _undo("Ay One")
    assert [_names(x) for x in (a, b, c)] == [["Ay One"], ["Bee Two"], ["Cee Three"]]


def _oh_merged_into_kay():
    """ "Oh Other" (alias "O. Other", one document) merged into "Kay Keep"."""
    from archive.models import merge_entities

    kay, oh = Person.objects.create(name="Kay Keep"), Person.objects.create(name="Oh Other")
    (d,) = _docs("D")
    oh.documents.add(d)
    oh.aliases.create(name="O. Other")
    merge_entities(kay, [oh])
    return kay, d


def test_undoing_a_merge_whose_documents_are_gone_brings_back_no_empty_value(db):
    kay, d = _oh_merged_into_kay()
    d.delete()
    back = _undo("Oh Other")
    assert back.value is None and back.documents == 0
    assert not Person.objects.filter(name="Oh Other").exists()
    assert not kay.aliases.filter(name__in=["Oh Other", "O. Other"]).exists()


def test_merging_again_after_an_undo_drops_every_decision_the_undo_left(staff_client):
    from archive.models import EntityDecision, FormerName, merge_entities

    kay, _ = _oh_merged_into_kay()
    staff_client.post(
        reverse("admin:archive_formername_changelist"),
        {
            "action": "split_off_again",
            "_selected_action": [FormerName.objects.get(name="Oh Other").pk],
        },
    )
    apart = EntityDecision.objects.filter(decision=EntityDecision.APART, other="Kay Keep")
    assert sorted(apart.values_list("name", flat=True)) == ["O. Other", "Oh Other"]
    merge_entities(kay, [Person.objects.get(name="Oh Other")])
    assert not apart.exists()
    assert sorted(a.name for a in kay.aliases.all()) == ["O. Other", "Oh Other"]


def test_former_names_say_where_the_documents_are_now_after_a_later_merge(staff_client):
    """ "Reagan" went into "Ronald Reagan", which was merged into another value since: the list
    named the first only."""
    from archive.models import merge_entities

    reagan = Person.objects.create(name="Reagan")
    ronald = Person.objects.create(name="Ronald Reagan")
    other = Person.objects.create(name="R W Reagan")
    document = Document.objects.create(title="Reagan speaks", body="President Reagan spoke.")
    document.persons.set([reagan])
    merge_entities(ronald, [reagan])
    merge_entities(other, [Person.objects.get(name="Ronald Reagan")])
    html = staff_client.get(reverse("admin:archive_formername_changelist")).content.decode()
    now_with = re.findall(r'<td class="field-now_with">([^<]*)</td>', html)
    assert sorted(now_with) == ["R W Reagan", "the same"]


def test_undoing_a_chain_of_merges_resolves_the_documents_it_gives_back(staff_client):
    """ "Reagan" merged into "Ronald Reagan", that merged into another value, both undone: a
    document that says only "President Reagan" (joined to Ronald Reagan by a pass) came back
    with both values, until a whole-archive pass; the undo now resolves the documents it gives
    back, not only those that mention the names split off."""

    from archive.ingest import resolution
    from archive.models import FormerName, merge_entities

    stories = [
        ("a", "Summit\n\nRonald Reagan met Mikhail Gorbachev. Ronald Reagan said so twice."),
        ("b", "Bill signed\n\nPresident Reagan signed the bill on Monday, aides said."),
    ]
    import_stories(stories)
    signed = Document.objects.get(external_id="b")
    assert [p.name for p in signed.persons.all()] == ["Ronald Reagan"]
    by_hand = Document.objects.create(title="Notes", body="Reagan, as the notes call him.")
    reagan = Person.objects.create(name="Reagan")
    by_hand.persons.set([reagan])
    baker = Person.objects.create(name="Howard Baker")
    Document.objects.create(title="Baker", body="Howard Baker.").persons.set([baker])
    merge_entities(Person.objects.get(name="Ronald Reagan"), [reagan])
    merge_entities(baker, [Person.objects.get(name="Ronald Reagan")])
    url = reverse("admin:archive_formername_changelist")
    for name in ("Reagan", "Ronald Reagan"):
        former = FormerName.objects.get(kind="person", name=name)
        staff_client.post(url, {"action": "split_off_again", "_selected_action": [former.pk]})
    # One value, the one a whole-archive pass gives it: "Reagan", a value of its own again by
    # the editor's decision, takes its lone mention.
    assert [p.name for p in signed.persons.all()] == ["Reagan"]
    assert Person.objects.get(name="Ronald Reagan").documents.get().title == "Summit"
    assert resolution.resolve_archive().changed == 0
