"""User-sized structures never meet Python's recursion limit: 1e5-deep
nesting and long chains work with the default limit (the scale figures and
1e6-sized runs are in bench/)."""

from __future__ import annotations

import sys

import pytest

import autodiff

N = 100_000


@pytest.fixture(autouse=True)
def default_recursion_limit():
    assert sys.getrecursionlimit() <= 1000 * 10  # nothing raised it
    yield


def test_100k_nested_parentheses() -> None:
    r = autodiff.differentiate("(" * N + "x" + ")" * N, dict(x=2.5))
    assert (r.value, r.gradient) == (2.5, {"x": 1})


def test_100k_unary_minus() -> None:
    r = autodiff.differentiate("-" * N + "x", dict(x=2.5))  # an even number of signs
    assert (r.value, r.gradient) == (2.5, {"x": 1})
    r = autodiff.differentiate("-" * (N + 1) + "x", dict(x=2.5))
    assert (r.value, r.gradient) == (-2.5, {"x": -1})


def test_100k_nested_function_calls() -> None:
    # sin(sin(...sin(x))): the derivative is the product of cos of each inner value
    r = autodiff.differentiate("sin(" * N + "x" + ")" * N, dict(x=0.5))
    import math

    v, d = 0.5, 1.0
    for _ in range(N):
        d *= math.cos(v)
        v = math.sin(v)
    assert r.value == v
    assert r.gradient["x"] == pytest.approx(d, rel=1e-12)


def test_deep_horner_chain() -> None:
    # ((x+1)*x+1)*x ... : value and derivative by Horner's rule in plain Python
    n = N // 2
    text = "(" * n + "x" + "".join("+1)*x" for _ in range(n))
    x = 0.5
    r = autodiff.differentiate(text, dict(x=x))
    p, dp = x, 1.0
    for _ in range(n):
        p, dp = (p + 1) * x, dp * x + (p + 1)
    assert r.value == pytest.approx(p, rel=1e-12)
    assert r.gradient["x"] == pytest.approx(dp, rel=1e-12)


def test_long_power_chain_is_right_associative_without_recursion() -> None:
    # 2^2^...^2^x, N deep: right association makes each node the power of the
    # node built before it (left association would put x's node first).
    g = autodiff.parse("^".join(["2"] * N + ["x"]))
    pows = [i for i in range(len(g)) if g.kind(i) == "operation"]
    assert len(pows) == N
    assert g.args(pows[0])[1] == g.variables["x"]  # 2^x is built first, at the top of the tower
    for before, node in zip(pows, pows[1:], strict=False):
        assert g.args(node)[1] == before  # the exponent is the tower built so far
    assert g.output == pows[-1]
    r = autodiff.differentiate("^".join(["1"] * N + ["x"]), dict(x=3.0))
    assert r.value == 1.0


def test_flat_sum_of_many_variables() -> None:
    n = 20_000
    text = " + ".join(f"w{i}*x{i}" for i in range(n))
    point = {f"w{i}": float(i) for i in range(n)} | {f"x{i}": 2.0 for i in range(n)}
    r = autodiff.differentiate(text, point, keep_local=False)
    assert r.value == 2.0 * sum(range(n))
    assert r.gradient["x7"] == 7.0 and r.gradient["w7"] == 2.0
    assert len(r.gradient) == 2 * n


def test_large_graph_table_is_elided(run) -> None:
    res = run("eval", "+".join(f"x*{i}" for i in range(1, 2001)), "--x", "1", "--max-rows", "20")
    assert res.exit_code == 0
    assert "3,980 more nodes not shown: --max-rows N shows more, --json shows all" in res.stdout
    assert len(res.stdout.splitlines()) < 60


def test_100k_statements_parse_in_one_pass() -> None:
    # Each statement's reduction extends the program's statement list in place
    # (it used to copy it: 100,000 statements took about 10 s, 40x one parse of
    # 1e4); the value checks the chain was read whole and in order.
    n = 100_000
    text = "x0 = a\n" + "\n".join(f"x{i} = x{i - 1} + 1" for i in range(1, n))
    r = autodiff.differentiate(text, {"a": 0.5}, keep_local=False)
    assert r.output == f"x{n - 1}" and r.value == n - 1 + 0.5 and r.gradient == {"a": 1.0}
