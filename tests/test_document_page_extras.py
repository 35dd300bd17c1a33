"""The document page's permalink, "Cite" box and "More like this", and the functions behind them."""

from __future__ import annotations

import datetime as dt
import html as htmllib
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from archive import search
from archive.exports import citation
from archive.models import Document

CRICKET = (
    "The cricket team won the test match at the stadium. The bowler took five wickets and the "
    "batsman scored a century before the rain. Cricket fans filled the stadium."
)
CRICKET_TOO = (
    "A cricket test match: the bowler and the batsman again, wickets falling at the stadium, "
    "a century for the captain. Cricket fans cheered."
)
ELECTION = (
    "The election commission counted ballots in the parliament constituency; voters and "
    "candidates waited for the results of the election."
)
WEATHER = "Heavy snow and wind across the coast; the weather service warned of storms."


def long_date(day: dt.date) -> str:
    return f"{day.day} {day:%B} {day.year}"


@pytest.fixture
def topics(make_document) -> dict[str, Document]:
    return {
        "cricket": make_document(
            title="Cricket side wins test",
            body=CRICKET,
            publication="Wisden",
            published=dt.date(2008, 11, 26),
        ),
        "cricket_too": make_document(title="Another cricket test", body=CRICKET_TOO),
        "election": make_document(title="Election count begins", body=ELECTION),
        "weather": make_document(title="Storm warning", body=WEATHER),
    }


def citation_text(html: str) -> str:
    match = re.search(r'<textarea id="citation"[^>]*readonly>(.*?)</textarea>', html, re.S)
    assert match, "no citation box"
    return htmllib.unescape(match.group(1))


# --- permalinks ---


def test_permalink_is_shown_and_keeps_working(client, seeds):
    document = seeds[0]
    html = client.get(document.get_absolute_url()).content.decode()
    permalink = f"http://testserver/documents/{document.pk}/"
    assert f'<a class="permalink" href="{permalink}">{permalink}</a>' in html
    short = client.get(f"/documents/{document.pk}/")
    assert short.status_code == 302 and short["Location"] == document.get_absolute_url()
    # An old slug (the title was edited) still reaches the document.
    stale = client.get(f"/documents/{document.pk}/an-old-title/")
    assert stale["Location"] == document.get_absolute_url()
    assert client.get(f"/documents/{document.pk + 999}/").status_code == 404


# --- the Cite box ---


def test_cite_box_has_a_ready_citation(client, topics):
    document = topics["cricket"]
    html = client.get(document.get_absolute_url()).content.decode()
    today = long_date(timezone.localdate())
    assert citation_text(html) == (
        f"“Cricket side wins test.” Wisden, 26 November 2008. "
        f"http://testserver/documents/{document.pk}/ (accessed {today})."
    )
    # The copy button needs JavaScript, so it starts hidden; the text box works without it.
    assert re.search(r'<button type="button"[^>]*data-copy="citation" hidden>', html)
    assert '<label for="citation"' in html


def test_citation_marks_inferred_and_missing_dates_and_escapes(client, make_document):
    document = make_document(
        title='<b>Bold</b> "claims" & more?',
        body="Text.",
        published=dt.date(2025, 4, 10),
        date_inferred=True,
    )
    html = client.get(document.get_absolute_url()).content.decode()
    assert "<b>Bold</b>" not in html.split('id="citation"')[1].split("</textarea>")[0]
    assert citation_text(html).startswith('“<b>Bold</b> "claims" & more?” [10 April 2025]. http')
    undated = make_document(title="No date here", body="Text.")
    text = citation(undated, "https://a.example/documents/9/", dt.date(2026, 11, 23))
    assert text == (
        "“No date here.” n.d. https://a.example/documents/9/ (accessed 23 November 2026)."
    )


def test_citation_of_a_seed(seeds):
    text = citation(seeds[0], "https://archive.example/documents/1/", dt.date(2026, 11, 23))
    assert text == (
        "“Inside Story! How Pakistan Tricked An Unsuspecting India on 26/11.” [10 April 2025]. "
        "https://archive.example/documents/1/ (accessed 23 November 2026)."
    )


# --- More like this ---


def test_more_like_this_finds_the_closest_document_first(topics):
    similar = search.more_like_this(topics["cricket"].pk)
    ids = [hit.id for hit in similar]
    assert ids[0] == topics["cricket_too"].pk
    assert topics["cricket"].pk not in ids
    assert topics["weather"].pk not in ids  # shares no telling word
    assert all(hit.score and hit.score > 0 for hit in similar)
    assert [hit.score for hit in similar] == sorted((hit.score for hit in similar), reverse=True)
    election = search.more_like_this(topics["election"].pk)
    assert topics["cricket_too"].pk not in [hit.id for hit in election]


def test_more_like_this_respects_the_limit_and_skips_deleted(make_document):
    base = make_document(title="Volcano erupts", body="The volcano erupted; lava and ash fell.")
    others = [
        make_document(title=f"Volcano report {n}", body=f"Volcano lava ash, report {n}.")
        for n in range(7)
    ]
    assert len(search.more_like_this(base.pk)) == 5
    assert len(search.more_like_this(base.pk, limit=2)) == 2
    assert search.more_like_this(base.pk, limit=0) == []
    others[0].delete()
    assert others[0].pk not in [hit.id for hit in search.more_like_this(base.pk, limit=10)]
    assert len(search.more_like_this(base.pk, limit=10)) == 6


def test_more_like_this_without_an_index_or_document_is_empty(client, topics, settings, tmp_path):
    assert search.more_like_this(999_999) == []
    settings.ARCHIVE_INDEX_DIR = tmp_path / "gone"
    assert search.more_like_this(topics["cricket"].pk) == []
    response = client.get(topics["cricket"].get_absolute_url())
    assert response.status_code == 200
    assert "More like this" not in response.content.decode()
    assert 'id="citation"' in response.content.decode()


def test_document_page_lists_more_like_this(client, topics):
    html = client.get(topics["cricket"].get_absolute_url()).content.decode()
    section = html.split('id="similar-heading"')[1].split("</section>")[0]
    other = topics["cricket_too"]
    assert f'href="{reverse("archive:document", args=[other.pk, other.slug])}"' in section
    assert "Another cricket test" in section
    assert "Cricket side wins test" not in section


def test_more_like_this_escapes_titles(client, make_document):
    base = make_document(title="Glacier melt", body="Glacier ice melt measured in the glacier.")
    make_document(title="<script>x()</script> glacier", body="Glacier ice melt again.")
    html = client.get(base.get_absolute_url()).content.decode()
    section = html.split('id="similar-heading"')[1].split("</section>")[0]
    assert "&lt;script&gt;x()&lt;/script&gt; glacier" in section
    assert "<script>" not in section
