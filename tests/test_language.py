"""The language: numbers, names, precedence, statements, and the graph it
lowers to. Expected values are hand-worked."""

from __future__ import annotations

import math

import pytest

import autodiff
from autodiff import SyntaxProblem


def value(program: str, **point: float) -> float:
    return autodiff.differentiate(program, point).value


@pytest.mark.parametrize("text, want", [
    ("3", 3.0), ("2.5", 2.5), (".5", 0.5), ("2.", 2.0), ("1e-3", 1e-3), ("2.E1", 20.0), ("1E+2", 100.0),
    ("0.1", 0.1), ("007", 7.0),
])
def test_number_literals(text: str, want: float) -> None:
    assert value(text) == want


@pytest.mark.parametrize("program, point, want", [
    ("-x^2", dict(x=3), -9.0),               # -(x^2)
    ("2^3^x", dict(x=2), 2.0**9),              # 2^(3^x)
    ("2**3**x", dict(x=2), 2.0**9),
    ("2^-x", dict(x=1), 0.5),
    ("2*-x", dict(x=4), -8.0),
    ("+x - -y", dict(x=1, y=2), 3.0),
    ("x - y - z", dict(x=10, y=3, z=2), 5.0),  # left-associative
    ("x / y / z", dict(x=12, y=3, z=2), 2.0),
    ("x + y * z", dict(x=1, y=2, z=3), 7.0),
    ("(x + y) * z", dict(x=1, y=2, z=3), 9.0),
    ("-x*y", dict(x=2, y=3), -6.0),
    ("--x", dict(x=2), 2.0),
    ("x^2^-1", dict(x=16), 4.0),
    ("-2^2", {}, -4.0),
    ("(-2)^2", {}, 4.0),
    ("pi", {}, math.pi),
    ("e", {}, math.e),
    ("log(e^2)", {}, 2.0),
])
def test_precedence_and_associativity(program: str, point: dict[str, float], want: float) -> None:
    assert value(program, **point) == pytest.approx(want, rel=1e-15)


def test_names_are_case_sensitive_and_may_hold_digits_and_underscores() -> None:
    r = autodiff.differentiate("x_1*X1 + w11 - x", dict(x_1=2, X1=3, w11=5, x=7))
    assert r.value == 4 and r.gradient == {"x_1": 3, "X1": 2, "w11": 1, "x": -1}


@pytest.mark.parametrize("program", [
    "u = b*c; v = a + u; J = 3*v",
    "u = b*c\nv = a + u\nJ = 3*v",
    "u = b*c;\n\n v = a + u ;; J = 3*v;\n",
    "# the lecture\nu = b*c   # product\nv = a + u\nJ = 3*v\n",
    "u = b*c; v = (a\n + u); J = 3*v",  # a newline inside parentheses continues the statement
    "\r\nu = b*c\r\nv = a + u\r\nJ = 3*v\r\n",
])
def test_statement_separators_comments_and_newlines(program: str) -> None:
    r = autodiff.differentiate(program, dict(a=5, b=3, c=2))
    assert (r.output, r.value, r.gradient) == ("J", 33, {"b": 6, "c": 9, "a": 3})


def test_bare_final_expression_is_named_f() -> None:
    r = autodiff.differentiate("u = x*x; u + 1", dict(x=3))
    assert (r.output, r.value, r.gradient) == ("f", 10, {"x": 6})


def test_of_picks_another_assigned_name() -> None:
    r = autodiff.differentiate("u = b*c; v = a + u; J = 3*v", dict(b=3, c=2), output="u")
    assert (r.output, r.value, r.gradient) == ("u", 6, {"b": 2, "c": 3})
    with pytest.raises(autodiff.ProgramError, match="no statement assigns w"):
        autodiff.differentiate("u = b*c; J = 3*u", dict(b=3, c=2), output="w")


def test_variable_used_twice_is_one_node_whose_adjoint_sums_its_uses() -> None:
    # f = x*y + x: df/dx = y + 1 = 4 by hand at y = 3
    r = autodiff.differentiate("x*y + x", dict(x=2, y=3))
    g = r.graph
    assert [g.names()[i] for i in g.variables.values()] == ["x", "y"]
    assert r.gradient == {"x": 4, "y": 2}


def test_identical_subexpressions_are_one_node() -> None:
    g = autodiff.parse("sin(x*y) + sin(x*y)*2 + x*y")
    ops = [g.op[i].name for i in range(len(g)) if g.op[i] is not None]
    assert ops == ["mul", "sin", "mul", "add", "add"]  # x*y once, sin(x*y) once
    r = autodiff.differentiate("sin(x*y) + sin(x*y)*2 + x*y", dict(x=0.5, y=2.0))
    # d/dx = 3*cos(xy)*y + y, by hand
    assert r.gradient["x"] == pytest.approx(3 * math.cos(1.0) * 2.0 + 2.0, rel=1e-15)


def test_nodes_are_in_topological_order_with_generated_names() -> None:
    g = autodiff.parse("J = exp(a*b) + a*b")
    names = g.names()
    for i in range(len(g)):
        assert all(j < i for j in g.args(i))
    assert names == ["a", "b", "t1", "t2", "J"]
    g = autodiff.parse("t1 = x*2; t1 + x*3")  # generated names skip the user's
    assert g.names() == ["x", "2", "t1", "3", "t2", "f"]


def test_a_merged_expression_keeps_every_name_the_program_gave_it() -> None:
    # b*c is computed once (common-subexpression merging); w is an alias node of it
    r = autodiff.differentiate("u = b*c; w = b*c; J = u + w", dict(b=3, c=2))
    assert r.value == 12 and r.gradient == {"b": 4, "c": 6}
    g = r.graph
    u, w, out = g.assigned["u"], g.assigned["w"], g.assigned["J"]
    assert g.args(w) == (u,) and g.expression(w) == "u" and g.expression(out) == "u + w"
    assert r.local_factors(w) == {"u": 1.0} and r.adjoints[u] == 2.0
    r = autodiff.differentiate("u = b*c; w = b*c; J = u + w", dict(b=3, c=2), output="w")
    assert (r.output, r.value, r.gradient) == ("w", 6, {"b": 2, "c": 3})


def test_constants_have_no_adjoint_and_no_local_factor() -> None:
    # x^2 at x = -3: only dJ/dx is computed, never d/d2
    r = autodiff.differentiate("x^2", dict(x=-3))
    g = r.graph
    out = g.output
    assert r.local[out] == (-6.0, None)
    assert r.local_factors(out) == {"x": -6}
    const = g.arg1[out]
    assert not g.active[const]


def test_output_that_is_just_a_variable_or_constant() -> None:
    r = autodiff.differentiate("J = x", dict(x=2))
    assert (r.value, r.gradient) == (2, {"x": 1})
    r = autodiff.differentiate("J = 2*pi", {})
    assert r.value == 2 * math.pi and r.gradient == {}


def test_unused_statement_is_not_evaluated() -> None:
    # log(-1) would fail, but J does not depend on u
    r = autodiff.differentiate("u = log(x); J = 2*y", dict(x=-1, y=4))
    assert (r.value, r.gradient) == (8, {"y": 2})


@pytest.mark.parametrize("program, message, line, column", [
    ("3 +", "the program ends too early; expected '(', '+', '-', a name or a number", 1, 4),
    ("x = = 2", "unexpected '='", 1, 5),
    ("x @ y", "unexpected character '@'", 1, 3),
    ("(x", "expected ')'", 1, 3),
    ("x)", "unexpected ')'", 1, 2),
    ("x y", "unexpected name 'y'", 1, 3),
    ("u = 1\nv = u +* 2", "unexpected '*'", 2, 8),
    ("foo(x)", "unknown function foo", 1, 1),
    ("sine(x)", "unknown function sine; did you mean sin?", 1, 1),
    ("exp(x, y)", "exp takes 1 argument, got 2", 1, 1),
    ("log(x, y, z)", "log takes 1 or 2 arguments, got 3", 1, 1),
    ("atan2(x)", "atan2 takes 2 arguments, got 1", 1, 1),
    ("x^2; y", "only the last statement may be a bare expression", 1, 4),
    ("1e999", "the number 1e999 is too large for a double", 1, 1),
    ("", "the program is empty", 1, 1),
    ("x := 2", "unexpected character ':'", 1, 3),
    ("'a' + 'b'", "strings are not part of the language", 1, 1),
])
def test_syntax_errors_name_the_problem_and_position(program: str, message: str, line: int,
                                                      column: int) -> None:
    with pytest.raises(SyntaxProblem) as info:
        autodiff.parse(program)
    err = info.value
    assert message in err.message
    assert (err.line, err.column) == (line, column)
    rendered = err.render().splitlines()
    assert rendered[-1].index("^") - 4 == column - 1  # the caret under the character
