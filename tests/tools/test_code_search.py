"""`code-search` through the real pipeline over a small tree in six languages, each defining
the cart total and calling it from elsewhere, plus the extractor on its own."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from llmspell.adapters.code import language_for, references, symbols
from llmspell.adapters.tools import register_builtins
from llmspell.runtime import ErrorCode, Runtime
from llmspell.runtime.state import MemoryStateStore

from .conftest import call, refused

TREE = {
    "py/cart.py": '''\
class Cart:
    """A shopping cart."""

    def __init__(self, items):
        self.items = items

    def total(self):
        return compute_total(self.items)


def compute_total(items):
    """Add up the price of every item in the cart."""
    return sum(item.price for item in items)
''',
    "py/checkout.py": """\
from cart import compute_total


def checkout(order):
    # compute_total in a comment is no reference
    return format_receipt(compute_total(order.items))


def format_receipt(amount):
    return f"Total: {amount}"
""",
    "js/cart.js": """\
// Sums the item prices of a cart.
function computeTotal(items) {
  return items.reduce((sum, item) => sum + item.price, 0);
}

class Cart {
  total() {
    return computeTotal(this.items);
  }
}

const sendInvoice = (email) => mail(email, "invoice");
""",
    "ts/cart.ts": """\
interface Item {
  price: number;
}

export function computeTotal(items: Item[]): number {
  return items.reduce((sum, item) => sum + item.price, 0);
}

export class Cart {
  total(items: Item[]): number {
    return computeTotal(items);
  }
}
""",
    "lua/cart.lua": """\
local function compute_total(items)
  local total = 0
  for _, item in ipairs(items) do total = total + item.price end
  return total
end

function Cart:total()
  return compute_total(self.items)
end
""",
    "go/cart.go": """\
package cart

type Cart struct {
	Items []Item
}

func ComputeTotal(items []Item) int {
	total := 0
	return total
}

func (c *Cart) Total() int {
	return ComputeTotal(c.Items)
}
""",
    "rust/cart.rs": """\
pub struct Cart {
    items: Vec<Item>,
}

impl Cart {
    pub fn total(&self) -> u32 {
        compute_total(&self.items)
    }
}

/// Parse the shipping address lines.
fn parse_address(text: &str) -> Vec<String> {
    text.lines().map(String::from).collect()
}

fn compute_total(items: &[Item]) -> u32 {
    items.iter().map(|item| item.price).sum()
}
""",
    "notes.txt": "compute_total is not code here\n",
    "blob.py": "\x00\x01binary",
}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for rel, text in TREE.items():
        path = tmp_path / "src" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (tmp_path / "src" / "node_modules" / "dep").mkdir(parents=True)
    (tmp_path / "src" / "node_modules" / "dep" / "x.js").write_text("function computeTotal() {}")
    return tmp_path / "src"


async def test_index_counts_per_language(rt: Runtime, tree: Path) -> None:
    done = await call(rt, "code-search", operation="index", path="src")
    data = done.data
    assert data["files"] == 7 and data["parsed"] == 7 and data["skipped"] == 1  # blob.py
    assert set(data["languages"]) == {"python", "javascript", "typescript", "lua", "go", "rust"}
    assert data["languages"]["python"] == {"files": 2, "symbols": 6}
    assert "src: 7 files" in done.text


async def test_definitions_across_languages(rt: Runtime, tree: Path) -> None:
    found = await call(rt, "code-search", operation="definitions", path="src", name="*otal")
    where = {(r["file"], r["line"], r["name"], r["kind"]) for r in found.data["results"]}
    assert {
        ("src/py/cart.py", 11, "compute_total", "function"),
        ("src/js/cart.js", 2, "computeTotal", "function"),
        ("src/ts/cart.ts", 5, "computeTotal", "function"),
        ("src/lua/cart.lua", 1, "compute_total", "function"),
        ("src/go/cart.go", 7, "ComputeTotal", "function"),
        ("src/rust/cart.rs", 16, "compute_total", "function"),
    } <= where
    exact = await call(rt, "code-search", operation="definitions", path="src", name="computeTotal")
    ts = next(r for r in exact.data["results"] if r["language"] == "typescript")
    assert ts["signature"] == "export function computeTotal(items: Item[]): number {"
    assert [r["file"] for r in exact.data["results"]] == ["src/js/cart.js", "src/ts/cart.ts"]
    assert "node_modules" not in exact.text
    py = await call(rt, "code-search", operation="definitions", path="src", name="compute_total")
    assert py.data["results"][1]["doc"] == "Add up the price of every item in the cart."


async def test_methods_report_their_parent(rt: Runtime, tree: Path) -> None:
    found = await call(
        rt, "code-search", operation="definitions", path="src", name="[tT]otal", kind="method"
    )
    parents = {(r["language"], r["parent"]) for r in found.data["results"]}
    assert parents == {
        ("python", "Cart"),
        ("javascript", "Cart"),
        ("typescript", "Cart"),
        ("lua", "Cart"),
        ("go", "Cart"),
        ("rust", "Cart"),
    }
    go = await call(
        rt, "code-search", operation="definitions", path="src", name="Cart", language="go"
    )
    assert [(r["kind"], r["line"]) for r in go.data["results"]] == [("struct", 3)]


async def test_references_skip_the_definition(rt: Runtime, tree: Path) -> None:
    found = await call(rt, "code-search", operation="references", path="src", name="compute_total")
    lines = [(r["file"], r["line"]) for r in found.data["results"]]
    assert lines == [
        ("src/lua/cart.lua", 8),
        ("src/py/cart.py", 8),
        ("src/py/checkout.py", 1),
        ("src/py/checkout.py", 6),
        ("src/rust/cart.rs", 7),
    ]
    call_site = found.data["results"][3]
    assert call_site["column"] == 27
    assert call_site["text"] == "return format_receipt(compute_total(order.items))"
    js = await call(
        rt, "code-search", operation="references", path="src", name="computeTotal", max_results=1
    )
    assert [(r["file"], r["line"]) for r in js.data["results"]] == [("src/js/cart.js", 8)]
    assert js.data["truncated"] is True


async def test_symbols_of_one_file_in_order(rt: Runtime, tree: Path) -> None:
    found = await call(rt, "code-search", operation="symbols", path="src/py/cart.py")
    assert [(r["name"], r["kind"], r["line"], r["parent"]) for r in found.data["results"]] == [
        ("Cart", "class", 1, None),
        ("__init__", "method", 4, "Cart"),
        ("total", "method", 7, "Cart"),
        ("compute_total", "function", 11, None),
    ]
    rust = await call(rt, "code-search", operation="symbols", path="src/rust/cart.rs")
    assert [r["name"] for r in rust.data["results"]] == [
        "Cart",
        "total",
        "parse_address",
        "compute_total",
    ]
    assert rust.data["results"][2]["doc"] == "Parse the shipping address lines."
    err = await refused(rt, "code-search", operation="symbols", path="src/notes.txt")
    assert "no grammar for this extension" in err.message


async def test_semantic_ranks_the_cart_total_first(rt: Runtime, tree: Path) -> None:
    found = await call(
        rt, "code-search", operation="semantic", path="src", query="add up the prices in the cart"
    )
    top = found.data["results"][0]
    assert (top["file"], top["name"]) == ("src/py/cart.py", "compute_total")
    assert len(found.data["results"]) <= 10
    rust = await call(
        rt,
        "code-search",
        operation="semantic",
        path="src",
        query="parse shipping address",
        language="rust",
    )
    assert rust.data["results"][0]["name"] == "parse_address"
    err = await refused(rt, "code-search", operation="semantic", path="src", query="the of a")
    assert "no searchable words" in err.message


async def test_reindex_parses_only_the_edited_file(tmp_path: Path, tree: Path) -> None:
    state = MemoryStateStore()
    rt = Runtime()
    register_builtins(rt.catalog, roots=[tmp_path], state=state)
    first = await call(rt, "code-search", operation="index", path="src")
    assert first.data["parsed"] == 7
    again = await call(rt, "code-search", operation="index", path="src")
    assert (again.data["parsed"], again.data["reused"]) == (0, 7)
    edited = tree / "go" / "cart.go"
    edited.write_text(TREE["go/cart.go"] + "\nfunc Discount() int { return 0 }\n")
    os.utime(edited, ns=(edited.stat().st_atime_ns, edited.stat().st_mtime_ns + 10**9))
    (tree / "lua" / "cart.lua").unlink()
    third = await call(rt, "code-search", operation="definitions", path="src", name="Discount")
    assert third.data["index"]["parsed"] == 1 and third.data["index"]["removed"] == 1
    assert [(r["file"], r["line"]) for r in third.data["results"]] == [("src/go/cart.go", 16)]
    # a fresh runtime on the same state store reuses what the first one parsed
    restarted = Runtime()
    register_builtins(restarted.catalog, roots=[tmp_path], state=state)
    fourth = await call(restarted, "code-search", operation="index", path="src")
    assert (fourth.data["parsed"], fourth.data["reused"], fourth.data["files"]) == (0, 6, 6)


async def test_refusals_through_the_pipeline(rt: Runtime, tree: Path, tmp_path: Path) -> None:
    outside = await refused(rt, "code-search", operation="index", path="/etc")
    assert outside.code == ErrorCode.DENIED and "outside the allowed roots" in outside.message
    escape = await refused(rt, "code-search", operation="definitions", path="..", name="x")
    assert escape.code == ErrorCode.DENIED
    unknown = await refused(rt, "code-search", operation="rename", name="x")
    assert unknown.code == ErrorCode.INVALID_ARGUMENTS and "rename" in unknown.message
    missing = await refused(rt, "code-search", operation="definitions", path="src")
    assert missing.code == ErrorCode.INVALID_ARGUMENTS and "name" in missing.message
    extra = await refused(rt, "code-search", operation="index", path="src", depth=3)
    assert extra.code == ErrorCode.INVALID_ARGUMENTS
    not_dir = await refused(rt, "code-search", operation="index", path="src/py/cart.py")
    assert "is not a directory" in not_dir.message


def test_schema_and_annotations(rt: Runtime) -> None:
    component = rt.catalog.get("code-search")
    schema = component.input_schema
    assert schema["properties"]["operation"]["enum"] == [
        "index",
        "definitions",
        "references",
        "symbols",
        "semantic",
    ]
    assert schema["additionalProperties"] is False
    annotations = component.annotations
    assert annotations.read_only and annotations.idempotent and not annotations.destructive
    assert component.category == "code"


def test_extractor_on_its_own() -> None:
    assert language_for("a/b.tsx") == "tsx" and language_for("x.txt") is None
    source = "const add = (a, b) => a + b;\nfunction main() { return add(1, 2); }\n"
    found = symbols(source, "javascript")
    assert [(s.name, s.kind, s.start_line) for s in found] == [
        ("add", "function", 1),
        ("main", "function", 2),
    ]
    assert source.encode()[found[0].start_byte : found[0].end_byte].startswith(b"const add")
    assert references(source, "javascript", "add") == [(2, 26, found[1].signature)]
    c = symbols("struct P { int x; };\nstatic int *make(void) { return 0; }\n", "c")
    assert [(s.name, s.kind) for s in c] == [("P", "struct"), ("make", "function")]
    java = symbols("class A { A() {} void run() {} }", "java")
    assert [(s.name, s.kind, s.parent) for s in java] == [
        ("A", "class", None),
        ("A", "constructor", "A"),
        ("run", "method", "A"),
    ]
