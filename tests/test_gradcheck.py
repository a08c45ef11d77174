"""`--gradcheck`: every operation's rules pass, and a deliberately wrong local
derivative, injected here by monkeypatching a copy of a table row (never in
the product), is caught in `eval` and in `check` files."""

from __future__ import annotations

import json

import pytest

import autodiff
from autodiff import ops
from autodiff.gradcheck import ATOL, RTOL, gradcheck

from conftest import valid


@pytest.mark.parametrize("op", ops.OPS, ids=lambda op: f"{op.name}/{op.arity}")
def test_every_operation_passes_at_ordinary_points(op) -> None:
    call = "-x" if op.name == "neg" else (f"x {op.symbol} y" if op.symbol and op.arity == 2
                                           else f"{op.name}({', '.join('xy'[:op.arity])})")
    program = f"({call}) * (1 + y*y)" if op.arity == 1 else call
    shift = 1.0 if op.name == "acosh" else 0.0  # its domain is x >= 1
    for x, y in [(0.3, 0.7), (0.45, 2.5), (0.6, 0.4)]:
        result = autodiff.differentiate(program, {"x": x + shift, "y": y})
        checks = gradcheck(result)
        assert checks and all(c.passed for c in checks), [(c.variable, c.analytic, c.numeric) for c in checks]


def _wrong_sin(monkeypatch) -> None:
    sin = ops.FUNCTIONS[("sin", 1)]
    wrong = ops.Op("sin", sin.params, sin.value, (ops.Partial(lambda x, out: 1.1 * x, "1.1*x"),))
    wrong.index = sin.index  # the row it stands in for (the parser's CSE keys use it)
    monkeypatch.setitem(ops.FUNCTIONS, ("sin", 1), wrong)


def test_eval_gradcheck_passes_and_prints_a_table(run) -> None:
    res = run("eval", "sin(x)*y", "--x", "1", "--y", "2", "--gradcheck")
    assert res.exit_code == 0, res.stdout
    out = res.stdout
    assert "gradient check of f = 1.682941969615793" in out
    assert "│ x        │ 1.0806046117362795 │" in out and "│ pass   │" in out
    assert out.rstrip().endswith("gradcheck passed")


def test_eval_gradcheck_catches_a_wrong_derivative(run, monkeypatch) -> None:
    _wrong_sin(monkeypatch)
    res = run("eval", "sin(x)*y", "--x", "1", "--y", "2", "--gradcheck")
    assert res.exit_code == 1
    assert "FAIL" in res.stdout and "gradcheck FAILED for 1 of 2 partial derivatives" in res.stdout
    res = run("eval", "sin(x)*y", "--x", "1", "--y", "2", "--gradcheck", "--json", "--no-nodes")
    assert res.exit_code == 1
    doc = valid(json.loads(res.stdout))
    g = doc["gradcheck"]
    assert g["passed"] is False and (g["atol"], g["rtol"]) == (ATOL, RTOL)
    assert g["variables"]["x"]["passed"] is False and g["variables"]["y"]["passed"] is True
    assert g["variables"]["x"]["analytic"] == pytest.approx(1.1 * 2)
    assert g["variables"]["x"]["numeric"] == pytest.approx(2 * 0.5403023058681398, rel=1e-8)
    assert "gradcheck failed for x" in res.stderr


def test_check_files_catch_it_too(run, monkeypatch, tmp_path) -> None:
    path = tmp_path / "cases.toml"
    path.write_text('[[case]]\nname = "sine"\nprogram = "sin(x)*y"\nbindings = { x = 1, y = 2 }\n'
                    "gradcheck = true\n")
    assert run("check", str(path)).exit_code == 0
    _wrong_sin(monkeypatch)
    res = run("check", str(path))
    assert res.exit_code == 1
    assert res.stdout.startswith("FAIL sine: gradcheck.x analytic 2.2 numeric 1.0806046")


def test_a_kink_fails_the_check_and_says_why() -> None:
    result = autodiff.differentiate("relu(x)", {"x": 0})
    (c,) = gradcheck(result)
    assert (c.analytic, c.numeric, c.passed) == (0.0, 0.5, False)
    assert "convention" in c.note


def test_the_step_is_scaled_to_the_variable() -> None:
    result = autodiff.differentiate("x^3", {"x": 1e6})
    (c,) = gradcheck(result)
    assert c.step == 1.0 and c.passed


@pytest.mark.parametrize("x,side", [(1.7976931348623157e308, "backward"),
                                    (-1.7976931348623157e308, "forward")])
def test_the_edge_of_the_double_range_is_a_one_sided_difference(run, x, side) -> None:
    # Before: x + h overflowed to inf, and an assertion gave exit 70.
    res = run("eval", "x/2", f"--x={x!r}", "--gradcheck", "--json", "--no-nodes")
    assert res.exit_code == 0, res.stderr
    check = valid(json.loads(res.stdout))["gradcheck"]["variables"]["x"]
    assert check["passed"] and check["difference"] == side
    assert abs(check["numeric"] - 0.5) < 1e-9  # x/2 is linear: exact up to rounding
    assert "the step leaves the range of doubles" in check["note"]


@pytest.mark.parametrize("program,x,exact", [("sqrt(x)", 1e-7, 0.5 / 1e-7 ** 0.5),
                                             ("log(x)", 5e-7, 1 / 5e-7)])
def test_next_to_a_domain_boundary_a_one_sided_difference(program, x, exact) -> None:
    # Before: "f is not defined at x ± h", a failure although the gradient is right.
    (c,) = gradcheck(autodiff.differentiate(program, {"x": x}))
    assert c.passed and c.difference == "forward"
    assert c.numeric is not None and abs(c.numeric - exact) <= 1e-6 * exact
    assert c.step == pytest.approx(1e-6 * x)
    assert "a one-sided (forward) difference" in c.note and "x - h" in c.note


def test_undefined_on_both_sides_still_fails_and_says_why() -> None:
    # log(x^2 - 1) at x = 1 + 1e-12... is defined; log(1e-300 - (x - 3)^2) only at x = 3.
    result = autodiff.differentiate("sqrt(1e-30 - (x - 3)^2)", {"x": 3})
    (c,) = gradcheck(result)
    assert not c.passed and c.numeric is None and "not defined" in c.note


def test_too_many_variables_times_nodes_is_refused_clearly() -> None:
    # Before: quadratic in the variables (1e5 variables: about 80 minutes).
    program = " + ".join(f"x{k}*x{k}" for k in range(300))
    result = autodiff.differentiate(program, {f"x{k}": 1.0 for k in range(300)})
    with pytest.raises(autodiff.errors.UsageProblem, match="more than the limit of 1,000"):
        gradcheck(result, max_work=1000)
    assert all(c.passed for c in gradcheck(result))
