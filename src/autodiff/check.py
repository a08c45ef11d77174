"""Regression tests as data: run a file of cases, each a program, bindings and
the expected value, partial derivatives or error.

A cases file is TOML (or JSON with the same structure, ``{"case": [...]}``):

    [[case]]
    name = "lecture"
    program = "J=3*(a+b*c)"          # or: file = "model.ad" (relative to the cases file)
    bindings = { a = 5, b = 3, c = 2 }
    expect = { value = 33, gradient = { a = 3, b = 6, c = 9 } }
    # optional: of = "u", rel = 1e-9, abs = 1e-12, gradcheck = true,
    #           expect = { error = "domain" }

A number matches when ``|got - expected| <= max(rel * |expected|, abs)``
(`math.isclose`), with defaults `REL` and `ABS`, settable per file (top-level
``rel``/``abs``) and per case. Only the partial derivatives listed under
``expect.gradient`` are compared. `update_file` rewrites the expected numbers
from the current results (the golden-file workflow), keeping a TOML file's
comments and layout (with tomlkit).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from .errors import ERROR_KINDS, AutodiffError, InputError, OutputError, escape_text
from .evaluate import Result, evaluate
from .numfmt import format_number, json_number
from .parser import parse

__all__ = ["REL", "ABS", "MAX_BYTES", "Case", "Outcome", "CasesFileError", "load_cases", "run_case",
           "update_file"]

REL = 1e-9
ABS = 1e-12
#: the largest cases file or program file read (bytes): a program at the
#: parser's 10,000,000-character default takes at most 4 bytes a character
MAX_BYTES = 40_000_000
_BOM = b"\xef\xbb\xbf"

_CASE_KEYS = {"name", "program", "file", "bindings", "of", "expect", "rel", "abs", "gradcheck"}
_EXPECT_KEYS = {"value", "gradient", "error", "hessian", "jacobian", "taylor", "exact"}
#: the expectations of issue 11 (higher_check.py), loaded only by a case that has one
_HIGHER_KEYS = {"hessian", "jacobian", "taylor", "exact"}


class CasesFileError(InputError):
    """A cases file that cannot be read or has the wrong structure (exit code 2)."""

    kind = "cases_file"


@dataclass
class Case:
    index: int  # 0-based position in the file
    name: str
    program: str
    source: str  # where the program came from ("" inline, else the file)
    bindings: dict[str, Any]  # floats; rationals ("1/3") in a case with expect.exact
    of: Optional[str]
    expect: dict[str, Any]
    rel: float
    abs: float
    gradcheck: bool
    #: the cases file's bytes as `load_cases` read them (`update_file` writes
    #: into this text, and refuses if the file has changed since)
    origin: bytes = field(default=b"", repr=False, compare=False)


@dataclass
class Outcome:
    case: Case
    passed: bool
    problems: list[str] = field(default_factory=list)
    result: Optional[Result] = None
    error: Optional[AutodiffError] = None

    def line(self) -> str:
        name = escape_text(self.case.name)
        if self.passed:
            return f"PASS {name}"
        return f"FAIL {name}: " + "; ".join(self.problems)


def _is_number(x: Any) -> bool:
    """A finite int or float that fits a double (a 400-digit integer does not)."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return False
    try:
        return math.isfinite(float(x))
    except OverflowError:
        return False


def _where(path: Path, message: str) -> CasesFileError:
    return CasesFileError(f"{escape_text(str(path))}: {message}")


def _read_bounded(path: Path, limit: int = MAX_BYTES) -> bytes:
    """At most `limit` bytes of `path` (an OSError if it cannot be read; a
    CasesFileError if it is longer: /dev/zero stops here, not at memory)."""
    with open(path, "rb") as fh:
        raw = fh.read(limit + 1)
    if len(raw) > limit:
        raise CasesFileError(f"{escape_text(str(path))} is larger than {limit:,} bytes")
    return raw


def _read(path: Path) -> tuple[dict[str, Any], bytes]:
    """The parsed cases file and the bytes it was parsed from."""
    try:
        raw = _read_bounded(path)
    except OSError as exc:
        raise CasesFileError(f"cannot read {escape_text(str(path))}: {exc.strerror}") from None
    return _parse(path, raw), raw


def _parse(path: Path, raw: bytes) -> dict[str, Any]:
    if raw.startswith(_BOM):  # a byte-order mark (Windows editors): not part of the text
        raw = raw[len(_BOM):]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _where(path, f"not valid UTF-8: byte 0x{raw[exc.start]:02x} at byte offset "
                           f"{exc.start}") from None
    if path.suffix.lower() == ".json":
        try:
            doc = json.loads(text, parse_constant=_no_constant)
        except ValueError as exc:
            line = getattr(exc, "lineno", None)
            msg = getattr(exc, "msg", str(exc))
            at = f":{line}:{exc.colno}" if line else ""  # type: ignore[attr-defined]
            raise CasesFileError(f"{escape_text(str(path))}{at}: not valid JSON: {msg}") from None
        except RecursionError:
            raise _where(path, "nested too deeply") from None
        if not isinstance(doc, dict):
            raise _where(path, 'the top level must be an object: {"case": [...]}')
        return doc
    try:
        import tomllib  # type: ignore[import-not-found,unused-ignore]
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[import-not-found,no-redef,unused-ignore]
    try:
        return tomllib.loads(text)  # type: ignore[no-any-return,unused-ignore]
    except RecursionError:
        raise _where(path, "nested too deeply") from None
    except (tomllib.TOMLDecodeError, ValueError) as exc:  # ValueError: a 5,000-digit integer
        msg = str(exc)
        m = re.search(r"\(at line (\d+), column (\d+)\)", msg)
        if m:
            msg = msg[:m.start()].strip()
            raise CasesFileError(f"{escape_text(str(path))}:{m.group(1)}:{m.group(2)}: "
                                 f"not valid TOML: {msg}") from None
        raise _where(path, f"not valid TOML: {msg}") from None


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not allowed (numbers must be finite)")


def load_cases(path: Path, updating: bool = False, *, allow_outside: bool = False) -> list[Case]:
    """Read and validate a cases file; raise CasesFileError naming the file
    (and the line, for syntax errors) and the case.

    A case's ``file =`` is a regular file inside the cases file's folder (no
    absolute path, no ``..`` or symbolic link leading out of it), read up to
    MAX_BYTES; `allow_outside` lifts the folder and regular-file rules."""
    doc, origin = _read(path)
    return _cases(path, doc, origin, updating, allow_outside)


def _program_file(path: Path, ref: str, what: str, allow_outside: bool) -> tuple[str, str]:
    """The text of a case's ``file = ref`` and its name for messages."""
    target = path.parent / ref
    shown = escape_text(str(target), 200)
    if not allow_outside:
        folder = os.path.realpath(path.parent)
        real = os.path.realpath(target)
        if os.path.isabs(ref) or os.path.commonpath([folder, real]) != folder:
            raise _where(path, f"{what}: file {escape_text(ref, 200)} is outside the cases file's "
                               "folder (only files inside it are read, unless --allow-outside)")
    try:
        regular = stat.S_ISREG(os.stat(target).st_mode)
        if not regular and not allow_outside:  # a FIFO would block, a device never end
            raise _where(path, f"{what}: {shown} is not a regular file")
        raw = _read_bounded(target)
    except OSError as exc:
        raise _where(path, f"{what}: cannot read {shown}: {exc.strerror}") from None
    except CasesFileError as exc:
        if "larger than" not in exc.message:
            raise
        raise _where(path, f"{what}: {shown} is larger than {MAX_BYTES:,} bytes: not a program") from None
    if raw.startswith(_BOM):
        raw = raw[len(_BOM):]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _where(path, f"{what}: {shown} is not valid UTF-8: not a program") from None
    if "\0" in text:
        raise _where(path, f"{what}: {shown} holds NUL bytes: not a program") from None
    return text, str(target)


def _cases(path: Path, doc: dict[str, Any], origin: bytes, updating: bool, allow_outside: bool
           ) -> list[Case]:
    unknown = set(doc) - {"case", "rel", "abs"}
    if unknown:
        raise _where(path, f"unknown top-level key {sorted(unknown)[0]!r} (expected case, rel, abs)")
    cases = doc.get("case")
    if not isinstance(cases, list) or not cases:
        raise _where(path, "no cases: write one or more [[case]] tables (JSON: {\"case\": [...]})")
    rel0 = _tolerance(path, doc, "rel", REL, "the file")
    abs0 = _tolerance(path, doc, "abs", ABS, "the file")
    out = []
    names: set[str] = set()
    for k, raw in enumerate(cases):
        what = f"case {k + 1}"
        if not isinstance(raw, dict):
            raise _where(path, f"{what} is not a table")
        name = raw.get("name", f"case {k + 1}")
        if not isinstance(name, str) or not name:
            raise _where(path, f"{what}: name must be a non-empty string")
        what = f"case {k + 1} ({escape_text(name)})"
        if name in names:
            raise _where(path, f"{what}: the name is used twice")
        names.add(name)
        extra = set(raw) - _CASE_KEYS
        if extra:
            raise _where(path, f"{what}: unknown key {sorted(extra)[0]!r} (expected "
                               f"{', '.join(sorted(_CASE_KEYS))})")
        if ("program" in raw) == ("file" in raw):
            raise _where(path, f"{what}: give exactly one of program and file")
        if "program" in raw:
            program, source = raw["program"], ""
            if not isinstance(program, str):
                raise _where(path, f"{what}: program must be a string")
        else:
            ref = raw["file"]
            if not isinstance(ref, str) or not ref or "\0" in ref:
                raise _where(path, f"{what}: file must be a non-empty string (a file name)")
            program, source = _program_file(path, ref, what, allow_outside)
        bindings = raw.get("bindings", {})
        exact = isinstance(raw.get("expect"), dict) and "exact" in raw["expect"]
        if not isinstance(bindings, dict) or not all(
                _is_number(v) or (exact and isinstance(v, str)) for v in bindings.values()):
            raise _where(path, f"{what}: bindings must be a table of finite numbers (each at most "
                               "about 1.8e308, the largest double)")
        of = raw.get("of")
        if of is not None and not isinstance(of, str):
            raise _where(path, f"{what}: of must be a string")
        expect = raw.get("expect", {})
        if not isinstance(expect, dict):
            raise _where(path, f"{what}: expect must be a table")
        bad = set(expect) - _EXPECT_KEYS
        if bad:
            raise _where(path, f"{what}: unknown key expect.{escape_text(sorted(bad)[0], 60)} "
                               "(expected value, gradient, error, hessian, jacobian, taylor or "
                               "exact)")
        if "value" in expect and not _is_number(expect["value"]):
            raise _where(path, f"{what}: expect.value must be a finite number (at most about "
                               "1.8e308, the largest double)")
        grad = expect.get("gradient", {})
        if not isinstance(grad, dict) or not all(_is_number(v) for v in grad.values()):
            raise _where(path, f"{what}: expect.gradient must be a table of finite numbers (each "
                               "at most about 1.8e308, the largest double)")
        if "error" in expect and (not isinstance(expect["error"], str)
                                  or {"value", "gradient"} & set(expect)):
            raise _where(path, f"{what}: expect.error is an error kind (a string such as "
                               "\"domain\"), and excludes value and gradient")
        if "error" in expect and expect["error"] not in ERROR_KINDS:
            import difflib

            close = difflib.get_close_matches(expect["error"], ERROR_KINDS, n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise _where(path, f"{what}: expect.error {_show_kind(expect['error'])} is not an error "
                               f"kind{hint} (kinds: {', '.join(ERROR_KINDS)})")
        gradcheck = raw.get("gradcheck", False)
        if not isinstance(gradcheck, bool):
            raise _where(path, f"{what}: gradcheck must be true or false")
        if _HIGHER_KEYS & set(expect):
            from .higher_check import validate

            problem = validate(expect)
            if problem is None and exact:
                from .rationals import to_fraction

                try:
                    for var, text in bindings.items():
                        to_fraction(text, var)
                except AutodiffError as exc:
                    problem = f"bindings: {exc.message}"
            if problem is not None:
                raise _where(path, f"{what}: {problem}")
        if not expect and not gradcheck and not updating:
            raise _where(path, f"{what}: nothing to check: give expect (value, gradient or error) "
                               "or gradcheck = true")
        out.append(Case(k, name, program, source,
                        {n: v if isinstance(v, str) else float(v) for n, v in bindings.items()}, of,
                        expect, _tolerance(path, raw, "rel", rel0, what),
                        _tolerance(path, raw, "abs", abs0, what), gradcheck, origin))
    return out


def _show_kind(kind: str) -> str:
    return '"' + escape_text(kind, 40) + '"'


def _tolerance(path: Path, table: dict[str, Any], key: str, default: float, what: str) -> float:
    if key not in table:
        return default
    x = table[key]
    if not _is_number(x) or x < 0:
        raise _where(path, f"{what}: {key} must be a finite number >= 0")
    return float(x)


def _evaluate(case: Case) -> Result:
    graph = parse(case.program, source=case.source)
    return evaluate(graph.select(case.of), _floats(case.bindings), keep_local=False,
                    allowed=set(graph.variables))


def _floats(bindings: dict[str, Any]) -> dict[str, Any]:
    """Bindings written as rationals ("1/3", for expect.exact) as floats."""
    if not any(isinstance(v, str) for v in bindings.values()):
        return bindings
    from .rationals import to_fraction

    return {k: float(to_fraction(v, k)) if isinstance(v, str) else v for k, v in bindings.items()}


def _compare(what: str, got: float, want: float, case: Case) -> Optional[str]:
    if math.isclose(got, want, rel_tol=case.rel, abs_tol=case.abs):
        return None
    return (f"{what} expected {format_number(want)} got {format_number(got)} "
            f"(difference {format_number(got - want)})")


def run_case(case: Case) -> Outcome:
    expect = case.expect
    try:
        result = _evaluate(case)
    except AutodiffError as exc:
        want = expect.get("error")
        if want == exc.kind:
            return Outcome(case, True, error=exc)
        if want is not None:
            return Outcome(case, False, [f"error expected {want} got {exc.kind}: {exc.message}"],
                           error=exc)
        return Outcome(case, False, [f"{exc.kind} error: {exc.message}"], error=exc)
    problems = []
    if "error" in expect:
        problems.append(f"error expected {expect['error']} got a value, "
                        f"{format_number(result.value)}")
    if "value" in expect:
        p = _compare("value", result.value, float(expect["value"]), case)
        if p:
            problems.append(p)
    gradient = result.gradient
    for name, want in expect.get("gradient", {}).items():
        if name not in gradient:
            shown = escape_text(name, 60)
            problems.append(f"gradient.{shown} expected {format_number(float(want))} but the output "
                            f"does not depend on {shown}")
            continue
        p = _compare(f"gradient.{escape_text(name, 60)}", gradient[name], float(want), case)
        if p:
            problems.append(p)
    if _HIGHER_KEYS & set(expect):
        from .higher_check import problems as higher_problems

        try:
            problems += higher_problems(case.program, case.bindings, case.of, expect,
                                        lambda what, got, want: _compare(what, got, want, case))
        except AutodiffError as exc:
            problems.append(f"{exc.kind} error: {exc.message}")
    if case.gradcheck:
        from .gradcheck import gradcheck

        try:
            checks = gradcheck(result)
        except AutodiffError as exc:  # too large to check
            checks = []
            problems.append(f"gradcheck: {exc.message}")
        for c in checks:
            if not c.passed:
                numeric = "undefined" if c.numeric is None else format_number(c.numeric)
                problems.append(f"gradcheck.{c.variable} analytic {format_number(c.analytic)} "
                                f"numeric {numeric}" + (f" ({c.note})" if c.note else ""))
    return Outcome(case, not problems, problems, result=result)


# ---------------------------------------------------------------- --update


def _new_expect(outcome: Outcome) -> dict[str, Any]:
    """The expected numbers as the current results give them: the keys the
    case already pins, or (when it pins none, or the kind changed) all of them."""
    old = outcome.case.expect
    if outcome.error is not None:
        return {"error": outcome.error.kind}
    result = outcome.result
    assert result is not None
    gradient = result.gradient
    keep_value = "value" in old
    keep_grad = old.get("gradient")
    higher = _HIGHER_KEYS & set(old)
    if not keep_value and not keep_grad and not higher:
        return {"value": json_number(result.value),
                "gradient": {k: json_number(v) for k, v in gradient.items()}}
    new: dict[str, Any] = {}
    if higher:
        from .higher_check import fill

        case = outcome.case
        new.update(fill(case.program, case.bindings, case.of, old))
    if keep_value:
        new["value"] = json_number(result.value)
    if keep_grad:
        new["gradient"] = {k: json_number(gradient[k]) for k in keep_grad if k in gradient}
    return new


def update_file(path: Path, outcomes: list[Outcome]) -> int:
    """Rewrite the expected numbers of `path` from `outcomes`; return how many
    cases changed. TOML keeps its comments and layout (tomlkit); JSON is
    rewritten with two-space indentation.

    The results go into the text that `load_cases` read (so case k is the
    case that ran as case k); if the file has changed since, nothing is
    written (CasesFileError). The new text goes to a temporary file in the
    same folder, is flushed to the disk, and then replaces the file in one
    step (`os.replace`), keeping its permissions, so an interruption or a
    full disk leaves the old file whole (OutputError, exit code 74)."""
    if not outcomes:
        return 0
    origin = outcomes[0].case.origin
    if not origin:  # cases built by hand, not by load_cases
        try:
            origin = _read_bounded(path)
        except OSError as exc:
            raise CasesFileError(f"cannot read {escape_text(str(path))}: {exc.strerror}") from None
    bom = _BOM if origin.startswith(_BOM) else b""
    text = origin[len(bom):].decode("utf-8")
    if path.suffix.lower() == ".json":
        changed, new_text = _update_json(text, outcomes)
    else:
        changed, new_text = _update_toml(text, outcomes)
    if text.endswith("\n") and not new_text.endswith("\n"):
        new_text += "\n"  # (tomlkit drops it after a key added to the last table)
    if changed:
        _replace(path, bom + new_text.encode("utf-8"), origin)
    return changed


def _update_json(text: str, outcomes: list[Outcome]) -> tuple[int, str]:
    doc = json.loads(text)
    changed = 0
    for o in outcomes:
        if not o.case.expect and o.case.gradcheck:
            continue  # a gradcheck-only case pins no numbers
        new = _new_expect(o)
        if doc["case"][o.case.index].get("expect") != new:
            doc["case"][o.case.index]["expect"] = new
            changed += 1
    return changed, json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _update_toml(text: str, outcomes: list[Outcome]) -> tuple[int, str]:
    import tomlkit
    import tomlkit.items

    tdoc = tomlkit.parse(text)
    cases = tdoc["case"]
    changed = 0
    for o in outcomes:
        if not o.case.expect and o.case.gradcheck:
            continue  # a gradcheck-only case pins no numbers
        table = cases[o.case.index]
        new = _new_expect(o)
        current = table.get("expect")
        if current is not None and _plain(current) == new:
            continue
        changed += 1
        same_keys = current is not None and set(current) == set(new) and (
            "gradient" not in new or set(current["gradient"]) == set(new["gradient"]))
        # A plain [case.expect] table is edited key by key (its comments stay);
        # dotted keys (expect.value = 1) are edited in place when the same keys
        # stay, and otherwise, like a changed inline table, written anew.
        plain_table = isinstance(current, tomlkit.items.Table) and not current.is_super_table()
        if current is None or not (same_keys or plain_table):
            if current is not None:
                del table["expect"]
            table["expect"] = _inline(new)
            continue
        for key in list(current):
            if key not in new:
                del current[key]
        for key, value in new.items():
            if key == "gradient":
                grad = current.get("gradient")
                if grad is None:
                    grad = tomlkit.inline_table()
                    current["gradient"] = grad
                for name in list(grad):
                    if name not in value:
                        del grad[name]
                for name, x in value.items():
                    grad[name] = x
            else:
                current[key] = value
    return changed, tomlkit.dumps(tdoc)


def _replace(path: Path, data: bytes, origin: bytes) -> None:
    """Write `data` over `path` in one step, if `path` still holds `origin`.

    A symbolic link stays a link: its target is replaced."""
    shown = escape_text(str(path), 200)
    target = os.path.realpath(path)
    folder = os.path.dirname(target)
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except OSError as exc:
        raise OutputError(f"cannot write {shown}: {exc.strerror}; the file is unchanged") from None
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(target) + ".",
                                   suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        try:
            now = _read_bounded(Path(target))
        except (OSError, CasesFileError):
            now = None
        if now is None or hashlib.sha256(now).digest() != hashlib.sha256(origin).digest():
            raise CasesFileError(f"{shown} changed while the cases ran; it was not updated "
                                 "(run check --update again)")
        os.replace(tmp, target)
        tmp = None
    except OSError as exc:
        why = exc.strerror or str(exc)
        raise OutputError(f"cannot write {shown}: {why}; the file is unchanged") from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    try:  # the rename itself on the disk (best effort: not every system allows it)
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


def _inline(new: dict[str, Any]) -> Any:
    """`new` as a TOML inline table written as people write them,
    ``{ value = 1, gradient = { x = 2 } }`` (tomlkit's own has no spaces)."""
    import tomlkit

    def text(table: dict[str, Any]) -> str:
        parts = [f"{tomlkit.key(k).as_string()} = "
                 f"{text(v) if isinstance(v, dict) else tomlkit.item(v).as_string()}"
                 for k, v in table.items()]
        return "{ " + ", ".join(parts) + " }" if parts else "{}"

    return tomlkit.parse("t = " + text(new))["t"]


def _plain(item: Any) -> Any:
    if hasattr(item, "unwrap"):
        return item.unwrap()
    return item
