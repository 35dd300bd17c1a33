"""The ranking-quality metrics of bench/scifact_eval.py (the evaluation itself needs ../shared and
minutes; these check that the figures it reports are computed right)."""

from __future__ import annotations

import math

import pytest

from bench.scifact_eval import ndcg_at, recall_at


def test_ndcg_of_a_perfect_ranking_is_one():
    assert ndcg_at(["a", "b", "x"], {"a": 1, "b": 1}) == pytest.approx(1.0)


def test_ndcg_of_a_relevant_document_at_rank_two():
    # One relevant document, found second: (1 / log2(3)) / (1 / log2(2)).
    assert ndcg_at(["x", "a"], {"a": 1}) == pytest.approx(1 / math.log2(3))


def test_ndcg_ignores_documents_below_the_cut():
    ranked = [f"x{i}" for i in range(10)] + ["a"]
    assert ndcg_at(ranked, {"a": 1}) == 0.0


def test_recall_counts_relevant_documents_found():
    assert recall_at(["a", "x", "c"], {"a": 1, "b": 1, "c": 1}) == pytest.approx(2 / 3)
    assert recall_at([], {"a": 1}) == 0.0
