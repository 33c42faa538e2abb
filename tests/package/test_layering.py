"""Layers only call downward, and HTTP syntax stays in the wire layer.

The layers, bottom up: ``wirespeed.errors`` (shared by all), ``wirespeed.wire``
(the writer and parser twins, their switch and what they share),
``wirespeed.decoding``, ``wirespeed.client``, then ``wirespeed.middlewares``.
Checked on the sources:

- ``wirespeed.wire`` imports nothing of wirespeed but itself and
  ``wirespeed.errors``: not the client, not decoding, not the top-level package
  (which re-exports the client), not ``wirespeed.testing``.  Its ``.py``
  modules are read with ``ast``; the Cython sources (``.pyx``, ``.pxi``,
  ``.pxd``) by their import lines;
- the later layers (``wirespeed/decoding.py``, every module under
  ``wirespeed/client/`` and ``wirespeed/middlewares/``) reach the layers below
  through public names only (``wirespeed.wire``, never ``wirespeed.wire._x``),
  never a layer above their own, the top-level package or ``wirespeed.testing``;
- the client and the middlewares hold no ``HTTP/1.`` and no CRLF literal
  (bytes, or str outside docstrings): writing and parsing HTTP/1.1 is the wire
  layer's.  The one exemption is named below with its reason.

While a later layer does not exist its checks pass vacuously;
each checker is also run on made-up violations, so a check that stopped seeing
anything would fail.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "python" / "wirespeed"
SRC = PACKAGE.parents[1] / "src"

#: What the wire layer may import of wirespeed, besides itself.
WIRE_MAY_IMPORT = {"wirespeed.errors"}
#: The layers, bottom up.  A later layer may reach those below it by public names
#: only, and itself; never one above it.
LAYERS = [
    "wirespeed.errors", "wirespeed.wire", "wirespeed.decoding", "wirespeed.client", "wirespeed.middlewares",
    "wirespeed.cli",
]
LATER = LAYERS[2:]
#: Later layers in which HTTP/1.1 syntax has no place.
NO_HTTP_SYNTAX = ["client", "middlewares", "cli"]
#: (file under wirespeed/, class) -> why a CRLF literal there is not HTTP/1.1 syntax.
CRLF_EXEMPT = {
    ("client/_body.py", "FormData"): "multipart/form-data (RFC 7578 §4.1): delimiters inside a body, "
    "a MIME format the wire layer does not know",
}
HTTP_SYNTAX = ("HTTP/1.", "\r\n")


@dataclass(frozen=True)
class Import:
    line: int
    module: str  # absolute dotted name
    names: tuple[str, ...] = ()  # for ``from module import names``


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def python_imports(source: str, module: str, is_package: bool = False) -> list[Import]:
    """Every import in ``source`` (at any depth: TYPE_CHECKING blocks and functions too), made absolute."""
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [Import(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.append(Import(node.lineno, base, tuple(alias.name for alias in node.names)))
    return found


CYTHON_IMPORT = re.compile(r"^\s*(?:from\s+([\w.]+)\s+c?import\s+\(?([\w\s,]*)|c?import\s+([\w.]+))", re.M)


def cython_imports(source: str) -> list[Import]:
    """Import lines of a Cython source (all absolute there)."""
    found = []
    for match in CYTHON_IMPORT.finditer(source):
        line = source.count("\n", 0, match.start()) + 1
        if match.group(3):
            found.append(Import(line, match.group(3)))
        else:
            names = tuple(n.split()[0] for n in match.group(2).split(",") if n.strip())
            found.append(Import(line, match.group(1), names))
    return found


def targets(imp: Import) -> set[str]:
    """The wirespeed modules (or top-level names, as ``wirespeed``) an import reaches."""
    if not (imp.module == "wirespeed" or imp.module.startswith("wirespeed.")):
        return set()
    if imp.module == "wirespeed" and imp.names:  # from wirespeed import errors / ClientSession
        return {f"wirespeed.{n}" if is_module(f"wirespeed.{n}") else "wirespeed" for n in imp.names}
    return {imp.module}


def is_module(dotted: str) -> bool:
    path = PACKAGE.parent.joinpath(*dotted.split("."))
    return path.is_dir() or path.with_suffix(".py").exists()


def within(module: str, layer: str) -> bool:
    return module == layer or module.startswith(layer + ".")


# -- the checkers ------------------------------------------------------------------------


def wire_violations(imports: list[Import]) -> list[str]:
    bad = []
    for imp in imports:
        for target in targets(imp):
            if not (within(target, "wirespeed.wire") or target in WIRE_MAY_IMPORT):
                bad.append(f"line {imp.line}: imports {target}")
    return bad


def layers_below(layer: str) -> set[str]:
    below = set(LAYERS[: LAYERS.index(layer)])
    if layer == LAYERS[-1]:
        below.add("wirespeed")   # the top layer (the command line) uses the package's public surface
    return below


def import_violations(imports: list[Import], layer: str) -> list[str]:
    """Imports of ``layer`` that reach a layer above, or one below by a private name."""
    below = layers_below(layer)
    above = LAYERS[LAYERS.index(layer) + 1:]
    bad = []
    for imp in imports:
        for target in targets(imp):
            if within(target, layer):
                continue
            if any(within(target, a) for a in above):
                bad.append(f"line {imp.line}: imports {target}, a layer above")
            elif target not in below:
                bad.append(f"line {imp.line}: imports {target} (only {sorted(below)} by public names)")
            else:
                private = [n for n in imp.names if n.startswith("_")]
                if private:
                    bad.append(f"line {imp.line}: imports private {private} of {target}")
    return bad


def later_layer_violations(source: str, module: str, layer: str, is_package: bool = False) -> list[str]:
    below = layers_below(layer)
    bad = import_violations(python_imports(source, module, is_package), layer)
    lower_aliases = set()  # local names bound to a lower layer's module: their _attributes are private
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in below:
                    lower_aliases.add(alias.asname or alias.name)
        elif isinstance(node, ast.ImportFrom):
            (imp,) = python_imports(ast.unparse(node), module, is_package)
            for alias in node.names:
                if f"{imp.module}.{alias.name}" in below:
                    lower_aliases.add(alias.asname or alias.name)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            dotted = ast.unparse(node.value)
            if dotted in lower_aliases:
                bad.append(f"line {node.lineno}: {dotted}.{node.attr} is private")
    return bad


def http_literal_violations(source: str, exempt_classes: frozenset[str] = frozenset()) -> list[str]:
    tree = ast.parse(source)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)
    }
    exempt = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef) and node.name in exempt_classes
        for inner in ast.walk(node)
    }
    bad = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or id(node) in docstrings or id(node) in exempt:
            continue
        value = node.value
        text = value.decode("latin-1") if isinstance(value, bytes) else value if isinstance(value, str) else ""
        for syntax in HTTP_SYNTAX:
            if syntax in text:
                bad.append(f"line {node.lineno}: {value!r} holds {syntax!r}")
    return bad


# -- the tree ----------------------------------------------------------------------------


def wire_sources() -> list[Path]:
    return sorted(
        [*(PACKAGE / "wire").rglob("*.py"), *(PACKAGE / "wire").rglob("*.pyi"),
         *SRC.glob("*.pyx"), *SRC.glob("*.pxi"), *SRC.glob("*.pxd")]
    )


def _layer_files(name: str) -> list[Path]:
    """The files of a layer: a package's modules, or one module file (``cli.py``)."""
    single = PACKAGE / f"{name}.py"
    return [single] if single.exists() else list((PACKAGE / name).rglob("*.py"))


def later_modules() -> list[Path]:
    """decoding.py and every module of the later layers (none while a layer does not exist)."""
    return sorted([PACKAGE / "decoding.py", *(p for name in NO_HTTP_SYNTAX for p in _layer_files(name))])


def layer_of(path: Path) -> str:
    return "wirespeed." + path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def client_modules() -> list[Path]:
    return sorted(p for name in NO_HTTP_SYNTAX for p in _layer_files(name))


def client_cython_sources() -> list[Path]:
    """The client's C twins: src/client/ (src/ itself is the wire layer's)."""
    return sorted([*(SRC / "client").glob("*.pyx"), *(SRC / "client").glob("*.pxi")])


def test_the_tree_has_what_the_checks_read() -> None:
    names = {p.name for p in wire_sources()}
    assert {"__init__.py", "_writer_py.py", "_parser_py.py", "_fastwriter.pyx", "_parser.pyx"} <= names
    assert {"_connection.pyx", "_pool.pxi", "_context.pyx"} <= {p.name for p in client_cython_sources()}


def cython_layer_violations(source: str, layer: str) -> list[str]:
    """A Cython module of ``layer``: the layers below by public names, itself, nothing above."""
    return import_violations(cython_imports(source), layer)


@pytest.mark.parametrize("path", client_cython_sources(), ids=lambda p: p.name)
def test_the_clients_c_twins_import_only_downward(path: Path) -> None:
    assert cython_layer_violations(path.read_text(encoding="utf-8"), "wirespeed.client") == []


@pytest.mark.parametrize(("source", "layer"), [
    ("from wirespeed.middlewares import RetryMiddleware\n", "wirespeed.client"),
    ("from wirespeed.wire._flow import FlowControl\n", "wirespeed.client"),
    ("import wirespeed.cli\n", "wirespeed.client"),
])
def test_the_cython_layer_check_sees_a_bad_import(source: str, layer: str) -> None:
    assert cython_layer_violations(source, layer)


def test_the_cython_layer_check_allows_public_names_below_and_itself() -> None:
    source = ("from wirespeed.errors import ClientPayloadError\nfrom wirespeed.wire import FlowControl\n"
              "from wirespeed.client._pool import PoolStats\n")
    assert cython_layer_violations(source, "wirespeed.client") == []


@pytest.mark.parametrize("path", wire_sources(), ids=lambda p: p.name)
def test_the_wire_layer_imports_nothing_above_it(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    if path.suffix in (".py", ".pyi"):
        imports = python_imports(source, module_name(path), path.stem == "__init__")
    else:
        imports = cython_imports(source)
    assert wire_violations(imports) == []


def test_later_layers_use_public_names_of_the_layers_below() -> None:
    """One test over every module of the later layers, so it passes while one is absent."""
    found = {}
    for path in later_modules():
        source = path.read_text(encoding="utf-8")
        bad = later_layer_violations(source, module_name(path), layer_of(path), path.stem == "__init__")
        if bad:
            found[path.relative_to(PACKAGE).as_posix()] = bad
    assert found == {}


def test_the_client_holds_no_http_syntax() -> None:
    """One test over every module of the client and the middlewares, so it passes (not
    skips) while there is none."""
    found = {}
    for path in client_modules():
        rel = path.relative_to(PACKAGE).as_posix()
        exempt = frozenset(cls for (file, cls) in CRLF_EXEMPT if file == rel)
        bad = http_literal_violations(path.read_text(encoding="utf-8"), exempt)
        if bad:
            found[rel] = bad
    assert found == {}


def test_every_exemption_names_a_class_that_still_needs_it() -> None:
    for (file, cls), why in CRLF_EXEMPT.items():
        path = PACKAGE / file
        if not path.exists():
            continue  # the client (or the file) is not there yet
        source = path.read_text(encoding="utf-8")
        assert http_literal_violations(source) != http_literal_violations(source, frozenset({cls})), (file, cls, why)


# -- the checkers see violations -----------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "module", "cython"),
    [
        ("from ..client import ClientSession\n", "wirespeed.wire._writer_py", False),
        ("from ..decoding import ContentDecoder\n", "wirespeed.wire._parser_py", False),
        ("from .. import testing\n", "wirespeed.wire._flow", False),
        ("import wirespeed.client._session\n", "wirespeed.wire._flow", False),
        ("from wirespeed import ClientSession\n", "wirespeed.wire._flow", False),
        ("if TYPE_CHECKING:\n    from ..decoding import ContentDecoder\n", "wirespeed.wire._types", False),
        ("from wirespeed.decoding import ContentDecoder\n", "", True),
        ("from wirespeed.client cimport x\n", "", True),
        ("import wirespeed.client\n", "", True),
    ],
)
def test_the_wire_check_sees_an_upward_import(source: str, module: str, cython: bool) -> None:
    imports = cython_imports(source) if cython else python_imports(source, module)
    assert wire_violations(imports) != []


def test_the_wire_check_allows_errors_and_itself() -> None:
    source = "from ..errors import BadChunk\nfrom . import _messages\nfrom ._constants import X\n"
    assert wire_violations(python_imports(source, "wirespeed.wire._parser_py")) == []
    pyx = "from wirespeed import errors as _e\nfrom wirespeed.wire import _constants, _messages\n"
    assert wire_violations(cython_imports(pyx)) == []


@pytest.mark.parametrize(
    ("source", "module", "layer"),
    [
        ("from ..wire._parser_py import ResponseParser\n", "wirespeed.client._connection", "wirespeed.client"),
        ("from ..wire import _constants\n", "wirespeed.client._connection", "wirespeed.client"),
        ("from ..errors import _private\n", "wirespeed.client._connection", "wirespeed.client"),
        ("from .. import wire as w\nw._writer_py\n", "wirespeed.client._session", "wirespeed.client"),
        ("import wirespeed.wire\nwirespeed.wire._flow\n", "wirespeed.client._session", "wirespeed.client"),
        ("from .. import testing\n", "wirespeed.client._session", "wirespeed.client"),
        ("from .client import ClientSession\n", "wirespeed.decoding", "wirespeed.decoding"),
        ("from wirespeed import ClientSession\n", "wirespeed.decoding", "wirespeed.decoding"),
        ("from ..middlewares import RetryMiddleware\n", "wirespeed.client._session", "wirespeed.client"),
        ("from ..client._session import ClientSession\n", "wirespeed.middlewares._retry", "wirespeed.middlewares"),
    ],
)
def test_the_layer_check_sees_a_private_or_upward_reach(source: str, module: str, layer: str) -> None:
    assert later_layer_violations(source, module, layer) != []


def test_the_layer_check_allows_public_names_and_its_own_privates() -> None:
    source = (
        "from .. import wire as _wire\nfrom ..wire import FlowControl, Wire\nfrom ..errors import InvalidURL\n"
        "from ..decoding import ContentDecoder\nfrom ._pool import Pool\nfrom . import _body\n"
        "_wire.default()\nself._wire.ResponseParser()\n"
    )
    assert later_layer_violations(source, "wirespeed.client._session", "wirespeed.client") == []
    upper = "from ..client import ClientRequest, ClientResponse\nfrom ..errors import InvalidRequest\n"
    assert later_layer_violations(upper, "wirespeed.middlewares._auth", "wirespeed.middlewares") == []


@pytest.mark.parametrize(
    "source",
    ['HEAD = b"GET / HTTP/1.1\\r\\n"\n', 'SEP = b"\\r\\n"\n', 'x = f"{a}\\r\\n"\n', 'V = "HTTP/1.0"\n',
     'def f():\n    return data.split(b"\\r\\n")\n'],
)
def test_the_literal_check_sees_http_syntax(source: str) -> None:
    assert http_literal_violations(source) != []


def test_the_literal_check_ignores_docstrings_and_exempt_classes() -> None:
    source = '"""Sends GET / HTTP/1.1\\r\\n."""\nclass Form:\n    """x"""\n    SEP = b"\\r\\n"\n'
    assert http_literal_violations(source, frozenset({"Form"})) == []
    assert http_literal_violations(source) != []
