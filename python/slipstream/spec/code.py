"""Where an op's code comes from, and how a task gets it back.

An op defined in an importable module is referenced by module path and imported where it
runs. An op defined in a script run as `__main__` (or in a notebook) cannot be imported
elsewhere, so its source is captured into the flow version as a small module: the function
itself, the helpers and classes of the script it uses, the imports and plain constants it
refers to. Either way the exact source of every op is stored for people to read, and its
hash is part of the version id.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import dis
import hashlib
import importlib
import importlib.machinery
import importlib.util
import inspect
import linecache
import os
import sys
import textwrap
import types
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from slipstream.errors import CodeUnavailable, FlowDefinitionError

if TYPE_CHECKING:  # the records are above the spec's helpers: read, never imported here
    from slipstream.records.types import FunctionSpec


def describe(fn: Callable[..., Any], op_name: str) -> dict[str, Any]:
    """The `function` entry of an op in the flow spec."""
    module = fn.__module__
    qualname = fn.__qualname__
    importable = _importable(module, qualname)
    source = source_of(fn)
    capture = _Capture(fn, strict=not importable, op_name=op_name)
    code = capture.module_source(aligned=False)
    entry: dict[str, Any] = {
        "module": module,
        "qualname": qualname,
        "file": inspect.getsourcefile(fn) or "?",
        "line": fn.__code__.co_firstlineno,
        "importable": importable,
        "source": source,
        # The hash covers the op and the helpers of its module it uses, wherever they sit.
        "code_hash": "sha256:" + hashlib.sha256(code.encode()).hexdigest(),
    }
    if not importable:
        entry["module_source"] = capture.module_source(aligned=True)
    else:
        # Also captured where that is complete: a task on a machine where the module is
        # not installed runs this instead of failing.
        with contextlib.suppress(FlowDefinitionError):
            strict = _Capture(fn, strict=True, op_name=op_name)
            entry["module_source"] = strict.module_source(aligned=True)
    return entry


def load(function: FunctionSpec, op_name: str) -> Callable[..., Any]:
    """The callable an op spec's `function` entry describes: imported by module path when
    it is importable (falling back to its captured source where the module is missing),
    else rebuilt from the captured source."""
    if function.importable and function.module_source and _is_main(function.module):
        # The version was published by importing the file that now runs as a script:
        # importing it again would run the script a second time.
        return _rebuild(function, op_name)
    if function.importable:
        try:
            obj: Any = importlib.import_module(function.module)
            for part in function.qualname.split("."):
                obj = getattr(obj, part)
        except Exception as exc:
            missing = isinstance(exc, ModuleNotFoundError) and _names_package_of(
                exc.name, function.module
            )
            if missing and function.module_source:
                print(
                    f"slipstream: op {op_name!r}: module {function.module!r} is not "
                    "installed here; running its source as captured when the flow was "
                    "published",
                    file=sys.stderr,
                )
                return _rebuild(function, op_name)
            raise CodeUnavailable(
                f"op {op_name!r}: cannot import {function.qualname} from module "
                f"{function.module!r} ({type(exc).__name__}: {exc}); install the code of "
                "the flow where its tasks run (pip install it, or put its file in the DAG "
                "folder), or define the op in a script so its source is captured into the "
                "flow version"
            ) from exc
        plain: Callable[..., Any] = getattr(obj, "fn", obj)  # behind a decorated op
        return plain
    return _rebuild(function, op_name)


def _rebuild(function: FunctionSpec, op_name: str) -> Callable[..., Any]:
    """The function, from the module source captured with it."""
    name = f"slipstream_captured_{op_name}_{function.code_hash[7:19]}"
    module = types.ModuleType(name)
    text = function.module_source or function.source
    module.__file__ = _captured_file(function.file, text, function.code_hash)
    sys.modules[name] = module  # pickling, dataclasses and typing look modules up here
    try:
        exec(compile(text, module.__file__, "exec"), module.__dict__)
        # A function captured from inside another one is defined at module level here.
        return getattr(module, function.qualname.rsplit(".", 1)[-1])  # type: ignore[no-any-return]
    except Exception as exc:
        raise CodeUnavailable(
            f"op {op_name!r}: the source captured from {function.file} does not run here "
            f"({type(exc).__name__}: {exc}); its imports must be installed where tasks run"
        ) from exc


def _captured_file(file: str, text: str, code_hash: str) -> str:
    """The file name captured code is compiled under: the user's own file when the captured
    module keeps its lines and the file here still has them (tracebacks then point at it);
    else `<file> [captured <hash>]`, whose lines are the captured ones, at the same numbers."""
    if not text.split("\n", 1)[0].endswith(ALIGNED) or not os.path.isabs(file):
        return f"<captured from {file}>"
    if _has_lines(file, text):
        return file
    name = f"{file} [captured {code_hash[7:19]}]"
    linecache.cache[name] = (len(text), None, text.splitlines(keepends=True), name)
    return name


def _has_lines(file: str, text: str) -> bool:
    """Whether `file` holds every line of the aligned captured `text` at its number."""
    try:
        with open(file, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError):
        return False
    for number, line in enumerate(text.splitlines()[1:], start=2):
        if line.strip() and (number > len(lines) or lines[number - 1].rstrip() != line.rstrip()):
            return False
    return True


def _names_package_of(missing: str | None, module: str) -> bool:
    """Whether the module that could not be found is `module` or a package above it."""
    return missing is not None and (module == missing or module.startswith(missing + "."))


def _is_main(module: str) -> bool:
    """Whether `module` is the file running as `__main__`."""
    main = getattr(sys.modules.get("__main__"), "__file__", None)
    if not main:
        return False
    try:
        found = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return False
    origin = getattr(found, "origin", None)
    return origin is not None and os.path.realpath(origin) == os.path.realpath(main)


def _importable(module: str, qualname: str) -> bool:
    """Whether `module` can be imported by name (from `sys.path`, not only loaded from a file
    path) and `qualname` reached in it: then tasks import it rather than rebuild it."""
    if module == "__main__" or module.startswith("slipstream_captured_"):
        return False
    if "<locals>" in qualname or "<lambda>" in qualname:
        return False
    loaded = sys.modules.get(module)
    if loaded is None:
        return False
    # Search the import path itself: `find_spec` would answer from `sys.modules`, which also
    # holds modules loaded from a file path that no other process can import by name.
    parent, _, _ = module.rpartition(".")
    search = getattr(sys.modules.get(parent), "__path__", None) if parent else None
    if parent and search is None:
        return False
    try:
        found = importlib.machinery.PathFinder.find_spec(module, search)
    except (ImportError, ValueError):
        return False
    origin = getattr(found, "origin", None)
    file = getattr(loaded, "__file__", None)
    if found is None:
        return False
    return origin is None or file is None or os.path.realpath(origin) == os.path.realpath(file)


def source_of(obj: Any) -> str:
    """The dedented source of a function or class, or FlowDefinitionError saying why not."""
    try:
        return textwrap.dedent(inspect.getsource(obj))
    except (OSError, TypeError) as exc:
        code = getattr(obj, "__code__", None)
        if (
            code is not None
            and code.co_filename.startswith("<")
            and "ipython" not in (code.co_filename)
        ):
            raise FlowDefinitionError(
                f"cannot read the source of {obj!r}: it was compiled from a string without a "
                f"file name ({code.co_filename}), as `exec(open(path).read())` does; "
                "slipstream stores the code of every op. Name the file: "
                "`exec(compile(open(path).read(), path, 'exec'))`, `runpy.run_path(path)`, "
                "or import the module"
            ) from None
        raise FlowDefinitionError(
            f"cannot read the source of {obj!r} ({exc}); slipstream stores the code of every "
            "op, so ops must be defined in a file or a notebook cell"
        ) from None


def _strip_decorators(source: str) -> tuple[str, int]:
    """The definition without its decorators (`@ss.op(...)` is not needed to run it), and
    how many lines were cut from its top."""
    tree = ast.parse(source)
    node = tree.body[0]
    if (
        isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        and node.decorator_list
    ):
        first_line = node.lineno  # the `def` line, after the decorators
        return "\n".join(source.splitlines()[first_line - 1 :]) + "\n", first_line - 1
    return source, 0


def _first_line(obj: Any) -> int:
    """The line of its file a function's or class's source starts on (0: unknown)."""
    try:
        return inspect.getsourcelines(obj)[1]
    except (OSError, TypeError):
        return 0


# Ends the first line of a captured module whose definitions sit on their lines of the file.
ALIGNED = "# slipstream: lines as in the source file"


def _aligned(definitions: Iterable[tuple[int, str]]) -> str | None:
    """The definitions placed on their lines of the file, line 1 left to the prelude; None
    if two would overlap, one starts on line 1 or its line is unknown (0)."""
    lines: list[str] = []  # lines[i] is line i + 2
    for first, source in sorted(definitions):
        if first - 2 < len(lines):
            return None
        lines += [""] * (first - 2 - len(lines))
        lines += source.rstrip("\n").split("\n")
    return "\n".join(lines) + "\n"


class _Capture:
    """Builds a module source that recreates `fn` and what it refers to in its module."""

    def __init__(self, fn: Callable[..., Any], *, strict: bool, op_name: str) -> None:
        self.fn = fn
        self.strict = strict
        self.op_name = op_name
        self.module_name = fn.__module__
        self.imports: dict[str, str] = {}
        self.constants: dict[str, str] = {}
        # name -> (its first line in its file, source), dependencies first
        self.definitions: dict[str, tuple[int, str]] = {}

    def module_source(self, *, aligned: bool) -> str:
        """The module: its imports, constants and definitions one after another, or, when
        `aligned`, laid out so that every definition sits on the lines it has in its file
        (imports and constants share line 1) and marked by `ALIGNED`: a traceback of the
        captured code then names the user's file and lines. Definitions that would overlap
        (one captured from inside another) are laid out one after another instead."""
        if not self.definitions:
            self._refuse_closures(self.fn)
            self._define(self.fn.__name__, self.fn, strip=True)
        prelude = [
            "from __future__ import annotations",
            *sorted(self.imports.values()),
            *(f"{name} = {text}" for name, text in self.constants.items()),
        ]
        laid_out = _aligned(self.definitions.values()) if aligned else None
        if laid_out is not None:
            return f"{'; '.join(prelude)}  {ALIGNED}\n{laid_out}"
        parts = [f"{line}\n" for line in prelude]
        parts += [f"\n\n{source}" for _, source in self.definitions.values()]
        return "".join(parts)

    def _define(self, name: str, obj: Any, *, strip: bool) -> None:
        if name in self.definitions:
            return
        self.definitions[name] = (0, "")  # a placeholder against cycles; filled below
        source = source_of(obj)
        for dependency in self._names_used(obj, source, decorated=not strip):
            self._resolve(dependency, obj)
        self.definitions.pop(name)
        first = _first_line(obj)
        if strip:
            source, skipped = _strip_decorators(source)
            first += skipped
        self.definitions[name] = (first, source)

    def _names_used(self, obj: Any, source: str, *, decorated: bool) -> Iterator[str]:
        """Global names `obj` reads: those its code loads when it runs, and those its
        definition evaluates (decorators, defaults, base classes, class attributes)."""
        node = ast.parse(source).body[0]
        evaluated: list[ast.AST] = list(getattr(node, "decorator_list", [])) if decorated else []
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            evaluated += [*node.args.defaults, *(d for d in node.args.kw_defaults if d)]
        elif isinstance(node, ast.ClassDef):
            evaluated += [*node.bases, *node.keywords]
            evaluated += [s for s in node.body if not isinstance(s, ast.FunctionDef)]
        names = [n.id for e in evaluated for n in ast.walk(e) if isinstance(n, ast.Name)]
        codes = [obj.__code__] if hasattr(obj, "__code__") else []
        for member in vars(obj).values() if isinstance(obj, type) else ():
            member = getattr(member, "__func__", member)
            member = getattr(member, "fget", member)  # properties
            if hasattr(member, "__code__"):
                codes.append(member.__code__)
        while codes:
            code = codes.pop()
            for ins in dis.get_instructions(code):
                if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME") and isinstance(ins.argval, str):
                    names.append(ins.argval)
            codes += [c for c in code.co_consts if isinstance(c, types.CodeType)]
        yield from dict.fromkeys(names)

    def _resolve(self, name: str, user: Any) -> None:
        namespace = getattr(self.fn, "__globals__", {})
        if name not in namespace:
            return  # a builtin, a local variable, or an attribute
        if name in self.imports or name in self.constants or name in self.definitions:
            return
        value = namespace[name]
        if hasattr(builtins, name) and getattr(builtins, name) is value:
            return
        if isinstance(value, types.ModuleType):
            module = value.__name__
            self.imports[name] = (
                f"import {module}" if module == name else f"import {module} as {name}"
            )
            return
        inner = getattr(value, "fn", None)  # another decorated op, used as a plain function
        target = inner if callable(inner) and hasattr(value, "kind") else value
        if isinstance(target, types.FunctionType | type):
            home = target.__module__
            if home == self.module_name:
                if isinstance(target, types.FunctionType):
                    self._refuse_closures(target)
                self._define(name, target, strip=target is not value)
                return
            if _importable(home, target.__qualname__) and "." not in target.__qualname__:
                alias = "" if target.__qualname__ == name else f" as {name}"
                self.imports[name] = f"from {home} import {target.__qualname__}{alias}"
                return
        if _is_literal(value):
            self.constants[name] = repr(value)
            return
        if self.strict:
            raise FlowDefinitionError(
                f"op {self.op_name!r}: {getattr(user, '__qualname__', user)} uses the global "
                f"{name!r}, a {type(value).__module__}.{type(value).__qualname__} defined in "
                f"{self.module_name}; ops defined in a script can use modules, functions, "
                "classes and plain constants of the script. Create the value inside the op, "
                "pass it as an op output, or move the op into an importable module"
            )

    def _refuse_closures(self, fn: Any) -> None:
        if self.strict and getattr(fn, "__closure__", None):
            free = ", ".join(fn.__code__.co_freevars)
            raise FlowDefinitionError(
                f"op {self.op_name!r}: {fn.__qualname__} refers to variables of an enclosing "
                f"function ({free}); define ops and their helpers at module level so their "
                "source can be captured"
            )


def _is_literal(value: Any) -> bool:
    try:
        return bool(ast.literal_eval(repr(value)) == value)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False
