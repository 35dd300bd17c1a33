"""Editors work in the admin; their saves and deletes reach the index."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from archive import search
from archive.models import Document, Person, Publication


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
