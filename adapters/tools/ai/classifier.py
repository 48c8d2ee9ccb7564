"""`text-classifier`: zero-shot classification. Offline, the text and each label's description
are embedded (WordLlama) and compared by cosine similarity; a softmax over the similarities
(with a temperature) turns them into scores that sum to 1. With a `model`, an LLM agent picks
the label and answers in a JSON shape this tool validates."""

from __future__ import annotations

from typing import Any

from llmspell.runtime import Component, Result

from .._common import answer, refuse, tool
from ..env import ToolEnv
from ._embed import unit_vectors
from ._model import MAY_ASK_A_MODEL, MODEL_PROPERTY, ask_json

NAME = "text-classifier"


def labels_of(args: dict[str, Any]) -> list[dict[str, str]]:
    """Labels as {name, description}; a plain name is its own description."""
    out = []
    for item in args["labels"]:
        if isinstance(item, str):
            out.append({"name": item, "description": item})
        else:
            out.append(
                {"name": item["name"], "description": item.get("description") or item["name"]}
            )
    names = [label["name"] for label in out]
    if len(set(names)) != len(names):
        raise refuse(NAME, "label names must be different from each other")
    return out


async def by_embeddings(text: str, labels: list[dict[str, str]], temperature: float) -> list[Any]:
    import numpy as np

    vectors = await unit_vectors([text] + [label["description"] for label in labels])
    similarity = vectors[1:] @ vectors[0]
    logits = similarity / temperature
    weights = np.exp(logits - logits.max())
    scores = weights / weights.sum()
    ranked = sorted(range(len(labels)), key=lambda i: -scores[i])
    return [
        {
            "label": labels[i]["name"],
            "score": round(float(scores[i]), 4),
            "similarity": round(float(similarity[i]), 4),
        }
        for i in ranked
    ]


def answer_schema(names: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "label": {"type": "string", "enum": names},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "reason": {"type": "string"},
        },
        "required": ["label", "confidence"],
    }


async def by_model(env: ToolEnv, text: str, labels: list[dict[str, str]], model: str) -> Any:
    listing = "\n".join(f"- {label['name']}: {label['description']}" for label in labels)
    system = (
        "You classify texts. Choose the one label that fits the text best from this list "
        f"(name: meaning):\n{listing}\nGive your confidence from 0 to 1 and a short reason."
    )
    names = [label["name"] for label in labels]
    return await ask_json(env, NAME, model, system, text, answer_schema(names))


def component(env: ToolEnv) -> Component:
    async def handle(args: dict[str, Any]) -> Result:
        labels = labels_of(args)
        text = args["text"]
        if "model" in args:
            said = await by_model(env, text, labels, args["model"])
            data = {**said, "method": "model", "model": args["model"]}
            return answer(f"{said['label']} ({float(said['confidence']):.2f})", data)
        ranked = await by_embeddings(text, labels, args.get("temperature", 0.05))
        best = ranked[0]
        data = {"label": best["label"], "score": best["score"], "method": "embeddings"}
        return answer(f"{best['label']} ({best['score']:.2f})", {**data, "scores": ranked})

    label_object = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1},
            "description": {
                "type": "string",
                "description": "What the label means; what is compared with the text",
            },
        },
        "required": ["name"],
        "additionalProperties": False,
    }
    return tool(
        NAME,
        "Classify a text into one of the given labels, zero-shot (no training). Offline it "
        "compares sentence embeddings of the text and of each label's description and returns "
        "every label with a score (they sum to 1): a describing phrase per label works better "
        "than a bare name. With 'model' ('provider/model') an LLM chooses the label instead.",
        {
            "text": {"type": "string", "minLength": 1, "maxLength": 100_000},
            "labels": {
                "type": "array",
                "items": {"anyOf": [{"type": "string", "minLength": 1}, label_object]},
                "minItems": 2,
                "maxItems": 200,
                "description": "Label names, or {name, description} objects",
            },
            "temperature": {
                "type": "number",
                "exclusiveMinimum": 0,
                "maximum": 10,
                "default": 0.05,
                "description": "Offline: softmax temperature over cosine similarities "
                "(smaller: more decisive scores)",
            },
            "model": MODEL_PROPERTY,
        },
        handle,
        required=["text", "labels"],
        annotations=MAY_ASK_A_MODEL,
    )
