"""`autodiff functions`: the operations table as a help page, written from
ops.OPS (a new row appears here by itself)."""

from __future__ import annotations

import re

import click

from ..ops import CLAMP, COMPARISONS, CONSTANTS, OPS, VARIADIC, WHERE, Op
from .common import guarded


def _head(op: Op) -> str:
    if op.symbol:
        return op.doc.split(",")[0] if op.doc else op.name
    return f"{op.name}({', '.join(op.params)})"


def functions_text() -> str:
    """One block per operation: how it is written, its number of arguments,
    its local derivatives and where it is defined."""
    rows = []
    for op in OPS:
        noun = "argument" if len(op.params) == 1 else "arguments"
        what = f"{len(op.params)} {noun}"
        if op.symbol:
            rest = op.doc[len(_head(op)):].lstrip(", ") if op.doc else ""
            spelt = re.match(r"[a-z]\b|\w+\(", rest)  # x ** y, pow(x, y): other spellings
            what = f"operator, {what}" + (f"; {'also written ' if spelt else ''}{rest}" if rest else "")
        elif op.doc:
            what += f": {op.doc}"
        derivatives = "; ".join(f"∂/∂{p} = {partial.formula}"
                                for p, partial in zip(op.params, op.partials, strict=True))
        rows += [f"{_head(op)}    ({what})", f"    {derivatives}",
                 f"    defined for {op.domain or 'all reals'}"]
    for op in (CLAMP, WHERE):
        derivatives = "; ".join(f"∂/∂{p} = {partial.formula}"
                                for p, partial in zip(op.params, op.partials, strict=True))
        rows += [f"{_head(op)}    (3 arguments: {op.doc})", f"    {derivatives}",
                 "    defined for all reals"]
    for v in VARIADIC.values():
        each = v.each_formula.replace("{k}", "xk").replace("{args}", "x1, ..., xn").replace("{n}", "n")
        rows += [f"{v.name}(x1, ..., xn)    ({v.min_args} or more arguments: {v.doc})",
                 f"    ∂/∂xk = {each}",
                 "    defined for all reals"]
    symbols = " ".join(op.symbol for op in COMPARISONS)
    rows += [f"x {symbols} y    (comparisons: 1 if true, else 0; they do not chain)",
             "    ∂/∂x = 0; ∂/∂y = 0 (flagged at x = y, where they jump)", "    defined for all reals"]
    constants = ", ".join(f"{name} = {value!r}" for name, value in CONSTANTS.items())
    return ("Operators, from the loosest to the tightest: the comparisons < <= > >= == != (which do\n"
            "not chain), + - (left to right), * / % (left to right),\n"
            "unary - and +, then ^ and ** (right to left: 2^3^x is 2^(3^x), -x^2 is -(x^2)).\n"
            f"Constants: {constants} (ordinary names in a program that assigns or binds them).\n\n"
            + "\n".join(rows) + "\n")


@click.command("functions", help="List the functions, operators and constants, each with its "
               "number of arguments, its local derivatives and where it is defined.")
@guarded()
def functions_cmd() -> None:
    click.echo(functions_text(), nl=False)


__all__ = ["functions_cmd", "functions_text"]
