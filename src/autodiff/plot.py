"""`autodiff plot`: a function of one variable, its derivative, and the
tangent line at the bound point, whose slope is the derivative autodiff
computed there.

`plot_data` samples the program over a range (the other variables stay
bound): each sample is one evaluation, value and derivative from autodiff
itself. Where the value is undefined (log at x <= 0) the sample is a gap; where
only the derivative is (sqrt at 0) the value is kept and the derivative is a
gap. Kinks, where the derivative jumps (abs at 0, relu, max), are found by
bisection between samples whose derivatives disagree, and marked.

Renderers are pure functions of that data: `to_braille` (Unicode Braille
text for the terminal: no colour, so it reads the same with NO_COLOR and in a
pipe), `to_svg` (written here, no library), and `to_png` (matplotlib, the
optional extra ``autodiff[plot]``, imported only when a PNG is asked for).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping, Optional

from .errors import EvaluationError, ProgramError, UsageProblem, escape_text
from .graph import Graph
from .numfmt import format_number

__all__ = ["PlotData", "plot_data", "parse_range", "to_braille", "to_svg", "to_png", "nice_ticks"]


@dataclass
class PlotData:
    program: str
    output: str
    variable: str
    lo: float
    hi: float
    xs: list[float]
    #: the function's value at each x (None: undefined there)
    ys: list[Optional[float]]
    #: its derivative ∂output/∂variable at each x (None: undefined there)
    dys: list[Optional[float]]
    x0: float
    y0: float
    slope: float
    #: (x, note) where the derivative jumps; the note names the convention used there, if any
    kinks: list[tuple[float, str]] = field(default_factory=list)
    #: the other variables' bindings
    fixed: dict[str, float] = field(default_factory=dict)

    def _repr_svg_(self) -> str:  # Jupyter shows the plot
        return to_svg(self)

    def tangent(self, x: float) -> float:
        return self.y0 + self.slope * (x - self.x0)

    def jumps(self) -> list[float]:
        """Points between samples where the function jumps (floor at an
        integer, tan at its pole): the value changes more than its derivative
        allows, or against the derivative's sign. The curve is not joined there."""
        out = []
        for k in range(len(self.xs) - 1):
            y0, y1, d0, d1 = self.ys[k], self.ys[k + 1], self.dys[k], self.dys[k + 1]
            if y0 is None or y1 is None or d0 is None or d1 is None:
                continue
            h = self.xs[k + 1] - self.xs[k]
            dy = y1 - y0
            steep = abs(dy) > 4 * h * max(abs(d0), abs(d1)) + 1e-9 * (1 + abs(y0))
            if steep or (dy * d0 < 0 and dy * d1 < 0):
                out.append((self.xs[k] + self.xs[k + 1]) / 2)
        return out

    def gaps(self) -> list[tuple[float, float]]:
        """The stretches of x where the function is undefined (between samples)."""
        out: list[tuple[float, float]] = []
        start: Optional[float] = None
        prev = self.lo
        for x, y in zip(self.xs, self.ys, strict=True):
            if y is None and start is None:
                start = x
            elif y is not None and start is not None:
                out.append((start, prev))
                start = None
            prev = x
        if start is not None:
            out.append((start, self.xs[-1]))
        return out


def parse_range(text: str) -> tuple[float, float]:
    """'-3:3' -> (-3.0, 3.0)."""
    lo_text, sep, hi_text = text.partition(":")
    try:
        if not sep:
            raise ValueError
        lo, hi = float(lo_text), float(hi_text)
    except ValueError:
        raise UsageProblem(f"--range expects LOW:HIGH, such as -3:3, got '{escape_text(text, 40)}'") from None
    if not (math.isfinite(lo) and math.isfinite(hi)) or not lo < hi:
        raise UsageProblem(f"--range {escape_text(text, 40)}: LOW must be below HIGH, both finite numbers")
    return lo, hi


def _point(graph: Graph, bindings: dict[str, float], var: str, x: float
           ) -> tuple[Optional[float], Optional[float], list[str]]:
    """(value, derivative, conventions applied) at one x; None where undefined."""
    from .evaluate import evaluate, forward

    b = dict(bindings)
    b[var] = x
    try:
        r = evaluate(graph, b, keep_local=True)
    except EvaluationError as exc:
        if exc.kind != "derivative":
            return None, None, []
        try:  # the value is there, its derivative is not (sqrt at 0)
            return forward(graph, b)[graph.output], None, []
        except EvaluationError:
            return None, None, []
    notes = [n for ns in r.conventions.values() for n in ns]
    return r.value, r.adjoints[graph.variables[var]], notes


def plot_data(graph: Graph, bindings: Mapping[str, float], *, variable: Optional[str] = None,
              lo: Optional[float] = None, hi: Optional[float] = None, samples: int = 401) -> PlotData:
    """Sample `graph`'s output over [lo, hi] (default: the bound point ± 3)
    in `variable` (default: the program's only variable), the others bound."""
    from .evaluate import evaluate

    names = graph.output_variables()
    if variable is None:
        if len(names) != 1:
            if not names:
                raise ProgramError(f"{graph.output_name} depends on no variable: nothing to plot")
            raise UsageProblem(f"the program has the variables {', '.join(names)}: choose the one to "
                               "plot along with --var NAME (and bind the others)")
        variable = names[0]
    if variable not in names:
        raise UsageProblem(f"--var {escape_text(variable, 60)}: {graph.output_name} does not depend on "
                           f"{escape_text(variable, 60)} (its variables: {', '.join(names) or 'none'})")
    if variable not in bindings:
        raise UsageProblem(f"bind {variable} to the point of the tangent: --{variable} VALUE")
    bound = {k: float(v) for k, v in bindings.items()}
    r = evaluate(graph, bound)  # the bound point: its errors are the user's to see
    x0 = bound[variable]
    y0 = r.value
    slope = r.adjoints[graph.variables[variable]]
    lo = x0 - 3.0 if lo is None else float(lo)
    hi = x0 + 3.0 if hi is None else float(hi)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise UsageProblem(f"the range {lo!r} to {hi!r} around x = {x0!r} reaches past the largest "
                           "double: give --range LOW:HIGH")
    if not lo < hi:
        raise UsageProblem("the range is empty: LOW must be below HIGH" if lo > hi else
                           f"the range {lo!r}:{hi!r} around x = {x0!r} is empty in doubles: "
                           "give --range LOW:HIGH")
    if not math.isfinite(hi - lo) or (hi - lo) < 1e-300:
        raise UsageProblem(f"the range {lo!r}:{hi!r} is too wide or too narrow to sample in doubles "
                           "(its width must be finite and at least 1e-300)")
    samples = max(3, samples)
    xs = [lo + (hi - lo) * k / (samples - 1) for k in range(samples)]
    xs[-1] = hi
    ys: list[Optional[float]] = []
    dys: list[Optional[float]] = []
    kinks: list[tuple[float, str]] = []
    for x in xs:
        y, dy, notes = _point(graph, bound, variable, x)
        ys.append(y)
        dys.append(dy)
        if notes and y is not None:
            kinks.append((x, "; ".join(notes)))
    kinks += _find_kinks(graph, bound, variable, xs, ys, dys, [k[0] for k in kinks])
    kinks.sort()
    fixed = {k: v for k, v in bound.items() if k != variable}
    return PlotData(graph.text, graph.output_name, variable, lo, hi, xs, ys, dys, x0, y0, slope, kinks, fixed)


def _find_kinks(graph: Graph, bound: dict[str, float], var: str, xs: list[float],
                ys: list[Optional[float]], dys: list[Optional[float]], known: list[float]
                ) -> list[tuple[float, str]]:
    """Kinks between samples: a jump in the derivative much larger than its
    neighbours' changes, where the function itself stays continuous; located
    by bisection."""
    out: list[tuple[float, str]] = []
    n = len(xs)

    def change(k: int) -> float:
        a, b = dys[k], dys[k + 1]
        return math.inf if a is None or b is None else abs(b - a)

    for k in range(n - 1):
        a, b = dys[k], dys[k + 1]
        if a is None or b is None or ys[k] is None or ys[k + 1] is None:
            continue
        jump = abs(b - a)
        if jump <= 1e-9 * (1 + abs(a) + abs(b)):
            continue
        near = [change(j) for j in (k - 1, k + 1) if 0 <= j < n - 1]
        near = [c for c in near if math.isfinite(c)]
        if near and jump <= 8 * max(near):
            continue
        if any(xs[k] <= x <= xs[k + 1] for x in known):
            continue
        lo, hi, dlo, dhi = xs[k], xs[k + 1], a, b
        note = ""
        for _ in range(80):
            mid = (lo + hi) / 2
            if mid in (lo, hi):
                break
            y, dm, notes = _point(graph, bound, var, mid)
            if y is None or dm is None:
                break
            if notes:
                lo = hi = mid
                note = "; ".join(notes)
                break
            if abs(dm - dlo) > abs(dhi - dm):
                hi, dhi = mid, dm
            else:
                lo, dlo = mid, dm
        x = (lo + hi) / 2
        # a kink at a round number is at that number (abs(x - 1) at 1)
        rounded = float(f"{x:.9g}")
        if not note:
            _, _, notes = _point(graph, bound, var, rounded)
            note = "; ".join(notes)
            if notes:
                x = rounded
        elif abs(rounded - x) < 1e-12 * max(1.0, abs(x)):
            x = rounded
        # a real kink: the function stays continuous across it (not a jump such as floor)
        ya, yb = ys[k], ys[k + 1]
        assert ya is not None and yb is not None
        if abs(yb - ya) <= (abs(a) + abs(b) + 1.0) * (xs[k + 1] - xs[k]) * 2:
            out.append((x, note))
    return out


# ---------------------------------------------------------------- scales


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering [lo, hi]: steps of 1, 2 or 5 times a power of ten."""
    if not hi > lo:
        return [lo]
    raw = (hi - lo) / max(1, count)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9)
    ticks = []
    k = first
    while k * step <= hi + 1e-9 * step:
        ticks.append(round(k * step, 12) + 0.0)
        k += 1
    return ticks


def _y_range(values: list[Optional[float]], extra: list[float]) -> tuple[float, float]:
    """A y range showing the data; a few huge values near a pole (tan) are cut
    so that the rest stays readable."""
    ys = sorted(v for v in values if v is not None and math.isfinite(v))
    if not ys:
        ys = sorted(extra) or [0.0]
    lo, hi = ys[0], ys[-1]
    if len(ys) >= 20:
        q1, q9 = ys[len(ys) // 20], ys[-1 - len(ys) // 20]
        if hi - lo > 12 * (q9 - q1) > 0:
            lo, hi = q1 - (q9 - q1) * 0.5, q9 + (q9 - q1) * 0.5
    for v in extra:
        if math.isfinite(v) and (lo - (hi - lo) <= v <= hi + (hi - lo)):
            lo, hi = min(lo, v), max(hi, v)
    if hi - lo < 1e-12 * max(1.0, abs(lo)):
        lo, hi = lo - 1.0, hi + 1.0
    pad = (hi - lo) * 0.05
    return lo - pad, hi + pad


# ---------------------------------------------------------------- terminal


_BRAILLE_BITS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))


class _Canvas:
    """A grid of Braille cells, 2 dots wide and 4 high each."""

    def __init__(self, cols: int, rows: int) -> None:
        self.cols, self.rows = cols, rows
        self.w, self.h = cols * 2, rows * 4
        self.bits = [[0] * cols for _ in range(rows)]
        self.marks: dict[tuple[int, int], str] = {}

    def dot(self, x: int, y: int) -> None:
        if 0 <= x < self.w and 0 <= y < self.h:
            self.bits[y // 4][x // 2] |= _BRAILLE_BITS[y % 4][x % 2]

    def line(self, x0: float, y0: float, x1: float, y1: float, dashed: bool = False) -> None:
        steps = int(max(abs(x1 - x0), abs(y1 - y0))) + 1
        for k in range(steps + 1):
            if dashed and (k // 2) % 2:
                continue
            t = k / steps
            self.dot(round(x0 + (x1 - x0) * t), round(y0 + (y1 - y0) * t))

    def mark(self, x: float, y: float, ch: str) -> None:
        col, row = int(x) // 2, int(y) // 4
        if 0 <= col < self.cols and 0 <= row < self.rows:
            self.marks[(row, col)] = ch

    def lines(self) -> list[str]:
        out = []
        for r in range(self.rows):
            bits = self.bits[r]
            out.append("".join(self.marks.get((r, c), chr(0x2800 + bits[c]) if bits[c] else " ")
                               for c in range(self.cols)))
        return out


def _panel(d: PlotData, values: list[Optional[float]], cols: int, rows: int, *,
           tangent: bool, point: float, kinks: bool) -> tuple[list[str], float, float]:
    extra = [point]
    if tangent:
        extra += [d.tangent(d.lo), d.tangent(d.hi)]
    ylo, yhi = _y_range(values, [point])
    c = _Canvas(cols, rows)
    sx = (c.w - 1) / (d.hi - d.lo)
    sy = (c.h - 1) / (yhi - ylo)
    px = lambda x: (x - d.lo) * sx  # noqa: E731
    py = lambda y: (yhi - y) * sy  # noqa: E731
    prev: Optional[tuple[float, float]] = None
    last_x = d.lo
    breaks = d.jumps() if kinks else [x for x, _ in d.kinks]  # where the curve is not joined
    for x, y in zip(d.xs, values, strict=True):
        if any(last_x < b < x for b in breaks):
            prev = None
        last_x = x
        if y is None or not math.isfinite(y):
            prev = None
            continue
        p = (px(x), py(y))
        inside = -c.h <= p[1] <= 2 * c.h
        if prev is not None and inside and abs(p[1] - prev[1]) < c.h:
            c.line(prev[0], prev[1], p[0], p[1])
        elif inside:
            c.dot(round(p[0]), round(p[1]))
        prev = p if inside else None
    if tangent:
        c.line(px(d.lo), py(d.tangent(d.lo)), px(d.hi), py(d.tangent(d.hi)), dashed=True)
    c.mark(px(d.x0), py(point), "●")
    if kinks:
        for xk, _ in d.kinks:
            yk = _value_near(d, xk)
            if yk is not None:
                c.mark(px(xk), py(yk), "×")
    return c.lines(), ylo, yhi


def _value_near(d: PlotData, x: float) -> Optional[float]:
    k = min(range(len(d.xs)), key=lambda j: abs(d.xs[j] - x))
    return d.ys[k]


def to_braille(d: PlotData, width: int = 80, height: int = 12) -> str:
    """The function (with the dashed tangent and ● at the bound point) above
    its derivative (● at the slope), in Braille, at most `width` columns."""
    fmt = format_number
    label_w = 10
    cols = max(20, width - label_w - 2)
    out_name, v = d.output, d.variable
    head = f"{out_name}({v})" if not d.fixed else f"{out_name}({v}; " + ", ".join(
        f"{k} = {fmt(x)}" for k, x in d.fixed.items()) + ")"
    lines = [_fit(f"{head} for {v} in [{fmt(d.lo)}, {fmt(d.hi)}]", width),
             _fit(f"tangent (dashed) at {v} = {fmt(d.x0)}, where {out_name} = {fmt(d.y0)}:", width),
             _fit(f"  slope ∂{out_name}/∂{v} = {fmt(d.slope)}", width), ""]

    def block(title: str, rows: list[str], ylo: float, yhi: float) -> None:
        lines.append(_fit(title, width))
        top, bottom = _short(yhi), _short(ylo)
        # the row where y = 0 is labelled 0 (and its tick is a cross), when it is inside
        zero = int((yhi / (yhi - ylo)) * (len(rows) * 4 - 1)) // 4 if ylo < 0 < yhi else -1
        for k, row in enumerate(rows):
            label = top if k == 0 else bottom if k == len(rows) - 1 else "0" if k == zero else ""
            tick = "┼" if label == "0" else "┤"
            lines.append(f"{label:>{label_w}} {tick}{row}".rstrip())
        lines.append(" " * label_w + " └" + "─" * cols)
        axis = [" "] * cols
        at = min(cols - 1, max(0, int((d.x0 - d.lo) / (d.hi - d.lo) * (cols * 2 - 1)) // 2))
        for text, pos in ((_short(d.lo), 0), (_short(d.hi), cols - len(_short(d.hi))),
                          ("▲" + _short(d.x0), at)):
            if pos + len(text) > cols:
                pos = cols - len(text)
            axis[pos:pos + len(text)] = list(text)
        lines.append(" " * (label_w + 2) + "".join(axis).rstrip())

    rows, ylo, yhi = _panel(d, d.ys, cols, height, tangent=True, point=d.y0, kinks=True)
    block(f"{out_name} (● the bound point, × not differentiable)" if d.kinks else
          f"{out_name} (● the bound point)",
          rows, ylo, yhi)
    rows, ylo, yhi = _panel(d, d.dys, cols, max(4, height * 2 // 3), tangent=False, point=d.slope,
                            kinks=False)
    block(f"∂{out_name}/∂{v} (● the slope of the tangent)", rows, ylo, yhi)
    for x, note in d.kinks:
        lines.append(_fit(f"× not differentiable at {v} = {_short(x)}" + (f": {note}, as in PyTorch"
                                                                         if note else " (a kink)"), width))
    for a, b in d.gaps():
        lines.append(_fit(f"undefined for {v} from {_short(a)} to {_short(b)} (a gap)", width))
    return "\n".join(lines) + "\n"


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def _short(x: float) -> str:
    return format_number(x, 4) if x != 0 else "0"


# ---------------------------------------------------------------- SVG


def _esc(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;"))


def to_svg(d: PlotData, width: int = 720, height: int = 520) -> str:
    """Two panels (the function with its tangent, then the derivative) as a
    standalone SVG. Each panel's <g> carries its data-to-pixel mapping
    (data-x0, data-sx, data-y0, data-sy), so the plotted numbers can be read
    back from the polylines."""
    fmt = format_number
    out_name, v = d.output, d.variable
    left, right, top = 64, 20, 46
    panel_h = (height - top - 70) / 2
    pw = width - left - right
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" '
             'font-size="12">',
             f'<rect width="{width}" height="{height}" fill="#fff"/>',
             f'<text x="{left}" y="18" font-size="14" font-weight="bold">{_esc(out_name)}({_esc(v)}) for '
             f'{_esc(v)} in [{fmt(d.lo)}, {fmt(d.hi)}]</text>',
             f'<text x="{left}" y="35" fill="#444">tangent at {_esc(v)} = {fmt(d.x0)}: slope '
             f'∂{_esc(out_name)}/∂{_esc(v)} = {fmt(d.slope)} (dashed)</text>']
    panels = [("function", out_name, d.ys, d.y0, True), ("derivative", f"∂{out_name}/∂{v}", d.dys, d.slope,
                                                          False)]
    for k, (role, title, values, point, tangent) in enumerate(panels):
        y_top = top + k * (panel_h + 35)
        ylo, yhi = _y_range(values, [point])
        sx = pw / (d.hi - d.lo)
        sy = panel_h / (yhi - ylo)
        def X(x: float, sx: float = sx) -> float:
            return left + (x - d.lo) * sx

        def Y(y: float, y_top: float = y_top, yhi: float = yhi, sy: float = sy) -> float:
            return y_top + (yhi - y) * sy

        parts.append(f'<g class="{role}" data-x0="{d.lo!r}" data-sx="{sx!r}" data-left="{left}" '
                     f'data-y0="{yhi!r}" data-sy="{sy!r}" data-top="{y_top!r}">')
        parts.append(f'<clipPath id="clip{k}"><rect x="{left}" y="{y_top:.2f}" width="{pw}" '
                     f'height="{panel_h:.2f}"/></clipPath>')
        parts.append(f'<rect x="{left}" y="{y_top:.2f}" width="{pw}" height="{panel_h:.2f}" fill="none" '
                     'stroke="#999"/>')
        for t in nice_ticks(ylo, yhi, 4):
            parts.append(f'<line x1="{left}" x2="{left + pw}" y1="{Y(t):.2f}" y2="{Y(t):.2f}" '
                         'stroke="#eee"/>')
            parts.append(f'<text x="{left - 6}" y="{Y(t) + 4:.2f}" text-anchor="end">{_short(t)}</text>')
        for t in nice_ticks(d.lo, d.hi, 6):
            parts.append(f'<line x1="{X(t):.2f}" x2="{X(t):.2f}" y1="{y_top:.2f}" y2="{y_top + panel_h:.2f}" '
                         'stroke="#eee"/>')
            parts.append(f'<text x="{X(t):.2f}" y="{y_top + panel_h + 14:.2f}" '
                         f'text-anchor="middle">{_short(t)}</text>')
        if ylo < 0 < yhi:
            parts.append(f'<line x1="{left}" x2="{left + pw}" y1="{Y(0):.2f}" y2="{Y(0):.2f}" '
                         'stroke="#888"/>')
        parts.append(f'<text x="{left + 6}" y="{y_top + 15:.2f}" font-weight="bold">{_esc(title)}</text>')
        parts.append(f'<g clip-path="url(#clip{k})">')
        for run in _runs(d.xs, values, tuple(d.jumps()) if tangent else tuple(x for x, _ in d.kinks)):
            pts = " ".join(f"{X(x):.2f},{Y(y):.2f}" for x, y in run)
            parts.append(f'<polyline class="curve" points="{pts}" fill="none" stroke="#1f4e9c" '
                         'stroke-width="2"/>')
        if tangent:
            parts.append(f'<line class="tangent" x1="{X(d.lo):.2f}" y1="{Y(d.tangent(d.lo)):.2f}" '
                         f'x2="{X(d.hi):.2f}" y2="{Y(d.tangent(d.hi)):.2f}" stroke="#c81e1e" '
                         'stroke-width="1.5" stroke-dasharray="6 4"/>')
            for x, note in d.kinks:
                y = _value_near(d, x)
                if y is not None:
                    parts.append(f'<g class="kink" data-x="{x!r}"><path d="M{X(x) - 5:.2f},{Y(y) - 5:.2f} '
                                 f'l10,10 m0,-10 l-10,10" stroke="#7c2d12" stroke-width="2"/>'
                                 f'<title>kink at {_esc(v)} = {fmt(x)}{": " + _esc(note) if note else ""}'
                                 '</title></g>')
        parts.append("</g>")
        parts.append(f'<circle class="point" cx="{X(d.x0):.2f}" cy="{Y(point):.2f}" r="4.5" fill="#c81e1e"/>')
        for a, b in d.gaps() if tangent else []:
            b = min((x for x in d.xs if x > b), default=b)
            gap_w = max(1.0, X(b) - X(a))
            parts.append(f'<rect class="gap" x="{X(a):.2f}" y="{y_top:.2f}" width="{gap_w:.2f}" '
                         f'height="{panel_h:.2f}" fill="#999" fill-opacity="0.12"><title>undefined for '
                         f'{_esc(v)} in [{fmt(a)}, {fmt(b)}]</title></rect>')
        parts.append("</g>")
    parts.append(f'<text x="{left + pw / 2:.0f}" y="{height - 8}" text-anchor="middle">{_esc(v)}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _runs(xs: list[float], ys: list[Optional[float]], breaks: tuple[float, ...] = ()
          ) -> list[list[tuple[float, float]]]:
    """Consecutive defined samples, one list per stretch (gaps split them,
    and so do the `breaks`: a derivative jumps at a kink)."""
    runs: list[list[tuple[float, float]]] = []
    cur: list[tuple[float, float]] = []
    for x, y in zip(xs, ys, strict=True):
        if cur and any(cur[-1][0] < b < x for b in breaks):
            runs.append(cur)
            cur = []
        if y is None or not math.isfinite(y):
            if cur:
                runs.append(cur)
            cur = []
        else:
            cur.append((x, y))
    if cur:
        runs.append(cur)
    return runs


# ---------------------------------------------------------------- PNG


def to_png(d: PlotData) -> bytes:
    """The same two panels drawn by matplotlib (the optional extra
    ``autodiff[plot]``)."""
    try:
        import matplotlib
    except ImportError:
        from .errors import InputError

        raise InputError("PNG plots need matplotlib: pip install 'autodiff[plot]' (or write an .svg file, "
                         "which needs nothing more)") from None
    import io

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(7.2, 5.2), dpi=100, sharex=True)
    nan = float("nan")
    ax1.plot(d.xs, [nan if y is None else y for y in d.ys], color="#1f4e9c", lw=2, label=d.output)
    ax1.plot([d.lo, d.hi], [d.tangent(d.lo), d.tangent(d.hi)], "--", color="#c81e1e", lw=1.5,
             label=f"tangent, slope {format_number(d.slope)}")
    ax1.plot([d.x0], [d.y0], "o", color="#c81e1e")
    for x, _ in d.kinks:
        y = _value_near(d, x)
        if y is not None:
            ax1.plot([x], [y], "x", color="#7c2d12", ms=9, mew=2)
    ax1.set_ylim(*_y_range(d.ys, [d.y0]))
    ax1.legend(loc="best")
    ax2.plot(d.xs, [nan if y is None else y for y in d.dys], color="#1f4e9c", lw=2)
    ax2.plot([d.x0], [d.slope], "o", color="#c81e1e")
    ax2.set_ylim(*_y_range(d.dys, [d.slope]))
    ax2.set_ylabel(f"∂{d.output}/∂{d.variable}")
    ax2.set_xlabel(d.variable)
    for ax in (ax1, ax2):
        ax.grid(True, color="#eee")
        ax.axhline(0, color="#888", lw=0.8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()
