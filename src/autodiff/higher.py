"""Beyond one gradient: forward mode, Jacobians, Hessians and n-th derivatives.

Every rule comes from the ops table's rows:

- forward mode (tangents): the same local factors as the reverse sweep (each
  row's `partials`), applied left to right: ṫ(node) = Σ_k ∂node/∂arg_k · ṫ(arg_k);
- the Jacobian of several outputs: one reverse sweep per output or one forward
  sweep per input, whichever is fewer;
- second derivatives (forward over reverse): the tangent of the reverse sweep
  needs the derivative of each local factor, which is read off the row's
  Taylor rule at order 2 (f'' = 2·c₂; a mixed partial by polarisation), so a
  row keeps one rule for everything beyond the first order;
- n-th derivatives along one variable: each row's Taylor rule, propagated
  through the graph in one pass (cost ~N² per node).

Errors name the node and its operation as the reverse sweep's do; the
conventions at non-differentiable points (abs'(0) = 0, a tie of max split in
halves) are the rows' own and are reported the same way. Loaded only by the
paths that use it: plain `eval` never imports this module.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Optional, Sequence

from .errors import EvaluationError, ProgramError, escape_text, name_list
from .evaluate import (
    _derivative_error,
    _inputs_text,
    _note_kinks,
    _value_error,
    backward,
    check_bindings,
    forward,
    forward_lazy,
)
from .graph import Graph, gc_paused
from .numfmt import format_number

__all__ = ["ForwardResult", "JacobianResult", "HessianResult", "TaylorResult", "forward_mode",
           "jacobian", "hessian", "hvp", "taylor", "output_nodes"]

_isfinite = math.isfinite
Local = list[Optional[tuple[float, ...]]]


# ---------------------------------------------------------------- shared pieces


def output_nodes(graph: Graph, names: Optional[Sequence[str]]) -> list[tuple[str, int]]:
    """(name, node) of each requested output: assigned names, `all` for every
    assigned name, None for the program's output."""
    if not names:
        return [(graph.output_name, graph.output)]
    if list(names) == ["all"]:  # every assigned name, each version of a rebound one (c, c#2)
        return list(graph.assigned.items())
    out = []
    for name in names:
        resolve = getattr(graph, "resolve", None)  # a rebinding's last version (`c` -> `c#3`)
        key = resolve(name) if resolve is not None else name
        if key not in graph.assigned:
            graph.select(name)  # raises the usual message (an input, a typo, ...)
            raise ProgramError(f"the output {escape_text(name, 60)}: no statement assigns it")
        out.append((name, graph.assigned[key]))
    return out


def _needed(graph: Graph, outs: Sequence[int]) -> bytearray:
    if len(outs) == 1:
        return graph.reachable(outs[0])
    need = bytearray(len(graph.op))
    for o in outs:
        r = graph.reachable(o)
        need = bytearray(x | y for x, y in zip(need, r, strict=True))
    return need


def node_value(op: Any, xs: list[Any]) -> Any:
    """A node's value rule on its argument values (a many-argument row takes a list)."""
    nvalue = getattr(op, "nvalue", None)
    return nvalue(xs) if nvalue is not None else op.value(*xs)


def node_factors(op: Any, xs: list[Any], out: Any, active: list[bool]) -> list[Any]:
    """A node's local factors (0.0 on an edge from a node that depends on no
    variable, whose rule is not called: pow's d/dy at a negative base)."""
    if getattr(op, "variadic", False):
        return [d if act else 0.0 for d, act in zip(op.nlocals(xs, out), active, strict=True)]
    return [op.partials[k].fn(*xs, out) if act else 0.0 for k, act in enumerate(active)]


def evaluated(graph: Graph, bound: Mapping[str, Any], outs: Sequence[int]
              ) -> tuple[list[Any], bytearray]:
    """The values of what the outputs need at this point, and which nodes
    those are: with `where`, only the branches taken (the demand-driven pass)."""
    if not getattr(graph, "has_where", False):
        need = _needed(graph, outs)
        return _values(graph, bound, need), need
    from .evaluate import forward_lazy

    saved = graph.output
    values: Optional[list[Any]] = None
    need = bytearray(len(graph.op))
    try:
        for o in outs:
            graph.output = o
            vals, done = forward_lazy(graph, bound)
            if values is None:
                values = vals
            else:
                for k, flag in enumerate(done):
                    if flag:
                        values[k] = vals[k]
            need = bytearray(x | y for x, y in zip(need, done, strict=True))
    finally:
        graph.output = saved
    assert values is not None
    return values, need


def _values(graph: Graph, bound: Mapping[str, Any], need: bytearray) -> list[Any]:
    """Every needed node's value (the forward pass, restricted to `need`)."""
    values: list[Any] = [0.0 if v is None else v for v in graph.const]
    for name, k in graph.variables.items():
        if name in bound:
            values[k] = bound[name]
    i = 0
    try:
        for i in range(len(graph.op)):
            op = graph.op[i]
            if op is not None and need[i]:
                values[i] = node_value(op, [values[j] for j in graph.args(i)])
                if not _isfinite(values[i]):
                    raise OverflowError()
    except (ValueError, ZeroDivisionError, OverflowError, TypeError) as exc:
        raise _value_error(graph, values, i, exc) from None
    return values


def _local(graph: Graph, values: list[float], need: bytearray
           ) -> tuple[Local, dict[int, list[str]]]:
    """Each needed operation node's local factors (0.0 on an edge from a node
    that depends on no variable), in evaluation order, by the rows' rules."""
    local: Local = [None] * len(values)
    conventions: dict[int, list[str]] = {}
    active = graph.active
    names: Optional[list[str]] = None
    i = 0
    try:
        for i in range(len(graph.op)):
            op = graph.op[i]
            if op is None or not need[i] or not active[i]:
                continue
            args = graph.args(i)
            xs = [values[j] for j in args]
            factors = tuple(node_factors(op, xs, values[i], [bool(active[j]) for j in args]))
            for k, d in enumerate(factors):
                if not _isfinite(d):
                    names = graph.names()
                    expr = graph.expression(i, names)
                    shown, inputs = _inputs_text(graph, values, i)
                    from .ops import formula_for

                    raise EvaluationError(
                        "derivative", f"the local derivative ∂{names[i]}/∂{names[args[k]]} = "
                        f"{formula_for(op, k, [names[j] for j in args])} overflows, at node "
                        f"{names[i]} = {expr}" + (f" with {shown}" if shown else ""),
                        node=names[i], op=op.name, expression=expr, inputs=inputs)
            local[i] = factors
            if op.has_kinks:
                _note_kinks(graph, op, i, values, conventions)
    except (ValueError, ZeroDivisionError, OverflowError) as exc:
        raise _derivative_error(graph, values, i, exc) from None
    return local, conventions


def _tangent_sweep(graph: Graph, local: Local, seed: Mapping[str, float], upto: int) -> list[float]:
    """ṫ(node) = Σ_k ∂node/∂arg_k · ṫ(arg_k), left to right."""
    t = [0.0] * len(local)
    for name, x in seed.items():
        t[graph.variables[name]] = x
    args = graph.args
    for i in range(upto + 1):
        d = local[i]
        if d is not None:
            s = 0.0
            for k, j in enumerate(args(i)):
                s += d[k] * t[j]
            t[i] = s
    return t


def _adjoint_sweep(graph: Graph, local: Local, out: int) -> list[float]:
    """The reverse sweep over kept local factors: ∂out/∂node for every node."""
    adj = [0.0] * len(local)
    adj[out] = 1.0
    args = graph.args
    for i in range(out, -1, -1):
        d = local[i]
        g = adj[i]
        if d is not None and g != 0.0:
            for k, j in enumerate(args(i)):
                adj[j] += g * d[k]
    return adj


def _check_finite(graph: Graph, vec: list[float], what: str) -> None:
    for i, x in enumerate(vec):
        if not _isfinite(x):
            name = graph.names()[i]
            raise EvaluationError("overflow", f"overflow: the {what} of {name} is too large for a "
                                  "double", node=name, op=_op_name(graph, i),
                                  expression=graph.expression(i), inputs=[])


def _op_name(graph: Graph, i: int) -> str:
    op = graph.op[i]
    return graph.kind(i) if op is None else op.name


def _inputs(graph: Graph, need: bytearray) -> list[str]:
    return [v for v, i in graph.variables.items() if need[i]]


def _prepare(graph: Graph, bindings: Mapping[str, float], outs: Sequence[int],
             allowed: Optional[set[str]] = None
             ) -> tuple[dict[str, float], bytearray, list[float], Local, dict[int, list[str]]]:
    need = _needed(graph, outs)
    bound = check_bindings(graph, bindings, allowed)
    missing = [v for v in _inputs(graph, need) if v not in bound]
    if missing:
        from .errors import BindingError

        raise BindingError(f"no value for {name_list(missing)}", missing[0],
                           hint=f"bind with --{escape_text(missing[0], 60)} VALUE")
    values, need = evaluated(graph, bound, outs)
    local, conventions = _local(graph, values, need)
    return bound, need, values, local, conventions


def _seed(graph: Graph, seed: Mapping[str, float], inputs: list[str], what: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, x in seed.items():
        if name not in graph.variables:
            raise ProgramError(f"{what} {escape_text(name, 60)}=...: the program has no input "
                               f"{escape_text(name, 60)} (its inputs: {name_list(inputs) or 'none'})")
        x = float(x)
        if not _isfinite(x):
            raise ProgramError(f"{what} {escape_text(name, 60)}: the direction must be finite")
        out[name] = x
    return out


# ---------------------------------------------------------------- forward mode


class ForwardResult:
    """Forward mode: with a seed, every node's tangent (∂node/∂seed direction)
    and the directional derivative; without, the gradient from one tangent
    sweep per input."""

    def __init__(self, graph: Graph, bindings: dict[str, float], values: list[float],
                 local: Local, conventions: dict[int, list[str]], seed: Optional[dict[str, float]],
                 tangents: Optional[list[float]], gradient: dict[str, float], sweeps: int) -> None:
        self.graph = graph
        self.bindings = bindings
        self.values = values
        self.local = local
        self.conventions = conventions
        self.seed = seed
        self.tangents = tangents
        self.gradient = gradient
        self.sweeps = sweeps

    @property
    def output(self) -> str:
        return self.graph.output_name

    @property
    def value(self) -> float:
        return self.values[self.graph.output]

    @property
    def derivative(self) -> Optional[float]:
        """The directional derivative (with a seed)."""
        return None if self.tangents is None else self.tangents[self.graph.output]

    def __repr__(self) -> str:
        return f"<ForwardResult {self.output} = {self.value!r}, {self.sweeps} sweep(s)>"


def forward_mode(graph: Graph, bindings: Mapping[str, float], seed: Optional[Mapping[str, float]] = None,
                 *, allowed: Optional[set[str]] = None) -> ForwardResult:
    """Tangents left to right. `seed` is a direction (input name -> component;
    unnamed inputs 0); without one, one sweep per input gives the gradient."""
    out = graph.output
    bound, need, values, local, conventions = _prepare(graph, bindings, [out], allowed)
    inputs = graph.output_variables()
    if seed is not None:
        direction = _seed(graph, seed, inputs, "--seed")
        t = _tangent_sweep(graph, local, direction, out)
        _check_finite(graph, t, "tangent")
        gradient: dict[str, float] = {}
        return ForwardResult(graph, bound, values, local, conventions, direction, t, gradient, 1)
    gradient = {}
    for name in inputs:
        t = _tangent_sweep(graph, local, {name: 1.0}, out)
        if not _isfinite(t[out]):
            _check_finite(graph, t, "tangent")
        gradient[name] = t[out]
    return ForwardResult(graph, bound, values, local, conventions, None, None, gradient, len(inputs))


# ---------------------------------------------------------------- Jacobian


class JacobianResult:
    """∂output_r/∂input_c for several outputs (rows) and their inputs (columns)."""

    def __init__(self, outputs: list[str], inputs: list[str], values: dict[str, float],
                 matrix: list[list[float]], mode: str, sweeps: int, bindings: dict[str, float],
                 conventions: dict[str, list[str]]) -> None:
        self.outputs = outputs
        self.inputs = inputs
        self.values = values
        self.matrix = matrix
        self.mode = mode
        self.sweeps = sweeps
        self.bindings = bindings
        self.conventions = conventions

    def __repr__(self) -> str:
        shape = f"{len(self.outputs)}x{len(self.inputs)}"
        return f"<JacobianResult {shape} by {self.sweeps} {self.mode} sweep(s)>"


def jacobian(graph: Graph, bindings: Mapping[str, float], outputs: Optional[Sequence[str]] = None,
             *, mode: Optional[str] = None, allowed: Optional[set[str]] = None) -> JacobianResult:
    """The Jacobian of `outputs` (assigned names, or ["all"]). One reverse sweep
    per output or one forward sweep per input, whichever is fewer (`mode`
    forces one)."""
    outs = output_nodes(graph, outputs)
    nodes = [o for _, o in outs]
    bound, need, values, local, conventions = _prepare(graph, bindings, nodes, allowed)
    inputs = _inputs(graph, need)
    if mode is None:
        mode = "reverse" if len(outs) <= len(inputs) else "forward"
    top = max(nodes)
    matrix = [[0.0] * len(inputs) for _ in outs]
    if mode == "reverse":
        for r, o in enumerate(nodes):
            adj = _adjoint_sweep(graph, local, o)
            _check_finite(graph, adj, "adjoint")
            for c, name in enumerate(inputs):
                matrix[r][c] = adj[graph.variables[name]]
        sweeps = len(nodes)
    else:
        for c, name in enumerate(inputs):
            t = _tangent_sweep(graph, local, {name: 1.0}, top)
            _check_finite(graph, t, "tangent")
            for r, o in enumerate(nodes):
                matrix[r][c] = t[o]
        sweeps = len(inputs)
    names = graph.names()
    notes = {names[i]: v for i, v in conventions.items()}
    return JacobianResult([n for n, _ in outs], inputs, {n: values[o] for n, o in outs}, matrix,
                          mode, sweeps, bound, notes)


# ---------------------------------------------------------------- second derivatives


def _second_partials(op: Any, xs: list[float], act: list[bool]) -> list[list[float]]:
    """∂²op/∂x_k∂x_m at xs, from the row's Taylor rule at order 2: along a
    direction d the coefficient c₂ is ½·dᵀHd, so H_kk = 2·c₂(e_k) and
    H_km = c₂(e_k + e_m) − c₂(e_k) − c₂(e_m). Inactive arguments get 0."""
    n = len(xs)
    if n == 1:
        return [[2.0 * op.taylor([xs[0], 1.0, 0.0])[2] if act[0] else 0.0]]
    z = xs[0] * 0.0

    def c2(dirs: tuple[int, ...]) -> float:
        series = [[x, 1.0 if k in dirs else 0.0, 0.0] for k, x in enumerate(xs)]
        return op.taylor(*series)[2]

    h = [[z] * n for _ in range(n)]
    diag = [c2((k,)) if act[k] else 0.0 for k in range(n)]
    for k in range(n):
        h[k][k] = 2.0 * diag[k]
        for m in range(k + 1, n):
            if act[k] and act[m]:
                h[k][m] = h[m][k] = c2((k, m)) - diag[k] - diag[m]
    return h


def _declared_second(op: Any, n: int) -> Optional[list[list[float]]]:
    """The second local derivatives where the row's declared partials settle
    them without a call: constant factors (+, -) have none, and a factor that
    is argument m (x * y) has ∂/∂x_m = 1. None otherwise."""
    h = [[0.0] * n for _ in range(n)]
    if getattr(op, "variadic", False):
        return None
    for k, p in enumerate(op.partials):
        if p.const is not None:
            continue
        if p.arg is not None:
            h[k][p.arg] = 1.0
            continue
        return None
    return h


def _axpy(acc: Optional[list[float]], c: float, v: list[float]) -> list[float]:
    """acc + c·v (acc None: c·v)."""
    if acc is None:
        return [c * x for x in v]
    return [u + c * x for u, x in zip(acc, v, strict=True)]


class _Second:
    """What every Hessian-vector product of one output shares: values, local
    factors, adjoints and each node's second local derivatives."""

    def __init__(self, graph: Graph, bindings: Mapping[str, float],
                 allowed: Optional[set[str]] = None) -> None:
        out = graph.output
        self.graph = graph
        # values, local factors, adjoints and conventions: the gradient's own sweeps (so
        # the errors and conventions are the gradient's too)
        with gc_paused():
            self.bound = check_bindings(graph, bindings, allowed)
            if getattr(graph, "has_where", False):  # only the branches taken, as eval
                self.values, taken = forward_lazy(graph, self.bound)
                self.adj, local, self.conventions = backward(graph, self.values, True, taken)
            else:
                self.values = forward(graph, self.bound)
                self.adj, local, self.conventions = backward(graph, self.values, True)
        self.local = local
        need = (evaluated(graph, self.bound, [out])[1] if getattr(graph, "has_where", False)
                else graph.reachable(out))  # (with where, only the branches taken)
        self.inputs = graph.output_variables()
        active, values = graph.active, self.values
        plan: list[tuple[int, tuple[int, ...], tuple[float, ...], list[list[float]]]] = []
        i = 0
        try:
            for i in range(out + 1):
                kept = local[i]
                if kept is None or not need[i]:
                    continue
                d = tuple(0.0 if x is None else x for x in kept)
                op = graph.op[i]
                assert op is not None
                args = graph.args(i)
                h = _declared_second(op, len(args))
                if h is None and getattr(op.taylor, "linear", False):
                    h = [[0.0] * len(args) for _ in args]  # piecewise linear: no curvature
                if h is None and len(args) > MAX_PROBED:
                    raise ValueError(f"second derivatives of {op.name} with more than "
                                     f"{MAX_PROBED} arguments are not available")
                if h is None:
                    if op.taylor is None:
                        raise ValueError(f"{op.name} has no Taylor rule")
                    xs = [values[j] for j in args]
                    h = _second_partials(op, xs, [bool(active[j]) for j in args])
                    if not all(_isfinite(x) for row in h for x in row):
                        raise OverflowError()
                plan.append((i, args, d, h))
        except (ValueError, ZeroDivisionError, OverflowError) as exc:
            raise _second_error(graph, values, i, exc) from None
        self.plan = plan
        #: the plan for one direction at a time: (i, a, b, d0, d1, h00, h01, h11), b = -1
        #: for a unary node; None when a node has more than two arguments
        scalar: Optional[list[tuple[int, int, int, float, float, float, float, float]]] = []
        for i, args, d, h in plan:
            if len(args) == 1:
                scalar.append((i, args[0], -1, d[0], 0.0, h[0][0], 0.0, 0.0))  # type: ignore[union-attr]
            elif len(args) == 2:
                scalar.append((i, args[0], args[1], d[0], d[1], h[0][0], h[0][1], h[1][1]))  # type: ignore[union-attr]
            else:
                scalar = None
                break
        self.scalar = scalar

    def products(self, directions: list[Mapping[str, float]]) -> list[dict[str, float]]:
        """H·v for each direction v, all at once: tangents and the reverse
        sweep's tangents carried as vectors (one entry per direction), so the
        interpreter's work per node is shared by the whole block."""
        graph, adj = self.graph, self.adj
        n = len(self.values)
        width = len(directions)
        T: list[Optional[list[float]]] = [None] * n
        for name in self.inputs:
            col = [float(v.get(name, 0.0)) for v in directions]
            if any(col):
                T[graph.variables[name]] = col
        plan = self.plan
        for i, args, d, _ in plan:  # tangents, left to right
            if len(args) == 2:
                ta, tb = T[args[0]], T[args[1]]
                if ta is not None and tb is not None:
                    d0, d1 = d
                    T[i] = [d0 * x + d1 * y for x, y in zip(ta, tb, strict=True)]
                    continue
            acc: Optional[list[float]] = None
            for k, j in enumerate(args):
                tj = T[j]
                if tj is not None and d[k] != 0.0:
                    acc = _axpy(acc, d[k], tj)
            T[i] = acc
        A: list[Optional[list[float]]] = [None] * n
        for i, args, d, h in reversed(plan):  # the reverse sweep's tangent
            gd = A[i]
            g = adj[i]
            for k, j in enumerate(args):
                acc = A[j]
                if gd is not None and d[k] != 0.0:
                    acc = _axpy(acc, d[k], gd)
                if g != 0.0:
                    row = h[k]
                    for m, jm in enumerate(args):
                        tm = T[jm]
                        if row[m] != 0.0 and tm is not None:
                            acc = _axpy(acc, g * row[m], tm)
                A[j] = acc
        zeros = [0.0] * width
        result: list[dict[str, float]] = [{} for _ in range(width)]
        for name in self.inputs:
            col = A[graph.variables[name]] or zeros
            if not all(map(_isfinite, col)):
                _check_finite(graph, col, "second derivative")
            for c in range(width):
                result[c][name] = col[c]
        return result

    def hvp(self, v: Mapping[str, float]) -> dict[str, float]:
        """H·v: the tangent of the reverse sweep in the direction v (one
        direction: plain numbers rather than vectors)."""
        if self.scalar is None:
            return self.products([v])[0]
        graph, adj = self.graph, self.adj
        n = len(self.values)
        t = [0.0] * n
        for name, x in v.items():
            t[graph.variables[name]] = x
        plan = self.scalar
        for i, a, b, d0, d1, _, _, _ in plan:  # tangents, left to right
            t[i] = d0 * t[a] + d1 * t[b] if b >= 0 else d0 * t[a]
        adot = [0.0] * n
        for i, a, b, d0, d1, h00, h01, h11 in reversed(plan):  # the reverse sweep's tangent
            g, gd = adj[i], adot[i]
            if b < 0:
                adot[a] += gd * d0 + g * h00 * t[a]
            else:
                ta, tb = t[a], t[b]
                adot[a] += gd * d0 + g * (h00 * ta + h01 * tb)
                adot[b] += gd * d1 + g * (h01 * ta + h11 * tb)
        _check_finite(graph, adot, "second derivative")
        return {name: adot[graph.variables[name]] for name in self.inputs}


#: the most arguments of a node whose second derivatives are probed through its
#: Taylor rule (k(k + 1)/2 calls); piecewise-linear rows (sum, max, where) have none
MAX_PROBED = 32

#: directions per block of a Hessian (the vectors' length)
BLOCK = 64


def _why(exc: Exception) -> str:
    """A rule's own explanation (not Python's "float division by zero")."""
    text = str(exc)
    if not text or "division by zero" in text or text.startswith(("math ", "integer ")):
        return ""
    return f" ({text})"


def _second_error(graph: Graph, values: list[float], i: int, exc: Exception) -> EvaluationError:
    return _rule_error(graph, values, i, exc, "the second local derivatives")


def _rule_error(graph: Graph, values: list[float], i: int, exc: Exception, what: str) -> EvaluationError:
    """The error for a node whose higher-order rule failed: `what` (the second
    local derivatives, the higher derivatives) are infinite, too large or
    undefined there, naming the node and its inputs as the other errors do."""
    names = graph.names()
    op = graph.op[i]
    expr = graph.expression(i, names)
    shown, inputs = _inputs_text(graph, values, i)
    how = ("infinite" if isinstance(exc, ZeroDivisionError) else
           "too large for a double" if isinstance(exc, OverflowError) else "undefined")
    return EvaluationError(
        "derivative", f"{what} of {names[i]} = {expr} are {how}" + _why(exc) + f", at node {names[i]}"
        + (f" with {shown}" if shown else ""),
        node=names[i], op=op.name if op is not None else "", expression=expr, inputs=inputs)


class HessianResult:
    """Second derivatives of one output: the matrix (`--hessian`) or one
    Hessian-vector product (`--hvp`)."""

    def __init__(self, output: str, inputs: list[str], value: float, gradient: dict[str, float],
                 matrix: Optional[list[list[float]]], vector: Optional[dict[str, float]],
                 product: Optional[dict[str, float]], sweeps: int, bindings: dict[str, float],
                 conventions: dict[str, list[str]]) -> None:
        self.output = output
        self.inputs = inputs
        self.value = value
        self.gradient = gradient
        self.matrix = matrix
        self.vector = vector
        self.product = product
        self.sweeps = sweeps
        self.bindings = bindings
        self.conventions = conventions

    def __repr__(self) -> str:
        return f"<HessianResult of {self.output} over {name_list(self.inputs)}>"


def _hessian_result(s: _Second, matrix: Optional[list[list[float]]], vector: Optional[dict[str, float]],
                    product: Optional[dict[str, float]], sweeps: int) -> HessianResult:
    g = s.graph
    names = g.names()
    grad = {v: s.adj[g.variables[v]] for v in s.inputs}
    notes = {names[i]: v for i, v in s.conventions.items()}
    return HessianResult(g.output_name, s.inputs, s.values[g.output], grad, matrix, vector, product,
                         sweeps, s.bound, notes)


def hessian(graph: Graph, bindings: Mapping[str, float], *,
            allowed: Optional[set[str]] = None) -> HessianResult:
    """The Hessian of the output: forward over reverse, one tangent pass
    through the reverse sweep per input (rows and columns: the inputs)."""
    s = _Second(graph, bindings, allowed)
    matrix = []
    for start in range(0, len(s.inputs), BLOCK):
        block = s.inputs[start:start + BLOCK]
        for col in s.products([{name: 1.0} for name in block]):
            matrix.append([col[v] for v in s.inputs])  # symmetric: column k is row k
    return _hessian_result(s, matrix, None, None, len(s.inputs))


def hvp(graph: Graph, bindings: Mapping[str, float], vector: Mapping[str, float], *,
        allowed: Optional[set[str]] = None) -> HessianResult:
    """H·v without building H: one tangent pass through the reverse sweep."""
    s = _Second(graph, bindings, allowed)
    v = _seed(graph, vector, s.inputs, "--hvp")
    return _hessian_result(s, None, v, s.hvp(v), 1)


# ---------------------------------------------------------------- Taylor series


class TaylorResult:
    """f, f', ..., f⁽ᴺ⁾ of the output along one variable (the others fixed)."""

    def __init__(self, output: str, variable: str, order: int, coefficients: list[float],
                 bindings: dict[str, float]) -> None:
        self.output = output
        self.variable = variable
        self.order = order
        #: Taylor coefficients c_k = f⁽ᵏ⁾/k!
        self.coefficients = coefficients
        self.bindings = bindings

    @property
    def derivatives(self) -> list[float]:
        return [c * math.factorial(k) for k, c in enumerate(self.coefficients)]

    def __repr__(self) -> str:
        return f"<TaylorResult of {self.output} in {self.variable} to order {self.order}>"


#: the largest --order accepted (the cost grows as N²)
MAX_ORDER = 100


def taylor(graph: Graph, bindings: Mapping[str, float], variable: Optional[str] = None,
           order: int = 2, *, allowed: Optional[set[str]] = None) -> TaylorResult:
    """Propagate truncated Taylor series in `variable` through the graph, one
    pass, each node by its row's Taylor rule."""
    if not 0 <= order <= MAX_ORDER:
        raise ProgramError(f"--order must be between 0 and {MAX_ORDER}, got {order}")
    out = graph.output
    inputs = graph.output_variables()
    if variable is None:
        if len(inputs) != 1:
            raise ProgramError("--order needs the variable when the output has several inputs "
                               f"({name_list(inputs)}): --wrt NAME")
        variable = inputs[0]
    if variable not in graph.variables:
        raise ProgramError(f"{escape_text(variable, 60)} is not an input of the program "
                           f"(its inputs: {name_list(inputs) or 'none'})")
    bound = check_bindings(graph, bindings, allowed)
    values, need = evaluated(graph, bound, [out])
    n = order + 1
    zeros = [0.0] * order
    series: list[Optional[list[float]]] = [None] * len(values)
    v = graph.variables[variable]
    series[v] = [values[v], 1.0] + [0.0] * (order - 1) if order else [values[v]]
    i = 0
    try:
        for i in range(v + 1, out + 1):
            op = graph.op[i]
            if op is None or not need[i]:
                continue
            args = graph.args(i)
            if all(series[j] is None for j in args):
                continue  # does not depend on the variable: a constant series
            if op.taylor is None:
                raise ValueError(f"{op.name} has no Taylor rule")
            s = op.taylor(*[series[j] if series[j] is not None else [values[j]] + zeros
                            for j in args])
            s[0] = values[i]  # the value rule's own c₀, bit for bit
            if not all(map(_isfinite, s)):
                raise OverflowError()
            series[i] = s
    except (ValueError, ZeroDivisionError, OverflowError) as exc:
        raise _taylor_error(graph, values, i, exc) from None
    coefficients = series[out] or [values[out]] + zeros
    assert len(coefficients) == n
    return TaylorResult(graph.output_name, variable, order, coefficients, bound)


def _taylor_error(graph: Graph, values: list[float], i: int, exc: Exception) -> EvaluationError:
    return _rule_error(graph, values, i, exc, "the higher derivatives")


def describe_number(x: float) -> str:
    return format_number(x)
