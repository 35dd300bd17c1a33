"""fixtures/seed_articles.json: the two seed articles, their persons, organisations, places,
aliases and dates."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from archive import search
from archive.models import Document, Person
from tests.conftest import SEED_FIXTURE, SHARED

SEED_PERSONS = {
    "seed:000_be9e6538dc8b1c7a": {
        "Madhukar Gupta",
        "M L Kumawat",
        "Shivraj Patil",
        "Naveen Verma",
        "Tahawwur Hussain Rana",
        "David Coleman Headley",
    },
    "seed:002_ec692635d6c359ed": {
        "Asif Ali Zardari",
        "Farhatullah Babar",
        "Karan Thapar",
        "Azmal Kasab",
        "Ashfaq Parvez Kayani",
        "Pervez Musharraf",
        "Aftab Shaban Mirani",
    },
}
# Read by hand, as bench/gold/CONVENTIONS.md says: newspapers and intelligence services are
# organisations; hotels, stations and buildings are no places.
SEED_ORGANISATIONS = {
    "seed:000_be9e6538dc8b1c7a": {"Ministry of Home Affairs"},
    "seed:002_ec692635d6c359ed": {"India Today", "ISI", "Lashkar-e-Taiba"},
}
SEED_PLACES = {
    "seed:000_be9e6538dc8b1c7a": {
        "Arabian Sea",
        "Delhi",
        "India",
        "Islamabad",
        "Los Angeles",
        "Mumbai",
        "Murree",
        "Pakistan",
        "US",
    },
    "seed:002_ec692635d6c359ed": {"India", "Islamabad", "Mumbai", "New Delhi", "Pakistan", "Sindh"},
}
CHROME_FOOTER = "Gallery Gallery Videos Videos Share on WhatsApp Share"
CHROME_LINES = {"×", CHROME_FOOTER}


def test_seed_documents_persons_dates_and_publication(seeds):
    for document in Document.objects.all():
        assert {p.name for p in document.persons.all()} == SEED_PERSONS[document.external_id]
        key = document.external_id
        assert {o.name for o in document.organisations.all()} == SEED_ORGANISATIONS[key]
        assert {p.name for p in document.places.all()} == SEED_PLACES[key]
        assert document.publication is None  # the seeds do not say where they were printed
    stated = Document.objects.get(external_id="seed:002_ec692635d6c359ed")
    assert stated.published == dt.date(2025, 11, 5) and not stated.date_inferred
    inferred = Document.objects.get(external_id="seed:000_be9e6538dc8b1c7a")
    assert inferred.date_inferred
    assert "April 10, 2025" in inferred.body  # the latest date the text supports
    assert inferred.title == "Inside Story! How Pakistan Tricked An Unsuspecting India on 26/11"


def test_babur_is_an_alias_of_farhatullah_babar(seeds):
    babar = Person.objects.get(name="Farhatullah Babar")
    assert "Babur" in {alias.name for alias in babar.aliases.all()}


def test_no_page_chrome_in_the_fixture():
    for item in json.loads(SEED_FIXTURE.read_text("utf-8")):
        if item["model"] != "archive.document":
            continue
        body = item["fields"]["body"]
        lines = {line.strip() for line in body.splitlines()}
        assert not lines & CHROME_LINES
        assert "\xa0" not in body
        assert "date 2025-11-05" not in body


@pytest.mark.skipif(not (SHARED / "seeds").is_dir(), reason="../shared/seeds is not present")
def test_fixture_bodies_are_the_seed_texts_minus_chrome_and_nothing_else():
    fixture = {
        item["fields"]["external_id"]: item["fields"]
        for item in json.loads(SEED_FIXTURE.read_text("utf-8"))
        if item["model"] == "archive.document"
    }
    for path in sorted((SHARED / "seeds").glob("*.txt")):
        fields = fixture[f"seed:{path.stem}"]
        source_words = path.read_text("utf-8").replace("date 2025-11-05", " ").split()
        source_words = [w for w in source_words if w != "×"]
        chrome_words = CHROME_FOOTER.split(" ")
        if source_words[-len(chrome_words) :] == chrome_words:
            source_words = source_words[: -len(chrome_words)]
        assert fields["body"].split() == source_words, path.name
        first_line = next(line for line in fields["body"].splitlines() if line.strip())
        assert fields["title"] == first_line.strip()


def test_the_seeds_organisations_and_places_are_facets_after_loaddata(seeds):
    response = search.search(search.SearchRequest(q="mumbai"))
    places = {v.value: v.count for v in response.facets["place"].values}
    assert places["Mumbai"] == 2 and places["Murree"] == 1
    organisations = {v.value for v in response.facets["organisation"].values}
    assert organisations == {"India Today", "ISI", "Lashkar-e-Taiba", "Ministry of Home Affairs"}
