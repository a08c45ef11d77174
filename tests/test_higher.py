"""Forward mode, Jacobians, Hessians and Taylor series (issue 11) against
SymPy (symbolic derivatives evaluated at 50 digits) and against central
differences of the gradient."""

from __future__ import annotations

import math

import mpmath
import pytest
import sympy as sp
from test_sympy_corpus import CORPUS

import autodiff
from autodiff.higher import forward_mode, hessian, hvp, jacobian, taylor

from conftest import assert_close, sympy_program

IDS = [c[0][:40] for c in CORPUS]


def _graph(program: str) -> autodiff.Graph:
    return autodiff.parse(program).select(None)


@pytest.mark.parametrize("program, point", CORPUS, ids=IDS)
def test_forward_equals_reverse_on_the_corpus(program: str, point: dict[str, float]) -> None:
    g = _graph(program)
    reverse = autodiff.evaluate(g, point).gradient
    fwd = forward_mode(g, point)
    assert fwd.sweeps == len(reverse)
    assert set(fwd.gradient) == set(reverse)
    for name, want in reverse.items():
        assert_close(fwd.gradient[name], want, rel=1e-13, abs_=1e-15, what=f"d/d{name} of {program}")


@pytest.mark.parametrize("program, point", CORPUS, ids=IDS)
def test_hessian_against_sympy(program: str, point: dict[str, float]) -> None:
    expr, symbols = sympy_program(program)
    h = hessian(_graph(program), point)
    names = [k for k in symbols if k in point]
    args = [mpmath.mpf(point[k]) for k in names]
    for r, a in enumerate(h.inputs):
        for c, b in enumerate(h.inputs):
            if c < r:
                assert_close(h.matrix[r][c], h.matrix[c][r], rel=1e-12, abs_=1e-13, what="symmetry")
                continue
            second = sp.diff(expr, symbols[a], symbols[b])
            if second.has(sp.DiracDelta):  # zero away from the kinks, where the points are
                second = second.replace(sp.DiracDelta, lambda *_: sp.S.Zero)
            second = second.replace(  # sign(...) is locally constant there too
                lambda e: isinstance(e, sp.Derivative) and e.expr.func == sp.sign,
                lambda e: sp.S.Zero)
            try:
                want = float(sp.lambdify([symbols[k] for k in names], second, "mpmath")(*args))
            except (NameError, ValueError):  # (floor, derivatives of special functions)
                subs = {symbols[k]: sp.Float(point[k], 60) for k in names}
                want = float(second.doit().evalf(50, subs=subs))
            assert_close(h.matrix[r][c], want, rel=1e-8, abs_=1e-10,
                         what=f"d2/d{a}d{b} of {program}")


def test_directional_derivative_is_the_gradient_dotted_with_the_seed() -> None:
    g = _graph("z = w1*x1 + w2*x2 + b; a = sigmoid(z); L = -(y*log(a) + (1 - y)*log(1 - a))")
    point = dict(w1=0.3, x1=1.2, w2=-0.8, x2=0.4, b=0.1, y=1.0)
    seed = dict(w1=1.0, x2=-2.0, b=0.5)
    grad = autodiff.evaluate(g, point).gradient
    f = forward_mode(g, point, seed)
    assert f.sweeps == 1
    assert_close(f.derivative or 0.0, sum(grad[k] * v for k, v in seed.items()), rel=1e-14)
    # each node's tangent is d node / d direction: dz = x1*dw1 + w2*dx2 + db, by hand
    z = g.assigned["z"]
    assert f.tangents is not None
    assert_close(f.tangents[z], 1.2 * 1.0 + -0.8 * -2.0 + 0.5, rel=1e-15)


def test_jacobian_against_sympy_both_ways() -> None:
    program = "u = x*y + z; v = sin(x)*exp(y); w = u/v"
    point = dict(x=0.7, y=-0.3, z=1.9)
    g = autodiff.parse(program)
    syms = {k: sp.Symbol(k, real=True) for k in point}
    x, y, z = syms["x"], syms["y"], syms["z"]
    exprs = {"u": x * y + z, "v": sp.sin(x) * sp.exp(y)}
    exprs["w"] = exprs["u"] / exprs["v"]
    subs = {syms[k]: sp.Float(v, 60) for k, v in point.items()}
    auto = jacobian(g, point, ["all"])
    assert auto.outputs == ["u", "v", "w"] and auto.inputs == ["x", "y", "z"]
    assert auto.mode == "reverse" and auto.sweeps == 3  # 3 outputs, 3 inputs: a tie goes to reverse
    two = jacobian(g, point, ["u", "w"])
    assert two.mode == "reverse" and two.sweeps == 2
    fwd = jacobian(g, point, ["all"], mode="forward")
    assert fwd.sweeps == 3
    for r, name in enumerate(auto.outputs):
        for c, var in enumerate(auto.inputs):
            want = float(sp.diff(exprs[name], syms[var]).evalf(50, subs=subs))
            assert_close(auto.matrix[r][c], want, rel=1e-12, abs_=1e-14, what=f"d{name}/d{var}")
            assert_close(fwd.matrix[r][c], want, rel=1e-12, abs_=1e-14, what=f"d{name}/d{var}")
    assert two.matrix == [auto.matrix[0], auto.matrix[2]]
    one_input = jacobian(autodiff.parse("a = x^2; b = sin(x); c = a*b"), {"x": 0.5}, ["all"])
    assert one_input.mode == "forward" and one_input.sweeps == 1


def _fd_hessian_column(program: str, point: dict[str, float], v: dict[str, float]) -> dict[str, float]:
    """(∇f(p + h v) − ∇f(p − h v)) / 2h."""
    h = 1e-5
    up = {k: x + h * v.get(k, 0.0) for k, x in point.items()}
    down = {k: x - h * v.get(k, 0.0) for k, x in point.items()}
    gu = autodiff.differentiate(program, up).gradient
    gd = autodiff.differentiate(program, down).gradient
    return {k: (gu[k] - gd[k]) / (2 * h) for k in gu}


@pytest.mark.parametrize("program, point", [CORPUS[i] for i in (5, 7, 12, 16, 19, 20, 22, 32)],
                         ids=[IDS[i] for i in (5, 7, 12, 16, 19, 20, 22, 32)])
def test_hvp_against_central_differences_of_the_gradient(program: str, point: dict[str, float]) -> None:
    names = list(point)
    v = {k: (-1.0) ** i * (0.5 + 0.25 * i) for i, k in enumerate(names)}
    got = hvp(_graph(program), point, v)
    assert got.sweeps == 1 and got.product is not None
    want = _fd_hessian_column(program, point, v)
    for k, w in want.items():
        assert_close(got.product[k], w, rel=1e-6, abs_=1e-7, what=f"(Hv)_{k} of {program}")
    full = hessian(_graph(program), point)
    assert full.matrix is not None
    for r, k in enumerate(full.inputs):  # H·v from the matrix equals the product
        row = sum(full.matrix[r][c] * v.get(b, 0.0) for c, b in enumerate(full.inputs))
        assert_close(got.product[k], row, rel=1e-12, abs_=1e-13, what="H·v")


def _all_rows() -> list[object]:
    from autodiff.ops import ROWS

    return list(ROWS)


def test_every_row_has_a_taylor_rule() -> None:
    assert [op.name for op in _all_rows() if op.taylor is None] == []  # type: ignore[attr-defined]


MANY = [  # the many-argument functions, conditions and rebinding of issue 10
    ("sum(x, y, z) * prod(x, y, z)", dict(x=0.5, y=1.5, z=-2.0)),
    ("logsumexp(x, y, z) + hypot(x, y, z) + mean(x, y, z) + norm(x, z)", dict(x=0.5, y=1.5, z=-2.0)),
    ("max(x, y, z)^2 + min(x, y, z)*x", dict(x=0.5, y=1.5, z=-2.0)),
    ("where(x > 0, log(x), x^2) * y", dict(x=0.5, y=3.0)),
    ("where(x > 0, log(x), x^2) * y", dict(x=-0.5, y=3.0)),
    ("clamp(x*y, 0, 1) + x*(x < y)", dict(x=0.5, y=1.5)),
    ("c = x*y; c = c + sin(x); c = c*c", dict(x=0.5, y=1.5)),
]


@pytest.mark.parametrize("program, point", MANY, ids=[m[0][:40] for m in MANY])
def test_many_argument_functions_and_where(program: str, point: dict[str, float]) -> None:
    """forward = reverse; the Hessian against central differences of the
    gradient; the Taylor series' first two derivatives against the gradient's
    and the Hessian's; only the branch taken is evaluated (log(-0.5) never is)."""
    g = _graph(program)
    grad = autodiff.evaluate(g, point).gradient
    fwd = forward_mode(g, point)
    for k, want in grad.items():
        assert_close(fwd.gradient[k], want, rel=1e-13, abs_=1e-15, what=f"d/d{k}")
    h = hessian(g, point)
    for r, k in enumerate(h.inputs):
        col = _fd_hessian_column(program, point, {k: 1.0})
        for c, m in enumerate(h.inputs):
            assert_close(h.matrix[r][c], col[m], rel=1e-6, abs_=1e-6, what=f"d2/d{k}d{m}")
    t = taylor(g, point, "x", 2)
    assert_close(t.derivatives[1], grad["x"], rel=1e-13, abs_=1e-15, what="taylor 1")
    assert_close(t.derivatives[2], h.matrix[h.inputs.index("x")][h.inputs.index("x")], rel=1e-9,
                 abs_=1e-12, what="taylor 2")


def test_many_argument_functions_exact_and_jacobian_of_versions() -> None:
    from fractions import Fraction

    from autodiff.rationals import evaluate_exact

    r = evaluate_exact(_graph("max(x, y, z) + sum(x, y) + where(x > y, x, y) + clamp(x, 0, 1)"),
                       {"x": "1/3", "y": "1/2", "z": "1/4"})
    assert r.gradient == {"x": Fraction(2), "y": Fraction(3), "z": Fraction(0)}
    j = jacobian(autodiff.parse("c = x*y; c = c + x; d = c*c"), {"x": 1.0, "y": 2.0}, ["all"])
    assert j.outputs == ["c", "c#2", "d"] and j.matrix == [[2.0, 1.0], [3.0, 1.0], [18.0, 6.0]]


def _mp_taylor(expr: sp.Expr, t: sp.Symbol, at: float, order: int) -> list[float]:
    """Taylor coefficients of a SymPy expression, by mpmath at 50 digits (SymPy's
    own numerics; its symbolic diff of pow to order 10 takes seconds)."""
    mpmath.mp.dps = 50
    f = sp.lambdify(t, expr, "mpmath")
    return [float(c) for c in mpmath.taylor(f, mpmath.mpf(at), order)]


def _row_series_points() -> list[tuple[str, int, tuple[float, ...]]]:
    from test_ops import POINTS

    return [(name, arity, pts[0]) for (name, arity), pts in sorted(POINTS.items())]


@pytest.mark.parametrize("name, arity, point", _row_series_points(),
                         ids=lambda p: str(p) if isinstance(p, (str, int)) else "")
def test_each_rows_taylor_rule_against_sympy_to_order_10(name: str, arity: int,
                                                         point: tuple[float, ...]) -> None:
    """Along the line x_k = p_k + d_k t, the row's series equals SymPy's
    derivatives of the same function (tests/conftest.py's mapping) divided by k!."""
    from autodiff.ops import FUNCTIONS, OPERATORS

    from conftest import sympy_functions

    op = FUNCTIONS.get((name, arity)) or OPERATORS[name]
    order = 10
    d = [1.0, -0.5][:arity]
    t = sp.Symbol("t")
    fn = sympy_functions().get(name) or {
        "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
        "div": lambda a, b: a / b, "neg": lambda a: -a, "mod": None}[name]
    line = [sp.Rational(p) + sp.Rational(dk) * t for p, dk in zip(point, d, strict=True)]
    if name in ("abs", "relu", "min", "max"):  # piecewise: the branch taken at the point
        expr = fn(*point) if fn(*point) == 0 else line[list(point).index(fn(*point))]
        expr = -line[0] if name == "abs" and point[0] < 0 else expr
    elif name in ("floor", "ceil", "round", "trunc", "sign"):  # constant between the jumps
        expr = sp.Integer(0) * t + op.value(*point)
    elif name == "mod":  # x - y*floor(x/y), floor(x/y) constant nearby
        expr = line[0] - line[1] * math.floor(point[0] / point[1])
    else:
        expr = fn(*line)
    got = op.taylor(*[[float(p), dk] + [0.0] * (order - 1) for p, dk in zip(point, d, strict=True)])
    wanted = _mp_taylor(expr, t, 0, order)
    for k in range(order + 1):
        want = wanted[k]
        assert_close(got[k], want, rel=1e-11, abs_=1e-13, what=f"{name} c_{k} at {point}")


def test_tanh_to_order_10_agrees_with_sympy() -> None:
    r = taylor(_graph("tanh(x)"), {"x": 0.5}, "x", 10)
    x = sp.Symbol("x")
    for k, got in enumerate(r.derivatives):
        want = float(sp.diff(sp.tanh(x), x, k).subs(x, sp.Rational(1, 2)).evalf(40))  # symbolic
        assert abs(got - want) <= 1e-12 * abs(want), (k, got, want)


@pytest.mark.parametrize("program, point", [CORPUS[i] for i in (3, 7, 13, 17, 20, 25, 30, 39)],
                         ids=[IDS[i] for i in (3, 7, 13, 17, 20, 25, 30, 39)])
def test_program_taylor_series_against_sympy(program: str, point: dict[str, float]) -> None:
    expr, symbols = sympy_program(program)
    var = next(iter(point))
    r = taylor(_graph(program), point, var, 8)
    subs = {symbols[k]: sp.Rational(v) for k, v in point.items() if k != var}
    wanted = _mp_taylor(expr.subs(subs), symbols[var], point[var], 8)
    for k, got in enumerate(r.derivatives):
        want = wanted[k] * math.factorial(k)
        assert_close(got, want, rel=1e-9, abs_=1e-10, what=f"d^{k}/d{var}^{k} of {program}")


def test_order_20_of_a_polynomial_and_exp() -> None:
    r = taylor(_graph("x^5 - 3*x^2 + exp(2*x)"), {"x": 0.0}, "x", 20)
    assert r.derivatives[:6] == [1.0, 2.0, 4.0 - 6.0, 8.0, 16.0, 120.0 + 32.0]
    for k in range(6, 21):
        assert_close(r.derivatives[k], 2.0 ** k, rel=1e-13)


def test_kinks_follow_the_first_order_conventions() -> None:
    h = hessian(_graph("abs(x)*y + relu(y)"), {"x": 0.0, "y": 0.0})
    assert h.matrix == [[0.0, 0.0], [0.0, 0.0]]
    assert h.conventions  # abs'(0) = 0 and relu'(0) = 0 are reported
    t = taylor(_graph("max(x, 1)"), {"x": 1.0}, "x", 3)
    assert t.coefficients == [1.0, 0.5, 0.0, 0.0]  # a tie: half each, as the adjoints


def test_errors_name_the_node() -> None:
    with pytest.raises(autodiff.EvaluationError) as e:
        taylor(_graph("u = sqrt(x); u*u"), {"x": 0.0}, "x", 3)
    assert "u = sqrt(x)" in str(e.value) or "sqrt" in str(e.value)
    with pytest.raises(autodiff.EvaluationError) as e2:
        taylor(_graph("x^1.5"), {"x": 0.0}, "x", 3)
    assert e2.value.kind == "derivative"
    with pytest.raises(autodiff.EvaluationError):
        hessian(_graph("log(x)"), {"x": 0.0})


def test_taylor_cost_grows_as_n_squared_not_exponentially() -> None:
    # order 60 of a 200-deep chain finishes (nested reverse mode would need 2^60 sweeps)
    program = "; ".join(["a0 = x"] + [f"a{k} = sin(a{k - 1}) + a{k - 1}*x" for k in range(1, 200)])
    r = taylor(autodiff.parse(program), {"x": 0.1}, "x", 60)
    assert len(r.derivatives) == 61 and all(math.isfinite(c) for c in r.coefficients)
