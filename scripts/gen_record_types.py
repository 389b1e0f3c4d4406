"""Writes `python/slipstream/records/types.py`, the record classes of the SDK, from the JSON
Schema the Rust core makes of its record types (`slipstream._native.records_schema()`), so
that a record has one definition: the Rust type.

    python scripts/gen_record_types.py          # rewrite the module
    python scripts/gen_record_types.py --check  # exit 1, with a diff, if it is out of date

Each struct becomes a frozen `msgspec.Struct` (a subclass of `slipstream.records.record.Record`)
with the same field names; JSON arrays are tuples, maps are dicts, enums are `Literal`s, raw
JSON values are `Any`. A field the core skips when empty has the default readers take; every
other field is required, except `format`, which `records.files` stamps when it writes.
"""

from __future__ import annotations

import argparse
import difflib
import json
import keyword
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterable
from pathlib import Path
from typing import Any

TARGET = Path(__file__).resolve().parent.parent / "python/slipstream/records/types.py"
WIDTH = 100
# Names the base class defines: a field may not shadow them.
RESERVED = {"get", "keys", "items", "values", "replace", "to_dict", "to_json"}

HEADER = '''"""The records slipstream keeps, as Python classes, generated from the Rust core's
record types (`slipstream_core::records`, through their JSON Schema) by
`scripts/gen_record_types.py`. Do not edit: `make records` writes it again, and a test fails
when it is out of date.

`docs/formats.md` documents each record field by field."""

from __future__ import annotations

from typing import Any, Literal, TypeAlias

import msgspec

from slipstream.records.record import Record
'''


def ref_name(schema: dict[str, Any]) -> str:
    ref: str = schema["$ref"]
    return ref.removeprefix("#/$defs/")


class Writer:
    def __init__(self, schema: dict[str, Any]) -> None:
        self.defs: dict[str, Any] = schema["$defs"]
        self.kinds: dict[str, str] = schema["kinds"]
        self.aliases: list[str] = []  # of words: before the classes
        self.classes: list[str] = []
        self.unions: list[str] = []  # of classes: after them
        self.variants: set[str] = set()

    def type_of(self, schema: Any) -> str:
        """The Python annotation of a property's schema; a shape this generator does not know
        stops it (`unsupported`), rather than become a class that reads the records wrong."""
        if schema is True:
            return "Any"
        unsupported(schema, ("allOf", "not", "if", "prefixItems", "patternProperties"))
        if schema.get("type") == "object" and "properties" in schema:
            unsupported(schema, ("properties",))  # an inline struct: a definition, please
        if not set(schema) & {"$ref", "anyOf", "oneOf", "enum", "const", "type"}:
            return "Any"  # raw JSON, which only Python gives meaning to
        if "$ref" in schema:
            return ref_name(schema)
        for union in ("anyOf", "oneOf"):
            if union in schema:
                parts = [self.type_of(s) for s in schema[union]]
                if "str" in parts:  # a known set of words, or any other: a word
                    parts = ["str" if self.is_words(p) else p for p in parts]
                return literals(dict.fromkeys(parts))
        if "enum" in schema:
            return "Literal[" + ", ".join(json.dumps(v) for v in schema["enum"]) + "]"
        if "const" in schema:
            return f"Literal[{json.dumps(schema['const'])}]"
        kinds = schema.get("type")
        if isinstance(kinds, list):
            rest = [k for k in kinds if k != "null"]
            assert len(rest) == 1, schema
            inner = self.type_of({**schema, "type": rest[0]})
            return f"{inner} | None" if "null" in kinds else inner
        if kinds == "array":
            return f"tuple[{self.type_of(schema.get('items', True))}, ...]"
        if kinds == "object":
            return f"dict[str, {self.type_of(schema.get('additionalProperties', True))}]"
        return {
            "string": "str",
            "integer": "int",
            "number": "float",
            "boolean": "bool",
            "null": "None",
        }[kinds]

    def is_words(self, annotation: str) -> bool:
        if annotation.startswith("Literal["):
            return True
        schema = self.defs.get(annotation)
        return (
            schema is not None
            and ("enum" in schema or "oneOf" in schema)
            and ("properties" not in schema)
        )

    def default_of(self, field: str, schema: Any, annotation: str) -> str:
        """The default of a field the core skips when empty."""
        if isinstance(schema, dict) and "default" in schema:
            value = schema["default"]
            if value == []:
                return "()"
            if value == {}:
                return "msgspec.field(default_factory=dict)"
            return repr(value)
        # Left out when empty: absent means empty. A flag's default must be said
        # (`#[schemars(extend("default" = ...))]`): schemars leaves out a skipped default.
        if annotation == "Any" or annotation.endswith("| None"):
            return "None"
        if annotation.startswith("tuple["):
            return "()"
        if annotation.startswith("dict["):
            return "msgspec.field(default_factory=dict)"
        raise SystemExit(f"no default for the optional field {field!r}: {schema}")

    def definition(self, name: str) -> None:
        schema = self.defs[name]
        if "properties" in schema:
            unsupported(schema, ("oneOf", "anyOf", "allOf"))
            if schema.get("additionalProperties") not in (None, False):
                unsupported(schema, ("additionalProperties",))  # a flattened map
            self.struct(name, schema)
        elif "oneOf" in schema and all("properties" in s for s in schema["oneOf"]):
            variants = [self.variant(name, s) for s in schema["oneOf"]]
            self.unions.append(alias(name, schema, " | ".join(variants)))
        else:
            self.aliases.append(alias(name, schema, self.type_of(schema)))

    def variant(self, union: str, schema: dict[str, Any]) -> str:
        """One variant of a union tagged by its `kind`."""
        tag = schema["properties"]["kind"]["const"]
        name = union + "".join(word.title() for word in tag.split("_"))
        if name in self.defs or name in self.variants:
            raise SystemExit(f"the variant {tag!r} of {union} is named {name}, as another class")
        self.variants.add(name)
        self.struct(name, schema, tag=tag)
        return name

    def struct(self, name: str, schema: dict[str, Any], tag: str | None = None) -> None:
        properties: dict[str, Any] = schema["properties"]
        required: list[str] = schema.get("required", [])
        options = ", frozen=True, kw_only=True" + (
            f', tag_field="kind", tag={json.dumps(tag)}' if tag else ""
        )
        lines = [f"class {name}(Record{options}):"]
        lines += docstring(schema.get("description") or f"A {name} record.")
        optional = sorted(set(properties) - set(required))
        fields = [f for f in [*required, *optional] if not (f == "kind" and tag)]
        annotations = {f: self.type_of(properties[f]) for f in fields}
        # A field named as a type the class's annotations use would hide that type from them.
        used = set(re.findall(r"\w+", " ".join(annotations.values())))
        for field in fields:
            if field in RESERVED or keyword.iskeyword(field) or field in used:
                raise SystemExit(f"{name}.{field}: a field of that name cannot be generated")
        for field in fields:
            prop = properties[field]
            annotation = annotations[field]
            notes = comment(prop.get("description", ""), "    ") if isinstance(prop, dict) else []
            if notes or not lines[-1].startswith("    "):
                lines.append("")
            lines += notes
            if field == "format" and annotation == "int":  # stamped when the record is written
                lines.append(f"    {field}: {annotation} = 0")
            elif field in required:
                lines.append(f"    {field}: {annotation}")
            else:
                lines.append(
                    f"    {field}: {annotation} = {self.default_of(field, prop, annotation)}"
                )
        self.classes.append("\n".join(lines))

    def module(self) -> str:
        for name in sorted(self.defs):
            self.definition(name)
        kinds = "\n".join(f'    "{kind}": {self.kinds[kind]},' for kind in sorted(self.kinds))
        names = ", ".join(json.dumps(kind) for kind in sorted(self.kinds))
        parts = [
            *self.aliases,
            *self.classes,
            *self.unions,
            "# The record kinds, by the names the Rust core knows them by (`RECORD_KINDS`).\n"
            f"RecordKind: TypeAlias = Literal[{names}]",
            f"# The class of each record kind.\nBY_KIND: dict[RecordKind, Any] = {{\n{kinds}\n}}",
        ]
        body = "\n\n\n".join(p.strip("\n") for p in parts)
        text = HEADER.rstrip("\n") + "\n\n" + body + "\n"
        # The formatter the project's lint uses, so that the module reads like the rest.
        ruff = Path(sys.executable).with_name("ruff")
        done = subprocess.run(
            [str(ruff), "format", "--stdin-filename", str(TARGET), "-"],
            input=text,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout


def unsupported(schema: dict[str, Any], keywords: tuple[str, ...]) -> None:
    found = [k for k in keywords if k in schema]
    if found:
        raise SystemExit(
            f"the schema uses {', '.join(found)}, which this generator does not turn into "
            f"classes: {json.dumps(schema)[:300]}"
        )


def alias(name: str, schema: dict[str, Any], annotation: str) -> str:
    lines = comment(schema.get("description", ""), "")
    return "\n".join([*lines, f"{name}: TypeAlias = {annotation}"])


def literals(parts: Iterable[str]) -> str:
    """`A | B`, with the words of every `Literal[...]` among them in one."""
    words = [
        p.removeprefix("Literal[").removesuffix("]") for p in parts if p.startswith("Literal[")
    ]
    rest = [p for p in parts if not p.startswith("Literal[")]
    return " | ".join(([f"Literal[{', '.join(words)}]"] if words else []) + rest)


def docstring(text: str) -> list[str]:
    body = textwrap.fill(" ".join(text.split()), WIDTH - 7, break_on_hyphens=False)
    return (
        [f'    """{line}' if i == 0 else f"    {line}" for i, line in enumerate(body.splitlines())]
        + ['    """']
        if "\n" in body
        else [f'    """{body}"""']
    )


def comment(text: str, indent: str) -> list[str]:
    if not text:
        return []
    body = textwrap.fill(" ".join(text.split()), WIDTH - len(indent) - 2, break_on_hyphens=False)
    return [f"{indent}# {line}" for line in body.splitlines()]


def generate() -> str:
    from slipstream._native import records_schema

    return Writer(json.loads(records_schema())).module()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the module is out of date")
    args = parser.parse_args()
    text = generate()
    if not args.check:
        TARGET.write_text(text)
        return 0
    current = TARGET.read_text()
    if current == text:
        return 0
    sys.stdout.writelines(
        difflib.unified_diff(
            current.splitlines(keepends=True),
            text.splitlines(keepends=True),
            str(TARGET),
            "generated",
        )
    )
    print(f"{TARGET} is out of date: run `make records`", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
