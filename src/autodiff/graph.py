"""The computation graph: an ordered, single-assignment list of nodes.

Node ``i`` is a variable (an input), a constant, or an operation whose
arguments are earlier nodes (so the list is in topological order). The lists
are parallel arrays rather than objects per node, which keeps a 1e6-node graph
small and the evaluation loops tight:

    op[i]    the Op row for an operation node, None for a leaf (an input or a constant)
    arg0[i]  its first argument's index (-1 for a leaf)
    arg1[i]  its second argument's index (-1 for a leaf or a unary operation;
             NARY = -2 for a node of three or more arguments, or of a
             variadic row, whose arguments are more[i])
    more     node -> its argument tuple, for those nodes only (sum(x1, ..., xn)
             is one node with n edges); `Graph.args(i)` reads every node's
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
from .ops import ALIAS, CONSTANTS, FUNCTIONS, OPERATORS, VARIADIC, WHERE, Op, function_arities

__all__ = ["Graph", "Builder", "NARY"]

#: arg1 of a node whose arguments are in Graph.more
NARY = -2



class Graph:
    """A program lowered to a DAG. See the module docstring for the layout."""

    def __init__(self, *, op: Optional[list[Optional[Op]]] = None, arg0: Optional[list[int]] = None,
                 arg1: Optional[list[int]] = None, const: Optional[list[Optional[float]]] = None,
                 active: Optional[bytearray] = None, labels: Optional[dict[int, str]] = None,
                 variables: Optional[dict[str, int]] = None, assigned: Optional[dict[str, int]] = None,
                 output: int = -1, output_name: str = "", text: str = "", statements: int = 0,
                 latest: Optional[dict[str, str]] = None, clusters: Optional[dict[int, str]] = None,
                 notes: Optional[list[str]] = None,
                 more: Optional[dict[int, tuple[int, ...]]] = None, has_where: bool = False) -> None:
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
        #: True for the graph of one output (`select`, `prune`): every node is one its
        #: output depends on (or a variable of the program)
        self.pruned = False
        #: a name assigned more than once -> its last version's name (`c` -> `c#3`)
        self.latest: dict[str, str] = {} if latest is None else latest
        #: node -> the user-function call it was expanded from (`sq(a)`)
        self.clusters: dict[int, str] = {} if clusters is None else clusters
        #: the arguments of the nodes of three or more inputs (arg1 is NARY)
        self.more: dict[int, tuple[int, ...]] = {} if more is None else more
        #: the graph has a `where` node: evaluation is demand-driven (only the
        #: chosen branch of each where is evaluated)
        self.has_where = has_where
        #: remarks about the program's names, shown once (`e` is an ordinary name here)
        self.notes: list[str] = [] if notes is None else notes
        self._names: Optional[list[str]] = None
        self._positions: Any = False  # parser.positions(self), once computed
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
        if b >= 0:
            return (a, b)
        if b == -1:
            return () if a < 0 else (a,)
        return self.more[i]  # b == NARY: three or more arguments

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
        name = self.resolve(name)
        if name not in self.assigned:
            name = escape_text(name, 60)
            if name in self.variables:
                raise ProgramError(f"the output {name} is an input variable, not an assigned name")
            import difflib

            close = difflib.get_close_matches(name, list(self.assigned), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            known = name_list(list(self.assigned)) or "none"
            raise ProgramError(f"the output {name}: no statement assigns {name}{hint}; "
                               f"assigned names: {known}")
        g = self.prune(self.assigned[name])
        g.output_name = name
        return g

    def resolve(self, name: str) -> str:
        """The version an output name means: `c` is the last version of c,
        `c#2` the second, `c#1` the first (also called `c`)."""
        if name in self.latest:
            return self.latest[name]
        if name.endswith("#1") and name[:-2] in self.assigned:
            return name[:-2]
        return name

    def make_ordinary(self, name: str, why: str) -> bool:
        """Turn the named constant `name` (pi, e) into an input variable (it is
        bound): False if the graph has no such constant."""
        node = next((i for i, label in self.labels.items()
                     if label == name and self.op[i] is None and self.const[i] is not None), None)
        if node is None:
            return False
        self.const[node] = None
        del self.labels[node]
        self.variables[name] = node
        active = self.active
        active[node] = 1
        for i in range(node + 1, len(self.op)):
            if self.op[i] is not None and not active[i]:
                active[i] = any(active[j] for j in self.args(i))
        self._names = None
        self._output_variables = None
        self.notes.append(f"{name} is an ordinary name here ({why}), not the constant")
        return True

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
                    elif b == NARY:
                        for j in self.more[i]:
                            reach[j] = 1
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
            g.pruned = True
            return g
        new = [-1] * n
        g = Graph(variables={}, assigned={}, text=self.text, statements=self.statements)
        for i in range(n):
            if need[i]:
                new[i] = len(g.op)
                a, b = arg0[i], arg1[i]
                g.op.append(self.op[i])
                g.arg0.append(new[a] if a >= 0 else -1)
                g.arg1.append(new[b] if b >= 0 else b)
                if b == NARY:
                    g.more[new[i]] = tuple(new[j] for j in self.more[i])
                g.const.append(self.const[i])
                g.active.append(self.active[i])
                if i in self.labels:
                    g.labels[new[i]] = self.labels[i]
                if i in self.clusters:
                    g.clusters[new[i]] = self.clusters[i]
        g.latest = {k: v for k, v in self.latest.items() if new[self.assigned[v]] >= 0}
        g.has_where = self.has_where
        g.notes = list(self.notes)
        g.variables = {v: new[i] for v, i in self.variables.items()}
        g.assigned = {v: new[i] for v, i in self.assigned.items() if new[i] >= 0}
        g.output = new[out]
        g.output_name = self.output_name
        g.pruned = True
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
           "output_name", "text", "statements", "latest", "clusters", "notes", "more", "has_where")


def write_op(op: Op, parts: list[str]) -> str:
    """Write an operation applied to argument texts: ``b * c``, ``-x``, ``exp(t1)``."""
    if op is ALIAS:
        return parts[0]
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


class _Function:
    """A user-defined function: its parameters and its body as a node template.

    `nodes` lists the body's nodes in order: ``(op, refs, local name)`` for an
    operation (the local name: ``t1``, or a nested call's name; "" for the
    body's result), ``(None, (value, name), "")`` for a constant; a ref >= 0
    is a slot (the parameters first, then the template's nodes), a ref < 0
    the graph node ``-ref - 1`` (a constant built before the definition)."""

    __slots__ = ("name", "params", "nodes", "root", "pos")

    def __init__(self, name: str, params: list[str], nodes: list[tuple[Any, Any, str]],
                 root: int, pos: int) -> None:
        self.name = name
        self.params = params
        self.nodes = nodes
        self.root = root
        self.pos = pos


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

    Names: `env` maps each name to the node it means now (an input, or the
    last version assigned). Assigning a name again makes a new version, a node
    named ``c#2``, ``c#3``; a statement whose value is already a named node (or
    a leaf) gets an alias node of its own, so every assigned name has a node.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.g = Graph(text=text)
        self.cse: dict[Any, int] = {}  # operation key -> node
        self.consts: dict[Any, int] = {}  # constant value (or name, for pi and e) -> node
        self.variables = self.g.variables
        # name -> the node it means now (an input, or an assigned name's last
        # version); the inputs table itself until the program assigns a name
        self.env: dict[str, int] = self.variables
        self.versions: dict[str, int] = {}  # name -> how many versions it has
        self.ordinary = _assigned_constants(text)  # pi, e assigned by the program: ordinary names
        if self.ordinary:
            self.g.notes.extend(f"{c} is an ordinary name here (the program assigns it), not the "
                                "constant" for c in sorted(self.ordinary))
        self.statements: list[Optional[str]] = []  # assigned name, or None for a bare expression
        self.bare_pos = -1
        self.bare_node = -1
        self.at = 0  # position of the last statement separator, kept current by the parser
        self.mark = 0  # the number of nodes when the current statement began
        self.functions: dict[str, _Function] = {}
        self.defining: Optional[tuple[str, list[str], int]] = None  # name, params, position
        self.weak: set[int] = set()  # nodes named after a call, renamed by an assignment
        self.call_names: dict[str, int] = {}
        self.saved_env: dict[str, int] = {}

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
        key: Any = value if name is None else name
        i = self.consts.get(key)
        if i is None:
            i = self.consts[key] = self._leaf(value)
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
        i = self.env.get(name)  # an input, or the last version of an assigned name
        if i is not None:
            return i
        if name in CONSTANTS or self.defining is not None:
            return self._new_name(name, tok)
        # A new input, as _new_name makes it, written out here: a program of
        # 1e5 variables parsed about 4% slower through the call.
        g = self.g
        i = self.variables[name] = len(g.op)
        if self.env is not self.variables:
            self.env[name] = i
        g.op.append(None)
        g.arg0.append(-1)
        g.arg1.append(-1)
        g.const.append(None)
        g.active.append(1)
        return i

    def _new_name(self, name: str, tok: Any) -> int:
        if name in CONSTANTS and name not in self.ordinary:
            return self._const(CONSTANTS[name], name)
        if self.defining is not None:
            fname, params, _pos = self.defining
            shown = escape_text(name, 60)
            raise SyntaxProblem(f"the body of {fname} uses {shown}, which is neither one of its "
                                f"parameters ({', '.join(params)}) nor a constant; a function sees "
                                "only its parameters (add a parameter and pass the value)",
                                self.text, tok.start(), kind="name")
        g = self.g
        i = self.variables[name] = len(g.op)
        if self.env is not self.variables:
            self.env[name] = i
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
        key = _key(op, a, b)
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

    def _nary(self, op: Op, args: list[int]) -> int:
        """A node of three or more arguments, or of a variadic row: one node,
        one edge per argument (sum(x1, ..., x100000) is linear)."""
        more = tuple(args)
        key = (op.index, more)
        i = self.cse.get(key)
        if i is None:
            g = self.g
            i = self.cse[key] = len(g.op)
            g.op.append(op)
            g.arg0.append(more[0])
            g.arg1.append(NARY)
            g.const.append(None)
            act = g.active
            g.active.append(1 if any(act[j] for j in more) else 0)
            g.more[i] = more
        return i

    def _apply(self, op: Op, args: list[int]) -> int:
        if op is WHERE:
            self.g.has_where = True
        if op.variadic or len(args) > 2:
            return self._nary(op, args)
        return self._node(op, *args)

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
        user = self.functions.get(fname)
        op = FUNCTIONS.get((fname, len(args)))
        if op is None and fname in VARIADIC and len(args) >= VARIADIC[fname].min_args:
            op = VARIADIC[fname]
        shown = escape_text(fname, 40) if user is not None or op is None else ""
        if user is not None:
            if len(args) != len(user.params):
                noun = "argument" if len(user.params) == 1 else "arguments"
                line = locate_line(self.text, user.pos)
                raise SyntaxProblem(f"{shown} takes {len(user.params)} {noun} "
                                    f"({', '.join(user.params)}; defined on line {line}), "
                                    f"got {len(args)}", self.text, tok.start(), kind="arity")
            return self._expand(user, args, tok)
        if op is None:
            if self.defining is not None and fname == self.defining[0]:
                raise SyntaxProblem(f"{shown} calls itself: recursion is not supported (a function "
                                    "may call builtins and functions defined before it)",
                                    self.text, tok.start(), kind="name")
            arities = function_arities()
            if fname in VARIADIC:
                least = VARIADIC[fname].min_args
                raise SyntaxProblem(f"{shown} takes {least} or more arguments, got {len(args)}",
                                    self.text, tok.start(), kind="arity")
            if fname in arities:
                counts = " or ".join(str(n) for n in arities[fname])
                noun = "argument" if arities[fname] == [1] else "arguments"
                raise SyntaxProblem(f"{shown} takes {counts} {noun}, got {len(args)}",
                                    self.text, tok.start(), kind="arity")
            close = suggest_function(fname, list(arities) + list(self.functions))
            hint = f"; did you mean {close}?" if close else " (autodiff functions lists them)"
            raise SyntaxProblem(f"unknown function {shown}{hint}", self.text, tok.start(),
                                kind="unknown_function")
        if len(args) <= 2 and not op.variadic:
            return self._node(op, *args)
        if op is WHERE:
            self.g.has_where = True
        return self._nary(op, args)

    # -- user-defined functions

    def defhead(self, tok: Any, _args: Any) -> None:
        """`name(params) =`, reduced before the body is read: check the head,
        undo what reading the parameters as a call's arguments built, and open
        a scope in which the parameters are the only names."""
        self._after_bare()
        fname = _text(tok)
        shown = escape_text(fname, 40)
        if fname in function_arities():
            raise SyntaxProblem(f"{shown} is a builtin function and cannot be redefined",
                                self.text, tok.start(), kind="name")
        if fname in self.functions:
            line = locate_line(self.text, self.functions[fname].pos)
            raise SyntaxProblem(f"the function {shown} is defined twice (first on line {line})",
                                self.text, tok.start(), kind="name")
        params = self._params(tok)
        self._truncate(self.mark)
        self.saved_env = self.env
        self.env = {}
        for p in params:
            self.env[p] = self._leaf(None)
        self.defining = (fname, params, tok.start())

    def _params(self, tok: Any) -> list[str]:
        import re

        text = self.text
        open_at = text.index("(", tok.start())
        m = re.compile(r"\(([^()]*)\)").match(text, open_at)
        if m is None:
            raise SyntaxProblem("a function's parameters must be names: `f(x, y) = ...`", text,
                                open_at + 1, kind="name")
        params: list[str] = []
        at = m.start(1)
        for part in m.group(1).split(","):
            bare = re.sub(r"#[^\n]*", "", part)
            name = bare.strip()
            pos = at + (len(bare) - len(bare.lstrip()))
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                raise SyntaxProblem("a function's parameters must be names: `f(x, y) = ...`", text,
                                    pos, kind="name")
            if name in params:
                raise SyntaxProblem(f"the parameter {name} appears twice", text, pos, kind="name")
            params.append(name)
            at += len(part) + 1
        return params

    def define(self, _head: Any, root: int) -> None:
        """The end of `name(params) = body`: keep the body as a template and
        remove its nodes from the graph (each call expands the template)."""
        assert self.defining is not None
        fname, params, pos = self.defining
        g = self.g
        mark = self.mark
        first = mark + len(params)  # the parameters' leaves are nodes mark .. first - 1
        n = len(g.op)
        reach = bytearray(max(0, n - mark))
        if root >= mark:
            reach[root - mark] = 1
        for j in range(n - 1, first - 1, -1):
            if reach[j - mark] and g.op[j] is not None:
                for a in g.args(j):
                    if a >= mark:
                        reach[a - mark] = 1
        slot = {mark + k: k for k in range(len(params))}
        nodes: list[tuple[Any, Any, str]] = []
        k = 0
        for j in range(first, n):
            if not reach[j - mark]:
                continue
            slot[j] = len(params) + len(nodes)
            op = g.op[j]
            if op is None:
                nodes.append((None, (g.const[j], g.labels.get(j)), ""))
                continue
            k += 1
            label = g.labels.get(j, f"t{k}")
            if j == root:
                label = ""
            nodes.append((op, tuple(slot[a] if a >= mark else -a - 1 for a in g.args(j)), label))
        ref = slot[root] if root >= mark else -root - 1
        self.functions[fname] = _Function(fname, params, nodes, ref, pos)
        self._truncate(mark)
        self.env = self.saved_env
        self.defining = None

    def _expand(self, f: _Function, args: list[int], tok: Any) -> int:
        """A call of a user function: its template's nodes on these arguments,
        through the usual common-subexpression merging (identical calls share
        nodes); new nodes are named after the call (``sq(a).t1``)."""
        g = self.g
        start = len(g.op)
        call = self._call_name(tok)
        slots = list(args)
        for op, refs, label in f.nodes:
            if op is None:
                value, cname = refs
                slots.append(self._const(value, cname))
                continue
            xs = [slots[r] if r >= 0 else -r - 1 for r in refs]
            j = self._apply(op, xs)
            slots.append(j)
            if j >= start and j not in g.labels:
                g.labels[j] = f"{call}.{label}" if label else call
                if not label:
                    self.weak.add(j)
        root = slots[f.root] if f.root >= 0 else -f.root - 1
        if self.defining is None:
            for j in range(start, len(g.op)):
                if g.op[j] is not None:  # (a constant may be shared by other calls)
                    g.clusters[j] = call
        return root

    def _call_name(self, tok: Any) -> str:
        """The call as written, without spaces (cut if long): `sq(a)`."""
        text = self.text
        depth = 0
        end = tok.start()
        for end in range(text.index("(", tok.start()), len(text)):
            ch = text[end]
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
                if depth == 0:
                    break
        written = "".join(text[tok.start():end + 1].split())
        if len(written) > 40:
            written = written[:36] + "...)"
        count = self.call_names.get(written, 0)
        if count and self.defining is None:
            # the same text again, meaning other nodes (a name was reassigned between the calls)
            self.call_names[written] = count + 1
            return f"{written}[{count + 1}]"
        self.call_names[written] = 1
        return written

    def _truncate(self, mark: int) -> None:
        """Remove nodes mark.. again (a definition's head and body)."""
        g = self.g
        cse, consts = self.cse, self.consts
        for j in range(len(g.op) - 1, mark - 1, -1):
            op = g.op[j]
            if op is not None:
                if op is not ALIAS:
                    b = g.arg1[j]
                    key = _key(op, g.arg0[j], b) if b != NARY else (op.index, g.more.pop(j))
                    if cse.get(key) == j:
                        del cse[key]
            elif g.const[j] is not None:
                ckey: Any = g.labels.get(j, g.const[j])
                if consts.get(ckey) == j:
                    del consts[ckey]
            g.labels.pop(j, None)
            g.clusters.pop(j, None)
            self.weak.discard(j)
        variables = g.variables
        while variables and next(reversed(variables.values())) >= mark:
            name = next(reversed(variables))
            del variables[name]
            if self.env is not variables and self.env.get(name, -1) >= mark:
                del self.env[name]
        del g.op[mark:], g.arg0[mark:], g.arg1[mark:], g.const[mark:], g.active[mark:]

    # -- statements

    def assign(self, tok: Any, node: int) -> None:
        self._after_bare()
        name = _text(tok)
        g = self.g
        k = self.versions.get(name) or (1 if name in g.variables else 0)
        k += 1
        self.versions[name] = k
        version = name if k == 1 else f"{name}#{k}"
        if k > 1:
            g.latest[name] = version
        node = self._named(node, version)
        g.assigned[version] = node
        if self.env is self.variables:
            self.env = dict(self.variables)  # (names may now mean other nodes than inputs)
        self.env[name] = node
        self.statements.append(version)
        self.mark = len(g.op)

    def _named(self, node: int, name: str) -> int:
        """The node to give the assigned `name`: `node` itself if it is an
        operation without a name yet, else a new alias node (value and local
        factor 1) so that the name has its own node."""
        g = self.g
        if g.op[node] is not None and (node not in g.labels or node in self.weak):
            g.labels[node] = name
            self.weak.discard(node)
            return node
        i = len(g.op)
        g.op.append(ALIAS)
        g.arg0.append(node)
        g.arg1.append(-1)
        g.const.append(None)
        g.active.append(g.active[node])
        g.labels[i] = name
        return i

    def _update(self, tok: Any, op: Op, node: int) -> None:
        self.assign(tok, self._node(op, self.name(tok), node))

    def assign_add(self, tok: Any, node: int) -> None:
        self._update(tok, OPERATORS["add"], node)

    def assign_sub(self, tok: Any, node: int) -> None:
        self._update(tok, OPERATORS["sub"], node)

    def assign_mul(self, tok: Any, node: int) -> None:
        self._update(tok, OPERATORS["mul"], node)

    def assign_div(self, tok: Any, node: int) -> None:
        self._update(tok, OPERATORS["div"], node)

    def assign_mod(self, tok: Any, node: int) -> None:
        self._update(tok, OPERATORS["mod"], node)

    def assign_pow(self, tok: Any, node: int) -> None:
        self._update(tok, OPERATORS["pow"], node)

    def bare(self, node: int) -> None:
        self._after_bare()
        self.bare_node = node
        self.bare_pos = self.at
        self.statements.append(None)
        self.mark = len(self.g.op)

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
            raise ProgramError("the program has no statements" + (
                " (only function definitions: call one, `J = f(x)`)" if self.functions else ""))
        last = self.statements[-1]
        if last is None:
            node = self.bare_node
            if "f" in g.assigned or "f" in g.variables:
                raise SyntaxProblem("the final bare expression would be named f, but the program "
                                    "already uses f; give it a name (`J = ...`)", self.text,
                                    self.bare_pos, kind="name")
            g.assigned["f"] = node
            if g.op[node] is not None and (node not in g.labels or node in self.weak):
                g.labels[node] = "f"
            last = "f"
        g.output = g.assigned[last]
        g.output_name = last
        g.statements = len(self.statements)
        self.cse = {}
        self.consts = {}
        return g


def _key(op: Op, a: int, b: int) -> int:
    """An operation node's key for common-subexpression merging (as `operation` computes it)."""
    return (((b << 32) | a) << 8) | op.index if b >= 0 else (a << 8) | op.index


_CONST_ASSIGN = None


def _assigned_constants(text: str) -> set[str]:
    """The constants (pi, e) that the program assigns somewhere: they are
    ordinary names in it, read before as inputs."""
    global _CONST_ASSIGN
    if "=" not in text or ("e" not in text and "pi" not in text):
        return set()
    import re

    if _CONST_ASSIGN is None:
        _CONST_ASSIGN = re.compile(r"(?:^|[;\n])[ \t]*(pi|e)[ \t]*(?:\+|-|\*\*?|/|%|\^)?=(?!=)")
    found = set(_CONST_ASSIGN.findall(text))
    if found:  # a second look without comments (rare)
        found = set(_CONST_ASSIGN.findall(re.sub(r"#[^\n]*", "", text)))
    return found


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
_PREC = {"lt": 0, "le": 0, "gt": 0, "ge": 0, "eq": 0, "ne": 0,  # (comparisons do not chain)
         "add": 1, "sub": 1, "mul": 2, "div": 2, "mod": 2, "neg": 3, "pow": 4}
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
        if op is ALIAS:  # a name for another node: written as that node
            stack.append(args[0])
            continue
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
            elif p == 0:  # a comparison: neither side may be one
                left, right = _wrap(g, a, 1, done), _wrap(g, b, 1, done)
            else:  # left-associative
                left, right = _wrap(g, a, p, done), _wrap(g, b, p + 1, done)
            parts = [*left, f" {op.symbol} ", *right]
        stack.extend(reversed(parts))


def _wrap(g: Graph, j: int, need: int, done: dict[int, str]) -> list[Any]:
    prec = _ATOM if j in done else _prec(g, j)
    return [j] if prec >= need else ["(", j, ")"]
