"""Sphinx configuration: the API reference is built from the docstrings by autodoc.

Built by the test suite (``tests/test_docs.py``) with ``-W``, so every warning fails the build.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
# The package is imported from the source tree, so the reference always matches the code being tested.
sys.path.insert(0, str(_HERE.parent / "src"))
sys.path.insert(0, str(_HERE / "_ext"))

project = "dotnet-sockets"
author = "dotnet-sockets developers"
copyright = "dotnet-sockets developers"

extensions = [
    "sphinx.ext.autodoc",
    "myst_parser",
    "dotnet_api",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_ext"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
# Shown by name: on Python 3.11 BytesLike is Any at run time (see dotnet_sockets/_types.py).
autodoc_type_aliases = {"BytesLike": "BytesLike", "BufferList": "BufferList"}

html_theme = "alabaster"
html_title = "dotnet-sockets"
