"""AI: language detection, sentiment, summarization, zero-shot classification, named entities and
image analysis. Each works offline (lingua, VADER, WordLlama embeddings, rules, Pillow); the
summarizer, classifier, recognizer and image analyzer also ask an LLM agent when a call names a
`model` (see `_model.py` for where its endpoint and key come from)."""

from __future__ import annotations

from llmspell.runtime import Component

from ..env import ToolEnv
from . import classifier, entities, image, language, sentiment, summarizer
from ._text import one_of


def components(env: ToolEnv) -> list[Component]:
    return [
        one_of(language.component(), "text", "texts"),
        one_of(sentiment.component(), "text", "texts"),
        summarizer.component(env),
        classifier.component(env),
        entities.component(env),
        one_of(image.component(env), "path", "data"),
    ]
