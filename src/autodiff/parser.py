"""Program text -> Graph, in one pass and without recursion.

The tokenizer is one regular expression made from the grammar's terminals; the
parser is a table-driven LALR(1) loop over Lark's tables for the grammar
(generated into ``_tables.py``; see ``tablegen``). Each reduction calls the
`Builder` method named by the rule's alias, so the graph is built during the
parse: no parse tree, no AST to walk afterwards, and nothing recursive, so an
expression nested 100,000 deep parses like a flat one (the parser's stacks are
lists on the heap).
"""

from __future__ import annotations

import re
from typing import Any, Callable, Optional

from .errors import InputError, SyntaxProblem, escape_text
from .graph import Builder, Graph, gc_paused
from .ops import OPERATORS

__all__ = ["parse", "positions"]

#: how terminals are named in messages (literal ones are quoted automatically)
_DESCRIBE = {
    "NUMBER": "a number",
    "NAME": "a name",
    "_SEP": "';' or a new line",
    "$END": "the end of the input",
}


class _Tables:
    """The tables, loaded once: shipped ones if they match the grammar file."""

    def __init__(self) -> None:
        from . import _tables as t

        data: dict[str, Any] = {k: getattr(t, k) for k in dir(t) if k.isupper()}
        try:
            from .grammar import grammar_text

            text = grammar_text()
            if text != data["GRAMMAR"]:
                from .tablegen import build_tables  # the grammar was edited: rebuild with Lark

                data = build_tables(text)
        except FileNotFoundError:
            pass
        plain = [(name, rx) for name, rx in data["TERMINALS"] if name not in data["IGNORE"]]
        terms = _shortest_first(plain)
        ignored = "|".join(rx for name, rx in data["TERMINALS"] if name in data["IGNORE"])
        # One regex: a token, then any whitespace and comments after it (so that
        # they cost no extra match); _END matches at the end, _ERROR anything else.
        alternatives = "|".join(f"(?P<{name}>{rx})" for name, rx in terms)
        self.regex = re.compile(f"(?:{alternatives}|(?P<_END>\\Z)|(?P<_ERROR>.))(?:{ignored})*", re.DOTALL)
        self.skip = re.compile(f"(?:{ignored})*")
        self.describe = dict(_DESCRIBE)
        for name, rx in plain:
            literal = re.sub(r"\\(.)", r"\1", rx)
            if name not in self.describe and re.escape(literal) == rx:
                self.describe[name] = f"'{literal}'"
        self.states: list[dict[str, int]] = data["STATES"]
        self.rules: list[tuple[str, int, str, tuple[int, ...], tuple[int, ...], bool]] = data["RULES"]
        self.start: int = data["START_STATE"]
        self.end: int = data["END_STATE"]
        # Unit rules (`?sum: product`) pass their child through and only change
        # the state. `goto` folds chains of them into one step: after reducing
        # to nonterminal A over state s with lookahead t, the state that the
        # unit reductions would end in. Filled lazily, kept for later parses.
        self.unit = [expand1 and size == 1 and not origin.startswith("_")
                     for origin, size, _name, _kept, _splice, expand1 in self.rules]
        self.gotos: list[dict[str, dict[str, int]]] = [
            {sym: {} for sym, target in st.items() if target >= 0 and not _is_terminal(sym)}
            for st in self.states]

    def goto(self, s: int, origin: str, kind: str) -> int:
        state = self.states[s][origin]
        while True:
            action = self.states[state].get(kind)
            if action is None or action >= 0 or not self.unit[-1 - action]:
                break
            state = self.states[s][self.rules[-1 - action][0]]  # pop the one state, goto again
        self.gotos[s][origin][kind] = state
        return state


def _shortest_first(terms: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The terminals in an order that makes the tokenizer's regex fast: names
    and numbers first, then the operators, one character before two. Lark
    orders "**=" "+=" "<=" ... before "+" so that the longest match wins; here
    each operator instead refuses to match where a longer one starts (`+` is
    `\\+(?!=)`), so "+" is tried second, not after a dozen failing alternatives
    (a third of the tokenizer's time on a 1e5-operation program)."""
    literals = {}
    for name, rx in terms:
        text = re.sub(r"\\(.)", r"\1", rx)
        if re.escape(text) == rx:
            literals[name] = text
    others = [(name, rx) for name, rx in terms if name not in literals]
    ordered = sorted(literals.items(), key=lambda item: (len(item[1]), item[0]))
    out = list(others)
    for name, text in ordered:
        longer = sorted({m[len(text):] for m in literals.values()
                         if len(m) > len(text) and m.startswith(text)})
        rx = re.escape(text)
        if longer:
            rx += "(?!" + "|".join(re.escape(rest) for rest in longer) + ")"
        out.append((name, rx))
    return out


def _is_terminal(sym: str) -> bool:
    return sym.isupper() or sym.startswith("_") and sym.lstrip("_").isupper() or sym == "$END"


_tables: Optional[_Tables] = None


def tables() -> _Tables:
    global _tables
    if _tables is None:
        _tables = _Tables()
    return _tables


Reducer = tuple[str, int, Optional[Callable[[list[Any]], Any]]]


def _reducers(builder: Builder, rules: list[Any]) -> list[Reducer]:
    """Per grammar rule: (its nonterminal, its length, a callable that takes the
    rule's children and returns its value, or None when the rule passes its one
    child through unchanged)."""
    out: list[Reducer] = []
    for origin, size, name, kept, splice, expand1 in rules:
        fn: Optional[Callable[[list[Any]], Any]]
        if origin.startswith("_"):  # an inlined helper rule (repetition): a list of its children
            fn = _splicer(kept, splice)
        elif expand1 and size == 1:  # `?rule: child`: pass it through
            fn = None
        elif expand1:  # `?rule` with one kept child among tokens: "(" expr ")"
            (k,) = kept
            fn = _picker(k)
        elif name in OPERATORS:
            fn = builder.operation(OPERATORS[name], kept)
        else:
            method = getattr(builder, name)
            if splice:
                fn = _calling_spliced(method, kept, splice)
            elif kept == (0, 2):
                fn = _call_02(method)
            elif kept == (1,):
                fn = _call_1(method)
            elif kept == (0,):
                fn = _call_0(method)
            else:
                fn = _calling(method, kept)
        out.append((origin, size, fn))
    return out


def _picker(k: int) -> Callable[[list[Any]], Any]:
    return lambda c: c[k]


def _call_02(m: Callable[..., Any]) -> Callable[[list[Any]], Any]:
    return lambda c: m(c[0], c[2])


def _call_1(m: Callable[..., Any]) -> Callable[[list[Any]], Any]:
    return lambda c: m(c[1])


def _call_0(m: Callable[..., Any]) -> Callable[[list[Any]], Any]:
    return lambda c: m(c[0])


def _calling(m: Callable[..., Any], kept: tuple[int, ...]) -> Callable[[list[Any]], Any]:
    return lambda c: m(*[c[k] for k in kept])


def _spliced(c: list[Any], kept: tuple[int, ...], splice: tuple[int, ...]) -> list[Any]:
    out: list[Any] = []
    for k in kept:
        if k in splice:
            out.extend(c[k] or ())
        else:
            out.append(c[k])
    return out


def _splicer(kept: tuple[int, ...], splice: tuple[int, ...]) -> Callable[[list[Any]], Any]:
    if kept and kept[0] in splice:
        # a left-recursive repetition (`items: items "," expr`, or the program's
        # `(_SEP+ statement)*`): extend the list in place, so n items take
        # linear time, not quadratic (the list is only on the parser's stack)
        first, rest = kept[0], kept[1:]
        spliced = tuple(k in splice for k in rest)

        def extend(c: list[Any]) -> Any:
            out = c[first]
            if out is None:
                out = []
            for k, flat in zip(rest, spliced, strict=True):
                if flat:
                    out.extend(c[k] or ())
                else:
                    out.append(c[k])
            return out

        return extend
    return lambda c: _spliced(c, kept, splice)


def _calling_spliced(m: Callable[..., Any], kept: tuple[int, ...],
                     splice: tuple[int, ...]) -> Callable[[list[Any]], Any]:
    return lambda c: m(*_spliced(c, kept, splice))


_SPECIAL = frozenset({"LPAR", "RPAR", "_SEP", "_END", "_ERROR"})


def parse(text: str, *, source: str = "", max_chars: Optional[int] = None) -> Graph:
    """Parse a program into its computation graph.

    Raises SyntaxProblem (with line, column and what was expected) for text
    that is not a program, and InputError for text longer than `max_chars`
    (no limit by default; the command line sets one). `source` names where the
    text came from (a file name) in messages.
    """
    if max_chars is not None and len(text) > max_chars:
        raise InputError(f"the program is {len(text):,} characters long, over the limit of "
                         f"{max_chars:,} (raise it with --max-chars)")
    _refuse_version_names(text, source)
    with gc_paused():
        return _parse(text, source)


def _refuse_version_names(text: str, source: str) -> None:
    """`c#2` names a version in the output, but in a program `#` starts a
    comment: `J = c#2 * 10` would silently read as `J = c`. A `#` right after a
    name and before a digit, where a comment starts, is an error instead."""
    if "#" not in text:
        return
    start = 0
    for line in text.split("\n"):
        k = line.find("#")
        if k > 0 and k + 1 < len(line) and line[k + 1].isdigit() and (line[k - 1].isalnum()
                                                                     or line[k - 1] == "_"):
            j = k
            while j > 0 and (line[j - 1].isalnum() or line[j - 1] == "_"):
                j -= 1
            name = line[j:k]
            e = k + 1
            while e < len(line) and line[e].isdigit():
                e += 1
            raise SyntaxProblem(
                f"{escape_text(name + line[k:e], 40)} names a version only in the output (the "
                f"table, --of {escape_text(name, 40)}#2); in a program `#` starts a comment, and "
                f"{escape_text(name, 40)} means its latest value: give the value a name of its own "
                f"(e.g. {escape_text(name, 40)}_first = {escape_text(name, 40)}) to use it later",
                text, start + k, kind="syntax", source=source)
        start += len(line) + 1


def positions(graph: Graph) -> Optional[list[int]]:
    """For each node of `graph` (a parsed program, or `select`'s part of
    one), the offset in its text of the token it comes from: the operator,
    the function's name (the call, for the nodes of a user function), the
    assigned name of an alias. Computed only for error messages, by parsing
    the text again with positions recorded (a parse keeps none: it would cost
    memory on every node). None when the text does not give the same graph."""
    if not graph.text:
        return None
    track: list[int] = []
    try:
        with gc_paused():
            full = _parse(graph.text, "", track)
    except InputError:
        return None
    n = len(full)
    if n == len(graph):
        return track
    out = full.assigned.get(full.resolve(graph.output_name))
    if out is None:
        return None
    need = full.reachable(out)
    for i in full.variables.values():
        need[i] = 1
    kept = [track[i] for i in range(n) if need[i]]
    return kept if len(kept) == len(graph) else None


def _tracking(fn: Callable[[list[Any]], Any], builder: Builder, track: list[int]
              ) -> Callable[[list[Any]], Any]:
    ops = builder.g.op

    def reduce(c: list[Any]) -> Any:
        value = fn(c)
        n = len(ops)
        if n > len(track):  # new nodes: placed at the rule's first token
            at = next((x.start() for x in c if isinstance(x, re.Match)), track[-1] if track else 0)
            track.extend([at] * (n - len(track)))
        elif n < len(track):  # a function definition's nodes, removed again
            del track[n:]
        return value

    return reduce


def _parse(text: str, source: str, track: Optional[list[int]] = None) -> Graph:
    t = tables()
    builder = Builder(text)
    reducers = _reducers(builder, t.rules)
    if track is not None:  # (positions(): record where each node comes from)
        reducers = [(o, n, fn if fn is None else _tracking(fn, builder, track))
                    for o, n, fn in reducers]
    # This parse's action tables: a shift is the next state (an int), a reduce
    # is the reducer itself, so the loop below does one lookup per step.
    states: list[dict[str, Any]] = [
        {k: (v if v >= 0 else reducers[-1 - v]) for k, v in st.items()} for st in t.states]
    gotos = t.gotos
    state_stack = [t.start]
    value_stack: list[Any] = []
    push_state = state_stack.append
    pop_state = state_stack.pop
    push_value = value_stack.append
    special = _SPECIAL
    depth = 0
    kind = ""
    m: Any = None
    try:
        for m in t.regex.finditer(text, t.skip.match(text).end()):  # type: ignore[union-attr]
            kind = m.lastgroup
            value = m  # names and numbers need their text; punctuation only its place
            if kind in special:
                value = None
                if kind == "LPAR":
                    depth += 1
                elif kind == "RPAR":
                    depth -= 1
                elif kind == "_SEP":
                    if m.group(m.lastindex) != ";" and (
                            depth > 0 or "_SEP" not in states[state_stack[-1]]):
                        # a newline inside parentheses, or where the statement cannot
                        # end (after an operator, "=" or ","), continues the statement
                        continue
                    builder.at = m.start()
                elif kind == "_END":  # the regex's last match: the end of the input
                    kind = "$END"
                    builder.at = len(text)
                else:
                    raise _unexpected_char(text, m.start(), source)
            while True:
                action = states[state_stack[-1]].get(kind)
                if action.__class__ is int:
                    push_state(action)
                    push_value(value)
                    break
                if action is None:
                    if kind == "$END":
                        if state_stack[-1] == t.end:
                            break  # the whole input is a program
                        if not builder.statements and len(value_stack) <= 1:
                            raise SyntaxProblem("the program is empty", text, len(text),
                                                kind="empty", source=source)
                        raise _unexpected_token(text, None, kind, t, state_stack[-1], source)
                    raise _unexpected_token(text, m, kind, t, state_stack[-1], source)
                origin, size, fn = action
                if fn is None:  # a unit rule: the value stays, the state changes
                    pop_state()
                else:
                    children = value_stack[-size:]
                    del value_stack[-size:]
                    del state_stack[-size:]
                    push_value(fn(children))
                top = state_stack[-1]
                push_state(gotos[top][origin].get(kind) or t.goto(top, origin, kind))  # (never 0)
    except SyntaxProblem as exc:
        if source and not exc.source:
            exc.source = source
        raise
    return builder.finish()


def _expected(t: _Tables, state: int) -> list[str]:
    return sorted({t.describe[k] for k in t.states[state] if k in t.describe})


def _words(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]


#: Unicode mathematics people paste, and the language's way to write it
_UNICODE_MATH = {
    "π": "pi", "×": "*", "·": "*", "⋅": "*", "∗": "*", "−": "-", "–": "-", "÷": "/",
    "²": "^2", "³": "^3", "√": "sqrt(...)", "≤": "<=", "≥": ">=", "≠": "!=", "∙": "*",
}


def _unexpected_char(text: str, pos: int, source: str) -> SyntaxProblem:
    ch = text[pos]
    shown = escape_text(ch)
    if ch in _UNICODE_MATH:
        ascii_form = _UNICODE_MATH[ch]
        return SyntaxProblem(f"unexpected character '{shown}' (U+{ord(ch):04X}): "
                             f"did you mean {ascii_form}?", text, pos, source=source)
    if ch in "'\"":
        why = "strings are not part of the language"
    elif ch in "[]{}":
        why = "only round parentheses group"
    elif ord(ch) > 127 and ch.isdigit():
        why = "only ASCII digits 0-9 form numbers"
    elif ord(ch) > 127 and ch.isalpha():
        why = "names use ASCII letters, digits and _"
    else:
        why = "it is not part of the language"
    return SyntaxProblem(f"unexpected character '{shown}' (U+{ord(ch):04X}): {why}", text, pos,
                         source=source)


def _unexpected_token(text: str, m: Any, kind: str, t: _Tables, state: int,
                      source: str) -> SyntaxProblem:
    expected = _expected(t, state)
    if m is None:
        pos = len(text.rstrip())
        what = "the program ends too early"
    else:
        pos = m.start()
        tok = m.group(m.lastindex)
        if kind == "_SEP":
            what = "unexpected ';'" if tok == ";" else "unexpected end of line"
        else:
            what = f"unexpected {t.describe.get(kind, kind)}"
            if kind in ("NUMBER", "NAME"):
                what = f"unexpected {kind.lower()} '{escape_text(tok, 40)}'"
                before = text[:pos]
                if kind == "NAME" and before[-1:].isdigit() or before[-1:] == ".":
                    number = re.search(r"[0-9.]+(?:[eE][+-]?[0-9]+)?$", before)
                    if number is not None:  # 2x: implicit multiplication
                        what += f" (did you mean {number.group()}*{escape_text(tok, 40)}?)"
            if tok in ("<", "<=", ">", ">=", "==", "!=") and re.search(
                    r"[<>]|==|!=", text[max(text.rfind(";", 0, pos), text.rfind("\n", 0, pos)) + 1:pos]):
                what = (f"unexpected '{tok}': comparisons do not chain (write a < b < c as "
                        "(a < b) * (b < c))")
            if kind == "EQUAL":
                what = ("unexpected '=' (only a name can be assigned, or updated with += -= *= /= "
                        "^=, at the start of a statement)")
    message = f"{what}; expected {_words(expected)}" if expected else what
    return SyntaxProblem(message, text, pos, expected=expected, source=source)
