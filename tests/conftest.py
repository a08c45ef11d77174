"""Shared helpers: the CLI through click's CliRunner, and central differences."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any, Callable, Sequence

import pytest
from click.testing import CliRunner, Result

from autodiff.cli import cli

#: what the output may depend on, pinned for every test (so that the suite passes whatever the
#: terminal, locale and folder it is run from): width, colour, terminal type, locale
_UNSET = ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR", "CLICOLOR", "CLICOLOR_FORCE",
          "TTY_COMPATIBLE", "TTY_INTERACTIVE", "JUPYTER_COLUMNS", "JUPYTER_LINES", "LANG",
          "LANGUAGE", "LC_CTYPE", "LC_NUMERIC", "PYTHONIOENCODING")


@pytest.fixture(autouse=True)
def pinned_environment(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
                       ) -> None:
    for name in _UNSET:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))  # a test that needs a folder says which


@pytest.fixture
def run() -> Callable[..., Result]:
    """run("eval", "J=3*(a+b*c)", "--a", "5") -> click Result (stdout, stderr apart)."""

    def invoke(*args: str, input: str | bytes | None = None) -> Result:
        runner = CliRunner()
        return runner.invoke(cli, list(args), input=input, catch_exceptions=False)

    return invoke


_VALIDATOR: Any = None


def valid(doc: dict[str, Any]) -> dict[str, Any]:
    """`doc`, after checking it against schema/result.schema.json."""
    global _VALIDATOR
    if _VALIDATOR is None:
        import jsonschema

        schema = json.loads((Path(__file__).resolve().parents[1] / "schema" / "result.schema.json")
                            .read_text(encoding="utf-8"))
        _VALIDATOR = jsonschema.Draft202012Validator(schema)
    _VALIDATOR.validate(doc)
    return doc


def run_json(run: Callable[..., Result], *args: str) -> dict[str, Any]:
    res = run("eval", *args, "--json")
    assert res.exit_code == 0, res.stderr
    return json.loads(res.stdout)


def central_difference(f: Callable[..., float], point: Sequence[float], k: int,
                       h: float | None = None) -> float:
    """∂f/∂x_k at point by a central difference with a step scaled to x_k."""
    x = list(point)
    step = h if h is not None else 1e-6 * max(1.0, abs(x[k]))
    up, down = list(x), list(x)
    up[k] += step
    down[k] -= step
    return (f(*up) - f(*down)) / (up[k] - down[k])


def assert_close(got: float, want: float, rel: float = 1e-9, abs_: float = 1e-12, what: str = "") -> None:
    ok = math.isclose(got, want, rel_tol=rel, abs_tol=abs_)
    assert ok, f"{what}: got {got!r}, want {want!r} (difference {got - want:.3g})"


# ---- SymPy as an oracle: it parses the same text with its own parser

def _sympy():
    import sympy as sp

    return sp


_STEPS: dict[str, Any] = {}


def _steps() -> dict[str, Any]:
    """floor and ceiling with derivative 0 (SymPy leaves Derivative(floor(x), x)
    unevaluated, and Mod's derivative too): away from the jumps, which the
    tests avoid, that is the derivative."""
    if not _STEPS:
        sp = _sympy()

        class Floor(sp.floor):
            def fdiff(self, argindex: int = 1) -> Any:
                return sp.S.Zero

        class Ceiling(sp.ceiling):
            def fdiff(self, argindex: int = 1) -> Any:
                return sp.S.Zero

        _STEPS.update(floor=Floor, ceiling=Ceiling)
    return _STEPS


def sympy_functions() -> dict[str, Any]:
    sp = _sympy()
    floor, ceiling = _steps()["floor"], _steps()["ceiling"]
    return {
        "exp": sp.exp, "log": lambda x, b=None: sp.log(x) if b is None else sp.log(x) / sp.log(b),
        "log2": lambda x: sp.log(x) / sp.log(2), "log10": lambda x: sp.log(x) / sp.log(10),
        "log1p": lambda x: sp.log(1 + x), "expm1": lambda x: sp.exp(x) - 1,
        "sqrt": sp.sqrt, "abs": sp.Abs, "sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "asin": sp.asin,
        "acos": sp.acos, "atan": sp.atan, "atan2": sp.atan2, "sinh": sp.sinh, "cosh": sp.cosh,
        "tanh": sp.tanh, "sigmoid": lambda x: 1 / (1 + sp.exp(-x)), "relu": lambda x: sp.Max(x, 0),
        "softplus": lambda x: sp.log(1 + sp.exp(x)), "pow": lambda x, y: x**y, "min": sp.Min,
        "max": sp.Max, "pi": sp.pi, "e": sp.E,
        # issue 10's functions (x % y: see sympy_program)
        "floor": floor, "ceil": ceiling, "round": lambda x: floor(x + sp.Rational(1, 2)),
        "trunc": lambda x: sp.Piecewise((floor(x), x >= 0), (ceiling(x), True)),
        "sign": sp.sign, "cbrt": lambda x: sp.real_root(x, 3), "exp2": lambda x: 2**x,
        "asinh": sp.asinh, "acosh": sp.acosh, "atanh": sp.atanh, "sec": sp.sec, "csc": sp.csc,
        "cot": sp.cot, "erf": sp.erf, "erfc": sp.erfc, "lgamma": lambda x: sp.log(sp.Abs(sp.gamma(x))),
        "digamma": sp.digamma, "sinc": lambda x: sp.sinc(sp.pi * x), "radians": lambda x: x * sp.pi / 180,
        "degrees": lambda x: x * 180 / sp.pi, "logaddexp": lambda x, y: sp.log(sp.exp(x) + sp.exp(y)),
        # (x*log(y) is 0 at x = 0 for y > 0, and its derivative there is log(y); a
        # Piecewise((0, Eq(x, 0)), ...) would differentiate the constant branch)
        "xlogy": lambda x, y: x * sp.log(y),
        # issue 10's functions of many arguments (and hypot of more than two)
        "sum": lambda *xs: sp.Add(*xs), "mean": lambda *xs: sp.Add(*xs) / len(xs),
        "prod": lambda *xs: sp.Mul(*xs), "hypot": lambda *xs: sp.sqrt(sum(x**2 for x in xs)),
        "norm": lambda *xs: sp.sqrt(sum(x**2 for x in xs)),
        "logsumexp": lambda *xs: sp.log(sum(sp.exp(x) for x in xs)),
        "clamp": lambda x, lo, hi: sp.Min(sp.Max(x, lo), hi),
    }


def sympy_program(text: str) -> tuple[Any, dict[str, Any]]:
    """The program as a SymPy expression of its variables (statements substituted)."""
    sp = _sympy()
    env: dict[str, object] = sympy_functions()
    symbols: dict[str, Any] = {}
    last = None
    for stmt in re.split(r"[;\n]", text):
        stmt = stmt.strip()
        if not stmt:
            continue
        name, expr = ("f", stmt)
        m = re.match(r"^([A-Za-z_]\w*)\s*=(.*)$", stmt)
        if m:
            name, expr = m.group(1), m.group(2)
        for ident in re.findall(r"[A-Za-z_]\w*", expr):
            if ident not in env:
                symbols[ident] = sp.Symbol(ident, real=True)
                env[ident] = symbols[ident]
        last = sp.parse_expr(expr.replace("^", "**"), local_dict=env)
        # x % y is Mod(x, y), which SymPy does not differentiate: x - y*floor(x/y)
        last = last.replace(sp.Mod, lambda p, q: p - q * _steps()["floor"](p / q))
        env[name] = last
    assert last is not None
    return last, symbols
