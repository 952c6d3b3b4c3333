"""The shape of a tree, counted from its code: what crosses the core/plugin line, the
longest functions, the lines of each adapter.

    python bench/shape.py [TREE]

Plugins are the packages under adapters/ and bridge/transports/<name>/; the kit is
bridge/plugin/ (and, before there was one, the adapter contract in adapters/base.py);
the core is the rest of bridge/ and config/. A module crosses the line when the core
imports a plugin, or a plugin imports the core other than through the kit. The device
SDKs (bridge/client.py, thing_client.py, simulator.py) speak a transport's wire
protocol as devices do and are left out. Prints JSON.
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

BASE = "4be5b82"
"""The commit before the kit's first step (issue 26)."""
PLUGINS = ("bridge.transports.sinric", "bridge.transports.mqtt", "bridge.transports.sigfox")
KIT = ("bridge.plugin", "adapters.base")
DEVICE_SIDE = {"bridge.client", "bridge.thing_client", "bridge.simulator"}


def module_of(path: Path, tree: Path) -> str:
    parts = list(path.relative_to(tree).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def within(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def region(module: str) -> str:
    if module == "adapters" or within(module, KIT):
        return "kit"
    if module.startswith("adapters.") or within(module, PLUGINS):
        return "plugin"
    if module.split(".")[0] in ("bridge", "config"):
        return "core"
    return ""


def package(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:3] if parts[0] == "bridge" else parts[:2])


def imported(tree: ast.AST) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def shape(tree: Path) -> dict:
    files = [
        p for folder in ("bridge", "config", "adapters") for p in (tree / folder).rglob("*.py")
    ]
    crossing, functions, adapter_lines = set(), [], {}
    for path in files:
        module = module_of(path, tree)
        if module in DEVICE_SIDE:
            continue
        source = path.read_text()
        parsed = ast.parse(source)
        mine = region(module)
        for other in imported(parsed):
            theirs = region(other)
            if mine == "core" and (theirs == "plugin" or other.startswith("adapters")):
                crossing.add(module)  # the contract in adapters/ was a plugin package
            elif (
                mine == "plugin"
                and theirs == "core"
                and package(other) != package(module)
                and other not in ("bridge", "config")
            ):
                crossing.add(module)
        for node in ast.walk(parsed):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                functions.append((lines, f"{path.relative_to(tree)}:{node.name}"))
        if module.startswith("adapters.") and region(module) == "plugin":
            name = module.split(".")[1]
            adapter_lines[name] = adapter_lines.get(name, 0) + len(source.splitlines())
    functions.sort(reverse=True)
    return {
        "modules crossing the line": len(crossing),
        "crossing": sorted(crossing),
        "longest functions": [f"{name} ({lines})" for lines, name in functions[:8]],
        "lines per adapter": dict(sorted(adapter_lines.items())),
    }


if __name__ == "__main__":
    print(json.dumps(shape(Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()), indent=2))
