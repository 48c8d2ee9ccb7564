"""Chunkers: exact pieces on small inputs, exact offsets on any input (hypothesis), and code cut
at its symbols with the right line numbers in six languages."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from llmspell.adapters.rag.chunking import (
    Chunk,
    achunk_file,
    choose_strategy,
    chunk_code,
    chunk_file,
    chunk_lines,
    chunk_markdown,
    chunk_sentences,
    chunk_tokens,
    split_sentences,
)
from llmspell.runtime import LLMSpellError


def texts(chunks: list[Chunk]) -> list[str]:
    return [c.text for c in chunks]


def where(chunks: list[Chunk]) -> list[tuple[str, str]]:
    return [(c.location, c.text) for c in chunks]


def exact(source: str, chunks: list[Chunk]) -> None:
    for c in chunks:
        assert source[c.start : c.end] == c.text and c.text == c.text.strip() and c.text


# -- tokens --------------------------------------------------------------------------------------


def test_token_windows_overlap() -> None:
    source = "a b c d e f g"
    assert texts(chunk_tokens(source, 3, 1)) == ["a b c", "c d e", "e f g"]
    assert texts(chunk_tokens(source, 3, 0)) == ["a b c", "d e f", "g"]
    assert texts(chunk_tokens("Hi, you.", 2, 0)) == ["Hi,", "you."]  # punctuation counts
    assert chunk_tokens("   ", 3, 1) == []
    for size, overlap in ((0, 0), (3, 3), (3, -1)):
        with pytest.raises(LLMSpellError, match="overlap"):
            chunk_tokens(source, size, overlap)


PROSE = st.lists(
    st.sampled_from([*"ab Z.!?\n\t,'\"é", "e.g.", "Dr. ", "1. ", "\n\n", " the", " End"]),
    max_size=120,
).map("".join)


@settings(max_examples=150, deadline=None)
@given(PROSE, st.integers(1, 12), st.integers(0, 11))
def test_token_chunks_are_exact_spans_covering_every_token(
    text: str, size: int, overlap: int
) -> None:
    overlap = min(overlap, size - 1)
    chunks = chunk_tokens(text, size, overlap)
    exact(text, chunks)
    covered = {i for c in chunks for i in range(c.start, c.end)}
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())
    assert [c.start for c in chunks] == sorted(c.start for c in chunks)


@settings(max_examples=150, deadline=None)
@given(PROSE, st.integers(1, 15), st.integers(0, 3))
def test_sentence_chunks_are_exact_spans_covering_the_text(
    text: str, size: int, overlap: int
) -> None:
    chunks = chunk_sentences(text, size, overlap)
    exact(text, chunks)
    covered = {i for c in chunks for i in range(c.start, c.end)}
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())
    ends = [c.end for c in chunks]
    assert ends == sorted(ends) and len(set(ends)) == len(ends)  # each chunk brings new text


# -- sentences -----------------------------------------------------------------------------------


def test_sentence_splitter_knows_abbreviations_initials_and_lists() -> None:
    source = (
        "Use a tool, e.g. a hammer. Dr. Smith agreed! Was J. R. R. Tolkien right? Yes.\n\n"
        "1. First item\n2. Second item\nPrices rose 3.5 percent. the end"
    )
    assert [source[a:b] for a, b in split_sentences(source)] == [
        "Use a tool, e.g. a hammer.",
        "Dr. Smith agreed!",
        "Was J. R. R. Tolkien right?",
        "Yes.",
        "1. First item\n2. Second item\nPrices rose 3.5 percent. the end",
    ]


def test_sentence_closing_quotes_stay_with_their_sentence() -> None:
    source = 'He said "Stop." Then he left. (It was late.) Fine.'
    assert [source[a:b] for a, b in split_sentences(source)] == [
        'He said "Stop."',
        "Then he left.",
        "(It was late.)",
        "Fine.",
    ]


def test_sentences_packed_to_budget_with_overlap() -> None:
    source = "One two. Three four. Five six. Seven eight."  # 3 tokens a sentence
    assert texts(chunk_sentences(source, 6, 0)) == [
        "One two. Three four.",
        "Five six. Seven eight.",
    ]
    assert texts(chunk_sentences(source, 6, 1)) == [
        "One two. Three four.",
        "Three four. Five six.",
        "Five six. Seven eight.",
    ]
    long = "W " + "w " * 9 + "end."  # one sentence of 12 tokens, over budget: token windows
    assert texts(chunk_sentences("Short one. " + long, 5, 1)) == [
        "Short one.",
        "W w w w w",
        "w w w w w",
        "end.",
    ]


# -- markdown ------------------------------------------------------------------------------------

MARKDOWN = """Intro line.

# Guide

Welcome.

## Install

Run pip.

```sh
# not a heading
pip install llmspell
```

### Extras

Add [web].

## Use

Call it.

# Appendix
## Notes ##

Last words.
"""


def test_markdown_sections_carry_their_heading_trail() -> None:
    chunks = chunk_markdown(MARKDOWN, 100)
    exact(MARKDOWN, chunks)
    assert [c.location for c in chunks] == [
        "",
        "# Guide",
        "# Guide > ## Install",
        "# Guide > ## Install > ### Extras",
        "# Guide > ## Use",
        "# Appendix > ## Notes",
    ]
    assert chunks[2].text == (
        "## Install\n\nRun pip.\n\n```sh\n# not a heading\npip install llmspell\n```"
    )
    assert chunks[5].text == "## Notes ##\n\nLast words."
    assert chunks[1].metadata["headings"] == ["# Guide"]


def test_long_markdown_section_is_cut_by_sentences_under_the_same_trail() -> None:
    source = "# T\n\n## S\n\nAlpha beta. Gamma delta. Epsilon zeta.\n"
    chunks = chunk_markdown(source, 4, 0)
    exact(source, chunks)
    assert where(chunks) == [
        ("# T > ## S", "## S"),
        ("# T > ## S", "Alpha beta."),
        ("# T > ## S", "Gamma delta."),
        ("# T > ## S", "Epsilon zeta."),
    ]
    assert chunk_markdown("# Only a title\n")[0].text == "# Only a title"


# -- code ----------------------------------------------------------------------------------------

PYTHON = '''import os

# Helper.
@cache
def add(a, b):
    return a + b


class Shape:
    """A shape."""

    sides = 0

    def area(self):
        return 0.0

    def name(self):
        return "é"
'''


def test_python_symbols_with_lines() -> None:
    chunks = chunk_code(PYTHON, "python")
    exact(PYTHON, chunks)
    assert [c.location for c in chunks] == [
        "lines 1-1",
        "def add, lines 3-6",
        "class Shape, lines 9-18",
    ]
    assert chunks[1].text.startswith("# Helper.\n@cache\ndef add")
    assert chunks[1].metadata | {"path": None} == {
        "strategy": "code",
        "language": "python",
        "kind": "def",
        "symbol": "add",
        "start_line": 3,
        "end_line": 6,
        "path": None,
    }


def test_a_class_over_budget_is_opened_into_its_methods() -> None:
    chunks = chunk_code(PYTHON, "python", size=17)
    exact(PYTHON, chunks)
    assert where(chunks) == [
        ("lines 1-1", "import os"),
        ("def add, lines 3-6", "# Helper.\n@cache\ndef add(a, b):\n    return a + b"),
        ("class Shape, lines 9-12", 'class Shape:\n    """A shape."""\n\n    sides = 0'),
        ("class Shape > def area, lines 14-15", "def area(self):\n        return 0.0"),
        ("class Shape > def name, lines 17-18", 'def name(self):\n        return "é"'),
    ]


SNIPPETS = {
    "javascript": (
        "import x from 'x';\n\nfunction add(a, b) {\n  return a + b;\n}\n\n"
        "class Box {\n  open() { return 1; }\n}\n\nconst twice = (n) => n * 2;\nexport function run() {}\n",
        [
            "lines 1-1",
            "function add, lines 3-5",
            "class Box, lines 7-9",
            "function twice, lines 11-11",
            "function run, lines 12-12",
        ],
    ),
    "typescript": (
        "interface Named { name: string }\n\nexport class User implements Named {\n  name = 'u';\n"
        "  greet(): string {\n    return this.name;\n  }\n}\n\ntype Id = number;\n",
        ["interface Named, lines 1-1", "class User, lines 3-8", "type Id, lines 10-10"],
    ),
    "go": (
        'package main\n\nimport "fmt"\n\n// Point is a point.\ntype Point struct {\n\tX int\n}\n\n'
        "func (p Point) Norm() int {\n\treturn p.X\n}\n\nfunc main() {\n\tfmt.Println(1)\n}\n",
        ["lines 1-3", "type Point, lines 5-8", "func Norm, lines 10-12", "func main, lines 14-16"],
    ),
    "rust": (
        "use std::fmt;\n\n/// A point.\nstruct Point { x: i32 }\n\nimpl Point {\n    fn norm(&self) -> i32 {\n"
        "        self.x\n    }\n}\n\nfn main() {}\n",
        ["lines 1-1", "struct Point, lines 3-4", "impl Point, lines 6-10", "fn main, lines 12-12"],
    ),
    "lua": (
        "local M = {}\n\nfunction M.add(a, b)\n  return a + b\nend\n\nlocal function helper()\nend\n\n"
        "M.twice = function(n) return n * 2 end\n\nreturn M\n",
        [
            "lines 1-1",
            "function M.add, lines 3-5",
            "function helper, lines 7-8",
            "function M.twice, lines 10-10",
            "lines 12-12",
        ],
    ),
}


@pytest.mark.parametrize("language", sorted(SNIPPETS))
def test_symbols_and_line_numbers_per_language(language: str) -> None:
    source, locations = SNIPPETS[language]
    chunks = chunk_code(source, language)
    exact(source, chunks)
    assert [c.location for c in chunks] == locations
    lines = source.split("\n")
    for c in chunks:  # the line numbers are the chunk's first and last lines
        first, last = c.metadata["start_line"], c.metadata["end_line"]
        assert lines[first - 1].strip().startswith(c.text.split("\n")[0].strip())
        assert lines[last - 1].strip().endswith(c.text.split("\n")[-1].strip())


def test_members_of_an_oversized_type_in_go_rust_and_ts() -> None:
    source, _ = SNIPPETS["rust"]
    assert [c.location for c in chunk_code(source, "rust", size=14)] == [
        "lines 1-1",
        "struct Point, lines 3-4",
        "impl Point, lines 6-6",
        "impl Point > fn norm, lines 7-9",
        "fn main, lines 12-12",
    ]
    source, _ = SNIPPETS["typescript"]
    assert [c.location for c in chunk_code(source, "typescript", size=12)] == [
        "interface Named, lines 1-1",
        "class User, lines 3-4",
        "class User > method greet, lines 5-7",
        "type Id, lines 10-10",
    ]


def test_a_long_function_is_cut_into_line_windows_under_its_name() -> None:
    source = "def big():\n" + "".join(f"    x{i} = {i}\n" for i in range(6))
    chunks = chunk_code(source, "python", size=8)
    exact(source, chunks)
    assert [c.location for c in chunks] == [
        "def big, lines 1-2",
        "def big, lines 3-4",
        "def big, lines 5-6",
        "def big, lines 7-7",
    ]
    assert {c.metadata["symbol"] for c in chunks} == {"big"}


def test_unknown_language_falls_back_to_line_windows() -> None:
    source = "int main() {\n  return 0;\n}\n\nint other() {\n  return 1;\n}\n"
    assert where(chunk_code(source, "cobol", size=9, overlap=1)) == [
        ("lines 1-3", "int main() {\n  return 0;\n}"),
        ("lines 3-6", "}\n\nint other() {\n  return 1;"),
        ("lines 6-7", "return 1;\n}"),
    ]
    assert where(chunk_lines("a\nb\n", 1, 0)) == [("lines 1-1", "a"), ("lines 2-2", "b")]


def test_non_ascii_code_offsets_are_characters_not_bytes() -> None:
    source = "# café ünïcode\nx = '€€€'\n\ndef f():\n    return 'ß'\n"
    chunks = chunk_code(source, "python")
    exact(source, chunks)
    assert where(chunks)[-1] == ("def f, lines 4-5", "def f():\n    return 'ß'")


# -- files ---------------------------------------------------------------------------------------


def test_chunk_file_picks_the_strategy_from_the_name() -> None:
    assert [
        choose_strategy(p)
        for p in (
            "README.md",
            "a/b.PY",
            "x.ts",
            "m.tsx",
            "f.lua",
            "g.go",
            "h.rs",
            "c.c",
            "notes.txt",
            "LICENSE",
        )
    ] == [
        "markdown",
        "code",
        "code",
        "code",
        "code",
        "code",
        "code",
        "lines",
        "sentences",
        "sentences",
    ]
    chunks = chunk_file("src/a.py", PYTHON)
    assert chunks[1].location == "def add, lines 3-6" and chunks[1].metadata["path"] == "src/a.py"
    prose = chunk_file("notes.txt", "One. Two.", size=2)
    assert texts(prose) == ["One.", "Two."] and prose[0].metadata["strategy"] == "sentences"
    assert texts(chunk_file("notes.md", "a b c d", strategy="tokens", size=2, overlap=0)) == [
        "a b",
        "c d",
    ]
    with pytest.raises(LLMSpellError, match="unknown chunking strategy"):
        chunk_file("a.txt", "x", strategy="semantic")


async def test_achunk_file_runs_off_the_loop() -> None:
    chunks = await achunk_file("doc.md", MARKDOWN, size=100)
    assert chunks[1].location == "# Guide"
