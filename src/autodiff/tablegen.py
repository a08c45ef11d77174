"""Generate the parser tables from the grammar file, with Lark.

The grammar file ``grammars/expr.lark`` is the language's reference. Lark
computes its LALR(1) tables; this module writes them, with the tokenizer's
terminal patterns, to ``src/autodiff/_tables.py`` so that a run of autodiff
needs neither Lark's grammar analysis nor Lark's on-disk cache (a pickle in a shared
temporary directory) at start-up.
``autodiff.parser`` checks the shipped tables against the grammar file (the
tables carry a copy of its text) and rebuilds them in memory with Lark when
they differ; a test checks that the
committed file is exactly what this module generates.

    python -m autodiff.tablegen            # rewrite src/autodiff/_tables.py
    python -m autodiff.tablegen --check    # exit 1 if it is out of date
"""

from __future__ import annotations

import pprint
import sys
from pathlib import Path
from typing import Any

from .grammar import grammar_text

HEADER = '''"""Parser tables generated from grammars/expr.lark by autodiff.tablegen. Do not edit."""
# ruff: noqa
'''


def build_tables(text: str) -> dict[str, Any]:
    """LALR(1) tables and terminal patterns for the grammar `text`, as plain data."""
    from lark import Lark
    from lark.grammar import NonTerminal, Terminal
    from lark.parsers.lalr_analysis import Shift

    lark = Lark(text, parser="lalr", lexer="basic")
    table = lark.parser.parser.parser.parse_table

    # Terminals in Lark's basic-lexer order (the first alternative that matches wins).
    terms = sorted(lark.terminals,
                   key=lambda t: (-t.priority, -t.pattern.max_width, -len(t.pattern.value), t.name))
    terminals = [(t.name, t.pattern.to_regexp()) for t in terms]

    # Lark numbers states and rules in an order that can vary between runs
    # (set iteration); renumber both canonically so the output is reproducible.
    def rule_key(rule: Any) -> tuple[str, str, str]:
        return (str(rule.origin.name), " ".join(str(s.name) for s in rule.expansion), str(rule.alias))

    rules = sorted(lark.rules, key=rule_key)
    rule_index = {rule_key(rule): i for i, rule in enumerate(rules)}

    start = table.start_states["start"]
    order = {start: 0}
    queue = [start]
    while queue:  # breadth-first from the start state, symbols in sorted order
        state = queue.pop(0)
        for _sym, (action, arg) in sorted(table.states[state].items()):
            if action is Shift and arg not in order:
                order[arg] = len(order)
                queue.append(arg)

    out_rules = []
    for rule in rules:
        kept, splice = [], []
        for i, sym in enumerate(rule.expansion):
            if isinstance(sym, Terminal):
                if not (sym.filter_out or sym.name.startswith("_")):
                    kept.append(i)
            elif isinstance(sym, NonTerminal):
                kept.append(i)
                if sym.name.startswith("_"):
                    splice.append(i)
        origin = rule.origin.name
        name = rule.alias or ("" if origin.startswith("_") else origin)
        # `?rule` passes a lone child through, unless an alias names the node.
        expand1 = bool(rule.options.expand1) and not rule.alias
        out_rules.append((str(origin), len(rule.expansion), str(name), tuple(kept), tuple(splice),
                          expand1))

    states: list[dict[str, int]] = [{} for _ in order]
    for old, new in order.items():
        for sym, (action, arg) in sorted(table.states[old].items()):
            states[new][str(sym)] = order[arg] if action is Shift else -1 - rule_index[rule_key(arg)]

    return {
        "GRAMMAR": text,
        "TERMINALS": terminals,
        "IGNORE": sorted(lark.ignore_tokens),
        "RULES": out_rules,
        "STATES": states,
        "START_STATE": order[start],
        "END_STATE": order[table.end_states["start"]],
    }


def render_module(tables: dict[str, Any]) -> str:
    parts = [HEADER]
    for key, value in tables.items():
        parts.append(f"{key} = {pprint.pformat(value, width=100, sort_dicts=False)}\n")
    return "\n".join(parts)


def tables_path() -> Path:
    return Path(__file__).with_name("_tables.py")


def main(argv: list[str]) -> int:
    text = render_module(build_tables(grammar_text()))
    path = tables_path()
    if "--check" in argv:
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != text:
            print(f"{path} is out of date: run python -m autodiff.tablegen", file=sys.stderr)
            return 1
        return 0
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
