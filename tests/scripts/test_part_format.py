"""One part format for everything a script hands over: what a hosted agent's `task` takes (A2A's
file form, the type left out) is also what a tool may return, and both read back the same."""

from __future__ import annotations

import pytest
from llmspell.runtime import BlobPart, DataPart, ResourceLink, Result, TextPart
from llmspell.runtime.content import part_from_plain, part_to_plain

PARTS = [
    TextPart("hi"),
    DataPart({"n": 1}),
    BlobPart(b"xyz", "text/plain", "f.txt"),
    ResourceLink("https://example.com/f.txt", "f.txt", "text/plain"),
]


@pytest.mark.parametrize("a2a_files", [False, True])
def test_parts_read_back_as_written(a2a_files: bool) -> None:
    for part in PARTS:
        assert part_from_plain(part_to_plain(part, a2a_files=a2a_files)) == part


def test_the_forms_a_script_writes() -> None:
    blob = BlobPart(b"xyz", "text/plain", "f.txt")
    assert part_from_plain({"bytes": "xyz", "name": "f.txt", "media_type": "text/plain"}) == blob
    assert (
        part_from_plain(
            {"type": "file", "data": "eHl6", "mime_type": "text/plain", "name": "f.txt"}
        )
        == blob
    )
    assert part_from_plain({"text": "hi"}) == TextPart("hi")
    assert part_from_plain({"data": [1]}) == DataPart([1])
    assert part_from_plain({"url": "https://e.x/a", "media_type": "image/png"}) == ResourceLink(
        "https://e.x/a", None, "image/png"
    )
    for bad, says in (
        ({"type": "file", "name": "f"}, "a file part has data, bytes or url"),
        ({"bytes": 3}, "a file part has data, bytes or url"),
        ({"bytes": "x", "name": 1}, "a file's name is a string"),
        ({"type": "nope"}, "unknown content part type 'nope'"),
    ):
        with pytest.raises(ValueError, match=says):
            part_from_plain(bad)


def test_a_result_takes_the_file_form() -> None:
    result = Result.from_plain({"parts": [{"bytes": "xyz", "name": "f.txt"}, {"text": "ok"}]})
    assert result.parts == [BlobPart(b"xyz", "application/octet-stream", "f.txt"), TextPart("ok")]
