"""OCR: the one place where scans (page images, PDFs without a text layer) become text.

Tesseract does the reading, through its command-line program (Debian's ``tesseract-ocr``) in a
subprocess, not through a Python binding: no dependency to install, the process's memory and time
are bounded from outside (``prlimit`` and a timeout) and a crash in it cannot take the worker
down. Its TSV output gives every word with its page, block, paragraph and line numbers and its
confidence, from which the text is rebuilt (paragraphs, hyphenation at line ends) and the mean
word confidence is taken.

PDFs are rendered page by page to 300 dpi greyscale PNG (``pdftoppm`` from poppler-utils when it
is installed, else Ghostscript with ``-dSAFER``, which Debian's OCRmyPDF depends on) and each page
is OCRed on its own. OCRmyPDF's ``--sidecar`` text was the alternative: it renders with
Ghostscript too, but it also builds an output PDF the archive does not keep (the original is kept
as uploaded), runs a Python process of its own and gives no word confidences. One page at a time
keeps the temporary disk use to one page image, and gives each page its own time limit.

Settings (``django.conf.settings``, else the environment, else the default):

- ``ARCHIVE_OCR_LANGUAGES``: Tesseract's language codes joined with ``+`` ("eng+deu"); default
  "eng". Each must be installed (``tesseract --list-langs``; ``apt-get install tesseract-ocr-deu``).
- ``ARCHIVE_OCR_MAX_PAGES``: the most pages one scan may have (default 100).
- ``ARCHIVE_OCR_PAGE_SECONDS``: the time limit for one page (default 120).
- ``ARCHIVE_OCR_MAX_MEMORY_MB``: the address-space limit of each OCR or rendering process
  (default 2048), so a decompression bomb of an image fails alone instead of exhausting the host.

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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from archive.ingest.drafts import ReadError

DEFAULT_LANGUAGES = "eng"
DEFAULT_MAX_PAGES = 100
DEFAULT_PAGE_SECONDS = 120.0
DEFAULT_MAX_MEMORY_MB = 2048
RENDER_DPI = 300
# A page whose lines slope more than this is straightened and read again (see ``_read``).
DESKEW_DEGREES = 0.5

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
    confidence of its words (0-100), its pages, and the seconds it took (wall clock)."""

    text: str
    mean_confidence: float
    pages: int
    seconds: float
    words: int = 0


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


def _tesseract(image: Path, pages: int) -> list[Word]:
    """The words Tesseract reads in one image file (every page of a multi-page TIFF)."""
    command = [
        tesseract_path(),
        str(image),
        "stdout",
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


def skew_degrees(words: Sequence[Word]) -> float:
    """How far the page's lines slope, in degrees (positive: down to the right), from the words'
    positions: the median over its lines of four words or more of the slope of their vertical
    centres. 0.0 when too few lines say."""
    lines: dict[tuple[int, int, int], list[Word]] = {}
    for word in words:
        lines.setdefault((word.block, word.par, word.line), []).append(word)
    slopes = []
    for line in lines.values():
        if len(line) < 4:
            continue
        xs = [w.left + w.width / 2 for w in line]
        ys = [w.top + w.height / 2 for w in line]
        mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
        spread = sum((x - mean_x) ** 2 for x in xs)
        if spread > 0:
            slopes.append(
                sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread
            )
    if len(slopes) < 3:
        return 0.0
    slopes.sort()
    return math.degrees(math.atan(slopes[len(slopes) // 2]))


def _straightened(image: Path, frame: int, degrees: float, folder: Path) -> Path | None:
    """The page (``frame`` of the image file) turned by ``degrees`` to level its lines, as a
    PNG; None without Pillow (then the page is read as it is)."""
    try:
        from PIL import Image
    except ImportError:
        return None
    out = folder / f"straight-{frame}.png"
    try:
        with Image.open(image) as opened:
            opened.seek(frame)
            page = opened.convert("L")
            # Expanded, on white: the corners of the text area stay on the page.
            turned = page.rotate(
                degrees, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255
            )
            dpi = opened.info.get("dpi") or (RENDER_DPI, RENDER_DPI)
            turned.save(out, dpi=dpi, compress_level=1)  # read once, at once: save fast
    except (OSError, ValueError, EOFError, Image.DecompressionBombError):
        return None  # Tesseract read it; Pillow cannot: the first reading stands
    return out


def _read(image: Path, pages: int) -> list[Word]:
    """The words of every page of an image file; a page whose lines slope by more than
    ``DESKEW_DEGREES`` is straightened and read again.

    Tesseract levels a page's lines itself only after finding its layout, and a slope of two
    degrees over a 17 cm line is more than a line's height: its layout analysis then drops whole
    lines (a page of 387 words, turned by 2 degrees, came back with 262; straightened, 386). The
    slope is measured on the first reading's words, so a level page costs no second pass."""
    words = _tesseract(image, pages)
    for page in sorted({word.page for word in words}):
        on_page = [word for word in words if word.page == page]
        degrees = skew_degrees(on_page)
        if abs(degrees) < DESKEW_DEGREES:
            continue
        straight = _straightened(image, page - 1, degrees, image.parent)
        if straight is None:
            break
        again = [
            Word(
                page, w.block, w.par, w.line, w.text, w.confidence, w.left, w.top, w.width, w.height
            )
            for w in _tesseract(straight, 1)
        ]
        straight.unlink()
        if len(again) > len(on_page):
            words = [word for word in words if word.page != page] + again
            words.sort(key=lambda word: word.page)  # stable: reading order within a page
    return words


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

_HYPHENS = ("-", "\u00ad", "\u2010")
_SENTENCE_END = (".", "!", "?", ":", "\u201d", '"', "\u2019")


def _fold(word: str) -> str:
    return word.strip(".,;:!?\"'()[]\u201c\u201d\u2018\u2019").casefold()


def _join_hyphenated(left: str, right: str, vocabulary: set[str]) -> str:
    """One word from a word broken at a line end ("pro-" + "posal"). The hyphen goes unless the
    hyphenated form appears elsewhere in the text and the joined one does not ("well-known"):
    most line-end hyphens in print are the typesetter's, not the word's."""
    stem = left.rstrip("".join(_HYPHENS))
    joined, kept = stem + right, f"{stem}-{right}"
    if _fold(kept) in vocabulary and _fold(joined) not in vocabulary:
        return kept
    return joined


def _paragraph(lines: list[list[str]], vocabulary: set[str]) -> str:
    """A paragraph's lines as one line of text, hyphenated line ends joined."""
    out: list[str] = []
    for line in lines:
        if not line:
            continue
        if (
            out
            and out[-1].endswith(_HYPHENS)
            and len(out[-1]) > 2
            and out[-1][-2].isalpha()
            and line[0][:1].islower()
        ):
            out[-1] = _join_hyphenated(out[-1], line[0], vocabulary)
            line = line[1:]
        out.extend(line)
    return " ".join(out)


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
    vocabulary = {_fold(word.text) for word in kept}
    paragraphs: list[tuple[int, str]] = []
    for (page, _, _), group in kept_groups:
        lines: dict[int, list[str]] = {}
        for word in group:
            lines.setdefault(word.line, []).append(word.text)
        text = _paragraph(list(lines.values()), vocabulary)
        if paragraphs and not paragraphs[-1][1].endswith(_SENTENCE_END) and text[:1].islower():
            paragraphs[-1] = (page, _paragraph([[paragraphs[-1][1]], [text]], vocabulary))
        else:
            paragraphs.append((page, text))
    return "\n\n".join(text for _, text in paragraphs), kept


def _result(words: list[Word], pages: int, started: float) -> OcrText:
    text, kept = build_text(words)
    if not kept:
        raise ReadError("OCR found no text in the scan (is it a page of text, the right way up?).")
    mean = sum(word.confidence for word in kept) / len(kept)
    return OcrText(text, round(mean, 2), pages, time.monotonic() - started, len(kept))


# --- Entry points ----------------------------------------------------------------------------


def ocr_image(data: bytes, name: str = "") -> OcrText:
    """The text of a page image (PNG, JPEG, or TIFF, whose pages are all read)."""
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
        words = _read(path, pages)
    return _result(words, pages, started)


def _renderer() -> list[str]:
    """The command that renders one PDF page to a 300 dpi greyscale PNG, without the page
    number and file names (see ``_render_page``)."""
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm:
        return [pdftoppm, "-r", str(RENDER_DPI), "-gray", "-png"]
    gs = shutil.which("gs")
    if gs:
        return [
            gs,
            "-q",
            "-dSAFER",  # no file access beyond the input and output (the default since 9.50)
            "-dBATCH",
            "-dNOPAUSE",
            "-sDEVICE=pnggray",
            f"-r{RENDER_DPI}",
            "-dTextAlphaBits=4",
            "-dGraphicsAlphaBits=4",
        ]
    raise ReadError(NO_RENDERER)


def _render_page(renderer: list[str], pdf: Path, page: int, folder: Path) -> Path:
    out = folder / f"page-{page}.png"
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


def ocr_pdf(data: bytes, pages: int) -> OcrText:
    """The text of a PDF without a text layer, ``pages`` long (its reader counted them): each
    page rendered at 300 dpi and OCRed in turn."""
    started = time.monotonic()
    limit = max_pages()
    if pages > limit:
        raise ReadError(
            f"The scanned PDF has {pages:,} pages, over the OCR limit of {limit:,} "
            "(setting ARCHIVE_OCR_MAX_PAGES)."
        )
    languages()
    tesseract_path()
    renderer = _renderer()
    words: list[Word] = []
    with tempfile.TemporaryDirectory(prefix="archive-ocr-") as name:
        folder = Path(name)
        pdf = folder / "scan.pdf"
        pdf.write_bytes(data)
        for page in range(1, pages + 1):
            image = _render_page(renderer, pdf, page, folder)
            words.extend(
                Word(page, w.block, w.par, w.line, w.text, w.confidence) for w in _read(image, 1)
            )
            image.unlink()
    return _result(words, pages, started)
