"""The disk store's usearch (HNSW) indexes: a cache of SQLite, never the truth.

One index per collection, saved as `c<cid>-g<generation>.usearch` (written aside, then renamed)
after every `save_every` changes and on close. `get` loads the file of the collection's current
generation when it holds as many vectors as SQLite, and otherwise rebuilds the index from the
vectors SQLite hands it (and saves it). So a file that is missing, torn, unreadable or from an
older generation (a kill between a commit and a save, another process's write) is never used.
Runs on the disk store's worker thread only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from llmspell.runtime.vectors import Metric
from usearch.index import Index

Matrix = npt.NDArray[np.float32]
USEARCH_METRIC: dict[Metric, str] = {"cosine": "cos", "dot": "ip", "l2": "l2sq"}
CONNECTIVITY = 32
EXPANSION_ADD = 128
EXPANSION_SEARCH = 64
"""The search breadth. On embedding-shaped (clustered) data, 64 gives recall@10 of about 0.99
at 100,000 x 256 in about 0.4 ms of HNSW time; uniform random vectors, HNSW's hardest case and
no embedding's shape, need 256 for 0.95 at 10,000 (`DiskVectorStore(expansion_search=256)`).
Each step up costs query time."""
SAVE_EVERY = 10_000
"""Changed records after which the index is saved (besides on close)."""


@dataclass(slots=True)
class _Loaded:
    index: Index
    generation: int
    unsaved: int


class IndexCache:
    def __init__(
        self,
        folder: Path,
        *,
        connectivity: int = CONNECTIVITY,
        expansion_add: int = EXPANSION_ADD,
        expansion_search: int = EXPANSION_SEARCH,
        save_every: int = SAVE_EVERY,
    ) -> None:
        self.folder = folder
        self.connectivity = connectivity
        self.expansion_add = expansion_add
        self.expansion_search = expansion_search
        self.save_every = save_every
        self._loaded: dict[int, _Loaded] = {}

    def get(
        self,
        cid: int,
        dim: int,
        metric: Metric,
        generation: int,
        count: Callable[[], int],
        vectors: Callable[[], tuple[list[int], Matrix]],
    ) -> Index:
        """The index of collection `cid` at `generation`: in memory, from its file, or rebuilt
        from `vectors()` (keys and rows) when the file does not hold `count()` vectors."""
        loaded = self._loaded.get(cid)
        if loaded is not None and loaded.generation == generation:
            return loaded.index
        index = self._load(self.path(cid, generation), dim, count())
        rebuilt = index is None
        if index is None:
            index = Index(
                ndim=dim,
                metric=USEARCH_METRIC[metric],
                dtype="f32",
                connectivity=self.connectivity,
                expansion_add=self.expansion_add,
            )
            keys, matrix = vectors()
            if keys:
                index.add(np.asarray(keys, dtype=np.uint64), matrix, threads=0)
        index.expansion_search = self.expansion_search  # type: ignore[misc]
        self._loaded[cid] = _Loaded(index, generation, 0)
        if rebuilt:
            self.save(cid)
        return index

    @staticmethod
    def _load(path: Path, dim: int, expected: int) -> Index | None:
        if not path.is_file():
            return None
        try:
            index = Index.restore(str(path), view=False)
        except Exception:  # unreadable: the caller rebuilds
            return None
        if index is None or index.ndim != dim or len(index) != expected:
            return None
        return index

    def apply(
        self,
        cid: int,
        generation: int,
        removed: list[int],
        added: tuple[list[int], Matrix] | None = None,
    ) -> None:
        """Bring the loaded index along with a change committed from `generation`; forget it
        (rebuilt on next use) when it was behind, or when usearch fails."""
        loaded = self._loaded.get(cid)
        if loaded is None:
            return
        if loaded.generation != generation:
            del self._loaded[cid]
            return
        try:
            if removed:
                loaded.index.remove(np.asarray(removed, dtype=np.uint64))
            if added is not None and added[0]:
                loaded.index.add(np.asarray(added[0], dtype=np.uint64), added[1], threads=0)
        except Exception:
            del self._loaded[cid]
            raise
        loaded.generation += 1
        loaded.unsaved += len(removed) + (0 if added is None else len(added[0]))
        if loaded.unsaved >= self.save_every:
            self.save(cid)

    def save(self, cid: int) -> None:
        loaded = self._loaded[cid]
        path = self.path(cid, loaded.generation)
        aside = path.with_name(f".{path.name}.tmp")
        loaded.index.save(str(aside))
        aside.replace(path)
        loaded.unsaved = 0
        self._remove_files(cid, keep=path)

    def drop(self, cid: int) -> None:
        self._loaded.pop(cid, None)
        self._remove_files(cid)

    def close(self) -> None:
        """Save what changed since the last save."""
        try:
            for cid, loaded in list(self._loaded.items()):
                if loaded.unsaved:
                    self.save(cid)
        finally:
            self._loaded.clear()

    def path(self, cid: int, generation: int) -> Path:
        return self.folder / f"c{cid}-g{generation}.usearch"

    def _remove_files(self, cid: int, keep: Path | None = None) -> None:
        leftovers = [*self.folder.glob(f"c{cid}-g*.usearch"), *self.folder.glob(f".c{cid}-g*.tmp")]
        for old in leftovers:  # older generations, and saves a kill interrupted
            if old != keep:
                old.unlink(missing_ok=True)
