"""One reader per format: bytes in, draft documents out.

Whole-file problems raise ``ReadError``; in the bulk formats a bad record becomes a ``ReadError``
in the returned list, so the good records of the same file still come in.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable

from archive.ingest import dates, text
from archive.ingest.drafts import Draft, ReadError

MAX_TITLE_CHARS = 500
MAX_NAME_CHARS = 200

Result = list[Draft | ReadError]


def read(name: str, extension: str, data: bytes) -> Result:
    reader = READERS.get(extension)
    if reader is None:
        known = ", ".join(sorted(READERS))
        raise ReadError(f"Unknown file type “{extension or name}”; the archive reads {known}.")
    return reader(name, data)


def _title(value: str) -> str:
    value = " ".join(value.split())
    return value if len(value) <= MAX_TITLE_CHARS else value[: MAX_TITLE_CHARS - 1] + "…"


def from_plain_text(source: str, raw: str) -> Draft:
    """Title = first non-empty line; a leading ``date`` line or a dateline sets the date."""
    stated, raw = dates.split_leading_date_line(text.normalise_text(raw))
    body = text.drop_chrome(raw)
    if not body:
        raise ReadError("No article text in the file (only page furniture, or empty).")
    title = text.first_line(body)
    if stated is None:
        stated = dates.dateline_date(body.split("\n")[1:])
    draft = Draft(source=source, title=_title(title), body=body, published=stated)
    if stated is None:
        draft.published = dates.inferred_date(body)
        draft.date_inferred = draft.published is not None
    return draft


def read_txt(name: str, data: bytes) -> Result:
    return [from_plain_text(name, text.decode(data))]


def read_html(name: str, data: bytes) -> Result:
    """A saved news page, through trafilatura: article text, title, site name, date, URL."""
    import trafilatura

    if text.looks_binary(data):
        raise ReadError("The file is binary, not a web page.")
    html = text.decode(data)
    try:
        extracted = trafilatura.bare_extraction(
            html,
            with_metadata=True,
            include_comments=False,
            include_tables=False,
            # Only a date the page states (meta tags, markup), not one guessed from its text.
            date_extraction_params={"extensive_search": False, "original_date": True},
        )
    except Exception as exc:  # trafilatura/lxml raise many kinds on broken markup
        raise ReadError(f"The web page could not be parsed ({exc}).") from exc
    body = text.normalise_text(getattr(extracted, "text", None) or "") if extracted else ""
    if len(body.split()) < 3:
        raise ReadError("No article text found in the web page.")
    title = _title(extracted.title or text.first_line(body))
    if not body.startswith(title):
        body = f"{title}\n\n{body}"
    draft = Draft(
        source=name,
        title=title,
        body=body,
        publication=(extracted.sitename or extracted.hostname or None),
        source_url=extracted.url or "",
    )
    if extracted.date:
        try:
            draft.published = dt.date.fromisoformat(extracted.date[:10])
        except ValueError:
            draft.warnings.append(f"Unreadable date “{extracted.date}” ignored.")
    if draft.published is None:
        draft.published = dates.inferred_date(body)
        draft.date_inferred = draft.published is not None
    return [draft]


def read_pdf(name: str, data: bytes) -> Result:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    if not data.startswith(b"%PDF"):
        raise ReadError("Not a PDF file (no %PDF header).")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise ReadError("The PDF is encrypted; save an unprotected copy and upload that.")
        pages = [page.extract_text() or "" for page in reader.pages]
    except ReadError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise ReadError(f"The PDF could not be read ({exc}).") from exc
    raw = "\n\n".join(pages)
    if not raw.strip():
        raise ReadError("The PDF has no text layer (a scan?); run OCR on it first.")
    draft = from_plain_text(name, raw)
    meta_title = (reader.metadata or {}).get("/Title") if reader.metadata else None
    if isinstance(meta_title, str) and len(meta_title.split()) >= 3:
        draft.title = _title(meta_title)
    return [draft]


# --- The bulk format ------------------------------------------------------------------------

RECORD_FIELDS = {"title", "body", "published", "publication", "url", "persons", "external_id"}


def record_to_draft(source: str, record: object) -> Draft:
    """One record of the archive's JSON/JSONL format (see README), validated field by field."""
    if not isinstance(record, dict):
        raise ReadError(f"Expected an object, got {type(record).__name__}.", source)
    unknown = set(record) - RECORD_FIELDS
    title, body = record.get("title"), record.get("body")
    if not isinstance(title, str) or not title.strip():
        raise ReadError("“title” must be a non-empty string.", source)
    if not isinstance(body, str) or not body.strip():
        raise ReadError("“body” must be a non-empty string.", source)
    draft = Draft(source=source, title=_title(title), body=text.normalise_text(body))
    published = record.get("published")
    if published not in (None, ""):
        try:
            draft.published = dt.date.fromisoformat(str(published)[:10])
        except ValueError:
            raise ReadError(f"“published” must be YYYY-MM-DD, got {published!r}.", source) from None
    publication = record.get("publication")
    if publication not in (None, ""):
        if not isinstance(publication, str):
            raise ReadError("“publication” must be a string.", source)
        draft.publication = publication
    url = record.get("url")
    if url not in (None, ""):
        if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
            raise ReadError("“url” must be an http(s) URL.", source)
        draft.source_url = url
    persons = record.get("persons")
    if persons is not None:
        if not isinstance(persons, list) or not all(isinstance(p, str) for p in persons):
            raise ReadError("“persons” must be a list of strings.", source)
        if any(len(p) > MAX_NAME_CHARS for p in persons):
            raise ReadError(f"A name in “persons” is over {MAX_NAME_CHARS} characters.", source)
        draft.persons = [p for p in persons if p.strip()]
    external_id = record.get("external_id")
    if external_id not in (None, ""):
        if not isinstance(external_id, str | int):
            raise ReadError("“external_id” must be a string.", source)
        draft.external_id = str(external_id)
    if unknown:
        draft.warnings.append(f"Unknown fields ignored: {', '.join(sorted(unknown))}.")
    return draft


def _records(source: str, items) -> Result:
    results: Result = []
    for label, item in items:
        try:
            results.append(record_to_draft(f"{source} {label}", item))
        except ReadError as exc:
            results.append(exc)
    return results


def read_jsonl(name: str, data: bytes) -> Result:
    results: Result = []
    for number, line in enumerate(text.decode(data).splitlines(), start=1):
        if not line.strip():
            continue
        source = f"{name} line {number}"
        try:
            results.append(record_to_draft(source, json.loads(line)))
        except json.JSONDecodeError as exc:
            results.append(ReadError(f"Not valid JSON ({exc.msg}).", source))
        except ReadError as exc:
            results.append(exc)
    if not results:
        raise ReadError("The file has no records.")
    return results


def read_json(name: str, data: bytes) -> Result:
    try:
        value = json.loads(text.decode(data))
    except json.JSONDecodeError as exc:
        raise ReadError(f"Not valid JSON: {exc.msg} at line {exc.lineno}.") from exc
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise ReadError("Expected a JSON list of documents.")
    if not value:
        raise ReadError("The file has no records.")
    return _records(name, ((f"item {i}", item) for i, item in enumerate(value, start=1)))


READERS: dict[str, Callable[[str, bytes], Result]] = {
    ".txt": read_txt,
    ".html": read_html,
    ".htm": read_html,
    ".pdf": read_pdf,
    ".json": read_json,
    ".jsonl": read_jsonl,
}
