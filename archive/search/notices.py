"""The sentences shown above the results (and listed in the API's ``notices``), written here
from what a search reports, whichever engine answered: the query parser's remarks, a query
widened to some of its words, a cluster that answered from only some of its shards."""

from __future__ import annotations

import re

from archive.search.types import SearchResponse, SharedStem

# A wildcard before a word's last letter ("terr?rism", "*ism"), outside quotes: the index keeps
# words cut to their stems ("terrorism" as "terror"), so such a pattern may match none of them.
_INNER_WILDCARD = re.compile(r'(?:^|[\s(:])[^\s"():]*[*?]\w')


def _documents(count: int) -> str:
    if count == 0:
        return "No documents"
    return "1 document" if count == 1 else f"{count:,} documents"


def _listed(words: tuple[str, ...]) -> str:
    quoted = [f"“{word}”" for word in words]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def shared_stem_notice(shared: SharedStem) -> str:
    return (
        f"Unquoted, “{shared.word}” also finds {_listed(shared.others)}, which share its "
        f'stem: search "{shared.word}" in quotes for that word alone.'
    )


def notices_for(response: SearchResponse) -> tuple[str, ...]:
    """The response's notices: those it carries (the query parser's), then the engine's facts
    in words."""
    notices = list(response.notices)
    if response.widened is not None:
        # Documents on both sides: ``total`` counts stories when copies are folded.
        total = response.widened.all_words
        rest = response.documents - total
        notices.append(
            f"{_documents(total)} {'has' if total == 1 else 'have'} all the words; "
            f"{_documents(rest).lower()} with some of them "
            f"{'follows' if rest == 1 else 'follow'}."
        )
    if (
        response.total == 0
        and _INNER_WILDCARD.search(re.sub(r'"[^"]*"', " ", response.query_text))
        # The cluster says what it did with the wildcard itself (searched a prefix).
        and not any(notice.startswith("Wildcards") for notice in notices)
    ):
        notices.append(
            "Wildcards match words as the index keeps them, cut to their stems (“terrorism” as "
            "“terror”), so a pattern that spells out a word's ending may miss it: try the "
            "beginning of the word and a * (terr*)."
        )
    for shared in response.shared_stems:
        notices.append(
            f"Unquoted, “{shared.word}” also finds {_listed(shared.others)}, which share its "
            f'stem: search "{shared.word}" in quotes for that word alone.'
        )
    if response.coverage is not None and response.coverage.partial:
        coverage = response.coverage
        notices.append(
            f"Results from {coverage.answered} of {coverage.parts} shards: part of the archive "
            "did not answer, so some documents may be missing and counts may be low."
        )
    return tuple(notices)
