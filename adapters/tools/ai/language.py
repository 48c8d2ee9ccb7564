"""`language-detector`: which language a text is in, with lingua (offline statistical models
in its wheel). A detector is built once per language set and accuracy mode, lazily, and its
first use loads the models it needs in a worker thread."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from llmspell.runtime import Component, Result

from .._common import PURE, answer, need, refuse, tool

NAME = "language-detector"
_lock = threading.Lock()
_detectors: dict[tuple[tuple[str, ...], bool], Any] = {}


def _languages(lingua: Any, wanted: list[str]) -> list[Any]:
    """Languages from ISO 639-1/639-3 codes or English names ('fr', 'fra', 'French')."""
    found = []
    for item in wanted:
        key = item.strip()
        language = None
        try:
            if len(key) == 2:
                code = lingua.IsoCode639_1.from_str(key.lower())
                language = lingua.Language.from_iso_code_639_1(code)
            elif len(key) == 3:
                code3 = lingua.IsoCode639_3.from_str(key.lower())
                language = lingua.Language.from_iso_code_639_3(code3)
            else:
                language = lingua.Language.from_str(key)
        except ValueError:
            language = None
        if language is None:
            raise refuse(NAME, f"unknown language {item!r}: give ISO 639-1 codes or names")
        found.append(language)
    if len(set(found)) < 2:
        raise refuse(NAME, "'languages' needs at least two different languages to choose from")
    return found


def _detector(lingua: Any, wanted: list[str], low_accuracy: bool) -> Any:
    key = (tuple(sorted(w.lower() for w in wanted)), low_accuracy)
    with _lock:
        detector = _detectors.get(key)
        if detector is None:
            builder = (
                lingua.LanguageDetectorBuilder.from_languages(*_languages(lingua, wanted))
                if wanted
                else lingua.LanguageDetectorBuilder.from_all_languages()
            )
            if low_accuracy:
                builder = builder.with_low_accuracy_mode()
            detector = _detectors[key] = builder.build()
    return detector


def _plain(language: Any, value: float) -> dict[str, Any]:
    return {
        "language": language.name.capitalize(),
        "code": language.iso_code_639_1.name.lower(),
        "code_639_3": language.iso_code_639_3.name.lower(),
        "confidence": round(float(value), 4),
    }


def _detect(lingua: Any, texts: list[str], args: dict[str, Any]) -> list[dict[str, Any]]:
    detector = _detector(lingua, args.get("languages") or [], args.get("low_accuracy", False))
    top = args.get("top", 3)
    out = []
    for text in texts:
        values = detector.compute_language_confidence_values(text)
        candidates = [_plain(v.language, v.value) for v in values[:top] if v.value > 0]
        best = candidates[0] if candidates else None
        out.append({"text": text[:80], "detected": best, "candidates": candidates})
    return out


def component() -> Component:
    async def handle(args: dict[str, Any]) -> Result:
        lingua = need("lingua", "ml", NAME)
        texts = [args["text"]] if "text" in args else list(args.get("texts") or [])
        if not texts:
            raise refuse(NAME, "give 'text' or a non-empty 'texts'")
        results = await asyncio.to_thread(_detect, lingua, texts, args)
        lines = [
            f"{r['detected']['language']} ({r['detected']['code']}, "
            f"{r['detected']['confidence']:.2f})"
            if r["detected"]
            else "unknown (no language fits)"
            for r in results
        ]
        data: Any = results[0] if "text" in args else {"results": results}
        return answer("\n".join(lines), data)

    return tool(
        NAME,
        "Detect the language of a text (or several) offline with lingua's statistical models: "
        "the language name, its ISO 639-1 code and confidence values for the top candidates. "
        "Restricting 'languages' to those you expect is faster and more accurate; "
        "'low_accuracy' is faster still, and weaker on short texts.",
        {
            "text": {"type": "string", "minLength": 1, "description": "The text"},
            "texts": {
                "type": "array",
                "items": {"type": "string", "minLength": 1},
                "minItems": 1,
                "maxItems": 1000,
                "description": "Several texts, each detected on its own",
            },
            "languages": {
                "type": "array",
                "items": {"type": "string", "minLength": 2},
                "minItems": 2,
                "description": "Only choose among these (ISO 639-1/639-3 codes or English "
                "names, e.g. ['en', 'fr', 'de']); default all 75 lingua knows",
            },
            "top": {
                "type": "integer",
                "minimum": 1,
                "maximum": 75,
                "default": 3,
                "description": "How many candidates to list with their confidence",
            },
            "low_accuracy": {
                "type": "boolean",
                "default": False,
                "description": "Use the smaller, faster models (less reliable on short texts)",
            },
        },
        handle,
        annotations=PURE,
    )
