"""A corpus of programs against SymPy: SymPy parses the same text with its own
parser (after `^` -> `**`), differentiates symbolically, and evaluates the
value and every partial derivative at 50 significant digits."""

from __future__ import annotations

import pytest
import sympy as sp

import autodiff

from conftest import assert_close, sympy_program

# (program, point): points away from kinks, ties and singularities.
CORPUS = [
    ("J = 3*(a + b*c)", dict(a=5, b=3, c=2)),
    ("u = b*c; v = a + u; J = 3*v", dict(a=5, b=3, c=2)),
    ("x^2", dict(x=-3)),
    ("-x^2 + 2^3^y", dict(x=1.5, y=0.4)),
    ("2*-x + +x - -y", dict(x=0.7, y=-1.25)),
    ("x**y", dict(x=1.7, y=2.3)),
    ("pow(x, y) / (1 + x*y)", dict(x=0.6, y=-1.4)),
    ("exp(x)*sin(y) + log(x*y)", dict(x=1.2, y=0.9)),
    ("log(x, b)", dict(x=7.5, b=3.0)),
    ("log2(x) + log10(y)", dict(x=3.3, y=0.02)),
    ("log1p(x) - expm1(y)", dict(x=0.25, y=-0.75)),
    ("sqrt(x*x + y*y)", dict(x=3.0, y=-4.0)),
    ("hypot(x, y) * atan2(y, x)", dict(x=-1.5, y=0.5)),
    ("abs(x - y)*relu(x)", dict(x=2.5, y=4.0)),
    ("min(x, y) + max(x*y, 1)", dict(x=0.5, y=3.0)),
    ("tan(x) + asin(y) + acos(y/2) + atan(x*y)", dict(x=0.4, y=0.3)),
    ("sinh(x) * cosh(y) - tanh(x*y)", dict(x=0.8, y=-0.6)),
    ("sigmoid(w*x + b)", dict(w=0.5, x=1.5, b=-0.2)),
    ("softplus(x) * log(1 + exp(x))", dict(x=0.9)),
    ("z = w1*x1 + w2*x2 + b; a = sigmoid(z); L = -(y*log(a) + (1 - y)*log(1 - a))",
     dict(w1=0.3, x1=1.2, w2=-0.8, x2=0.4, b=0.1, y=1.0)),
    ("h = tanh(w*x + b)\nL = (h - y)^2 / 2", dict(w=0.7, x=0.5, b=0.1, y=0.2)),
    ("f = x*y*z; g = f + x; h = g*f", dict(x=1.1, y=-0.9, z=2.0)),
    ("t = x + y; u = t*t; v = u*t; w = v/t", dict(x=0.5, y=0.25)),
    ("((x + 1)*x + 1)*x + 1", dict(x=0.3)),
    ("1/(1 + x^2)", dict(x=2.0)),
    ("exp(-x^2/2)/sqrt(2*pi)", dict(x=0.8)),
    ("e^x - exp(x) + x", dict(x=1.3)),
    ("pi*r^2", dict(r=1.5)),
    ("x/y/z", dict(x=6.0, y=2.0, z=3.0)),
    ("x - y - z", dict(x=6.0, y=2.0, z=3.0)),
    ("x^y^z", dict(x=1.2, y=1.5, z=0.7)),
    ("sin(x)^2 + cos(x)^2", dict(x=0.123)),
    ("log(exp(x) + exp(y))", dict(x=0.5, y=-0.5)),
    ("sqrt(sqrt(sqrt(x)))", dict(x=5.0)),
    ("x*sin(1/x)", dict(x=0.37)),
    ("atan2(x*y, x + y)", dict(x=0.9, y=-0.2)),
    ("max(sin(x), cos(x))", dict(x=0.3)),
    ("relu(x - 1) + relu(1 - x)", dict(x=0.25)),
    ("abs(sin(x))", dict(x=4.0)),
    ("sigmoid(x)*(1 - sigmoid(x))", dict(x=-1.1)),
    ("a = x*x; b = a*a; c = b*b; d = c*c; d", dict(x=1.01)),
    ("p = x + y\nq = x - y\nr = p*q\nr / (p + q)", dict(x=2.5, y=1.5)),
    ("2.5*x + .5*y - 2.*z + 1e-3*w + 2.E1*v", dict(x=1.0, y=2.0, z=3.0, w=4.0, v=5.0)),
    ("x_1*X1 + w11", dict(x_1=2.0, X1=3.0, w11=4.0)),
    ("log(x, 2) * log2(x)", dict(x=10.0)),
    ("hypot(3*x, 4*x)", dict(x=2.0)),
    ("expm1(log1p(x))", dict(x=0.5)),
    # issue 10's functions, as formulas are written with them
    ("L = -(xlogy(y, p) + xlogy(1 - y, 1 - p))", dict(y=0.3, p=0.8)),      # cross-entropy
    ("L = -(xlogy(y, p) + xlogy(1 - y, 1 - p))", dict(y=0.0, p=0.8)),      # a hard label
    ("logaddexp(x, -2*x) * softplus(-x)", dict(x=1.7)),
    ("Phi = (1 + erf(x/sqrt(2)))/2; Phi + erfc(y)", dict(x=0.4, y=1.3)),   # the normal CDF
    ("lgamma(a) + lgamma(b) - lgamma(a + b)", dict(a=2.5, b=0.75)),        # log of the beta function
    ("digamma(a) - digamma(a + b)", dict(a=1.5, b=3.0)),
    ("cbrt(x^2 + y^2) + cbrt(x*y)", dict(x=-2.0, y=0.6)),                  # a negative cube root
    ("sinc(x)*sinc(y)", dict(x=0.3, y=-1.7)),
    ("asinh(x) + acosh(y) + atanh(x/y)", dict(x=0.5, y=1.5)),
    ("sec(x)^2 - tan(x)^2 + csc(y)*cot(y)", dict(x=0.4, y=1.1)),
    ("exp2(x)*degrees(radians(y))", dict(x=1.5, y=30.0)),
    ("x % y + floor(x/y)*sin(y)", dict(x=7.3, y=2.0)),
    ("(x*y) % 1 + round(x) + ceil(y) - trunc(x) + sign(y)", dict(x=-2.7, y=1.3)),
]


def test_corpus_is_large_enough() -> None:
    assert len(CORPUS) >= 40


@pytest.mark.parametrize("program, point", CORPUS, ids=[c[0][:40] for c in CORPUS])
def test_against_sympy(program: str, point: dict[str, float]) -> None:
    expr, symbols = sympy_program(program)
    subs = {symbols[k]: sp.Float(v, 60) for k, v in point.items()}
    result = autodiff.differentiate(program, point)
    assert_close(result.value, float(expr.evalf(50, subs=subs)), rel=1e-12, abs_=1e-14, what="value")
    grad = result.gradient
    assert set(grad) == {str(s) for s in expr.free_symbols}
    for name, sym in symbols.items():
        want = float(sp.diff(expr, sym).evalf(50, subs=subs))
        assert_close(grad.get(name, 0.0), want, rel=1e-9, abs_=1e-12, what=f"d/d{name} of {program}")
