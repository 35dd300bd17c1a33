"""Shared fixtures: a real SQLite database (pytest-django) and a real Whoosh index in a fresh
temporary directory for every test."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command

from archive import search
from archive.models import Document, Person, Publication

REPO = Path(__file__).resolve().parent.parent
SEED_FIXTURE = REPO / "fixtures" / "seed_articles.json"
SHARED = REPO.parent / "shared"


@pytest.fixture(autouse=True)
def index_dir(settings, tmp_path) -> Path:
    """Every test gets an empty index of its own."""
    path = tmp_path / "index"
    settings.ARCHIVE_INDEX_DIR = path
    search.create_index_if_missing()
    return path


@pytest.fixture
def seeds(transactional_db) -> list[Document]:
    """The two seed articles, loaded the way a user loads them: `manage.py loaddata`."""
    call_command("loaddata", str(SEED_FIXTURE), verbosity=0)
    return list(Document.objects.order_by("pk"))


@pytest.fixture
def make_document(transactional_db):
    """Create a document (committed, so it reaches the index) with persons and a publication."""

    def make(
        title: str = "A title",
        body: str = "Some body text.",
        persons: tuple[str, ...] = (),
        publication: str | None = None,
        published=None,
        **fields,
    ) -> Document:
        pub = Publication.objects.get_or_create(name=publication)[0] if publication else None
        document = Document.objects.create(
            title=title, body=body, publication=pub, published=published, **fields
        )
        if persons:
            document.persons.set([Person.objects.get_or_create(name=p)[0] for p in persons])
        return document

    return make


@pytest.fixture
def make_entity_document(make_document):
    """:func:`make_document` that also links organisations and places (by name)."""
    from archive.models import Organisation, Place

    def make(*, organisations=(), places=(), **fields):
        document = make_document(**fields)
        if organisations:
            document.organisations.set(
                [Organisation.objects.get_or_create(name=n)[0] for n in organisations]
            )
        if places:
            document.places.set([Place.objects.get_or_create(name=n)[0] for n in places])
        return document

    return make


# --- Every search backend: the contract suite ---------------------------------------------------
#
# A test module that uses the fixture ``search_backend`` (``pytestmark =
# pytest.mark.usefixtures("search_backend")``) runs once per backend: the embedded Whoosh index,
# and a real SphinxQL cluster (two shards, a mirror of one, a head) started once per test session
# from Debian's sphinxsearch in a temporary directory. Without searchd installed the cluster runs
# are skipped, unless ARCHIVE_REQUIRE_SPHINX=1 (CI), which makes them fail instead.


@pytest.fixture(scope="session")
def sphinx_cluster(tmp_path_factory):
    """A running local cluster for the whole session, stopped (by its PIDs) at the end."""
    import os

    from archive.search.sphinxql import cluster as cluster_module

    if not cluster_module.searchd_available():
        if os.environ.get("ARCHIVE_REQUIRE_SPHINX") == "1":
            pytest.fail("searchd is not installed (apt-get install sphinxsearch)")
        pytest.skip("searchd is not installed (apt-get install sphinxsearch): cluster runs skipped")
    cluster = cluster_module.Cluster(
        directory=tmp_path_factory.mktemp("sphinx") / "cluster",
        base_port=cluster_module.free_base_port(),
    )
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture(params=["whoosh", "sphinxql"])
def search_backend(request, settings, tmp_path) -> str:
    """Run the test against each backend; the cluster's indexes are emptied for every test."""
    if request.param == "sphinxql":
        import inspect

        # A test that takes the Whoosh index directory works on the embedded engine's files.
        takes_whoosh_dir = "index_dir" in inspect.signature(request.node.function).parameters
        if request.node.get_closest_marker("whoosh_only") or takes_whoosh_dir:
            pytest.skip("about the embedded engine's internals")
        cluster = request.getfixturevalue("sphinx_cluster")
        settings.ARCHIVE_SEARCH_BACKEND = "sphinxql"
        settings.ARCHIVE_SPHINX_CLUSTER_DIR = cluster.directory
        settings.ARCHIVE_SPHINX_BASE_PORT = cluster.base_port
        settings.ARCHIVE_SPHINX_HEAD = ""
        settings.ARCHIVE_SPHINX_SHARDS = ""
        settings.ARCHIVE_SPHINX_STATE_DIR = tmp_path / "sphinx-state"
        for process in cluster.processes:
            if process.role == "head" or not cluster.pid(process):
                continue
            from archive.search.sphinxql.cluster import connect

            connection = connect(process.address)
            try:
                with connection.cursor() as cursor:
                    for index in cluster.layout.indexes:
                        cursor.execute(f"TRUNCATE RTINDEX {index}")
            finally:
                connection.close()
        search.create_index_if_missing()
    return request.param


@pytest.fixture
def build_index_without():
    """Build the embedded index as an older version of the site did, without some fields, to
    test how an outdated index answers until it is rebuilt."""
    from archive import indexing
    from archive.search.whoosh import index as search_index
    from archive.search.whoosh import schema

    def build(*fieldnames: str) -> None:
        older = schema.build_schema()
        for fieldname in fieldnames:
            older.remove(fieldname)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(search_index, "SCHEMA", older)
            indexing.rebuild()

    return build
