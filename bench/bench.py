#!/usr/bin/env python3
"""autodiff's benchmark suite (issue 3): prints Markdown tables, one section each.

    python bench/bench.py                          # default: sizes 1e3,1e4,1e5, every section
    python bench/bench.py --sizes 1e3,1e4,1e5,1e6  # the full run (several minutes more)
    python bench/bench.py --only scale,cold --sizes 1e3,1e4 --repeat 1

Sections (``--only``): scale (in-process stage times against Lark alone), memory
(peak memory and whole-process time of the CLI), alternatives (SymPy, PyTorch,
JAX doing the same job), small (goal 5: a 1,000-operation flat sum), cold (cold
start of whole processes) and ready (parser ready time in a fresh process).
See bench/README.md for what each figure means and the goal it is held to.

The library is measured as a user runs it: the garbage collector stays on and
nothing is disabled. Nothing here recurses over the generated programs.
"""

from __future__ import annotations

import argparse
import compileall
import gc
import importlib.util
import json
import math
import operator
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import autodiff
from autodiff import parser
from autodiff.evaluate import backward, check_bindings, forward
from autodiff.grammar import grammar_path, grammar_text
from autodiff.graph import Graph

SECTIONS = ("scale", "memory", "alternatives", "small", "cold", "ready")
SHAPES = ("flat", "horner", "mix")
DEFAULT_SIZES = "1e3,1e4,1e5"
LECTURE = "J=3*(a+b*c)"
LECTURE_ARGS = ("--a", "5", "--b", "3", "--c", "2")
LECTURE_GRADIENT = {"a": 3.0, "b": 6.0, "c": 9.0}
AGREE_TOLERANCE = 1e-9  # relative, for an alternative's gradient against ours

perf = time.perf_counter


# ================================================================ formatting


def fmt_time(seconds: float) -> str:
    """A duration with three significant digits and a readable unit."""
    for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs")):
        if seconds >= scale or unit == "µs":
            x = seconds / scale
            digits = 0 if x >= 100 else (1 if x >= 10 else 2)
            return f"{x:.{digits}f} {unit}"
    raise AssertionError("unreachable")


def fmt_ratio(r: float) -> str:
    return f"{r:.2f}x" if r < 10 else f"{r:.0f}x"


def fmt_n(n: int) -> str:
    """1000 -> 1e3; other numbers with thousands separators."""
    k = round(math.log10(n)) if n > 0 else 0
    return f"1e{k}" if n == 10**k else f"{n:,}"


def fmt_bytes_per_op(b: float) -> str:
    return f"{b:.0f}"


def fmt_mib(nbytes: float) -> str:
    return f"{nbytes / 2**20:.1f}"


def goal(ok: bool) -> str:
    return "met" if ok else "**missed**"


def cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def short_error(exc: BaseException) -> str:
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if len(message) > 70:
        message = message[:67] + "..."
    return f"fails: {type(exc).__name__}" + (f" ({message})" if message else "")


def md_table(headers: Sequence[str], rows: Sequence[Sequence[str]], align: str = "") -> str:
    """A Markdown table; `align` has one letter per column, l or r (default l)."""
    align = align[:len(headers)].ljust(len(headers), "l")
    widths = [len(h) for h in headers]
    for row in rows:
        for k, text in enumerate(row):
            widths[k] = max(widths[k], len(text))

    def line(items: Sequence[str]) -> str:
        padded = [t.rjust(w) if a == "r" else t.ljust(w)
                  for t, w, a in zip(items, widths, align, strict=True)]
        return "| " + " | ".join(padded) + " |"

    rule = "| " + " | ".join("-" * (w - 1) + ":" if a == "r" else "-" * w
                             for w, a in zip(widths, align, strict=True)) + " |"
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def say(text: str = "") -> None:
    print(text, flush=True)


def progress(text: str) -> None:
    print(f"  ... {text}", file=sys.stderr, flush=True)


# ================================================================ workloads


@dataclass
class Workload:
    shape: str
    size: int  # the requested number of operations
    text: str
    bindings: dict[str, float]


def flat_workload(n: int) -> Workload:
    """x0*y0 + x1*y1 + ...: k products and k - 1 sums, 2k variables."""
    k = max(1, (n + 1) // 2)
    text = " + ".join([f"x{i}*y{i}" for i in range(k)])
    bindings: dict[str, float] = {}
    for i in range(k):
        bindings[f"x{i}"] = 0.5 + (i % 10) / 10
        bindings[f"y{i}"] = 1.5 - (i % 7) / 8
    return Workload("flat", n, text, bindings)


def horner_workload(n: int) -> Workload:
    """((x+1)*x+1)*x ...: depth n, parentheses n/2 deep."""
    k = max(1, n // 2)
    return Workload("horner", n, "(" * k + "x" + "+1)*x" * k, {"x": 0.5})


#: elementary-function terms over a, b, c; K is a constant unique to the term
#: (so common-subexpression elimination keeps every term); three operations each
_MIX_TERMS = (
    "sin(a*{K} + b)",
    "exp(b*{K} - a)",
    "log(1 + c*{K})",
    "tanh(a - c*{K})",
    "sqrt(a*{K} + c)",
    "cos(c + b*{K})",
    "sigmoid(a*{K} - c)",
    "(b*{K} + 1)^c",
    "atan(c*{K} - b)",
    "softplus(a - b*{K})",
)


def mix_workload(n: int) -> Workload:
    """A sum of m elementary-function terms of three operations each (4m - 1 operations)."""
    m = max(1, (n + 1) // 4)
    terms = [_MIX_TERMS[i % len(_MIX_TERMS)].format(K=f"{(i + 1) / m:.7g}") for i in range(m)]
    return Workload("mix", n, " + ".join(terms), {"a": 0.5, "b": 0.7, "c": 1.3})


_MAKERS: dict[str, Callable[[int], Workload]] = {
    "flat": flat_workload, "horner": horner_workload, "mix": mix_workload}


class Workloads:
    """Generated programs, made once per (shape, n) and kept for every section."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, int], Workload] = {}
        self._files: dict[tuple[str, int], tuple[Path, Path]] = {}
        self.tmp = Path(tempfile.mkdtemp(prefix="autodiff-bench-"))

    def get(self, shape: str, n: int) -> Workload:
        key = (shape, n)
        if key not in self._cache:
            self._cache[key] = _MAKERS[shape](n)
        return self._cache[key]

    def files(self, shape: str, n: int) -> tuple[Path, Path]:
        """The program and its bindings (a JSON object) written to files."""
        key = (shape, n)
        if key not in self._files:
            w = self.get(shape, n)
            program = self.tmp / f"{shape}-{n}.ad"
            program.write_text(w.text, encoding="utf-8")
            point = self.tmp / f"{shape}-{n}.json"
            point.write_text(json.dumps(w.bindings), encoding="utf-8")
            self._files[key] = (program, point)
        return self._files[key]

    def close(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


# ================================================================ ours, and Lark alone


@dataclass
class OursTiming:
    parse: float
    bind: float
    forward: float
    reverse: float
    total: float
    ops: int
    nodes: int
    value: float
    gradient: dict[str, float]


def op_count(g: Graph) -> int:
    return sum(1 for op in g.op if op is not None)


def run_ours(text: str, bindings: dict[str, float]) -> OursTiming:
    """Text to gradient, as `autodiff eval --json --no-nodes` does it, timed per stage."""
    t0 = perf()
    g = parser.parse(text).select(None)
    t1 = perf()
    bound = check_bindings(g, bindings)
    t2 = perf()
    values = forward(g, bound)
    t3 = perf()
    adj, _, _ = backward(g, values, keep_local=False)
    t4 = perf()
    gradient = {name: adj[i] for name, i in g.variables.items()}
    t5 = perf()
    return OursTiming(t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t0, op_count(g), len(g),
                      values[g.output], gradient)


def best_ours(w: Workload, repeat: int) -> OursTiming:
    """Each stage's best (min) over `repeat` runs, and the best end-to-end time."""
    best: Optional[OursTiming] = None
    for _ in range(repeat):
        gc.collect()  # start each run from the same state (collecting is not disabling)
        r = run_ours(w.text, w.bindings)
        if best is not None:
            r.parse, r.bind = min(r.parse, best.parse), min(r.bind, best.bind)
            r.forward, r.reverse = min(r.forward, best.forward), min(r.reverse, best.reverse)
            r.total = min(r.total, best.total)
        best = r
    assert best is not None
    return best


class LarkAlone:
    """Lark parsing the text with the project's grammar into its default parse tree."""

    def __init__(self) -> None:
        from lark import Lark

        self.lark = Lark(grammar_text(), parser="lalr")

    def best(self, text: str, repeat: int) -> float:
        best = math.inf
        for _ in range(repeat):
            gc.collect()
            t0 = perf()
            tree = self.lark.parse(text)
            best = min(best, perf() - t0)
            del tree
        return best


@dataclass
class Context:
    args: argparse.Namespace
    sizes: list[int]
    shapes: list[str]
    workloads: Workloads
    spawner: Spawner
    ours: dict[tuple[str, int], OursTiming] = field(default_factory=dict)
    lark_times: dict[tuple[str, int], float] = field(default_factory=dict)
    #: alternative name -> the set-up Alternative, or why it is not available
    alts: dict[str, Any] = field(default_factory=dict)
    #: (alternative name, shape, n) -> its run, for reuse by later sections
    alt_runs: dict[tuple[str, str, int], AltRun] = field(default_factory=dict)
    _lark: Optional[LarkAlone] = None

    def repeat(self, n: int) -> int:
        if self.args.repeat is not None:
            return max(1, int(self.args.repeat))
        return 1 if n >= 1_000_000 else 3

    def ours_for(self, shape: str, n: int) -> OursTiming:
        key = (shape, n)
        if key not in self.ours:
            progress(f"autodiff in-process, {shape} {fmt_n(n)}")
            self.ours[key] = best_ours(self.workloads.get(shape, n), self.repeat(n))
        return self.ours[key]

    def alternative(self, cls: type[Alternative]) -> tuple[Optional[Alternative], str]:
        """The alternative, imported and warmed up once, or None and why not."""
        alt = cls()
        if alt.name not in self.alts:
            if not alt.available():
                self.alts[alt.name] = f"skipped: {alt.module} not installed"
            else:
                progress(f"{alt.name}: import and warm-up")
                try:
                    alt.setup()
                    self.alts[alt.name] = alt
                except Exception as exc:  # noqa: BLE001 - reported, and the run goes on
                    self.alts[alt.name] = f"skipped: set-up {short_error(exc)}"
        got = self.alts[alt.name]
        return (got, "") if isinstance(got, Alternative) else (None, got)

    def lark_for(self, shape: str, n: int) -> float:
        key = (shape, n)
        if key not in self.lark_times:
            if self._lark is None:
                self._lark = LarkAlone()
            progress(f"Lark alone, {shape} {fmt_n(n)}")
            self.lark_times[key] = self._lark.best(self.workloads.get(shape, n).text, self.repeat(n))
        return self.lark_times[key]


# ================================================================ processes


@dataclass
class ProcessRun:
    seconds: float
    max_rss: int  # bytes
    returncode: int
    stdout: bytes
    stderr: bytes


#: A small helper interpreter (no site, stdlib only) that forks and execs each measured
#: command and reaps it with os.wait4. Measured processes are not spawned from the
#: benchmark itself because Linux carries the spawning process's peak RSS into the
#: child's ru_maxrss across exec: a child of this (large) process would report at least
#: its size. A child forked from the helper starts from the helper's ~9 MiB, less than
#: any interpreter it runs. Protocol: a length line, then NUL-separated stdout path,
#: stderr path and argv; the answer is "seconds maxrss_kib exit_code".
_SPAWNER = r"""
import os, sys, time
inp, out = sys.stdin.buffer, sys.stdout
while True:
    head = inp.readline()
    if not head:
        break
    fields = inp.read(int(head)).split(b"\0")
    argv = fields[2:]
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
            os.dup2(os.open(fields[0], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 1)
            os.dup2(os.open(fields[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 2)
            os.execv(argv[0], argv)
        except OSError as exc:
            os.write(2, f"cannot run {argv[0]!r}: {exc}\n".encode())
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - t0
    out.write(f"{seconds!r} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}\n")
    out.flush()
"""


class Spawner:
    """Runs whole processes through the helper above; see _SPAWNER."""

    def __init__(self, tmp: Path) -> None:
        self.out, self.err = tmp / "stdout", tmp / "stderr"
        self.proc: Optional[subprocess.Popen[bytes]] = None

    def run(self, cmd: Sequence[str]) -> ProcessRun:
        """Wall time from fork to reaping, peak RSS, exit code and output of one process."""
        if self.proc is None:
            self.proc = subprocess.Popen([sys.executable, "-S", "-c", _SPAWNER],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        payload = b"\0".join(os.fsencode(str(x)) for x in (self.out, self.err, *cmd))
        self.proc.stdin.write(b"%d\n" % len(payload) + payload)
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().split()
        if len(answer) != 3:
            raise RuntimeError("the process-spawning helper stopped")
        return ProcessRun(float(answer[0]), int(answer[1]) * 1024, int(answer[2]),
                          self.out.read_bytes(), self.err.read_bytes())

    def close(self) -> None:
        if self.proc is not None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            self.proc.wait()
            self.proc = None


def autodiff_executable() -> Path:
    return Path(sys.executable).parent / "autodiff"


def last_line(data: bytes) -> str:
    """The last line of an output: a traceback's or a message's useful part."""
    lines = data.decode("utf-8", "replace").strip().splitlines()
    return lines[-1] if lines else ""


def cli_has_bindings_option(spawner: Spawner) -> bool:
    run = spawner.run([str(autodiff_executable()), "eval", "--help"])
    return b"--bindings" in run.stdout


def ensure_bytecode(args: argparse.Namespace) -> Optional[str]:
    """Cold starts are measured as installed (pip compiles bytecode at install).
    With PYTHONDONTWRITEBYTECODE set, a source checkout never gets any, so
    compile it once here; returns a note saying so, or None."""
    pkg = Path(autodiff.__file__).parent
    missing = [p for p in pkg.glob("*.py") if not Path(importlib.util.cache_from_source(str(p))).exists()]
    if not missing:
        return None
    if args.no_compile:
        return (f"note: {len(missing)} autodiff modules have no cached bytecode and --no-compile was "
                "given: cold starts include compiling them")
    compileall.compile_dir(str(pkg), quiet=1)
    return (f"note: compiled bytecode for {pkg} ({len(missing)} modules had none), as `pip install` "
            "does; --no-compile skips this")


# ================================================================ section: scale


def section_scale(ctx: Context) -> None:
    say("## Scale: in-process, text to gradient, per stage")
    say()
    say("Best (min) of runs: " + ", ".join(f"{fmt_n(n)}: {ctx.repeat(n)}" for n in ctx.sizes)
        + ". parse+lower is tokenize + LALR parse + graph building (fused); bindings is "
        "check_bindings; end-to-end also includes building the gradient dict. Lark alone: "
        "`Lark(grammar, parser=\"lalr\").parse(text)` into its default parse tree, Lark built once "
        "outside the timing. Goals: ours ÷ Lark ≤ 1 (stretch 0.8); reverse ÷ forward ≤ 1.5.")
    say()
    rows = []
    for shape in ctx.shapes:
        for n in ctx.sizes:
            o = ctx.ours_for(shape, n)
            lark_t = ctx.lark_for(shape, n)
            rows.append([shape, fmt_n(n), f"{o.ops:,}", f"{len(ctx.workloads.get(shape, n).text):,}",
                         fmt_time(o.parse), fmt_time(o.bind), fmt_time(o.forward), fmt_time(o.reverse),
                         fmt_time(o.total), f"{o.total / o.ops * 1e6:.2f}", fmt_time(lark_t),
                         fmt_ratio(o.total / lark_t), fmt_ratio(o.reverse / o.forward)])
    say(md_table(["shape", "n", "ops", "chars", "parse+lower", "bindings", "forward", "reverse",
                  "end-to-end", "µs/op", "Lark alone", "ours ÷ Lark", "rev ÷ fwd"], rows,
                 "llrrrrrrrrrrr"))
    say()
    biggest = max(ctx.sizes)
    say(f"Goals per shape, at the largest size run ({fmt_n(biggest)}). Linearity is µs/op at the "
        "largest size ÷ µs/op at 1e4 (the goal, ≤ 1.3, is stated for 1e6 ÷ 1e4).")
    say()
    rows = []
    for shape in ctx.shapes:
        o = ctx.ours_for(shape, biggest)
        lark_ratio = o.total / ctx.lark_for(shape, biggest)
        if 10_000 in ctx.sizes and biggest > 10_000:
            small = ctx.ours_for(shape, 10_000)
            lin = (o.total / o.ops) / (small.total / small.ops)
            linearity = f"{fmt_ratio(lin)} ({goal(lin <= 1.3)})"
        else:
            linearity = "n/a (needs 1e4 and a larger size)"
        rf = o.reverse / o.forward
        rows.append([shape, f"{fmt_ratio(lark_ratio)} ({goal(lark_ratio <= 1.0)}"
                     + ("; stretch met)" if lark_ratio <= 0.8 else ")"),
                     linearity, f"{fmt_ratio(rf)} ({goal(rf <= 1.5)})"])
    say(md_table(["shape", "ours ÷ Lark (≤ 1)", "linearity (≤ 1.3)", "reverse ÷ forward (≤ 1.5)"], rows))
    say()
    section_wide(ctx)


def wide_workload(k: int) -> Workload:
    """sum(x0, ..., x{k-1}): one node with k edges (issue 10's many-argument functions)."""
    text = "J = sum(" + ", ".join(f"x{i}" for i in range(k)) + ")"
    return Workload("wide", k, text, {f"x{i}": 0.5 + (i % 10) / 10 for i in range(k)})


def section_wide(ctx: Context) -> None:
    """One node of 10,000 and of 100,000 arguments: the edges cost linear time."""
    rows = []
    per_edge = []
    for k in (10_000, 100_000):
        o = best_ours(wide_workload(k), ctx.repeat(k))
        assert o.ops == 1 and len(o.gradient) == k
        per_edge.append(o.total / k * 1e6)
        rows.append([fmt_n(k), fmt_time(o.parse), fmt_time(o.bind), fmt_time(o.forward),
                     fmt_time(o.reverse), fmt_time(o.total), f"{o.total / k * 1e6:.2f}"])
    say("One node with many edges: `J = sum(x0, ..., xk)`, k arguments (linearity: µs/edge at "
        f"100,000 ÷ at 10,000 = {fmt_ratio(per_edge[1] / per_edge[0])}).")
    say()
    say(md_table(["arguments", "parse+lower", "bindings", "forward", "reverse", "end-to-end",
                  "µs/edge"], rows, "lrrrrrr"))
    say()


# ================================================================ section: memory


#: run in a fresh interpreter: text and bindings from files -> gradient; prints its
#: resident set after the imports, its peak at the end, and the time, as JSON
_CHILD_MEMORY = """\
import json, os, resource, sys, time
from autodiff import parser
from autodiff.evaluate import backward, check_bindings, forward
parser.tables()
try:  # the resident set now, after the imports
    with open("/proc/self/statm") as fh:
        base = int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
except OSError:
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
with open(sys.argv[1], encoding="utf-8") as fh:
    text = fh.read()
with open(sys.argv[2], encoding="utf-8") as fh:
    bindings = json.load(fh)
g = parser.parse(text).select(None)
values = forward(g, check_bindings(g, bindings))
adj, _, _ = backward(g, values, keep_local=False)
# the result as the CLI would print it (its memory is part of the job)
result = json.dumps({"value": values[g.output], "gradient": {v: adj[i] for v, i in g.variables.items()}})
seconds = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
ops = sum(1 for op in g.op if op is not None)
print(json.dumps({"base_kib": base, "peak_kib": peak, "ops": ops, "seconds": seconds,
                  "value": values[g.output]}))
"""


#: with no --bindings option, the CLI is run with -D NAME=VALUE up to this many variables
MAX_D_OPTIONS = 100


def cli_binding_args(ctx: Context, shape: str, n: int, has_bindings_option: bool) -> Optional[list[str]]:
    """How to give the CLI this workload's bindings: --bindings @FILE when the CLI has it,
    else -D NAME=VALUE per variable for a few variables (thousands of options would
    measure click's option parsing, and a million would not fit on a command line)."""
    w = ctx.workloads.get(shape, n)
    if has_bindings_option:
        return ["--bindings", f"@{ctx.workloads.files(shape, n)[1]}"]
    if len(w.bindings) > MAX_D_OPTIONS:
        return None
    args: list[str] = []
    for name, value in w.bindings.items():
        args += ["-D", f"{name}={value!r}"]
    return args


def section_memory(ctx: Context) -> None:
    exe = str(autodiff_executable())
    has_option = cli_has_bindings_option(ctx.spawner)
    trivial_cmd = [exe, "eval", LECTURE, *LECTURE_ARGS, "--json", "--no-nodes"]
    trivial = [ctx.spawner.run(trivial_cmd) for _ in range(5)]
    if any(r.returncode != 0 for r in trivial):
        say(f"## Memory: skipped, the trivial CLI run failed: {last_line(trivial[0].stderr)}")
        return
    trivial_s = statistics.median(r.seconds for r in trivial)
    trivial_rss = statistics.median(r.max_rss for r in trivial)

    say("## Memory and whole-process time")
    say()
    say("Fresh interpreter: imports autodiff, then reads the program and its bindings (a JSON "
        "object) from files, parses, evaluates, differentiates and writes the result as JSON; "
        "bytes/op is its peak RSS (`resource.getrusage`) minus its RSS after the imports, per "
        "operation, and the time excludes the imports. The bindings dict is included (for the flat "
        "shape, one variable per operation, it is a good part of the figure).")
    say()
    how = ("`--bindings @FILE`" if has_option
           else f"`-D name=value` per variable (this CLI has no `--bindings`; n/a over "
                f"{MAX_D_OPTIONS} variables)")
    say(f"CLI: `autodiff eval -f FILE --json --no-nodes` with {how}; peak RSS from `os.wait4`, "
        f"bytes/op over the trivial run `autodiff {shlex.join(trivial_cmd[1:])}` (median of 5: "
        f"{fmt_time(trivial_s)}, {fmt_mib(trivial_rss)} MiB). 'minus trivial' is the best run's "
        "wall time minus the trivial run's median, compared with Lark alone in-process. "
        "Goals: ≤ 600 bytes/op at 1e6; whole process ≤ Lark alone.")
    say()
    rows = []
    for shape in ctx.shapes:
        for n in ctx.sizes:
            program, point = ctx.workloads.files(shape, n)
            progress(f"memory, fresh interpreter, {shape} {fmt_n(n)}")
            child = ctx.spawner.run([sys.executable, "-c", _CHILD_MEMORY, str(program), str(point)])
            if child.returncode != 0:
                rows.append([shape, fmt_n(n), "", f"fails: {cell(last_line(child.stderr))}",
                             "", "", "", "", "", ""])
                continue
            data = json.loads(child.stdout)
            ops = int(data["ops"])
            in_process = max(0, data["peak_kib"] - data["base_kib"]) * 1024 / ops
            row = [shape, fmt_n(n), f"{ops:,}", fmt_bytes_per_op(in_process), fmt_time(data["seconds"])]
            binding_args = cli_binding_args(ctx, shape, n, has_option)
            if binding_args is None:
                rows.append(row + [f"n/a ({len(ctx.workloads.get(shape, n).bindings):,} variables)",
                                   "", "", "", ""])
                continue
            progress(f"memory, CLI process, {shape} {fmt_n(n)}")
            cmd = [exe, "eval", "-f", str(program), "--json", "--no-nodes", *binding_args]
            runs = [ctx.spawner.run(cmd) for _ in range(ctx.repeat(n))]
            best = min(runs, key=lambda r: r.seconds)
            if best.returncode != 0:
                rows.append(row + [f"fails: exit {best.returncode}: {cell(last_line(best.stderr))}",
                                   "", "", "", ""])
                continue
            value = json.loads(best.stdout)["value"]
            ok = math.isclose(value, data["value"], rel_tol=1e-12)
            whole = best.seconds - trivial_s
            ratio = fmt_ratio(whole / ctx.lark_for(shape, n)) if whole > 0 else "n/a"
            rows.append(row + [fmt_mib(best.max_rss), fmt_bytes_per_op((best.max_rss - trivial_rss) / ops),
                               fmt_time(best.seconds),
                               fmt_time(whole) if whole > 0 else "≤ 0 (within noise)",
                               ratio + ("" if ok else " (**value differs**)")])
    say(md_table(["shape", "n", "ops", "fresh: bytes/op", "fresh: time", "CLI peak MiB", "CLI bytes/op",
                  "CLI wall", "minus trivial", "÷ Lark alone"], rows, "llrrrrrrrr"))
    say()


# ================================================================ alternatives: graph walks


OpTable = dict[tuple[str, int], Callable[..., Any]]


def _resolved(g: Graph, table: OpTable) -> list[Optional[Callable[..., Any]]]:
    """Per node, the alternative's function for its operation (None for a leaf)."""
    cache: dict[int, Callable[..., Any]] = {}
    out: list[Optional[Callable[..., Any]]] = []
    for op, b in zip(g.op, g.arg1, strict=True):
        if op is None:
            out.append(None)
            continue
        key = id(op)
        if key not in cache:
            arity = 2 if b >= 0 else 1
            if (op.name, arity) not in table:
                raise NotImplementedError(f"no mapping for {op.name}/{arity}")
            cache[key] = table[op.name, arity]
        out.append(cache[key])
    return out


def walk_graph(g: Graph, fns: list[Optional[Callable[..., Any]]], constant: Callable[[float], Any],
               variables: dict[int, Any]) -> Any:
    """Evaluate our graph with another library's operations: one loop, no recursion."""
    vals: list[Any] = [None] * len(g.op)
    for i, fn, a, b, lf in zip(range(g.output + 1), fns, g.arg0, g.arg1, g.const, strict=False):
        if fn is None:
            vals[i] = variables[i] if lf is None else constant(lf)
        elif b >= 0:
            vals[i] = fn(vals[a], vals[b])
        else:
            vals[i] = fn(vals[a])
    return vals[g.output]


def torch_table(torch: Any) -> OpTable:
    F = torch.nn.functional
    return {
        ("add", 2): operator.add, ("sub", 2): operator.sub, ("mul", 2): operator.mul,
        ("div", 2): operator.truediv, ("pow", 2): torch.pow, ("neg", 1): operator.neg,
        ("exp", 1): torch.exp, ("expm1", 1): torch.expm1, ("log", 1): torch.log,
        ("log", 2): lambda x, b: torch.log(x) / torch.log(b), ("log1p", 1): torch.log1p,
        ("log2", 1): torch.log2, ("log10", 1): torch.log10, ("sqrt", 1): torch.sqrt,
        ("abs", 1): torch.abs, ("relu", 1): torch.relu, ("min", 2): torch.minimum,
        ("max", 2): torch.maximum, ("sin", 1): torch.sin, ("cos", 1): torch.cos, ("tan", 1): torch.tan,
        ("asin", 1): torch.asin, ("acos", 1): torch.acos, ("atan", 1): torch.atan,
        ("atan2", 2): torch.atan2, ("hypot", 2): torch.hypot, ("sinh", 1): torch.sinh,
        ("cosh", 1): torch.cosh, ("tanh", 1): torch.tanh, ("sigmoid", 1): torch.sigmoid,
        ("softplus", 1): F.softplus,
    }


def jax_table(jax: Any, jnp: Any) -> OpTable:
    return {
        ("add", 2): operator.add, ("sub", 2): operator.sub, ("mul", 2): operator.mul,
        ("div", 2): operator.truediv, ("pow", 2): jnp.power, ("neg", 1): operator.neg,
        ("exp", 1): jnp.exp, ("expm1", 1): jnp.expm1, ("log", 1): jnp.log,
        ("log", 2): lambda x, b: jnp.log(x) / jnp.log(b), ("log1p", 1): jnp.log1p,
        ("log2", 1): jnp.log2, ("log10", 1): jnp.log10, ("sqrt", 1): jnp.sqrt,
        ("abs", 1): jnp.abs, ("relu", 1): jax.nn.relu, ("min", 2): jnp.minimum,
        ("max", 2): jnp.maximum, ("sin", 1): jnp.sin, ("cos", 1): jnp.cos, ("tan", 1): jnp.tan,
        ("asin", 1): jnp.arcsin, ("acos", 1): jnp.arccos, ("atan", 1): jnp.arctan,
        ("atan2", 2): jnp.arctan2, ("hypot", 2): jnp.hypot, ("sinh", 1): jnp.sinh,
        ("cosh", 1): jnp.cosh, ("tanh", 1): jnp.tanh, ("sigmoid", 1): jax.nn.sigmoid,
        ("softplus", 1): jax.nn.softplus,
    }


@dataclass
class AltRun:
    total: float  # text to gradient
    stages: dict[str, float]
    gradient: dict[str, float]


class Alternative:
    """Another library doing the same job: text -> value and gradient."""

    name = ""
    module = ""
    how = ""
    default_growth = 1.0  # exponent used to project the next size from one measured point

    def available(self) -> bool:
        return importlib.util.find_spec(self.module) is not None

    def version(self) -> str:
        return str(getattr(importlib.import_module(self.module), "__version__", "?"))

    def setup(self) -> None:
        """Import and warm up (one-time initialisation is not charged to a run)."""

    def run(self, w: Workload) -> AltRun:
        raise NotImplementedError


class SympyAlt(Alternative):
    name = "SymPy"
    module = "sympy"
    how = ("`sympy.parse_expr(text.replace(\"^\", \"**\"))`, `sympy.diff` per variable, then "
           "`evalf(subs=point)` for the value and each derivative; the cache is cleared before each run")
    default_growth = 2.0  # quadratic in the number of variables

    def setup(self) -> None:
        import sympy

        self.sympy = sympy
        s = sympy
        self.local: dict[str, Any] = {
            "sigmoid": lambda x: 1 / (1 + s.exp(-x)),
            "softplus": lambda x: s.log(1 + s.exp(x)),
            "relu": lambda x: s.Max(x, 0),
            "log1p": lambda x: s.log(1 + x),
            "expm1": lambda x: s.exp(x) - 1,
            "log2": lambda x: s.log(x, 2),
            "log10": lambda x: s.log(x, 10),
            "hypot": lambda x, y: s.sqrt(x**2 + y**2),
            "pow": lambda x, y: x**y,
        }
        self.run(mix_workload(20))

    def run(self, w: Workload) -> AltRun:
        from sympy.core.cache import clear_cache

        s = self.sympy
        clear_cache()
        t0 = perf()
        expr = s.parse_expr(w.text.replace("^", "**"), local_dict=self.local)
        t1 = perf()
        symbols = {sym.name: sym for sym in expr.free_symbols}
        point = {symbols[name]: value for name, value in w.bindings.items() if name in symbols}
        value = expr.evalf(subs=point)
        derivatives = {name: expr.diff(sym) for name, sym in symbols.items()}
        t2 = perf()
        gradient = {name: float(d.evalf(subs=point)) for name, d in derivatives.items()}
        t3 = perf()
        float(value)
        return AltRun(t3 - t0, {"parse": t1 - t0, "diff": t2 - t1, "evalf": t3 - t2}, gradient)


class TorchAlt(Alternative):
    name = "PyTorch"
    module = "torch"
    how = ("our parse, then a loop over our graph's nodes building float64 scalar tensors "
           "(variables with requires_grad=True), then `.backward()`")

    def setup(self) -> None:
        import torch

        self.torch = torch
        self.table = torch_table(torch)
        for make in (flat_workload, horner_workload, mix_workload):
            self.run(make(40))

    def run(self, w: Workload) -> AltRun:
        torch = self.torch
        t0 = perf()
        g = parser.parse(w.text).select(None)
        t1 = perf()
        fns = _resolved(g, self.table)
        leaves = {i: torch.tensor(w.bindings[name], dtype=torch.float64, requires_grad=True)
                  for name, i in g.variables.items()}
        out = walk_graph(g, fns, lambda v: torch.tensor(v, dtype=torch.float64), leaves)
        t2 = perf()
        out.backward()
        t3 = perf()
        gradient = {name: float(leaves[i].grad) for name, i in g.variables.items()}
        del out
        return AltRun(t3 - t0, {"parse": t1 - t0, "forward": t2 - t1, "backward": t3 - t2}, gradient)


class JaxAlt(Alternative):
    name = "JAX"
    module = "jax"
    how = ("our parse, then a function of the variables (a dict) that loops over our graph with "
           "jnp operations; `jax.value_and_grad` (not jitted: jit compiles too, which costs a "
           "one-shot user more), first call, tracing included; float64 (`jax_enable_x64`)")

    def setup(self) -> None:
        import jax

        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp

        self.jax = jax
        self.jnp = jnp
        self.table = jax_table(jax, jnp)
        for make in (flat_workload, horner_workload, mix_workload):
            self.run(make(40))  # backend start-up and each primitive's first use

    def run(self, w: Workload) -> AltRun:
        jax, jnp = self.jax, self.jnp
        t0 = perf()
        g = parser.parse(w.text).select(None)
        t1 = perf()
        fns = _resolved(g, self.table)
        index = g.variables

        def f(point: dict[str, Any]) -> Any:
            return walk_graph(g, fns, float, {index[name]: x for name, x in point.items()})

        point = {name: jnp.float64(w.bindings[name]) for name in index}
        value, grads = jax.value_and_grad(f)(point)
        jax.block_until_ready((value, grads))
        t2 = perf()
        gradient = {name: float(x) for name, x in grads.items()}
        return AltRun(t2 - t0, {"parse": t1 - t0, "trace+grad": t2 - t1}, gradient)


def agreement(ours: dict[str, float], theirs: dict[str, float]) -> str:
    """'yes' when every partial agrees to AGREE_TOLERANCE (relative, floor 1)."""
    worst = 0.0
    for name, d in ours.items():
        if name not in theirs:
            return f"**no** (no ∂/∂{name})"
        worst = max(worst, abs(theirs[name] - d) / max(1.0, abs(d)))
    return "yes" if worst <= AGREE_TOLERANCE else f"**no** (rel. diff {worst:.1e})"


@dataclass
class AltOutcome:
    run: Optional[AltRun]
    note: str  # why there is no run: a failure or a skip


def time_alternative(alt: Alternative, w: Workload, repeat: int) -> AltRun:
    """Best of `repeat` runs, but a run over a second is not repeated."""
    best: Optional[AltRun] = None
    for _ in range(repeat):
        gc.collect()
        r = alt.run(w)
        if best is None or r.total < best.total:
            best = r
        if r.total > 1.0:
            break
    assert best is not None
    return best


def run_alternative_sizes(ctx: Context, alt: Alternative, shape: str) -> dict[int, AltOutcome]:
    """Run the sizes in order; project each from the ones before it and skip those over
    the budget; after a failure the larger sizes are not attempted."""
    outcomes: dict[int, AltOutcome] = {}
    done: list[tuple[int, float]] = []
    failed_at: Optional[int] = None
    for n in ctx.sizes:
        if failed_at is not None:
            outcomes[n] = AltOutcome(None, f"not run (fails at {fmt_n(failed_at)})")
            continue
        if done:
            growth = alt.default_growth
            if len(done) >= 2:
                (n1, s1), (n2, s2) = done[-2], done[-1]
                growth = max(1.0, math.log(s2 / s1) / math.log(n2 / n1)) if s1 > 0 else growth
            projected = done[-1][1] * (n / done[-1][0]) ** growth
            if projected > ctx.args.budget:
                outcomes[n] = AltOutcome(None, f"skipped: projected {fmt_time(projected)} > budget "
                                               f"{ctx.args.budget:g} s")
                continue
        progress(f"{alt.name}, {shape} {fmt_n(n)}")
        try:
            r = time_alternative(alt, ctx.workloads.get(shape, n), ctx.repeat(n))
        except Exception as exc:  # noqa: BLE001 - RecursionError, SyntaxError, MemoryError...: a result
            outcomes[n] = AltOutcome(None, short_error(exc))
            failed_at = n
            gc.collect()
            continue
        outcomes[n] = AltOutcome(r, "")
        ctx.alt_runs[alt.name, shape, n] = r
        done.append((n, r.total))
    return outcomes


ALTERNATIVES: tuple[type[Alternative], ...] = (SympyAlt, TorchAlt, JaxAlt)


def section_alternatives(ctx: Context) -> None:
    say("## Alternatives doing the same job (text to value and gradient, in-process)")
    say()
    say(f"Each alternative is imported and warmed up on a tiny program first. One run per size "
        f"(the best of up to {ctx.args.repeat or 3} while runs take under a second); sizes whose "
        f"time, projected from the smaller ones, exceeds the budget ({ctx.args.budget:g} s, "
        f"`--budget`) are skipped. 'agrees': every partial derivative within {AGREE_TOLERANCE:g} "
        "(relative) of ours. Ours: the best end-to-end time, as in the scale section.")
    say()
    for cls in ALTERNATIVES:
        alt, why_not = ctx.alternative(cls)
        say(f"### {cls.name}")
        say()
        if alt is None:
            say(why_not)
            say()
            continue
        say(f"{alt.name} {alt.version()}: {alt.how}.")
        say()
        # PyTorch also gets its sweeps alone against ours (forward + backward vs forward + reverse)
        sweeps = isinstance(alt, TorchAlt)
        rows = []
        for shape in ctx.shapes:
            for n, outcome in run_alternative_sizes(ctx, alt, shape).items():
                o = ctx.ours_for(shape, n)
                row = [shape, fmt_n(n), f"{o.ops:,}"]
                r = outcome.run
                if r is None:
                    rows.append(row + [cell(outcome.note), "", fmt_time(o.total), "", ""]
                                + [""] * sweeps)
                    continue
                stages = ", ".join(f"{k} {fmt_time(v)}" for k, v in r.stages.items())
                row += [fmt_time(r.total), stages, fmt_time(o.total), fmt_ratio(r.total / o.total),
                        agreement(o.gradient, r.gradient)]
                if sweeps:
                    row.append(fmt_ratio((r.stages["forward"] + r.stages["backward"])
                                         / (o.forward + o.reverse)))
                rows.append(row)
        headers = ["shape", "n", "ops", f"{alt.name} text→gradient", "stages", "ours",
                   f"{alt.name} ÷ ours" + (" (goal ≥ 2x)" if sweeps else ""), "agrees"]
        if sweeps:
            headers.append("sweeps alone ÷ ours")
        say(md_table(headers, rows, "llrrlrrlr"))
        say()
        if sweeps:
            say("'sweeps alone': PyTorch's forward + backward against our forward + reverse, "
                "without the parse that both share.")
            say()


# ================================================================ section: small (goal 5)


def section_small(ctx: Context) -> None:
    w = ctx.workloads.get("flat", 1000)
    repeat = max(20, ctx.args.repeat or 0)
    ours = best_ours(w, repeat)
    say("## Goal 5: a 1,000-operation flat sum, text to gradient, in-process")
    say()
    say(f"`x0*y0 + ... + x499*y499` ({ours.ops:,} operations, {len(w.bindings):,} variables). Ours: "
        f"best of {repeat}; alternatives: best of up to 3 after a warm-up, as in the alternatives "
        "section (whose flat 1e3 run is reused when it ran).")
    say()
    rows = [["autodiff", fmt_time(ours.total), "", "", ""]]
    goals = {"SymPy": 100.0, "JAX": 15.0}
    for cls in ALTERNATIVES:
        target = goals.get(cls.name)
        target_text = f"≥ {target:g}x" if target else "(context)"
        alt, why_not = ctx.alternative(cls)
        if alt is None:
            rows.append([cls.name, cell(why_not), "", target_text, ""])
            continue
        r = ctx.alt_runs.get((alt.name, "flat", 1000))
        if r is None:
            progress(f"goal 5: {alt.name}")
            try:
                r = time_alternative(alt, w, 3)
            except Exception as exc:  # noqa: BLE001 - a failure is a result here
                rows.append([alt.name, cell(short_error(exc)), "", target_text, ""])
                continue
        speedup = r.total / ours.total
        rows.append([alt.name, fmt_time(r.total), fmt_ratio(speedup), target_text,
                     goal(speedup >= target) if target else ""])
    say(md_table(["tool", "text→gradient", "ours faster by", "goal", ""], rows, "lrrll"))
    say()


# ================================================================ section: cold


_SYMPY_LECTURE = (
    'import sympy; J = sympy.parse_expr("3*(a+b*c)"); s = sympy.symbols("a b c"); '
    "p = dict(zip(s, (5, 3, 2))); print(float(J.evalf(subs=p)), "
    "[float(J.diff(v).evalf(subs=p)) for v in s])")
_TORCH_LECTURE = (
    "import torch; a, b, c = (torch.tensor(v, dtype=torch.float64, requires_grad=True) "
    "for v in (5.0, 3.0, 2.0)); J = 3 * (a + b * c); J.backward(); "
    "print(J.item(), [t.grad.item() for t in (a, b, c)])")
_JAX_LECTURE = (
    'import jax; jax.config.update("jax_enable_x64", True); f = lambda a, b, c: 3 * (a + b * c); '
    "v, g = jax.value_and_grad(f, argnums=(0, 1, 2))(5.0, 3.0, 2.0); "
    "print(float(v), [float(x) for x in g])")


def _prints_nothing(out: bytes) -> bool:
    return True


def _table_ok(out: bytes) -> bool:
    text = out.decode("utf-8", "replace")
    return "J = 33" in text and "∂J/∂a = 3" in text and "∂J/∂b = 6" in text and "∂J/∂c = 9" in text


def _json_ok(out: bytes) -> bool:
    return bool(json.loads(out).get("gradient") == LECTURE_GRADIENT)


def _one_liner_ok(out: bytes) -> bool:
    return out.split() == [b"33.0", b"[3.0,", b"6.0,", b"9.0]"]


@dataclass
class ColdCommand:
    label: str
    module: Optional[str]  # an optional dependency it needs
    argv: list[str]
    check: Callable[[bytes], bool]  # is the first run's stdout the right answer?


def section_cold(ctx: Context) -> None:
    exe = str(autodiff_executable())
    py = sys.executable
    commands = [
        ColdCommand("floor", None, [py, "-c", "import click, lark, rich.console, rich.table"],
                    _prints_nothing),
        ColdCommand("autodiff (table)", None, [exe, "eval", LECTURE, *LECTURE_ARGS], _table_ok),
        ColdCommand("autodiff --json", None, [exe, "eval", LECTURE, *LECTURE_ARGS, "--json"], _json_ok),
        ColdCommand("SymPy one-liner", "sympy", [py, "-c", _SYMPY_LECTURE], _one_liner_ok),
        ColdCommand("PyTorch one-liner", "torch", [py, "-c", _TORCH_LECTURE], _one_liner_ok),
        ColdCommand("JAX one-liner", "jax", [py, "-c", _JAX_LECTURE], _one_liner_ok),
    ]
    runs = max(1, ctx.args.cold_runs)
    say("## Cold start: the lecture example as whole processes")
    say()
    say(f"{runs} runs of each command below, interleaved; wall time from fork to exit, peak RSS "
        "from `os.wait4`; the first run's output is checked. Goals: autodiff ≤ 1.2x the floor "
        "(medians), peak ≤ 30 MiB, --json no slower than the table.")
    say()
    results: dict[str, list[ProcessRun]] = {}
    notes: dict[str, str] = {}
    for c in commands:
        if c.module and importlib.util.find_spec(c.module) is None:
            notes[c.label] = f"skipped: {c.module} not installed"
    for k in range(runs):
        progress(f"cold start round {k + 1}/{runs}")
        for c in commands:
            if c.label in notes:
                continue
            r = ctx.spawner.run(c.argv)
            if r.returncode != 0:
                notes[c.label] = f"fails: exit {r.returncode}: {last_line(r.stderr)}"
            elif k == 0 and not c.check(r.stdout):
                notes[c.label] = f"wrong output: {last_line(r.stdout)}"
            else:
                results.setdefault(c.label, []).append(r)
    medians = {label: statistics.median(r.seconds for r in rs) for label, rs in results.items()}
    floor = medians.get("floor", math.nan)
    rows = []
    for c in commands:
        if c.label in notes:
            rows.append([c.label, cell(notes[c.label]), "", "", ""])
            continue
        rs = results[c.label]
        rows.append([c.label, fmt_time(medians[c.label]), fmt_time(min(r.seconds for r in rs)),
                     fmt_ratio(medians[c.label] / floor),
                     fmt_mib(statistics.median(r.max_rss for r in rs))])
    say(md_table(["command", "median", "min", "÷ floor (median)", "peak MiB (median)"], rows, "lrrrr"))
    say()
    say("```")
    for c in commands:
        say(f"# {c.label}")
        say(shlex.join(["python" if c.argv[0] == py else "autodiff", *c.argv[1:]]))
    say("```")
    say()
    if {"floor", "autodiff (table)", "autodiff --json"} <= set(medians):
        table_t, json_t = medians["autodiff (table)"], medians["autodiff --json"]
        rss_peak = max(statistics.median(r.max_rss for r in results[k])
                       for k in ("autodiff (table)", "autodiff --json"))
        say(md_table(["goal", "measured", ""], [
            ["autodiff (table) ≤ 1.2x the floor", fmt_ratio(table_t / floor), goal(table_t / floor <= 1.2)],
            ["autodiff --json ≤ 1.2x the floor", fmt_ratio(json_t / floor), goal(json_t / floor <= 1.2)],
            ["peak ≤ 30 MiB (the larger median)", f"{fmt_mib(rss_peak)} MiB", goal(rss_peak <= 30 * 2**20)],
            ["--json no slower than the table", fmt_ratio(json_t / table_t), goal(json_t <= table_t)],
        ]))
        say()


# ================================================================ section: ready


_READY = (
    "import time; t0 = time.perf_counter(); import autodiff; t1 = time.perf_counter(); "
    "from autodiff import parser; parser.tables(); t2 = time.perf_counter(); "
    "parser.parse('J=3*(a+b*c)'); t3 = time.perf_counter(); print(t2 - t0, t1 - t0, t2 - t1, t3 - t2)")
_IMPORT_CLI = "import time; t0 = time.perf_counter(); import autodiff.cli; print(time.perf_counter() - t0)"
_IMPORT_FLOOR = ("import time; t0 = time.perf_counter(); import click, lark, rich.console, rich.table; "
                 "print(time.perf_counter() - t0)")
_LARK_BUILD = (
    "import sys, time; from lark import Lark; text = open(sys.argv[1], encoding='utf-8').read(); "
    "t0 = time.perf_counter(); Lark(text, parser='lalr'); print(time.perf_counter() - t0)")


def section_ready(ctx: Context) -> None:
    runs = max(1, ctx.args.cold_runs)
    ready = [sys.executable, "-c", _READY]
    items: list[tuple[str, list[str], int]] = [
        ("`import autodiff` (with the standard library's `re` and `typing`, which the command "
         "line's click and rich load anyway)", ready, 1),
        ("**parser ready**: `parser.tables()`, the tokenizer and LALR tables loaded and checked "
         "against the grammar file", ready, 2),
        ("then the first `parser.parse(\"J=3*(a+b*c)\")`", ready, 3),
        ("all three from a cold interpreter", ready, 0),
        ("`import autodiff.cli`", [sys.executable, "-c", _IMPORT_CLI], 0),
        ("`import click, lark, rich.console, rich.table` (the floor's imports)",
         [sys.executable, "-c", _IMPORT_FLOOR], 0),
        ("building `Lark(grammar, parser=\"lalr\")` (what the shipped tables avoid)",
         [sys.executable, "-c", _LARK_BUILD, str(grammar_path())], 0),
    ]
    say("## Parser ready time, in a fresh process")
    say()
    say(f"Each measured inside a fresh interpreter with `time.perf_counter()`; {runs} processes per "
        "script. Goal: the parser is ready in ≤ 6 ms in-process, once the modules are imported "
        "(building the parser is what Lark's grammar analysis would cost, last row).")
    say()
    samples: dict[str, list[list[float]]] = {}
    failures: dict[str, str] = {}
    rows = []
    for label, cmd, k in items:
        key = "\0".join(cmd)
        if key not in samples and key not in failures:
            progress(f"ready: {label}")
            got: list[list[float]] = []
            for _ in range(runs):
                r = ctx.spawner.run(cmd)
                if r.returncode != 0:
                    failures[key] = f"fails: {last_line(r.stderr)}"
                    break
                got.append([float(x) for x in r.stdout.split()])
            samples[key] = got
        if key in failures:
            rows.append([label, cell(failures[key]), "", ""])
            continue
        values = [s[k] for s in samples[key]]
        med = statistics.median(values)
        rows.append([label, fmt_time(med), fmt_time(min(values)),
                     goal(med <= 0.006) if label.startswith("**parser ready**") else ""])
    say(md_table(["what", "median", "min", "goal ≤ 6 ms"], rows, "lrrl"))
    say()


# ================================================================ main


def parse_sizes(text: str) -> list[int]:
    sizes = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        value = float(item)
        if not (value >= 1 and value.is_integer()):
            raise argparse.ArgumentTypeError(f"not a size: {item!r}")
        sizes.append(int(value))
    if not sizes:
        raise argparse.ArgumentTypeError("no sizes given")
    return sorted(set(sizes))


def parse_list(allowed: Sequence[str]) -> Callable[[str], list[str]]:
    def parse(text: str) -> list[str]:
        items = [t.strip() for t in text.split(",") if t.strip()]
        bad = [t for t in items if t not in allowed]
        if bad or not items:
            raise argparse.ArgumentTypeError(f"choose from {','.join(allowed)}; got {text!r}")
        return items

    return parse


def build_argparser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=parse_sizes, default=parse_sizes(DEFAULT_SIZES),
                    help=f"operation counts, comma-separated (default {DEFAULT_SIZES}; the full run "
                         "adds 1e6)")
    ap.add_argument("--only", type=parse_list(SECTIONS), default=list(SECTIONS),
                    help=f"sections to run, comma-separated: {','.join(SECTIONS)} (default: all)")
    ap.add_argument("--shapes", type=parse_list(SHAPES), default=list(SHAPES),
                    help=f"shapes, comma-separated: {','.join(SHAPES)} (default: all)")
    ap.add_argument("--repeat", type=int, default=None,
                    help="runs per measurement, the best (min) is reported (default 3; 1 at 1e6)")
    ap.add_argument("--budget", type=float, default=60.0,
                    help="seconds: skip an alternative's size whose projected time exceeds it "
                         "(default 60)")
    ap.add_argument("--cold-runs", type=int, default=10,
                    help="processes per command in the cold and ready sections (default 10)")
    ap.add_argument("--no-compile", action="store_true",
                    help="do not compile autodiff's bytecode before the cold-start sections")
    return ap


def shown_path(path: object) -> str:
    """A path as the report prints it: relative to the project (or the working
    folder) when it lies inside, else only its last parts, never the absolute
    path of the machine it ran on."""
    p = Path(str(path)).resolve()
    for base in (Path(__file__).resolve().parents[1], Path.cwd()):
        try:
            return str(p.relative_to(base))
        except ValueError:
            continue
    return str(Path(*p.parts[-2:]))


def header(args: argparse.Namespace) -> None:
    prefix = (f"PYTHONPATH={shlex.quote(shown_path(os.environ['PYTHONPATH']))} "
              if os.environ.get("PYTHONPATH") else "")
    say("# autodiff benchmarks")
    say()
    say("```")
    say(f"{prefix}{shlex.join(['python', *sys.argv])}")
    say("```")
    say()
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    import lark

    say(f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    say(f"- machine: {platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} CPUs "
        f"({affinity} usable), load average {load}")
    say(f"- Python {platform.python_version()} ({platform.python_implementation()}), "
        f"interpreter {shown_path(sys.executable)}")
    say(f"- autodiff {autodiff.__version__} from {shown_path(Path(autodiff.__file__).parent)}; "
        f"lark {lark.__version__}; CLI {shown_path(autodiff_executable())}")
    say(f"- sizes {', '.join(fmt_n(n) for n in args.sizes)}; shapes {', '.join(args.shapes)}; "
        f"sections {', '.join(args.only)}")
    if hasattr(os, "getloadavg") and affinity and os.getloadavg()[0] > 0.5 * affinity:
        say("- **note: the machine is busy** (1-minute load average over half the usable CPUs): "
            "times are inflated and noisy; record figures from a run on a quiet machine")
    say()


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_argparser().parse_args(argv)
    header(args)
    parser.tables()  # one-time set-up (timed by the ready section), then a first parse
    run_ours(LECTURE, {"a": 5.0, "b": 3.0, "c": 2.0})
    workloads = Workloads()
    ctx = Context(args, args.sizes, args.shapes, workloads, Spawner(workloads.tmp))
    started = perf()
    try:
        if {"memory", "cold", "ready"} & set(args.only):
            note = ensure_bytecode(args)
            if note:
                say(note)
                say()
        for name in SECTIONS:
            if name in args.only:
                SECTION_FUNCTIONS[name](ctx)
    finally:
        ctx.spawner.close()
        ctx.workloads.close()
    say(f"_Total benchmark time: {fmt_time(perf() - started)}._")
    return 0


SECTION_FUNCTIONS: dict[str, Callable[[Context], None]] = {
    "scale": section_scale,
    "memory": section_memory,
    "alternatives": section_alternatives,
    "small": section_small,
    "cold": section_cold,
    "ready": section_ready,
}


if __name__ == "__main__":
    sys.exit(main())
