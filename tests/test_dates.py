"""Publication dates: a date is inferred only from evidence that it is the publication's day."""

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.ingest import dates, readers

TODAY = dt.date(2025, 11, 20)


def inferred(text: str) -> dt.date | None:
    return dates.inferred_date(text, today=TODAY)


# --- Undated: the text's dates are history ---------------------------------------------------


def test_a_profile_with_a_birth_date_is_undated():
    text = (
        "Profile: Gordon Brown\n\n"
        "Gordon Brown has dominated the domestic political scene like few chancellors.\n\n"
        "Gordon Brown was born in Glasgow on 20 February 1951, the son of a minister. He became "
        "an MP in 1983 and chancellor in 1997."
    )
    assert inferred(text) is None


def test_a_birth_date_in_the_opening_sentence_is_not_the_publication():
    text = (
        "Former MP dies\n\nSir Anthony Meyer was born on 27 October, 1920. He was educated at Eton."
    )
    assert inferred(text) is None


@pytest.mark.parametrize(
    "text",
    [
        # Only historic dates, told as history.
        "Mobile phones at 20\n\nBritain's first mobile call was made on 1 January 1985. Since "
        "then the network has grown; in 2004 it had millions of customers.",
        "Missing guitarist\n\nRichey Edwards vanished 10 years ago, on 1 February 1995.",
        "Film on blasts\n\nThe film looks at the explosions which rocked Mumbai on 12 March 1993.",
        "Rights\n\nHuman rights have been flouted since 11 September, 2001, she said.",
        # A period end, a range, a bound, a date ahead.
        "BA profits\n\nIn the three months to 31 December 2004, the airline made £75m.",
        "MTV\n\nThe group monitored MTV for 171 hours from 20 March to 27 March 2004.",
        "Xbox cables\n\nIt affects Xboxes made before 23 October 2003.",
        "Cup qualifier\n\nIreland will play Switzerland in Dublin on 12 October 2005.",
        "Oscars\n\nThe ceremony, hosted by Chris Rock, takes place on 27 February 2005.",
        # A later year in the text: the opening date is not the newest thing it reports.
        "Halo\n\nThe Xbox launched on November 15 2001 in the US. Halo 2 sold well in 2004.",
    ],
)
def test_a_text_with_only_historic_or_coming_dates_is_undated(text):
    assert inferred(text) is None


def test_a_date_deep_in_the_text_is_not_evidence():
    text = (
        "Terror powers\n\n"
        + "The minister spoke. " * 20
        + ("3000 people died in New York on September 11th 2001. The threat today is different.")
        + " He went on." * 20
    )
    assert inferred(text) is None


# --- Inferred: the opening sentences report the event ----------------------------------------


def test_the_opening_sentence_gives_the_event_date_with_no_later_date():
    text = (
        "Old news\n\n"
        "It began on 3 May 1999 and ended on June 7, 2001, officials said. It cost a great deal."
    )
    assert inferred(text) == dt.date(2001, 6, 7)


def test_the_second_sentence_counts_when_the_text_reports_this_weeks_news():
    text = (
        "Stars pay tribute to actor Davis\n\n"
        "Hollywood stars have paid tribute to actor Ossie Davis at a funeral in New York.\n\n"
        "Veteran star Ossie Davis died in Miami at the age of 87 on 4 February 2005. Friends and "
        "family gathered at the Riverside Church on Saturday."
    )
    assert inferred(text) == dt.date(2005, 2, 4)
    # Without anything saying the news is recent, the second sentence is not enough.
    assert inferred(text.replace(" on Saturday", "")) is None


def test_a_later_date_anywhere_in_the_text_blocks_the_opening_date():
    text = (
        "Actor dies\n\nOssie Davis died in Miami on 4 February 2005.\n\n"
        "His last film is due for release on May 19, 2006."
    )
    assert inferred(text) is None


def test_a_story_told_up_to_its_present_ends_with_its_date():
    history = "In 2008 the attacks began. " + "The delegation waited. " * 8
    text = (
        "Inside story\n\n"
        + history
        + "Fast forward to April 10, 2025: the accused arrived in Delhi. He now faces trial."
    )
    assert inferred(text) == dt.date(2025, 4, 10)


def test_a_row_of_figures_is_not_a_lead():
    text = "Results\n\nShr 18 cts Net 1,948,000 Revs 3,397,000 Note: began on February 20, 1987."
    assert inferred(text) is None


def test_a_dateline_without_the_year_rules_out_other_days():
    text = "AMEX seat\n\nNEW YORK, March 3 - The exchange said it sold a seat on January 19, 1987."
    assert inferred(text) is None
    text = "Beef\n\nCHICAGO, April 7 - Trade was active on Tuesday, April 7, 1987, dealers said."
    assert inferred(text) == dt.date(1987, 4, 7)


# --- The future, stated dates ----------------------------------------------------------------


def test_the_future_is_never_chosen():
    assert inferred("Launch\n\nThe company launched it on 5 May 2030.") is None
    assert inferred("Launch\n\nThe company launched it on 5 May 2025.") == dt.date(2025, 5, 5)
    assert dates.inferred_date("Launch\n\nThe company launched it on 5 May 2099.") is None


def test_a_dateline_still_wins_and_is_stated():
    raw = (
        "Storm closes harbour\n\n"
        "LONDON, 5 March 2005 - The storm that began on 1 March 2005 closed the harbour."
    )
    draft = readers.from_plain_text("a.txt", raw)
    assert draft.published == dt.date(2005, 3, 5) and not draft.date_inferred
    draft = readers.from_plain_text("b.txt", "Title\n\nPublished: 5 November 2025\n\nBody text.")
    assert draft.published == dt.date(2025, 11, 5) and not draft.date_inferred
    draft = readers.from_plain_text("c.txt", "date 2004-03-12 Title\n\nOn 1 May 1990 it began.")
    assert draft.published == dt.date(2004, 3, 12) and not draft.date_inferred


def test_a_dateline_heads_a_long_paragraph_too():
    """A new user's scan came in undated: OCR joins a page's lines into paragraphs, so its
    dateline began a lead paragraph of 600 characters, and lines over 400 were not read."""
    lead = "GLASGOW, 14 June 2003 - The Clyde Harbour Authority approved the plan. " + (
        "The board met for three hours and heard from the shipyards and the unions. " * 8
    )
    assert len(lead) > 600
    draft = readers.from_plain_text("scan.txt", "Harbour plan approved\n\n" + lead)
    assert draft.published == dt.date(2003, 6, 14) and not draft.date_inferred
    # A sentence that opens with a date is no dateline, long or short (a review's find: "On
    # Monday, 14 June 1999, the board ..." read "On Monday" as a dateline's place).
    for opening in ("On Monday, 14 June 1999, the board met. ", "Ten years ago, 14 June 1995 was "):
        for length in (1, 12):
            text = "Title\n\n" + opening + "The board talked for hours. " * length
            draft = readers.from_plain_text("s.txt", text)
            assert draft.published is None or draft.date_inferred, (opening, length)
    for stated in (
        "LONDON, 5 March 2005 - The storm closed the harbour.",
        "MUMBAI, 27 November 2008 \u2014 Gunmen attacked.",
        "GLASGOW, 14 June 2003: The authority met.",
        "Lahore, 3 March 2009 (AFP) - Gunmen attacked the team bus.",
        "LONDON, 5 March 2005, 10:30 GMT - The storm closed the harbour.",
    ):
        draft = readers.from_plain_text("d.txt", "Title\n\n" + stated)
        assert draft.published is not None and not draft.date_inferred, stated
    # A long paragraph that opens with a date and goes on as a sentence is no date line.
    text = "Title\n\n14 June 2003 was a day " + "the board met and talked. " * 20
    assert readers.from_plain_text("t.txt", text).published != dt.date(2003, 6, 14) or (
        readers.from_plain_text("t.txt", text).date_inferred
    )


def test_a_published_line_above_the_headline_is_the_date_and_not_the_title():
    """A saved article often starts with its date line: it states the date and the headline
    is the next line; a headline that merely starts with a date stays the headline."""
    draft = readers.from_plain_text(
        "a.txt", "Published: 2005-04-12\n\nBudget day arrives\n\nThe chancellor spoke."
    )
    assert draft.title == "Budget day arrives"
    assert draft.published == dt.date(2005, 4, 12) and not draft.date_inferred
    assert draft.body.startswith("Budget day arrives")
    draft = readers.from_plain_text("b.txt", "12 April 2005\nBudget day\n\nText of the day.")
    assert (draft.title, draft.published) == ("Budget day", dt.date(2005, 4, 12))
    draft = readers.from_plain_text("c.txt", "12 April 2005 was budget day\n\nText of the day.")
    assert draft.title == "12 April 2005 was budget day"


def test_the_reader_marks_an_inferred_date_and_leaves_a_profile_undated():
    draft = readers.from_plain_text("a.txt", "Quay\n\nThe foreman said on 14 May 2004 it resumed.")
    assert draft.published == dt.date(2004, 5, 14) and draft.date_inferred
    draft = readers.from_plain_text("b.txt", "Profile\n\nHailey was born on 5 April 1920.")
    assert draft.published is None and not draft.date_inferred


def test_a_kick_off_time_below_a_day_is_no_year():
    text = (
        "Blackburn v Burnley\n\nEwood Park\n\nTuesday, 1 March\n\n2000 GMT\n\nRovers are at home."
    )
    assert dates.full_dates(text) == []
    # A line break inside a date (a PDF's text layer) still reads as one.
    assert dates.full_dates("said on 14 May\n2004 that") == [(8, dt.date(2004, 5, 14))]


def test_a_headline_line_without_a_blank_line_after_it():
    """A PDF's text layer: headline, then the body on the next lines, a date broken across two."""
    text = "Quay workers return\nDock foreman Ana Ribeiro said on\n14 May 2004 that work resumed."
    assert inferred(text) == dt.date(2004, 5, 14)


PIECES = st.sampled_from(
    [
        "Headline",
        "\n",
        "\n\n",
        " ",
        ". ",
        "on ",
        "born ",
        "now ",
        "Monday",
        "5 March 2005",
        "March 5, 2030",
        "2004-02-29",
        "1999",
        "LONDON, March 5 - ",
        "Mr. ",
        "(",
        "”",
        "-",
        "The minister said",
    ]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(PIECES | st.text(max_size=5), max_size=40).map("".join))
def test_any_text_gives_a_mentioned_past_date_or_none(text):
    date = inferred(text)
    assert date is None or (date <= TODAY and date in {d for _, d in dates.full_dates(text)})
