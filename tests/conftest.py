"""Shared fixtures: a real SQLite database (pytest-django) and a real Whoosh index in a fresh
temporary directory for every test."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command

from archive import search
from archive.models import Document, Person, Publication

REPO = Path(__file__).resolve().parent.parent
SEED_FIXTURE = REPO / "fixtures" / "seed_articles.json"
SHARED = REPO.parent / "shared"


@pytest.fixture(autouse=True)
def index_dir(settings, tmp_path) -> Path:
    """Every test gets an empty index of its own."""
    path = tmp_path / "index"
    settings.ARCHIVE_INDEX_DIR = path
    search.create_index_if_missing()
    return path


@pytest.fixture
def seeds(transactional_db) -> list[Document]:
    """The two seed articles, loaded the way a user loads them: `manage.py loaddata`."""
    call_command("loaddata", str(SEED_FIXTURE), verbosity=0)
    return list(Document.objects.order_by("pk"))


@pytest.fixture
def make_document(transactional_db):
    """Create a document (committed, so it reaches the index) with persons and a publication."""

    def make(
        title: str = "A title",
        body: str = "Some body text.",
        persons: tuple[str, ...] = (),
        publication: str | None = None,
        published=None,
        **fields,
    ) -> Document:
        pub = Publication.objects.get_or_create(name=publication)[0] if publication else None
        document = Document.objects.create(
            title=title, body=body, publication=pub, published=published, **fields
        )
        if persons:
            document.persons.set([Person.objects.get_or_create(name=p)[0] for p in persons])
        return document

    return make


@pytest.fixture
def make_entity_document(make_document):
    """:func:`make_document` that also links organisations and places (by name)."""
    from archive.models import Organisation, Place

    def make(*, organisations=(), places=(), **fields):
        document = make_document(**fields)
        if organisations:
            document.organisations.set(
                [Organisation.objects.get_or_create(name=n)[0] for n in organisations]
            )
        if places:
            document.places.set([Place.objects.get_or_create(name=n)[0] for n in places])
        return document

    return make
