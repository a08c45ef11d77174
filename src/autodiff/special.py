"""Special functions the operations table needs and `math` lacks or gets
wrong: lgamma near its zeros at 1 and 2, digamma and trigamma, sin(pi x) and
cos(pi x) with an exact argument reduction, the real cube root (math.cbrt is
Python 3.11+), and exp(-x^2) without the rounding error of x^2.

Accuracy, measured against mpmath at 40 digits (tests/test_special.py):
lgamma and digamma to 1e-13 relative for x > 0, including next to their zeros
(lgamma at 1 and 2, digamma at 1.4616...); for x < 0 they are computed by the
reflection formula, whose error is absolute (about 1e-15 times the size of the
terms): relative accuracy is lost only next to the zeros of log|gamma| and
digamma on the negative axis. trigamma is relative 1e-13 everywhere.
Poles (0, -1, -2, ...) raise ZeroDivisionError.

Coefficients were computed with mpmath at 50 digits.
"""

from __future__ import annotations

import math

__all__ = ["lgamma", "digamma", "trigamma", "sinpi", "cospi", "cbrt", "exp_neg_square"]

# lgamma(2 + z) = (1 - euler_gamma) z + sum_{k>=2} (-1)^k (zeta(k) - 1)/k z^k,
# which converges for |z| < 2 (each term about (z/2)^k).
_LGAMMA2 = (
    0.42278433509846713,
    0.3224670334241132,
    -0.0673523010531981,
    0.020580808427784546,
    -0.007385551028673986,
    0.0028905103307415234,
    -0.001192753911703261,
    0.0005096695247430425,
    -0.00022315475845357939,
    9.945751278180853e-05,
    -4.492623673813314e-05,
    2.050721277567069e-05,
    -9.439488275268397e-06,
    4.374866789907488e-06,
    -2.039215753801366e-06,
    9.55141213040742e-07,
    -4.492469198764566e-07,
    2.1207184805554665e-07,
    -1.0043224823968099e-07,
    4.7698101693639804e-08,
    -2.2711094608943164e-08,
    1.0838659214896955e-08,
    -5.183475041970047e-09,
    2.4836745438024785e-09,
    -1.1921401405860912e-09,
    5.731367241678862e-10,
    -2.7595228851242334e-10,
    1.330476437424449e-10,
    -6.4229645638381e-11,
    3.1044247747322276e-11,
    -1.5021384080754142e-11,
    7.275974480239079e-12,
    -3.527742476575915e-12,
)

# digamma's positive zero, as a sum of two doubles
_ROOT_HI = 1.4616321449683622
_ROOT_LO = 9.549995429965697e-17
# digamma(root + z) = sum_{k>=1} c_k z^k, c_k = (-1)^(k+1) zeta(k+1, root)
_DIGAMMA_ROOT = (
    0.9676722454476212,
    -0.4427631689835921,
    0.258499760955651,
    -0.16394270544240652,
    0.10782405069126237,
    -0.07219956125645471,
    0.04880428816414311,
    -0.03316112647484736,
    0.022597648232218104,
    -0.01542476590494896,
    0.010538791616612175,
    -0.007204534386356869,
    0.004926781395729853,
    -0.003369801655439328,
    0.002305126326734928,
    -0.0015769367714301972,
    0.0010788252019162967,
    -0.0007380709389960052,
    0.000504953265834602,
    -0.0003454680251063077,
    0.00023635601564027053,
    -0.00016170622091974803,
    0.0001106337276874741,
    -7.569179582195066e-05,
    5.178575795222081e-05,
)

# B_2k / (2k) and B_2k, k = 1..9, for the asymptotic series
_B_OVER_2K = (0.08333333333333333, -0.008333333333333333, 0.003968253968253968,
              -0.004166666666666667, 0.007575757575757576, -0.021092796092796094,
              0.08333333333333333, -0.4432598039215686, 3.0539543302701198)
_B = (0.16666666666666666, -0.03333333333333333, 0.023809523809523808, -0.03333333333333333,
      0.07575757575757576, -0.2531135531135531, 1.1666666666666667, -7.092156862745098,
      54.971177944862156)

_LOG_PI = math.log(math.pi)
_ASYMPTOTIC = 12.0  # from here on the asymptotic series converge to a few ulps
_TWO_52 = 4503599627370496.0


def _pole(x: float, name: str) -> None:
    if x <= 0.0 and x == math.floor(x):
        raise ZeroDivisionError(f"{name} has a pole at {x:g}")


def _sincospi(x: float) -> tuple[float, float]:
    """(sin(pi x), cos(pi x)), exact zeros at integers and half-integers: the
    argument is reduced to r in [-1/4, 1/4] exactly before pi multiplies it."""
    if abs(x) >= _TWO_52:  # an integer: sin is 0, cos is (-1)^x
        return 0.0, (1.0 if math.fmod(x, 2.0) == 0.0 else -1.0)
    n = round(2.0 * x)
    r = x - n * 0.5  # exact
    a = math.pi * r
    s, c = math.sin(a), math.cos(a)
    m = n % 4
    if m == 0:
        return s, c
    if m == 1:
        return c, -s
    if m == 2:
        return -s, -c
    return -c, s


def sinpi(x: float) -> float:
    return _sincospi(x)[0]


def cospi(x: float) -> float:
    return _sincospi(x)[1]


def _lgamma2(z: float) -> float:
    """lgamma(2 + z) for |z| <= 1/2, by its Taylor series."""
    acc = 0.0
    for c in reversed(_LGAMMA2):
        acc = acc * z + c
    return acc * z


def lgamma(x: float) -> float:
    """log|gamma(x)|: the series around 2 on [0.5, 2.5] (math.lgamma loses
    every digit next to the zeros at 1 and 2), the recurrence below 0.5,
    math.lgamma above 2.5 (measured: 2 ulps), reflection below 0."""
    _pole(x, "lgamma")
    if 1.5 <= x <= 2.5:
        return _lgamma2(x - 2.0)
    if 0.5 <= x < 1.5:
        z = x - 1.0  # exact
        return _lgamma2(z) - math.log1p(z)
    if 0.0 < x < 0.5:
        return lgamma(x + 1.0) - math.log(x)
    if x > 2.5:
        return math.lgamma(x)  # raises OverflowError from about 2.5e305
    # x < 0 (not an integer): gamma(x) gamma(1 - x) = pi / sin(pi x)
    return _LOG_PI - math.log(abs(sinpi(x))) - lgamma(1.0 - x)


def _digamma2(z: float) -> float:
    """digamma(2 + z) for |z| <= 1/2: the derivative of lgamma's series."""
    acc = 0.0
    for k in range(len(_LGAMMA2), 0, -1):
        acc = acc * z + k * _LGAMMA2[k - 1]
    return acc


def digamma(x: float) -> float:
    """The derivative of lgamma: the series around its positive zero
    1.4616..., the derivative of lgamma's series on [0.5, 2.5], else the
    recurrence up to 12 and the asymptotic series; reflection below 0."""
    _pole(x, "digamma")
    if x < 0.0:
        s, c = _sincospi(x)
        return digamma(1.0 - x) - math.pi * c / s
    z = (x - _ROOT_HI) - _ROOT_LO
    if abs(z) < 0.25:
        acc = 0.0
        for coef in reversed(_DIGAMMA_ROOT):
            acc = acc * z + coef
        return acc * z
    if 1.5 <= x <= 2.5:
        return _digamma2(x - 2.0)
    if 0.5 <= x < 1.5:
        return _digamma2(x - 1.0) - 1.0 / x  # x - 1 is exact; digamma(x + 1) = digamma(x) + 1/x
    shift = 0.0
    while x < _ASYMPTOTIC:
        shift += 1.0 / x
        x += 1.0
    inv2 = 1.0 / (x * x)
    acc = 0.0
    for b in reversed(_B_OVER_2K[:8]):
        acc = acc * inv2 + b
    return (math.log(x) - 0.5 / x - acc * inv2) - shift


def trigamma(x: float) -> float:
    """The derivative of digamma: the recurrence up to 12 and the asymptotic
    series (all terms positive for x > 0); reflection below 0."""
    _pole(x, "trigamma")
    if x < 0.0:
        s = sinpi(x)
        return (math.pi / s) * (math.pi / s) - trigamma(1.0 - x)
    shift = 0.0
    while x < _ASYMPTOTIC:
        shift += (1.0 / x) / x
        x += 1.0
    inv = 1.0 / x
    inv2 = inv * inv
    acc = 0.0
    for b in reversed(_B[:9]):
        acc = acc * inv2 + b
    return shift + inv * (1.0 + inv * (0.5 + acc * inv))


def cbrt(x: float) -> float:
    """The real cube root (cbrt(-8) = -2): the power's estimate, one Newton
    step, then a correction by the residual y^3 - |x| computed in
    double-double arithmetic, which leaves the correctly rounded root at every
    point tested (tests/test_special.py). |x| is scaled by 2^(+-999) first
    where y^3 would leave the normal range."""
    if x == 0.0:
        return x
    a = abs(x)
    scale = 1.0
    if a < 2.0 ** -900:
        a *= 2.0 ** 999
        scale = 2.0 ** -333
    elif a > 2.0 ** 900:
        a *= 2.0 ** -999
        scale = 2.0 ** 333
    y = a ** (1.0 / 3.0)
    y = y - (y - a / (y * y)) / 3.0
    s, s_err = _two_prod(y, y)
    t, t_err = _two_prod(s, y)
    residual = (t - a) + (t_err + s_err * y)
    y = y - residual / (3.0 * s)
    return math.copysign(y * scale, x)


def _two_prod(a: float, b: float) -> tuple[float, float]:
    """(p, e) with p = fl(a*b) and p + e = a*b exactly (Dekker's product)."""
    p = a * b
    c = _SPLIT * a
    ah = c - (c - a)
    al = a - ah
    c = _SPLIT * b
    bh = c - (c - b)
    bl = b - bh
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


_SPLIT = 134217729.0  # 2^27 + 1


def exp_neg_square(x: float) -> float:
    """exp(-x^2) with x^2 carried as a sum of two doubles, so that the
    result keeps its digits for large |x| (exp(-x*x) loses about x^2 ulps)."""
    if abs(x) > 40.0:
        return 0.0  # below the smallest double
    hi = x * x
    c = _SPLIT * x
    xh = c - (c - x)
    xl = x - xh
    lo = ((xh * xh - hi) + 2.0 * xh * xl) + xl * xl  # hi + lo = x^2 exactly
    return math.exp(-hi) * (1.0 - lo)
