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
from typing import Any, Callable, Optional

from . import special

__all__ = ["Op", "Partial", "Variadic", "VARIADIC", "COMPARISONS", "OPS", "FUNCTIONS",
           "OPERATORS", "CONSTANTS", "function_arities",
           "formula_for", "SOURCE_NAMES", "FORM_CALL", "FORM_CONST", "FORM_SWAP", "FORM_OF_X",
           "FORM_OUT", "FORM_NEG", "NUMPY_NAMES", "numpy_source"]

Kink = Optional[Callable[..., Optional[str]]]

# How the tuned reverse sweep (evaluate.backward) and the compiled sweeps get a
# node's local factors without calling the rule, derived from what the row
# declares. The traced sweep always calls the rules; a test checks that both
# sweeps give the same adjoints bit for bit.
FORM_CALL = 0  # call each partial's rule
FORM_CONST = 1  # binary, constant factors 1 and `const1`: x + y, x - y
FORM_SWAP = 2  # binary, each factor the other argument: x * y
FORM_OF_X = 3  # unary, a (C) function of x alone, called directly: sin' = cos
FORM_OUT = 4  # unary, the node's own value: exp' = exp
FORM_NEG = 5  # unary, the constant -1: -x


class Partial:
    """The local derivative of an operation with respect to one argument.

    `fn(*args, out)` is the rule; `formula` writes it in the language's own
    notation over the row's parameter names (what the table, graph and explain
    show, and what a test evaluates against `fn`). The rest declares its shape
    so that the sweeps need not call `fn`: `const` a constant (d(x+y)/dx = 1),
    `arg` the value of argument `arg` (d(x*y)/dx = y), `of_x` a function of
    the argument alone (sin' = cos), `is_out` the node's value (exp' = exp).
    `np` is the rule as NumPy source over arrays (`np.*`, same placeholders),
    for `autodiff.compile` and the columnar batch path: derived from `py` when
    that is plain arithmetic or same-named `math` functions, or from `of_x`;
    it must compute what `fn` computes to within an ulp or two of NumPy's own
    functions, and give NaN or an infinity wherever `fn` raises.
    `py` is the rule as Python source for the compiled batch path, over `{0}`,
    `{1}` (the arguments) and `{out}`, using `math.*` and `SOURCE_NAMES`; it is
    derived from the declared shape, or written beside the rule where the rule
    is worth inlining; without it the compiled code calls `fn` (or `of_x`).
    Whatever it says must compute exactly what `fn` computes (a test checks it
    bit for bit). `kink` returns a note when `fn` applied a convention at a
    point where the derivative does not exist; `undefined` says why `fn` may
    be undefined where the value is not (for the error message)."""

    __slots__ = ("fn", "formula", "kink", "const", "arg", "of_x", "is_out", "py", "undefined", "np",
                 "expr")

    def __init__(self, fn: Callable[..., float], formula: str, kink: Kink = None, *,
                 const: Optional[float] = None, arg: Optional[int] = None,
                 of_x: Optional[Callable[[float], float]] = None, is_out: bool = False,
                 py: Optional[str] = None, undefined: str = "", np: Optional[str] = None,
                 expr: Optional[str] = None) -> None:
        self.fn = fn
        self.formula = formula
        #: the rule as an expression of the language over the parameters, for
        #: derivatives built as graphs (`autodiff diff`, `codegen`); the
        #: formula unless the formula is written outside the language or a
        #: form without cancellation or overflow is worth spelling out
        self.expr = formula if expr is None else expr
        self.kink = kink
        self.const = const
        self.arg = arg
        self.of_x = of_x
        self.is_out = is_out
        self.undefined = undefined  # why `fn` may raise ValueError, for the message
        if py is None:
            if const is not None:
                py = repr(float(const))
            elif arg is not None:
                py = "{" + str(arg) + "}"
            elif is_out:
                py = "{out}"
        self.py = py
        if np is None:
            np = numpy_source(py) if py is not None else (_NUMPY_OF.get(of_x) if of_x is not None else None)
        self.np = np

    @classmethod
    def function_of_x(cls, f: Callable[[float], float], formula: str, *,
                      np: Optional[str] = None) -> Partial:
        """d/dx is f(x), a (C) function of the argument alone: sin' = cos."""
        return cls(lambda x, out: f(x), formula, of_x=f, np=np)

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
    """One row of the table: everything any part of autodiff knows about one
    operation. Rows are compared and hashed by identity: one row, one
    operation. (Plain classes rather than dataclasses: these modules load at
    every start of the command, and a dataclass costs a code generation.)

    name     the operation's name: the function as written, JSON "op"
    params   parameter names, used by `formula`s and the docs
    value    the value rule: floats in, a float out; raises outside its domain
    partials one local-derivative rule (a Partial) per parameter
    domain   where `value` is defined, in words ("" = everywhere)
    symbol   the infix/prefix operator ("+", "-", ...); "" for a function
    doc      one line for the function list (README, `autodiff functions`)
    py       the value rule as Python source over {0}, {1} for the compiled
             batch path ("{0} + {1}"); None: the compiled code calls `value`
    finite   True when `value`, given finite arguments, returns a finite
             number or raises (exp raises OverflowError; sin is bounded); the
             compiled path then skips its finiteness check of the value
    tex      the LaTeX operator for explain's LaTeX (default \\operatorname{name})
    error    optional `error(xs, exc) -> (kind, what) | None`: a message for a
             value error more precise than the generic one (pow of a negative
             base), and `hint` a line of advice shown with an overflow
    np       the value rule as NumPy source over arrays ("np.sin({0})"), for
             `autodiff.compile` and the columnar batch path; derived from `py`
             or from `value` (math.sin -> np.sin) where it can be; None: the
             row cannot run on arrays (those paths refuse it, by name)
    taylor   the Taylor rule: `taylor(*series) -> series`, the truncated
             Taylor series of the value given each argument's (lists of
             coefficients c_k = f^(k)/k!, all the same length). Written with
             + - * / on the coefficients and the row's own value function for
             c_0, so that rational coefficients stay rational where the
             operation allows it. `--order N` propagates these through the
             graph; the Hessian's second local derivatives and `--exact`'s
             rational values and local factors are read off them too (order 2
             and order 1), so this one rule serves every derivative beyond the
             first-order rules above.
    """

    __slots__ = ("name", "params", "value", "partials", "domain", "symbol", "doc", "py", "finite",
                 "tex", "error", "hint", "np", "local0", "local1", "local_of_x", "has_kinks", "index",
                 "form", "const1", "spell", "taylor")

    def __init__(self, name: str, params: tuple[str, ...], value: Callable[..., float],
                 partials: tuple[Partial, ...], domain: str = "", symbol: str = "",
                 doc: str = "", *, py: Optional[str] = None, finite: bool = False,
                 tex: Optional[str] = None,
                 error: Optional[Callable[[list[float], Exception], Optional[tuple[str, str]]]] = None,
                 hint: str = "", np: Optional[str] = None,
                 spell: Optional[dict[str, str]] = None,
                 taylor: Optional[Callable[..., list[Any]]] = None) -> None:
        self.taylor = taylor
        assert len(partials) == len(params), name
        self.name = name
        self.params = params
        self.value = value
        self.partials = partials
        self.domain = domain
        self.symbol = symbol
        self.doc = doc
        self.py = py
        self.finite = finite
        self.tex = tex if tex is not None else r"\operatorname{" + name.replace("_", r"\_") + "}"
        self.error = error
        self.hint = hint
        if np is None:
            np = numpy_source(py) if py is not None else _NUMPY_OF.get(value)
        self.np = np
        self.spell: dict[str, str] = {} if spell is None else spell
        # Derived once, for the evaluation loops.
        self.local0 = partials[0].fn
        self.local1 = partials[1].fn if len(partials) > 1 else None
        self.local_of_x = partials[0].of_x
        self.has_kinks = any(p.kink is not None for p in partials)
        self.index = -1  # the row's position in OPS, set below
        consts = [p.const for p in partials]
        self.form = FORM_CALL
        self.const1 = 0.0
        if all(c is not None for c in consts):
            # (the reverse sweep relies on these: the first factor is 1 for a
            # binary row, -1 for a unary one)
            assert consts[0] == (1.0 if len(consts) == 2 else -1.0), name
            self.form = FORM_CONST if len(consts) == 2 else FORM_NEG
            self.const1 = float(consts[-1])  # type: ignore[arg-type]
        elif len(partials) == 2 and partials[0].arg == 1 and partials[1].arg == 0:
            self.form = FORM_SWAP
        elif len(partials) == 1 and partials[0].of_x is not None:
            self.form = FORM_OF_X
        elif len(partials) == 1 and partials[0].is_out:
            self.form = FORM_OUT

    #: True for a row that takes any number of arguments (`Variadic`)
    variadic = False

    @property
    def arity(self) -> int:
        return len(self.params)

    def nvalue(self, xs: list[float]) -> float:
        """The value rule on a list of arguments (nodes of 3 or more inputs)."""
        return self.value(*xs)

    def nlocals(self, xs: list[float], out: float) -> list[float]:
        """Every argument's local factor, in one call (nodes of 3 or more inputs)."""
        return [p.fn(*xs, out) for p in self.partials]

    def nkinks(self, xs: list[float]) -> list[str]:
        """The conventions applied at this point, for every argument."""
        notes: list[str] = []
        for p in self.partials:
            note = p.kink(*xs) if p.kink is not None else None
            if note and note not in notes:
                notes.append(note)
        return notes

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


def _pow_error(xs: list[float], exc: Exception) -> Optional[tuple[str, str]]:
    x, y = xs
    if x == 0.0 and y < 0.0:
        return "division_by_zero", "division by zero"
    if x < 0.0 and not isinstance(exc, OverflowError):
        return "domain", ("a negative base to a non-integer power is undefined "
                          "(autodiff never returns complex numbers)")
    return None


def _log_base_error(xs: list[float], exc: Exception) -> Optional[tuple[str, str]]:
    if isinstance(exc, ZeroDivisionError):
        return "division_by_zero", "division by zero (logarithm to base 1)"
    return None


def _sigmoid(x: float) -> float:
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def _sigmoid_d(x: float, out: float) -> float:
    # sigmoid(x)*(1 - sigmoid(x)) cancels for large x (1 - out is 0 from
    # x = 37 on, where the derivative is 8.5e-17); sigmoid(-x) is 1 - sigmoid(x)
    # computed without the subtraction, so the product keeps every digit.
    return out * _sigmoid(-x)


def _tanh_d(x: float, out: float) -> float:
    # 1 - tanh(x)^2 cancels for large |x| (0 from |x| = 19.1 on, where the
    # derivative is about 1e-16); there it is 4e/(1 + e)^2 with e = exp(-2|x|),
    # which keeps every digit and underflows gracefully.
    if -0.5 < out < 0.5:
        return 1.0 - out * out  # no cancellation: out^2 < 1/4
    e = math.exp(-2.0 * abs(x))
    return 4.0 * e / ((1.0 + e) * (1.0 + e))


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


# ---------------------------------------------------------------- helpers of the rows added with issue 10


def _floor(x: float) -> float:
    return float(math.floor(x))


def _ceil(x: float) -> float:
    return float(math.ceil(x))


def _trunc(x: float) -> float:
    return float(math.trunc(x))


def _round(x: float) -> float:
    # half to even, as Python's round and PyTorch's torch.round
    return float(round(x))


def _sign(x: float) -> float:
    return 1.0 if x > 0.0 else (-1.0 if x < 0.0 else 0.0)


def _zero(x: float, out: float) -> float:
    return 0.0


def _at_integers(name: str) -> Callable[[float], Optional[str]]:
    def kink(x: float) -> Optional[str]:
        return f"{name}' taken as 0 at an integer (a jump)" if x == math.floor(x) else None

    return kink


def _trunc_kink(x: float) -> Optional[str]:
    # continuous at 0 (trunc is 0 on (-1, 1))
    return "trunc' taken as 0 at an integer (a jump)" if x == math.floor(x) and x != 0.0 else None


def _round_kink(x: float) -> Optional[str]:
    return "round' taken as 0 at a half-integer (a jump)" if x - math.floor(x) == 0.5 else None


def _mod(x: float, y: float) -> float:
    return x % y  # floored, as Python: the sign of y


def _mod_dy(x: float, y: float, out: float) -> float:
    return 0.0 - x // y  # -floor(x/y), with Python's exact floor division (0, not -0)


def _mod_kink(x: float, y: float) -> Optional[str]:
    if y != 0.0 and x % y == 0.0:
        return "x % y jumps where x/y is an integer: ∂ taken as 1 and -floor(x/y), as PyTorch"
    return None


def _cbrt_d(x: float, out: float) -> float:
    return 1.0 / (3.0 * out * out)  # infinite at 0: ZeroDivisionError


def _exp2(x: float) -> float:
    return math.pow(2.0, x)  # math.exp2 is Python 3.11+; pow raises OverflowError


def _acosh_d(x: float, out: float) -> float:
    # sqrt(x-1)*sqrt(x+1): exact next to 1, no overflow of x^2
    return 1.0 / (math.sqrt(x - 1.0) * math.sqrt(x + 1.0))


def _sec(x: float) -> float:
    return 1.0 / math.cos(x)


def _csc(x: float) -> float:
    return 1.0 / math.sin(x)  # sin(x) is 0 only at x = 0 among doubles


def _cot(x: float) -> float:
    return math.cos(x) / math.sin(x)


def _cot_d(x: float, out: float) -> float:
    s = math.sin(x)
    return -(1.0 / s) / s


_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _erf_d(x: float, out: float) -> float:
    return _TWO_OVER_SQRT_PI * special.exp_neg_square(x)


def _erfc_d(x: float, out: float) -> float:
    return -_TWO_OVER_SQRT_PI * special.exp_neg_square(x)


def _pole_error(what: str) -> Callable[[list[float], Exception], Optional[tuple[str, str]]]:
    def error(xs: list[float], exc: Exception) -> Optional[tuple[str, str]]:
        if isinstance(exc, ZeroDivisionError):
            return "division_by_zero", f"{what} (an infinite value)"
        return None

    return error


def _logaddexp(x: float, y: float) -> float:
    # log(exp(x) + exp(y)) without overflow: max + log1p(exp(-|x - y|))
    m = x if x > y else y
    return m + math.log1p(math.exp(-abs(x - y)))


def _xlogy(x: float, y: float) -> float:
    return 0.0 if x == 0.0 else x * math.log(y)  # 0 at x = 0, as PyTorch and SciPy


def _xlogy_dx(x: float, y: float, out: float) -> float:
    if x == 0.0 and y <= 0.0:
        return 0.0  # undefined (log(y) with y <= 0): PyTorch masks it to 0 there
    return math.log(y)


def _xlogy_dy(x: float, y: float, out: float) -> float:
    return 0.0 if x == 0.0 else x / y  # xlogy(0, y) is 0 for every y


def _xlogy_kink(x: float, y: float) -> Optional[str]:
    return "xlogy: ∂/∂x taken as 0 at x = 0, y <= 0" if x == 0.0 and y <= 0.0 else None


def _sinc(x: float) -> float:
    if x == 0.0:
        return 1.0
    return special.sinpi(x) / (math.pi * x)


_PI2 = math.pi * math.pi
_SINC_D = tuple((-1.0) ** k * 2.0 * k / math.factorial(2 * k + 1) for k in range(9, 0, -1))


def _sinc_d(x: float, out: float) -> float:
    # (cos(pi x) - sinc(x))/x cancels near 0: there its Taylor series,
    # pi^2 x sum_k (-1)^k 2k t^(k-1)/(2k+1)!, t = (pi x)^2
    if abs(x) < 0.25:
        t = _PI2 * x * x
        acc = 0.0
        for c in _SINC_D:
            acc = acc * t + c
        return _PI2 * x * acc
    return (special.cospi(x) - out) / x


_RADIAN = math.pi / 180.0
_DEGREE = 180.0 / math.pi


_LN2 = math.log(2.0)
_LN10 = math.log(10.0)

#: functions (besides `math`) that the `py` source of a row may call
SOURCE_NAMES: dict[str, Callable[..., float]] = {"sigmoid": _sigmoid}

# ---------------------------------------------------------------- NumPy spellings
#
# The array path (autodiff.arrays) evaluates a row's `np` source on whole
# columns. These helpers are the NumPy twins of the scalar rules above: the
# same operations in the same order, elementwise (np.where chooses per point).
# They import NumPy when first called, so this module never imports it.


def _np_sigmoid(x: Any) -> Any:
    import numpy as np

    # both branches are computed; the one not chosen may overflow (ignored)
    z = np.exp(x)
    return np.where(x >= 0.0, 1.0 / (1.0 + np.exp(-x)), z / (1.0 + z))


def _np_tanh_d(x: Any, out: Any) -> Any:
    import numpy as np

    e = np.exp(-2.0 * np.abs(x))
    return np.where((-0.5 < out) & (out < 0.5), 1.0 - out * out, 4.0 * e / ((1.0 + e) * (1.0 + e)))


def _np_softplus(x: Any) -> Any:
    import numpy as np

    return np.where(x > 0.0, x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def _np_sign0(x: Any) -> Any:
    import numpy as np

    return np.where(x > 0.0, 1.0, np.where(x < 0.0, -1.0, 0.0))  # +0.0 at 0 and -0.0, as _sign0


def _np_over_r2(num: Any, y: Any, x: Any) -> Any:
    import numpy as np

    r2 = x * x + y * y
    h = np.hypot(x, y)
    return np.where((1e-300 < r2) & (r2 < 1e300), num / r2, (num / h) / h)


#: functions (besides `np`) that the `np` source of a row may call
NUMPY_NAMES: dict[str, Callable[..., Any]] = {
    "sigmoid": _np_sigmoid, "tanh_d": _np_tanh_d, "softplus": _np_softplus, "sign0": _np_sign0,
    "over_r2": _np_over_r2}

# value rules and functions of x with a NumPy twin of the same meaning
_NUMPY_OF: dict[Any, str] = {
    **{getattr(math, f): f"np.{f}({{0}})" for f in (
        "exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "sin", "cos", "tan", "sinh", "cosh",
        "tanh")},
    math.asin: "np.arcsin({0})", math.acos: "np.arccos({0})", math.atan: "np.arctan({0})",
    math.atan2: "np.arctan2({0}, {1})", math.hypot: "np.hypot({0}, {1})", abs: "np.abs({0})",
    _pow: "np.power({0}, {1})", _sigmoid: "sigmoid({0})", _softplus: "softplus({0})",
    _relu: "np.where({0} > 0.0, {0}, 0.0)", _log_base: "np.log({0}) / np.log({1})",
    # Python's min(x, y) is x unless y < x (and max(x, y) x unless y > x): at a
    # tie of 0.0 and -0.0 the first argument, which np.minimum does not promise
    min: "np.where({1} < {0}, {1}, {0})", max: "np.where({1} > {0}, {1}, {0})",
}

_SAME_NAMED = frozenset(("sin", "cos", "tan", "sqrt", "exp", "log", "log1p", "expm1", "log2", "log10",
                         "sinh", "cosh", "tanh", "hypot"))
_PY_TOKEN = re.compile(r"\{(?:[0-9]+|out)\}|[0-9.]+(?:e[+-]?[0-9]+)?|[-+*/() ,]|math\.([a-z0-9]+)")


def numpy_source(py: str) -> Optional[str]:
    """The NumPy spelling of a row's `py` source when it is plain arithmetic
    over the placeholders and same-named `math` functions (math.sin is
    np.sin), else None."""
    pos = 0
    while pos < len(py):
        m = _PY_TOKEN.match(py, pos)
        if m is None or (m.group(1) is not None and m.group(1) not in _SAME_NAMED):
            return None
        pos = m.end()
    return py.replace("math.", "np.")


def _np_each(f: Callable[..., float]) -> Callable[..., Any]:
    """A scalar rule applied point by point (NaN where it raises): the NumPy
    spelling of a rule NumPy has no function for (erf, lgamma, ...); exact,
    and slower than a ufunc."""

    def each(*args: Any) -> Any:
        import numpy as np

        arrays = np.broadcast_arrays(*[np.asarray(a, dtype=np.float64) for a in args])
        out = np.empty(arrays[0].shape)
        flat = out.reshape(-1)
        for i, xs in enumerate(zip(*[a.reshape(-1).tolist() for a in arrays], strict=True)):
            try:
                flat[i] = f(*xs)
            except (ValueError, ZeroDivisionError, OverflowError):
                flat[i] = math.nan
        return out

    return each


NUMPY_NAMES.update({
    "erf": _np_each(math.erf), "erfc": _np_each(math.erfc), "erf_d": _np_each(_erf_d),
    "erfc_d": _np_each(_erfc_d), "lgamma": _np_each(special.lgamma), "digamma": _np_each(special.digamma),
    "trigamma": _np_each(special.trigamma), "sinc": _np_each(_sinc), "sinc_d": _np_each(_sinc_d),
    "logaddexp": _np_each(_logaddexp), "xlogy": _np_each(_xlogy), "xlogy_dx": _np_each(_xlogy_dx),
    "xlogy_dy": _np_each(_xlogy_dy), "cbrt": _np_each(special.cbrt)})
_NUMPY_OF.update({
    # (+ 0.0: floor(-0.5) is -1 but ceil(-0.5) is 0, not NumPy's -0.0, as int -> float gives)
    _floor: "np.floor({0}) + 0.0", _ceil: "np.ceil({0}) + 0.0", _trunc: "np.trunc({0}) + 0.0",
    _round: "np.rint({0}) + 0.0", _sign: "sign0({0})", _mod: "np.remainder({0}, {1})",
    special.cbrt: "cbrt({0})", _exp2: "np.exp2({0})", math.asinh: "np.arcsinh({0})",
    math.acosh: "np.arccosh({0})", math.atanh: "np.arctanh({0})", _sec: "1.0 / np.cos({0})",
    _csc: "1.0 / np.sin({0})", _cot: "np.cos({0}) / np.sin({0})", math.erf: "erf({0})",
    math.erfc: "erfc({0})", special.lgamma: "lgamma({0})", special.digamma: "digamma({0})",
    special.trigamma: "trigamma({0})", _sinc: "sinc({0})", _logaddexp: "logaddexp({0}, {1})",
    _xlogy: "xlogy({0}, {1})", math.radians: f"{{0}} * {_RADIAN!r}", math.degrees: f"{{0}} * {_DEGREE!r}",
})


# ---------------------------------------------------------------- Taylor rules
#
# A series is a list of Taylor coefficients [c0, c1, ..., cN] (c_k = f^(k)/k!).
# The rules below are the standard recurrences (Griewank & Walther, Evaluating
# Derivatives, ch. 13): each costs O(N^2). They use + - * / on the coefficients
# and integer constants only (rational in, rational out, where the operation
# allows it); c_0 comes from the row's own value function.

_mul = operator.mul


def _zeros(a: list[Any]) -> list[Any]:
    z = a[0] * 0
    return [z] * len(a)


def _s_add(a: list[Any], b: list[Any]) -> list[Any]:
    return list(map(operator.add, a, b))


def _s_sub(a: list[Any], b: list[Any]) -> list[Any]:
    return list(map(operator.sub, a, b))


def _s_neg(a: list[Any]) -> list[Any]:
    return [-c for c in a]


def _s_mul(a: list[Any], b: list[Any]) -> list[Any]:
    return [sum(map(_mul, a[:k + 1], b[k::-1])) for k in range(len(a))]


def _s_div(a: list[Any], b: list[Any], q0: Any = None) -> list[Any]:
    b0 = b[0]
    q = [a[0] / b0 if q0 is None else q0]
    for k in range(1, len(a)):
        q.append((a[k] - sum(map(_mul, q, b[k:0:-1]))) / b0)
    return q


def _s_scale(a: list[Any], c: Any) -> list[Any]:
    return [x * c for x in a]


def _integrate(a: list[Any], y0: Any, g_next: Callable[[list[Any], int], Any]) -> list[Any]:
    """y with y' = g * a' and y(0) = y0, where g_next(y, m) is g's coefficient
    m given y's first m + 1 coefficients: y_k = (1/k) sum_j j a_j g_(k-j)."""
    da = [j * c for j, c in enumerate(a)]
    y = [y0]
    g: list[Any] = []
    for k in range(1, len(a)):
        g.insert(0, g_next(y, k - 1))
        y.append(sum(map(_mul, da[1:k + 1], g)) / k)
    return y


def _integrate_known(a: list[Any], y0: Any, g: list[Any]) -> list[Any]:
    """y with y' = g * a', g known (its first len(a) - 1 coefficients used)."""
    da = [j * c for j, c in enumerate(a)]
    return [y0] + [sum(map(_mul, da[1:k + 1], g[k - 1::-1])) / k for k in range(1, len(a))]


def _square_at(y: list[Any], m: int) -> Any:
    return sum(map(_mul, y[:m + 1], y[m::-1]))


def _t_exp(a: list[Any]) -> list[Any]:
    return _integrate(a, math.exp(a[0]), lambda y, m: y[m])


def _t_expm1(a: list[Any]) -> list[Any]:
    return [math.expm1(a[0])] + _t_exp(a)[1:]


def _s_log(a: list[Any], y0: Any) -> list[Any]:
    a0 = a[0]
    y = [y0]
    dy = [0 * y0]
    for k in range(1, len(a)):
        yk = (a[k] - sum(map(_mul, dy[1:k], a[k - 1:0:-1])) / k) / a0
        y.append(yk)
        dy.append(k * yk)
    return y


def _t_log(a: list[Any]) -> list[Any]:
    return _s_log(a, math.log(a[0]))


def _t_log1p(a: list[Any]) -> list[Any]:
    return _s_log([1 + a[0]] + a[1:], math.log1p(a[0]))


def _t_log2(a: list[Any]) -> list[Any]:
    return [math.log2(a[0])] + _s_scale(_t_log(a)[1:], 1 / _LN2)


def _t_log10(a: list[Any]) -> list[Any]:
    return [math.log10(a[0])] + _s_scale(_t_log(a)[1:], 1 / _LN10)


def _t_log_base(a: list[Any], b: list[Any]) -> list[Any]:
    return _s_div(_t_log(a), _t_log(b), _log_base(a[0], b[0]))


def _sqrt0(x: Any) -> Any:
    """sqrt, exact for the square of a rational (for --exact)."""
    if x.__class__ is not float and x >= 0:
        from fractions import Fraction

        q = Fraction(x)
        n, d = math.isqrt(q.numerator), math.isqrt(q.denominator)
        if n * n == q.numerator and d * d == q.denominator:
            return Fraction(n, d)
    return math.sqrt(x)


def _s_sqrt(a: list[Any], y0: Any) -> list[Any]:
    y = [y0]
    two_y0 = 2 * y0
    for k in range(1, len(a)):
        y.append((a[k] - sum(map(_mul, y[1:k], y[k - 1:0:-1]))) / two_y0)
    return y


def _t_sqrt(a: list[Any]) -> list[Any]:
    return _s_sqrt(a, _sqrt0(a[0]))


def _int_power(a: list[Any], p: int) -> list[Any]:
    """a^p for an integer p >= 0 by repeated squaring (a[0] may be 0)."""
    n = len(a)
    if a[0] == 0 and p >= n:
        return _zeros(a)
    out = [a[0] * 0 + 1] + _zeros(a)[1:]
    base = a
    while p:
        if p & 1:
            out = _s_mul(out, base)
        p >>= 1
        if p:
            base = _s_mul(base, base)
    return out


#: --exact refuses a rational with more digits than this (numerator or denominator)
EXACT_DIGITS = 10_000


def _check_power_size(x: Any, p: int) -> None:
    """Refuse, before computing it, a rational power over EXACT_DIGITS digits."""
    from fractions import Fraction

    q = Fraction(x)
    bits = max(q.numerator.bit_length(), q.denominator.bit_length()) * abs(p)
    if bits > EXACT_DIGITS * 3.33:  # log2(10) = 3.32...
        raise OverflowError(f"the exact value would have more than {EXACT_DIGITS:,} digits")


def _t_pow(a: list[Any], b: list[Any]) -> list[Any]:
    x0, p = a[0], b[0]
    if all(c == 0 for c in b[1:]):  # a constant exponent
        if x0 == 0:
            if p == 0:
                return [x0 * 0 + 1] + _zeros(a)[1:]
            if p == int(p) and p > 0:
                return _int_power(a, int(p))
            raise ZeroDivisionError("a fractional power's higher derivatives at 0 are infinite")
        if p.__class__ is not float and p == int(p):
            _check_power_size(x0, int(p))
            z0 = x0 ** int(p)  # exact for rationals
        else:
            z0 = _pow(x0, p)
        z = [z0]
        for k in range(1, len(a)):
            z.append(sum((p * (k - j) - j) * a[k - j] * z[j] for j in range(k)) / (k * x0))
        return z
    if x0 == 0:
        raise ZeroDivisionError("x^y with a varying exponent at x = 0")
    return [_pow(x0, p)] + _t_exp(_s_mul(b, _t_log(a)))[1:]


def _t_abs(a: list[Any]) -> list[Any]:
    return list(a) if a[0] > 0 else (_s_neg(a) if a[0] < 0 else _zeros(a))


def _t_relu(a: list[Any]) -> list[Any]:
    return list(a) if a[0] > 0 else _zeros(a)


def _t_min(a: list[Any], b: list[Any]) -> list[Any]:
    if a[0] == b[0]:
        return [(x + y) / 2 for x, y in zip(a, b, strict=True)]  # a tie: each side half, as the adjoints
    return list(a) if a[0] < b[0] else list(b)


def _t_max(a: list[Any], b: list[Any]) -> list[Any]:
    if a[0] == b[0]:
        return [(x + y) / 2 for x, y in zip(a, b, strict=True)]
    return list(a) if a[0] > b[0] else list(b)


def _sin_cos(a: list[Any], hyperbolic: bool = False) -> tuple[list[Any], list[Any]]:
    a0 = a[0]
    s = [math.sinh(a0) if hyperbolic else math.sin(a0)]
    c = [math.cosh(a0) if hyperbolic else math.cos(a0)]
    da = [j * x for j, x in enumerate(a)]
    for k in range(1, len(a)):
        d = da[1:k + 1]
        s.append(sum(map(_mul, d, c[k - 1::-1])) / k)
        ck = sum(map(_mul, d, s[k - 1::-1])) / k
        c.append(ck if hyperbolic else -ck)
    return s, c


def _t_sin(a: list[Any]) -> list[Any]:
    return _sin_cos(a)[0]


def _t_cos(a: list[Any]) -> list[Any]:
    return _sin_cos(a)[1]


def _t_sinh(a: list[Any]) -> list[Any]:
    return _sin_cos(a, True)[0]


def _t_cosh(a: list[Any]) -> list[Any]:
    return _sin_cos(a, True)[1]


def _t_tan(a: list[Any]) -> list[Any]:  # tan' = 1 + tan^2
    return _integrate(a, math.tan(a[0]), lambda y, m: (1 if m == 0 else 0) + _square_at(y, m))


def _t_tanh(a: list[Any]) -> list[Any]:  # tanh' = 1 - tanh^2 (c_0 by the row's rule)
    return _integrate(a, math.tanh(a[0]),
                      lambda y, m: _tanh_d(a[0], y[0]) if m == 0 else -_square_at(y, m))


def _t_sigmoid(a: list[Any]) -> list[Any]:  # s' = s(1 - s) = s - s^2
    return _integrate(a, _sigmoid(a[0]),
                      lambda y, m: _sigmoid_d(a[0], y[0]) if m == 0 else y[m] - _square_at(y, m))


def _t_softplus(a: list[Any]) -> list[Any]:  # softplus' = sigmoid
    return _integrate_known(a, _softplus(a[0]), _t_sigmoid(a))


def _one_minus_square(a: list[Any]) -> list[Any]:
    w = _s_neg(_s_mul(a, a))
    w[0] = (1 - a[0]) * (1 + a[0])  # exact near |x| = 1
    return w


def _t_asin(a: list[Any]) -> list[Any]:  # asin' = 1/sqrt(1 - x^2)
    w = _one_minus_square(a)
    r = _s_sqrt(w, math.sqrt(w[0]))
    return _integrate_known(a, math.asin(a[0]), _s_div([1] + _zeros(a)[1:], r))


def _t_acos(a: list[Any]) -> list[Any]:
    w = _one_minus_square(a)
    r = _s_sqrt(w, math.sqrt(w[0]))
    return _integrate_known(a, math.acos(a[0]), _s_div([-1] + _zeros(a)[1:], r))


def _t_atan(a: list[Any]) -> list[Any]:  # atan' = 1/(1 + x^2)
    w = _s_mul(a, a)
    w[0] = 1 + a[0] * a[0]
    return _integrate_known(a, math.atan(a[0]), _s_div([1] + _zeros(a)[1:], w))


def _t_atan2(b: list[Any], a: list[Any]) -> list[Any]:  # atan2(y, x)' = (x y' - y x')/(x^2 + y^2)
    y, x = b, a
    n = len(a)
    dy = [(k + 1) * y[k + 1] for k in range(n - 1)]
    dx = [(k + 1) * x[k + 1] for k in range(n - 1)]
    num = _s_sub(_s_mul(x[:n - 1], dy), _s_mul(y[:n - 1], dx)) if n > 1 else []
    den = _s_add(_s_mul(x[:n - 1], x[:n - 1]), _s_mul(y[:n - 1], y[:n - 1])) if n > 1 else []
    d = _s_div(num, den) if n > 1 else []
    return [math.atan2(y[0], x[0])] + [d[k - 1] / k for k in range(1, n)]


def _t_hypot(a: list[Any], b: list[Any]) -> list[Any]:
    return _s_sqrt(_s_add(_s_mul(a, a), _s_mul(b, b)), math.hypot(a[0], b[0]))


# -- Taylor rules of the rows added with issue 10


def _t_step(f: Callable[[Any], Any]) -> Callable[[list[Any]], list[Any]]:
    """A piecewise-constant function: its value, and derivatives 0 (the
    rows' convention at the jumps too)."""
    def rule(a: list[Any]) -> list[Any]:
        v = f(a[0])
        v = float(v) if a[0].__class__ is float else v
        return [v] + _zeros(a)[1:]

    return rule


def _t_mod(a: list[Any], b: list[Any]) -> list[Any]:  # x - y*floor(x/y), floor constant nearby
    q = math.floor(a[0] / b[0]) if a[0].__class__ is not float else a[0] // b[0]
    out = [x - q * y for x, y in zip(a, b, strict=True)]
    out[0] = _mod(a[0], b[0])
    return out


def _s_pow_const(a: list[Any], p: Any, z0: Any) -> list[Any]:
    """a^p for a constant p, a[0] != 0: z_k = sum_j (p(k - j) - j) a_(k-j) z_j / (k a_0)."""
    x0 = a[0]
    z = [z0]
    for k in range(1, len(a)):
        z.append(sum((p * (k - j) - j) * a[k - j] * z[j] for j in range(k)) / (k * x0))
    return z


def _t_cbrt(a: list[Any]) -> list[Any]:
    if a[0] == 0 and len(a) > 1:
        raise ZeroDivisionError("cbrt's derivatives at 0 are infinite")
    return _s_pow_const(a, 1 / 3, special.cbrt(a[0]))


def _t_exp2(a: list[Any]) -> list[Any]:
    return [_exp2(a[0])] + _t_exp(_s_scale(a, _LN2))[1:]


def _one(a: list[Any]) -> list[Any]:
    return [a[0] * 0 + 1] + _zeros(a)[1:]


def _t_asinh(a: list[Any]) -> list[Any]:  # asinh' = 1/sqrt(x^2 + 1)
    w = _s_mul(a, a)
    w[0] = a[0] * a[0] + 1
    return _integrate_known(a, math.asinh(a[0]), _s_div(_one(a), _s_sqrt(w, math.hypot(a[0], 1.0))))


def _t_acosh(a: list[Any]) -> list[Any]:  # acosh' = 1/sqrt(x^2 - 1)
    w = _s_mul(a, a)
    w[0] = (a[0] - 1) * (a[0] + 1)
    return _integrate_known(a, math.acosh(a[0]), _s_div(_one(a), _s_sqrt(w, math.sqrt(w[0]))))


def _t_atanh(a: list[Any]) -> list[Any]:  # atanh' = 1/(1 - x^2)
    return _integrate_known(a, math.atanh(a[0]), _s_div(_one(a), _one_minus_square(a)))


def _t_sec(a: list[Any]) -> list[Any]:
    return _s_div(_one(a), _t_cos(a), _sec(a[0]))


def _t_csc(a: list[Any]) -> list[Any]:
    return _s_div(_one(a), _t_sin(a), _csc(a[0]))


def _t_cot(a: list[Any]) -> list[Any]:
    s, c = _sin_cos(a)
    return _s_div(c, s, _cot(a[0]))


def _t_erf(a: list[Any], sign: int = 1, value: Callable[[float], float] = math.erf) -> list[Any]:
    # erf' = 2/sqrt(pi) exp(-x^2)
    g = _t_exp(_s_neg(_s_mul(a, a)))
    g[0] = special.exp_neg_square(a[0])
    return _integrate_known(a, value(a[0]), _s_scale(g, sign * 2 / math.sqrt(math.pi)))


def _t_erfc(a: list[Any]) -> list[Any]:
    return _t_erf(a, -1, math.erfc)


def _compose(c: list[Any], a: list[Any]) -> list[Any]:
    """f(a) from f's Taylor coefficients c_k = f^(k)(a_0)/k! at a_0 (Horner
    on the series a - a_0; O(N^3), for the rows with no cheaper recurrence)."""
    d = [a[0] * 0] + list(a[1:])
    r = [c[-1]] + _zeros(a)[1:]
    for ck in reversed(c[:-1]):
        r = _s_mul(r, d)
        r[0] = r[0] + ck
    return r


_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510,
              43867 / 798, -174611 / 330)


def _polygammas(x: float, n: int) -> list[float]:
    """psi^(k)(x) for k = 0..n: digamma and trigamma from special.py, higher
    orders by the recurrence and the asymptotic series (x > 0), by reflection
    through cot(pi x)'s Taylor series below 0."""
    out = [special.digamma(x)]
    if n >= 1:
        out.append(special.trigamma(x))
    if n < 2:
        return out
    if x < 0:
        right = _polygammas(1 - x, n)
        cot = _t_cot([math.pi * x, math.pi] + [0.0] * (n - 1))
        for k in range(2, n + 1):
            out.append((-1) ** k * right[k] - math.pi * math.factorial(k) * cot[k])
        return out
    for k in range(2, n + 1):
        shift = 0.0
        y = x
        limit = max(30.0, 2.0 * k)
        sign = -1.0 if k % 2 == 0 else 1.0  # (-1)^(k+1)
        fact = math.factorial(k)
        while y < limit:  # psi^(k)(y) = psi^(k)(y + 1) - (-1)^k k!/y^(k+1)
            shift -= (-1) ** k * fact / y ** (k + 1)
            y += 1.0
        acc = math.factorial(k - 1) / y ** k + fact / (2 * y ** (k + 1))
        for j, b in enumerate(_BERNOULLI, start=1):
            acc += b * math.factorial(2 * j + k - 1) / (math.factorial(2 * j) * y ** (2 * j + k))
        out.append(shift + sign * acc)
    return out


def _t_lgamma(a: list[Any]) -> list[Any]:
    n = len(a) - 1
    psi = _polygammas(a[0], n - 1) if n else []
    return _compose([special.lgamma(a[0])] + [psi[k - 1] / math.factorial(k) for k in range(1, n + 1)], a)


def _t_digamma(a: list[Any]) -> list[Any]:
    psi = _polygammas(a[0], len(a) - 1)
    return _compose([p / math.factorial(k) for k, p in enumerate(psi)], a)


def _t_sinc(a: list[Any]) -> list[Any]:
    x0 = float(a[0])
    if abs(x0) >= 1.0:  # sin(pi x)/(pi x): the division recurrence is stable for |x| >= 1
        return _s_div(_t_sin(_s_scale(a, math.pi)), _s_scale(a, math.pi), _sinc(a[0]))
    # below, its power series sum_m (-1)^m (pi x)^(2m)/(2m + 1)!, differentiated at x0
    n = len(a) - 1
    c = []
    for k in range(n + 1):
        total = 0.0
        for m in range((k + 1) // 2, k + 30):
            total += ((-1) ** m * math.pi ** (2 * m) / math.factorial(2 * m + 1)
                      * math.comb(2 * m, k) * x0 ** (2 * m - k))
        c.append(total)
    c[0] = _sinc(x0)
    return _compose(c, a)


def _t_scaled(f: Callable[[float], float], c: float) -> Callable[[list[Any]], list[Any]]:
    def rule(a: list[Any]) -> list[Any]:
        return [f(a[0])] + _s_scale(a[1:], c)

    return rule


def _t_logaddexp(a: list[Any], b: list[Any]) -> list[Any]:
    m = a[0] if a[0] > b[0] else b[0]  # m + log(exp(x - m) + exp(y - m))
    ea = _t_exp([a[0] - m] + a[1:])
    eb = _t_exp([b[0] - m] + b[1:])
    return [_logaddexp(a[0], b[0])] + _t_log(_s_add(ea, eb))[1:]


def _t_xlogy(a: list[Any], b: list[Any]) -> list[Any]:
    if all(x == 0 for x in a):
        return _zeros(a)  # xlogy(0, y) is 0 for every y
    return [_xlogy(a[0], b[0])] + _s_mul(a, _t_log(b))[1:]


# -- Taylor rules of the conditions and the many-argument rows (issue 10). A
# rule marked `linear` is piecewise linear in its arguments near the point
# (second derivatives 0): the Hessian skips it rather than probing it.


def _linear(rule: Callable[..., list[Any]]) -> Callable[..., list[Any]]:
    rule.linear = True  # type: ignore[attr-defined]
    return rule


def _t_identity(a: list[Any]) -> list[Any]:
    return list(a)


def _t_compare(test: Callable[[Any, Any], Any]) -> Callable[[list[Any], list[Any]], list[Any]]:
    """x < y and the other comparisons: 1 or 0, derivatives 0 (flagged at equality)."""
    def rule(a: list[Any], b: list[Any]) -> list[Any]:
        v = test(a[0], b[0])
        one = a[0] * 0 + 1
        return [one if v else one - one] + _zeros(a)[1:]

    return _linear(rule)


@_linear
def _t_where(c: list[Any], a: list[Any], b: list[Any]) -> list[Any]:
    return list(a) if c[0] != 0 else list(b)


@_linear
def _t_clamp(x: list[Any], lo: list[Any], hi: list[Any]) -> list[Any]:
    # the branch that gets the adjoint (PyTorch's rule at the bounds)
    if lo[0] <= x[0] <= hi[0]:
        return list(x)
    return list(lo) if x[0] < lo[0] <= hi[0] else list(hi)


@_linear
def _tn_sum(*s: list[Any]) -> list[Any]:
    return [sum(cs) for cs in zip(*s, strict=True)]


@_linear
def _tn_mean(*s: list[Any]) -> list[Any]:
    return [sum(cs) / len(s) for cs in zip(*s, strict=True)]


def _tn_prod(*s: list[Any]) -> list[Any]:
    out = list(s[0])
    for a in s[1:]:
        out = _s_mul(out, a)
    return out


def _tn_best(pick: Callable[..., Any]) -> Callable[..., list[Any]]:
    """max or min of many: the chosen argument's series; a tie, the mean of
    the tied ones (as the adjoint is split evenly)."""
    def rule(*s: list[Any]) -> list[Any]:
        best = pick(a[0] for a in s)
        tied = [a for a in s if a[0] == best]
        if len(tied) == 1:
            return list(tied[0])
        return [sum(cs) / len(tied) for cs in zip(*tied, strict=True)]

    return _linear(rule)


def _tn_hypot(*s: list[Any]) -> list[Any]:
    squares = _s_mul(s[0], s[0])
    for a in s[1:]:
        squares = _s_add(squares, _s_mul(a, a))
    return _s_sqrt(squares, math.hypot(*[a[0] for a in s]))


def _tn_logsumexp(*s: list[Any]) -> list[Any]:
    m = max(a[0] for a in s)  # m + log(sum exp(a - m))
    total = _t_exp([s[0][0] - m] + s[0][1:])
    for a in s[1:]:
        total = _s_add(total, _t_exp([a[0] - m] + a[1:]))
    out = _t_log(total)
    out[0] = out[0] + m
    return out


def _step(symbol: str) -> Partial:
    """A comparison's local factor: 0, flagged at x = y, where it jumps."""

    def kink(x: float, y: float) -> Optional[str]:
        return f"'{symbol}' at equal arguments: derivative taken as 0 (it jumps there)" if x == y else None

    return Partial(lambda x, y, out: 0.0, "0", kink, py="0.0", np="0.0")


def _unary(name: str, value: Callable[[float], float], d: Callable[[float, float], float],
           formula: str, domain: str = "", doc: str = "", kink: Kink = None, *,
           py: Optional[str] = None, finite: bool = False, tex: Optional[str] = None,
           np: Optional[str] = None,
           taylor: Optional[Callable[..., list[Any]]] = None, expr: Optional[str] = None,
           spell: Optional[dict[str, str]] = None) -> Op:
    return Op(name, ("x",), value, (Partial(d, formula, kink, py=py, np=np, expr=expr),), domain,
              doc=doc, finite=finite, tex=tex, spell=spell, taylor=taylor)


#: the languages `autodiff codegen` writes
SPELL_TARGETS = ("python", "numpy", "c", "javascript")


def _infix(symbol: str) -> dict[str, str]:
    return {t: "{0} " + symbol + " {1}" for t in SPELL_TARGETS}


def _lib(name: str, arity: int = 1, *, numpy: Optional[str] = None, c: Optional[str] = None,
         js: Optional[str] = None) -> dict[str, str]:
    """A function each target's math library has: math.NAME, np.NAME, NAME
    from <math.h>, Math.NAME."""
    args = ", ".join("{" + str(k) + "}" for k in range(arity))
    return {"python": f"math.{name}({args})", "numpy": f"np.{numpy or name}({args})",
            "c": f"{c or name}({args})", "javascript": f"Math.{js or name}({args})"}


def _helper(name: str, arity: int = 1, **direct: str) -> dict[str, str]:
    """A function of SPELL_HELPERS, emitted in the generated code's prelude
    (or, for the targets named in `direct`, that spelling)."""
    args = ", ".join("{" + str(k) + "}" for k in range(arity))
    out = {t: f"ad_{name}({args})" for t in SPELL_TARGETS}
    out.update(direct)
    return out


def _spell(python: str, numpy: str, c: str, javascript: str) -> dict[str, str]:
    return {"python": python, "numpy": numpy, "c": c, "javascript": javascript}


#: helper functions the spellings call, per target: emitted once, only when used
SPELL_HELPERS: dict[str, dict[str, str]] = {
    "python": {
        "ad_sigmoid": "def ad_sigmoid(x):\n"
                      "    if x >= 0.0:\n"
                      "        return 1.0 / (1.0 + math.exp(-x))\n"
                      "    z = math.exp(x)\n"
                      "    return z / (1.0 + z)\n",
        "ad_softplus": "def ad_softplus(x):\n"
                       "    return (x if x > 0.0 else 0.0) + math.log1p(math.exp(-abs(x)))\n",
        "ad_cbrt": "def ad_cbrt(x):\n"
                   "    return math.copysign(abs(x) ** (1.0 / 3.0), x)\n",
        "ad_logaddexp": "def ad_logaddexp(x, y):\n"
                        "    return max(x, y) + math.log1p(math.exp(-abs(x - y)))\n",
    },
    "numpy": {
        "ad_sigmoid": "def ad_sigmoid(x):\n"
                      "    z = np.exp(-np.abs(x))\n"
                      "    return np.where(x >= 0.0, 1.0 / (1.0 + z), z / (1.0 + z))\n",
        "ad_softplus": "def ad_softplus(x):\n"
                       "    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))\n",
        "ad_xlogy": "def ad_xlogy(x, y):\n"
                    "    with np.errstate(divide=\"ignore\", invalid=\"ignore\"):\n"
                    "        return np.where(x == 0.0, 0.0, x * np.log(y))\n",
    },
    "c": {
        "ad_sigmoid": "static double ad_sigmoid(double x) {\n"
                      "    if (x >= 0.0) return 1.0 / (1.0 + exp(-x));\n"
                      "    double z = exp(x);\n"
                      "    return z / (1.0 + z);\n"
                      "}\n",
        "ad_softplus": "static double ad_softplus(double x) {\n"
                       "    return (x > 0.0 ? x : 0.0) + log1p(exp(-fabs(x)));\n"
                       "}\n",
        "ad_mod": "static double ad_mod(double x, double y) {\n"
                  "    double r = fmod(x, y);\n"
                  "    if (r != 0.0 && ((r < 0.0) != (y < 0.0))) r += y;\n"
                  "    return r != 0.0 ? r : copysign(0.0, y);\n"
                  "}\n",
        "ad_logaddexp": "static double ad_logaddexp(double x, double y) {\n"
                        "    return (x > y ? x : y) + log1p(exp(-fabs(x - y)));\n"
                        "}\n",
    },
    "javascript": {
        "ad_sigmoid": "function ad_sigmoid(x) {\n"
                      "  if (x >= 0) return 1 / (1 + Math.exp(-x));\n"
                      "  const z = Math.exp(x);\n"
                      "  return z / (1 + z);\n"
                      "}\n",
        "ad_softplus": "function ad_softplus(x) {\n"
                       "  return (x > 0 ? x : 0) + Math.log1p(Math.exp(-Math.abs(x)));\n"
                       "}\n",
        "ad_mod": "function ad_mod(x, y) {\n"
                  "  let r = x % y;\n"
                  "  if (r !== 0 && (r < 0) !== (y < 0)) r += y;\n"
                  "  return r !== 0 ? r : (y < 0 ? -0 : 0);\n"
                  "}\n",
        "ad_round": "function ad_round(x) {\n"
                    "  const r = Math.round(x);  // half up; Python and PyTorch round half to even\n"
                    "  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;\n"
                    "}\n",
        "ad_logaddexp": "function ad_logaddexp(x, y) {\n"
                        "  return Math.max(x, y) + Math.log1p(Math.exp(-Math.abs(x - y)));\n"
                        "}\n",
    },
}


# ---------------------------------------------------------------- the table
#
# `finite=True` marks rows whose value rule, given finite arguments, returns a
# finite number or raises (math.exp and math.pow raise OverflowError; sin is
# bounded; log grows slowly); every other row's values are checked for
# overflow (x * y at 1e200 is silently inf).

OPS: tuple[Op, ...] = (
    # -- arithmetic operators
    Op("add", ("x", "y"), operator.add, (Partial.constant(1.0), Partial.constant(1.0)),
       symbol="+", doc="x + y", py="{0} + {1}", spell=_infix("+"), taylor=_s_add),
    Op("sub", ("x", "y"), operator.sub, (Partial.constant(1.0), Partial.constant(-1.0)),
       symbol="-", doc="x - y", py="{0} - {1}", spell=_infix("-"), taylor=_s_sub),
    Op("mul", ("x", "y"), operator.mul, (Partial.argument(1, "y"), Partial.argument(0, "x")),
       symbol="*", doc="x * y", py="{0} * {1}", spell=_infix("*"), taylor=_s_mul),
    Op("div", ("x", "y"), operator.truediv,
       (Partial(lambda x, y, out: 1.0 / y, "1/y", py="1.0 / {1}"),
        Partial(lambda x, y, out: -out / y, "-x/y^2", py="-{out} / {1}", expr="-(x/y)/y")),
       domain="y != 0", symbol="/", doc="x / y", py="{0} / {1}", spell=_infix("/"), taylor=_s_div),
    Op("pow", ("x", "y"), _pow,
       (Partial(_pow_dx, "y*x^(y-1)", _pow_kink_x,
               np="np.where({1} == 0.0, 0.0, {1} * np.power({0}, {1} - 1.0))"),
        Partial(_pow_dy, "x^y*log(x)", _pow_kink_y, undefined="it needs log of the negative base",
                np="np.where({0} == 0.0, 0.0, {out} * np.log({0}))")),
       domain="x > 0, or x = 0 with y >= 0, or x < 0 with y an integer",
       symbol="^", doc="x ^ y, x ** y, pow(x, y)", finite=True, error=_pow_error,
       spell=_lib("pow", 2, numpy="power"), taylor=_t_pow),
    Op("neg", ("x",), operator.neg, (Partial.constant(-1.0),), symbol="-", doc="-x", py="-{0}",
       finite=True, spell={t: "-{0}" for t in SPELL_TARGETS}, taylor=_s_neg),
    # -- exponentials and logarithms
    Op("exp", ("x",), math.exp, (Partial.output("exp(x)"),), finite=True, tex=r"\exp",
       hint="log(1 + exp(x)) is softplus(x), and log(1 + y) is log1p(y): both stay finite where "
            "exp overflows", spell=_lib("exp"), taylor=_t_exp),
    Op("expm1", ("x",), math.expm1, (Partial.function_of_x(math.exp, "exp(x)"),),
       doc="exp(x) - 1, exact near 0", finite=True, spell=_lib("expm1"), taylor=_t_expm1),
    _unary("log", math.log, lambda x, out: 1.0 / x, "1/x", "x > 0", doc="natural logarithm",
           py="1.0 / {0}", finite=True, tex=r"\log", spell=_lib("log"), taylor=_t_log),
    Op("log", ("x", "b"), _log_base,
       (Partial(lambda x, b, out: 1.0 / (x * math.log(b)), "1/(x*log(b))",
                np="1.0 / ({0} * np.log({1}))"),
        Partial(lambda x, b, out: -out / (b * math.log(b)), "-log(x)/(b*log(b)^2)",
                np="-{out} / ({1} * np.log({1}))", expr="-log(x, b)/(b*log(b))")),
       domain="x > 0, b > 0, b != 1", doc="log(x, b): logarithm to base b", finite=True,
       tex=r"\log", error=_log_base_error,
       spell={"python": "math.log({0}) / math.log({1})", "numpy": "np.log({0}) / np.log({1})",
              "c": "log({0}) / log({1})", "javascript": "Math.log({0}) / Math.log({1})"}, taylor=_t_log_base),
    _unary("log1p", math.log1p, lambda x, out: 1.0 / (1.0 + x), "1/(1+x)", "x > -1",
           doc="log(1 + x), exact near 0", finite=True, np="1.0 / (1.0 + {0})",
           spell=_lib("log1p"), taylor=_t_log1p),
    _unary("log2", math.log2, lambda x, out: 1.0 / (x * _LN2), "1/(x*log(2))", "x > 0", finite=True,
           tex=r"\log_2", np=f"1.0 / ({{0}} * {_LN2!r})", spell=_lib("log2"), taylor=_t_log2),
    _unary("log10", math.log10, lambda x, out: 1.0 / (x * _LN10), "1/(x*log(10))", "x > 0",
           finite=True, tex=r"\log_{10}", np=f"1.0 / ({{0}} * {_LN10!r})", spell=_lib("log10"),
           taylor=_t_log10),
    _unary("sqrt", math.sqrt, lambda x, out: 0.5 / out, "1/(2*sqrt(x))", "x >= 0", finite=True,
           np="0.5 / {out}", expr="0.5/sqrt(x)", spell=_lib("sqrt"), taylor=_t_sqrt),
    # -- piecewise
    _unary("abs", abs, _sign0, "sign(x)", kink=_at_zero("abs'(0) = 0"), finite=True,
           np="sign0({0})",
           spell={"python": "abs({0})", "numpy": "np.abs({0})", "c": "fabs({0})",
                  "javascript": "Math.abs({0})"}, taylor=_t_abs),
    _unary("relu", _relu, lambda x, out: 1.0 if x > 0.0 else 0.0, "(x > 0 ? 1 : 0)",
           doc="max(x, 0)", kink=_at_zero("relu'(0) = 0"), finite=True,
           np="np.where({0} > 0.0, 1.0, 0.0)", expr="x > 0",
           spell={"python": "({0} if {0} > 0.0 else 0.0)", "numpy": "np.maximum({0}, 0.0)",
                  "c": "({0} > 0.0 ? {0} : 0.0)", "javascript": "({0} > 0 ? {0} : 0)"}, taylor=_t_relu),
    Op("min", ("x", "y"), min,
       (Partial(lambda x, y, out: 1.0 if x < y else (0.5 if x == y else 0.0), "(x < y ? 1 : 0)", _tie,
                np="np.where({0} < {1}, 1.0, np.where({0} == {1}, 0.5, 0.0))",
                expr="where(x == y, 0.5, x < y)"),
        Partial(lambda x, y, out: 1.0 if y < x else (0.5 if x == y else 0.0), "(y < x ? 1 : 0)", _tie,
                np="np.where({1} < {0}, 1.0, np.where({0} == {1}, 0.5, 0.0))",
                expr="where(x == y, 0.5, y < x)")),
       doc="the smaller; a tie gives 0.5 to each", finite=True, tex=r"\min",
       spell={**_lib("min", 2, numpy="minimum", c="fmin"), "python": "min({0}, {1})"}, taylor=_t_min),
    Op("max", ("x", "y"), max,
       (Partial(lambda x, y, out: 1.0 if x > y else (0.5 if x == y else 0.0), "(x > y ? 1 : 0)", _tie,
                np="np.where({0} > {1}, 1.0, np.where({0} == {1}, 0.5, 0.0))",
                expr="where(x == y, 0.5, x > y)"),
        Partial(lambda x, y, out: 1.0 if y > x else (0.5 if x == y else 0.0), "(y > x ? 1 : 0)", _tie,
                np="np.where({1} > {0}, 1.0, np.where({0} == {1}, 0.5, 0.0))",
                expr="where(x == y, 0.5, y > x)")),
       doc="the larger; a tie gives 0.5 to each", finite=True, tex=r"\max",
       spell={**_lib("max", 2, numpy="maximum", c="fmax"), "python": "max({0}, {1})"}, taylor=_t_max),
    # -- trigonometric
    Op("sin", ("x",), math.sin, (Partial.function_of_x(math.cos, "cos(x)"),), finite=True,
       tex=r"\sin", spell=_lib("sin"), taylor=_t_sin),
    _unary("cos", math.cos, lambda x, out: -math.sin(x), "-sin(x)", py="-math.sin({0})", finite=True,
           tex=r"\cos", spell=_lib("cos"), taylor=_t_cos),
    _unary("tan", math.tan, lambda x, out: 1.0 + out * out, "1 + tan(x)^2", finite=True, tex=r"\tan",
           np="1.0 + {out} * {out}", spell=_lib("tan"), taylor=_t_tan),
    # (1 - x)*(1 + x) rather than 1 - x*x: exact near x = ±1, where 1 - x*x loses digits
    _unary("asin", math.asin, lambda x, out: 1.0 / math.sqrt((1.0 - x) * (1.0 + x)),
           "1/sqrt(1 - x^2)", "-1 <= x <= 1", finite=True, tex=r"\arcsin",
           np="1.0 / np.sqrt((1.0 - {0}) * (1.0 + {0}))", expr="1/sqrt((1 - x)*(1 + x))",
           spell=_lib("asin", numpy="arcsin"), taylor=_t_asin),
    _unary("acos", math.acos, lambda x, out: -1.0 / math.sqrt((1.0 - x) * (1.0 + x)),
           "-1/sqrt(1 - x^2)", "-1 <= x <= 1", finite=True, tex=r"\arccos",
           np="-1.0 / np.sqrt((1.0 - {0}) * (1.0 + {0}))", expr="-1/sqrt((1 - x)*(1 + x))",
           spell=_lib("acos", numpy="arccos"), taylor=_t_acos),
    _unary("atan", math.atan, lambda x, out: 1.0 / (1.0 + x * x), "1/(1 + x^2)", finite=True,
           tex=r"\arctan", np="1.0 / (1.0 + {0} * {0})", spell=_lib("atan", numpy="arctan"), taylor=_t_atan),
    Op("atan2", ("y", "x"), math.atan2,
       (Partial(lambda y, x, out: _over_r2(x, y, x), "x/(x^2 + y^2)", np="over_r2({1}, {0}, {1})"),
        Partial(lambda y, x, out: _over_r2(-y, y, x), "-y/(x^2 + y^2)", np="over_r2(-{0}, {0}, {1})")),
       doc="angle of the point (x, y)", finite=True, spell=_lib("atan2", 2, numpy="arctan2"),
       taylor=_t_atan2),
    Op("hypot", ("x", "y"), math.hypot,
       (Partial(lambda x, y, out: x / out, "x/hypot(x, y)", np="{0} / {out}"),
        Partial(lambda x, y, out: y / out, "y/hypot(x, y)", np="{1} / {out}")),
       doc="sqrt(x^2 + y^2) without overflow", spell=_lib("hypot", 2), taylor=_t_hypot),
    # -- hyperbolic and neural-network activations
    Op("sinh", ("x",), math.sinh, (Partial.function_of_x(math.cosh, "cosh(x)"),), finite=True,
       tex=r"\sinh", spell=_lib("sinh"), taylor=_t_sinh),
    Op("cosh", ("x",), math.cosh, (Partial.function_of_x(math.sinh, "sinh(x)"),), finite=True,
       tex=r"\cosh", spell=_lib("cosh"), taylor=_t_cosh),
    # (expr: 4e/(1 + e)^2 with e = exp(-2|x|), as the rule, without the cancellation)
    _unary("tanh", math.tanh, _tanh_d, "1 - tanh(x)^2", finite=True, tex=r"\tanh",
           np="tanh_d({0}, {out})", expr="4*exp(-2*abs(x))/(1 + exp(-2*abs(x)))^2",
           spell=_lib("tanh"), taylor=_t_tanh),
    _unary("sigmoid", _sigmoid, _sigmoid_d, "sigmoid(x)*(1 - sigmoid(x))",
           doc="1/(1 + exp(-x)), without overflow", py="{out} * sigmoid(-{0})", finite=True,
           np="{out} * sigmoid(-{0})", expr="sigmoid(x)*sigmoid(-x)", spell=_helper("sigmoid"),
           taylor=_t_sigmoid),
    Op("softplus", ("x",), _softplus, (Partial.function_of_x(_sigmoid, "sigmoid(x)"),),
       doc="log(1 + exp(x)), without overflow", finite=True, spell=_helper("softplus"), taylor=_t_softplus),
    # -- rounding and other piecewise functions (issue 10): derivative 0, flagged at the jumps
    _unary("floor", _floor, _zero, "0", doc="largest integer <= x", kink=_at_integers("floor"),
           finite=True, np="0.0",
           spell=_spell("float(math.floor({0}))", "np.floor({0})", "floor({0})", "Math.floor({0})"),
           taylor=_t_step(math.floor)),
    _unary("ceil", _ceil, _zero, "0", doc="smallest integer >= x", kink=_at_integers("ceil"),
           finite=True, np="0.0",
           spell=_spell("float(math.ceil({0}))", "np.ceil({0})", "ceil({0})", "Math.ceil({0})"),
           taylor=_t_step(math.ceil)),
    _unary("round", _round, _zero, "0", doc="nearest integer, half to even (as Python, PyTorch)",
           kink=_round_kink, finite=True, np="0.0",
           spell=_helper("round", python="float(round({0}))", numpy="np.round({0})",
                         c="nearbyint({0})"), taylor=_t_step(round)),
    _unary("trunc", _trunc, _zero, "0", doc="integer part, towards 0", kink=_trunc_kink,
           finite=True, np="0.0",
           spell=_spell("float(math.trunc({0}))", "np.trunc({0})", "trunc({0})", "Math.trunc({0})"),
           taylor=_t_step(math.trunc)),
    _unary("sign", _sign, _zero, "0", doc="-1, 0 or 1", kink=_at_zero("sign'(0) taken as 0"),
           finite=True, np="0.0",
           spell=_spell("(1.0 if {0} > 0.0 else (-1.0 if {0} < 0.0 else 0.0))", "np.sign({0})",
                        "(({0} > 0.0) - ({0} < 0.0) + 0.0)", "(({0} > 0) - ({0} < 0))"),
           taylor=_t_step(lambda x: (x > 0) - (x < 0))),
    Op("mod", ("x", "y"), _mod,
       (Partial(lambda x, y, out: 1.0, "1", _mod_kink, const=1.0),
        Partial(_mod_dy, "-floor(x/y)", _mod_kink, np="0.0 - np.floor_divide({0}, {1})")),
       domain="y != 0", symbol="%", doc="x % y, floored (the sign of y, as Python)", finite=True,
       tex=r"\bmod", spell=_helper("mod", 2, python="{0} % {1}", numpy="np.mod({0}, {1})"), taylor=_t_mod),
    # -- powers, exponentials, hyperbolic inverses
    _unary("cbrt", special.cbrt, _cbrt_d, "1/(3*cbrt(x)^2)", doc="real cube root: cbrt(-8) = -2",
           finite=True, np="1.0 / (3.0 * {out} * {out})",
           spell=_helper("cbrt", numpy="np.cbrt({0})", c="cbrt({0})", javascript="Math.cbrt({0})"),
           taylor=_t_cbrt),
    Op("exp2", ("x",), _exp2,
       (Partial(lambda x, out: out * _LN2, "exp2(x)*log(2)", np=f"{{out}} * {_LN2!r}"),), doc="2^x",
       finite=True, spell=_spell("math.pow(2.0, {0})", "np.exp2({0})", "exp2({0})",
                                 "Math.pow(2, {0})"), taylor=_t_exp2),
    _unary("asinh", math.asinh, lambda x, out: 1.0 / math.hypot(x, 1.0), "1/sqrt(x^2 + 1)",
           finite=True, tex=r"\operatorname{arsinh}", np="1.0 / np.hypot({0}, 1.0)",
           expr="1/hypot(x, 1)", spell=_lib("asinh", numpy="arcsinh"), taylor=_t_asinh),
    _unary("acosh", math.acosh, _acosh_d, "1/sqrt(x^2 - 1)", "x >= 1", finite=True,
           tex=r"\operatorname{arcosh}", np="1.0 / (np.sqrt({0} - 1.0) * np.sqrt({0} + 1.0))",
           expr="1/(sqrt(x - 1)*sqrt(x + 1))", spell=_lib("acosh", numpy="arccosh"),
           taylor=_t_acosh),
    # (1 - x)*(1 + x) rather than 1 - x*x: exact near x = ±1
    _unary("atanh", math.atanh, lambda x, out: 1.0 / ((1.0 - x) * (1.0 + x)), "1/(1 - x^2)",
           "-1 < x < 1", finite=True, tex=r"\operatorname{artanh}",
           np="1.0 / ((1.0 - {0}) * (1.0 + {0}))", expr="1/((1 - x)*(1 + x))",
           spell=_lib("atanh", numpy="arctanh"), taylor=_t_atanh),
    # -- reciprocal trigonometric functions
    _unary("sec", _sec, lambda x, out: out * math.tan(x), "sec(x)*tan(x)", doc="1/cos(x)",
           finite=True, tex=r"\sec", np="{out} * np.tan({0})",
           spell=_spell("1.0 / math.cos({0})", "1.0 / np.cos({0})", "1.0 / cos({0})",
                        "1 / Math.cos({0})"), taylor=_t_sec),
    Op("csc", ("x",), _csc,
       (Partial(lambda x, out: -out / math.tan(x), "-csc(x)*cot(x)", np="-{out} / np.tan({0})",
                expr="-csc(x)/tan(x)"),),
       domain="x != 0", doc="1/sin(x)", tex=r"\csc", error=_pole_error("csc has a pole at 0"),
       spell=_spell("1.0 / math.sin({0})", "1.0 / np.sin({0})", "1.0 / sin({0})",
                    "1 / Math.sin({0})"), taylor=_t_csc),
    Op("cot", ("x",), _cot, (Partial(_cot_d, "-csc(x)^2", np="-(1.0 / np.sin({0})) / np.sin({0})",
                                     expr="-(1/sin(x))/sin(x)"),),
       domain="x != 0", doc="cos(x)/sin(x)",
       tex=r"\cot", error=_pole_error("cot has a pole at 0"),
       spell=_spell("math.cos({0}) / math.sin({0})", "np.cos({0}) / np.sin({0})",
                    "cos({0}) / sin({0})", "Math.cos({0}) / Math.sin({0})"), taylor=_t_cot),
    # -- special functions (NumPy and JavaScript have no erf: codegen refuses it there)
    _unary("erf", math.erf, _erf_d, "2/sqrt(pi)*exp(-x^2)", doc="error function", finite=True,
           np="erf_d({0}, {out})", spell={"python": "math.erf({0})", "c": "erf({0})"}, taylor=_t_erf),
    _unary("erfc", math.erfc, _erfc_d, "-2/sqrt(pi)*exp(-x^2)",
           doc="1 - erf(x), keeping its digits for large x", finite=True, np="erfc_d({0}, {out})",
           spell={"python": "math.erfc({0})", "c": "erfc({0})"},
           taylor=_t_erfc),
    Op("lgamma", ("x",), special.lgamma, (Partial.function_of_x(special.digamma, "digamma(x)"),),
       domain="x not 0, -1, -2, ...", doc="log|gamma(x)|", tex=r"\ln\Gamma",
       error=_pole_error("lgamma has a pole at 0, -1, -2, ..."), taylor=_t_lgamma),
    Op("digamma", ("x",), special.digamma,
       (Partial.function_of_x(special.trigamma, "trigamma(x)"),),
       domain="x not 0, -1, -2, ...", doc="lgamma'(x)", finite=True, tex=r"\psi",
       error=_pole_error("digamma has a pole at 0, -1, -2, ..."), taylor=_t_digamma),
    _unary("sinc", _sinc, _sinc_d, "(cos(pi*x) - sinc(x))/x",
           doc="sin(pi x)/(pi x), 1 at 0 (normalised, as NumPy, PyTorch)", finite=True,
           np="sinc_d({0}, {out})", taylor=_t_sinc),
    # -- unit conversions and the two-argument helpers
    _unary("radians", math.radians, lambda x, out: _RADIAN, "pi/180", doc="degrees to radians",
           py=repr(_RADIAN), finite=True,
           spell=_spell("math.radians({0})", "np.radians({0})", f"{{0}} * {_RADIAN!r}",
                        f"{{0}} * {_RADIAN!r}"), taylor=_t_scaled(math.radians, _RADIAN)),
    _unary("degrees", math.degrees, lambda x, out: _DEGREE, "180/pi", doc="radians to degrees",
           py=repr(_DEGREE), spell=_spell("math.degrees({0})", "np.degrees({0})",
                                          f"{{0}} * {_DEGREE!r}", f"{{0}} * {_DEGREE!r}"),
           taylor=_t_scaled(math.degrees, _DEGREE)),
    Op("logaddexp", ("x", "y"), _logaddexp,
       (Partial(lambda x, y, out: _sigmoid(x - y), "sigmoid(x - y)", np="sigmoid({0} - {1})"),
        Partial(lambda x, y, out: _sigmoid(y - x), "sigmoid(y - x)", np="sigmoid({1} - {0})")),
       doc="log(exp(x) + exp(y)), without overflow", finite=True,
       spell=_helper("logaddexp", 2, numpy="np.logaddexp({0}, {1})"), taylor=_t_logaddexp),
    Op("xlogy", ("x", "y"), _xlogy,
       (Partial(_xlogy_dx, "log(y)", _xlogy_kink, undefined="it needs log(y)",
                np="xlogy_dx({0}, {1}, {out})"),
        Partial(_xlogy_dy, "x/y", np="xlogy_dy({0}, {1}, {out})")),
       domain="y > 0, or x = 0", doc="x*log(y), 0 at x = 0 (as PyTorch, SciPy)",
       spell=_helper("xlogy", 2, python="(0.0 if {0} == 0.0 else {0} * math.log({1}))",
                     c="({0} == 0.0 ? 0.0 : {0} * log({1}))",
                     javascript="({0} === 0 ? 0 : {0} * Math.log({1}))"), taylor=_t_xlogy),
)

for _index, _op in enumerate(OPS):
    _op.index = _index
# (the graph builder's common-subexpression keys give a row 8 bits)
assert len(OPS) < 256, "the CSE key in graph.Builder needs more bits for the row"

#: comparisons: 1 or 0, derivative 0 (a step; flagged where it jumps). Kept
#: out of OPS, whose rows are differentiable functions the table-wide tests
#: sweep; test_conditions covers these.
COMPARISONS: tuple[Op, ...] = tuple(
    Op(name, ("x", "y"), rule, (_step(symbol), _step(symbol)), symbol=symbol,
       doc=f"x {symbol} y: 1 if true, else 0", finite=True, tex=tex,
       np=f"np.where({{0}} {symbol} {{1}}, 1.0, 0.0)",
       spell={"python": f"(1.0 if {{0}} {symbol} {{1}} else 0.0)",
              "numpy": f"np.where({{0}} {symbol} {{1}}, 1.0, 0.0)",
              "c": f"({{0}} {symbol} {{1}} ? 1.0 : 0.0)",
              "javascript": f"({{0}} {symbol} {{1}} ? 1 : 0)"}, taylor=_t_compare(rule))
    for name, symbol, rule, tex in (
        ("lt", "<", lambda x, y: 1.0 if x < y else 0.0, "<"),
        ("le", "<=", lambda x, y: 1.0 if x <= y else 0.0, r"\le"),
        ("gt", ">", lambda x, y: 1.0 if x > y else 0.0, ">"),
        ("ge", ">=", lambda x, y: 1.0 if x >= y else 0.0, r"\ge"),
        ("eq", "==", lambda x, y: 1.0 if x == y else 0.0, "="),
        ("ne", "!=", lambda x, y: 1.0 if x != y else 0.0, r"\ne")))
for _index, _op in enumerate(COMPARISONS, start=len(OPS)):
    _op.index = _index

#: operators by grammar alias
OPERATORS: dict[str, Op] = {op.name: op for op in OPS + COMPARISONS if op.symbol}

#: functions callable by name: (name, number of arguments) -> Op
FUNCTIONS: dict[tuple[str, int], Op] = {(op.name, op.arity): op for op in OPS if not op.symbol}
FUNCTIONS[("pow", 2)] = OPERATORS["pow"]

#: named constants; they cannot be bound or assigned
CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}


def function_arities() -> dict[str, list[int]]:
    """Each callable function name with the numbers of arguments it accepts
    (a function of any number of arguments lists its minimum, see VARIADIC)."""
    out: dict[str, list[int]] = {}
    for name, n in sorted(FUNCTIONS):
        out.setdefault(name, []).append(n)
    for name, op in VARIADIC.items():
        if name not in out:
            out[name] = [op.min_args]
    return out


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def formula_for(op: Op, k: int, arg_names: list[str] | tuple[str, ...]) -> str:
    """The local derivative of `op` with respect to its argument k, written in
    the program's own names: for ``u = b * c``, ``formula_for(mul, 0, ["b", "c"])``
    is ``"c"``. Parameters are replaced as whole words, in one pass (a name that
    is itself a parameter name is not replaced again); a negative constant such
    as ``-3`` is parenthesised inside a larger formula."""
    if op.variadic:  # x1, ..., xn; {k} is argument k, {args} all of them, {n} their count
        params: tuple[str, ...] = tuple(f"x{j + 1}" for j in range(len(arg_names)))
        formula = op.partials[k].formula.replace("{args}", ", ".join(params)).replace(
            "{n}", str(len(params)))
    else:
        params = op.params
        formula = op.partials[k].formula
    subst = dict(zip(params, arg_names, strict=True))
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


# ---------------------------------------------------------------- many arguments


class _Each:
    """A variadic row's partials: `partials[k]` is the rule for argument k
    (made on demand; the sweeps use `nlocals`, which does all of them at once)."""

    def __init__(self, op: Variadic) -> None:
        self.op = op

    def __len__(self) -> int:  # (any number: a row has no fixed count)
        return 1

    def __getitem__(self, k: int) -> Partial:
        op = self.op
        rule = op.rule

        def fn(*args: float) -> float:
            return rule(list(args[:-1]), args[-1])[k]

        def kink(*xs: float) -> Optional[str]:
            notes = op.nkinks(list(xs))
            return notes[0] if notes else None

        return Partial(fn, op.each_formula.replace("{k}", f"x{k + 1}"),
                       kink if op.kinks is not None else None)


class Variadic(Op):
    """A row taking any number (at least `min_args`) of arguments, x1, ..., xn.

    `value(xs)` is the value rule over the list of arguments; `rule(xs, out)`
    returns every argument's local factor at once (linear time: prod's
    factors from prefix and suffix products, not n products of n - 1);
    `kinks(xs)` the conventions applied at this point. `formula` writes the
    factor of argument x_k over x1..xn ({k} is x_k, {args} the list)."""

    __slots__ = ("min_args", "rule", "kinks", "each_formula")
    variadic = True

    def __init__(self, name: str, min_args: int, value: Callable[[list[float]], float],
                 rule: Callable[[list[float], float], list[float]], formula: str, *,
                 kinks: Optional[Callable[[list[float]], list[str]]] = None, doc: str = "",
                 domain: str = "", tex: Optional[str] = None,
                 taylor: Optional[Callable[..., list[Any]]] = None) -> None:
        super().__init__(name, ("x1",), value, (Partial(lambda *a: 0.0, formula),), domain,
                         doc=doc, tex=tex, taylor=taylor)
        self.min_args = min_args
        self.rule = rule
        self.kinks = kinks
        self.each_formula = formula
        self.has_kinks = kinks is not None
        self.partials = _Each(self)  # type: ignore[assignment]

    def nvalue(self, xs: list[float]) -> float:
        return self.value(xs)

    def nlocals(self, xs: list[float], out: float) -> list[float]:
        return self.rule(xs, out)

    def nkinks(self, xs: list[float]) -> list[str]:
        return self.kinks(xs) if self.kinks is not None else []

    def __repr__(self) -> str:
        return f"Variadic({self.name!r}, {self.min_args}+)"


def _ties(best: float, xs: list[float]) -> list[float]:
    t = xs.count(best)
    share = 1.0 / t
    return [share if x == best else 0.0 for x in xs]


def _tie_notes(best_of: Callable[[list[float]], float]) -> Callable[[list[float]], list[str]]:
    def kinks(xs: list[float]) -> list[str]:
        t = xs.count(best_of(xs))
        return [f"tie between {t} arguments: adjoint split evenly (1/{t} each)"] if t > 1 else []

    return kinks


def _prod_locals(xs: list[float], out: float) -> list[float]:
    n = len(xs)
    suffix = [1.0] * (n + 1)
    for k in range(n - 1, -1, -1):
        suffix[k] = suffix[k + 1] * xs[k]
    factors = []
    prefix = 1.0
    for k in range(n):
        factors.append(prefix * suffix[k + 1])
        prefix *= xs[k]
    return factors


def _hypot(xs: list[float]) -> float:
    return math.hypot(*xs)


def _hypot_locals(xs: list[float], out: float) -> list[float]:
    return [x / out for x in xs]  # (0, 0, ...): division by zero, as hypot(x, y)


def _logsumexp(xs: list[float]) -> float:
    m = max(xs)
    return m + math.log(math.fsum([math.exp(x - m) for x in xs]))


def _logsumexp_locals(xs: list[float], out: float) -> list[float]:
    # exp(x_k - logsumexp) loses digits when |x| is large (x_k - out cancels);
    # exp(x_k - max) / sum(exp(x_j - max)) is the same softmax, exact to ulps
    m = max(xs)
    e = [math.exp(x - m) for x in xs]
    s = math.fsum(e)
    return [v / s for v in e]


def _clamp(x: float, lo: float, hi: float) -> float:
    return min(max(x, lo), hi)


def _clamp_kink(x: float, lo: float, hi: float) -> Optional[str]:
    if x == lo or x == hi:
        return "clamp at a bound: the adjoint goes to x (as in PyTorch)"
    return None


#: rows of any number of arguments, by name (2 arguments of min, max and
#: hypot use their binary rows, whose tie rule is the same even split)
VARIADIC: dict[str, Variadic] = {op.name: op for op in (
    Variadic("sum", 1, math.fsum, lambda xs, out: [1.0] * len(xs), "1",
             doc="sum(x1, ..., xn), correctly rounded (math.fsum)", taylor=_tn_sum),
    Variadic("mean", 1, lambda xs: math.fsum(xs) / len(xs),
             lambda xs, out: [1.0 / len(xs)] * len(xs), "1/{n}", doc="the arithmetic mean", taylor=_tn_mean),
    Variadic("prod", 1, math.prod, _prod_locals, "the product of the others",
             doc="x1 * ... * xn", taylor=_tn_prod),
    Variadic("max", 2, max, lambda xs, out: _ties(out, xs), "({k} == max({args}) ? 1/ties : 0)",
             kinks=_tie_notes(max), doc="the largest argument; a tie splits the adjoint evenly",
             tex=r"\max", taylor=_tn_best(max)),
    Variadic("min", 2, min, lambda xs, out: _ties(out, xs), "({k} == min({args}) ? 1/ties : 0)",
             kinks=_tie_notes(min), doc="the smallest argument; a tie splits the adjoint evenly",
             tex=r"\min", taylor=_tn_best(min)),
    Variadic("hypot", 2, _hypot, _hypot_locals, "{k}/hypot({args})",
             doc="sqrt(x1^2 + ... + xn^2) without overflow", taylor=_tn_hypot),
    Variadic("norm", 1, _hypot, _hypot_locals, "{k}/norm({args})",
             doc="the Euclidean norm, hypot(x1, ..., xn)", taylor=_tn_hypot),
    Variadic("logsumexp", 1, _logsumexp, _logsumexp_locals,
             "exp({k} - logsumexp({args}))", doc="log(exp(x1) + ... + exp(xn)) without overflow",
             taylor=_tn_logsumexp),
)}

for _index, _op in enumerate(VARIADIC.values(), start=len(OPS) + len(COMPARISONS)):
    _op.index = _index

#: clamp(x, lo, hi): three arguments, PyTorch's rule at the bounds (the
#: adjoint goes to x when lo <= x <= hi, bounds included; to lo when x < lo;
#: to hi when x > hi; lo > hi gives hi, as min(max(x, lo), hi) does)
CLAMP = Op("clamp", ("x", "lo", "hi"), _clamp,
           (Partial(lambda x, lo, hi, out: 1.0 if lo <= x <= hi else 0.0, "(lo <= x <= hi ? 1 : 0)",
                    _clamp_kink, expr="(lo <= x)*(x <= hi)"),
            Partial(lambda x, lo, hi, out: 1.0 if x < lo <= hi else 0.0, "(x < lo <= hi ? 1 : 0)",
                    expr="(x < lo)*(lo <= hi)"),
            Partial(lambda x, lo, hi, out: 1.0 if max(x, lo) > hi else 0.0,
                    "(max(x, lo) > hi ? 1 : 0)", expr="max(x, lo) > hi")),
           doc="min(max(x, lo), hi)", finite=True,
           spell={"python": "min(max({0}, {1}), {2})",
                  "numpy": "np.minimum(np.maximum({0}, {1}), {2})",
                  "c": "fmin(fmax({0}, {1}), {2})",
                  "javascript": "Math.min(Math.max({0}, {1}), {2})"}, taylor=_t_clamp)
CLAMP.index = len(OPS) + len(COMPARISONS) + len(VARIADIC)
FUNCTIONS[("clamp", 3)] = CLAMP


#: where(c, a, b): a where c is not 0, else b. Only the chosen branch is
#: evaluated (evaluate.forward's demand-driven pass) and only it gets an adjoint.
WHERE = Op("where", ("c", "a", "b"), lambda c, a, b: a if c != 0.0 else b,
           (Partial(lambda c, a, b, out: 0.0, "0", np="0.0"),
            Partial(lambda c, a, b, out: 1.0 if c != 0.0 else 0.0, "(c != 0 ? 1 : 0)",
                    np="np.where({0} != 0.0, 1.0, 0.0)", expr="where(c, 1, 0)"),
            Partial(lambda c, a, b, out: 0.0 if c != 0.0 else 1.0, "(c != 0 ? 0 : 1)",
                    np="np.where({0} != 0.0, 0.0, 1.0)", expr="where(c, 0, 1)")),
           doc="a if c is not 0, else b; only the chosen branch is evaluated", finite=True,
           np="np.where({0} != 0.0, {1}, {2})",
           taylor=_t_where,
           # (the generated code computes both branches: in Python one that fails raises)
           spell={"python": "({1} if {0} != 0.0 else {2})",
                  "numpy": "np.where({0} != 0.0, {1}, {2})",
                  "c": "({0} != 0.0 ? {1} : {2})", "javascript": "({0} !== 0 ? {1} : {2})"})
WHERE.index = CLAMP.index + 1
FUNCTIONS[("where", 3)] = WHERE

#: the operation of an alias node: a name given to a value that already has a
#: node (`w = u`, or `v = x*y` after `u = x*y`); its value is its argument's
ALIAS = Op("alias", ("x",), lambda x: x, (Partial(lambda x, out: 1.0, "1", py="1.0", np="1.0"),),
           doc="another name for a value", py="{0}", finite=True, np="{0}", taylor=_t_identity)
ALIAS.index = WHERE.index + 1

#: every row of the table, in one place: OPS (the functions and operators of
#: fixed arity the table-wide tests sweep), the comparisons, the functions of
#: any number of arguments, clamp, where, and the alias of a second name
ROWS: tuple[Op, ...] = (*OPS, *COMPARISONS, *VARIADIC.values(), CLAMP, WHERE, ALIAS)
assert len({op.index for op in ROWS}) == len(ROWS) and len(ROWS) < 256, \
    "each row needs its own index below 256 (graph.Builder's CSE keys)"
