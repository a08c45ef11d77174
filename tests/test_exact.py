"""--exact: rational values and gradients against SymPy's exact arithmetic."""

from __future__ import annotations

from fractions import Fraction

import pytest
import sympy as sp

import autodiff
from autodiff.rationals import evaluate_exact, exact_text, to_fraction

from conftest import sympy_program

RATIONAL_CORPUS = [
    ("J = 3*(a + b*c)", dict(a="5", b="3", c="2")),
    ("x^3/3", dict(x="1/3")),
    ("u = b*c; v = a + u; J = 3*v", dict(a="5", b="3", c="2")),
    ("(x - y)^2 / (1 + x*y)", dict(x="0.1", y="2/7")),
    ("x^-2 + x^5 - 1/x", dict(x="-3/4")),
    ("abs(x - y)*relu(x) + min(x, y) - max(x*y, 1)", dict(x="5/2", y="4")),
    ("p = x + y\nq = x - y\nr = p*q\nr / (p + q)", dict(x="2.5", y="1.5")),
    ("t = x + y; u = t*t; v = u*t; w = v/t", dict(x="1/2", y="1/4")),
    ("((x + 1)*x + 1)*x + 1", dict(x="0.3")),
    ("1/(1 + x^2)", dict(x="2")),
    ("x/y/z - 0.125*x*y*z", dict(x="6", y="2/3", z="-3")),
    ("sqrt(x*x + y*y)", dict(x="3", y="-4")),
    ("relu(x - 1) + relu(1 - x) + abs(-x)", dict(x="1/4")),
]


@pytest.mark.parametrize("program, point", RATIONAL_CORPUS, ids=[c[0][:40] for c in RATIONAL_CORPUS])
def test_exact_against_sympy_rationals(program: str, point: dict[str, str]) -> None:
    expr, symbols = sympy_program(program)
    expr = sp.nsimplify(expr, rational=True)  # SymPy reads 0.125 as a float: the written decimal
    subs = {symbols[k]: sp.Rational(v) for k, v in point.items()}
    r = evaluate_exact(autodiff.parse(program).select(None), point)
    assert not r.inexact
    assert isinstance(r.value, Fraction)
    assert sp.Rational(r.value.numerator, r.value.denominator) == sp.simplify(expr.subs(subs))
    for name, got in r.gradient.items():
        assert isinstance(got, Fraction), name
        want = sp.simplify(sp.diff(expr, symbols[name]).subs(subs))
        assert sp.Rational(got.numerator, got.denominator) == want, (name, got, want)


def test_lecture_example_is_integers_and_x_cubed_over_3() -> None:
    r = evaluate_exact(autodiff.parse("J = 3*(a + b*c)"), {"a": 5, "b": 3, "c": 2})
    assert exact_text(r.value) == "33"
    assert {k: exact_text(v) for k, v in r.gradient.items()} == {"a": "3", "b": "6", "c": "9"}
    r = evaluate_exact(autodiff.parse("x^3/3"), {"x": "1/3"})
    assert exact_text(r.value) == "1/81" and exact_text(r.gradient["x"]) == "1/9"


def test_bindings_are_exact_decimals_and_fractions() -> None:
    assert to_fraction("0.1") == Fraction(1, 10)
    assert to_fraction("1/3") == Fraction(1, 3)
    assert to_fraction("-2.5e-3") == Fraction(-1, 400)
    assert to_fraction(0.1) == Fraction(1, 10)  # a float is read as its shortest decimal
    assert to_fraction(7) == 7
    for bad in ("1/0", "x", "1/3.5", "nan", True):
        with pytest.raises(autodiff.BindingError):
            to_fraction(bad, "x")
    r = evaluate_exact(autodiff.parse("0.1*x + 0.2"), {"x": "1"})
    assert r.value == Fraction(3, 10)  # not 0.30000000000000004


def test_leaving_the_rationals_is_an_error_naming_the_operation() -> None:
    for program, op in [("sin(x) + x^2", "sin"), ("x^0.5", "pow"), ("exp(x)", "exp"),
                        ("sqrt(x)", "sqrt")]:
        with pytest.raises(autodiff.EvaluationError) as e:
            evaluate_exact(autodiff.parse(program), {"x": "2"})
        assert e.value.kind == "inexact" and op in str(e.value)
    with pytest.raises(autodiff.EvaluationError, match="the constant pi"):
        evaluate_exact(autodiff.parse("pi*x"), {"x": "2"})
    assert evaluate_exact(autodiff.parse("sqrt(x)"), {"x": "9/4"}).value == Fraction(3, 2)


def test_auto_falls_back_to_floats_and_marks_what_depends_on_it() -> None:
    g = autodiff.parse("u = x*x; v = sin(x); w = u + v; z = u*3").select("w")
    r = evaluate_exact(g, {"x": "1/2"}, auto=True)
    names = g.names()
    inexact = {names[i] for i in r.inexact}
    assert {"v", "w"} <= inexact and "u" not in inexact
    assert r.values[g.assigned["u"]] == Fraction(1, 4)
    r2 = evaluate_exact(autodiff.parse("u = x*x; v = sin(x); z = u*3").select("z"), {"x": "1/2"},
                        auto=True)
    assert not r2.inexact and r2.gradient == {"x": Fraction(3)}


def test_sizes_are_bounded_and_refused_at_once() -> None:
    with pytest.raises(autodiff.EvaluationError, match="10,000 digits"):
        evaluate_exact(autodiff.parse("x^1000000000"), {"x": "3/2"})
    squares = "; ".join(["a0 = x"] + [f"a{k} = a{k - 1}*a{k - 1}" for k in range(1, 60)])
    with pytest.raises(autodiff.EvaluationError, match="10,000 digits"):
        evaluate_exact(autodiff.parse(squares), {"x": "3/2"})
    big = evaluate_exact(autodiff.parse("x^400"), {"x": "10"})  # beyond a double, within the limit
    assert big.value == 10 ** 400 and big.gradient["x"] == 400 * 10 ** 399
    with pytest.raises(autodiff.BindingError):
        to_fraction("1e100000", "x")


def test_errors_are_the_float_paths() -> None:
    with pytest.raises(autodiff.EvaluationError) as e:
        evaluate_exact(autodiff.parse("1/(x - 1)"), {"x": "1"})
    assert e.value.kind == "division_by_zero"
