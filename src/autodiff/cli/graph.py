"""`autodiff graph` and `autodiff explain`: click only. They read the program
and bindings with the options `autodiff eval` shares (common.py), call the
library and a renderer (drawing.py, explain.py); each --format is one entry
of the command's table of formats."""

from __future__ import annotations

import io
from typing import Any, Callable, Optional, Union

import click

from ..errors import EvaluationError, UsageProblem, escape_text
from ..evaluate import Result
from ..graph import Graph
from .common import (
    FormatChoice,
    ProgramArgs,
    ProgramCommand,
    guarded,
    or_list,
    output_failure,
    parse_direction,
    program_options,
    refuse_unless,
)

Picture = Union[str, bytes, Any]  # text, bytes or a rich renderable (the tree)


def _limit(n: int) -> Optional[int]:
    return None if n == 0 else n


def _tree(selected: Graph, result: Optional[Result], digits: Optional[int], max_nodes: int,
          max_depth: int) -> Picture:
    from .. import drawing

    return drawing.to_tree(selected, result, digits=digits, max_nodes=_limit(max_nodes) or 10**9,
                           max_depth=max_depth)


def _drawn(to_text: Callable[[Any], str], tool: Optional[str] = None) -> Callable[..., Picture]:
    def draw(selected: Graph, result: Optional[Result], digits: Optional[int], max_nodes: int,
             max_depth: int) -> Picture:
        from .. import drawing

        text = to_text(drawing.picture(selected, result, digits=digits, max_nodes=_limit(max_nodes)))
        return drawing.render_with_dot(text, tool) if tool else text

    return draw


def _to_dot(pic: Any) -> str:
    from .. import drawing

    return drawing.to_dot(pic)


def _to_mermaid(pic: Any) -> str:
    from .. import drawing

    return drawing.to_mermaid(pic)


def _page(selected: Graph, result: Optional[Result], digits: Optional[int], max_nodes: int,
          max_depth: int) -> Picture:
    from .. import page

    if result is None:
        return page.structure_page(selected)
    return page.page_for(result, digits=digits, max_nodes=_limit(max_nodes))


def _evaluate_or_page(prog: ProgramArgs, bindings: dict[str, float], page_to: Optional[str]) -> Result:
    """prog.evaluate; with `page_to` (--format html), a program that fails
    still gets its page, up to the failing node, before the error is reported."""
    try:
        return prog.evaluate(bindings)
    except EvaluationError as exc:
        if page_to is not None:
            from .. import page

            _write(page.failure_page(prog.select(prog.parse()), bindings, exc), page_to)
        raise


#: --format of graph: name -> (help, renderer)
GRAPH_FORMATS: dict[str, tuple[str, Callable[..., Picture]]] = {
    "tree": ("(default) a tree from the output back to the inputs, for the terminal; a node met "
             "again is referred to as \"drawn above\"", _tree),
    "dot": ("Graphviz DOT, left to right (inputs left, output right)", _drawn(_to_dot)),
    "mermaid": ("a Mermaid flowchart, left to right (renders in GitHub Markdown)",
                _drawn(_to_mermaid)),
    "svg": ("SVG rendered by Graphviz's `dot` program (must be installed); needs -o",
            _drawn(_to_dot, "svg")),
    "png": ("PNG rendered by Graphviz's `dot` program (must be installed); needs -o",
            _drawn(_to_dot, "png")),
}
GRAPH_FORMATS["html"] = (
    "one self-contained page, laid out by autodiff: with bindings it steps through the forward and "
    "backward passes (as explain --format html), without them it shows the structure", _page)
_FILE_FORMATS = ("svg", "png")
_GRAPH_FORMAT = FormatChoice("graph", {name: text for name, (text, _) in GRAPH_FORMATS.items()})


def _write(data: Union[str, bytes], path: Optional[str]) -> None:
    """To the file `path`, or stdout for None and '-'."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if path is None or path == "-":
        click.echo(data, nl=False)
        return
    try:
        with open(path, "wb") as fh:
            fh.write(data)
    except OSError as exc:
        raise output_failure(exc, escape_text(path)) from None


GRAPH_HELP = """Draw the computation graph of PROGRAM.

\b
  autodiff graph "u = b*c; v = a + u; J = 3*v" --a 5 --b 3 --c 2
  autodiff graph "J = 3*(a + b*c)"                   (structure only)
  autodiff graph "J = 3*(a + b*c)" --format dot | dot -Tsvg > j.svg
  autodiff graph "J = 3*(a + b*c)" --a 5 --b 3 --c 2 --format svg -o j.svg

\b
With bindings (as for `autodiff eval`: --NAME VALUE, --bindings JSON|@FILE,
or -D NAME=VALUE for any name, such as a variable called format or output)
each node shows its value and its adjoint ∂J/∂node, and each edge its local
factor, in the program's names and as a number (∂u/∂b = c = 2). Without
bindings the structure is drawn with the symbolic local factors.

\b
Formats (--format):
{formats}

\b
Large graphs are bounded: --max-nodes N (default 200, 0 for no limit) keeps
the N nodes nearest the output and says how many were left out.

\b
Exit codes: 0 success; 1 evaluation error; 2 input or usage error (bad
program, binding, format, missing -o, dot not installed); 74 output error
(a file or stdout that cannot be written).
"""


@click.command("graph", cls=ProgramCommand,
               help=GRAPH_HELP.format(formats=_GRAPH_FORMAT.describe()))
@guarded()
@program_options
@click.option("--format", "fmt", type=_GRAPH_FORMAT, default="tree", metavar="FORMAT",
              help=f"{or_list(list(GRAPH_FORMATS))} (default tree).")
@click.option("-o", "--output", "out_file", metavar="FILE",
              help="Write to FILE instead of stdout (required for svg and png; '-' is stdout).")
@click.option("--max-nodes", type=click.IntRange(0, None), default=200, show_default=True, metavar="N",
              help="Draw at most N nodes (those nearest the output); 0 draws all.")
@click.option("--max-depth", type=click.IntRange(1, None), default=12, show_default=True, metavar="N",
              help="tree: expand at most N levels below the output.")
def graph_cmd(prog: ProgramArgs, fmt: str, out_file: Optional[str], max_nodes: int,
              max_depth: int) -> None:
    if fmt in _FILE_FORMATS and not out_file:
        raise UsageProblem(f"--format {fmt} writes a file: add -o FILE (for example -o graph.{fmt})")
    refuse_unless(out_file != "", "-o needs a file name ('-' for stdout)")
    refuse_unless("max_depth" not in prog.given or fmt == "tree",
                  "--max-depth bounds the tree; it does not apply to --format " + fmt)
    base, overrides = prog.bindings()
    bindings = {**base, **overrides}
    result: Optional[Result] = None
    page_to = (out_file or "-") if fmt == "html" else None
    if bindings:
        result = _evaluate_or_page(prog, bindings, page_to)
        selected = result.graph
    else:
        selected = prog.select(prog.parse())
        variables = selected.output_variables()
        if variables:  # the structure only
            for name in variables:
                prog.option_clash(name, warn=True)
        else:
            result = prog.evaluate({})
            selected = result.graph
    picture = GRAPH_FORMATS[fmt][1](selected, result, prog.digits, max_nodes, max_depth)
    if isinstance(picture, (str, bytes)):
        _write(picture, out_file)
        return
    from rich.console import Console

    if out_file and out_file != "-":
        buf = io.StringIO()
        Console(file=buf, width=80, color_system=None, highlight=False, emoji=False,
                markup=False).print(picture)
        _write(buf.getvalue(), out_file)
    else:
        Console(highlight=False, emoji=False, markup=False).print(picture)


def _explain_text(ex: Any, digits: Optional[int], max_steps: Optional[int]) -> str:
    from .. import explain

    return explain.explain_text(ex, digits=digits, max_steps=max_steps)


def _explain_markdown(ex: Any, digits: Optional[int], max_steps: Optional[int]) -> str:
    from .. import explain

    return explain.explain_markdown(ex, digits=digits, max_steps=max_steps)


def _explain_latex(ex: Any, digits: Optional[int], max_steps: Optional[int]) -> str:
    from .. import explain

    return explain.explain_latex(ex, digits=digits, max_steps=max_steps)


def _explain_json(ex: Any, digits: Optional[int], max_steps: Optional[int]) -> str:
    from .. import explain
    from ..render import dumps

    return dumps(explain.explain_dict(ex)) + "\n"


def _explain_html(ex: Any, digits: Optional[int], max_steps: Optional[int]) -> str:
    from .. import page

    return page.explanation_page(ex, digits=digits, max_nodes=max_steps)


#: --format of explain: name -> (help, renderer)
EXPLAIN_FORMATS: dict[str, tuple[str, Callable[[Any, Optional[int], Optional[int]], str]]] = {
    "text": ("(default) for the terminal", _explain_text),
    "markdown": ("the same, as Markdown", _explain_markdown),
    "latex": ("align* environments, \\frac{\\partial J}{\\partial b}; needs amsmath",
              _explain_latex),
    "json": ("the steps as one JSON object; --json is short for --format json", _explain_json),
    "html": ("one self-contained page (no network request, opened from disk) that steps through "
             "the forward pass one node at a time and the backward pass one edge at a time: buttons, "
             "arrow keys, play/pause, FILE#step=N links to a step; a program that fails is shown up "
             "to the failing node; use -o FILE", _explain_html),
}
_EXPLAIN_FORMAT = FormatChoice("explain", {name: text for name, (text, _) in EXPLAIN_FORMATS.items()})


EXPLAIN_HELP = """Narrate backpropagation through PROGRAM with numbers.

\b
  autodiff explain "u = b*c; v = a + u; J = 3*v" --a 5 --b 3 --c 2
  autodiff explain "x*y + x" --x 2 --y 5 --paths
  autodiff explain "J = 3*(a + b*c)" --a 5 --b 3 --c 2 --format latex

\b
Bind every variable, as for `autodiff eval`: --NAME VALUE, --bindings
JSON|@FILE, or -D NAME=VALUE for any name (a variable called paths or
format, say).
The explanation, in the lecture's order:
  forward pass   one line per node: u = b·c = 3·2 = 6
  backward pass  one line per node from the output back:
                 ∂J/∂u = ∂J/∂v · ∂v/∂u = 3 · 1 = 3, with the local
                 derivative in the program's names below it
                 (where ∂u/∂b = c = 2); a node used several times
                 sums one term per use (∂J/∂x = 2 + 5 = 7)
  --paths        for each input, every path to the output with the
                 product of its local factors, and their sum (= the
                 adjoint); at most --max-paths per input, with the count

\b
Formats (--format):
{formats}

\b
Large graphs: --max-nodes N (default 200, 0 for no limit) shows the first
and last steps of each pass and says how many were left out.

\b
Exit codes: 0 success; 1 evaluation error; 2 input or usage error; 74
output error.
"""


@click.command("explain", cls=ProgramCommand,
               help=EXPLAIN_HELP.format(formats=_EXPLAIN_FORMAT.describe()))
@guarded(json_when=lambda p: bool(p.get("as_json")) or p.get("fmt") == "json")
@program_options
@click.option("--format", "fmt", type=_EXPLAIN_FORMAT, metavar="FORMAT",
              help=f"{or_list(list(EXPLAIN_FORMATS))} (default text).")
@click.option("--json", "as_json", is_flag=True, help="Print the steps as one JSON object.")
@click.option("--paths", is_flag=True, help="Also list the paths from each input to the output.")
@click.option("--max-paths", type=click.IntRange(1, None), default=20, show_default=True, metavar="N",
              help="With --paths: list at most N paths per input.")
@click.option("--max-nodes", type=click.IntRange(0, None), default=200, show_default=True, metavar="N",
              help="Show at most N steps of each pass (0: all).")
@click.option("-o", "--output", "out_file", metavar="FILE",
              help="Write to FILE instead of stdout ('-' is stdout); for --format html, the page.")
@click.option("--mode", type=click.Choice(["reverse", "forward"]), default="reverse",
              show_default=True, help="forward: narrate the forward (tangent) sweep along --seed.")
@click.option("--seed", metavar="x=1,y=0", help="With --mode forward: the direction (inputs not "
              "named are 0; default: the first input).")
def explain_cmd(prog: ProgramArgs, fmt: Optional[str], as_json: bool, paths: bool, max_paths: int,
                max_nodes: int, out_file: Optional[str], mode: str, seed: Optional[str]) -> None:
    if as_json:
        refuse_unless(fmt in (None, "json"), f"--json is short for --format json: give one of "
                      f"--json and --format {fmt}")
        fmt = "json"
    fmt = fmt or "text"
    refuse_unless("max_paths" not in prog.given or paths, "--max-paths works with --paths")
    refuse_unless("max_nodes" not in prog.given or fmt != "json",
                  "--max-nodes shortens the text; the JSON has every step")
    refuse_unless(out_file != "", "-o needs a file name ('-' for stdout)")
    refuse_unless(seed is None or mode == "forward", "--seed is a direction for --mode forward")
    base, overrides = prog.bindings()
    if mode == "forward":  # issue 11
        refuse_unless(fmt == "text" and not paths and out_file is None, "--mode forward narrates "
                      "as text on stdout, without --paths (paths are the reverse sweep's lesson)")
        from ..higher import forward_mode
        from ..higher_render import explain_forward_text

        graph = prog.select(prog.parse())
        direction = (parse_direction(seed, "--seed") if seed else
                     {v: 1.0 for v in graph.output_variables()[:1]})
        fwd = forward_mode(graph, {**base, **overrides}, direction)
        click.echo(explain_forward_text(fwd, prog.digits, _limit(max_nodes)))
        return
    result = _evaluate_or_page(prog, {**base, **overrides}, (out_file or "-") if fmt == "html" else None)
    from .. import explain

    ex = explain.explain(result, paths=paths, max_paths=max_paths, digits=prog.digits)
    _write(EXPLAIN_FORMATS[fmt][1](ex, prog.digits, _limit(max_nodes)), out_file)


__all__ = ["graph_cmd", "explain_cmd", "GRAPH_FORMATS", "EXPLAIN_FORMATS"]
