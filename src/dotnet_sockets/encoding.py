""".NET's ``System.Text.Encoding`` for the text that ported socket code turns into bytes and back.

``Encoding.ASCII.GetString(buffer, 0, n)`` in C# never raises: a byte above 0x7F becomes ``'?'``.
Python's ``bytes.decode("ascii")`` raises ``UnicodeDecodeError`` instead, and a ported receive
callback that dies on it never closes its connection.  These objects give .NET's results
(checked against .NET Core 3.1 and Mono 6.8 on this machine):

* ``ASCII``: a character outside ASCII becomes ``?`` (a character beyond U+FFFF, two UTF-16 units
  in .NET, becomes ``??``); a byte above 0x7F decodes to ``?``.
* ``UTF8`` (also ``Default``, as on .NET Core): malformed bytes decode to U+FFFD, one per maximal
  invalid subsequence; a lone surrogate encodes as EF BF BD.  No byte order mark is written or stripped.
* ``Unicode`` (UTF-16 little-endian) and ``BigEndianUnicode``: the same replacement rules.

Counts that .NET gives in UTF-16 code units (``GetCharCount``, ``GetMaxCharCount``) are .NET's;
a Python ``str`` counts a character beyond U+FFFF once where .NET counts two.
"""

from __future__ import annotations

import codecs
from typing import Any, ClassVar, overload

from ._names import dotnet_names
from .exceptions import ArgumentNullException, ArgumentOutOfRangeException

__all__ = ["Encoding"]

_NON_NEGATIVE = "Non-negative number required."
_IN_BUFFER = "Index and count must refer to a location within the buffer."
_IN_STRING = "Index and count must refer to a location within the string."


def _question_marks(exc: UnicodeError) -> tuple[str, int]:
    # .NET's replacement fallback writes one '?' per UTF-16 code unit it could not encode.
    if isinstance(exc, UnicodeEncodeError):
        bad = exc.object[exc.start : exc.end]
        return "".join("??" if ord(c) > 0xFFFF else "?" for c in bad), exc.end
    if isinstance(exc, UnicodeDecodeError):
        return "?" * (exc.end - exc.start), exc.end
    raise exc


def _replacement_chars(exc: UnicodeError) -> tuple[bytes, int]:
    # A lone surrogate in a str encodes as U+FFFD, one for each.  As bytes: CPython's UTF encoders
    # accept only ASCII text from an error handler.
    if isinstance(exc, UnicodeEncodeError):
        return "\ufffd".encode(exc.encoding) * (exc.end - exc.start), exc.end
    raise exc


codecs.register_error("dotnet_sockets.question", _question_marks)
codecs.register_error("dotnet_sockets.replacement", _replacement_chars)


def _utf16_length(text: str) -> int:
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


def _non_negative(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < 0:
        raise ArgumentOutOfRangeException(name, None, _NON_NEGATIVE)
    return value


@dotnet_names
class Encoding:
    """A character encoding with .NET's replacement rules (``Encoding.ASCII``, ``Encoding.UTF8``, ...).

    Use the shared instances; the constructor is not part of the .NET surface here.
    """

    ASCII: ClassVar[Encoding]
    UTF8: ClassVar[Encoding]
    Unicode: ClassVar[Encoding]
    BigEndianUnicode: ClassVar[Encoding]
    Default: ClassVar[Encoding]

    __slots__ = ("_codec", "_decode_errors", "_encode_errors", "_web", "_name", "_page", "_preamble", "_kind")

    def __init__(
        self, codec: str, errors: tuple[str, str], web: str, name: str, page: int, preamble: bytes, kind: str
    ) -> None:
        self._codec = codec
        self._decode_errors, self._encode_errors = errors
        self._web = web
        self._name = name
        self._page = page
        self._preamble = preamble
        self._kind = kind

    # -- text to bytes -------------------------------------------------------------------------

    @overload
    def GetBytes(self, s: str) -> bytes: ...
    @overload
    def GetBytes(self, s: str, index: int, count: int) -> bytes: ...

    def GetBytes(self, s: str, index: int | None = None, count: int | None = None) -> bytes:
        """The bytes of ``s`` (or of ``count`` characters from ``index``), replacing what cannot be encoded.

        Raises ``ArgumentNullException`` (``s``) for ``None``, and ``ArgumentOutOfRangeException``
        (``index``, ``count``) for a bad range.  ``index`` and ``count`` count Python characters.
        """
        if s is None:
            raise ArgumentNullException("s", "String reference not set to an instance of a String.")
        if index is None and count is None:
            return s.encode(self._codec, self._encode_errors)
        start = _non_negative(index, "index")
        n = _non_negative(count, "count")
        if start + n > len(s):
            raise ArgumentOutOfRangeException("index", None, _IN_STRING)
        return s[start : start + n].encode(self._codec, self._encode_errors)

    def GetByteCount(self, chars: str) -> int:
        """How many bytes ``GetBytes(chars)`` gives.  Raises ``ArgumentNullException`` (``chars``) for ``None``."""
        if chars is None:
            raise ArgumentNullException("chars")
        if self._kind == "ascii":
            return _utf16_length(chars)
        return len(chars.encode(self._codec, self._encode_errors))

    # -- bytes to text -------------------------------------------------------------------------

    @overload
    def GetString(self, bytes: Any) -> str: ...
    @overload
    def GetString(self, bytes: Any, index: int, count: int) -> str: ...

    def GetString(self, bytes: Any, index: int | None = None, count: int | None = None) -> str:
        """The text of a bytes-like object (or of ``count`` bytes from ``index``); never raises on bad bytes.

        Raises ``ArgumentNullException`` (``bytes``) for ``None`` and ``ArgumentOutOfRangeException``
        (``byteIndex``, ``byteCount``, ``bytes``) for a bad range, as .NET does.
        """
        if bytes is None:
            raise ArgumentNullException("bytes", "Array cannot be null.")
        view = memoryview(bytes).cast("B")
        if index is not None or count is not None:
            start = _non_negative(index, "byteIndex")
            n = _non_negative(count, "byteCount")
            if start + n > len(view):
                raise ArgumentOutOfRangeException("bytes", None, _IN_BUFFER)
            view = view[start : start + n]
        return codecs.decode(view, self._codec, self._decode_errors)

    def GetCharCount(self, bytes: Any) -> int:
        """How many UTF-16 code units .NET's ``GetString`` gives (a character beyond U+FFFF counts two)."""
        if bytes is None:
            raise ArgumentNullException("bytes", "Array cannot be null.")
        return _utf16_length(self.GetString(bytes))

    # -- sizes and names -----------------------------------------------------------------------

    def GetMaxByteCount(self, char_count: int) -> int:
        """The most bytes ``char_count`` UTF-16 code units can encode to (.NET's formula)."""
        n = _non_negative(char_count, "charCount")
        if self._kind == "ascii":
            return n + 1
        if self._kind == "utf8":
            return (n + 1) * 3
        return (n + 1) * 2

    def GetMaxCharCount(self, byte_count: int) -> int:
        """The most UTF-16 code units ``byte_count`` bytes can decode to (.NET's formula)."""
        n = _non_negative(byte_count, "byteCount")
        if self._kind == "ascii":
            return n
        if self._kind == "utf8":
            return n + 1
        return n // 2 + n % 2 + 1

    def GetPreamble(self) -> bytes:
        """The byte order mark .NET writes first to a file in this encoding (empty for ASCII)."""
        return self._preamble

    @property
    def WebName(self) -> str:
        """The IANA name: ``us-ascii``, ``utf-8``, ``utf-16``, ``utf-16BE``."""
        return self._web

    @property
    def EncodingName(self) -> str:
        """The human-readable name: ``US-ASCII``, ``Unicode (UTF-8)``, ``Unicode``."""
        return self._name

    @property
    def CodePage(self) -> int:
        """The Windows code page number: 20127, 65001, 1200, 1201."""
        return self._page

    @property
    def BodyName(self) -> str:
        """The name for mail bodies; the ``WebName`` here."""
        return self._web

    def __repr__(self) -> str:
        return f"<Encoding {self._web}>"

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    ascii: ClassVar[Encoding]
    utf8: ClassVar[Encoding]
    unicode: ClassVar[Encoding]
    big_endian_unicode: ClassVar[Encoding]
    default: ClassVar[Encoding]
    get_bytes = GetBytes
    get_byte_count = GetByteCount
    get_string = GetString
    get_char_count = GetCharCount
    get_max_byte_count = GetMaxByteCount
    get_max_char_count = GetMaxCharCount
    get_preamble = GetPreamble
    web_name = WebName
    encoding_name = EncodingName
    code_page = CodePage
    body_name = BodyName
    # -- end of PEP 8 spellings --


Encoding.ASCII = Encoding.ascii = Encoding(
    "ascii", ("dotnet_sockets.question", "dotnet_sockets.question"), "us-ascii", "US-ASCII", 20127, b"", "ascii"
)
Encoding.UTF8 = Encoding.utf8 = Encoding(
    "utf-8", ("replace", "dotnet_sockets.replacement"), "utf-8", "Unicode (UTF-8)", 65001, codecs.BOM_UTF8, "utf8"
)
Encoding.Unicode = Encoding.unicode = Encoding(
    "utf-16-le", ("replace", "dotnet_sockets.replacement"), "utf-16", "Unicode", 1200, codecs.BOM_UTF16_LE, "utf16"
)
Encoding.BigEndianUnicode = Encoding.big_endian_unicode = Encoding(
    "utf-16-be",
    ("replace", "dotnet_sockets.replacement"),
    "utf-16BE",
    "Unicode (Big-Endian)",
    1201,
    codecs.BOM_UTF16_BE,
    "utf16",
)
# .NET Core and later: Encoding.Default is UTF-8 on every platform.
Encoding.Default = Encoding.default = Encoding.UTF8
