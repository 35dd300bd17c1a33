"""GET /api/search: the page's parameters in, JSON out, 400 for bad parameters."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.usefixtures("search_backend")


def test_api_shape(client, seeds):
    response = client.get("/api/search", {"q": "Murree"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    data = response.json()
    assert data["total"] == 1
    assert data["page"] == 1
    [result] = data["results"]
    assert set(result) >= {
        "id",
        "title",
        "url",
        "published",
        "publication",
        "persons",
        "snippets",
        "score",
    }
    assert result["published"] == "2025-04-10"
    assert result["publication"] is None
    assert "Madhukar Gupta" in result["persons"]
    assert any("<mark>Murree</mark>" in s for s in result["snippets"])
    assert result["url"].startswith("http://testserver/documents/")
    assert isinstance(result["score"], float)
    assert set(data["facets"]) >= {"person", "publication", "year"}
    people = {item["value"]: item["count"] for item in data["facets"]["person"]}
    assert people["Madhukar Gupta"] == 1
    assert data["facets"]["year"] == [
        {"value": "2025", "label": "2025", "count": 1, "selected": False}
    ]


def test_api_filters_like_the_page(client, seeds):
    data = client.get(
        "/api/search", {"person": ["Asif Ali Zardari", "Madhukar Gupta"], "sort": "oldest"}
    ).json()
    assert data["total"] == 2
    assert [r["published"] for r in data["results"]] == ["2025-04-10", "2025-11-05"]
    data = client.get("/api/search", {"person": "Asif Ali Zardari", "year": "2025"}).json()
    assert data["total"] == 1
    data = client.get("/api/search", {"date_from": "2025-05-01", "date_to": "2025-12-31"}).json()
    assert [r["published"] for r in data["results"]] == ["2025-11-05"]
    data = client.get("/api/search", {"publication": ""}).json()
    assert data["total"] == 2
    data = client.get("/api/search", {"page_size": "1", "page": "2"}).json()
    assert data["page"] == 2 and len(data["results"]) == 1 and data["pages"] == 2


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"page": "-1"}, "page"),
        ({"page_size": "101"}, "page_size"),
        ({"page_size": "0"}, "page_size"),
        ({"sort": "best"}, "sort"),
        ({"year": "20x5"}, "year"),
        ({"date_to": "yesterday"}, "date_to"),
        ({"month": "11-2025"}, "month"),
    ],
)
def test_api_bad_parameters_are_400_with_a_message(client, seeds, params, message):
    response = client.get("/api/search", params)
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_api_malformed_query_is_not_an_error(client, seeds):
    response = client.get("/api/search", {"q": '"unbalanced )('})
    assert response.status_code == 200
    assert response.json()["total"] == 0


def test_api_post_is_not_allowed(client, seeds):
    assert client.post("/api/search").status_code == 405


def test_an_unknown_parameter_is_said_to_be_ignored(client, seeds):
    """A QA find: ``organization=Chelsea`` (the US spelling) and ``persons=`` were ignored in
    silence, and the API answered with the whole archive. They are still ignored (tests/
    test_fuzz.py: a link's tracking parameters must not break a search), and the answer says so."""
    for params in ({"organization": "Chelsea"}, {"persons": "Andy Roddick", "q": "murree"}):
        response = client.get("/api/search", params)
        assert response.status_code == 200, params
        [notice] = [n for n in response.json()["notices"] if "Not a parameter" in n]
        assert f"ignored: “{next(iter(params))}”" in notice, notice
        assert "organisation" in notice and "person" in notice
    plain = client.get("/api/search", {"q": "murree", "page": "1"}).json()
    assert not any("Not a parameter" in n for n in plain["notices"])
