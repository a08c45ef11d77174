"""The columnar batch path: CSV points in blocks, evaluated by NumPy.

`run_batch` hands a CSV batch here first (`run_columnar`); it returns None
when it cannot take the batch (NumPy missing, an operation without a NumPy
spelling, `--nodes`, a header it does not read), and the point-by-point path
runs as before. Otherwise it reads the input in blocks of about `BLOCK_BYTES`,
so memory stays the same whatever the number of points, and writes exactly
what the point-by-point path writes: the same lines in the same order, the
same error records with the same line numbers and messages. Only the numbers
may differ, by about an ulp per operation (NumPy's elementary functions).

A block whose bytes are all plain numbers (digits, sign, point, exponent,
commas, newlines; every line with the header's number of cells) is parsed at
once (`np.fromstring`, which fails on any cell that is not a whole number, as
the strict decimal rule does). A block with anything else is read line by
line: a line that matches the strict rule is evaluated with the others, a line
that does not is read exactly as the point-by-point path reads it (the `csv`
module on that line, the same checks and messages). A line the `csv` module
might join with the next (a quote) or a line longer than MAX_LINE hands the
rest of the input to the point-by-point path, numbering kept.

Points where NumPy gives something not finite (a domain error, an overflow, an
infinite derivative, a number too large for a double) are read and evaluated
again by the interpreter (`evaluate`), whose error record, or result, is
written in their place.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import multiprocessing
import os
import re
import select
import warnings
from typing import IO, Any, Callable, Optional, cast

import numpy as np

from . import batch as _batch
from .arrays import Kernel, NotVectorizable, numpy_kernel
from .batch import (
    BatchOptions,
    BatchSummary,
    PointError,
    _checked_values,
    _echo_inputs,
    _num,
    _pct,
    _Writer,
    run_batch,
)
from .compile import MAX_NODES
from .errors import AutodiffError
from .evaluate import evaluate
from .graph import Graph
from .render import SCHEMA_VERSION, error_dict

__all__ = ["run_columnar", "BLOCK_BYTES"]

#: bytes of input evaluated at a time
BLOCK_BYTES = 1 << 17

_NAME = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*\Z")
_CELL = rb"[ \t]*[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[ \t]*"
# bytes a clean block may hold: digits, + - . e E , and newline
_PLAIN = np.zeros(256, dtype=bool)
_PLAIN[list(b"0123456789+-.eE,\n")] = True
_EXACT = 2.0**53
# a cell written exactly as `_num` writes its number (with at most 15 digits, checked apart):
# 0, an integer, or a decimal without trailing zeros, not below 1e-4 (repr's fixed notation)
_CANON = rb"(?:0|-?[1-9][0-9]*|-?[1-9][0-9]*\.[0-9]*[1-9]|-?0\.0{0,3}[1-9](?:[0-9]*[1-9])?)"


class _Fallback(Exception):
    """The rest of the input goes to the point-by-point path."""


def run_columnar(full: Graph, selected: Graph, stream: IO[bytes], out: IO[bytes], options: BatchOptions,
                 *, parse_value: Callable[[str, str], float],
                 progress: Optional[Callable[[int, int], None]] = None) -> Optional[BatchSummary]:
    """Run a CSV batch on arrays, or return None (nothing read) when this path
    cannot take it."""
    if options.nodes or options.points_format != "csv" or len(selected) > MAX_NODES:
        return None
    try:
        kernel = numpy_kernel(selected)
    except NotVectorizable:
        return None
    required = list(kernel.variables)
    if required != selected.output_variables():
        return None
    reader = _Reader(stream)
    header = reader.header()
    names = _header_names(header, set(full.variables))
    if names is None:  # anything unusual: the point-by-point path reads it, and says what is wrong
        return _legacy(full, selected, reader.replay(header, 1), out, options, parse_value, progress,
                       BatchSummary(), skip_header=False)
    keys = list(dict.fromkeys([*options.base, *names, *options.overrides]))
    if set(keys) != set(required) or len(names) == 0:
        return _legacy(full, selected, reader.replay(header, 1), out, options, parse_value, progress,
                       BatchSummary(), skip_header=False)
    job = _Job(full, selected, kernel, names, keys, options, parse_value)
    writer = _Writer(out)
    writer.add(job.head)
    summary = BatchSummary()
    number = 1  # the last line whose output is written
    pool = None
    try:
        while True:
            if progress is not None:
                progress(summary.points, 0)
            blocks: list[tuple[bytes, int]] = []
            start, fallback = number, False
            try:
                for _ in range(1 + (_workers() if pool is not None else 0)):
                    block = reader.block()
                    if block is None:
                        break
                    blocks.append((block, start))
                    start += block.count(b"\n")
                    if reader.drained:
                        break  # do not wait for more input before answering this
            except _Fallback:
                fallback = True  # an overlong line: the blocks before it first
            if not blocks and not fallback:
                break
            if pool is None and len(blocks) == 1 and not reader.eof and _workers():
                pool = _start_pool(job)
            results = _run_blocks(job, pool, blocks)
            for k, (text, part, last, rest) in enumerate(results):
                writer.add(text)
                _merge(summary, part)
                number = last
                if summary.stopped:
                    return summary
                if rest is not None:  # hand over: this block's rest, the later blocks, the input
                    reader.rest = rest + b"".join(b for b, _ in blocks[k + 1:]) + reader.rest
                    fallback = True
                    break
            writer.flush()
            if fallback:
                writer.flush()
                return _legacy(full, selected, reader.replay(header, number + 1), out, options,
                               parse_value, progress, summary, skip_header=options.output_format == "csv")
    finally:
        writer.flush()
        if pool is not None:
            pool.terminate()
    return summary


# ---------------------------------------------------------------- processes
#
# Writing the numbers (repr of each double) is most of the work; a block is
# independent of the others, so with more than one CPU the blocks are shared
# with worker processes (forked: they inherit the compiled kernel), the main
# process doing its share, and the outputs are written in input order.

_JOB: Any = None


def _workers() -> int:
    """Worker processes besides the main one (0: work in this process)."""
    if os.environ.get("AUTODIFF_WORKERS"):
        return max(0, int(os.environ["AUTODIFF_WORKERS"]))
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    if cpus < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return 0
    return min(cpus - 1, 3)


def _start_pool(job: _Job) -> Any:
    global _JOB
    _JOB = job
    return multiprocessing.get_context("fork").Pool(_workers())


def _in_worker(args: tuple[bytes, int]) -> tuple[str, BatchSummary, int, Optional[bytes]]:
    text, part, last, rest = _JOB.run(*args)
    part.failures = [(line, _Failure(e.kind, e.message)) for line, e in part.failures]
    return text, part, last, rest


def _run_blocks(job: _Job, pool: Any, blocks: list[tuple[bytes, int]]
                ) -> list[tuple[str, BatchSummary, int, Optional[bytes]]]:
    """The blocks' results in order: the first ones by the workers, the
    last by this process meanwhile."""
    if pool is None or len(blocks) < 2:
        return [job.run(*b) for b in blocks]
    pending = [pool.apply_async(_in_worker, (b,)) for b in blocks[:-1]]
    mine = job.run(*blocks[-1])
    return [p.get() for p in pending] + [mine]


class _Failure(AutodiffError):
    """A failed point's error as a worker process reports it (kind and message)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind

    def __reduce__(self) -> Any:
        return (_Failure, (self.kind, self.message))


def _merge(summary: BatchSummary, part: BatchSummary) -> None:
    summary.points += part.points
    summary.failed += part.failed
    summary.failures.extend(part.failures[:10 - len(summary.failures)])
    summary.stopped = part.stopped


def _header_names(header: Optional[bytes], allowed: set[str]) -> Optional[list[str]]:
    if header is None or len(header) > _batch.MAX_LINE:
        return None
    names = header.rstrip(b"\r").split(b",")
    if not all(_NAME.match(n) for n in names):
        return None
    text = [n.decode("ascii") for n in names]
    if len(set(text)) != len(text) or not set(text) <= allowed:
        return None
    return text


class _Reader:
    """The input in blocks of whole lines."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.read = getattr(stream, "read1", stream.read)
        self.rest = b""
        self.eof = False
        #: the last read gave less than asked (a pipe with nothing more for now)
        self.drained = False

    def _fill(self, size: int) -> None:
        if self.drained and b"\n" in self.rest:
            self.drained = False  # answer the lines that came before waiting for more
            return
        self.drained = False
        parts = [self.rest]
        have = len(self.rest)
        while have < size and not self.eof:
            wanted = size - have
            data = self.read(wanted)
            if not data:
                self.eof = True
                break
            parts.append(data)
            have += len(data)
            if len(data) < wanted and b"\n" in data and not self._more_now():
                self.drained = True  # a pipe with nothing more for now: answer the lines that came
                break
        self.rest = b"".join(parts)

    def _more_now(self) -> bool:
        """Whether the input has more bytes ready (a pipe whose writer is
        ahead); True for an input that never blocks (no file descriptor)."""
        try:
            fd = self.stream.fileno()
        except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
            return True
        try:
            return bool(select.select([fd], [], [], 0)[0])
        except (OSError, ValueError):
            return False

    def header(self) -> Optional[bytes]:
        """The first line (without its end), or None when it is absent or
        longer than a block."""
        self._fill(BLOCK_BYTES)
        end = self.rest.find(b"\n")
        if end < 0:
            return None
        line = self.rest[:end]
        self.rest = self.rest[end + 1:]
        return line

    def block(self) -> Optional[bytes]:
        """The next whole lines, ending with a newline (one is added after a
        last line without one); None at the end."""
        self._fill(BLOCK_BYTES)
        if not self.rest:
            return None
        end = self.rest.rfind(b"\n")
        if end < 0:
            if not self.eof:  # a line longer than a block
                while not self.eof and b"\n" not in self.rest and len(self.rest) <= _batch.MAX_LINE:
                    self._fill(len(self.rest) + BLOCK_BYTES)
                end = self.rest.find(b"\n")
                if end < 0 and not self.eof:
                    raise _Fallback
            if end < 0:
                data, self.rest = self.rest + b"\n", b""
                return data
        data, self.rest = self.rest[:end + 1], self.rest[end + 1:]
        return data

    def replay(self, header: Optional[bytes], line: int) -> IO[bytes]:
        """A stream that reads as the whole input would from line `line` on:
        the header, blank lines in place of lines 2 .. line-1 (they make no
        output), then what is left."""
        return cast(IO[bytes], _Replay(self, header, max(0, line - 2)))


class _Replay(io.RawIOBase):
    def __init__(self, reader: _Reader, header: Optional[bytes], blank: int) -> None:
        super().__init__()
        self.reader = reader
        self.parts: list[bytes] = [] if header is None else [header + b"\n"]
        self.blank = blank

    def readable(self) -> bool:
        return True

    def read1(self, size: Optional[int] = -1) -> bytes:
        size = 1 << 16 if size is None or size < 0 else size
        if self.parts:
            return self.parts.pop(0)
        if self.blank:
            n = min(self.blank, size)
            self.blank -= n
            return b"\n" * n
        if self.reader.rest:
            data, self.reader.rest = self.reader.rest, b""
            return data
        if self.reader.eof:
            return b""
        return self.reader.read(size)

    def read(self, size: Optional[int] = -1) -> bytes:
        return self.read1(size)


class _SkipFirstLine:
    """An output that drops the first line written (the CSV header row that
    was written already)."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.skipping = True

    def write(self, data: bytes) -> int:
        if self.skipping:
            end = data.find(b"\n")
            if end < 0:
                return len(data)
            self.skipping = False
            data = data[end + 1:]
        return self.out.write(data)

    def flush(self) -> None:
        self.out.flush()


def _legacy(full: Graph, selected: Graph, stream: IO[bytes], out: IO[bytes], options: BatchOptions,
            parse_value: Callable[[str, str], float], progress: Optional[Callable[[int, int], None]],
            before: BatchSummary, *, skip_header: bool) -> BatchSummary:
    sink: Any = _SkipFirstLine(out) if skip_header else out
    rest = run_batch(full, selected, stream, sink, dataclasses.replace(options, columnar=False),
                     parse_value=parse_value, progress=progress)
    before.points += rest.points
    before.failed += rest.failed
    before.failures.extend(rest.failures[:10 - len(before.failures)])
    before.stopped = rest.stopped
    return before


class _Job:
    """One batch: the block loop's state and its writers."""

    def __init__(self, full: Graph, selected: Graph, kernel: Kernel, names: list[str], keys: list[str],
                 options: BatchOptions, parse_value: Callable[[str, str], float]) -> None:
        self.full, self.selected, self.kernel = full, selected, kernel
        self.names, self.keys, self.options, self.parse_value = names, keys, options, parse_value
        self.required = list(kernel.variables)
        self.allowed = set(full.variables)
        self.summary = BatchSummary()
        self.parts: list[str] = []
        self.head = ""
        self.as_csv = options.output_format == "csv"
        self.rows: list[str] = []
        self.csv_row = csv.writer(_ListSink(self.rows), lineterminator="\n").writerow
        self.dumps = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode
        out_name = selected.output_name
        base, over = options.base, options.overrides
        # where each required variable's column comes from: a header column or a constant
        self.source: list[tuple[str, Any]] = []
        for v in self.required:
            if v in over:
                self.source.append(("const", over[v]))
            elif v in names:
                self.source.append(("col", names.index(v)))
            else:
                self.source.append(("const", base[v]))
        self.key_source = [("const", over[k]) if k in over else
                           ("col", names.index(k)) if k in names else ("const", base[k]) for k in keys]
        if self.as_csv:
            self.csv_row(["line", *self.required, out_name, *(f"d{out_name}/d{v}" for v in self.required),
                          "error"])
            self.head = self.rows.pop()
        else:
            dumps = self.dumps
            self.template = (
                f'{{"schema":{SCHEMA_VERSION},"line":%d,"output":{_pct(dumps(out_name))},"value":%r,'
                f'"gradient":{{{",".join(_pct(dumps(v)) + ":%r" for v in self.required)}}},'
                f'"bindings":{{' + ",".join(_pct(dumps(k)) + ":%r" for k in keys) + "}}")
        self.line_re = re.compile(_CELL + (b"," + _CELL) * (len(names) - 1))
        # a clean line whose cells are already as `_num` writes them is its own echo
        self.echo = names == self.required
        self.canonical = re.compile(b"(?:" + _CANON + (b"," + _CANON) * (len(names) - 1) + b"\n)*")

    # ------------------------------------------------------------ a block

    def run(self, data: bytes, number: int) -> tuple[str, BatchSummary, int, Optional[bytes]]:
        """A block's output, its summary, the number of its last line read,
        and (when the point-by-point path must take over) the input from the
        line after that on."""
        self.summary = BatchSummary()
        self.parts = []
        try:
            last = self.block(data, number)
            rest = None
        except _FallbackAt as exc:
            last, rest = exc.last, exc.rest
        text = "".join(self.parts)
        self.parts = []
        return text, self.summary, last, rest

    def block(self, data: bytes, number: int) -> int:
        """Evaluate the lines of `data` (the first is line number+1); returns
        the last line's number."""
        k = len(self.names)
        n_lines = data.count(b"\n")
        values = self._clean(data, n_lines, k)
        if values is not None:
            self._points(values, np.arange(number + 1, number + 1 + n_lines), None, number + 1, {}, data)
            return number + n_lines
        # line by line: strict lines together, the others read as the csv module reads them
        lines = data.split(b"\n")
        lines.pop()
        good: list[int] = []
        special: dict[int, bytes] = {}
        longest = _batch.MAX_LINE
        for idx, line in enumerate(lines):
            if len(line) <= longest and self.line_re.fullmatch(line):
                good.append(idx)
            elif b'"' in line or b"\r" in line.rstrip(b"\r") or b"\x00" in line:
                # the csv module may read this line with the next (a quote): hand over here
                self._mixed(lines, good, special, number)
                if self.summary.stopped:
                    return number + idx
                raise _FallbackAt(number + idx, b"".join(line + b"\n" for line in lines[idx:]))
            else:
                special[idx] = line
        self._mixed(lines, good, special, number)
        return number + len(lines)

    def _clean(self, data: bytes, n_lines: int, k: int) -> Optional[Any]:
        """The block's numbers as an (n, k) array when every line is k plain
        numbers, else None."""
        b = np.frombuffer(data, dtype=np.uint8)
        if not _PLAIN[b].all():
            return None
        newlines = np.flatnonzero(b == 10)
        if (np.diff(newlines, prepend=-1) - 1 > _batch.MAX_LINE).any():
            return None  # an overlong line: an error record, read line by line
        sep = (b == 44) | (b == 10)
        if sep[0] or (sep[1:] & sep[:-1]).any():
            return None  # an empty cell or a blank line
        if k > 1:
            commas = np.cumsum(b == 44)[newlines]
            per_line = np.diff(commas, prepend=0)
            if not (per_line == k - 1).all():
                return None
        elif (b == 44).any():
            return None
        text = data.replace(b"\n", b",")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            try:
                values = np.fromstring(text.decode("ascii"), sep=",")
            except (ValueError, DeprecationWarning):
                return None
            except (AttributeError, TypeError):  # a NumPy without text fromstring: float() per cell
                try:  # (on these bytes float() accepts exactly the strict decimal rule)
                    values = np.array([float(c) for c in text[:-1].split(b",")])
                except ValueError:
                    return None
        if values.size != n_lines * k:
            return None
        return values.reshape(n_lines, k)

    def _mixed(self, lines: list[bytes], good: list[int], special: dict[int, bytes], number: int) -> None:
        """The lines of a block that is not clean: `good` ones (strict) on
        arrays, `special` ones one by one, output in line order."""
        if good:
            text = b",".join(lines[i] for i in good).replace(b" ", b"").replace(b"\t", b"")
            values = np.array([float(c) for c in text.split(b",")]).reshape(len(good), len(self.names))
        else:
            values = np.empty((0, len(self.names)))
        self._points(values, np.array([number + 1 + i for i in good], dtype=np.int64), lines, number + 1,
                     {number + 1 + i: line for i, line in special.items()})

    # ------------------------------------------------------------ evaluate and write

    def _points(self, values: Any, numbers: Any, lines: Optional[list[bytes]], first: int,
                specials: dict[int, bytes], data: Optional[bytes] = None) -> None:
        """Evaluate the strict points (`values`, one row per line number in
        `numbers`) and the special lines, and write every line's output in
        line order. `lines` (or `data`, split when needed) holds line `first`
        onwards, for points read again one by one."""
        n = len(numbers)
        summary = self.summary
        columns = [np.ascontiguousarray(values[:, what]) if how == "col" else np.full(n, what)
                   for how, what in self.source]
        if n:
            out, bad = self.kernel.run(columns, n)
            texts = self._format(values, columns, out, numbers, bad, data)
            bad_rows = np.flatnonzero(bad).tolist()
        else:
            texts, bad_rows = [], []
        if not bad_rows and not specials:
            summary.points += n
            self.parts.append("".join(texts))
            return
        if lines is None:
            assert data is not None
            lines = data.split(b"\n")
        # the lines read again one by one, by line number: (text, error)
        slow = {num: self._one(num, lines[num - first]) for num in
                sorted([int(numbers[r]) for r in bad_rows] + list(specials))}
        position = {num: r for r, num in enumerate(numbers.tolist())}
        parts: list[str] = []
        for num in sorted(set(position) | set(slow)):
            got = slow.get(num)
            if got is None:
                parts.append(texts[position[num]])
                summary.points += 1
                continue
            text, error = got
            if text is None:
                continue  # a blank line
            summary.points += 1
            parts.append(text)
            if error is not None:
                summary.failed += 1
                if len(summary.failures) < 10:
                    summary.failures.append((num, error))
                if self.options.fail_fast:
                    summary.stopped = True
                    break
        self.parts.append("".join(parts))

    def _one(self, number: int, raw: bytes) -> tuple[Optional[str], Optional[AutodiffError]]:
        """A line read and evaluated as the point-by-point path does: its
        output text (None for a blank line) and its error."""
        point = self._read_line(number, raw)
        if point is None:
            return None, None
        error: Optional[AutodiffError] = None
        merged: Any = point
        result = None
        if isinstance(point, AutodiffError):
            error = point
        else:
            options = self.options
            if options.base or options.overrides:
                merged = {**options.base, **point, **options.overrides}
            try:
                result = evaluate(self.selected, _checked_values(merged), keep_local=False,
                                  allowed=self.allowed)
            except AutodiffError as exc:
                error = exc
        rows = self.rows
        required = self.required
        if error is not None:
            if self.as_csv:
                cells = _echo_inputs(merged, required) if isinstance(merged, dict) else [""] * len(required)
                self.csv_row([number, *cells, "", *([""] * len(required)), f"{error.kind}: {error.message}"])
                return rows.pop(), error
            return self.dumps(error_dict(error, line=number)) + "\n", error
        assert result is not None
        grad = result.gradient
        if self.as_csv:
            self.csv_row([number, *(_num(result.bindings[v]) for v in required), _num(result.value),
                          *(_num(grad[v]) for v in required), ""])
            return rows.pop(), None
        numbers = (result.value, *(grad[v] for v in required), *(float(merged[k]) for k in self.keys))
        return _fix_integral(self.template % (number, *numbers), numbers) + "\n", None

    def _read_line(self, number: int, raw: bytes) -> Any:
        """The point of one line, as batch._csv_points reads it: a dict, an
        error, or None for a blank line."""
        if len(raw) > _batch.MAX_LINE:
            return PointError(f"line {number} is longer than {_batch.MAX_LINE} bytes")
        text = raw.rstrip(b"\r").decode("utf-8", "surrogateescape") + "\n"
        try:
            row = next(csv.reader([text], strict=True), [])
        except csv.Error as exc:
            return PointError(f"line {number} is not valid CSV: {exc}")
        names = self.names
        if not row or row == [""]:
            return None
        if len(row) != len(names):
            return PointError(f"line {number} has {len(row)} cells; the header has {len(names)}")
        if any("\udc80" <= ch <= "\udcff" for cell in row for ch in cell):
            return PointError(f"line {number} is not valid UTF-8")
        try:
            return {name: self.parse_value(cell.strip(), name) for name, cell in zip(names, row, strict=True)}
        except AutodiffError as exc:
            return exc

    def _echo(self, data: bytes, values: Any) -> list[str]:
        """The input cells of a clean block as the output echoes them: each
        line's own text where every cell is written as `_num` writes its
        number (the usual case), else the cells formatted."""
        lines = data.decode("ascii").split("\n")
        lines.pop()
        n, k = values.shape
        b = np.frombuffer(data, dtype=np.uint8)
        ends = np.flatnonzero((b == 44) | (b == 10))
        lengths = np.diff(ends, prepend=-1) - 1
        redo: Any = (lengths.reshape(n, k) > 15).any(axis=1)  # more than 15 digits: repr may differ
        match = self.canonical.match
        pos = 0
        newlines = ends.reshape(n, k)[:, -1]
        while True:
            m = match(data, pos)
            end = m.end() if m is not None else pos
            if end >= len(data):
                break
            row = int(np.searchsorted(newlines, end))  # the line that is not canonical
            redo[row] = True
            pos = int(newlines[row]) + 1
            if pos >= len(data):
                break
        for i in np.flatnonzero(redo).tolist():
            lines[i] = ",".join(_num(x) for x in values[i].tolist())
        return lines

    def _format(self, values: Any, columns: list[Any], out: Any, numbers: Any, bad: Any,
                data: Optional[bytes] = None) -> list[str]:
        """Each point's output line (the fast rows; failed rows are replaced)."""
        if self.as_csv:
            cols = [list(map(str, numbers.tolist()))]
            if data is not None and self.echo:
                cols.append(self._echo(data, values))
            else:
                cols.extend(_texts(c) for c in columns)
            cols.extend(_texts(out[k]) for k in range(out.shape[0]))
            cols.append([""] * len(numbers))
            return [line + "\n" for line in map(",".join, zip(*cols, strict=True))]
        # NDJSON: one %-format per line, integral numbers rewritten afterwards
        key_cols = [values[:, what] if how == "col" else np.full(len(numbers), float(what))
                    for how, what in self.key_source]
        matrix = np.column_stack([out.T, *key_cols]) if key_cols else out.T
        integral = (_integral_mask(matrix).any(axis=1) & ~bad).tolist()
        template = self.template + "\n"
        texts = []
        for num, row, fix in zip(numbers.tolist(), matrix.tolist(), integral, strict=True):
            line = template % (num, *row)
            texts.append(_fix_integral(line, row) if fix else line)  # (failed rows are replaced)
        return texts


class _FallbackAt(_Fallback):
    """The point-by-point path takes over after line `last`; `rest` is the
    block's input from the next line on."""

    def __init__(self, last: int, rest: bytes) -> None:
        super().__init__(last)
        self.last = last
        self.rest = rest


class _ListSink:
    def __init__(self, rows: list[str]) -> None:
        self.write = rows.append


def _integral_mask(x: Any) -> Any:
    """Where `_num` writes x without its ".0": integral, below 2^53, not -0.0."""
    with np.errstate(invalid="ignore"):
        return (x == np.trunc(x)) & (np.abs(x) < _EXACT) & ~((x == 0.0) & np.signbit(x))


def _texts(x: Any) -> list[str]:
    """`_num` of each number of the array x."""
    texts = list(map(repr, x.tolist()))
    fix = np.flatnonzero(_integral_mask(x))
    for i in fix.tolist():
        texts[i] = texts[i][:-2]
    return texts


_INTEGRAL = re.compile(r"(?<![\w.\-])(-?[1-9][0-9]{0,15}|0)\.0(?![0-9])")


def _fix_integral(line: str, numbers: Any) -> str:
    if 0.0 not in map(math.fmod, numbers, [1.0] * len(numbers)):
        return line
    return _INTEGRAL.sub(lambda m: m.group(1) if len(m.group(1)) < 16 or abs(int(m.group(1))) < _EXACT
                         else m.group(0), line)

