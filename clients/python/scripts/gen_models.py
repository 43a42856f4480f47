"""Generates src/membus/models.py from src/membus/schema/operations.json.

    python clients/python/scripts/gen_models.py          write models.py
    python clients/python/scripts/gen_models.py --check  exit 1 when models.py is not current

Every operation agents may use (``agents`` is ``call`` or ``receive``) becomes one pydantic
model per schema: ``QueryRequest``/``QueryReply`` for request/reply operations,
``StoreMessage`` for the ones published. tests/test_models_current.py runs ``--check``.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
import warnings
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "membus"
OPERATIONS_JSON = PACKAGE / "schema" / "operations.json"
MODELS_PY = PACKAGE / "models.py"
HEADER = '''"""Models of every agent-facing membus operation (generated: do not edit).

Source: schema/operations.json (`pnpm gen:schemas`); regenerate with
`python clients/python/scripts/gen_models.py`.
"""'''
SUFFIXES = {"request": "Request", "reply": "Reply", "message": "Message"}


def pascal(key: str) -> str:
    return key[0].upper() + key[1:]


# Names for shapes that appear under many operations (else: the property's name).
NAMES = {
    "memory": "MemoryRecord",
    "memories": "MemoryRecord",
    "hits": "QueryHit",
    "entries": "HistoryEntry",
    "filter": "MemoryFilter",
    "error": "ErrorBody",
    "__schema0": "JsonValue",
}

STRING_NAMES = {"uuid": "Uuid", "date-time": "Timestamp"}

# Enumerations named once and written as a plain ``Literal`` alias (not ``TypeAliasType``), so
# ``typing.get_args`` and mypy see the values: errors.py imports ``ErrorCode`` from here rather
# than keeping a copy of the contract's codes.
ENUM_NAMES = {"code": "ErrorCode"}

# The base of every model of what a server sends (src/membus/lenient.py).
LENIENT_BASE = "membus.lenient.LenientModel"


class Hoister:
    """Moves every object shape into ``$defs`` once, by content, so a shape that several
    operations share (a memory, a filter, a policy) is one model rather than one copy per
    operation. A shape is compared without ``additionalProperties: false``: one that a request
    uses is strict (``extra="forbid"``) wherever it appears, and the models of what a server
    sends ignore unknown fields at every depth all the same (``LenientModel``)."""

    def __init__(self) -> None:
        self.defs: dict[str, dict] = {}
        self.by_content: dict[str, str] = {}

    def hoist(self, name: str, node: dict, strict: bool) -> dict:
        content = json.dumps(lenient(node), sort_keys=True)
        if content not in self.by_content:
            unique, number = name, 1
            while unique in self.defs:
                number += 1
                unique = f"{name}{number}"
            self.by_content[content] = unique
            self.defs[unique] = {"title": unique, **lenient(node)}
        unique = self.by_content[content]
        if strict and node.get("additionalProperties") is False:
            self.defs[unique]["additionalProperties"] = False
        return {"$ref": f"#/$defs/{unique}"}

    def visit(self, node: object, hint: str, strict: bool, top: bool = False) -> object:
        if isinstance(node, list):
            return [self.visit(item, hint, strict) for item in node]
        if not isinstance(node, dict):
            return node
        result = {}
        for key, value in node.items():
            if key == "properties":
                result[key] = {name: self.visit(body, name, strict) for name, body in value.items()}
            elif key in ("items", "additionalProperties", "anyOf", "oneOf", "allOf"):
                result[key] = self.visit(value, hint, strict)
            else:
                result[key] = value
        if not top and result.get("type") == "object" and "properties" in result:
            return self.hoist(NAMES.get(hint, pascal(hint)), result, strict)
        if result.get("type") == "string" and "enum" in result and hint in ENUM_NAMES:
            return self.hoist(ENUM_NAMES[hint], result, strict)
        if result.get("type") == "string" and "pattern" in result:
            # Labels, ids and timestamps: one alias each instead of the pattern on every field.
            return self.hoist(STRING_NAMES.get(result.get("format", ""), "Label"), result, strict)
        return result


def lenient(node: object) -> object:
    """The schema without ``additionalProperties: false``: a reply model ignores fields it does
    not know, so a server that adds a field to a reply does not break older clients (requests
    stay strict: a misspelt field is an error where it is written)."""
    if isinstance(node, list):
        return [lenient(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {
        key: lenient(value)
        for key, value in node.items()
        if not (key == "additionalProperties" and value is False)
    }


def combined_schema(operations: dict) -> dict:
    """One schema whose ``$defs`` are the agent-facing operations' schemas, by model name."""
    hoister = Hoister()
    models: dict[str, dict] = {}
    for key, operation in operations.items():
        if operation["agents"] == "none":
            continue
        for part, suffix in SUFFIXES.items():
            if part not in operation:
                continue
            name = pascal(key) + suffix
            schema = dict(operation[part])
            strict = part != "reply" and operation["agents"] != "receive"
            schema.pop("$schema", None)
            inner = schema.pop("$defs", {})
            # Nested definitions (a recursive JSON value) are named once for the whole module.
            text = json.dumps(schema)
            for definition, body in inner.items():
                shared = NAMES.get(definition, f"{name}{pascal(definition.strip('_'))}")
                ref = json.dumps(f"#/$defs/{definition}")
                text = text.replace(ref, json.dumps(f"#/$defs/{shared}"))
                body_text = json.dumps(body).replace(ref, json.dumps(f"#/$defs/{shared}"))
                hoister.defs[shared] = json.loads(body_text)
            model = hoister.visit(json.loads(text), name, strict, top=True)
            if not strict:
                model = {**lenient(model), "customBasePath": LENIENT_BASE}
            models[name] = {"title": name, **model}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$defs": {**hoister.defs, **models},
    }


def generate() -> str:
    from datamodel_code_generator import DataModelType, InputFileType, PythonVersion
    from datamodel_code_generator import generate as run

    schema = combined_schema(json.loads(OPERATIONS_JSON.read_text()))
    # The generator warns about constraints pydantic types carry themselves (UUID, datetime) and
    # about its future defaults: the toolchain is pinned (pyproject's test extras).
    with tempfile.TemporaryDirectory() as directory, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        output = Path(directory) / "models.py"
        run(
            json.dumps(schema),
            input_file_type=InputFileType.JsonSchema,
            input_filename="operations.json",
            output=output,
            output_model_type=DataModelType.PydanticV2BaseModel,
            target_python_version=PythonVersion.PY_311,
            reuse_model=True,
            use_type_alias=True,
            use_annotated=True,
            use_standard_collections=True,
            use_union_operator=True,
            use_double_quotes=True,
            disable_timestamp=True,
            use_schema_description=True,
            use_field_description=True,
            enum_field_as_literal="all",
            custom_file_header=HEADER,
        )
        return plain_literal_aliases(output.read_text())


def plain_literal_aliases(text: str) -> str:
    """``Name = TypeAliasType("Name", Annotated[Literal[...], Field(title="Name")])`` of each
    name in ENUM_NAMES -> ``Name = Literal[...]``."""
    for name in ENUM_NAMES.values():
        head = rf'^{name} = TypeAliasType\(\n    "{name}",\n    Annotated\[\n        Literal\[\n'
        values = r'(?P<values>(?:            "[^"\n]*",\n)+)'
        tail = rf'        \],\n        Field\(title="{name}"\),\n    \],\n\)$'
        found = list(re.finditer(head + values + tail, text, re.MULTILINE))
        if len(found) != 1:
            raise SystemExit(f"gen_models: expected one {name} alias in the generated models")
        match = found[0]
        plain = f"{name} = Literal[\n" + match["values"].replace(" " * 12, " " * 4) + "]"
        text = text[: match.start()] + plain + text[match.end() :]
    return text


def main() -> int:
    text = generate()
    if "--check" in sys.argv:
        if MODELS_PY.exists() and MODELS_PY.read_text() == text:
            return 0
        print(
            "clients/python/src/membus/models.py is not current with schema/operations.json: "
            "run `python clients/python/scripts/gen_models.py`",
            file=sys.stderr,
        )
        return 1
    MODELS_PY.write_text(text)
    print(f"wrote {MODELS_PY}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
