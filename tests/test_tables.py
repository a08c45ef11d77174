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
