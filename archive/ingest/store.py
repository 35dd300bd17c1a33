"""Saving drafts as documents: recognising duplicates and updates, linking persons.

A draft is the same document as one already stored when it has the same external ID; without
one, the same source URL; without either, the same text (``content_hash``, which ignores case and
whitespace). A match with identical content is a duplicate and changes nothing; a match by ID or
URL with changed content is an update.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from archive.ingest.drafts import Draft
from archive.ingest.persons import NameBook
from archive.models import Document, Person, PersonAlias, Publication, content_hash, normalise_name


class Outcome(enum.StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    DUPLICATE = "duplicate"
    FAILED = "failed"


@dataclass
class ItemResult:
    """What happened to one document (or one file that gave none)."""

    source: str
    outcome: Outcome
    message: str = ""
    document_id: int | None = None
    title: str = ""
    persons: tuple[str, ...] = ()


def known_persons() -> NameBook:
    """The archive's persons and aliases, as a name book for person resolution."""
    names: dict[str, str] = {}
    searchable: list[str] = []
    for name in Person.objects.values_list("name", flat=True).iterator():
        names[name] = name
        if " " in name:
            searchable.append(name)
    for alias, name in PersonAlias.objects.values_list("name", "person__name").iterator():
        names.setdefault(alias, name)
        searchable.append(alias)
    return NameBook(names, searchable)


def _same_content(document: Document, draft: Draft, publication: str | None, persons) -> bool:
    return (
        document.title == draft.title
        and document.content_hash == content_hash(draft.body)
        and document.published == draft.published
        and (document.publication.name if document.publication_id else None) == publication
        and (document.source_url or "") == (draft.source_url or "")
        and {p.name for p in document.persons.all()} == set(persons)
    )


def find_existing(draft: Draft) -> tuple[Document | None, str]:
    """The stored document this draft is a version of, and what matched.

    The strongest identifier the draft has decides alone: two records with different external
    IDs are two documents even if they share a URL or a text (wire copy republished).
    """
    if draft.external_id:
        found = Document.objects.filter(external_id=draft.external_id).first()
        return (found, "external ID") if found else (None, "")
    if draft.source_url:
        found = Document.objects.filter(source_url=draft.source_url).first()
        return (found, "URL") if found else (None, "")
    found = Document.objects.filter(content_hash=content_hash(draft.body)).first()
    return (found, "same text") if found else (None, "")


def save_draft(draft: Draft, persons: list[str], publication: str | None) -> ItemResult:
    """Create or update the document for ``draft``; call inside a transaction."""
    existing, matched_by = find_existing(draft)
    if existing is not None and (
        matched_by == "same text" or _same_content(existing, draft, publication, persons)
    ):
        return ItemResult(
            draft.source,
            Outcome.DUPLICATE,
            f"Already in the archive (same {matched_by.removeprefix('same ')}).",
            existing.pk,
            existing.title,
        )
    document = existing or Document(external_id=draft.external_id)
    document.title = draft.title
    document.body = draft.body
    document.published = draft.published
    document.date_inferred = draft.date_inferred and draft.published is not None
    document.source_url = draft.source_url
    document.publication = (
        Publication.objects.get_or_create(name=normalise_name(publication))[0]
        if publication
        else None
    )
    document.full_clean(exclude=["persons"], validate_unique=False)
    document.save()
    document.persons.set(
        [Person.objects.get_or_create(name=normalise_name(name))[0] for name in persons]
    )
    outcome = Outcome.UPDATED if existing else Outcome.CREATED
    message = f"Updated (matched by {matched_by})." if existing else ""
    return ItemResult(draft.source, outcome, message, document.pk, document.title, tuple(persons))
