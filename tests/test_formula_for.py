"""ops.formula_for: a local derivative written in the program's own names."""

from __future__ import annotations

import pytest

from autodiff.ops import FUNCTIONS, OPERATORS, OPS, formula_for

MUL, DIV, POW = OPERATORS["mul"], OPERATORS["div"], OPERATORS["pow"]


@pytest.mark.parametrize("op, k, names, want", [
    (MUL, 0, ["b", "c"], "c"),                     # ∂u/∂b = c in u = b*c
    (MUL, 1, ["b", "c"], "b"),
    (MUL, 1, ["-3", "v"], "-3"),                   # a whole formula is not parenthesised
    (DIV, 1, ["-3", "y"], "-(-3)/y^2"),            # a negative constant inside a formula is
    (DIV, 0, ["a", "t1"], "1/t1"),
    (POW, 0, ["x", "y"], "y*x^(y-1)"),
    (POW, 1, ["y", "x"], "y^x*log(y)"),            # one pass: swapped names stay swapped
    (FUNCTIONS[("atan2", 2)], 0, ["x", "y"], "y/(y^2 + x^2)"),  # params are (y, x)
    (FUNCTIONS[("exp", 1)], 0, ["exp"], "exp(exp)"),            # only whole words that are params
    (FUNCTIONS[("log", 2)], 1, ["x_1", "base"], "-log(x_1)/(base*log(base)^2)"),
    (FUNCTIONS[("sqrt", 1)], 0, ["xx"], "1/(2*sqrt(xx))"),
    (OPERATORS["add"], 0, ["a", "u"], "1"),
])
def test_formula_for(op, k, names, want) -> None:
    assert formula_for(op, k, names) == want


@pytest.mark.parametrize("op", OPS, ids=lambda op: f"{op.name}/{op.arity}")
def test_with_its_own_parameter_names_a_formula_is_unchanged(op) -> None:
    for k in range(op.arity):
        assert formula_for(op, k, list(op.params)) == op.partials[k].formula
