"""Compile a validated graph once into a Python function, for batches of points.

`evaluate.forward`/`backward` interpret the graph node by node; for 100,000
points that interpretation, not the math, is the cost. `compile_graph` writes
the same two sweeps as straight-line Python source and compiles it once:

    def point(v1, v2, v3):          # the output's variables, in first-use order
        v4 = v2 * v3                # operators inline
        v5 = _f0(v4)                # functions: the ops table's value rule
        ...
        g5 = g6 * 3.0               # the reverse sweep, in the interpreter's order
        g4 = g5 * _p0_0(v4, v5)     # the table's local-derivative rule
        g2 = g2 + g4 * v3
        ...
        c0 = _sum((v4, ..., r1, r2, r3,))   # one finiteness check
        if not _isfinite(c0): raise _NotFinite
        return (v6, r1, r2, r3,)

The source is built only from the graph's integers (node indices), the ops
table (fixed templates keyed by the operation) and constants written with
``repr`` of a finite float: never from the user's text, so no name or value a
user writes can reach `compile`. Locals are named by node index, and each node
is one statement, so nothing is nested however deep the program's expression.

The compiled function gives bit-for-bit the interpreter's numbers: the same
operations on the same doubles in the same order (the reverse sweep adds each
edge's contribution in the interpreter's order; see `compile_graph` for the
sign of a zero), and the table's own rules for every local derivative
that is not a plain operator. It does not produce error messages: when a rule
raises, or a number is not finite, it raises, and the caller evaluates that one
point with the interpreter, which names the node. One sum checks the inputs,
every value of a row that can overflow without raising (+ - * /, hypot; an
intermediate infinity that a later division would turn back into a finite 0
is caught there) and the gradient (a non-finite adjoint or local factor
anywhere reaches some variable's gradient, since every active node has a path
to a variable and inf·0 is NaN). A sum that overflows although every term is
finite is a false alarm: the point is then interpreted, which is only slower.

Graphs above `MAX_NODES` nodes are not compiled (Python's compiler is slow and
memory-hungry on huge functions); `compile_graph` returns None and the caller
interprets.
"""

from __future__ import annotations

import math
import sys
import types
from dataclasses import dataclass
from typing import Any, Callable, Optional

from .graph import NARY, Graph
from .ops import SOURCE_NAMES, Op

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


_ALLOWED = set("abcdefghijklmnopqrstuvwxyzNF_0123456789.+-*/(), =:[]")


def compile_graph(graph: Graph) -> Optional[Compiled]:
    """Compile `graph` (a validated graph, as `Graph.select` returns), or None
    when it has more than MAX_NODES nodes."""
    n = len(graph.op)
    if n > MAX_NODES or sum(map(len, graph.more.values())) > 2 * MAX_NODES:
        return None
    out = graph.output
    ops, arg0, arg1, leaf = graph.op, graph.arg0, graph.arg1, graph.const
    variables = tuple(graph.output_variables())
    var_index = {graph.variables[v] for v in variables}
    namespace: dict[str, Any] = {"_isfinite": math.isfinite, "_sum": sum, "_NotFinite": NotFinite,
                                 "math": math, **SOURCE_NAMES}

    def ref(j: int) -> str:
        value = leaf[j]
        if ops[j] is None and value is not None:
            return _literal(value)
        if ops[j] is None and j not in var_index:
            return "0.0"  # an unbound variable the output does not use (the interpreter's 0.0)
        return f"v{j}"

    rows: dict[int, int] = {}  # id(op) -> a small number naming it in the source

    def bind(kind: str, op: Op, rule: Any, k: int = -1) -> str:
        """A name for one of row op's rules in the compiled code's namespace:
        _f0 (its value), _p0_1 (its partial 1), _d0_0 (a partial as f(x)), ..."""
        name = f"_{kind}{rows.setdefault(id(op), len(rows))}" + (f"_{k}" if k >= 0 else "")
        namespace[name] = rule
        return name

    def partial_name(op: Op, k: int) -> str:
        return bind("p", op, op.partials[k].fn, k)

    def of_x_name(op: Op, k: int) -> str:
        return bind("d", op, op.partials[k].of_x, k)

    params = ", ".join(f"v{graph.variables[v]}" for v in variables)
    body: list[str] = []
    checked: list[str] = [f"v{graph.variables[v]}" for v in variables]  # the inputs too
    # -- forward: one statement per operation node, in evaluation order
    for i in range(out + 1):
        op = ops[i]
        if op is None:
            continue
        if arg1[i] == NARY:  # the row's rule on the list of arguments, as the interpreter calls it
            refs = ", ".join(ref(j) for j in graph.more[i])
            body.append(f"v{i} = {bind('n', op, op.nvalue)}([{refs}])")
            if not op.finite:
                checked.append(f"v{i}")
            continue
        ra = ref(arg0[i])
        rb = ref(arg1[i]) if arg1[i] >= 0 else ""
        if op.py is not None:
            expr = op.py.format(ra, rb)
        else:
            fn = bind("f", op, op.value)
            expr = f"{fn}({ra}, {rb})" if rb else f"{fn}({ra})"
        body.append(f"v{i} = {expr}")
        if not op.finite:
            checked.append(f"v{i}")
    def nary_factors(i: int, op: Op, g: str) -> list[str]:
        # every factor from one call of the row's rule, in the interpreter's order
        more = graph.more[i]
        rule = bind("m", op, op.nlocals)
        body.append(f"d{i} = {rule}([{', '.join(ref(j) for j in more)}], v{i})")
        return [f"{g} * d{i}[{k}]" for k in range(len(more))]

    gradient, grad_checked = write_reverse(
        graph, variables, body, ref,
        lambda op, k, g, args, out: _contribution(op, k, g, args, out, partial_name, of_x_name),
        nary_factors)
    checked += grad_checked
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


def write_reverse(graph: Graph, variables: tuple[str, ...], body: list[str], ref: Callable[[int], str],
                  contribution: Callable[[Op, int, str, list[str], str], str],
                  nary_factors: Optional[Callable[[int, Op, str], list[str]]] = None
                  ) -> tuple[list[str], list[str]]:
    """Append the reverse sweep, unrolled, to `body`: the interpreter's loop
    in the interpreter's order, one statement per accumulation. Shared by the
    scalar compiled path (here) and the NumPy kernels (arrays.py), which differ
    only in how a local factor is spelled (`contribution(op, k, g, args, out)`
    gives the source of g times the factor of op's argument k; `nary_factors`,
    if given, those of a node with any number of arguments at once). Returns the source of each
    gradient entry, in the order of `variables`, and the names to check for
    finiteness.

    `adjoint[j]` is the local holding node j's adjoint so far; a first
    contribution that is just another adjoint (an edge of + or -) aliases it
    instead of copying. The interpreter starts each adjoint at 0.0 and adds;
    starting from the first contribution gives the same sums except that a
    zero sum may be -0.0 where the interpreter's is +0.0 (0.0 + -0.0 = 0.0), so
    0.0 is added to each gradient entry."""
    ops, active, out = graph.op, graph.active, graph.output
    adjoint: dict[int, str] = {}

    def accumulate(j: int, source: str) -> None:
        current = adjoint.get(j)
        if current is None and source.isidentifier():
            adjoint[j] = source
            return
        body.append(f"g{j} = {source}" if current is None else f"g{j} = {current} + {source}")
        adjoint[j] = f"g{j}"

    if ops[out] is not None and active[out]:
        body.append(f"g{out} = 1.0")
        adjoint[out] = f"g{out}"
    for i in range(out, -1, -1):
        op = ops[i]
        if op is None or not active[i]:
            continue
        g = adjoint.get(i, "0.0")
        args = graph.args(i)
        if graph.arg1[i] == NARY and nary_factors is not None:
            for j, source in zip(args, nary_factors(i, op, g), strict=True):
                if active[j]:
                    accumulate(j, source)
            continue
        refs = [ref(j) for j in args]
        for k, j in enumerate(args):
            if len(args) > 1 and not active[j]:
                continue
            accumulate(j, contribution(op, k, g, refs, f"v{i}"))
    gradient: list[str] = []
    checked: list[str] = []
    for v in variables:
        j = graph.variables[v]
        if j == out:
            gradient.append("1.0")
        elif j in adjoint:
            body.append(f"r{j} = {adjoint[j]} + 0.0")
            gradient.append(f"r{j}")
            checked.append(f"r{j}")
        else:
            gradient.append("0.0")
    return gradient, checked


def _contribution(op: Op, k: int, g: str, args: list[str], out: str,
                  partial_name: Callable[[Op, int], str], of_x_name: Callable[[Op, int], str]) -> str:
    """Source for g * (the local factor of `op` on its argument k): the row's
    own `py` source where it has one, else a call of its rule. The product is
    the interpreter's g * d exactly (g * 1.0 is g, g * -1.0 is -g)."""
    p = op.partials[k]
    if p.const == 1.0:
        return g
    if p.const == -1.0:
        return f"-{g}"
    if p.py is not None:
        return f"{g} * ({p.py.format(*args, out=out)})"
    if p.of_x is not None:
        return f"{g} * {of_x_name(op, k)}({args[0]})"
    return f"{g} * {partial_name(op, k)}({', '.join(args)}, {out})"


class _CallableModule(types.ModuleType):
    """Importing this module sets the package's attribute `compile` to it,
    which would hide the array API `autodiff.compile(program)` (in
    __init__.py); calling the module calls that API."""

    def __call__(self, program: str, *, output: Optional[str] = None) -> Any:
        from . import compile_arrays

        return compile_arrays(program, output=output)


sys.modules[__name__].__class__ = _CallableModule
