"""Build script: compiles the C twins of the wire layer when it can.

The extension is optional.  Without a compiler (or with
``WIRESPEED_NO_EXTENSIONS=1``) the package installs with its pure-Python
twins and says so in the build output.  Under ``CI=true`` or
``CIBUILDWHEEL=1`` a failed compile is an error: CI must test the C twin.

Release builds (the default, and every wheel) are optimised (-O2) and carry no
debug information: -g0 overrides the -g in Python's own CFLAGS, and on Linux
the linker strips the symbol table (-s; PyInit_*, which Python looks up, is in
the dynamic symbol table and stays).  ``WIRESPEED_DEBUG=1`` (``make debug``) compiles -O0 -g3 instead and
strips nothing.
"""

import os
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

NO_EXTENSIONS = os.environ.get("WIRESPEED_NO_EXTENSIONS", "") not in ("", "0")
MUST_BUILD = os.environ.get("CI", "").lower() == "true" or os.environ.get("CIBUILDWHEEL") == "1"
# `make debug`: no optimisation, debug symbols, and Cython's bounds and
# wraparound checks on by default (a function that turns them off keeps its
# own decorator), for gdb/valgrind sessions.
DEBUG = os.environ.get("WIRESPEED_DEBUG", "") not in ("", "0")

# Each C twin: (module name, source).  Sources that do not exist yet are skipped.
MODULES = [
    ("wirespeed.wire._writer_c", "src/_fastwriter.pyx"),
    ("wirespeed.wire._parser_c", "src/_parser.pyx"),
    ("wirespeed.wire._receive_c", "src/_receive.pyx"),
    # the client's hot path above the wire layer: its C twins live in src/client/
    # (the pool is a unit of the connection module: src/client/_pool.pxi)
    ("wirespeed.client._connection_c", "src/client/_connection.pyx"),
    ("wirespeed.client._context_c", "src/client/_context.pyx"),
]


def say(msg):
    print(f"wirespeed build: {msg}", file=sys.stderr, flush=True)


class OptionalBuildExt(build_ext):
    """build_ext that falls back to the Python twins unless the build must succeed."""

    def run(self):
        try:
            super().run()
        except Exception as exc:  # compiler missing, Cython missing, ...
            self._fallback(exc)

    def build_extension(self, ext):
        ext.extra_compile_args, ext.extra_link_args = flags(self.compiler.compiler_type)
        try:
            super().build_extension(ext)
        except Exception as exc:
            self._fallback(exc, ext.name)

    def _fallback(self, exc, name="extensions"):
        if MUST_BUILD:
            say(f"building {name} failed and CI requires the C twin: {exc}")
            raise
        say(f"building {name} failed ({exc}); installing the pure-Python twin")


def flags(compiler_type):
    """(compile args, link args) for this compiler: release or debug (WIRESPEED_DEBUG)."""
    if compiler_type == "msvc":
        # MSVC's release defaults are /O2 without debug information; a debug build adds it.
        return (["/Od", "/Zi", "/UNDEBUG"], ["/DEBUG"]) if DEBUG else ([], [])
    if DEBUG:
        return ["-O0", "-g3", "-UNDEBUG"], []
    # -s: GNU and LLVM ld strip the symbol table at link time.  On macOS -g0 is
    # enough: Apple's ld never copies DWARF into the binary.
    return ["-O2", "-g0"], (["-s"] if sys.platform.startswith("linux") else [])


def extensions():
    if NO_EXTENSIONS:
        say("WIRESPEED_NO_EXTENSIONS is set: installing the pure-Python twins only")
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        if MUST_BUILD:
            raise
        say("Cython is not available: installing the pure-Python twins only")
        return []
    directives = {"language_level": "3", "freethreading_compatible": True}
    if DEBUG:
        directives.update(boundscheck=True, wraparound=True, initializedcheck=True)
    exts = [
        Extension(name, [src])  # flags per compiler: OptionalBuildExt.build_extension
        for name, src in MODULES
        if os.path.exists(src)
    ]
    say(("compiling C twins (debug): " if DEBUG else "compiling C twins: ") + ", ".join(e.name for e in exts))
    return cythonize(
        exts,
        compiler_directives=directives,
        quiet=True,
    )


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
