"""Where names are extracted: one pass of spaCy's small English model per document gives every
person, organisation and place it mentions, as :class:`NameMention` evidence.

A mention is what one document says about one name: the model's label (PERSON, ORG, GPE, LOC,
and the labels that say "not an entity we facet": PRODUCT, WORK_OF_ART, EVENT, FAC, LAW, NORP),
how often, and whether a title came with it ("Mr Blair"). Persons go through the per-document
rules of :mod:`archive.ingest.persons` (cleaning, widening, joining "Gupta" to "Madhukar Gupta");
organisations and places are cleaned of articles and possessives. Which mentions become facet
values is decided with the whole archive's evidence in :mod:`archive.ingest.resolution`.

The model runs in ``workers`` processes, each of which also turns its documents into mentions,
so only small tuples cross between processes (a spaCy ``Doc`` is expensive to send back).
"""

from __future__ import annotations

import multiprocessing
import re
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from archive.ingest import persons

T = TypeVar("T")

PERSON = "PERSON"
ORGANISATION_LABELS = frozenset({"ORG"})
PLACE_LABELS = frozenset({"GPE", "LOC"})
# Labels kept only as evidence against the other kinds ("Vauxhall Corsa" is a PRODUCT elsewhere).
OTHER_LABELS = frozenset({"PRODUCT", "WORK_OF_ART", "EVENT", "FAC", "LAW", "NORP", "LANGUAGE"})
# Capitalised dates ("February", "Christmas") are evidence too: the model sometimes calls them
# persons. Lowercase and numeric ones ("last week", "2004") are not kept.
DATE_LABELS = frozenset({"DATE", "TIME"})
KEPT_LABELS = ORGANISATION_LABELS | PLACE_LABELS | OTHER_LABELS | DATE_LABELS
# Documents handed to a worker at a time; spaCy batches within them.
CHUNK = 64

_LEADING_ARTICLE = re.compile(r"^(?:the|a|an)\s+", re.IGNORECASE)
# Lowercase words that belong inside organisation and place names ("Bank of England").
_INNER_WORDS = frozenset("of and for the de du la le del von van y on in at & und et".split())
# A wire dateline: "NEW YORK, March 3 -", "LONDON (Reuters) -", "SURFERS PARADISE, Australia,".
_DATELINE_PLACE = re.compile(r"\A\s*([A-Z][A-Z.'-]+(?: [A-Z][A-Z.'-]+){0,3})(?:,| \()")
_EDGE = re.compile(r"^[^\w(]+|[^\w.)&+!]+$")
_POSSESSIVE = re.compile(r"(?:['\u2019]s|['\u2019])$")
MAX_NAME = 120


@dataclass(frozen=True)
class NameMention:
    name: str
    label: str
    count: int = 1
    titled: bool = False


def clean_entity(text: str) -> str:
    """An organisation or place span as a value: "the European Union's" -> "European Union".

    A span ends at a bracket or a spaced dash ("Fabien Pelous (Stade Toulousain", "World Social
    Forum - the") and loses trailing lowercase words the model ran on into ("U.S. raids").
    """
    text = " ".join(text.split())
    text = re.split(r"\s*\(|\s[-\u2013\u2014]\s", text, maxsplit=1)[0]
    text = _LEADING_ARTICLE.sub("", text)
    words = text.split()
    while words and (words[-1][:1].islower() or words[-1].casefold() in _INNER_WORDS):
        words.pop()
    text = " ".join(words)
    text = _POSSESSIVE.sub("", text)
    text = _EDGE.sub("", text)
    return text.strip()


def dateline_place(text: str) -> str:
    """The place of a wire dateline at the start of a story ("NEW YORK, March 3 -" -> "New
    York"), which the model misses in capitals; "" without one."""
    for line in text.split("\n")[:3]:
        if not line.strip():
            continue
        match = _DATELINE_PLACE.match(line)
        if match and len(line) > len(match.group(1)) + 20:
            return " ".join(w.capitalize() if len(w) > 2 else w for w in match.group(1).split())
    return ""


def _usable(name: str) -> bool:
    return (
        bool(name)
        and len(name) <= MAX_NAME
        and any(c.isalpha() for c in name)
        and (name[0].isupper() or name[0].isdigit())
        and not name.isdigit()
    )


def document_mentions(doc, title: str | None = None) -> list[NameMention]:
    """Every name one spaCy ``Doc`` mentions, with its label and count."""
    found, not_person_words, titled = persons.mentions(doc)
    result = [
        NameMention(name, PERSON, count, name in titled)
        for name, count in persons.document_persons(found, not_person_words, doc.text, title)
    ]
    person_names = {m.name for m in result}
    # Words the text also uses in lowercase are common words ("State", "Home", "Education").
    lowercase = {t.text for t in doc if t.is_alpha and t.text.islower()}
    counts: dict[tuple[str, str], int] = {}
    for ent in doc.ents:
        if ent.label_ not in KEPT_LABELS:
            continue
        name = clean_entity(ent.text)
        if not _usable(name) or name in person_names:
            continue
        if ent.label_ in DATE_LABELS and not (name[0].isupper() and name.isalpha()):
            continue
        if " " not in name and name.lower() in lowercase and not name.isupper():
            continue
        if _part_of_a_person(name, person_names):
            continue  # "Robson" tagged ORG beside "Bobby Robson": the person, named again
        key = (name, ent.label_)
        counts[key] = counts.get(key, 0) + 1
    place = dateline_place(doc.text)
    if place:
        # The dateline's capitals ("MUMBAI") are the place, whatever label the model gave them.
        for key in [k for k in counts if k[0].casefold() == place.casefold()]:
            counts.pop(key)
        counts[(place, "GPE")] = 1
    result += [NameMention(name, label, count) for (name, label), count in counts.items()]
    return result


def _part_of_a_person(name: str, person_names: set[str]) -> bool:
    """Whether ``name`` is a person's name of the same text, or its last words."""
    words = name.casefold().split()
    return any(
        len(words) < len(full.split()) and full.casefold().split()[-len(words) :] == words
        for full in person_names
        if " " in full
    )


def _mentions_of(texts: Sequence[tuple[str, str | None]]) -> list[list[NameMention]]:
    docs = persons.nlp().pipe((text[: persons.MAX_CHARS] for text, _ in texts), batch_size=32)
    return [document_mentions(doc, title) for doc, (_, title) in zip(docs, texts, strict=True)]


def extract_stream(
    items: Iterable[tuple[str | None, str | None, T]], workers: int = 1, chunk: int = CHUNK
) -> Iterator[tuple[T, list[NameMention] | None]]:
    """(context, mentions) for each (text, title, context), in input order, as a stream.

    An item whose text is None needs no model (a record that gives its persons): it comes out
    with None, in its place, and an input of only such items never loads the model or starts a
    process. With ``workers`` > 1 the model runs in that many forked processes (it is loaded
    once, before forking, and shared); at most two chunks per worker are in flight, so memory
    stays flat however long the input.
    """
    pool: ProcessPoolExecutor | None = None
    # Chunks in input order: a future for the texts of each, or None when none needed the model.
    pending: deque[tuple[list, Future | None]] = deque()
    try:
        for batch in _chunks(items, chunk):
            texts = [(t, h) for t, h, _ in batch if t is not None]
            if not texts:
                pending.append((batch, None))
            elif workers <= 1:
                pending.append((batch, _done(_mentions_of(texts))))
            else:
                if pool is None:
                    persons.nlp()  # load before forking: the workers share it
                    context = multiprocessing.get_context("fork")
                    pool = ProcessPoolExecutor(workers, mp_context=context)
                pending.append((batch, pool.submit(_mentions_of, texts)))
            while pending and (
                pending[0][1] is None or pending[0][1].done() or len(pending) >= 2 * workers
            ):
                yield from _collect(*pending.popleft())
        while pending:
            yield from _collect(*pending.popleft())
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _done(result: list[list[NameMention]]) -> Future:
    future: Future = Future()
    future.set_result(result)
    return future


def _collect(
    batch: list, future: Future | None
) -> Iterator[tuple[object, list[NameMention] | None]]:
    found = iter(future.result() if future is not None else ())
    for text, _, context in batch:
        yield context, (None if text is None else next(found))


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
