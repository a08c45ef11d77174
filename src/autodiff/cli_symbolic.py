"""`autodiff diff` and `autodiff codegen`: click only. They read the program
as `autodiff eval` does (cli.py) and call the library (symbolic.py,
codegen.py); each --format or --lang is one entry of a table."""

from __future__ import annotations

import re
from typing import Any, Callable, Optional

import click

from .cli import MAX_CHARS, _split_program, parse_bindings, read_program, run_guarded
from .errors import UsageProblem, escape_text

_CONTEXT = {"ignore_unknown_options": True, "allow_extra_args": True}


def _program_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    decorators = [
        click.argument("args", nargs=-1, type=click.UNPROCESSED, metavar="PROGRAM"),
        click.option("-f", "--file", "file", type=click.Path(dir_okay=False, allow_dash=True),
                     help="Read the program from FILE ('-' for stdin)."),
        click.option("--of", "output", metavar="NAME",
                     help="Use the assigned NAME as the output instead of the last statement."),
        click.option("--debug", is_flag=True, help="Show a Python traceback for internal errors."),
    ]
    for d in reversed(decorators):
        fn = d(fn)
    return fn


def _selected(args: tuple[str, ...], file: Optional[str], output: Optional[str], command: str) -> Any:
    program, extra = _split_program(args, file, command)
    if parse_bindings(extra, ()):
        raise UsageProblem(f"{command} writes formulas for every point and takes no bindings; to "
                           "evaluate at a point, use autodiff eval")
    text, source = read_program(program, file, command)
    from . import parser

    return parser.parse(text, source=source, max_chars=MAX_CHARS).select(output)


def _written(selected: Any, wrt: Optional[str]) -> Any:
    from .symbolic import Written, derivative

    names = None
    if wrt is not None:
        names = [w.strip() for w in wrt.split(",") if w.strip()]
        if not names:
            raise UsageProblem("--wrt needs one or more variable names, separated by commas (--wrt x,y)")
    return Written(derivative(selected, names))


def _json(w: Any) -> str:
    from .render import dumps

    return dumps(w.json()) + "\n"


#: --format of diff: name -> (help, writer)
DIFF_FORMATS: dict[str, tuple[str, Callable[[Any], str]]] = {
    "text": ("(default) one line per variable, `d/dx (x^2*sin(x)) = 2*x*sin(x) + x^2*cos(x)`, "
             "then the intermediates after `where:`", lambda w: w.text()),
    "program": ("a program of autodiff's language: the intermediates, then one statement dJ_dx "
                "per variable (parses back; --of dJ_dx selects one)", lambda w: w.program()),
    "latex": ("an align* environment (needs amsmath)", lambda w: w.latex()),
    "json": ("one JSON object: output, wrt, derivatives, names, intermediates, program; --json "
             "is short for --format json", _json),
}

DIFF_HELP = """Write the derivatives of PROGRAM as formulas of autodiff's own language.

\b
  autodiff diff "x^2*sin(x)"
  autodiff diff "u = b*c; v = a + u; J = 3*v" --wrt a,b
  autodiff diff -f model.ad --format program > gradient.ad
  autodiff diff "h = tanh(w*x + b); L = (h - y)^2/2" --format latex

\b
The adjoint program of the reverse sweep, built with the same operations
and simplified (constants folded; x*1, x+0, x*0, x^1, -(-x) removed):
a subexpression used more than once is a named intermediate, never
copied, so the output grows with the program, not exponentially. Each
formula parses back and evaluates to the gradient `autodiff eval` gives.

\b
Formats (--format):
{formats}

\b
Exit codes: 0 success; 2 input or usage error (bad program, unknown --wrt
name, a function whose derivative the language cannot write yet); 74
output error.
"""


def _describe(formats: dict[str, str]) -> str:
    import textwrap

    width = max(map(len, formats)) + 2
    return "\n".join(textwrap.fill(text, 76, initial_indent=f"  {name:<{width}}",
                                    subsequent_indent=" " * (width + 2))
                     for name, text in formats.items())


@click.command("diff", help=DIFF_HELP.format(formats=_describe(
    {name: text for name, (text, _) in DIFF_FORMATS.items()})), context_settings=_CONTEXT)
@_program_options
@click.option("--wrt", metavar="X,Y", help="Differentiate with respect to these variables only "
              "(default: every variable the output depends on).")
@click.option("--format", "fmt", type=click.Choice(list(DIFF_FORMATS)), default="text",
              metavar="FORMAT", help=f"{', '.join(DIFF_FORMATS)} (default text).")
@click.option("--json", "as_json", is_flag=True, help="Short for --format json.")
def diff_cmd(args: tuple[str, ...], file: Optional[str], output: Optional[str], debug: bool,
             wrt: Optional[str], fmt: str, as_json: bool) -> None:
    def body() -> None:
        written = _written(_selected(args, file, output, "diff"), wrt)
        click.echo(DIFF_FORMATS["json" if as_json else fmt][1](written), nl=False)

    run_guarded(body, debug=debug, as_json=as_json or fmt == "json")


#: --lang of codegen: name -> help
LANGS = {
    "python": "a Python function returning (value, {\"x\": df/dx, ...}), using math",
    "numpy": "the same over NumPy arrays (all points at once)",
    "c": "a C99 function returning the value, the gradient through pointers (link with -lm)",
    "javascript": "a JavaScript function returning [value, {x: df/dx, ...}]",
}

CODEGEN_HELP = """Write source code computing PROGRAM's value and gradient.

\b
  autodiff codegen "J = 3*(a + b*c)" --lang python
  autodiff codegen -f model.ad --lang c > model.c
  autodiff codegen -f model.ad --lang javascript --function model

\b
Straight-line code: the forward sweep then the reverse sweep, one
assignment per node, the program's names kept (renamed with a trailing _
where they clash with the language's keywords or library: int -> int_),
numbers written exactly, and a header comment saying what it computes
and from which program. Where `autodiff eval` stops with an error, the
code returns inf or NaN (C, JavaScript, NumPy) or raises (Python).

\b
Languages (--lang):
{langs}

\b
Exit codes: 0 success; 2 input or usage error (bad program, a function
the language has no spelling for yet); 74 output error.
"""


@click.command("codegen", help=CODEGEN_HELP.format(langs=_describe(LANGS)), context_settings=_CONTEXT)
@_program_options
@click.option("--lang", "lang", type=click.Choice(list(LANGS)), required=True, metavar="LANG",
              help=f"{', '.join(LANGS)}.")
@click.option("--function", "function", default="value_and_gradient", show_default=True,
              metavar="NAME", help="The generated function's name.")
def codegen_cmd(args: tuple[str, ...], file: Optional[str], output: Optional[str], debug: bool,
                lang: str, function: str) -> None:
    def body() -> None:
        from .codegen import generate

        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", function) or function.startswith("ad_"):
            raise UsageProblem(f"--function {escape_text(function, 60)}: write an identifier "
                               "(ASCII letters, digits and _, starting with a letter, not ad_)")
        selected = _selected(args, file, output, "codegen")
        click.echo(generate(selected, lang, function=function), nl=False)

    run_guarded(body, debug=debug)


__all__ = ["diff_cmd", "codegen_cmd"]
