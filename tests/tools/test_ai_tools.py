"""The `ai` tools through the real pipeline, with known answers: lingua, VADER, WordLlama
embeddings, the rule-based recognizer and Pillow offline; the LLM paths against the local
OpenAI-format server (its base_url from `[tools.NAME]` settings) and `offline/echo`."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from llmspell.adapters.tools import builtin_tools, register_builtins
from llmspell.conformance.peers.llm_server import FakeLLM, Reply, fake_llm, openai_completion
from llmspell.runtime import ErrorCode, Runtime

from .conftest import call, refused

AI = [
    "language-detector",
    "sentiment-analyzer",
    "text-summarizer",
    "text-classifier",
    "named-entity-recognizer",
    "image-analyzer",
]

TWO_TOPICS = (
    "The city council approved a new budget for public transport on Monday. "
    "The budget adds forty electric buses and extends three tram lines. "
    "Council members argued for hours about the cost of the tram extension. "
    "Fares will stay the same for the next two years under the new budget. "
    "The mayor said public transport is the city's top priority. "
    "Meanwhile, the local football club won the regional championship. "
    "Their striker scored the winning goal in the final minute of the match. "
    "Thousands of fans celebrated the championship victory in the main square. "
    "The coach praised the team's defence after the final. "
    "It was the club's first championship title in twenty years."
)
HISTORY = "Ada Lovelace met Charles Babbage in London on 5 June 1833"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeLLM]:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    with fake_llm() as s:
        yield s


def with_model(tmp_path: Path, server: FakeLLM) -> Runtime:
    """Built-ins whose `ai` tools reach the local server as their `openai/...` endpoint."""
    runtime = Runtime()
    endpoint = {"base_url": server.url + "/v1"}
    register_builtins(runtime.catalog, roots=[tmp_path], settings={name: endpoint for name in AI})
    return runtime


def system_prompt(server: FakeLLM) -> str:
    messages = server.requests[-1].body["messages"]
    return str(messages[0]["content"]) if messages[0]["role"] == "system" else ""


def picture(fmt: str = "PNG", exif: Any = None) -> bytes:
    """100x100: the left 70 columns red, the right 30 blue."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (100, 100), (255, 0, 0))
    ImageDraw.Draw(img).rectangle((70, 0, 99, 99), fill=(0, 0, 255))
    buf = io.BytesIO()
    img.save(buf, fmt, **({"exif": exif} if exif is not None else {}))
    return buf.getvalue()


# -- catalog --------------------------------------------------------------------------------


def test_category_schemas_and_annotations() -> None:
    tools = {c.name: c for c in builtin_tools() if c.category == "ai"}
    assert sorted(tools) == sorted(AI)
    for name in ("language-detector", "sentiment-analyzer"):
        a = tools[name].annotations
        assert a.read_only and a.idempotent and not a.open_world
    for name in AI[2:]:
        a = tools[name].annotations
        assert a.read_only and not a.idempotent and a.open_world
        assert "model" in tools[name].input_schema["properties"]
    assert tools["language-detector"].input_schema["oneOf"] == [
        {"required": ["text"]},
        {"required": ["texts"]},
    ]


# -- language-detector ----------------------------------------------------------------------


async def test_language_french_and_german(rt: Runtime) -> None:
    res = await call(
        rt,
        "language-detector",
        texts=[
            "Le chat dort tranquillement sur le canapé pendant que nous préparons le dîner.",
            "Der Hund schläft im Garten, weil die Sonne heute so warm scheint.",
        ],
        languages=["en", "fr", "de", "es", "it"],
        top=2,
    )
    first, second = res.data["results"]
    assert (first["detected"]["language"], first["detected"]["code"]) == ("French", "fr")
    assert (second["detected"]["language"], second["detected"]["code"]) == ("German", "de")
    assert first["detected"]["confidence"] > 0.5 and len(first["candidates"]) == 2
    assert res.text.splitlines()[0].startswith("French (fr")


async def test_language_all_languages_low_accuracy(rt: Runtime) -> None:
    res = await call(
        rt,
        "language-detector",
        text="Il pleut depuis ce matin et les enfants restent à la maison.",
        low_accuracy=True,
    )
    assert res.data["detected"]["code"] == "fr"
    assert res.data["detected"]["code_639_3"] == "fra"


async def test_language_refusals(rt: Runtime) -> None:
    err = await refused(rt, "language-detector", text="hello", languages=["en", "klingon"])
    assert "klingon" in str(err)
    err = await refused(rt, "language-detector", text="a", texts=["b"])
    assert err.code == ErrorCode.INVALID_ARGUMENTS


# -- sentiment-analyzer ---------------------------------------------------------------------


async def test_sentiment_reviews(rt: Runtime) -> None:
    res = await call(
        rt,
        "sentiment-analyzer",
        texts=[
            "This was the worst purchase I have ever made. It broke after one day and support "
            "was rude and useless. Terrible!",
            "Absolutely wonderful! The food was delicious, the staff were lovely and I would "
            "happily come back again.",
            "The package arrived on Tuesday.",
        ],
    )
    bad, good, flat = res.data["results"]
    assert bad["label"] == "negative" and bad["compound"] <= -0.5
    assert good["label"] == "positive" and good["compound"] >= 0.5
    assert flat["label"] == "neutral"
    assert len(bad["sentences"]) == 3
    assert {"compound", "pos", "neu", "neg", "label"} <= set(bad["sentences"][0])


# -- text-summarizer ------------------------------------------------------------------------


async def test_summary_keeps_one_lead_sentence_per_topic(rt: Runtime) -> None:
    res = await call(rt, "text-summarizer", text=TWO_TOPICS, sentences=2)
    chosen = [s["index"] for s in res.data["sentences"]]
    assert chosen == [0, 5]  # the council budget, then the football championship
    assert res.text == (
        "The city council approved a new budget for public transport on Monday. "
        "Meanwhile, the local football club won the regional championship."
    )
    assert res.data["total_sentences"] == 10
    first = res.data["sentences"][0]
    assert TWO_TOPICS[first["start"] : first["end"]] == first["sentence"]


async def test_summary_centroid_keeps_order(rt: Runtime) -> None:
    res = await call(rt, "text-summarizer", text=TWO_TOPICS, sentences=4, method="centroid")
    chosen = [s["index"] for s in res.data["sentences"]]
    assert len(chosen) == 4 and chosen == sorted(chosen)
    assert 0 in chosen and 5 in chosen


async def test_summary_through_offline_echo(rt: Runtime) -> None:
    res = await call(rt, "text-summarizer", text="One. Two.", model="offline/echo")
    assert res.data == {"summary": "echo: One. Two.", "method": "model", "model": "offline/echo"}


async def test_summary_through_local_server(tmp_path: Path, server: FakeLLM) -> None:
    server.queue(Reply(body=openai_completion("Transport budget passed; the club won.")))
    rt = with_model(tmp_path, server)
    res = await call(rt, "text-summarizer", text=TWO_TOPICS, model="openai/gpt-test", max_words=12)
    assert res.text == "Transport budget passed; the club won."
    body = server.requests[0].body
    assert body["model"] == "gpt-test"
    assert "at most 3 sentences and at most 12 words" in system_prompt(server)
    assert body["messages"][-1] == {"role": "user", "content": TWO_TOPICS}


async def test_model_names_are_checked(rt: Runtime) -> None:
    err = await refused(rt, "text-summarizer", text="a b", model="offline//etc/passwd.json")
    assert "echo" in str(err)
    err = await refused(rt, "text-summarizer", text="a b", focus="x")
    assert "model" in str(err)


# -- text-classifier ------------------------------------------------------------------------


async def test_classify_offline(rt: Runtime) -> None:
    res = await call(
        rt,
        "text-classifier",
        text="The striker scored twice in the final",
        labels=["sports", "politics", "cooking"],
    )
    assert res.data["label"] == "sports" and res.data["method"] == "embeddings"
    scores = res.data["scores"]
    assert abs(sum(s["score"] for s in scores) - 1) < 0.01
    assert scores[0]["score"] > 0.5


async def test_classify_with_descriptions(rt: Runtime) -> None:
    labels = [
        {"name": "sports", "description": "sport, athletes, matches and goals"},
        {"name": "politics", "description": "politics, elections, government and parliament"},
        {"name": "cooking", "description": "cooking, recipes, food and kitchens"},
    ]
    res = await call(
        rt, "text-classifier", text="Parliament passed the new election law", labels=labels
    )
    assert res.data["label"] == "politics"
    err = await refused(rt, "text-classifier", text="x", labels=["a", "a"])
    assert "different" in str(err)


async def test_classify_through_local_server(tmp_path: Path, server: FakeLLM) -> None:
    verdict = {"label": "sports", "confidence": 0.97, "reason": "a striker scoring"}
    server.queue(Reply(body=openai_completion(json.dumps(verdict))))
    rt = with_model(tmp_path, server)
    res = await call(
        rt,
        "text-classifier",
        text="The striker scored twice in the final",
        labels=["sports", "politics", "cooking"],
        model="openai/gpt-test",
    )
    assert res.data == {**verdict, "method": "model", "model": "openai/gpt-test"}
    prompt = system_prompt(server)
    assert "- politics: politics" in prompt and '"enum": [' in prompt


async def test_classify_rejects_an_answer_off_schema(tmp_path: Path, server: FakeLLM) -> None:
    server.queue(Reply(body=openai_completion('{"label": "weather", "confidence": 2}')))
    rt = with_model(tmp_path, server)
    err = await refused(rt, "text-classifier", text="x", labels=["a", "b"], model="openai/gpt-test")
    assert err.code == ErrorCode.COMPONENT_FAILED and "schema" in str(err)


# -- named-entity-recognizer ----------------------------------------------------------------


async def test_entities_offline(rt: Runtime) -> None:
    res = await call(rt, "named-entity-recognizer", text=HISTORY)
    found = {(e["text"], e["type"]) for e in res.data["entities"]}
    assert found == {
        ("Ada Lovelace", "PERSON"),
        ("Charles Babbage", "PERSON"),
        ("London", "LOCATION"),
        ("5 June 1833", "DATE"),
    }
    for e in res.data["entities"]:
        assert HISTORY[e["start"] : e["end"]] == e["text"]


async def test_entities_patterns_and_filter(rt: Runtime) -> None:
    text = (
        "Dr Smith of Acme Corp paid $1,200 on 2024-01-05 at 10:30; write to bob@example.org "
        "or see https://example.org/a. Prices rose 5% in France."
    )
    res = await call(rt, "named-entity-recognizer", text=text)
    found = {(e["text"], e["type"]) for e in res.data["entities"]}
    assert {
        ("Smith", "PERSON"),
        ("Acme Corp", "ORGANIZATION"),
        ("$1,200", "MONEY"),
        ("2024-01-05", "DATE"),
        ("10:30", "TIME"),
        ("bob@example.org", "EMAIL"),
        ("https://example.org/a", "URL"),
        ("5%", "PERCENT"),
        ("France", "LOCATION"),
    } == found
    only = await call(rt, "named-entity-recognizer", text=text, types=["EMAIL", "URL"])
    assert [e["type"] for e in only.data["entities"]] == ["EMAIL", "URL"]


async def test_entities_through_local_server(tmp_path: Path, server: FakeLLM) -> None:
    said = {
        "entities": [
            {"text": "Ada Lovelace", "type": "PERSON", "start": 0, "end": 12},
            {"text": "London", "type": "LOCATION", "start": 30, "end": 36},  # offsets off
            {"text": "Paris", "type": "LOCATION", "start": 0, "end": 5},  # not in the text
        ]
    }
    server.queue(Reply(body=openai_completion("```json\n" + json.dumps(said) + "\n```")))
    rt = with_model(tmp_path, server)
    res = await call(rt, "named-entity-recognizer", text=HISTORY, model="openai/gpt-test")
    assert res.data["entities"] == [
        {"text": "Ada Lovelace", "type": "PERSON", "start": 0, "end": 12},
        {"text": "London", "type": "LOCATION", "start": 36, "end": 42},
    ]
    assert res.data["dropped"] == 1 and res.data["method"] == "model"
    prompt = system_prompt(server)
    assert "JSON Schema" in prompt and '"entities"' in prompt and "PERSON" in prompt
    assert server.requests[0].body["messages"][-1]["content"] == HISTORY


# -- image-analyzer -------------------------------------------------------------------------


async def test_image_colours_and_exif(rt: Runtime, tmp_path: Path) -> None:
    from PIL import Image

    exif = Image.Exif()
    exif[0x010F] = "Testmaker"  # Make
    exif[0x0110] = "Model 7"  # Model
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 12.0)})
    (tmp_path / "flag.jpg").write_bytes(picture("JPEG", exif))
    res = await call(rt, "image-analyzer", path="flag.jpg", colours=2)
    data = res.data
    assert (data["format"], data["width"], data["height"], data["mode"]) == (
        "JPEG",
        100,
        100,
        "RGB",
    )
    (red, blue) = data["colours"]
    assert red["rgb"][0] > 200 and max(red["rgb"][1:]) < 60  # JPEG blurs the edge
    assert blue["rgb"][2] > 200 and max(blue["rgb"][:2]) < 60
    assert abs(red["share"] - 0.7) < 0.02 and abs(blue["share"] - 0.3) < 0.02
    assert data["exif"]["Make"] == "Testmaker" and data["exif"]["Model"] == "Model 7"
    assert "left out" in data["exif"]["GPS"]
    located = await call(rt, "image-analyzer", path="flag.jpg", include_gps=True)
    assert located.data["exif"]["GPS"]["latitude"] == 51.5
    assert located.data["exif"]["GPS"]["longitude"] == -0.12


async def test_image_exact_colours_from_png_data(rt: Runtime) -> None:
    data = base64.b64encode(picture()).decode()
    res = await call(rt, "image-analyzer", data=data)
    assert [(c["hex"], c["share"]) for c in res.data["colours"]] == [
        ("#ff0000", 0.7),
        ("#0000ff", 0.3),
    ]
    assert res.data["exif"] == {} and 0 < res.data["brightness"] < 0.5
    assert res.text.startswith("PNG 100x100 RGB")


async def test_image_refusals(rt: Runtime, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not an image")
    err = await refused(rt, "image-analyzer", path="notes.txt")
    assert "not an image" in str(err)
    err = await refused(rt, "image-analyzer", path="notes.txt", prompt="what is it?")
    assert "model" in str(err)


async def test_image_description_through_local_server(tmp_path: Path, server: FakeLLM) -> None:
    server.queue(Reply(body=openai_completion("A flag: red on the left, blue on the right.")))
    rt = with_model(tmp_path, server)
    png = picture()
    (tmp_path / "flag.png").write_bytes(png)
    res = await call(rt, "image-analyzer", path="flag.png", model="openai/gpt-test")
    assert res.data["description"] == "A flag: red on the left, blue on the right."
    user = server.requests[0].body["messages"][-1]
    assert user["role"] == "user"
    (text, image) = user["content"]
    assert text["type"] == "text" and "Describe this image" in text["text"]
    assert image == {
        "type": "image_url",
        "image_url": {"url": "data:image/png;base64," + base64.b64encode(png).decode()},
    }
