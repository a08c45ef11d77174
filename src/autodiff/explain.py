"""Backpropagation narrated with numbers, in the lecture's order.

`explain(result)` turns one evaluation into steps (plain data):

- the forward pass, one step per node in evaluation order: ``u = b·c = 3·2 = 6``;
- the backward pass, one step per node from the output back, each adjoint
  written as the sum over the node's uses of (the user's adjoint) × (the local
  factor on that edge): ``∂J/∂u = ∂J/∂v · ∂v/∂u = 3 · 1 = 3``, with the local
  derivative in the program's own names beside it (``∂u/∂b = c = 2``);
- optionally, for each input, the paths from it to the output, each with the
  product of its local factors; their sum is the input's adjoint.

The renderers below (`explain_text`, `explain_markdown`, `explain_latex`,
`explain_dict`) are pure functions of those steps. Nothing recurses over the
graph: the backward order is a breadth-first topological sort from the output,
paths are enumerated with an explicit stack and counted by dynamic programming.
"""

from __future__ import annotations

import math
import re
import textwrap
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from .evaluate import Result
from .graph import Graph, write_op
from .numfmt import format_number, json_number
from .ops import OPS, formula_for
from .render import elide

__all__ = ["Explanation", "ForwardStep", "BackwardStep", "Term", "Path", "PathSet", "explain",
           "count_paths", "iter_paths", "explain_text", "explain_markdown", "explain_latex",
           "explain_dict", "count_text", "forward_steps"]

#: the one sentence on why reverse mode does not enumerate paths
WHY_REVERSE = ("Reverse mode never lists the paths: each node's adjoint is the sum, over its uses, "
               "of the user's adjoint times one local factor, so one sweep over the edges adds up "
               "every path at once.")


@dataclass
class ForwardStep:
    node: int
    name: str
    kind: str  # "input", "constant" or the operation's name
    expression: str  # in names: "b·c" ("" for an input or a constant)
    substituted: str  # in numbers: "3·2" ("" for an input or a constant)
    value: float


@dataclass
class Term:
    """One use of a node: the user's adjoint times the local factor on that
    edge (a user that takes the node twice, as in x·x, is one term whose
    local factor is the sum of both edges')."""

    user: int
    user_name: str
    adjoint: float  # ∂output/∂user
    local: float  # ∂user/∂node
    formula: str  # the local factor in the program's names: "c"
    product: float
    #: conventions applied at the user where its derivative does not exist (abs'(0) = 0)
    conventions: list[str] = field(default_factory=list)


@dataclass
class BackwardStep:
    node: int
    name: str
    adjoint: float
    terms: list[Term]  # empty for the output (its adjoint is 1)


@dataclass
class Path:
    nodes: list[int]  # from the input to the output
    factors: list[float]  # the local factor of each step along it
    product: float


@dataclass
class PathSet:
    variable: int
    name: str
    count: int  # how many paths lead from the variable to the output
    shown: list[Path]  # at most max_paths of them
    adjoint: float

    @property
    def complete(self) -> bool:
        return len(self.shown) == self.count

    @property
    def total(self) -> float:
        return math.fsum(p.product for p in self.shown)


@dataclass
class Explanation:
    result: Result
    forward: list[ForwardStep]
    backward: list[BackwardStep]
    paths: Optional[list[PathSet]] = None
    max_paths: int = 0
    #: node -> its users (reachable from the output), each once, in order
    users: list[list[int]] = field(default_factory=list)
    #: significant digits the steps were written with (None: all)
    digits: Optional[int] = None

    @property
    def output_name(self) -> str:
        return self.result.output

    # Jupyter display (notebook.py): the step-through page inline
    def _repr_html_(self) -> str:
        from .notebook import explanation_html

        return explanation_html(self, self.digits)

    def _repr_markdown_(self) -> str:
        return explain_markdown(self, digits=self.digits, max_steps=200)


# ---------------------------------------------------------------- building the steps


def _users(g: Graph, reach: bytearray) -> list[list[int]]:
    """For each node, the reachable active operation nodes that take it as an
    argument (each user once), in evaluation order."""
    users: list[list[int]] = [[] for _ in range(len(g.op))]
    active = g.active
    for i in range(g.output + 1):
        if reach[i] and g.op[i] is not None and active[i]:
            for j in dict.fromkeys(g.args(i)):  # (each argument once)
                if active[j] and reach[j]:
                    users[j].append(i)
    return users


def _backward_order(g: Graph, users: list[list[int]]) -> list[int]:
    """Active nodes from the output back, each once all its users are done,
    breadth first (the lecture's order: J, v, a, u, b, c)."""
    waiting = [len(u) for u in users]
    order = [g.output]
    queue = deque([g.output])
    active = g.active
    while queue:
        i = queue.popleft()
        if g.op[i] is None:
            continue
        seen = -1
        for j in g.args(i):
            if j == seen or not active[j]:
                continue
            seen = j
            waiting[j] -= 1
            if waiting[j] == 0:
                order.append(j)
                queue.append(j)
    return order


def _local(result: Result, user: int, node: int) -> tuple[float, str]:
    """The local factor ∂user/∂node (summed over edges when node is taken
    twice) and its formula in the program's names."""
    g = result.graph
    names = g.names()
    op = g.op[user]
    assert op is not None
    args = g.args(user)
    factors = result.local[user]
    assert factors is not None
    arg_names = [names[j] for j in args]
    total = 0.0
    formulas = []
    for k, j in enumerate(args):
        if j == node:
            d = factors[k]
            assert d is not None
            total += d
            formulas.append(formula_for(op, k, arg_names))
    return total, " + ".join(formulas)


def _mul_parts(parts: list[str]) -> str:
    return "·".join(_paren(p) for p in parts)


def _group(formula: str) -> str:
    """A formula as one term of a sum: parenthesised unless it is a name or a number."""
    return formula if re.fullmatch(r"[A-Za-z0-9_.]+", formula) else f"({formula})"


def _paren(text: str) -> str:
    return f"({text})" if text.startswith("-") else text


def _write(g: Graph, i: int, parts: list[str]) -> str:
    op = g.op[i]
    assert op is not None
    if op.name == "mul":
        return _mul_parts(parts)
    return write_op(op, parts)


def forward_steps(g: Graph, values: list[float], *, digits: Optional[int] = None,
                  upto: Optional[int] = None,
                  evaluated: Optional[bytearray] = None) -> list[ForwardStep]:
    """The forward pass's steps: the inputs, then each named constant and
    operation the output depends on, in evaluation order. With `upto`, only
    the nodes before node `upto` (the partial evaluation of a program that
    failed there: `values` need only be right below it)."""
    names = g.names()
    reach = g.reachable()
    if evaluated is not None:  # a branch `where` did not take is not part of it
        reach = bytearray(r & e for r, e in zip(reach, evaluated, strict=True))
    end = g.output + 1 if upto is None else upto
    fmt = lambda x: format_number(x, digits)  # noqa: E731
    forward: list[ForwardStep] = []
    for name, i in g.variables.items():
        if reach[i]:
            forward.append(ForwardStep(i, name, "input", "", "", values[i]))
    for i in range(end):
        if not reach[i]:
            continue
        op = g.op[i]
        if op is None:
            if g.kind(i) == "constant" and not g.is_literal(i):
                forward.append(ForwardStep(i, names[i], "constant", "", "", values[i]))
            continue
        args = g.args(i)
        expr = _write(g, i, [names[j] for j in args])
        subst = _write(g, i, [names[j] if g.is_literal(j) else
                              (fmt(values[j]) if reach[j] else "not evaluated") for j in args])
        forward.append(ForwardStep(i, names[i], op.name, expr, subst, values[i]))
    if upto is None and names[g.output] != g.output_name:  # J = x, or u = x; J = u
        forward.append(ForwardStep(g.output, g.output_name, "alias", names[g.output],
                                   names[g.output], values[g.output]))
    return forward


def explain(result: Result, *, paths: bool = False, max_paths: int = 20,
            digits: Optional[int] = None) -> Explanation:
    """The steps of the forward and backward passes of `result` (and, with
    `paths`, up to `max_paths` paths from each input to the output).
    `result` must have been evaluated with its local factors kept."""
    g = result.graph
    names = g.names()
    reach = g.reachable()
    if result.evaluated is not None:  # a branch `where` did not take is not part of it
        reach = bytearray(r & e for r, e in zip(reach, result.evaluated, strict=True))
    forward = forward_steps(g, result.values, digits=digits, evaluated=result.evaluated)

    users = _users(g, reach)
    backward: list[BackwardStep] = []
    adj = result.adjoints
    if g.active[g.output]:
        for j in _backward_order(g, users):
            terms = []
            for u in users[j]:
                d, formula = _local(result, u, j)
                terms.append(Term(u, names[u], adj[u], d, formula, adj[u] * d,
                                  list(result.conventions.get(u, []))))
            backward.append(BackwardStep(j, names[j], adj[j], terms))

    ex = Explanation(result, forward, backward, max_paths=max_paths, users=users, digits=digits)
    if paths:
        counts = count_paths(g, users)
        sets = []
        for name, v in g.variables.items():
            if reach[v] and g.active[v]:
                shown = [_path(result, p) for p in iter_paths(g, users, v, max_paths)]
                sets.append(PathSet(v, name, counts[v], shown, adj[v]))
        ex.paths = sets
    return ex


def _is_number(name: str) -> bool:
    return bool(name) and (name[0].isdigit() or name[0] in "-.")


def count_paths(g: Graph, users: list[list[int]]) -> list[int]:
    """For each node, how many paths lead from it to the output (Python ints:
    the count can be exponential in the graph's size)."""
    count = [0] * len(g.op)
    count[g.output] = 1
    for j in range(g.output - 1, -1, -1):
        us = users[j]
        if us:
            count[j] = sum(count[u] for u in us)
    return count


def iter_paths(g: Graph, users: list[list[int]], start: int, limit: int) -> list[list[int]]:
    """Up to `limit` paths from `start` to the output, in order (first user
    first), found with an explicit stack. Every user leads to the output, so
    each branch explored yields a path."""
    out: list[list[int]] = []
    if limit <= 0:
        return out
    path = [start]
    # stack of (node, index of the next user to follow)
    stack = [0]
    while stack:
        node = path[-1]
        if node == g.output:
            out.append(list(path))
            if len(out) >= limit:
                break
            path.pop()
            stack.pop()
            continue
        k = stack[-1]
        us = users[node]
        if k < len(us):
            stack[-1] = k + 1
            path.append(us[k])
            stack.append(0)
        else:
            path.pop()
            stack.pop()
    return out


def _local_value(result: Result, user: int, node: int) -> float:
    """∂user/∂node as a number (summed over edges when node is taken twice)."""
    g = result.graph
    factors = result.local[user]
    assert factors is not None
    total = 0.0
    for j, d in zip(g.args(user), factors, strict=True):
        if j == node:
            total += d or 0.0
    return total


def _path(result: Result, nodes: list[int]) -> Path:
    factors = [_local_value(result, nodes[k + 1], nodes[k]) for k in range(len(nodes) - 1)]
    product = 1.0
    for d in factors:
        product *= d
    return Path(nodes, factors, product)


# ---------------------------------------------------------------- words


def count_text(n: int) -> str:
    """A path count, exact while readable: 20, 1,048,576, 2^50, about 1.3 × 10^30."""
    if n < 10**7:
        return f"{n:,}"
    bits = n.bit_length() - 1
    if n == 1 << bits:
        return f"2^{bits}"
    shift = max(0, n.bit_length() - 60)
    exponent = math.log10(n >> shift) + shift * math.log10(2.0)
    e = math.floor(exponent)
    mantissa = 10 ** (exponent - e)
    if mantissa >= 9.95:
        mantissa, e = 1.0, e + 1
    return f"about {mantissa:.1f} × 10^{e}"


def _d(top: str, bottom: str) -> str:
    return f"∂{top}/∂{bottom}"


@dataclass
class _Line:
    text: str
    #: the symbolic local derivatives, when they add something to the numbers
    notes: list[str] = field(default_factory=list)


def _forward_line(s: ForwardStep, fmt: Any) -> _Line:
    value = fmt(s.value)
    if not s.expression:
        return _Line(f"{s.name} = {value}")
    parts = [s.name, s.expression]
    if s.substituted != s.expression:
        parts.append(s.substituted)
    if parts[-1] != value:
        parts.append(value)
    return _Line(" = ".join(parts))


def _backward_line(ex: Explanation, s: BackwardStep, fmt: Any, max_terms: int) -> _Line:
    out = ex.output_name
    head = _d(out, s.name)
    if not s.terms:
        return _Line(f"{head} = {fmt(s.adjoint)}")
    notes = []
    for t in s.terms[:max_terms]:
        local = fmt(t.local)
        mark = f" († {'; '.join(t.conventions)}, as in PyTorch)" if t.conventions else ""
        if t.formula != local or mark:
            notes.append(f"{_d(t.user_name, s.name)} = {t.formula} = {local}{mark}")
    hidden = len(s.terms) - max_terms
    more = f" + … ({hidden:,} more uses)" if hidden > 0 else ""
    terms = s.terms[:max_terms]
    if len(s.terms) == 1 and terms[0].user == ex.result.graph.output:
        # the output's own local factor: ∂J/∂v = 3
        t = terms[0]
        local = fmt(t.local)
        text = f"{head} = {t.formula} = {local}" if t.formula != local else f"{head} = {local}"
        if t.conventions:
            text += f"   († {'; '.join(t.conventions)}, as in PyTorch)"
        return _Line(text)
    output = ex.result.graph.output
    # A use by the output itself is its local factor alone (∂J/∂J = 1), written
    # as its formula: ∂J/∂x would read like the adjoint being computed.
    symbols = " + ".join(_group(t.formula) if t.user == output else
                         _d(out, t.user_name) + " · " + _d(t.user_name, s.name) for t in terms) + more
    numbers = " + ".join(_paren(fmt(t.local)) if t.user == output else
                         f"{_paren(fmt(t.adjoint))} · {_paren(fmt(t.local))}" for t in terms) + more
    parts = [head, symbols, numbers]
    if len(s.terms) > 1:
        parts.append(" + ".join(_paren(fmt(t.product)) for t in terms) + more)
    value = fmt(s.adjoint)
    if parts[-1] != value:
        parts.append(value)
    return _Line(" = ".join(parts), notes)


def _path_text(ex: Explanation, p: Path, fmt: Any, max_len: int = 8) -> str:
    names = ex.result.graph.names()
    nodes = p.nodes
    if len(nodes) == 1:
        return f"{names[nodes[0]]} is the output itself: the empty product = 1"
    if len(nodes) <= max_len:
        route = " → ".join(names[i] for i in nodes)
        factors = " · ".join(_d(names[nodes[k + 1]], names[nodes[k]]) for k in range(len(nodes) - 1))
        numbers = " · ".join(_paren(fmt(d)) for d in p.factors)
        product = fmt(p.product)
        if len(p.factors) == 1:
            return f"{route}: {factors} = {product}"
        return f"{route}: {factors} = {numbers} = {product}"
    head, tail = max_len // 2, max_len // 2
    route = (" → ".join(names[i] for i in nodes[:head]) + f" → … ({len(nodes) - 2 * head:,} more) → "
             + " → ".join(names[i] for i in nodes[-tail:]))
    return f"{route}: a product of {len(p.factors):,} local factors = {fmt(p.product)}"


def _sections(ex: Explanation, digits: Optional[int], max_steps: Optional[int],
              max_terms: int = 8) -> list[tuple[str, list[_Line]]]:
    fmt = lambda x: format_number(x, digits)  # noqa: E731
    out = ex.output_name
    sections: list[tuple[str, list[_Line]]] = []

    def bounded(lines_of: Any, steps: list[Any], what: str) -> list[_Line]:
        head, tail, hidden = elide(steps, max_steps)
        lines = [lines_of(s) for s in head]
        if hidden:
            lines.append(_Line(f"⋮ {hidden:,} more {what} not shown (--max-nodes N shows more)"))
        lines += [lines_of(s) for s in tail]
        return lines

    sections.append(("Forward pass: each node's value, in evaluation order",
                     bounded(lambda s: _forward_line(s, fmt), ex.forward, "nodes")))
    if not ex.backward:
        sections.append((f"Backward pass: {out} does not depend on any variable", []))
    else:
        sections.append((f"Backward pass: each adjoint {_d(out, 'node')}, from the output back",
                         bounded(lambda s: _backward_line(ex, s, fmt, max_terms), ex.backward, "nodes")))
    if ex.paths is not None:
        for ps in ex.paths:
            plural = "path" if ps.count == 1 else "paths"
            title = f"Paths from {ps.name} to {out} ({count_text(ps.count)} {plural})"
            lines = [_Line(_path_text(ex, p, fmt)) for p in ps.shown]
            adjoint = fmt(ps.adjoint)
            if ps.complete:
                total = fmt(ps.total)
                if total == adjoint:
                    lines.append(_Line(f"sum over the paths = {total} = {_d(out, ps.name)}"))
                else:  # the sums were added in another order; say both
                    lines.append(_Line(f"sum over the paths = {total} ≈ {_d(out, ps.name)} = {adjoint} "
                                       "(rounding: the sums are added in another order)"))
            else:
                lines.append(_Line(f"showing {len(ps.shown):,} of {count_text(ps.count)} paths "
                                   "(--max-paths N shows more); their sum over all paths is "
                                   f"{_d(out, ps.name)} = {adjoint}"))
            sections.append((title, lines))
        sections.append(("Why reverse mode", [_Line(WHY_REVERSE)]))
    return sections


def explain_text(ex: Explanation, *, digits: Optional[int] = None,
                 max_steps: Optional[int] = None) -> str:
    """Plain text: one line per step, the symbolic local derivatives on an
    indented `where` line below."""
    out: list[str] = [f"How autodiff computes {ex.output_name} = "
                      f"{format_number(ex.result.value, digits)} and its gradient", ""]
    for title, lines in _sections(ex, digits, max_steps):
        out.append(title)
        for line in lines:
            if line.text == WHY_REVERSE:
                out += textwrap.wrap(line.text, 78, initial_indent="  ", subsequent_indent="  ")
                continue
            out.append(f"  {line.text}")
            for k, note in enumerate(line.notes):
                out.append(f"      {'where' if k == 0 else '  and'} {note}")
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def explain_markdown(ex: Explanation, *, digits: Optional[int] = None,
                     max_steps: Optional[int] = None) -> str:
    """Markdown for lecture notes: a heading per pass, one list item per step,
    each step in code spans (names such as x_1 stay literal)."""
    out: list[str] = [f"## How autodiff computes `{ex.output_name} = "
                      f"{format_number(ex.result.value, digits)}` and its gradient", ""]
    for title, lines in _sections(ex, digits, max_steps):
        out += [f"### {title}", ""]
        for line in lines:
            item = f"- `{line.text}`"
            if line.notes:
                item += " where " + ", ".join(f"`{n}`" for n in line.notes)
            out.append(item)
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def _term_dict(t: Term) -> dict[str, Any]:
    d: dict[str, Any] = {"user": t.user_name, "user_adjoint": json_number(t.adjoint),
                         "local": json_number(t.local), "formula": t.formula,
                         "product": json_number(t.product)}
    if t.conventions:
        d["conventions"] = t.conventions
    return d


def explain_dict(ex: Explanation) -> dict[str, Any]:
    """The same steps as JSON-ready data (numbers as in `autodiff eval --json`)."""
    g = ex.result.graph
    names = g.names()
    doc: dict[str, Any] = {
        "schema": 1,
        "output": ex.output_name,
        "value": json_number(ex.result.value),
        "gradient": {k: json_number(v) for k, v in ex.result.gradient.items()},
        "forward": [{"node": s.name, "op": s.kind, "expression": s.expression,
                     "substituted": s.substituted, "value": json_number(s.value)} for s in ex.forward],
        "backward": [{"node": s.name, "adjoint": json_number(s.adjoint),
                      "terms": [_term_dict(t) for t in s.terms]}
                     for s in ex.backward],
    }
    if ex.paths is not None:
        doc["paths"] = {
            ps.name: {"count": ps.count if ps.count < 2**53 else count_text(ps.count),
                      "shown": [{"nodes": [names[i] for i in p.nodes],
                                 "factors": [json_number(d) for d in p.factors],
                                 "product": json_number(p.product)} for p in ps.shown],
                      "complete": ps.complete,
                      "sum": json_number(ps.total) if ps.complete else None,
                      "adjoint": json_number(ps.adjoint)}
            for ps in ex.paths}
    return doc


# ---------------------------------------------------------------- LaTeX

_TEX_FUNCTIONS = {op.name: op.tex for op in OPS if not op.symbol}
_TOKEN = re.compile(r"\s*(?:(?P<num>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[+-]?[0-9]+)?)"
                    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*(?:#[0-9]+)?)|(?P<op>\*\*|[-+*/^(),?:<>=·]))")


def tex_name(name: str) -> str:
    """A node name in LaTeX math: b, t_{1}, \\pi, \\mathit{rate\\_2}, or a number."""
    if name == "pi":
        return r"\pi"
    base, sharp, version = name.partition("#")
    if sharp and version.isdigit():  # c#2, the second version of c: {c}_{\#2}
        return f"{{{tex_name(base)}}}_{{\\#{version}}}"
    if _is_number(name):
        return tex_number(name)
    m = re.fullmatch(r"([A-Za-z])_?([0-9]+)", name)
    if m:
        return f"{m.group(1)}_{{{m.group(2)}}}"
    if len(name) == 1:
        return name
    return r"\mathit{" + name.replace("_", r"\_").replace("#", r"\#") + "}"


def tex_number(text: str) -> str:
    mant, e, exp = text.partition("e")
    if not e:
        return text
    return f"{mant} \\times 10^{{{int(exp)}}}"


def tex_formula(text: str) -> str:
    """A formula written in the program's syntax (``y*x^(y-1)``, ``b·c``,
    ``exp(t1)``) in LaTeX math."""
    out: list[str] = []
    pos = 0
    # exponents: after ^, the next atom (a token or a parenthesised group) goes in braces
    pending_power: list[int] = []  # depth at which a brace must close
    depth = 0
    tokens = []
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            tokens.append(("op", text[pos]))
            pos += 1
            continue
        pos = m.end()
        kind = m.lastgroup or "op"
        tokens.append((kind, m.group(kind)))
    for k, (kind, tok) in enumerate(tokens):
        nxt = tokens[k + 1][1] if k + 1 < len(tokens) else ""
        if kind == "num":
            number = tex_number(tok)
            if nxt in ("^", "**") and "^" in number:
                number = f"({number})"  # the base of a power: (1 \times 10^{-7})^{2}, no double superscript
            out.append(number)
        elif kind == "name":
            if nxt == "(":
                out.append(_TEX_FUNCTIONS.get(tok, r"\operatorname{" + tok.replace("_", r"\_") + "}"))
            else:
                out.append(tex_name(tok))
        elif tok in ("*", "·"):
            out.append(r" \cdot ")
        elif tok in ("^", "**"):
            out.append("^{")
            pending_power.append(depth)
            continue
        elif tok == "(":
            out.append("(")
            depth += 1
            continue
        elif tok == ")":
            depth -= 1
            out.append(")")
        elif tok in "+-=<>":
            out.append(f" {tok} " if out and not out[-1].endswith(("{", "(", " ")) else tok)
        elif tok == "/":
            out.append(" / ")
        elif tok == "%":
            out.append(r" \bmod ")
        elif tok == ",":
            out.append(", ")
        elif tok == "?":
            out.append(r" \;?\; ")
        elif tok == ":":
            out.append(r" \;:\; ")
        else:
            out.append(tok)
        while pending_power and pending_power[-1] == depth:
            pending_power.pop()
            out.append("}")
    out.extend("}" for _ in pending_power)
    return "".join(out).replace("  ", " ").strip()


def _tex_d(top: str, bottom: str) -> str:
    return rf"\frac{{\partial {tex_name(top)}}}{{\partial {tex_name(bottom)}}}"


def explain_latex(ex: Explanation, *, digits: Optional[int] = None,
                  max_steps: Optional[int] = None, max_terms: int = 8) -> str:
    """LaTeX for lecture notes: one `align*` environment per pass (needs
    amsmath), partial derivatives as \\frac{\\partial J}{\\partial b}."""
    fmt = lambda x: tex_number(format_number(x, digits))  # noqa: E731
    out_name = ex.output_name
    lines = [f"% autodiff explain: {out_name} = {format_number(ex.result.value, digits)}",
             r"\paragraph{Forward pass} each node's value, in evaluation order.",
             r"\begin{align*}"]

    def emit(steps: list[Any], row: Callable[[Any], str]) -> None:
        head, tail, hidden = elide(steps, max_steps)
        rows = [row(s) for s in head]
        if hidden:
            rows.append(rf"&\vdots \quad \text{{({hidden:,} more steps)}}")
        rows += [row(s) for s in tail]
        lines.append(" \\\\\n".join(rows))

    def forward_row(fs: ForwardStep) -> str:
        left = tex_name(fs.name)
        if not fs.expression:
            return f"{left} &= {fmt(fs.value)}"
        parts = [tex_formula(fs.expression)]
        if fs.substituted != fs.expression:
            parts.append(tex_formula(fs.substituted))
        value = fmt(fs.value)
        if parts[-1] != value:
            parts.append(value)
        return f"{left} &= " + " = ".join(parts)

    def backward_row(s: BackwardStep) -> str:
        left = _tex_d(out_name, s.name)
        if not s.terms:
            return f"{left} &= {fmt(s.adjoint)}"
        terms = s.terms[:max_terms]
        more = r" + \dots" if len(s.terms) > max_terms else ""
        output = ex.result.graph.output
        symbols = " + ".join(tex_formula(_group(t.formula)) if t.user == output else
                             _tex_d(out_name, t.user_name) + r" \cdot " + _tex_d(t.user_name, s.name)
                             for t in terms) + more
        numbers = " + ".join(_tex_paren(fmt(t.local)) if t.user == output else
                             _tex_paren(fmt(t.adjoint)) + r" \cdot " + _tex_paren(fmt(t.local))
                             for t in terms) + more
        notes = ", ".join(f"{_tex_d(t.user_name, s.name)} = {tex_formula(t.formula)} = {fmt(t.local)}"
                          for t in terms if t.formula != format_number(t.local, digits))
        if len(s.terms) == 1 and terms[0].user == ex.result.graph.output:
            parts = [tex_formula(terms[0].formula)]
        else:
            parts = [symbols, numbers]
            if len(s.terms) > 1:
                parts.append(" + ".join(_tex_paren(fmt(t.product)) for t in terms) + more)
        if parts[-1] != fmt(s.adjoint):
            parts.append(fmt(s.adjoint))
        row = f"{left} &= " + " = ".join(parts)
        if notes:
            row += rf" && \text{{where }} {notes}"
        return row

    emit(ex.forward, forward_row)
    lines.append(r"\end{align*}")
    if ex.backward:
        lines += [rf"\paragraph{{Backward pass}} each adjoint ${_tex_d(out_name, 'node')}$, from the "
                  "output back.", r"\begin{align*}"]
        emit(ex.backward, backward_row)
        lines.append(r"\end{align*}")
    if ex.paths is not None:
        names = ex.result.graph.names()
        for ps in ex.paths:
            lines.append(rf"\paragraph{{Paths from ${tex_name(ps.name)}$ to ${tex_name(out_name)}$}} "
                         f"{_tex_count(ps.count)} in all.")
            lines.append(r"\begin{align*}")
            rows: list[str] = []
            for p in ps.shown:
                if len(p.nodes) == 1:
                    rows.append(rf"{tex_name(names[p.nodes[0]])} &: 1 \quad \text{{(the output itself)}}")
                    continue
                route = r" \to ".join(tex_name(names[i]) for i in p.nodes[:12])
                if len(p.nodes) > 12:
                    route += r" \to \dots"
                rows.append(f"{route} &: " + r" \cdot ".join(_tex_paren(fmt(d)) for d in p.factors[:12])
                            + (r" \cdot \dots" if len(p.factors) > 12 else "") + f" = {fmt(p.product)}")
            if ps.complete:
                rows.append(rf"\textstyle\sum &= {fmt(ps.total)} \quad "
                            rf"\left({_tex_d(out_name, ps.name)} = {fmt(ps.adjoint)}\right)")
            else:
                rows.append(rf"&\dots \quad \text{{({len(ps.shown):,} shown; the sum over all is)}} \quad "
                            rf"{_tex_d(out_name, ps.name)} = {fmt(ps.adjoint)}")
            lines.append(" \\\\\n".join(rows))
            lines.append(r"\end{align*}")
        lines.append(WHY_REVERSE)
    return "\n".join(lines) + "\n"


def _tex_count(n: int) -> str:
    """count_text in LaTeX text mode: 3 paths, $2^{50}$ paths, about $1.3 \\times 10^{30}$ paths."""
    word = "path" if n == 1 else "paths"
    text = count_text(n)
    about = text.startswith("about ")
    text = text.removeprefix("about ")
    if "^" in text:
        base, _, exp = text.partition("^")
        text = "$" + base.replace("×", r"\times") + "^{" + exp + "}$"
    return ("about " if about else "") + f"{text} {word}"


def _tex_paren(text: str) -> str:
    return f"({text})" if text.startswith("-") else text
