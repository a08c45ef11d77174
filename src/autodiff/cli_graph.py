"""`autodiff graph` and `autodiff explain`: click only. They read the program
and bindings as `autodiff eval` does, call the library and a renderer
(drawing.py, explain.py), and leave errors to `run_guarded`."""

from __future__ import annotations

from typing import Any, Callable, Optional

import click

from .cli import MAX_CHARS, _split_program, parse_bindings, read_program, run_guarded
from .errors import EvaluationError, InputError, UsageProblem, escape_text

GRAPH_FORMATS = ("tree", "dot", "mermaid", "svg", "png", "html")
EXPLAIN_FORMATS = ("text", "markdown", "latex", "html")


def program_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The program, bindings and output selection, as `autodiff eval` reads them."""
    decorators = [
        click.argument("args", nargs=-1, type=click.UNPROCESSED, metavar="PROGRAM [BINDINGS]..."),
        click.option("-f", "--file", "file", type=click.Path(dir_okay=False, allow_dash=True),
                     help="Read the program from FILE ('-' for stdin)."),
        click.option("-D", "--set", "sets", multiple=True, metavar="NAME=VALUE",
                     help="Bind a variable (repeatable); works for any name."),
        click.option("--of", "output", metavar="NAME",
                     help="Use the assigned NAME as the output instead of the last statement."),
        click.option("--digits", type=click.IntRange(1, 17), metavar="N",
                     help="Show numbers with N significant digits (default: all, shortest round-trip)."),
        click.option("--debug", is_flag=True, help="Show a Python traceback for internal errors."),
    ]
    for d in reversed(decorators):
        fn = d(fn)
    return fn


_CONTEXT = {"ignore_unknown_options": True, "allow_extra_args": True}


def _load(args: tuple[str, ...], file: Optional[str], sets: tuple[str, ...], output: Optional[str],
          need_values: bool, command: str, page_to: Optional[str] = None) -> tuple[Any, Any]:
    """The selected graph, and its evaluation (None when no variable is bound
    and values are not needed)."""
    program, extra = _split_program(args, file, command)
    bindings = parse_bindings(extra, sets)
    text, source = read_program(program, file, command)
    from . import parser
    from .evaluate import evaluate

    graph = parser.parse(text, source=source, max_chars=MAX_CHARS)
    selected = graph.select(output)
    if not bindings and not need_values and selected.output_variables():
        return selected, None
    try:
        return selected, evaluate(selected, bindings)
    except EvaluationError as exc:
        if page_to is not None:  # the page of a failing program, up to the failing node
            from .page import failure_page

            _write(failure_page(selected, bindings, exc).encode("utf-8"), page_to)
        raise


def _write(data: bytes, path: str) -> None:
    if path == "-":
        click.echo(data, nl=False)
        return
    try:
        with open(path, "wb") as fh:
            fh.write(data)
    except OSError as exc:
        raise InputError(f"cannot write {escape_text(path)}: {exc.strerror}") from None


def _limit(n: int) -> Optional[int]:
    return None if n == 0 else n


GRAPH_HELP = """Draw the computation graph of PROGRAM.

\b
  autodiff graph "u = b*c; v = a + u; J = 3*v" --a 5 --b 3 --c 2
  autodiff graph "J = 3*(a + b*c)"                   (structure only)
  autodiff graph "J = 3*(a + b*c)" --format dot | dot -Tsvg > j.svg
  autodiff graph "J = 3*(a + b*c)" --a 5 --b 3 --c 2 --format svg -o j.svg

\b
With bindings (as for `autodiff eval`: --NAME VALUE, or -D NAME=VALUE for
any name, such as a variable called format or output) each node shows its
value and its adjoint ∂J/∂node, and each edge its local factor, in the
program's names and as a number (∂u/∂b = c = 2). Without bindings the
structure is drawn with the symbolic local factors.

\b
Formats (--format):
  tree      (default) a tree from the output back to the inputs, for the
            terminal; a node met again is referred to as "drawn above"
  dot       Graphviz DOT, left to right (inputs left, output right)
  mermaid   a Mermaid flowchart, left to right (renders in GitHub Markdown)
  svg, png  rendered by Graphviz's `dot` program (must be installed); need -o
  html      one self-contained page, laid out by autodiff: with bindings it
            steps through the forward and backward passes (as explain
            --format html), without them it shows the structure

\b
Large graphs are bounded: --max-nodes N (default 200, 0 for no limit) keeps
the N nodes nearest the output and says how many were left out.

\b
Exit codes: 0 success; 1 evaluation error; 2 input or usage error (bad
program, binding, format, missing -o, unwritable file, dot not installed).
"""


@click.command("graph", help=GRAPH_HELP, context_settings=_CONTEXT)
@program_options
@click.option("--format", "fmt", default="tree", metavar="FORMAT",
              help="tree (default), dot, mermaid, svg, png or html.")
@click.option("-o", "--output", "out_file", metavar="FILE",
              help="Write to FILE instead of stdout (required for svg and png; '-' is stdout).")
@click.option("--max-nodes", type=click.IntRange(0, None), default=200, show_default=True, metavar="N",
              help="Draw at most N nodes (those nearest the output); 0 draws all.")
@click.option("--max-depth", type=click.IntRange(1, None), default=12, show_default=True, metavar="N",
              help="tree: expand at most N levels below the output.")
def graph_cmd(args: tuple[str, ...], file: Optional[str], sets: tuple[str, ...], output: Optional[str],
              digits: Optional[int], debug: bool, fmt: str, out_file: Optional[str], max_nodes: int,
              max_depth: int) -> None:
    def body() -> None:
        if fmt not in GRAPH_FORMATS:
            raise UsageProblem(f"unknown format '{escape_text(fmt)}' for graph: choose "
                               f"{', '.join(GRAPH_FORMATS[:-1])} or {GRAPH_FORMATS[-1]}")
        if fmt in ("svg", "png") and not out_file:
            raise UsageProblem(f"--format {fmt} writes a file: add -o FILE (for example -o graph.{fmt})")
        selected, result = _load(args, file, sets, output, need_values=False, command="graph",
                                 page_to=(out_file or "-") if fmt == "html" else None)
        if fmt == "html":
            from . import page

            text = (page.structure_page(selected) if result is None else
                    page.page_for(result, digits=digits, max_nodes=_limit(max_nodes)))
            _write(text.encode("utf-8"), out_file or "-")
            return
        from . import drawing

        if fmt == "tree":
            from rich.console import Console

            tree = drawing.to_tree(selected, result, digits=digits,
                                   max_nodes=_limit(max_nodes) or 10**9, max_depth=max_depth)
            if out_file:
                import io

                buf = io.StringIO()
                Console(file=buf, width=80, color_system=None, highlight=False, emoji=False,
                        markup=False).print(tree)
                _write(buf.getvalue().encode("utf-8"), out_file)
            else:
                Console(highlight=False, emoji=False, markup=False).print(tree)
            return
        pic = drawing.picture(selected, result, digits=digits, max_nodes=_limit(max_nodes))
        text = drawing.to_mermaid(pic) if fmt == "mermaid" else drawing.to_dot(pic)
        if fmt in ("svg", "png"):
            assert out_file
            _write(drawing.render_with_dot(text, fmt), out_file)
        elif out_file:
            _write(text.encode("utf-8"), out_file)
        else:
            click.echo(text, nl=False)

    run_guarded(body, debug=debug)


EXPLAIN_HELP = """Narrate backpropagation through PROGRAM with numbers.

\b
  autodiff explain "u = b*c; v = a + u; J = 3*v" --a 5 --b 3 --c 2
  autodiff explain "x*y + x" --x 2 --y 5 --paths
  autodiff explain "J = 3*(a + b*c)" --a 5 --b 3 --c 2 --format latex

\b
Bind every variable, as for `autodiff eval`: --NAME VALUE, or -D NAME=VALUE
for any name (a variable called paths or format, say).
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
Formats: --format text (default), markdown or latex (align* environments,
\\frac{\\partial J}{\\partial b}; needs amsmath); --json gives the same steps
as one JSON object. --format html -o FILE writes one self-contained page
(no network request, opened from disk) that steps through the forward pass
one node at a time and the backward pass one edge at a time: buttons, arrow
keys, play/pause, FILE#step=N links to a step. A program that fails is shown
up to the failing node.

\b
Large graphs: --max-nodes N (default 200, 0 for no limit) shows the first
and last steps of each pass and says how many were left out.

\b
Exit codes: 0 success; 1 evaluation error; 2 input or usage error.
"""


@click.command("explain", help=EXPLAIN_HELP, context_settings=_CONTEXT)
@program_options
@click.option("--format", "fmt", default="text", metavar="FORMAT",
              help="text (default), markdown, latex or html (a page to step through; -o FILE).")
@click.option("--json", "as_json", is_flag=True, help="Print the steps as one JSON object.")
@click.option("--paths", is_flag=True, help="Also list the paths from each input to the output.")
@click.option("--max-paths", type=click.IntRange(1, None), default=20, show_default=True, metavar="N",
              help="With --paths: list at most N paths per input.")
@click.option("--max-nodes", type=click.IntRange(0, None), default=200, show_default=True, metavar="N",
              help="Show at most N steps of each pass (0: all).")
@click.option("-o", "--output", "out_file", metavar="FILE",
              help="--format html: write the page to FILE ('-' is stdout).")
def explain_cmd(args: tuple[str, ...], file: Optional[str], sets: tuple[str, ...], output: Optional[str],
                digits: Optional[int], debug: bool, fmt: str, as_json: bool, paths: bool,
                max_paths: int, max_nodes: int, out_file: Optional[str]) -> None:
    def body() -> None:
        if fmt not in EXPLAIN_FORMATS:
            raise UsageProblem(f"unknown format '{escape_text(fmt)}' for explain: choose text, "
                               "markdown, latex or html (or --json)")
        if out_file is not None and fmt != "html":
            raise UsageProblem("-o FILE is for --format html; redirect the text instead (> FILE)")
        _, result = _load(args, file, sets, output, need_values=True, command="explain",
                          page_to=(out_file or "-") if fmt == "html" else None)
        from . import explain

        ex = explain.explain(result, paths=paths, max_paths=max_paths, digits=digits)
        if fmt == "html" and not as_json:
            from . import page

            _write(page.explanation_page(ex, digits=digits, max_nodes=_limit(max_nodes)).encode("utf-8"),
                   out_file or "-")
            return
        if as_json:
            from .render import dumps

            click.echo(dumps(explain.explain_dict(ex)))
            return
        render = {"text": explain.explain_text, "markdown": explain.explain_markdown,
                  "latex": explain.explain_latex}[fmt]
        click.echo(render(ex, digits=digits, max_steps=_limit(max_nodes)), nl=False)

    run_guarded(body, debug=debug, as_json=as_json)
