"""The config's `roots` reach the agents a script creates: `load_script(..., roots=)` is where
`Agent.create`'s image paths may be read from, whatever the working directory."""

from __future__ import annotations

from pathlib import Path

import pytest
from llmspell.adapters.scripts.loader import load_script
from llmspell.conformance.peers.llm_server import Reply, fake_llm, openai_completion
from llmspell.runtime import Runtime

LOOK = """
local agent = Agent.create{name = "looker", model = {model = "openai/gpt-test", base_url = ARGS[1]}}
local ok, reply = pcall(function() return agent:execute{text = "what is it?", images = {ARGS[2]}} end)
print(ok, ok and reply.text or reply)
"""


@pytest.mark.parametrize("given", [True, False])
async def test_a_scripts_agents_read_images_from_the_roots(
    given: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    images, elsewhere = tmp_path / "images", tmp_path / "elsewhere"
    images.mkdir()
    elsewhere.mkdir()
    (images / "dot.png").write_bytes(b"\x89PNG\r\n\x1a\nDOT")
    script = tmp_path / "look.lua"
    script.write_text(LOOK, encoding="utf-8")
    monkeypatch.chdir(elsewhere)  # the default root, which does not hold the image
    out: list[str] = []
    with fake_llm() as llm:
        llm.queue(Reply(body=openai_completion("a dot")))
        loaded = await load_script(
            Runtime(),
            str(script),
            args=[llm.url + "/v1", str(images / "dot.png")],
            stdout=out.append,
            roots=[images] if given else None,
        )
        await loaded.aclose()
    if given:
        assert out == ["true\ta dot\n"]
        content = llm.requests[0].body["messages"][0]["content"]
        assert content[1]["image_url"]["url"].startswith("data:image/png;base64,")
    else:
        assert out[0].startswith("false\t[denied] ") and not llm.requests
