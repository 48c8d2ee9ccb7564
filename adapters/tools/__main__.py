"""`python -m llmspell.adapters.tools`: rewrite `catalog.json` from the tool modules (after a
tool's name, description, schema or annotations changed; tests/test_startup.py says when)."""

from .registry import CATALOG_FILE, dump, generate

CATALOG_FILE.write_text(dump(generate()), encoding="utf-8")
print(f"wrote {CATALOG_FILE}")
