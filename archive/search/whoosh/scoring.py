"""Where a parsed query is matched and scored: in numpy, block by block, instead of document by
document through Whoosh's matchers.

Whoosh walks postings one document at a time in Python, which is fine for a rare word and slow
for a word in most of the archive (about 130 ms to list 90,000 matches, and as long again to rank
them). Here each term's postings are decoded a block (up to 128 documents) at a time into numpy
arrays, cached per segment (segments never change once written), and the query tree is evaluated
with array operations: AND/OR/NOT become boolean masks, and BM25F scores are added up as arrays.
The formula is Whoosh's own ``BM25F`` (B=0.75, K1=1.2, ``idf = log(N / (df + 1)) + 1``, field
lengths as Whoosh stores them), so rankings match Whoosh's for the same query.

Exact phrases are matched here too, from the words' positions decoded into sorted arrays of
``document << 32 | position`` keys: a document matches when word *i* occurs at position *p + i*
for every word. The rarest word's keys (shifted to the phrase start) are looked up in each other
word's keys with a binary search, so a phrase costs about as much as its rarest word. Phrases
are scored as the sum of their words' scores. Query types without an array form here (proximity
phrases, ranges) are matched by Whoosh.
"""

from __future__ import annotations

import bisect
import fnmatch
import itertools
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from math import log
from pickle import loads
from typing import TYPE_CHECKING

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein
from whoosh import query as wq
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.util.numeric import byte_to_length

from archive.search.query import term_text
from archive.search.schema import EXACT_FIELDS, TEXT_FIELDS, values_named
from archive.search.whoosh.tree import to_whoosh

if TYPE_CHECKING:
    from archive.search.whoosh.counting import FacetTables

B = 0.75
K1 = 1.2
# The fields whose matches score (text and its exact twin); a value's match scores 0.
SCORED_FIELDS = frozenset((*TEXT_FIELDS, *EXACT_FIELDS.values()))


def idf_of(doc_count: int, doc_frequency: int) -> float:
    """Whoosh's BM25F inverse document frequency."""
    return log(doc_count / (doc_frequency + 1)) + 1


CACHE_BYTES = 64 * 1024 * 1024  # decoded postings kept between searches, per process

# Whoosh stores a field's length per document as one byte; this table decodes all 256 at once.
_LENGTH_OF_BYTE = np.array([byte_to_length(b) for b in range(256)], dtype=np.float32)


@dataclass(frozen=True)
class Postings:
    docs: np.ndarray  # segment-local document numbers, ascending
    weights: np.ndarray  # term frequency in each


class ByteLRU:
    """A byte-bounded least-recently-used cache shared by all threads."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self.items: OrderedDict = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            value = self.items.get(key)
            if value is not None:
                self.items.move_to_end(key)
            return value

    def put(self, key, value, size: int) -> None:
        with self.lock:
            if key in self.items:
                return
            self.items[key] = (value, size)
            self.bytes += size
            while self.bytes > self.max_bytes and len(self.items) > 1:
                _, (_, old_size) = self.items.popitem(last=False)
                self.bytes -= old_size


_postings_cache = ByteLRU(CACHE_BYTES)
_lengths_cache = ByteLRU(CACHE_BYTES // 4)


def _leaf_matcher(matcher):
    # Segments with deletions wrap the postings in a filter; deletions are masked later anyway.
    while not hasattr(matcher, "_read_ids") and hasattr(matcher, "child"):
        matcher = matcher.child
    return matcher if hasattr(matcher, "_read_ids") else None


def segment_postings(segreader, fieldname: str, text: bytes | str) -> Postings:
    key = (segreader.segment().segment_id(), fieldname, text)
    cached = _postings_cache.get(key)
    if cached is not None:
        return cached[0]
    if (fieldname, text) not in segreader:
        result = Postings(np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32))
    else:
        matcher = segreader.postings(fieldname, text)
        leaf = _leaf_matcher(matcher)
        if leaf is None:  # not the Whoosh 3 codec: the slow, general way
            docs = np.fromiter(matcher.all_ids(), dtype=np.int32)
            result = Postings(docs, np.ones(len(docs), dtype=np.float32))
        else:
            result = _read_blocks(leaf)
    _postings_cache.put(key, result, result.docs.nbytes + result.weights.nbytes + 200)
    return result


def _read_blocks(leaf) -> Postings:
    """Decode every block of a Whoosh 3 posting list (private layout; Whoosh 2.7.4 is frozen)."""
    doc_parts, weight_parts = [], []
    while True:
        if leaf._data is None:
            leaf._read_data()
        ids, weights = leaf._data[0], leaf._data[1]
        count = leaf._blocklength
        if leaf._byteids:
            doc_parts.append(np.asarray(ids, dtype=np.int32))
        else:
            doc_parts.append(np.cumsum(np.asarray(ids, dtype=np.int64)).astype(np.int32))
        if weights is None:
            weight_parts.append(np.ones(count, dtype=np.float32))
        elif isinstance(weights, float):
            weight_parts.append(np.full(count, weights, dtype=np.float32))
        else:
            weight_parts.append(np.asarray(weights, dtype=np.float32))
        if leaf._lastblock:
            break
        leaf._next_block()
    return Postings(np.concatenate(doc_parts), np.concatenate(weight_parts))


@dataclass(frozen=True)
class Positions:
    # One key per occurrence: segment-local document number << 32 | position; ascending.
    keys: np.ndarray


def segment_positions(segreader, fieldname: str, text: bytes | str) -> Positions | None:
    """Every occurrence of a word in one segment, or None where the field keeps no positions."""
    key = (segreader.segment().segment_id(), fieldname, text, "positions")
    cached = _postings_cache.get(key)
    if cached is not None:
        return cached[0]
    field = segreader.schema[fieldname]
    if not field.format.supports("positions"):
        return None
    if (fieldname, text) not in segreader:
        result = Positions(np.zeros(0, dtype=np.int64))
    else:
        leaf = _leaf_matcher(segreader.postings(fieldname, text))
        if leaf is None:
            return None
        result = _read_positions(leaf)
    _postings_cache.put(key, result, result.keys.nbytes + 200)
    return result


def _read_positions(leaf) -> Positions:
    """Decode the positions of a Whoosh 3 posting list: each posting's value is a 4-byte count
    followed by the pickled list of position deltas (``whoosh.formats.Positions.encode``)."""
    parts = []
    while True:
        if leaf._data is None:
            leaf._read_data()
        if leaf._values is None:
            leaf._read_values()
        ids = leaf._data[0]
        docs = (
            np.asarray(ids, dtype=np.int32)
            if leaf._byteids
            else np.cumsum(np.asarray(ids, dtype=np.int64)).astype(np.int32)
        )
        deltas = [loads(value[4:]) for value in leaf._values]
        counts = np.fromiter((len(d) for d in deltas), dtype=np.int64, count=len(deltas))
        flat = np.fromiter(
            (delta for ds in deltas for delta in ds), dtype=np.int64, count=int(counts.sum())
        )
        # Deltas restart in every document: a cumulative sum, minus each document's offset.
        total = np.cumsum(flat)
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        before = np.where(starts > 0, total[np.maximum(starts - 1, 0)], 0)
        positions = total - np.repeat(before, counts)
        parts.append((np.repeat(docs.astype(np.int64), counts) << 32) | positions)
        if leaf._lastblock:
            break
        leaf._next_block()
    return Positions(np.concatenate(parts))


_terms_cache = ByteLRU(CACHE_BYTES // 4)


def segment_terms(segreader, fieldname: str) -> list[str]:
    """Every term of a segment's field, read once per segment (segments never change)."""
    segment = segreader.segment()
    if segment is None or fieldname not in segreader.indexed_field_names():
        return []
    key = (segment.segment_id(), fieldname, "terms")
    cached = _terms_cache.get(key)
    if cached is not None:
        return cached[0]
    terms = [
        term.decode("utf-8") if isinstance(term, bytes) else term
        for term in segreader.lexicon(fieldname)
    ]
    _terms_cache.put(key, terms, sum(60 + len(term) for term in terms) + 1000)
    return terms


def fuzzy_terms(reader, fieldname: str, text: str, maxdist: int, prefix: int) -> list[str]:
    """The field's terms within ``maxdist`` edits (Levenshtein) of ``text`` that begin with
    its first ``prefix`` characters: what Whoosh's ``FuzzyTerm`` expands to. Whoosh walks the
    on-disk word list with an automaton, a file seek per step (1-2 s for "government~2" on
    4,000 articles); the cached word list compared in C++ (rapidfuzz) takes milliseconds."""
    start = text[:prefix]
    found: set[str] = set()
    for segreader, _ in reader.leaf_readers():
        terms = segment_terms(segreader, fieldname)
        found.update(
            choice
            for choice, _, _ in process.extract_iter(
                text, terms, scorer=Levenshtein.distance, score_cutoff=maxdist
            )
            if choice.startswith(start)
        )
    return sorted(found)


_WILDCARD_CHARS = "*?["  # where a pattern's literal beginning ends (Whoosh's SPECIAL_CHARS)


def wildcard_terms(reader, fieldname: str, pattern: str) -> list[str]:
    """The field's terms a glob pattern matches (``*``, ``?``, ``[...]``, as ``fnmatch``):
    what Whoosh's ``Wildcard`` expands to, read from the cached word lists, where Whoosh reads
    the on-disk word list (every word of it for a pattern that begins with a wildcard)."""
    matches = re.compile(fnmatch.translate(pattern)).match
    cut = min((pattern.index(c) for c in _WILDCARD_CHARS if c in pattern), default=len(pattern))
    start = pattern[:cut]
    found: set[str] = set()
    for segreader, _ in reader.leaf_readers():
        terms = segment_terms(segreader, fieldname)  # sorted, as the lexicon is
        first = bisect.bisect_left(terms, start)
        for term in itertools.islice(terms, first, None):
            if not term.startswith(start):
                break
            if matches(term):
                found.add(term)
    return sorted(found)


def segment_lengths(segreader, fieldname: str) -> np.ndarray:
    key = (segreader.segment().segment_id(), fieldname)
    cached = _lengths_cache.get(key)
    if cached is not None:
        return cached[0]
    size = segreader.doc_count_all()
    column = segreader._perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
    if column is None:
        lengths = np.ones(size, dtype=np.float32)
    else:
        raw = np.fromiter((column[i] for i in range(size)), dtype=np.uint8, count=size)
        lengths = _LENGTH_OF_BYTE[raw]
        lengths[raw == 0] = 1.0  # Whoosh's default when a document has no length
    _lengths_cache.put(key, lengths, lengths.nbytes)
    return lengths


class Evaluation:
    """Masks and scores of query nodes over one searcher's documents (global numbering).

    With the facet tables, `date:` ranges are read from the per-document day column, and
    `person:`, `organisation:`, `place:` and `publication:` accept any case and part of a name
    (`person:gupta`).
    """

    def __init__(self, searcher, size: int, tables: FacetTables | None = None) -> None:
        self.searcher = searcher
        self.tables = tables
        self.reader = searcher.reader()
        self.size = size
        # An empty index reads as one leaf with no segment: nothing to evaluate there (a
        # phrase on a new archive asked it for its segment's id).
        self.leaves = [
            (leaf, offset)
            for leaf, offset in self.reader.leaf_readers()
            if leaf.segment() is not None
        ]
        self.doc_count_all = self.reader.doc_count_all()

    # -- terms --

    def _term(self, fieldname: str, text, boost: float) -> tuple[np.ndarray, np.ndarray]:
        mask = np.zeros(self.size, dtype=bool)
        scores = np.zeros(self.size, dtype=np.float32)
        df = self.reader.doc_frequency(fieldname, text)
        if not df:
            return mask, scores
        idf = idf_of(self.doc_count_all, df)
        avgfl = self.searcher.avg_field_length(fieldname) or 1.0
        for segreader, offset in self.leaves:
            postings = segment_postings(segreader, fieldname, text)
            if not len(postings.docs):
                continue
            docs = postings.docs.astype(np.int64) + offset
            mask[docs] = True
            lengths = segment_lengths(segreader, fieldname)[postings.docs]
            tf = postings.weights
            scores[docs] = (
                boost * idf * (tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * lengths / avgfl))
            )
        return mask, scores

    # -- the tree --

    def evaluate(self, node) -> tuple[np.ndarray, np.ndarray]:
        """(mask, scores) of a query node (the shared tree's, or Whoosh's)."""
        node = to_whoosh(node)
        if self.tables is not None:
            if isinstance(node, wq.TermRange) and node.fieldname == "day":
                return self._days(node)
            if isinstance(node, wq.Term) and node.fieldname in self.tables.columns:
                return self._value(node.fieldname, term_text(node.text))
            if isinstance(node, wq.Prefix) and node.fieldname in self.tables.columns:
                return self._value(node.fieldname, term_text(node.text) + "*", pattern=True)
            if isinstance(node, wq.Wildcard) and node.fieldname in self.tables.columns:
                return self._value(node.fieldname, term_text(node.text), pattern=True)
        if isinstance(node, wq.Term):
            return self._term(node.fieldname, node.text, node.boost)
        if node is wq.NullQuery or isinstance(node, type(wq.NullQuery)):
            return np.zeros(self.size, dtype=bool), np.zeros(self.size, dtype=np.float32)
        if isinstance(node, wq.Every):
            return np.ones(self.size, dtype=bool), np.zeros(self.size, dtype=np.float32)
        if isinstance(node, wq.AndNot):
            mask, scores = self.evaluate(node.a)
            excluded, _ = self.evaluate(node.b)
            return mask & ~excluded, scores
        if isinstance(node, wq.AndMaybe):
            mask, scores = self.evaluate(node.a)
            _, extra = self.evaluate(node.b)
            return mask, scores + extra
        if isinstance(node, wq.Not):
            inner, _ = self.evaluate(node.query)
            return ~inner, np.zeros(self.size, dtype=np.float32)
        if isinstance(node, wq.And):
            return self._combine(node.subqueries, np.logical_and, node.boost)
        if isinstance(node, wq.Or) and not getattr(node, "minmatch", 0):
            return self._combine(node.subqueries, np.logical_or, node.boost)
        if isinstance(node, wq.Phrase) and node.slop == 1:
            phrase = self._phrase(node)
            if phrase is not None:
                return phrase
        if isinstance(node, wq.FuzzyTerm):
            words = fuzzy_terms(
                self.reader, node.fieldname, node.text, node.maxdist, node.prefixlength
            )
            return self._union(((node.fieldname, word) for word in words), node.boost)
        if isinstance(node, wq.Wildcard):
            words = wildcard_terms(self.reader, node.fieldname, node.text)
            return self._union(((node.fieldname, word) for word in words), node.boost)
        if isinstance(node, wq.MultiTerm):
            # A prefix: the union of the words it expands to, scored as such.
            return self._union(node.expanded_terms(self.reader), node.boost)
        return self._fallback(node)

    def _union(self, terms, boost: float) -> tuple[np.ndarray, np.ndarray]:
        """The documents of any of these (field, term) pairs, their scores added."""
        mask = np.zeros(self.size, dtype=bool)
        scores = np.zeros(self.size, dtype=np.float32)
        for fieldname, text in terms:
            term_mask, term_scores = self._term(fieldname, text, boost)
            mask |= term_mask
            scores += term_scores
        return mask, scores

    def _days(self, node: wq.TermRange) -> tuple[np.ndarray, np.ndarray]:
        day_key = self.tables.day_key
        mask = day_key > 0
        if node.start:
            mask &= day_key >= int(node.start)
        if node.end:
            mask &= day_key <= int(node.end)
        return mask, np.zeros(self.size, dtype=np.float32)

    def _value(
        self, fieldname: str, text: str, pattern: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """A person (organisation, place, publication): the exact value if there is one, else
        every value containing the query's words, in any case ("gupta" -> "Madhukar Gupta"),
        a wildcard's words too ("bl*"): :func:`~archive.search.schema.values_named`."""
        column = self.tables.columns[fieldname]
        wanted = [text] if text in column.ordinal else values_named(column.values, text, pattern)
        return column.has_any(wanted, self.size), np.zeros(self.size, dtype=np.float32)

    def _combine(self, children, operator, boost: float):
        parts = [self.evaluate(child) for child in children]
        if not parts:
            return np.zeros(self.size, dtype=bool), np.zeros(self.size, dtype=np.float32)
        mask = parts[0][0].copy()
        scores = parts[0][1].copy()
        for child_mask, child_scores in parts[1:]:
            operator(mask, child_mask, out=mask)
            scores += child_scores
        if boost != 1.0:
            scores *= boost
        return mask, np.where(mask, scores, np.float32(0))

    def _phrase(self, node: wq.Phrase) -> tuple[np.ndarray, np.ndarray] | None:
        """An exact phrase from positions: starts where word i is found at start + i for all i."""
        words = list(node.words)
        if not words:
            return None
        mask = np.zeros(self.size, dtype=bool)
        for segreader, offset in self.leaves:
            keys = []
            for word in words:
                occurrences = segment_positions(segreader, node.fieldname, word)
                if occurrences is None:
                    return None
                keys.append(occurrences.keys)
            if any(not len(k) for k in keys):
                continue
            rarest = min(range(len(keys)), key=lambda i: len(keys[i]))
            starts = keys[rarest] - rarest
            for i, word_keys in enumerate(keys):
                if i == rarest or not len(starts):
                    continue
                wanted = starts + i
                found = np.searchsorted(word_keys, wanted)
                hit = found < len(word_keys)
                hit[hit] = word_keys[found[hit]] == wanted[hit]
                starts = starts[hit]
            if len(starts):
                mask[np.unique(starts >> 32) + offset] = True
        scores = np.zeros(self.size, dtype=np.float32)
        for word in dict.fromkeys(words):
            scores += self._term(node.fieldname, word, node.boost)[1]
        return mask, np.where(mask, scores, np.float32(0))

    def _whoosh_mask(self, node) -> np.ndarray:
        node = to_whoosh(node)
        mask = np.zeros(self.size, dtype=bool)
        docs = np.fromiter(self.searcher.docs_for_query(node), dtype=np.int64)
        mask[docs] = True
        return mask

    def _fallback(self, node):
        """Phrases and anything else: Whoosh decides what matches, restricted first to documents
        that have all the node's words; the score is the sum of the words' scores."""
        words = [t for t in node.terms() if t[0] in SCORED_FIELDS] if node.has_terms() else []
        scores = np.zeros(self.size, dtype=np.float32)
        for fieldname, text in dict.fromkeys(words):
            scores += self._term(fieldname, text, node.boost)[1]
        return self._whoosh_mask(node), scores
