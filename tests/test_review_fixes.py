"""Defects found by the independent reviews of the merged work (a new user's
session and a hostile-input campaign), each pinned here."""

from __future__ import annotations

import json

import pytest

import autodiff


def test_a_version_name_inside_a_program_is_an_error_not_a_comment(run) -> None:
    # `#` starts a comment: `J = c#2 * 10` used to read silently as `J = c`
    res = run("eval", "c = x; c = c*c; J = c#2 * 10", "--x", "3")
    assert res.exit_code == 2
    assert "c#2 names a version only in the output" in res.stderr
    assert "column 22" in res.stderr
    ok = run("eval", "J = x # a note about y#2", "--x", "3", "--json", "--no-nodes")
    assert ok.exit_code == 0 and json.loads(ok.stdout)["value"] == 3


@pytest.mark.parametrize("x", [1e10, 1e16, -1e17, 1e300])
def test_logsumexp_gradient_is_the_softmax_at_large_arguments(x) -> None:
    r = autodiff.differentiate("logsumexp(x, y)", {"x": x, "y": x})
    assert r.gradient == {"x": 0.5, "y": 0.5}
    r = autodiff.differentiate("logsumexp(x, y, z)", {"x": x, "y": x, "z": x - 1e-3 * abs(x)})
    assert r.gradient["x"] == r.gradient["y"] and abs(sum(r.gradient.values()) - 1.0) < 1e-15


def test_second_derivatives_skip_the_branch_where_does_not_take(run) -> None:
    res = run("eval", "J = where(x > 0, sqrt(x), 0)", "--x", "0", "--hessian", "--json")
    assert res.exit_code == 0, res.stderr
    assert json.loads(res.stdout)["hessian"]["matrix"] == [[0]]
    res = run("eval", "J = where(x != 0, 1/x, 0)", "--x", "0", "--hvp", "x=1")
    assert res.exit_code == 0, res.stderr
    # where the branch is taken, the usual second derivative: d²sqrt(x)/dx² at 4 = -1/32
    h = autodiff.hessian("J = where(x > 0, sqrt(x), 0)", {"x": 4.0})
    assert h.matrix == [[-0.03125]]


@pytest.mark.parametrize("args,words", [
    (["x*0", "--x", "1e400", "--exact"], "the value for x is too large for a double"),
    (["x-x", "--x", "7" * 5000, "--exact"], "has more than 4,000 digits"),
])
def test_exact_bindings_out_of_range_are_input_errors(run, args, words) -> None:
    res = run("eval", *args)
    assert res.exit_code == 2 and words in res.stderr


def test_an_overflowing_extra_value_is_carried_as_text(run) -> None:
    res = run("eval", "x+y", "--points", "-", "--ignore-extra",
              input='{"x": 1, "y": 2, "id": 1e999}\n{"x": 2, "y": 2, "id": 7}\n')
    assert res.exit_code == 0, res.stderr
    docs = [json.loads(line) for line in res.stdout.splitlines()]
    assert [d["extra"]["id"] for d in docs] == ["inf", 7] and [d["value"] for d in docs] == [3, 4]


@pytest.mark.parametrize("args,words", [
    (["J = x", "--x", "1", "--range", "0:1e-320"], "too wide or too narrow"),
    (["J = x", "--x", "1e308"], "is empty in doubles"),
])
def test_plot_ranges_at_the_edges_of_the_doubles_are_input_errors(run, args, words) -> None:
    res = run("plot", *args)
    assert res.exit_code == 2 and words in res.stderr
