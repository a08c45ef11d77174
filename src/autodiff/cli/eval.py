"""`autodiff eval`: one point (a table or JSON), a batch of points (--points,
NDJSON or CSV; the work is in batch.py) or a gradient check (--gradcheck,
gradcheck.py). click and rich only."""

from __future__ import annotations

import os
import sys
import time
from typing import IO, Any, Callable, Optional

import click

from ..errors import InputError, UsageProblem, escape_text
from ..evaluate import Result
from ..graph import Graph
from .common import (
    FormatChoice,
    ProgramArgs,
    ProgramCommand,
    guarded,
    higher_options,
    option_names,
    or_list,
    parse_number,
    program_options,
    refuse_unless,
    wants_higher,
    wrap,
    write_json,
)


def _print_table(result: Result, digits: Optional[int], max_rows: int, no_nodes: bool) -> None:
    from rich.console import Console

    from ..table import result_renderable

    console = Console(highlight=False, emoji=False, markup=False)
    console.print(result_renderable(result, digits=digits, max_rows=max_rows))


def _print_json(result: Result, digits: Optional[int], max_rows: int, no_nodes: bool) -> None:
    from ..render import iter_result_json

    write_json(iter_result_json(result, nodes=not no_nodes))


#: --format: name -> (help, renderer of one point; None for the batch formats of --points)
EVAL_FORMATS: dict[str, tuple[str, Optional[Callable[[Result, Optional[int], int, bool], None]]]] = {
    "table": ("every node (operation, value, local factors, adjoint), then the gradient "
              "(the default for one point)", _print_table),
    "json": ("one JSON object (schema 1); --json is short for --format json", _print_json),
    "ndjson": ("with --points: one JSON object per point, one a line (the default there)", None),
    "csv": ("with --points: one CSV row per point", None),
}
BATCH_FORMATS = [name for name, (_, render) in EVAL_FORMATS.items() if render is None]
_FORMAT = FormatChoice("eval", {name: text for name, (text, _) in EVAL_FORMATS.items()})


EVAL_HELP = """Evaluate PROGRAM at the given variable values and differentiate it.

\b
PROGRAM is one or more statements separated by ';' or new lines:
  autodiff eval "J = 3*(a + b*c)" --a 5 --b 3 --c 2
  autodiff eval "u = b*c; v = a + u; J = 3*v" --a 5 --b 3 --c 2
  autodiff eval "-alpha*x" --alpha 2 --x 3  (a leading minus sign is fine)
  autodiff eval - --x 2 < model.ad        (the program from stdin)
  autodiff eval -f model.ad --x 2         (the program from a file)
`autodiff functions` lists the functions, operators and constants.

\b
Bind every variable the output uses, after PROGRAM:
  --NAME VALUE, --NAME=VALUE   e.g. --a 5 --b=-2.5 --c 1e-3
  -D NAME=VALUE, --set ...     for any name, including the names of this
                               command's options:
{names}
Values are finite decimal numbers.

\b
Output (--format):
{formats}
The table lists every node (its operation, value, the local factor on
each incoming edge, and its adjoint), then the gradient. The JSON object
is schema 1 (see the README); --no-nodes leaves out its per-node trace.

\b
Bindings as JSON: --bindings '{{"a": 5, "b": 3}}' or --bindings @point.json
(@- for stdin); --NAME VALUE and -D options win over it.

\b
Batches: --points FILE (or - for stdin) reads many points, NDJSON (one
JSON object per line) or CSV with a header row of variable names (by the
extension .csv, or --points-format), and writes one result per point:
NDJSON lines (each the --json object with "line": n, the input line;
no per-node trace unless --nodes), or CSV with --format csv (columns line,
the variables, the output, d<output>/d<variable>, error). A bad point gives
an error record in its place and the batch goes on (--fail-fast stops);
the exit code is then 1 and stderr says how many failed. --bindings and
the --NAME options bind variables for every point (the options win over a
point's own values; the point wins over --bindings).
  autodiff eval -f model.ad --points points.ndjson > results.ndjson
  autodiff eval "x*y" --points points.csv --format csv

\b
--gradcheck compares each partial derivative with a central difference
(h = 1e-6*max(1, |x|)) and passes when |analytic - numeric| <= 1e-5 +
1e-3*|numeric|; it prints a table (with --json, a "gradcheck" object) and
exits 1 on a failure.

\b
An option that does not apply (--nodes without --points, --digits with
JSON, ...) is an error, never silently ignored.

\b
Exit codes: 0 success; 1 evaluation error (a value or derivative undefined
or not finite, naming the node; a failed point; a failed gradcheck); 2 input
or usage error (syntax, unknown function, wrong number of arguments, bad
binding); 70 internal error; 74 output error (stdout closed or on a full
disk); 130 interrupted.
"""


def _json_output(params: dict[str, Any]) -> Optional[str]:
    """How errors are written on stdout too: "ndjson" (one line, in a batch's
    stream), "json", or None (table and CSV)."""
    fmt = params.get("output_format")
    if params.get("points") is not None:
        return None if fmt == "csv" else "ndjson"
    return "json" if params.get("as_json") or fmt in ("json", "ndjson") else None


@click.command("eval", cls=ProgramCommand)
@guarded(json_when=_json_output)
@program_options
@click.option("--format", "output_format", type=_FORMAT, metavar="FORMAT",
              help=f"{or_list(list(EVAL_FORMATS))} (default: table; ndjson with --points).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (schema 1): "
              "--format json.")
@click.option("--no-nodes", is_flag=True, help="With JSON: leave out the per-node trace.")
@click.option("--max-rows", type=click.IntRange(2, None), default=200, show_default=True, metavar="N",
              help="Table rows to show before eliding the middle of a large graph.")
@click.option("--points", metavar="FILE", help="Evaluate at every point of FILE ('-' for stdin): "
              "NDJSON or CSV; one result per point.")
@click.option("--points-format", type=click.Choice(["ndjson", "csv"]),
              help="The format of --points (default: by extension, .csv is CSV, else NDJSON).")
@click.option("--nodes", is_flag=True, help="With --points: include each point's per-node trace.")
@click.option("--fail-fast", is_flag=True, help="With --points: stop at the first failing point.")
@click.option("--ignore-extra", is_flag=True, help="With --points: carry keys or columns that are "
              "not variables of the program (an id) to the output instead of failing.")
@click.option("--gradcheck", is_flag=True, help="Check each partial derivative against a central "
              "difference; exit 1 on a mismatch.")
@higher_options
def eval_cmd(prog: ProgramArgs, output_format: Optional[str], as_json: bool, no_nodes: bool,
             max_rows: int, points: Optional[str], points_format: Optional[str], nodes: bool,
             fail_fast: bool, ignore_extra: bool, gradcheck: bool, **beyond: Any) -> None:
    fmt = _choose_format(output_format, as_json, points is not None)
    if wants_higher({"output": prog.output, **beyond}):  # issue 11: forward mode, Hessians, ...
        from ..higher_cli import check_options, run

        check_options(prog, fmt, points=points, gradcheck=gradcheck, **beyond)
        refuse_unless(not ignore_extra, "--ignore-extra is not available with the options of "
                      "issue 11 (--mode, --of J,K, --hessian, --hvp, --order, --exact)")
        if points is not None:  # --of J,K --points: one Jacobian per point
            from ..higher_cli import run_jacobian_points

            refuse_unless(not nodes and not fail_fast, "--nodes and --fail-fast are not "
                          "available for Jacobian batches")
            run_jacobian_points(prog, points, points_format)
            return
        refuse_unless(not nodes and not fail_fast and points_format is None,
                      "--nodes, --fail-fast and --points-format work with --points FILE")
        refuse_unless("max_rows" not in prog.given or bool(beyond.get("exact")),
                      "--max-rows bounds the table of nodes; it does not apply here")
        run(prog, fmt, no_nodes, max_rows, **beyond)
        return
    _check_options(prog, fmt, points, points_format, nodes, fail_fast, gradcheck, no_nodes)
    refuse_unless(points is not None or not ignore_extra, "--ignore-extra works with --points FILE")
    base, overrides = prog.bindings(stdin_taken=points == "-")
    if points is not None:
        graph = prog.parse()
        run_points(graph, prog.select(graph), points, output_format=fmt,
                   points_format=points_format, nodes=nodes, fail_fast=fail_fast, base=base,
                   overrides=overrides, stdin_taken=prog.program_from_stdin() or
                   bool(prog.bindings_json and prog.bindings_json[0] == "@-"),
                   ignore_extra=ignore_extra)
        return
    result = prog.evaluate({**base, **overrides}, keep_local=not (fmt == "json" and no_nodes))
    if gradcheck:
        from ..gradcheck import gradcheck as check_gradient

        print_gradcheck(result, check_gradient(result), fmt == "json", not no_nodes, prog.digits)
        return
    render = EVAL_FORMATS[fmt][1]
    assert render is not None
    render(result, prog.digits, max_rows, no_nodes)


EVAL_OPTION_NAMES = option_names(eval_cmd)
eval_cmd.help = EVAL_HELP.format(
    names=wrap(", ".join(EVAL_OPTION_NAMES), "    ", "    "),
    formats=_FORMAT.describe())


def _choose_format(output_format: Optional[str], as_json: bool, batch: bool) -> str:
    if as_json and output_format not in (None, "json", "ndjson" if batch else "json"):
        raise UsageProblem(f"--json is short for --format json: give one of --json and "
                           f"--format {output_format}")
    if output_format is None:
        return ("ndjson" if batch else "json") if as_json else ("ndjson" if batch else "table")
    if batch and output_format == "json":
        return "ndjson"
    return output_format


def _check_options(prog: ProgramArgs, fmt: str, points: Optional[str], points_format: Optional[str],
                   nodes: bool, fail_fast: bool, gradcheck: bool, no_nodes: bool) -> None:
    """Options that do not apply are refused, with what they apply to."""
    batch = points is not None
    if not batch:
        for given, name in ((points_format, "--points-format"), (nodes, "--nodes"),
                            (fail_fast, "--fail-fast")):
            refuse_unless(not given, f"{name} works with --points FILE")
        refuse_unless(fmt not in BATCH_FORMATS, f"--format works with --points FILE: {fmt} is a "
                      f"format for batches (one point prints as table or json)")
    else:
        refuse_unless(not gradcheck, "--gradcheck checks one point; it does not work with --points")
        refuse_unless(fmt in BATCH_FORMATS, f"--format {fmt} prints one point; with --points "
                      f"choose {or_list(BATCH_FORMATS)}")
        refuse_unless(not (nodes and fmt == "csv"),
                      "--nodes adds the per-node trace to NDJSON lines; CSV has no room for it")
        refuse_unless(not no_nodes, "--no-nodes: batch records have no per-node trace unless --nodes")
    refuse_unless(not no_nodes or fmt == "json" or batch,
                  "--no-nodes leaves the per-node trace out of JSON: add --json")
    refuse_unless(prog.digits is None or fmt == "table",
                  f"--digits rounds the table's numbers; {fmt} output carries every digit")
    refuse_unless("max_rows" not in prog.given or (fmt == "table" and not gradcheck),
                  "--max-rows bounds the table of nodes; it does not apply here")


# ---------------------------------------------------------------- batches

def points_format_of(path: str, given: Optional[str]) -> str:
    if given:
        return given
    lower = path.lower()
    if lower.endswith(".csv"):
        return "csv"
    return "ndjson"  # .ndjson, .jsonl, .json, stdin


class _ProgressBar:
    """A rich progress display on stderr, only when stderr is a terminal, and
    only once a batch has run for a second (short batches show nothing)."""

    def __init__(self, total_bytes: Optional[int], stream: Optional[IO[bytes]]) -> None:
        self.total = total_bytes
        self.stream = stream
        self.start = time.monotonic()
        self.progress: Any = None
        self.task: Any = None

    def __call__(self, points: int, _unused: int) -> None:
        if self.progress is None:
            if time.monotonic() - self.start < 1.0:
                return
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            console = Console(file=sys.stderr)
            columns: list[Any] = [TextColumn("points: {task.fields[points]}"), TimeElapsedColumn()]
            if self.total:
                columns[1:1] = [BarColumn(), TextColumn("{task.percentage:>3.0f}%")]
            self.progress = Progress(*columns, console=console, transient=True)
            self.task = self.progress.add_task("batch", total=self.total, points=0)
            self.progress.start()
        done = None
        if self.total and self.stream is not None:
            try:
                done = self.stream.tell()
            except (OSError, ValueError):
                done = None
        self.progress.update(self.task, completed=done, points=points)

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def run_points(full: Graph, selected: Graph, points: str, *, output_format: str,
               points_format: Optional[str], nodes: bool, fail_fast: bool, base: dict[str, float],
               overrides: dict[str, float], stdin_taken: bool, ignore_extra: bool = False) -> None:
    """Run a batch; exit 1 (after the summary on stderr) if any point failed."""
    from ..batch import BatchOptions, run_batch

    fmt = points_format_of(points, points_format)
    options = BatchOptions(output_format=output_format, points_format=fmt, nodes=nodes,
                           fail_fast=fail_fast, base=base, overrides=overrides,
                           ignore_extra=ignore_extra)
    if points == "-":
        if stdin_taken:
            raise UsageProblem("only one input can come from stdin ('-'): the program or the points")
        if sys.stdin is None:
            raise InputError("cannot read the points from <stdin>: stdin is closed")
        stream: IO[bytes] = sys.stdin.buffer
        size = None
    else:
        try:
            stream = open(points, "rb")  # noqa: SIM115 - closed below
            size = os.fstat(stream.fileno()).st_size or None
        except OSError as exc:
            raise InputError(f"cannot read {escape_text(points)}: {exc.strerror}") from None
    bar = _ProgressBar(size, stream) if _stderr_is_terminal() else None
    sys.stdout.flush()
    try:
        summary = run_batch(full, selected, stream, sys.stdout.buffer, options,
                            parse_value=parse_number, progress=bar)
    finally:
        if bar is not None:
            bar.stop()
        if stream is not sys.stdin.buffer:
            stream.close()
    if summary.failed:
        sys.stdout.flush()
        for line, error in summary.failures[:5]:
            message = error.message
            prefix = f"line {line} "
            click.echo(f"error: {message}" if message.startswith(prefix) else
                       f"error: line {line}: {message}", err=True)
        more = summary.failed - min(5, len(summary.failures))
        if more > 0:
            click.echo(f"  ... and {more} more", err=True)
        stop = " (stopped at the first: --fail-fast)" if summary.stopped else ""
        click.echo(f"{summary.failed} of {summary.points} points failed{stop}; their error "
                   "records are in the output", err=True)
        sys.exit(1)


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


# ---------------------------------------------------------------- gradcheck

def print_gradcheck(result: Result, checks: list[Any], as_json: bool, nodes: bool,
                    digits: Optional[int] = None) -> None:
    """The gradcheck report: a table (or JSON with a `gradcheck` object); exit 1
    if a partial derivative disagrees with its central difference."""
    from ..gradcheck import gradcheck_dict
    from ..numfmt import format_number
    from ..render import iter_result_json

    passed = all(c.passed for c in checks)
    if as_json:
        write_json(iter_result_json(result, nodes=nodes, gradcheck=gradcheck_dict(checks)))
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table()
        table.add_column("variable", overflow="fold")
        table.add_column("analytic", justify="right", no_wrap=True)
        table.add_column("numeric", justify="right", no_wrap=True)
        table.add_column("rel. error", justify="right", no_wrap=True)
        table.add_column("result", no_wrap=True)
        for c in checks:
            table.add_row(c.variable, format_number(c.analytic, digits),
                          "-" if c.numeric is None else format_number(c.numeric, digits),
                          "-" if c.relative_error is None else f"{c.relative_error:.1e}",
                          "pass" if c.passed else "FAIL")
        console = Console(highlight=False, emoji=False, markup=False)
        console.print(f"gradient check of {result.output} = {format_number(result.value, digits)}")
        console.print(table)
        for c in checks:
            if c.note:
                console.print(f"{c.variable}: {c.note}")
        console.print("numeric: central difference with h = 1e-6·max(1, |x|)")
        console.print("pass: |analytic - numeric| <= 1e-5 + 1e-3·|numeric|")
        bad = sum(not c.passed for c in checks)
        console.print("gradcheck passed" if passed else f"gradcheck FAILED for {bad} of {len(checks)} "
                      "partial derivatives")
    if not passed:
        sys.stdout.flush()
        if as_json:
            names = ", ".join(c.variable for c in checks if not c.passed)
            click.echo(f"error: gradcheck failed for {names}", err=True)
        sys.exit(1)


__all__ = ["eval_cmd", "EVAL_FORMATS", "EVAL_OPTION_NAMES", "run_points", "print_gradcheck"]
