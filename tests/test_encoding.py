"""Encoding gives .NET's results.

Every expected value here was printed by a C# probe run on .NET Core 3.1.23 (and, where they agree,
Mono 6.8) on this machine: ``Encoding.ASCII.GetString(new byte[]{0x41,0x80,0xFF,0x42})`` and so on.
"""

from __future__ import annotations

import pytest

from dotnet_sockets import ArgumentNullException, ArgumentOutOfRangeException, Encoding


def units(text: str) -> str:
    """The string as .NET's probe printed it: UTF-16 code units in hex."""
    raw = text.encode("utf-16-le", "surrogatepass")
    return " ".join(f"{int.from_bytes(raw[i:i + 2], 'little'):04X}" for i in range(0, len(raw), 2))


def test_ascii_never_raises_and_replaces_with_question_marks() -> None:
    assert Encoding.ASCII.GetString(bytes([0x41, 0x80, 0xFF, 0x42])) == "A??B"
    assert Encoding.ASCII.GetBytes("a\u00e9b") == b"a?b"
    # A character beyond U+FFFF is two UTF-16 units in .NET, so two '?'.
    assert Encoding.ASCII.GetBytes("a\U0001f600b") == b"a??b"
    assert Encoding.ASCII.GetByteCount("a\U0001f600b") == 4
    assert Encoding.ASCII.GetBytes("a\ud83db") == b"a?b"
    # What the porting guide's naive translation does instead:
    with pytest.raises(UnicodeDecodeError):
        bytes([0x41, 0x80]).decode("ascii")


def test_utf8_replaces_malformed_bytes_as_dotnet_core() -> None:
    data = bytes([0x61, 0xC3, 0x28, 0xE2, 0x82, 0x62, 0xF0, 0x9F, 0x98, 0xFF, 0xED, 0xA0, 0x80, 0xC0, 0xAF])
    assert units(Encoding.UTF8.GetString(data)) == "0061 FFFD 0028 FFFD 0062 " + " ".join(["FFFD"] * 7)
    assert units(Encoding.UTF8.GetString(b"\xef\xbb\xbfa")) == "FEFF 0061"  # the BOM is not stripped
    assert Encoding.UTF8.GetBytes("a\ud83d\ud83db\ude00") == bytes.fromhex("61efbfbdefbfbd62efbfbd")
    assert Encoding.UTF8.GetBytes("\U0001f600") == bytes.fromhex("f09f9880")
    assert Encoding.UTF8.GetByteCount("a\ud83d") == 4
    assert Encoding.UTF8.GetCharCount(bytes([0xF0, 0x9F, 0x98, 0x80, 0x80])) == 3
    assert Encoding.UTF8.GetPreamble() == bytes.fromhex("efbbbf")
    assert Encoding.Default is Encoding.UTF8 and Encoding.UTF8.WebName == "utf-8"


def test_utf16() -> None:
    assert Encoding.Unicode.GetBytes("a\ud83d") == bytes.fromhex("6100fdff")
    assert units(Encoding.Unicode.GetString(bytes([0x61, 0, 0x62]))) == "0061 FFFD"
    assert Encoding.Unicode.GetPreamble() == b"\xff\xfe"
    assert Encoding.BigEndianUnicode.GetBytes("a") == b"\x00a"


def test_sizes_and_names() -> None:
    assert (Encoding.UTF8.GetMaxByteCount(10), Encoding.ASCII.GetMaxByteCount(10)) == (33, 11)
    assert (Encoding.UTF8.GetMaxCharCount(10), Encoding.ASCII.GetMaxCharCount(10)) == (11, 10)
    assert (Encoding.Unicode.GetMaxByteCount(10), Encoding.Unicode.GetMaxCharCount(10)) == (22, 6)
    assert Encoding.Unicode.GetMaxCharCount(11) == 7
    assert (Encoding.ASCII.WebName, Encoding.UTF8.WebName, Encoding.ASCII.EncodingName) == (
        "us-ascii",
        "utf-8",
        "US-ASCII",
    )
    assert (Encoding.Unicode.WebName, Encoding.Unicode.EncodingName, Encoding.UTF8.EncodingName) == (
        "utf-16",
        "Unicode",
        "Unicode (UTF-8)",
    )
    pages = [e.CodePage for e in (Encoding.ASCII, Encoding.UTF8, Encoding.Unicode, Encoding.BigEndianUnicode)]
    assert pages == [20127, 65001, 1200, 1201]
    assert Encoding.BigEndianUnicode.WebName == "utf-16BE"
    assert Encoding.ASCII.GetPreamble() == b""


def test_ranges_and_buffers() -> None:
    assert Encoding.ASCII.GetBytes("hello", 1, 3) == b"ell"
    buf = bytearray(b"..hello..")
    assert Encoding.ASCII.GetString(buf, 2, 5) == "hello"
    assert Encoding.UTF8.GetString(memoryview(buf)[2:7]) == "hello"


@pytest.mark.parametrize(
    ("call", "exc", "param"),
    [
        (lambda: Encoding.ASCII.GetString(None), ArgumentNullException, "bytes"),
        (lambda: Encoding.ASCII.GetString(bytes(3), -1, 1), ArgumentOutOfRangeException, "byteIndex"),
        (lambda: Encoding.ASCII.GetString(bytes(3), 0, -1), ArgumentOutOfRangeException, "byteCount"),
        (lambda: Encoding.ASCII.GetString(bytes(3), 2, 2), ArgumentOutOfRangeException, "bytes"),
        (lambda: Encoding.ASCII.GetString(bytes(3), 4, 0), ArgumentOutOfRangeException, "bytes"),
        (lambda: Encoding.UTF8.GetString(bytes(3), 2, 2), ArgumentOutOfRangeException, "bytes"),
        (lambda: Encoding.ASCII.GetBytes(None), ArgumentNullException, "s"),
        (lambda: Encoding.ASCII.GetBytes(None, 0, 0), ArgumentNullException, "s"),
        (lambda: Encoding.ASCII.GetBytes("hello", 3, 3), ArgumentOutOfRangeException, "index"),
        (lambda: Encoding.ASCII.GetBytes("hello", -1, 1), ArgumentOutOfRangeException, "index"),
        (lambda: Encoding.ASCII.GetBytes("hello", 0, -1), ArgumentOutOfRangeException, "count"),
        (lambda: Encoding.UTF8.GetByteCount(None), ArgumentNullException, "chars"),
        (lambda: Encoding.ASCII.GetByteCount(None), ArgumentNullException, "chars"),
        (lambda: Encoding.UTF8.GetCharCount(None), ArgumentNullException, "bytes"),
        (lambda: Encoding.UTF8.GetMaxByteCount(-1), ArgumentOutOfRangeException, "charCount"),
        (lambda: Encoding.ASCII.GetMaxCharCount(-1), ArgumentOutOfRangeException, "byteCount"),
    ],
)
def test_bad_input_raises_what_dotnet_raises(call: object, exc: type[Exception], param: str) -> None:
    with pytest.raises(exc) as info:
        call()  # type: ignore[operator]
    assert info.value.ParamName == param  # type: ignore[attr-defined]


def test_messages_match_dotnet() -> None:
    with pytest.raises(ArgumentOutOfRangeException) as info:
        Encoding.ASCII.GetString(bytes(3), 2, 2)
    assert info.value.Message == "Index and count must refer to a location within the buffer. (Parameter 'bytes')"
    with pytest.raises(ArgumentNullException) as null:
        Encoding.ASCII.GetString(None)
    assert null.value.Message == "Array cannot be null. (Parameter 'bytes')"


def test_pep8_spellings_are_the_same_objects() -> None:
    assert Encoding.ascii is Encoding.ASCII and Encoding.utf8 is Encoding.UTF8
    assert Encoding.get_string is Encoding.GetString and Encoding.get_bytes is Encoding.GetBytes
