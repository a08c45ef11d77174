"""What the commands share: turning argv text into numbers and bindings,
reading a program (bounded, from an argument, a file or stdin), the options
every command that reads a program accepts, and the one error wrapper.

Nothing here knows a particular command: `eval`, `graph` and `explain` are
`ProgramCommand`s decorated with `program_options` and `guarded`, so a new
shared flag is one `click.option` below and one field of `ProgramArgs`.
"""

from __future__ import annotations

import errno
import functools
import io
import os
import re
import sys
from typing import IO, Any, Callable, Iterable, NoReturn, Optional

import click

from .. import differentiate, parser
from ..errors import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    AutodiffError,
    BindingError,
    InputError,
    OutputError,
    ProgramError,
    UsageProblem,
    decode_utf8,
    escape_text,
)
from ..evaluate import Result
from ..graph import Graph

_BINDING_VALUE = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_BINDING_OPTION = re.compile(r"--[A-Za-z_][A-Za-z0-9_]*(=|\Z)")
_ATTACHED_SET = re.compile(r"-D[A-Za-z_][A-Za-z0-9_]*=")
_BOM = b"\xef\xbb\xbf"

#: the default limit on a program's length, in characters (--max-chars)
MAX_CHARS = 10_000_000


# ---------------------------------------------------------------- numbers and bindings

def parse_number(text: str, name: str) -> float:
    """A binding's value: a finite decimal number, ASCII only."""
    if not _BINDING_VALUE.match(text):
        shown = f"'{escape_text(text, 60)}'" if text else "an empty value"
        raise BindingError(f"the value for {name} is not a number: {shown} (write a decimal "
                           "number such as 5, -2.5 or 1e-3)", name)
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise BindingError(f"the value for {name} is too large for a double: {text}", name)
    return value


def parse_bindings(extra: list[str], sets: tuple[str, ...],
                   flag_values: Optional[dict[str, str]] = None,
                   parse_value: Callable[[str, str], Any] = parse_number) -> dict[str, Any]:
    """Bindings from `--NAME VALUE`, `--NAME=VALUE` and `-D NAME=VALUE`. A name
    bound twice is an error (in a script, the second is usually a typo).
    `flag_values` maps a stray argument to the flag it followed (`--json 3`),
    for the hint to bind a variable of that name with -D. `parse_value` reads
    a value (eval --exact reads 1/3 and 0.1 exactly)."""
    out: dict[str, Any] = {}

    def bind(name: str, value: str, how: str) -> None:
        if name in out:
            raise UsageProblem(f"{escape_text(name, 60)} is bound twice (again by {how})")
        out[name] = parse_value(value, name)

    k = 0
    while k < len(extra):
        arg = extra[k]
        if not arg.startswith("--"):
            flag = (flag_values or {}).get(arg)
            if flag is not None:
                name = flag.lstrip("-")
                raise UsageProblem(f"unexpected argument '{escape_text(arg, 60)}': {flag} is an "
                                   f"option that takes no value; to bind a variable named {name}, "
                                   f"write -D {name}={escape_text(arg, 60)}")
            raise UsageProblem(f"unexpected argument '{escape_text(arg, 60)}': bind variables "
                               "as --NAME VALUE or -D NAME=VALUE")
        name, eq, value = arg[2:].partition("=")
        if not _NAME.match(name):
            raise UsageProblem(f"no such option '--{escape_text(name, 60)}'; a variable binding "
                               "is --NAME VALUE with NAME a variable of the program (ASCII "
                               "letters, digits and _)")
        if not eq:
            if k + 1 >= len(extra):
                raise UsageProblem(f"--{name} needs a value: --{name} VALUE")
            k += 1
            value = extra[k]
        bind(name, value, f"--{name}")
        k += 1
    for item in sets:
        name, eq, value = item.partition("=")
        if not eq:
            raise UsageProblem(f"-D expects NAME=VALUE, got '{escape_text(item, 60)}'")
        if not _NAME.match(name):
            raise UsageProblem(f"-D {escape_text(item, 60)}: '{escape_text(name, 60)}' is not a name "
                               "(names are ASCII letters, digits and _, not starting with a digit; "
                               "no spaces around =)")
        bind(name, value, f"-D {name}=...")
    return out


# ---------------------------------------------------------------- reading input

def _read_at_most(stream: IO[bytes], limit: int) -> bytes:
    parts = []
    left = limit
    while left > 0:
        chunk = stream.read(min(left, 1 << 20))
        if not chunk:
            break
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def read_text(where: str, *, max_chars: int, what: str = "the program") -> tuple[str, str]:
    """The text of the file `where` ('-' for stdin) and its name for messages.
    At most `max_chars`*4 + 1 bytes are read (UTF-8 takes at most 4 bytes a
    character), so an endless input (/dev/zero) stops at the limit; a leading
    UTF-8 byte-order mark is dropped."""
    source = "<stdin>" if where == "-" else where
    cap = max_chars * 4
    try:
        if where == "-":
            if sys.stdin is None:
                raise InputError(f"cannot read {what} from <stdin>: stdin is closed")
            raw = _read_at_most(sys.stdin.buffer, cap + 1)
        else:
            with open(where, "rb") as fh:
                raw = _read_at_most(fh, cap + 1)
    except OSError as exc:
        raise InputError(f"cannot read {escape_text(source)}: {exc.strerror}") from None
    if len(raw) > cap:
        raise InputError(f"{what} is over the limit of {max_chars:,} characters: "
                         f"{escape_text(source)} holds more than {cap:,} bytes (raise it with "
                         "--max-chars)")
    if raw.startswith(_BOM):
        raw = raw[len(_BOM):]
    return decode_utf8(raw, source), source


def read_bindings_option(value: str, stdin_taken: bool, max_chars: int) -> dict[str, float]:
    """`--bindings '{"a": 5}'`, `--bindings @point.json` or `--bindings @-` (stdin)."""
    from ..batch import read_bindings_json

    if not value.startswith("@"):
        stripped = value.strip()
        if stripped and stripped[0] not in "{[" and not stripped[0].isdigit():
            raise BindingError(f"--bindings {escape_text(value, 60)}: not a JSON object; to read "
                               f"the bindings from a file, write --bindings @{escape_text(value, 60)}")
        return read_bindings_json(value)
    path = value[1:]
    if path == "-" and stdin_taken:
        raise UsageProblem("only one input can come from stdin ('-')")
    text, source = read_text(path, max_chars=max_chars, what="--bindings")
    return read_bindings_json(text, escape_text(source))


def write_json(pieces: Iterable[str]) -> None:
    """One JSON document on stdout, written in pieces (a large result is never
    held as one string)."""
    write = sys.stdout.write
    for chunk in pieces:
        write(chunk)
    write("\n")


# ---------------------------------------------------------------- the shared options

class ProgramArgs:
    """The options every command that reads a program shares, as given.
    (A plain class: this module loads at every start of the command, and a
    dataclass costs the dataclasses import and a code generation.)"""

    def __init__(self, *, command: str, args: tuple[str, ...], file: Optional[str],
                 sets: tuple[str, ...], output: Optional[str], digits: Optional[int],
                 bindings_json: tuple[str, ...], max_chars: int, debug: bool,
                 given: Optional[dict[str, str]] = None,
                 flag_values: Optional[dict[str, str]] = None) -> None:
        self.command = command
        self.args = args
        self.file = file
        self.sets = sets
        self.output = output
        self.digits = digits
        self.bindings_json = bindings_json
        self.max_chars = max_chars
        self.debug = debug
        #: options given on the command line, by every name they go by
        #: (`output`, `o`): a program variable of that name gets the -D hint
        self.given = given or {}
        #: a stray argument -> the flag it followed (`--json 3`)
        self.flag_values = flag_values or {}
        self._text: Optional[tuple[str, str]] = None

    def split(self) -> tuple[Optional[str], list[str]]:
        """The program argument (None with -f) and the binding arguments."""
        if self.file is not None:
            return None, list(self.args)
        if not self.args:
            return None, []
        first = self.args[0]
        if _BINDING_OPTION.match(first):  # --a or --a=5 where the program should be
            raise UsageProblem("the program comes first, then the bindings: "
                               f"autodiff {self.command} 'J = 3*(a + b*c)' --a 5 --b 3 --c 2 (a "
                               "program that starts with --NAME, like --x, can be written -(-x))")
        return first, list(self.args[1:])

    def program_from_stdin(self) -> bool:
        program, _ = self.split()
        return program == "-" or self.file == "-"

    def read(self) -> tuple[str, str]:
        """The program text and where it came from ('' for the command line);
        read once (stdin cannot be read twice)."""
        if self._text is None:
            self._text = self._read()
        return self._text

    def _read(self) -> tuple[str, str]:
        program, _ = self.split()
        if self.file is not None and self.args and not self.args[0].startswith("-"):
            raise UsageProblem("give the program either as an argument or with -f FILE, not both")
        if self.file is None and program is None:
            raise UsageProblem(f"missing the program: autodiff {self.command} "
                               "'J = 3*(a + b*c)' --a 5 ...")
        if self.file is None and program != "-":
            assert program is not None
            return program, ""
        return read_text(self.file if self.file is not None else "-", max_chars=self.max_chars)

    def bindings(self, *, stdin_taken: bool = False, exact: bool = False
                 ) -> tuple[dict[str, Any], dict[str, Any]]:
        """(--bindings JSON, the --NAME and -D options): the options win.
        With `exact`, option values are read as rationals (1/3, 0.1 = 1/10)."""
        _, extra = self.split()
        if exact:
            from ..rationals import to_fraction

            overrides = parse_bindings(extra, self.sets, self.flag_values, to_fraction)
        else:
            overrides = parse_bindings(extra, self.sets, self.flag_values)
        if len(self.bindings_json) > 1:
            raise UsageProblem("--bindings is given more than once: put the names in one JSON object")
        base: dict[str, float] = {}
        if self.bindings_json:
            base = read_bindings_option(self.bindings_json[0],
                                        stdin_taken or self.program_from_stdin(), self.max_chars)
        return base, overrides

    def parse(self) -> Graph:
        """The whole program's graph (before --of selects the output)."""
        text, source = self.read()
        return parser.parse(text, source=source, max_chars=self.max_chars)

    def evaluate(self, bindings: dict[str, float], *, keep_local: bool = True) -> Result:
        """Parse, select --of, evaluate: `autodiff.differentiate`."""
        text, source = self.read()
        try:
            return differentiate(text, bindings, output=self.output, source=source,
                                 max_chars=self.max_chars, keep_local=keep_local)
        except BindingError as exc:
            self.option_clash(exc.name)
            raise
        except ProgramError:
            self.output_clash(text)
            raise

    def select(self, graph: Graph) -> Graph:
        """The graph of the --of output."""
        try:
            return graph.select(self.output)
        except ProgramError:
            self.output_clash(self.read()[0])
            raise

    def output_clash(self, text: str) -> None:
        """--of NAME meant as the binding of a variable called `of`."""
        if "of" in self.given and re.search(r"(?<![A-Za-z0-9_])of(?![A-Za-z0-9_])", text):
            self.option_clash("of")

    def option_clash(self, name: Optional[str], *, warn: bool = False) -> None:
        """A variable `name` left unbound because `--name VALUE` set the
        command's option of that name: say how to bind it."""
        if name is None or name not in self.given:
            return
        message = (f"{escape_text(name, 60)} is a variable of the program, but {self.given[name]} "
                   f"is an option of {self.command}; to bind the variable, write -D {name}=VALUE")
        if not warn:
            raise UsageProblem(message)
        click.echo(f"warning: {message}", err=True)


def _given_options(ctx: click.Context) -> dict[str, str]:
    from click.core import ParameterSource

    out: dict[str, str] = {}
    for param in ctx.command.params:
        if not isinstance(param, click.Option) or param.name is None:
            continue
        if ctx.get_parameter_source(param.name) != ParameterSource.COMMANDLINE:
            continue
        shown = "/".join(param.opts)
        for opt in param.opts + param.secondary_opts:
            out[opt.lstrip("-").replace("-", "_")] = shown
    return out


def program_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The program, its bindings and the output selection, the same for every
    command that reads a program; the command receives them as one
    `ProgramArgs` (its first argument)."""
    decorators = [
        click.argument("args", nargs=-1, type=click.UNPROCESSED, metavar="PROGRAM [BINDINGS]..."),
        click.option("-f", "--file", "file", type=click.Path(dir_okay=False, allow_dash=True),
                     help="Read the program from FILE ('-' for stdin)."),
        click.option("-D", "--set", "sets", multiple=True, metavar="NAME=VALUE",
                     help="Bind a variable (repeatable); works for any name."),
        click.option("--bindings", "bindings_json", metavar="JSON|@FILE", multiple=True,
                     help="Bind variables from a JSON object, inline or @FILE (@- for stdin)."),
        click.option("--of", "output", metavar="NAME",
                     help="Use the assigned NAME as the output instead of the last statement."),
        click.option("--digits", type=click.IntRange(1, 17), metavar="N",
                     help="Show numbers with N significant digits (default: all, shortest "
                     "round-trip)."),
        click.option("--max-chars", type=click.IntRange(1, None), default=MAX_CHARS,
                     show_default=True, metavar="N",
                     help="Refuse programs longer than this many characters (a guard against "
                     "runaway input; about 1 s of work per million characters)."),
        click.option("--debug", is_flag=True, help="Show a Python traceback for internal errors."),
    ]
    shared: list[str] = []  # the parameter names above, filled in below

    @functools.wraps(fn)
    def wrapper(**kwargs: Any) -> Any:
        ctx = click.get_current_context()
        values = {name: kwargs.pop(name) for name in shared}
        prog = ProgramArgs(command=ctx.info_name or "", given=_given_options(ctx),
                           flag_values=ctx.meta.get("autodiff.flag_values", {}), **values)
        return fn(prog, **kwargs)

    before = len(getattr(wrapper, "__click_params__", []))
    for d in reversed(decorators):
        wrapper = d(wrapper)
    shared += [p.name for p in wrapper.__click_params__[before:] if p.name]  # type: ignore[attr-defined]
    return wrapper


class ProgramCommand(click.Command):
    """A command whose first argument is a program. A program may start with
    a minus sign (`-alpha*x`, `-tanh(x)`), and a binding's value too (`--x
    -inf`): click would read those as clusters of short options (`-a -l -p
    -h ...`), so before click parses, each such argument is set aside and put
    back afterwards. `-h`, `-f FILE`, `-D NAME=VALUE` written as options stay
    options."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("context_settings", {}).update(
            {"ignore_unknown_options": True, "allow_extra_args": True})
        super().__init__(*args, **kwargs)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        takes_value: dict[str, bool] = {}
        for param in self.get_params(ctx):
            if isinstance(param, click.Option):
                for opt in param.opts + param.secondary_opts:
                    takes_value[opt] = not (param.is_flag or param.count)
        shown, hidden, flag_values = _set_aside(args, takes_value)
        ctx.meta["autodiff.flag_values"] = flag_values
        rest = super().parse_args(ctx, shown)
        if hidden:
            ctx.params["args"] = tuple(hidden.get(a, a) for a in ctx.params.get("args", ()))
        return rest


def _set_aside(args: list[str], takes_value: dict[str, bool]
               ) -> tuple[list[str], dict[str, str], dict[str, str]]:
    """argv with each argument that click must not read as options replaced
    by a placeholder; the placeholders; stray values after flags."""
    shown: list[str] = []
    hidden: dict[str, str] = {}
    flag_values: dict[str, str] = {}

    def hide(arg: str) -> None:
        key = f"\0{len(hidden)}"
        hidden[key] = arg
        shown.append(key)

    k = 0
    while k < len(args):
        arg = args[k]
        nxt = args[k + 1] if k + 1 < len(args) else None
        if arg == "--":
            shown.extend(args[k:])
            break
        option = arg.partition("=")[0] if arg.startswith("--") else arg
        if option in takes_value:
            shown.append(arg)
            if takes_value[option] and "=" not in arg and nxt is not None:
                shown.append(nxt)  # the option's value, whatever it looks like
                k += 1
            elif not takes_value[option] and nxt is not None and not nxt.startswith("-"):
                flag_values.setdefault(nxt, option)
        elif arg.startswith("--"):  # a binding --NAME [VALUE]
            shown.append(arg)
            if "=" not in arg and nxt is not None and nxt.startswith("-") and nxt != "-" \
                    and not nxt.startswith("--"):
                hide(nxt)  # --x -inf, --x -2.5
                k += 1
        elif arg.startswith("-") and arg != "-" and not _ATTACHED_SET.match(arg):
            hide(arg)  # a program (or a stray argument) that starts with a minus sign
        else:
            shown.append(arg)
        k += 1
    return shown, hidden, flag_values


# ---------------------------------------------------------------- errors and exit codes

#: errno values that mean "the output cannot be written", not a bug
OUTPUT_ERRNOS = {errno.ENOSPC, errno.EIO, errno.EBADF, errno.EFBIG, errno.EROFS,
                  getattr(errno, "EDQUOT", errno.ENOSPC)}


def error_json(error: AutodiffError, *, compact: bool = False) -> str:
    """The JSON error document: indented, or on one line like batch records."""
    from ..render import dumps, error_dict

    if not compact:
        return dumps(error_dict(error))
    import json

    return json.dumps(error_dict(error), ensure_ascii=False, separators=(",", ":"))


def fail(error: AutodiffError, *, as_json: bool = False, compact: bool = False) -> NoReturn:
    """The error on stderr (and as a JSON document on stdout when the output
    is JSON: one line, like the records, when it is an NDJSON stream); exit."""
    if as_json:
        try:
            click.echo(error_json(error, compact=compact))
            sys.stdout.flush()
        except (OSError, AttributeError, ValueError):
            pass  # stdout is what failed: stderr still gets the line below
    click.echo(f"error: {error.render()}", err=True)
    if isinstance(error, OutputError):
        _detach_stdout()
    sys.exit(error.exit_code)


def output_failure(exc: OSError, what: str = "<stdout>") -> OutputError:
    return OutputError(f"cannot write {what}: {exc.strerror or exc}")


def guarded(json_when: Optional[Callable[[dict[str, Any]], Any]] = None
            ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Run a command, translating errors: library errors to their exit codes
    (with a JSON error document on stdout when `json_when(params)` says the
    output is JSON, on one line when it says "ndjson"), stdout that cannot
    be written to OutputError (exit 74), a broken pipe to a quiet exit, Ctrl-C
    to 130, and a bug to 70."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> None:
            params = click.get_current_context().params
            mode = json_when(params) if json_when else None
            as_json, compact = bool(mode), mode == "ndjson"
            if sys.stdout is None:  # started with stdout closed (`>&-`)
                sys.stdout = ClosedStdout()
            try:
                fn(*args, **kwargs)
                sys.stdout.flush()
            except AutodiffError as exc:
                fail(exc, as_json=as_json, compact=compact)
            except BrokenPipeError:
                _quiet_broken_pipe()
            except KeyboardInterrupt:
                click.echo("interrupted", err=True)
                sys.exit(EXIT_INTERRUPTED)
            except (click.exceptions.Exit, click.ClickException, SystemExit):
                raise
            except OSError as exc:
                if exc.errno not in OUTPUT_ERRNOS:
                    _internal_error(params.get("debug", False))
                fail(output_failure(exc), as_json=as_json, compact=compact)
            except Exception:  # noqa: BLE001 - the one place a bug becomes a message
                _internal_error(params.get("debug", False))

        return wrapper

    return decorate


def _internal_error(debug: bool) -> NoReturn:
    if debug:
        import traceback

        traceback.print_exc()
    click.echo("error: internal error in autodiff (a bug). Please report it with the command "
               "you ran; --debug shows the traceback.", err=True)
    sys.exit(EXIT_INTERNAL)


class ClosedStdout(io.TextIOBase):
    """Stands in for a closed stdout: every write is the OSError a closed
    file descriptor gives, so it becomes an OutputError like a full disk."""

    def write(self, s: str) -> int:
        raise OSError(errno.EBADF, "stdout is closed")

    @property
    def buffer(self) -> ClosedStdout:
        return self

    def flush(self) -> None:
        pass


def _detach_stdout() -> None:
    # What is still buffered for a stdout that cannot take it would fail again
    # at exit ("Exception ignored ..."): point stdout at devnull.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, AttributeError, ValueError, io.UnsupportedOperation):
        sys.stdout = ClosedStdout()


def _quiet_broken_pipe() -> NoReturn:
    # The reader went away (`| head`): stop quietly. Point stdout at devnull so
    # that the interpreter's final flush does not complain.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, AttributeError, ValueError, io.UnsupportedOperation):
        pass
    sys.exit(0)


def option_names(command: click.Command) -> tuple[str, ...]:
    """The long option names of `command` (without dashes), in declaration
    order: a variable with one of these names is bound with -D NAME=VALUE."""
    names: list[str] = []
    for param in command.params:
        if isinstance(param, click.Option):
            names += [opt[2:] for opt in param.opts + param.secondary_opts if opt.startswith("--")]
    return tuple(names) + ("help",)


class FormatChoice(click.Choice):
    """--format for a command, from its registry of formats: the choices, the
    help and the error message come from one dict."""

    def __init__(self, command: str, formats: dict[str, str]) -> None:
        super().__init__(list(formats))
        self.command = command
        self.formats = formats

    def convert(self, value: Any, param: Optional[click.Parameter], ctx: Optional[click.Context]) -> Any:
        if value in self.formats:
            return value
        self.fail(f"unknown format '{escape_text(str(value), 60)}' for {self.command}: choose "
                  f"{or_list(list(self.formats))}", param, ctx)

    def describe(self, indent: str = "  ") -> str:
        """The Formats block of a help text."""
        width = max(len(n) for n in self.formats) + 2
        pad = " " * (len(indent) + width)
        return "\n".join(wrap(text, f"{indent}{name:<{width}}", pad)
                         for name, text in self.formats.items())


def wrap(text: str, first: str, indent: str, width: int = 78) -> str:
    """`text` filled to `width` columns after `first`, then `indent` (for help
    texts; textwrap would cost an import at every start)."""
    lines = []
    line, fresh = first, True  # fresh: nothing after the line's prefix yet
    for word in text.split():
        if not fresh and len(line) + 1 + len(word) > width:
            lines.append(line)
            line, fresh = indent, True
        line += word if fresh else " " + word
        fresh = False
    lines.append(line)
    return "\n".join(lines)


def or_list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


# ---------------------------------------------------------------- eval's options of issue 11
# (declared here, shared by eval and explain; the work is in higher_cli.py, loaded only
# when one of them is given)

_PAIR = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(\S+?)\s*\Z")


def parse_direction(text: str, option: str) -> dict[str, float]:
    """`x=1,y=0` -> {"x": 1.0, "y": 0.0} (names not given are 0)."""
    out: dict[str, float] = {}
    for part in text.split(","):
        m = _PAIR.match(part)
        if not m:
            raise UsageProblem(f"{option} takes NAME=VALUE pairs separated by commas "
                               f"(x=1,y=0), got '{escape_text(text, 60)}'")
        name, value = m.group(1), m.group(2)
        if name in out:
            raise UsageProblem(f"{option}: {name} is given twice")
        out[name] = parse_number(value, name)
    return out


def wants_higher(params: dict[str, Any]) -> bool:
    """Whether eval was given one of this module's options."""
    output = params.get("output") or ""
    return bool(params.get("mode") not in (None, "reverse") or params.get("seed")
                or params.get("hessian") or params.get("hvp") or params.get("order") is not None
                or params.get("wrt")
                or params.get("exact") or "," in output or output == "all")


def higher_options(fn: Any) -> Any:
    """eval's options of issue 11, in one decorator."""
    decorators = [
        click.option("--mode", type=click.Choice(["reverse", "forward", "both"]), default=None,
                     help="reverse (default): one sweep gives the whole gradient; forward: "
                     "tangents left to right (one sweep per input, or one along --seed); "
                     "both: the two side by side with their numbers of sweeps."),
        click.option("--seed", metavar="x=1,y=0", help="With --mode forward: the direction of "
                     "the tangent sweep (inputs not named are 0); its table has a tangent column."),
        click.option("--hessian", is_flag=True, help="The matrix of second partial derivatives "
                     "(forward over reverse: one tangent pass through the reverse sweep per input)."),
        click.option("--hvp", metavar="x=1,y=0", help="The Hessian-vector product H·v, "
                     "without building the Hessian."),
        click.option("--order", type=click.IntRange(0, 100), metavar="N", help="f, f', ..., "
                     "f^(N) along one variable (--wrt NAME), by Taylor series in one pass."),
        click.option("--wrt", metavar="NAME", help="The variable of --order (default: the "
                     "output's only input)."),
        click.option("--exact", type=click.Choice(["on", "auto"]), is_flag=False, flag_value="on",
                     default=None, metavar="[=auto]", help="Rational arithmetic (values like 1/3 "
                     "and 0.1 read exactly): an operation that leaves the rationals is an error, "
                     "or with --exact=auto is computed in floating point and marked."),
    ]
    for d in reversed(decorators):
        fn = d(fn)
    return fn


def refuse_unless(condition: bool, message: str) -> None:
    """An option that does not apply is refused, never silently ignored."""
    if not condition:
        raise UsageProblem(message)


__all__ = ["MAX_CHARS", "parse_number", "parse_bindings", "read_text", "read_bindings_option",
           "write_json", "ProgramArgs", "ProgramCommand", "program_options", "guarded", "fail",
           "option_names", "FormatChoice", "or_list", "refuse_unless", "output_failure",
           "higher_options", "wants_higher", "parse_direction"]
