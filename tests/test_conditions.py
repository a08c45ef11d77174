"""Comparisons (1 or 0, derivative 0) and where(c, a, b), which evaluates only
the branch it takes: hand-worked values, the boundary convention, what the
views show for a branch not evaluated, the compiled path bit for bit."""

from __future__ import annotations

import json
import math
import random
import struct

import pytest

import autodiff
from autodiff.compile import compile_graph
from autodiff.evaluate import evaluate

from conftest import valid


@pytest.mark.parametrize("program, want", [
    ("a < b", 1), ("b < a", 0), ("a <= a", 1), ("a > b", 0), ("b >= a", 1), ("a == a", 1),
    ("a != a", 0), ("a != b", 1),
    ("a + 1 < b", 0),  # looser than +: (a + 1) < b
    ("a < b + 1", 1),
    ("(a < b) * (b < 3)", 1),
    ("-a < 0", 1),
    ("a < b == 1", None),  # refused: comparisons do not chain
])
def test_comparisons(program: str, want: float) -> None:
    if want is None:
        with pytest.raises(autodiff.SyntaxProblem, match="comparisons do not chain"):
            autodiff.parse(program)
        return
    r = autodiff.differentiate(program, dict(a=1, b=2) if "b" in program else dict(a=1))
    assert r.value == want and set(r.gradient.values()) <= {0.0}


def test_a_comparison_at_equality_is_flagged() -> None:
    r = autodiff.differentiate("J = x > 0", dict(x=0))
    assert r.conventions[r.graph.output] == [
        "'>' at equal arguments: derivative taken as 0 (it jumps there)"]


@pytest.mark.parametrize("program", [
    "J = where(x > 0, log(x), 0)",
    "u = log(x); J = where(x > 0, u, 0)",  # the branch's nodes come earlier in the program
    "u = log(x); v = 1/x; J = where(x > 0, u*v, where(x < -2, log(-x), x^2))",
])
def test_only_the_chosen_branch_is_evaluated(program: str) -> None:
    for keep in (True, False):
        r = autodiff.differentiate(program, dict(x=-1), keep_local=keep)
        want = 1.0 if "x^2" in program else 0.0
        assert r.value == want and r.gradient == {"x": -2.0 if "x^2" in program else 0.0}
        r = autodiff.differentiate(program, dict(x=2), keep_local=keep)
        assert r.value == pytest.approx(math.log(2) / (2 if "v" in program else 1))
    r = autodiff.differentiate(program, dict(x=-1))
    g = r.graph
    u = next(i for i in range(len(g)) if g.op[i] is not None and g.op[i].name == "log")
    assert not r.was_evaluated(u) and r.taken(g.output) is not None


def test_where_gradient_by_hand() -> None:
    program = "J = where(x > y, x*y, x + y)"
    assert autodiff.differentiate(program, dict(x=3, y=2)).gradient == {"x": 2, "y": 3}
    assert autodiff.differentiate(program, dict(x=1, y=2)).gradient == {"x": 1, "y": 1}
    # a piecewise function: relu by hand, with the boundary flagged at 0
    r = autodiff.differentiate("J = where(x > 0, x, 0)", dict(x=0))
    assert (r.value, r.gradient) == (0, {"x": 0}) and r.conventions


def test_views_show_a_branch_not_evaluated(run) -> None:
    args = ["u = log(x); J = where(x > 0, u, 0)", "--x", "-1"]
    out = run("eval", *args).stdout
    assert "not evaluated" in out and "took 0" in out
    doc = valid(json.loads(run("eval", *args, "--json").stdout))
    u = next(n for n in doc["nodes"] if n["name"] == "u")
    assert u["value"] is None and u["evaluated"] is False
    assert next(n for n in doc["nodes"] if n["name"] == "J")["taken"] == "0"
    out = run("explain", *args).stdout
    assert "J = where(t1, u, 0) = where(0, not evaluated, 0) = 0" in out and "u = log" not in out
    assert "not evaluated" in run("graph", *args).stdout
    assert "not evaluated" in run("graph", *args, "--format", "dot").stdout


def test_deep_where_without_recursion() -> None:
    n = 20_000  # (20 times Python's recursion limit; test_nary nests 100,000 deep)
    program = "J = " + "where(x > 0, x + " * n + "x" + ", 0)" * n
    r = autodiff.differentiate(program, dict(x=1))
    assert (r.value, r.gradient) == (n + 1, {"x": n + 1})
    r = autodiff.differentiate(program, dict(x=-1))
    assert (r.value, r.gradient) == (0, {"x": 0})


@pytest.mark.parametrize("program", [
    "J = where(x > 0, log(x), x^2) * y",
    "u = sqrt(x); J = where(x >= y, u*y, y - x) + (x == y)",
    "J = where(x != 0, 1/x, 0) + max(x, y, 0)",
])
def test_compiled_equals_interpreted_or_falls_back(program: str) -> None:
    graph = autodiff.parse(program).select()
    c = compile_graph(graph)
    assert c is not None
    rng = random.Random(program)
    for _ in range(300):
        point = {v: rng.choice([rng.uniform(-3, 3), 0.0, 1.0, -1.0]) for v in graph.variables}
        args = [point[v] for v in c.variables]
        try:
            got = c.fn(*args)
        except (ArithmeticError, ValueError):
            continue  # the batch interprets this point (an untaken branch raised)
        r = evaluate(graph, point, keep_local=False)
        want = (r.value, *(r.gradient[v] for v in c.variables))
        assert [struct.pack("<d", x) for x in got] == [struct.pack("<d", x) for x in want], point


def test_batch_points_use_the_chosen_branch(run, tmp_path) -> None:
    points = tmp_path / "p.ndjson"
    points.write_text("".join(json.dumps({"x": x}) + "\n" for x in (-1.0, 2.0, 0.0)), encoding="utf-8")
    res = run("eval", "J = where(x > 0, log(x), 0)", "--points", str(points))
    assert res.exit_code == 0, res.stderr
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    assert [row["value"] for row in rows] == [0, math.log(2), 0]


@pytest.mark.parametrize("program", [
    "u = x*y; v = x*y; c = u; c += v; J = c",  # alias nodes and versions
    "J = where(x > 0, log(x), x*y) + (x <= y) + (x != y)",
])
def test_arrays_path_agrees_with_evaluate(program: str) -> None:
    np = pytest.importorskip("numpy")
    f = autodiff.compile(program)
    xs = np.array([-1.0, 0.0, 0.5, 2.0, 3.0])
    ys = np.array([1.0, 0.0, 0.5, -2.0, 3.0])
    res = f(x=xs, y=ys)
    for k in range(len(xs)):
        r = autodiff.differentiate(program, dict(x=float(xs[k]), y=float(ys[k])))
        assert res.value[k] == pytest.approx(r.value, rel=1e-15, abs=0)
        for v in ("x", "y"):
            assert res.gradient[v][k] == pytest.approx(r.gradient[v], rel=1e-15, abs=0)
