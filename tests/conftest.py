"""Shared helpers: the CLI through click's CliRunner, and central differences."""

from __future__ import annotations

import json
import math
from typing import Any, Callable, Sequence

import pytest
from click.testing import CliRunner, Result

from autodiff.cli import cli


@pytest.fixture
def run() -> Callable[..., Result]:
    """run("eval", "J=3*(a+b*c)", "--a", "5") -> click Result (stdout, stderr apart)."""

    def invoke(*args: str, input: str | bytes | None = None) -> Result:
        runner = CliRunner()
        return runner.invoke(cli, list(args), input=input, catch_exceptions=False)

    return invoke


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
