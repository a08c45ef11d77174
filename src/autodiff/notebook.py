"""autodiff in Jupyter: how results, graphs and explanations display
themselves, and the `%%autodiff` cell magic.

- `Result` shows the table (each node's value, local factors and adjoint) as
  HTML, the gradient as Markdown and LaTeX;
- an `Explanation` shows the interactive step-through page inline (in an
  iframe, so that its script and styles stay its own), and Markdown;
- a `Graph` shows its structure page.

`%load_ext autodiff` registers the magic: ``%%autodiff --a 5 --b 3 --c 2``
over a cell holding the program evaluates it with the same options as
`autodiff eval` (bindings as --NAME VALUE or -D NAME=VALUE, --of NAME,
--digits N, --json), and ``--explain`` shows the step-through page instead.

Nothing here imports IPython at module level: `import autodiff` never loads it.
"""

from __future__ import annotations

import html
import shlex
import sys
from typing import Any, Optional

from .errors import AutodiffError, UsageProblem
from .evaluate import Result
from .graph import Graph
from .numfmt import format_number
from .render import elide, node_rows

__all__ = ["result_html", "result_markdown", "result_latex", "page_iframe", "load_ipython_extension",
           "autodiff_magic", "MagicOptions", "parse_magic_line"]

MAX_ROWS = 200


def _d(top: str, bottom: str) -> str:
    return f"∂{top}/∂{bottom}"


def result_html(result: Result, *, digits: Optional[int] = None, max_rows: Optional[int] = MAX_ROWS) -> str:
    """The table of `autodiff eval` as an HTML table, then the gradient."""
    e = html.escape
    g = result.graph
    names = g.names()
    fmt = lambda x: format_number(x, digits)  # noqa: E731
    out = result.output
    head, tail, hidden = elide(node_rows(result), max_rows)
    rows = []

    def row(i: int) -> str:
        op = g.op[i]
        expr = g.kind(i) if op is None else g.expression(i, names)
        local = ", ".join(f"{_d(names[i], k)} = {fmt(v)}" for k, v in result.local_factors(i).items())
        adjoint = fmt(result.adjoints[i]) if g.active[i] else ""
        notes = "".join(f"<br><small>† {e(n)}</small>" for n in result.conventions.get(i, []))
        value = fmt(result.values[i]) if result.was_evaluated(i) else "not evaluated"  # (where)
        return (f"<tr><td>{e(names[i])}</td><td>{e(expr)}</td><td style=\"text-align:right\">"
                f"{e(value)}</td><td>{e(local)}{notes}</td>"
                f"<td style=\"text-align:right\">{e(adjoint)}</td></tr>")

    rows += [row(i) for i in head]
    if hidden:
        rows.append(f'<tr><td colspan="5">⋮ {hidden:,} more nodes not shown</td></tr>')
    rows += [row(i) for i in tail]
    grad = ", ".join(f"{_d(out, k)} = {fmt(v)}" for k, v in result.gradient.items())
    return (f'<table class="autodiff-result"><caption>computation graph of {e(out)} = '
            f"{e(fmt(result.value))}</caption><thead><tr><th>node</th><th>operation</th><th>value</th>"
            f"<th>local factors</th><th>adjoint {e(_d(out, 'node'))}</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>"
            + (f"<p>gradient of {e(out)}: {e(grad)}</p>" if grad else
               f"<p>{e(out)} does not depend on any variable</p>"))


def result_markdown(result: Result, *, digits: Optional[int] = None) -> str:
    fmt = lambda x: format_number(x, digits)  # noqa: E731
    out = result.output
    lines = [f"`{out} = {fmt(result.value)}`", ""]
    lines += [f"- `{_d(out, k)} = {fmt(v)}`" for k, v in result.gradient.items()]
    return "\n".join(lines) + "\n"


def result_latex(result: Result, *, digits: Optional[int] = None) -> str:
    from .explain import tex_name, tex_number

    fmt = lambda x: tex_number(format_number(x, digits))  # noqa: E731
    out = result.output
    parts = [f"{tex_name(out)} = {fmt(result.value)}"]
    parts += [rf"\frac{{\partial {tex_name(out)}}}{{\partial {tex_name(k)}}} = {fmt(v)}"
              for k, v in result.gradient.items()]
    return "$" + r",\quad ".join(parts) + "$"


def page_iframe(page: str, *, height: int = 620) -> str:
    """A page shown inline: in an iframe of its own (its script, ids and
    styles do not meet the notebook's), scripts allowed, nothing else."""
    return (f'<iframe srcdoc="{html.escape(page, quote=True)}" sandbox="allow-scripts" '
            f'style="width:100%;height:{height}px;border:1px solid #ddd" '
            'title="autodiff: step through the forward and backward passes"></iframe>')


def explanation_html(ex: Any, digits: Optional[int] = None) -> str:
    from .page import explanation_page

    page = explanation_page(ex, digits=digits)
    n = max(1, len(ex.forward))
    return page_iframe(page, height=min(900, 420 + 26 * n))


def graph_html(graph: Graph) -> str:
    from .page import structure_page

    return page_iframe(structure_page(graph), height=420)


# ---------------------------------------------------------------- the cell magic


class MagicOptions:
    def __init__(self) -> None:
        self.bindings: dict[str, float] = {}
        self.output: Optional[str] = None
        self.digits: Optional[int] = None
        self.json = False
        self.explain = False


def parse_magic_line(line: str) -> MagicOptions:
    """`--a 5 --b 3 -D c=2 --of u --digits 4 --json --explain`: as `autodiff
    eval` reads them (a variable named like an option is bound with -D)."""
    from .cli.common import parse_bindings

    opts = MagicOptions()
    words = shlex.split(line)
    rest: list[str] = []
    sets: list[str] = []
    k = 0
    while k < len(words):
        w = words[k]
        name, eq, value = w.partition("=")
        if name in ("--of", "--digits", "-D", "--set"):
            if not eq:
                if k + 1 >= len(words):
                    raise UsageProblem(f"{name} needs a value")
                k += 1
                value = words[k]
            if name == "--of":
                opts.output = value
            elif name == "--digits":
                if not value.isdigit() or not 1 <= int(value) <= 17:
                    raise UsageProblem(f"--digits expects a number from 1 to 17, got '{value}'")
                opts.digits = int(value)
            else:
                sets.append(value)
        elif w.startswith("-D") and len(w) > 2:
            sets.append(w[2:])
        elif w == "--json":
            opts.json = True
        elif w == "--explain":
            opts.explain = True
        else:
            rest.append(w)
        k += 1
    opts.bindings = parse_bindings(rest, tuple(sets))
    return opts


class _Shown:
    """What the magic returns: displays as HTML (or JSON text) in the notebook."""

    def __init__(self, html_text: str, text: str, value: Any = None) -> None:
        self._html = html_text
        self._text = text
        self.value = value

    def _repr_html_(self) -> str:
        return self._html

    def __repr__(self) -> str:
        return self._text


def autodiff_magic(line: str, cell: str) -> Any:
    """`%%autodiff [options]`: evaluate the cell's program; show the table
    (or, with --explain, the step-through page). Errors are one message, as
    on the command line, not a traceback."""
    from . import differentiate

    try:
        opts = parse_magic_line(line)
        result = differentiate(cell, opts.bindings, output=opts.output, source="<cell>")
    except AutodiffError as exc:
        print(f"error: {exc.render()}", file=sys.stderr)
        return None
    if opts.json:
        from .render import dumps, result_dict

        text = dumps(result_dict(result))
        return _Shown(f"<pre>{html.escape(text)}</pre>", text, result)
    if opts.explain:
        from .explain import explain

        return explain(result, digits=opts.digits)  # displays the step-through page
    if opts.digits is None:
        return result  # displays the table (and stays usable: _.gradient)
    return _Shown(result_html(result, digits=opts.digits), repr(result), result)


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext autodiff`: register the `%%autodiff` cell magic."""
    ipython.register_magic_function(autodiff_magic, magic_kind="cell", magic_name="autodiff")
