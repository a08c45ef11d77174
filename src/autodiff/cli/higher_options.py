"""The options of `autodiff eval` beyond one gradient (issue 11), declared
here so that eval's plain path loads nothing more; the work is in
cli/higher.py, imported only when one of them is given."""

from __future__ import annotations

from typing import Any

import click

__all__ = ["higher_options", "wants_higher"]


def wants_higher(params: dict[str, Any]) -> bool:
    """Whether eval was given one of this module's options."""
    output = params.get("output") or ""
    return bool(params.get("mode") not in (None, "reverse") or params.get("seed")
                or params.get("hessian") or params.get("hvp") or params.get("order") is not None
                or params.get("exact") or "," in output or output == "all")


def higher_options(fn: Any) -> Any:
    """eval's options of issue 11, in one decorator."""
    decorators = [
        click.option("--mode", type=click.Choice(["reverse", "forward", "both"]), default=None,
                     help="reverse (default): one sweep gives the whole gradient; forward: "
                     "tangents left to right (one sweep per input, or one along --seed); "
                     "both: the two side by side with their numbers of sweeps."),
        click.option("--seed", metavar="x=1,y=0", help="With --mode forward: the direction of "
                     "the tangent sweep (inputs not named are 0); its table has a tangent column."),
        click.option("--hessian", is_flag=True, help="The matrix of second partial derivatives "
                     "(forward over reverse: one tangent pass through the reverse sweep per input)."),
        click.option("--hvp", metavar="x=1,y=0", help="The Hessian-vector product H·v, "
                     "without building the Hessian."),
        click.option("--order", type=click.IntRange(0, 100), metavar="N", help="f, f', ..., "
                     "f^(N) along one variable (--wrt NAME), by Taylor series in one pass."),
        click.option("--wrt", metavar="NAME", help="The variable of --order (default: the "
                     "output's only input)."),
        click.option("--exact", type=click.Choice(["on", "auto"]), is_flag=False, flag_value="on",
                     default=None, metavar="[=auto]", help="Rational arithmetic (values like 1/3 "
                     "and 0.1 read exactly): an operation that leaves the rationals is an error, "
                     "or with --exact=auto is computed in floating point and marked."),
    ]
    for d in reversed(decorators):
        fn = d(fn)
    return fn
