"""The docs cannot drift from the code: the reference pages are made from it, the
guides' code runs, and every link leads somewhere."""

import re
import sys
import types
from pathlib import Path

import click
import pytest
from servers import queued_for

from bridge import reference
from bridge.cli import main
from bridge.http import webhooks

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


DOCS = ROOT / "docs"


@pytest.mark.parametrize("page", sorted(reference.PAGES))
def test_each_reference_page_is_made_from_the_code(page):
    assert (DOCS / page).read_text() == reference.PAGES[page](), (
        f"docs/{page} is out of date: python -m bridge.reference"
    )


def test_every_setting_has_a_help_text_and_a_row():
    from dataclasses import fields

    from config.settings import Settings, env_name

    assert reference.undocumented_settings() == []
    page = (DOCS / "settings.md").read_text()
    names = {env_name(f.name) for f in fields(Settings) if f.name != "plugin_settings"}
    gunicorn = (ROOT / "config" / "gunicorn.conf.py").read_text()
    assert not re.findall(r"os\.environ", gunicorn)  # the server reads the model, not os.environ
    assert {"PORT", "BRIDGE_WORKERS", "BRIDGE_LOG_FORMAT", "BRIDGE_TLS_CERT"} <= names
    assert [n for n in sorted(names) if f"| `{n}` |" not in page] == []


def test_every_plugin_setting_has_a_row():
    """Each installed plugin's settings model names its BRIDGE_<NAME>_* variables."""
    from bridge.plugin import settings
    from bridge.transports.registry import discover

    found = {**webhooks.discover(), **discover()}
    found.pop("echo")  # the tests' own adapter
    names = {v for name, cls in found.items() for v in settings.variables(cls.settings_model, name)}
    assert {"BRIDGE_ALEXA_CLIENT_ID", "BRIDGE_MQTT_URL", "BRIDGE_TUYA_PRODUCT_*"} <= names
    page = (DOCS / "settings.md").read_text()
    assert [n for n in sorted(names) if f"| `{n}` |" not in page] == []


def commands(group: click.Group, prefix: str = "bridge"):
    for name, command in group.commands.items():
        yield f"{prefix} {name}"
        if isinstance(command, click.Group):
            yield from commands(command, f"{prefix} {name}")


def test_every_cli_command_has_a_help_text_and_a_section():
    main.load_plugins()  # the plugins' commands too (the CLI loads them when named)
    listed = list(commands(main))
    assert "bridge device create" in listed and "bridge sigfox type create" in listed
    assert reference.undocumented_commands() == []
    page = (DOCS / "cli.md").read_text()
    assert [c for c in listed if f"`{c}`\n" not in page] == []


def anchors(markdown: str) -> set[str]:
    """GitHub's ids of a page's headings (lower case, punctuation dropped, spaces to -)."""
    text = re.sub(r"```.*?```", "", markdown, flags=re.S)
    out = set()
    for heading in re.findall(r"^#+ (.+)$", text, re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        out.add(slug)
    return out


def test_every_link_between_the_pages_leads_somewhere():
    pages = [ROOT / "README.md", *DOCS.rglob("*.md")]
    broken = []
    for page in pages:
        text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue  # another site's
            path, _, anchor = target.partition("#")
            goal = (page.parent / path).resolve() if path else page
            if not goal.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
            elif anchor and goal.suffix == ".md" and anchor not in anchors(goal.read_text()):
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert broken == []


def test_every_page_is_reachable_from_the_index():
    index = (DOCS / "index.md").read_text()
    linked = {(DOCS / t.partition("#")[0]).resolve() for t in re.findall(r"\]\(([^)]+)\)", index)}
    pages = {p.resolve() for p in DOCS.rglob("*.md")} - {(DOCS / "index.md").resolve()}
    assert sorted(str(p.relative_to(DOCS)) for p in pages - linked) == []


def test_the_readme_fits_a_minute_and_points_at_the_docs():
    readme = README
    assert len(readme.split()) < 400  # what it is, the two commands, where to go next
    assert "docs/index.md" in readme and "docs/getting-started.md" in readme


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


def test_every_member_of_the_kit_is_documented():
    from bridge.plugin import reference as kit

    assert kit.undocumented() == []
    for names in kit.SECTIONS.values():  # every public class of the kit has a section
        assert all(f"### `{name}`" in kit.page() for name in names)


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
