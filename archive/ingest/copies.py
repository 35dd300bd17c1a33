"""Where a document joins a story: finding the copies of one article across the archive.

A wire story is reprinted by many papers, lightly edited, re-headlined, cut short or updated. Each
printing stays a document of its own; copies share a :class:`~archive.models.Story`, which search
results fold into one result.

How a document finds its copies, without comparing it with the whole archive:

1. its text (the body: a new headline must not hide a copy) becomes word shingles, runs of
   :data:`SHINGLE_WORDS` case-folded words;
2. the shingles become a MinHash signature (``datasketch``, :data:`NUM_PERM` values), stored in
   :class:`~archive.models.CopySignature` so re-clustering and rebuilds never recompute it;
3. the signature is cut into :data:`BANDS` bands of :data:`ROWS` values (locality-sensitive
   hashing); each band's key is stored in :class:`~archive.models.CopyBand`, and documents that
   share a key are the candidates;
4. a candidate is a copy when the signatures estimate that most of the shorter text's shingles
   are in the longer one (:func:`is_copy`: a cut copy or one with an update appended is still a
   copy, an article about the same event that shares a quotation is not);
5. the document joins the story of its closest copy, or starts a story of its own.

An editor's split or join pins documents (``Document.story_pinned``); they are never moved, and
new copies of them still join their story. ``manage.py cluster_copies`` (:func:`recluster`)
clusters a whole archive again from the stored signatures.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import re
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import parse_qsl, urlencode, urlsplit

import numpy as np
from datasketch import MinHash
from django.db import connection

from archive import indexing
from archive.chunks import chunked
from archive.models import CopyBand, CopySignature, Document, Story, content_hash, is_web_url

# The parameters below were chosen on the development half of bench/gold/copies.json
# (python bench/copies_eval.py); changing one makes every stored signature outdated.
SHINGLE_WORDS = 3
NUM_PERM = 128
BANDS, ROWS = 42, 3  # 126 of the 128 values; a pair with Jaccard 0.3 is a candidate 68 % of times
# A candidate is a copy when this share of the shorter text's shingles is in the longer one...
MIN_CONTAINMENT = 0.7
# ...and the texts are not too unequal (a one-line brief inside a long report is not a copy of it).
MIN_JACCARD = 0.15
# Short texts (headlines, one-line briefs) repeat by chance on other days ("Fed adds reserves"),
# and two sites' headlines for one event differ by a word or two: below this many shingles,
# copies must be nearly the same words, printed within MAX_DAYS_APART of each other.
SHORT_TEXT = 20
SHORT_MIN_CONTAINMENT = 0.9
MAX_DAYS_APART = 3
# Query parameters that track a reader, not an article (dropped from the page's address).
_TRACKING = re.compile(r"^(utm_.*|fbclid|gclid|ocid|cmpid|smid|ref|rss|taid|mc_.*|share)$", re.I)

# Stored with each signature: a signature made with other sizes is outdated, and
# `cluster_copies` (run by `init_archive`) computes it again.
PARAMETERS = f"w{SHINGLE_WORDS}p{NUM_PERM}b{BANDS}r{ROWS}"
BATCH = 500

_WORD = re.compile(r"\w+")
_PERMUTATIONS = MinHash(num_perm=NUM_PERM, seed=1).permutations


def _key(data: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little", signed=True)


def page_key(url: str) -> int:
    """The article page a source URL names, as a key (0: none): the same page whatever the
    scheme, a ``www.``/``m.``/``amp.`` host, an AMP or ``index.html`` path, a trailing slash or
    tracking parameters. Two printings of one page are one article, however re-headlined."""
    if not is_web_url(url):
        return 0
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    for prefix in ("www.", "m.", "amp.", "mobile."):
        host = host.removeprefix(prefix)
    path = re.sub(r"(/amp|\.amp|/index\.html?)$", "", parts.path.rstrip("/"), flags=re.I)
    query = sorted((k, v) for k, v in parse_qsl(parts.query) if not _TRACKING.match(k))
    if not host or (not path.strip("/") and not query):
        return 0  # a site's home page is not an article
    canonical = host + path.rstrip("/") + ("?" + urlencode(query) if query else "")
    return _key(b"page:" + canonical.encode("utf-8"))


def documents_from_page(url: str, limit: int = 20) -> list[int]:
    """The documents whose source is the article page ``url`` names, however the address is
    written (:func:`page_key`): a page's key is one of its documents' band keys, so this is one
    lookup of the bands' primary key."""
    key = page_key(url)
    if not key:
        return []
    ids = CopyBand.objects.filter(key=key).values_list("document_id", flat=True)[: limit * 2]
    documents = Document.objects.filter(pk__in=list(ids)).only("pk", "source_url")
    # A band key of a text could equal a page's key by chance: keep only the page's documents.
    return sorted(d.pk for d in documents if page_key(d.source_url) == key)[:limit]


@dataclass(frozen=True)
class Signature:
    """A text's MinHash values, how many distinct shingles it has, and its page's key."""

    hashvalues: np.ndarray  # uint32, NUM_PERM values
    shingles: int
    page: int = 0  # page_key of the source URL

    @cached_property
    def _keys(self) -> tuple[int, ...]:
        return tuple(self._compute_keys())

    def band_keys(self) -> tuple[int, ...]:
        """One signed 64-bit key per band (the band's number is part of the key), and one for
        the source page, so printings of one page are candidates whatever their texts."""
        return self._keys

    def _compute_keys(self) -> list[int]:
        raw = self.hashvalues.tobytes()
        width = ROWS * self.hashvalues.itemsize
        keys = [
            _key(bytes([band]) + raw[band * width : (band + 1) * width]) for band in range(BANDS)
        ]
        if self.page:
            keys.append(self.page)
        return keys


def shingle_hashes(text: str) -> list[int]:
    """The text's distinct shingles as stable 32-bit hashes (the same in every process).

    Each distinct shingle is hashed once: a wire story repeats its phrases, and an import
    hashes every text it saves, so this is the import's busiest line of copy detection."""
    words = _WORD.findall(text.casefold())
    if not words:
        return []
    if len(words) < SHINGLE_WORDS:
        return [zlib.crc32(" ".join(words).encode("utf-8"))]
    runs = zip(*(words[i:] for i in range(SHINGLE_WORDS)), strict=False)  # to the last run
    return list({zlib.crc32(shingle.encode("utf-8")) for shingle in set(map(" ".join, runs))})


# The MinHash of ``datasketch`` with its "affine32" scheme, computed here in one NumPy
# expression per text: building a MinHash object per text cost more than its arithmetic.
# ``tests/test_copies.py`` checks that the values are datasketch's, so stored signatures stay
# valid. Each 32-bit shingle hash is mixed by MurmurHash3's finalizer, then permuted by
# ``a * h + b`` (modulo 2**32) with datasketch's ``a`` and ``b`` for seed 1.
_A, _B = (np.asarray(values, dtype=np.uint32) for values in _PERMUTATIONS)
_EMPTY = np.full(NUM_PERM, np.iinfo(np.uint32).max, dtype=np.uint32)


def _mixed(hashes: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer (fmix32), element-wise, wrapping as uint32 does."""
    hashes = hashes ^ (hashes >> np.uint32(16))
    hashes = hashes * np.uint32(0x85EBCA6B)
    hashes = hashes ^ (hashes >> np.uint32(13))
    hashes = hashes * np.uint32(0xC2B2AE35)
    return hashes ^ (hashes >> np.uint32(16))


def minhash_values(hashes: Sequence[int]) -> np.ndarray:
    """The NUM_PERM MinHash values (uint32) of a set of 32-bit shingle hashes."""
    if not hashes:
        return _EMPTY.copy()
    mixed = _mixed(np.asarray(hashes, dtype=np.uint32))
    return (np.multiply.outer(mixed, _A) + _B).min(axis=0)


def signature(text: str, url: str = "") -> Signature:
    """The MinHash signature of a text's shingles (and the key of its source page)."""
    hashes = shingle_hashes(text)
    return Signature(minhash_values(hashes), len(hashes), page_key(url))


@dataclass(frozen=True)
class Similarity:
    jaccard: float
    containment: float  # the share of the shorter text's shingles found in the longer one


def similarities(one: Signature, others: np.ndarray, sizes: np.ndarray) -> list[Similarity]:
    """Estimated Jaccard and containment of ``one`` with each row of ``others``."""
    if len(others) == 0:
        return []
    jaccard = (others == one.hashvalues).mean(axis=1)
    shared = jaccard * (one.shingles + sizes) / (1 + jaccard)
    smaller = np.maximum(np.minimum(sizes, one.shingles), 1)
    containment = np.minimum(shared / smaller, 1.0)
    return [Similarity(float(j), float(c)) for j, c in zip(jaccard, containment, strict=True)]


@dataclass(frozen=True)
class Rule:
    """When two similar texts are printings of one article (the thresholds above; a benchmark
    sweeps them)."""

    min_containment: float = MIN_CONTAINMENT
    min_jaccard: float = MIN_JACCARD
    short_text: int = SHORT_TEXT
    short_min_containment: float = SHORT_MIN_CONTAINMENT
    max_days_apart: int = MAX_DAYS_APART

    def accepts(self, similarity: Similarity, shingles: int, days_apart: int | None) -> bool:
        """``shingles``: the shorter text's; ``days_apart``: None when either is undated."""
        if similarity.jaccard < self.min_jaccard:
            return False
        if similarity.containment < self.min_containment:
            return False
        if shingles >= self.short_text:
            return True
        far_apart = days_apart is not None and days_apart > self.max_days_apart
        return similarity.containment >= self.short_min_containment and not far_apart


RULE = Rule()


def is_copy(similarity: Similarity, shingles: int, days_apart: int | None) -> bool:
    """Whether two texts are printings of one article (``shingles``: the shorter one's)."""
    return RULE.accepts(similarity, shingles, days_apart)


def text_key(document: Document) -> str:
    """What a stored signature was computed from: the text's fingerprint, the source page and
    the parameters."""
    digest = document.content_hash or content_hash(document.body)
    return f"{digest}:{page_key(document.source_url):x}:{PARAMETERS}"


@dataclass
class _Member:
    """What deciding a document's story needs to know about another document."""

    id: int
    published: dt.date | None
    story_id: int | None
    signature: Signature


def _days_apart(a: dt.date | None, b: dt.date | None) -> int | None:
    return abs((a - b).days) if a is not None and b is not None else None


def closest_copy(
    doc: _Member,
    candidates: Sequence[_Member],
    rule: Rule = RULE,
    first_printed: Mapping[int, dt.date | None] | None = None,
) -> _Member | None:
    """The candidate most like ``doc`` among those that are copies of it and have a story.
    ``first_printed`` (story id -> its earliest date) keeps a short text from joining a story
    first printed long before through a chain of daily repeats ("Fed adds reserves")."""
    first_printed = first_printed or {}
    candidates = [c for c in candidates if c.story_id is not None and c.id != doc.id]
    if not candidates:
        return None
    matrix = np.stack([c.signature.hashvalues for c in candidates])
    sizes = np.array([c.signature.shingles for c in candidates], dtype=np.float64)
    best, best_key = None, None
    for candidate, similarity in zip(
        candidates, similarities(doc.signature, matrix, sizes), strict=True
    ):
        same_page = doc.signature.page != 0 and doc.signature.page == candidate.signature.page
        shorter = min(doc.signature.shingles, candidate.signature.shingles)
        days = _days_apart(doc.published, candidate.published)
        since_first = _days_apart(doc.published, first_printed.get(candidate.story_id))
        if since_first is not None:
            days = max(days or 0, since_first)
        if not same_page and not rule.accepts(similarity, shorter, days):
            continue
        key = (same_page, similarity.containment, similarity.jaccard, -candidate.id)
        if best_key is None or key > best_key:
            best, best_key = candidate, key
    return best


def _order(member: _Member) -> tuple:
    """Earliest printing first (undated last), then in the order documents came."""
    return (member.published is None, member.published or dt.date.min, member.id)


def _stored(shingles: int, hashvalues: bytes, source_url: str) -> Signature:
    return Signature(
        np.frombuffer(bytes(hashvalues), dtype=np.uint32), shingles, page_key(source_url)
    )


def store_signatures(documents: Sequence[Document]) -> dict[int, Signature]:
    """Compute, store and return the signatures (and band keys) of these saved documents.
    Rows go in with plain ``executemany`` (a batch writes some 40 band rows a document)."""
    signatures = {doc.pk: signature(doc.body, doc.source_url) for doc in documents}
    ids = list(signatures)
    stored = [
        pk
        for chunk in chunked(ids, 900)
        for pk in CopySignature.objects.filter(document_id__in=chunk).values_list(
            "document_id", flat=True
        )
    ]
    delete_bands(stored)
    for chunk in chunked(stored, 900):
        CopySignature.objects.filter(document_id__in=chunk).delete()
    indexing.insert_rows(
        CopySignature,
        ("document", "text_hash", "shingles", "hashvalues"),
        [
            (
                doc.pk,
                text_key(doc),
                signatures[doc.pk].shingles,
                signatures[doc.pk].hashvalues.tobytes(),
            )
            for doc in documents
        ],
    )
    # In key order: the rows land in the band table's B-tree page after page, not at random.
    indexing.insert_rows(
        CopyBand,
        ("key", "document_id"),
        sorted((key, pk) for pk, sig in signatures.items() for key in sig.band_keys()),
    )
    return signatures


def delete_bands(document_ids: Sequence[int]) -> None:
    """Delete these documents' band rows, by the keys of their stored signatures (the band
    table is keyed by band key, not by document). A signature made with other parameters has
    other keys: those documents' rows are found by scanning, which only a change of the
    parameters (then ``cluster_copies``) costs."""
    quote = connection.ops.quote_name
    table = quote(CopyBand._meta.db_table)
    key, document = (quote(CopyBand._meta.get_field(f).column) for f in ("key", "document_id"))
    rows, scan = [], []
    for chunk in chunked(document_ids, 900):
        stored = CopySignature.objects.filter(document_id__in=chunk).values_list(
            "document_id", "text_hash", "shingles", "hashvalues"
        )
        for pk, text_hash, shingles, hashvalues in stored:
            _digest, _, rest = text_hash.partition(":")
            page, _, parameters = rest.partition(":")
            if parameters != PARAMETERS:
                scan.append(pk)
                continue
            old = Signature(
                np.frombuffer(bytes(hashvalues), dtype=np.uint32), shingles, int(page, 16)
            )
            rows += [(band, pk) for band in old.band_keys()]
    with connection.cursor() as cursor:
        if rows:
            cursor.executemany(f"DELETE FROM {table} WHERE {key} = %s AND {document} = %s", rows)
        for chunk in chunked(scan, 900):
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(f"DELETE FROM {table} WHERE {document} IN ({marks})", list(chunk))


def _set_stories(story_of: dict[int, int]) -> None:
    """Set these documents' stories (document id -> story id) without signals."""
    if not story_of:
        return
    quote = connection.ops.quote_name
    table = quote(Document._meta.db_table)
    column = quote(Document._meta.get_field("story").column)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET {column} = %s WHERE {quote('id')} = %s",
            [(story, pk) for pk, story in story_of.items()],
        )


def _sharing_bands(keys: set[int], exclude: set[int]) -> dict[int, set[int]]:
    """key -> ids of other documents with that band key (plain SQL: a batch asks for some
    20,000 keys)."""
    found: dict[int, set[int]] = defaultdict(set)
    quote = connection.ops.quote_name
    table = quote(CopyBand._meta.db_table)
    key, document = (quote(CopyBand._meta.get_field(f).column) for f in ("key", "document_id"))
    with connection.cursor() as cursor:
        for chunk in chunked(sorted(keys), 900):
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f"SELECT {key}, {document} FROM {table} WHERE {key} IN ({marks})", list(chunk)
            )
            for band, pk in cursor.fetchall():
                if pk not in exclude:
                    found[band].add(pk)
    return found


def _members(ids: Iterable[int]) -> dict[int, _Member]:
    members = {}
    for chunk in chunked(sorted(ids), 900):
        rows = Document.objects.filter(pk__in=chunk, copy_signature__isnull=False).values_list(
            "pk",
            "published",
            "story_id",
            "copy_signature__shingles",
            "copy_signature__hashvalues",
            "source_url",
        )
        for pk, published, story_id, shingles, hashvalues, url in rows:
            members[pk] = _Member(pk, published, story_id, _stored(shingles, hashvalues, url))
    return members


def assign(documents: Sequence[Document]) -> list[int]:
    """Find the copies of these saved documents and put each in a story; returns the ids of
    those whose story changed (their index entries need rewriting). Call in a transaction."""
    documents = [doc for doc in documents if doc.pk is not None]
    if not documents:
        return []
    signatures = store_signatures(documents)
    batch = {
        doc.pk: _Member(doc.pk, doc.published, doc.story_id, signatures[doc.pk])
        for doc in documents
    }
    keys_of = {pk: set(sig.band_keys()) for pk, sig in signatures.items()}
    sharing = _sharing_bands(set().union(*keys_of.values()), exclude=set(batch))
    outside = _members({pk for ids in sharing.values() for pk in ids})
    by_key: dict[int, list[_Member]] = defaultdict(list)
    for key, ids in sharing.items():
        by_key[key].extend(outside[pk] for pk in ids if pk in outside)

    first_printed = _first_printed({m.story_id for m in outside.values() if m.story_id})
    pinned = {doc.pk for doc in documents if doc.story_pinned and doc.story_id is not None}
    previous = {doc.pk: doc.story_id for doc in documents}
    placeholders = itertools.count(-1, -1)  # new stories, numbered below zero until created

    def own_story(member: _Member) -> int:
        """A story of its own: the one it had if nobody else is in it."""
        had = previous[member.id]
        alone = had is not None and not (
            Document.objects.filter(story_id=had).exclude(pk=member.id).exists()
        )
        return had if alone else next(placeholders)

    place_each(batch.values(), by_key, first_printed, pinned, own_story)

    new = sorted({m.story_id for m in batch.values() if m.story_id < 0}, reverse=True)
    created = Story.objects.bulk_create([Story() for _ in new], batch_size=BATCH)
    real = dict(zip(new, (story.pk for story in created), strict=True))
    changed = []
    for doc in documents:
        story = real.get(batch[doc.pk].story_id, batch[doc.pk].story_id)
        if story != previous[doc.pk]:
            doc.story_id = story
            changed.append(doc)
    touched = {s for s in previous.values() if s} | {doc.story_id for doc in changed}
    before = _sizes(touched)
    _set_stories({doc.pk: doc.story_id for doc in changed})
    after = _sizes(touched | {doc.story_id for doc in documents})
    for doc in documents:  # what indexing.indexed_story reads, without asking again
        doc.story_shared = after.get(doc.story_id, 0) > 1
    _reindex_flipped(before, after, exclude={doc.pk for doc in documents})
    _delete_empty({story for story in previous.values() if story is not None})
    return [doc.pk for doc in changed]


def _sizes(story_ids: Iterable[int]) -> dict[int, int]:
    """How many documents each story has."""
    from django.db.models import Count

    sizes: dict[int, int] = {}
    for chunk in chunked(sorted(story_ids), 900):
        rows = Document.objects.filter(story__in=chunk).values("story").annotate(n=Count("pk"))
        sizes.update((row["story"], row["n"]) for row in rows)
    return sizes


def _reindex_flipped(
    before: Mapping[int, int], after: Mapping[int, int], exclude: set[int] = frozenset()
) -> None:
    """The index tells whether a document's story has copies
    (``indexing.indexed_story_shared``): rewrite the other members of stories that gained their
    first copy or lost their last."""
    flipped = [
        s for s in set(before) | set(after) if (before.get(s, 0) > 1) != (after.get(s, 0) > 1)
    ]
    if not flipped:
        return
    ids = [
        pk
        for chunk in chunked(flipped, 900)
        for pk in Document.objects.filter(story__in=chunk).values_list("pk", flat=True)
        if pk not in exclude
    ]
    indexing.schedule(ids)


def _first_printed(story_ids: Iterable[int]) -> dict[int, dt.date | None]:
    """Each story's earliest date (None when none of its documents is dated)."""
    from django.db.models import Min

    found: dict[int, dt.date | None] = {}
    for chunk in chunked(sorted(story_ids), 900):
        rows = (
            Document.objects.filter(story__in=chunk)
            .values("story")
            .annotate(first=Min("published"))
            .values_list("story", "first")
        )
        found.update(rows)
    return found


def _note_printing(first_printed: dict[int, dt.date | None], member: _Member) -> None:
    """Keep ``first_printed`` up to date as ``member`` joins its story."""
    earliest = first_printed.get(member.story_id)
    if member.published is not None and (earliest is None or member.published < earliest):
        first_printed[member.story_id] = member.published


def _delete_empty(story_ids: Iterable[int]) -> None:
    ids = list(story_ids)
    for chunk in chunked(ids, 900):
        Story.objects.filter(pk__in=chunk, documents__isnull=True).delete()


def document_saved(document: Document) -> None:
    """After a save that did not go through :func:`assign` (the admin, a fixture, an update by
    the import): find the document's copies again if its text changed since its signature."""
    if document.pk is None:
        return
    stored = (
        CopySignature.objects.filter(document_id=document.pk)
        .values_list("text_hash", flat=True)
        .first()
    )
    if stored != text_key(document):
        assign([document])


def _saved(sender, instance: Document, update_fields=None, **kwargs) -> None:
    if update_fields is not None and set(update_fields) <= {"story", "story_pinned"}:
        return
    document_saved(instance)


def _deleting(sender, instance: Document, **kwargs) -> None:
    delete_bands([instance.pk])  # while its signature, which names the keys, is still there


def _deleted(sender, instance: Document, **kwargs) -> None:
    """A deleted copy's story may be left empty (deleted) or with one document, which the
    index then shows as a story of its own."""
    if instance.story_id is None:
        return
    left = _sizes([instance.story_id]).get(instance.story_id, 0)
    if left == 0:
        Story.objects.filter(pk=instance.story_id).delete()
    elif left == 1:
        indexing.schedule(
            Document.objects.filter(story_id=instance.story_id).values_list("pk", flat=True)
        )


def connect_signals() -> None:
    """Every save of a document outside a bulk import finds its copies (bulk imports call
    :func:`assign` for a whole batch); a deletion tidies its story."""
    from django.db.models.signals import post_delete, post_save, pre_delete

    post_save.connect(_saved, sender=Document, dispatch_uid="archive.ingest.copies.saved")
    pre_delete.connect(_deleting, sender=Document, dispatch_uid="archive.ingest.copies.deleting")
    post_delete.connect(_deleted, sender=Document, dispatch_uid="archive.ingest.copies.deleted")


# --- Re-clustering a whole archive ------------------------------------------------------------


@dataclass
class ReclusterSummary:
    documents: int = 0
    signatures_computed: int = 0
    stories: int = 0
    moved: list[int] = field(default_factory=list)


def outdated_signatures() -> list[int]:
    """Documents without a signature for their current text and parameters."""
    current = dict(CopySignature.objects.values_list("document_id", "text_hash").iterator())
    return [
        pk
        for pk, digest, url in Document.objects.values_list(
            "pk", "content_hash", "source_url"
        ).iterator()
        if current.get(pk) != f"{digest}:{page_key(url):x}:{PARAMETERS}"
    ]


def load_members() -> tuple[list[_Member], set[int], dict[int, int | None]]:
    """Every document with a signature (its story unset unless pinned), the pinned ones, and
    each one's story as stored."""
    rows = Document.objects.filter(copy_signature__isnull=False).values_list(
        "pk",
        "published",
        "story_id",
        "story_pinned",
        "copy_signature__shingles",
        "copy_signature__hashvalues",
        "source_url",
    )
    members: list[_Member] = []
    pinned: set[int] = set()
    previous: dict[int, int | None] = {}
    for pk, published, story_id, is_pinned, shingles, hashvalues, url in rows.iterator(
        chunk_size=2000
    ):
        members.append(_Member(pk, published, None, _stored(shingles, hashvalues, url)))
        previous[pk] = story_id
        if is_pinned and story_id is not None:
            pinned.add(pk)
            members[-1].story_id = story_id
    return members, pinned, previous


def cluster(
    members: list[_Member],
    pinned: set[int],
    rule: Rule = RULE,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Give every member that is not pinned a story: its closest earlier copy's, or a new one
    (numbered below zero). Members go earliest printing first, so a story's first member is its
    first printing; the pinned ones keep theirs and are candidates from the start."""
    by_key: dict[int, list[_Member]] = defaultdict(list)
    first_printed: dict[int, dt.date | None] = {}
    for member in members:
        if member.id in pinned:
            for key in member.signature.band_keys():
                by_key[key].append(member)
            _note_printing(first_printed, member)
    placeholders = itertools.count(-1, -1)
    free = [member for member in members if member.id not in pinned]
    place_each(free, by_key, first_printed, set(), lambda _: next(placeholders), rule, progress)


def place_each(
    members: Iterable[_Member],
    by_key: dict[int, list[_Member]],
    first_printed: dict[int, dt.date | None],
    pinned: set[int],
    own_story: Callable[[_Member], int],
    rule: Rule = RULE,
    progress: Callable[[int], None] | None = None,
) -> None:
    """The one loop that places documents in stories, for an import's batch (:func:`assign`)
    and for a whole archive (:func:`cluster`). Earliest printing first, each member that is not
    pinned joins the story of its closest copy among the candidates that share a band key with
    it (``by_key``: the archive's, and the members placed before it), or ``own_story(member)``;
    then it is a candidate for the members after it."""
    for n, member in enumerate(sorted(members, key=_order), 1):
        keys = member.signature.band_keys()
        if member.id not in pinned:
            candidates = {c.id: c for key in keys for c in by_key[key]}
            best = closest_copy(member, list(candidates.values()), rule, first_printed)
            member.story_id = best.story_id if best is not None else own_story(member)
        _note_printing(first_printed, member)
        for key in keys:
            by_key[key].append(member)
        if progress and n % BATCH == 0:
            progress(n)


def recluster(progress: Callable[[int, int], None] | None = None) -> ReclusterSummary:
    """Cluster every document again from the stored signatures (computing the missing ones),
    keeping the pinned documents where editors put them. Story ids are kept where a story keeps
    its earliest printing. Documents whose story changed are listed in ``moved``; those whose
    index entry changes (its story, or whether the story has copies) are rewritten through the
    outbox."""
    from django.db import transaction

    summary = ReclusterSummary()
    stale = outdated_signatures()
    total = Document.objects.count()
    steps = len(stale) + total
    done = 0
    for chunk in chunked(stale, BATCH):
        with transaction.atomic():
            store_signatures(list(Document.objects.filter(pk__in=chunk)))
        done += len(chunk)
        summary.signatures_computed += len(chunk)
        if progress:
            progress(done, steps)

    members, pinned, previous = load_members()
    summary.documents = len(members)

    def step(n: int) -> None:
        if progress:
            progress(done + n, steps)

    cluster(members, pinned, progress=step)

    # Real story ids: a new cluster keeps the previous story of its earliest member when no
    # other cluster has claimed it.
    clusters: dict[int, list[_Member]] = defaultdict(list)
    for member in sorted(members, key=_order):
        clusters[member.story_id].append(member)
    claimed = {story for story in clusters if story > 0}
    real: dict[int, int] = {}
    for story, group in clusters.items():
        if story > 0:
            continue
        reuse = previous[group[0].id]
        if reuse is not None and reuse not in claimed:
            real[story] = reuse
            claimed.add(reuse)
    missing = [story for story in clusters if story < 0 and story not in real]
    created = Story.objects.bulk_create([Story() for _ in missing], batch_size=BATCH)
    real.update(zip(missing, (s.pk for s in created), strict=True))
    summary.stories = len(clusters)

    moved: dict[int, list[int]] = defaultdict(list)
    final = {m.id: real.get(m.story_id, m.story_id) for m in members}
    before_sizes = Counter(s for s in previous.values() if s)
    after_sizes = Counter(final.values())
    reindex: list[int] = []  # documents whose index entry names another story (or none)
    for member in members:
        was, now = previous[member.id], final[member.id]
        if now != was:
            moved[now].append(member.id)
            summary.moved.append(member.id)
        shared_before = was is not None and before_sizes[was] > 1
        if was != now or shared_before != (after_sizes[now] > 1):
            reindex.append(member.id)
    from archive import indexing

    with transaction.atomic():
        for story, ids in moved.items():
            for chunk in chunked(ids, 900):
                Document.objects.filter(pk__in=chunk).update(story_id=story)
        Story.objects.filter(documents__isnull=True).delete()
        indexing.schedule(reindex)  # applied once this commits
    if progress:
        progress(steps, steps)
    return summary
