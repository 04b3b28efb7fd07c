"""Builds the optional accelerator; everything else is in pyproject.toml.

Without a C compiler the build goes on without it (``optional=True``) and the
package runs its pure-Python path.
"""

from pathlib import Path

from setuptools import Extension, setup

# _speedups.c #includes its parts; naming them makes a change to one rebuild the module.
PARTS = sorted(str(p) for p in Path("src/dotnet_sockets/_speedups_c").glob("*.c"))

setup(
    ext_modules=[
        Extension(
            "dotnet_sockets._speedups",
            ["src/dotnet_sockets/_speedups.c"],
            depends=PARTS,
            optional=True,
            extra_compile_args=["-O2", "-Wall", "-Wno-missing-field-initializers"],
        )
    ]
)
