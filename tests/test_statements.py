"""Statement forms of issue 10: rebinding and updates (versions c, c#2, ...),
names kept through common-subexpression merging, pi and e as ordinary names,
user-defined functions, and the parser's hints. Expected values are
hand-worked; derivatives are also checked by central differences."""

from __future__ import annotations

import math

import pytest

import autodiff
from autodiff import SyntaxProblem

from conftest import central_difference


def grad_by_differences(program: str, point: dict[str, float]) -> dict[str, float]:
    names = list(point)

    def f(*xs: float) -> float:
        return autodiff.differentiate(program, dict(zip(names, xs, strict=True))).value

    return {n: central_difference(f, [point[m] for m in names], k) for k, n in enumerate(names)}


# ---------------------------------------------------------------- rebinding


def test_a_name_assigned_again_reads_its_previous_value() -> None:
    r = autodiff.differentiate("c = x; c = c + 1; c += x*y; J = c*2", dict(x=2, y=3))
    # c = 2, c#2 = 3, c#3 = 3 + 6 = 9, J = 18; J = 2(x + 1 + xy): dJ/dx = 2(1 + y), dJ/dy = 2x
    assert (r.value, r.gradient) == (18, {"x": 8, "y": 4})
    g = r.graph
    assert list(g.assigned) == ["c", "c#2", "c#3", "J"]
    assert g.expression(g.assigned["c#3"]) == "c#2 + t1"
    assert g.expression(g.assigned["J"]) == "c#3 * 2"
    assert r.local_factors(g.assigned["c#2"]) == {"c": 1.0}


def test_every_update_operator() -> None:
    program = "c = x; c -= 1; c *= 4; c /= 2; c ^= 2; c **= 0.5"
    r = autodiff.differentiate(program, dict(x=3))
    # 3, 2, 8, 4, 16, 4: c = sqrt((2(x - 1))^2) = 2(x - 1)
    assert [r.values[i] for i in r.graph.assigned.values()] == [3, 2, 8, 4, 16, 4]
    assert (r.output, r.value, r.gradient) == ("c#6", 4, {"x": 2})


def test_of_names_the_last_version_or_an_earlier_one() -> None:
    program = "c = x*x; c = c + 1; c = 3*c; J = c - x"
    assert autodiff.differentiate(program, dict(x=2), output="c").value == 15
    assert autodiff.differentiate(program, dict(x=2), output="c").output == "c#3"
    r = autodiff.differentiate(program, dict(x=2), output="c#2")
    assert (r.output, r.value, r.gradient) == ("c#2", 5, {"x": 4})
    assert autodiff.differentiate(program, dict(x=2), output="c#1").value == 4
    with pytest.raises(autodiff.ProgramError, match="no statement assigns c#4"):
        autodiff.differentiate(program, dict(x=2), output="c#4")


def test_a_name_read_before_it_is_assigned_is_an_input() -> None:
    assert list(autodiff.parse("J = c*2; c = c + 1; c = c*c").assigned) == ["J", "c#2", "c#3"]
    r = autodiff.differentiate("J = c*2; c = c + 1; c = c*c", dict(c=2))
    assert (r.output, r.value, r.gradient) == ("c#3", 9, {"c": 6})
    r = autodiff.differentiate("J = c*2; c = c + 1; c = c*c", dict(c=2), output="J")
    assert (r.value, r.gradient) == (4, {"c": 2})


def test_an_unrolled_loop_accumulates() -> None:
    program = "s = 0\n" + "\n".join(f"s += w{k}*x{k}" for k in range(5)) + "\nJ = s"
    point = {f"w{k}": k + 1.0 for k in range(5)} | {f"x{k}": 0.5 * k for k in range(5)}
    r = autodiff.differentiate(program, point)
    assert r.value == sum((k + 1.0) * 0.5 * k for k in range(5))
    assert r.gradient["w3"] == 1.5 and r.gradient["x3"] == 4


def test_versions_are_named_everywhere(run) -> None:
    out = run("eval", "c = x; c = c*c; J = c + 1", "--x", "3").stdout
    assert "│ c#2  │ c * c" in out
    doc = run("eval", "c = x; c = c*c; J = c + 1", "--x", "3", "--json").stdout
    assert '"c#2"' in doc
    out = run("explain", "c = x; c = c*c; J = c + 1", "--x", "3").stdout
    assert "c#2 = c·c = 3·3 = 9" in out


# ---------------------------------------------------------------- names kept through merging


def test_each_assigned_name_has_a_node_even_when_values_merge() -> None:
    r = autodiff.differentiate("u = x*y; v = x*y; J = u + v", dict(x=2, y=3))
    g = r.graph
    assert [(n, g.expression(i)) for i, n in enumerate(g.names())] == [
        ("x", "input"), ("y", "input"), ("u", "x * y"), ("v", "u"), ("J", "u + v")]
    assert (r.value, r.gradient) == (12, {"x": 6, "y": 4})
    r = autodiff.differentiate("u = x*y; v = x*y; J = u + v", dict(x=2, y=3), output="v")
    assert r.graph.names()[-1] == "v" and r.value == 6


# ---------------------------------------------------------------- pi and e


def test_e_assigned_by_the_program_is_an_ordinary_name() -> None:
    r = autodiff.differentiate("e = 2; J = e*x", dict(x=3))
    assert (r.value, r.gradient) == (6, {"x": 2})
    assert r.graph.notes == ["e is an ordinary name here (the program assigns it), not the constant"]
    # read before it is assigned: an input (micrograd's tests do this)
    r = autodiff.differentiate("d = e*x; e = d + 1; J = e*2", dict(x=3, e=2))
    assert (r.value, r.gradient) == (14, {"e": 6, "x": 4})
    assert autodiff.differentiate("J = e*x + pi", dict(x=1)).value == math.e + math.pi


def test_binding_e_makes_it_an_ordinary_name(run) -> None:
    r = autodiff.differentiate("J = e*x", dict(e=3, x=2))
    assert (r.value, r.gradient) == (6, {"x": 3, "e": 2})
    out = run("eval", "J = e*x", "--e", "3", "--x", "2").stdout
    assert out.count("e is an ordinary name here") == 1
    with pytest.raises(autodiff.BindingError, match="pi is a constant"):
        autodiff.differentiate("J = e*x", dict(pi=3, x=2))


# ---------------------------------------------------------------- user functions


def test_user_functions_expand_into_the_graph() -> None:
    program = "sq(x) = x^2\nn(w, x, b) = tanh(w*x + b)\nJ = n(a, 2, c) + sq(a)"
    point = dict(a=0.3, c=0.5)
    r = autodiff.differentiate(program, point)
    assert r.value == math.tanh(0.3 * 2 + 0.5) + 0.3**2
    want = grad_by_differences(program, point)
    for k, v in r.gradient.items():
        assert v == pytest.approx(want[k], rel=1e-7)
    names = r.graph.names()
    assert "n(a,2,c)" in names and "n(a,2,c).t1" in names


def test_a_called_function_s_nodes_are_named_after_the_call() -> None:
    r = autodiff.differentiate("sq(t) = t*t + 1; J = sq(a) * sq(b)", dict(a=2, b=3))
    g = r.graph
    assert g.names() == ["a", "sq(a).t1", "1", "sq(a)", "b", "sq(b).t1", "sq(b)", "J"]
    assert (r.value, r.gradient) == (50, {"a": 40, "b": 30})
    assert g.clusters[g.names().index("sq(b).t1")] == "sq(b)"


def test_identical_calls_share_nodes_and_a_call_may_be_assigned() -> None:
    r = autodiff.differentiate("sq(t) = t*t; u = sq(a); J = sq(a) + u", dict(a=3))
    g = r.graph
    assert g.names() == ["a", "u", "J"]  # the call's one node, named by the assignment
    assert (r.value, r.gradient) == (18, {"a": 12})


def test_a_body_may_call_earlier_functions_and_use_constants() -> None:
    r = autodiff.differentiate("sq(t) = t^2; circle(r) = pi*sq(r); J = circle(x)", dict(x=2))
    assert r.value == pytest.approx(4 * math.pi) and r.gradient["x"] == pytest.approx(4 * math.pi)


def test_the_same_call_after_its_argument_changed_is_another_call() -> None:
    r = autodiff.differentiate("sq(t) = t*t; u = sq(a); a = a + 1; J = u + sq(a)", dict(a=1))
    assert r.value == 5 and "sq(a)[2]" in r.graph.names()


@pytest.mark.parametrize("program, message, line, column", [
    ("sin(x) = x\nJ = sin(1)", "sin is a builtin function and cannot be redefined", 1, 1),
    ("f(x, x) = x", "the parameter x appears twice", 1, 6),
    ("f(x) = x*y", "the body of f uses y, which is neither one of its parameters (x) nor a constant",
     1, 10),
    ("f(x) = x\nJ = f(1, 2)", "f takes 1 argument (x; defined on line 1), got 2", 2, 5),
    ("f(x) = f(x) + 1", "f calls itself: recursion is not supported", 1, 8),
    ("f(x) = x\nf(y) = y", "the function f is defined twice (first on line 1)", 2, 1),
    ("f(x + 1) = 2", "a function's parameters must be names", 1, 3),
    ("f(x) = g(x)\ng(x) = x", "unknown function g", 1, 8),
])
def test_function_errors_point_at_the_place(program: str, message: str, line: int,
                                            column: int) -> None:
    with pytest.raises(SyntaxProblem) as info:
        autodiff.parse(program)
    assert message in info.value.message
    assert (info.value.line, info.value.column) == (line, column)


def test_a_definition_does_not_leak_its_parameters() -> None:
    g = autodiff.parse("sq(x) = x^2; J = sq(y)")
    assert list(g.variables) == ["y"] and g.names() == ["y", "2", "J"]


# ---------------------------------------------------------------- parser help


@pytest.mark.parametrize("program, hint, column", [
    ("J = 2x + 1", "did you mean 2*x?", 6),
    ("J = 1.5e3y", "did you mean 1.5e3*y?", 10),
    ("J = 3 × x", "did you mean *?", 7),
    ("J = 3 · x", "did you mean *?", 7),
    ("J = π*r", "did you mean pi?", 5),
    ("J = 3 − x", "did you mean -?", 7),
    ("J = r²", "did you mean ^2?", 6),
    ("J = √x", "did you mean sqrt(...)?", 5),
])
def test_hints_for_implicit_multiplication_and_unicode_maths(program: str, hint: str,
                                                             column: int) -> None:
    with pytest.raises(SyntaxProblem) as info:
        autodiff.parse(program)
    assert hint in info.value.message and info.value.column == column


@pytest.mark.parametrize("program", [
    "J = a +\n  b*c",
    "J = a + b *\n c",
    "J =\n a + b*c",
    "J = max(a,\n b*c) + a",
    "u = b *  # a comment\n c\nJ = a + u",
])
def test_a_line_ending_in_an_operator_continues(program: str) -> None:
    r = autodiff.differentiate(program, dict(a=1, b=2, c=3))
    assert r.value == 7


def test_a_newline_still_ends_a_complete_statement() -> None:
    with pytest.raises(SyntaxProblem, match="only the last statement may be a bare expression"):
        autodiff.parse("a + b\n+ c")


def test_dot_draws_each_call_in_a_cluster(run) -> None:
    out = run("graph", "sq(t) = t*t + 1; J = sq(a) * sq(b)", "--format", "dot").stdout
    assert out.count("subgraph cluster_") == 2
    assert 'label="sq(a)"; style=dashed;' in out and 'label="sq(b)"; style=dashed;' in out


# ---------------------------------------------------------------- errors point at the program


@pytest.mark.parametrize("program, point, line, column", [
    ("u = b*c\nv = 2\nt = log(1 - a)\nJ = t + u", dict(a=1, b=2, c=3), 3, 5),
    ("J = 1/x", dict(x=0), 1, 6),
    ("J = x^0.5", dict(x=0), 1, 6),  # a derivative error: the same place
    ("sq(t) = log(t)\nJ = sq(a) + 1", dict(a=0), 2, 5),  # inside a call: the call
    ("x = 0; J = where(y > 0, 1/x, log(y - 1))", dict(y=-1), 1, 30),
    ("c = x; c = c - 1; J = log(c)", dict(x=1), 1, 23),
])
def test_an_evaluation_error_quotes_the_program_with_a_caret(program: str, point: dict[str, float],
                                                            line: int, column: int) -> None:
    with pytest.raises(autodiff.EvaluationError) as info:
        autodiff.differentiate(program, point)
    err = info.value
    assert (err.line, err.column) == (line, column)
    rendered = err.render().splitlines()
    assert rendered[1] == f"  at line {line}, column {column}:"
    assert rendered[2] == "    " + program.splitlines()[line - 1]
    assert rendered[3].index("^") - 4 == column - 1
    assert err.details()["line"] == line


def test_an_error_in_a_selected_part_of_the_program_is_placed_too() -> None:
    program = "u = log(x)\nv = y*2\nJ = u + v"
    with pytest.raises(autodiff.EvaluationError) as info:
        autodiff.differentiate(program, dict(x=-1, y=1), output="u")
    assert (info.value.line, info.value.column) == (1, 5)


@pytest.mark.parametrize("program, z, hint", [
    ("J = log(sigmoid(z))", -800, "log(sigmoid(z)) is -softplus(-z)"),
    ("J = log(1 - sigmoid(z))", 50, "log(1 - sigmoid(z)) is -softplus(z)"),
])
def test_saturated_sigmoid_under_a_log_gets_a_hint(program: str, z: float, hint: str) -> None:
    with pytest.raises(autodiff.EvaluationError) as info:
        autodiff.differentiate(program, dict(z=z))
    assert hint in info.value.hint
    fixed = program.replace("log(sigmoid(z))", "-softplus(-z)").replace("log(1 - sigmoid(z))",
                                                                      "-softplus(z)")
    assert math.isfinite(autodiff.differentiate(fixed, dict(z=z)).value)


def test_versions_in_latex_are_escaped(run) -> None:
    out = run("explain", "c = x; c = c*c; J = c + 1", "--x", "3", "--format", "latex").stdout
    assert r"{c}_{\#2} &= c \cdot c = 3 \cdot 3 = 9 \\" in out
    assert "#" not in out.replace(r"\#", "")


@pytest.mark.parametrize("program, ordinary", [
    ("e = 2; J = e*x", True), ("J = x; e %= 2", True), ("e == x", False), ("J = e <= x", False),
    ("# e = 2\nJ = e*x", False), ("pi **= 2", True),
])
def test_which_programs_make_a_constant_an_ordinary_name(program: str, ordinary: bool) -> None:
    g = autodiff.parse(program)
    assert bool(g.notes) == ordinary
