"""The code's boundaries, read from its imports: Whoosh (unmaintained) is imported only by the
embedded backend, and no code of the site outside the search layer imports a backend's modules
(views, admin, exports, feeds and commands call the search layer's public API)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT_DIRS = ("archive", "config", "bench")
EMBEDDED_BACKEND = ROOT / "archive" / "search" / "whoosh"
SEARCH_LAYER = ROOT / "archive" / "search"
BACKENDS = ("archive.search.whoosh", "archive.search.sphinxql")


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth (imports inside functions count)."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


def project_files() -> list[Path]:
    files = [ROOT / "manage.py"]
    for directory in PROJECT_DIRS:
        files.extend(sorted((ROOT / directory).rglob("*.py")))
    return files


def test_only_the_embedded_backend_imports_whoosh():
    offenders = [
        str(path.relative_to(ROOT))
        for path in project_files()
        if not path.is_relative_to(EMBEDDED_BACKEND)
        and any(m == "whoosh" or m.startswith("whoosh.") for m in imported_modules(path))
    ]
    assert offenders == []


def test_nothing_outside_the_search_layer_imports_a_backend():
    offenders = {}
    for path in project_files():
        if path.is_relative_to(SEARCH_LAYER):
            continue
        # bench/ measures the engines themselves: it starts a cluster, times a baseline.
        if path.is_relative_to(ROOT / "bench"):
            continue
        reached = {m for m in imported_modules(path) if m.startswith(BACKENDS)}
        if reached:
            offenders[str(path.relative_to(ROOT))] = sorted(reached)
    assert offenders == {}


def test_the_check_sees_imports():
    """The scan is not vacuous: it finds the embedded backend's own Whoosh imports."""
    assert any(
        "whoosh" in m
        for path in EMBEDDED_BACKEND.glob("*.py")
        for m in imported_modules(path)
        if not m.startswith("archive")
    )
