"""The one place where .NET spellings and PEP 8 spellings are tied together.

.NET code ported to Python calls ``sock.BeginSendTo``; Python code calls
``sock.begin_send_to``. Both must be the *same* object, so that patching,
``is`` comparisons and ``help()`` behave identically.  Classes opt in with
the :func:`dotnet_names` decorator, which gives every public member whose
name starts with a capital letter its PEP 8 alias.

The aliases are written out in each class's source, where mypy, pyright and
editors see them, by ``python tools/gen_names.py`` (from :func:`pep8_name`,
the one rule).  The decorator checks that each written alias is the same
object as its .NET name, and still makes the alias of a member added since
the last run, so the code works before regeneration; ``tests/test_names.py``
fails until then (:func:`made_at_run_time`).
"""

from __future__ import annotations

import re
from typing import TypeVar

__all__ = ["pep8_name", "dotnet_names", "made_at_run_time"]

_T = TypeVar("_T", bound=type)

# "Class.alias" for every alias the decorator had to make: each one is missing from the
# source, so static tools do not see it.
_made: list[str] = []

# "IPv4"/"IPv6" are acronyms with a lower-case letter inside; they must stay
# whole ("MapToIPv6" -> "map_to_ipv6"), so they are matched before the
# generic rules.  A run of capitals followed by a capitalised word is an
# acronym of its own ("IPEndPoint" -> "ip", "end", "point").
_TOKEN = re.compile(r"IPv\d|[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+\d*|[A-Z]+\d*|\d+")


def pep8_name(name: str) -> str:
    """Return the PEP 8 spelling of a .NET member name.

    >>> pep8_name("EndSendTo"), pep8_name("IPv6Any"), pep8_name("remoteEP")
    ('end_send_to', 'ipv6_any', 'remote_ep')
    """
    trailing = "_" if name.endswith("_") else ""
    core = name.rstrip("_")
    return "_".join(t.lower() for t in _TOKEN.findall(core)) + trailing


def dotnet_names(cls: _T) -> _T:
    """Class decorator: give every .NET-named member its PEP 8 alias.

    Only names defined on the class itself are aliased (inherited ones
    already got theirs on the base class).  An alias is never allowed to
    overwrite a different member, which would silently change behaviour.
    On an abstract class only the .NET name is abstract: an implementation
    overrides that one, as it would in .NET.
    """
    aliases = set()
    for name, value in list(vars(cls).items()):
        if not name[:1].isupper():
            continue
        alias = pep8_name(name)
        if alias == name:
            continue
        aliases.add(alias)
        existing = vars(cls).get(alias, None)
        if existing is value:
            continue
        if existing is not None:
            raise TypeError(f"{cls.__name__}.{alias} would hide a different member than {name}")
        if alias not in vars(cls).get("__annotations__", ()):
            # Only declared in the source (a constant assigned after the class) is written out too.
            _made.append(f"{cls.__module__}.{cls.__qualname__}.{alias}")
        setattr(cls, alias, value)
    abstract = getattr(cls, "__abstractmethods__", None)
    if abstract and not abstract.isdisjoint(aliases):
        cls.__abstractmethods__ = abstract - aliases  # type: ignore[attr-defined]
    return cls


def made_at_run_time() -> list[str]:
    """The aliases missing from the source (made by the decorator alone), as ``module.Class.alias``."""
    return list(_made)
