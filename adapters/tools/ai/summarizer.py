"""`text-summarizer`: extractive offline (the sentences most central to the text, by sentence
embeddings), or abstractive through an LLM agent when the call names a `model`.

Extractive: each sentence is embedded (WordLlama); its centrality is TextRank (PageRank over the
cosine-similarity graph of the sentences) or its similarity to the document centroid; sentences
are picked by centrality with a redundancy penalty (maximal marginal relevance), so a text about
two subjects keeps both, and are returned in their original order."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmspell.runtime import Component, Result

from .._common import answer, refuse, tool
from ..env import ToolEnv
from ._embed import unit_vectors
from ._model import MAY_ASK_A_MODEL, MODEL_PROPERTY, ask
from ._text import sentences

if TYPE_CHECKING:
    import numpy as np

NAME = "text-summarizer"
MAX_SENTENCES = 2000


def textrank(similarity: np.ndarray, damping: float = 0.85, rounds: int = 100) -> np.ndarray:
    """PageRank over non-negative similarities (no self-links), by power iteration."""
    import numpy as np

    weights = np.clip(similarity, 0.0, None)
    np.fill_diagonal(weights, 0.0)
    totals = weights.sum(axis=1, keepdims=True)
    n = len(weights)
    transition = np.where(totals > 0, weights / np.where(totals == 0, 1, totals), 1.0 / n)
    rank: np.ndarray = np.full(n, 1.0 / n)
    for _ in range(rounds):
        updated: np.ndarray = (1 - damping) / n + damping * transition.T @ rank
        if np.abs(updated - rank).sum() < 1e-9:
            return updated
        rank = updated
    return rank


def pick(scores: np.ndarray, similarity: np.ndarray, count: int, diversity: float) -> list[int]:
    """Maximal marginal relevance: best score, less `diversity` x similarity to those picked."""
    import numpy as np

    span = float(scores.max() - scores.min()) or 1.0
    relevance = (scores - scores.min()) / span
    chosen: list[int] = []
    while len(chosen) < count:
        penalty = similarity[:, chosen].max(axis=1) if chosen else np.zeros(len(scores))
        value = (1 - diversity) * relevance - diversity * penalty
        value[chosen] = -np.inf
        chosen.append(int(value.argmax()))
    return sorted(chosen)


async def extractive(text: str, args: dict[str, Any]) -> dict[str, Any]:
    import numpy as np

    found = sentences(text)
    if len(found) > MAX_SENTENCES:
        raise refuse(NAME, f"the text has over {MAX_SENTENCES} sentences; summarize it in parts")
    count = min(args.get("sentences", 3), len(found))
    vectors = await unit_vectors([s for _, _, s in found])
    similarity = vectors @ vectors.T
    if args.get("method", "textrank") == "centroid":
        centroid = vectors.mean(axis=0)
        scores = vectors @ (centroid / (np.linalg.norm(centroid) or 1.0))
    else:
        scores = textrank(similarity)
    chosen = pick(scores, similarity, count, args.get("diversity", 0.3))
    picked: list[dict[str, Any]] = [
        {
            "index": i,
            "sentence": found[i][2],
            "start": found[i][0],
            "end": found[i][1],
            "score": round(float(scores[i]), 4),
        }
        for i in chosen
    ]
    return {
        "summary": " ".join(p["sentence"] for p in picked),
        "method": args.get("method", "textrank"),
        "sentences": picked,
        "total_sentences": len(found),
    }


def component(env: ToolEnv) -> Component:
    async def handle(args: dict[str, Any]) -> Result:
        text = args["text"].strip()
        if not text:
            raise refuse(NAME, "'text' is empty")
        if "model" in args:
            length = f"at most {args.get('sentences', 3)} sentences"
            if "max_words" in args:
                length += f" and at most {args['max_words']} words"
            focus = f" Focus on: {args['focus']}." if args.get("focus") else ""
            system = (
                f"You summarize texts faithfully, in {length}, in the text's own language, "
                f"adding nothing that the text does not say.{focus} Answer with the summary only."
            )
            summary = (await ask(env, NAME, args["model"], system, text)).strip()
            return answer(summary, {"summary": summary, "method": "model", "model": args["model"]})
        if "focus" in args or "max_words" in args:
            raise refuse(
                NAME, "'focus' and 'max_words' need a 'model' (extractive picks sentences)"
            )
        done = await extractive(text, args)
        return answer(done["summary"], done)

    return tool(
        NAME,
        "Summarize a text. Offline (default) it is extractive: it returns the text's most "
        "central sentences, in their original order, chosen by sentence embeddings (TextRank "
        "or closeness to the whole text) with a penalty for repeating itself. With 'model' "
        "('provider/model') an LLM writes an abstractive summary instead.",
        {
            "text": {"type": "string", "minLength": 1, "maxLength": 500_000},
            "sentences": {
                "type": "integer",
                "minimum": 1,
                "maximum": 100,
                "default": 3,
                "description": "How many sentences the summary has (at most)",
            },
            "method": {
                "type": "string",
                "enum": ["textrank", "centroid"],
                "default": "textrank",
                "description": "Extractive centrality: TextRank over sentence similarities, "
                "or similarity to the mean of all sentences",
            },
            "diversity": {
                "type": "number",
                "minimum": 0,
                "maximum": 1,
                "default": 0.3,
                "description": "Extractive: how strongly to avoid sentences like those "
                "already chosen (0: pure centrality)",
            },
            "model": MODEL_PROPERTY,
            "max_words": {
                "type": "integer",
                "minimum": 5,
                "maximum": 5000,
                "description": "With 'model': a word limit for the summary",
            },
            "focus": {
                "type": "string",
                "maxLength": 500,
                "description": "With 'model': what the summary should concentrate on",
            },
        },
        handle,
        required=["text"],
        annotations=MAY_ASK_A_MODEL,
    )
