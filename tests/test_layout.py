"""The layout holds: plugins reach the core through the kit alone, the core never reaches up.

A plugin is a package an entry point of `bridge.adapters` or `bridge.transports`
names. It may import `bridge.plugin` (the kit) and its own package, nothing else
of the bridge; the core (`bridge/` outside the transport packages, and `config/`)
imports no plugin and names no platform the installed adapters speak.
"""

from __future__ import annotations

import ast
import re
from importlib.metadata import entry_points
from importlib.util import find_spec
from pathlib import Path

import pytest

from bridge.http import webhooks
from bridge.runtime import plugins

ROOT = Path(__file__).resolve().parent.parent
KIT = "bridge.plugin"
DEVICE_SIDE = {"bridge/client.py", "bridge/thing_client.py", "bridge/simulator.py"}
"""Devices' code, not the server's: SDKs and virtual devices speak a transport's wire
protocol as a device does."""


def plugin_packages() -> dict[str, Path]:
    """Each installed plugin's top package (dotted name) and its folder, from the entry points."""
    found = {}
    for group in (plugins.ADAPTERS, plugins.TRANSPORTS):
        for ep in entry_points(group=group):
            parts = ep.value.split(":")[0].split(".")
            # bridge.transports.<name>, adapters.<name>, or a third party's own top module
            package = ".".join(parts[:3] if parts[0] == "bridge" else parts[:2])
            spec = find_spec(package)
            assert spec is not None and spec.origin, f"{ep.name}: {package} is not importable"
            origin = Path(spec.origin)
            found[package] = origin.parent if origin.name == "__init__.py" else origin
    return found


def imports(path: Path) -> list[tuple[int, str]]:
    """Every module a file imports (at the top, in a function, or for type checking)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append((node.lineno, node.module))
    return out


def files(where: Path) -> list[Path]:
    return sorted(where.rglob("*.py")) if where.is_dir() else [where]


def inside(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_every_plugin_package_is_found():
    packages = plugin_packages()
    assert {"adapters.alexa", "adapters.tuya", "bridge.transports.sinric"} <= set(packages)
    assert {"bridge.transports.mqtt", "bridge.transports.sigfox"} <= set(packages)


def test_plugins_import_only_the_kit_and_their_own_package():
    offenders = []
    for package, where in plugin_packages().items():
        for path in files(where):
            for line, module in imports(path):
                core = module.split(".")[0] in ("bridge", "config", "adapters")
                if core and not (inside(module, KIT) or inside(module, package)):
                    offenders.append(f"{path.relative_to(where.parent)}:{line}: {module}")
    assert offenders == []


def core_files() -> list[Path]:
    packages = plugin_packages().values()
    return [
        path
        for folder in ("bridge", "config")
        for path in files(ROOT / folder)
        if not any(path.is_relative_to(p) for p in packages)
        and str(path.relative_to(ROOT)) not in DEVICE_SIDE
    ]


def test_the_core_imports_no_plugin():
    packages = [*plugin_packages(), "adapters"]
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {module}"
        for path in core_files()
        for line, module in imports(path)
        if any(inside(module, p) for p in packages)
    ]
    assert offenders == []


def platform_names() -> set[str]:
    """What the installed adapters' platforms are called: mount names, titles, other names."""
    names = set()
    for name, cls in webhooks.discover().items():
        names.add(name)
        names |= {word for word in re.findall(r"[A-Za-z]{4,}", cls.title)}
        names |= set(cls.aka)
    return {n.lower() for n in names} - {"echo", "home"}


def test_the_platform_names_come_from_every_installed_adapter():
    names = platform_names()
    assert {"alexa", "amazon", "google", "xiaodu", "dueros", "tmallgenie", "aligenie"} <= names
    assert "tuya" in names


@pytest.mark.parametrize("folder", ["bridge", "config"])
def test_the_core_names_no_platform(folder):
    words = re.compile("|".join(sorted(platform_names())), re.I)
    offenders = [
        f"{path.relative_to(ROOT)}: {found.group(0)}"
        for path in core_files()
        if path.is_relative_to(ROOT / folder)
        for found in [words.search(path.read_text())]
        if found
    ]
    assert offenders == []


def test_one_installed_transport_is_the_default():
    from bridge.transports.registry import discover

    defaults = [name for name, cls in discover().items() if cls.default]
    assert defaults == [plugins.default_transport()]


def test_what_the_mqtt_walkthrough_writes_in_the_tree_is_never_committed():
    """`bridge mqtt broker-config --out ./broker` and `bridge thing batch create --out
    things.zip` write keys into the working tree: git must ignore them."""
    import subprocess

    paths = ["broker/ca.key", "broker/bridge.key", "things.zip", "things-lamps.zip"]
    found = subprocess.run(
        ["git", "check-ignore", *paths], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert found.stdout.split() == paths, found.stderr
