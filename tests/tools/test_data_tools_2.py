"""The second set of data tools through the real pipeline: xml-processor, yaml-processor,
data-transformer, statistical-analyzer and text-analyzer (database-connector has its own file)."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest
from llmspell.runtime import ErrorCode, Runtime

from .conftest import call, refused

# -- xml-processor -------------------------------------------------------------------------------

CATALOG = """<?xml version="1.0" encoding="ISO-8859-1"?>
<catalog xmlns:m="urn:meta">
  <book id="b1" lang="en"><title>Dune</title><price>9.5</price><m:tag>sf</m:tag></book>
  <book id="b2"><title>Emma</title><price>4</price></book>
  <book id="b3"><title>Ulysses</title><price>12</price></book>
  <!-- a comment -->
</catalog>
"""

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<lolz>&lol3;</lolz>"""

XXE = """<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<foo>&xxe;</foo>"""

XSD = """<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:element name="order">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="qty" type="xs:positiveInteger"/>
        <xs:element name="sku" type="xs:string"/>
      </xs:sequence>
      <xs:attribute name="id" type="xs:string" use="required"/>
    </xs:complexType>
  </xs:element>
</xs:schema>"""


async def test_xml_xpath_counts_and_selects(rt: Runtime) -> None:
    count = await call(rt, "xml-processor", operation="query", xml=CATALOG, xpath="count(//book)")
    assert count.data == {"result": 3}
    cheap = await call(
        rt, "xml-processor", operation="query", xml=CATALOG, xpath="//book[price < 10]/title"
    )
    assert [r["text"] for r in cheap.data["results"]] == ["Dune", "Emma"]
    assert cheap.data["results"][0]["path"] == "/catalog/book[1]/title"
    assert cheap.data["count"] == 2 and cheap.data["truncated"] is False
    ids = await call(rt, "xml-processor", operation="query", xml=CATALOG, xpath="//book/@id")
    assert ids.data["results"] == ["b1", "b2", "b3"]
    tagged = await call(
        rt,
        "xml-processor",
        operation="query",
        xml=CATALOG,
        xpath="//x:tag/text()",
        namespaces={"x": "urn:meta"},
    )
    assert tagged.data["results"] == ["sf"]
    err = await refused(rt, "xml-processor", operation="query", xml=CATALOG, xpath="//book[")
    assert err.message.startswith("xml-processor: bad XPath '//book[':")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            BILLION_LAUGHS,
            "xml-processor: the document declares the entity 'lol': entity declarations are "
            "refused (they enable billion-laughs expansion and external-entity reads)",
        ),
        (
            XXE,
            "xml-processor: the document declares the external entity 'xxe': entity "
            "declarations are refused (they enable billion-laughs expansion and external-entity "
            "reads)",
        ),
    ],
)
async def test_xml_entity_attacks_are_refused(rt: Runtime, document: str, message: str) -> None:
    for op in ("query", "to_json", "validate"):
        err = await refused(rt, "xml-processor", operation=op, xml=document, xpath="/*")
        assert err.code == ErrorCode.INVALID_ARGUMENTS
        assert err.message == message


async def test_xml_validation(rt: Runtime, tmp_path: Path) -> None:
    good = '<order id="7"><qty>2</qty><sku>A-1</sku></order>'
    ok = await call(rt, "xml-processor", operation="validate", xml=good, schema=XSD)
    assert ok.data == {"valid": True, "well_formed": True, "errors": []} and ok.text == "valid"
    bad = "<order>\n<qty>0</qty>\n<sku>A-1</sku></order>"
    result = await call(rt, "xml-processor", operation="validate", xml=bad, schema=XSD)
    assert result.data["valid"] is False and result.data["well_formed"] is True
    assert [(e["line"], e["message"]) for e in result.data["errors"]] == [
        (1, "Element 'order': The attribute 'id' is required but missing."),
        (
            2,
            "Element 'qty': '0' is not a valid value of the atomic type 'xs:positiveInteger'.",
        ),
    ]
    (tmp_path / "broken.xml").write_text("<a><b></a>", encoding="utf-8")
    broken = await call(rt, "xml-processor", operation="validate", path="broken.xml")
    assert broken.data["valid"] is False and broken.data["well_formed"] is False
    assert "Opening and ending tag mismatch: b line 1 and a" in broken.text
    fine = await call(rt, "xml-processor", operation="validate", xml="<a/>")
    assert fine.data["well_formed"] is True and fine.text == "well-formed"
    importing = XSD.replace(
        "<xs:element name", '<xs:import schemaLocation="http://x.test/o.xsd"/><xs:element name', 1
    )
    err = await refused(rt, "xml-processor", operation="validate", xml=good, schema=importing)
    assert err.message == (
        "xml-processor: the XSD refers to other schema files (http://x.test/o.xsd); "
        "give one self-contained schema"
    )


async def test_xml_json_round_trip(rt: Runtime) -> None:
    result = await call(rt, "xml-processor", operation="to_json", xml=CATALOG)
    catalog = result.data["result"]["catalog"]
    assert catalog["book"][0] == {
        "@id": "b1",
        "@lang": "en",
        "title": "Dune",
        "price": "9.5",
        "m:tag": "sf",
    }
    assert catalog["book"][2] == {"@id": "b3", "title": "Ulysses", "price": "12"}
    data = {
        "order": {"@id": "7", "qty": 2, "item": ["a", "b"], "note": {"@lang": "en", "#text": "hi"}}
    }
    xml = await call(rt, "xml-processor", operation="from_json", data=data, pretty=False)
    assert xml.data["xml"] == (
        '<order id="7"><qty>2</qty><item>a</item><item>b</item><note lang="en">hi</note></order>'
    )
    back = await call(rt, "xml-processor", operation="to_json", xml=xml.data["xml"])
    assert back.data["result"] == {
        "order": {
            "@id": "7",
            "qty": "2",
            "item": ["a", "b"],
            "note": {"@lang": "en", "#text": "hi"},
        }
    }
    err = await refused(rt, "xml-processor", operation="from_json", data={"a": 1, "b": 2})
    assert err.message == (
        "xml-processor: give 'root' (the element name) unless 'data' has exactly one key"
    )
    err = await refused(rt, "xml-processor", operation="from_json", data={"1bad": 1})
    assert err.message == "xml-processor: '1bad' is not a usable XML element or attribute name"
    err = await refused(rt, "xml-processor", operation="to_json", xml="<a>")
    assert err.message.startswith("xml-processor: the document is not well-formed XML:")


# -- yaml-processor ------------------------------------------------------------------------------

CONFIG = """\
name: api
replicas: 3
released: 2024-05-01
ports: [80, 443]
---
name: worker
replicas: zero
"""


async def test_yaml_parse_query_and_convert(rt: Runtime, tmp_path: Path) -> None:
    parsed = await call(rt, "yaml-processor", operation="parse", yaml=CONFIG)
    assert parsed.data["count"] == 2
    assert parsed.data["documents"][0] == {
        "name": "api",
        "replicas": 3,
        "released": "2024-05-01",
        "ports": [80, 443],
    }
    (tmp_path / "c.yaml").write_text(CONFIG, encoding="utf-8")
    names = await call(rt, "yaml-processor", operation="query", path="c.yaml", query="name")
    assert names.data == {"results": ["api", "worker"]}
    second = await call(rt, "yaml-processor", operation="to_json", yaml=CONFIG, document=1)
    assert json.loads(second.data["json"]) == {"name": "worker", "replicas": "zero"}
    yaml_text = await call(
        rt, "yaml-processor", operation="from_json", json='{"a": [1, {"b": null}], "c": "x"}'
    )
    assert yaml_text.data["yaml"] == "a:\n- 1\n- b: null\nc: x\n"
    err = await refused(rt, "yaml-processor", operation="parse", yaml=CONFIG, document=5)
    assert err.message == "yaml-processor: there is no document 5 (the stream has 2)"


async def test_yaml_validation_lists_every_violation(rt: Runtime) -> None:
    schema = {
        "type": "object",
        "required": ["name", "replicas"],
        "properties": {"replicas": {"type": "integer", "minimum": 1}, "ports": {"type": "array"}},
    }
    result = await call(rt, "yaml-processor", operation="validate", yaml=CONFIG, schema=schema)
    assert result.data == {
        "valid": False,
        "count": 1,
        "errors": [
            {
                "document": 1,
                "path": "/replicas",
                "keyword": "type",
                "message": "'zero' is not of type 'integer'",
            }
        ],
    }
    first = await call(
        rt, "yaml-processor", operation="validate", yaml=CONFIG, schema=schema, document=0
    )
    assert first.data["valid"] is True and first.text == "valid"
    # through the pipeline's own input schema: validate needs a schema
    err = await refused(rt, "yaml-processor", operation="validate", yaml=CONFIG)
    assert err.code == ErrorCode.INVALID_ARGUMENTS
    assert "'schema' is a required property" in err.message


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "x: !!python/object/apply:os.system ['echo pwned']",
            "yaml-processor: the tag 'tag:yaml.org,2002:python/object/apply:os.system' "
            "(line 1, column 4) is refused: only plain YAML is loaded (tags that build objects "
            "are unsafe)",
        ),
        (
            "x: !custom 3",
            "yaml-processor: the tag '!custom' (line 1, column 4) is refused: only plain YAML "
            "is loaded (tags that build objects are unsafe)",
        ),
        (
            "a: [1, 2",
            "yaml-processor: invalid YAML at line 1, column 9: expected ',' or ']', but got '<stream end>'",
        ),
    ],
)
async def test_yaml_refusals(rt: Runtime, source: str, message: str) -> None:
    err = await refused(rt, "yaml-processor", operation="parse", yaml=source)
    assert err.code == ErrorCode.INVALID_ARGUMENTS
    assert err.message == message


async def test_yaml_alias_bomb_is_refused(rt: Runtime) -> None:
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, 8):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    err = await refused(rt, "yaml-processor", operation="to_json", yaml="\n".join(lines))
    assert err.message == (
        "yaml-processor: document 1 expands to more than 1000000 values "
        "(an alias bomb or a recursive alias?)"
    )


# -- data-transformer ----------------------------------------------------------------------------

ORDERS = [
    {"id": 1, "customer": "ann", "item": "pen", "price": 2.5, "qty": 4},
    {"id": 2, "customer": "bob", "item": "ink", "price": 10, "qty": 1},
    {"id": 3, "customer": "ann", "item": "pad", "price": 4, "qty": 3},
    {"id": 4, "customer": "cid", "item": "pen", "price": 2.5, "qty": 2},
    {"id": 5, "customer": "bob", "item": "pad", "price": 4, "qty": 0},
]
CUSTOMERS = [
    {"customer": "ann", "city": "Oslo"},
    {"customer": "bob", "city": "Rome"},
]


async def test_transformer_chain(rt: Runtime) -> None:
    steps = [
        {"op": "map", "compute": {"total": "price * qty"}},
        {"op": "filter", "where": {"field": "qty", "op": ">", "value": 0}},
        {
            "op": "group",
            "by": ["customer"],
            "aggregates": [
                {"fn": "sum", "field": "total", "as": "spent"},
                {"fn": "count"},
                {"fn": "max", "field": "price"},
            ],
        },
        {"op": "join", "rows": CUSTOMERS, "on": "customer", "how": "left"},
        {"op": "sort", "keys": [{"field": "spent", "order": "desc"}]},
        {"op": "map", "select": ["customer", "city", "spent", "count"], "rename": {"count": "n"}},
    ]
    result = await call(rt, "data-transformer", rows=ORDERS, steps=steps)
    assert result.data == {
        "rows": [
            {"customer": "ann", "city": "Oslo", "spent": 22, "n": 2},
            {"customer": "bob", "city": "Rome", "spent": 10, "n": 1},
            {"customer": "cid", "city": None, "spent": 5, "n": 1},
        ],
        "count": 3,
    }


async def test_transformer_filters_sorts_and_joins(rt: Runtime) -> None:
    expr = await call(
        rt,
        "data-transformer",
        rows=ORDERS,
        steps=[
            {"op": "filter", "expression": "item == 'pen' or price * qty >= 12"},
            {"op": "sort", "keys": ["item", {"field": "id", "order": "desc"}]},
            {"op": "limit", "n": 3},
        ],
    )
    assert [r["id"] for r in expr.data["rows"]] == [3, 4, 1]
    inner = await call(
        rt,
        "data-transformer",
        rows=ORDERS,
        steps=[
            {"op": "join", "rows": CUSTOMERS, "on": {"left": "customer", "right": "customer"}},
            {"op": "filter", "where": {"field": "city", "op": "in", "value": ["Rome"]}},
            {"op": "map", "compute": {"label": "upper(item) + '@' + city"}, "select": ["label"]},
        ],
    )
    assert inner.data["rows"] == [{"label": "INK@Rome"}, {"label": "PAD@Rome"}]


async def test_transformer_refusals(rt: Runtime) -> None:
    err = await refused(
        rt,
        "data-transformer",
        rows=ORDERS,
        steps=[{"op": "map", "compute": {"x": "price * weight"}}],
    )
    assert err.message == (
        "data-transformer: step 1, row 0: unknown field 'weight' in 'price * weight'"
    )
    err = await refused(
        rt,
        "data-transformer",
        rows=ORDERS,
        steps=[{"op": "group", "by": ["item"], "aggregates": [{"fn": "sum", "field": "customer"}]}],
    )
    assert err.message == "data-transformer: step 1: sum of 'customer' needs numbers, got 'ann'"
    err = await refused(
        rt,
        "data-transformer",
        rows=ORDERS,
        steps=[{"op": "filter", "expression": "__import__('os')"}],
    )
    assert err.message.startswith("data-transformer: step 1, row 0:")
    # an unknown step fails the input schema before the tool runs
    err = await refused(rt, "data-transformer", rows=ORDERS, steps=[{"op": "explode"}])
    assert err.code == ErrorCode.INVALID_ARGUMENTS
    assert "is not valid under any of the given schemas" in err.message


# -- statistical-analyzer ------------------------------------------------------------------------


async def test_statistics_describe(rt: Runtime) -> None:
    values = [2, 4, 4, 4, 5, 5, 7, 9]
    result = await call(rt, "statistical-analyzer", operation="describe", values=values)
    d = result.data
    assert (d["count"], d["sum"], d["mean"], d["median"], d["mode"]) == (8, 40, 5, 4.5, [4])
    assert (d["min"], d["max"], d["range"]) == (2, 9, 7)
    assert d["variance"] == pytest.approx(statistics.variance(values))
    assert d["stdev"] == pytest.approx(statistics.stdev(values))
    population = await call(
        rt, "statistical-analyzer", operation="describe", values=values, population=True
    )
    assert population.data["stdev"] == 2 and population.data["variance"] == 4


async def test_statistics_percentiles_and_histogram(rt: Runtime) -> None:
    result = await call(
        rt,
        "statistical-analyzer",
        operation="percentiles",
        values=[15, 20, 35, 40, 50],
        percentiles=[0, 25, 40, 50, 90, 100],
    )
    assert result.data["percentiles"] == {
        "0": 15,
        "25": 20,
        "40": 29,
        "50": 35,
        "90": 46,
        "100": 50,
    }
    hist = await call(
        rt, "statistical-analyzer", operation="histogram", values=[0, 1, 2, 3, 4, 5, 9, 10], bins=2
    )
    assert hist.data["bins"] == [
        {"start": 0, "end": 5, "count": 5},
        {"start": 5, "end": 10, "count": 3},
    ]
    edges = await call(
        rt,
        "statistical-analyzer",
        operation="histogram",
        values=[-1, 0, 0.5, 1, 2, 3],
        edges=[0, 1, 2],
    )
    assert [b["count"] for b in edges.data["bins"]] == [2, 2]
    assert (edges.data["below"], edges.data["above"]) == (1, 1)


async def test_statistics_correlation_and_regression(rt: Runtime) -> None:
    x = [1, 2, 3, 4, 5]
    fit = await call(
        rt,
        "statistical-analyzer",
        operation="regression",
        x=x,
        y=[2 * v + 1 for v in x],
        predict=[10],
    )
    assert fit.data == {
        "slope": 2,
        "intercept": 1,
        "r_squared": 1,
        "n": 5,
        "predictions": [{"x": 10, "y": 21}],
    }
    assert fit.text == "y = 2 * x + 1 (r² 1, n 5)"
    perfect = await call(
        rt, "statistical-analyzer", operation="correlation", x=x, y=[3, 5, 7, 9, 11]
    )
    assert perfect.data == {"n": 5, "pearson": 1, "spearman": 1}
    monotone = await call(
        rt, "statistical-analyzer", operation="correlation", x=x, y=[1, 4, 9, 16, 100]
    )
    assert monotone.data["spearman"] == 1 and monotone.data["pearson"] < 1
    inverse = await call(
        rt,
        "statistical-analyzer",
        operation="correlation",
        x=x,
        y=[5, 4, 3, 2, 1],
        method="pearson",
    )
    assert inverse.data == {"n": 5, "pearson": -1}
    noisy = await call(rt, "statistical-analyzer", operation="regression", x=x, y=[1, 3, 2, 5, 4])
    assert noisy.data["slope"] == pytest.approx(0.8) and noisy.data["r_squared"] == pytest.approx(
        0.64
    )


async def test_statistics_refusals(rt: Runtime) -> None:
    err = await refused(
        rt, "statistical-analyzer", operation="correlation", x=[1, 2, 3], y=[1, 1, 1]
    )
    assert err.message == "statistical-analyzer: correlation is undefined when a series is constant"
    err = await refused(rt, "statistical-analyzer", operation="regression", x=[1, 2], y=[1, 2, 3])
    assert err.message == "statistical-analyzer: 'x' and 'y' differ in length (2 and 3)"
    err = await refused(rt, "statistical-analyzer", operation="describe", values=[])
    assert err.message == "statistical-analyzer: 'values' needs at least 1 number(s), got 0"
    # a non-number is stopped by the input schema, naming where it is
    err = await refused(rt, "statistical-analyzer", operation="describe", values=[1, "two", 3])
    assert err.code == ErrorCode.INVALID_ARGUMENTS
    assert "'two' is not of type 'number'" in err.message and "values/1" in err.message
    err = await refused(rt, "statistical-analyzer", operation="describe", values=[1, True])
    assert "True is not of type 'number'" in err.message


# -- text-analyzer -------------------------------------------------------------------------------

TEXT = (
    "The cat sat on the mat. The dog chased the cat! Did Mr. Smith see the dog? "
    "Keyword extraction finds key phrases; simple keyword extraction works well."
)


async def test_text_readability(rt: Runtime) -> None:
    simple = "The cat sat on the mat. The dog ran."
    r = await call(rt, "text-analyzer", operation="readability", text=simple)
    assert (r.data["words"], r.data["sentences"], r.data["syllables"]) == (9, 2, 9)
    assert r.data["flesch_reading_ease"] == pytest.approx(206.835 - 1.015 * 4.5 - 84.6, abs=0.01)
    assert r.data["flesch_kincaid_grade"] == pytest.approx(0.39 * 4.5 + 11.8 - 15.59, abs=0.01)
    hard = await call(
        rt,
        "text-analyzer",
        operation="readability",
        text="Institutional considerations necessitate comprehensive organizational evaluation.",
    )
    assert hard.data["flesch_kincaid_grade"] > 15 > r.data["flesch_kincaid_grade"]


@pytest.mark.parametrize(
    ("word", "count"),
    [
        ("cat", 1),
        ("make", 1),
        ("table", 2),
        ("whale", 1),
        ("jumped", 1),
        ("wanted", 2),
        ("beautiful", 3),
        ("the", 1),
        ("readability", 5),
        ("boxes", 2),
    ],
)
def test_syllable_heuristic(word: str, count: int) -> None:
    from llmspell.adapters.tools.data.text_analyzer import syllables

    assert syllables(word) == count


async def test_text_sentences_frequencies_keywords(rt: Runtime, tmp_path: Path) -> None:
    s = await call(rt, "text-analyzer", operation="sentences", text=TEXT)
    assert s.data["sentences"] == [
        "The cat sat on the mat.",
        "The dog chased the cat!",
        "Did Mr. Smith see the dog?",
        "Keyword extraction finds key phrases; simple keyword extraction works well.",
    ]
    assert s.data["count"] == 4 and s.data["average_words"] == 6.75
    (tmp_path / "t.txt").write_text(TEXT, encoding="utf-8")
    f = await call(rt, "text-analyzer", operation="frequencies", path="t.txt", top=3)
    assert f.data["words"] == [
        {"word": "the", "count": 5},
        {"word": "cat", "count": 2},
        {"word": "dog", "count": 2},
    ]
    f = await call(
        rt, "text-analyzer", operation="frequencies", text=TEXT, top=2, exclude_stopwords=True
    )
    assert f.data["words"] == [{"word": "cat", "count": 2}, {"word": "dog", "count": 2}]
    k = await call(rt, "text-analyzer", operation="keywords", text=TEXT, top=2)
    # both phrases score 25 (five words of degree/frequency 5); ties go alphabetically
    assert k.data["keywords"] == [
        {"phrase": "keyword extraction finds key phrases", "score": 25, "count": 1},
        {"phrase": "simple keyword extraction works well", "score": 25, "count": 1},
    ]
    err = await refused(rt, "text-analyzer", operation="readability", text="123 456")
    assert err.message == "text-analyzer: the text has no words"
    err = await refused(rt, "text-analyzer", operation="sentences")
    assert (
        err.message == "text-analyzer: give either 'text' or 'path' (a text file inside the roots)"
    )


def test_json_safe_values() -> None:
    """What database rows and YAML documents become (shared by both tools)."""
    import datetime as dt
    import uuid
    from decimal import Decimal

    from llmspell.adapters.tools.data.yaml_processor import json_safe

    value = {
        "when": dt.datetime(2024, 1, 2, 3, 4, 5),
        "day": dt.date(2024, 1, 2),
        "price": Decimal("7.25"),
        "whole": Decimal("8.00"),
        "precise": Decimal("0.10000000000000000001"),
        "blob": b"\x00\xff",
        "id": uuid.UUID(int=1),
        "took": dt.timedelta(minutes=1, seconds=30),
        "nan": float("nan"),
        1: (1, 2),
        None: {True},
    }
    assert json_safe(value) == {
        "when": "2024-01-02T03:04:05",
        "day": "2024-01-02",
        "price": 7.25,
        "whole": 8,
        "precise": "0.10000000000000000001",
        "blob": "AP8=",
        "id": "00000000-0000-0000-0000-000000000001",
        "took": 90.0,
        "nan": "nan",
        "1": [1, 2],
        "null": [True],
    }
