"""OCR: the one place where scans (page images, PDFs without a text layer) become text.

Tesseract does the reading, through its command-line program (Debian's ``tesseract-ocr``) in a
subprocess, not through a Python binding: no dependency to install, the process's memory and time
are bounded from outside (``prlimit`` and a timeout) and a crash in it cannot take the worker
down. Its TSV output gives every word with its page, block, paragraph and line numbers and its
confidence, from which the text is rebuilt (paragraphs, hyphenation at line ends) and the mean
word confidence is taken.

PDFs are rendered page by page to 300 dpi greyscale PGM (``pdftoppm`` from poppler-utils when it
is installed, else Ghostscript with ``-dSAFER``, which Debian's OCRmyPDF depends on) and each page
is OCRed on its own. OCRmyPDF's ``--sidecar`` text was the alternative: it renders with
Ghostscript too, but it also builds an output PDF the archive does not keep (the original is kept
as uploaded), runs a Python process of its own and gives no word confidences. A page at a time
keeps the temporary disk use to a page image or two, and gives each page its own time limit. A
PDF with a text layer on some pages and scans on others has only its scanned pages read here
(``ocr_pdf(only=...)``; which pages is the PDF reader's decision, ``readers.read_pdf``).

Before Tesseract sees a page it is turned upright as its EXIF Orientation tag says (a phone's
photograph of a page, taken sideways) and straightened when its lines slope by half a degree or
more: Tesseract levels lines itself only after finding the page's layout, and a slope of two
degrees over a 17 cm line is more than a line's height, so its layout analysis drops whole lines
(a page of 387 words, turned by 2 degrees, came back with 262; straightened, 386). The slope is
measured on the image, not on a first reading: a projection-profile search over the page shrunk
to 150 dpi (``estimate_skew``; about 0.05 s a page, within 0.05 degrees on the benchmark's
pages). Measuring it from the word boxes of a first reading, as this module did before, read
every skewed page twice (a degraded page took 6.1 s instead of about 3).

The pages of a multi-page scan (a PDF, a multi-page TIFF) are read several at a time, each by
its own Tesseract process started from a thread (``ARCHIVE_OCR_WORKERS``, by default two, or one
on a one-core machine, never more than the cores): pages are started in order, so page 2 is
rendered and straightened while page 1 is read. Each Tesseract process takes about 75 MB on an
A4 page at 300 dpi; two of them beside a job worker with the spaCy model loaded stay under the
worker's 600 MB (``bench/ocr_eval.py`` measures the sum).

Settings (``django.conf.settings``, else the environment, else the default):

- ``ARCHIVE_OCR_LANGUAGES``: Tesseract's language codes joined with ``+`` ("eng+deu"); default
  "eng". Each must be installed (``tesseract --list-langs``; ``apt-get install tesseract-ocr-deu``).
- ``ARCHIVE_OCR_MAX_PAGES``: the most pages one scan may have (default 100).
- ``ARCHIVE_OCR_PAGE_SECONDS``: the time limit for one page (default 120).
- ``ARCHIVE_OCR_MAX_MEMORY_MB``: the address-space limit of each OCR or rendering process
  (default 2048), so a decompression bomb of an image fails alone instead of exhausting the host.
  A page over ``MAX_PREPARED_PIXELS`` is therefore not decoded in the worker (to be turned or
  straightened): Tesseract reads it as it is.
- ``ARCHIVE_OCR_WORKERS``: how many pages of one scan are read at once (default two, at most
  the number of cores).

Tesseract runs with ``OMP_THREAD_LIMIT=1``: its OpenMP threads gain little on one page and, on a
busy machine (the web server, spaCy workers), spinning threads made one page take three to four
times longer in wall time than one thread did (12-16 s against 4.6 s, measured on two cores).
"""

from __future__ import annotations

import functools
import math
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings

from archive.ingest import text as text_module
from archive.ingest.drafts import ReadError

if TYPE_CHECKING:
    from PIL import Image

DEFAULT_LANGUAGES = "eng"
DEFAULT_MAX_PAGES = 100
DEFAULT_PAGE_SECONDS = 120.0
DEFAULT_MAX_MEMORY_MB = 2048
RENDER_DPI = 300
# A page whose lines slope by this much or more is straightened before it is read (``_prepared``).
DESKEW_DEGREES = 0.5
# The skew search (``estimate_skew``): the angles tried, and the page's longer side while trying.
SKEW_SEARCH_DEGREES = 5.0
SKEW_STEP = 0.25
SKEW_FINE_STEP = 0.02
SKEW_SIDE = 1750  # an A4 page at 150 dpi
SKEW_MAX_POINTS = 400_000
# A page larger than this (A4 at 500 dpi) is not decoded in the worker to be turned upright or
# straightened: Tesseract, bounded by its memory limit, reads it as it is.
MAX_PREPARED_PIXELS = 25_000_000

NOT_INSTALLED = "OCR is not installed: apt-get install tesseract-ocr"
NO_RENDERER = "PDF pages cannot be rendered for OCR: apt-get install poppler-utils (or ghostscript)"

# The formats Tesseract (through Leptonica) reads, recognised by their first bytes: the file's
# extension alone does not make a file an image.
IMAGE_SIGNATURES: dict[bytes, str] = {
    b"\x89PNG\r\n\x1a\n": "PNG",
    b"\xff\xd8\xff": "JPEG",
    b"II*\x00": "TIFF",
    b"MM\x00*": "TIFF",
}
SUFFIXES = {"PNG": ".png", "JPEG": ".jpg", "TIFF": ".tif"}

_LANGUAGE_CODE = re.compile(r"^[A-Za-z0-9_]+(/[A-Za-z0-9_]+)?$")


@dataclass(frozen=True)
class OcrText:
    """What OCR read from one scan: the text (paragraphs separated by blank lines), the mean
    confidence of its words (0-100), its pages, the seconds it took (wall clock), the words
    kept, and, when asked for, the text of each page read."""

    text: str
    mean_confidence: float
    pages: int
    seconds: float
    words: int = 0
    # (page number, text) of each page read, when the reader asked for them (``ocr_pdf(only=)``).
    page_texts: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class Word:
    """One word of Tesseract's TSV output, with where it sits on the page."""

    page: int
    block: int
    par: int
    line: int
    text: str
    confidence: float
    left: int = 0
    top: int = 0
    width: int = 0
    height: int = 0


# --- Settings --------------------------------------------------------------------------------


def _setting(name: str, default: str) -> str:
    value = getattr(settings, name, None)
    if value in (None, ""):
        value = os.environ.get(name) or default
    return str(value)


def max_pages() -> int:
    return int(_setting("ARCHIVE_OCR_MAX_PAGES", str(DEFAULT_MAX_PAGES)))


def page_seconds() -> float:
    return float(_setting("ARCHIVE_OCR_PAGE_SECONDS", str(DEFAULT_PAGE_SECONDS)))


def max_memory_bytes() -> int:
    return int(_setting("ARCHIVE_OCR_MAX_MEMORY_MB", str(DEFAULT_MAX_MEMORY_MB))) * 1024 * 1024


def workers() -> int:
    """How many pages of one scan are read at once (``ARCHIVE_OCR_WORKERS``): by default two,
    or one on a one-core machine; never more than the machine's cores."""
    cores = os.cpu_count() or 1
    value = _setting("ARCHIVE_OCR_WORKERS", str(min(2, cores)))
    try:
        wanted = int(value)
    except ValueError as exc:
        raise ReadError(f"ARCHIVE_OCR_WORKERS must be a whole number, got “{value}”.") from exc
    return max(1, min(wanted, cores))


def tesseract_path() -> str:
    found = shutil.which("tesseract")
    if found is None:
        raise ReadError(NOT_INSTALLED)
    return found


@functools.lru_cache(maxsize=4)
def _installed_languages(program: str) -> frozenset[str]:
    try:
        listed = subprocess.run(
            [program, "--list-langs"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise ReadError(f"{NOT_INSTALLED} ({exc})") from exc
    # The first line says where the language files are ("List of available languages in ...").
    return frozenset(line.strip() for line in listed.splitlines()[1:] if line.strip())


def installed_languages() -> frozenset[str]:
    """The language packs Tesseract has (``tesseract --list-langs``), "osd" included."""
    return _installed_languages(tesseract_path())


def languages() -> str:
    """The languages to read in (``ARCHIVE_OCR_LANGUAGES``), checked against the installed packs,
    so a missing pack is one clear message instead of Tesseract's own failure on every page."""
    program = tesseract_path()  # not installed at all: that is the message
    spec = _setting("ARCHIVE_OCR_LANGUAGES", DEFAULT_LANGUAGES).strip()
    codes = [code.strip() for code in spec.split("+")]
    if not spec or not all(_LANGUAGE_CODE.match(code) for code in codes):
        raise ReadError(
            f"ARCHIVE_OCR_LANGUAGES must be Tesseract language codes joined with “+” "
            f"(e.g. “eng” or “eng+deu”), got “{spec}”."
        )
    installed = _installed_languages(program)
    missing = [code for code in codes if code not in installed]
    if missing:
        packs = " ".join(f"tesseract-ocr-{code.replace('_', '-').lower()}" for code in missing)
        have = ", ".join(sorted(installed - {"osd"})) or "none"
        raise ReadError(
            f"The OCR language{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            f"(ARCHIVE_OCR_LANGUAGES) {'are' if len(missing) > 1 else 'is'} not installed "
            f"(installed: {have}): apt-get install {packs}."
        )
    return "+".join(codes)


# --- Running the programs --------------------------------------------------------------------


def _limited(command: list[str]) -> list[str]:
    """The command under an address-space limit, when util-linux's ``prlimit`` is there (it is
    on Debian): set from outside rather than with ``preexec_fn``, which is unsafe in a
    threaded process such as the web server."""
    prlimit = shutil.which("prlimit")
    if prlimit is None:
        return command
    return [prlimit, f"--as={max_memory_bytes()}", "--", *command]


def _run(command: list[str], timeout: float, what: str) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    try:
        return subprocess.run(
            _limited(command), capture_output=True, timeout=timeout, env=env, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise ReadError(
            f"{what} took longer than {timeout:.0f} seconds and was stopped "
            "(setting ARCHIVE_OCR_PAGE_SECONDS)."
        ) from exc
    except OSError as exc:
        raise ReadError(f"{what} could not be started ({exc}).") from exc


def _last_line(stderr: bytes) -> str:
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines()]
    useful = [line for line in lines if line and not line.startswith(("Warning", "Estimating"))]
    return (useful or lines or [""])[-1][:300]


def image_kind(data: bytes) -> str | None:
    """The kind of image ("PNG", "JPEG" or "TIFF") its first bytes say; None for any other."""
    for signature, kind in IMAGE_SIGNATURES.items():
        if data.startswith(signature):
            return kind
    return None


def tiff_pages(data: bytes) -> int:
    """The pages (image file directories) of a TIFF, counted without decoding it, so the page
    limit holds before any OCR starts. A damaged chain counts the pages before the damage."""
    if len(data) < 8:
        return 0
    order = "little" if data[:2] == b"II" else "big"
    offset = int.from_bytes(data[4:8], order)
    pages = 0
    seen: set[int] = set()
    while 8 <= offset <= len(data) - 2 and offset not in seen and pages < 100_000:
        seen.add(offset)
        entries = int.from_bytes(data[offset : offset + 2], order)
        end = offset + 2 + entries * 12
        if end + 4 > len(data):
            break
        pages += 1
        offset = int.from_bytes(data[end : end + 4], order)
    return pages


def _tesseract(image: Path, pages: int, dpi: int | None = None) -> list[Word]:
    """The words Tesseract reads in one image file (every page of a multi-page TIFF); ``dpi``
    when the file does not say (a rendered PDF page), else Tesseract takes the file's own or
    estimates it from the letters."""
    resolution = ["--dpi", str(dpi)] if dpi else []
    command = [
        tesseract_path(),
        str(image),
        "stdout",
        *resolution,
        "-l",
        languages(),
        "--psm",
        "3",  # the page's layout found automatically: columns, blocks, paragraphs
        # No second pass looking for white-on-black text: a news page has none, and the pass
        # costs time on every line.
        "-c",
        "tessedit_do_invert=0",
        "tsv",
    ]
    done = _run(command, page_seconds() * max(pages, 1), "OCR")
    if done.returncode != 0:
        reason = _last_line(done.stderr)
        if done.returncode < 0 or "alloc" in reason:
            reason = f"it stopped ({reason or 'killed'}); the image may be too large"
        raise ReadError(f"OCR could not read the image ({reason}).")
    return parse_tsv(done.stdout.decode("utf-8", "replace"))


# --- Before Tesseract: upright and level -----------------------------------------------------


def estimate_skew(page: Image.Image) -> float:
    """How far a page's lines slope, in degrees (positive: down to the right), measured before
    any OCR: the angle whose projection profile is sharpest. The page is shrunk to about 150
    dpi (its longer side to ``SKEW_SIDE`` pixels), its dark pixels are projected onto the
    vertical axis at each angle from -``SKEW_SEARCH_DEGREES`` to +``SKEW_SEARCH_DEGREES`` in
    ``SKEW_STEP`` steps, then in ``SKEW_FINE_STEP`` steps around the best, and the angle whose
    row histogram has the largest sum of squares wins: level lines of text pile their pixels
    into few rows, with white rows between them. Turning the page by the result (Pillow's
    ``rotate``, counter-clockwise) levels it. 0.0 for a page with too little ink to say."""
    import numpy as np

    grey = page if page.mode == "L" else page.convert("L")
    factor = max(1, round(max(grey.size) / SKEW_SIDE))
    small = np.asarray(grey.reduce(factor) if factor > 1 else grey)
    if small.size == 0:
        return 0.0
    # Ink: darker than halfway between the paper (the median) and the darkest percent.
    paper, ink = float(np.median(small)), float(np.percentile(small, 1))
    if paper - ink < 32:
        return 0.0  # a blank or flat page
    ys, xs = np.nonzero(small < (paper + ink) / 2)
    if len(ys) < 200:
        return 0.0
    if len(ys) > SKEW_MAX_POINTS:  # a photograph or a dark page: a sample of its ink is enough
        step = len(ys) // SKEW_MAX_POINTS + 1
        ys, xs = ys[::step], xs[::step]
    ys = ys - ys.mean()
    xs = xs - xs.mean()

    def sharpness(degrees: float) -> float:
        angle = math.radians(degrees)
        rows = np.rint(ys * math.cos(angle) - xs * math.sin(angle)).astype(np.int64)
        counts = np.bincount(rows - rows.min())
        return float(np.dot(counts, counts))

    steps = round(SKEW_SEARCH_DEGREES / SKEW_STEP)
    best = max((i * SKEW_STEP for i in range(-steps, steps + 1)), key=sharpness)
    fine = round(SKEW_STEP / SKEW_FINE_STEP)
    best = max((best + i * SKEW_FINE_STEP for i in range(-fine, fine + 1)), key=sharpness)
    return round(best, 2)


_PREPARED_MODES = {"1", "L", "P", "PA", "LA", "RGB", "RGBA", "CMYK", "YCbCr"}


def _prepared(source: Path, frame: int, out: Path, whole: bool) -> Path | None:
    """Frame ``frame`` of the image ``source`` as Tesseract should read it: turned upright as
    its EXIF Orientation tag says (Tesseract ignores the tag: a phone's sideways photograph
    would be read as sideways text) and straightened when its lines slope by
    ``DESKEW_DEGREES`` or more (``estimate_skew``), saved to ``out`` (an uncompressed TIFF:
    written in a hundredth of the time a PNG takes, and read once, at once). ``source`` itself
    when it is one page (``whole``) that needs neither. None when Pillow cannot read the page
    or it is over ``MAX_PREPARED_PIXELS`` (then it is read as it is)."""
    from PIL import ExifTags, Image, ImageOps

    try:
        with Image.open(source) as opened:
            if frame:
                opened.seek(frame)
            if opened.width * opened.height > MAX_PREPARED_PIXELS:
                return None  # decoded here, it would cost the worker's memory; Tesseract is bounded
            dpi = opened.info.get("dpi")
            if opened.format == "JPEG":
                opened.draft("L", opened.size)  # decoded straight to grey: no colour copy
            orientation = opened.getexif().get(ExifTags.Base.Orientation, 1)
            turned = orientation in range(2, 9)
            if turned:
                ImageOps.exif_transpose(opened, in_place=True)
                if dpi and orientation in (5, 6, 7, 8):
                    dpi = (dpi[1], dpi[0])
            if opened.mode not in _PREPARED_MODES:
                return None  # 16-bit or float samples: Leptonica scales them down itself
            if opened.mode in ("RGBA", "LA", "PA") or "transparency" in opened.info:
                # A transparent background is white paper, not the black its pixels may hold.
                rgba = opened.convert("RGBA")
                page = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba)
                page = page.convert("L")
            else:
                page = opened if opened.mode == "L" else opened.convert("L")
            page.load()
            degrees = estimate_skew(page)
            level = abs(degrees) < DESKEW_DEGREES
            if level and not turned and whole:
                return source
            if not level:
                # Expanded, on white: the corners of the text area stay on the page. Bilinear:
                # a third of bicubic's time, and the same words read (bench/ocr_eval.py).
                page = page.rotate(
                    degrees, resample=Image.Resampling.BILINEAR, expand=True, fillcolor=255
                )
            if dpi:
                page.save(out, "TIFF", dpi=dpi)
            else:
                page.save(out, "TIFF")  # Tesseract estimates the resolution from the letters
    except (OSError, ValueError, EOFError, Image.DecompressionBombError):
        return None  # Tesseract may still read it (or say why not)
    return out


def _page_words(words: list[Word], page: int) -> list[Word]:
    return [replace(word, page=page) for word in words]


def _read_page(
    source: Path, frame: int, page: int, whole: bool, dpi: int | None = None
) -> list[Word]:
    """The words of one page: frame ``frame`` of the image ``source``, prepared (upright,
    level), OCRed once, numbered ``page``; ``dpi`` for a file that does not say it. A page of
    a multi-page file (not ``whole``) that cannot be prepared raises ``_Unprepared``: Tesseract
    reads the file's pages only together."""
    out = source.with_name(f"{source.stem}-page-{page}.tif")
    prepared = _prepared(source, frame, out, whole)
    if prepared is None:
        if not whole:
            raise _Unprepared
        prepared = source
    try:
        return _page_words(_tesseract(prepared, 1, dpi), page)
    finally:
        if prepared != source:
            prepared.unlink(missing_ok=True)


class _Unprepared(Exception):
    """A page of a multi-page TIFF that Pillow cannot take apart."""


def _in_parallel(tasks: Sequence[Callable[[], list[Word]]]) -> list[Word]:
    """The words of the pages, one task per page, in page order; at most ``workers()`` tasks
    (each running one program at a time) at once. They are started in page order, so with two
    workers page 2 is rendered and straightened while page 1 is read. The first failing page
    (in page order) fails the scan, and the pages not yet started are not."""
    count = min(workers(), len(tasks))
    if count <= 1:
        return [word for task in tasks for word in task()]
    with ThreadPoolExecutor(max_workers=count, thread_name_prefix="ocr-page") as pool:
        futures = [pool.submit(task) for task in tasks]
        try:
            return [word for future in futures for word in future.result()]
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def parse_tsv(tsv: str) -> list[Word]:
    """The words (level 5 rows) of Tesseract's TSV output, in reading order."""
    words: list[Word] = []
    for row in tsv.splitlines()[1:]:
        cells = row.split("\t")
        if len(cells) < 12 or cells[0] != "5":
            continue
        text = cells[11].strip()
        try:
            confidence = float(cells[10])
        except ValueError:
            continue
        if not text or confidence < 0:
            continue
        page, block, par, line, left, top, width, height = (
            int(cells[i]) for i in (1, 2, 3, 4, 6, 7, 8, 9)
        )
        words.append(Word(page, block, par, line, text, confidence, left, top, width, height))
    return words


# --- Text from words -------------------------------------------------------------------------

_SENTENCE_END = (".", "!", "?", ":", "\u201d", '"', "\u2019")


def _is_noise(words: Sequence[Word]) -> bool:
    """A paragraph made only of specks: no word of two or more letters or digits, all read with
    low confidence (dirt, a punch hole, the edge of the page)."""
    return all(word.confidence < 50 and sum(ch.isalnum() for ch in word.text) < 2 for word in words)


def build_text(words: Iterable[Word]) -> tuple[str, list[Word]]:
    """The text of a scan's words: one paragraph per Tesseract paragraph (separated by blank
    lines, which is how the archive's texts mark paragraphs), each line of a paragraph joined to
    the next with hyphenation at line ends undone. A paragraph that runs on (no sentence end
    before the break, a lowercase word after it: Tesseract split it, or a page break did) is
    joined. Paragraphs of specks are
    left out. Returns the text and the words kept (for the mean confidence)."""
    groups: dict[tuple[int, int, int], list[Word]] = {}
    for word in words:
        groups.setdefault((word.page, word.block, word.par), []).append(word)
    kept_groups = [(key, group) for key, group in groups.items() if not _is_noise(group)]
    kept = [word for _, group in kept_groups for word in group]
    vocabulary = text_module.vocabulary(word.text for word in kept)
    paragraphs: list[tuple[int, str]] = []
    for (page, _, _), group in kept_groups:
        lines: dict[int, list[str]] = {}
        for word in group:
            lines.setdefault(word.line, []).append(word.text)
        text = text_module.join_lines(list(lines.values()), vocabulary)
        if paragraphs and not paragraphs[-1][1].endswith(_SENTENCE_END) and text[:1].islower():
            joined = text_module.join_lines([[paragraphs[-1][1]], [text]], vocabulary)
            paragraphs[-1] = (page, joined)
        else:
            paragraphs.append((page, text))
    return "\n\n".join(text for _, text in paragraphs), kept


def _result(
    words: list[Word], pages: int, started: float, numbers: Sequence[int] = (), some: bool = False
) -> OcrText:
    """What the words say: the text, the mean confidence of the words kept, the text of each of
    the pages ``numbers``. No word at all is an error, unless ``some`` (other pages have text)."""
    text, kept = build_text(words)
    if not kept and not some:
        raise ReadError("OCR found no text in the scan (is it a page of text, the right way up?).")
    mean = sum(word.confidence for word in kept) / len(kept) if kept else 0.0
    page_texts = tuple(
        (number, build_text(word for word in words if word.page == number)[0]) for number in numbers
    )
    return OcrText(text, round(mean, 2), pages, time.monotonic() - started, len(kept), page_texts)


# --- Entry points ----------------------------------------------------------------------------


def ocr_image(data: bytes, name: str = "") -> OcrText:
    """The text of a page image (PNG, JPEG, or TIFF, whose pages are all read, several at a
    time), each page turned upright and straightened first."""
    started = time.monotonic()
    kind = image_kind(data)
    if kind is None:
        raise ReadError(
            f"“{Path(name).name or 'The file'}” is not a PNG, JPEG or TIFF image "
            "(its first bytes say otherwise)."
        )
    pages = tiff_pages(data) if kind == "TIFF" else 1
    if kind == "TIFF" and pages == 0:
        raise ReadError("The TIFF image is damaged (no readable page).")
    limit = max_pages()
    if pages > limit:
        raise ReadError(
            f"The scan has {pages:,} pages, over the limit of {limit:,} "
            "(setting ARCHIVE_OCR_MAX_PAGES)."
        )
    languages()  # a missing language pack is reported before any work
    with tempfile.TemporaryDirectory(prefix="archive-ocr-") as folder:
        path = Path(folder) / f"scan{SUFFIXES[kind]}"
        path.write_bytes(data)
        whole = pages == 1
        tasks = [
            functools.partial(_read_page, path, page - 1, page, whole)
            for page in range(1, pages + 1)
        ]
        try:
            words = _in_parallel(tasks)
        except _Unprepared:
            # Pillow cannot take the TIFF apart: Tesseract reads its pages as they are.
            words = _tesseract(path, pages)
    return _result(words, pages, started)


def _renderer() -> list[str]:
    """The command that renders one PDF page to a 300 dpi greyscale PGM, without the page
    number and file names (see ``_render_page``). PGM, not PNG: the page is read once, at once,
    and pdftoppm took 12 s to compress a noisy page to PNG, against 0.25 s to write it as PGM
    (Ghostscript: 1.25 s against 0.3 s)."""
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm:
        return [pdftoppm, "-r", str(RENDER_DPI), "-gray"]
    gs = shutil.which("gs")
    if gs:
        return [
            gs,
            "-q",
            "-dSAFER",  # no file access beyond the input and output (the default since 9.50)
            "-dBATCH",
            "-dNOPAUSE",
            "-sDEVICE=pgmraw",
            f"-r{RENDER_DPI}",
            "-dTextAlphaBits=4",
            "-dGraphicsAlphaBits=4",
        ]
    raise ReadError(NO_RENDERER)


def _render_page(renderer: list[str], pdf: Path, page: int, folder: Path) -> Path:
    out = folder / f"page-{page}.pgm"
    if Path(renderer[0]).name == "pdftoppm":
        command = [*renderer, "-f", str(page), "-l", str(page), "-singlefile"]
        command += [str(pdf), str(out.with_suffix(""))]
    else:
        command = [*renderer, f"-dFirstPage={page}", f"-dLastPage={page}"]
        command += [f"-sOutputFile={out}", str(pdf)]
    done = _run(command, page_seconds(), f"Rendering page {page} of the PDF")
    if done.returncode != 0 or not out.exists():
        reason = _last_line(done.stderr) or f"exit status {done.returncode}"
        raise ReadError(f"Page {page} of the PDF could not be rendered for OCR ({reason}).")
    return out


def _read_pdf_page(renderer: list[str], pdf: Path, page: int, folder: Path) -> list[Word]:
    image = _render_page(renderer, pdf, page, folder)
    try:
        return _read_page(image, 0, page, whole=True, dpi=RENDER_DPI)
    finally:
        image.unlink(missing_ok=True)


def ocr_pdf(data: bytes, pages: int, only: Sequence[int] | None = None) -> OcrText:
    """The text of a PDF's scanned pages. ``pages`` is its length (its reader counted them),
    ``only`` the pages to read (numbered from 1; by default all: a PDF without a text layer).
    Each page is rendered at 300 dpi, straightened and OCRed, several at a time. With ``only``
    (the other pages have a text layer) finding no word is not an error; the result gives each
    page's text (``page_texts``) for the reader to put between the others."""
    started = time.monotonic()
    wanted = list(range(1, pages + 1)) if only is None else sorted(set(only))
    limit = max_pages()
    if len(wanted) > limit:
        what = "The scanned PDF has" if only is None else "The PDF has"
        kind = "pages" if only is None else "scanned pages"
        raise ReadError(
            f"{what} {len(wanted):,} {kind}, over the OCR limit of {limit:,} "
            "(setting ARCHIVE_OCR_MAX_PAGES)."
        )
    languages()
    tesseract_path()
    renderer = _renderer()
    with tempfile.TemporaryDirectory(prefix="archive-ocr-") as name:
        folder = Path(name)
        pdf = folder / "scan.pdf"
        pdf.write_bytes(data)
        tasks = [functools.partial(_read_pdf_page, renderer, pdf, page, folder) for page in wanted]
        words = _in_parallel(tasks)
    numbers = wanted if only is not None else ()
    return _result(words, pages, started, numbers, some=only is not None)
