"""Batches of points: many binding sets in, one result per point out, streaming.

Points are NDJSON (one JSON object per line) or CSV with a header row of
variable names. The program is parsed, selected and compiled once
(`compile.compile_graph`); each point then runs the compiled sweeps, and only a
point that fails there (a domain error, an overflow, a malformed binding) is
evaluated again by the interpreter, which raises the typed error naming the
node, so a batch's error records say exactly what `eval` says for that point.

Output streams as the input streams: the input is read in chunks as they
arrive (`read1`), and the results for each chunk are written and flushed
before the next read, so memory stays constant for any number of points and a
slow producer sees its results promptly.

A bad point becomes an error record in its place, ``{"schema": 1, "line": n,
"error": {...}}`` (or a CSV row with the ``error`` column filled), and the
batch goes on, unless `fail_fast`.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import os
import re
import stat
from dataclasses import dataclass, field
from typing import IO, Any, Callable, Iterator, Mapping, Optional, Union

from .compile import compile_graph
from .errors import AutodiffError, BindingError, InputError, UsageProblem, escape_text
from .evaluate import Result, evaluate
from .graph import Graph
from .ops import CONSTANTS
from .render import SCHEMA_VERSION, error_dict, result_dict

__all__ = ["BatchOptions", "BatchSummary", "PointError", "run_batch", "read_bindings_json",
           "CHUNK", "MAX_LINE"]

#: bytes read from the input at a time (at most; a pipe gives what it has)
CHUNK = 1 << 16
#: longest accepted input line (a longer one is an error record, and skipped)
MAX_LINE = 16 << 20

_EXACT = 2.0**53
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


class PointError(InputError):
    """A line of the points input that is not a binding set (not JSON, not an
    object, a CSV row with the wrong number of cells, invalid UTF-8)."""

    kind = "point"


@dataclass
class BatchOptions:
    output_format: str = "ndjson"  # or "csv"
    points_format: str = "ndjson"  # or "csv"
    nodes: bool = False  # include the per-node trace (interpreted)
    fail_fast: bool = False
    #: bindings for every point: `base` under the point's own, `overrides` over them
    base: dict[str, float] = field(default_factory=dict)
    overrides: dict[str, float] = field(default_factory=dict)
    compile: bool = True  # False: interpret every point (for tests and comparison)
    columnar: bool = True  # CSV points on NumPy arrays when NumPy is installed (columnar.py)


@dataclass
class BatchSummary:
    points: int = 0
    failed: int = 0
    #: the first few failures: (line, error)
    failures: list[tuple[int, AutodiffError]] = field(default_factory=list)
    stopped: bool = False  # fail_fast stopped the batch


def _num(x: float) -> str:
    """JSON text of a finite double, as `json.dumps(json_number(x))` writes it:
    an integral value below 2^53 without its ".0" (its repr is then exactly
    the integer's digits and ".0"), anything else as repr, -0.0 included."""
    text = repr(x)
    if text[-2:] == ".0" and -_EXACT < x < _EXACT and text != "-0.0":
        return text[:-2]
    return text


def _show(text: str) -> str:
    """User text for a message: escaped, lone surrogates too, and shortened."""
    text = escape_text(text.encode("utf-8", "backslashreplace").decode("utf-8"))
    return text if len(text) <= 60 else text[:57] + "..."


def read_bindings_json(text: str, source: str = "--bindings") -> dict[str, float]:
    """A JSON object of finite numbers (the `--bindings` option's value)."""
    try:
        obj = json.loads(text, parse_constant=_refuse_constant,
                         object_pairs_hook=lambda pairs: _no_duplicates(pairs, source))
    except ValueError as exc:
        raise BindingError(f"{source} is not valid JSON: {_show(str(exc))}") from None
    except RecursionError:
        raise BindingError(f"{source} is not a JSON object of numbers: nested too deeply") from None
    if not isinstance(obj, dict):
        raise BindingError(f"{source} must be a JSON object of variable names and numbers, "
                           f"like {{\"a\": 5}}; got {type(obj).__name__}")
    return _checked_values(obj, source)


def _no_duplicates(pairs: list[tuple[str, Any]], source: str) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) < len(pairs):
        seen: set[str] = set()
        twice = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise BindingError(f"{source}: {_show(twice)} is bound twice in the JSON object", twice)
    return obj


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a finite number")


def _checked_values(obj: Mapping[str, Any], where: str = "") -> dict[str, float]:
    out: dict[str, float] = {}
    prefix = f"{where}: " if where else ""
    for name, value in obj.items():
        if not (name and set(name) <= _NAME_CHARS and not name[0].isdigit()):
            raise BindingError(f"{prefix}'{_show(name)}' is not a variable name")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            shown = _show(json.dumps(value, ensure_ascii=True))
            raise BindingError(f"{prefix}the value for {name} is not a number: {shown}", name)
        try:
            x = float(value)
        except OverflowError:
            raise BindingError(f"{prefix}the value for {name} is too large for a double", name) from None
        if not math.isfinite(x):
            raise BindingError(f"{prefix}the value for {name} is too large for a double", name)
        out[name] = x
    return out


# ---------------------------------------------------------------- reading


def _lines(stream: IO[bytes], before_read: Callable[[], None]
           ) -> Iterator[tuple[int, Optional[bytes]]]:
    """(line number, line without its end) for each line of `stream`, read in
    chunks, or (line number, None) for a line longer than MAX_LINE (the rest
    of it is skipped); `before_read` runs before each read (the writer
    flushes there)."""
    number = 0
    rest = b""
    skipping = False
    read = getattr(stream, "read1", stream.read)
    while True:
        before_read()
        data = read(CHUNK)
        if not data:
            break
        parts = (rest + data).split(b"\n") if rest else data.split(b"\n")
        rest = parts.pop()
        for line in parts:
            number += 1
            if skipping:  # the end of an overlong line, reported already
                skipping = False
                continue
            yield number, line
        if len(rest) > MAX_LINE:
            if not skipping:
                yield number + 1, None
                skipping = True
            rest = b""
    if rest and not skipping:
        yield number + 1, rest


def _ndjson_points(stream: IO[bytes], before_read: Callable[[], None]
                   ) -> Iterator[tuple[int, Union[dict[str, Any], AutodiffError, None]]]:
    decode = json.JSONDecoder(parse_constant=_refuse_constant).decode
    for number, line in _lines(stream, before_read):
        if line is None:
            yield number, PointError(f"line {number} is longer than {MAX_LINE} bytes")
            continue
        try:
            obj = decode(line.decode("utf-8"))
        except UnicodeDecodeError as exc:
            yield number, PointError(f"line {number} is not valid UTF-8 (byte 0x{line[exc.start]:02x} "
                                     f"at byte {exc.start + 1} of the line)")
            continue
        except ValueError as exc:
            if not line.strip():
                yield number, None  # a blank line: no point, no output
                continue
            yield number, PointError(f"line {number} is not valid JSON: {_show(str(exc))}")
            continue
        except RecursionError:
            yield number, PointError(f"line {number} is not a binding set: nested too deeply")
            continue
        if type(obj) is not dict:
            yield number, PointError(f"line {number} is not a JSON object of variable values "
                                     f"(got {type(obj).__name__})")
            continue
        yield number, obj


def _csv_points(stream: IO[bytes], before_read: Callable[[], None],
                parse_value: Callable[[str, str], float], allowed: Optional[set[str]] = None
                ) -> Iterator[tuple[int, Union[dict[str, Any], AutodiffError, None]]]:
    """Rows of a CSV file with a header row of variable names; values are
    parsed with `parse_value(text, name)` (the CLI's strict decimal rule). A
    header naming a variable outside `allowed` fails the whole batch (every
    row would fail)."""
    state = {"line": 0, "too_long": 0}

    def text_lines() -> Iterator[str]:
        for number, raw in _lines(stream, before_read):
            state["line"] = number
            if raw is None:
                state["too_long"] = number
                yield "\n"
                continue
            yield raw.rstrip(b"\r").decode("utf-8", "surrogateescape") + "\n"

    reader = csv.reader(text_lines(), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise PointError(f"the CSV header (line 1) is malformed: {exc}") from None
    if header is None:
        return
    names = [h.strip() for h in header]
    for name in names:
        if not (name and set(name) <= _NAME_CHARS and not name[0].isdigit()):
            raise PointError(f"the CSV header (line 1) must be variable names; '{_show(name)}' "
                             "is not one")
    unknown = [n for n in names if allowed is not None and n not in allowed]
    if unknown:
        used = ", ".join(sorted(allowed or ())) or "none"
        raise BindingError(f"the CSV header (line 1) names {unknown[0]}, but the program does not use "
                           f"{unknown[0]} (its variables: {used})", unknown[0])
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise PointError(f"the CSV header (line 1) names {dup} twice")
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield state["line"], PointError(f"line {state['line']} is not valid CSV: {exc}")
            continue
        number = state["line"]
        if state["too_long"] == number:
            yield number, PointError(f"line {number} is longer than {MAX_LINE} bytes")
            continue
        if not row or row == [""]:
            yield number, None
            continue
        if len(row) != len(names):
            yield number, PointError(f"line {number} has {len(row)} cells; the header has "
                                     f"{len(names)}")
            continue
        if any("\udc80" <= ch <= "\udcff" for cell in row for ch in cell):
            yield number, PointError(f"line {number} is not valid UTF-8")
            continue
        try:
            yield number, {name: parse_value(cell.strip(), name)
                           for name, cell in zip(names, row, strict=True)}
        except AutodiffError as exc:
            yield number, exc


# ---------------------------------------------------------------- the batch


class _Writer:
    """Collects output text and writes it in chunks; `flush` writes what is pending."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.parts: list[str] = []
        #: append a short line (the caller flushes at least once per input chunk)
        self.append = self.parts.append

    def add(self, text: str) -> None:
        self.parts.append(text)
        if len(self.parts) >= 256:
            self.flush()

    def flush(self) -> None:
        if self.parts:
            self.out.write("".join(self.parts).encode("utf-8"))
            self.parts.clear()
        self.out.flush()


class _CsvSink:
    def __init__(self, writer: _Writer) -> None:
        self.write = writer.add


def run_batch(full: Graph, selected: Graph, stream: IO[bytes], out: IO[bytes], options: BatchOptions,
              *, parse_value: Optional[Callable[[str, str], float]] = None,
              progress: Optional[Callable[[int, int], None]] = None) -> BatchSummary:
    """Evaluate `selected` (the output's graph, from `full.select`) at every
    point of `stream`, writing one result per point to `out`."""
    if options.columnar and options.compile and options.points_format == "csv" and parse_value:
        columnar = _columnar(stream)
        if columnar is not None:
            done = columnar(full, selected, stream, out, options, parse_value=parse_value, progress=progress)
            if done is not None:
                return done
    allowed = set(full.variables)
    required = selected.output_variables()
    required_set = set(required)
    out_name = selected.output_name
    # Compiling costs about as much as interpreting len(selected)/1000 points
    # (1 s for 20,000 nodes), so a large graph's first points are interpreted
    # and the graph is compiled only once the batch has that many points.
    want_compiled = options.compile and not options.nodes
    compile_after = len(selected) // 1000
    compiled = compile_graph(selected) if want_compiled and compile_after == 0 else None
    writer = _Writer(out)
    summary = BatchSummary()
    as_csv = options.output_format == "csv"
    base, overrides = options.base, options.overrides
    dumps = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode

    if as_csv:
        for reserved in ("line", "error"):
            if reserved in required_set:
                raise UsageProblem(f"a variable named {reserved} clashes with the CSV column "
                                   f"{reserved}; use NDJSON output for this program")
        csv_out = csv.writer(_CsvSink(writer), lineterminator="\n")
        csv_out.writerow(["line", *required, out_name, *(f"d{out_name}/d{v}" for v in required),
                          "error"])

    def before_read() -> None:
        writer.flush()
        if progress is not None:
            progress(summary.points, 0)

    if options.points_format == "csv":
        if parse_value is None:
            raise UsageProblem("CSV points need a number parser")
        points = _csv_points(stream, before_read, parse_value, allowed)
    else:
        points = _ndjson_points(stream, before_read)

    # A result line is one %-format of a template per order of the point's
    # keys (json.dumps writes a float as its repr, which %r gives); integral
    # numbers, rare in real data, are then rewritten without their ".0".
    head = (f'{{"schema":{SCHEMA_VERSION},"line":%d,"output":{_pct(dumps(out_name))},"value":%r,'
            f'"gradient":{{{",".join(_pct(dumps(v)) + ":%r" for v in required)}}},"bindings":{{')
    templates: dict[tuple[str, ...], str] = {}
    fmod, ones = math.fmod, itertools.repeat(1.0)
    append = writer.append

    for number, point in points:
        if point is None:
            continue
        summary.points += 1
        if want_compiled and compiled is None and summary.points > compile_after:
            compiled = compile_graph(selected)  # None above MAX_NODES: interpreted throughout
            want_compiled = compiled is not None
        error: Optional[AutodiffError] = None
        result: Optional[tuple[float, ...]] = None
        full_result: Optional[Result] = None
        merged: Any = point
        if isinstance(point, AutodiffError):
            error = point
        else:
            if base or overrides:
                merged = {**base, **point, **overrides}
            if compiled is not None and merged.keys() == required_set:
                values = [merged[v] for v in required]
                if _NUMBER_TYPES.issuperset(map(type, values)):  # not bool, str, None, ...
                    try:
                        result = compiled.fn(*map(float, values))
                    except Exception:  # noqa: BLE001 - any failure: the interpreter decides below
                        result = None
            if result is None:
                try:
                    checked = _checked_values(merged)
                    for name in checked:
                        if name not in allowed and name not in full.assigned and name not in CONSTANTS:
                            used = ", ".join(full.variables) or "none"
                            raise BindingError(f"a value was given for {_show(name)}, but the program "
                                               f"does not use {_show(name)} (its variables: {used})",
                                               _show(name))
                    full_result = evaluate(selected, checked, keep_local=options.nodes,
                                           allowed=allowed)
                except AutodiffError as exc:
                    error = exc
        if error is not None:
            summary.failed += 1
            if len(summary.failures) < 10:
                summary.failures.append((number, error))
            if as_csv:
                cells = _echo_inputs(merged, required) if isinstance(merged, dict) else [""] * len(required)
                csv_out.writerow([number, *cells, "", *([""] * len(required)),
                                  f"{error.kind}: {error.message}"])
            else:
                writer.add(dumps(error_dict(error, line=number)) + "\n")
            if options.fail_fast:
                summary.stopped = True
                break
            continue
        if full_result is not None:
            if as_csv:
                grad = full_result.gradient
                csv_out.writerow([number, *(_num(full_result.bindings[v]) for v in required),
                                  _num(full_result.value), *(_num(grad[v]) for v in required), ""])
            else:
                doc = result_dict(full_result, nodes=options.nodes)
                doc = {"schema": doc.pop("schema"), "line": number, **doc}
                writer.add(dumps(doc) + "\n")
            continue
        assert result is not None
        if as_csv:
            csv_out.writerow([number, *(_num(float(merged[v])) for v in required),
                              *(_num(x) for x in result), ""])
            continue
        keys = tuple(merged)
        template = templates.get(keys)
        if template is None:
            template = head + ",".join(_pct(dumps(k)) + ":%r" for k in keys) + "}}\n"
            if len(templates) < 256:
                templates[keys] = template
        numbers = (*result, *map(float, merged.values()))
        line = template % (number, *numbers)
        if 0.0 in map(fmod, numbers, ones):
            line = _INTEGRAL.sub(_integral, line)
        append(line)
    writer.flush()
    return summary


def _columnar(stream: IO[bytes]) -> Any:
    """columnar.run_columnar, or None without NumPy or for a file too small to
    repay importing it (the point-by-point path then runs)."""
    try:
        info = os.fstat(stream.fileno())
        if stat.S_ISREG(info.st_mode) and info.st_size < 1 << 17:
            return None
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        pass
    try:
        import numpy  # noqa: F401 - the optional extra autodiff[fast]
    except ImportError:
        return None
    from .columnar import run_columnar

    return run_columnar


def _pct(text: str) -> str:
    return text.replace("%", "%%")


# A number written by repr that is integral and below 2^53 in size ends in
# ".0" (repr switches to exponents at 1e16); JSON output writes it as an
# integer (numfmt.json_number). -0.0 keeps its ".0".
_INTEGRAL = re.compile(r"(?<![\w.\-])(-?[1-9][0-9]{0,15}|0)\.0(?![0-9])")


def _integral(m: re.Match[str]) -> str:
    digits = m.group(1)
    return digits if len(digits) < 16 or abs(int(digits)) < _EXACT else m.group(0)


_NUMBER_TYPES = frozenset((float, int))


def _echo_inputs(point: Mapping[str, Any], required: list[str]) -> list[str]:
    cells = []
    for v in required:
        x = point.get(v)
        if x is None:
            cells.append("")
        elif type(x) is float or type(x) is int:
            try:
                cells.append(_num(float(x)))
            except OverflowError:
                cells.append(str(x)[:40])
        else:
            cells.append(_show(json.dumps(x, ensure_ascii=True)))
    return cells

