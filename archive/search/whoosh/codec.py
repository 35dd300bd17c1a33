"""Writing a segment's postings a whole term at a time, with the same bytes as Whoosh.

Whoosh's ``FieldWriter.add_postings`` takes the segment's postings one tuple at a time and, for
each, calls ``add`` and ``W3PostingsWriter.add_posting`` (type assertions, appends, running
statistics) and ``doc_field_length`` (a column lookup through three method calls); every 128
postings it writes a block. In a profile of a 30,000-document rebuild that per-posting Python was
about two thirds of the build processes' time finishing their segments, the rest being the pickling
and compression of the blocks. Our posting pool (``index._PostingPool``) already
holds each term's postings as one flat list, so :class:`GroupedFieldWriter` takes them a term at a
time: it slices the list into blocks and computes each block's and the term's statistics with
built-ins over whole lists. It writes exactly the bytes Whoosh's ``W3FieldWriter`` would
(``tests/test_indexing.py`` compares both), so an index does not depend on this module to be read.

:class:`GroupedCodec` is the codec the index's writers are given; the segments it creates name
Whoosh's own ``W3Codec`` (a segment pickles its codec into the index's table of contents).
"""

from __future__ import annotations

import contextlib
import itertools
import operator
import random
import zlib
from array import array
from collections.abc import Iterable, Iterator
from pathlib import Path
from pickle import dumps

import whoosh.util
from whoosh import index as whoosh_index
from whoosh.codec.base import OutOfOrderError
from whoosh.codec.whoosh3 import (
    WHOOSH3_HEADER_MAGIC,
    W3Codec,
    W3FieldWriter,
    W3Segment,
    W3TermInfo,
    _lenfield,
)
from whoosh.system import pack_int, pack_long, pack_ushort
from whoosh.util.numeric import length_to_byte

# A term's postings as the pool keeps them: field name, term bytes and a flat list
# [docnum, weight, value bytes, docnum, weight, value bytes, ...].
TermGroup = tuple[str, bytes, list]

_TERMINFO = W3TermInfo._struct


class TermGroups:
    """A segment's postings, term by term, as :meth:`_PostingPool.items` returns them.

    Iterating gives Whoosh's per-posting tuples ``(field, term, docnum, weight, value)``, which is
    what any Whoosh code that reads a pool expects (a multi-process merge, another codec);
    :class:`GroupedFieldWriter` takes :attr:`groups` instead. Only one of the two may be used:
    both consume the same iterator.
    """

    def __init__(self, groups: Iterable[TermGroup]) -> None:
        self.groups = groups

    def __iter__(self) -> Iterator[tuple]:
        for fieldname, tbytes, postings in self.groups:
            for docnum, weight, vbytes in zip(*in_document_order(postings), strict=True):
                yield fieldname, tbytes, docnum, weight, vbytes


def in_document_order(postings: list) -> tuple[list, list, list]:
    """A flat posting list's docnums, weights and values, sorted by docnum when they came out of
    order (a merge of older segments), as Whoosh's own pool would have sorted them."""
    docnums = postings[0::3]
    weights = postings[1::3]
    values = postings[2::3]
    if any(itertools.starmap(operator.gt, itertools.pairwise(docnums))):
        triples = sorted(zip(docnums, weights, values, strict=True), key=operator.itemgetter(0))
        docnums = [triple[0] for triple in triples]
        weights = [triple[1] for triple in triples]
        values = [triple[2] for triple in triples]
    return docnums, weights, values


class GroupedCodec(W3Codec):
    """Whoosh's ``W3Codec``, whose field writer takes a pool's postings a term at a time."""

    def field_writer(self, storage, segment):
        return GroupedFieldWriter(self, storage, segment)

    def new_segment(self, storage, indexname):
        # The segment keeps (and the TOC pickles) its codec: name Whoosh's own, so the index's
        # files are the same as without this class, and readable without it.
        plain = W3Codec(self._blocklimit, self._compression, self._inlinelimit)
        return W3Segment(plain, indexname)


class GroupedFieldWriter(W3FieldWriter):
    """``W3FieldWriter`` that writes a :class:`TermGroups` a term at a time.

    Anything else (a plain iterable of postings) goes through Whoosh's posting-by-posting path.
    """

    def add_postings(self, schema, lengths, items) -> None:
        codec = self._codec
        if not isinstance(items, TermGroups) or codec._inlinelimit > 1:
            # Inlining (postings kept in the term info) is off by default: not reproduced here.
            super().add_postings(schema, lengths, items)
            return
        lastfn = None
        lastterm = None
        pending: list[list] = []
        for fieldname, tbytes, postings in items.groups:
            if fieldname == lastfn and tbytes == lastterm:
                # The same term from another run (a pool that spilled to disk): one term.
                pending.append(postings)
                continue
            if pending:
                self._write_term(lastterm, pending)
                pending = []
            if fieldname != lastfn:
                if lastfn is not None:
                    if fieldname < lastfn:
                        raise OutOfOrderError(f"Field {lastfn!r} .. {fieldname!r}")
                    self.finish_field()
                self.start_field(fieldname, schema[fieldname])
                self._start_grouped_field(lengths, fieldname)
                lastfn = fieldname
            elif tbytes < lastterm:
                raise OutOfOrderError(f"Term {lastfn}:{lastterm!r} .. {fieldname}:{tbytes!r}")
            lastterm = tbytes
            pending.append(postings)
        if pending:
            self._write_term(lastterm, pending)
        if lastfn is not None:
            self.finish_field()

    def _start_grouped_field(self, lengths, fieldname: str) -> None:
        self._fieldkey = pack_ushort(self._fieldid)
        self._fixedsize = self._format.fixed_value_size()
        # Each document's length in this field, as ``doc_field_length`` gives it to Whoosh's path
        # (0 where there is none), looked up once per document instead of once per posting.
        self._doclengths = None
        if lengths is not None and lengths.has_column(_lenfield(fieldname)):
            dfl = lengths.doc_field_length
            self._doclengths = [
                dfl(docnum, fieldname) or 0 for docnum in range(lengths.doc_count_all())
            ]

    def _write_term(self, tbytes: bytes, parts: list[list]) -> None:
        """Write one term's postings (``parts``: its flat lists, in order) as Whoosh would:
        blocks of ``blocklimit`` postings in the posting file, then its row in the term table.

        The parts are joined and put in document order as a whole (Whoosh's pool sorts all of a
        term's postings), so this holds the largest term's postings once: at most a few tens of
        MB for a word in every document of a 500,000-document segment."""
        joined = parts[0] if len(parts) == 1 else [item for part in parts for item in part]
        docnums, weights, values = in_document_order(joined)
        while docnums and docnums[0] == -1:
            # Whoosh's spelling-word marker, which its path skips; no posting of this index has it.
            del docnums[0], weights[0], values[0]
        if not docnums:
            return

        codec = self._codec
        blocklimit = codec._blocklimit
        comp = codec._compression
        doclengths = self._doclengths
        fixedsize = self._fixedsize
        count = len(docnums)
        chunks = [WHOOSH3_HEADER_MAGIC]
        total_weight = 0
        max_weight = 0
        min_length = None
        max_length = 0
        for start in range(0, count, blocklimit):
            ids = docnums[start : start + blocklimit]
            raw_weights = weights[start : start + blocklimit]
            n = len(ids)

            # Statistics, as W3PostingsWriter.add_posting keeps them: the highest weight as
            # given (an int 0 when none is positive), lengths ignoring documents without one.
            block_max_weight = max(raw_weights)
            if not block_max_weight > 0:
                block_max_weight = 0
            if doclengths is None:
                block_min_length, block_max_length = None, 0
            else:
                block_lengths = [doclengths[docnum] for docnum in ids]
                block_max_length = max(block_lengths)
                block_min_length = min(block_lengths) or min(
                    filter(None, block_lengths), default=None
                )
            # The term's statistics, as W3TermInfo.add_block sums them: weights as stored
            # (single precision), summed block by block.
            packed_weights = array("f", raw_weights)
            total_weight += sum(packed_weights)
            if block_max_weight > max_weight:
                max_weight = block_max_weight
            if block_min_length is not None and (
                min_length is None or block_min_length < min_length
            ):
                min_length = block_min_length
            if block_max_length > max_length:
                max_length = block_max_length

            # The block's data as W3PostingsWriter._mini_ids/_mini_weights/_mini_values make it.
            deltas = tuple(map(operator.sub, ids, [0, *ids[:-1]]))
            first = packed_weights[0]
            if packed_weights.count(first) == n:
                mini_weights = None if first == 1.0 else first
            else:
                mini_weights = tuple(packed_weights)
            present = filter(None, values[start : start + blocklimit])
            if fixedsize is None or fixedsize < 0:
                mini_values = tuple(present)
            elif fixedsize == 0:
                mini_values = None
            else:
                mini_values = b"".join(present)
            databytes = dumps((deltas, mini_weights, mini_values), 2)
            if comp:
                databytes = zlib.compress(databytes, comp)
            infobytes = dumps(
                (
                    n,
                    ids[-1],
                    block_max_weight,
                    comp,
                    length_to_byte(block_min_length),
                    length_to_byte(block_max_length),
                ),
                2,
            )
            blocklength = len(infobytes) + len(databytes)
            if start + blocklimit >= count:
                blocklength = -blocklength  # the last block
            chunks += (pack_int(blocklength), infobytes, databytes)

        postfile = self._postfile
        offset = postfile.tell()
        data = b"".join(chunks)
        postfile.write(data)
        terminfo = _TERMINFO.pack(
            False,
            total_weight,
            count,
            length_to_byte(min_length),
            length_to_byte(max_length),
            max_weight,
            docnums[0],
            docnums[-1],
        )
        self._tindex.add(
            self._fieldkey + tbytes, terminfo + pack_long(offset) + pack_int(len(data))
        )


# --- Checking it against Whoosh's own writer (tests/test_indexing.py) --------------------------

# Whoosh's own codec, whose field writer takes postings one by one: what GroupedCodec must equal.
PlainCodec = W3Codec


@contextlib.contextmanager
def seeded_segment_names(seed: int) -> Iterator[None]:
    """Whoosh names segments at random; with the same seed two builds name theirs alike, so
    their files can be compared byte for byte."""
    previous = whoosh.util.random
    whoosh.util.random = random.Random(seed)
    try:
        yield
    finally:
        whoosh.util.random = previous


def index_contents(path: Path) -> dict:
    """Every term's term info (as stored) and postings (docnum, weight, value), per field, of
    the index in ``path``."""
    contents = {}
    with whoosh_index.open_dir(str(path)).reader() as reader:
        for segreader, base in reader.leaf_readers():
            for fieldname, text in segreader.all_terms():
                matcher = segreader.postings(fieldname, text)
                postings = []
                while matcher.is_active():
                    postings.append((base + matcher.id(), matcher.weight(), matcher.value()))
                    matcher.next()
                # Statistics and extent (to_bytes fails on a term info read back from disk).
                info = vars(segreader.term_info(fieldname, text))
                contents[fieldname, text] = (info, postings)
    return contents
