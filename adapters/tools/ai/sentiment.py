"""`sentiment-analyzer`: VADER, a lexicon and rules tuned for short social-media style English;
scores each text and each of its sentences. Labels use VADER's standard thresholds:
compound >= 0.05 positive, <= -0.05 negative, else neutral."""

from __future__ import annotations

import asyncio
import re
import threading
from typing import Any

from llmspell.runtime import Component, Result

from .._common import PURE, answer, need, refuse, tool

NAME = "sentiment-analyzer"
THRESHOLD = 0.05
_lock = threading.Lock()
_analyzer: Any = None
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=\S)")


def label(compound: float) -> str:
    if compound >= THRESHOLD:
        return "positive"
    if compound <= -THRESHOLD:
        return "negative"
    return "neutral"


def _scores(analyzer: Any, text: str) -> dict[str, Any]:
    raw = analyzer.polarity_scores(text)
    scores = {k: round(float(raw[k]), 4) for k in ("compound", "pos", "neu", "neg")}
    return {**scores, "label": label(scores["compound"])}


def _analyze(vader: Any, texts: list[str], sentences: bool) -> list[dict[str, Any]]:
    global _analyzer
    with _lock:
        if _analyzer is None:
            _analyzer = vader.SentimentIntensityAnalyzer()
    out = []
    for text in texts:
        row: dict[str, Any] = {"text": text[:80], **_scores(_analyzer, text)}
        if sentences:
            parts = [s for s in _SENTENCE.split(text.strip()) if s]
            row["sentences"] = [{"sentence": s, **_scores(_analyzer, s)} for s in parts]
        out.append(row)
    return out


def component() -> Component:
    async def handle(args: dict[str, Any]) -> Result:
        vader = need("vaderSentiment.vaderSentiment", "ml", NAME)
        texts = [args["text"]] if "text" in args else list(args.get("texts") or [])
        if not texts:
            raise refuse(NAME, "give 'text' or a non-empty 'texts'")
        results = await asyncio.to_thread(_analyze, vader, texts, args.get("sentences", True))
        lines = [f"{r['label']} (compound {r['compound']:+.3f})" for r in results]
        data: Any = results[0] if "text" in args else {"results": results}
        return answer("\n".join(lines), data)

    return tool(
        NAME,
        "Score the sentiment of English text offline with VADER: compound (-1..1), pos, neu "
        "and neg for the whole text and for each sentence, and a label (positive when "
        "compound >= 0.05, negative when <= -0.05, else neutral). A lexicon method: it reads "
        "emphasis, negation and emoticons, not sarcasm or domain jargon.",
        {
            "text": {"type": "string", "minLength": 1, "description": "The text"},
            "texts": {
                "type": "array",
                "items": {"type": "string", "minLength": 1},
                "minItems": 1,
                "maxItems": 1000,
                "description": "Several texts, each scored on its own",
            },
            "sentences": {
                "type": "boolean",
                "default": True,
                "description": "Also score each sentence",
            },
        },
        handle,
        annotations=PURE,
    )
