"""The shared query tree (``archive/search/querytree.py``) as Whoosh query objects, which the
embedded engine's matcher (``scoring.py``) and Whoosh's own matching take."""

from __future__ import annotations

from whoosh import query as wq

from archive.search import querytree as qt


def to_whoosh(node: qt.Node | wq.Query) -> wq.Query:
    """The Whoosh query for a tree node (a Whoosh query is returned as it is)."""
    if isinstance(node, wq.Query):
        return node
    boost = node.boost
    match node:
        case qt.Term():
            return wq.Term(node.fieldname, node.text, boost=boost)
        case qt.Phrase():
            return wq.Phrase(node.fieldname, list(node.words), slop=node.slop, boost=boost)
        case qt.Prefix():
            return wq.Prefix(node.fieldname, node.text, boost=boost)
        case qt.Wildcard():
            return wq.Wildcard(node.fieldname, node.text, boost=boost)
        case qt.FuzzyTerm():
            return wq.FuzzyTerm(
                node.fieldname,
                node.text,
                boost=boost,
                maxdist=node.maxdist,
                prefixlength=node.prefixlength,
            )
        case qt.TermRange():
            return wq.TermRange(
                node.fieldname,
                node.start,
                node.end,
                node.startexcl,
                node.endexcl,
                boost=boost,
                constantscore=True,
            )
        case qt.Every():
            return wq.Every(boost=boost)
        case qt.Not():
            return wq.Not(to_whoosh(node.query), boost=boost)
        case qt.AndNot():
            return wq.AndNot(to_whoosh(node.a), to_whoosh(node.b))
        case qt.AndMaybe():
            return wq.AndMaybe(to_whoosh(node.a), to_whoosh(node.b))
        case qt.And():
            return wq.And([to_whoosh(q) for q in node.subqueries], boost=boost)
        case qt.Or():
            return wq.Or([to_whoosh(q) for q in node.subqueries], boost=boost)
    if node is qt.NULL:
        return wq.NullQuery
    raise TypeError(f"not a query node: {node!r}")
