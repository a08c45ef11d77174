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

import contextlib
import csv
import io
import itertools
import json
import math
import os
import re
import signal
import stat
import threading
from dataclasses import dataclass, field
from typing import IO, Any, Callable, Iterator, Mapping, Optional, Union

from .compile import compile_graph
from .errors import AutodiffError, BindingError, InputError, UsageProblem, escape_text
from .evaluate import Result, binding_value, evaluate, unused_binding
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
    #: keys (NDJSON) or columns (CSV) that are not variables of the program are
    #: carried to the output (``"extra": {...}``, or CSV columns) instead of failing
    ignore_extra: bool = False
    #: the CSV cell separator; None: "," or, when the header has ";" and no ",", ";"
    csv_delimiter: Optional[str] = None
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
    """A JSON object's names and values as bindings; each value judged by
    `evaluate.binding_value`, the one judge (JSON values shown as JSON)."""
    out: dict[str, float] = {}
    prefix = f"{where}: " if where else ""
    for name, value in obj.items():
        if not (name and set(name) <= _NAME_CHARS and not name[0].isdigit()):
            raise BindingError(f"{prefix}'{_show(name)}' is not a variable name")
        out[name] = binding_value(name, value, where=where, show=_json_text, from_text=True)
    return out


def _json_text(value: object) -> str:
    return json.dumps(value, ensure_ascii=True)


# ---------------------------------------------------------------- reading


def _lines(stream: IO[bytes], before_read: Callable[[], None]
           ) -> Iterator[tuple[int, Optional[bytes]]]:
    """(line number, line without its end) for each line of `stream`, read in
    chunks, or (line number, None) for a line longer than MAX_LINE (the rest
    of it is skipped, and never held: memory stays below MAX_LINE + CHUNK);
    `before_read` runs before each read (the writer flushes there). A UTF-8
    byte-order mark at the start of the input is dropped."""
    number = 0
    pending: list[bytes] = []  # the start of a line that has no end yet
    pending_size = 0
    skipping = False
    first = True
    read = getattr(stream, "read1", stream.read)
    while True:
        before_read()
        data = read(CHUNK)
        if not data:
            break
        if first:
            if len(data) < 3 and _BOM.startswith(data):  # a mark split across reads
                more = stream.read(3 - len(data))
                data += more
                if more and not data.startswith(_BOM):
                    first = False
            if data.startswith(_BOM):
                data = data[3:]
                first = False
            elif len(data) >= 3:
                first = False
        start = 0
        while True:
            end = data.find(b"\n", start)
            if end < 0:
                break
            number += 1
            if skipping:  # the end of an overlong line, reported already
                skipping = False
            elif pending:
                pending.append(data[start:end])
                line = b"".join(pending)
                if len(line) > MAX_LINE:
                    yield number, None
                else:
                    yield number, line
            else:
                if end - start > MAX_LINE:
                    yield number, None
                else:
                    yield number, data[start:end]
            pending.clear()
            pending_size = 0
            start = end + 1
        if start < len(data) and not skipping:
            pending.append(data[start:])
            pending_size += len(data) - start
            if pending_size > MAX_LINE:
                yield number + 1, None
                skipping = True
                pending.clear()
                pending_size = 0
    if pending and not skipping:
        line = b"".join(pending)
        yield number + 1, (line if len(line) <= MAX_LINE else None)


_BOM = b"\xef\xbb\xbf"
# a first line that reads as a CSV header (names separated by commas or semicolons)
_CSV_HEADER = re.compile(r"\s*[A-Za-z_][A-Za-z0-9_]*\s*([,;]\s*[A-Za-z_][A-Za-z0-9_]*\s*)+")


class _Twice(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) < len(pairs):
        seen: set[str] = set()
        raise _Twice(next(k for k, _ in pairs if k in seen or seen.add(k)))  # type: ignore[func-returns-value]
    return obj


def _int(text: str) -> Union[int, float]:
    # Python refuses to convert more than 4,300 digits; such an integer is
    # out of a double's range anyway: inf, refused as "too large for a double"
    return int(text) if len(text) < 310 else float(text)


def _ndjson_points(stream: IO[bytes], before_read: Callable[[], None]
                   ) -> Iterator[tuple[int, Union[dict[str, Any], AutodiffError, None]]]:
    decode = json.JSONDecoder(parse_constant=_refuse_constant, parse_int=_int,
                              object_pairs_hook=_pairs).decode
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
        except _Twice as exc:
            yield number, BindingError(f"line {number}: {_show(exc.name)} is bound twice in the JSON "
                                       "object", _show(exc.name))
            continue
        except ValueError as exc:
            if not line.strip():
                yield number, None  # a blank line: no point, no output
                continue
            hint = ""
            if number == 1 and _CSV_HEADER.fullmatch(line.decode("utf-8", "replace").rstrip("\r")):
                hint = " (it looks like a CSV header: say --points-format csv)"
            yield number, PointError(f"line {number} is not valid JSON: {_show(str(exc))}{hint}")
            continue
        except RecursionError:
            yield number, PointError(f"line {number} is not a binding set: nested too deeply")
            continue
        if type(obj) is not dict:
            yield number, PointError(f"line {number} is not a JSON object of variable values "
                                     f"(got {type(obj).__name__})")
            continue
        yield number, obj


def _csv_header(lines: Iterator[tuple[int, Optional[bytes]]], allowed: Optional[set[str]],
                delimiter: Optional[str], ignore_extra: bool
                ) -> Optional[tuple[list[str], str, list[int]]]:
    """The header row of a CSV input: (names, delimiter, the indices of the
    columns that are not variables, with `ignore_extra`), or None for an empty
    input. Blank lines before it are skipped. A bad header fails the whole
    batch (every row would fail)."""
    for number, raw in lines:
        if raw is None:
            raise PointError(f"the CSV header (line {number}) is longer than {MAX_LINE} bytes")
        text = raw.rstrip(b"\r").decode("utf-8", "surrogateescape")
        if not text.strip():
            continue
        where = f"the CSV header (line {number})"
        if delimiter is None:  # European spreadsheets write "x;y"
            delimiter = ";" if ";" in text and "," not in text else ","
        try:
            header = next(csv.reader([text], delimiter=delimiter, strict=True))
        except csv.Error as exc:
            raise PointError(f"{where} is malformed: {exc}") from None
        names = [h.strip() for h in header]
        extra: list[int] = []
        for k, name in enumerate(names):
            is_name = bool(name) and set(name) <= _NAME_CHARS and not name[0].isdigit()
            if allowed is not None and ignore_extra and name not in allowed:
                if not name or any("\udc80" <= ch <= "\udcff" for ch in name):
                    raise PointError(f"{where} has an empty or invalid column name")
                extra.append(k)
                continue
            if not is_name:
                raise PointError(f"{where} must be variable names; '{_show(name)}' is not one")
        unknown = [n for n in names if allowed is not None and n not in allowed]
        if unknown and not ignore_extra:
            used = ", ".join(sorted(allowed or ())) or "none"
            raise BindingError(f"{where} names {_show(unknown[0])}, but the program does not use "
                               f"{_show(unknown[0])} (its variables: {used}; --ignore-extra carries "
                               "other columns through)", unknown[0])
        if len(set(names)) != len(names):
            dup = next(n for n in names if names.count(n) > 1)
            raise PointError(f"{where} names {_show(dup)} twice")
        return names, delimiter, extra
    return None


def _csv_rows(lines: Iterator[tuple[int, Optional[bytes]]], names: list[str], delimiter: str,
              parse_value: Callable[[str, str], float], extra: list[int]
              ) -> Iterator[tuple[int, Union[dict[str, Any], AutodiffError, None]]]:
    """The points of a CSV input after its header, one physical line at a
    time: a quoted cell cannot span lines (an unterminated quote is an error
    record for its line, and the next line is read on its own), so every line
    is a result, an error record, or blank. Values are parsed with
    `parse_value(text, name)` (the CLI's strict decimal rule) after the
    spaces around them are dropped (`1, 2` is read as `1,2`). The values of
    the `extra` columns are kept as text under the key `_extra_columns`."""
    reader = csv.reader
    width = len(names)
    for number, raw in lines:
        if raw is None:
            yield number, PointError(f"line {number} is longer than {MAX_LINE} bytes")
            continue
        text = raw.rstrip(b"\r").decode("utf-8", "surrogateescape")
        if not text or text.isspace():
            yield number, None
            continue
        try:  # (without quotes, a CSV line is its cells joined by the delimiter)
            row = (text.split(delimiter) if '"' not in text and "\r" not in text
                   else next(reader([text], delimiter=delimiter, strict=True)))
        except csv.Error as exc:
            why = str(exc)
            if why == "unexpected end of data":
                why = "a quoted cell is not closed on this line (a cell cannot span lines)"
            yield number, PointError(f"line {number} is not valid CSV: {why}")
            continue
        if len(row) != width:
            yield number, PointError(f"line {number} has {len(row)} cells; the header has {width}")
            continue
        if any("\udc80" <= ch <= "\udcff" for cell in row for ch in cell):
            yield number, PointError(f"line {number} is not valid UTF-8")
            continue
        if extra:
            values = {names[k]: row[k] for k in extra}
            try:
                point: dict[str, Any] = {name: parse_value(cell.strip(), name)
                                         for k, (name, cell) in enumerate(zip(names, row, strict=True))
                                         if k not in extra}
            except AutodiffError as exc:
                exc.extra_values = values  # type: ignore[attr-defined]
                yield number, exc
                continue
            point[_EXTRA] = values
            yield number, point
            continue
        try:
            yield number, {name: parse_value(cell.strip(), name)
                           for name, cell in zip(names, row, strict=True)}
        except AutodiffError as exc:
            yield number, exc


#: the key of a CSV point under which the extra columns' text travels (not a name)
_EXTRA = " extra"


# ---------------------------------------------------------------- the batch


class _Writer:
    """Collects output text and writes it in chunks; `flush` writes what is
    pending. Every write is of whole lines, and Ctrl-C (SIGINT) during a
    write is held until the write is complete, so the output ends on a whole
    line whatever the signal (a slow reader of a pipe gets no half record)."""

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
        data = "".join(self.parts).encode("utf-8") if self.parts else b""
        self.parts.clear()
        with _interrupt_held():
            if data:
                self.out.write(data)
            self.out.flush()


@contextlib.contextmanager
def _interrupt_held() -> Iterator[None]:
    """Hold SIGINT (Ctrl-C) for the duration, then raise KeyboardInterrupt if
    it came. (A write blocked on a full pipe is resumed after the handler
    runs, PEP 475, so the write completes.) Outside the main thread, or when
    someone else handles SIGINT, nothing changes."""
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield
        return
    caught: list[int] = []
    signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if caught:
        raise KeyboardInterrupt


class _CsvSink:
    def __init__(self, writer: _Writer) -> None:
        self.write = writer.add


def run_batch(full: Graph, selected: Graph, stream: IO[bytes], out: IO[bytes], options: BatchOptions,
              *, parse_value: Optional[Callable[[str, str], float]] = None,
              progress: Optional[Callable[[int, int], None]] = None) -> BatchSummary:
    """Evaluate `selected` (the output's graph, from `full.select`) at every
    point of `stream`, writing one result per point to `out`."""
    if options.output_format == "csv":  # (before any path reads or writes anything)
        _csv_columns(selected, [])
    if (options.columnar and options.compile and options.points_format == "csv" and parse_value
            and options.csv_delimiter in (None, ",")):
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

    def before_read() -> None:
        writer.flush()
        if progress is not None:
            progress(summary.points, 0)

    extra_names: list[str] = []
    if options.points_format == "csv":
        if parse_value is None:
            raise UsageProblem("CSV points need a number parser")
        lines = _lines(stream, before_read)
        header = _csv_header(lines, allowed, options.csv_delimiter, options.ignore_extra)
        if header is None:
            points: Iterator[tuple[int, Any]] = iter(())
        else:
            names, delimiter, extra_index = header
            extra_names = [names[k] for k in extra_index]
            points = _csv_rows(lines, names, delimiter, parse_value, extra_index)
    else:
        points = _ndjson_points(stream, before_read)
        if options.ignore_extra:
            extra_names = ["extra"]  # one CSV column: the extra keys as a JSON object

    if as_csv:  # (after the input's header: a bad one writes nothing)
        csv_out = csv.writer(_CsvSink(writer), lineterminator="\n")
        csv_out.writerow(_csv_columns(selected, extra_names))

    ignore_extra = options.ignore_extra
    from_csv = options.points_format == "csv"
    dumps_extra = _extra_encoder()

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
        extra: Optional[dict[str, Any]] = None
        if ignore_extra:
            if type(point) is not dict:
                extra = getattr(point, "extra_values", None)
            elif from_csv:
                extra = point.pop(_EXTRA, None)
            else:
                extra = {k: point.pop(k) for k in [k for k in point if k not in allowed]}
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
                            raise unused_binding(full, name)
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
                csv_out.writerow([number, *_extra_cells(extra, extra_names, from_csv, dumps_extra),
                                  *cells, "", *([""] * len(required)),
                                  f"{error.kind}: {error.message}"])
            else:
                text = dumps(error_dict(error, line=number)) + "\n"
                writer.add(_with_extra(text, number, extra, dumps_extra) if extra else text)
            if options.fail_fast:
                summary.stopped = True
                break
            continue
        if full_result is not None:
            if as_csv:
                grad = full_result.gradient
                csv_out.writerow([number, *_extra_cells(extra, extra_names, from_csv, dumps_extra),
                                  *(_num(full_result.bindings[v]) for v in required),
                                  _num(full_result.value), *(_num(grad[v]) for v in required), ""])
            else:
                doc = result_dict(full_result, nodes=options.nodes)
                doc = {"schema": doc.pop("schema"), "line": number, **doc}
                text = dumps(doc) + "\n"
                writer.add(_with_extra(text, number, extra, dumps_extra) if extra else text)
            continue
        assert result is not None
        if as_csv:
            if extra_names:
                csv_out.writerow([number, *_extra_cells(extra, extra_names, from_csv, dumps_extra),
                                  *(_num(float(merged[v])) for v in required),
                                  *(_num(x) for x in result), ""])
                continue
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
        if extra:
            line = _with_extra(line, number, extra, dumps_extra)
        append(line)
    writer.flush()
    return summary


def _csv_columns(selected: Graph, extra_names: list[str]) -> list[str]:
    """The CSV output's header row; a UsageProblem if two columns would have
    the same name (a variable or the output named line or error)."""
    required = selected.output_variables()
    out_name = selected.output_name
    for reserved in ("line", "error"):
        if reserved in required:
            raise UsageProblem(f"a variable named {reserved} clashes with the CSV column "
                               f"{reserved}; use NDJSON output for this program")
    columns = ["line", *extra_names, *required, out_name,
               *(f"d{out_name}/d{v}" for v in required), "error"]
    if len(set(columns)) < len(columns):
        dup = next(c for c in columns if columns.count(c) > 1)
        raise UsageProblem(f"the CSV output would have two columns named {_show(dup)} (the "
                           f"output or an extra column is named {_show(dup)}); rename it, or "
                           "use NDJSON output")
    return columns


def _extra_encoder() -> Callable[[Any], str]:
    """JSON text of the values carried through by --ignore-extra. A number too
    large for a double (1e999 in the input) is written "inf", as error records
    quote non-finite numbers, never as a bare Infinity."""
    encode = json.JSONEncoder(ensure_ascii=True, allow_nan=True, separators=(",", ":")).encode
    token = re.compile(r'"(?:\\.|[^"\\])*"|-?Infinity|NaN')
    names = {"Infinity": '"inf"', "-Infinity": '"-inf"', "NaN": '"nan"'}

    def dumps(value: Any) -> str:
        text = encode(value)
        if "Infinity" not in text and "NaN" not in text:
            return text
        return token.sub(lambda m: names.get(m.group(), m.group()), text)

    return dumps


def _with_extra(line: str, number: int, extra: dict[str, Any], dumps: Callable[[Any], str]) -> str:
    """A record with ``"extra": {...}`` after its ``"line"``."""
    prefix = f'{{"schema":{SCHEMA_VERSION},"line":{number}'
    return f'{prefix},"extra":{dumps(extra)}{line[len(prefix):]}'


def _extra_cells(extra: Optional[dict[str, Any]], names: list[str], from_csv: bool,
                 dumps: Callable[[Any], str]) -> list[str]:
    if not names:
        return []
    if from_csv:
        return [(extra or {}).get(n, "") for n in names]
    return [dumps(extra) if extra else ""]


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

