"""Write out the PEP 8 spelling of every .NET-named member, where static tools see it.

``@dotnet_names`` makes the aliases at run time, which mypy, pyright and editors cannot see.
This script writes them into the source instead: at the end of each class that uses the
decorator, between two marker comments, one line per member::

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    begin_send_to = BeginSendTo
    # -- end of PEP 8 spellings --

Run ``python tools/gen_names.py`` after adding, renaming or removing a .NET-named member (or
after a merge); ``--check`` only reports what is out of date (``tests/test_names.py`` runs it).
The script parses the sources and never imports the package, so it also repairs a tree whose
generated blocks no longer import (a member renamed on one branch, its alias kept on another).
The naming rule is ``pep8_name`` from ``src/dotnet_sockets/_names.py``, loaded by path: the one
rule, shared with the run-time decorator.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import re
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "dotnet_sockets"
COMMAND = "python tools/gen_names.py"
BEGIN = "# -- PEP 8 spellings: written by tools/gen_names.py, do not edit --"
END = "# -- end of PEP 8 spellings --"
DECORATOR = "dotnet_names"

# A whole block, with the blank line before it; whatever lies between the markers goes (a merge
# may have left conflict markers there), so a damaged block is replaced, not parsed.
_BLOCK = re.compile(rf"(?:^[ \t]*\n)?^[ \t]*{re.escape(BEGIN)}\n(?:.*\n)*?^[ \t]*{re.escape(END)}[ \t]*\n", re.M)


def _load_rule() -> Callable[[str], str]:
    spec = importlib.util.spec_from_file_location("_dotnet_sockets_names_rule", PACKAGE / "_names.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rule: Callable[[str], str] = module.pep8_name
    return rule


pep8_name = _load_rule()


def _is_decorator(node: ast.expr) -> bool:
    """``dotnet_names`` or ``something.dotnet_names``."""
    return (isinstance(node, ast.Name) and node.id == DECORATOR) or (
        isinstance(node, ast.Attribute) and node.attr == DECORATOR
    )


def _decorated_classes(tree: ast.Module) -> list[ast.ClassDef]:
    """Top-level classes given PEP 8 aliases: ``@dotnet_names`` or ``dotnet_names(Cls)`` later."""
    called = {
        stmt.value.args[0].id
        for stmt in tree.body
        if isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Call)
        and _is_decorator(stmt.value.func)
        and len(stmt.value.args) == 1
        and isinstance(stmt.value.args[0], ast.Name)
    }
    return [
        node
        for node in tree.body
        if isinstance(node, ast.ClassDef)
        and (node.name in called or any(_is_decorator(d) for d in node.decorator_list))
    ]


def _class_members(node: ast.ClassDef, source: str) -> tuple[dict[str, str | None], set[str]]:
    """(.NET-named members in order -> annotation text if only annotated, every name defined)."""
    members: dict[str, str | None] = {}
    defined: set[str] = set()

    def note(name: str, annotation: str | None) -> None:
        defined.add(name)
        if name[:1].isupper():
            if name in members and members[name] is None:
                return
            members[name] = annotation

    for stmt in node.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            note(stmt.name, None)
        elif isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    note(target.id, None)
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            text = ast.get_source_segment(source, stmt.annotation) if stmt.value is None else None
            note(stmt.target.id, text)
    return members, defined


def _block(node: ast.ClassDef, source: str, indent: str, notes: list[str]) -> list[str]:
    members, defined = _class_members(node, source)
    lines = []
    for name, annotation in members.items():
        alias = pep8_name(name)
        if alias == name or alias in defined:
            # Spelled the same, or written by hand (the decorator checks it is the same object).
            continue
        if annotation is None:
            lines.append(f"{indent}{alias} = {name}")
        elif annotation.startswith(("ClassVar", "typing.ClassVar")):
            # Declared here, assigned after the class (IPAddress.Any): the decorator copies the value.
            lines.append(f"{indent}{alias}: {annotation}")
        else:
            # A field (NamedTuple, dataclass): a second annotation would be a second field.
            notes.append(
                f"{node.name}.{name} is a field, so its alias {alias} cannot be written out; "
                "make it a property (as SocketReceiveFromResult does)"
            )
    if not lines:
        return []
    return ["", f"{indent}{BEGIN}", *lines, f"{indent}{END}"]


def render(source: str, notes: list[str] | None = None) -> str:
    """``source`` with every generated block written anew (idempotent); what cannot be written
    out is described in ``notes``."""
    if notes is None:
        notes = []
    stripped = _BLOCK.sub("", source)
    tree = ast.parse(stripped)
    lines = stripped.splitlines(keepends=True)
    inserts: list[tuple[int, list[str]]] = []
    for node in _decorated_classes(tree):
        first = node.body[0]
        indent = lines[first.lineno - 1][: first.col_offset]
        block = _block(node, stripped, indent, notes)
        if block:
            assert node.end_lineno is not None
            inserts.append((node.end_lineno, block))
    for at, block in sorted(inserts, reverse=True):
        lines[at:at] = [line + "\n" for line in block]
    return "".join(lines)


def sources(package: Path = PACKAGE) -> Iterable[Path]:
    return sorted(p for p in package.rglob("*.py") if DECORATOR in p.read_text(encoding="utf-8"))


def out_of_date(package: Path = PACKAGE) -> list[Path]:
    return [p for p in sources(package) if render(p.read_text(encoding="utf-8")) != p.read_text(encoding="utf-8")]


def unwritable(package: Path = PACKAGE) -> list[str]:
    """The members whose alias the generator cannot write out (fields), with what to do instead."""
    notes: list[str] = []
    for path in sources(package):
        render(path.read_text(encoding="utf-8"), notes)
    return notes


def write(package: Path = PACKAGE) -> list[Path]:
    changed = out_of_date(package)
    for path in changed:
        path.write_text(render(path.read_text(encoding="utf-8")), encoding="utf-8")
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a file is out of date")
    args = parser.parse_args(argv)
    notes = unwritable()
    for note in notes:
        print(f"cannot write out: {note}", file=sys.stderr)
    if args.check:
        stale = out_of_date()
        for path in stale:
            print(f"{path.relative_to(ROOT)}: PEP 8 spellings out of date; run: {COMMAND}")
        return 1 if stale or notes else 0
    for path in write():
        print(f"rewrote {path.relative_to(ROOT)}")
    return 1 if notes else 0


if __name__ == "__main__":
    sys.exit(main())
