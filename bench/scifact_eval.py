"""Ranking quality on BEIR SciFact through the site's own search code.

    python bench/scifact_eval.py            # nDCG@10 and Recall@100 on the 300 test claims

Each claim (a sentence such as "0-dimensional biomaterials show inductive properties.") is typed
into the search box as it is: `archive.search.search` parses it with the site's query language,
matches all words first and falls back to ranked any-words matching when fewer than ten documents
have all of them (see archive/search/whoosh/engine.py). The 5,183 abstracts are loaded into a
throwaway archive (title + text, as `manage.py ingest` would store them) and indexed by the
site's own `rebuild_index`. Published BM25 on the same split: nDCG@10 0.679 (Anserini flat),
0.665 (BEIR).

The "any words" row runs every claim as an OR of its words (the fallback alone), to show what the
all-words-first ordering costs or gains. --json writes the figures.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCIFACT = REPO.parent / "shared" / "corpora" / "scifact"
sys.path.insert(0, str(REPO))


def load_qrels(path: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8") as lines:
        next(lines)  # query-id, corpus-id, score
        for line in lines:
            query_id, doc_id, score = line.rstrip("\n").split("\t")
            qrels.setdefault(query_id, {})[doc_id] = int(score)
    return qrels


def ndcg_at(ranked: list[str], relevant: dict[str, int], k: int = 10) -> float:
    dcg = sum(
        (2 ** relevant.get(doc, 0) - 1) / math.log2(rank + 2) for rank, doc in enumerate(ranked[:k])
    )
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum((2**grade - 1) / math.log2(rank + 2) for rank, grade in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at(ranked: list[str], relevant: dict[str, int], k: int = 100) -> float:
    wanted = {doc for doc, grade in relevant.items() if grade > 0}
    return len(wanted & set(ranked[:k])) / len(wanted) if wanted else 0.0


def load_archive() -> dict[int, str]:
    """Documents in bulk (no per-document index writes), then the site's rebuild."""
    from django.core.management import call_command

    from archive.models import Document, content_hash

    documents = []
    with (SCIFACT / "corpus.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            documents.append(
                Document(
                    title=(record.get("title") or record["_id"])[:500],
                    body=record["text"],
                    external_id=f"scifact:{record['_id']}",
                    content_hash=content_hash(record["text"]),
                )
            )
    Document.objects.bulk_create(documents, batch_size=1000)
    call_command("rebuild_index", verbosity=0)
    return {
        pk: external_id.removeprefix("scifact:")
        for pk, external_id in Document.objects.values_list("pk", "external_id")
    }


def evaluate(queries: dict[str, str], qrels, corpus_ids: dict[int, str], any_words: bool) -> dict:
    from archive import search
    from archive.search import SearchRequest

    ndcgs, recalls, took = [], [], []
    for query_id, relevant in qrels.items():
        text = queries[query_id]
        if any_words:
            text = " OR ".join(text.replace('"', " ").split())
        started = time.perf_counter()
        response = search.search(
            SearchRequest(q=text, page_size=100, with_snippets=False, with_facets=False)
        )
        took.append(time.perf_counter() - started)
        ranked = [corpus_ids[hit.id] for hit in response.hits]
        ndcgs.append(ndcg_at(ranked, relevant))
        recalls.append(recall_at(ranked, relevant))
    took.sort()
    return {
        "queries": len(ndcgs),
        "ndcg@10": round(sum(ndcgs) / len(ndcgs), 4),
        "recall@100": round(sum(recalls) / len(recalls), 4),
        "median_ms": round(1000 * took[len(took) // 2], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if not SCIFACT.is_dir():
        sys.exit(f"SciFact is not at {SCIFACT}")

    workdir = Path(tempfile.mkdtemp(prefix="archive-scifact-"))
    os.environ.update(
        ARCHIVE_DATA_DIR=str(workdir),
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50),
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    started = time.monotonic()
    corpus_ids = load_archive()
    print(f"{len(corpus_ids):,} abstracts loaded and indexed in {time.monotonic() - started:.0f} s")

    queries = {}
    with (SCIFACT / "queries.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            queries[record["_id"]] = record["text"]
    qrels = load_qrels(SCIFACT / "qrels" / "test.tsv")

    rows = {
        "site search (all words first, then any words)": evaluate(
            queries, qrels, corpus_ids, False
        ),
        "any words only (OR)": evaluate(queries, qrels, corpus_ids, True),
    }
    print("| ranking | queries | nDCG@10 | Recall@100 | median ms |")
    print("|---|---|---|---|---|")
    for name, row in rows.items():
        print(
            f"| {name} | {row['queries']} | {row['ndcg@10']:.3f} | {row['recall@100']:.3f} "
            f"| {row['median_ms']} |"
        )
    print("| published BM25 (Anserini flat / BEIR) | 300 | 0.679 / 0.665 | 0.925 | |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
