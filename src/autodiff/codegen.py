"""`autodiff codegen`: a program's value and gradient as straight-line source
in Python, NumPy, C or JavaScript.

The code is the derivative DAG of `symbolic.derivative` (the forward sweep,
then the adjoints from the output back) with one assignment per node, in
order: nothing is nested, however deep the program. Each operation is
written with its row's spelling for the target (`Op.spell`, over `{0}`,
`{1}`), and the helpers those spellings call (`ops.SPELL_HELPERS`) are
emitted once, only when used; a row without a spelling is refused.

As in compile.py, nothing the user typed reaches the source except through
the validated graph: names are identifiers of the language (renamed where
they clash with the target's keywords, builtins or library names), numbers
are re-printed with ``repr`` of their parsed doubles, and the header shows the
program as `graph.program_text` re-prints it from the graph.

The code computes what `eval` computes, with the derivative forms `eval`
uses (sigmoid' as sigmoid(x)*sigmoid(-x), tanh' without cancellation, ...);
where `eval` stops with an error, it returns inf or NaN (C, JavaScript,
NumPy) or raises (Python's math module).
"""

from __future__ import annotations

import builtins
import keyword
import math
import re
from typing import Optional

from .errors import ProgramError, UsageProblem, escape_text
from .graph import Graph, program_text
from .ops import SPELL_HELPERS, SPELL_TARGETS
from .symbolic import derivative

__all__ = ["LANGUAGES", "generate", "codegen", "FUNCTION"]

#: --lang choices
LANGUAGES = SPELL_TARGETS

#: the generated function's name (a keyword argument changes it)
FUNCTION = "value_and_gradient"

_C_RESERVED = set("""
auto break case char const continue default do double else enum extern float for goto if inline
int long register restrict return short signed sizeof static struct switch typedef union unsigned
void volatile while bool true false alignas alignof nullptr typeof asm fortran main printf
acos acosh asin asinh atan atan2 atanh cbrt ceil copysign cos cosh erf erfc exp exp2 expm1 fabs
fdim floor fma fmax fmin fmod frexp hypot ilogb ldexp lgamma llrint llround log log10 log1p log2
logb lrint lround modf nan nearbyint nextafter nexttoward pow remainder remquo rint round scalbln
scalbn sin sinh sqrt tan tanh tgamma trunc gamma j0 j1 jn y0 y1 yn signgam drem significand
isnan isinf isfinite isnormal signbit fpclassify isgreater isgreaterequal isless islessequal
islessgreater isunordered errno math_errhandling
NAN INFINITY HUGE_VAL HUGE_VALF HUGE_VALL FP_NAN FP_INFINITE FP_ZERO FP_SUBNORMAL FP_NORMAL
FP_ILOGB0 FP_ILOGBNAN MATH_ERRNO MATH_ERREXCEPT DOMAIN SING OVERFLOW UNDERFLOW TLOSS PLOSS
M_E M_LOG2E M_LOG10E M_LN2 M_LN10 M_PI M_PI_2 M_PI_4 M_1_PI M_2_PI M_2_SQRTPI M_SQRT2 M_SQRT1_2
NULL EOF stdin stdout stderr size_t float_t double_t exception""".split())

_JS_RESERVED = set("""
break case catch class const continue debugger default delete do else export extends finally for
function if import in instanceof new return super switch this throw try typeof var void while with
yield let static enum await implements package protected interface private public null true false
Math NaN Infinity undefined eval arguments Object Array Number String Boolean Symbol JSON console
globalThis window document require module exports process Function Error Date RegExp Map Set
Promise parseInt parseFloat isNaN isFinite BigInt Reflect Proxy""".split())

_PY_RESERVED = set(keyword.kwlist) | set(getattr(keyword, "softkwlist", [])) | set(dir(builtins)) | {
    "math", "np", "numpy"}

_RESERVED = {"python": _PY_RESERVED, "numpy": _PY_RESERVED, "c": _C_RESERVED, "javascript": _JS_RESERVED}

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_HELPER = re.compile(r"\bad_[a-z0-9_]+\b")


class _Namer:
    """Target identifiers for the program's names: the name itself unless it
    is reserved in the target, starts with an underscore or `ad_` (autodiff's
    helpers), or is taken; then a `v` in front or `_` after until it is free."""

    def __init__(self, lang: str, taken: set[str]) -> None:
        self.reserved = _RESERVED[lang]
        # (<math.h> macro families, in any mode: FP_*, M_*, MATH_*, HUGE*, ...)
        self.prefixes = ("FP_", "M_", "MATH_", "HUGE", "MAXFLOAT", "X_TLOSS", "DBL_", "FLT_") \
            if lang == "c" else ("\0",)
        self.taken = set(taken)
        self.counter = 0  # the last t<k> handed out

    def __call__(self, name: str) -> str:
        assert _IDENT.match(name), name  # names come from the validated graph
        if name.startswith("_"):
            name = "v" + name
        if name.startswith("ad_"):
            name = "v" + name
        while name in self.reserved or name in self.taken or name.startswith(self.prefixes):
            name += "_" if not name.startswith(self.prefixes) else ""
            if name.startswith(self.prefixes):
                name = "v" + name
        self.taken.add(name)
        return name


def _literal(lang: str, x: float) -> str:
    if not math.isfinite(x):
        raise ValueError("a constant that is not finite")  # the parser refuses these
    text = repr(float(x))
    return f"({text})" if text.startswith("-") else text


def _header(graph: Graph, lang: str, comment: str, wrt: list[str], max_lines: int = 20) -> list[str]:
    out = graph.output_name
    grad = ", ".join(f"d{out}/d{v}" for v in wrt) or "none: no variables"
    lines = [f"Generated by autodiff codegen --lang {lang}: {out} and its gradient ({grad}),",
             "computed by the forward sweep then the reverse sweep, one assignment per node,",
             "for the program:"]
    text = program_text(graph).splitlines()
    shown = text[:max_lines]
    lines += ["    " + (line if len(line) <= 100 else line[:96] + " ...") for line in shown]
    if len(text) > len(shown):
        lines.append(f"    ... ({len(text) - len(shown)} more statements)")
    return [f"{comment} {line}".rstrip() for line in lines]


def generate(graph: Graph, lang: str, *, function: str = FUNCTION) -> str:
    """Source in `lang` (one of LANGUAGES) of a function computing the value
    of `graph`'s output and its gradient with respect to every variable the
    output depends on (a selected graph, as `Graph.select` returns)."""
    if lang not in LANGUAGES:
        raise ProgramError(f"unknown language {lang}; choose one of {', '.join(LANGUAGES)}")
    if not _IDENT.match(function) or function in _RESERVED[lang] or function.startswith(("_", "ad_")):
        raise UsageProblem(f"the function name {escape_text(function, 60)} is not an identifier "
                           f"free to use in {lang}")
    d = derivative(graph)
    order, _ = d.layout(name_all=True)
    dag = d.dag
    missing = sorted({op.name for op in (dag.op[i] for i in order)
                      if op is not None and lang not in op.spell})
    if missing:
        raise ProgramError(f"codegen --lang {lang} cannot write {', '.join(missing)} yet "
                           f"(the operations table has no {lang} spelling for it)")
    wrt = d.wrt
    taken = {function} | set(SPELL_HELPERS.get(lang, {}))
    name = _Namer(lang, taken)
    text: dict[int, str] = {}  # node -> how the code refers to it
    params: list[str] = []
    for v in wrt:
        i = dag.variable(v)
        text[i] = name(v)
        params.append(text[i])
    outputs = {v: name(f"grad_{v}") for v in wrt} if lang == "c" else {}
    stmt_names = d.statement_names()
    roots = {r: v for v, r in d.partials.items()}

    used: set[int] = set()

    def ref(j: int) -> str:
        used.add(j)
        t = text.get(j)
        if t is None:  # a constant
            value = dag.const[j]
            assert value is not None and dag.op[j] is None
            t = text[j] = _literal(lang, value)
        return t

    body: list[str] = []
    helpers: list[str] = []
    swept = False
    for i in order:
        op = dag.op[i]
        assert op is not None
        if i >= d.forward_end and not swept:
            body.append(("# " if lang in ("python", "numpy") else "// ") +
                        f"reverse sweep: the adjoints d{d.output}/d(node), from {d.output} back")
            swept = True
        base = d.names.get(i) or (stmt_names[roots[i]] if i in roots else "t")
        spelled = op.spell[lang].format(*(ref(j) for j in dag.args[i]))
        for h in _HELPER.findall(spelled):
            if h not in helpers:
                helpers.append(h)
        text[i] = name(base if base != "t" else _fresh(name))
        body.append(_assign(lang, text[i], spelled))
    value = ref(d.value)
    grads = {v: ref(r) for v, r in d.partials.items()}
    if lang == "c":  # a variable the simplified code no longer reads (0*z)
        body[:0] = [f"(void){text[dag.variable(v)]};" for v in wrt if dag.variable(v) not in used]
    return _assemble(lang, graph, wrt, function, params, body, helpers, value, grads, outputs)


def _fresh(name: _Namer) -> str:
    k = name.counter + 1
    while f"t{k}" in name.taken or f"t{k}" in name.reserved:
        k += 1
    name.counter = k
    return f"t{k}"


def _assign(lang: str, target: str, expr: str) -> str:
    if lang == "c":
        return f"const double {target} = {expr};"
    if lang == "javascript":
        return f"const {target} = {expr};"
    return f"{target} = {expr}"


def _assemble(lang: str, graph: Graph, wrt: list[str], function: str, params: list[str],
              body: list[str], helpers: list[str], value: str, grads: dict[str, str],
              outputs: dict[str, str]) -> str:
    out = graph.output_name
    prelude = [SPELL_HELPERS[lang][h] for h in helpers]
    if lang in ("python", "numpy"):
        lines = _header(graph, lang, "#", wrt)
        lines += ["import math" if lang == "python" else "import numpy as np", "", ""]
        for h in prelude:
            lines += [h, ""]
        gradient = ", ".join(f'"{v}": {grads[v]}' for v in wrt)
        lines.append(f"def {function}({', '.join(params)}):")
        what = "at one point (floats)" if lang == "python" else \
            "at many points (arrays, or floats, broadcast together)"
        lines.append(f'    """{out} and its gradient {what}:')
        lines.append(f'    returns ({out}, {{variable: d{out}/d(variable)}})."""')
        if lang == "numpy":
            for p in params:
                lines.append(f"    {p} = np.asarray({p}, dtype=np.float64)")
            shape = "np.broadcast(" + ", ".join(params) + ").shape" if len(params) > 1 else \
                (f"np.shape({params[0]})" if params else "()")
            lines.append(f"    ad_shape = {shape}")
            value = f"np.broadcast_to({value}, ad_shape)"
            gradient = ", ".join(f'"{v}": np.broadcast_to({grads[v]}, ad_shape)' for v in wrt)
        lines.append("    # forward sweep: each node's value")
        lines += ["    " + s for s in body]
        lines.append(f"    return {value}, {{{gradient}}}")
        return "\n".join(lines) + "\n"
    if lang == "c":
        lines = _header(graph, lang, "//", wrt)
        lines += ["#include <math.h>", ""]
        for h in prelude:
            lines += [h.rstrip("\n"), ""]
        args = [f"double {p}" for p in params] + [f"double *{outputs[v]}" for v in wrt]
        lines.append(f"// returns {out}; stores d{out}/d(variable) through the pointers")
        lines.append(f"double {function}({', '.join(args) or 'void'})")
        lines.append("{")
        lines.append("    // forward sweep: each node's value")
        lines += ["    " + s for s in body]
        lines += [f"    *{outputs[v]} = {grads[v]};" for v in wrt]
        lines.append(f"    return {value};")
        lines.append("}")
        return "\n".join(lines) + "\n"
    # javascript
    lines = _header(graph, lang, "//", wrt)
    lines.append('"use strict";')
    lines.append("")
    for h in prelude:
        lines += [h.rstrip("\n"), ""]
    gradient = ", ".join(f'"{v}": {grads[v]}' for v in wrt)
    lines.append(f"// returns [{out}, {{variable: d{out}/d(variable)}}]")
    lines.append(f"function {function}({', '.join(params)}) {{")
    lines.append("  // forward sweep: each node's value")
    lines += ["  " + s for s in body]
    lines.append(f"  return [{value}, {{{gradient}}}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def codegen(program: str, lang: str, *, output: Optional[str] = None, source: str = "",
            max_chars: Optional[int] = None, function: str = FUNCTION) -> str:
    """Parse `program` and generate the source of its value and gradient."""
    from .parser import parse

    graph = parse(program, source=source, max_chars=max_chars).select(output)
    return generate(graph, lang, function=function)
