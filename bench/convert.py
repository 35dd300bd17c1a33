"""Convert the research corpora in ../shared/corpora to the archive's JSONL bulk format.

    python bench/convert.py all --out var/bench          # -> var/bench/{reuters,bbc,...}.jsonl
    python bench/convert.py reuters --out DIR --reuters-files 'reut2-000.sgm'

One JSON object per line, as README "Getting documents in" describes: title, body, published,
publication, url, persons, external_id. The output is for benchmarks and trials; it is written
outside git (``var/`` is ignored), never into the repository.

What each corpus becomes, and the choices made:

- reuters (Reuters-21578, 21,578 SGML documents, 1987): every document with text is kept
  (21,577; NEWID 12793 is empty). The 1,798 ``TYPE="BRIEF"`` flashes have a headline and no
  body (the placeholder "Blah blah blah.", or nothing): their body is the title, so they stay
  findable. The 737 ``TYPE="UNPROC"`` items (tables, untitled) take their first line as title
  and the rest as body. The dateline ("SALVADOR, Feb 26 -") opens the body, as on the wire.
  Dropped: the "Reuter" sign-off, the transmission's control characters (``&#2;``, ``&#3;``,
  ``&#5;``...), 36 carriage returns written out as "^M", and the one byte above 0x7F (0xFC in
  reut2-017, amid control characters: the corpus is 7-bit ASCII, so it is noise). Hard-wrapped
  lines are joined; an indented line (a new paragraph, a table row) starts a paragraph.
  ``published`` is the day of <DATE> (some carry trailing codes or a note, ignored);
  ``persons`` are the <PEOPLE> tags title-cased ("james-baker" -> "James Baker"), given only
  when the tag names someone.
- bbc (2,225 articles, 2004-2005): line 1 is the title, the rest the body. No date (the corpus
  has none), no persons (the archive extracts them). 98 articles are exact duplicates in the
  corpus itself; each keeps its own external_id, so each is imported.
- headlines (10,037 Reddit-sourced headlines, 2021-2022): title and body are the headline;
  ``published`` is the UTC day of ``timestamp`` (the ``published`` text of the corpus is local
  time of an unstated zone and differs on 649 records); publication is the domain.
- scifact (5,183 abstracts): title and abstract; no date.

With ``--persons-empty``, records without person annotations get ``"persons": []`` (the archive
then runs no name extraction on them) instead of no ``persons`` field (it extracts them).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPORA = REPO.parent / "shared" / "corpora"
NAMES = ("reuters", "bbc", "headlines", "scifact")

Record = dict[str, object]

# --- Reuters-21578 ------------------------------------------------------------------------------

_DOCUMENT = re.compile(r"<REUTERS\b([^>]*)>(.*?)</REUTERS>", re.S)
_NEWID = re.compile(r'\bNEWID="(\d+)"')
_TEXT = re.compile(r"<TEXT\b([^>]*)>(.*?)</TEXT>", re.S)
_TYPE = re.compile(r'\bTYPE="(\w+)"')
_TAGS = {
    name: re.compile(rf"<{name}>(.*?)</{name}>", re.S)
    for name in ("DATE", "PEOPLE", "TITLE", "DATELINE", "BODY")
}
_D = re.compile(r"<D>(.*?)</D>", re.S)
_DAY = re.compile(r"(\d{1,2})-([A-Z]{3})-(\d{4})")
_MONTHS = {m: n for n, m in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split(), 1)}
_ENTITY = re.compile(r"&(#\d+|lt|gt|amp|quot|apos);")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}
_NOISE = re.compile(r"[^\x09\x0a\x20-\x7e]")  # controls, DEL and bytes above 0x7F
_CARET_M = re.compile(r"\^M$", re.M)  # a carriage return written out as "^M" (36 lines)
_SIGN_OFF = re.compile(r"\n\s*(?:reuters?|reute|reuiter)\W*$", re.I)  # "REUTER...", typos too
_ANY_TAG = re.compile(r"<[^>]*>")


def _entity(match: re.Match[str]) -> str:
    name = match.group(1)
    if name in _NAMED:
        return _NAMED[name]
    code = int(name[1:])
    return chr(code) if code in (9, 10) or 32 <= code < 127 else ""


def reuters_clean(raw: str) -> str:
    """SGML text -> plain text: entities decoded, transmission control characters dropped."""
    return _CARET_M.sub("", _NOISE.sub("", _ENTITY.sub(_entity, raw)))


def reflow(text: str) -> str:
    """Join hard-wrapped lines; an indented line or a blank line starts a new paragraph."""
    paragraphs: list[list[str]] = []
    new = True
    for line in text.split("\n"):
        if not line.strip():
            new = True
            continue
        if new or line[:1].isspace():
            paragraphs.append([])
        paragraphs[-1].append(" ".join(line.split()))
        new = False
    return "\n\n".join(" ".join(words) for words in paragraphs)


def person_name(tag: str) -> str:
    """A Reuters PEOPLE value ("de-larosiere") as a display name ("De Larosiere")."""
    return " ".join(part.capitalize() for part in tag.strip().split("-") if part)


def _wire_text(raw: str) -> str:
    """A story's text without the control characters and the "Reuter" sign-off."""
    return _SIGN_OFF.sub("", "\n" + reuters_clean(raw).rstrip())


def _field(name: str, block: str) -> str:
    match = _TAGS[name].search(block)
    return match.group(1) if match else ""


def _reuters_document(attributes: str, block: str) -> Record | None:
    newid = _NEWID.search(attributes)
    text_match = _TEXT.search(block)
    if not newid or not text_match:
        return None
    kind = (m.group(1) if (m := _TYPE.search(text_match.group(1))) else "NORM").upper()
    text = text_match.group(2)
    title = " ".join(reuters_clean(_field("TITLE", text)).split())
    if kind == "BRIEF":
        body = title  # the BRIEF body is the placeholder "Blah blah blah."
    elif kind == "UNPROC":
        lines = reflow(_wire_text(_ANY_TAG.sub("", text))).split("\n\n")
        title, body = lines[0], "\n\n".join(lines[1:])
    else:
        body = reflow(_wire_text(_field("BODY", text)))
        dateline = " ".join(reuters_clean(_field("DATELINE", text)).split())
        if dateline and body:
            body = f"{dateline} {body}"
    body = body.strip() or title
    if not title:
        title = body.split("\n\n")[0]
    if not title:
        return None
    record: Record = {"title": title, "body": body}
    if day := _DAY.search(_field("DATE", block)):
        record["published"] = dt.date(
            int(day.group(3)), _MONTHS[day.group(2)], int(day.group(1))
        ).isoformat()
    record["publication"] = "Reuters"
    people = [person_name(d) for d in _D.findall(_field("PEOPLE", block))]
    if people := list(dict.fromkeys(p for p in people if p)):
        record["persons"] = people
    record["external_id"] = f"reuters:{newid.group(1)}"
    return record


def reuters(folder: Path, pattern: str = "reut2-*.sgm") -> Iterator[Record]:
    """Reuters-21578 SGML files (``folder/pattern``, sorted) -> records, in corpus order."""
    paths = sorted(folder.glob(pattern))
    if not paths:
        raise FileNotFoundError(f"No {pattern} in {folder}")
    for path in paths:
        # latin-1 never fails; the few bytes it lets through are dropped as noise (see the doc).
        text = path.read_bytes().decode("latin-1")
        for match in _DOCUMENT.finditer(text):
            if (record := _reuters_document(match.group(1), match.group(2))) is not None:
                yield record


# --- BBC, headlines, SciFact ----------------------------------------------------------------


def decode(data: bytes) -> str:
    """UTF-8, else cp1252 (one BBC file is latin-1: a "£" as 0xA3), else latin-1."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def bbc(folder: Path) -> Iterator[Record]:
    """BBC articles ``folder/<category>/NNN.txt``: line 1 the title, then the body."""
    paths = sorted(folder.glob("*/*.txt"))
    if not paths:
        raise FileNotFoundError(f"No <category>/*.txt in {folder}")
    for path in paths:
        text = decode(path.read_bytes()).replace("\r\n", "\n").replace("\r", "\n")
        head, _, rest = text.strip().partition("\n")
        blocks = re.split(r"\n\s*\n", rest.strip())
        body = "\n\n".join(" ".join(block.split()) for block in blocks if block.strip())
        title = " ".join(head.split())
        if not title:
            continue
        yield {
            "title": title,
            "body": body or title,
            "publication": "BBC News",
            "external_id": f"bbc:{path.parent.name}/{path.stem}",
        }


def headlines(path: Path) -> Iterator[Record]:
    """Headlines: the headline is title and body; the date is the UTC day of ``timestamp``."""
    for index, item in enumerate(json.loads(path.read_text("utf-8"))):
        title = " ".join(str(item.get("title") or "").split())
        if not title:
            continue
        record: Record = {"title": title, "body": title}
        if isinstance(item.get("timestamp"), int | float):
            moment = dt.datetime.fromtimestamp(item["timestamp"], dt.UTC)
            record["published"] = moment.date().isoformat()
        if item.get("domain"):
            record["publication"] = str(item["domain"])
        link = str(item.get("link") or "")
        if link.lower().startswith(("http://", "https://")):
            record["url"] = link
        record["external_id"] = f"headlines:{index}"
        yield record


def scifact(path: Path) -> Iterator[Record]:
    """SciFact (BEIR corpus.jsonl): title and abstract; no date."""
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if not line.strip():
                continue
            item = json.loads(line)
            title = " ".join(str(item.get("title") or "").split())
            body = str(item.get("text") or "").strip()
            if not title and not body:
                continue
            yield {
                "title": title or body.split(". ")[0],
                "body": body or title,
                "publication": "SciFact",
                "external_id": f"scifact:{item['_id']}",
            }


def source(
    name: str, corpora: Path = CORPORA, reuters_files: str = "reut2-*.sgm"
) -> Iterator[Record]:
    """The records of one corpus by name (one of NAMES)."""
    sources: dict[str, Callable[[], Iterator[Record]]] = {
        "reuters": lambda: reuters(corpora / "reuters21578" / "sgm-data", reuters_files),
        "bbc": lambda: bbc(corpora / "bbc" / "bbc"),
        "headlines": lambda: headlines(corpora / "headlines" / "headlines.json"),
        "scifact": lambda: scifact(corpora / "scifact" / "corpus.jsonl"),
    }
    return sources[name]()


# --- Writing --------------------------------------------------------------------------------


@dataclass
class Counts:
    """What one conversion wrote, for the summary line and the tests."""

    name: str
    path: Path
    records: int = 0
    dated: int = 0
    with_persons: int = 0
    duplicate_bodies: int = 0
    bytes: int = 0
    seconds: float = 0.0
    _hashes: set[bytes] = field(default_factory=set, repr=False)

    def line(self) -> str:
        return (
            f"{self.name:<10} {self.records:>7,} records  {self.dated:>7,} dated  "
            f"{self.with_persons:>6,} with persons  {self.duplicate_bodies:>5,} duplicate bodies  "
            f"{self.bytes / 1e6:7.1f} MB  {self.seconds:5.1f} s  -> {self.path}"
        )


def write(records: Iterable[Record], path: Path, name: str, persons_empty: bool = False) -> Counts:
    """Stream ``records`` to ``path`` as JSONL (written to a temporary name, then renamed)."""
    started = time.monotonic()
    counts = Counts(name, path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with partial.open("w", encoding="utf-8") as output:
        for record in records:
            if persons_empty and "persons" not in record:
                record = _with_empty_persons(record)
            output.write(json.dumps(record, ensure_ascii=False) + "\n")
            counts.records += 1
            counts.dated += "published" in record
            counts.with_persons += bool(record.get("persons"))
            digest = hashlib.blake2b(str(record["body"]).encode(), digest_size=12).digest()
            counts.duplicate_bodies += digest in counts._hashes
            counts._hashes.add(digest)
    partial.replace(path)
    counts.bytes = path.stat().st_size
    counts.seconds = time.monotonic() - started
    counts._hashes.clear()
    return counts


def _with_empty_persons(record: Record) -> Record:
    """The record with ``"persons": []`` placed before ``external_id``, as in the README."""
    ordered = {k: v for k, v in record.items() if k != "external_id"}
    ordered["persons"] = []
    ordered["external_id"] = record["external_id"]
    return ordered


def convert(
    name: str,
    out: Path,
    corpora: Path = CORPORA,
    persons_empty: bool = False,
    reuters_files: str = "reut2-*.sgm",
) -> Counts:
    """Convert one corpus to ``out/<name>.jsonl``."""
    records = source(name, corpora, reuters_files)
    return write(records, out / f"{name}.jsonl", name, persons_empty)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", choices=(*NAMES, "all"))
    parser.add_argument("--out", type=Path, default=REPO / "var" / "bench")
    parser.add_argument("--corpora", type=Path, default=CORPORA, help="default: %(default)s")
    parser.add_argument(
        "--persons-empty",
        action="store_true",
        help='records without person annotations get "persons": [] (no extraction on import)',
    )
    parser.add_argument(
        "--reuters-files",
        default="reut2-*.sgm",
        metavar="GLOB",
        help="which .sgm files of Reuters to read (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    if not args.corpora.is_dir():
        sys.exit(f"{args.corpora} is missing: nothing to convert.")
    for name in NAMES if args.corpus == "all" else (args.corpus,):
        counts = convert(name, args.out, args.corpora, args.persons_empty, args.reuters_files)
        print(counts.line(), flush=True)


if __name__ == "__main__":
    main()
