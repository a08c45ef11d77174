"""Every row of the operations table: its local derivatives against central
finite differences of its own value rule, and the value rule against the math
library / hand values, at several points inside the domain and away from kinks."""

from __future__ import annotations

import math

import pytest

from autodiff.ops import CONSTANTS, FUNCTIONS, OPERATORS, OPS, Op, function_arities

from conftest import assert_close, central_difference

# Points per (name, arity): inside the domain, away from kinks and ties.
POINTS: dict[tuple[str, int], list[tuple[float, ...]]] = {
    ("add", 2): [(1.5, -2.0), (1e3, 3e-3)],
    ("sub", 2): [(1.5, -2.0), (-7.0, 0.25)],
    ("mul", 2): [(1.5, -2.0), (0.3, 7.0)],
    ("div", 2): [(1.5, -2.0), (-3.0, 0.7)],
    ("pow", 2): [(1.5, 2.5), (2.0, -1.5), (0.7, 3.0), (3.0, 0.5)],
    ("neg", 1): [(1.5,), (-0.25,)],
    ("exp", 1): [(0.3,), (-2.0,), (5.0,)],
    ("expm1", 1): [(1e-3,), (-1.5,), (2.0,)],
    ("log", 1): [(0.3,), (2.0,), (50.0,)],
    ("log", 2): [(8.0, 2.0), (0.5, 10.0), (3.0, 0.5)],
    ("log1p", 1): [(1e-3,), (-0.5,), (4.0,)],
    ("log2", 1): [(0.3,), (8.0,)],
    ("log10", 1): [(0.3,), (1000.0,)],
    ("sqrt", 1): [(0.3,), (2.0,), (1e4,)],
    ("abs", 1): [(1.5,), (-2.5,)],
    ("relu", 1): [(1.5,), (-2.5,)],
    ("min", 2): [(1.0, 2.0), (3.0, -1.0)],
    ("max", 2): [(1.0, 2.0), (3.0, -1.0)],
    ("sin", 1): [(0.3,), (2.0,), (-4.0,)],
    ("cos", 1): [(0.3,), (2.0,), (-4.0,)],
    ("tan", 1): [(0.3,), (1.2,), (-1.0,)],
    ("asin", 1): [(0.3,), (-0.9,)],
    ("acos", 1): [(0.3,), (-0.9,)],
    ("atan", 1): [(0.3,), (-5.0,)],
    ("atan2", 2): [(1.0, 2.0), (-1.0, -0.5), (0.5, -3.0)],
    ("hypot", 2): [(3.0, 4.0), (-1.0, 0.5)],
    ("sinh", 1): [(0.3,), (-2.0,)],
    ("cosh", 1): [(0.3,), (-2.0,)],
    ("tanh", 1): [(0.3,), (-2.0,)],
    ("sigmoid", 1): [(0.3,), (-2.0,), (5.0,)],
    ("softplus", 1): [(0.3,), (-2.0,), (5.0,)],
    # issue 10
    ("floor", 1): [(1.5,), (-2.3,)],
    ("ceil", 1): [(1.5,), (-2.3,)],
    ("round", 1): [(1.3,), (-2.7,)],
    ("trunc", 1): [(1.5,), (-2.3,)],
    ("sign", 1): [(1.5,), (-2.3,)],
    ("mod", 2): [(7.5, 2.0), (-7.5, 2.0), (7.5, -2.0), (0.3, 0.7)],
    ("cbrt", 1): [(8.0,), (-0.3,), (2e-3,)],
    ("exp2", 1): [(0.3,), (-2.5,), (10.0,)],
    ("asinh", 1): [(0.3,), (-5.0,), (1e3,)],
    ("acosh", 1): [(1.001,), (2.0,), (1e3,)],
    ("atanh", 1): [(0.3,), (-0.999,)],
    ("sec", 1): [(0.3,), (2.0,), (-4.0,)],
    ("csc", 1): [(0.3,), (2.0,), (-4.0,)],
    ("cot", 1): [(0.3,), (2.0,), (-4.0,)],
    ("erf", 1): [(0.3,), (-1.5,), (3.0,)],
    ("erfc", 1): [(0.3,), (-1.5,), (3.0,)],
    ("lgamma", 1): [(0.3,), (1.0,), (2.0,), (7.5,), (-0.5,), (-2.3,)],
    ("digamma", 1): [(0.3,), (1.4616321449683622,), (7.5,), (-0.5,), (-2.3,)],
    ("sinc", 1): [(0.3,), (0.05,), (1.5,), (-2.2,)],
    ("radians", 1): [(30.0,), (-400.0,)],
    ("degrees", 1): [(0.5,), (-7.0,)],
    ("logaddexp", 2): [(0.3, -1.0), (5.0, 5.5), (-40.0, 2.0)],
    ("xlogy", 2): [(0.3, 2.0), (-2.0, 0.5), (0.0, 3.0)],
}

# Hand or math-library values of each value rule (independent of ops.py).
VALUES = [
    ("add", (1.5, -2.0), -0.5), ("sub", (1.5, -2.0), 3.5), ("mul", (1.5, -2.0), -3.0),
    ("div", (1.5, -2.0), -0.75), ("pow", (2.0, 10.0), 1024.0), ("pow", (-2.0, 3.0), -8.0),
    ("pow", (0.0, 0.0), 1.0), ("neg", (2.0,), -2.0), ("exp", (1.0,), math.e),
    ("log", (math.e,), 1.0), ("log2", (8.0,), 3.0), ("log10", (1000.0,), 3.0), ("sqrt", (9.0,), 3.0),
    ("abs", (-2.5,), 2.5), ("relu", (-2.5,), 0.0), ("relu", (2.5,), 2.5), ("min", (1.0, 2.0), 1.0),
    ("max", (1.0, 2.0), 2.0), ("sin", (math.pi / 2,), 1.0), ("cos", (0.0,), 1.0),
    ("atan2", (1.0, 1.0), math.pi / 4), ("hypot", (3.0, 4.0), 5.0), ("sigmoid", (0.0,), 0.5),
    ("softplus", (0.0,), math.log(2.0)), ("tanh", (0.0,), 0.0), ("log1p", (1e-20,), 1e-20),
    ("expm1", (1e-20,), 1e-20), ("sigmoid", (-1000.0,), 0.0), ("softplus", (1000.0,), 1000.0),
    ("softplus", (-1000.0,), 0.0),
    # issue 10: hand values, and mpmath's at 40 digits rounded to doubles (lgamma and digamma
    # next to their zeros: the argument is the double shown)
    ("floor", (-2.5,), -3.0), ("floor", (2.0,), 2.0), ("ceil", (-2.5,), -2.0), ("ceil", (2.1,), 3.0),
    ("round", (2.5,), 2.0), ("round", (3.5,), 4.0), ("round", (-2.5,), -2.0), ("round", (-2.6,), -3.0),
    ("round", (0.5,), 0.0), ("round", (1e300,), 1e300), ("trunc", (-2.7,), -2.0), ("trunc", (2.7,), 2.0),
    ("sign", (-3.0,), -1.0), ("sign", (0.0,), 0.0), ("sign", (1e-300,), 1.0),
    ("mod", (7.0, 3.0), 1.0), ("mod", (-7.0, 3.0), 2.0), ("mod", (7.0, -3.0), -2.0),
    ("mod", (-7.0, -3.0), -1.0), ("mod", (5.5, 2.0), 1.5),
    ("cbrt", (-8.0,), -2.0), ("cbrt", (27.0,), 3.0), ("cbrt", (0.0,), 0.0), ("cbrt", (1e-300,), 1e-100),
    ("cbrt", (-1000.0,), -10.0), ("exp2", (10.0,), 1024.0), ("exp2", (-1.0,), 0.5),
    ("asinh", (1.0,), 0.881373587019543), ("acosh", (1.0,), 0.0),
    ("acosh", (2.0,), 1.3169578969248168), ("atanh", (0.5,), 0.5493061443340549),
    ("sec", (0.0,), 1.0), ("sec", (1.0,), 1.8508157176809257),
    ("csc", (1.0,), 1.1883951057781212), ("cot", (1.0,), 0.6420926159343308),
    ("erf", (0.5,), 0.5204998778130465), ("erf", (-2.0,), -0.9953222650189527),
    ("erfc", (10.0,), 2.088487583762545e-45), ("erfc", (-1.0,), 1.8427007929497148),
    ("lgamma", (0.5,), 0.5723649429247001), ("lgamma", (1.0,), 0.0), ("lgamma", (2.0,), 0.0),
    ("lgamma", (1.0000001,), -5.772155829918507e-08),
    ("lgamma", (1.9999999,), -4.2278430309861296e-08),
    ("lgamma", (-0.5,), 1.2655121234846454), ("lgamma", (100.0,), 359.1342053695754),
    ("digamma", (1.0,), -0.5772156649015329), ("digamma", (0.5,), -1.9635100260214235),
    ("digamma", (1.4616321449683622,), -9.241265521729427e-17),
    ("digamma", (-0.5,), 0.03648997397857652), ("digamma", (1e6,), 13.815510057964191),
    ("sinc", (0.0,), 1.0), ("sinc", (1.0,), 0.0), ("sinc", (-3.0,), 0.0), ("sinc", (0.5,), 2 / math.pi),
    ("radians", (180.0,), math.pi), ("degrees", (math.pi,), 180.0),
    ("logaddexp", (0.0, 0.0), math.log(2.0)), ("logaddexp", (1000.0, 1000.0), 1000.0 + math.log(2.0)),
    ("logaddexp", (-1000.0, 0.0), 0.0), ("logaddexp", (1e308, 1e308), 1e308),
    ("xlogy", (0.0, 0.0), 0.0), ("xlogy", (0.0, -1.0), 0.0), ("xlogy", (2.0, math.e), 2.0),
    ("xlogy", (3.0, 1.0), 0.0),
]


def _op(name: str, arity: int) -> Op:
    if name in OPERATORS and OPERATORS[name].arity == arity:
        return OPERATORS[name]
    return FUNCTIONS[(name, arity)]


def test_every_row_has_test_points() -> None:
    rows = {(op.name, op.arity) for op in OPS}
    assert rows == set(POINTS), "add test points for new rows of the ops table"


@pytest.mark.parametrize("key", sorted(POINTS), ids=lambda k: f"{k[0]}/{k[1]}")
def test_local_derivatives_match_central_differences(key: tuple[str, int]) -> None:
    op = _op(*key)
    for point in POINTS[key]:
        out = op.value(*point)
        for k, partial in enumerate(op.partials):
            analytic = partial.fn(*point, out)
            numeric = central_difference(op.value, point, k)
            assert_close(analytic, numeric, rel=1e-6, abs_=1e-8,
                         what=f"d{op.name}/d{op.params[k]} at {point} ({partial.formula})")
            assert partial.kink is None or partial.kink(*point) is None


@pytest.mark.parametrize("name, args, want", VALUES)
def test_value_rules(name: str, args: tuple[float, ...], want: float) -> None:
    assert_close(_op(name, len(args)).value(*args), want, rel=1e-15, abs_=1e-300, what=name)


@pytest.mark.parametrize("name, args, exc", [
    ("log", (0.0,), ValueError), ("log", (-1.0,), ValueError), ("sqrt", (-1.0,), ValueError),
    ("asin", (2.0,), ValueError), ("div", (1.0, 0.0), ZeroDivisionError),
    ("pow", (-8.0, 1 / 3), ValueError), ("exp", (1000.0,), OverflowError),
    ("pow", (9.0, 387420489.0), OverflowError), ("log1p", (-1.0,), ValueError),
    ("cosh", (1000.0,), OverflowError),
    ("mod", (1.0, 0.0), ZeroDivisionError), ("acosh", (0.5,), ValueError), ("atanh", (1.0,), ValueError),
    ("atanh", (-1.5,), ValueError), ("csc", (0.0,), ZeroDivisionError), ("cot", (0.0,), ZeroDivisionError),
    ("lgamma", (0.0,), ZeroDivisionError), ("lgamma", (-3.0,), ZeroDivisionError),
    ("lgamma", (-1e300,), ZeroDivisionError), ("lgamma", (1e308,), OverflowError),
    ("digamma", (0.0,), ZeroDivisionError), ("digamma", (-2.0,), ZeroDivisionError),
    ("exp2", (1024.0,), OverflowError), ("xlogy", (1.0, 0.0), ValueError), ("xlogy", (1.0, -1.0), ValueError),
])
def test_value_rules_raise_outside_their_domain(name: str, args: tuple[float, ...], exc: type) -> None:
    with pytest.raises(exc):
        _op(name, len(args)).value(*args)


def test_pow_never_returns_complex_or_big_integers() -> None:
    op = OPERATORS["pow"]
    assert isinstance(op.value(-2.0, 2.0), float)
    with pytest.raises(ValueError):
        op.value(-8.0, 1.0 / 3.0)


def test_function_list_matches_the_issue() -> None:
    names = set(function_arities())
    wanted = {"exp", "log", "log2", "log10", "sqrt", "abs", "sin", "cos", "tan", "asin", "acos", "atan",
              "atan2", "sinh", "cosh", "tanh", "sigmoid", "relu", "softplus", "pow", "min", "max", "hypot",
              "log1p", "expm1",
              # issue 10 ("x % y" is the operator mod)
              "floor", "ceil", "round", "trunc", "sign", "cbrt", "exp2", "asinh", "acosh", "atanh", "sec",
              "csc", "cot", "erf", "erfc", "lgamma", "digamma", "radians", "degrees", "logaddexp", "xlogy",
              "sinc"}
    assert wanted <= names
    assert function_arities()["log"] == [1, 2]
    assert CONSTANTS == {"pi": math.pi, "e": math.e}
    assert OPERATORS["mod"].symbol == "%"


# ---- the displayed formula of every local derivative is the same function as its rule

def _formula_program(op: Op, k: int) -> str | None:
    """The formula of op's k-th partial as a program of the parameter names, or
    None where it is written outside the language (`(x > 0 ? 1 : 0)`, and
    digamma's `trigamma(x)`: not a function of the language; tests/test_special.py
    checks trigamma against mpmath)."""
    formula = op.partials[k].formula
    if "?" in formula or "trigamma(" in formula:
        return None
    return formula


@pytest.mark.parametrize("key", sorted(POINTS), ids=lambda k: f"{k[0]}/{k[1]}")
def test_every_displayed_formula_evaluates_to_the_numeric_rule(key: tuple[str, int]) -> None:
    """`∂u/∂b = c`: what the table, graph and explain show is parsed by autodiff
    itself and evaluated at the sample points; it must equal the rule the sweeps
    use (a formula that drifted from its rule fails here)."""
    from autodiff import evaluate, parse

    op = FUNCTIONS.get(key) or OPERATORS[key[0]]
    checked = 0
    for k in range(op.arity):
        program = _formula_program(op, k)
        if program is None:
            continue
        graph = parse(program)
        for args in POINTS[key]:
            bindings = {p: x for p, x in zip(op.params, args, strict=True) if p in graph.variables}
            shown = evaluate(graph, bindings).value
            rule = op.partials[k].fn(*args, op.value(*args))
            assert_close(shown, rule, rel=1e-12, abs_=1e-15, what=f"{op.name} d/d{op.params[k]} at {args}")
            checked += 1
    if op.name not in ("relu", "min", "max", "digamma"):  # written with ?:, or trigamma
        assert checked, f"{op.name}: no formula was checked"


# ---- accuracy in the tails, against mpmath at 50 digits (cancellation would lose every digit)

TAILS = [("sigmoid", [-745.0, -40.0, -20.0, -5.0, 0.5, 5.0, 20.0, 36.0, 40.0, 700.0]),
         ("tanh", [-300.0, -20.0, -10.0, -1.0, -0.3, 0.0, 1e-8, 0.4, 0.6, 3.0, 10.0, 19.5, 20.0, 300.0]),
         ("expm1", [-700.0, -40.0, -20.0, -1e-10, 0.0, 1e-5, 3.0, 700.0]),
         ("asin", [-0.9999999999, -0.5, 0.3, 0.9999999999]),
         ("acos", [-0.9999999999, 0.3, 0.9999999999])]


def _exact_derivative(name: str, x: float) -> float:
    import mpmath

    mpmath.mp.dps = 50
    X = mpmath.mpf(x)
    d = {"sigmoid": lambda: mpmath.exp(-X) / (1 + mpmath.exp(-X)) ** 2,
         "tanh": lambda: 1 / mpmath.cosh(X) ** 2,
         "expm1": lambda: mpmath.exp(X),
         "asin": lambda: 1 / mpmath.sqrt(1 - X * X),
         "acos": lambda: -1 / mpmath.sqrt(1 - X * X)}[name]()
    return float(d)


@pytest.mark.parametrize("name,xs", TAILS, ids=[t[0] for t in TAILS])
def test_derivatives_keep_their_digits_in_the_tails(name: str, xs: list[float]) -> None:
    """sigmoid', tanh' and expm1' written as s(1 - s), 1 - t^2 and expm1(x) + 1
    lose every digit for large |x| (PyTorch and JAX do); autodiff's rules keep
    them to a few ulps everywhere, as the README says."""
    op = FUNCTIONS[(name, 1)]
    for x in xs:
        got = op.partials[0].fn(x, op.value(x))
        want = _exact_derivative(name, x)
        if want == 0.0 or abs(want) < 1e-300:
            assert abs(got) < 1e-300, (name, x, got)
            continue
        assert abs(got - want) <= 8 * math.ulp(want), f"{name}'({x}) = {got!r}, exact {want!r}"


def test_every_row_declares_what_the_compiled_path_needs() -> None:
    """Each row carries its own Python source or is called: compile.py holds no
    per-operation knowledge, so a rule changed in the row changes every path."""
    import autodiff.compile as compiled_module

    source = open(compiled_module.__file__, encoding="utf-8").read()
    for op in OPS:
        assert f'"{op.name}"' not in source, f"compile.py names the operation {op.name}"
        assert op.tex.startswith("\\"), op.name
