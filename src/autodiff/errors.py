"""Typed errors. Each carries what its message needs; the CLI only translates them.

Exit codes (documented in the README): 0 success, 1 evaluation error,
2 input or usage error, 70 internal error, 74 input/output error (a file or
stdout that cannot be read or written), 130 interrupted.
"""

from __future__ import annotations

from typing import Any, Optional

__all__ = [
    "AutodiffError",
    "InputError",
    "SyntaxProblem",
    "ProgramError",
    "UsageProblem",
    "BindingError",
    "EvaluationError",
    "OutputError",
    "escape_text",
]

#: every `kind` an error can have (JSON `error.kind`; `expect.error` in check files)
ERROR_KINDS = ("syntax", "unknown_function", "arity", "name", "number", "statement", "empty",
               "usage", "binding", "program", "input", "point", "cases_file", "missing_tool", "io",
               "domain", "division_by_zero", "overflow", "derivative", "inexact")

EXIT_OK = 0
EXIT_EVALUATION = 1
EXIT_INPUT = 2
EXIT_INTERNAL = 70
EXIT_IO = 74  # sysexits.h EX_IOERR
EXIT_INTERRUPTED = 130


def escape_text(text: str, limit: int = 0) -> str:
    """Show control, zero-width and bidi characters as escapes, so that no
    terminal or markup interprets user text inside a message; with `limit`,
    cut text longer than that many characters (with "...")."""
    if limit and len(text) > limit:
        return escape_text(text[:limit]) + "..."
    out = []
    for ch in text:
        code = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif code < 0x20 or code == 0x7F or 0x80 <= code < 0xA0:
            out.append({"\n": "\\n", "\t": "\\t", "\r": "\\r"}.get(ch, f"\\x{code:02x}"))
        elif (code in _INVISIBLE or 0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069
              or 0xD800 <= code <= 0xDFFF):  # bidi controls, and lone surrogates
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


_INVISIBLE = {0x00AD, 0x034F, 0x061C, 0x180E, 0x200B, 0x200C, 0x200D, 0x200E, 0x200F,
              0x2028, 0x2029, 0x2060, 0xFEFF}


def decode_utf8(raw: bytes, source: str) -> str:
    """`raw` as UTF-8 text; invalid bytes are an InputError naming `source`
    (a file name, "<stdin>") and the first bad byte's offset."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{escape_text(source)} is not valid UTF-8: byte 0x{raw[exc.start]:02x} "
                         f"at byte offset {exc.start}") from None


def name_list(names: list[str], limit: int = 8) -> str:
    """`a, b, c`, or `a, b, ... and 99,990 more` for long lists; each name cut to 60 characters."""
    shown = [escape_text(n, 60) for n in names[:limit]]
    more = len(names) - len(shown)
    return ", ".join(shown) + (f", ... and {more:,} more" if more > 0 else "")


class AutodiffError(Exception):
    """Base class of every error autodiff reports to a user."""

    kind = "error"
    exit_code = EXIT_INPUT

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def details(self) -> dict[str, Any]:
        """Extra JSON fields for this error (position, node, ...)."""
        return {}

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message, **self.details()}

    def render(self) -> str:
        """The full text shown on stderr (without the leading 'error: ')."""
        return self.message


class InputError(AutodiffError):
    """Bad input that is the user's to fix (exit code 2)."""

    kind = "input"


class SyntaxProblem(InputError):
    """A syntax error (or an unknown function, a wrong number of arguments, a
    name problem) at a position in the program text."""

    kind = "syntax"

    def __init__(self, message: str, text: str, pos: int, *, kind: Optional[str] = None,
                 expected: Optional[list[str]] = None, source: str = "") -> None:
        super().__init__(message)
        if kind:
            self.kind = kind
        self.text = text
        self.pos = pos
        self.expected = expected or []
        self.source = source  # e.g. a file name; "" for the command line
        self.line, self.column, self.line_text = locate(text, pos)

    def details(self) -> dict[str, Any]:
        d: dict[str, Any] = {"line": self.line, "column": self.column}
        if self.expected:
            d["expected"] = self.expected
        return d

    def render(self) -> str:
        where = f"{self.source}:" if self.source else ""
        return (f"{self.message}\n  at {where}line {self.line}, column {self.column}:\n"
                + _quote(self.line_text, self.column))


def _quote(line: str, column: int) -> str:
    """The program line, escaped, with a caret under `column` (at most ~120
    columns around it)."""
    start = max(0, column - 1 - 60)
    shown_before = escape_text(line[start:column - 1])
    shown = escape_text(line[start:start + 120])
    prefix = "..." if start else ""
    suffix = "..." if len(line) > start + 120 else ""
    caret = " " * (len(prefix) + len(shown_before)) + "^"
    return f"    {prefix}{shown}{suffix}\n    {caret}"


def locate(text: str, pos: int) -> tuple[int, int, str]:
    """1-based line and column of character offset `pos`, and that line's text."""
    pos = max(0, min(pos, len(text)))
    line = text.count("\n", 0, pos) + 1
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    if end < 0:
        end = len(text)
    return line, pos - start + 1, text[start:end].rstrip("\r")


class UsageProblem(InputError):
    """A command line that autodiff cannot read (bindings before the program, ...)."""

    kind = "usage"


class ProgramError(InputError):
    """A well-formed program that is not valid as a whole (no such output, ...)."""

    kind = "program"


class BindingError(InputError):
    """A missing, unused, or malformed variable binding. `hint` says how to
    bind it on the command line (shown on stderr, not part of JSON records)."""

    kind = "binding"

    def __init__(self, message: str, name: Optional[str] = None, hint: str = "") -> None:
        super().__init__(message)
        self.name = name
        self.hint = hint

    def details(self) -> dict[str, Any]:
        return {"name": self.name} if self.name is not None else {}

    def render(self) -> str:
        return self.message + (f"\n  hint: {self.hint}" if self.hint else "")


class OutputError(AutodiffError):
    """Output that cannot be written: stdout closed or on a full disk, a file
    that cannot be replaced (exit code 74). The message says what and why:
    ``cannot write <stdout>: No space left on device``."""

    kind = "io"
    exit_code = EXIT_IO


class EvaluationError(AutodiffError):
    """A value or local derivative that is undefined or not finite (exit code 1).

    `node` is the node's name, `op` its operation, `expression` how it reads
    (``log(t1)``), `inputs` the names and values of its inputs.
    """

    exit_code = EXIT_EVALUATION

    def __init__(self, kind: str, message: str, *, node: str, op: str, expression: str,
                 inputs: list[tuple[str, float]], hint: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.node = node
        self.op = op
        self.expression = expression
        self.inputs = inputs
        self.hint = hint
        #: where in the program the node comes from (set by `place`), else 0
        self.line = self.column = 0
        self.line_text = ""

    def place(self, text: str, pos: int) -> None:
        """Say where in the program `text` the node comes from (its operator,
        function name or assigned name, at offset `pos`)."""
        self.line, self.column, self.line_text = locate(text, pos)

    def details(self) -> dict[str, Any]:
        from .numfmt import json_number

        d: dict[str, Any] = {"node": self.node, "op": self.op, "expression": self.expression,
                             "inputs": {n: json_number(v) for n, v in self.inputs}}
        if self.line:
            d["line"] = self.line
            d["column"] = self.column
        if self.hint:
            d["hint"] = self.hint
        return d

    def render(self) -> str:
        text = self.message
        if self.line:
            text += f"\n  at line {self.line}, column {self.column}:\n" + _quote(self.line_text,
                                                                              self.column)
        return text + (f"\n  hint: {self.hint}" if self.hint else "")
