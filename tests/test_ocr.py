"""Scans: page images and PDFs without a text layer, read by OCR through the real pipeline.

Real Tesseract (Debian's tesseract-ocr) on pages rendered here with Pillow, real SQLite, real
Whoosh index, real spaCy model; the OCR tests are skipped where Tesseract is not installed."""

from __future__ import annotations

import io
import os
import shutil
import textwrap
import threading
import time
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from PIL import ExifTags, Image, ImageDraw, ImageFont
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ContentStream, DictionaryObject, NameObject

from archive import ingest, search
from archive.ingest import ocr, readers
from archive.ingest.drafts import ReadError
from archive.ingest.sources import from_paths
from archive.models import Document

# CI sets ARCHIVE_REQUIRE_OCR=1 (.ci/run installs Tesseract): there these tests must run.
REQUIRED = bool(os.environ.get("ARCHIVE_REQUIRE_OCR"))
needs_tesseract = pytest.mark.skipif(
    shutil.which("tesseract") is None and not REQUIRED,
    reason="Tesseract is not installed (apt-get install tesseract-ocr): OCR tests skipped",
)
needs_renderer = pytest.mark.skipif(
    shutil.which("pdftoppm") is None and shutil.which("gs") is None and not REQUIRED,
    reason="no PDF renderer (apt-get install poppler-utils or ghostscript): PDF OCR skipped",
)

FONTS = [
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"),
    Path("/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf"),
]
HEADLINE = "Lighthouse Keeper Rescues Stranded Fishermen"
ARTICLE = [
    HEADLINE,
    "The lighthouse keeper of Carrowmore guided three stranded fishermen to safety on Tuesday "
    "night, after their trawler lost power off the northern headland.",
    "Coastguard officers praised the keeper, who signalled the boat with a lamp for two hours "
    "until the lifeboat arrived from the harbour.",
]


def _font(size: int):
    for path in FONTS:
        if path.exists():
            return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)


def render_page(paragraphs: list[str], height: int = 1300) -> Image.Image:
    """The paragraphs on a white page 2480 pixels wide (A4 at 300 dpi), 12 pt text, wrapped."""
    image = Image.new("L", (2480, height), 255)
    draw = ImageDraw.Draw(image)
    font = _font(50)
    y = 200
    for paragraph in paragraphs:
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}".strip()
            if draw.textlength(candidate, font=font) > 2480 - 400 and line:
                draw.text((200, y), line, font=font, fill=0)
                y += 66
                line = word
            else:
                line = candidate
        draw.text((200, y), line, font=font, fill=0)
        y += 66 + 40
    return image


def encoded(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, dpi=(300, 300), **options)
    return out.getvalue()


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def run(*paths: Path) -> ingest.IngestReport:
    return ingest.ingest(from_paths(list(paths)))


def stored_originals(media: Path) -> list[Path]:
    return sorted(p for p in (media / "originals").rglob("*") if p.is_file())


@needs_tesseract
def test_a_png_scan_is_searchable_and_keeps_its_original(client, transactional_db, media, tmp_path):
    data = encoded(render_page(ARTICLE), "PNG")
    path = tmp_path / "carrowmore-scan.png"
    path.write_bytes(data)

    report = run(path)

    [item] = report.items
    assert item.outcome == ingest.Outcome.CREATED, item.message
    document = Document.objects.get(pk=item.document_id)
    assert document.title == HEADLINE
    assert "stranded fishermen to safety on Tuesday" in document.body
    assert 80 <= document.ocr_confidence <= 100
    assert document.original_file.name.startswith("originals/")
    assert document.original_file.name.endswith(".png")
    with document.original_file.open("rb") as handle:
        assert handle.read() == data

    # Searchable through the public API, like any text.
    found = client.get("/api/search", {"q": "Carrowmore lifeboat"}).json()
    assert [hit["id"] for hit in found["results"]] == [document.pk]

    # The page links to the original and says how confident the OCR was.
    page = client.get(document.get_absolute_url()).content.decode()
    original_url = reverse("archive:document-original", args=[document.pk])
    assert f'href="{original_url}"' in page
    assert "Original scan (PNG, " in page
    assert f"{document.ocr_confidence:.0f} % mean word confidence" in page

    served = client.get(original_url)
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert served["Content-Disposition"].startswith("inline")
    assert b"".join(served.streaming_content) == data

    # The same scan again is a duplicate, and leaves no second copy of the file behind.
    again = run(path)
    assert [i.outcome for i in again.items] == [ingest.Outcome.DUPLICATE]
    assert len(stored_originals(media)) == 1


@needs_tesseract
@needs_renderer
def test_a_pdf_without_a_text_layer_is_ocred(client, transactional_db, media, tmp_path):
    data = encoded(render_page(ARTICLE), "PDF", resolution=300)
    path = tmp_path / "scan.pdf"
    path.write_bytes(data)

    [item] = run(path).items

    assert item.outcome == ingest.Outcome.CREATED, item.message
    document = Document.objects.get(pk=item.document_id)
    assert document.title == HEADLINE
    assert "Coastguard officers praised the keeper" in document.body
    assert document.ocr_confidence > 80
    assert document.original_file.name.endswith(".pdf")
    assert search.search(search.SearchRequest(q="Carrowmore")).total == 1
    served = client.get(reverse("archive:document-original", args=[document.pk]))
    assert served["Content-Type"] == "application/pdf"
    assert served["Content-Disposition"].startswith("attachment")
    assert "Original scan (PDF, " in client.get(document.get_absolute_url()).content.decode()


@needs_tesseract
def test_jpeg_and_multi_page_tiff_are_read(tmp_path):
    jpeg = encoded(render_page(ARTICLE), "JPEG", quality=60)
    [draft] = readers.read("scan.jpg", ".jpg", jpeg)
    assert draft.title == HEADLINE
    assert draft.original.name == "scan.jpg" and draft.original.size == len(jpeg)

    first, second = render_page(ARTICLE[:2]), render_page(ARTICLE[2:], height=700)
    out = io.BytesIO()
    first.save(out, "TIFF", save_all=True, append_images=[second], dpi=(300, 300))
    [draft] = readers.read("scan.tiff", ".tiff", out.getvalue())
    assert draft.title == HEADLINE
    assert "Coastguard officers praised" in draft.body  # the second page
    assert ocr.tiff_pages(out.getvalue()) == 2


def test_bad_images_fail_alone_with_a_reason(transactional_db, media, tmp_path):
    (tmp_path / "noise.png").write_bytes(b"this is not an image at all")
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00garbage" * 50)
    (tmp_path / "note.txt").write_text("A Note That Comes In\n\nThe other file is fine.", "utf-8")

    report = run(tmp_path)

    items = {Path(item.source).name: item for item in report.items}
    assert items["note.txt"].outcome == ingest.Outcome.CREATED
    assert items["noise.png"].outcome == ingest.Outcome.FAILED
    assert "not a PNG, JPEG or TIFF image" in items["noise.png"].message
    assert items["broken.jpg"].outcome == ingest.Outcome.FAILED
    if shutil.which("tesseract"):
        assert "OCR could not read the image" in items["broken.jpg"].message
    assert Document.objects.count() == 1
    assert not (media / "originals").exists()


@needs_tesseract
def test_a_missing_language_pack_is_a_clear_message(settings, transactional_db, tmp_path):
    settings.ARCHIVE_OCR_LANGUAGES = "eng+xyz"
    path = tmp_path / "scan.png"
    path.write_bytes(encoded(render_page(ARTICLE[:1], height=400), "PNG"))

    [item] = run(path).items

    assert item.outcome == ingest.Outcome.FAILED
    assert "xyz (ARCHIVE_OCR_LANGUAGES) is not installed" in item.message
    assert "apt-get install tesseract-ocr-xyz" in item.message


@needs_tesseract
def test_a_malformed_language_setting_is_a_clear_message(settings):
    settings.ARCHIVE_OCR_LANGUAGES = "eng; rm -rf /"
    with pytest.raises(ReadError, match="language codes joined with"):
        ocr.languages()


def test_without_tesseract_the_message_says_what_to_install(monkeypatch):
    monkeypatch.setattr(ocr.shutil, "which", lambda name: None)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    with pytest.raises(ReadError, match=r"^OCR is not installed: apt-get install tesseract-ocr"):
        ocr.ocr_image(png, "scan.png")


@needs_tesseract
def test_page_and_time_limits(settings):
    pages = [render_page(ARTICLE[:1], height=400) for _ in range(3)]
    out = io.BytesIO()
    pages[0].save(out, "TIFF", save_all=True, append_images=pages[1:])
    settings.ARCHIVE_OCR_MAX_PAGES = 2
    with pytest.raises(ReadError, match=r"3 pages, over the limit of 2 \(setting ARCHIVE_OCR"):
        ocr.ocr_image(out.getvalue(), "scan.tif")
    settings.ARCHIVE_OCR_MAX_PAGES = 10
    settings.ARCHIVE_OCR_PAGE_SECONDS = 0.01
    with pytest.raises(ReadError, match="took longer than 0 seconds and was stopped"):
        ocr.ocr_image(encoded(pages[0], "PNG"), "scan.png")


def _tsv(rows: list[tuple[int, int, int, int, str, float]]) -> str:
    header = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight"
    lines = [header + "\tconf\ttext"]
    for number, (page, block, par, line, text, conf) in enumerate(rows, 1):
        lines.append(f"5\t{page}\t{block}\t{par}\t{line}\t{number}\t0\t0\t9\t9\t{conf}\t{text}")
    return "\n".join(lines) + "\n"


def test_text_is_rebuilt_in_paragraphs_with_line_end_hyphens_joined():
    words = ocr.parse_tsv(
        _tsv(
            [
                (1, 1, 1, 1, "Storm", 96),
                (1, 1, 1, 1, "Closes", 95),
                (1, 1, 1, 1, "Harbour", 96),
                (1, 2, 1, 1, "The", 96),
                (1, 2, 1, 1, "harbour", 95),
                (1, 2, 1, 1, "was", 96),
                (1, 2, 1, 1, "closed", 95),
                (1, 2, 1, 1, "after", 93),
                (1, 2, 1, 1, "a", 96),
                (1, 2, 1, 1, "pro-", 90),
                (1, 2, 1, 2, "posal", 90),
                (1, 2, 1, 2, "by", 96),
                (1, 2, 1, 2, "the", 96),
                (1, 2, 1, 2, "well-", 91),
                (1, 2, 1, 3, "known", 91),
                (1, 2, 1, 3, "pilot", 96),
                (1, 2, 1, 3, "(a", 96),
                (1, 2, 1, 3, "well-known", 92),
                (1, 2, 1, 3, "figure)", 94),
                (1, 2, 1, 3, "who", 96),
                (1, 3, 1, 1, "~", 12),  # a speck
                (1, 3, 1, 1, ".", 20),
                (2, 1, 1, 1, "said", 95),  # the paragraph goes on over the page
                (2, 1, 1, 1, "so.", 95),
                (2, 1, 2, 1, "Ships", 96),
                (2, 1, 2, 1, "waited.", 96),
            ]
        )
    )
    text, kept = ocr.build_text(words)
    assert text == (
        "Storm Closes Harbour\n\n"
        "The harbour was closed after a proposal by the well-known pilot (a well-known figure) "
        "who said so.\n\n"
        "Ships waited."
    )
    assert len(kept) == len(words) - 2
    draft = readers.from_plain_text("scan.png", text)
    assert draft.title == "Storm Closes Harbour"


@needs_tesseract
def test_an_editor_corrects_the_text_and_the_index_follows(
    client, transactional_db, media, tmp_path
):
    path = tmp_path / "scan.png"
    path.write_bytes(encoded(render_page(ARTICLE), "PNG"))
    [item] = run(path).items
    document = Document.objects.get(pk=item.document_id)
    shaky = Document.objects.create(title="Shaky scan", body="Blurred.", ocr_confidence=42.0)
    typed = Document.objects.create(title="Typed", body="Not a scan.")
    editor = User.objects.create_superuser("editor", "editor@example.com", "a-long-password-1")
    client.force_login(editor)

    # The list of scans to check, least confident first.
    changelist = reverse("admin:archive_document_changelist")
    listed = client.get(changelist, {"ocr": "all"}).context["cl"].result_list
    assert [d.pk for d in listed] == [shaky.pk, document.pk]
    assert typed not in listed
    assert [d.pk for d in client.get(changelist, {"ocr": "80"}).context["cl"].result_list] == [
        shaky.pk
    ]

    url = reverse("admin:archive_document_change", args=[document.pk])
    form_page = client.get(url).content.decode()
    assert reverse("archive:document-original", args=[document.pk]) in form_page
    assert "OCR confidence" in form_page

    response = client.post(
        url,
        {
            "title": document.title,
            "body": document.body.replace("Carrowmore", "Carrowkeel"),
            "published": "",
            "publication": "",
            "source_url": "",
            "external_id": "",
            "story": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert search.search(search.SearchRequest(q="Carrowkeel")).total == 1
    assert search.search(search.SearchRequest(q="Carrowmore")).total == 0
    document.refresh_from_db()
    assert document.ocr_confidence is None  # checked: off the list
    assert document.original_file  # kept
    client.logout()
    page = client.get(document.get_absolute_url()).content.decode()
    assert "checked by an editor" in page
    assert "Original scan (PNG, " in page


def test_only_a_documents_own_original_is_served(client, make_document):
    document = make_document(title="Typed", body="No scan behind this one.")
    assert client.get(reverse("archive:document-original", args=[document.pk])).status_code == 404
    assert client.get("/documents/999999/original").status_code == 404
    assert "Original scan" not in client.get(document.get_absolute_url()).content.decode()


# --- Skew, orientation, mixed PDFs, pages in parallel -------------------------------------------

LATER = [
    "Harbour Trust Buys Old Ferry",
    "The harbour trust has bought the old Carrowmore ferry, which last sailed in 1998, and plans "
    "to moor it by the museum as a floating exhibition of the town's fishing history.",
]
CLOSING = [
    "Council Approves Sea Wall Repairs",
    "The county council approved repairs to the sea wall along the promenade on Thursday, after "
    "winter storms washed away part of the footpath near the lifeboat station.",
]


def _flat(value: str) -> str:
    """The text on one line, apostrophes straight (the archive's text curls them)."""
    return " ".join(value.replace("\u2019", "'").split())


def text_layer_pdf(paragraphs: list[str]) -> bytes:
    """A one-page A4 PDF whose text is a real text layer (Helvetica), no image."""
    writer = PdfWriter()
    page = writer.add_blank_page(595, 842)
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
    )
    operators = ["BT", "/F1 11 Tf", "14 TL", "56 780 Td"]
    for paragraph in paragraphs:
        for line in textwrap.wrap(paragraph, 90):
            escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            operators.append(f"({escaped}) Tj T*")
        operators.append("T*")
    operators.append("ET")
    content = ContentStream(None, None)
    content.set_data("\n".join(operators).encode("latin-1"))
    page.replace_contents(content)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def merged_pdf(*parts: bytes) -> bytes:
    writer = PdfWriter()
    for part in parts:
        for page in PdfReader(io.BytesIO(part)).pages:
            writer.add_page(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_the_skew_of_a_page_is_found_before_any_ocr():
    page = render_page(ARTICLE, height=1800)
    assert abs(ocr.estimate_skew(page)) < 0.1
    for degrees in (1.7, -2.4, 0.6, -3.0):
        turned = page.rotate(degrees, resample=Image.Resampling.BICUBIC, fillcolor=255)
        # Turning the page back by the estimate levels it.
        assert ocr.estimate_skew(turned) == pytest.approx(-degrees, abs=0.3)
    assert ocr.estimate_skew(Image.new("L", (2480, 3508), 255)) == 0.0  # a blank page


@needs_tesseract
def test_a_skewed_page_is_straightened_and_read_once(monkeypatch):
    calls = []
    real = ocr._tesseract
    monkeypatch.setattr(ocr, "_tesseract", lambda *args: calls.append(args) or real(*args))
    page = render_page(ARTICLE, height=1800).rotate(
        2.2, resample=Image.Resampling.BICUBIC, fillcolor=255
    )
    result = ocr.ocr_image(encoded(page, "PNG"), "skewed.png")
    assert len(calls) == 1  # one reading, of the straightened page
    for paragraph in ARTICLE:
        assert _flat(paragraph) in _flat(result.text)


@needs_tesseract
@needs_renderer
def test_a_mixed_pdf_reads_text_pages_and_ocrs_scanned_ones_in_page_order(
    transactional_db, media, tmp_path
):
    scan = encoded(render_page(LATER), "PDF", resolution=300)
    data = merged_pdf(text_layer_pdf(ARTICLE), scan, text_layer_pdf(CLOSING))
    assert len(PdfReader(io.BytesIO(data)).pages) == 3

    [draft] = readers.read("mixed.pdf", ".pdf", data)

    body = _flat(draft.body)
    expected = [_flat(p) for p in (*ARTICLE, *LATER, *CLOSING)]
    for paragraph in expected:
        assert paragraph in body
    positions = [body.index(paragraph) for paragraph in expected]
    assert positions == sorted(positions)  # page 1's text, then the scan's, then page 3's
    assert draft.title == HEADLINE
    # The confidence is the OCRed words' only, and the file is kept to check them against.
    assert 80 <= draft.ocr_confidence <= 100
    assert draft.original is not None and draft.original.size == len(data)

    # Through the pipeline: one document with all three pages' text.
    path = tmp_path / "mixed.pdf"
    path.write_bytes(data)
    [item] = run(path).items
    assert item.outcome == ingest.Outcome.CREATED, item.message
    assert search.search(search.SearchRequest(q="ferry museum")).total == 1


def test_a_pdf_with_a_text_layer_on_every_page_is_not_ocred():
    data = merged_pdf(text_layer_pdf(ARTICLE), text_layer_pdf(LATER))
    [draft] = readers.read("typed.pdf", ".pdf", data)
    assert _flat(LATER[1]) in _flat(draft.body)
    assert draft.ocr_confidence is None and draft.original is None


@needs_tesseract
def test_an_exif_rotated_jpeg_is_turned_upright_before_ocr():
    upright = render_page(ARTICLE, height=1800)
    # As a phone stores a page photographed sideways: the pixels turned, the tag saying how to
    # show them (6: turn clockwise by 90 degrees).
    sideways = upright.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    data = encoded(sideways, "JPEG", quality=85, exif=exif.tobytes())
    assert Image.open(io.BytesIO(data)).size == (1800, 2480)

    [draft] = readers.read("photo.jpg", ".jpg", data)

    assert draft.title == HEADLINE
    assert _flat(ARTICLE[2]) in _flat(draft.body)
    assert draft.ocr_confidence > 80


def test_the_workers_setting_is_bounded_by_the_cores(settings):
    cores = os.cpu_count() or 1
    settings.ARCHIVE_OCR_WORKERS = 64
    assert ocr.workers() == cores
    settings.ARCHIVE_OCR_WORKERS = 0
    assert ocr.workers() == 1
    settings.ARCHIVE_OCR_WORKERS = "two"
    with pytest.raises(ReadError, match="ARCHIVE_OCR_WORKERS must be a whole number"):
        ocr.workers()


@needs_tesseract
@needs_renderer
@pytest.mark.parametrize("kind", ["TIFF", "PDF"])
def test_pages_read_in_parallel_keep_their_order(settings, monkeypatch, kind):
    settings.ARCHIVE_OCR_WORKERS = 2
    running, most = 0, 0
    lock = threading.Lock()
    real = ocr._tesseract

    def counted(*args):  # the real Tesseract, counting how many run at once
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        try:
            return real(*args)
        finally:
            time.sleep(0.05)
            with lock:
                running -= 1

    monkeypatch.setattr(ocr, "_tesseract", counted)
    # The first page is the longest, so a later page is done first.
    pages = [
        render_page(ARTICLE, height=1800),
        render_page(LATER[1:], height=600),
        render_page(CLOSING[1:], height=600).rotate(
            -1.5, resample=Image.Resampling.BICUBIC, fillcolor=255
        ),
    ]
    out = io.BytesIO()
    pages[0].save(out, kind, save_all=True, append_images=pages[1:], resolution=300, dpi=(300, 300))
    data = out.getvalue()

    result = ocr.ocr_image(data, "scan.tif") if kind == "TIFF" else ocr.ocr_pdf(data, 3)

    text = _flat(result.text)
    expected = [_flat(ARTICLE[1]), _flat(LATER[1]), _flat(CLOSING[1])]
    for paragraph in expected:
        assert paragraph in text
    assert [text.index(p) for p in expected] == sorted(text.index(p) for p in expected)
    assert result.pages == 3
    if (os.cpu_count() or 1) >= 2:
        assert most == 2


def test_a_speck_read_as_a_letter_is_not_the_headline():
    """A close button (U+00D7) on a printed web page, or a speck, read as "x" above the headline."""
    result = ocr.OcrText("x\n\n" + "\n\n".join(ARTICLE), 95.0, 1, 1.0, 40)
    draft = readers.scanned("clipping.png", b"...", result)
    assert draft.title == HEADLINE
    assert draft.body.startswith(HEADLINE)
