"""Derivatives as formulas: the adjoint program, built as a graph of the same
operations table, simplified, and written back in the language.

`derivative(graph)` runs the reverse sweep of `evaluate.backward` once, on
symbols instead of numbers. For each operation node, from the output back,
the local factor of each edge is the row's `Partial.expr` (a formula of the
language, parsed once per row) with the node's arguments substituted; the
node's adjoint times that factor is added to the argument's adjoint. Every
node is made through one constructor that simplifies as it goes (constant
folding of literals, x*1, x+0, x*0, x^1, x^0, -(-x), x + -y, x + x) and shares
identical nodes (the factor `exp(x)` of exp is the forward node itself), so
the result is a DAG of at most a few nodes per edge of the program: a shared
subexpression stays shared, never expanded into a tree.

`Derivative.program()` writes that DAG as a program of the language: nodes
used more than once are named intermediates (the program's own names where
it has them, `dJ_du` for the adjoint of u, else t1, t2, ...), the rest is
written inline. Parsing the text back gives a program whose statements
`dJ_dx` evaluate to `eval`'s gradient (tests/test_symbolic.py checks this at
random points of the SymPy corpus). Nothing here recurses: the sweep is a
loop over the node list and the printer keeps an explicit stack, so a
100,000-deep program is differentiated like a shallow one.
"""

from __future__ import annotations

import math
import struct
from typing import Any, Optional

from .errors import ProgramError, UsageProblem, escape_text, name_list
from .graph import Graph
from .numfmt import format_number
from .ops import ALIAS, CONSTANTS, FUNCTIONS, OPERATORS, Op

__all__ = ["Dag", "Derivative", "derivative", "local_factor_template", "NotExpressible"]

_ADD, _SUB, _MUL, _DIV = OPERATORS["add"], OPERATORS["sub"], OPERATORS["mul"], OPERATORS["div"]
_NEG, _POW = OPERATORS["neg"], OPERATORS["pow"]
_FOLDED = {_ADD, _SUB, _MUL, _DIV, _NEG, _POW}  # rows whose constant instances are folded


#: where(c, a, b), when the language has it: a factor `where(c, 1, 0)` is
#: multiplied into the branch (g*where(c, 1, 0) = where(c, g, 0), and
#: where(c, g, 0)*f = where(c, g*f, 0)), so the terms of the branch not taken
#: are not evaluated, as eval does not evaluate that branch
_WHERE = FUNCTIONS.get(("where", 3))


def _alias() -> Optional[Op]:
    return ALIAS  # a second name for a node: `w = u`


class NotExpressible(ProgramError):
    """A local derivative that the language cannot (yet) write."""


def _power_of_two(x: float) -> bool:
    return x != 0.0 and math.frexp(x)[0] in (0.5, -0.5)


def _key(x: float) -> bytes:
    return struct.pack("<d", x)  # 0.0 and -0.0 are different constants


class Dag:
    """A graph of the operations table under construction, with every node
    simplified and shared as it is made. Node i is a variable (`var[i]` its
    name), a constant (`const[i]`, `cname[i]` for pi and e) or an operation
    `op[i]` of the earlier nodes `args[i]`: in topological order by
    construction."""

    def __init__(self) -> None:
        self.op: list[Optional[Op]] = []
        self.args: list[tuple[int, ...]] = []
        self.const: list[Optional[float]] = []
        self.var: list[Optional[str]] = []
        self.cname: dict[int, str] = {}  # named constants (pi, e): kept as names, never folded
        self._nodes: dict[tuple[Any, ...], int] = {}

    def __len__(self) -> int:
        return len(self.op)

    def _new(self, key: tuple[Any, ...], op: Optional[Op], args: tuple[int, ...],
             const: Optional[float], var: Optional[str]) -> int:
        i = self._nodes.get(key)
        if i is None:
            i = self._nodes[key] = len(self.op)
            self.op.append(op)
            self.args.append(args)
            self.const.append(const)
            self.var.append(var)
        return i

    def variable(self, name: str) -> int:
        return self._new(("v", name), None, (), None, name)

    def constant(self, value: float, name: Optional[str] = None) -> int:
        if not math.isfinite(value):
            raise ValueError("a constant that is not finite")
        if name is not None:
            i = self._new(("n", name), None, (), value, None)
            self.cname[i] = name
            return i
        return self._new(("c", _key(value)), None, (), value, None)

    def literal(self, i: int) -> Optional[float]:
        """Node i's value if it is a number written as such (not pi or e)."""
        if self.op[i] is None and i not in self.cname:
            return self.const[i]
        return None

    def node(self, op: Op, args: tuple[int, ...]) -> int:
        """The node op(*args), simplified, shared with an identical one."""
        lit = self.literal
        values = [lit(a) for a in args]
        if op in _FOLDED and all(v is not None for v in values):
            try:
                result = op.value(*values)
            except (ArithmeticError, ValueError):
                result = None
            if result is not None and math.isfinite(result):
                return self.constant(result)
        if op is _NEG:
            (a,) = args
            if self.op[a] is _NEG:
                return self.args[a][0]  # -(-x) = x
        elif op is _ADD or op is _SUB:
            a, b = args
            va, vb = values
            if vb == 0.0:
                return a  # x + 0, x - 0
            if va == 0.0:
                return b if op is _ADD else self.node(_NEG, (b,))  # 0 + x, 0 - x
            if self.op[b] is _NEG:  # x + -y = x - y; x - -y = x + y
                return self.node(_SUB if op is _ADD else _ADD, (a, self.args[b][0]))
            if op is _ADD and self.op[a] is _NEG:  # -x + y = y - x
                return self.node(_SUB, (b, self.args[a][0]))
            if op is _ADD and a == b:  # x + x = 2*x, exactly
                return self.node(_MUL, (self.constant(2.0), a))
        elif op is _MUL:
            a, b = args
            va, vb = values
            if va == 0.0 or vb == 0.0:
                return self.constant(0.0)  # x*0 (the factors are finite where eval succeeds)
            if _WHERE is not None:
                for w, other, first in ((a, b, True), (b, a, False)):
                    if self.op[w] is _WHERE:
                        c, x, y = self.args[w]
                        if lit(y) == 0.0:
                            g = self.node(_MUL, (x, other) if first else (other, x))
                            return self.node(_WHERE, (c, g, y))
                        if lit(x) == 0.0:
                            g = self.node(_MUL, (y, other) if first else (other, y))
                            return self.node(_WHERE, (c, x, g))
            if vb == 1.0:
                return a
            if va == 1.0:
                return b
            if vb == -1.0:
                return self.node(_NEG, (a,))
            if va == -1.0:
                return self.node(_NEG, (b,))
            if self.op[a] is _NEG:  # (-x)*y = -(x*y): signs gather where a sum can absorb them
                return self.node(_NEG, (self.node(_MUL, (self.args[a][0], b)),))
            if self.op[b] is _NEG:
                return self.node(_NEG, (self.node(_MUL, (a, self.args[b][0])),))
            if self.op[b] is _DIV and lit(self.args[b][0]) == 1.0:  # x*(1/y) = x/y
                return self.node(_DIV, (a, self.args[b][1]))
            if self.op[a] is _DIV and lit(self.args[a][0]) == 1.0:  # (1/x)*y = y/x
                return self.node(_DIV, (b, self.args[a][1]))
            if va is not None and self.op[b] is _MUL:
                # c1*(c2*x) = (c1*c2)*x, when that is exact: one of them a power of two
                c2 = lit(self.args[b][0])
                if c2 is not None and (_power_of_two(va) or _power_of_two(c2)):
                    product = va * c2
                    if math.isfinite(product) and (product == 0.0) == (va == 0.0 or c2 == 0.0):
                        return self.node(_MUL, (self.constant(product), self.args[b][1]))
        elif op is _DIV:
            a, b = args
            va, vb = values
            if vb == 1.0:
                return a
            if va == 0.0:
                return self.constant(0.0)
            if self.op[a] is _NEG:  # (-x)/y = -(x/y)
                return self.node(_NEG, (self.node(_DIV, (self.args[a][0], b)),))
        elif op is _WHERE and op is not None:
            c, x, y = args
            if x == y:
                return x
            vc = values[0]
            if vc is not None:
                return x if vc != 0.0 else y
        elif op is _POW:
            a, b = args
            vb = values[1]
            if vb == 1.0:
                return a
            if vb == 0.0:
                return self.constant(1.0)  # x^0 = 1, at x = 0 too (as eval)
        return self._new((op.index, *args), op, args, None, None)


# ---------------------------------------------------------------- local factors

_TEMPLATES: dict[tuple[int, int, int], Any] = {}


def local_factor_template(op: Op, k: int, n: int = 0) -> Graph:
    """The row's local derivative with respect to argument k, `Partial.expr`
    parsed once: a graph over the row's parameter names. Raises
    NotExpressible when the expression is not written in the language.

    A row of any number of arguments (`op.variadic`, n of them here) writes
    the factor of argument k once for all k (`each_formula`, over {k}, {n} and
    {args}); the template is that formula with {k} the parameter `xk` and
    name({args}) the node's own value, the parameter `out`: hypot's
    ``{k}/hypot({args})`` is ``xk/out``."""
    variadic = getattr(op, "variadic", False)
    key = (op.index, -1 if variadic else k, n if variadic else 0)
    t = _TEMPLATES.get(key)
    if t is None:
        from .errors import AutodiffError
        from .parser import parse

        if variadic:
            expr = getattr(op, "each_formula", "?")
            expr = expr.replace(f"{op.name}({{args}})", "out").replace("{k}", "xk")
            expr = expr.replace("{n}", str(n))
            params: tuple[str, ...] = ("xk", "out")
        else:
            expr = op.partials[k].expr
            params = op.params
        try:
            t = parse(expr).select(None)
            unknown = set(t.variables) - set(params)
            if unknown:
                raise ProgramError(f"unknown names {name_list(sorted(unknown))}")
        except AutodiffError:
            t = expr  # remembered as the reason
        _TEMPLATES[key] = t
    if isinstance(t, str):
        what = op.symbol or op.name
        wrt = f"x{k + 1}" if variadic else op.params[k]
        raise NotExpressible(f"the derivative of {what} cannot be written in autodiff's language "
                             f"yet (its rule is {t}, with respect to {wrt})")
    return t


def _instantiate(dag: Dag, t: Graph, args: tuple[int, ...], params: tuple[str, ...]) -> int:
    """The template `t` with the row's parameters replaced by `args`."""
    bound = dict(zip(params, args, strict=False))
    names = t.labels
    node = [-1] * len(t.op)
    for i in range(t.output + 1):
        op = t.op[i]
        if op is None:
            value = t.const[i]
            if value is None:
                name = next(v for v, j in t.variables.items() if j == i)
                node[i] = bound[name]
            elif i in names and names[i] in CONSTANTS:
                node[i] = dag.constant(value, names[i])
            else:
                node[i] = dag.constant(value)
        else:
            node[i] = dag.node(op, tuple(node[j] for j in t.args(i)))
    return node[t.output]


def _polynomial(dag: Dag, i: int) -> bool:
    """A variable, a power of one, or a product of constants and those: the
    factors written first in a product (2*x*sin(x), x^2*cos(x))."""
    op = dag.op[i]
    if op is None:
        return True
    if op is _POW:
        return dag.op[dag.args[i][0]] is None and dag.literal(dag.args[i][1]) is not None
    if op is _MUL:
        a, b = dag.args[i]
        return (dag.op[a] is None or (dag.op[a] is _POW and _polynomial(dag, a))) and \
            (dag.op[b] is None or (dag.op[b] is _POW and _polynomial(dag, b)))
    return False


def _times(dag: Dag, adjoint: int, factor: int) -> int:
    """adjoint * local factor, constants and polynomial factors first."""
    if dag.literal(adjoint) is not None:
        return dag.node(_MUL, (adjoint, factor))
    if dag.op[factor] is None or (_polynomial(dag, factor) and not _polynomial(dag, adjoint)):
        return dag.node(_MUL, (factor, adjoint))
    return dag.node(_MUL, (adjoint, factor))


# ---------------------------------------------------------------- the sweep


class Derivative:
    """The gradient of a program's output as a DAG (`dag`): `value` is the
    output's node, `partials[x]` the node of ∂output/∂x for each variable of
    `wrt`. `forward_end`: nodes below it are the forward sweep's. `names[i]`
    proposes a name for node i (the program's name of a forward node, `dJ_du`
    for the adjoint of u); `graph` is the program differentiated."""

    def __init__(self, graph: Graph, dag: Dag, value: int, partials: dict[str, int],
                 names: dict[int, str], forward_end: int, labelled: set[int]) -> None:
        #: forward nodes the program named (other than a one-statement output)
        self.labelled = labelled
        #: nodes whose proposed name is their name in the program (not made up)
        self.own: set[int] = set()
        self.graph = graph
        self.dag = dag
        self.value = value
        self.partials = partials
        self.names = names
        self.forward_end = forward_end

    @property
    def output(self) -> str:
        return self.graph.output_name

    @property
    def wrt(self) -> list[str]:
        return list(self.partials)

    def statement_names(self) -> dict[str, str]:
        """variable -> the name of its derivative's statement: dJ_dx."""
        taken = set(self.graph.names()) | set(self.graph.assigned) | set(self.graph.variables)
        out: dict[str, str] = {}
        for v in self.partials:
            name = _identifier(f"d{self.output}_d{v}")
            while name in taken:
                name += "_"
            taken.add(name)
            out[v] = name
        return out

    def layout(self, name_all: bool = False) -> tuple[list[int], dict[int, str]]:
        """The operation nodes to write as statements, in order, and every
        named node's name: nodes used more than once (or, with `name_all`,
        every operation node the value or a partial needs), named after the
        program where it can."""
        dag = self.dag
        roots = list(self.partials.values()) + ([self.value] if name_all else [])
        uses = [0] * len(dag)
        seen = bytearray(len(dag))
        stack = list(roots)
        for r in roots:
            uses[r] += 1
        while stack:
            i = stack.pop()
            if seen[i]:
                continue
            seen[i] = 1
            for j in dag.args[i]:
                uses[j] += 1
                if not seen[j]:
                    stack.append(j)
        if not name_all:
            # the program's own names are worth keeping where they are used at all
            keep = self.labelled
            for i in range(len(dag)):
                if uses[i] == 1 and i in keep:
                    uses[i] = 2
        return self._name(seen, uses, 2 if not name_all else 1)

    def _name(self, seen: bytearray, uses: list[int], threshold: int) -> tuple[list[int], dict[int, str]]:
        dag = self.dag
        taken = set(self.graph.names()) | set(self.graph.assigned) | set(self.graph.variables)
        taken |= set(self.statement_names().values())
        names: dict[int, str] = {}
        for i in range(len(dag)):
            if seen[i] and dag.op[i] is None:
                names[i] = leaf_text(dag, i)
        order = [i for i in range(len(dag)) if seen[i] and dag.op[i] is not None and uses[i] >= threshold]
        k = 0
        used: set[str] = set()
        for i in order:
            name = self.names.get(i)
            if name is not None and i not in self.own:  # dJ_du, c_2 (for c#2): made up, so
                while name in taken or name in used:    # kept clear of the program's names
                    name += "_"
            if name is None or name in used:
                k += 1
                while f"t{k}" in taken or f"t{k}" in used:
                    k += 1
                name = f"t{k}"
            used.add(name)
            names[i] = name
        return order, names


def _identifier(text: str) -> str:
    if text.isascii() and text.isidentifier():
        return text
    return "".join(c if c.isalnum() or c == "_" else "_" for c in text)


def leaf_text(dag: Dag, i: int) -> str:
    """A variable's name, pi or e, or a number as the language writes it."""
    var = dag.var[i]
    if var is not None:
        return var
    value = dag.const[i]
    assert value is not None
    return dag.cname.get(i) or format_number(value)


def derivative(graph: Graph, wrt: Optional[list[str]] = None) -> Derivative:
    """The derivatives of `graph`'s output (a selected graph, as
    `Graph.select` returns) with respect to `wrt` (default: every variable
    the output depends on, in order of first use), as a simplified DAG."""
    variables = graph.output_variables()
    if wrt is None:
        wrt = list(variables)
    for v in wrt:
        if v not in graph.variables:
            known = name_list(list(variables)) or "none"
            if v in graph.assigned:
                raise UsageProblem(f"--wrt {escape_text(v, 60)}: {escape_text(v, 60)} is assigned by "
                                   f"the program, not a variable (its variables: {known})")
            raise UsageProblem(f"--wrt {escape_text(v, 60)}: the program has no variable "
                               f"{escape_text(v, 60)} (its variables: {known})")
    dag = Dag()
    labels = graph.labels
    gnames = graph.names()
    out = graph.output
    node = [-1] * len(graph.op)
    proposed: dict[int, str] = {}
    labelled: set[int] = set()
    own: set[int] = set()  # nodes proposed under their own program name
    alias = _alias()
    for name, i in graph.variables.items():
        node[i] = dag.variable(name)
    for i in range(out + 1):
        op = graph.op[i]
        if op is None:
            value = graph.const[i]
            if value is not None:
                label = labels.get(i)
                node[i] = dag.constant(value, label if label in CONSTANTS else None)
            continue
        if op is alias:
            node[i] = node[graph.args(i)[0]]
        else:
            node[i] = dag.node(op, tuple(node[j] for j in graph.args(i)))
        if dag.op[node[i]] is not None and node[i] not in proposed:
            proposed[node[i]] = _identifier(gnames[i])
            if proposed[node[i]] == gnames[i]:
                own.add(node[i])
            if i in labels and graph.statements > 1:
                labelled.add(node[i])
    forward_end = len(dag)
    # The reverse sweep: contributions to each adjoint, summed when the sweep
    # reaches the node (in the order of the program, which reads best).
    active = graph.active
    contributions: dict[int, list[int]] = {}
    adjoint: dict[int, int] = {}
    zero = dag.constant(0.0)
    dname = _identifier(f"d{graph.output_name}_d")
    for i in range(out, -1, -1):
        op = graph.op[i]
        if i == out:
            a = dag.constant(1.0)
        else:
            terms = contributions.pop(i, None)
            if terms is None:
                continue
            a = terms[-1]
            for t in reversed(terms[:-1]):
                a = dag.node(_ADD, (a, t))
        adjoint[i] = a
        if op is None or not active[i] or a == zero:
            continue
        if dag.op[a] is not None and a not in proposed and i != out:
            proposed[a] = dname + _identifier(gnames[i])
        args = graph.args(i)
        argnodes = tuple(node[j] for j in args)
        variadic = getattr(op, "variadic", False)
        for k, j in enumerate(args):
            if not active[j]:
                continue
            if op is alias:
                factor = dag.constant(1.0)
            elif variadic:
                each = local_factor_template(op, k, len(args))
                factor = _instantiate(dag, each, (argnodes[k], node[i]), ("xk", "out"))
            else:
                factor = _instantiate(dag, local_factor_template(op, k), argnodes, op.params)
            contributions.setdefault(j, []).append(_times(dag, a, factor))
    partials = {v: adjoint.get(graph.variables[v], zero) for v in wrt}
    d = Derivative(graph, dag, node[out], partials, proposed, forward_end, labelled)
    d.own = own
    return d


# ---------------------------------------------------------------- writing it


#: how tightly each operator binds (as graph.program_text)
_PREC = {"add": 1, "sub": 1, "mul": 2, "div": 2, "mod": 2, "neg": 3, "pow": 4}
_ATOM = 5
_TIGHT = {"mul": "*", "div": "/", "pow": "^"}


def write(dag: Dag, root: int, names: dict[int, str]) -> str:
    """Node `root` as an expression of the language, named nodes by name
    (`root` itself is written out). Iterative: an explicit stack."""
    out: list[str] = []
    stack: list[Any] = [root]

    def prec(j: int) -> int:
        if j in names and (j != root):
            value = dag.literal(j)
            return 3 if value is not None and (value < 0 or names[j].startswith("-")) else _ATOM
        op = dag.op[j]
        if op is None:
            return _ATOM
        return _PREC.get(op.name, 0) if op.symbol else _ATOM

    def wrap(j: int, need: int) -> list[Any]:
        return [j] if prec(j) >= need else ["(", j, ")"]

    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
            continue
        i = item
        if i != root and i in names:
            out.append(names[i])
            continue
        op = dag.op[i]
        if op is None:
            out.append(names.get(i) or leaf_text(dag, i))
            continue
        args = dag.args[i]
        if not op.symbol:
            parts: list[Any] = [f"{op.name}("]
            for k, j in enumerate(args):
                if k:
                    parts.append(", ")
                parts.append(j)
            parts.append(")")
        elif len(args) == 1:
            parts = ["-", *wrap(args[0], 3)]
        else:
            a, b = args
            p = _PREC.get(op.name, 0)  # (0: a comparison, which does not chain)
            sym = _TIGHT.get(op.name)
            sym = sym if sym is not None else f" {op.symbol} "
            if op.name == "pow":
                parts = [*wrap(a, _ATOM), sym, *wrap(b, 3)]
            else:
                parts = [*wrap(a, p + (p == 0)), sym, *wrap(b, p + 1)]
        stack.extend(reversed(parts))
    return "".join(out)


class Written:
    """A derivative written out: `intermediates` (name, expression) in order,
    `formulas` variable -> expression, `statements` variable -> dJ_dx."""

    def __init__(self, d: Derivative) -> None:
        order, names = d.layout()
        self.derivative = d
        self.names = names
        self.intermediates = [(names[i], write(d.dag, i, names)) for i in order]
        self.formulas = {v: (names[r] if r in names else write(d.dag, r, names))
                         for v, r in d.partials.items()}
        self.statements = d.statement_names()

    def program(self) -> str:
        """A program of the language: the intermediates, then one statement
        `dJ_dx = ...` per variable. It parses back; `--of dJ_dx` selects one."""
        lines = [f"{n} = {e}" for n, e in self.intermediates]
        lines += [f"{self.statements[v]} = {f}" for v, f in self.formulas.items()]
        return "\n".join(lines) + "\n"

    def text(self) -> str:
        """For people: `d/dx (x^2*sin(x)) = ...`, or `dJ/dx = ...` for a
        program of several statements, then the intermediates after `where:`."""
        d = self.derivative
        g = d.graph
        if g.statements <= 1 and g.output_name == "f" and len(g.text) <= 200:
            # (the expression as written: a tree no larger than the program's text)
            head = "(" + write(d.dag, d.value, {}) + ")"
            lhs = {v: f"d/d{v} {head}" for v in self.formulas}
        else:
            lhs = {v: f"d{g.output_name}/d{v}" for v in self.formulas}
        lines = [f"{lhs[v]} = {f}" for v, f in self.formulas.items()]
        if self.intermediates:
            lines.append("where:")
            lines += [f"  {n} = {e}" for n, e in self.intermediates]
        return "\n".join(lines) + "\n"

    def latex(self) -> str:
        """An align* environment (amsmath): intermediates, then each partial."""
        from .explain import tex_formula, tex_name

        d = self.derivative
        rows = [f"{tex_name(n)} &= {tex_formula(e)}" for n, e in self.intermediates]
        rows += [rf"\frac{{\partial {tex_name(d.output)}}}{{\partial {tex_name(v)}}} &= {tex_formula(f)}"
                 for v, f in self.formulas.items()]
        return "\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}\n"

    def json(self) -> dict[str, Any]:
        d = self.derivative
        return {"schema": 1, "output": d.output, "wrt": d.wrt,
                "derivatives": dict(self.formulas),
                "names": dict(self.statements),
                "intermediates": [{"name": n, "expression": e} for n, e in self.intermediates],
                "program": self.program()}


def differentiate_symbolically(program: str, *, wrt: Optional[list[str]] = None,
                               output: Optional[str] = None, source: str = "",
                               max_chars: Optional[int] = None) -> Written:
    """Parse `program` and write the derivatives of its output (the last
    statement, or `output`) with respect to `wrt` (default: all its variables)."""
    from .parser import parse

    graph = parse(program, source=source, max_chars=max_chars).select(output)
    return Written(derivative(graph, wrt))
