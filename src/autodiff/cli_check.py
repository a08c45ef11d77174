"""`autodiff check FILE`: run a file of regression cases (see check.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .cli import run_guarded

CHECK_HELP = """Run the regression cases in FILE (TOML, or JSON: {"case": [...]}).

\b
Each case has a program (or file = "model.ad", relative to FILE), bindings,
and what to expect:
  [[case]]
  name = "lecture"
  program = "J=3*(a+b*c)"
  bindings = { a = 5, b = 3, c = 2 }
  expect = { value = 33, gradient = { a = 3, b = 6, c = 9 } }
Optional keys: of = "NAME" (another output), rel and abs (tolerances, also
at the top of the file; defaults rel = 1e-9, abs = 1e-12: a number matches
when |got - expected| <= max(rel*|expected|, abs)), gradcheck = true (each
partial derivative against a central difference), and expect = { error =
"domain" } for a case that must fail with that kind of error. Only the
partial derivatives listed under expect.gradient are compared.

\b
Prints one line per case (PASS name, or FAIL name: what differs, with the
expected and the computed number and their difference), then "N passed,
N failed".

\b
--update rewrites the expected numbers from the current results (keeping a
TOML file's comments and layout) and prints what changed.

\b
Exit codes: 0 all cases passed (or --update wrote the file); 1 a case
failed; 2 the file cannot be read or is malformed (naming the file, and
the line for a syntax error); 70 internal error; 130 interrupted.
"""


@click.command("check", help=CHECK_HELP)
@click.argument("file", metavar="FILE")
@click.option("--update", is_flag=True, help="Rewrite the expected numbers from the current results.")
@click.option("--debug", is_flag=True, help="Show a Python traceback for internal errors.")
def check_cmd(file: str, update: bool, debug: bool) -> None:
    def body() -> None:
        from .check import load_cases, run_case, update_file

        path = Path(file)
        cases = load_cases(path, updating=update)
        outcomes = []
        for case in cases:
            outcome = run_case(case)
            outcomes.append(outcome)
            click.echo(outcome.line())
        passed = sum(o.passed for o in outcomes)
        failed = len(outcomes) - passed
        click.echo(f"{passed} passed, {failed} failed")
        if update:
            changed = update_file(path, outcomes)
            noun = "case" if changed == 1 else "cases"
            click.echo(f"updated {changed} {noun} in {file}", err=True)
            return
        if failed:
            sys.stdout.flush()
            sys.exit(1)

    run_guarded(body, debug=debug)
