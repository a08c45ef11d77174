"""Issue 10's functions at their hard points (tests/test_numerics.py style):
each convention pinned (value, gradient, flagged or not), and each undefined
or infinite point stopping with the node named. PyTorch's choices where it has
one: derivative 0 at the jumps of floor, ceil, round, trunc and sign; x % y
differentiated as 1 and -floor(x/y); xlogy(0, y) = 0."""

from __future__ import annotations

import math

import pytest

import autodiff
from autodiff import EvaluationError


def grad(program: str, **point: float) -> tuple[float, dict[str, float], dict[int, list[str]]]:
    r = autodiff.differentiate(program, point)
    return r.value, r.gradient, r.conventions


@pytest.mark.parametrize("program, point, value, gradient, flagged", [
    ("floor(x)", dict(x=2), 2, dict(x=0), True),
    ("floor(x)", dict(x=-2.5), -3, dict(x=0), False),
    ("ceil(x)", dict(x=-3), -3, dict(x=0), True),
    ("ceil(x)", dict(x=2.1), 3, dict(x=0), False),
    ("trunc(x)", dict(x=-2.7), -2, dict(x=0), False),
    ("trunc(x)", dict(x=5), 5, dict(x=0), True),
    ("trunc(x)", dict(x=0), 0, dict(x=0), False),        # continuous at 0
    ("floor(x)", dict(x=0), 0, dict(x=0), True),
    ("x % y", dict(x=0.3, y=0.7), 0.3, dict(x=1, y=0), False),
    ("round(x)", dict(x=2.5), 2, dict(x=0), True),      # half to even
    ("round(x)", dict(x=3.5), 4, dict(x=0), True),
    ("round(x)", dict(x=-0.5), 0, dict(x=0), True),
    ("round(x)", dict(x=3), 3, dict(x=0), False),       # continuous at integers
    ("sign(x)", dict(x=0), 0, dict(x=0), True),
    ("sign(x)", dict(x=-2), -1, dict(x=0), False),
    ("x % y", dict(x=7.5, y=2), 1.5, dict(x=1, y=-3), False),
    ("x % y", dict(x=-7.5, y=2), 0.5, dict(x=1, y=4), False),
    ("x % y", dict(x=7.5, y=-2), -0.5, dict(x=1, y=4), False),
    ("x % y", dict(x=6, y=2), 0, dict(x=1, y=-3), True),   # the jump: the piece starting there
    ("x % y", dict(x=-6, y=2), 0, dict(x=1, y=3), True),
    ("x % 3", dict(x=3), 0, dict(x=1), True),
    ("cbrt(x)", dict(x=-8), -2, dict(x=1 / 12), False),
    ("acosh(x)", dict(x=1), 0, None, None),               # infinite slope: an error, below
    ("xlogy(x, y)", dict(x=0, y=0), 0, dict(x=0, y=0), True),
    ("xlogy(x, y)", dict(x=0, y=-1), 0, dict(x=0, y=0), True),
    ("xlogy(x, y)", dict(x=0, y=math.e), 0, dict(x=1, y=0), False),  # log(y): a true derivative
    ("sinc(x)", dict(x=0), 1, dict(x=0), False),         # smooth at 0: no convention
    ("sinc(x)", dict(x=1), 0, dict(x=-1), False),
    ("logaddexp(x, y)", dict(x=1000, y=1000), 1000 + math.log(2), dict(x=0.5, y=0.5), False),
    ("logaddexp(x, y)", dict(x=-1000, y=0), 0, dict(x=0, y=1), False),
    ("lgamma(x)", dict(x=1), 0, dict(x=-0.5772156649015329), False),
    ("lgamma(x)", dict(x=2), 0, dict(x=0.42278433509846713), False),
    ("exp2(x)", dict(x=-1), 0.5, dict(x=0.5 * math.log(2)), False),
    ("degrees(x)", dict(x=math.pi), 180, dict(x=180 / math.pi), False),
])
def test_conventions(program: str, point: dict[str, float], value: float,
                     gradient: dict[str, float] | None, flagged: bool | None) -> None:
    if gradient is None:
        return
    v, g, conventions = grad(program, **point)
    assert v == value
    assert g == gradient
    assert bool(conventions) == flagged


def test_the_convention_notes_say_what_was_done() -> None:
    notes = [n for ns in grad("floor(x)", x=2)[2].values() for n in ns]
    assert notes == ["floor' taken as 0 at an integer (a jump)"]
    notes = [n for ns in grad("round(x)", x=0.5)[2].values() for n in ns]
    assert notes == ["round' taken as 0 at a half-integer (a jump)"]
    notes = [n for ns in grad("x % y", x=4, y=2)[2].values() for n in ns]
    assert notes == ["x % y jumps where x/y is an integer: ∂ taken as 1 and -floor(x/y), as PyTorch"]


@pytest.mark.parametrize("program, point, kind, words", [
    ("x % y", dict(x=1, y=0), "division_by_zero", ["division by zero", "f = x % y", "y = 0"]),
    ("cbrt(x)", dict(x=0), "derivative", ["1/(3*cbrt(x)^2)", "infinite", "x = 0"]),
    ("acosh(x)", dict(x=0.5), "domain", ["acosh", "x >= 1", "x = 0.5"]),
    ("acosh(x)", dict(x=1), "derivative", ["1/sqrt(x^2 - 1)", "infinite"]),
    ("atanh(x)", dict(x=1), "domain", ["atanh", "-1 < x < 1", "x = 1"]),
    ("csc(x)", dict(x=0), "division_by_zero", ["csc has a pole at 0", "x = 0"]),
    ("cot(x)", dict(x=0), "division_by_zero", ["cot has a pole at 0", "x = 0"]),
    ("lgamma(x)", dict(x=0), "division_by_zero", ["lgamma has a pole at 0, -1, -2, ...", "x = 0"]),
    ("lgamma(x)", dict(x=-3), "division_by_zero", ["lgamma has a pole"]),
    ("digamma(x)", dict(x=-1), "division_by_zero", ["digamma has a pole"]),
    ("lgamma(x)", dict(x=1e308), "overflow", ["lgamma(x)"]),
    ("exp2(x)", dict(x=1100), "overflow", ["exp2(x)"]),
    ("xlogy(x, y)", dict(x=1, y=0), "domain", ["xlogy", "y > 0, or x = 0", "y = 0"]),
    ("xlogy(x, y)", dict(x=2, y=-1), "domain", ["xlogy"]),
    ("degrees(x)", dict(x=1e307), "overflow", ["degrees(x)"]),
    ("csc(x)", dict(x=5e-324), "overflow", ["csc(x)"]),
])
def test_undefined_or_infinite_stops_with_the_node_named(program: str, point: dict[str, float], kind: str,
                                                        words: list[str]) -> None:
    with pytest.raises(EvaluationError) as info:
        autodiff.differentiate(program, point)
    err = info.value
    assert err.kind == kind, err.render()
    text = err.render()
    for w in words:
        assert w in text, text
    assert err.exit_code == 1


def test_mod_binds_like_multiplication_and_prints_back() -> None:
    from autodiff.graph import program_text

    # left-associative at the * / level: 7 % 4 * 2 is (7 % 4) * 2; -7 % 3 is (-7) % 3
    assert autodiff.differentiate("7 % 4 * 2", {}).value == 6
    assert autodiff.differentiate("2 * 7 % 4", {}).value == 2
    assert autodiff.differentiate("-7 % 3", {}).value == 2
    assert autodiff.differentiate("1 + 7 % 4 ^ 2", {}).value == 8
    for program in ["J = x % (y % 3)", "J = (x % y) % 3", "J = x * y % 3", "J = x % y * 2", "J = -x % y"]:
        graph = autodiff.parse(program)
        again = autodiff.parse(program_text(graph))
        assert program_text(again) == program_text(graph)
        assert autodiff.differentiate(program_text(graph), dict(x=7.5, y=2.5)).value == \
            autodiff.differentiate(program, dict(x=7.5, y=2.5)).value


def test_cbrt_of_a_negative_number_is_real() -> None:
    # x^(1/3) refuses a negative base (never complex); cbrt is the real root
    with pytest.raises(EvaluationError):
        autodiff.differentiate("x^(1/3)", dict(x=-8))
    v, g, _ = grad("cbrt(x)", x=-27)
    assert (v, g) == (-3, dict(x=1 / 27))


def test_latex_writes_mod_as_bmod() -> None:
    from autodiff.explain import tex_formula

    assert tex_formula("x % y") == r"x \bmod y"
