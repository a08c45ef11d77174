"""Forward values, then one reverse sweep for every adjoint.

`forward` is a loop over the node list; `backward` is the same loop reversed:
for each operation node, from the output back, it computes the local factor on
each incoming edge (∂node/∂input, from the ops table) and adds
adjoint(node) × local factor to the input's adjoint. Only nodes that depend on
a variable take part in the reverse sweep.

Any value or factor that is undefined or not finite stops the evaluation with
an EvaluationError naming the node, its operation and its input values.
"""

from __future__ import annotations

import math
from typing import Callable, Mapping, Optional

from .errors import BindingError, EvaluationError, escape_text, name_list
from .graph import NARY, Graph, gc_paused
from .numfmt import format_number
from .ops import CONSTANTS, FORM_CONST, FORM_NEG, FORM_OF_X, FORM_OUT, FORM_SWAP, WHERE, Op, formula_for

__all__ = ["Result", "evaluate", "forward", "backward", "check_bindings", "binding_value",
           "unused_binding"]

_isfinite = math.isfinite


class Result:
    """Everything one evaluation computed."""

    def __init__(self, graph: Graph, bindings: dict[str, float], values: list[float],
                 adjoints: list[float],
                 local: Optional[list[Optional[tuple[Optional[float], ...]]]] = None,
                 conventions: Optional[dict[int, list[str]]] = None,
                 evaluated: Optional[bytearray] = None) -> None:
        self.graph = graph
        self.bindings = bindings
        self.values = values
        self.adjoints = adjoints
        #: per node, the local factor on each incoming edge (None: edge from a
        #: constant); empty when the evaluation was asked not to keep them
        self.local: list[Optional[tuple[Optional[float], ...]]] = [] if local is None else local
        #: node index -> the conventions applied there at a non-differentiable point
        self.conventions: dict[int, list[str]] = {} if conventions is None else conventions
        #: which nodes were evaluated at this point (1) and which not (0: a
        #: branch `where` did not take); None when every node was
        self.evaluated = evaluated
        self._gradient: Optional[dict[str, float]] = None

    def was_evaluated(self, i: int) -> bool:
        return self.evaluated is None or bool(self.evaluated[i])

    def taken(self, i: int) -> Optional[int]:
        """For a `where` node, the branch it took at this point (else None)."""
        g = self.graph
        if g.op[i] is not WHERE or not self.was_evaluated(i):
            return None
        c, yes, no = g.args(i)
        return yes if self.values[c] != 0.0 else no

    def __repr__(self) -> str:
        return f"<Result {self.output} = {self.value!r}, gradient {self.gradient!r}>"

    # Jupyter display (notebook.py): the table, the gradient
    def _repr_html_(self) -> str:
        from .notebook import result_html

        return result_html(self)

    def _repr_markdown_(self) -> str:
        from .notebook import result_markdown

        return result_markdown(self)

    def _repr_latex_(self) -> str:
        from .notebook import result_latex

        return result_latex(self)

    @property
    def output(self) -> str:
        return self.graph.output_name

    @property
    def value(self) -> float:
        return self.values[self.graph.output]

    def local_factors(self, i: int) -> dict[str, float]:
        """Node i's local factors by input name. An input used twice (x * x)
        gets the sum of its edges' factors: the partial derivative itself."""
        factors = self.local[i] if self.local else None
        if factors is None:
            return {}
        names = self.graph.names()
        out: dict[str, float] = {}
        for j, d in zip(self.graph.args(i), factors, strict=True):
            if d is not None:
                out[names[j]] = out.get(names[j], 0.0) + d
        return out

    @property
    def gradient(self) -> dict[str, float]:
        """∂output/∂variable for each variable the output depends on (computed
        once; a fresh copy each time, so callers may change theirs)."""
        if self._gradient is None:
            adj, var = self.adjoints, self.graph.variables
            self._gradient = {name: adj[var[name]] for name in self.graph.output_variables()}
        return dict(self._gradient)


def binding_value(name: str, value: object, *, where: str = "",
                  show: Callable[[object], str] = repr, from_text: bool = False) -> float:
    """The one judge of a bound value: a finite number as a float, or a
    BindingError saying what is wrong with it. Numbers are int and float and
    whatever else converts exactly enough to one (NumPy scalars and 0-d
    arrays, Decimal, Fraction); bool, str and None are refused. `where`
    prefixes the message (`--bindings: ...`); `show` writes a refused value as
    its source would (JSON text for JSON inputs); `from_text` says the value
    was read from text, where an infinity can only be a literal too large for
    a double (JSON's 1e999)."""
    prefix = f"{where}: " if where else ""
    shown_name = escape_text(name, 60)
    if value.__class__ is not float and (isinstance(value, (bool, str, bytes)) or value is None
                                         or not hasattr(value, "__float__")
                                         or getattr(value, "ndim", 0) != 0
                                         or isinstance(value, complex)):
        raise BindingError(f"{prefix}the value for {shown_name} is not a number: "
                           f"{escape_text(show(value), 60)}", name)
    try:
        x = float(value)
    except OverflowError:
        raise BindingError(f"{prefix}the value for {shown_name} is too large for a double",
                           name) from None
    except (TypeError, ValueError):
        raise BindingError(f"{prefix}the value for {shown_name} is not a number: "
                           f"{escape_text(show(value), 60)}", name) from None
    if not _isfinite(x):
        if x != x or (value.__class__ is float and not from_text):
            raise BindingError(f"{prefix}the value for {shown_name} must be a finite number, got "
                               f"{escape_text(show(value), 60)}", name)
        raise BindingError(f"{prefix}the value for {shown_name} is too large for a double", name)
    return x


def unused_binding(graph: Graph, name: str) -> BindingError:
    """The error for a value given for a name the program does not use
    (usually a typo): one message for the library, --bindings and batches."""
    shown = escape_text(name, 60)
    used = name_list(list(graph.variables)) or "none"
    return BindingError(f"a value was given for {shown}, but the program does not use {shown} "
                        f"(its variables: {used})", name)


def check_bindings(graph: Graph, bindings: Mapping[str, float],
                   allowed: Optional[set[str]] = None) -> dict[str, float]:
    """Validate bindings against the graph: every variable the output uses
    bound, each value a finite number, no binding for a name the program does
    not use. `allowed` widens the names accepted (a pruned graph keeps all its
    program's variables, so it is rarely needed)."""
    variables = graph.variables
    if isinstance(bindings, dict) and all(
            v.__class__ is float and k in variables for k, v in bindings.items()) and all(
            map(_isfinite, bindings.values())):
        out: dict[str, float] = bindings  # already valid: no copy (large programs bind many)
    else:
        out = _checked_copy(graph, bindings, allowed)
    if len(out) < len(variables):
        missing = [v for v in graph.output_variables() if v not in out]
        if missing:
            how = " ".join(f"--{escape_text(v, 60)} VALUE" for v in missing[:3])
            noun = "variable" if len(missing) == 1 else "variables"
            raise BindingError(f"no value for the {noun} {name_list(missing)}", missing[0],
                               hint=f"bind with {how}{' ...' if len(missing) > 3 else ''} (or -D "
                               f"{escape_text(missing[0], 60)}=VALUE)")
    return out


def _checked_copy(graph: Graph, bindings: Mapping[str, float],
                  allowed: Optional[set[str]]) -> dict[str, float]:
    """The bindings with every value checked and converted to a float."""
    variables = graph.variables
    out: dict[str, float] = {}
    for name, value in bindings.items():
        if value.__class__ is float and name in variables and _isfinite(value):
            out[name] = value  # the common case, checked in one line
            continue
        if name in CONSTANTS and name not in variables and graph.make_ordinary(
                name, "it is bound to a value"):
            variables = graph.variables  # pi or e, bound: an input of this graph now
        elif name in CONSTANTS and name not in variables:
            raise BindingError(f"{name} is a constant ({format_number(CONSTANTS[name])}) and "
                               "cannot be bound", name)
        if name in graph.assigned and name not in variables:
            raise BindingError(f"{escape_text(name, 60)} is assigned by the program, so it cannot "
                               "be bound", name)
        if name not in variables and (allowed is None or name not in allowed):
            raise unused_binding(graph, name)
        x = binding_value(name, value)
        out[name] = x
    return out


def forward(graph: Graph, bindings: Mapping[str, float]) -> list[float]:
    """Every node's value, in one loop over the nodes. `bindings` must have been
    checked. The value rules raise outside their domain; a value that overflows
    silently (x * y) is caught by one finiteness scan at the end, and the first
    non-finite node in order is the one that overflowed."""
    if graph.has_where:
        return forward_lazy(graph, bindings)[0]
    values: list[float] = [0.0 if v is None else v for v in graph.const]
    for name, k in graph.variables.items():
        if name in bindings:
            values[k] = bindings[name]
    n = graph.output + 1
    i = 0
    more = graph.more
    try:
        for i, op, a, b in zip(range(n), graph.op, graph.arg0, graph.arg1, strict=False):
            if op is not None:
                if b >= 0:
                    values[i] = op.value(values[a], values[b])
                elif b == -1:
                    values[i] = op.value(values[a])
                else:  # NARY: sum(x1, ..., xn)
                    values[i] = op.nvalue([values[j] for j in more[i]])
    except (ValueError, ZeroDivisionError, OverflowError, TypeError) as exc:
        raise _value_error(graph, values, i, exc) from None
    if not all(map(_isfinite, values)):
        i = next(k for k, v in enumerate(values) if not _isfinite(v))
        raise _value_error(graph, values, i, OverflowError())
    return values


def forward_lazy(graph: Graph, bindings: Mapping[str, float]) -> tuple[list[float], bytearray]:
    """Values of the nodes the output needs at this point, for a graph with
    `where`: demand-driven from the output, with an explicit stack (no
    recursion), so that where(c, a, b) evaluates c, then only the branch c
    chooses. Returns the values and which nodes were evaluated (the others'
    values are 0.0 placeholders, never read)."""
    values: list[float] = [0.0 if v is None else v for v in graph.const]
    for name, k in graph.variables.items():
        if name in bindings:
            values[k] = bindings[name]
    ops, arg0, arg1, more = graph.op, graph.arg0, graph.arg1, graph.more
    done = bytearray(len(values))
    stack = [graph.output]
    i = graph.output
    try:
        while stack:
            i = stack[-1]
            if done[i]:
                stack.pop()
                continue
            op = ops[i]
            if op is None:
                done[i] = 1
                stack.pop()
                continue
            b = arg1[i]
            if op is WHERE:
                c, yes, no = more[i]
                if not done[c]:
                    stack.append(c)
                    continue
                chosen = yes if values[c] != 0.0 else no
                if not done[chosen]:
                    stack.append(chosen)
                    continue
                values[i] = values[chosen]
            else:
                args = (arg0[i], b) if b >= 0 else ((arg0[i],) if b == -1 else more[i])
                pending = [j for j in args if not done[j]]
                if pending:
                    stack.extend(reversed(pending))
                    continue
                if b >= 0:
                    values[i] = op.value(values[args[0]], values[b])
                elif b == -1:
                    values[i] = op.value(values[args[0]])
                else:
                    values[i] = op.nvalue([values[j] for j in args])
            done[i] = 1
            stack.pop()
    except (ValueError, ZeroDivisionError, OverflowError, TypeError) as exc:
        raise _value_error(graph, values, i, exc) from None
    for k, v in enumerate(values):
        if done[k] and not _isfinite(v):
            raise _value_error(graph, values, k, OverflowError())
    return values, done


def backward(graph: Graph, values: list[float], keep_local: bool = True,
             evaluated: Optional[bytearray] = None
             ) -> tuple[list[float], list[Optional[tuple[Optional[float], ...]]], dict[int, list[str]]]:
    """Adjoints of every node, in one sweep from the output back to the inputs:
    the forward loop reversed. For each operation node that depends on a
    variable, the local factor of each edge from such an input (the ops
    table's rule) times the node's adjoint is added to the input's adjoint.

    With `keep_local`, each edge's local factor is kept too (for the table, the
    JSON trace and explanations): that is the traced sweep, the reference,
    calling every rule. Without, the sweep only accumulates, and it is tuned:
    the forms each row declares (ops.FORM_*: constant factors for + and -, the
    other argument for *, a C function for sin, the node's own value for exp)
    need no call. A property test checks the two sweeps agree bit for bit."""
    n = len(values)
    adj = [0.0] * n
    out = graph.output
    adj[out] = 1.0
    m = out + 1
    active = graph.active
    if evaluated is not None:  # (where) a node not evaluated takes no part
        active = bytearray(a & e for a, e in zip(active, evaluated, strict=True))
    local: list[Optional[tuple[Optional[float], ...]]] = [None] * n if keep_local else []
    conventions: dict[int, list[str]] = {}
    i = out
    nodes = zip(range(out, -1, -1), reversed(graph.op[:m]), reversed(graph.arg0[:m]),
                reversed(graph.arg1[:m]), reversed(active[:m]), strict=True)
    swap, const, of_x, own, neg = FORM_SWAP, FORM_CONST, FORM_OF_X, FORM_OUT, FORM_NEG
    try:
        if keep_local:
            for i, op, a, b, act in nodes:
                if op is not None and act:
                    if b == NARY:
                        factors = _nary_factors(op, values, active, i, graph.more[i])
                        local[i] = factors
                        g = adj[i]
                        for j, d in zip(graph.more[i], factors, strict=True):
                            if d is not None:
                                adj[j] += g * d
                        if op.has_kinks:
                            _note_kinks(graph, op, i, values, conventions)
                        continue
                    factors = _local_factors(op, values, active, i, a, b)
                    local[i] = factors
                    g = adj[i]
                    if factors[0] is not None:
                        adj[a] += g * factors[0]
                    if b >= 0 and factors[1] is not None:
                        adj[b] += g * factors[1]
                    if op.has_kinks:
                        _note_kinks(graph, op, i, values, conventions)
        else:
            for i, op, a, b, act in nodes:
                if op is None or not act:
                    continue
                g = adj[i]
                form = op.form
                if form == swap:  # each factor is the other argument: x * y
                    if active[a]:
                        adj[a] += g * values[b]
                    if active[b]:
                        adj[b] += g * values[a]
                elif form == const:  # constant factors: + and - (1, and const1 for y)
                    if active[a]:
                        adj[a] += g
                    if active[b]:
                        adj[b] += g * op.const1
                elif form == of_x:
                    adj[a] += g * op.local_of_x(values[a])  # type: ignore[misc]  # sin' = cos, in C
                elif form == own:
                    adj[a] += g * values[i]  # exp' = exp: the node's own value
                elif form == neg:
                    adj[a] -= g  # d(-x)/dx = -1
                elif b == -1:
                    adj[a] += g * op.local0(values[a], values[i])
                    if op.has_kinks:
                        _note_kinks(graph, op, i, values, conventions)
                elif b == NARY:
                    args = graph.more[i]
                    every = op.nlocals([values[j] for j in args], values[i])
                    for j, d in zip(args, every, strict=True):
                        if active[j]:
                            adj[j] += g * d
                    if op.has_kinks:
                        _note_kinks(graph, op, i, values, conventions)
                else:
                    x = values[a]
                    y = values[b]
                    if active[a]:
                        adj[a] += g * op.local0(x, y, values[i])
                    if active[b]:
                        adj[b] += g * op.local1(x, y, values[i])  # type: ignore[misc]
                    if op.has_kinks:
                        _note_kinks(graph, op, i, values, conventions)
    except (ValueError, ZeroDivisionError, OverflowError) as exc:
        raise _derivative_error(graph, values, i, exc) from None
    if not all(map(_isfinite, adj)) or (keep_local and not _locals_finite(local)):
        raise _find_nonfinite(graph, values, active)
    return adj, local, conventions


def _local_factors(op: Op, values: list[float], active: bytearray, i: int, a: int, b: int
                   ) -> tuple[Optional[float], ...]:
    """Node i's local factor on each incoming edge (None for an edge from a
    node that does not depend on a variable)."""
    if b < 0:
        return (op.local0(values[a], values[i]),)
    x, y, v = values[a], values[b], values[i]
    return (op.local0(x, y, v) if active[a] else None,
            op.local1(x, y, v) if active[b] else None)  # type: ignore[misc]


def _nary_factors(op: Op, values: list[float], active: bytearray, i: int,
                  args: tuple[int, ...]) -> tuple[Optional[float], ...]:
    factors = op.nlocals([values[j] for j in args], values[i])
    return tuple(d if active[j] else None for j, d in zip(args, factors, strict=True))


def _locals_finite(local: list[Optional[tuple[Optional[float], ...]]]) -> bool:
    for t in local:
        if t is not None:
            for d in t:
                if d is not None and not _isfinite(d):
                    return False
    return True


def _note_kinks(graph: Graph, op: Op, i: int, values: list[float],
                conventions: dict[int, list[str]]) -> None:
    """Record the conventions node i's rules applied at a point where a
    derivative does not exist (abs at 0, a max tie), if any."""
    args = graph.args(i)
    xs = [values[j] for j in args]
    notes: list[str] = []
    if len(args) > 2 or op.variadic:
        if any(graph.active[j] for j in args):
            notes = op.nkinks(xs)
        if notes:
            conventions[i] = notes
        return
    for k, j in enumerate(args):
        p = op.partials[k]
        if p.kink is not None and graph.active[j]:
            note = p.kink(*xs)
            if note and note not in notes:
                notes.append(note)
    if notes:
        conventions[i] = notes


def evaluate(graph: Graph, bindings: Mapping[str, float], *, keep_local: bool = True,
             allowed: Optional[set[str]] = None) -> Result:
    """Check the bindings, run the forward pass and the reverse sweep.

    Only the output's graph is evaluated: for a program of several statements
    that was not selected (`Graph.select`), statements the output does not use
    are dropped first, so they are neither evaluated nor need bindings (the
    result's graph is then that smaller graph)."""
    if graph.statements > 1 and not graph.pruned:
        graph = graph.prune(graph.output)
    with gc_paused():
        bound = check_bindings(graph, bindings, allowed)
        if graph.has_where:
            values, evaluated = forward_lazy(graph, bound)
            adj, local, conventions = backward(graph, values, keep_local, evaluated)
            return Result(graph, bound, values, adj, local, conventions, evaluated)
        values = forward(graph, bound)
        adj, local, conventions = backward(graph, values, keep_local)
    return Result(graph, bound, values, adj, local, conventions)


# ---------------------------------------------------------------- error reports


def _inputs_text(graph: Graph, values: list[float], i: int) -> tuple[str, list[tuple[str, float]]]:
    names = graph.names()
    seen: list[tuple[str, float]] = []
    parts = []
    for j in graph.args(i):
        item = (names[j], values[j])
        if item in seen:
            continue
        seen.append(item)
        if graph.kind(j) == "constant":
            continue  # a constant shows itself
        parts.append(f"{names[j]} = {format_number(values[j])}")
    return ", ".join(parts), seen


def _value_error(graph: Graph, values: list[float], i: int, exc: Exception) -> EvaluationError:
    if any(not _isfinite(values[j]) for j in graph.args(i)):
        # sin(x*x) at 1e200: sin(inf) raised, but the fault is the overflow
        # before it, at the first node whose value is not finite
        k = next(k for k, v in enumerate(values) if not _isfinite(v))
        if k != i:
            return _value_error(graph, values, k, OverflowError())
    names = graph.names()
    op = graph.op[i]
    assert op is not None
    expr = graph.expression(i, names)
    shown, inputs = _inputs_text(graph, values, i)
    where = f"at node {names[i]} = {expr}" + (f" with {shown}" if shown else "")
    xs = [values[j] for j in graph.args(i)]
    hint = ""
    special = op.error(xs, exc) if op.error is not None else None
    if special is not None:
        kind, what = special
    elif isinstance(exc, ZeroDivisionError):
        kind, what = "division_by_zero", "division by zero"
    elif isinstance(exc, OverflowError):
        kind, what = "overflow", "overflow: the value is too large for a double"
        hint = op.hint
    else:
        kind = "domain"
        what = f"{op.name} is undefined here" + (f" (it needs {op.domain})" if op.domain else "")
    hint = _saturation_hint(graph, i) or hint
    return _placed(graph, i, EvaluationError(kind, f"{what}, {where}", node=names[i], op=op.name,
                                             expression=expr, inputs=inputs, hint=hint))


def _saturation_hint(graph: Graph, i: int) -> str:
    """log(sigmoid(z)) and log(1 - sigmoid(z)) fail where sigmoid rounds to 0
    or 1: the stable forms are -softplus(-z) and -softplus(z)."""
    op, args = graph.op[i], graph.args(i)
    if op is None or op.name != "log" or len(args) != 1:
        return ""
    inner = graph.op[args[0]]
    if inner is not None and inner.name == "sigmoid":
        return "log(sigmoid(z)) is -softplus(-z), which stays finite where sigmoid(z) rounds to 0"
    if inner is not None and inner.name == "sub":
        one, right = graph.args(args[0])
        if graph.const[one] == 1.0 and (graph.op[right] or inner).name == "sigmoid" and \
                graph.op[right] is not None:
            return ("log(1 - sigmoid(z)) is -softplus(z), which stays finite where sigmoid(z) "
                    "rounds to 1")
    return ""


def _derivative_error(graph: Graph, values: list[float], i: int, exc: Exception) -> EvaluationError:
    names = graph.names()
    op = graph.op[i]
    assert op is not None
    # Which edge failed: the first input whose local factor raises again.
    xs = [values[j] for j in graph.args(i)]
    k = 0
    for k, j in enumerate(graph.args(i)):
        if graph.active[j]:
            try:
                op.partials[k].fn(*xs, values[i])
            except (ValueError, ZeroDivisionError, OverflowError) as again:
                exc = again
                break
    expr = graph.expression(i, names)
    shown, inputs = _inputs_text(graph, values, i)
    args = graph.args(i)
    wrt = names[args[k]]
    formula = formula_for(op, k, [names[j] for j in args])
    if isinstance(exc, ZeroDivisionError):
        how = "infinite"
    elif isinstance(exc, OverflowError):
        how = "too large for a double"
    else:
        why = op.partials[k].undefined
        how = f"undefined ({why})" if why else "undefined"
    message = (f"the local derivative ∂{names[i]}/∂{wrt} = {formula} is {how}, at node "
               f"{names[i]} = {expr}" + (f" with {shown}" if shown else ""))
    return _placed(graph, i, EvaluationError("derivative", message, node=names[i], op=op.name,
                                             expression=expr, inputs=inputs))


def _find_nonfinite(graph: Graph, values: list[float], active: bytearray) -> EvaluationError:
    """Slow path: redo the sweep, checking each factor and adjoint, to name the
    first edge where a non-finite number appears."""
    n = len(values)
    adj = [0.0] * n
    adj[graph.output] = 1.0
    names = graph.names()
    for i in range(graph.output, -1, -1):
        op = graph.op[i]
        if op is None or not active[i]:
            continue
        args = graph.args(i)
        xs = [values[j] for j in args]
        for k, j in enumerate(args):
            if not active[j]:
                continue
            d = op.partials[k].fn(*xs, values[i])
            expr = graph.expression(i, names)
            shown, inputs = _inputs_text(graph, values, i)
            if not _isfinite(d):
                return _placed(graph, i, EvaluationError(
                    "derivative",
                    f"the local derivative ∂{names[i]}/∂{names[j]} = "
                    f"{formula_for(op, k, [names[j2] for j2 in args])} "
                    f"overflows, at node {names[i]} = {expr} with {shown}",
                    node=names[i], op=op.name, expression=expr, inputs=inputs))
            adj[j] += adj[i] * d
            if not _isfinite(adj[j]):
                return _placed(graph, i, EvaluationError(
                    "overflow",
                    f"overflow: the adjoint ∂{graph.output_name}/∂{names[j]} is too large for a "
                    f"double, at the edge from {names[j]} into node {names[i]} = {expr}",
                    node=names[i], op=op.name, expression=expr, inputs=inputs))
    raise AssertionError("a non-finite adjoint was detected but not found")  # pragma: no cover


def _placed(graph: Graph, i: int, err: EvaluationError) -> EvaluationError:
    """`err`, with the place in the program that node i comes from."""
    if graph._positions is False:
        from .parser import positions

        graph._positions = positions(graph)
    if graph._positions is not None:
        err.place(graph.text, graph._positions[i])
    return err
