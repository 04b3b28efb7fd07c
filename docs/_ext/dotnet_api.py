"""Sphinx extension: the API reference of ``dotnet_sockets`` under both spellings.

Every .NET member of the library is one object reachable under two names
(``Socket.BeginSendTo is Socket.begin_send_to``).  autodoc would document it twice;
this extension documents it once, under its .NET name, and shows the PEP 8 name
next to it (a ``PEP 8`` field plus an index entry, so both spellings are found in
the index and the search).  Two directives build the pages from the package itself,
so a public name added to ``dotnet_sockets.__all__`` can never be left out:

``.. dotnet-reference::``
    an ``autoclass``/``autoexception``/``autofunction``/``autodata`` entry for every
    name in ``dotnet_sockets.__all__``, grouped by topic (unknown names land in
    "Other");
``.. dotnet-names::``
    one table per class: every public member, .NET spelling beside PEP 8 spelling.
"""

from __future__ import annotations

import enum
import inspect
import typing
from collections.abc import Iterator
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.pycode import ModuleAnalyzer, PycodeError
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

import dotnet_sockets
from dotnet_sockets._names import pep8_name

PACKAGE = "dotnet_sockets"

# Topic of each public name; anything not listed goes to "Other", so nothing is ever dropped.
GROUPS: list[tuple[str, list[str]]] = [
    ("Socket", ["Socket", "set_inline_completions", "ACCELERATED", "version_string"]),
    (
        "Clients and streams",
        ["TcpClient", "TcpListener", "UdpClient", "UdpReceiveResult", "NetworkStream", "FileAccess", "SeekOrigin"],
    ),
    (
        "Asynchronous operations",
        [
            "IAsyncResult",
            "AsyncCallback",
            "SocketAsyncEventArgs",
            "SocketTaskExtensions",
            "TaskFactory",
            "from_async",
            "WaitHandle",
            "EventWaitHandle",
            "ManualResetEvent",
            "AutoResetEvent",
            "Semaphore",
            "SemaphoreSlim",
            "ExecutionContext",
            "AsyncFlowControl",
        ],
    ),
    (
        "Addresses and endpoints",
        ["EndPoint", "IPAddress", "IPEndPoint", "DnsEndPoint", "UnixDomainSocketEndPoint", "SocketAddress"],
    ),
    (
        "Name resolution",
        [
            "Dns",
            "IPHostEntry",
            "DnsResolver",
            "DnsResolverOptions",
            "DnsResult",
            "DnsResponseCode",
            "AddressRecord",
            "SrvRecord",
            "MxRecord",
            "TxtRecord",
            "CNameRecord",
            "PtrRecord",
            "NsRecord",
            "TimeoutException",
            "InvalidDataException",
        ],
    ),
    (
        "Results and socket options",
        [
            "SocketReceiveFromResult",
            "SocketReceiveMessageFromResult",
            "IPPacketInformation",
            "SendPacketsElement",
            "SafeSocketHandle",
            "SocketInformation",
            "LingerOption",
            "MulticastOption",
            "IPv6MulticastOption",
        ],
    ),
    (
        "Enumerations",
        [
            "AddressFamily",
            "SocketType",
            "ProtocolType",
            "SocketFlags",
            "SocketError",
            "SocketOptionLevel",
            "SocketOptionName",
            "SocketShutdown",
            "SelectMode",
            "SocketAsyncOperation",
            "ProtocolFamily",
            "IOControlCode",
            "IPProtectionLevel",
            "TransmitFileOptions",
            "SocketInformationOptions",
            "ConnectAlgorithm",
        ],
    ),
    (
        "Exceptions",
        [
            "SocketException",
            "ArgumentException",
            "ArgumentNullException",
            "ArgumentOutOfRangeException",
            "InvalidOperationException",
            "ObjectDisposedException",
            "NotSupportedException",
            "PlatformNotSupportedException",
            "NotImplementedException",
            "FormatException",
            "SecurityException",
        ],
    ),
]

# What autodoc cannot find for names that are not classes or functions (their docstring lives
# in another module than the one they are documented under).
NOTES = {
    "AsyncCallback": "Any callable taking one :py:class:`IAsyncResult`; its return value is ignored. "
    "A plain function, a lambda or a bound method will do.",
}


def public_names() -> list[str]:
    return sorted(dotnet_sockets.__all__)


def public_classes() -> list[type]:
    return [obj for name in public_names() if isinstance(obj := getattr(dotnet_sockets, name), type)]


def documented_on(cls: type, klass: type) -> type | None:
    """Where a member that ``cls`` gets from ``klass`` is documented: ``None`` for Python's own classes.

    On ``klass`` itself when it is a public class; otherwise (a private base such as the exceptions'
    ``_DotNetException``, or ``Socket``'s mixin of ``...Async`` methods) on each public class that
    inherits it, since users never see the base.
    """
    if not klass.__module__.startswith(PACKAGE):
        return None
    if klass is cls or klass.__name__ in dotnet_sockets.__all__:
        return klass
    return cls


def dotnet_members(cls: type) -> Iterator[tuple[str, str, str]]:
    """``(.NET name, PEP 8 name, class it is documented on)`` for every aliased member of ``cls``.

    Enum members keep their .NET spelling only and have no alias, so they are not listed.
    """
    seen: set[str] = set()
    for klass in cls.__mro__:
        home = documented_on(cls, klass)
        if home is None:
            continue
        for name, value in vars(klass).items():
            if name in seen or not name[:1].isupper() or isinstance(value, enum.Enum):
                continue
            alias = pep8_name(name)
            if alias != name and inspect.getattr_static(cls, alias, None) is value:
                seen.add(name)
                yield name, alias, home.__name__


def _not_inherited_from(cls: type) -> str:
    """autodoc's ``:inherited-members:`` value: the bases whose members ``cls`` must not repeat.

    Python's classes (their members are not .NET's) and the public bases (documented on their
    own); what comes from a private base is listed on ``cls``.
    """
    return ", ".join(sorted({k.__name__ for k in cls.__mro__[1:] if documented_on(cls, k) is not cls}))


def _alias_keys() -> set[tuple[str, int]]:
    """``(alias, id(value))`` of every PEP 8 alias in the package, to recognise them in autodoc's hooks."""
    keys: set[tuple[str, int]] = set()
    for cls in public_classes():
        for klass in cls.__mro__:
            if not klass.__module__.startswith(PACKAGE):
                continue
            for name, value in vars(klass).items():
                alias = pep8_name(name) if name[:1].isupper() else name
                if alias != name and vars(klass).get(alias) is value:
                    keys.add((alias, id(_unwrap(value))))
    return keys


def _unwrap(value: Any) -> Any:
    # autodoc hands the hooks the attribute as the class returns it, so a staticmethod is its function.
    if isinstance(value, staticmethod | classmethod):
        return value.__func__
    return value


def _entry(name: str) -> list[str]:
    obj = getattr(dotnet_sockets, name)
    target = f"{PACKAGE}.{name}"
    if isinstance(obj, type):
        directive = "autoexception" if issubclass(obj, BaseException) else "autoclass"
        return [
            f".. {directive}:: {target}",
            "   :members:",
            "   :undoc-members:",
            "   :show-inheritance:",
            f"   :inherited-members: {_not_inherited_from(obj)}",
        ]
    if callable(obj) and inspect.isfunction(obj):
        return [f".. autofunction:: {target}"]
    lines = [f".. autodata:: {target}", "   :no-value:"]
    if name in NOTES:
        lines += ["", f"   {NOTES[name]}"]
    return lines


class DotnetReference(SphinxDirective):
    """Emit the autodoc entries for every public name, grouped by topic."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        names = set(public_names())
        lines: list[str] = []
        groups = [(title, [n for n in members if n in names]) for title, members in GROUPS]
        groups.append(("Other", sorted(names - {n for _, members in GROUPS for n in members})))
        for title, members in groups:
            if not members:
                continue
            lines += [title, "-" * len(title), ""]
            for name in members:
                lines += _entry(name) + [""]
        content = StringList(lines, source="<dotnet-reference>")
        section = nodes.section()
        section.document = self.state.document
        nested_parse_with_titles(self.state, content, section)
        return list(section.children)


class DotnetNames(SphinxDirective):
    """One table per public class: each member's .NET spelling beside its PEP 8 spelling."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        lines: list[str] = []
        for cls in public_classes():
            rows = sorted(dotnet_members(cls))
            if not rows:
                continue
            title = cls.__name__
            lines += [title, "-" * len(title), "", ".. list-table::", "   :header-rows: 1", ""]
            lines += ["   * - .NET", "     - PEP 8", "     - inherited from"]
            for dotnet, alias, home in rows:
                lines += [
                    f"   * - :py:obj:`~{PACKAGE}.{home}.{dotnet}`",
                    f"     - ``{alias}``",
                    f"     - {home if home != cls.__name__ else ''}",
                ]
            lines.append("")
        content = StringList(lines, source="<dotnet-names>")
        section = nodes.section()
        section.document = self.state.document
        nested_parse_with_titles(self.state, content, section)
        return list(section.children)


_ALIAS_KEYS: set[tuple[str, int]] = set()


def _skip_alias(app: Sphinx, what: str, name: str, obj: Any, skip: bool, options: Any) -> bool | None:
    # Documented once, under the .NET name, which shows this spelling beside it.
    if (name, id(_unwrap(obj))) in _ALIAS_KEYS:
        return True
    return None


def _owner_of(fullname: str) -> tuple[type, str] | None:
    parts = fullname.split(".")
    if len(parts) < 3 or parts[0] != PACKAGE:
        return None
    cls = getattr(dotnet_sockets, parts[1], None)
    if not isinstance(cls, type):
        return None
    return cls, parts[-1]


def _pep8_beside(app: Sphinx, domain: str, objtype: str, contentnode: addnodes.desc_content) -> None:
    """Put the PEP 8 spelling at the top of each .NET member's entry, and into the index.

    Done on the rendered entry rather than on the docstring, so members without a docstring
    (constants such as ``IPAddress.Any``) get it too.
    """
    if domain != "py":
        return
    sig = next((n for n in contentnode.parent.children if isinstance(n, addnodes.desc_signature)), None)
    if sig is None or sig.get("module") != PACKAGE or not sig.get("ids"):
        return
    owner = _owner_of(f"{PACKAGE}.{sig.get('fullname', '')}")
    if owner is None:
        return
    cls, member = owner
    value = inspect.getattr_static(cls, member, None)
    if not member[:1].isupper() or isinstance(value, enum.Enum):
        return
    alias = pep8_name(member)
    if alias == member or inspect.getattr_static(cls, alias, None) is not value:
        return
    field = nodes.field(
        "",
        nodes.field_name("", "PEP 8"),
        nodes.field_body("", nodes.paragraph("", "", nodes.literal(alias, alias))),
    )
    index = addnodes.index(
        entries=[("single", f"{alias} ({cls.__name__} {objtype}, PEP 8 spelling of {member})", sig["ids"][0], "", None)]
    )
    contentnode.insert(0, nodes.field_list("", field))
    contentnode.insert(0, index)


def _public_bases(app: Sphinx, name: str, obj: Any, options: Any, bases: list[type]) -> None:
    # A private base (the exceptions' shared ``_DotNetException``) is no name a user can use.
    bases[:] = [b for b in bases if not b.__name__.startswith("_")]


def _init_aliases(app: Sphinx) -> None:
    _ALIAS_KEYS.clear()
    _ALIAS_KEYS.update(_alias_keys())


def _inherited_overloads(app: Sphinx) -> None:
    """Let autodoc find the ``@overload`` signatures of members documented under a subclass.

    autodoc looks a method's overloads up by the name it documents (``Socket.Send``) in the module
    that defines it, where the parser recorded them under the defining class (``SocketTransfer.Send``);
    ``Socket`` gets most of its members from mixins, so the names are added here.
    """
    for public in dotnet_sockets.__all__:
        cls = getattr(dotnet_sockets, public)
        if not isinstance(cls, type):
            continue
        for name in dir(cls):
            func = inspect.unwrap(inspect.getattr_static(cls, name, None))
            qualname = getattr(func, "__qualname__", None)
            if not name[:1].isupper() or not isinstance(qualname, str) or not hasattr(func, "__module__"):
                continue
            if qualname.split(".")[0] == cls.__name__ or not typing.get_overloads(func):
                continue
            try:
                analyzer = ModuleAnalyzer.for_module(func.__module__)
                analyzer.analyze()
            except PycodeError:
                continue
            if qualname in analyzer.overloads:
                analyzer.overloads[f"{cls.__name__}.{name}"] = analyzer.overloads[qualname]


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("dotnet-reference", DotnetReference)
    app.add_directive("dotnet-names", DotnetNames)
    app.connect("builder-inited", _init_aliases)
    app.connect("autodoc-skip-member", _skip_alias)
    app.connect("object-description-transform", _pep8_beside)
    app.connect("autodoc-process-bases", _public_bases)
    app.connect("builder-inited", _inherited_overloads)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
