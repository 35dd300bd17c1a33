"""The cluster backend's MySQL-protocol client: the C client (mysqlclient) where it is installed,
pymysql otherwise, with the same answers and the same handling of a server that is not there.

Runs on the real test cluster (tests/conftest.py); skipped without searchd unless
ARCHIVE_REQUIRE_SPHINX=1. ARCHIVE_REQUIRE_CLUSTER_CLIENT=1 (CI, after `make cluster-client`)
makes the C client's absence a failure.
"""

from __future__ import annotations

import importlib.util
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from archive import search
from archive.search import IndexUnavailable, SearchRequest
from archive.search.backends import current
from archive.search.sphinxql import client

C_CLIENT_INSTALLED = importlib.util.find_spec("MySQLdb") is not None


@contextmanager
def _pymysql_only(monkeypatch) -> Iterator[None]:
    """Connections made inside use pymysql (``ARCHIVE_SPHINX_CLIENT=pymysql``), fresh ones."""
    monkeypatch.setenv("ARCHIVE_SPHINX_CLIENT", "pymysql")
    client._mysqldb.cache_clear()
    current()._connections = type(current()._connections)()
    try:
        yield
    finally:
        monkeypatch.delenv("ARCHIVE_SPHINX_CLIENT")
        client._mysqldb.cache_clear()
        current()._connections = type(current()._connections)()


def test_the_c_client_is_used_where_it_is_installed(monkeypatch):
    if os.environ.get("ARCHIVE_REQUIRE_CLUSTER_CLIENT") == "1":
        assert C_CLIENT_INSTALLED, "mysqlclient is not installed (make cluster-client)"
    if not C_CLIENT_INSTALLED:
        pytest.skip("mysqlclient is not installed (make cluster-client): pymysql only")
    monkeypatch.delenv("ARCHIVE_SPHINX_CLIENT", raising=False)
    client._mysqldb.cache_clear()
    try:
        assert client.name() == "mysqlclient"
        monkeypatch.setenv("ARCHIVE_SPHINX_CLIENT", "pymysql")
        client._mysqldb.cache_clear()
        assert client.name() == "pymysql"
    finally:
        monkeypatch.undo()
        client._mysqldb.cache_clear()


@pytest.mark.parametrize("search_backend", ["sphinxql"], indirect=True)
def test_both_clients_give_the_same_answers(search_backend, make_document, monkeypatch):
    make_document(title="Harbour pilots strike", body="The harbour pilots said the port is shut.")
    make_document(title="Port reopens", body="Pilots said the harbour reopened on Monday.")
    request = SearchRequest(q="harbour pilots")

    def answer() -> tuple:
        response = search.search(request)
        facets = {
            name: [(value.value, value.count) for value in facet.values]
            for name, facet in response.facets.items()
        }
        hits = [(hit.id, hit.title_html, tuple(hit.snippets)) for hit in response.hits]
        return response.total, hits, facets

    first = answer()
    with _pymysql_only(monkeypatch):
        assert client.name() == "pymysql"
        assert answer() == first
    assert first[0] == 2


@pytest.mark.parametrize("search_backend", ["sphinxql"], indirect=True)
@pytest.mark.parametrize("pymysql_only", [False, True])
def test_no_server_is_an_unavailable_engine_not_a_crash(search_backend, monkeypatch, pymysql_only):
    """A closed port: the engine is unavailable (a 503 for the site), with either client."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    backend = current()

    def run() -> None:
        with pytest.raises(IndexUnavailable, match="did not answer"):
            backend._run(("127.0.0.1", port), ["SHOW STATUS"], timeout=2)

    if pymysql_only:
        with _pymysql_only(monkeypatch):
            run()
    else:
        run()
