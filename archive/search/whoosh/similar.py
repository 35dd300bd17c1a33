"""“More like this”: the documents closest in content to one document.

Whoosh's key-terms approach: the document's words are weighed against the whole archive with the
Bo1 divergence-from-randomness model (``Searcher.key_terms_from_text``: frequent in this document,
rare in the collection), and the best few become one OR query, each word boosted by its weight.
Whoosh's own ``Searcher.more_like`` would run that query through its Python matchers, one posting
at a time, which is slow when a key word is common; here it is scored in numpy by
``scoring.Evaluation`` (BM25F, the same code as every search) and the top few are picked with
``argpartition``. The index has no term vectors, so the words come from the stored text; only the
first ``MAX_TEXT_CHARS`` are analysed, which bounds the cost for very long documents.
"""

from __future__ import annotations

import numpy as np
from whoosh import classify
from whoosh import query as wq

from archive.search import highlight
from archive.search.schema import from_stored
from archive.search.types import Hit
from archive.search.whoosh.counting import tables_for
from archive.search.whoosh.index import IndexUnavailable, borrowed_searcher, index_dir
from archive.search.whoosh.scoring import Evaluation

# How many key words describe a document; more is slower and rarely changes the top five.
KEY_TERMS = 20
# Only the start of a long document is analysed for its key words (the lead says what it is about).
MAX_TEXT_CHARS = 20_000
# Titles are short and telling: their key words weigh this much more than the body's.
TITLE_BOOST = 2.0
# A word in more than this share of the archive says little about a topic, and its long posting
# list is most of the cost of scoring (at 100k documents, ~10% of Bo1's key words are in over 5% of
# documents, and decoding them took ~75% of the time): the next best word is used instead. Small
# archives keep every word found in up to MIN_DOC_CAP documents.
MAX_DOC_SHARE = 0.05
MIN_DOC_CAP = 50


def _key_terms(searcher, fieldname: str, text: str, numterms: int) -> list[tuple[str, float]]:
    """The ``numterms`` words that best tell this text apart, with their weights.

    Bo1 ranks a word found in no other document (a figure such as "274.73m", a typo) at the top,
    yet it can match nothing: such words, words with digits (amounts, years, which say little
    about a topic) and very common words (``MAX_DOC_SHARE``) are passed over for the next best.
    """
    if not text.strip():
        return []
    candidates = searcher.key_terms_from_text(
        fieldname, text[:MAX_TEXT_CHARS], numterms=numterms * 3, model=classify.Bo1Model
    )
    reader = searcher.reader()
    max_docs = max(int(reader.doc_count_all() * MAX_DOC_SHARE), MIN_DOC_CAP)
    kept = [
        (word, weight)
        for word, weight in candidates
        if not any(ch.isdigit() for ch in word)
        and 1 < reader.doc_frequency(fieldname, word) <= max_docs
    ]
    return kept[:numterms]


def _query_for(searcher, title: str, body: str) -> wq.Query | None:
    terms = [
        wq.Term("body", word, boost=weight)
        for word, weight in _key_terms(searcher, "body", body, KEY_TERMS)
    ]
    terms += [
        wq.Term("title", word, boost=weight * TITLE_BOOST)
        for word, weight in _key_terms(searcher, "title", title, 5)
    ]
    return wq.Or(terms) if terms else None


def more_like_this(document_id: int, limit: int = 5) -> list[Hit]:
    """Up to ``limit`` documents most like ``document_id``, best first, never the document itself.

    Returns an empty list when the index is missing or unreadable, or does not hold the document:
    a document page must still show its text.
    """
    if limit < 1:
        return []
    try:
        with borrowed_searcher() as searcher:
            return _more_like_this(searcher, document_id, limit)
    except IndexUnavailable:
        return []


def _more_like_this(searcher, document_id: int, limit: int) -> list[Hit]:
    docnum = searcher.document_number(id=str(document_id))
    if docnum is None:
        return []
    source = from_stored(searcher.stored_fields(docnum))
    query = _query_for(searcher, source.title, source.body)
    if query is None:
        return []
    tables = tables_for(searcher, str(index_dir()))
    mask, scores = Evaluation(searcher, tables.size).evaluate(query)
    mask &= tables.live
    mask[docnum] = False
    candidates = np.flatnonzero(mask)
    if not len(candidates):
        return []
    candidate_scores = scores[candidates]
    if len(candidates) > limit:
        # Every candidate as good as the limit-th, so ties at the cut go by id too.
        threshold = np.partition(candidate_scores, len(candidate_scores) - limit)[
            len(candidate_scores) - limit
        ]
        keep = candidate_scores >= threshold
        candidates, candidate_scores = candidates[keep], candidate_scores[keep]
    order = np.lexsort((tables.ties(candidates), -candidate_scores))[:limit]
    hits = []
    for position in order:
        doc = from_stored(searcher.stored_fields(int(candidates[position])))
        if doc.id == document_id:  # an older copy not yet deleted from a segment
            continue
        hits.append(
            highlight.marked_hit(doc, float(candidate_scores[position]), {}, with_snippets=False)
        )
    return hits
