"""Pure functions from a Result to JSON-ready data (schema 1).

The layout is documented in the README ("JSON output") and published as
``schema/result.schema.json``; scripts may rely on it. Keys always come in the
order written here, numbers follow ``numfmt.json_number`` (integral values as
integers, never a bare NaN or Infinity), so the same input gives
byte-identical output.
"""

from __future__ import annotations

import math
from typing import Any, Iterator, Optional

from .errors import AutodiffError
from .evaluate import Result
from .numfmt import json_number

SCHEMA_VERSION = 1

__all__ = ["SCHEMA_VERSION", "result_dict", "error_dict", "node_rows", "elide", "dumps"]


def elide(items: list[Any], limit: Optional[int]) -> tuple[list[Any], list[Any], int]:
    """The first and last items of a list longer than `limit`, and how many
    were left out between them (for tables and narrations of large graphs)."""
    if limit is None or len(items) <= limit:
        return items, [], 0
    head = max(1, limit // 2)
    tail = max(1, limit - head)
    return items[:head], items[-tail:], len(items) - head - tail


def node_rows(result: Result) -> list[int]:
    """Node indices in display order: variables first (in order of first
    use), then constants and operations in evaluation order."""
    g = result.graph
    seen = set(g.variables.values())  # (the output's variables only: --of u shows u's graph)
    return [g.variables[v] for v in g.output_variables()] + [
        i for i in range(g.output + 1) if i not in seen]


def result_dict(result: Result, *, nodes: bool = True) -> dict[str, Any]:
    g = result.graph
    doc: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "output": result.output,
        "value": json_number(result.value),
        "gradient": {k: json_number(v) for k, v in result.gradient.items()},
        "bindings": {k: json_number(v) for k, v in result.bindings.items()},
    }
    if nodes:
        names = g.names()
        values, adj = result.values, result.adjoints
        out = []
        for i in node_rows(result):
            op = g.op[i]
            node: dict[str, Any] = {"name": names[i]}
            if op is None:
                node["op"] = g.kind(i)
                node["expression"] = names[i]
                node["inputs"] = []
            else:
                node["op"] = op.name
                node["expression"] = g.expression(i, names)
                node["inputs"] = [names[j] for j in g.args(i)]
            if not result.was_evaluated(i):  # a branch `where` did not take
                node["value"] = None
                node["local"] = {}
                node["adjoint"] = None
                node["evaluated"] = False
                out.append(node)
                continue
            node["value"] = json_number(values[i])
            node["local"] = {k: json_number(v) for k, v in result.local_factors(i).items()}
            node["adjoint"] = json_number(adj[i]) if g.active[i] else None
            taken = result.taken(i)
            if taken is not None:
                node["taken"] = names[taken]
            if i in result.conventions:
                node["conventions"] = result.conventions[i]
            out.append(node)
        doc["nodes"] = out
    return doc


def iter_result_json(result: Result, *, nodes: bool = False,
                     gradcheck: Optional[dict[str, Any]] = None) -> Iterator[str]:
    """`dumps(result_dict(result, nodes=nodes))` in pieces, written straight
    from the result: a 1e6-variable gradient or a 1e6-node trace is never
    copied into dicts first, and each node is one piece (about as fast as
    the parse; the indenting pure-Python encoder took minutes). `gradcheck`
    (`gradcheck.gradcheck_dict`) goes between the bindings and the nodes, as
    `eval --gradcheck --json` writes it. Tests check that the text is identical."""
    import json  # here, so that the table path does not load it
    import json.encoder

    # (what json.dumps(..., ensure_ascii=False) writes for a str, and for
    # json_number(x): the same text, without a call per value through them)
    name = json.encoder.encode_basestring
    exact = 2.0**53
    copysign, float_repr = math.copysign, float.__repr__

    def number(x: float) -> str:
        if x - x == 0.0:  # finite
            if x.is_integer() and -exact < x < exact and (x != 0.0 or copysign(1.0, x) > 0.0):
                return str(int(x))
            return float_repr(x)
        v = json_number(x)
        return name(v) if isinstance(v, str) else str(v)

    def mapping(key: str, items: Iterator[tuple[str, float]]) -> Iterator[str]:
        yield f',\n  "{key}": {{'
        first = True
        for k, v in items:
            yield ("\n    " if first else ",\n    ") + name(k) + ": " + number(v)
            first = False
        yield "}" if first else "\n  }"

    yield f'{{\n  "schema": {SCHEMA_VERSION},\n  "output": {name(result.output)},\n'
    yield f'  "value": {number(result.value)}'
    adj, var = result.adjoints, result.graph.variables
    yield from mapping("gradient", ((v, adj[var[v]]) for v in result.graph.output_variables()))
    yield from mapping("bindings", iter(result.bindings.items()))
    if gradcheck is not None:
        text = json.dumps(gradcheck, indent=2, ensure_ascii=False, allow_nan=False)
        yield ',\n  "gradcheck": ' + text.replace("\n", "\n  ")
    if nodes:
        yield from _iter_nodes_json(result, name, number)
    yield "\n}"


def _iter_nodes_json(result: Result, name: Any, number: Any) -> Iterator[str]:
    """The `"nodes"` list of `iter_result_json`, one node a piece, indented
    as `json.dumps(..., indent=2)` indents it."""
    g = result.graph
    names = g.names()
    values, adj, conventions = result.values, result.adjoints, result.conventions
    rows = node_rows(result)
    if not rows:
        yield ',\n  "nodes": []'
        return
    yield ',\n  "nodes": ['
    sep = "\n    {\n      "
    for i in rows:
        op = g.op[i]
        own = name(names[i])
        if op is None:
            head = f'"name": {own},\n      "op": {name(g.kind(i))},\n      "expression": {own},' \
                   '\n      "inputs": [],'
        else:
            args = g.args(i)
            inputs = ("[\n        " + ",\n        ".join(name(names[j]) for j in args) + "\n      ]"
                      if args else "[]")
            head = (f'"name": {own},\n      "op": {name(op.name)},\n      "expression": '
                    f'{name(g.expression(i, names))},\n      "inputs": {inputs},')
        if not result.was_evaluated(i):  # a branch `where` did not take (as result_dict)
            yield (f'{sep}{head}\n      "value": null,\n      "local": {{}},\n      "adjoint": null,'
                   '\n      "evaluated": false\n    }')
            sep = ",\n    {\n      "
            continue
        local = result.local_factors(i)
        local_text = ("{\n        " + ",\n        ".join(f"{name(k)}: {number(v)}"
                                                       for k, v in local.items()) + "\n      }"
                      if local else "{}")
        adjoint = number(adj[i]) if g.active[i] else "null"
        tail = ""
        taken = result.taken(i)
        if taken is not None:
            tail = f',\n      "taken": {name(names[taken])}'
        if i in conventions:
            notes = conventions[i]
            tail += (',\n      "conventions": [\n        ' + ",\n        ".join(map(name, notes))
                    + "\n      ]" if notes else ',\n      "conventions": []')
        yield (f'{sep}{head}\n      "value": {number(values[i])},\n      "local": {local_text},'
               f'\n      "adjoint": {adjoint}{tail}\n    }}')
        sep = ",\n    {\n      "
    yield "\n  ]"


def error_dict(error: AutodiffError, *, line: Optional[int] = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"schema": SCHEMA_VERSION}
    if line is not None:
        doc["line"] = line
    doc["error"] = error.to_dict()
    return doc


def dumps(doc: dict[str, Any], indent: Optional[int] = 2) -> str:
    """Serialise deterministically: keys in insertion order, no NaN/Infinity,
    UTF-8 text kept (∂ stays ∂). `indent=None`: one compact line, as a
    batch's NDJSON records are written."""
    return "".join(iter_json(doc, indent))


def iter_json(doc: dict[str, Any], indent: Optional[int] = 2) -> Iterator[str]:
    """`dumps` in pieces, for writing a large document without building it whole."""
    import json  # here, so that the table path does not load it

    separators = (",", ":") if indent is None else None
    encoder = json.JSONEncoder(indent=indent, ensure_ascii=False, allow_nan=False,
                               separators=separators)
    return encoder.iterencode(doc)
