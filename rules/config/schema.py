"""Typed configuration from YAML: one set of dataclasses gives defaults, validation and schema.

A config section is a frozen dataclass. Field metadata may carry `doc` (schema description),
`key` (the YAML key, when it is not a valid Python name, e.g. `if`) and `required` (the key
must be present; such a field still needs a default for `cls()`). A dataclass may define
`__config_validate__(self, node, path, errors)` for cross-field checks. `load_section`
walks the YAML node tree so every error carries its YAML path and line; unknown keys are
errors. `json_schema` produces a JSON Schema (draft 2020-12) from the same classes.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal, Union

import yaml

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - PyYAML without libyaml
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]


@dataclass(frozen=True)
class ConfigError:
    path: str  # e.g. "commit_msg.types[2]"
    line: int  # 1-based; 0 when unknown
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.path or '<root>'}: {self.message}"


class ConfigInvalid(ValueError):
    def __init__(self, source: str, errors: list[ConfigError]) -> None:
        self.source = source
        self.errors = errors
        lines = "\n".join(f"  {source}:{e.line}: {e.path or '<root>'}: {e.message}" for e in errors)
        super().__init__(f"{source} is invalid ({len(errors)} error(s)):\n{lines}")


def yaml_key(field: dataclasses.Field[Any]) -> str:
    return field.metadata.get("key", field.name)


def config_fields(cls: type) -> list[dataclasses.Field[Any]]:
    """The fields a user may set (internal bookkeeping fields are left out)."""
    return [f for f in dataclasses.fields(cls) if f.init and not f.metadata.get("internal")]


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def parse_yaml(text: str, source: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigInvalid(source, [ConfigError("", line, f"not valid YAML: {problem}")]) from exc


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


_SCALAR_TYPES = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}


def to_python(node: yaml.Node) -> Any:
    """The plain Python value of a node (YAML 1.1 resolution, as yaml.safe_load gives)."""
    return yaml.constructor.SafeConstructor().construct_object(node, deep=True)


def _scalar(node: yaml.Node, tp: type, path: str, errors: list[ConfigError]) -> Any:
    want = _SCALAR_TYPES[tp]
    if not isinstance(node, yaml.ScalarNode) or node.tag.endswith(":null"):
        errors.append(ConfigError(path, _line(node), f"expected {want}"))
        return None
    if tp is str:
        return node.value
    value = to_python(node)
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, tp) or (tp is int and isinstance(value, bool)):
        errors.append(ConfigError(path, _line(node), f"expected {want}, got {node.value!r}"))
        return None
    return value


def _union_args(tp: Any) -> tuple[Any, ...] | None:
    origin = typing.get_origin(tp)
    if origin is Union or origin is types.UnionType:
        return typing.get_args(tp)
    return None


def convert(tp: Any, node: yaml.Node, path: str, errors: list[ConfigError]) -> Any:
    """Convert a YAML node into a value of type `tp`, appending problems to `errors`."""
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return load_node(tp, node, path, errors)
    parser = getattr(tp, "__config_parse__", None)
    if parser is not None:
        return parser(node, path, errors)
    union = _union_args(tp)
    if union is not None:
        options = [a for a in union if a is not type(None)]
        if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null":
            return None
        if len(options) == 1:
            return convert(options[0], node, path, errors)
        for option in options:
            trial: list[ConfigError] = []
            value = convert(option, node, path, trial)
            if not trial:
                return value
        errors.append(ConfigError(path, _line(node), f"expected {describe(tp)}"))
        return None
    origin = typing.get_origin(tp)
    if origin is Literal:
        allowed = typing.get_args(tp)
        value = node.value if isinstance(node, yaml.ScalarNode) else None
        if isinstance(allowed[0], int) and value is not None and value.lstrip("-").isdigit():
            value = int(value)
        if value not in allowed:
            choices = ", ".join(str(a) for a in allowed)
            errors.append(ConfigError(path, _line(node), f"must be one of {choices}"))
            return None
        return value
    if origin in (tuple, list):
        (item_tp, *_rest) = typing.get_args(tp)
        if isinstance(node, yaml.ScalarNode) and item_tp is str and node.value != "":
            return (node.value,)
        if not isinstance(node, yaml.SequenceNode):
            errors.append(ConfigError(path, _line(node), "expected a list"))
            return ()
        items = enumerate(node.value)
        return tuple(convert(item_tp, item, _join(path, i), errors) for i, item in items)
    if origin is dict:
        _key_tp, value_tp = typing.get_args(tp)
        if not isinstance(node, yaml.MappingNode):
            errors.append(ConfigError(path, _line(node), "expected a mapping"))
            return {}
        return {
            k.value: convert(value_tp, v, _join(path, k.value), errors) for k, v in node.value
        }
    if tp is Any:
        return to_python(node)
    if tp in _SCALAR_TYPES:
        return _scalar(node, tp, path, errors)
    raise TypeError(f"unsupported config type {tp!r}")  # a programming error, not user input


def load_node(cls: type, node: yaml.Node | None, path: str, errors: list[ConfigError]) -> Any:
    """Build dataclass `cls` from a mapping node; missing keys take the defaults."""
    if node is None or (isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null")):
        return cls()
    if not isinstance(node, yaml.MappingNode):
        errors.append(ConfigError(path, _line(node), "expected a mapping"))
        return cls()
    fields = {yaml_key(f): f for f in config_fields(cls)}
    hints = _hints(cls)
    values: dict[str, Any] = {}
    seen: set[str] = set()
    for key_node, value_node in node.value:
        key = str(key_node.value)
        where = _join(path, key)
        if key in seen:
            errors.append(ConfigError(where, _line(key_node), "duplicate key"))
            continue
        seen.add(key)
        field = fields.get(key)
        if field is None:
            known = ", ".join(sorted(fields)) or "none"
            errors.append(ConfigError(where, _line(key_node), f"unknown key (known keys: {known})"))
            continue
        before = len(errors)
        value = convert(hints[field.name], value_node, where, errors)
        check = field.metadata.get("check")
        if check is not None and len(errors) == before:
            problem = check(value)
            if problem:
                errors.append(ConfigError(where, _line(value_node), problem))
        if len(errors) == before:
            values[field.name] = value
    for key, field in fields.items():
        if field.metadata.get("required") and key not in seen:
            errors.append(ConfigError(path, _line(node), f"missing required key {key!r}"))
    if any(f.metadata.get("required") and f.name not in values for f in fields.values()):
        return cls()
    result = cls(**values)
    validate = getattr(cls, "__config_validate__", None)
    if validate is not None:
        validate(result, node, path, errors)  # cross-field checks that need the YAML lines
    return result


def load_section(cls: type, text: str, source: str) -> Any:
    """Parse YAML text into `cls`, raising ConfigInvalid with every error found."""
    node = parse_yaml(text, source)
    errors: list[ConfigError] = []
    value = load_node(cls, node, "", errors)
    if errors:
        raise ConfigInvalid(source, errors)
    return value


def load_key(cls: type, text: str, source: str, key: str) -> Any:
    """Parse only the top-level `key` section of YAML text into `cls` (other keys unchecked).

    For fast consumers such as the commit-msg hook; `policy validate` checks the whole file.
    """
    node = parse_yaml(text, source)
    errors: list[ConfigError] = []
    section = None
    if isinstance(node, yaml.MappingNode):
        section = next((v for k, v in node.value if k.value == key), None)
    elif node is not None and not (isinstance(node, yaml.ScalarNode) and node.value == ""):
        errors.append(ConfigError("", _line(node), "expected a mapping"))
    value = load_node(cls, section, key, errors)
    if errors:
        raise ConfigInvalid(source, errors)
    return value


def check_regex(value: Any) -> str | None:
    """Field check: the value (a string or list of strings) must compile as regexes."""
    for pattern in (value,) if isinstance(value, str) else value or ():
        try:
            re.compile(pattern)
        except re.error as exc:
            return f"not a valid regular expression ({exc})"
    return None


def describe(tp: Any) -> str:
    union = _union_args(tp)
    if union is not None:
        return " or ".join(describe(a) for a in union if a is not type(None))
    if typing.get_origin(tp) in (tuple, list):
        return "a list"
    if typing.get_origin(tp) is dict or (isinstance(tp, type) and dataclasses.is_dataclass(tp)):
        return "a mapping"
    return _SCALAR_TYPES.get(tp, "a value")


def json_schema(tp: Any, defs: dict[str, Any] | None = None) -> dict[str, Any]:
    """JSON Schema for a config type; dataclasses become `$defs` entries."""
    defs = {} if defs is None else defs
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        name = tp.__name__
        if name not in defs:
            defs[name] = {}  # placeholder first: recursive types refer to themselves
            hints = _hints(tp)
            props = {}
            for f in config_fields(tp):
                prop = json_schema(hints[f.name], defs)
                if "doc" in f.metadata:
                    prop = {**prop, "description": f.metadata["doc"]}
                props[yaml_key(f)] = prop
            defs[name] = {"type": "object", "properties": props, "additionalProperties": False}
            required = [yaml_key(f) for f in config_fields(tp) if f.metadata.get("required")]
            if required:
                defs[name]["required"] = required
            if tp.__doc__:
                defs[name]["description"] = " ".join(tp.__doc__.split())
        return {"$ref": f"#/$defs/{name}"}
    custom = getattr(tp, "__config_schema__", None)
    if custom is not None:
        return custom(defs)
    union = _union_args(tp)
    if union is not None:
        options = [json_schema(a, defs) for a in union if a is not type(None)]
        if type(None) in union:
            options.append({"type": "null"})
        return options[0] if len(options) == 1 else {"anyOf": options}
    origin = typing.get_origin(tp)
    if origin is Literal:
        return {"enum": list(typing.get_args(tp))}
    if origin in (tuple, list):
        return {"type": "array", "items": json_schema(typing.get_args(tp)[0], defs)}
    if origin is dict:
        return {"type": "object", "additionalProperties": json_schema(typing.get_args(tp)[1], defs)}
    if tp is Any:
        return {}
    return {"type": {str: "string", int: "integer", float: "number", bool: "boolean"}[tp]}
