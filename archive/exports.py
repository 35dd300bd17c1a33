"""Taking results out of the archive: a search as CSV or JSON, links to them, and citations.

An export is the search page's result set, with the same parameters (query, filters, sort), up to
``settings.ARCHIVE_EXPORT_MAX_HITS`` hits. It is never silently cut: when the search has more
hits, the JSON says ``"truncated": true`` with a notice, the CSV carries an
``X-Archive-Export-Truncated`` header, and the search page's links say "first N of M". Nor is it
cut by a cluster's shard that did not answer: then it is a 503 (:func:`whole`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.views.decorators.http import require_safe

from archive import search, stories
from archive.answers import answering_errors, as_text
from archive.models import Document, is_web_url, title_slug
from archive.params import FILTER_PARAMS, querystring, request_from, to_params

# The names of each listed value facet ("persons", "organisations", "places"): JSON lists, and
# "; "-joined CSV cells.
LIST_COLUMNS = tuple(facet.listed_as for facet in search.VALUE_FACETS if facet.listed_as)
CSV_COLUMNS = (
    "id",
    "title",
    "published",
    "date_inferred",
    "publication",
    *LIST_COLUMNS,
    "url",
    "source_url",
    "score",
    # The story the document is a copy of (archive/stories.py): its id and size.
    "story_id",
    "story_copies",
    "story_publications",
    "story_first_published",
)
TRUNCATED_HEADER = "X-Archive-Export-Truncated"
# Spreadsheets run a cell starting with one of these as a formula ("CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Parameters that choose a page of the search page; an export is the whole result set.
PAGE_PARAMS = ("page", "page_size")


def export_limit() -> int:
    """The most hits one export or feed looks at (``ARCHIVE_EXPORT_MAX_HITS``)."""
    return max(1, int(settings.ARCHIVE_EXPORT_MAX_HITS))


def export_request(request: search.SearchRequest, limit: int | None = None) -> search.SearchRequest:
    """The search page's request widened to one page of every hit (up to the limit), without the
    snippets and facet counts an export does not show."""
    return replace(
        request,
        page=1,
        page_size=limit or export_limit(),
        with_snippets=False,
        with_facets=False,
    )


def export_params(request: search.SearchRequest) -> str:
    """The query string an export or feed link carries: the search's own, without paging."""
    return querystring([pair for pair in to_params(request) if pair[0] not in PAGE_PARAMS])


@dataclass(frozen=True)
class ExportLinks:
    csv_url: str
    json_url: str
    feed_url: str
    total: int
    limit: int

    @property
    def truncated(self) -> bool:
        return self.total > self.limit

    @property
    def scope(self) -> str:
        """What an export holds, for the link text: "first 10,000 of 123,456" when cut."""
        return f"first {self.limit:,} of {self.total:,}" if self.truncated else ""


def export_links(response: search.SearchResponse) -> ExportLinks:
    """Links to this search as CSV, JSON and an Atom feed, for the search page's tools."""
    params = export_params(response.request)
    return ExportLinks(
        csv_url=reverse("archive:export-csv") + params,
        json_url=reverse("archive:export-json") + params,
        feed_url=reverse("archive:feed-search") + params,
        total=response.total,
        limit=export_limit(),
    )


def whole(result: search.SearchResponse) -> search.SearchResponse:
    """The result, if every part of the archive answered. An export or a feed holds every
    result or none: a cluster with a shard down answers pages and the API with a notice, but a
    file or a feed entry list would lose documents without one (503; try again later)."""
    coverage = result.coverage
    if coverage is not None and coverage.partial:
        raise search.IndexUnavailable(
            f"Only {coverage.answered} of {coverage.parts} parts of the search cluster "
            "answered, and an export or a feed must hold every result: try again when the "
            "cluster is whole (`make cluster` starts what is down)."
        )
    return result


def truncation_notice(total: int, limit: int) -> str:
    return (
        f"This export holds the first {limit:,} of {total:,} results "
        f"(the most one export may hold). Narrow the search to export the rest."
    )


def folded_notice(response: search.SearchResponse) -> list[str]:
    """An export of a search whose copies are folded says that its rows are stories (each row
    a story's first printing; story_copies tells how many documents it stands for)."""
    if not response.request.folded or response.documents == response.total:
        return []
    return [
        f"One row per story: {response.total:,} stories stand for {response.documents:,} "
        "documents (story_copies gives each story's copies); add copies=all to export every "
        "document."
    ]


def filename(response: search.SearchResponse, extension: str, today: dt.date) -> str:
    """``archive-search-<query and filters>-<date>.<ext>``: readable, and safe in any file
    system; a query in another script keeps its letters ("archive-search-日本-…", sent as RFC
    6266's ``filename*``). A search by filters alone is named by them
    ("archive-search-tony-blair-2005-…"); "all" names only an export of every document."""
    filters = [value for name, value in to_params(response.request) if name in FILTER_PARAMS]
    words = " ".join([response.query_text, *filters])
    slug = slugify(words, allow_unicode=True)[:50].strip("-") or "all"
    return f"archive-search-{slug}-{today.isoformat()}.{extension}"


class DocumentUrls:
    """Absolute document permalinks (the same ``url`` the JSON API gives), for many hits at once.

    ``reverse()`` costs about 0.2 ms a call, which is most of a 10,000-hit export's own time; the
    URL is reversed once with markers and filled in for each hit.
    """

    _PK, _SLUG = 987654321, "slug-marker"

    def __init__(self, request: HttpRequest) -> None:
        pattern = request.build_absolute_uri(
            reverse("archive:document", kwargs={"pk": self._PK, "slug": self._SLUG})
        )
        self.prefix, rest = pattern.split(str(self._PK), 1)
        self.middle, self.suffix = rest.split(self._SLUG, 1)

    def __call__(self, pk: int, title: str) -> str:
        return f"{self.prefix}{pk}{self.middle}{title_slug(title)}{self.suffix}"


def hit_record(
    urls: DocumentUrls, hit: search.Hit, facts: Mapping[int, stories.StoryFacts] | None = None
) -> dict[str, object]:
    return {
        "id": hit.id,
        "title": hit.title,
        "published": hit.published.isoformat() if hit.published else None,
        "date_inferred": hit.date_inferred,
        "publication": hit.publication,
        **{column: list(getattr(hit, column)) for column in LIST_COLUMNS},
        "url": urls(hit.id, hit.title),
        "source_url": hit.source_url if is_web_url(hit.source_url) else None,
        "score": hit.score,
        "story": stories.story_json(hit, facts or {}),
    }


def safe_cell(value: object) -> str:
    """A CSV cell that a spreadsheet shows as text, never runs as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_text(records: Iterable[dict[str, object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for record in records:
        row = dict(record, **{c: "; ".join(record[c]) for c in LIST_COLUMNS})  # type: ignore[arg-type]
        story = record["story"]
        row.update({f"story_{key}": value for key, value in story.items()})  # type: ignore[union-attr]
        writer.writerow([safe_cell(row[column]) for column in CSV_COLUMNS])
    return out.getvalue()


def _attachment(response: HttpResponse, name: str) -> HttpResponse:
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


@require_safe
@answering_errors(as_text)
def export_csv(request: HttpRequest) -> HttpResponse:
    """``GET /export.csv?<search parameters>``: the result set as a spreadsheet-safe CSV file."""
    result = whole(search.search(export_request(request_from(request, ignoring=PAGE_PARAMS))))
    urls = DocumentUrls(request)
    facts = stories.facts_for_hits(result.hits)
    records = [hit_record(urls, hit, facts) for hit in result.hits]
    # A byte-order mark, so spreadsheets read the file as UTF-8 (names with accents, quotes).
    body = "\ufeff" + csv_text(records)
    response = HttpResponse(body.encode("utf-8"), content_type="text/csv; charset=utf-8")
    limit = result.page_size
    if result.total > limit:
        response[TRUNCATED_HEADER] = f"first {limit} of {result.total}"
    return _attachment(response, filename(result, "csv", timezone.localdate()))


@require_safe
@answering_errors(as_text)
def export_json(request: HttpRequest) -> HttpResponse:
    """``GET /export.json?<search parameters>``: the result set, with what was searched."""
    result = whole(search.search(export_request(request_from(request, ignoring=PAGE_PARAMS))))
    limit = result.page_size
    truncated = result.total > limit
    urls = DocumentUrls(request)
    facts = stories.facts_for_hits(result.hits)
    payload = {
        "query": result.query_text,
        "parameters": dict_of_lists(to_params(result.request)),
        "sort": result.sort,
        "total": result.total,
        "total_documents": result.documents,
        "exported": len(result.hits),
        "truncated": truncated,
        "notice": truncation_notice(result.total, limit) if truncated else None,
        "notices": [*result.notices, *folded_notice(result)],
        "exported_at": timezone.now().isoformat(timespec="seconds"),
        "results": [hit_record(urls, hit, facts) for hit in result.hits],
    }
    body = json.dumps(payload, ensure_ascii=False, indent=1)
    response = HttpResponse(body.encode("utf-8"), content_type="application/json; charset=utf-8")
    if truncated:
        response[TRUNCATED_HEADER] = f"first {limit} of {result.total}"
    return _attachment(response, filename(result, "json", timezone.localdate()))


def dict_of_lists(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Query parameters as JSON: every name with its values (names may repeat)."""
    params: dict[str, list[str]] = {}
    for name, value in pairs:
        if name not in PAGE_PARAMS:
            params.setdefault(name, []).append(value)
    return params


# --- Citations ---------------------------------------------------------------------------------


def citation(document: Document, url: str, accessed: dt.date) -> str:
    """A ready citation in a common style:
    ``“Title.” Publication, 26 November 2008. https://… (accessed 23 November 2026).``

    An undated document gets "n.d."; a date inferred from the text (not stated by the source) is
    put in square brackets, the usual mark for information the citer supplied.
    """
    title = " ".join(document.title.split()) or "Untitled"
    quoted = f"“{title}”" if title[-1] in ".?!" else f"“{title}.”"
    parts = [quoted]
    source = document.publication.name if document.publication else ""
    if document.published:
        day = _long_date(document.published)
        day = f"[{day}]" if document.date_inferred else day
    else:
        day = "n.d."
    dated = day if day.endswith(".") else day + "."
    parts.append(f"{source}, {dated}" if source else dated)
    parts.append(f"{url} (accessed {_long_date(accessed)}).")
    return " ".join(parts)


def _long_date(day: dt.date) -> str:
    return f"{day.day} {day:%B} {day.year}"
