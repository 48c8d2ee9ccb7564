"""BM25 over a collection's chunk texts (rank-bm25's BM25Okapi), for the exact words a vector
search blurs: config keys, function names, error codes.

The index lives in memory and is rebuilt from the texts when the collection changed; building
and scoring are CPU work, so callers run them in a thread (`asyncio.to_thread`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from llmspell.runtime.vectors import Filter, Metadata, matches
from rank_bm25 import BM25Okapi

WORD = re.compile(r"[0-9a-z]+(?:[._/:-][0-9a-z]+)*")
_STOPWORDS = """
a an and are as at be by can do does for from has have how i if in into is it its may of on or
so that the their them then there these this to was what when where which while who why will with
"""
STOPWORDS = frozenset(_STOPWORDS.split())
"""Words every question has: left out so they neither match nor dilute the rest."""


def tokens(text: str) -> list[str]:
    """Lowercased words without stopwords. A compound identifier (`breaker_failures`,
    `state.db`, `web-scraper`) counts as itself and as each of its parts, so a query can name
    it whole or by a part. Underscores join words here (`\\w` would split nothing else)."""
    found: list[str] = []
    for match in WORD.finditer(text.lower().replace("_", "-")):
        word = match.group(0)
        parts = re.split(r"[._/:-]", word)
        if len(parts) > 1:
            found.append(word)
        found.extend(p for p in parts if p not in STOPWORDS)
    return found


class _Okapi(BM25Okapi):  # type: ignore[misc]
    """BM25Okapi with Lucene's IDF, `log(1 + (N - n + 0.5) / (n + 0.5))`. rank-bm25's own IDF
    goes negative for a word in more than half the chunks and floors it at a fraction of the
    average, which is itself negative in a collection of one or two chunks: a match would then
    score below no match. Lucene's form is never negative."""

    def _calc_idf(self, nd: Mapping[str, int]) -> None:
        for word, freq in nd.items():
            self.idf[word] = math.log(1 + (self.corpus_size - freq + 0.5) / (freq + 0.5))


@dataclass(frozen=True, slots=True)
class Entry:
    """One chunk as BM25 sees it: its id, text and metadata (for filters and passages)."""

    id: str
    text: str
    metadata: Metadata


class BM25Index:
    """An immutable index over a snapshot of entries; a changed collection builds a new one."""

    def __init__(self, entries: Sequence[Entry]) -> None:
        self.entries = list(entries)
        corpus = [tokens(e.text) or [""] for e in self.entries]
        self._words = [frozenset(words) for words in corpus]
        self._bm25 = _Okapi(corpus) if corpus else None

    def __len__(self) -> int:
        return len(self.entries)

    def search(self, query: str, k: int, filter: Filter | None = None) -> list[tuple[Entry, float]]:
        """The k best entries that pass `filter`, best first; entries sharing no query word
        with the query are left out (a zero score says nothing about relevance)."""
        words = tokens(query)
        if self._bm25 is None or not words or k <= 0:
            return []
        scores = np.asarray(self._bm25.get_scores(words), dtype=float)
        matched = set(words)
        ranked: list[tuple[Entry, float]] = []
        for i in np.argsort(-scores, kind="stable"):
            at = int(i)
            if self._words[at].isdisjoint(matched):
                continue
            entry = self.entries[at]
            if not matches(entry.metadata, filter):
                continue
            ranked.append((entry, float(scores[at])))
            if len(ranked) == k:
                break
        return ranked


__all__ = ["BM25Index", "Entry", "tokens"]
