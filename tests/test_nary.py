"""Nodes of any number of inputs: min/max of 2+ arguments (ties split evenly),
sum, mean, prod, hypot, norm, logsumexp, clamp. Oracles: hand-worked values,
SymPy at random points, central differences; the compiled batch path equals
the interpreter bit for bit; 100,000-wide and 100,000-deep inputs."""

from __future__ import annotations

import math
import random
import re
import struct

import pytest

import autodiff
from autodiff.compile import compile_graph
from autodiff.evaluate import evaluate

from conftest import central_difference, sympy_functions


def bits(xs: tuple[float, ...]) -> list[bytes]:
    return [struct.pack("<d", x) for x in xs]


@pytest.mark.parametrize("program, point, value, gradient", [
    ("sum(a, b, c)", dict(a=1, b=2, c=4), 7, dict(a=1, b=1, c=1)),
    ("mean(a, b, c, d)", dict(a=1, b=2, c=4, d=1), 2, dict(a=0.25, b=0.25, c=0.25, d=0.25)),
    ("prod(a, b, c)", dict(a=2, b=3, c=5), 30, dict(a=15, b=10, c=6)),
    ("prod(a, b, c)", dict(a=0, b=3, c=5), 0, dict(a=15, b=0, c=0)),
    ("max(a, b, c)", dict(a=1, b=5, c=2), 5, dict(a=0, b=1, c=0)),
    ("min(a, b, c)", dict(a=1, b=5, c=2), 1, dict(a=1, b=0, c=0)),
    # a three-way tie: 1/3 each (PyTorch's reduction), not nested binary max's 1/4, 1/4, 1/2
    ("max(a, b, c)", dict(a=2, b=2, c=2), 2, dict(a=1 / 3, b=1 / 3, c=1 / 3)),
    ("hypot(a, b, c)", dict(a=2, b=3, c=6), 7, dict(a=2 / 7, b=3 / 7, c=6 / 7)),
    ("norm(a, b)", dict(a=3, b=4), 5, dict(a=0.6, b=0.8)),
    ("norm(a)", dict(a=-3), 3, dict(a=-1)),
    ("logsumexp(a, b)", dict(a=0, b=0), math.log(2), dict(a=0.5, b=0.5)),
    ("logsumexp(a, b, c)", dict(a=1000, b=1000, c=1000), 1000 + math.log(3),
     dict(a=1 / 3, b=1 / 3, c=1 / 3)),  # no overflow
    ("clamp(x, lo, hi)", dict(x=5, lo=0, hi=1), 1, dict(x=0, lo=0, hi=1)),
    ("clamp(x, lo, hi)", dict(x=-5, lo=0, hi=1), 0, dict(x=0, lo=1, hi=0)),
    ("clamp(x, lo, hi)", dict(x=0.5, lo=0, hi=1), 0.5, dict(x=1, lo=0, hi=0)),
    ("clamp(x, lo, hi)", dict(x=1, lo=0, hi=1), 1, dict(x=1, lo=0, hi=0)),  # at a bound: to x
])
def test_hand_worked_values_and_gradients(program: str, point: dict[str, float], value: float,
                                          gradient: dict[str, float]) -> None:
    for keep in (True, False):
        r = autodiff.differentiate(program, point, keep_local=keep)
        assert r.value == pytest.approx(value, rel=1e-15)
        assert r.gradient == pytest.approx(gradient, rel=1e-15)


def test_a_tie_is_flagged_as_a_convention() -> None:
    r = autodiff.differentiate("J = max(a, b, c)", dict(a=2, b=2, c=1))
    assert r.conventions[r.graph.output] == ["tie between 2 arguments: adjoint split evenly (1/2 each)"]
    r = autodiff.differentiate("J = clamp(x, 0, 1)", dict(x=0))
    assert r.conventions[r.graph.output] == ["clamp at a bound: the adjoint goes to x (as in PyTorch)"]


def test_one_node_with_an_edge_per_argument() -> None:
    g = autodiff.parse("J = sum(a, b, a*b, 3)")
    assert len(g) == 5 and g.args(g.output) == (0, 1, 2, 3)
    assert g.expression(g.output) == "sum(a, b, t1, 3)"
    r = autodiff.differentiate("J = sum(a, b, a*b, 3)", dict(a=2, b=5))
    assert r.local_factors(r.graph.output) == {"a": 1, "b": 1, "t1": 1}


@pytest.mark.parametrize("program, message", [
    ("max(a)", "max takes 2 or more arguments, got 1"),
    ("hypot(a)", "hypot takes 2 or more arguments, got 1"),
    ("clamp(a, b)", "clamp takes 3 arguments, got 2"),
])
def test_argument_counts(program: str, message: str) -> None:
    with pytest.raises(autodiff.SyntaxProblem, match=message.replace("(", r"\(")):
        autodiff.parse(program)


@pytest.mark.parametrize("program", [
    "sum(a, b*c, sin(d))", "mean(a, b, c, d)", "prod(a, b, c, d)", "hypot(a, b, c, d)",
    "norm(a, b, c)", "logsumexp(a, b, c, d)", "max(a, b*c, d)", "min(a, b, c*d)",
    "clamp(a, b, c + 2)", "logsumexp(a)", "prod(exp(a), b, a)",
])
def test_against_sympy_and_central_differences(program: str) -> None:
    import sympy as sp

    names = ["a", "b", "c", "d"]
    syms = {n: sp.Symbol(n, real=True) for n in names}
    expr = sp.sympify(program, locals={**sympy_functions(), **syms})
    rng = random.Random(program)
    for _ in range(5):
        point = {n: rng.uniform(-2, 2) for n in names}
        used = [n for n in names if re.search(rf"\b{n}\b", program)]
        point = {n: point[n] for n in used}
        r = autodiff.differentiate(program, point)
        subs = {syms[n]: sp.Float(v, 50) for n, v in point.items()}
        assert r.value == pytest.approx(float(expr.evalf(50, subs=subs)), rel=1e-13, abs=1e-15)
        for n in used:
            want = float(sp.diff(expr, syms[n]).evalf(50, subs=subs))
            assert r.gradient[n] == pytest.approx(want, rel=1e-12, abs=1e-14), (n, point)

            def f(*xs: float, used: list[str] = used) -> float:
                return autodiff.differentiate(program, dict(zip(used, xs, strict=True))).value

            assert r.gradient[n] == pytest.approx(
                central_difference(f, list(point.values()), used.index(n)), rel=1e-5, abs=1e-7)


@pytest.mark.parametrize("program", [
    "J = sum(a, b*c, sin(d)) * max(a, b, c, a)",
    "J = prod(a, b, c, d) + mean(a, b) - min(a, b, c)",
    "J = logsumexp(a, b, c) * hypot(a, b, d) + norm(c)",
    "J = clamp(a, b, c) + clamp(d, -1, 1)",
    "J = max(a, a, b) + min(b, b, b)",
    "J = logsumexp(a*1000, b*1000)",
])
def test_compiled_equals_interpreted_bit_for_bit(program: str) -> None:
    graph = autodiff.parse(program).select()
    c = compile_graph(graph)
    assert c is not None
    rng = random.Random(program)
    points = [{v: rng.choice([rng.uniform(-3, 3), 0.0, 1.0, -1.0]) for v in graph.variables}
              for _ in range(200)]
    for point in points:
        try:
            r = evaluate(graph, point, keep_local=False)
        except autodiff.EvaluationError:
            with pytest.raises((ArithmeticError, ValueError)):
                c.fn(*(point[v] for v in c.variables))
            continue
        want = (r.value, *(r.gradient[v] for v in c.variables))
        assert bits(c.fn(*(point[v] for v in c.variables))) == bits(want), point
        traced = evaluate(graph, point, keep_local=True)
        assert bits((traced.value, *traced.adjoints)) == bits((r.value, *r.adjoints))


def test_sum_of_100000_arguments_is_one_node() -> None:
    n = 100_000
    program = "J = sum(" + ", ".join(f"x{k}" for k in range(n)) + ")"
    g = autodiff.parse(program)
    assert len(g) == n + 1 and len(g.args(g.output)) == n
    r = evaluate(g, {f"x{k}": float(k) for k in range(n)})
    assert r.value == n * (n - 1) / 2 and set(r.gradient.values()) == {1.0}


def test_100000_deep_nesting_of_a_variadic_call() -> None:
    n = 100_000
    program = "J = " + "max(x, 1, " * n + "x" + ")" * n
    r = autodiff.differentiate(program, dict(x=2))
    assert r.value == 2 and r.gradient == {"x": 1.0}


def test_explain_and_graph_show_every_edge_of_a_many_argument_node(run) -> None:
    out = run("explain", "J = sum(a, b, a*b)", "--a", "2", "--b", "3").stdout
    assert "  ∂J/∂a = ∂J/∂J · ∂J/∂a + ∂J/∂t1 · ∂t1/∂a" in out or "∂J/∂a = " in out
    assert "∂J/∂b" in out and "∂J/∂t1 = 1" in out
    doc = run("explain", "J = sum(a, b, a*b)", "--a", "2", "--b", "3", "--json").stdout
    assert '"t1"' in doc
    dot = run("graph", "J = sum(a, b, a*b)", "--a", "2", "--b", "3", "--format", "dot").stdout
    assert dot.count("-> n3 ") == 3  # a, b and t1 into J


def test_printing_comparisons_and_many_arguments_parses_back() -> None:
    from autodiff.graph import program_text

    for program in ["J = (a < b) + sum(a, b, a*b) + (a + 1 >= b)", "J = where(a != b, a, b) * 2"]:
        g = autodiff.parse(program)
        again = autodiff.parse(program_text(g))
        assert [g.expression(i) for i in range(len(g))] == [again.expression(i) for i in range(len(again))]


def test_formulas_name_the_arguments() -> None:
    from autodiff.ops import VARIADIC, formula_for

    assert formula_for(VARIADIC["mean"], 1, ["a", "b", "c"]) == "1/3"
    assert formula_for(VARIADIC["max"], 1, ["a", "b", "c"]) == "(b == max(a, b, c) ? 1/ties : 0)"
    assert formula_for(VARIADIC["logsumexp"], 0, ["u", "v"]) == "exp(u - logsumexp(u, v))"


def test_functions_lists_the_many_argument_functions(run) -> None:
    out = run("functions").stdout
    for head in ("sum(x1, ..., xn)", "clamp(x, lo, hi)", "where(c, a, b)", "x < <= > >= == != y"):
        assert head in out
