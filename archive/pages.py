"""What the document and entity pages show: their context, built from the search layer's public
API and the database. The views in :mod:`archive.views` only find the object and answer."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from django.db.models import Model
from django.utils import timezone
from django.utils.text import slugify

from archive import exports, presentation, search, stories
from archive.answers import error_status
from archive.ingest import copies
from archive.ingest.text import fold_name
from archive.models import ENTITY_MODELS, Document, numbered_slugs
from archive.params import with_pairs

ENTITY_LATEST = 10
ENTITY_COMENTIONS = 15  # of each kind
NAMED_QUERY_MAX_WORDS = 6
NAMED_QUERY_MAX_CHARS = 200  # no longer than a name can be
# Query language that makes a query more than a name: fields, wildcards, phrases, operators.
_NOT_JUST_A_NAME = re.compile(r'[:*?()"\[\]{}^~+]|\b(?:AND|OR|NOT)\b|^-|\s-')


@dataclass(frozen=True)
class NamedInQuery:
    """A person, organisation or place whose name, or one of its other spellings, is the whole
    query: the search page offers its documents and its page. A search for "Ajmal Kasab" finds
    the words; the person the archive calls "Azmal Kasab" is mentioned in documents that spell
    him either way."""

    kind: str
    name: str
    written: str  # the other spelling the query matched ("" when it matched the name)
    filter_url: str  # the documents that mention it, the filters of other kinds kept
    page_url: str

    @property
    def described(self) -> str:
        return {"organisation": "an organisation"}.get(self.kind, f"a {self.kind}")


def entity_context(entity: Model, kind: str) -> tuple[dict[str, object], int]:
    """A person's, organisation's or place's page and its status: how many documents mention
    it, when (stated dates only), what with, and the latest of them (those with inferred dates
    after the stated ones); 503 with a message when the index cannot answer."""
    # Links from this page open the search page filtered by the entity (default order).
    links_from = search.SearchRequest(filters={kind: (entity.name,)})
    # The page counts documents, as it says ("mentioned in 160 documents", "64 documents" with
    # Michael Howard); its links keep the search page's defaults.
    counting = replace(links_from, counts="documents")
    context: dict[str, object] = {"entity": entity, "aliases": list(entity.aliases.all())}
    try:
        response = search.search(
            replace(
                counting,
                sort="newest",
                page_size=ENTITY_LATEST,
                with_snippets=False,
                stated_dates=True,
            )
        )
        own = search.facet_values(
            counting, kind, limit=ENTITY_COMENTIONS + 1, within_selection=True
        )
    except search.IndexUnavailable as exc:
        context["error"] = str(exc)
        return context, error_status(exc)
    context.update(
        response=response,
        search_url=with_pairs(links_from),
        histogram=presentation.histogram(response, links_from),
        comention_groups=presentation.comention_groups(
            links_from, response, own, ENTITY_COMENTIONS
        ),
        publications=presentation.facet_panel_for(links_from, response.facets["publication"]),
    )
    return context, 200


def named_in_query(request: search.SearchRequest) -> list[NamedInQuery]:
    """The entities a plain query names exactly (any case), of each kind at most one, unless
    already chosen as a filter (some 4 ms a plain query with 14,000 entities)."""
    q = " ".join(request.q.split())
    if (
        not q
        or len(q) > NAMED_QUERY_MAX_CHARS
        or len(q.split()) > NAMED_QUERY_MAX_WORDS
        or _NOT_JUST_A_NAME.search(q)
    ):
        return []
    found = []
    for kind, model in ENTITY_MODELS.items():
        entity, written = _entity_named(model, q), ""
        if entity is None:
            alias_model = model.alias_model()
            alias = (
                alias_model.objects.filter(name__iexact=q)
                .select_related(alias_model.owner_field)
                .first()
            )
            entity, written = (alias.owner, alias.name) if alias is not None else (None, "")
        if entity is None or entity.name in request.filters.get(kind, ()):
            continue
        # Its documents alone: other values of its kind would be added with OR.
        filters = {**request.filters, kind: (entity.name,)}
        found.append(
            NamedInQuery(
                kind,
                entity.name,
                written,
                with_pairs(replace(request, q="", page=1, filters=filters)),
                entity.get_absolute_url(),
            )
        )
    return found


# A web address typed or pasted without spaces, with or without its scheme: a host with a dot
# and a path ("news.bbc.co.uk/1/hi/uk_politics/4123456.stm").
_ADDRESS = re.compile(r"^(?:https?://)?(?:[\w-]+\.)+[a-z]{2,}(?::\d+)?/\S+$", re.I)


def documents_at_address(q: str) -> list[Document]:
    """The documents printed from the page whose address is the whole query: a journalist
    pastes a source URL to find the archive's copy; its words alone found hundreds of
    documents that share "news", "bbc" and "uk". Any scheme, ``www.``, AMP form or tracking
    parameters (``copies.page_key``)."""
    q = q.strip()
    if not _ADDRESS.match(q):
        return []
    url = q if re.match(r"https?://", q, re.I) else f"https://{q}"
    ids = copies.documents_from_page(url)
    return list(Document.objects.filter(pk__in=ids).select_related("publication"))


def _entity_named(model: type[Model], q: str) -> Model | None:
    """The entity whose name ``q`` is, in any case and with or without its accents: "segolene
    royal" and "SÉGOLÈNE ROYAL" both name "Ségolène Royal". ``iexact`` first (on SQLite it folds
    ASCII letters only), then the names whose page address is the query's (names that slugify
    alike are numbered: "segolene-royal", "segolene-royal-2"), compared folded. An exact lookup
    of those addresses, by the slug column's index: this runs for every plain query, and a
    ``startswith`` is a LIKE that SQLite answers by reading the whole table."""
    entity = model.objects.filter(name__iexact=q).first()
    base = slugify(q)
    if entity is not None or not base:
        return entity
    wanted = fold_name(q)
    candidates = model.objects.filter(slug__in=numbered_slugs(base)).order_by("pk")
    return next((e for e in candidates if fold_name(e.name) == wanted), None)


def document_context(document: Document, q: str, permalink: str) -> dict[str, object]:
    """A document's page: its full text, with ``q``'s words marked and numbered, its
    entities, citation, copies and similar articles. ``permalink``: the short address
    (/documents/<pk>/, which survives title edits) as an absolute URL, for the citation."""
    terms: dict[str, search.QueryTerms] = {}
    if q.strip():
        try:
            terms = search.query_terms(q)
        except search.IndexUnavailable:
            terms = {}  # the text is still worth showing, just without marks
    marker = search.MarkFormatter(numbered=True)
    paragraphs = split_paragraphs(document.body)
    if paragraphs and paragraphs[0] == " ".join(document.title.split()):
        paragraphs = paragraphs[1:]  # the headline is shown once, as the title
    title_html = search.mark_all(document.title, terms.get("title", search.QueryTerms()))
    copies = stories.document_copies(document)
    return {
        "document": document,
        "q": q,
        "title_html": title_html,
        "title_has_hits": "<mark>" in title_html,
        "paragraphs": [
            search.mark_all(p, terms.get("body", search.QueryTerms()), marker) for p in paragraphs
        ],
        "hit_count": marker.count,
        "persons": list(document.persons.all()),
        "mention_groups": presentation.mention_groups(
            lambda listed_as: [entity.name for entity in getattr(document, listed_as).all()]
        ),
        "permalink": permalink,
        "citation": exports.citation(document, permalink, timezone.localdate()),
        "copies": copies,
        "original": presentation.original_scan(document),
        "ocr_note": presentation.ocr_note(document),
        # Other articles: the copies of this one are listed apart.
        "similar": [
            hit
            for hit in search.more_like_this(document.pk, limit=5 + len(copies.others))
            if hit.story is None or hit.story != document.story_id
        ][:5],
    }


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs are separated by blank lines; text without any has one per line."""
    blocks = re.split(r"\n\s*\n", text) if re.search(r"\n\s*\n", text) else text.splitlines()
    return [p for p in (" ".join(block.split()) for block in blocks) if p]
