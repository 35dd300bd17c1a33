"""Where files come from: paths on disk (files, folders walked recursively) and zip archives,
read defensively. Every problem becomes a per-file error; nothing here raises for bad input.

A single-document file (text, HTML, PDF, a page image) is read whole, up to
ARCHIVE_INGEST_MAX_FILE_BYTES. A bulk file (JSONL, JSON) is a stream of records and is not read
here: its ``SourceFile`` can be opened as a stream and the reader applies the limit to each
record, so an export of any size imports with flat memory. A zip is held to
ARCHIVE_INGEST_MAX_ZIP_BYTES (what it expands to), its members
to the per-file (or per-record) limit."""

from __future__ import annotations

import io
import os
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from django.conf import settings

from archive.ingest.readers import STREAM_READERS

# Formats a reader exists for (see readers.py); anything else is reported, not guessed at.
KNOWN_EXTENSIONS = frozenset(
    {".txt", ".html", ".htm", ".pdf", ".json", ".jsonl", ".zip"}
    | {".png", ".jpg", ".jpeg", ".tif", ".tiff"}  # scans, read by OCR (ocr.py)
)
# Bulk formats, read record by record from a stream (readers.read_records).
STREAMED_EXTENSIONS = frozenset(STREAM_READERS)
# What reading a stream from disk or from a zip can raise when the file or zip is damaged.
STREAM_ERRORS = (OSError, EOFError, zipfile.BadZipFile, zlib.error, RuntimeError, ValueError)

Opener = Callable[[], AbstractContextManager[BinaryIO]]


@dataclass(frozen=True)
class SourceFile:
    """One file to read: its bytes, or (a bulk file) how to open it as a stream, or the reason
    it could not be read."""

    name: str  # shown in reports: a path, or "upload.zip/inner/name.txt"
    data: bytes = b""
    error: str | None = None
    # A bulk file too large to hold: opens it as a stream (a file on disk, an upload, a member of
    # a zip opened afresh), so it can be read after the generator that listed it has moved on.
    opener: Opener | None = field(default=None, repr=False, compare=False)
    size: int | None = None  # bytes of the file itself (uncompressed), when known
    # Bytes of the input on disk this file accounts for, for progress (a zip's are shared out
    # among its members).
    disk_bytes: int = 0
    # A README or licence that a folder walk or a zip leaves out: reported as left out, not read.
    left_out: bool = False

    @property
    def extension(self) -> str:
        return PurePosixPath(self.name).suffix.lower()

    @property
    def streamed(self) -> bool:
        """A bulk file: read as a stream of records, the size limit applying to each record."""
        return self.extension in STREAMED_EXTENSIONS

    def open(self) -> AbstractContextManager[BinaryIO]:
        """The file's bytes as a binary stream: the opener's, or the bytes in hand."""
        if self.opener is not None:
            return self.opener()
        return nullcontext(io.BytesIO(self.data))


def max_file_bytes() -> int:
    return int(settings.ARCHIVE_INGEST_MAX_FILE_BYTES)


def _too_big(size: int) -> str:
    limit = max_file_bytes()
    return (
        f"The file is {size / 1e6:.1f} MB, over the {limit / 1e6:.0f} MB limit "
        "(setting ARCHIVE_INGEST_MAX_FILE_BYTES)."
    )


# What a folder or zip of articles says about itself is no article: a corpus's README (the BBC
# corpus's README.TXT became a "document" of BBC News, with its curators as persons), its
# licence. Left out of folder walks and zips, and reported so; named on its own, it is read.
_ABOUT_FILES = frozenset({"readme", "license", "licence", "copying", "changelog", "authors"})


def _hidden(name: str) -> bool:
    parts = PurePosixPath(name.replace(os.sep, "/")).parts
    return any(part.startswith(".") or part == "__MACOSX" for part in parts)


def _about_the_collection(filename: str) -> bool:
    """A README or licence: it describes a folder or zip of articles, and is none."""
    name = PurePosixPath(filename.replace(os.sep, "/")).name
    return name.split(".")[0].lower() in _ABOUT_FILES


def list_files(paths: list[Path]) -> list[tuple[Path, Path | None]]:
    """(file, the folder it was found under) for every file of the input, without reading any:
    folders are walked recursively in name order, hidden files skipped (a folder's README or
    licence is listed, and :func:`from_paths` reports it as left out). Missing paths are kept,
    so reading them reports the error."""
    found: list[tuple[Path, Path | None]] = []
    for path in paths:
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not _hidden(d))
                found.extend(
                    (Path(root) / filename, path)
                    for filename in sorted(files)
                    if not _hidden(filename)
                )
        else:
            found.append((path, None))
    return found


def from_paths(paths: list[Path]) -> Iterator[SourceFile]:
    """Files, and folders walked recursively, read one at a time. A folder's README or licence
    is left out (named on its own, it is read)."""
    for path, root in list_files(paths):
        if root is not None and _about_the_collection(path.name):
            name = str(path.relative_to(root.parent))
            yield SourceFile(name, left_out=True, disk_bytes=_size(path))
        elif path.exists():
            yield from from_file(path, label_root=root)
        else:
            yield SourceFile(str(path), error="No such file or folder.")


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def from_file(path: Path, label_root: Path | None = None) -> Iterator[SourceFile]:
    name = str(path.relative_to(label_root.parent)) if label_root else str(path)
    size = 0
    try:
        size = path.stat().st_size
        extension = PurePosixPath(name).suffix.lower()
        opener = partial(path.open, "rb")
        if extension in STREAMED_EXTENSIONS:
            yield SourceFile(name, opener=opener, size=size, disk_bytes=size)
            return
        if extension != ".zip" and size > max_file_bytes():
            yield SourceFile(name, error=_too_big(size), disk_bytes=size)
            return
        with path.open("rb") as handle:
            yield from from_stream(name, handle, size, disk_bytes=size, reopen=opener)
    except OSError as exc:
        message = f"The file cannot be read: {exc.strerror or exc}."
        yield SourceFile(name, error=message, disk_bytes=size)


def _reuse(stream: BinaryIO) -> Opener:
    """An opener for a stream that is already open (an upload): it rewinds it and leaves it open
    for its owner to close."""
    start = stream.tell() if stream.seekable() else None

    @contextmanager
    def opener() -> Iterator[BinaryIO]:
        if start is not None:
            stream.seek(start)
        yield stream

    return opener


def from_stream(
    name: str,
    stream: BinaryIO,
    size: int | None = None,
    *,
    reopen: Opener | None = None,
    disk_bytes: int | None = None,
) -> Iterator[SourceFile]:
    """One uploaded or opened file; a zip is opened and its members yielded instead.

    A bulk file (JSONL, JSON) is not read here but yielded to be read as a stream later, by
    ``reopen`` (default: ``stream`` itself, rewound, which must then stay open until the file is
    read: an upload is, for its request). ``disk_bytes`` is the file's size on disk, for progress.
    """
    extension = PurePosixPath(name).suffix.lower()
    disk = disk_bytes if disk_bytes is not None else size or 0
    if extension == ".zip":
        yield from _from_zip(name, stream, reopen or _reuse(stream), disk)
        return
    if extension in STREAMED_EXTENSIONS:
        yield SourceFile(name, opener=reopen or _reuse(stream), size=size, disk_bytes=disk)
        return
    if size is not None and size > max_file_bytes():
        yield SourceFile(name, error=_too_big(size), disk_bytes=disk)
        return
    data = _read_up_to(stream, max_file_bytes() + 1, size)
    if len(data) > max_file_bytes():
        yield SourceFile(name, error=_too_big(len(data)), disk_bytes=disk)
        return
    yield SourceFile(name, data, size=len(data), disk_bytes=disk or len(data))


def _read_up_to(stream: BinaryIO, limit: int, expected: int | None) -> bytes:
    """At most ``limit`` bytes of ``stream``. With the size expected, one read of that size
    (and one more byte, to see a file that grew): a single ``read(limit)`` allocates the whole
    limit (21 MB) for every file, which cost an import of 2,225 small files over a second."""
    if expected is None or expected + 1 >= limit:
        return stream.read(limit)
    data = stream.read(expected + 1)
    if len(data) > expected:  # larger than it said: read on, to the limit
        data += stream.read(limit - len(data))
    return data


@contextmanager
def _open_member(reopen: Opener, member: zipfile.ZipInfo) -> Iterator[BinaryIO]:
    """A zip member as a stream, from the zip opened afresh (the listing's zip may be closed by
    then, or busy with the next member). Python's zip reader never returns more than the
    member's declared size, which the zip limits were checked against."""
    with reopen() as raw, zipfile.ZipFile(raw) as archive, archive.open(member) as handle:
        yield handle


def _unsafe(inner: str) -> bool:
    path = PurePosixPath(inner.replace("\\", "/"))
    return path.is_absolute() or ".." in path.parts or bool(path.parts and ":" in path.parts[0])


def _from_zip(
    name: str, stream: BinaryIO, reopen: Opener, disk_bytes: int = 0
) -> Iterator[SourceFile]:
    """Members of a zip, refusing unsafe names, nested archives and decompression bombs.

    Sizes in a zip's directory can lie, so each member is read with a hard cap as well. A bulk
    member over the per-file limit is streamed (the limit applies to each of its records), and
    counts towards the zip's total at its declared size, the most the zip reader will return.
    ``disk_bytes`` (the zip's size) is shared out: each member its compressed size, the first
    one also the zip's headers and directory.
    """
    limit = max_file_bytes()
    total_limit = int(settings.ARCHIVE_INGEST_MAX_ZIP_BYTES)
    max_ratio = int(settings.ARCHIVE_INGEST_MAX_ZIP_RATIO)
    try:
        archive = zipfile.ZipFile(stream)
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        yield SourceFile(name, error=f"Not a readable zip file ({exc}).", disk_bytes=disk_bytes)
        return
    declared_total = sum(member.file_size for member in members)
    if declared_total > total_limit:
        yield SourceFile(
            name,
            error=f"The zip expands to {declared_total / 1e6:.0f} MB, over the "
            f"{total_limit / 1e6:.0f} MB limit (ARCHIVE_INGEST_MAX_ZIP_BYTES); nothing was read.",
            disk_bytes=disk_bytes,
        )
        return

    def skipped(member: zipfile.ZipInfo) -> bool:
        return not _unsafe(member.filename) and (member.is_dir() or _hidden(member.filename))

    if all(skipped(member) for member in members):
        message = "The zip holds no files to import (only folders or hidden files)."
        yield SourceFile(name, error=message, disk_bytes=disk_bytes)
        return
    overhead = disk_bytes - sum(m.compress_size for m in members if not skipped(m))
    shares = iter([max(overhead, 0)])

    def share(member: zipfile.ZipInfo) -> int:
        return member.compress_size + next(shares, 0)

    read_total = 0
    with archive:
        for member in members:
            inner = member.filename
            label = f"{name}/{inner}"
            path = PurePosixPath(inner.replace("\\", "/"))
            if _unsafe(inner):
                message = "Unsafe path in the zip (absolute or with ../)."
                yield SourceFile(label, error=message, disk_bytes=share(member))
                continue
            if skipped(member):
                continue
            if _about_the_collection(inner):
                yield SourceFile(label, left_out=True, disk_bytes=share(member))
                continue
            if path.suffix.lower() == ".zip":
                message = "A zip inside a zip is not opened."
                yield SourceFile(label, error=message, disk_bytes=share(member))
                continue
            streamed = path.suffix.lower() in STREAMED_EXTENSIONS and member.file_size > limit
            if member.file_size > limit and not streamed:
                yield SourceFile(label, error=_too_big(member.file_size), disk_bytes=share(member))
                continue
            ratio = member.file_size / member.compress_size if member.compress_size else 0
            if ratio > max_ratio and member.file_size > 1_000_000:
                yield SourceFile(
                    label,
                    error=f"Compressed {ratio:.0f}:1, which looks like a decompression bomb; "
                    "not extracted.",
                    disk_bytes=share(member),
                )
                continue
            if streamed:
                read_total += member.file_size
                data = b""
            else:
                try:
                    with archive.open(member) as handle:
                        data = handle.read(limit + 1)
                except STREAM_ERRORS as exc:
                    message = f"Cannot extract from the zip ({exc})."
                    yield SourceFile(label, error=message, disk_bytes=share(member))
                    continue
                if len(data) > limit:
                    yield SourceFile(label, error=_too_big(len(data)), disk_bytes=share(member))
                    continue
                read_total += len(data)
            if read_total > total_limit:
                yield SourceFile(
                    label,
                    error="The zip expands past the ARCHIVE_INGEST_MAX_ZIP_BYTES limit; "
                    "the rest of it was not read.",
                    disk_bytes=share(member),
                )
                return
            if streamed:
                opener = partial(_open_member, reopen, member)
                yield SourceFile(
                    label, opener=opener, size=member.file_size, disk_bytes=share(member)
                )
            else:
                yield SourceFile(label, data, size=len(data), disk_bytes=share(member))
