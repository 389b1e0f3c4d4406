"""What else an op's result depends on beyond its own code: the user modules its code
imports, the installed packages, and the container image it runs in. Parts of the cache key
(`slipstream.runtime.cache`), computed where the op runs.

User modules are found by reading imports, not by watching what runs: from the source of
the op's module (or the source captured with it), every `import` and `from ... import`
anywhere in it, then the same in every user module found, transitively. A user module is one
whose file is Python source outside the standard library and site-packages (an editable
install counts as the user's own code; slipstream itself does not). Each is keyed by the
SHA-256 of its file. Where the op's source was captured (scripts, and modules that could be
captured whole), the imports read are those of the capture: the ones the op's code refers
to; else every import of its module, used by this op or not (a rerun too many, not a stale
value). What imports cannot show is not seen: a module loaded by name at run time
(`importlib.import_module(name)`), compiled extensions, data files an op reads. Ops that
depend on those name a `code_version`.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import hashlib
import importlib.util
import os
import sys
import sysconfig
from collections.abc import Iterator
from importlib import metadata
from typing import Any

from slipstream.records.types import FunctionSpec, OpSpec

# Set in the task image, or by whoever runs tasks in a container, to the image's digest
# (`sha256:...`): an image rebuilt under the same tag then changes the key.
IMAGE_DIGEST_ENV = "SLIPSTREAM_IMAGE_DIGEST"


def user_modules(function: FunctionSpec, fn: Any) -> dict[str, str]:
    """`module name -> sha256:<file hash>` of every user module the op's code imports,
    directly or through other user modules (the op's own module excluded: its code hash
    covers what the op uses of it)."""
    own = function.module
    text = function.module_source or _module_text(own) or function.source
    found: dict[str, str] = {}
    queue = list(_imported(text, _package_of(own, getattr(fn, "__module__", own))))
    while queue:
        name = queue.pop()
        if name in found or name == own or _is_ours(name):
            continue
        path = _user_file(name)
        if path is None:
            continue
        digest, source = _file_hash(path)
        found[name] = digest
        package = name if os.path.basename(path) == "__init__.py" else _package_of(name, name)
        queue.extend(_imported(source, package))
    return dict(sorted(found.items()))


@functools.cache
def packages() -> str:
    """`sha256:` of the name and version of every installed distribution: an upgrade of any
    library changes the key."""
    found: dict[str, str] = {}
    for dist in metadata.distributions():  # in sys.path order: the first of a name is used
        name = (dist.metadata["Name"] or "?").lower().replace("_", "-")
        found.setdefault(name, dist.version)
    pairs = sorted(f"{name}=={version}" for name, version in found.items())
    return "sha256:" + hashlib.sha256("\n".join(pairs).encode()).hexdigest()


def image(op: OpSpec) -> dict[str, str | None]:
    """The op's container image as named in the spec, and the digest of the one running
    (`SLIPSTREAM_IMAGE_DIGEST`), where known."""
    return {"name": op.image, "digest": os.environ.get(IMAGE_DIGEST_ENV) or None}


def _imported(source: str, package: str | None) -> Iterator[str]:
    """The absolute names of the modules `source` imports anywhere, and their parents."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                if not package:
                    continue
                with contextlib.suppress(ImportError, ValueError):
                    base = importlib.util.resolve_name("." * node.level + base, package)
            # `from pkg import mod` may name a submodule as well as an attribute.
            names = [base] + [f"{base}.{alias.name}" for alias in node.names if base]
        for name in names:
            parts = name.split(".")
            yield from (".".join(parts[: i + 1]) for i in range(len(parts)) if parts[0])


def _module_text(name: str) -> str | None:
    module = sys.modules.get(name)
    path = getattr(module, "__file__", None)
    if not path or not path.endswith(".py"):
        return None
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except (OSError, UnicodeDecodeError):
        return None


def _package_of(name: str, loaded: str) -> str | None:
    """The package relative imports in module `name` start from (`loaded`: the name it has
    in `sys.modules`, which differs for code rebuilt from a capture)."""
    package = getattr(sys.modules.get(loaded), "__package__", None)
    if package is not None:
        return package or None
    return name.rpartition(".")[0] or None


def _is_ours(name: str) -> bool:
    top = name.partition(".")[0]
    return top == "slipstream" or top in sys.stdlib_module_names or top == "__main__"


def _user_file(name: str) -> str | None:
    """The source file of module `name` if it is the user's own, else None."""
    module = sys.modules.get(name)
    path: str | None = getattr(module, "__file__", None) if module is not None else None
    if module is None:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError, AttributeError):
            return None
        path = spec.origin if spec is not None and spec.has_location else None
    if not path or not path.endswith(".py"):
        return None
    real = os.path.realpath(path)
    if any(real.startswith(root) for root in _library_roots()):
        return None
    return real


@functools.cache
def _library_roots() -> tuple[str, ...]:
    """Folders whose modules are libraries, not the user's code."""
    roots = set()
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        with contextlib.suppress(KeyError):
            roots.add(os.path.realpath(sysconfig.get_paths()[key]))
    for entry in sys.path:
        if entry and ("site-packages" in entry or "dist-packages" in entry):
            roots.add(os.path.realpath(entry))
    return tuple(root.rstrip(os.sep) + os.sep for root in roots)


_HASHES: dict[tuple[str, int, int], tuple[str, str]] = {}


def _file_hash(path: str) -> tuple[str, str]:
    """`sha256:` of the file and its text, remembered while the file is unchanged."""
    try:
        stat = os.stat(path)
        mark = (path, stat.st_mtime_ns, stat.st_size)
        if mark not in _HASHES:
            with open(path, "rb") as f:
                data = f.read()
            _HASHES[mark] = (
                "sha256:" + hashlib.sha256(data).hexdigest(),
                data.decode("utf-8", errors="replace"),
            )
        return _HASHES[mark]
    except OSError as exc:  # unreadable: a key of its own, never another file's
        return f"unreadable:{type(exc).__name__}", ""
