"""Where files come from: paths on disk (files, folders walked recursively) and zip archives,
read defensively. Every problem becomes a per-file error; nothing here raises for bad input."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from django.conf import settings

# Formats a reader exists for (see readers.py); anything else is reported, not guessed at.
KNOWN_EXTENSIONS = frozenset({".txt", ".html", ".htm", ".pdf", ".json", ".jsonl", ".zip"})


@dataclass(frozen=True)
class SourceFile:
    """One file to read: its bytes, or the reason it could not be read."""

    name: str  # shown in reports: a path, or "upload.zip/inner/name.txt"
    data: bytes = b""
    error: str | None = None

    @property
    def extension(self) -> str:
        return PurePosixPath(self.name).suffix.lower()


def max_file_bytes() -> int:
    return int(settings.ARCHIVE_INGEST_MAX_FILE_BYTES)


def _too_big(size: int) -> str:
    limit = max_file_bytes()
    return (
        f"The file is {size / 1e6:.1f} MB, over the {limit / 1e6:.0f} MB limit "
        "(setting ARCHIVE_INGEST_MAX_FILE_BYTES)."
    )


def _hidden(name: str) -> bool:
    parts = PurePosixPath(name.replace(os.sep, "/")).parts
    return any(part.startswith(".") or part == "__MACOSX" for part in parts)


def list_files(paths: list[Path]) -> list[tuple[Path, Path | None]]:
    """(file, the folder it was found under) for every file to read, without reading any:
    folders are walked recursively in name order, hidden files skipped. Missing paths are kept,
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
    """Files, and folders walked recursively, read one at a time."""
    for path, root in list_files(paths):
        if path.exists():
            yield from from_file(path, label_root=root)
        else:
            yield SourceFile(str(path), error="No such file or folder.")


def from_file(path: Path, label_root: Path | None = None) -> Iterator[SourceFile]:
    name = str(path.relative_to(label_root.parent)) if label_root else str(path)
    try:
        size = path.stat().st_size
        if size > max_file_bytes():
            yield SourceFile(name, error=_too_big(size))
            return
        with path.open("rb") as handle:
            yield from from_stream(name, handle)
    except OSError as exc:
        yield SourceFile(name, error=f"The file cannot be read: {exc.strerror or exc}.")


def from_stream(name: str, stream: BinaryIO, size: int | None = None) -> Iterator[SourceFile]:
    """One uploaded or opened file; a zip is opened and its members yielded instead."""
    if size is not None and size > max_file_bytes():
        yield SourceFile(name, error=_too_big(size))
        return
    if PurePosixPath(name).suffix.lower() == ".zip":
        yield from _from_zip(name, stream)
        return
    data = stream.read(max_file_bytes() + 1)
    if len(data) > max_file_bytes():
        yield SourceFile(name, error=_too_big(len(data)))
        return
    yield SourceFile(name, data)


def _from_zip(name: str, stream: BinaryIO) -> Iterator[SourceFile]:
    """Members of a zip, refusing unsafe names, nested archives and decompression bombs.

    Sizes in a zip's directory can lie, so each member is read with a hard cap as well.
    """
    limit = max_file_bytes()
    total_limit = int(settings.ARCHIVE_INGEST_MAX_ZIP_BYTES)
    max_ratio = int(settings.ARCHIVE_INGEST_MAX_ZIP_RATIO)
    try:
        archive = zipfile.ZipFile(stream)
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        yield SourceFile(name, error=f"Not a readable zip file ({exc}).")
        return
    declared_total = sum(member.file_size for member in members)
    if declared_total > total_limit:
        yield SourceFile(
            name,
            error=f"The zip expands to {declared_total / 1e6:.0f} MB, over the "
            f"{total_limit / 1e6:.0f} MB limit (ARCHIVE_INGEST_MAX_ZIP_BYTES); nothing was read.",
        )
        return
    read_total = 0
    with archive:
        for member in members:
            inner = member.filename
            label = f"{name}/{inner}"
            path = PurePosixPath(inner.replace("\\", "/"))
            if path.is_absolute() or ".." in path.parts or ":" in path.parts[0]:
                yield SourceFile(label, error="Unsafe path in the zip (absolute or with ../).")
                continue
            if member.is_dir() or _hidden(inner):
                continue
            if path.suffix.lower() == ".zip":
                yield SourceFile(label, error="A zip inside a zip is not opened.")
                continue
            if member.file_size > limit:
                yield SourceFile(label, error=_too_big(member.file_size))
                continue
            ratio = member.file_size / member.compress_size if member.compress_size else 0
            if ratio > max_ratio and member.file_size > 1_000_000:
                yield SourceFile(
                    label,
                    error=f"Compressed {ratio:.0f}:1, which looks like a decompression bomb; "
                    "not extracted.",
                )
                continue
            try:
                with archive.open(member) as handle:
                    data = handle.read(limit + 1)
            except (zipfile.BadZipFile, OSError, RuntimeError, ValueError, EOFError) as exc:
                yield SourceFile(label, error=f"Cannot extract from the zip ({exc}).")
                continue
            if len(data) > limit:
                yield SourceFile(label, error=_too_big(len(data)))
                continue
            read_total += len(data)
            if read_total > total_limit:
                yield SourceFile(
                    label,
                    error="The zip expands past the ARCHIVE_INGEST_MAX_ZIP_BYTES limit; "
                    "the rest of it was not read.",
                )
                return
            yield SourceFile(label, data)
