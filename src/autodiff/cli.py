"""The command line: argv -> library -> renderer. Library errors become one
message on stderr and an exit code; nothing here does math.

Exit codes: 0 success, 1 evaluation error, 2 input or usage error,
70 internal error (a bug: please report it), 130 interrupted.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any, Callable, Iterable, NoReturn, Optional

import click

from . import __version__
from .errors import (
    EXIT_INPUT,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    AutodiffError,
    BindingError,
    InputError,
    UsageProblem,
    decode_utf8,
    escape_text,
)

_BINDING_VALUE = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_BINDING_OPTION = re.compile(r"--[A-Za-z_][A-Za-z0-9_]*(=|\Z)")

#: the default limit on a program's length, in characters (--max-chars)
MAX_CHARS = 10_000_000

#: option names of `eval`: a variable with one of these names is bound with -D NAME=VALUE
EVAL_OPTION_NAMES = ("file", "set", "json", "no-nodes", "of", "digits", "max-rows", "max-chars",
                     "debug", "help", "bindings", "points", "points-format", "format", "nodes",
                     "fail-fast", "gradcheck")


def parse_number(text: str, name: str) -> float:
    """A binding's value: a finite decimal number, ASCII only."""
    if not _BINDING_VALUE.match(text):
        shown = f"'{escape_text(text, 60)}'" if text else "an empty value"
        raise BindingError(f"the value for {name} is not a number: {shown} (write a decimal "
                           "number such as 5, -2.5 or 1e-3)", name)
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise BindingError(f"the value for {name} is too large for a double: {text}", name)
    return value


def parse_bindings(extra: list[str], sets: tuple[str, ...]) -> dict[str, float]:
    """Bindings from `--NAME VALUE`, `--NAME=VALUE` and `-D NAME=VALUE`. A name
    bound twice is an error (in a script, the second is usually a typo)."""
    out: dict[str, float] = {}

    def bind(name: str, value: str, how: str) -> None:
        if name in out:
            raise UsageProblem(f"{escape_text(name, 60)} is bound twice (again by {how})")
        out[name] = parse_number(value, name)

    k = 0
    while k < len(extra):
        arg = extra[k]
        if not arg.startswith("--"):
            raise UsageProblem(f"unexpected argument '{escape_text(arg, 60)}': bind variables "
                               "as --NAME VALUE or -D NAME=VALUE")
        name, eq, value = arg[2:].partition("=")
        if not _NAME.match(name):
            raise UsageProblem(f"no such option '--{escape_text(name, 60)}'; a variable binding "
                               "is --NAME VALUE with NAME a variable of the program (ASCII "
                               "letters, digits and _)")
        if not eq:
            if k + 1 >= len(extra):
                raise UsageProblem(f"--{name} needs a value: --{name} VALUE")
            k += 1
            value = extra[k]
        bind(name, value, f"--{name}")
        k += 1
    for item in sets:
        name, eq, value = item.partition("=")
        if not eq:
            raise UsageProblem(f"-D expects NAME=VALUE, got '{escape_text(item, 60)}'")
        if not _NAME.match(name):
            raise UsageProblem(f"-D {escape_text(item, 60)}: '{escape_text(name, 60)}' is not a name "
                               "(names are ASCII letters, digits and _, not starting with a digit; "
                               "no spaces around =)")
        bind(name, value, f"-D {name}=...")
    return out


def read_program(program: Optional[str], file: Optional[str], command: str = "eval"
                 ) -> tuple[str, str]:
    """The program text and where it came from ('' for the command line)."""
    if file is not None and program is not None:
        raise UsageProblem("give the program either as an argument or with -f FILE, not both")
    if file is None and program is None:
        raise UsageProblem(f"missing the program: autodiff {command} 'J = 3*(a + b*c)' --a 5 ...")
    if file is None and program != "-":
        assert program is not None
        return program, ""
    source = "<stdin>" if file in (None, "-") else str(file)
    try:
        if source == "<stdin>":
            raw = sys.stdin.buffer.read()
        else:
            with open(str(file), "rb") as fh:
                raw = fh.read()
    except OSError as exc:
        raise InputError(f"cannot read {escape_text(source)}: {exc.strerror}") from None
    return decode_utf8(raw, source), source


def write_json(pieces: Iterable[str]) -> None:
    """One JSON document on stdout, written in pieces (a large result is never
    held as one string)."""
    write = sys.stdout.write
    for chunk in pieces:
        write(chunk)
    write("\n")


def fail(error: AutodiffError, *, as_json: bool = False) -> NoReturn:
    if as_json:
        from .render import dumps, error_dict

        click.echo(dumps(error_dict(error)))
    click.echo(f"error: {error.render()}", err=True)
    sys.exit(error.exit_code)


def run_guarded(body: Callable[[], None], *, debug: bool, as_json: bool = False) -> None:
    """Run a command body, translating errors: library errors to their exit
    codes, a broken pipe to a quiet exit, Ctrl-C to 130, and a bug to 70."""
    try:
        body()
        sys.stdout.flush()
    except AutodiffError as exc:
        fail(exc, as_json=as_json)
    except BrokenPipeError:
        _quiet_broken_pipe()
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except (click.exceptions.Exit, click.ClickException, SystemExit):
        raise
    except Exception:  # noqa: BLE001 - the one place a bug becomes a message
        if debug:
            import traceback

            traceback.print_exc()
        click.echo("error: internal error in autodiff (a bug). Please report it with the command "
                   "you ran; --debug shows the traceback.", err=True)
        sys.exit(EXIT_INTERNAL)


def _quiet_broken_pipe() -> NoReturn:
    # The reader went away (`| head`): stop quietly. Point stdout at devnull so
    # that the interpreter's final flush does not complain.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass
    sys.exit(0)


class _Group(click.Group):
    """Commands load their modules on first use, to keep start-up short."""

    lazy = {
        "graph": ("autodiff.cli_graph", "graph_cmd"),
        "explain": ("autodiff.cli_graph", "explain_cmd"),
        "check": ("autodiff.cli_check", "check_cmd"),
        "plot": ("autodiff.cli_plot", "plot_cmd"),
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self._available()))

    def _available(self) -> list[str]:
        import importlib.util

        return [name for name, (mod, _) in self.lazy.items() if importlib.util.find_spec(mod)]

    def main(self, args: Any = None, prog_name: Optional[str] = None, complete_var: Optional[str] = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        """Click's errors (a bad option value, an unknown option) get the same
        treatment as autodiff's own: one `error:` line on stderr, and with
        --json a JSON error document on stdout; exit code 2."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        argv = list(sys.argv[1:] if args is None else args)
        try:
            rv = super().main(argv, prog_name, complete_var, False, **extra)
        except click.ClickException as exc:
            problem = UsageProblem(exc.format_message())
            if "--json" in argv:
                from .render import dumps, error_dict

                click.echo(dumps(error_dict(problem)))
            command = next((a for a in argv if a in self.commands or a in self.lazy), "")
            helpline = f"autodiff {command} --help" if command else "autodiff --help"
            hint = f"\n  ({helpline} shows the options)" if isinstance(exc, click.UsageError) else ""
            click.echo(f"error: {problem.message}{hint}", err=True)
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            click.echo("interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)
        sys.exit(rv if isinstance(rv, int) else 0)

    def get_command(self, ctx: click.Context, name: str) -> Optional[click.Command]:
        cmd = super().get_command(ctx, name)
        if cmd is None and name in self.lazy and name in self._available():
            import importlib

            mod, attr = self.lazy[name]
            cmd = getattr(importlib.import_module(mod), attr)
        return cmd


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="autodiff")
def cli() -> None:
    """autodiff: differentiate a formula and show its computation graph.

    \b
    Commands:
      eval     values, local factors, adjoints and the gradient (table or JSON)
      graph    the computation graph as a tree, DOT, Mermaid, SVG or PNG
      explain  backpropagation narrated step by step, with numbers
      check    regression cases from a TOML or JSON file
      plot     a function, its derivative and the tangent (terminal or SVG)

    \b
    Example:
      autodiff eval "J = 3*(a + b*c)" --a 5 --b 3 --c 2

    Run `autodiff COMMAND --help` for each command's options; `autodiff eval
    --help` describes the language, bindings, output formats and exit codes.
    """


EVAL_HELP = f"""Evaluate PROGRAM at the given variable values and differentiate it.

\b
PROGRAM is one or more statements separated by ';' or new lines:
  autodiff eval "J = 3*(a + b*c)" --a 5 --b 3 --c 2
  autodiff eval "u = b*c; v = a + u; J = 3*v" --a 5 --b 3 --c 2
  autodiff eval - --x 2 < model.ad        (the program from stdin)
  autodiff eval -f model.ad --x 2         (the program from a file)

\b
Bind every variable the output uses, after PROGRAM:
  --NAME VALUE, --NAME=VALUE   e.g. --a 5 --b=-2.5 --c 1e-3
  -D NAME=VALUE, --set ...     for any name, including the names of this
                               command's options: {', '.join(EVAL_OPTION_NAMES)}
Values are finite decimal numbers.

\b
Output: a table of every node (its operation, value, the local factor on
each incoming edge, and its adjoint), then the gradient. --json prints one
JSON object instead (schema 1, see the README).

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
Exit codes: 0 success; 1 evaluation error (a value or derivative undefined
or not finite, naming the node; a failed point; a failed gradcheck); 2 input
or usage error (syntax, unknown function, wrong number of arguments, bad
binding); 70 internal error; 130 interrupted.
"""


@cli.command("eval", help=EVAL_HELP, context_settings={
    "ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED, metavar="PROGRAM [BINDINGS]...")
@click.option("-f", "--file", "file", type=click.Path(dir_okay=False, allow_dash=True),
              help="Read the program from FILE ('-' for stdin).")
@click.option("-D", "--set", "sets", multiple=True, metavar="NAME=VALUE",
              help="Bind a variable (repeatable); works for any name.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (schema 1).")
@click.option("--no-nodes", is_flag=True, help="With --json: leave out the per-node trace.")
@click.option("--of", "output", metavar="NAME", help="Differentiate the assigned NAME instead of "
              "the last statement.")
@click.option("--digits", type=click.IntRange(1, 17), metavar="N",
              help="Show numbers in the table with N significant digits (default: all, "
              "shortest round-trip).")
@click.option("--max-rows", type=click.IntRange(2, None), default=200, show_default=True, metavar="N",
              help="Table rows to show before eliding the middle of a large graph.")
@click.option("--max-chars", type=click.IntRange(1, None), default=MAX_CHARS, show_default=True,
              metavar="N",
              help="Refuse programs longer than this many characters (a guard against runaway "
              "input; about 1 s of work per million characters).")
@click.option("--debug", is_flag=True, help="Show a Python traceback for internal errors.")
@click.option("--bindings", "bindings_json", metavar="JSON|@FILE", multiple=True,
              help="Bind variables from a JSON object, inline or @FILE (@- for stdin).")
@click.option("--points", metavar="FILE", help="Evaluate at every point of FILE ('-' for stdin): "
              "NDJSON or CSV; one result per point.")
@click.option("--points-format", type=click.Choice(["ndjson", "csv"]),
              help="The format of --points (default: by extension, .csv is CSV, else NDJSON).")
@click.option("--format", "output_format", type=click.Choice(["ndjson", "csv"]),
              help="With --points: the output format (default ndjson).")
@click.option("--nodes", is_flag=True, help="With --points: include each point's per-node trace.")
@click.option("--fail-fast", is_flag=True, help="With --points: stop at the first failing point.")
@click.option("--gradcheck", is_flag=True, help="Check each partial derivative against a central "
              "difference; exit 1 on a mismatch.")
def eval_cmd(args: tuple[str, ...], file: Optional[str], sets: tuple[str, ...], as_json: bool,
             no_nodes: bool, output: Optional[str], digits: Optional[int], max_rows: int,
             max_chars: int, debug: bool, bindings_json: tuple[str, ...], points: Optional[str],
             points_format: Optional[str], output_format: Optional[str], nodes: bool,
             fail_fast: bool, gradcheck: bool) -> None:
    batch = points is not None

    def body() -> None:
        program, extra = _split_program(args, file)
        _check_batch_options(batch, points_format, output_format, nodes, fail_fast, gradcheck)
        bindings = parse_bindings(extra, sets)
        from . import cli_pipeline

        program_stdin = program == "-" or file == "-"
        base = {}
        if len(bindings_json) > 1:
            raise UsageProblem("--bindings is given more than once: put the names in one JSON object")
        bindings_option = bindings_json[0] if bindings_json else None
        if bindings_option is not None:
            base = cli_pipeline.read_bindings_option(bindings_option, program_stdin or points == "-")
        text, source = read_program(program, file)
        from . import parser
        from .evaluate import evaluate

        graph = parser.parse(text, source=source, max_chars=max_chars)
        selected = graph.select(output)
        if points is not None:
            cli_pipeline.run_points(graph, selected, points, output_format=output_format or "ndjson",
                                    points_format=points_format, nodes=nodes, fail_fast=fail_fast,
                                    base=base, overrides=bindings,
                                    stdin_taken=program_stdin or bindings_option == "@-")
            return
        if base:
            bindings = {**base, **bindings}
        result = evaluate(selected, bindings, keep_local=not (as_json and no_nodes))
        if gradcheck:
            from .gradcheck import gradcheck as check_gradient

            cli_pipeline.print_gradcheck(result, check_gradient(result), as_json, not no_nodes)
            return
        if as_json:
            from .render import iter_json, iter_result_json, result_dict

            if no_nodes:
                write_json(iter_result_json(result))
            else:
                write_json(iter_json(result_dict(result)))
        else:
            _print_table(result, digits, max_rows)

    run_guarded(body, debug=debug, as_json=as_json or (batch and output_format != "csv"))


def _check_batch_options(batch: bool, points_format: Optional[str], output_format: Optional[str],
                         nodes: bool, fail_fast: bool, gradcheck: bool) -> None:
    if not batch:
        for given, name in ((points_format, "--points-format"), (output_format, "--format"),
                            (nodes, "--nodes"), (fail_fast, "--fail-fast")):
            if given:
                raise UsageProblem(f"{name} works with --points FILE")
    elif gradcheck:
        raise UsageProblem("--gradcheck checks one point; it does not work with --points")
    elif nodes and output_format == "csv":
        raise UsageProblem("--nodes adds the per-node trace to NDJSON lines; CSV has no room for it")


def _split_program(args: tuple[str, ...], file: Optional[str], command: str = "eval"
                   ) -> tuple[Optional[str], list[str]]:
    if file is not None:
        return None, list(args)
    if not args:
        return None, []
    first = args[0]
    if _BINDING_OPTION.match(first):  # --a or --a=5 where the program should be
        raise UsageProblem("the program comes first, then the bindings: "
                           f"autodiff {command} 'J = 3*(a + b*c)' --a 5 --b 3 --c 2 (a program that "
                           "starts with --NAME, like --x, can be written -(-x))")
    return first, list(args[1:])


def _print_table(result: Any, digits: Optional[int], max_rows: int) -> None:
    from rich.console import Console

    from .table import result_renderable

    console = Console(highlight=False, emoji=False, markup=False)
    console.print(result_renderable(result, digits=digits, max_rows=max_rows))


def main() -> None:
    try:
        cli(prog_name="autodiff")
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)


__all__ = ["cli", "main", "EXIT_INPUT"]
