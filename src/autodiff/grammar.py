"""Where the grammar file is: inside the installed package (a wheel carries a
copy of grammars/expr.lark) or, in a source checkout, at the top of the tree."""

from __future__ import annotations

from pathlib import Path

GRAMMAR_NAME = "expr.lark"


def grammar_path() -> Path:
    here = Path(__file__).resolve().parent
    for candidate in (here / "grammars" / GRAMMAR_NAME, here.parents[1] / "grammars" / GRAMMAR_NAME):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"the grammar file {GRAMMAR_NAME} is missing from the installation")


def grammar_text() -> str:
    return grammar_path().read_text(encoding="utf-8")
