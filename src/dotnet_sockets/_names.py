"""The one place where .NET spellings and PEP 8 spellings are tied together.

.NET code ported to Python calls ``sock.BeginSendTo``; Python code calls
``sock.begin_send_to``. Both must be the *same* object, so that patching,
``is`` comparisons and ``help()`` behave identically.  Classes opt in with
the :func:`dotnet_names` decorator, which adds a PEP 8 alias for every
public member whose name starts with a capital letter.
"""

from __future__ import annotations

import re
from typing import TypeVar

__all__ = ["pep8_name", "dotnet_names"]

_T = TypeVar("_T", bound=type)

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
    """
    for name, value in list(vars(cls).items()):
        if not name[:1].isupper():
            continue
        alias = pep8_name(name)
        if alias == name:
            continue
        existing = vars(cls).get(alias, None)
        if existing is not None and existing is not value:
            raise TypeError(f"{cls.__name__}.{alias} would hide a different member than {name}")
        setattr(cls, alias, value)
    return cls
