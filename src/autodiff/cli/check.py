"""`autodiff check FILE`: run a file of regression cases (see check.py) and
report them as lines (the default), one JSON document, or JUnit XML for CI."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any, Callable

import click

from ..errors import UsageProblem, escape_text
from .common import FormatChoice, guarded, or_list


def _report_text(file: str, rows: list[tuple[Any, float]]) -> str:
    lines = [outcome.line() for outcome, _ in rows]
    passed = sum(o.passed for o, _ in rows)
    lines.append(f"{passed} passed, {len(rows) - passed} failed")
    return "\n".join(lines) + "\n"


def _case_dict(outcome: Any, seconds: float) -> dict[str, Any]:
    from ..numfmt import json_number

    doc: dict[str, Any] = {"name": outcome.case.name, "passed": outcome.passed,
                           "problems": list(outcome.problems)}
    if outcome.result is not None:
        doc["value"] = json_number(outcome.result.value)
    if outcome.error is not None:
        doc["error"] = {"kind": outcome.error.kind, "message": outcome.error.message}
    doc["seconds"] = round(seconds, 6)
    return doc


def _report_json(file: str, rows: list[tuple[Any, float]]) -> str:
    from ..render import dumps

    passed = sum(o.passed for o, _ in rows)
    return dumps({"schema": 1, "file": file, "passed": passed, "failed": len(rows) - passed,
                  "cases": [_case_dict(o, s) for o, s in rows]}) + "\n"


def _report_junit(file: str, rows: list[tuple[Any, float]]) -> str:
    """JUnit XML, the report format CI systems read: one testsuite, one
    testcase per case, a <failure> with what differs. Text is escaped as in
    every message (no control characters, which XML 1.0 cannot carry)."""
    import xml.etree.ElementTree as ET

    failed = sum(not o.passed for o, _ in rows)
    total = sum(s for _, s in rows)
    counts = {"tests": str(len(rows)), "failures": str(failed), "errors": "0", "skipped": "0",
              "time": f"{total:.6f}"}
    root = ET.Element("testsuites", {"name": "autodiff check", **counts})
    suite = ET.SubElement(root, "testsuite", {"name": escape_text(file), **counts})
    for outcome, seconds in rows:
        case = ET.SubElement(suite, "testcase", {"classname": escape_text(file),
                                                 "name": escape_text(outcome.case.name),
                                                 "time": f"{seconds:.6f}"})
        if not outcome.passed:
            problems = [escape_text(p) for p in outcome.problems]
            failure = ET.SubElement(case, "failure", {"message": "; ".join(problems),
                                                      "type": "mismatch" if outcome.error is None
                                                      else escape_text(outcome.error.kind)})
            failure.text = "\n".join(problems)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


#: --format of check: name -> (help, report writer)
CHECK_FORMATS: dict[str, tuple[str, Callable[[str, list[tuple[Any, float]]], str]]] = {
    "text": ("(default) one PASS or FAIL line per case, then the counts", _report_text),
    "json": ("one JSON object: the counts, and per case its name, passed, problems, value, "
             "error", _report_json),
    "junit": ("JUnit XML (one testsuite, a testcase per case), for CI systems", _report_junit),
}
_FORMAT = FormatChoice("check", {name: text for name, (text, _) in CHECK_FORMATS.items()})

CHECK_HELP = """Run the regression cases in FILE (TOML, or JSON: {{"case": [...]}}).

\b
Each case has a program (or file = "model.ad", relative to FILE), bindings,
and what to expect:
  [[case]]
  name = "lecture"
  program = "J=3*(a+b*c)"
  bindings = {{ a = 5, b = 3, c = 2 }}
  expect = {{ value = 33, gradient = {{ a = 3, b = 6, c = 9 }} }}
Optional keys: of = "NAME" (another output), rel and abs (tolerances, also
at the top of the file; defaults rel = 1e-9, abs = 1e-12: a number matches
when |got - expected| <= max(rel*|expected|, abs)), gradcheck = true (each
partial derivative against a central difference), and expect = {{ error =
"domain" }} for a case that must fail with that kind of error. Only the
partial derivatives listed under expect.gradient are compared.

\b
Prints one line per case (PASS name, or FAIL name: what differs, with the
expected and the computed number and their difference), then "N passed,
N failed". FILE '-' reads the cases from stdin (TOML, or JSON when it starts
with '{{'), each program written inline (no file =).

\b
Reports (--format):
{formats}

\b
--update rewrites the expected numbers from the current results (keeping a
TOML file's comments and layout) and prints what changed.

\b
Exit codes: 0 all cases passed (or --update wrote the file); 1 a case
failed; 2 the file cannot be read or is malformed (naming the file, and
the line for a syntax error); 70 internal error; 74 output error; 130
interrupted.
"""


@click.command("check", help=CHECK_HELP.format(formats=_FORMAT.describe()))
@click.argument("file", metavar="FILE")
@click.option("--format", "fmt", type=_FORMAT, default="text", metavar="FORMAT",
              help=f"The report: {or_list(list(CHECK_FORMATS))} (default text).")
@click.option("--update", is_flag=True, help="Rewrite the expected numbers from the current results.")
@click.option("--allow-outside", is_flag=True, help="Let a case's file = name any file (by default "
              "only regular files inside FILE's folder).")
@click.option("--debug", is_flag=True, help="Show a Python traceback for internal errors.")
@guarded(json_when=lambda p: p.get("fmt") == "json")
def check_cmd(file: str, fmt: str, update: bool, allow_outside: bool, debug: bool) -> None:
    from ..check import load_cases, run_case, update_file

    if update and fmt != "text":
        raise UsageProblem(f"--update rewrites FILE and prints what changed; --format {fmt} "
                           "reports a run without --update")
    if file == "-":
        if update:
            raise UsageProblem("--update rewrites FILE: cases from stdin have no file to rewrite")
        cases = _cases_from_stdin(load_cases)
    else:
        cases = load_cases(Path(file), updating=update, allow_outside=allow_outside)
    rows = []
    for case in cases:
        start = time.perf_counter()
        outcome = run_case(case)
        rows.append((outcome, time.perf_counter() - start))
        if fmt == "text":
            click.echo(outcome.line())
    failed = sum(not o.passed for o, _ in rows)
    if fmt == "text":
        click.echo(f"{len(rows) - failed} passed, {failed} failed")
    else:
        click.echo(CHECK_FORMATS[fmt][1]("<stdin>" if file == "-" else file, rows), nl=False)
    if update:
        changed = update_file(Path(file), [o for o, _ in rows])
        noun = "case" if changed == 1 else "cases"
        click.echo(f"updated {changed} {noun} in {file}", err=True)
        return
    if failed:
        sys.stdout.flush()
        sys.exit(1)


def _cases_from_stdin(load_cases: Callable[..., list[Any]]) -> list[Any]:
    """The cases on stdin (read up to the size limit), through the same
    loader as a file: written to a private temporary file, whose name is shown
    as <stdin> in messages. A case's `file =` is refused: there is no folder
    it could be relative to."""
    import json
    import tempfile

    from ..check import CasesFileError
    from .common import MAX_CHARS, read_text

    text, _ = read_text("-", max_chars=MAX_CHARS, what="the cases")
    suffix = ".json" if text.lstrip().startswith("{") else ".toml"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"stdin{suffix}"
        path.write_text(text, encoding="utf-8")
        try:
            doc = json.loads(text) if suffix == ".json" else _toml(text)
        except (ValueError, RecursionError):
            doc = {}  # load_cases reports it, with the line
        listed = doc.get("case", []) if isinstance(doc, dict) else []
        for k, case in enumerate(listed if isinstance(listed, list) else []):
            if isinstance(case, dict) and "file" in case:
                raise CasesFileError(f"<stdin>: case {k + 1}: file = is not available for cases "
                                     "read from stdin (write the program inline, or give the "
                                     "cases file's path)")
        try:
            return load_cases(path)
        except CasesFileError as exc:
            raise CasesFileError(exc.message.replace(escape_text(str(path)), "<stdin>")) from None


def _toml(text: str) -> Any:
    try:
        import tomllib  # type: ignore[import-not-found,unused-ignore]
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[import-not-found,no-redef,unused-ignore]
    return tomllib.loads(text)


__all__ = ["check_cmd", "CHECK_FORMATS"]
