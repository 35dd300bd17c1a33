"""A parsed query as a tree of plain values, the same for every engine.

``query.py`` builds it from what a user typed; each backend turns it into its own form (the
embedded engine into Whoosh queries, ``whoosh/tree.py``; the cluster into SphinxQL's MATCH()
text, ``sphinxql/matching.py``) and highlighting reads its leaves. Words in a leaf are index
terms already (analysed as the field analyses its text), so no engine analyses them again.

The node names and attributes are those of Lucene-family query trees (and Whoosh's), which is
what a reader of a search engine's code expects: ``Term``, ``Phrase``, ``Prefix``, ``Wildcard``,
``FuzzyTerm``, ``TermRange``, ``And``, ``Or``, ``Not``, ``AndNot``, ``AndMaybe``, ``Every`` and
``NULL`` (matches nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace


class Node:
    """A query node. Leaves have a ``fieldname``; compound nodes have children."""

    boost: float = 1.0

    def is_leaf(self) -> bool:
        return True

    def children(self) -> tuple[Node, ...]:
        return ()

    def leaves(self) -> Iterator[Node]:
        if self.is_leaf():
            yield self
        for child in self.children():
            yield from child.leaves()

    def accept(self, visit: Callable[[Node], Node]) -> Node:
        """This tree with ``visit`` applied to every node, children first."""
        return visit(self)

    def with_boost(self, boost: float) -> Node:
        return replace(self, boost=boost)


@dataclass(frozen=True)
class _Word(Node):
    fieldname: str
    text: str
    boost: float = 1.0


@dataclass(frozen=True)
class Term(_Word):
    """Documents with this term in the field."""


@dataclass(frozen=True)
class Phrase(Node):
    fieldname: str
    words: tuple[str, ...]
    slop: int = 1  # 1: the words next to each other; n: at most n positions apart
    boost: float = 1.0


@dataclass(frozen=True)
class Prefix(_Word):
    """Documents with a term starting with ``text``."""


@dataclass(frozen=True)
class Wildcard(_Word):
    """Documents with a term matching ``text``: * any characters, ? one character."""


@dataclass(frozen=True)
class FuzzyTerm(Node):
    fieldname: str
    text: str
    boost: float = 1.0
    maxdist: int = 1
    prefixlength: int = 0


@dataclass(frozen=True)
class TermRange(Node):
    fieldname: str
    start: str | None
    end: str | None
    startexcl: bool = False
    endexcl: bool = False
    boost: float = 1.0


@dataclass(frozen=True)
class Every(Node):
    """Matches every document."""

    fieldname: None = None
    boost: float = 1.0


@dataclass(frozen=True)
class _Null(Node):
    """Matches nothing: a query whose words are all stop words."""

    fieldname: None = None
    boost: float = 1.0


NULL = _Null()


@dataclass(frozen=True)
class Not(Node):
    query: Node
    boost: float = 1.0

    def is_leaf(self) -> bool:
        return False

    def children(self) -> tuple[Node, ...]:
        return (self.query,)

    def accept(self, visit: Callable[[Node], Node]) -> Node:
        return visit(replace(self, query=self.query.accept(visit)))


@dataclass(frozen=True)
class _Binary(Node):
    a: Node
    b: Node
    boost: float = 1.0

    def is_leaf(self) -> bool:
        return False

    def children(self) -> tuple[Node, ...]:
        return (self.a, self.b)

    def accept(self, visit: Callable[[Node], Node]) -> Node:
        return visit(replace(self, a=self.a.accept(visit), b=self.b.accept(visit)))


@dataclass(frozen=True)
class AndNot(_Binary):
    """Documents matching ``a`` and not ``b``."""


@dataclass(frozen=True)
class AndMaybe(_Binary):
    """Documents matching ``a``; those that also match ``b`` score higher."""


@dataclass(frozen=True)
class _Compound(Node):
    subqueries: tuple[Node, ...]
    boost: float = 1.0

    def is_leaf(self) -> bool:
        return False

    def children(self) -> tuple[Node, ...]:
        return self.subqueries

    def accept(self, visit: Callable[[Node], Node]) -> Node:
        return visit(replace(self, subqueries=tuple(q.accept(visit) for q in self.subqueries)))


@dataclass(frozen=True)
class And(_Compound):
    pass


@dataclass(frozen=True)
class Or(_Compound):
    pass


def combine(kind: type[_Compound], nodes: list[Node], boost: float = 1.0) -> Node:
    """``kind`` (And or Or) of ``nodes``, simplified: children of the same kind merged into it,
    nodes that match nothing dropped, repeats dropped, one child standing for itself."""
    flat: list[Node] = []
    for node in nodes:
        if node is NULL:
            continue
        if type(node) is kind:
            flat.extend(child.with_boost(child.boost * node.boost) for child in node.subqueries)
        else:
            flat.append(node)
    unique = list(dict.fromkeys(flat))
    if not unique:
        return NULL
    if len(unique) == 1:
        only = unique[0]
        return only.with_boost(only.boost * boost) if boost != 1.0 else only
    return kind(tuple(unique), boost)


def positive_leaves(node: Node) -> Iterator[Node]:
    """The leaves of a query whose words a matching document holds: every leaf except those
    under NOT (``NOT word``, ``-word``, the second part of ``ANDNOT``). A phrase is one leaf."""
    if isinstance(node, Not):
        return
    if isinstance(node, AndNot):
        yield from positive_leaves(node.a)
    elif node.is_leaf():
        yield node
    else:
        for child in node.children():
            yield from positive_leaves(child)
