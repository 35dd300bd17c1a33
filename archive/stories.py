"""What the site says about a story (one article and its copies, ``archive/ingest/copies.py``):
how many printings and publications, where and when it was first printed, what a copy changed,
and the editors' split and join.

Read from the database, which is the source of truth for stories; the index only carries each
document's story id, so that a search can fold copies.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count

from archive import indexing
from archive.models import Document, Story


@dataclass(frozen=True)
class StoryFacts:
    """One story as a result shows it: "also in 5 other publications, first printed 26 Nov 2008
    in X"."""

    id: int
    copies: int  # documents, the one shown included
    publications: int  # distinct publications (an unknown one counts as one)
    first_published: dt.date | None
    first_publication: str | None
    first_document: int

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "copies": self.copies,
            "publications": self.publications,
            "first_published": self.first_published.isoformat() if self.first_published else None,
        }


def _earliest_first(queryset):
    """Earliest printing first; undated ones after the dated, then in the order they came."""
    from django.db.models import F

    return queryset.order_by(F("published").asc(nulls_last=True), "pk")


def facts_for(story_ids: Iterable[int | None]) -> dict[int, StoryFacts]:
    """The facts of these stories, by id (a few queries per 500 stories)."""
    ids = sorted({s for s in story_ids if s})
    facts: dict[int, StoryFacts] = {}
    for start in range(0, len(ids), 500):
        facts.update(_facts(ids[start : start + 500]))
    return facts


def _facts(ids: list[int]) -> dict[int, StoryFacts]:
    counts = {
        row["story"]: row
        for row in Document.objects.filter(story__in=ids)
        .values("story")
        .annotate(copies=Count("pk"), publications=Count("publication", distinct=True))
    }
    without_publication = set(
        Document.objects.filter(story__in=ids, publication__isnull=True).values_list(
            "story", flat=True
        )
    )
    first: dict[int, tuple] = {}
    rows = _earliest_first(Document.objects.filter(story__in=ids)).values_list(
        "story", "pk", "published", "publication__name"
    )
    for story, pk, published, publication in rows:
        first.setdefault(story, (pk, published, publication))
    facts = {}
    for story, row in counts.items():
        pk, published, publication = first[story]
        facts[story] = StoryFacts(
            id=story,
            copies=row["copies"],
            publications=row["publications"] + (story in without_publication),
            first_published=published,
            first_publication=publication,
            first_document=pk,
        )
    return facts


def title_and_copies(story_id: int) -> tuple[str, int]:
    """The headline of a story's first printing ("" for no such story), what a filter on the
    story is called on the page, and how many copies the story has, so that the page can say
    when a search finds only some of them."""
    copies = Document.objects.filter(story=story_id)
    first = _earliest_first(copies).values_list("title")[:1]
    return next(iter(first), ("",))[0], copies.count()


def facts_for_hits(hits: Iterable) -> dict[int, StoryFacts]:
    """Hit id -> the facts of its story. The index names the story of documents that have
    copies; one alone in its story is looked up by id."""
    hits = list(hits)
    story_of = {hit.id: hit.story for hit in hits if hit.story}
    alone = [hit.id for hit in hits if not hit.story]
    for start in range(0, len(alone), 500):
        rows = Document.objects.filter(pk__in=alone[start : start + 500], story__isnull=False)
        story_of.update(rows.values_list("pk", "story_id"))
    facts = facts_for(story_of.values())
    return {pk: facts[story] for pk, story in story_of.items() if story in facts}


def story_json(hit, facts: Mapping[int, StoryFacts]) -> dict[str, object]:
    """A result's ``story`` in the API and exports: ``{"id", "copies", "publications",
    "first_published"}`` (``facts`` by hit id, :func:`facts_for_hits`; a document not
    clustered yet is a story of one)."""
    found = facts.get(hit.id)
    if found is not None:
        return found.as_json()
    return {
        "id": hit.story,
        "copies": 1,
        "publications": 1,
        "first_published": hit.published.isoformat() if hit.published else None,
    }


def copies_of(document: Document) -> list[Document]:
    """The document's story, earliest printing first (the document itself included)."""
    if document.story_id is None:
        return [document]
    return list(
        _earliest_first(Document.objects.filter(story_id=document.story_id)).select_related(
            "publication"
        )
    )


@dataclass(frozen=True)
class Change:
    """One passage a copy changed: ``added``, ``removed``, or ``changed`` (an edited paragraph,
    whose ``parts`` say which words went and came: ("same" | "removed" | "added", text))."""

    kind: str
    text: str
    parts: tuple[tuple[str, str], ...] = ()


def _paragraphs(text: str) -> list[str]:
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip()]


# An edited paragraph is shown word by word when at least this much of it stayed.
EDITED_PARAGRAPH = 0.5
# How many new paragraphs an old one is compared with, from the first not yet paired: a copy
# adds or drops a few paragraphs, not dozens (and a document page must not wait on the pairs).
PAIRING_LOOKAHEAD = 8


def _edited(before: str, after: str) -> Change | None:
    old, new = before.split(), after.split()
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    if matcher.ratio() < EDITED_PARAGRAPH:
        return None
    parts: list[tuple[str, str]] = []
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "equal":
            parts.append(("same", " ".join(old[a0:a1])))
            continue
        if a1 > a0:
            parts.append(("removed", " ".join(old[a0:a1])))
        if b1 > b0:
            parts.append(("added", " ".join(new[b0:b1])))
    return Change("changed", after, tuple(parts))


def differences(original: str, copy: str) -> list[Change]:
    """The passages a copy added to, removed from or edited in the original's text, paragraph
    by paragraph; an edited paragraph is shown word by word."""
    before, after = _paragraphs(original), _paragraphs(copy)
    changes: list[Change] = []
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "equal":
            continue
        changes += _paired(before[a0:a1], after[b0:b1])
    return changes


def _paired(olds: list[str], news: list[str]) -> list[Change]:
    """A run of paragraphs that differ, in order: each old paragraph is an edit of the first
    new one (not yet taken) that keeps enough of it, the new ones skipped on the way were
    added, and an old one that no new one keeps was removed. A copy that changed a date in its
    lead and added a paragraph shows the lead "changed", word by word, not removed and added
    whole."""
    changes: list[Change] = []
    taken = 0
    for old in olds:
        words = old.split()
        for index in range(taken, min(len(news), taken + PAIRING_LOOKAHEAD)):
            # Cheap bounds first: most pairs in a long run differ at a glance.
            quick = difflib.SequenceMatcher(a=words, b=news[index].split(), autojunk=False)
            if (
                quick.real_quick_ratio() < EDITED_PARAGRAPH
                or quick.quick_ratio() < EDITED_PARAGRAPH
            ):
                continue
            edited = _edited(old, news[index])
            if edited is not None:
                changes += [Change("added", p) for p in news[taken:index]]
                changes.append(edited)
                taken = index + 1
                break
        else:
            changes.append(Change("removed", old))
    changes += [Change("added", p) for p in news[taken:]]
    return changes


@dataclass(frozen=True)
class DocumentCopies:
    """What a document page shows of its story: the other copies, and what this copy changed
    from the earliest printing (nothing when it is the earliest)."""

    others: list[Document]
    earliest: Document | None  # None when this document is the earliest
    changes: list[Change]


def document_copies(document: Document) -> DocumentCopies:
    story = copies_of(document)
    others = [doc for doc in story if doc.pk != document.pk]
    if not others or story[0].pk == document.pk:
        return DocumentCopies(others, None, [])
    return DocumentCopies(others, story[0], differences(story[0].body, document.body))


# --- Editors' decisions --------------------------------------------------------------------------


def split_off(documents: Sequence[Document]) -> Story:
    """Move these documents into a new story of their own, pinned there (and the copies they
    leave pinned where they are): no import or re-clustering undoes the split."""
    with transaction.atomic():
        story = Story.objects.create()
        ids = [doc.pk for doc in documents]
        left = set(
            Document.objects.filter(story__in={d.story_id for d in documents if d.story_id})
            .exclude(pk__in=ids)
            .values_list("pk", flat=True)
        )
        Document.objects.filter(pk__in=left).update(story_pinned=True)
        Document.objects.filter(pk__in=ids).update(story=story, story_pinned=True)
        Story.objects.filter(documents__isnull=True).delete()
        # The copies left behind too: one left alone is indexed as a story of its own.
        indexing.schedule([*ids, *left])
    return story


def join(stories: Sequence[Story]) -> Story:
    """Join these stories into the first (the oldest id), every document pinned in it."""
    ordered = sorted(stories, key=lambda s: s.pk)
    keep = ordered[0]
    with transaction.atomic():
        ids = list(Document.objects.filter(story__in=ordered).values_list("pk", flat=True))
        Document.objects.filter(pk__in=ids).update(story=keep, story_pinned=True)
        Story.objects.filter(pk__in=[s.pk for s in ordered[1:]]).delete()
        indexing.schedule(ids)
    return keep
