"""Strict model configurations: every field known, typed and consistent, with defaults marked.

transformers builds a configuration from any mapping: an unknown key becomes an inert attribute, an omitted
field silently takes the library's default, and some invalid combinations surface only when the model is
built. ``resolve_config_fields`` refuses all three:

- an unknown ``model_type`` is an error listing the close names;
- a key that is neither a field of the model's config class nor a generic ``PretrainedConfig`` key (nor
  one of the class's aliases, such as ``hidden_size`` for DistilBERT's ``dim``) is an error with
  "did you mean";
- a value of the wrong type (a string for ``hidden_size``, ``true`` for a count) and an invalid combination
  (a hidden size not divisible by the number of heads) are errors naming the field, what was found and
  the fix;

and returns every field of the resolved configuration with a marker of which values were given and which
are defaults. ``compare_configs`` lists the fields in which two configurations (the one a claims file
declares, the one a checkpoint ships) resolve differently.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Mapping
from typing import Any

import attrs

from harness.core.errors import did_you_mean
from harness.ml.errors import FieldError

#: keys a checkpoint's config.json carries that describe its saving, not the architecture
BOOKKEEPING_KEYS = frozenset({"transformers_version", "_name_or_path", "_commit_hash", "architectures"})
#: generic keys PretrainedConfig accepts without declaring them in its signature
GENERIC_KWARGS = ("num_labels", "torch_dtype", "output_attentions")
#: a generic key that sets other fields: those count as given too
SETS_ALSO = {"num_labels": ("id2label", "label2id"), "torch_dtype": ("dtype",)}
#: fields (canonical names through the config's attribute_map) that must be positive integers when present
POSITIVE_FIELDS = (
    "vocab_size",
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "intermediate_size",
    "max_position_embeddings",
)
#: Python types named in transformers' annotations, for checking a value's type
_TYPE_NAMES: dict[str, tuple[type, ...]] = {
    "int": (int,),
    "float": (float,),
    "str": (str,),
    "bool": (bool,),
    "None": (type(None),),
    "list": (list, tuple),
    "tuple": (list, tuple),
    "dict": (dict,),
}


class _Absent:
    """The marker of a field one of two compared configurations does not have."""

    def __repr__(self) -> str:
        return "<absent>"


ABSENT = _Absent()


@attrs.frozen
class Difference:
    """A field whose resolved value differs: ``declared`` (the claims file's) and ``found`` (e.g. a checkpoint's)."""

    declared: Any
    found: Any


@attrs.frozen(eq=False)
class ResolvedFields:
    """A configuration resolved strictly: ``values`` has every field, ``given`` names those not defaulted.

    ``config`` is the transformers configuration object built from it (pass it to ``from_config``).
    """

    model_type: str
    config_class: str
    values: Mapping[str, Any]
    given: frozenset[str]
    config: Any

    def source(self, field: str) -> str:
        """``"given"`` or ``"default"``."""
        return "given" if field in self.given else "default"

    def defaulted(self) -> tuple[str, ...]:
        """The fields that took the config class's defaults, in order."""
        return tuple(k for k in self.values if k not in self.given)

    def as_evidence(self) -> dict[str, dict[str, Any]]:
        """Every field with its value and whether it was given or defaulted, for a report."""
        return {k: {"value": v, "source": self.source(k)} for k, v in self.values.items()}


def config_class(model_type: object) -> Any:
    """transformers' configuration class for ``model_type``; an unknown type is an error listing close names."""
    from transformers import CONFIG_MAPPING

    names = list(CONFIG_MAPPING.keys())
    if not isinstance(model_type, str) or model_type not in CONFIG_MAPPING:
        hint = did_you_mean(str(model_type), names)
        raise FieldError(
            "model_type",
            "one of transformers' model types (e.g. 'bert', 'distilbert', 'albert', 'roberta')",
            f"{model_type!r}, which this transformers does not know",
            "correct model_type." + (hint or " The types are the keys of transformers.CONFIG_MAPPING."),
        )
    return CONFIG_MAPPING[model_type]


@attrs.frozen
class _FieldType:
    """What a config field accepts: values of ``types``, or one of ``choices`` (a ``Literal``); None: unchecked."""

    types: tuple[type, ...] | None
    choices: tuple[Any, ...] = ()
    default: Any = None

    def accepts(self, value: Any) -> bool:
        if self.types is None or value in self.choices:
            return True
        return isinstance(value, self.types) and (bool in self.types or not isinstance(value, bool))

    def words(self) -> str:
        words = {int: "an integer", float: "a number", str: "a string", bool: "true or false", type(None): "none"}
        words |= {list: "a list", tuple: "a list", dict: "a table"}
        if float in (self.types or ()):
            words[int] = words[float]  # an integer is a number
        named = [words.get(t, t.__name__) for t in self.types or ()]
        named += [f"{c!r}" for c in self.choices]
        return " or ".join(dict.fromkeys(named))


def _annotation_text(annotation: Any) -> str | None:
    if annotation is inspect.Parameter.empty:
        return None
    return annotation if isinstance(annotation, str) else inspect.formatannotation(annotation)


def _split_union(annotation: str) -> list[str]:
    """``"dict[int, str] | Literal['a', 'b'] | None"`` -> its three members (``|`` inside brackets kept)."""
    depth, part, parts = 0, "", []
    for char in annotation:
        depth += (char in "[(") - (char in "])")
        if char == "|" and depth == 0:
            parts.append(part.strip())
            part = ""
        else:
            part += char
    return [*parts, part.strip()]


def _field_type(annotation: str | None, default: Any) -> _FieldType:
    """What a field accepts, from its annotation (``int | None``) or else from the type of its default."""
    if annotation is None:
        if default is None or default is inspect.Parameter.empty:
            return _FieldType(None)
        if isinstance(default, bool):
            return _FieldType((bool,), default=default)
        return _FieldType((int, float) if isinstance(default, float) else (type(default),), default=default)
    types: list[type] = []
    choices: list[Any] = []
    for member in _split_union(annotation):
        base = member.split("[", 1)[0].removeprefix("typing.")
        if base == "Literal":
            try:
                choices.extend(ast.literal_eval("[" + member[len("Literal[") : -1] + "]"))
            except (ValueError, SyntaxError):
                return _FieldType(None)
        elif base == "torch.dtype":
            import torch

            types.extend((str, torch.dtype))
        elif base in _TYPE_NAMES:
            types.extend(_TYPE_NAMES[base])
        else:
            return _FieldType(None)  # a type not named here: left to transformers' own validation
    return _FieldType(tuple(types), tuple(choices), None if default is inspect.Parameter.empty else default)


def _fields(cls: Any) -> dict[str, _FieldType]:
    """Every key the config class accepts, with what it accepts."""
    from transformers import PretrainedConfig

    fields: dict[str, _FieldType] = {}
    for source in (PretrainedConfig, cls):
        for name, param in inspect.signature(source.__init__).parameters.items():
            if name == "self" or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                continue
            fields[name] = _field_type(_annotation_text(param.annotation), param.default)
    try:
        defaults = cls().to_dict()
    except Exception:  # a composite config (encoder-decoder) has no defaults of its own: its signature is all
        defaults = {}
    for name, value in defaults.items():
        fields.setdefault(name, _field_type(None, value))
    for name in GENERIC_KWARGS:
        fields.setdefault(name, _FieldType(None))
    return fields


def _checked_value(cls: Any, key: str, value: Any, field: _FieldType) -> Any:
    """``value`` when ``field`` accepts it (an integer is accepted for a float field, as a float)."""
    types = field.types or ()
    if isinstance(value, int) and not isinstance(value, bool) and float in types and int not in types:
        return float(value)
    if field.accepts(value):
        return value
    default = field.default
    example = f", e.g. {key} = {default!r}" if default is not None and field.accepts(default) else ""
    numeric = int in types or float in types
    quotes = " (a number, without quotes)" if isinstance(value, str) and numeric else ""
    raise FieldError(
        key,
        f"{field.words()} (the type of {cls.__name__}.{key})",
        f"{value!r} ({type(value).__name__})",
        f"write {field.words()}{example}{quotes}",
    )


def _check_combinations(cls: Any, config: Any, given: set[str]) -> None:
    """Positive sizes and a hidden size divisible by the number of heads, named as this class names them."""
    aliases = getattr(cls, "attribute_map", {}) or {}

    def written(name: str) -> str:
        return aliases.get(name, name)

    def shown(name: str, value: Any) -> str:
        return f"{written(name)} = {value!r}" + ("" if written(name) in given else " (the default)")

    for name in POSITIVE_FIELDS:
        value = getattr(config, name, None)
        if isinstance(value, int) and not isinstance(value, bool) and value < 1:
            raise FieldError(written(name), "a positive integer", repr(value), f"write {written(name)} >= 1")
    hidden, heads = getattr(config, "hidden_size", None), getattr(config, "num_attention_heads", None)
    if getattr(config, "head_dim", None) is not None or not (isinstance(hidden, int) and isinstance(heads, int)):
        return
    if hidden % heads:
        h, n = written("hidden_size"), written("num_attention_heads")
        divisors = sorted((d for d in range(1, hidden + 1) if hidden % d == 0), key=lambda d: abs(d - heads))[:3]
        multiples = sorted({heads * max(1, hidden // heads), heads * (hidden // heads + 1)})
        raise FieldError(
            h,
            f"{h} divisible by {n} (each head gets {h} / {n} dimensions)",
            f"{shown('hidden_size', hidden)} and {shown('num_attention_heads', heads)} ({hidden / heads:.3g} each)",
            f"set {n} to a divisor of {hidden} (e.g. {' or '.join(map(str, sorted(divisors)))}) or {h} to a "
            f"multiple of {heads} (e.g. {' or '.join(map(str, multiples))})",
        )


def _canonical_values(cls: Any, model_type: str, config: Mapping[str, Any], strict: bool) -> dict[str, Any]:
    """The given keys under the class's canonical names, checked when ``strict``."""
    if not isinstance(config, Mapping):
        raise FieldError("config", "a table of config fields", type(config).__name__, "write the config as a table")
    declared = config.get("model_type", model_type)
    if declared != model_type:
        raise FieldError(
            "model_type",
            f"the model type the config is resolved for ({model_type!r})",
            repr(declared),
            "make the config's model_type and the model's type the same",
        )
    aliases = getattr(cls, "attribute_map", {}) or {}
    fields = _fields(cls) if strict else {}
    values: dict[str, Any] = {}
    for key, value in config.items():
        if key == "model_type":
            continue
        name = aliases.get(key, key)
        if strict and name not in fields:
            unknown = [k for k in config if k != "model_type" and aliases.get(k, k) not in fields]
            also = f" (unknown too: {', '.join(map(repr, unknown[1:]))})" if len(unknown) > 1 else ""
            raise FieldError(
                key,
                f"a field of {cls.__name__} or a generic PretrainedConfig key",
                f"{key!r}, which {cls.__name__} does not have (transformers would keep it and ignore it){also}",
                ("remove them or correct their names." if also else "remove it or correct its name.")
                + did_you_mean(key, set(fields) | set(aliases)),
            )
        if strict:
            value = _checked_value(cls, key, value, fields[name])
        if name in values and values[name] != value:
            raise FieldError(
                key,
                f"one value for {name!r} ({key!r} is {cls.__name__}'s alias of it)",
                f"{name} = {values[name]!r} and {key} = {value!r}",
                f"give only {name}",
            )
        values[name] = value
    return values


def _build(cls: Any, values: Mapping[str, Any]) -> Any:
    try:
        return cls(**values)
    except Exception as exc:  # transformers' own validation: strict dataclass fields, ValueError, TypeError
        field = getattr(exc, "field_name", None) or getattr(exc, "field", None) or "config"
        raise FieldError(
            str(field),
            f"values {cls.__name__} accepts",
            f"{type(exc).__name__}: {' '.join(str(exc).split())}",
            "correct the field transformers names above",
        ) from None


def resolve_config_fields(model_type: str, config: Mapping[str, Any]) -> ResolvedFields:
    """The strictly checked configuration ``config`` declares for ``model_type``, every field resolved."""
    cls = config_class(model_type)
    values = _canonical_values(cls, model_type, config, strict=True)
    labels = values.get("id2label")
    if isinstance(labels, Mapping) and "num_labels" in values and values["num_labels"] != len(labels):
        raise FieldError(
            "num_labels",
            f"the number of labels id2label names ({len(labels)})",
            f"num_labels = {values['num_labels']!r}",
            "give id2label or num_labels, not both",
        )
    built = _build(cls, values)
    _check_combinations(cls, built, set(values))
    given = set(values) | {"model_type"}
    for key, also in SETS_ALSO.items():
        if key in values:
            given.update(also)
    return ResolvedFields(model_type, cls.__name__, built.to_dict(), frozenset(given), built)


def _lenient_values(config: Mapping[str, Any], side: str) -> tuple[str, dict[str, Any]]:
    model_type = config.get("model_type") if isinstance(config, Mapping) else None
    if not isinstance(model_type, str):
        raise FieldError(
            f"{side}.model_type", "a model type (e.g. 'bert')", repr(model_type), "add model_type to that config"
        )
    cls = config_class(model_type)
    values = _canonical_values(cls, model_type, config, strict=False)
    return model_type, _build(cls, values).to_dict()


def compare_configs(declared: Mapping[str, Any], found: Mapping[str, Any]) -> dict[str, Difference]:
    """The fields in which ``declared`` and ``found`` resolve differently (defaults filled in, aliases mapped,
    bookkeeping keys such as ``transformers_version`` ignored); empty when they describe the same model.

    Neither side is checked strictly: a checkpoint's config.json may carry keys of other transformers
    versions. A field only one side has is reported with ``ABSENT`` on the other.
    """
    declared_type, declared_values = _lenient_values(declared, "declared")
    found_type, found_values = _lenient_values(found, "found")
    if declared_type != found_type:
        return {"model_type": Difference(declared_type, found_type)}
    differences: dict[str, Difference] = {}
    for key in dict.fromkeys([*declared_values, *found_values]):
        if key in BOOKKEEPING_KEYS:
            continue
        a, b = declared_values.get(key, ABSENT), found_values.get(key, ABSENT)
        if a != b:
            differences[key] = Difference(a, b)
    return differences
