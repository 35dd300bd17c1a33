"""Saving drafts as documents: recognising duplicates and updates, linking persons.

A draft is the same document as one already stored when it has the same external ID; without
one, the same source URL; without either, the same text (``content_hash``, which ignores case and
whitespace). A match with identical content is a duplicate and changes nothing; a match by ID or
URL with changed content is an update.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files import File

from archive import indexing
from archive.ingest import copies
from archive.ingest.drafts import Draft
from archive.ingest.entities import NameMention
from archive.ingest.persons import NameBook
from archive.models import (
    ENTITY_MODELS,
    Document,
    Mention,
    Person,
    PersonAlias,
    Publication,
    content_hash,
    give_slugs,
    normalise_name,
)
from archive.storedtext import stored_text


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
    organisations: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    # A failure that comes from the file itself (empty, binary, malformed, too large, an unknown
    # type): importing it again fails the same way, so a job does not offer to retry it.
    lasting: bool = False


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
        # Extracted entities are the resolution's business (and may carry editors' decisions):
        # only persons the source gives make a re-import an update.
        and (persons is None or {p.name for p in document.persons.all()} == set(persons))
    )


def link_entities(
    document: Document,
    kind: str,
    names: list[str],
    known_ids: dict[str, int] | None = None,
    new: bool = False,
) -> None:
    """Set the document's entities of one kind to these names, creating the missing ones.

    ``known_ids`` (name -> pk, from :func:`entity_ids` for a whole batch) saves the look-ups;
    a ``new`` document has no links yet, so they are inserted in one statement (its own save
    already owes the index a task).
    """
    model = ENTITY_MODELS[kind]
    names = [n for n in dict.fromkeys(normalise_name(n) for n in names) if n]
    found = dict(known_ids or {})
    missing = [name for name in names if name not in found]
    if missing:
        found.update(model.objects.filter(name__in=missing).values_list("name", "pk"))
    ids = [found.get(name) or model.objects.get_or_create(name=name)[0].pk for name in names]
    relation = getattr(document, model._meta.get_field("documents").remote_field.name)
    if new:
        indexing.insert_rows(
            relation.through,
            ("document", model._meta.model_name),
            [(document.pk, pk) for pk in dict.fromkeys(ids)],
        )
    else:
        relation.set(ids)


def relink_entities(changes: dict[str, list[tuple[int, list[str]]]]) -> None:
    """Set many documents' entities at once: kind -> (document pk, its names). A resolution pass
    changes hundreds of documents' values; setting each through the relation's manager took a
    dozen statements a document. Links are deleted and inserted per kind in a few statements,
    the entities missing are created in bulk (without a slug: their page address comes from the
    by-name route, as for an import's), and the documents' index tasks are scheduled, as the
    relation's signal would have."""
    touched: set[int] = set()
    for kind, documents in changes.items():
        if not documents:
            continue
        pks = [pk for pk, _ in documents]
        through = _links(kind)
        for start in range(0, len(pks), 500):
            through.objects.filter(document_id__in=pks[start : start + 500]).delete()
        _insert_links(kind, documents)
        touched.update(pks)
    indexing.schedule(sorted(touched))


def _links(kind: str):
    """The table that links documents to the entities of one kind."""
    model = ENTITY_MODELS[kind]
    return getattr(Document, model._meta.get_field("documents").remote_field.name).through


def _insert_links(kind: str, linked: list[tuple[int, list[str]]]) -> None:
    """Link each document (pk) to its names of one kind, creating the entities missing in bulk,
    in one ``executemany``: for documents that have no links of that kind yet."""
    model = ENTITY_MODELS[kind]
    ids = _named(model, {normalise_name(n) for _, names in linked for n in names})
    indexing.insert_rows(
        _links(kind),
        ("document", model._meta.model_name),
        [
            (pk, ids[name])
            for pk, names in linked
            for name in dict.fromkeys(normalise_name(n) for n in names)
            if name
        ],
    )


def entity_ids(
    names_by_kind: dict[str, set[str]], created: dict[str, set[int]] | None = None
) -> dict[str, dict[str, int]]:
    """name -> pk for every name of a batch, by kind, creating the missing entities in bulk (a
    few statements per batch instead of several per name, each with its page address). The
    pks of the entities created go into ``created``, by kind."""
    created = created if created is not None else {}
    return {
        kind: _named(
            ENTITY_MODELS[kind],
            {normalise_name(n) for n in names},
            created.setdefault(kind, set()),
        )
        for kind, names in names_by_kind.items()
    }


def remove_unlinked(created: dict[str, set[int]]) -> None:
    """Delete the entities a batch created that no document ended up linked to (the document
    that named them was a duplicate, or failed)."""
    for kind, made in created.items():
        pks = sorted(made)
        for start in range(0, len(pks), 500):
            ENTITY_MODELS[kind].objects.filter(
                pk__in=pks[start : start + 500], documents=None, aliases=None, reviewed=False
            ).delete()


def store_mentions(document: Document, mentions: list[NameMention], new: bool = False) -> None:
    """Replace the document's stored mentions (the evidence resolution weighs)."""
    if not new:
        document.mentions.all().delete()
    indexing.insert_rows(
        Mention,
        ("document", "name", "label", "count", "titled", "located"),
        [
            (document.pk, m.name[:200], m.label, m.count, bool(m.titled), m.located)
            for m in mentions
        ],
    )


def match_key(draft: Draft) -> tuple[str, str]:
    """What a draft is matched with stored documents by: its external ID, else its URL, else
    its text's hash. The strongest identifier it has decides alone: two records with different
    external IDs are two documents even if they share a URL or a text (wire copy republished)."""
    if draft.external_id:
        return ("external_id", draft.external_id)
    if draft.source_url:
        return ("source_url", draft.source_url)
    return ("content_hash", content_hash(draft.body))


# How a result names what matched (:func:`find_existing`).
_MATCHED_BY = {"external_id": "external ID", "source_url": "URL", "content_hash": "same text"}


def find_existing(draft: Draft) -> tuple[Document | None, str]:
    """The stored document this draft is a version of, and what matched (:func:`match_key`)."""
    field, value = match_key(draft)
    found = Document.objects.filter(**{field: value}).first()
    return (found, _MATCHED_BY[field]) if found else (None, "")


def stored_keys(keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """The keys (:func:`match_key`) that a stored document has, in a few ``IN`` queries."""
    by_field: dict[str, set[str]] = {}
    for field, value in keys:
        by_field.setdefault(field, set()).add(value)
    return {
        (field, value)
        for field, values in by_field.items()
        for value in _existing(Document, field, values)
    }


def stored_copy(draft: Draft, publication: str | None) -> ItemResult | None:
    """The result :func:`save_draft` would give a draft of an extracted text that the archive
    holds already, unchanged (None otherwise): known before its names are extracted, so that
    importing the same files again costs a query each, not the model's time."""
    existing, matched_by = find_existing(draft)
    return _duplicate(draft, existing, matched_by, publication, None)


def _duplicate(
    draft: Draft,
    existing: Document | None,
    matched_by: str,
    publication: str | None,
    persons: list[str] | None,
) -> ItemResult | None:
    """The duplicate's result when ``existing`` holds the draft unchanged (the same text, or
    the same content under its ID or URL), else None: the draft creates or updates."""
    if existing is None or not (
        matched_by == "same text" or _same_content(existing, draft, publication, persons)
    ):
        return None
    return ItemResult(
        draft.source,
        Outcome.DUPLICATE,
        f"Already in the archive (same {matched_by.removeprefix('same ')}).",
        existing.pk,
        existing.title,
    )


def keep_original(document: Document, draft: Draft) -> str | None:
    """Give a scan's document its OCR confidence and its original file, written to the media
    storage (``originals/YYYY/MM/<name>``) under a name of its own; returns that name, so the
    caller can remove the file if the document is not saved after all. Call before the save."""
    if draft.ocr_confidence is not None:
        document.ocr_confidence = draft.ocr_confidence
    if draft.original is None:
        return None
    with draft.original.open() as handle:
        document.original_file.save(draft.original.name, File(handle), save=False)
    return document.original_file.name


def drop_originals(names: list[str | None]) -> None:
    """Remove stored originals whose documents were not saved (the save failed)."""
    storage = Document._meta.get_field("original_file").storage
    for name in names:
        if name:
            with contextlib.suppress(OSError):
                storage.delete(name)


def save_draft(
    draft: Draft,
    persons: list[str],
    publication: str | None,
    organisations: list[str] = (),
    places: list[str] = (),
    mentions: list[NameMention] | None = None,
    known_ids: dict[str, dict[str, int]] | None = None,
    saved: list | None = None,
) -> ItemResult:
    """Create or update the document for ``draft``; call inside a transaction. ``mentions``
    (None when the source gave the persons) are stored as the evidence behind the entities.
    A document created goes into ``saved`` as the index will read it."""
    existing, matched_by = find_existing(draft)
    given = persons if draft.persons is not None else None
    duplicate = _duplicate(draft, existing, matched_by, publication, given)
    if duplicate is not None:
        return duplicate
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
    document.entities_extracted = mentions is not None
    document.full_clean(exclude=["persons", "organisations", "places"], validate_unique=False)
    stored = keep_original(document, draft)
    ids = known_ids or {}
    new = existing is None
    try:
        document.save()
        link_entities(document, "person", persons, ids.get("person"), new)
        link_entities(document, "organisation", list(organisations), ids.get("organisation"), new)
        link_entities(document, "place", list(places), ids.get("place"), new)
        if mentions is not None or existing is not None:
            store_mentions(document, mentions or [], new)
    except BaseException:  # the caller's savepoint rolls back: no document keeps the file
        drop_originals([stored])
        raise
    if saved is not None and existing is None:
        # Only a new document: one the index pass may hold already is updated by its task.
        story = indexing.indexed_story(document)  # the save's signal found its copies
        saved.append(
            indexing.indexed_from_memory(
                document, publication, persons, organisations, places, story=story
            )
        )
    outcome = Outcome.UPDATED if existing else Outcome.CREATED
    message = f"Updated (matched by {matched_by})." if existing else ""
    return ItemResult(
        draft.source,
        outcome,
        message,
        document.pk,
        document.title,
        tuple(persons),
        tuple(organisations),
        tuple(places),
    )


def create_new_in_bulk(
    drafts: list[tuple],
    saved: list | None = None,
) -> tuple[list[ItemResult], list[tuple]]:
    """Create in a few statements the drafts that match no stored document: a bulk file whose
    records carry their persons would otherwise cost some twenty queries a record.

    ``drafts`` are (draft, person names, publication), or, for entities extracted from the text,
    (draft, person names, publication, (organisation names, place names, mentions)): those are
    created as :func:`save_draft` creates them (entities linked, mentions stored as evidence).
    Returns the results of the documents created (or refused as invalid), in the order of
    ``drafts``, and the items left for
    :func:`save_draft`: those that match a stored document or repeat an earlier record of the
    batch. Call inside a transaction; the created documents' index tasks are scheduled here, as
    the signals would have, and they go into ``saved`` as the index will read them.
    """
    by_id = {d[0].external_id for d in drafts if d[0].external_id}
    by_url = {d[0].source_url for d in drafts if not d[0].external_id and d[0].source_url}
    by_text = {
        content_hash(d[0].body) for d in drafts if not d[0].external_id and not d[0].source_url
    }
    stored_ids = set(_existing(Document, "external_id", by_id))
    stored_urls = set(_existing(Document, "source_url", by_url))
    stored_texts = set(_existing(Document, "content_hash", by_text))
    # (draft, persons, publication, (organisations, places, mentions) or None, document)
    fresh: list[tuple[Draft, list[str], str | None, tuple | None, Document]] = []
    positions: list[int] = []  # of the fresh ones among the drafts
    later: list[tuple] = []
    failed: list[tuple[int, ItemResult]] = []  # (position among drafts, result)
    seen: set[str] = set()
    for position, item in enumerate(drafts):
        draft, persons, publication = item[:3]
        extracted = item[3] if len(item) > 3 else None
        text = content_hash(draft.body)
        if draft.external_id:
            key, stored = f"id:{draft.external_id}", draft.external_id in stored_ids
        elif draft.source_url:
            key, stored = f"url:{draft.source_url}", draft.source_url in stored_urls
        else:
            key, stored = f"text:{text}", text in stored_texts
        if stored or key in seen:
            later.append(item)
            continue
        seen.add(key)
        document = Document(
            external_id=draft.external_id,
            title=draft.title,
            body=draft.body,
            published=draft.published,
            date_inferred=draft.date_inferred and draft.published is not None,
            source_url=draft.source_url,
            content_hash=text,
            entities_extracted=extracted is not None,
            ocr_confidence=draft.ocr_confidence,
        )
        try:
            document.full_clean(
                exclude=["persons", "organisations", "places", "publication"],
                validate_unique=False,
            )
        except ValidationError as exc:
            failed.append((position, ItemResult(draft.source, Outcome.FAILED, failure_reason(exc))))
            continue
        fresh.append((draft, persons, publication, extracted, document))
        positions.append(position)
    if not fresh:
        return [result for _, result in failed], later

    publications = _named(Publication, {normalise_name(p) for _, _, p, _, _ in fresh if p})
    for _, _, publication, _, document in fresh:
        document.publication_id = publications.get(normalise_name(publication or ""))
        document.title, document.body = stored_text(document.title), stored_text(document.body)
    stored = [keep_original(document, draft) for draft, *_, document in fresh if draft.original]
    try:
        Document.objects.bulk_create([f[-1] for f in fresh], batch_size=500)
        copies.assign([f[-1] for f in fresh])  # bulk_create sends no signals
        kinds = {
            "person": [(document, names) for _, names, _, _, document in fresh],
            "organisation": [(f[-1], f[3][0]) for f in fresh if f[3] is not None],
            "place": [(f[-1], f[3][1]) for f in fresh if f[3] is not None],
        }
        for kind, linked in kinds.items():
            _insert_links(kind, [(document.pk, names) for document, names in linked])
        indexing.insert_rows(
            Mention,
            ("document", "name", "label", "count", "titled", "located"),
            [
                (document.pk, m.name[:200], m.label, m.count, bool(m.titled), m.located)
                for *_, extracted, document in fresh
                if extracted is not None
                for m in extracted[2]
            ],
        )
    except BaseException:  # the caller's transaction rolls back: no document keeps them
        drop_originals(stored)
        raise
    indexing.schedule(f[-1].pk for f in fresh)
    if saved is not None:  # the documents as the index will read them
        saved.extend(
            indexing.indexed_from_memory(
                document,
                publication,
                names,
                *(extracted or ())[:2],
                story=indexing.indexed_story(document),
            )
            for _, names, publication, extracted, document in fresh
        )
    created = [
        ItemResult(
            draft.source,
            Outcome.CREATED,
            "",
            document.pk,
            document.title,
            tuple(names),
            *((tuple(extracted[0]), tuple(extracted[1])) if extracted is not None else ()),
        )
        for draft, names, _, extracted, document in fresh
    ]
    # In the order of the drafts, as saving them one at a time would have reported them.
    ordered = sorted([*failed, *zip(positions, created, strict=True)], key=lambda p: p[0])
    return [result for _, result in ordered], later


def _existing(model, fieldname: str, values: set[str]) -> Iterator[str]:
    """The values of ``fieldname`` among ``values`` that are stored, read in slices."""
    ordered = sorted(values)
    for start in range(0, len(ordered), 500):
        yield from model.objects.filter(
            **{f"{fieldname}__in": ordered[start : start + 500]}
        ).values_list(fieldname, flat=True)


def _named(model, names: set[str], created: set[int] | None = None) -> dict[str, int]:
    """name -> pk for these names, creating the missing ones in bulk, each with its page
    address (:func:`~archive.models.give_slugs`)."""
    names = {n for n in names if n}
    found = dict(
        (name, pk)
        for start in range(0, len(names), 500)
        for name, pk in model.objects.filter(
            name__in=sorted(names)[start : start + 500]
        ).values_list("name", "pk")
    )
    missing = [model(name=name) for name in sorted(names - set(found))]
    if missing:
        model.objects.bulk_create(missing, batch_size=500, ignore_conflicts=True)
        for start in range(0, len(missing), 500):
            chunk = [m.name for m in missing[start : start + 500]]
            made = dict(model.objects.filter(name__in=chunk).values_list("name", "pk"))
            found.update(made)
            if model in ENTITY_MODELS.values():
                give_slugs(model, made.values())
            if created is not None:
                created.update(made.values())
    return found


def failure_reason(exc: Exception) -> str:
    """Why a document was not saved, for the report."""
    if isinstance(exc, ValidationError) and hasattr(exc, "message_dict"):
        return "Invalid: " + "; ".join(
            f"{name}: {' '.join(messages)}" for name, messages in exc.message_dict.items()
        )
    return f"Not saved: {exc}"
