"""Exact rational evaluation (`eval --exact`): values, local factors, adjoints
and the gradient as fractions.Fraction, where every operation allows it.

Each node's exact value and local factors are read off its row's Taylor rule
at order 1 (c₀ is the value, c₁ along argument k the factor ∂node/∂arg_k):
the rules use + − × ÷ and integer powers on the coefficients, so +, −, ×, ÷,
integer powers, abs, min, max, relu (and the square root of a rational
square) stay rational, while sin, exp, log, a non-integer power... give a
float, which is how an operation that leaves the rationals is recognised.
Then it is an error naming the node (or, with ``auto``, that node and
everything that depends on it are evaluated in floating point and marked).
Domain errors are the float path's own (each node's value rule is checked on
the float values first). A number over EXACT_DIGITS digits is an error, and a
power is refused before it is computed.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Any, Mapping, Optional, Union

from .errors import BindingError, EvaluationError
from .evaluate import _inputs_text, _note_kinks, _value_error, check_bindings
from .graph import Graph
from .higher import node_factors, node_value
from .ops import EXACT_DIGITS

__all__ = ["ExactResult", "evaluate_exact", "to_fraction", "exact_text", "EXACT_DIGITS"]

Number = Union[Fraction, float]
_BITS = int(EXACT_DIGITS * 3.3219280948873626) + 1
_RATIONAL = re.compile(r"\s*[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
                       r"(?:\s*/\s*[0-9]+)?\s*\Z")


def to_fraction(value: Any, name: str = "") -> Fraction:
    """A binding as an exact rational: "1/3", "0.1" (exactly 1/10), 2, or a
    float read as its shortest decimal (0.1 is 1/10)."""
    if isinstance(value, Fraction):
        return value
    if isinstance(value, bool):
        raise BindingError(f"the value for {name} is not a number: {value!r}", name)
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise BindingError(f"the value for {name} must be a finite number, got {value!r}", name)
        return Fraction(repr(value))
    if isinstance(value, str) and _RATIONAL.match(value):
        text = value.replace(" ", "")
        num, _, den = text.partition("/")
        if den and int(den) == 0:
            raise BindingError(f"the value for {name} divides by zero: {value}", name)
        if len(text) > _PARSE_DIGITS:
            raise BindingError(f"the value for {name} has more than {_PARSE_DIGITS:,} digits (the "
                               "most a number read from text may have)", name)
        if len(text) > EXACT_DIGITS:
            raise BindingError(f"the value for {name} has more than {EXACT_DIGITS:,} digits", name)
        mantissa, _, exponent = num.lower().partition("e")
        if exponent and abs(int(exponent)) > EXACT_DIGITS:
            raise BindingError(f"the value for {name} has more than {EXACT_DIGITS:,} digits", name)
        return Fraction(num) / Fraction(den or 1)
    raise BindingError(f"the value for {name} is not a rational number: {value!r} (write 5, "
                       "-2.5, 1e-3 or 1/3)", name)


#: Python reads integers of at most 4,300 digits from text (sys.get_int_max_str_digits)
_PARSE_DIGITS = 4_000


def exact_text(x: Number) -> str:
    """"1/9", "-2", or a float's repr for a node that left the rationals."""
    if isinstance(x, Fraction):
        return str(x)
    return repr(float(x))


class ExactResult:
    """Values, local factors and adjoints as Fractions; `inexact` holds the
    nodes evaluated in floating point (only with auto)."""

    def __init__(self, graph: Graph, bindings: dict[str, Fraction], values: list[Number],
                 local: list[Optional[tuple[Optional[Number], ...]]], adjoints: list[Number],
                 inexact: set[int], conventions: dict[int, list[str]]) -> None:
        self.graph = graph
        self.bindings = bindings
        self.values = values
        self.local = local
        self.adjoints = adjoints
        self.inexact = inexact
        self.conventions = conventions

    @property
    def output(self) -> str:
        return self.graph.output_name

    @property
    def value(self) -> Number:
        return self.values[self.graph.output]

    @property
    def gradient(self) -> dict[str, Number]:
        var, adj = self.graph.variables, self.adjoints
        return {v: adj[var[v]] for v in self.graph.output_variables()}

    def is_exact(self, i: int) -> bool:
        return i not in self.inexact

    def __repr__(self) -> str:
        return f"<ExactResult {self.output} = {exact_text(self.value)}>"


def _float(x: Number) -> float:
    try:
        return float(x)
    except OverflowError:
        return math.inf if x > 0 else -math.inf


def _too_big(x: Number) -> bool:
    return isinstance(x, Fraction) and (x.numerator.bit_length() > _BITS
                                        or x.denominator.bit_length() > _BITS)


def _size_error(graph: Graph, values: list[Any], i: int, what: str) -> EvaluationError:
    names = graph.names()
    op = graph.op[i]
    expr = graph.expression(i, names)
    shown, inputs = _inputs_text(graph, [_float(v) for v in values], i)
    return EvaluationError(
        "overflow", f"the exact {what} at node {names[i]} = {expr} would have more than "
        f"{EXACT_DIGITS:,} digits (--exact's limit)", node=names[i],
        op=op.name if op is not None else graph.kind(i), expression=expr, inputs=inputs)


def _inexact_error(graph: Graph, values: list[Any], i: int) -> EvaluationError:
    names = graph.names()
    op = graph.op[i]
    expr = graph.expression(i, names)
    _, inputs = _inputs_text(graph, [_float(v) for v in values], i)
    shown = ", ".join(f"{names[j]} = {exact_text(values[j])}" for j in dict.fromkeys(graph.args(i))
                      if graph.kind(j) != "constant")
    if op is None:
        message = f"--exact: the constant {names[i]} is not a rational number"
    else:
        message = (f"--exact: {op.name} leaves the rational numbers, at node {names[i]} = {expr}"
                   + (f" with {shown}" if shown else ""))
    return EvaluationError(
        "inexact", message, node=names[i],
        op=op.name if op is not None else graph.kind(i), expression=expr, inputs=inputs,
        hint="--exact=auto evaluates such nodes, and what depends on them, in floating point")


def evaluate_exact(graph: Graph, bindings: Mapping[str, Any], *, auto: bool = False,
                   allowed: Optional[set[str]] = None) -> ExactResult:
    """Evaluate and differentiate the output with rationals (see the module)."""
    fractions = {k: to_fraction(v, k) for k, v in bindings.items()}
    floats: dict[str, float] = {}
    for var, exact in fractions.items():
        try:
            floats[var] = float(exact)
        except OverflowError:
            raise BindingError(f"the value for {var} is too large for a double", var) from None
    bound = check_bindings(graph, floats, allowed)  # names, missing values, doubles' range
    out = graph.output
    if getattr(graph, "has_where", False):  # only the branches taken at this point
        from .higher import evaluated

        need = evaluated(graph, bound, [out])[1]
    else:
        need = graph.reachable(out)
    n = len(graph.op)
    values: list[Number] = [0.0] * n
    fvalues: list[float] = [0.0] * n  # the float path, for its domain checks and messages
    local: list[Optional[tuple[Optional[Number], ...]]] = [None] * n
    inexact: set[int] = set()
    conventions: dict[int, list[str]] = {}
    active = graph.active
    for i in range(out + 1):
        if not need[i]:
            continue
        op = graph.op[i]
        if op is None:
            c = graph.const[i]
            if c is None:  # an input
                name = graph.names()[i]
                values[i] = fractions.get(name, Fraction(0))
                fvalues[i] = bound.get(name, 0.0)
            elif graph.is_literal(i):
                values[i] = Fraction(repr(c))  # the number as written: 0.1 is 1/10
                fvalues[i] = c
            else:  # pi, e
                if not auto:
                    raise _inexact_error(graph, values, i)
                values[i] = fvalues[i] = c
                inexact.add(i)
            continue
        args = graph.args(i)
        fxs = [fvalues[j] for j in args]
        exact_args = all(j not in inexact for j in args)
        overflow: Optional[Exception] = None
        try:  # the float rule: its domain errors are the exact path's too
            fvalues[i] = node_value(op, fxs)
            if not math.isfinite(fvalues[i]):
                raise OverflowError()
        except (ValueError, ZeroDivisionError, OverflowError, TypeError) as exc:
            # (a rational may exceed a double's range: then only the exact rule decides)
            if not exact_args or not (isinstance(exc, OverflowError)
                                      or not all(map(math.isfinite, fxs))):
                raise _value_error(graph, fvalues, i, exc) from None
            overflow = exc
            fvalues[i] = math.inf
        xs = [values[j] for j in args]
        got: Optional[tuple[Number, tuple[Optional[Number], ...]]] = None
        if exact_args and op.taylor is not None:
            try:
                got = _exact_node(op, xs, [bool(active[j]) for j in args])
            except OverflowError:
                raise _size_error(graph, values, i, "value") from None
            except (ValueError, ZeroDivisionError) as exc:
                if overflow is not None:
                    raise _value_error(graph, fvalues, i, exc) from None
                got = None  # (a float-path rule would have raised above: treat as inexact)
            if got is not None and (not isinstance(got[0], Fraction) or any(
                    d is not None and not isinstance(d, Fraction) for d in got[1])):
                got = None
            if got is None and not auto:
                raise _inexact_error(graph, values, i)
        if got is None:
            if overflow is not None:
                raise _value_error(graph, fvalues, i, overflow)
            inexact.add(i)
            values[i] = fvalues[i]
            try:
                rules = node_factors(op, fxs, fvalues[i], [bool(active[j]) for j in args])
                factors: tuple[Optional[Number], ...] = tuple(
                    None if not active[j] else
                    Fraction(getattr(op.partials[k], "const", None) or 0)
                    if not getattr(op, "variadic", False) and op.partials[k].const is not None
                    else rules[k] for k, j in enumerate(args))
            except (ValueError, ZeroDivisionError, OverflowError) as exc:
                from .evaluate import _derivative_error

                raise _derivative_error(graph, fvalues, i, exc) from None
            local[i] = factors
        else:
            values[i], exact_factors = got
            local[i] = exact_factors
            if _too_big(values[i]) or any(_too_big(d) for d in exact_factors if d is not None):
                raise _size_error(graph, values, i, "value")
        if op.has_kinks and active[i]:
            _note_kinks(graph, op, i, fvalues, conventions)
    adjoints: list[Number] = [Fraction(0)] * n
    adjoints[out] = Fraction(1)
    for i in range(out, -1, -1):
        kept = local[i]
        if kept is None or not active[i]:
            continue
        g = adjoints[i]
        for k, j in enumerate(graph.args(i)):
            d = kept[k]
            if d is not None:
                adjoints[j] = adjoints[j] + g * d
                if _too_big(adjoints[j]):
                    raise _size_error(graph, values, i, "adjoint")
    for i in range(n):  # a float adjoint marks the inputs it reached
        if not isinstance(adjoints[i], Fraction) and graph.op[i] is None:
            inexact.add(i)
    bound_exact = {k: fractions[k] for k in bound}
    return ExactResult(graph, bound_exact, values, local, adjoints, inexact, conventions)


def _exact_node(op: Any, xs: list[Number], act: list[bool]
                ) -> tuple[Number, tuple[Optional[Number], ...]]:
    """The value and the local factors of one node by the row's Taylor rule
    at order 1, one call per active argument."""
    zero = Fraction(0)
    factors: list[Optional[Number]] = []
    value: Optional[Number] = None
    for k in range(len(xs)):
        if not act[k]:
            factors.append(None)
            continue
        s = op.taylor(*[[x, Fraction(1) if m == k else zero] for m, x in enumerate(xs)])
        value = s[0]
        factors.append(_rational(s[1]))
    if value is None:
        value = op.taylor(*[[x, zero] for x in xs])[0]
    return _rational(value), tuple(factors)


def _rational(x: Any) -> Number:
    if isinstance(x, int) and not isinstance(x, bool):
        return Fraction(x)
    return x
