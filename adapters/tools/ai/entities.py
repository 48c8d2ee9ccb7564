"""`named-entity-recognizer`: names, places, organisations, dates, amounts, emails and URLs in a
text. Offline it is rule-based and says so: regular expressions find dates, times, money,
percentages, numbers, emails and URLs; runs of capitalised words are names, typed by small
gazetteers (countries, cities, given names, titles, organisation words) and by context. It
misses lower-case names and can mistype unlisted ones (typed MISC when nothing tells). With a
`model`, an LLM agent finds the entities and answers in a JSON shape this tool validates, with
offsets checked against the text."""

from __future__ import annotations

import re
from typing import Any

from llmspell.runtime import Component, Result

from .._common import answer, tool
from ..env import ToolEnv
from . import _gazetteer as g
from ._model import MAY_ASK_A_MODEL, MODEL_PROPERTY, ask_json

NAME = "named-entity-recognizer"
TYPES = [
    "PERSON", "LOCATION", "ORGANIZATION", "DATE", "TIME", "MONEY", "PERCENT", "NUMBER",
    "EMAIL", "URL", "MISC",
]  # fmt: skip

_PLACES = g.words(g.COUNTRIES) | g.words(g.PLACES)
_GIVEN = g.words(g.GIVEN_NAMES)
_TITLES = g.words(g.TITLES)
_ORG_WORDS = g.words(g.ORGANISATION_WORDS)
_CALENDAR = g.words(g.MONTHS) | g.words(g.WEEKDAYS)
_CONNECTORS = {"of", "de", "da", "di", "du", "van", "von", "der", "den", "la", "le", "y", "and"}
_STOP = g.words(g.SENTENCE_WORDS)
_PLACE_WORDS = {"in", "at", "from", "to", "near", "across", "into", "visited", "via"}

_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December|(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?)"  # noqa: E501
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_WEEKDAY = r"(?:(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday),?\s+)?"
_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_SCALE = r"(?:\s?(?:million|billion|trillion|thousand|bn|[mkMK]))?"
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("EMAIL", re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")),
    ("URL", re.compile(r"\b(?:https?://|www\.)[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")),
    (
        "DATE",
        re.compile(
            rf"\b{_WEEKDAY}(?:{_DAY}\s+(?:of\s+)?{_MONTH}(?:,?\s+\d{{4}})?"
            rf"|{_MONTH}\s+{_DAY}(?:,?\s+\d{{4}})?|{_MONTH}\s+\d{{4}})(?!\w)"
            r"|\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b"
        ),
    ),
    ("TIME", re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?(?:\s?[ap]\.?m\.?)?(?!\w)", re.IGNORECASE)),
    (
        "MONEY",
        re.compile(
            rf"(?:[$€£¥]|\b(?:USD|EUR|GBP|JPY|CHF)\s?)(?:{_NUMBER}){_SCALE}\b"
            rf"|\b(?:{_NUMBER}){_SCALE}\s?(?:dollars|euros|pounds|yen|USD|EUR|GBP)\b"
        ),
    ),
    ("PERCENT", re.compile(rf"\b(?:{_NUMBER})\s?(?:%|percent\b|per cent\b)")),
    ("NUMBER", re.compile(rf"(?<![\w.])(?:{_NUMBER})(?![\w])")),
]
_WORD = re.compile(r"[^\W\d_][\w'’-]*")


def _patterns(text: str) -> tuple[list[dict[str, Any]], list[bool]]:
    """Pattern entities, earlier kinds first; `taken` marks their characters."""
    found, taken = [], [False] * len(text)
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(text):
            if any(taken[m.start() : m.end()]):
                continue
            found.append(_entity(text, m.start(), m.end(), kind))
            taken[m.start() : m.end()] = [True] * (m.end() - m.start())
    return found, taken


def _entity(text: str, start: int, end: int, kind: str) -> dict[str, Any]:
    return {"text": text[start:end], "type": kind, "start": start, "end": end}


def _runs(text: str, taken: list[bool]) -> list[list[re.Match[str]]]:
    """Runs of capitalised words separated by single spaces, with connectors inside."""
    runs: list[list[re.Match[str]]] = []
    current: list[re.Match[str]] = []
    for m in _WORD.finditer(text):
        word, free = m.group(0), not any(taken[m.start() : m.end()])
        joined = bool(current) and text[current[-1].end() : m.start()] == " "
        if free and word[0].isupper():
            if not joined and current:
                runs.append(current)
                current = []
            current.append(m)
        elif free and joined and word in _CONNECTORS:
            current.append(m)
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    for run in runs:  # a connector does not end a name
        while run and run[-1].group(0) in _CONNECTORS:
            run.pop()
    return [run for run in runs if run]


def _sentence_start(text: str, index: int) -> bool:
    before = text[:index].rstrip()
    return not before or before[-1] in ".!?:;\n\"'(“"


def _kind(text: str, words: list[str], start: int, people: set[str]) -> str | None:
    name = " ".join(words)
    previous = text[:start].split()[-1:] or [""]
    previous_word = previous[0].rstrip(".,").strip("\"'(")
    if name in _PLACES:
        return "LOCATION"
    if words[-1].rstrip(".") in _ORG_WORDS or (len(words) > 1 and words[0] in _ORG_WORDS):
        return "ORGANIZATION"
    if previous_word in _TITLES or words[0] in _GIVEN or name in people:
        return "PERSON"
    if len(words) == 1 and words[0].isupper() and 2 <= len(words[0]) <= 6:
        return "ORGANIZATION"  # an acronym: NASA, IBM, UNESCO
    if len(words) == 1 and previous_word.lower() in _PLACE_WORDS:
        return "LOCATION"
    if 2 <= len(words) <= 3 and all(w[0].isupper() and w[1:].islower() for w in words):
        return "PERSON"  # two or three plain capitalised words: most often a name
    if len(words) == 1 and _sentence_start(text, start):
        return None  # a capitalised first word tells nothing
    return "MISC"


def recognize(text: str) -> list[dict[str, Any]]:
    found, taken = _patterns(text)
    people: set[str] = set()
    queue = _runs(text, taken)
    while queue:
        run = queue.pop(0)
        titled = False
        while run and (run[0].group(0) in _STOP or run[0].group(0) in _TITLES):
            titled = titled or run[0].group(0) in _TITLES
            run = run[1:]
        cut = next((i for i, m in enumerate(run) if m.group(0) in _CONNECTORS), None)
        if titled and cut is not None:  # "Dr Smith of Acme Corp": a person, then the rest
            queue.insert(0, run[cut + 1 :])
            run = run[:cut]
        while run and run[-1].group(0) in _CONNECTORS:
            run = run[:-1]
        words = [m.group(0) for m in run]
        if not words or all(w in _CALENDAR or w in _STOP for w in words):
            continue
        start, end = run[0].start(), run[-1].end()
        kind = _kind(text, words, start, people)
        if kind is None:
            continue
        if kind == "PERSON":
            people.update(words)  # "Lovelace" alone later is the same person
        found.append(_entity(text, start, end, kind))
    return sorted(found, key=lambda e: (e["start"], e["end"]))


ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "entities": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "text": {"type": "string", "minLength": 1},
                    "type": {"type": "string"},
                    "start": {"type": "integer", "minimum": 0},
                    "end": {"type": "integer", "minimum": 0},
                },
                "required": ["text", "type", "start", "end"],
            },
        }
    },
    "required": ["entities"],
}


def anchor(text: str, said: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """Entities whose text is really in the text, with offsets that point at it (a model's
    offsets are often off: the nearest occurrence is used); the count dropped."""
    kept, dropped = [], 0
    for item in said:
        span = item["text"]
        if text[item["start"] : item["end"]] == span:
            kept.append({k: item[k] for k in ("text", "type", "start", "end")})
            continue
        spots = [m.start() for m in re.finditer(re.escape(span), text)]
        if not spots:
            dropped += 1
            continue
        at = min(spots, key=lambda s: abs(s - item["start"]))
        kept.append(_entity(text, at, at + len(span), item["type"]))
    return sorted(kept, key=lambda e: (e["start"], e["end"])), dropped


def component(env: ToolEnv) -> Component:
    async def handle(args: dict[str, Any]) -> Result:
        import asyncio

        text, wanted = args["text"], args.get("types")
        dropped = 0
        if "model" in args:
            kinds = wanted or TYPES
            system = (
                "You find named entities in texts. Types: " + ", ".join(kinds) + ". For each "
                "entity give its exact text as written, its type, and its character offsets: "
                "start (0-based) and end (exclusive), so text[start:end] is the entity."
            )
            said = await ask_json(env, NAME, args["model"], system, text, ANSWER_SCHEMA)
            entities, dropped = anchor(text, said["entities"])
            method = "model"
        else:
            entities, method = await asyncio.to_thread(recognize, text), "rules"
        if wanted:
            entities = [e for e in entities if e["type"] in wanted]
        data: dict[str, Any] = {"entities": entities, "method": method}
        if method == "model":
            data |= {"model": args["model"], "dropped": dropped}
        lines = [f"{e['type']}: {e['text']} [{e['start']}:{e['end']}]" for e in entities]
        return answer("\n".join(lines) or "no entities found", data)

    return tool(
        NAME,
        "Find named entities (people, places, organisations, dates, times, money, percentages, "
        "numbers, emails, URLs) with their character offsets. Offline it is heuristic: "
        "patterns for dates, amounts and addresses, and capitalised word runs typed by small "
        "gazetteers and context (MISC when unsure); it misses lower-case names. With 'model' "
        "('provider/model') an LLM finds them, and offsets are checked against the text.",
        {
            "text": {"type": "string", "minLength": 1, "maxLength": 200_000},
            "types": {
                "type": "array",
                "items": {"type": "string", "enum": TYPES},
                "minItems": 1,
                "uniqueItems": True,
                "description": "Only these entity types (default: all)",
            },
            "model": MODEL_PROPERTY,
        },
        handle,
        required=["text"],
        annotations=MAY_ASK_A_MODEL,
    )
