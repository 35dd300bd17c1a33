"""One reader per format: bytes in, draft documents out.

Whole-file problems raise ``ReadError``; in the bulk formats a bad record becomes a ``ReadError``
in the returned list, so the good records of the same file still come in. The bulk formats are
read from a stream, record by record (``read_records``), so a file of any size needs no more
memory than its largest record.
"""

from __future__ import annotations

import codecs
import datetime as dt
import io
import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO

from archive.ingest import dates, ocr, text
from archive.ingest.drafts import Draft, Original, ReadError

MAX_TITLE_CHARS = 500
MAX_NAME_CHARS = 200

Result = list[Draft | ReadError]


def read(name: str, extension: str, data: bytes) -> Result:
    reader = READERS.get(extension)
    if reader is None:
        known = ", ".join(sorted(READERS))
        raise ReadError(f"Unknown file type “{extension or name}”; the archive reads {known}.")
    if not data:
        raise ReadError("The file is empty.")  # the same words whatever its type
    return reader(name, data)


def _title(value: str) -> str:
    value = " ".join(value.split())
    return value if len(value) <= MAX_TITLE_CHARS else value[: MAX_TITLE_CHARS - 1] + "…"


def from_plain_text(source: str, raw: str) -> Draft:
    """Title = first non-empty line; a leading ``date`` line, a line above the headline that
    only states a date ("Published: 12 April 2005"), or a dateline sets the date."""
    stated, raw = dates.split_leading_date_line(text.normalise_text(raw))
    body = text.drop_chrome(raw)
    first, _, rest = body.partition("\n")
    if stated is None and rest.strip() and (on_its_own := dates.date_line(first)):
        # "Published: 12 April 2005" above the headline: the date, and no title.
        stated, body = on_its_own, rest.lstrip("\n")
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
    return [from_plain_text(name, text.decode_references(text.decode(data)))]


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


# A page with an image and fewer letters and digits than this in its text layer is a scan (a page
# number or a scanner's stamp is not its text): in a PDF whose other pages have text, it is OCRed.
SCANNED_PAGE_CHARS = 50


def _has_image(resources: object, depth: int = 0) -> bool:
    """Whether a page's (or a form's) resources draw an image, in forms up to three deep."""
    from pypdf.generic import DictionaryObject

    resources = resources.get_object() if resources is not None else None
    if not isinstance(resources, DictionaryObject) or depth > 3:
        return False
    xobjects = resources.get("/XObject")
    xobjects = xobjects.get_object() if xobjects is not None else None
    if not isinstance(xobjects, DictionaryObject):
        return False
    for reference in xobjects.values():
        xobject = reference.get_object()
        if not isinstance(xobject, DictionaryObject):
            continue
        subtype = xobject.get("/Subtype")
        if subtype == "/Image":
            return True
        if subtype == "/Form" and _has_image(xobject.get("/Resources"), depth + 1):
            return True
    return False


def _is_scanned(page: object, page_text: str) -> bool:
    return sum(ch.isalnum() for ch in page_text) < SCANNED_PAGE_CHARS and _has_image(
        page.get("/Resources")
    )


def read_pdf(name: str, data: bytes) -> Result:
    """A PDF: the text layer of its pages, in order. A PDF without any text is a scan, every
    page OCRed; in one with text on some pages, the pages with an image and (almost) no text
    are OCRed and their text put in their place. A document with OCRed text keeps the file and
    the OCR's mean word confidence (over the OCRed words only)."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    if not data.startswith(b"%PDF"):
        raise ReadError("Not a PDF file (no %PDF header).")
    # pypdf logs what it then raises ("EOF marker not found"): the failure is reported once,
    # as the file's message, not also as a stray line of the command's output.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise ReadError("The PDF is encrypted; save an unprotected copy and upload that.")
        # The text layer breaks every printed line: paragraphs again, so that a phrase across
        # a line break reads as one and the document page shows paragraphs, not lines.
        printed = [page.extract_text() or "" for page in reader.pages]
        vocabulary = text.vocabulary("\n".join(printed).split())
        pages = [text.unwrap_lines(page, vocabulary) for page in printed]
        if any(page.strip() for page in pages):
            scans = [
                number
                for number, (page, page_text) in enumerate(zip(reader.pages, pages, strict=True), 1)
                if _is_scanned(page, page_text)
            ]
        else:
            scans = []
    except ReadError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise ReadError(f"The PDF could not be read ({exc}).") from exc
    raw = "\n\n".join(pages)
    if not raw.strip():  # no text layer: a scan, read by OCR
        draft = scanned(name, data, ocr.ocr_pdf(data, len(reader.pages)))
    elif scans:  # text on some pages, scans on others: each page read its way, in order
        result = ocr.ocr_pdf(data, len(reader.pages), only=scans)
        ocred = dict(result.page_texts)
        draft = from_plain_text(
            name, "\n\n".join(ocred.get(number, page) for number, page in enumerate(pages, 1))
        )
        if result.words:
            draft.ocr_confidence = round(result.mean_confidence, 1)
            draft.original = Original(name, data)
    else:
        draft = from_plain_text(name, raw)
    meta_title = (reader.metadata or {}).get("/Title") if reader.metadata else None
    if isinstance(meta_title, str) and len(meta_title.split()) >= 3:
        draft.title = _title(meta_title)
    return [draft]


def scanned(name: str, data: bytes, result: ocr.OcrText) -> Draft:
    """The draft of a scan: its OCR text, read as the text of a ``.txt`` file is (title from
    the first line, dates as stated or inferred), with the OCR's mean confidence and the file
    itself, which the document keeps."""
    lines = result.text.split("\n")
    # A speck or a mark read as a letter ("x" for a close button, U+00D7) is no headline.
    while lines and sum(ch.isalnum() for ch in lines[0]) < 2:
        lines.pop(0)
    try:
        draft = from_plain_text(name, "\n".join(lines))
    except ReadError as exc:
        raise ReadError(f"OCR found no article text in the scan ({exc})") from exc
    draft.ocr_confidence = round(result.mean_confidence, 1)
    draft.original = Original(name, data)
    return draft


def read_image(name: str, data: bytes) -> Result:
    """A page image (PNG, JPEG, TIFF with one page or many), read by OCR."""
    return [scanned(name, data, ocr.ocr_image(data, name))]


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
    draft = Draft(
        source=source,
        title=_title(text.decode_references(title)),
        body=text.normalise_text(text.decode_references(body)),
    )
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


def _records(records: Iterable[Draft | ReadError]) -> Result:
    """A bulk file's records as a list (for bytes already in memory). A whole-file error after
    some records (the file breaks off) becomes the last item, so the records before it are kept;
    before any record it is raised, as for any unreadable file."""
    results: Result = []
    try:
        results.extend(records)
    except ReadError as exc:
        if not results:
            raise
        results.append(exc)
    return results


def read_jsonl(name: str, data: bytes) -> Result:
    return _records(iter_jsonl(name, io.BytesIO(data)))


def read_json(name: str, data: bytes) -> Result:
    return _records(iter_json(name, io.BytesIO(data)))


# Bulk files are read as streams, in chunks of this size, so a multi-GB export needs no more memory
# than its largest record; the size limit (ARCHIVE_INGEST_MAX_FILE_BYTES) applies to each record.
CHUNK_BYTES = 1 << 16
LIMIT_SETTING = "setting ARCHIVE_INGEST_MAX_FILE_BYTES"


def file_size(count: int) -> str:
    """Bytes for people, in decimal units as file managers show them ("1.2 MB", "230 KB")."""
    if count >= 1_000_000:
        return f"{count / 1e6:,.1f} MB"
    if count >= 1_000:
        return f"{count / 1e3:,.0f} KB"
    return f"{count:,} bytes"


def _over_limit(what: str, size: int, limit: int, source: str) -> ReadError:
    return ReadError(
        f"{what} is {file_size(size)}, over the limit of {file_size(limit)} for one record "
        f"({LIMIT_SETTING}); skipped, the other records are read.",
        source,
    )


def read_records(
    name: str, extension: str, stream: BinaryIO, max_record_bytes: int | None = None
) -> Iterator[Draft | ReadError]:
    """The records of a bulk file (``.jsonl``, ``.json``) read from a stream, one at a time.

    A bad record (malformed, invalid fields, over ``max_record_bytes``) is yielded as a
    ``ReadError`` and the next one is read; a whole-file problem (binary, empty, undecodable, the
    file breaks off) raises ``ReadError``, possibly after some records, whose message says so.
    """
    return STREAM_READERS[extension](name, stream, max_record_bytes)


def _fallback_encoding(sample: bytes) -> str | None:
    """The encoding of text that is not UTF-8, chosen as ``text.decode`` chooses it: the
    detected one, with windows-1252 for the Latin code pages a detector cannot tell apart."""
    from charset_normalizer import from_bytes

    best = from_bytes(sample).best()
    if best is None or best.encoding in text.LATIN_CODEPAGES:
        try:
            sample.decode("cp1252")
            return "cp1252"
        except UnicodeDecodeError:
            pass
    return best.encoding if best is not None else None


def _lines(stream: BinaryIO, limit: int | None) -> Iterator[tuple[int, bytes | None, int]]:
    """(number, bytes, size) for each line of a byte stream, read in chunks; ``bytes`` is None for
    a line over ``limit``, which is skipped (its size counted) without being held in memory.
    Raises ``ReadError`` for a stream that starts like a binary file."""
    line = bytearray()
    size = 0
    too_long = False
    number = 0
    first = True
    while chunk := stream.read(CHUNK_BYTES):
        if first:
            first = False
            if text.looks_binary(chunk[:8192]):
                raise ReadError("The file is binary, not text.")
        start = 0
        while start < len(chunk):
            end = chunk.find(b"\n", start)
            stop = len(chunk) if end == -1 else end
            size += stop - start
            if not too_long:
                if limit is not None and size > limit:
                    too_long = True
                    line.clear()
                else:
                    line += chunk[start:stop]
            if end == -1:
                break
            number += 1
            yield number, None if too_long else bytes(line), size
            line.clear()
            size, too_long = 0, False
            start = end + 1
    if size:
        yield number + 1, None if too_long else bytes(line), size


def _decode_line(line: bytes, encoding: str | None) -> tuple[str, str | None]:
    """One line as text, and the fallback encoding to try first on the next line: UTF-8 if it is,
    else the encoding detected in the first line that was not (kept for the rest of the file)."""
    try:
        return line.decode("utf-8"), encoding
    except UnicodeDecodeError:
        pass
    for detect in (lambda: encoding, lambda: _fallback_encoding(line)):
        candidate = detect()  # detection (slow) only if the file's encoding does not fit
        if candidate:
            try:
                return line.decode(candidate), candidate
            except (UnicodeDecodeError, LookupError):
                continue
    raise ReadError("The line is not UTF-8 and its text encoding could not be recognised.")


def iter_jsonl(
    name: str, stream: BinaryIO, max_record_bytes: int | None = None
) -> Iterator[Draft | ReadError]:
    """JSON Lines, one record per line, streamed: each line is decoded and parsed on its own, so
    a broken line, or one over ``max_record_bytes``, fails alone and the others come in."""
    encoding: str | None = None
    records = 0
    for number, line, size in _lines(stream, max_record_bytes):
        source = f"{name} line {number}"
        if line is None:
            records += 1
            yield _over_limit(f"Line {number}", size, max_record_bytes or 0, source)
            continue
        if number == 1:
            line = line.removeprefix(codecs.BOM_UTF8)
        if not line.strip():
            continue
        records += 1
        try:
            decoded, encoding = _decode_line(line, encoding)
            yield record_to_draft(source, json.loads(decoded))
        except json.JSONDecodeError as exc:
            # "Unterminated string starting at" needs its place: the column of the record's line.
            yield ReadError(f"Not valid JSON ({exc.msg}, column {exc.colno}).", source)
        except ReadError as exc:
            exc.source = exc.source or source
            yield exc
    if not records:
        raise ReadError("The file is empty.")


def _text_chunks(stream: BinaryIO) -> Iterator[str]:
    """A byte stream as text, chunk by chunk: UTF-8 (a byte-order mark dropped) if it is, else
    the encoding detected where it stops being UTF-8. Raises ``ReadError`` for a binary file or
    text that cannot be decoded."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    first = True
    while True:
        chunk = stream.read(CHUNK_BYTES)
        if first:
            first = False
            if chunk and text.looks_binary(chunk[:8192]):
                raise ReadError("The file is binary, not text.")
        pending = decoder.getstate()[0]
        try:
            piece = decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError:
            data = pending + chunk
            encoding = _fallback_encoding(data)
            if encoding is None:
                raise ReadError(
                    "The text encoding could not be recognised (it is not UTF-8)."
                ) from None
            decoder = codecs.getincrementaldecoder(encoding)()
            try:
                piece = decoder.decode(data, final=not chunk)
            except UnicodeDecodeError as exc:
                raise ReadError(f"The text is not valid {encoding} ({exc.reason}).") from None
        if piece:
            yield piece
        if not chunk:
            return


_JSON_SPACE = re.compile(r"[ \t\n\r]*")
_JSON_BRACKET_OR_QUOTE = re.compile(r'["{}\[\]]')
_JSON_STRING_STOP = re.compile(r'["\\]')
_JSON_SCALAR_END = re.compile(r"[,\]\s]")
_JSON_SCALAR_START = frozenset('"-0123456789tfn')


class _ValueEnd:
    """Finds where one JSON value ends in text that arrives in pieces, without parsing it
    (brackets are counted outside strings; ``json`` parses the value once it is whole), so the
    end of a value too large to keep is found too, and the next one read."""

    def __init__(self, first: str) -> None:
        self.scalar = first not in '{["'
        self.depth = 0
        self.in_string = False
        self.escaped = False

    def scan(self, buffer: str, pos: int) -> int | None:
        """The index just past the value's end, scanning ``buffer`` from ``pos``; None when the
        value goes on beyond it (call again with more text, from where this call stopped)."""
        if self.scalar:
            found = _JSON_SCALAR_END.search(buffer, pos)
            return found.start() if found else None
        while True:
            if self.escaped:
                if pos >= len(buffer):
                    return None
                self.escaped, pos = False, pos + 1
            pattern = _JSON_STRING_STOP if self.in_string else _JSON_BRACKET_OR_QUOTE
            found = pattern.search(buffer, pos)
            if found is None:
                return None
            pos, char = found.end(), found.group()
            if char == "\\":
                self.escaped = True
            elif char == '"':
                self.in_string = not self.in_string
                if not self.in_string and self.depth == 0:
                    return pos
            elif char in "{[":
                self.depth += 1
            else:
                self.depth -= 1
                if self.depth <= 0:
                    return pos


class _JsonText:
    """Decoded text of a JSON file with a read position, read a chunk at a time; text before the
    position is dropped as it is consumed (line numbers are kept for messages)."""

    def __init__(self, chunks: Iterator[str]) -> None:
        self.chunks = chunks
        self.buffer = ""
        self.pos = 0
        self.lines_dropped = 0

    def more(self, keep_from: int | None = None) -> bool:
        """Read another chunk, dropping the text before ``keep_from`` (default: the position);
        False at the end of the file. Positions move left by what was dropped."""
        drop = self.pos if keep_from is None else keep_from
        if drop:
            self.lines_dropped += self.buffer.count("\n", 0, drop)
            self.buffer = self.buffer[drop:]
            self.pos -= drop
        piece = next(self.chunks, None)
        if piece is None:
            return False
        self.buffer += piece
        return True

    def discard(self) -> None:
        """Drop everything read so far (the skipped part of a value too large to keep)."""
        self.lines_dropped += self.buffer.count("\n")
        self.buffer, self.pos = "", 0

    def skip_space(self) -> bool:
        """Move past whitespace; False at the end of the file."""
        while True:
            self.pos = _JSON_SPACE.match(self.buffer, self.pos).end()
            if self.pos < len(self.buffer):
                return True
            if not self.more():
                return False

    def peek(self) -> str:
        return self.buffer[self.pos]

    def line(self, pos: int | None = None) -> int:
        where = self.pos if pos is None else pos
        return self.lines_dropped + self.buffer.count("\n", 0, where) + 1


def _next_value(doc: _JsonText, limit: int | None) -> tuple[str | None, int]:
    """The text of the value at the position (None if over ``limit``) and its size; the position
    moves past it. Raises ``ReadError`` if the file ends inside it."""
    scanner = _ValueEnd(doc.peek())
    start = scan_from = doc.pos  # where the value starts, and where scanning resumes
    skipped = 0  # characters of a value too large to keep, already dropped
    while (end := scanner.scan(doc.buffer, scan_from)) is None:
        held = len(doc.buffer) - start
        if skipped or (limit is not None and held > limit):
            skipped += held
            doc.discard()
            start, held = 0, 0
        if not doc.more(keep_from=start):
            raise ReadError(f"Not valid JSON: the file ends inside a record (line {doc.line()}).")
        start, scan_from = 0, held  # more() dropped the text before the value
    value = doc.buffer[start:end]
    doc.pos = end
    if skipped:
        return None, skipped + len(value)
    size = len(value.encode("utf-8"))
    return (None if limit is not None and size > limit else value), size


def iter_json(
    name: str, stream: BinaryIO, max_record_bytes: int | None = None
) -> Iterator[Draft | ReadError]:
    """A JSON list of records (or a single record), streamed: the text is read in chunks and each
    item parsed on its own once its end is found, so an item that is malformed or over
    ``max_record_bytes`` fails alone. A break in the list itself (a missing comma, the file cut
    off) ends the file with an error that says how many records came before."""
    doc = _JsonText(_text_chunks(stream))
    if not doc.skip_space():
        raise ReadError("The file is empty.")
    first = doc.peek()
    if first not in "[{":
        if first in _JSON_SCALAR_START:
            raise ReadError("Expected a JSON list of documents.")
        raise ReadError(f"Not valid JSON: Expecting value at line {doc.line()}.")
    if first == "[":
        doc.pos += 1
    count = 0
    while True:
        if not doc.skip_space():
            raise ReadError("Not valid JSON: the file ends before the list is closed.")
        if first == "[" and doc.peek() == "]" and count == 0:
            doc.pos += 1
            if doc.skip_space():
                raise ReadError(f"Not valid JSON: Extra data at line {doc.line()}.")
            raise ReadError("The file has no records.")
        count += 1
        source = f"{name} item {count}"
        value, size = _next_value(doc, max_record_bytes)
        if value is None:
            yield _over_limit(f"Item {count}", size, max_record_bytes or 0, source)
        else:
            try:
                yield record_to_draft(source, json.loads(value))
            except json.JSONDecodeError as exc:
                # Counted only for a message: the item ends at the position.
                where = doc.line() - value.count("\n") + exc.lineno - 1
                yield ReadError(f"Not valid JSON ({exc.msg}, line {where}).", source)
            except ReadError as exc:
                exc.source = exc.source or source
                yield exc
        if first == "{":
            break
        if not doc.skip_space():
            raise ReadError("Not valid JSON: the file ends before the list is closed.")
        if doc.peek() == "]":
            doc.pos += 1
            break
        if doc.peek() != ",":
            raise ReadError(
                f"Not valid JSON: expected “,” or “]” after item {count:,} at line {doc.line()}; "
                "the rest of the file was not read."
            )
        doc.pos += 1
    if doc.skip_space():
        raise ReadError(f"Not valid JSON: Extra data at line {doc.line()}.")


READERS: dict[str, Callable[[str, bytes], Result]] = {
    ".txt": read_txt,
    ".html": read_html,
    ".htm": read_html,
    ".pdf": read_pdf,
    ".png": read_image,
    ".jpg": read_image,
    ".jpeg": read_image,
    ".tif": read_image,
    ".tiff": read_image,
    ".json": read_json,
    ".jsonl": read_jsonl,
}

# The bulk formats, read as streams (see ``read_records``).
STREAM_READERS: dict[str, Callable[[str, BinaryIO, int | None], Iterator[Draft | ReadError]]] = {
    ".json": iter_json,
    ".jsonl": iter_jsonl,
}
