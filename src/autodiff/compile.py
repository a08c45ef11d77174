"""Compile a validated graph once into a Python function, for batches of points.

`evaluate.forward`/`backward` interpret the graph node by node; for 100,000
points that interpretation, not the math, is the cost. `compile_graph` writes
the same two sweeps as straight-line Python source and compiles it once:

    def point(v1, v2, v3):          # the output's variables, in first-use order
        v4 = v2 * v3                # operators inline
        v5 = _f12(v4)               # functions: the ops table's value rule
        ...
        g5 = 0.0 + g6 * 3.0         # the reverse sweep, in the interpreter's order
        g4 = 0.0 + g5 * _p12_0(v4, v5)   # the table's local-derivative rule
        ...
        if not _isfinite(_sum((v4, v5, ..., g1, g2, g3))): raise _NotFinite
        return (v6, g1, g2, g3)

The source is built only from the graph's integers (node indices), the ops
table (fixed templates keyed by the operation) and constants written with
``repr`` of a finite float: never from the user's text, so no name or value a
user writes can reach `compile`. Locals are named by node index, and each node
is one statement, so nothing is nested however deep the program's expression.

The compiled function gives bit-for-bit the interpreter's numbers: the same
operations on the same doubles in the same order (the reverse sweep adds each
edge's contribution in the interpreter's order, starting from 0.0, so even the
sign of a zero agrees), and the table's own rules for every local derivative
that is not a plain operator. It does not produce error messages: when a rule
raises, or any value or adjoint is not finite (including an intermediate
infinity that a later division turns back into a finite 0), it raises, and the
caller evaluates that one point with the interpreter, which names the node.

Graphs above `MAX_NODES` nodes are not compiled (Python's compiler is slow and
memory-hungry on huge functions); `compile_graph` returns None and the caller
interprets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Optional

from .graph import Graph
from .ops import OPS, Op

__all__ = ["Compiled", "compile_graph", "MAX_NODES", "NotFinite"]

#: graphs with more nodes than this are interpreted, not compiled
MAX_NODES = 20_000


class NotFinite(ArithmeticError):
    """A value or adjoint of the compiled sweeps is not finite."""


@dataclass(frozen=True)
class Compiled:
    """A compiled graph: ``fn(*values of `variables`) -> (value, *gradient)``,
    gradient in the order of `variables`. Raises on any failure (see module doc)."""

    fn: Callable[..., tuple[float, ...]]
    variables: tuple[str, ...]
    source: str


def _literal(x: float) -> str:
    if not math.isfinite(x):
        raise ValueError("a constant that is not finite")  # the parser refuses these
    text = repr(float(x))
    return f"({text})" if text.startswith("-") else text


def _check_source_token(text: str) -> str:
    # Defence in depth: every piece of generated source is made of these characters only.
    if not set(text) <= _ALLOWED:
        raise ValueError(f"unexpected text in generated code: {text!r}")
    return text


_ALLOWED = set("abcdefghijklmnopqrstuvwxyzNF_0123456789.+-*/(), =:")


def compile_graph(graph: Graph) -> Optional[Compiled]:
    """Compile `graph` (a validated graph, as `Graph.select` returns), or None
    when it has more than MAX_NODES nodes."""
    n = len(graph.op)
    if n > MAX_NODES:
        return None
    out = graph.output
    ops, arg0, arg1, leaf, active = graph.op, graph.arg0, graph.arg1, graph.leaf, graph.active
    variables = tuple(graph.output_variables())
    var_index = {graph.variables[v] for v in variables}
    namespace: dict[str, Any] = {"_isfinite": math.isfinite, "_sum": sum, "_NotFinite": NotFinite}

    def ref(j: int) -> str:
        value = leaf[j]
        if ops[j] is None and value is not None:
            return _literal(value)
        if ops[j] is None and j not in var_index:
            return "0.0"  # an unbound variable the output does not use (the interpreter's 0.0)
        return f"v{j}"

    rows: dict[int, int] = {}  # id(op) -> a small number naming it in the source

    def row(op: Op) -> int:
        return rows.setdefault(id(op), len(rows))

    def fn_name(op: Op) -> str:
        name = f"_f{row(op)}"
        namespace[name] = op.value
        return name

    def partial_name(op: Op, k: int) -> str:
        name = f"_p{row(op)}_{k}"
        namespace[name] = op.partials[k].fn
        return name

    params = ", ".join(f"v{graph.variables[v]}" for v in variables)
    body: list[str] = []
    checked: list[str] = []
    # -- forward: one statement per operation node, in evaluation order
    for i in range(out + 1):
        op = ops[i]
        if op is None:
            continue
        ra = ref(arg0[i])
        rb = ref(arg1[i]) if arg1[i] >= 0 else ""
        template = _INLINE_VALUE.get(id(op))
        if template is not None:
            expr = template.format(a=ra, b=rb)
        else:
            expr = f"{fn_name(op)}({ra}, {rb})" if rb else f"{fn_name(op)}({ra})"
        body.append(f"v{i} = {expr}")
        checked.append(f"v{i}")
    # -- reverse sweep: the interpreter's loop, unrolled
    assigned: set[int] = set()

    def accumulate(j: int, contribution: str) -> None:
        if j in assigned:
            body.append(f"g{j} += {contribution}")
        else:
            assigned.add(j)
            body.append(f"g{j} = 0.0 + {contribution}")

    if ops[out] is not None and active[out]:
        body.append(f"g{out} = 1.0")
        assigned.add(out)
    for i in range(out, -1, -1):
        op = ops[i]
        if op is None or not active[i]:
            continue
        g = f"g{i}" if i in assigned else "0.0"
        a, b = arg0[i], arg1[i]
        args = [ref(a)] + ([ref(b)] if b >= 0 else [])
        for k, j in enumerate((a, b) if b >= 0 else (a,)):
            if b >= 0 and not active[j]:
                continue
            template = _INLINE_PARTIAL.get((id(op), k))
            if template is not None:
                d = template.format(g=g, a=args[0], b=args[1] if b >= 0 else "", out=f"v{i}")
            else:
                call = f"{partial_name(op, k)}({', '.join(args)}, v{i})"
                d = f"{g} * {call}"
            accumulate(j, d)
    gradient = []
    for v in variables:
        j = graph.variables[v]
        if j == out:
            gradient.append("1.0")
        elif j in assigned:
            gradient.append(f"g{j}")
            checked.append(f"g{j}")
        else:
            gradient.append("0.0")
    # -- one finiteness check over every value and the gradient (a non-finite
    # adjoint anywhere reaches some variable's gradient: see module doc)
    if checked:
        chunks = [checked[k:k + 200] for k in range(0, len(checked), 200)]
        for c, chunk in enumerate(chunks):
            body.append(f"c{c} = _sum(({', '.join(chunk)},))")
        total = " + ".join(f"c{c}" for c in range(len(chunks))) if len(chunks) <= 50 else \
            "_sum((" + ", ".join(f"c{c}" for c in range(len(chunks))) + ",))"
        body.append(f"if not _isfinite({total}):")
        body.append("    raise _NotFinite")
    result = ", ".join([ref(out)] + gradient)
    body.append(f"return ({result},)")
    source = f"def point({params}):\n" + "".join(f"    {_check_source_token(s)}\n" for s in body)
    code = compile(source, "<autodiff compiled graph>", "exec")
    exec(code, namespace)  # noqa: S102 - source built from the graph's integers and the ops table
    return Compiled(namespace["point"], variables, source)


# Operators written inline. Each is the same IEEE operation as the table's
# value rule (operator.add is x + y, ...). Keyed by the table's own rows (by
# identity), so an edited or substituted row is called, never inlined.
_ROW = {op.name: op for op in OPS if op.symbol}
_ROW["exp"] = next(op for op in OPS if op.name == "exp")

_INLINE_VALUE = {id(_ROW[name]): text for name, text in {
    "add": "{a} + {b}",
    "sub": "{a} - {b}",
    "mul": "{a} * {b}",
    "div": "{a} / {b}",
    "neg": "-{a}",
}.items()}

# Local-derivative contributions g * d written inline, for rules whose factor is
# a constant, an input or the output; the product is the interpreter's g * d
# exactly (g * 1.0 is g, g * -1.0 is -g). A test checks each against the table.
_INLINE_PARTIAL = {(id(_ROW[name]), k): text for (name, k), text in {
    ("add", 0): "{g}",
    ("add", 1): "{g}",
    ("sub", 0): "{g}",
    ("sub", 1): "-{g}",
    ("mul", 0): "{g} * {b}",
    ("mul", 1): "{g} * {a}",
    ("div", 0): "{g} * (1.0 / {b})",
    ("div", 1): "{g} * (-{out} / {b})",
    ("neg", 0): "-{g}",
    ("exp", 0): "{g} * {out}",
}.items()}
