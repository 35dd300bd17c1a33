"""An Atom feed for any search (``/feeds/search?<search parameters>``), so a topic or a person can
be followed in a feed reader: new documents appear at the top as they are added to the archive.

Entries are the matching documents ordered by when they entered the archive
(``Document.created``), newest first, not by their publication date: an old article ingested
today is news to someone following the topic. The candidates are the search's first
``ARCHIVE_EXPORT_MAX_HITS`` hits, newest publication first; a search with more hits than that
(other than the whole archive, which is read from the database directly) can miss a document
that is new to the archive but old and less recent than all of those.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape
from django.views.decorators.http import require_safe

from archive import search
from archive.answers import answering_errors, as_text
from archive.exports import PAGE_PARAMS, export_params, export_request, whole
from archive.models import Document
from archive.params import request_from

FEED_ENTRIES = 50
SUMMARY_CHARS = 300
# SQLite allows a limited number of parameters per statement: look ids up in batches.
ID_BATCH = 900
TITLE_DASH = "—"
# Characters XML 1.0 does not allow; a stored text may hold them (old wire copy, bad encodings),
# and Django's feed writer refuses them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(text: str) -> str:
    return _NOT_XML.sub(" ", text)


@dataclass(frozen=True)
class FeedSearch:
    request: HttpRequest
    wanted: search.SearchRequest  # as asked for (the candidates are fetched newest first)
    response: search.SearchResponse
    documents: list[Document]
    terms: search.QueryTerms


def describe(request: search.SearchRequest, query_text: str) -> str:
    """What a search is, in words: ``Search: mumbai — person: Madhukar Gupta``."""
    parts = [f"Search: {query_text}" if query_text else "Search: all documents"]
    parts += [text for text in (facet.describe(request) for facet in search.FACETS) if text]
    if request.date_from or request.date_to:
        start = request.date_from.isoformat() if request.date_from else "…"
        end = request.date_to.isoformat() if request.date_to else "…"
        parts.append(f"dates: {start} to {end}")
    return f" {TITLE_DASH} ".join(parts)


def _is_whole_archive(request: search.SearchRequest, query_text: str) -> bool:
    """No query text and no filter: every document in the archive matches."""
    return not query_text and not (
        request.filters
        or request.year is not None
        or request.undated
        or request.date_from
        or request.date_to
    )


# The Document relations of the listed value facets ("persons", "organisations", "places"):
# an entry's categories.
LISTED_RELATIONS = tuple(facet.listed_as for facet in search.VALUE_FACETS if facet.listed_as)


def _with_names(documents):
    return documents.select_related("publication").prefetch_related(*LISTED_RELATIONS)


def newest_added(ids: list[int], count: int) -> list[Document]:
    """Of the documents ``ids``, the ``count`` most recently added to the archive."""
    keys: list[tuple[dt.datetime, int]] = []
    for start in range(0, len(ids), ID_BATCH):
        batch = ids[start : start + ID_BATCH]
        keys += Document.objects.filter(pk__in=batch).values_list("created", "pk")
    keys.sort(reverse=True)
    chosen = [pk for _, pk in keys[:count]]
    by_pk = _with_names(Document.objects.all()).in_bulk(chosen)
    return [by_pk[pk] for pk in chosen if pk in by_pk]


class SearchFeed(Feed):
    """The Atom feed of one search; the same parameters as the search page."""

    feed_type = Atom1Feed
    _terms: search.QueryTerms = search.QueryTerms()

    def get_object(self, request: HttpRequest, *args, **kwargs) -> FeedSearch:
        wanted = request_from(request, ignoring=PAGE_PARAMS)
        # A one-hit search first: it checks the index and cleans the query, cheaply.
        response = search.search(export_request(replace(wanted, sort="newest"), limit=1))
        if _is_whole_archive(wanted, response.query_text):
            # Every document matches: the newest added are simply the database's newest.
            documents = list(
                _with_names(Document.objects.order_by("-created", "-pk"))[:FEED_ENTRIES]
            )
        else:
            # Entries from a search must be every match: no shard may be missing (the whole
            # archive's newest, above, come from the database).
            response = whole(response)
            if response.total > 1:
                response = whole(search.search(export_request(replace(wanted, sort="newest"))))
            documents = newest_added([hit.id for hit in response.hits], FEED_ENTRIES)
        terms = search.QueryTerms()
        if response.query_text:
            terms = search.query_terms(response.query_text).get("body", terms)
        return FeedSearch(request, wanted, response, documents, terms)

    # -- the feed --

    def title(self, obj: FeedSearch) -> str:
        return xml_text(describe(obj.wanted, obj.response.query_text))

    def subtitle(self, obj: FeedSearch) -> str:
        return (
            f"Documents matching this search in {settings.ARCHIVE_SITE_NAME}, "
            "most recently added first."
        )

    def link(self, obj: FeedSearch) -> str:
        return obj.request.build_absolute_uri(reverse("archive:search") + export_params(obj.wanted))

    def feed_url(self, obj: FeedSearch) -> str:
        return obj.request.build_absolute_uri(
            reverse("archive:feed-search") + export_params(obj.wanted)
        )

    def author_name(self, obj: FeedSearch) -> str:
        return settings.ARCHIVE_SITE_NAME

    def items(self, obj: FeedSearch) -> list[Document]:
        return obj.documents

    # -- entries --

    def item_title(self, item: Document) -> str:
        return xml_text(item.title)  # plain text: the feed generator escapes it

    def item_link(self, item: Document) -> str:
        return item.get_absolute_url()

    def item_description(self, item: Document) -> str:
        """HTML (``type="html"``): the first snippet around the query's words, or the start of the
        text; the document's text is escaped either way, as on the search page."""
        terms = self._terms
        body = search.without_headline(item.body, item.title)
        snippet = search.snippets(body, terms, top=1) if terms else []
        text = snippet[0] if snippet else _lead(body)
        day = _day_line(item)
        html = f"<p>{escape(day)}</p><p>{text}</p>" if day else f"<p>{text}</p>"
        return xml_text(html)

    def item_pubdate(self, item: Document) -> dt.datetime:
        return item.created  # when it entered the archive: what a follower has not seen yet

    def item_updateddate(self, item: Document) -> dt.datetime:
        return max(item.updated, item.created)

    def item_author_name(self, item: Document) -> str | None:
        return xml_text(item.publication.name) if item.publication else None

    def item_categories(self, item: Document) -> list[str]:
        """The names of every listed value facet: persons, organisations, places."""
        return [
            xml_text(entity.name)
            for relation in LISTED_RELATIONS
            for entity in getattr(item, relation).all()
        ]

    def item_guid(self, item: Document) -> str:
        """The entry's id: the document's permanent address, not its link, whose slug follows
        the title (a retitled document came back to a follower as a new entry)."""
        return self._request.build_absolute_uri(reverse("archive:document-short", args=[item.pk]))

    def get_feed(self, obj: FeedSearch, request: HttpRequest):
        # Entry methods see only the entry; the query's words and the request ride on this
        # per-request instance.
        self._terms = obj.terms
        self._request = request
        return super().get_feed(obj, request)


def _lead(text: str) -> str:
    """The start of the text, escaped, cut at a word."""
    flat = " ".join(text.split())
    if len(flat) <= SUMMARY_CHARS:
        return escape(flat)
    head = flat[:SUMMARY_CHARS]
    head = head[: head.rfind(" ")] if " " in head else head
    return escape(head.rstrip(" ,;:")) + "…"


def _day_line(item: Document) -> str:
    if not item.published:
        return "Undated"
    day = f"{item.published.day} {item.published:%B} {item.published.year}"
    return f"{day} (date inferred from the text)" if item.date_inferred else day


@require_safe
@answering_errors(as_text)
def search_feed(request: HttpRequest) -> HttpResponse:
    """``GET /feeds/search?<search parameters>``. A new feed object per request: it holds the
    request's query words while the entries are written."""
    return SearchFeed()(request)
