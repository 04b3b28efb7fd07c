"""The naming rule: .NET and PEP 8 spellings are one object, for every public class."""

from __future__ import annotations

import importlib.util
import inspect
import typing
from pathlib import Path
from types import ModuleType

import pytest

import dotnet_sockets
from dotnet_sockets._names import dotnet_names, made_at_run_time, pep8_name


@pytest.mark.parametrize(
    ("dotnet", "pep8"),
    [
        ("EndSendTo", "end_send_to"),
        ("IPv6Any", "ipv6_any"),
        ("AddressList", "address_list"),
        ("EnableBroadcast", "enable_broadcast"),
        ("GetHostEntry", "get_host_entry"),
        ("IPEndPoint", "ip_end_point"),
        ("remoteEP", "remote_ep"),
        ("MapToIPv4", "map_to_ipv4"),
        ("SocketErrorCode", "socket_error_code"),
        ("IsIPv4MappedToIPv6", "is_ipv4_mapped_to_ipv6"),
        ("IOControl", "io_control"),
        ("None_", "none_"),
    ],
)
def test_pep8_rule(dotnet: str, pep8: str) -> None:
    assert pep8_name(dotnet) == pep8


def _public_classes() -> list[type]:
    out = []
    for name in dotnet_sockets.__all__:
        obj = getattr(dotnet_sockets, name)
        if inspect.isclass(obj) and not issubclass(obj, int):
            out.append(obj)
    return out


@pytest.mark.parametrize("cls", _public_classes(), ids=lambda c: c.__name__)
def test_every_dotnet_member_has_its_pep8_alias(cls: type) -> None:
    for klass in cls.__mro__:
        if klass.__module__.split(".")[0] != "dotnet_sockets":
            continue
        for name, value in vars(klass).items():
            if not name[:1].isupper():
                continue
            alias = pep8_name(name)
            if alias == name:
                continue
            assert alias in vars(klass), f"{klass.__name__}.{name} has no {alias}"
            assert vars(klass)[alias] is value, f"{klass.__name__}.{alias} is not {name}"


def test_contract_examples() -> None:
    from dotnet_sockets import IPAddress, Socket

    assert Socket.BeginSendTo is Socket.begin_send_to
    assert IPAddress.IPv6Any is IPAddress.ipv6_any
    assert IPAddress.Parse is IPAddress.parse


# -- the written-out spellings (tools/gen_names.py) --------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_names", ROOT / "tools" / "gen_names.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gen_names = _generator()


def test_written_out_spellings_are_current() -> None:
    stale = [str(p.relative_to(ROOT)) for p in gen_names.out_of_date()]
    assert not stale, f"PEP 8 spellings out of date in {stale}; run: {gen_names.COMMAND}"


def test_no_alias_is_made_at_run_time_only() -> None:
    """Every alias is in the source, where mypy, pyright and editors see it."""
    made = made_at_run_time()
    assert not made, f"aliases missing from the source: {made}; run: {gen_names.COMMAND}"


def test_generator_and_decorator_share_the_rule() -> None:
    assert gen_names.pep8_name is not pep8_name  # loaded by path, without importing the package...
    for name in ("BeginSendTo", "IPv6Any", "IOControl", "None_", "remoteEP", "MapToIPv4"):
        assert gen_names.pep8_name(name) == pep8_name(name)  # ...from the same source


SAMPLE = '''\
from ._names import dotnet_names


@dotnet_names
class Thing:
    """A thing."""

    Count: ClassVar[int]

    def BeginWork(self) -> None:
        pass

    @property
    def IsDone(self) -> bool:
        return True

    to_string = str


class Other:
    def Plain(self) -> None:
        pass


Thing.Count = 3
'''


def test_generator_writes_checks_and_is_idempotent(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    module = pkg / "thing.py"
    module.write_text(SAMPLE, encoding="utf-8")
    assert gen_names.out_of_date(pkg) == [module]
    assert gen_names.write(pkg) == [module]
    text = module.read_text(encoding="utf-8")
    block = text[text.index(gen_names.BEGIN) : text.index(gen_names.END)].splitlines()[1:-1]
    assert block == ["    count: ClassVar[int]", "    begin_work = BeginWork", "    is_done = IsDone"]
    assert "plain" not in text  # only decorated classes
    assert gen_names.out_of_date(pkg) == [] and gen_names.write(pkg) == []  # idempotent
    assert gen_names.render(text) == text

    # A member renamed: its stale alias goes, the new one comes, in one run.
    module.write_text(text.replace("def BeginWork", "def StartWork"), encoding="utf-8")
    assert gen_names.out_of_date(pkg) == [module]
    gen_names.write(pkg)
    text = module.read_text(encoding="utf-8")
    assert "begin_work" not in text and "    start_work = StartWork\n" in text
    assert text.count(gen_names.BEGIN) == 1


def test_generator_finds_every_way_of_applying_the_decorator() -> None:
    source = (
        "@_names.dotnet_names\nclass A:\n    def DoIt(self) -> None: ...\n\n\n"
        "class B:\n    Value: ClassVar[int]\n\n\nB.Value = 1\ndotnet_names(B)\n"
    )
    rendered = gen_names.render(source)
    assert "    do_it = DoIt\n" in rendered and "    value: ClassVar[int]\n" in rendered


def test_generator_never_writes_a_field(tmp_path: Path) -> None:
    """A second annotation in a NamedTuple or dataclass would be a second field: refused, said."""
    source = "@dotnet_names\nclass Pair(NamedTuple):\n    First: int\n    Last: ClassVar[int]\n"
    notes: list[str] = []
    rendered = gen_names.render(source, notes)
    assert "    last: ClassVar[int]\n" in rendered and "first" not in rendered
    assert notes == [
        "Pair.First is a field, so its alias first cannot be written out; "
        "make it a property (as SocketReceiveFromResult does)"
    ]
    assert gen_names.unwritable() == []


def test_generator_replaces_a_block_a_merge_left_in_conflict(tmp_path: Path) -> None:
    merged = gen_names.render(SAMPLE).replace(
        "    begin_work = BeginWork\n",
        "<<<<<<< HEAD\n    begin_work = BeginWork\n=======\n    start_work = StartWork\n>>>>>>> other\n",
    )
    assert gen_names.render(merged) == gen_names.render(SAMPLE)


def test_generator_moves_a_block_that_a_merge_left_mid_class() -> None:
    """Another branch added members at the end of the class, after the block: both sides kept."""
    current = gen_names.render(SAMPLE)
    end = current.index(gen_names.END) + len(gen_names.END) + 1
    merged = current[:end] + "\n    def EndWork(self) -> None:\n        pass\n" + current[end:]
    rendered = gen_names.render(merged)
    assert rendered.count(gen_names.BEGIN) == 1
    block = rendered[rendered.index(gen_names.BEGIN) :]
    assert "    end_work = EndWork\n" in block and "def EndWork" not in block
    assert rendered.index("def EndWork") < rendered.index(gen_names.BEGIN)


def test_decorator_still_aliases_a_class_not_yet_regenerated() -> None:
    import dotnet_sockets._names as names

    before = list(names._made)

    @dotnet_names
    class Fresh:
        def DoIt(self) -> int:
            return 1

    try:
        assert Fresh.do_it is Fresh.DoIt  # type: ignore[attr-defined]
        assert made_at_run_time()[len(before) :] == [f"{__name__}.{Fresh.__qualname__}.do_it"]
    finally:
        names._made[:] = before


def test_an_alias_bound_to_another_object_is_refused() -> None:
    with pytest.raises(TypeError, match="would hide"):

        @dotnet_names
        class Clash:
            def DoIt(self) -> int:
                return 1

            def do_it(self) -> int:
                return 2


def test_written_aliases_are_the_same_objects_properties_included() -> None:
    from dotnet_sockets import IPEndPoint, Socket, SocketAsyncEventArgs, SocketReceiveFromResult

    assert vars(Socket)["local_end_point"] is vars(Socket)["LocalEndPoint"]
    assert isinstance(vars(Socket)["blocking"], property) and vars(Socket)["blocking"] is vars(Socket)["Blocking"]
    assert vars(SocketAsyncEventArgs)["completed"] is vars(SocketAsyncEventArgs)["Completed"]
    assert IPEndPoint.max_port is IPEndPoint.MaxPort
    result = SocketReceiveFromResult(5, IPEndPoint.Parse("127.0.0.1:9"))
    n, ep = result
    assert (result.received_bytes, result.remote_end_point) == (n, ep) == (5, IPEndPoint.Parse("127.0.0.1:9"))


def _has_overloads(value: object) -> bool:
    func = inspect.unwrap(getattr(value, "__func__", value))  # type: ignore[arg-type]
    try:
        return bool(typing.get_overloads(func))
    except AttributeError:  # not a function: a property, a constant, a slot wrapper
        return False


def _overloaded_members() -> list[tuple[str, object]]:
    out = []
    for name in dotnet_sockets.__all__:
        cls = getattr(dotnet_sockets, name)
        if inspect.isclass(cls):
            for member in dir(cls):
                value = inspect.getattr_static(cls, member)
                if (member[:1].isupper() or member == "__init__") and _has_overloads(value):
                    out.append((f"{name}.{member}", value))
    return out


OVERLOADED = _overloaded_members()


def test_the_overloaded_members_are_found() -> None:
    names = {n for n, _ in OVERLOADED}
    assert {"Socket.Send", "Socket.ReceiveFrom", "Socket.__init__", "SocketAsyncEventArgs.SetBuffer"} <= names


@pytest.mark.parametrize(("name", "member"), OVERLOADED, ids=[n for n, _ in OVERLOADED])
def test_an_overloaded_member_says_what_it_raises(name: str, member: object) -> None:
    """help() shows the implementation's docstring only: it must name the forms' exceptions."""
    doc = (member.__doc__ if not name.endswith("__init__") else None) or ""
    if name.endswith("__init__"):
        doc = getattr(dotnet_sockets, name.split(".")[0]).__doc__ or ""
    assert "Exception" in doc and "raise" in doc.lower(), f"{name}: its docstring does not say what it raises"


def test_an_implementation_of_an_abstract_class_overrides_the_dotnet_names_only() -> None:
    """The written-out alias of an abstract member is not abstract: a port implements .NET's name."""
    from typing import Any

    from dotnet_sockets import IAsyncResult, WaitHandle

    class MyResult(IAsyncResult):
        @property
        def AsyncState(self) -> Any:
            return "state"

        @property
        def AsyncWaitHandle(self) -> WaitHandle:
            raise NotImplementedError

        @property
        def CompletedSynchronously(self) -> bool:
            return True

        @property
        def IsCompleted(self) -> bool:
            return True

    assert MyResult().AsyncState == "state"
    assert "async_state" in vars(IAsyncResult) and "AsyncState" in IAsyncResult.__abstractmethods__
    assert not IAsyncResult.__abstractmethods__ & {"async_state", "is_completed"}
