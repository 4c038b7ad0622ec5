"""The study configuration: coerce command-line strings, fill defaults, validate, resolve per n.

Snakemake parses ``--config key=value`` with YAML's BaseLoader, so every scalar arrives as a
string. ``prepare_config`` walks the JSON schema and turns such strings into the type the
schema asks for, so a value given on the command line behaves exactly like one in a file.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from kryptonite_n.io import DataError
from kryptonite_n.plan import paths
from kryptonite_n.plan.models import MODELS, mappable_models, specs
from kryptonite_n.plan.models import spec as spec_of
from kryptonite_n.plan.tuning import RANGED

SCHEMA_PATH = Path(__file__).resolve().parents[3] / "workflow" / "schemas" / "config.schema.yaml"


def load_schema(path: Path | str = SCHEMA_PATH) -> dict:
    return yaml.safe_load(Path(path).read_text())


def _resolve(schema: dict, root: dict) -> dict:
    """Merge a schema with its $ref and allOf parts, enough to learn what a value should be."""
    parts = [schema]
    if "$ref" in schema:
        target = root
        for step in schema["$ref"].removeprefix("#/").split("/"):
            target = target[step]
        parts.append(_resolve(target, root))
    parts += [_resolve(sub, root) for sub in schema.get("allOf", [])]
    merged: dict = {}
    properties: dict = {}
    for part in reversed(parts):  # the schema's own words win over what it refers to
        for name, sub in part.get("properties", {}).items():
            properties[name] = {**properties.get(name, {}), **sub}
        merged.update({k: v for k, v in part.items() if k not in ("properties", "$ref", "allOf")})
    merged["properties"] = properties
    return merged


def _types(schema: dict) -> list[str]:
    kind = schema.get("type", [])
    return [kind] if isinstance(kind, str) else list(kind)


_NULLS = {"null", "none", "~", ""}
_BOOLEANS = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}


def _coerce_scalar(value: str, types: list[str]) -> Any:
    text = value.strip()
    if "null" in types and text.lower() in _NULLS - ({""} if "string" in types else set()):
        return None
    if "boolean" in types and text.lower() in _BOOLEANS:
        return _BOOLEANS[text.lower()]
    if "integer" in types:
        try:
            return int(text)
        except ValueError:
            pass
    if "number" in types:
        try:
            return float(text)
        except ValueError:
            pass
    if "array" in types or "object" in types:
        parsed = yaml.safe_load(text)
        if isinstance(parsed, list | dict):
            return parsed
    return value


def coerce(value: Any, schema: dict, root: dict) -> Any:
    """Return ``value`` with strings converted to the types ``schema`` expects, recursively."""
    schema = _resolve(schema, root)
    types = _types(schema)
    if isinstance(value, str) and types and ("string" not in types or value.strip().lower() in _NULLS):
        value = _coerce_scalar(value, types)
    if isinstance(value, list):
        items = schema.get("items", {})
        return [coerce(item, items, root) for item in value]
    if isinstance(value, Mapping):
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties", {})
        out = {}
        for key, item in value.items():
            # by_n keys: YAML files give ints, the command line gives strings; keep one form.
            name = str(key) if "propertyNames" in schema else key
            sub = properties.get(name, extra if isinstance(extra, dict) else {})
            out[name] = coerce(item, sub, root)
        return out
    return value


def _fill_defaults(validator_class: type) -> type:
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if "default" in sub and name not in instance:
                    instance[name] = copy.deepcopy(sub["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


def _error_location(error: jsonschema.ValidationError) -> str:
    path = ".".join(str(part) for part in error.absolute_path)
    return path or "(top level)"


def prepare_config(config: Mapping[str, Any], schema_path: Path | str = SCHEMA_PATH) -> dict:
    """The one path of a configuration into the study: the command line's strings coerced to the
    schema's types, defaults filled, the schema and what it cannot say checked (split fractions,
    attacked and mapped models, the search's ranges, the published folder's n); raise DataError
    naming the offending key."""
    schema = load_schema(schema_path)
    prepared = coerce(dict(config), schema, schema)
    validator = _fill_defaults(jsonschema.Draft202012Validator)(schema)
    errors = sorted(validator.iter_errors(prepared), key=lambda e: list(e.absolute_path))
    if errors:
        error = errors[0]
        raise DataError(f"invalid config at '{_error_location(error)}': {error.message}")
    split = prepared["split"]
    if abs(split["train"] + split["validation"] + split["test"] - 1.0) > 1e-9:
        raise DataError(f"invalid config at 'split': fractions must sum to 1, got {split}")
    attacks = prepared["attacks"]
    attackable = [spec.name for spec in specs() if spec.attackable]
    if attacks["models"] is None:
        attacks["models"] = [s.name for s in specs() if s.attackable and not s.classic_baseline]
    for model in attacks["models"]:
        if model not in attackable:
            raise DataError(f"invalid config at 'attacks.models': {model!r} is not a model that can be "
                            f"attacked; expected some of {attackable}")
    check_tuning(prepared)
    mappable = mappable_models()
    for model in prepared["scaling"].get("models", {}):
        if model not in mappable:
            raise DataError(f"invalid config at 'scaling.models': {model!r} is not a mapped model; "
                            f"expected one of {mappable}")
    if prepared["data_dir"] is not None:
        check_published_folder(prepared["data_dir"], prepared["dimensions"])
    return prepared


def settings_origin(config: Mapping[str, Any], model: str, n: int) -> int | None:
    """The ``by_n`` row whose settings the model uses at n: n's own, else the nearest n's (ties
    to the smaller n), or None when the model has no ``by_n`` rows."""
    keys = sorted(int(key) for key in config["models"][model].get("by_n", {}))
    if not keys:
        return None
    return min(keys, key=lambda key: (abs(key - n), key))


def model_settings(config: Mapping[str, Any], model: str, n: int) -> dict[str, Any]:
    """A model's settings for n: its defaults, overridden by n's own ``by_n`` row or, for an n
    the table has no row for, the nearest n's row (``settings_origin``).

    So n = 24, 30, 45 use the n = 18 row of the paper's tables and n = 10 the n = 9 row, unless
    configured themselves. The keys a model's spec names in ``own_n_settings`` (e.g. polynomial
    LR's degree range, which follows the parity's size) come only from n's own row; elsewhere
    they keep the model's default.
    """
    section = dict(config["models"][model])
    overrides = section.pop("by_n", {})
    for key in ("enabled", "dimensions", "max_n", "repeats"):
        section.pop(key, None)
    origin = settings_origin(config, model, n)
    if origin is not None:
        row = dict(overrides[str(origin)])
        if origin != n and model in MODELS:
            for key in spec_of(model).own_n_settings:
                row.pop(key, None)
        section.update(row)
    return dict(sorted(section.items()))


def skip_reason(config: Mapping[str, Any], model: str, n: int) -> str | None:
    """Why ``model`` does not run at n (None when it runs): disabled, outside its ``dimensions``,
    above its ``max_n``, or beyond a limit of its spec (e.g. polynomial LR's basis size)."""
    section = config["models"][model]
    if not section.get("enabled", True):
        return f"not run: models.{model}.enabled is false"
    allowed = section.get("dimensions")
    if allowed is not None and n not in allowed:
        return f"not run: n={n} is outside models.{model}.dimensions"
    if section.get("max_n") is not None and n > int(section["max_n"]):
        return f"not run: n={n} is above models.{model}.max_n ({int(section['max_n'])})"
    beyond = spec_of(model).beyond_limits if model in MODELS else None
    return beyond(model_settings(config, model, n), n) if beyond else None


def model_dimensions(config: Mapping[str, Any], model: str) -> list[int]:
    """The n this model runs on: the study's dimensions (the data's n), limited by the model's
    own ``dimensions`` list, its ``max_n`` and its spec's limits (``skip_reason``)."""
    return [n for n in config["dimensions"] if skip_reason(config, model, n) is None]


def _rows(schema: dict, root: dict, prefix: str) -> list[tuple[str, str, str, str]]:
    schema = _resolve(schema, root)
    rows = []
    for name, sub in schema.get("properties", {}).items():
        key = f"{prefix}{name}"
        resolved = _resolve(sub, root)
        kind = "/".join(_types(resolved)) or "object"
        default = yaml.safe_dump(resolved["default"], default_flow_style=True, width=10_000).strip() \
            .removesuffix("...").strip() if "default" in resolved else ""
        description = " ".join(str(resolved.get("description", "")).split())
        rows.append((key, kind, default, description))
        if resolved.get("properties") and name != "by_n":
            rows += _rows(resolved, root, f"{key}.")
    return rows


def config_reference(schema_path: Path | str = SCHEMA_PATH) -> str:
    """config/README.md: every key of the schema with its type, default and description."""
    schema = load_schema(schema_path)
    lines = [
        "# Configuration keys",
        "",
        "Generated from `workflow/schemas/config.schema.yaml` by `make config-docs`"
        " (`python -m kryptonite_n.plan.config`); a test keeps the two equal.",
        "`config.yaml` is the full study, `quick.yaml` a tiny run for tests and CI;",
        "any key can be overridden with `--config key=value` or another `--configfile`.",
        "",
        "| key | type | default | meaning |",
        "|---|---|---|---|",
    ]
    for key, kind, default, description in _rows(schema, schema, ""):
        cells = [f"`{key}`", kind, f"`{default}`" if default else "", description.replace("|", "\\|")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(config_reference(), end="")


def check_published_folder(folder: Path | str, dimensions: Iterable[int]) -> None:
    """Raise DataError naming ``data_dir`` when it lacks a published file of some configured n,
    saying which n it holds: files of another edition come with other n than the study's."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"invalid config at 'data_dir': {folder} is not a folder")
    held = sorted(int(match.group(1)) for path in folder.iterdir()
                  if (match := re.fullmatch(r"kryptonite-(\d+)-X\.npy", path.name)))
    lacking = []
    for n in dimensions:
        files = paths.dataset_files(folder, n).values()
        absent = [file.name for file in files if not file.exists()]
        if absent:
            lacking.append(f"n = {n}" if len(absent) == len(files) else f"n = {n} ({', '.join(absent)})")
    if lacking:
        raise DataError(f"invalid config at 'dimensions': data_dir {folder} has no published files for "
                        f"{', '.join(lacking)}; it holds n = {', '.join(map(str, held)) or 'none'}: set "
                        "dimensions to those (e.g. --config 'dimensions=[...]')")


def check_tuning(config: Mapping[str, Any]) -> None:
    """What the schema cannot say about the ``tuning`` section; raise DataError naming the key."""
    tuning = config["tuning"]
    if tuning["split_repeat"] >= config["repeats"]:
        raise DataError(f"invalid config at 'tuning.split_repeat': {tuning['split_repeat']} is not below "
                        f"repeats ({config['repeats']})")
    for key in RANGED:
        bounds = tuning["space"][key]
        if bounds["low"] > bounds["high"]:
            raise DataError(f"invalid config at 'tuning.space.{key}': "
                            f"low {bounds['low']} > high {bounds['high']}")
        if bounds.get("log") and bounds["low"] <= 0:
            raise DataError(f"invalid config at 'tuning.space.{key}': a log scale needs low > 0")
    if tuning["space"]["dropout"]["high"] >= 1:
        raise DataError("invalid config at 'tuning.space.dropout': high must be below 1")
