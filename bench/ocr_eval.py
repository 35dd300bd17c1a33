"""How well scans are read: real article text rendered to page images, imported through the real
pipeline, the OCR text scored against the original, on a development part and a held-out part.

    python bench/ocr_eval.py                  # both parts, both variants (about 15 minutes)
    python bench/ocr_eval.py --parts development --bbc 5 --long 1 --variants clean   # quicker

What it does:

1. Articles, in two parts chosen once by fixed rules (the development guide: tune only on the
   development part, report both). BBC articles are the files
   ``../shared/corpora/bbc/bbc/<category>/NNN.txt`` in path order (2,225 of them).
   *development* (looked at while building the OCR, tuned on): the two seeds
   (``../shared/seeds/*.txt``), ``--bbc`` N BBC articles spread evenly over the corpus (file
   ``i * total // N`` for i = 0..N-1), and the *long* articles at even positions (see below).
   *held-out* (never tuned on; only reported): N BBC articles halfway between the development
   picks (file ``i * total // N + total // (2 N)``, file 55, 166, ... for N = 20) and the long
   articles at odd positions. The long articles, so that each part has PDFs of several pages:
   the BBC articles whose stored body has at least 900 words (34 of them), picks
   ``k * count // (2 L)`` for k = 0..2L-1 (``--long`` L per part, default 3), even k for the
   development part, odd k for the held-out one. An article whose text equals one already chosen
   (the BBC corpus repeats some stories under other numbers) is replaced by the next file in path
   order. The reference text of an article is what importing its ``.txt`` file stores as the body
   (``readers.from_plain_text``: the headline and the paragraphs, page chrome and a leading
   ``date`` line removed), so a perfect OCR scores 100 %.
2. Rendering: each article on A4 pages at 300 dpi (2480 x 3508 px), 2 cm margins, the headline
   in bold 16 pt, the paragraphs in 11 pt with a blank half-line between them, words wrapped (no
   hyphenation), as many pages as it takes; even-numbered articles of a part in Liberation Serif,
   odd ones in DejaVu Sans (Debian's fonts-liberation and fonts-dejavu-core).
3. Variants. *clean*: the pages as rendered, saved as PNG (one page), as a PDF of the pages
   (JPEG quality 95, no text layer) for the long articles at the first and third positions of
   the part, else as a multi-page LZW TIFF. *degraded*: each page rotated by 1-2 degrees (sign
   and size from a seeded random generator), blurred (Gaussian, radius 0.7 px), Gaussian noise
   added (sigma 25 of 255), then JPEG-encoded at quality 40; saved as that JPEG (one page) or as
   a PDF of those JPEG pages (several pages; a PDF without a text layer, so it is OCRed too).
   The images live in a temporary folder only, and are made in a process of their own.
4. Import: each part's variant folder through ``archive.ingest.ingest`` (``manage.py ingest``'s
   and the background job's pipeline, one process as the job worker runs it, persons extracted)
   into a fresh archive in a temporary data directory; the documents are deleted after each
   folder (a perfect read of both variants would otherwise be one document and a duplicate).
5. Scoring, per document: word accuracy = max(0, 1 - d / n), where n is the number of words of
   the reference and d the word-level Levenshtein distance (insertions, deletions, substitutions,
   each 1) between the reference's words and the OCR body's words. Words are the
   whitespace-separated tokens of the text after Unicode NFKC normalisation and casefolding, each
   with leading and trailing punctuation (Unicode categories P*: quotes, brackets, commas, full
   stops, %, dashes) stripped; tokens left empty are dropped. Inner punctuation stays ("aol's",
   "year-earlier", "$1.13bn"). Also: whether the title is the headline (same words).

Reported per part and variant: documents and pages, the median and mean word accuracy (and the
lowest), the median and largest OCR seconds per page (wall clock, and the CPU seconds of the OCR
processes per page), the seconds per page of the PDFs, the mean OCR confidence, and the peak
memory of the whole worker (this Python process and all its children, their RSS summed, sampled
every 50 ms). For the run: the peak RSS of this Python process (``getrusage``; it has the spaCy
model loaded, as a job worker has) and the peak RSS of each OCR program it ran (Tesseract, the
PDF renderer), measured with GNU ``time`` around each run. Written to
``bench/results/ocr-eval-<date>.json`` (no article text in it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import multiprocessing
import os
import random
import resource
import statistics
import sys
import tempfile
import threading
import time
import unicodedata
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
sys.path.insert(0, str(REPO))

DPI = 300
PAGE = (2480, 3508)  # A4 at 300 dpi
MARGIN = 236  # 2 cm
BODY_PT, HEADLINE_PT = 11, 16
FONTS = {
    "serif": (
        "/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSerif-Bold.ttf",
    ),
    "sans": (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    ),
}


# --- Articles -------------------------------------------------------------------------------


PARTS = ("development", "held-out")
LONG_WORDS = 900  # a long article: at least this many words in its stored body


def _body(path: Path) -> str:
    from archive.ingest import readers, text

    return readers.from_plain_text(path.name, text.decode(path.read_bytes())).body


def bbc_files() -> list[Path]:
    return sorted((SHARED / "corpora/bbc/bbc").glob("*/*.txt"))


def selection(bbc: int, long: int) -> tuple[dict[str, list[Path]], set[Path]]:
    """Each part's article files, by the rules of the module docstring (item 1), and which of
    them are long articles."""
    files = bbc_files()
    total = len(files)
    bodies: dict[Path, str] = {}

    def body(path: Path) -> str:
        if path not in bodies:
            bodies[path] = _body(path)
        return bodies[path]

    chosen_texts: set[str] = set()

    def take(index: int) -> Path:
        """File ``index``, or the next one whose text is not chosen yet."""
        for path in files[index:] + files[:index]:
            if body(path) not in chosen_texts:
                chosen_texts.add(body(path))
                return path
        raise SystemExit("no article left to choose")

    seeds = sorted((SHARED / "seeds").glob("*.txt"))
    for seed in seeds:
        chosen_texts.add(body(seed))
    development = list(seeds)
    held_out: list[Path] = []
    long_ones: set[Path] = set()
    if bbc > 0 and files:
        development += [take(i * total // bbc) for i in range(bbc)]
        held_out += [take(i * total // bbc + total // (2 * bbc)) for i in range(bbc)]
    if long > 0 and files:
        pool = [path for path in files if len(body(path).split()) >= LONG_WORDS]
        picks = [pool[k * len(pool) // (2 * long)] for k in range(2 * long)]
        for k, path in enumerate(picks):
            taken = take(files.index(path))
            (development if k % 2 == 0 else held_out).append(taken)
            long_ones.add(taken)
    return {"development": development, "held-out": held_out}, long_ones


def articles(paths: list[Path], long: set[Path]) -> list[tuple[str, str, bool]]:
    """(identifier, reference text, long) of each article: the body the archive stores."""
    return [(str(path.relative_to(SHARED)), _body(path), path in long) for path in paths]


# --- Rendering ------------------------------------------------------------------------------


def render(body: str, style: str):
    """The text on A4 pages (Pillow images, greyscale): first paragraph as the headline."""
    from PIL import Image, ImageDraw, ImageFont

    regular, bold = FONTS[style]
    body_font = ImageFont.truetype(regular, round(BODY_PT * DPI / 72))
    head_font = ImageFont.truetype(bold, round(HEADLINE_PT * DPI / 72))
    width = PAGE[0] - 2 * MARGIN
    pages: list = []
    page = draw = None
    y = 0

    def new_page():
        nonlocal page, draw, y
        page = Image.new("L", PAGE, 255)
        draw = ImageDraw.Draw(page)
        pages.append(page)
        y = MARGIN

    new_page()
    paragraphs = [p for p in body.split("\n") if p.strip()]
    for number, paragraph in enumerate(paragraphs):
        font = head_font if number == 0 else body_font
        step = round(font.size * 1.3)
        lines: list[str] = []
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}" if line else word
            if line and draw.textlength(candidate, font=font) > width:
                lines.append(line)
                line = word
            else:
                line = candidate
        if line:
            lines.append(line)
        for text_line in lines:
            if y + step > PAGE[1] - MARGIN:
                new_page()
            draw.text((MARGIN, y), text_line, font=font, fill=0)
            y += step
        y += step // 2
    return pages


def degrade(page, rng: random.Random):
    """Rotated 1-2 degrees, blurred, noisy, JPEG quality 40: returned decoded, as a scanner's
    JPEG would be read."""
    import numpy as np
    from PIL import Image, ImageFilter

    angle = rng.uniform(1.0, 2.0) * rng.choice((-1, 1))
    page = page.rotate(angle, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=255)
    page = page.filter(ImageFilter.GaussianBlur(0.7))
    noise = np.random.default_rng(rng.randrange(2**32)).normal(0, 25, (page.height, page.width))
    pixels = np.clip(np.asarray(page, dtype=np.float32) + noise, 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels, "L").save(out, "JPEG", quality=40, dpi=(DPI, DPI))
    return out.getvalue(), angle


def write_variant(
    folder: Path, variant: str, chosen: list[tuple[str, str, bool]]
) -> dict[str, dict]:
    """The variant's files in ``folder``; returns file name -> article facts."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(15)
    files: dict[str, dict] = {}
    long_seen = 0
    for number, (label, body, long) in enumerate(chosen):
        style = "serif" if number % 2 == 0 else "sans"
        pages = render(body, style)
        stem = f"{number:03d}-" + label.replace("/", "_").removesuffix(".txt")
        angles: list[float] = []
        as_pdf = long and long_seen % 2 == 0  # the first and third long articles
        long_seen += long
        if variant == "clean":
            if len(pages) == 1:
                name = f"{stem}.png"
                pages[0].save(folder / name, "PNG", dpi=(DPI, DPI))
            elif as_pdf:
                name = f"{stem}.pdf"
                pages[0].save(
                    folder / name,
                    "PDF",
                    save_all=True,
                    append_images=pages[1:],
                    resolution=DPI,
                    quality=95,
                )
            else:
                name = f"{stem}.tif"
                pages[0].save(
                    folder / name,
                    "TIFF",
                    save_all=True,
                    append_images=pages[1:],
                    compression="tiff_lzw",
                    dpi=(DPI, DPI),
                )
        else:
            jpegs = []
            for page in pages:
                data, angle = degrade(page, rng)
                jpegs.append(data)
                angles.append(round(angle, 2))
            if len(pages) == 1:
                name = f"{stem}.jpg"
                (folder / name).write_bytes(jpegs[0])
            else:
                name = f"{stem}.pdf"
                images = [Image.open(io.BytesIO(data)) for data in jpegs]
                images[0].save(
                    folder / name,
                    "PDF",
                    save_all=True,
                    append_images=images[1:],
                    resolution=DPI,
                    quality=90,  # the q40 damage is already in the pixels
                )
        files[name] = {
            "article": label,
            "font": style,
            "pages": len(pages),
            "reference": body,
            "angles": angles,
            "bytes": (folder / name).stat().st_size,
        }
    return files


# --- Scoring --------------------------------------------------------------------------------


def words(value: str) -> list[str]:
    """Casefolded words, leading and trailing punctuation (Unicode P*) stripped, empties dropped."""
    out = []
    for token in unicodedata.normalize("NFKC", value).casefold().split():
        start, end = 0, len(token)
        while start < end and unicodedata.category(token[start]).startswith("P"):
            start += 1
        while end > start and unicodedata.category(token[end - 1]).startswith("P"):
            end -= 1
        if start < end:
            out.append(token[start:end])
    return out


def edit_distance(reference: list[str], hypothesis: list[str]) -> int:
    """Word-level Levenshtein distance (insert, delete, substitute: 1 each)."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, 1):
        current = [i] + [0] * len(hypothesis)
        for j, hyp in enumerate(hypothesis, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref != hyp))
        previous = current
    return previous[-1]


def word_accuracy(reference: str, hypothesis: str) -> tuple[float, int, int]:
    ref, hyp = words(reference), words(hypothesis)
    distance = edit_distance(ref, hyp)
    return max(0.0, 1 - distance / len(ref)) if ref else 0.0, distance, len(ref)


# --- Running --------------------------------------------------------------------------------


def rss_mb(kilobytes: int) -> float:
    return round(kilobytes / 1024, 1)


def summary(rows: list[dict]) -> dict:
    scored = [r for r in rows if r.get("accuracy") is not None]
    accuracy = [r["accuracy"] for r in scored]
    per_page = [r["ocr_seconds"] / r["pages"] for r in scored]
    cpu_per_page = [r["ocr_cpu_seconds"] / r["pages"] for r in scored]
    pdfs = [r for r in scored if r["file"].endswith(".pdf")]
    return {
        "documents": len(rows),
        "scored": len(scored),
        "failed": [r["file"] + ": " + r["message"] for r in rows if r.get("accuracy") is None],
        "pages": sum(r["pages"] for r in rows),
        "formats": dict(sorted(_count(Path(r["file"]).suffix for r in rows).items())),
        "accuracy_median": round(statistics.median(accuracy), 4) if accuracy else None,
        "accuracy_mean": round(statistics.fmean(accuracy), 4) if accuracy else None,
        "accuracy_min": round(min(accuracy), 4) if accuracy else None,
        "accuracy_pooled": (
            round(1 - sum(r["distance"] for r in scored) / sum(r["words"] for r in scored), 4)
            if scored
            else None
        ),
        "titles_right": sum(r["title_right"] for r in scored),
        "seconds_per_page_median": round(statistics.median(per_page), 2) if per_page else None,
        "seconds_per_page_max": round(max(per_page), 2) if per_page else None,
        "cpu_seconds_per_page_median": (
            round(statistics.median(cpu_per_page), 2) if cpu_per_page else None
        ),
        "multi_page": {
            r["file"]: {
                "pages": r["pages"],
                "seconds_per_page": round(r["ocr_seconds"] / r["pages"], 2),
            }
            for r in scored
            if r["pages"] > 1
        },
        "pdf_seconds_per_page": (
            round(sum(r["ocr_seconds"] for r in pdfs) / sum(r["pages"] for r in pdfs), 2)
            if pdfs
            else None
        ),
        "pdf_seconds_per_page_max": (
            round(max(r["ocr_seconds"] / r["pages"] for r in pdfs), 2) if pdfs else None
        ),
        "confidence_mean": (
            round(statistics.fmean(r["confidence"] for r in scored), 1) if scored else None
        ),
    }


def _count(values) -> dict:
    counts: dict = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts


class TreeMemory:
    """The peak of the summed RSS of this process and all its descendants (the OCR and rendering
    programs, and GNU time around them), sampled every ``interval`` seconds from /proc. A child
    caught between fork and exec (its command line still this process's) is left out: it
    shares this process's pages, and counting them would count this process twice."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.peak_kb = 0
        self.peak_detail: dict[str, int] = {}  # program -> RSS (kB) summed, at the peak
        self._own_cmdline = self._cmdline(os.getpid())
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @staticmethod
    def _rss_kb(pid: int) -> tuple[str, int]:
        name, rss = "?", 0
        try:
            with open(f"/proc/{pid}/status") as status:
                for line in status:
                    if line.startswith("Name:"):
                        name = line.split()[1]
                    elif line.startswith("VmRSS:"):
                        rss = int(line.split()[1])
        except OSError:
            pass
        return name, rss

    def total_kb(self) -> tuple[int, dict[str, int]]:
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry))
        total, detail, todo = 0, {}, [os.getpid()]
        while todo:
            pid = todo.pop()
            todo.extend(children.get(pid, []))
            if pid != os.getpid() and self._cmdline(pid) == self._own_cmdline:
                continue
            name, rss = self._rss_kb(pid)
            name = "python (this process)" if pid == os.getpid() else name
            total += rss
            detail[name] = detail.get(name, 0) + rss
        return total, detail

    @staticmethod
    def _cmdline(pid: int) -> bytes:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                return cmdline.read()
        except OSError:
            return b""

    def _sample(self) -> None:
        while not self._stop.is_set():
            total, detail = self.total_kb()
            if total > self.peak_kb:
                self.peak_kb, self.peak_detail = total, detail
            self._stop.wait(self.interval)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--bbc", type=int, default=20, help="BBC articles in each part's even spread"
    )
    parser.add_argument("--long", type=int, default=3, help="long articles in each part")
    parser.add_argument("--parts", default="development,held-out", help="development, held-out")
    parser.add_argument("--variants", default="clean,degraded", help="clean, degraded or both")
    parser.add_argument("--json", type=Path, help="default: bench/results/ocr-eval-<date>.json")
    parser.add_argument("--verbose", action="store_true", help="one line per document")
    args = parser.parse_args()

    work = tempfile.TemporaryDirectory(prefix="ocr-eval-")
    root = Path(work.name)
    os.environ["ARCHIVE_DATA_DIR"] = str(root / "archive")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from archive import ingest
    from archive.ingest import ocr, readers
    from archive.models import Document

    call_command("migrate", verbosity=0)
    parts, long_ones = selection(args.bbc, args.long)
    wanted_parts = [part.strip() for part in args.parts.split(",") if part.strip()]
    unknown = set(wanted_parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown parts: {', '.join(sorted(unknown))}")
    overlap = set(parts["development"]) & set(parts["held-out"])
    assert not overlap, overlap  # the rules keep the parts apart

    # Each scan's reading (OCR, and rendering for a PDF): wall and child CPU seconds, by name.
    timings: dict[str, dict] = {}
    for extension in (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".pdf"):

        def timed(name, data, _reader=readers.READERS[extension]):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.monotonic()
            try:
                return _reader(name, data)
            finally:
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
                timings[name] = {"seconds": time.monotonic() - started, "cpu": cpu}

        readers.READERS[extension] = timed

    # The peak RSS of each OCR and rendering process, from GNU time around it: getrusage's
    # RUSAGE_CHILDREN would report this process's own size (a child's peak counts the moments
    # between fork and exec, when it is a copy of this process).
    child_log = root / "child-rss.log"
    gnu_time = "/usr/bin/time" if Path("/usr/bin/time").exists() else None
    if gnu_time:
        limited = ocr._limited

        def measured(command, _limited=limited):
            program = Path(command[0]).name
            return [gnu_time, "-a", "-o", str(child_log), "-f", f"{program} %M", *_limited(command)]

        ocr._limited = measured

    results: dict = {
        "date": dt.date.today().isoformat(),
        "command": "python bench/ocr_eval.py " + " ".join(sys.argv[1:]),
        "tesseract": _tesseract_version(),
        "languages": ocr.languages(),
        "ocr_workers": ocr.workers(),
        "cpus": os.cpu_count(),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
        "parts": {},
    }
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    for part in wanted_parts:
        chosen = articles(parts[part], long_ones)
        results["parts"][part] = {
            "articles": [label for label, _, _ in chosen],
            "long_articles": [label for label, _, long in chosen if long],
            "variants": {},
        }
        for variant in variants:
            folder = root / "images" / part / variant
            # Rendered in a process of its own, so this one's peak RSS is the import's alone.
            with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
                files = pool.submit(write_variant, folder, variant, chosen).result()
            load_before = [round(x, 2) for x in os.getloadavg()]
            started = time.monotonic()
            with TreeMemory() as tree:
                report = ingest.ingest(ingest.from_paths([folder]))
            wall = time.monotonic() - started
            rows = []
            for item in report.items:
                name = Path(item.source).name
                info = files[name]
                row = {"file": name, "article": info["article"], "pages": info["pages"]}
                timing = timings.get(item.source)
                if item.document_id is None or item.outcome != ingest.Outcome.CREATED:
                    row.update(accuracy=None, message=f"{item.outcome}: {item.message}")
                    rows.append(row)
                    continue
                document = Document.objects.get(pk=item.document_id)
                accuracy, distance, count = word_accuracy(info["reference"], document.body)
                headline = info["reference"].split("\n")[0]
                row.update(
                    accuracy=round(accuracy, 4),
                    distance=distance,
                    words=count,
                    title_right=words(document.title) == words(headline),
                    confidence=document.ocr_confidence,
                    ocr_seconds=round(timing["seconds"], 2) if timing else float("nan"),
                    ocr_cpu_seconds=round(timing["cpu"], 2) if timing else float("nan"),
                    font=info["font"],
                    angles=info["angles"],
                    original_kept=bool(document.original_file),
                )
                rows.append(row)
                if args.verbose:
                    print(
                        f"{part:11} {variant:9} {name:48} pages {info['pages']} "
                        f"acc {accuracy:.4f} conf {document.ocr_confidence:5.1f} "
                        f"{row['ocr_seconds']:5.2f}s",
                        flush=True,
                    )
            facts = summary(rows)
            results["parts"][part]["variants"][variant] = {
                **facts,
                "import_seconds": round(wall, 1),
                "worker_peak_rss_mb": rss_mb(tree.peak_kb),
                "worker_peak_by_program_mb": {
                    name: rss_mb(kb) for name, kb in sorted(tree.peak_detail.items())
                },
                "load_average_before": load_before,
                "load_average_after": [round(x, 2) for x in os.getloadavg()],
                "documents_detail": rows,
            }
            print(
                part,
                variant,
                json.dumps({**facts, "worker_peak_rss_mb": rss_mb(tree.peak_kb)}),
                flush=True,
            )
            Document.objects.all().delete()

    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peaks: dict[str, int] = {}
    if child_log.exists():
        for line in child_log.read_text().splitlines():
            parts_of_line = line.split()
            if len(parts_of_line) == 2 and parts_of_line[1].isdigit():
                program, kb = parts_of_line[0], int(parts_of_line[1])
                peaks[program] = max(peaks.get(program, 0), kb)
    largest = max(peaks.values(), default=0)
    results["rss_mb"] = {
        "python_peak": rss_mb(own),
        "child_peaks": {program: rss_mb(kb) for program, kb in sorted(peaks.items())},
        "sum_of_peaks": rss_mb(own + ocr.workers() * largest),
        "worker_peak_sampled": rss_mb(
            max(
                (
                    v["worker_peak_rss_mb"]
                    for p in results["parts"].values()
                    for v in p["variants"].values()
                ),
                default=0,
            )
            * 1024
        ),
        "note": "python_peak: this process (getrusage), with the spaCy model loaded (persons are "
        "extracted, as in the job worker), turning and straightening pages (Pillow, numpy); "
        "child_peaks: each OCR and rendering program (GNU time); sum_of_peaks: the Python peak "
        "plus ocr_workers times the largest child (the pages of a scan are read that many at a "
        "time); worker_peak_sampled: the largest sum of the RSS of this process and all its "
        "children at one moment (sampled every 50 ms)",
    }
    results["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    out = args.json or REPO / "bench/results" / f"ocr-eval-{results['date']}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", "utf-8")
    print(json.dumps(results["rss_mb"]), flush=True)
    print(f"written {out}")
    work.cleanup()


def _tesseract_version() -> str:
    import subprocess

    try:
        done = subprocess.run(["tesseract", "--version"], capture_output=True, text=True)
    except OSError:
        return "not installed"
    return (done.stdout or done.stderr).splitlines()[0].strip()


if __name__ == "__main__":
    main()
