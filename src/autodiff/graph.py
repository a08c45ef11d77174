"""The computation graph: an ordered, single-assignment list of nodes.

Node ``i`` is a variable (an input), a constant, or an operation whose
arguments are earlier nodes (so the list is in topological order). The lists
are parallel arrays rather than objects per node, which keeps a 1e6-node graph
small and the evaluation loops tight:

    op[i]    the Op row for an operation node, None for a leaf (an input or a constant)
    arg0[i]  its first argument's index (-1 for a leaf)
    arg1[i]  its second argument's index (-1 for a leaf or a unary operation)
    const[i] a constant's value; None for an input variable or an operation
    active   active[i] is 1 when node i depends on a variable (only such
             nodes have adjoints, and only edges from them local factors)

The `Builder` makes a graph while the program is parsed: identical
subexpressions become one node (common-subexpression elimination), a variable
used twice is one node, and names assigned by statements label their nodes.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Optional

from .errors import ProgramError, SyntaxProblem, escape_text, name_list
from .numfmt import format_number
from .ops import CONSTANTS, FUNCTIONS, OPERATORS, Op, function_arities

__all__ = ["Graph", "Builder"]



class Graph:
    """A program lowered to a DAG. See the module docstring for the layout."""

    def __init__(self, *, op: Optional[list[Optional[Op]]] = None, arg0: Optional[list[int]] = None,
                 arg1: Optional[list[int]] = None, const: Optional[list[Optional[float]]] = None,
                 active: Optional[bytearray] = None, labels: Optional[dict[int, str]] = None,
                 variables: Optional[dict[str, int]] = None, assigned: Optional[dict[str, int]] = None,
                 output: int = -1, output_name: str = "", text: str = "", statements: int = 0) -> None:
        self.op: list[Optional[Op]] = [] if op is None else op
        self.arg0: list[int] = [] if arg0 is None else arg0
        self.arg1: list[int] = [] if arg1 is None else arg1
        self.const: list[Optional[float]] = [] if const is None else const
        self.active: bytearray = bytearray() if active is None else active
        #: node index -> the name the program gave it (constants, assigned
        #: statements); variables are named by `variables`, other operation
        #: nodes get generated names
        self.labels: dict[int, str] = {} if labels is None else labels
        #: variable name -> node index, in order of first use
        self.variables: dict[str, int] = {} if variables is None else variables
        #: assigned name -> node index, in statement order (several names may
        #: share a node: `w = u`, or two statements with the same expression)
        self.assigned: dict[str, int] = {} if assigned is None else assigned
        #: the output node and its name
        self.output = output
        self.output_name = output_name
        #: the program text it came from (for messages); "" if built by hand
        self.text = text
        #: how many statements the program has
        self.statements = statements
        self._names: Optional[list[str]] = None
        self._output_variables: Optional[list[str]] = None

    def __repr__(self) -> str:
        return f"<Graph of {self.output_name or '?'}: {len(self.op)} nodes>"

    def __len__(self) -> int:
        return len(self.op)

    def _repr_html_(self) -> str:  # Jupyter: the structure page (notebook.py)
        from .notebook import graph_html

        return graph_html(self.select(None) if self.output >= 0 else self)

    # -- names ------------------------------------------------------------

    def names(self) -> list[str]:
        """Every node's name: the program's, else t1, t2, ... in order,
        skipping names the program uses. Computed once, on demand."""
        if self._names is None:
            taken = set(self.labels.values()) | set(self.assigned) | set(self.variables)
            names: list[str] = []
            k = 0
            labelled = dict(self.labels)
            labelled.update((i, name) for name, i in self.variables.items())
            const = self.const
            for i in range(len(self.op)):
                name = labelled.get(i)
                value = const[i]
                if name is None and value is not None:
                    name = format_number(value)  # a literal constant is named by its value
                if name is None:
                    k += 1
                    while f"t{k}" in taken:
                        k += 1
                    name = f"t{k}"
                names.append(name)
            self._names = names
        return self._names

    def kind(self, i: int) -> str:
        """What node i is: "input" (a variable), "constant" or "operation"."""
        if self.op[i] is not None:
            return "operation"
        return "input" if self.const[i] is None else "constant"

    def is_literal(self, i: int) -> bool:
        """A numeric constant written in the program (3, -2.5), named by its
        value; pi and e are constants with names of their own."""
        return self.op[i] is None and self.const[i] is not None and i not in self.labels

    def args(self, i: int) -> tuple[int, ...]:
        a, b = self.arg0[i], self.arg1[i]
        return () if a < 0 else ((a,) if b < 0 else (a, b))

    def expression(self, i: int, names: Optional[list[str]] = None) -> str:
        """How node i reads in terms of its inputs: ``b * c``, ``log(t1)``."""
        names = names if names is not None else self.names()
        op = self.op[i]
        if op is None:
            return self.kind(i)
        parts = [names[j] for j in self.args(i)]
        return write_op(op, parts)

    # -- selecting the output ---------------------------------------------

    def select(self, name: Optional[str] = None) -> Graph:
        """The graph of one output: only nodes it depends on (variables of the
        program are kept, as leaves). `name` is an assigned name, or None for
        the last statement."""
        if name is None:
            if self.output < 0:
                raise ProgramError("the program has no statements")
            # One statement: every node is part of it. Otherwise drop statements
            # the output does not use (they are not evaluated).
            return self if self.statements <= 1 else self.prune(self.output)
        if name not in self.assigned:
            name = escape_text(name, 60)
            if name in self.variables:
                raise ProgramError(f"--of {name}: {name} is an input variable, not an assigned name")
            import difflib

            close = difflib.get_close_matches(name, list(self.assigned), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            known = name_list(list(self.assigned)) or "none"
            raise ProgramError(f"--of {name}: no statement assigns {name}{hint}; assigned names: {known}")
        g = self.prune(self.assigned[name])
        g.output_name = name
        return g

    def reachable(self, out: Optional[int] = None) -> bytearray:
        """1 for every node that node `out` (the output by default) depends on,
        itself included: one sweep from it back to the inputs."""
        out = self.output if out is None else out
        reach = bytearray(len(self.op))
        reach[out] = 1
        arg0, arg1 = self.arg0, self.arg1
        for i in range(out, -1, -1):
            if reach[i]:
                a = arg0[i]
                if a >= 0:
                    reach[a] = 1
                    b = arg1[i]
                    if b >= 0:
                        reach[b] = 1
        return reach

    def prune(self, out: int) -> Graph:
        n = len(self.op)
        arg0, arg1 = self.arg0, self.arg1
        need = self.reachable(out)
        for i in self.variables.values():
            need[i] = 1
        if need.count(1) == n and out == n - 1:
            g = Graph(**{k: getattr(self, k) for k in _FIELDS})
            g.output = out
            return g
        new = [-1] * n
        g = Graph(variables={}, assigned={}, text=self.text, statements=self.statements)
        for i in range(n):
            if need[i]:
                new[i] = len(g.op)
                a, b = arg0[i], arg1[i]
                g.op.append(self.op[i])
                g.arg0.append(new[a] if a >= 0 else -1)
                g.arg1.append(new[b] if b >= 0 else -1)
                g.const.append(self.const[i])
                g.active.append(self.active[i])
                if i in self.labels:
                    g.labels[new[i]] = self.labels[i]
        g.variables = {v: new[i] for v, i in self.variables.items()}
        g.assigned = {v: new[i] for v, i in self.assigned.items() if new[i] >= 0}
        g.output = new[out]
        g.output_name = self.output_name
        return g

    def output_variables(self) -> list[str]:
        """The variables the output depends on, in order of first use."""
        if self._output_variables is None:
            if self.statements <= 1:  # one expression: every variable in it is used
                self._output_variables = list(self.variables)
            else:
                reach = self.reachable()
                self._output_variables = [v for v, i in self.variables.items() if reach[i]]
        return self._output_variables


_FIELDS = ("op", "arg0", "arg1", "const", "active", "labels", "variables", "assigned", "output",
           "output_name", "text", "statements")


def write_op(op: Op, parts: list[str]) -> str:
    """Write an operation applied to argument texts: ``b * c``, ``-x``, ``exp(t1)``."""
    if op.symbol:
        parts = [f"({p})" if p.startswith("-") else p for p in parts]  # (-8) ^ t1
        if len(parts) == 2:
            return f"{parts[0]} {op.symbol} {parts[1]}"
        return f"{op.symbol}{parts[0]}"
    return f"{op.name}({', '.join(parts)})"


class gc_paused:
    """Pause Python's cyclic garbage collector for a block (restoring its state
    after). Building and sweeping a large graph allocates millions of objects
    that never form cycles; with the collector running, its repeated passes
    over the growing heap made a 1e6-operation parse about 1.5x slower per
    operation than a 1e4 one. Reference counting still frees everything."""

    def __enter__(self) -> None:
        import gc

        self.was_enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc: object) -> None:
        if self.was_enabled:
            import gc

            gc.enable()


def _text(tok: Any) -> str:
    """A token's text (the parser's match objects also hold the whitespace after it)."""
    return tok.group(tok.lastindex)


#: other names of the same function (a suggestion); and functions that are
#: different maths from the name one edit away (no suggestion: sign is not sin)
_SAME_AS = {"ln": "log", "arcsin": "asin", "arccos": "acos", "arctan": "atan", "arctan2": "atan2",
            "arcsinh": "asinh", "arccosh": "acosh", "arctanh": "atanh", "logistic": "sigmoid",
            "power": "pow", "fabs": "abs", "sine": "sin", "cosine": "cos", "sgn": "sign",
            "signum": "sign", "ceiling": "ceil"}
_DIFFERENT = {"square", "gamma", "tgamma", "asec", "acsc", "acot", "exp10", "mod", "fmod",
              "log3", "sinh2", "erfinv"}


def suggest_function(name: str, known: list[str]) -> Optional[str]:
    """A function the user probably meant: another name of the same function
    (ln: log), the same name in other letter case, or a name one typing slip
    away (a letter added, dropped, changed or two swapped); never a different
    function that happens to look alike (square: not sqrt)."""
    lower = name.lower()
    if lower in _SAME_AS and _SAME_AS[lower] in known:
        return _SAME_AS[lower]
    if lower in known:
        return lower
    if lower in _DIFFERENT or len(name) < 2:
        return None
    for k in known:
        if len(k) == len(lower):
            diff = [i for i in range(len(k)) if k[i] != lower[i]]
            if len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and k[diff[0]] == lower[diff[1]] and k[diff[1]] == lower[diff[0]]):
                return k
        elif abs(len(k) - len(lower)) == 1 and len(lower) >= 3:
            short, long = sorted((k, lower), key=len)
            if any(long[:i] + long[i + 1:] == short for i in range(len(long))):
                return k
    return None


class Builder:
    """Builds a Graph from parser callbacks (one per grammar alias).

    Operators get a specialised reducer each (`operation`), since they are most
    of the work on large inputs; names, numbers, calls and statements are methods.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.g = Graph(text=text)
        self.cse: dict[int, int] = {}  # operation key -> node
        self.consts: dict[float, int] = {}  # constant value -> node
        self.variables = self.g.variables
        self.assign_pos: dict[str, int] = {}
        self.statements: list[Optional[str]] = []  # assigned name, or None for a bare expression
        self.bare_pos = -1
        self.bare_node = -1
        self.at = 0  # position of the last statement separator, kept current by the parser

    # -- leaves

    def _leaf(self, value: Optional[float]) -> int:
        g = self.g
        i = len(g.op)
        g.op.append(None)
        g.arg0.append(-1)
        g.arg1.append(-1)
        g.const.append(value)
        g.active.append(value is None)
        return i

    def _const(self, value: float, name: Optional[str] = None) -> int:
        """The node of a constant (one per value); `name` for pi and e, else the
        constant is named by its value."""
        i = self.consts.get(value)
        if i is None:
            i = self.consts[value] = self._leaf(value)
            if name is not None:
                self.g.labels[i] = name
        return i

    def number(self, tok: Any) -> int:
        text = _text(tok)
        value = float(text)
        if value == math.inf:
            raise SyntaxProblem(f"the number {escape_text(text, 40)} is too large for a double "
                                "(max about 1.8e308)",
                                self.text, tok.start(), kind="number")
        return self._const(value)

    def name(self, tok: Any) -> int:
        name = tok.group(tok.lastindex)  # (_text, inlined: names are most of the tokens)
        i = self.variables.get(name)
        if i is not None:
            return i
        i = self.g.assigned.get(name)
        if i is not None:
            return i
        if name in CONSTANTS:
            return self._const(CONSTANTS[name], name)
        g = self.g
        i = self.variables[name] = len(g.op)
        g.op.append(None)
        g.arg0.append(-1)
        g.arg1.append(-1)
        g.const.append(None)
        g.active.append(1)
        return i

    # -- operations

    def operation(self, op: Op, kept: tuple[int, ...]) -> Callable[[list[Any]], int]:
        """A reducer for an operator rule: children -> the (shared) node."""
        g = self.g
        cse, ops, arg0, arg1, const, act = self.cse, g.op, g.arg0, g.arg1, g.const, g.active
        if op is _NEG:
            (k,) = kept
            return lambda c: self.neg(c[k])
        ka, kb = kept
        index = op.index

        def binary(c: list[Any]) -> int:
            a = c[ka]
            b = c[kb]
            key = (((b << 32) | a) << 8) | index  # one int: smaller and faster to hash than a tuple
            i = cse.get(key)
            if i is None:
                i = cse[key] = len(ops)
                ops.append(op)
                arg0.append(a)
                arg1.append(b)
                const.append(None)
                act.append(act[a] | act[b])
            return i

        return binary

    def _node(self, op: Op, a: int, b: int = -1) -> int:
        key = ((((b + 1) << 32) | a) << 8) | op.index if b < 0 else (((b << 32) | a) << 8) | op.index
        i = self.cse.get(key)
        if i is None:
            g = self.g
            i = self.cse[key] = len(g.op)
            g.op.append(op)
            g.arg0.append(a)
            g.arg1.append(b)
            g.const.append(None)
            act = g.active
            act.append(act[a] | act[b] if b >= 0 else act[a])
        return i

    def neg(self, a: int) -> int:
        g = self.g
        value = g.const[a]
        if value is not None and value > 0.0 and a not in g.labels:
            return self._const(-value)  # -3 is the constant -3 (but -pi is an operation on pi)
        return self._node(_NEG, a)

    def pos(self, a: int) -> int:
        return a

    def arguments(self, *args: int) -> list[int]:
        return list(args)

    def call(self, tok: Any, args: list[int]) -> int:
        fname = _text(tok)
        op = FUNCTIONS.get((fname, len(args)))
        shown = escape_text(fname, 40)
        if op is None:
            arities = function_arities()
            if fname in arities:
                counts = " or ".join(str(n) for n in arities[fname])
                noun = "argument" if arities[fname] == [1] else "arguments"
                raise SyntaxProblem(f"{shown} takes {counts} {noun}, got {len(args)}",
                                    self.text, tok.start(), kind="arity")
            close = suggest_function(fname, list(arities))
            hint = f"; did you mean {close}?" if close else " (autodiff functions lists them)"
            raise SyntaxProblem(f"unknown function {shown}{hint}", self.text, tok.start(),
                                kind="unknown_function")
        return self._node(op, *args)

    # -- statements

    def assign(self, tok: Any, node: int) -> None:
        self._after_bare()
        name = _text(tok)
        g = self.g
        shown = escape_text(name, 60)
        if name in CONSTANTS:
            raise SyntaxProblem(f"{name} is a constant and cannot be assigned", self.text,
                                tok.start(), kind="name")
        if name in g.assigned:
            first = locate_line(self.text, self.assign_pos[name])
            raise SyntaxProblem(f"{shown} is assigned twice (first on line {first})", self.text,
                                tok.start(), kind="name")
        if name in g.variables:
            line = locate_line(self.text, tok.start())
            raise SyntaxProblem(f"{shown} is used before it is assigned (on line {line})",
                                self.text, _first_use(self.text, name), kind="name")
        g.assigned[name] = node
        self.assign_pos[name] = tok.start()
        if g.op[node] is not None and node not in g.labels:
            g.labels[node] = name
        self.statements.append(name)

    def bare(self, node: int) -> None:
        self._after_bare()
        self.bare_node = node
        self.bare_pos = self.at
        self.statements.append(None)

    def _after_bare(self) -> None:
        if self.statements and self.statements[-1] is None:
            raise SyntaxProblem("only the last statement may be a bare expression; "
                                "name this one (for example `t = ...`)", self.text,
                                self.bare_pos, kind="statement")

    def start(self, *_: Any) -> None:
        return None

    def finish(self) -> Graph:
        g = self.g
        if not self.statements:
            raise ProgramError("the program has no statements")
        last = self.statements[-1]
        if last is None:
            node = self.bare_node
            if "f" in g.assigned or "f" in g.variables:
                raise SyntaxProblem("the final bare expression would be named f, but the program "
                                    "already uses f; give it a name (`J = ...`)", self.text,
                                    self.bare_pos, kind="name")
            g.assigned["f"] = node
            if g.op[node] is not None and node not in g.labels:
                g.labels[node] = "f"
            last = "f"
        g.output = g.assigned[last]
        g.output_name = last
        g.statements = len(self.statements)
        self.cse = {}
        self.consts = {}
        return g


def _first_use(text: str, name: str) -> int:
    """Where `name` first appears as a whole word in `text` (for messages only)."""
    import re

    m = re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", text)
    return m.start() if m else 0


def locate_line(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


_NEG = OPERATORS["neg"]


# ---------------------------------------------------------------- printing

#: how tightly each operator binds (atoms bind tightest)
_PREC = {"add": 1, "sub": 1, "mul": 2, "div": 2, "mod": 2, "neg": 3, "pow": 4}
_ATOM = 5


def _prec(g: Graph, i: int) -> int:
    op = g.op[i]
    if op is None:
        value = g.const[i]
        return 3 if value is not None and value < 0 else _ATOM  # -3 reads as a unary minus
    return _PREC.get(op.name, _ATOM) if op.symbol else _ATOM


def program_text(g: Graph) -> str:
    """The graph written back as a program: one statement per assigned name, in
    order, with every other node written inline where it is used. Parsing the
    text gives the same graph. Iterative (an explicit stack), so a graph
    100,000 deep prints like a shallow one."""
    names_done: dict[int, str] = {}  # nodes whose statement has been printed
    out: list[str] = []
    for name, node in g.assigned.items():
        out.append(f"{name} = ")
        if node in names_done:
            out.append(names_done[node])
        else:
            _write_expr(g, node, names_done, out)
        out.append("\n")
        if g.op[node] is not None:
            names_done.setdefault(node, name)
    return "".join(out)


def _write_expr(g: Graph, root: int, done: dict[int, str], out: list[str]) -> None:
    # Work items: a node index to write, or a literal string to emit.
    names = g.names()
    stack: list[Any] = [root]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
            continue
        i = item
        if i != root and i in done:
            out.append(done[i])
            continue
        op = g.op[i]
        if op is None:
            out.append(names[i])
            continue
        args = g.args(i)
        if not op.symbol:  # a function call
            parts: list[Any] = [f"{op.name}("]
            for k, j in enumerate(args):
                if k:
                    parts.append(", ")
                parts.append(j)
            parts.append(")")
        elif len(args) == 1:  # unary minus: its operand binds at least as tightly
            parts = ["-", *_wrap(g, args[0], 3, done)]
        else:
            p = _PREC[op.name]
            a, b = args
            if op.name == "pow":  # right-associative; the base must be an atom
                left, right = _wrap(g, a, _ATOM, done), _wrap(g, b, 3, done)
            else:  # left-associative
                left, right = _wrap(g, a, p, done), _wrap(g, b, p + 1, done)
            parts = [*left, f" {op.symbol} ", *right]
        stack.extend(reversed(parts))


def _wrap(g: Graph, j: int, need: int, done: dict[int, str]) -> list[Any]:
    prec = _ATOM if j in done else _prec(g, j)
    return [j] if prec >= need else ["(", j, ")"]
