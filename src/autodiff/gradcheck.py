"""Gradient checking: each partial derivative against a central difference.

For each variable x the output depends on, with the other variables fixed:

    h       = EPS * max(1, |x|)                      (EPS = 1e-6)
    numeric = (f(x + h) - f(x - h)) / ((x + h) - (x - h))

(the denominator is the step actually taken after rounding). The analytic
partial is the reverse sweep's. They agree when

    |analytic - numeric| <= ATOL + RTOL * |numeric|     (ATOL = 1e-5, RTOL = 1e-3)

the rule of PyTorch's `torch.autograd.gradcheck` with its default tolerances.
The report also gives the relative error |analytic - numeric| / max(|analytic|,
|numeric|) (0 when both are 0). Where f is not defined at x ± h, or the point
is a kink (abs at 0, relu at 0, a min/max tie: the one-sided slopes differ, so
no difference quotient matches the convention), the check fails and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from .errors import AutodiffError
from .evaluate import Result, forward
from .graph import Graph
from .numfmt import json_number

__all__ = ["EPS", "ATOL", "RTOL", "Check", "gradcheck", "gradcheck_dict"]

EPS = 1e-6
ATOL = 1e-5
RTOL = 1e-3


@dataclass(frozen=True)
class Check:
    variable: str
    analytic: float
    numeric: Optional[float]  # None when f failed at x ± h
    step: float
    relative_error: Optional[float]
    passed: bool
    note: str = ""


def _value(graph: Graph, bindings: dict[str, float]) -> float:
    return forward(graph, bindings)[graph.output]


def gradcheck(result: Result, *, eps: float = EPS, atol: float = ATOL, rtol: float = RTOL
              ) -> list[Check]:
    """Check each partial derivative of an evaluated `result`."""
    graph = result.graph
    checks = []
    for name, analytic in result.gradient.items():
        x = result.bindings[name]
        h = eps * max(1.0, abs(x))
        up, down = dict(result.bindings), dict(result.bindings)
        up[name], down[name] = x + h, x - h
        step = up[name] - down[name]
        try:
            numeric: Optional[float] = (_value(graph, up) - _value(graph, down)) / step
        except AutodiffError as exc:
            checks.append(Check(name, analytic, None, h, None, False,
                                f"f is not defined at {name} ± h: {exc.message}"))
            continue
        assert numeric is not None
        diff = abs(analytic - numeric)
        scale = max(abs(analytic), abs(numeric))
        rel = diff / scale if scale > 0.0 else 0.0
        passed = diff <= atol + rtol * abs(numeric)
        note = ""
        if not passed and any(i in result.conventions for i in range(len(graph))):
            note = "a convention was applied at a non-differentiable point (see the node's conventions)"
        checks.append(Check(name, analytic, numeric, h, rel, passed, note))
    return checks


def gradcheck_dict(checks: list[Check], *, eps: float = EPS, atol: float = ATOL,
                   rtol: float = RTOL) -> dict[str, Any]:
    """The `gradcheck` object of the JSON output."""
    variables: dict[str, Any] = {}
    for c in checks:
        entry: dict[str, Any] = {
            "analytic": json_number(c.analytic),
            "numeric": None if c.numeric is None else json_number(c.numeric),
            "step": json_number(c.step),
            "relative_error": None if c.relative_error is None else json_number(c.relative_error),
            "passed": c.passed,
        }
        if c.note:
            entry["note"] = c.note
        variables[c.variable] = entry
    return {"passed": all(c.passed for c in checks), "eps": eps, "atol": atol, "rtol": rtol,
            "variables": variables}
