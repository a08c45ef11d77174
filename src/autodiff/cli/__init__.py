"""The command line: argv -> library -> renderer. Library errors become one
message on stderr and an exit code; nothing here does math.

    __init__.py   main(), the group that loads each command on first use, the top-level help
    common.py     what the commands share: bindings, reading a program, the shared
                  options (`program_options`), the error wrapper (`guarded`)
    eval.py       `autodiff eval` (one point, batches, --gradcheck)
    graph.py      `autodiff graph` and `autodiff explain`
    check.py      `autodiff check`
    symbolic.py   `autodiff diff` and `autodiff codegen`
    functions.py  `autodiff functions`: the operations table as a help page

Exit codes: 0 success, 1 evaluation error, 2 input or usage error,
70 internal error (a bug: please report it), 74 output error, 130 interrupted.
"""

from __future__ import annotations

import sys
from typing import Any, Optional

import click

from .. import __version__
from ..errors import EXIT_INTERRUPTED, UsageProblem
from .common import OUTPUT_ERRNOS, ClosedStdout, FormatChoice, error_json, fail, output_failure

#: command -> (module, attribute, one line for the top-level help)
COMMANDS = {
    "eval": ("autodiff.cli.eval", "eval_cmd",
             "values, local factors, adjoints and the gradient (table or JSON)"),
    "graph": ("autodiff.cli.graph", "graph_cmd",
              "the computation graph as a tree, DOT, Mermaid, SVG, PNG or a page"),
    "explain": ("autodiff.cli.graph", "explain_cmd",
                "backpropagation narrated step by step, with numbers (or a page to step through)"),
    "check": ("autodiff.cli.check", "check_cmd", "regression cases from a TOML or JSON file"),
    "plot": ("autodiff.cli.plot", "plot_cmd",
             "a function, its derivative and the tangent at the point (terminal, SVG or PNG)"),
    "functions": ("autodiff.cli.functions", "functions_cmd",
                  "the functions, operators and constants, with their local derivatives"),
    "diff": ("autodiff.cli.symbolic", "diff_cmd",
             "the derivatives as formulas of the language (text, program, LaTeX, JSON)"),
    "codegen": ("autodiff.cli.symbolic", "codegen_cmd",
                "the value and gradient as Python, NumPy, C or JavaScript source"),
}


class _Group(click.Group):
    """Commands load their modules on first use, to keep start-up short."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> Optional[click.Command]:
        if name not in COMMANDS:
            return None
        import importlib

        module, attr, _ = COMMANDS[name]
        cmd: click.Command = getattr(importlib.import_module(module), attr)
        return cmd

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # From the table above: `--help` does not import every command.
        with formatter.section("Commands"):
            formatter.write_dl([(name, line) for name, (_, _, line) in COMMANDS.items()])

    def main(self, args: Any = None, prog_name: Optional[str] = None, complete_var: Optional[str] = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        """Click's errors (a bad option value, an unknown option) get the same
        treatment as autodiff's own: one `error:` line on stderr, and with
        --json a JSON error document on stdout; exit code 2. No arguments at
        all print the help."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        argv = list(sys.argv[1:] if args is None else args)
        if not argv:
            argv = ["--help"]
        if sys.stdout is None:  # started with stdout closed (`>&-`)
            sys.stdout = ClosedStdout()
        try:
            rv = super().main(argv, prog_name, complete_var, False, **extra)
            sys.stdout.flush()
        except OSError as exc:  # the help or the version cannot be written
            if exc.errno not in OUTPUT_ERRNOS:
                raise
            fail(output_failure(exc))
        except click.ClickException as exc:
            param = getattr(exc, "param", None)
            own = param is not None and isinstance(param.type, FormatChoice)  # names the choices
            problem = UsageProblem(exc.message if own and exc.message else exc.format_message())
            mode = _wants_json(argv)
            if mode:
                click.echo(error_json(problem, compact=mode == "ndjson"))
            command = next((a for a in argv if a in COMMANDS), "")
            helpline = f"autodiff {command} --help" if command else "autodiff --help"
            hint = f"\n  ({helpline} shows the options)" if isinstance(exc, click.UsageError) \
                and not own else ""
            click.echo(f"error: {problem.message}{hint}", err=True)
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            click.echo("interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)
        sys.exit(rv if isinstance(rv, int) else 0)


def _wants_json(argv: list[str]) -> Optional[str]:
    """Is the output JSON ("json": --json, --format json) or an NDJSON stream
    ("ndjson": --points without --format csv)? None otherwise."""
    formats = [argv[k + 1] for k, a in enumerate(argv[:-1]) if a == "--format"]
    formats += [a.partition("=")[2] for a in argv if a.startswith("--format=")]
    if any(a == "--points" or a.startswith("--points=") for a in argv):
        return None if "csv" in formats else "ndjson"
    return "json" if "--json" in argv or {"json", "ndjson"} & set(formats) else None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="autodiff")
def cli() -> None:
    """autodiff: differentiate a formula and show its computation graph.

    \b
    Example:
      autodiff eval "J = 3*(a + b*c)" --a 5 --b 3 --c 2

    Run `autodiff COMMAND --help` for each command's options; `autodiff eval
    --help` describes programs, bindings, output formats and exit codes, and
    `autodiff functions` lists the functions, operators and constants.
    """


def main() -> None:
    try:
        cli(prog_name="autodiff")
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)


__all__ = ["cli", "main", "COMMANDS"]
