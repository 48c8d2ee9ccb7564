"""Ranking code by words, without a model: identifiers split into words (`computeTotal`,
`compute_total` -> compute, total), a light plural stem, and BM25 over them.

A stand-in that needs nothing installed; the RAG layer's embeddings can replace it where a
model is configured."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

_CHUNK = re.compile(r"[A-Za-z0-9]+")
_PART = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_STOP = """a an and are as at be by do does for from if in into is it its of on or so than that the
    then this to up was we what when where which with you your def fn func function return self
    const let var local end pub impl struct class int str none null nil true false else elif new
    void public private static import package"""
STOP = frozenset(_STOP.split())
"""English filler and keywords every body repeats: they rank nothing."""
K1 = 1.5
B = 0.75


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def words(text: str) -> list[str]:
    """Lower-case words of text and identifiers alike, stop words dropped."""
    found = []
    for chunk in _CHUNK.findall(text):
        for part in _PART.findall(chunk):
            word = _stem(part.lower())
            if len(word) > 1 and word not in STOP:
                found.append(word)
    return found


def bm25(query: Sequence[str], docs: Sequence[Mapping[str, int]]) -> list[float]:
    """Okapi BM25 of each document (word counts) for the query words."""
    if not docs:
        return []
    lengths = [sum(doc.values()) for doc in docs]
    average = sum(lengths) / len(docs) or 1.0
    terms = set(query)
    frequency = {t: sum(1 for doc in docs if t in doc) for t in terms}
    idf = {t: math.log(1 + (len(docs) - n + 0.5) / (n + 0.5)) for t, n in frequency.items() if n}
    scores = []
    for doc, length in zip(docs, lengths, strict=True):
        score = 0.0
        for t in terms & idf.keys():
            tf = doc.get(t, 0)
            if tf:
                score += idf[t] * tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / average))
        scores.append(score)
    return scores
