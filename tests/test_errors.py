"""Error kinds are a registry derived from the error classes: every kind any
error can have is in `ERROR_KINDS` (what check files and the README list)."""

from __future__ import annotations

import ast
import pathlib

import autodiff
from autodiff import errors


def _subclasses(cls: type) -> list[type]:
    out, todo = [], [cls]
    while todo:
        c = todo.pop()
        for s in c.__subclasses__():
            out.append(s)
            todo.append(s)
    return out


def test_every_error_class_kind_is_registered() -> None:
    import autodiff.batch  # noqa: F401 - defines PointError
    import autodiff.check  # noqa: F401 - defines CasesFileError
    import autodiff.drawing  # noqa: F401 - defines DotMissing

    kinds = {c.kind for c in _subclasses(errors.AutodiffError)}
    assert kinds - {"error"} <= set(errors.ERROR_KINDS), kinds - set(errors.ERROR_KINDS)


def test_every_kind_written_in_the_source_is_registered() -> None:
    """kind="..." keyword arguments and EvaluationError("kind", ...) calls
    anywhere in the package name registered kinds."""
    src = pathlib.Path(autodiff.__file__).parent
    found: set[str] = set()
    for path in src.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                for kw in node.keywords:
                    value = kw.value
                    if kw.arg == "kind" and isinstance(value, ast.Constant) and isinstance(value.value, str):
                        found.add(value.value)
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                if name == "EvaluationError" and node.args and isinstance(node.args[0], ast.Constant):
                    found.add(node.args[0].value)
            if isinstance(node, ast.ClassDef):  # class attributes: kind = "point"
                for stmt in node.body:
                    if (isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Constant)
                            and any(isinstance(t, ast.Name) and t.id == "kind" for t in stmt.targets)):
                        found.add(stmt.value.value)
    found.discard("error")
    assert found, "the scan found no kinds at all"
    assert found <= set(errors.ERROR_KINDS), found - set(errors.ERROR_KINDS)


def test_io_errors_have_their_own_exit_code() -> None:
    e = errors.OutputError("cannot write <stdout>: No space left on device")
    assert (e.kind, e.exit_code) == ("io", 74)
