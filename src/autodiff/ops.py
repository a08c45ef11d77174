"""THE table of operations.

Each row holds an operation's value rule beside the local-derivative rule for
each of its arguments (the chain-rule factor on that edge of the graph), in the
math's own notation, plus the domain the value rule needs. Adding a function is
one row here; the parser, the evaluator, the renderers, the README's function
list and the tests all read this table.

Value rules are plain float functions that *raise* outside their domain
(``math.log(0)`` raises ValueError, ``1.0/0.0`` ZeroDivisionError,
``math.exp(1000)`` OverflowError); the evaluator turns those into errors that
name the node. Rules never return complex numbers (``math.pow`` raises where
``**`` would return one).

A local-derivative rule is ``fn(*args, out) -> float``: it receives the
argument values and the node's own value (``exp``'s derivative reuses it).
``formula`` writes the same rule in terms of the parameter names; ``kink``
returns a short note when the rule applied a convention at a point where the
derivative does not exist (PyTorch's choices; see the README's Numerics).
"""

from __future__ import annotations

import math
import operator
import re
from typing import Callable, Optional

__all__ = ["Op", "Partial", "OPS", "FUNCTIONS", "OPERATORS", "CONSTANTS", "function_arities",
           "formula_for"]

Kink = Optional[Callable[..., Optional[str]]]


class Partial:
    """The local derivative of an operation with respect to one argument.

    `const` declares a derivative that is a constant (d(x+y)/dx = 1), `arg` one
    that is the value of argument `arg` (d(x*y)/dx = y), `of_x` one that is a
    function of the argument alone (sin' = cos), `is_out` one that is the node's
    value (exp' = exp): the reverse sweep then uses the number, or calls the
    function, directly instead of calling `fn` (which says the same)."""

    __slots__ = ("fn", "formula", "kink", "const", "arg", "of_x", "is_out")

    def __init__(self, fn: Callable[..., float], formula: str, kink: Kink = None, *,
                 const: Optional[float] = None, arg: Optional[int] = None,
                 of_x: Optional[Callable[[float], float]] = None, is_out: bool = False) -> None:
        self.fn = fn
        self.formula = formula
        self.kink = kink
        self.const = const
        self.arg = arg
        self.of_x = of_x
        self.is_out = is_out

    @classmethod
    def function_of_x(cls, f: Callable[[float], float], formula: str) -> Partial:
        """d/dx is f(x), a (C) function of the argument alone: sin' = cos."""
        return cls(lambda x, out: f(x), formula, of_x=f)

    @classmethod
    def output(cls, formula: str) -> Partial:
        """d/dx is the node's own value: exp' = exp."""
        return cls(lambda x, out: out, formula, is_out=True)

    @classmethod
    def constant(cls, c: float) -> Partial:
        return cls(lambda *args: c, format(c, "g"), const=c)

    @classmethod
    def argument(cls, k: int, param: str) -> Partial:
        return cls(lambda *args: args[k], param, arg=k)

    def __repr__(self) -> str:
        return f"Partial({self.formula!r})"


class Op:
    """One row of the table. Rows are compared and hashed by identity: one row,
    one operation. (Plain classes rather than dataclasses: these modules load
    at every start of the command, and a dataclass costs a code generation.)"""

    __slots__ = ("name", "params", "value", "partials", "domain", "symbol", "doc",
                 "d0", "d1", "dx", "has_kinks", "code", "form", "c0", "c1")

    def __init__(self, name: str, params: tuple[str, ...], value: Callable[..., float],
                 partials: tuple[Partial, ...], domain: str = "", symbol: str = "",
                 doc: str = "") -> None:
        assert len(partials) == len(params), name
        self.name = name  # the operation's name: JSON "op", the function as written
        self.params = params  # parameter names used in `formula`s and docs
        self.value = value  # the value rule
        self.partials = partials  # one local-derivative rule per parameter
        self.domain = domain  # where the value rule is defined, in words ("" = everywhere)
        self.symbol = symbol  # infix/prefix operator ("+", "-", ...), "" for functions
        self.doc = doc
        # Derived once, for the evaluation loops.
        self.d0 = partials[0].fn
        self.d1 = partials[1].fn if len(partials) > 1 else None
        self.has_kinks = any(p.kink is not None for p in partials)
        self.code = -1  # the row's index in OPS, set below
        # How the reverse sweep may skip calling the partials: form 1 when both
        # local factors are constants (c0 = 1, c1), form 5 when the one factor
        # is -1, form 2 when each is the value of the other argument (x * y),
        # form 3 a function of x alone, form 4 the node's value; form 0 calls them.
        consts = [p.const for p in partials]
        self.form = 0
        self.c0 = self.c1 = 0.0
        if all(c is not None for c in consts):
            # (the reverse sweep relies on these: c0 is 1 for binary rows, -1 for unary ones)
            assert consts[0] == (1.0 if len(consts) == 2 else -1.0), name
            self.form = 1 if len(consts) == 2 else 5
            self.c0 = float(consts[0])
            self.c1 = float(consts[-1])  # type: ignore[arg-type]
        elif len(partials) == 2 and partials[0].arg == 1 and partials[1].arg == 0:
            self.form = 2
        elif len(partials) == 1 and partials[0].of_x is not None:
            self.form = 3  # d/dx = dx(x)
        elif len(partials) == 1 and partials[0].is_out:
            self.form = 4  # d/dx = the node's value
        self.dx = partials[0].of_x
    @property
    def arity(self) -> int:
        return len(self.params)

    def __repr__(self) -> str:
        return f"Op({self.name!r}, {self.params!r})"


# ---------------------------------------------------------------- helpers


def _pow(x: float, y: float) -> float:
    # math.pow raises instead of returning a complex number or a huge integer.
    return math.pow(x, y)


def _pow_dx(x: float, y: float, out: float) -> float:
    if y == 0.0:
        return 0.0  # x^0 is the constant 1, at x = 0 too
    if x == 0.0 and y < 1.0:
        raise ZeroDivisionError("0 to a negative power")  # infinite slope, as sqrt at 0
    return y * math.pow(x, y - 1.0)


def _pow_dy(x: float, y: float, out: float) -> float:
    if x == 0.0:
        return 0.0  # PyTorch masks d/dy at base 0 (for y >= 0; y < 0 failed already)
    return out * math.log(x)  # raises for a negative base: log(x) is undefined


def _pow_kink_x(x: float, y: float) -> Optional[str]:
    return "x^0 has derivative 0, at x = 0 too" if y == 0.0 and x == 0.0 else None


def _pow_kink_y(x: float, y: float) -> Optional[str]:
    return "d(x^y)/dy taken as 0 at x = 0" if x == 0.0 else None


def _sigmoid(x: float) -> float:
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def _softplus(x: float) -> float:
    # log(1 + e^x) without overflow: max(x, 0) + log1p(e^-|x|)
    return (x if x > 0.0 else 0.0) + math.log1p(math.exp(-abs(x)))


def _relu(x: float) -> float:
    return x if x > 0.0 else 0.0


def _sign0(x: float, out: float) -> float:
    return 1.0 if x > 0.0 else (-1.0 if x < 0.0 else 0.0)


def _at_zero(what: str) -> Callable[..., Optional[str]]:
    def kink(x: float) -> Optional[str]:
        return what if x == 0.0 else None

    return kink


def _tie(x: float, y: float) -> Optional[str]:
    return "tie: adjoint split evenly (0.5 each)" if x == y else None


def _over_r2(num: float, y: float, x: float) -> float:
    """num / (x^2 + y^2), as written when x^2 + y^2 is a normal double (so
    d atan2(1, 2)/dy is exactly 0.4), else through hypot, which neither
    overflows nor underflows."""
    r2 = x * x + y * y
    if 1e-300 < r2 < 1e300:
        return num / r2
    h = math.hypot(x, y)
    return (num / h) / h  # (0, 0): division by zero


def _log_base(x: float, b: float) -> float:
    return math.log(x) / math.log(b)  # base 1: division by zero


_LN2 = math.log(2.0)
_LN10 = math.log(10.0)


def _unary(name: str, value: Callable[[float], float], d: Callable[[float, float], float],
           formula: str, domain: str = "", doc: str = "", kink: Kink = None) -> Op:
    return Op(name, ("x",), value, (Partial(d, formula, kink),), domain, doc=doc)


# ---------------------------------------------------------------- the table

OPS: tuple[Op, ...] = (
    # -- arithmetic operators
    Op("add", ("x", "y"), operator.add, (Partial.constant(1.0), Partial.constant(1.0)),
       symbol="+", doc="x + y"),
    Op("sub", ("x", "y"), operator.sub, (Partial.constant(1.0), Partial.constant(-1.0)),
       symbol="-", doc="x - y"),
    Op("mul", ("x", "y"), operator.mul, (Partial.argument(1, "y"), Partial.argument(0, "x")),
       symbol="*", doc="x * y"),
    Op("div", ("x", "y"), operator.truediv,
       (Partial(lambda x, y, out: 1.0 / y, "1/y"), Partial(lambda x, y, out: -out / y, "-x/y^2")),
       domain="y != 0", symbol="/", doc="x / y"),
    Op("pow", ("x", "y"), _pow,
       (Partial(_pow_dx, "y*x^(y-1)", _pow_kink_x), Partial(_pow_dy, "x^y*log(x)", _pow_kink_y)),
       domain="x > 0, or x = 0 with y >= 0, or x < 0 with y an integer",
       symbol="^", doc="x ^ y, x ** y, pow(x, y)"),
    Op("neg", ("x",), operator.neg, (Partial.constant(-1.0),), symbol="-", doc="-x"),
    # -- exponentials and logarithms
    Op("exp", ("x",), math.exp, (Partial.output("exp(x)"),)),
    _unary("expm1", math.expm1, lambda x, out: out + 1.0, "exp(x)", doc="exp(x) - 1, exact near 0"),
    _unary("log", math.log, lambda x, out: 1.0 / x, "1/x", "x > 0", doc="natural logarithm"),
    Op("log", ("x", "b"), _log_base,
       (Partial(lambda x, b, out: 1.0 / (x * math.log(b)), "1/(x*log(b))"),
        Partial(lambda x, b, out: -out / (b * math.log(b)), "-log(x)/(b*log(b)^2)")),
       domain="x > 0, b > 0, b != 1", doc="log(x, b): logarithm to base b"),
    _unary("log1p", math.log1p, lambda x, out: 1.0 / (1.0 + x), "1/(1+x)", "x > -1",
           doc="log(1 + x), exact near 0"),
    _unary("log2", math.log2, lambda x, out: 1.0 / (x * _LN2), "1/(x*log(2))", "x > 0"),
    _unary("log10", math.log10, lambda x, out: 1.0 / (x * _LN10), "1/(x*log(10))", "x > 0"),
    _unary("sqrt", math.sqrt, lambda x, out: 0.5 / out, "1/(2*sqrt(x))", "x >= 0"),
    # -- piecewise
    _unary("abs", abs, _sign0, "sign(x)", kink=_at_zero("abs'(0) = 0")),
    _unary("relu", _relu, lambda x, out: 1.0 if x > 0.0 else 0.0, "(x > 0 ? 1 : 0)",
           doc="max(x, 0)", kink=_at_zero("relu'(0) = 0")),
    Op("min", ("x", "y"), min,
       (Partial(lambda x, y, out: 1.0 if x < y else (0.5 if x == y else 0.0), "(x < y ? 1 : 0)", _tie),
        Partial(lambda x, y, out: 1.0 if y < x else (0.5 if x == y else 0.0), "(y < x ? 1 : 0)", _tie))),
    Op("max", ("x", "y"), max,
       (Partial(lambda x, y, out: 1.0 if x > y else (0.5 if x == y else 0.0), "(x > y ? 1 : 0)", _tie),
        Partial(lambda x, y, out: 1.0 if y > x else (0.5 if x == y else 0.0), "(y > x ? 1 : 0)", _tie))),
    # -- trigonometric
    Op("sin", ("x",), math.sin, (Partial.function_of_x(math.cos, "cos(x)"),)),
    _unary("cos", math.cos, lambda x, out: -math.sin(x), "-sin(x)"),
    _unary("tan", math.tan, lambda x, out: 1.0 + out * out, "1 + tan(x)^2"),
    _unary("asin", math.asin, lambda x, out: 1.0 / math.sqrt(1.0 - x * x), "1/sqrt(1 - x^2)",
           "-1 <= x <= 1"),
    _unary("acos", math.acos, lambda x, out: -1.0 / math.sqrt(1.0 - x * x), "-1/sqrt(1 - x^2)",
           "-1 <= x <= 1"),
    _unary("atan", math.atan, lambda x, out: 1.0 / (1.0 + x * x), "1/(1 + x^2)"),
    Op("atan2", ("y", "x"), math.atan2,
       (Partial(lambda y, x, out: _over_r2(x, y, x), "x/(x^2 + y^2)"),
        Partial(lambda y, x, out: _over_r2(-y, y, x), "-y/(x^2 + y^2)")),
       doc="angle of the point (x, y)"),
    Op("hypot", ("x", "y"), math.hypot,
       (Partial(lambda x, y, out: x / out, "x/hypot(x, y)"),
        Partial(lambda x, y, out: y / out, "y/hypot(x, y)")),
       doc="sqrt(x^2 + y^2) without overflow"),
    # -- hyperbolic and neural-network activations
    Op("sinh", ("x",), math.sinh, (Partial.function_of_x(math.cosh, "cosh(x)"),)),
    Op("cosh", ("x",), math.cosh, (Partial.function_of_x(math.sinh, "sinh(x)"),)),
    _unary("tanh", math.tanh, lambda x, out: 1.0 - out * out, "1 - tanh(x)^2"),
    _unary("sigmoid", _sigmoid, lambda x, out: out * (1.0 - out), "sigmoid(x)*(1 - sigmoid(x))",
           doc="1/(1 + exp(-x)), without overflow"),
    Op("softplus", ("x",), _softplus, (Partial.function_of_x(_sigmoid, "sigmoid(x)"),),
       doc="log(1 + exp(x)), without overflow"),
)

for _code, _op in enumerate(OPS):
    _op.code = _code

#: operators by grammar alias
OPERATORS: dict[str, Op] = {op.name: op for op in OPS if op.symbol}

#: functions callable by name: (name, number of arguments) -> Op
FUNCTIONS: dict[tuple[str, int], Op] = {(op.name, op.arity): op for op in OPS if not op.symbol}
FUNCTIONS[("pow", 2)] = OPERATORS["pow"]

#: named constants; they cannot be bound or assigned
CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}


def function_arities() -> dict[str, list[int]]:
    """Each callable function name with the numbers of arguments it accepts."""
    out: dict[str, list[int]] = {}
    for name, n in sorted(FUNCTIONS):
        out.setdefault(name, []).append(n)
    return out


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def formula_for(op: Op, k: int, arg_names: list[str] | tuple[str, ...]) -> str:
    """The local derivative of `op` with respect to its argument k, written in
    the program's own names: for ``u = b * c``, ``formula_for(mul, 0, ["b", "c"])``
    is ``"c"``. Parameters are replaced as whole words, in one pass (a name that
    is itself a parameter name is not replaced again); a negative constant such
    as ``-3`` is parenthesised inside a larger formula."""
    formula = op.partials[k].formula
    subst = dict(zip(op.params, arg_names, strict=True))
    if formula in subst:
        return subst[formula]

    def replace(m: re.Match[str]) -> str:
        word = m.group()
        if word not in subst:
            return word
        name = subst[word]
        before, after = formula[m.start() - 1:m.start()], formula[m.end():m.end() + 1]
        enclosed = before in ("(", " ") and after in (")", ",")  # log(-2), not log((-2))
        return f"({name})" if name.startswith("-") and not enclosed else name

    return _WORD.sub(replace, formula)
