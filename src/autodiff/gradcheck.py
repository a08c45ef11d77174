"""Gradient checking: each partial derivative against a central difference.

For each variable x the output depends on, with the other variables fixed:

    h       = EPS * max(1, |x|)                      (EPS = 1e-6)
    numeric = (f(x + h) - f(x - h)) / ((x + h) - (x - h))

(the denominator is the step actually taken after rounding). The analytic
partial is the reverse sweep's. They agree when

    |analytic - numeric| <= ATOL + RTOL * |numeric|     (ATOL = 1e-5, RTOL = 1e-3)

the rule of PyTorch's `torch.autograd.gradcheck` with its default tolerances.
The report also gives the relative error |analytic - numeric| / max(|analytic|,
|numeric|) (0 when both are 0).

Next to a domain boundary (sqrt(x) at 1e-7: x - h < 0) or the end of the
double range (x + h overflows), where f is defined on one side only, the
check falls back to a one-sided second-order difference on the defined side,

    numeric = (-3 f(x) + 4 f(x ± k) - f(x ± 2k)) / (±2k)      k = EPS * |x|

(a step scaled to x itself, so that it stays inside the domain), and says so
(`Check.difference`, "forward" or "backward"). Where f is not defined on
either side, or the point is a kink (abs at 0, relu at 0, a min/max tie: the
one-sided slopes differ, so no difference quotient matches the convention),
the check fails and says so.

The cost is two evaluations of the program per variable; a program where
that exceeds MAX_WORK node evaluations (100,000 variables of a 200,000-node
graph: 4e10) is refused with a clear message instead of running for hours.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Optional

from .errors import AutodiffError, UsageProblem
from .evaluate import Result, forward
from .graph import Graph
from .numfmt import json_number

__all__ = ["EPS", "ATOL", "RTOL", "MAX_WORK", "Check", "gradcheck", "gradcheck_dict"]

EPS = 1e-6
ATOL = 1e-5
RTOL = 1e-3
#: the most node evaluations a gradient check may take (a few seconds)
MAX_WORK = 50_000_000


@dataclass(frozen=True)
class Check:
    variable: str
    analytic: float
    numeric: Optional[float]  # None when f failed at x ± h
    step: float
    relative_error: Optional[float]
    passed: bool
    note: str = ""
    #: "central", or "forward"/"backward": a one-sided difference where f is
    #: defined on that side of x only
    difference: str = "central"


def _value(graph: Graph, bindings: dict[str, float]) -> float:
    return forward(graph, bindings)[graph.output]


def gradcheck(result: Result, *, eps: float = EPS, atol: float = ATOL, rtol: float = RTOL,
              max_work: Optional[int] = MAX_WORK) -> list[Check]:
    """Check each partial derivative of an evaluated `result`."""
    graph = result.graph
    work = 2 * len(result.gradient) * (graph.output + 1)
    if max_work is not None and work > max_work:
        raise UsageProblem(f"the gradient check would evaluate the program twice for each of its "
                           f"{len(result.gradient):,} variables ({graph.output + 1:,} nodes each: "
                           f"{work:,} node evaluations), more than the limit of {max_work:,}; check "
                           "a smaller program, or an intermediate with --of")
    checks = []
    for name, analytic in result.gradient.items():
        x = result.bindings[name]
        h = eps * max(1.0, abs(x))
        numeric, why = _central(graph, result.bindings, name, x, h)
        step, difference = h, "central"
        if numeric is None:
            numeric, step, difference = _one_sided(graph, result, name, x, eps)
            if numeric is None:
                checks.append(Check(name, analytic, None, h, None, False,
                                    f"f is not defined at {name} ± h: {why}"))
                continue
        assert numeric is not None
        diff = abs(analytic - numeric)
        scale = max(abs(analytic), abs(numeric))
        rel = diff / scale if scale > 0.0 else 0.0
        passed = diff <= atol + rtol * abs(numeric)
        note = ""
        if difference != "central":
            side = f"{name} - h" if difference == "forward" else f"{name} + h"
            note = (f"a one-sided ({difference}) difference with step {step:.3g}: f is not defined "
                    f"at {side}: {why}")
        if not passed and any(i in result.conventions for i in range(len(graph))):
            note = "a convention was applied at a non-differentiable point (see the node's conventions)"
        checks.append(Check(name, analytic, numeric, step, rel, passed, note, difference))
    return checks


def _at(graph: Graph, bindings: dict[str, float], name: str, x: float) -> float:
    """f with `name` set to x (AutodiffError where f is not defined there)."""
    if not math.isfinite(x):
        raise _Outside("the step leaves the range of doubles")
    point = dict(bindings)
    point[name] = x
    return _value(graph, point)


class _Outside(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _central(graph: Graph, bindings: dict[str, float], name: str, x: float, h: float
             ) -> tuple[Optional[float], str]:
    """The central difference, or None and why f is not defined at x ± h."""
    up, down = x + h, x - h
    try:
        numeric = (_at(graph, bindings, name, up) - _at(graph, bindings, name, down)) / (up - down)
    except (AutodiffError, _Outside) as exc:
        return None, exc.message
    if not math.isfinite(numeric):
        return None, "the difference overflows"
    return numeric, ""


def _one_sided(graph: Graph, result: Result, name: str, x: float, eps: float
               ) -> tuple[Optional[float], float, str]:
    """The second-order one-sided difference on whichever side f is defined:
    (numeric or None, step, "forward" or "backward")."""
    k = eps * abs(x) if x != 0.0 else eps
    for sign, difference in ((1.0, "forward"), (-1.0, "backward")):
        x1, x2 = x + sign * k, x + sign * 2 * k
        try:
            f1 = _at(graph, result.bindings, name, x1)
            f2 = _at(graph, result.bindings, name, x2)
        except (AutodiffError, _Outside):
            continue
        # (-3 f0 + 4 f1 - f2, written so that nothing overflows near the largest
        # double; x2 - x: the signed step 2k as taken, after rounding)
        f0 = result.value
        numeric = (4.0 * (f1 - f0) - (f2 - f0)) / (x2 - x)
        if math.isfinite(numeric):
            return numeric, abs(x1 - x), difference
    return None, k, "central"


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
        if c.difference != "central":
            entry["difference"] = c.difference
        if c.note:
            entry["note"] = c.note
        variables[c.variable] = entry
    return {"passed": all(c.passed for c in checks), "eps": eps, "atol": atol, "rtol": rtol,
            "variables": variables}
