"""Builds the optional accelerator; everything else is in pyproject.toml.

Without a C compiler the build goes on without it (``optional=True``) and the
package runs its pure-Python path.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "dotnet_sockets._speedups",
            ["src/dotnet_sockets/_speedups.c"],
            optional=True,
            extra_compile_args=["-O2", "-Wall", "-Wno-missing-field-initializers"],
        )
    ]
)
