"""Code understanding shared by tools and RAG: symbols and references read with tree-sitter."""

from __future__ import annotations

from .symbols import KINDS, LANGUAGES, Symbol, language_for, references, symbols

__all__ = ["KINDS", "LANGUAGES", "Symbol", "language_for", "references", "symbols"]
