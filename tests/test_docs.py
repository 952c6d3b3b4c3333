"""The README cannot drift from the code: settings and commands must be in it."""

import re
import sys
import types
from pathlib import Path

import click
import pytest
from servers import queued_for

from bridge.cli import main
from bridge.http import webhooks

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

    found = {**webhooks.discover(), **discover()}
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


DOCS = ROOT / "docs"


def test_the_kit_reference_is_made_from_the_code_and_every_member_is_documented():
    from bridge.plugin import reference

    assert reference.undocumented() == []
    assert (DOCS / "plugin-kit.md").read_text() == reference.page(), (
        "docs/plugin-kit.md is out of date: python -m bridge.plugin.reference > docs/plugin-kit.md"
    )
    for names in reference.SECTIONS.values():  # every public class of the kit has a section
        assert all(f"### `{name}`" in reference.page() for name in names)


def blocks(page: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", (DOCS / page).read_text(), re.S)


def load(page: str, module: str, monkeypatch) -> types.ModuleType:
    """The page's Python, in order, as one module (as a plugin author would save it)."""
    made = types.ModuleType(module)
    monkeypatch.setitem(sys.modules, module, made)
    exec(compile("".join(blocks(page, "python")), f"docs/{page}", "exec"), made.__dict__)
    return made


@pytest.fixture
def guides(monkeypatch, tmp_path):
    """The app with the two plugins of the guides installed, as their entry points say."""
    from bridge import create_app
    from bridge.transports import registry

    hello = load("writing-an-adapter.md", "hello_bridge", monkeypatch)
    loopback = load("writing-a-transport.md", "loopback_bridge", monkeypatch)
    [adapter_toml] = blocks("writing-an-adapter.md", "toml")
    [transport_toml] = blocks("writing-a-transport.md", "toml")
    assert 'hello = "hello_bridge:HelloAdapter"' in adapter_toml
    assert 'loopback = "loopback_bridge:LoopbackTransport"' in transport_toml
    adapters, transports = webhooks.discover, registry.discover
    monkeypatch.setattr(
        webhooks, "discover", lambda only=None: {**adapters(only), "hello": hello.HelloAdapter}
    )
    monkeypatch.setattr(
        registry, "discover", lambda: {**transports(), "loopback": loopback.LoopbackTransport}
    )
    monkeypatch.setenv("BRIDGE_LOOPBACK_REFUSE", "setBrightness")
    app = create_app({"database": str(tmp_path / "guides.db"), "secret_key": "k"})
    return app, hello, loopback


def test_the_guides_plugins_carry_a_command_end_to_end(guides):
    app, _, loopback = guides
    bridge = app.extensions["bridge"]
    store = bridge.store
    user, _ = store.users.create("alice", "password1")
    lamp = store.devices.create(user.id, "light", "Lamp", transport="loopback")
    token = store.tokens.issue(user.id, "hello")
    client = app.test_client()

    def say(**body):
        return client.post("/voice/hello", json=body)

    on = say(op="on", device=lamp.id, token=token, id="r1")
    assert (on.status_code, on.json) == (200, {"id": "r1", "state": "On"})
    assert store.shadow.values(lamp.id) == {"powerState": "On"}
    counts = bridge.transports.by_name["loopback"].counts
    assert isinstance(counts, loopback.Counts) and counts.of(lamp.id) == 1
    assert say(op="dance", device=lamp.id, token=token, id="r2").json["error"] == "UNSUPPORTED"
    assert say(op="on", device=lamp.id, token="nope", id="r3").json["error"] == "INVALID_TOKEN"
    assert say(op="on", device="f" * 24, token=token, id="r4").json["error"] == "NO_SUCH_DEVICE"
    assert say(op="on").status_code == 400  # no device, no token: refused at the edge
    store.writer.flush()
    [request] = store.messages.query(device_id=lamp.id, kind="request")
    assert request["directive"] == "on" and request["journey"]


def test_the_guides_transport_reports_a_press_to_the_guides_adapter(guides):
    app, _, loopback = guides
    bridge = app.extensions["bridge"]
    store = bridge.store
    user, _ = store.users.create("bob", "password1")
    lamp = store.devices.create(user.id, "light", "Lamp", transport="loopback")
    store.links("hello").put(user.id, {})  # the rule (`takes_reports`) says it takes them
    transport = bridge.transports.by_name["loopback"]
    assert transport.context.settings == loopback.LoopbackSettings(refuse="setBrightness")
    assert transport.press(lamp, "On") == "ok"
    assert queued_for(store, "hello", lamp.id) == ["setPowerState"]
    bridge.reporter.deliver_due()
    assert store.outbox.pending() == 0
