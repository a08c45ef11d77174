"""autodiff.compile: value and gradient over NumPy arrays, checked against the
scalar interpreter (`evaluate`) point by point."""

from __future__ import annotations

import math
import pickle
import re
import subprocess
import sys

import pytest

np = pytest.importorskip("numpy")

from test_ops import POINTS  # noqa: E402
from test_sympy_corpus import CORPUS  # noqa: E402

import autodiff  # noqa: E402
from autodiff.arrays import NotVectorizable, numpy_kernel  # noqa: E402
from autodiff.ops import NUMPY_NAMES, OPS, Op, Partial  # noqa: E402

EPS = 2.0**-52


def test_every_row_has_a_numpy_spelling() -> None:
    for op in OPS:
        assert op.np is not None, f"{op.name}: add np=... to its row (NumPy source of the value rule)"
        for k, p in enumerate(op.partials):
            assert p.np is not None or p.const in (1.0, -1.0), \
                f"{op.name}: partial {k} needs np=... (NumPy source of its rule)"


def test_a_row_without_numpy_spelling_is_refused_by_name() -> None:
    graph = autodiff.parse("f = sin(x) * y").select(None)
    sin = next(op for op in OPS if op.name == "sin")
    bare = Op("mysin", ("x",), lambda x: math.sin(x), (Partial(lambda x, out: math.cos(x), "cos(x)"),))
    assert bare.np is None
    graph.op = [bare if op is sin else op for op in graph.op]
    with pytest.raises(NotVectorizable, match="mysin"):
        numpy_kernel(graph)


def _np_eval(source: str, args: tuple[float, ...], out: float = 0.0) -> float:
    namespace = {"np": np, **NUMPY_NAMES}
    names = [f"a{k}" for k in range(len(args))]
    text = source.format(*names, out="out")
    local = {**dict(zip(names, map(np.float64, args), strict=True)), "out": out}
    with np.errstate(all="ignore"):
        return float(eval(text, namespace, local))  # noqa: S307 - the ops table's own source


@pytest.mark.parametrize("key", sorted(POINTS), ids=lambda k: f"{k[0]}/{k[1]}")
def test_numpy_spellings_match_the_rules(key: tuple[str, int]) -> None:
    """Each row's np source (the value and every local derivative) against its
    scalar rule at the table's test points: within 2 ulps."""
    op = next(o for o in OPS if (o.name, o.arity) == key)
    for point in POINTS[key]:
        out = op.value(*point)
        got = _np_eval(op.np, point)
        assert abs(got - out) <= 2 * math.ulp(out), (op.name, point, got, out)
        for k, p in enumerate(op.partials):
            want = p.fn(*point, out)
            got = float(p.const) if p.np is None else _np_eval(p.np, point, out)
            assert abs(got - want) <= 2 * math.ulp(want), (op.name, k, point, got, want)


def _tolerance(program: str, point: dict[str, float]) -> float:
    """About an ulp per operation of the largest magnitude the scalar sweeps
    meet (a value or an adjoint): how far two correctly implemented
    evaluations may drift apart."""
    graph = autodiff.parse(program).select(None)
    r = autodiff.evaluate(graph, point)
    scale = max([abs(v) for v in r.values] + [abs(a) for a in r.adjoints] + [1e-300])
    ops = sum(op is not None for op in graph.op)
    return 4 * ops * EPS * scale


@pytest.mark.parametrize("program, point", CORPUS, ids=[c[0][:40] for c in CORPUS])
def test_corpus_at_random_points_matches_evaluate(program: str, point: dict[str, float]) -> None:
    """The SymPy corpus at 64 random points near each listed one: every point
    either agrees with `evaluate` (value and gradient, an ulp per operation)
    or fails with the same error kind and message."""
    rng = np.random.default_rng(len(program))
    f = autodiff.compile(program)
    n = 64
    cols = {v: float(point[v]) * rng.uniform(0.8, 1.2, n) for v in f.variables}
    r = f(cols)
    graph = autodiff.parse(program).select(None)
    for i in range(n):
        p = {v: float(cols[v][i]) for v in f.variables}
        try:
            want = autodiff.evaluate(graph, p)
        except autodiff.AutodiffError as exc:
            assert r.failed[i] and r.kinds[i] == exc.kind and r.errors[i].message == exc.message
            continue
        assert not r.failed[i]
        tol = _tolerance(program, p)
        assert abs(r.value[i] - want.value) <= tol, (p, r.value[i], want.value)
        for v, g in want.gradient.items():
            assert abs(r.gradient[v][i] - g) <= tol, (v, p, r.gradient[v][i], g)


def test_errors_at_some_points_do_not_stop_the_others() -> None:
    f = autodiff.compile("f = log(x) + 1/y + exp(z) + sqrt(w)")
    x = np.array([1.0, -1.0, 2.0, 1.0, 1.0, 3.0])
    y = np.array([1.0, 1.0, 0.0, 1.0, 1.0, 2.0])
    z = np.array([0.0, 0.0, 0.0, 1000.0, 0.0, 1.0])
    w = np.array([1.0, 1.0, 1.0, 1.0, 0.0, 4.0])
    r = f(x=x, y=y, z=z, w=w)
    assert r.failed.tolist() == [False, True, True, True, True, False]
    assert r.kinds.tolist() == ["", "domain", "division_by_zero", "overflow", "derivative", ""]
    graph = autodiff.parse("f = log(x) + 1/y + exp(z) + sqrt(w)").select(None)
    for i in (1, 2, 3, 4):
        with pytest.raises(autodiff.AutodiffError) as info:
            autodiff.evaluate(graph, {"x": x[i], "y": y[i], "z": z[i], "w": w[i]})
        assert r.errors[i].message == info.value.message
    assert math.isnan(r.value[1]) and math.isnan(r.gradient["x"][1])
    assert r.value[5] == math.log(3.0) + 0.5 + math.exp(1.0) + 2.0
    assert r.gradient["w"][5] == 0.25 and r.gradient["y"][5] == -0.25


def test_a_non_finite_input_is_a_binding_error_at_that_point() -> None:
    f = autodiff.compile("x*y")
    r = f(np.array([1.0, np.nan, np.inf]), 2.0)
    assert r.failed.tolist() == [False, True, True]
    assert set(r.kinds.tolist()) == {"", "binding"}
    assert r.value[0] == 2.0 and r.gradient["y"][0] == 1.0


def test_the_ways_to_pass_columns() -> None:
    f = autodiff.compile("f = x*y + sin(x)")
    assert f.variables == ("x", "y") and f.output == "f"
    x, y = np.array([0.5, 1.0, 2.0]), np.array([3.0, -1.0, 0.25])
    ref = f(x, y)
    for r in (f(x=x, y=y), f({"x": x, "y": y, "unused": x}), f(np.column_stack([x, y])),
              f([0.5, 1.0, 2.0], [3.0, -1.0, 0.25])):
        assert r.value.tolist() == ref.value.tolist()
        assert r.gradient["x"].tolist() == ref.gradient["x"].tolist()
    assert ref.value.tolist() == [x[i] * y[i] + math.sin(x[i]) for i in range(3)]
    assert ref.gradient["x"].tolist() == [y[i] + math.cos(x[i]) for i in range(3)]
    grid = f(np.linspace(0, 1, 6).reshape(2, 3), 2.0)  # broadcasting, shape kept
    assert grid.value.shape == (2, 3) and grid.gradient["y"].shape == (2, 3)
    assert f(1.5, 2.0).value.shape == ()
    with pytest.raises(autodiff.BindingError, match="does not use z"):
        f(x=x, y=y, z=x)
    with pytest.raises(autodiff.BindingError, match="no values for y"):
        f(x=x)
    with pytest.raises(autodiff.BindingError, match="one column per variable"):
        f(np.ones((3, 3)))


def test_output_constant_and_variable_outputs() -> None:
    r = autodiff.compile("a = x*2; b = 7; c = x").__call__(np.array([1.0, 2.0]))
    assert r.value.tolist() == [1.0, 2.0] and r.gradient["x"].tolist() == [1.0, 1.0]
    f = autodiff.compile("a = x*2; b = y + 1", output="a")
    assert f.variables == ("x",) and f(np.array([3.0])).value.tolist() == [6.0]


def test_pickles_as_its_program_and_compiles_again() -> None:
    f = autodiff.compile("f = x*y + sin(x)")
    data = pickle.dumps(f)
    assert len(data) < 300  # the program text, not the compiled code
    g = pickle.loads(data)
    x = np.linspace(-1, 1, 5)
    assert g(x, 2.0).value.tolist() == f(x, 2.0).value.tolist()
    assert "np.sin" in g.source


def test_eval_does_not_import_numpy() -> None:
    """`autodiff eval` keeps its cold start: NumPy is imported only on the
    array paths."""
    code = ("import sys; from autodiff.cli import main; sys.argv = ['autodiff', 'eval', 'x*y', "
            "'--x', '2', '--y', '3']\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
            "print('numpy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("False")


def test_no_user_text_reaches_the_generated_source() -> None:
    """Names and numbers the user writes never reach the kernel's source: locals
    are named by node index, constants re-printed from parsed doubles."""
    program = ("__import__ = os*np + exec; system = sin(__import__) * 1.5e300 / eval_ + "
               "0.1000000000000000055511151231257827; rm_rf = system - 7")
    f = autodiff.compile(program)
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", f.source))
    allowed = {"def", "columns", "return", "np", "c", "e", *NUMPY_NAMES, "sin", "cos"}
    assert {w for w in words if not re.fullmatch(r"[vgr][0-9]+", w)} <= allowed, words
    assert "0.1" in f.source and "1.5e+300" in f.source
    r = f(os=2.0, np=3.0, exec=1.0, eval_=4.0)
    assert r.value == math.sin(7.0) * 1.5e300 / 4.0 + 0.1 - 7


def test_module_example() -> None:
    import doctest

    import autodiff.arrays

    assert doctest.testmod(autodiff.arrays).failed == 0


def test_rows_without_a_numpy_form_run_point_by_point_with_the_same_numbers() -> None:
    """sum and max of many arguments have no NumPy form: autodiff.compile runs
    the scalar compiled sweeps point by point instead of refusing, with eval's
    numbers (bit for bit) and eval's error kinds."""
    program = "J = max(a, b, c) + sum(a, b, c)*log(a)"
    f = autodiff.compile(program)
    cols = {"a": np.array([1.5, 2.0, 0.5, -1.0]), "b": np.array([3.0, 2.0, -1.0, 0.0]),
            "c": np.array([0.0, 2.0, 0.5, 1.0])}
    r = f(**cols)
    assert list(r.failed) == [False, False, False, True]
    assert list(r.kinds) == ["", "", "", "domain"]
    for k in range(3):
        want = autodiff.differentiate(program, {v: float(c[k]) for v, c in cols.items()}, keep_local=False)
        assert r.value[k] == want.value
        assert {v: r.gradient[v][k] for v in "abc"} == want.gradient
