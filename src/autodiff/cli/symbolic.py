"""`autodiff diff` and `autodiff codegen`: click only. They read the program
with the options every command shares (common.py) and call the library
(symbolic.py, codegen.py); each --format or --lang is one entry of a table."""

from __future__ import annotations

from typing import Any, Callable, Optional

import click

from ..errors import UsageProblem, escape_text
from .common import FormatChoice, ProgramArgs, ProgramCommand, guarded, or_list, program_options


def _no_bindings(prog: ProgramArgs, command: str) -> None:
    """diff and codegen write formulas and code: a binding or --digits is a mistake."""
    base, overrides = prog.bindings()
    given = list({**base, **overrides})
    if given:
        raise UsageProblem(f"{command} writes formulas for every point and takes no bindings "
                           f"(got a value for {escape_text(given[0], 60)}); to evaluate at a "
                           "point, use autodiff eval")
    if prog.digits is not None:
        raise UsageProblem(f"--digits does not apply to {command}: its numbers are written exactly")


def _written(prog: ProgramArgs, wrt: Optional[str]) -> Any:
    from ..symbolic import Written, derivative

    names = None
    if wrt is not None:
        names = [w.strip() for w in wrt.split(",") if w.strip()]
        if not names:
            raise UsageProblem("--wrt needs one or more variable names, separated by commas (--wrt x,y)")
    return Written(derivative(prog.select(prog.parse()), names))


def _json(w: Any) -> str:
    from ..render import dumps

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
_DIFF_FORMAT = FormatChoice("diff", {name: text for name, (text, _) in DIFF_FORMATS.items()})

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


@click.command("diff", cls=ProgramCommand, help=DIFF_HELP.format(formats=_DIFF_FORMAT.describe()))
@guarded(json_when=lambda p: p.get("fmt") == "json" or p.get("as_json"))
@program_options
@click.option("--wrt", metavar="X,Y", help="Differentiate with respect to these variables only "
              "(default: every variable the output depends on).")
@click.option("--format", "fmt", type=_DIFF_FORMAT, default="text", metavar="FORMAT",
              help=f"{or_list(list(DIFF_FORMATS))} (default text).")
@click.option("--json", "as_json", is_flag=True, help="Short for --format json.")
def diff_cmd(prog: ProgramArgs, wrt: Optional[str], fmt: str, as_json: bool) -> None:
    _no_bindings(prog, "diff")
    if as_json:
        fmt = "json"
    click.echo(DIFF_FORMATS[fmt][1](_written(prog, wrt)), nl=False)


#: --lang of codegen: name -> help
LANGS = {
    "python": "a Python function returning (value, {\"x\": df/dx, ...}), using math",
    "numpy": "the same over NumPy arrays (all points at once)",
    "c": "a C99 function returning the value, the gradient through pointers (link with -lm)",
    "javascript": "a JavaScript function returning [value, {x: df/dx, ...}]",
}
_LANG = FormatChoice("codegen", LANGS)

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


@click.command("codegen", cls=ProgramCommand, help=CODEGEN_HELP.format(langs=_LANG.describe()))
@guarded()
@program_options
@click.option("--lang", "lang", type=_LANG, metavar="LANG",
              help=f"{or_list(list(LANGS))} (required).")
@click.option("--function", "function", default="value_and_gradient", show_default=True,
              metavar="NAME", help="The generated function's name.")
def codegen_cmd(prog: ProgramArgs, lang: Optional[str], function: str) -> None:
    import re

    from ..codegen import generate

    if lang is None:
        raise UsageProblem(f"codegen needs --lang: {or_list(list(LANGS))}")
    _no_bindings(prog, "codegen")
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", function) or function.startswith("ad_"):
        raise UsageProblem(f"--function {escape_text(function, 60)}: write an identifier (ASCII "
                           "letters, digits and _, starting with a letter, not ad_)")
    click.echo(generate(prog.select(prog.parse()), lang, function=function), nl=False)



# diff and codegen share the program options but take no bindings and write
# numbers exactly: those options stay (so that using one gets a clear error)
# but are left out of the help.
for _cmd in (diff_cmd, codegen_cmd):
    for _param in _cmd.params:
        if _param.name in ("sets", "bindings_json", "digits") and isinstance(_param, click.Option):
            _param.hidden = True
        elif _param.name == "args":
            _param.metavar = "PROGRAM"

__all__ = ["diff_cmd", "codegen_cmd"]
