"""The README cannot drift from the code: settings and commands must be in it."""

import re
from pathlib import Path

import click

from bridge import plugins
from bridge.cli import main

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_every_setting_is_documented():
    from dataclasses import fields

    from config.settings import Settings, env_name

    gunicorn = (ROOT / "config" / "gunicorn.conf.py").read_text()
    names = set(re.findall(r'"(BRIDGE_[A-Z_]+[A-Z])"', gunicorn))
    names |= {env_name(f.name) for f in fields(Settings) if f.name != "plugin_settings"}
    assert len(names) > 25
    missing = sorted(n for n in names if f"`{n}`" not in README)
    assert missing == []


def test_every_plugin_setting_is_documented():
    """Each installed plugin's settings model names its BRIDGE_<NAME>_* variables."""
    from bridge.plugin import settings
    from bridge.transports.registry import discover

    found = {**plugins.discover(), **discover()}
    found.pop("echo")  # the tests' own adapter
    names = {v for name, cls in found.items() for v in settings.variables(cls.settings_model, name)}
    assert {"BRIDGE_ALEXA_CLIENT_ID", "BRIDGE_MQTT_URL", "BRIDGE_TUYA_PRODUCT_*"} <= names
    missing = sorted(n for n in names if f"`{n.rstrip('*')}" not in README)
    assert missing == []


def commands(group: click.Group, prefix: str = "bridge"):
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from commands(command, f"{prefix} {name}")
        else:
            yield f"{prefix} {name}"


def test_every_cli_command_is_documented():
    main.load_plugins()  # the plugins' commands too (the CLI loads them when named)
    listed = list(commands(main))
    assert "bridge device create" in listed and "bridge sigfox type create" in listed

    def documented(command: str) -> bool:
        group, leaf = command.rsplit(" ", 1)
        return command in README or any(
            group in line and f"|{leaf}" in line for line in README.splitlines()
        )

    assert [c for c in listed if not documented(c)] == []


def test_quick_start_has_exactly_the_two_commands():
    section = README.split("## Quick start", 1)[1].split("##", 1)[0]
    block = section.split("```sh", 1)[1].split("```", 1)[0]
    assert [line.split("#")[0].strip() for line in block.strip().splitlines()] == [
        "make run",
        "make test",
    ]


def test_a_transport_is_named_only_in_its_own_package():
    """The core reaches devices through the seam (bridge.transports) and never past it.

    Only the device-side SDKs (bridge/client.py, bridge/thing_client.py) speak a
    transport's protocol.
    """
    transports = [p.name for p in (ROOT / "bridge" / "transports").iterdir() if p.is_dir()]
    transports = [t for t in transports if not t.startswith("_")]
    assert "sinric" in transports
    offenders = []
    for path in [*(ROOT / "bridge").rglob("*.py"), *(ROOT / "adapters").rglob("*.py")]:
        relative = path.relative_to(ROOT)
        if relative.parts[:2] == ("bridge", "transports") and len(relative.parts) > 3:
            continue  # inside a transport's own package
        if relative in (Path("bridge/client.py"), Path("bridge/thing_client.py")):
            continue
        text = path.read_text()
        offenders += [f"{relative}: {t}" for t in transports if f"bridge.transports.{t}" in text]
    assert offenders == []
