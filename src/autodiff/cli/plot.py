"""`autodiff plot`: click only. The program and bindings are read as
`autodiff eval` reads them (common.py); plot.py samples the function and
renders it; this module writes the text or the file."""

from __future__ import annotations

import os
import shutil
from typing import Optional

import click

from ..errors import UsageProblem, escape_text
from .common import ProgramArgs, ProgramCommand, guarded, output_failure, program_options, refuse_unless

PLOT_HELP = """Plot PROGRAM against one variable: the function, its derivative, and
the tangent line at the bound point.

\b
  autodiff plot "J = x*sin(x)" --x 1
  autodiff plot "J = log(x)*x" --x 1 --range -2:4
  autodiff plot "J = x*y + x" --x 2 --y 5 --var x -o plot.svg

\b
Bind every variable as for `autodiff eval` (--NAME VALUE, -D NAME=VALUE);
the one plotted (--var NAME, or the program's only variable) is varied over
--range LOW:HIGH (default: its bound value ± 3), the others stay bound. The
tangent's slope is the derivative autodiff computes at the bound point.
Where the function is undefined (log at x <= 0) the plot has a gap; kinks
(abs, relu, max) are marked, with the convention autodiff uses there.

\b
Output: Unicode Braille text for the terminal, as wide as the terminal
(--width N), without colour (the same with NO_COLOR and in a pipe);
-o FILE.svg writes SVG (no extra package); -o FILE.png writes PNG, which
needs matplotlib (pip install 'autodiff[plot]').

\b
Exit codes: 0 success; 1 evaluation error at the bound point; 2 input or
usage error; 74 output error (a file or stdout that cannot be written).
"""


@click.command("plot", cls=ProgramCommand, help=PLOT_HELP)
@guarded()
@program_options
@click.option("--var", "variable", metavar="NAME",
              help="The variable to plot along (default: the only one).")
@click.option("--range", "span", metavar="LOW:HIGH",
              help="The range of the variable (default: its value ± 3).")
@click.option("-o", "--output", "out_file", metavar="FILE",
              help="Write SVG (FILE.svg) or PNG (FILE.png) instead of text to the terminal.")
@click.option("--width", type=click.IntRange(30, 1000), metavar="N",
              help="Text width in columns (default: the terminal's).")
@click.option("--height", type=click.IntRange(4, 200), default=12, show_default=True, metavar="N",
              help="Text height of the function's panel, in lines.")
def plot_cmd(prog: ProgramArgs, variable: Optional[str], span: Optional[str], out_file: Optional[str],
             width: Optional[int], height: int) -> None:
    from .. import plot

    refuse_unless(out_file != "", "-o needs a file name ('-' for stdout)")
    kind = "text"
    if out_file and out_file != "-":
        ext = os.path.splitext(out_file)[1].lower()
        if ext not in (".svg", ".png"):
            raise UsageProblem(f"-o {escape_text(out_file, 60)}: write a .svg or a .png file")
        kind = ext[1:]
    lo, hi = plot.parse_range(span) if span else (None, None)
    base, overrides = prog.bindings()
    graph = prog.select(prog.parse())
    if width is None:
        width = shutil.get_terminal_size((80, 24)).columns
    samples = 2 * max(20, width - 12) + 1 if kind == "text" else 401
    data = plot.plot_data(graph, {**base, **overrides}, variable=variable, lo=lo, hi=hi, samples=samples)
    if kind == "text":
        click.echo(plot.to_braille(data, width, height), nl=False)
        return
    payload = plot.to_svg(data).encode("utf-8") if kind == "svg" else plot.to_png(data)
    assert out_file is not None
    try:
        with open(out_file, "wb") as fh:
            fh.write(payload)
    except OSError as exc:
        raise output_failure(exc, escape_text(out_file)) from None


__all__ = ["plot_cmd"]
