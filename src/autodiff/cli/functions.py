"""`autodiff functions`: the operations table as a help page, written from
ops.OPS (a new row appears here by itself)."""

from __future__ import annotations

import re

import click

from ..ops import CONSTANTS, OPS, Op
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
    constants = ", ".join(f"{name} = {value!r}" for name, value in CONSTANTS.items())
    return ("Operators, from the loosest to the tightest: + - (left to right), * / % (left to right),\n"
            "unary - and +, then ^ and ** (right to left: 2^3^x is 2^(3^x), -x^2 is -(x^2)).\n"
            f"Constants: {constants} (they cannot be bound or assigned).\n\n"
            + "\n".join(rows) + "\n")


@click.command("functions", help="List the functions, operators and constants, each with its "
               "number of arguments, its local derivatives and where it is defined.")
@guarded()
def functions_cmd() -> None:
    click.echo(functions_text(), nl=False)


__all__ = ["functions_cmd", "functions_text"]
