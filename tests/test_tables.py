"""The shipped parser tables are exactly what the grammar file generates."""

from __future__ import annotations

from autodiff import tablegen
from autodiff.grammar import grammar_text


def test_shipped_tables_match_the_grammar() -> None:
    want = tablegen.render_module(tablegen.build_tables(grammar_text()))
    assert tablegen.tables_path().read_text(encoding="utf-8") == want, \
        "grammars/expr.lark changed: run python -m autodiff.tablegen"


def test_the_parser_uses_the_grammar_terminals() -> None:
    from autodiff.parser import tables

    data = tablegen.build_tables(grammar_text())
    tokens = {name for name, _ in data["TERMINALS"]} - set(data["IGNORE"])
    assert set(tables().regex.groupindex) == tokens | {"_END", "_ERROR"}
    assert set(data["IGNORE"]) == {"WS", "COMMENT"}


def test_every_grammar_alias_has_a_builder_method_or_an_operation() -> None:
    """A rule alias the graph builder cannot reduce would turn every program
    into an internal error: each alias must name an operation of the table or
    a Builder method (the checklist for a new statement form: a grammar line,
    `python -m autodiff.tablegen`, and a Builder method named by the alias)."""
    from autodiff import _tables
    from autodiff.graph import Builder
    from autodiff.ops import OPERATORS

    missing = []
    for origin, size, name, kept, _splice, expand1 in _tables.RULES:
        if origin.startswith("_") or (expand1 and size == 1) or (expand1 and len(kept) == 1):
            continue  # inlined helper rules and pass-through rules need no method
        if name not in OPERATORS and not callable(getattr(Builder, name, None)):
            missing.append(name)
    assert not missing, f"grammar aliases without a Builder method or an operation: {missing}"
