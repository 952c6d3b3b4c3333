"""The reference pages made from the code: every setting, every command, the kit.

`python -m bridge.reference` writes them into `docs/` (`--check` only compares);
`tests/test_docs.py` fails when a page is not what this makes, or when a setting
or a command has no help text, so the reference cannot drift from the code.
"""

from __future__ import annotations

import dataclasses
import inspect
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
import msgspec

from bridge.plugin import coverage
from bridge.plugin import reference as kit_reference
from bridge.plugin import settings as plugin_settings
from bridge.plugin.reference import field_docs
from config.settings import Settings, env_name

WIDTH = 88
"""The help's width on the CLI page (what a terminal shows is the terminal's)."""
SHIPPED = ("adapters.", "bridge.transports.")
"""Plugins that come with the bridge: the page is the same on every installation."""


def _one_line(text: str) -> str:
    return " ".join(inspect.cleandoc(text).split()).replace("|", "\\|")


def _default(value: Any) -> str:
    if value is None:
        return "(every one)"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, tuple):
        return f"`{','.join(value)}`" if value else "(empty)"
    if isinstance(value, dict):
        return "(none)"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"`{value}`" if value != "" else "(empty)"


def core_settings() -> Iterator[tuple[str, list[tuple[str, Any, str]]]]:
    """The core's settings by group (the comment above each run of fields in the
    model), each as its variable, default and help."""
    docs = field_docs(Settings)
    defaults = {
        f.name: f.default for f in dataclasses.fields(Settings) if f.name != "plugin_settings"
    }
    group, rows = "", []
    for line in inspect.getsource(Settings).splitlines():
        stripped = line.strip()
        if line.startswith("    # "):
            if rows:
                yield group, rows
            group, rows = stripped[2:], []
        name = stripped.partition(":")[0]
        if line.startswith("    ") and not line.startswith("     ") and name in defaults:
            rows.append((env_name(name), defaults[name], docs.get(name, "")))
    yield group, rows


def plugins() -> dict[str, type]:
    """The shipped adapters and transports by name."""
    from bridge.http.webhooks import discover as adapters
    from bridge.transports.registry import discover as transports

    found = {**adapters(), **transports()}
    return {n: c for n, c in sorted(found.items()) if c.__module__.startswith(SHIPPED)}


def plugin_rows(name: str, cls: type) -> list[tuple[str, Any, str]]:
    model = cls.settings_model
    docs: dict[str, str] = {}
    for klass in reversed(model.__mro__):  # a base's fields (RelaySettings) are documented there
        docs.update(field_docs(klass))
    fields = msgspec.structs.fields(model)
    variables = plugin_settings.variables(model, name)

    def default(field: msgspec.structs.FieldInfo) -> Any:
        if field.default_factory is not msgspec.NODEFAULT:
            return field.default_factory()
        return field.default

    return [(v, default(f), docs.get(f.name, "")) for v, f in zip(variables, fields, strict=True)]


def undocumented_settings() -> list[str]:
    rows = [r for _, group in core_settings() for r in group]
    rows += [r for name, cls in plugins().items() for r in plugin_rows(name, cls)]
    return [variable for variable, _, help in rows if not help.strip()]


def _table(rows: list[tuple[str, Any, str]]) -> list[str]:
    out = ["| variable | default | meaning |", "|---|---|---|"]
    out += [f"| `{v}` | {_default(d)} | {_one_line(h)} |" for v, d, h in rows]
    return [*out, ""]


def settings_page() -> str:
    out = [
        "# Settings",
        "",
        "Every setting is an environment variable with an embedded default: `make run`",
        "needs none of them. This page is made from the settings models",
        "(`config/settings.py`, and each plugin's `settings_model`) by",
        "`python -m bridge.reference`; `tests/test_docs.py` fails when it is out of date",
        "or a setting has no help text. A value that does not parse stops the server and",
        "every command with one line naming the variable.",
        "",
    ]
    for group, rows in core_settings():
        out += [f"## {group}", "", *_table(rows)]
    out += [
        "## Plugins",
        "",
        "Each adapter and transport reads its own `BRIDGE_<NAME>_*` variables (and no",
        "other: never `BRIDGE_SECRET_KEY`); an empty variable counts as unset.",
        "",
    ]
    for name, cls in plugins().items():
        kind = "transport" if cls.__module__.startswith("bridge.transports.") else "adapter"
        out += [f"### {name}", "", f"The `{name}` {kind} (`{cls.__module__}`).", ""]
        rows = plugin_rows(name, cls)
        out += _table(rows) if rows else ["It has no settings.", ""]
    return "\n".join(out).rstrip() + "\n"


def commands(group: click.Group, path: str = "bridge") -> Iterator[tuple[str, click.Command]]:
    """Every command under `group`, depth first, in the order `--help` lists them."""
    context = click.Context(group, info_name=path)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        if command is None or command.hidden:
            continue
        yield f"{path} {name}", command
        if isinstance(command, click.Group):
            yield from commands(command, f"{path} {name}")


def _help(command: click.Command, path: str) -> str:
    parent = click.Context(click.Group("bridge"), info_name=path.rpartition(" ")[0])
    context = click.Context(
        command, info_name=path.rpartition(" ")[2], parent=parent, terminal_width=WIDTH
    )
    context.max_content_width = WIDTH
    return command.get_help(context)


def undocumented_commands() -> list[str]:
    from bridge.cli import main

    main.load_plugins()
    return [path for path, command in commands(main) if not (command.help or "").strip()]


def cli_page() -> str:
    from bridge.cli import main

    main.load_plugins()
    out = [
        "# The `bridge` command",
        "",
        "`bridge --help` of every command, made from the code by",
        "`python -m bridge.reference`; `tests/test_docs.py` fails when it is out of date or",
        "a command has no help. Every command but `send` works on the database named by",
        "`BRIDGE_DATABASE` (with the same `BRIDGE_SECRET_KEY` as the server); `send` asks",
        "the running server at `BRIDGE_URL` (see",
        "[deploying](deploying.md#the-cli-against-a-deployed-bridge)).",
        "",
        "```text",
        _help(main, "bridge").rstrip(),
        "```",
        "",
    ]
    for path, command in commands(main):
        level = "#" * min(2 + path.count(" ") - 1, 4)
        out += [f"{level} `{path}`", "", "```text", _help(command, path).rstrip(), "```", ""]
    return "\n".join(out).rstrip() + "\n"


MARKS = {True: "yes", False: "no"}


def _mark(cell: coverage.Cell) -> str:
    return "-" if cell == coverage.NONE else MARKS[cell.supported]


def coverage_page() -> str:
    """The catalog's types against the shipped platforms, each cell with its reason."""
    from bridge import catalog

    platforms = {n: c for n, c in plugins().items() if hasattr(c, "coverage")}
    out = [
        "# Coverage: device types on each platform",
        "",
        "Made by `python -m bridge.reference` from each adapter's `coverage()`; a test",
        "fails when a type has a cell no adapter decided. Each cell reads discovered /",
        "controllable / reported / routine trigger: `yes`, `no` (the reason is below), or",
        "`-` where the type has nothing of the kind (a sensor takes no command).",
        "",
        "| type | " + " | ".join(c.title or n for n, c in platforms.items()) + " |",
        "|---|" + "---|" * len(platforms),
    ]
    for type_name in catalog.TYPES:
        row = []
        for cls in platforms.values():
            found = cls.coverage(type_name)
            row.append(" / ".join(_mark(c) for c in found.cells()) if found else "undecided")
        out.append(f"| `{type_name}` | " + " | ".join(row) + " |")
    for name, cls in platforms.items():
        out += [
            "",
            f"## {cls.title or name}",
            "",
            "| type | " + " | ".join(coverage.ASPECTS) + " |",
        ]
        out.append("|---|" + "---|" * len(coverage.ASPECTS))
        for type_name in catalog.TYPES:
            found = cls.coverage(type_name)
            cells = found.cells() if found else ()
            text = [
                "-" if c == coverage.NONE else f"{MARKS[c.supported]}: {_one_line(c.how)}"
                for c in cells
            ]
            out.append(f"| `{type_name}` | " + " | ".join(text or ["undecided"] * 4) + " |")
    return "\n".join(out) + "\n"


PAGES: dict[str, Callable[[], str]] = {
    "settings.md": settings_page,
    "cli.md": cli_page,
    "plugin-kit.md": kit_reference.page,
    "coverage.md": coverage_page,
}
"""Each generated page of `docs/`, and what makes it."""


def main(argv: list[str]) -> int:
    docs = Path(__file__).resolve().parent.parent / "docs"
    stale = [
        name
        for name, make in PAGES.items()
        if not (docs / name).exists() or (docs / name).read_text() != make()
    ]
    if "--check" in argv:
        for name in stale:
            print(f"docs/{name} is out of date: python -m bridge.reference", file=sys.stderr)
        return 1 if stale else 0
    for name in stale:
        (docs / name).write_text(PAGES[name]())
        print(f"wrote docs/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
