"""The hard points of ../shared/NUMERICS.md: conventions at kinks (PyTorch's),
and errors that name the node where PyTorch or JAX would return inf or nan."""

from __future__ import annotations

import pytest

import autodiff
from autodiff import EvaluationError


def grad(program: str, **point: float) -> tuple[float, dict[str, float], dict[int, list[str]]]:
    r = autodiff.differentiate(program, point)
    return r.value, r.gradient, r.conventions


@pytest.mark.parametrize("program, point, value, gradient, flagged", [
    ("abs(x)", dict(x=0), 0, dict(x=0), True),
    ("relu(x)", dict(x=0), 0, dict(x=0), True),
    ("max(x, y)", dict(x=1, y=1), 1, dict(x=0.5, y=0.5), True),
    ("min(x, y)", dict(x=1, y=1), 1, dict(x=0.5, y=0.5), True),
    ("max(x, x)", dict(x=1), 1, dict(x=1), True),
    ("x^0", dict(x=0), 1, dict(x=0), True),
    ("x^0", dict(x=2), 1, dict(x=0), False),
    ("x^y", dict(x=0, y=0), 1, dict(x=0, y=0), True),
    ("x^y", dict(x=0, y=1), 0, dict(x=1, y=0), True),
    ("x^y", dict(x=0, y=2), 0, dict(x=0, y=0), True),
    ("x^2", dict(x=0), 0, dict(x=0), False),       # a true zero, not a convention
    ("x^2", dict(x=-2), 4, dict(x=-4), False),     # negative base, integer power
    ("tanh(x)", dict(x=1000), 1, dict(x=0), False),
    ("tanh(x)", dict(x=-1000), -1, dict(x=0), False),
    ("sigmoid(x)", dict(x=-1000), 0, dict(x=0), False),
    ("softplus(x)", dict(x=1000), 1000, dict(x=1), False),
    ("softplus(x)", dict(x=-1000), 0, dict(x=0), False),
    ("abs(x)", dict(x=-2), 2, dict(x=-1), False),
])
def test_conventions(program: str, point: dict[str, float], value: float, gradient: dict[str, float],
                     flagged: bool) -> None:
    v, g, conventions = grad(program, **point)
    assert v == value
    assert g == gradient
    assert bool(conventions) == flagged


@pytest.mark.parametrize("program, point, kind, words", [
    ("x^y", dict(x=-2, y=2), "derivative", ["∂f/∂y", "log", "x = -2, y = 2"]),
    ("x^y", dict(x=-8, y=1 / 3), "domain", ["negative base", "x = -8"]),
    ("sqrt(x)", dict(x=0), "derivative", ["∂f/∂x = 1/(2*sqrt(x))", "infinite", "x = 0"]),
    ("sqrt(x)", dict(x=-1), "domain", ["sqrt", "x >= 0", "x = -1"]),
    ("log(x)", dict(x=-1), "domain", ["log", "x > 0", "x = -1"]),
    ("log(x)", dict(x=0), "domain", ["log", "x = 0"]),
    ("1/x", dict(x=0), "division_by_zero", ["division by zero", "f = 1 / x", "x = 0"]),
    ("x/x", dict(x=0), "division_by_zero", ["division by zero", "x = 0"]),
    ("atan2(y, x)", dict(y=0, x=0), "derivative", ["atan2", "y = 0, x = 0"]),
    ("hypot(x, y)", dict(x=0, y=0), "derivative", ["hypot", "x = 0, y = 0"]),
    ("log(1 + exp(-x))", dict(x=-1000), "overflow", ["exp(t1)", "t1 = 1000", "softplus"]),
    ("exp(x)", dict(x=1000), "overflow", ["exp(x)", "x = 1000"]),
    ("x*x", dict(x=1e200), "overflow", ["x * x", "x = 1e200"]),
    ("1/(x*x)", dict(x=1e200), "overflow", ["t1 = x * x"]),
    ("0*sqrt(x)", dict(x=0), "derivative", ["sqrt", "infinite"]),
    ("asin(x)", dict(x=2), "domain", ["asin", "-1 <= x <= 1", "x = 2"]),
    ("asin(x)", dict(x=1), "derivative", ["asin", "x = 1"]),
    ("log(x, b)", dict(x=2, b=1), "division_by_zero", ["base 1"]),
    ("exp(exp(x))", dict(x=7), "overflow", ["exp(t1)"]),
    ("x^y", dict(x=0, y=-1), "division_by_zero", ["x = 0, y = -1"]),
    ("cosh(x)", dict(x=1000), "overflow", ["cosh"]),
    ("x^0.5", dict(x=0), "derivative", ["∂f/∂x", "infinite"]),
])
def test_undefined_or_infinite_stops_with_the_node_named(program: str, point: dict[str, float], kind: str,
                                                        words: list[str]) -> None:
    with pytest.raises(EvaluationError) as info:
        autodiff.differentiate(program, point)
    err = info.value
    assert err.kind == kind
    text = err.render()
    for w in words:
        assert w in text, text
    assert err.exit_code == 1


def test_power_tower_answers_at_once() -> None:
    with pytest.raises(EvaluationError) as info:
        autodiff.differentiate("9^9^9^9", {})
    assert info.value.kind == "overflow"
    assert "t1 = 387420489" in info.value.message


def test_adjoint_overflow_names_the_edge() -> None:
    # Every value and every local factor is finite (sin is bounded, each factor
    # at most 1e200), but ∂J/∂x = 1e200 · cos(u) · 1e200 overflows on the edge
    # from x into u.
    with pytest.raises(EvaluationError) as info:
        autodiff.differentiate("u = 1e200*x; J = sin(u)*1e200", dict(x=1.0))
    e = info.value
    assert (e.kind, e.node, e.expression) == ("overflow", "u", "1e200 * x")
    assert "the adjoint ∂J/∂x is too large for a double, at the edge from x into node u" in e.message


def test_value_overflow_names_the_node_that_overflowed() -> None:
    with pytest.raises(EvaluationError) as info:
        autodiff.differentiate("y = exp(exp(x)); J = y*y*1e-300", dict(x=6.5))
    assert (info.value.kind, info.value.node, info.value.expression) == ("overflow", "t2", "y * y")


def test_negative_zero_survives() -> None:
    r = autodiff.differentiate("x*y", dict(x=-0.0, y=1))
    assert str(r.value) == "-0.0"


@pytest.mark.parametrize("program", ["sin(x*x)", "log(x*x)", "sqrt(x*x)", "asin(x*x)", "J = cos(x*x*2)"])
def test_an_overflow_feeding_another_function_is_named_where_it_happened(program) -> None:
    # x*x at 1e200 is inf (no exception); the next function then raises on
    # inf. The error is the overflow, at the node that overflowed.
    with pytest.raises(EvaluationError) as info:
        autodiff.differentiate(program, {"x": 1e200})
    e = info.value
    assert (e.kind, e.expression) == ("overflow", "x * x"), e.message
    assert "overflow: the value is too large for a double" in e.message


def test_the_library_does_not_evaluate_statements_the_output_does_not_use() -> None:
    g = autodiff.parse("u = log(x); J = y*2")
    r = autodiff.evaluate(g, {"y": 1.0})  # x is not needed: no invented x = 0
    assert (r.value, r.gradient) == (2.0, {"y": 2.0})
    r = autodiff.evaluate(g, {"x": -1.0, "y": 1.0})  # log(-1) is never evaluated
    assert r.value == 2.0
    r = autodiff.evaluate(autodiff.parse("u = sqrt(x); J = y*2"), {"x": 0.0, "y": 1.0})
    assert r.gradient == {"y": 2.0}
