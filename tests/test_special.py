"""The special functions of issue 10 against mpmath at 40 digits: what the
README claims about their accuracy, measured at seeded random points over
their domains and next to the hard places (lgamma's zeros at 1 and 2,
digamma's zero at 1.4616..., the poles), and the local-derivative rules of
the new rows where a textbook form would cancel or overflow.

    python -m pytest tests/test_special.py -q     # prints nothing; see the
    python tests/test_special.py                  # worst errors measured
"""

from __future__ import annotations

import math
import random
from typing import Callable

import mpmath
import pytest

from autodiff import special
from autodiff.ops import FUNCTIONS, OPERATORS

mpmath.mp.dps = 40
_RNG = random.Random(20261202)


def _near(c: float, lo: int, hi: int, n: int) -> list[float]:
    return [c + _RNG.choice([-1, 1]) * 10 ** _RNG.uniform(lo, hi) for _ in range(n)]


_POSITIVE = ([_RNG.uniform(0, 30) for _ in range(300)] + [10 ** _RNG.uniform(-300, 300) for _ in range(200)]
             + _near(1.0, -16, 0, 150) + _near(2.0, -16, 0, 150) + _near(1.4616321449683622, -16, 0, 150))
_NEGATIVE = ([-_RNG.uniform(0, 40) for _ in range(300)] + [-(10 ** _RNG.uniform(-300, 1)) for _ in range(100)]
             + [p for k in range(8) for p in _near(-k, -14, -1, 20) if p < 0])
_NEGATIVE = [x for x in _NEGATIVE if x != math.floor(x)]


def _log_abs_gamma(x: mpmath.mpf) -> mpmath.mpf:
    return mpmath.log(abs(mpmath.gamma(x)))


_ORACLES: dict[str, Callable[[mpmath.mpf], mpmath.mpf]] = {
    "lgamma": _log_abs_gamma, "digamma": mpmath.digamma, "trigamma": lambda x: mpmath.psi(1, x),
}


def _errors(name: str, xs: list[float]) -> tuple[float, float, float]:
    """(worst relative error, worst error / max(1, |f|), where the first was)."""
    f = getattr(special, name)
    if name == "trigamma":  # about 1/x^2: beyond the doubles below 1e-154
        xs = [x for x in xs if abs(x) > 1e-150]
    worst_rel, worst_mixed, at = 0.0, 0.0, math.nan
    for x in xs:
        want = _ORACLES[name](mpmath.mpf(x))
        got = f(x)
        err = abs(mpmath.mpf(got) - want)
        rel = float(err / abs(want)) if want != 0 else abs(got)
        mixed = float(err / max(1, abs(want)))
        if rel > worst_rel:
            worst_rel, at = rel, x
        worst_mixed = max(worst_mixed, mixed)
    return worst_rel, worst_mixed, at


@pytest.mark.parametrize("name", ["lgamma", "digamma", "trigamma"])
def test_relative_accuracy_for_positive_x(name: str) -> None:
    """1e-13 relative for x > 0, next to the zeros at 1 and 2 (lgamma) and
    1.4616... (digamma) too, where math.lgamma loses every digit."""
    rel, _, at = _errors(name, _POSITIVE)
    assert rel < 1e-13, f"{name}: relative error {rel:.3g} at {at!r}"


@pytest.mark.parametrize("name", ["lgamma", "digamma", "trigamma"])
def test_accuracy_for_negative_x(name: str) -> None:
    """x < 0 goes through the reflection formula: the error is 1e-14 times
    max(1, |f(x)|), which is relative except next to the zeros of log|gamma| and
    digamma on the negative axis (trigamma has none there: relative)."""
    rel, mixed, at = _errors(name, _NEGATIVE)
    assert mixed < 1e-14, f"{name}: error {mixed:.3g} (relative to max(1, |f|))"
    if name == "trigamma":
        assert rel < 1e-13, f"{name}: relative error {rel:.3g} at {at!r}"


def test_math_lgamma_would_not_do() -> None:
    # the reason for the series: math.lgamma has no correct digit next to 1 and 2
    x = 1.0 + 2.0 ** -50
    want = float(_log_abs_gamma(mpmath.mpf(x)))
    assert special.lgamma(x) == pytest.approx(want, rel=1e-15)
    assert abs(math.lgamma(x) - want) > 1e-3 * abs(want)


@pytest.mark.parametrize("x", [0.0, -1.0, -2.0, -17.0, -2.0 ** 60, -1e300])
def test_poles_raise_zero_division(x: float) -> None:
    for f in (special.lgamma, special.digamma, special.trigamma):
        with pytest.raises(ZeroDivisionError):
            f(x)


def test_cbrt_correctly_rounded_and_exact_on_cubes() -> None:
    xs = [_RNG.choice([-1, 1]) * 10 ** _RNG.uniform(-323, 308) for _ in range(4000)]
    xs += [5e-324, 2.0 ** -900, 2.0 ** 900, 1.7976931348623157e308, -2.2250738585072014e-308]
    for x in xs:
        want = float(mpmath.sign(x) * mpmath.cbrt(abs(mpmath.mpf(x))))  # rounded to nearest
        assert special.cbrt(x) == want, x
    for k in list(range(-2000, 2001)) + [10**5, -(10**5), 2**17]:
        assert special.cbrt(float(k) ** 3) == k
    assert math.copysign(1.0, special.cbrt(-0.0)) == -1.0


def test_sinpi_cospi_exact_at_integers_and_halves() -> None:
    for k in range(-50, 51):
        assert special.sinpi(float(k)) == 0.0
        assert special.cospi(k + 0.5) == 0.0
        assert special.cospi(float(k)) == (1.0 if k % 2 == 0 else -1.0)
    assert special.sinpi(2.0 ** 60 + 0.0) == 0.0 and special.cospi(2.0 ** 60) == 1.0
    for _ in range(500):
        x = _RNG.uniform(-1e6, 1e6)
        assert special.sinpi(x) == pytest.approx(float(mpmath.sinpi(x)), rel=1e-15, abs=1e-300)


# ---- the local derivatives of the new rows, against mpmath, where the textbook form cancels

def _sinc_d(x: mpmath.mpf) -> mpmath.mpf:
    with mpmath.workdps(700):  # (cos(pi x) - sinc(x))/x cancels to 1e-600 at x = 1e-300
        return (mpmath.cospi(x) - mpmath.sincpi(x)) / x


def _d(name: str, x: float) -> mpmath.mpf:
    X = mpmath.mpf(x)
    return {
        "atanh": lambda: 1 / (1 - X * X),
        "acosh": lambda: 1 / mpmath.sqrt(X * X - 1),
        "asinh": lambda: 1 / mpmath.sqrt(X * X + 1),
        "erf": lambda: 2 / mpmath.sqrt(mpmath.pi) * mpmath.exp(-X * X),
        "erfc": lambda: -2 / mpmath.sqrt(mpmath.pi) * mpmath.exp(-X * X),
        "sinc": lambda: _sinc_d(X),
        "cbrt": lambda: 1 / (3 * mpmath.cbrt(abs(X)) ** 2),
        "lgamma": lambda: mpmath.digamma(X),
        "digamma": lambda: mpmath.psi(1, X),
        "cot": lambda: -1 / mpmath.sin(X) ** 2,
    }[name]()


DERIVATIVE_TAILS = [
    ("atanh", [-0.9999999999999999, -0.999999, 0.3, 0.999999, 0.9999999999999999]),
    ("acosh", [1.0000000000000002, 1.000001, 2.0, 1e100, 1e300]),
    ("asinh", [-1e300, -1e160, -3.0, 0.0, 1e-5, 1e155, 1e300]),
    ("erf", [-26.0, -20.0, -5.0, 0.0, 0.3, 3.0, 10.0, 25.0]),
    ("erfc", [-25.0, -3.0, 0.0, 1.5, 6.0, 15.0, 26.0]),
    ("sinc", [-0.2, -1e-3, -1e-8, 1e-300, 1e-5, 0.1, 0.24, 0.26, 0.7, 1.0, 3.5]),
    ("cbrt", [-1e300, -8.0, -1e-300, 1e-6, 27.0, 1e300]),
    ("lgamma", [1e-300, 0.5, 1.0, 1.4616321449683622, 2.0, 50.0, 1e10, -0.5, -3.7]),
    ("digamma", [1e-150, 0.5, 1.0, 2.0, 50.0, 1e10, -0.5, -3.7]),
    ("cot", [1e-150, 1e-8, 1.0, 3.0]),
]


@pytest.mark.parametrize("name,xs", DERIVATIVE_TAILS, ids=[t[0] for t in DERIVATIVE_TAILS])
def test_derivatives_keep_their_digits(name: str, xs: list[float]) -> None:
    op = FUNCTIONS[(name, 1)]
    for x in xs:
        got = op.partials[0].fn(x, op.value(x))
        want = float(_d(name, x))
        if abs(want) < 2.2250738585072014e-308:  # subnormal or 0: absolute
            assert abs(got - want) < 1e-320, (name, x, got, want)
            continue
        assert abs(got - want) <= 8 * math.ulp(want), f"{name}'({x}) = {got!r}, exact {want!r}"


def test_logaddexp_and_its_derivatives_keep_their_digits() -> None:
    op = FUNCTIONS[("logaddexp", 2)]
    for x, y in [(0.0, 0.0), (1000.0, -1000.0), (-800.0, -800.5), (30.0, -30.0), (1e-20, -1e-20),
                 (700.0, 0.0), (-745.0, 0.0), (1e308, -1e308)]:
        X, Y = mpmath.mpf(x), mpmath.mpf(y)
        want = mpmath.log(mpmath.exp(X) + mpmath.exp(Y))
        out = op.value(x, y)
        assert out == pytest.approx(float(want), rel=4e-16, abs=1e-300)
        for k, w in enumerate([mpmath.exp(X - want), mpmath.exp(Y - want)]):
            got = op.partials[k].fn(x, y, out)
            assert got == pytest.approx(float(w), rel=1e-13, abs=1e-300), (x, y, k)


def test_mod_matches_python_and_its_derivative_is_minus_floor() -> None:
    op = OPERATORS["mod"]
    for _ in range(500):
        x, y = _RNG.uniform(-100, 100), _RNG.choice([-1, 1]) * _RNG.uniform(0.1, 10)
        assert op.value(x, y) == x % y
        assert op.partials[1].fn(x, y, x % y) == -math.floor(x / y) or abs(x / y - round(x / y)) < 1e-12


if __name__ == "__main__":  # the accuracy figures the README quotes
    for fname in ("lgamma", "digamma", "trigamma"):
        pos = _errors(fname, _POSITIVE)
        neg = _errors(fname, _NEGATIVE)
        print(f"{fname:9s} x > 0: worst relative error {pos[0]:.2g} (at {pos[2]!r}); "
              f"x < 0: relative {neg[0]:.2g}, relative to max(1, |f|) {neg[1]:.2g}")
