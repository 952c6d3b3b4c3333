"""The kit's reference page, made from the code: every public member with its signature.

`python -m bridge.plugin.reference > docs/plugin-kit.md` writes it;
`tests/test_docs.py` fails when the page is not what this makes, or when a
member has no docstring (a field's is the string under it), so the page
cannot drift from the kit nor leave a member unexplained.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import itertools
import sys
import textwrap
from collections.abc import Iterator

import msgspec

import bridge.plugin as kit

SECTIONS: dict[str, tuple[str, ...]] = {
    "Plugins": ("Plugin", "PluginContext", "PluginSettings", "Repository", "Cli"),
    "Adapters": (
        "Adapter",
        "AdapterContext",
        "RelaySettings",
        "VoiceRequest",
        "VoiceReply",
        "WebhookAdapter",
        "Directive",
        "Registry",
        "PlatformError",
    ),
    "Reports": (
        "Sink",
        "Message",
        "StateReport",
        "Reachability",
        "DeviceAnnounced",
        "LateResult",
        "Alert",
        "RetryLater",
        "DeadLetter",
        "LinkRevoked",
        "UnknownDevice",
    ),
    "Transports": ("Transport", "TransportContext", "Exchange", "Reply", "DeviceEvent"),
    "The core's nouns": ("User", "Device", "Command", "Result", "Outcome", "Journey"),
}
"""The kit's public classes, in the order the page explains them."""


def field_docs(cls: type) -> dict[str, str]:
    """The docstrings written under a class's fields (`name: type` then a string)."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    except (OSError, TypeError):
        return {}
    body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
    found = {}
    for node, after in itertools.pairwise(body):
        target = node.target if isinstance(node, ast.AnnAssign) else None
        if target is None and isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
        if (
            isinstance(target, ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            found[target.id] = inspect.cleandoc(after.value.value)
    return found


def _fields(cls: type) -> list[str]:
    if dataclasses.is_dataclass(cls):
        return [f.name for f in dataclasses.fields(cls)]
    if isinstance(cls, type) and issubclass(cls, msgspec.Struct):
        return list(cls.__struct_fields__)
    return []


def members(cls: type) -> Iterator[tuple[str, str]]:
    """(signature, docstring) of each public member the class itself defines or declares."""
    documented = field_docs(cls)
    own = {name for name in vars(cls) if not name.startswith("_")}
    own |= set(getattr(cls, "__annotations__", {}))
    for name in _fields(cls):
        if name in own or name in documented:
            yield f"`{name}`", documented.get(name, "")
    for name, value in vars(cls).items():
        if name.startswith("_") or name in _fields(cls):
            continue
        if isinstance(value, classmethod | staticmethod):
            value = value.__func__
        if isinstance(value, property):
            yield f"`{name}` (property)", inspect.getdoc(value) or ""
        elif inspect.isfunction(value):
            params = list(inspect.signature(value).parameters)
            args = ", ".join(p for p in params if p not in ("self", "cls"))
            yield f"`{name}({args})`", inspect.getdoc(getattr(cls, name)) or ""
        elif name in documented:
            yield f"`{name}`", documented[name]
    for name in getattr(cls, "__annotations__", {}):
        if not name.startswith("_") and name not in vars(cls) and name not in _fields(cls):
            yield f"`{name}`", documented.get(name, "")


def undocumented() -> list[str]:
    """Members (and classes) of the kit with no docstring."""
    missing = []
    for names in SECTIONS.values():
        for name in names:
            cls = getattr(kit, name)
            if not inspect.getdoc(cls):
                missing.append(name)
            missing += [f"{name}.{sig}" for sig, doc in members(cls) if not doc]
    return missing


def page() -> str:
    out = [
        "# The plugin kit: reference",
        "",
        "Everything an adapter or a transport is given or implements comes from one",
        "import, `bridge.plugin`. This page is made from the code",
        "(`python -m bridge.plugin.reference > docs/plugin-kit.md`); `tests/test_docs.py`",
        "fails when it is out of date or a member is undocumented. The guides:",
        "[writing an adapter](writing-an-adapter.md),",
        "[writing a transport](writing-a-transport.md).",
        "",
    ]
    for section, names in SECTIONS.items():
        out += [f"## {section}", ""]
        for name in names:
            cls = getattr(kit, name)
            bases = [b.__name__ for b in cls.__bases__ if b.__name__ in kit.__all__]
            title = f"### `{name}`" + (f" ({', '.join(bases)})" if bases else "")
            out += [title, "", inspect.getdoc(cls) or "", ""]
            for signature, doc in members(cls):
                text = " ".join(doc.split()) if doc else ""
                out.append(f"- {signature}: {text}" if text else f"- {signature}")
            out.append("")
    names = sorted(n for n in kit.__all__ if not any(n in group for group in SECTIONS.values()))
    out += [
        "## Also in the kit",
        "",
        "Errors (`BridgeError` and its family), the catalog (`catalog`), typed parsing",
        "(`boundary`, `Number`, `Text`, `Token`, `Scalar`, `LIMIT`), units (`units`), the",
        "history's entries (`Entry`, `rejection`) and the shared parts a transport uses:",
        "",
        ", ".join(f"`{n}`" for n in names),
        "",
    ]
    return "\n".join(out)


if __name__ == "__main__":
    sys.stdout.write(page())
