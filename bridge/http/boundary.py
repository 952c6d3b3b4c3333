"""The typed boundary: bytes from outside become a model here, or a `Malformed`.

Every entry point (webhooks, the REST API, the admin endpoint, the device
socket) decodes through here, so the rules are one set: UTF-8, strict JSON
(no duplicate keys, no NaN or Infinity, no number that overflows a double
or 64 bits), nesting at most `MAX_DEPTH` deep, and then the entry point's
own msgspec model, whose fields carry their types, ranges and lengths.
Handlers only ever see models.

jiter parses (it is the one fast parser that refuses duplicate keys: a
signed message must not mean two things); msgspec converts to the model
(bench/boundary.py measures it against pydantic on the hot path).
"""

from __future__ import annotations

import math
import typing
from typing import Annotated, Any, TypeVar

import jiter
import msgspec
from msgspec import Meta

MAX_DEPTH = 16
"""Deepest nesting any entry point takes; the protocols need five or six."""

INT_MIN, INT_MAX = -(2**63), 2**63 - 1
"""Whole numbers must fit 64 bits (what SQLite and every platform store)."""

T = TypeVar("T")

LIMIT = 10**13
Number = Annotated[int, Meta(ge=-LIMIT, le=LIMIT)] | Annotated[float, Meta(ge=-LIMIT, le=LIMIT)]
"""A platform's number: whole numbers stay whole, and no value a device cannot mean. A
time fits, in seconds or milliseconds (a meter's `startTime`: 10**9 was passed in 2001)."""
Scalar = Number | Annotated[str, Meta(max_length=1024)] | bool | None
Value = dict[Annotated[str, Meta(max_length=64)], Scalar | dict[str, Scalar]]
"""A device action's value: named scalars, or objects of them (a colour's r, g and b)."""
Text = Annotated[str, Meta(max_length=256)]
"""Names, ids and modes: short strings."""
Token = Annotated[str, Meta(max_length=2048)]
"""Bearer tokens, correlation tokens and codes."""


class Malformed(ValueError):
    """Input an entry point does not take; the text says why and is safe to show."""


def loads(body: bytes | str, max_depth: int = MAX_DEPTH, *, untyped: bool = False) -> Any:
    """Strict JSON to Python values; raise Malformed for anything else.

    `untyped`: the document is kept and served as it is, with no model to bound its
    numbers (a device shadow): every number is checked here."""
    data = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    try:
        doc = jiter.from_json(data, allow_inf_nan=False, catch_duplicate_keys=True)
    except ValueError as exc:
        raise Malformed(f"not valid JSON: {exc}") from None
    # The walk costs more than the parse: skip it when too few brackets to nest that deep.
    # (Numbers are bounded again by the models: a typed field, or a `Value` leaf.)
    if untyped or data.count(b"{") + data.count(b"[") > max_depth:
        _check(doc, max_depth)
    return doc


def _check(doc: Any, max_depth: int) -> None:
    """Refuse nesting deeper than max_depth and numbers a double cannot hold."""
    stack = [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        elif (isinstance(node, float) and not math.isfinite(node)) or (
            isinstance(node, int) and not INT_MIN <= node <= INT_MAX
        ):
            raise Malformed("a number is out of range")
        else:
            continue
        if depth > max_depth:
            raise Malformed(f"JSON nested deeper than {max_depth} levels")
        stack.extend((child, depth + 1) for child in children if not isinstance(child, str))


def convert(doc: Any, model: type[T], *, strict: bool = True) -> T:
    """Python values (already strict) to the model; raise Malformed with the path.

    Not `strict`: numbers and booleans may come as their text (a caller that
    fills a JSON template by text substitution, as Sigfox does).
    """
    try:
        return msgspec.convert(doc, model, strict=strict)
    except msgspec.ValidationError as exc:
        raise Malformed(str(exc)) from None


def decode(
    body: bytes | str, model: type[T], max_depth: int = MAX_DEPTH, *, strict: bool = True
) -> T:
    """Bytes to the model in one call: `loads` then `convert`."""
    return convert(loads(body, max_depth), model, strict=strict)


def _list_fields(model: type) -> frozenset[str]:
    """The fields of a model typed as a list or tuple (a form's checkboxes)."""
    if not (isinstance(model, type) and issubclass(model, msgspec.Struct)):
        return frozenset()
    return frozenset(
        f.encode_name
        for f in msgspec.structs.fields(model)
        if typing.get_origin(typing.get_args(f.type)[0] if _annotated(f.type) else f.type)
        in (list, tuple)
    )


def _annotated(kind: Any) -> bool:
    return typing.get_origin(kind) is Annotated


def from_params(multi: Any, model: type[T], *, from_strings: bool = False) -> T:
    """Query or form parameters (a werkzeug MultiDict) to the model; each may come once.

    With `from_strings`, numbers are read from their text and an empty
    parameter counts as absent (a query string's `limit=` or `cursor=`).
    """
    lists = multi.to_dict(flat=False)
    several = _list_fields(model)  # a field typed as a list takes every value given
    repeated = sorted(k for k, v in lists.items() if len(v) > 1 and k not in several)
    if repeated:
        raise Malformed(f"parameter {repeated[0][:40]!r} is repeated")
    values = {
        k: v if k in several else v[0]
        for k, v in lists.items()
        if not (from_strings and v[0] == "")
    }
    try:
        return msgspec.convert(values, model, strict=not from_strings)
    except msgspec.ValidationError as exc:
        raise Malformed(str(exc)) from None
