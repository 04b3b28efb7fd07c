"""The documentation cannot go stale: its code runs and its reference builds cleanly.

* Every fenced ``python`` block in README.md and docs/*.md is run as a program of its own, in a
  fresh interpreter, against the library in this tree, on loopback; it must exit 0 and write
  nothing to stderr (a callback that failed would be reported there).  Blocks in other languages
  (C#, VB, shell) are shown, not run; a block with no language, or one spelled ``py``, is an
  error, so nothing escapes by accident.
* A block preceded by ``<!-- requires: NAME -->`` needs a part of the library that is still being
  built; it is skipped, saying so, until that part exists, and runs from then on.
* The Sphinx build runs with warnings as errors, and the API reference it produces must list
  every public .NET member with its PEP 8 spelling beside it.
"""

from __future__ import annotations

import asyncio
import enum
import html
import importlib.util
import inspect
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import background
import dotnet_sockets
from dotnet_sockets._names import pep8_name

ROOT = Path(__file__).resolve().parent.parent
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# Seconds one block may take; a block still running then has every thread's stack dumped and is
# ended, so a hang shows where it hangs.  Well under pytest's own timeout.
RUN_TIMEOUT = 30
_RUNNER = (
    "import faulthandler, runpy, sys; "
    "faulthandler.dump_traceback_later(float(sys.argv[2]), exit=True); "
    "runpy.run_path(sys.argv[1], run_name='__main__')"
)

EXECUTED = {"python"}
SHOWN = {"csharp", "vbnet", "cpp", "sh", "console", "text"}

_OPEN = re.compile(r"^(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")
_REQUIRES = re.compile(r"^<!--\s*requires:\s*(?P<name>[\w-]+)\s*-->$")


@dataclass
class Block:
    path: Path
    line: int
    language: str
    code: str
    requires: str | None

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def extract_blocks(path: Path) -> list[Block]:
    """The fenced code blocks of a Markdown file, with the line each one starts on."""
    blocks: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    previous = ""
    while i < len(lines):
        m = _OPEN.match(lines[i].strip())
        if not m:
            if lines[i].strip():
                previous = lines[i].strip()
            i += 1
            continue
        fence, info = m["fence"], m["info"].strip()
        start = i + 1  # the opening fence's line, counted from 1
        body: list[str] = []
        i += 1
        while i < len(lines) and not (
            lines[i].strip().startswith(fence[0] * len(fence)) and not lines[i].strip().strip(fence[0])
        ):
            body.append(lines[i])
            i += 1
        if i >= len(lines):
            raise AssertionError(f"{path}:{start}: code block never closed")
        requires = _REQUIRES.match(previous)
        blocks.append(
            Block(path, start, info.split()[0] if info else "", "\n".join(body) + "\n", requires and requires["name"])
        )
        previous = ""
        i += 1
    return blocks


ALL_BLOCKS = [b for p in DOC_FILES for b in extract_blocks(p)]
PYTHON_BLOCKS = [b for b in ALL_BLOCKS if b.language in EXECUTED]


def _has_task_model() -> str | None:
    """None if ``await sock.SendToAsync(buffer, flags, endpoint)`` is available, else why not."""
    from dotnet_sockets import AddressFamily, IPAddress, IPEndPoint, ProtocolType, Socket, SocketFlags, SocketType

    if not hasattr(Socket, "SendToAsync"):
        return "Socket.SendToAsync does not exist yet"

    async def probe() -> str | None:
        with Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) as s:
            try:
                pending = s.SendToAsync(b"", SocketFlags.None_, IPEndPoint(IPAddress.Loopback, 9))
            except Exception as exc:  # noqa: BLE001 - any refusal of the call shape means "not there yet"
                return f"SendToAsync(buffer, flags, endpoint) raised {exc!r}"
            if not inspect.isawaitable(pending):
                return f"SendToAsync(buffer, flags, endpoint) returned {type(pending).__name__}, not an awaitable"
            try:
                await pending
            except Exception:  # noqa: BLE001 - the call shape exists; the doc block itself will show any error
                pass
            return None

    return asyncio.run(probe())


def _missing(requirement: str) -> str | None:
    """None when the library has what a block needs, else the reason to skip it."""
    if requirement == "task-model":
        return _has_task_model()
    if not hasattr(dotnet_sockets, requirement):
        return f"dotnet_sockets.{requirement} is not there yet"
    return None


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    env.pop("DOTNET_SOCKETS_INLINE_COMPLETIONS", None)
    return env


def test_doc_files_have_code() -> None:
    assert (ROOT / "docs" / "porting.md") in DOC_FILES
    assert len(PYTHON_BLOCKS) >= 10, [b.id for b in PYTHON_BLOCKS]


@pytest.mark.parametrize("block", ALL_BLOCKS, ids=lambda b: b.id)
def test_every_block_has_a_known_language(block: Block) -> None:
    # A "py" or unlabelled block would silently escape execution.
    assert block.language in EXECUTED | SHOWN or block.language.startswith("{"), (
        f"{block.id}: code block language {block.language!r}; use python (run by the tests) or one of {sorted(SHOWN)}"
    )


def _block_job(block: Block) -> background.Job:
    """The block as a program of its own, in a directory of its own."""
    where = background.workdir(f"{block.path.stem}_line{block.line}")
    script = where / f"{block.path.stem}_line{block.line}.py"
    script.write_text(block.code, encoding="utf-8")
    argv = [sys.executable, "-c", _RUNNER, str(script), str(RUN_TIMEOUT)]
    return background.Job(f"docs block {block.id}", argv, cwd=where, env=_env(), timeout=RUN_TIMEOUT + 15)


def _sphinx_job() -> background.Job:
    out = background.workdir("html")
    argv = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", str(ROOT / "docs"), str(out)]
    return background.Job("sphinx html", argv, env=_env(), timeout=240)


def _has_sphinx() -> bool:
    return all(importlib.util.find_spec(module) is not None for module in ("sphinx", "myst_parser"))


def background_jobs(selected: set[str]) -> list[background.Job]:
    """The Sphinx build and the blocks that need nothing still missing, ahead of their tests."""
    jobs = []
    sphinx_tests = {"test_sphinx_builds_without_warnings", "test_reference_lists_every_member_under_both_spellings"}
    if _has_sphinx() and selected & sphinx_tests:
        jobs.append(_sphinx_job())
    if "test_python_block_runs" in selected:
        jobs += [_block_job(block) for block in PYTHON_BLOCKS if not block.requires]
    return jobs


@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=lambda b: b.id)
def test_python_block_runs(block: Block) -> None:
    if block.requires:
        reason = _missing(block.requires)
        if reason:
            pytest.skip(f"FOR THE LEAD: {block.id} needs {block.requires}: {reason}")
    proc = background.outcome(_block_job(block))
    assert proc.returncode == 0, f"{block.id} failed:\n{proc.stdout}\n{proc.stderr}"
    assert proc.stderr == "", f"{block.id} wrote to stderr:\n{proc.stderr}"


def test_extractor_sees_fences_and_requirements(tmp_path: Path) -> None:
    doc = tmp_path / "x.md"
    doc.write_text(
        "text\n\n```csharp\nvar x = 1;\n```\n\n"
        "<!-- requires: Thing -->\n````python\nprint('```')\n````\n\n```\nbare\n```\n",
        encoding="utf-8",
    )
    blocks = extract_blocks(doc)
    assert [(b.language, b.line, b.requires) for b in blocks] == [
        ("csharp", 3, None),
        ("python", 8, "Thing"),
        ("", 12, None),
    ]
    assert blocks[1].code == "print('```')\n"


# -- the Sphinx build --------------------------------------------------------------------------------


def _public_members() -> list[tuple[str, str, str]]:
    """``(documented under, .NET name, PEP 8 name)`` for every aliased public member.

    A member is documented under the public class that defines it; a member of a base that is not
    public (the exceptions' ``Message``, ``Socket``'s ``...Async`` methods from a mixin) under each
    public class that inherits it.
    """
    public = set(dotnet_sockets.__all__)
    result = []
    for name in sorted(public):
        cls = getattr(dotnet_sockets, name)
        if not isinstance(cls, type):
            continue
        for klass in cls.__mro__:
            if not klass.__module__.startswith("dotnet_sockets") or (klass is not cls and klass.__name__ in public):
                continue
            for member, value in vars(klass).items():
                if not member[:1].isupper() or isinstance(value, enum.Enum):
                    continue
                alias = pep8_name(member)
                if alias != member and inspect.getattr_static(cls, alias, None) is value:
                    result.append((cls.__name__, member, alias))
    return result


@pytest.fixture(scope="module")
def built_docs() -> Path:
    if not _has_sphinx():
        pytest.skip("sphinx or myst_parser is not installed (they are in the 'test' extra: pip install -e '.[test]')")
    proc = background.outcome(_sphinx_job())
    assert proc.returncode == 0, f"sphinx -W failed:\n{proc.stdout}\n{proc.stderr}"
    return Path(proc.args[-1])


def test_sphinx_builds_without_warnings(built_docs: Path) -> None:
    for page in ("index", "porting", "api", "names", "examples"):
        assert (built_docs / f"{page}.html").is_file(), page


def test_reference_lists_every_member_under_both_spellings(built_docs: Path) -> None:
    api = html.unescape((built_docs / "api.html").read_text(encoding="utf-8"))
    names = html.unescape((built_docs / "names.html").read_text(encoding="utf-8"))
    members = _public_members()
    assert len(members) > 100, "the scan of public members found too few"
    missing = []
    for owner, member, alias in members:
        anchor = f'id="dotnet_sockets.{owner}.{member}"'
        at = api.find(anchor)
        if at < 0:
            missing.append(f"{owner}.{member}: no entry in api.html")
            continue
        # An overloaded member has one signature line per overload and one body: the entry runs to the next id.
        entry = api[at : api.find(' id="dotnet_sockets.', at + len(anchor))]
        if f'<span class="pre">{alias}</span>' not in entry:
            missing.append(f"{owner}.{member}: PEP 8 spelling {alias} not shown")
    assert not missing, "\n".join(missing)
    for name in dotnet_sockets.__all__:
        assert f'id="dotnet_sockets.{name}"' in api, f"{name} is not in the API reference"
    assert '<span class="pre">begin_send_to</span>' in names and "BeginSendTo" in names
