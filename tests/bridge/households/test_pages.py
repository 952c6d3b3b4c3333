"""Sharing in a browser: the owner makes an invitation link in the console, the invitee
creates an account (or signs in) on the bridge's own page and joins, and a removal
takes the devices away at once."""

from __future__ import annotations

import re
import uuid
from urllib.parse import parse_qs, urlsplit

import requests
from playwright.sync_api import expect


def signed_in(browser, server, name: str, password: str, **context):
    page = browser.new_context(**context).new_page()
    page.goto(server.url + "/console")
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/console$"))
    return page


def invitation(page, role: str, devices: tuple[str, ...] = ()) -> str:
    page.locator("#invite-role").select_option(role)
    for name in devices:
        page.get_by_label(name, exact=True).check()
    page.get_by_role("button", name="Make an invitation link").click()
    return page.locator("#invitation-url").inner_text()


def test_a_new_person_joins_by_the_link_and_is_removed_at_once(
    browser, server, store, account, output_dir, make_platform
):
    store.devices.create(account.user.id, "light", "Landing light")
    store.devices.create(account.user.id, "lock", "Back door")
    owner = signed_in(browser, server, account.user.name, account.password)
    url = invitation(owner, "member")
    assert url.startswith(server.url + "/console/join?token=")

    invitee = browser.new_context().new_page()
    invitee.goto(url)
    expect(invitee.locator("h1")).to_contain_text(f"Join {account.user.name}'s household")
    expect(invitee.locator("#role")).to_have_text("member")
    invitee.screenshot(path=output_dir / "1-invitation.png", full_page=True)
    name = "new" + uuid.uuid4().hex[:8]
    invitee.get_by_label("Choose a user name").fill(name)
    invitee.get_by_label("Choose a password").fill("a good password")
    invitee.get_by_role("button", name="Create my account and join").click()
    invitee.wait_for_url(re.compile(r".*/console$"))
    expect(invitee.locator("#devices")).to_contain_text("Landing light")
    expect(invitee.locator("#devices")).to_contain_text("Back door")  # a member's reach
    expect(invitee.locator("#household")).to_contain_text(f"{account.user.name}'s household")

    # The new member links their own platform through the linking pages: its consent
    # lists the household's devices, and its token discovers them.
    echo = make_platform(server.url)
    invitee.goto(echo.base + echo.authorize_path(state="member"))
    expect(invitee.locator(".devices")).to_contain_text("Landing light")
    invitee.get_by_role("button", name="Allow").click()
    invitee.wait_for_url(echo.redirect_uri + "?*")
    code = parse_qs(urlsplit(invitee.url).query)["code"][0]
    tokens = echo.exchange(code).json()
    found = {d["name"] for d in echo.discover(tokens["access_token"]).json()["devices"]}
    assert found == {"Landing light", "Back door"}
    invitee.goto(server.url + "/console")

    again = browser.new_context().new_page()  # the link is single-use
    reply = again.goto(url)
    assert reply.status == 404
    expect(again.locator("h1")).to_have_text("This invitation is not valid")

    owner.goto(server.url + "/console")
    row = owner.locator("#members tr", has_text=name)
    expect(row).to_contain_text("member")
    owner.screenshot(path=output_dir / "2-members.png", full_page=True)
    row.get_by_role("button", name="Remove").click()
    expect(owner.locator("#members")).not_to_contain_text(name)
    invitee.reload()
    expect(invitee.locator("#devices")).not_to_contain_text("Landing light")


def test_an_existing_account_signs_in_on_the_invitation_and_joins_as_a_guest(
    browser, server, store, make_account
):
    ann, gus = make_account(), make_account()
    store.devices.create(ann.user.id, "light", "Garden light")
    store.devices.create(ann.user.id, "plug", "Kettle")
    owner = signed_in(browser, server, ann.user.name, ann.password)
    url = invitation(owner, "guest", ("Garden light",))
    guest = browser.new_context().new_page()
    guest.goto(url)
    expect(guest.locator("#role")).to_have_text("guest")
    guest.get_by_label("User name", exact=True).fill(gus.user.name)
    guest.get_by_label("Password", exact=True).fill(gus.password)
    guest.get_by_role("button", name="Sign in").click()
    guest.wait_for_url(re.compile(r".*/console/join\?token="))
    guest.get_by_role("button", name="Join").click()
    guest.wait_for_url(re.compile(r".*/console$"))
    expect(guest.locator("#devices")).to_contain_text("Garden light")
    expect(guest.locator("#devices")).not_to_contain_text("Kettle")  # not named
    guest.get_by_role("button", name="Leave").click()
    expect(guest.locator("#devices")).not_to_contain_text("Garden light")


def test_the_invitation_page_refuses_what_is_not_a_live_invitation(server):
    for query in ("", "?token=", "?token=guess", "?token=" + "a" * 300, "?token=a&token=b"):
        reply = requests.get(server.url + "/console/join" + query, timeout=10)
        assert reply.status_code in (400, 404), (query, reply.status_code)
        assert reply.headers["Referrer-Policy"] == "no-referrer"  # tokens stay in the bar
        assert "Join" not in reply.text.split("<h1>", 1)[-1][:40]
    joined = requests.post(server.url + "/console/join", data={"token": "guess"}, timeout=10)
    assert joined.status_code == 400  # no CSRF token: refused before anything


def test_the_clis_invitation_link_opens_the_invitation_page(server, server_env, account):
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("bridge")),
            "household",
            "invite",
            account.user.name,
            "--role",
            "guest",
        ],
        env={**os.environ, **server_env, "BRIDGE_URL": server.url},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    printed = json.loads(done.stdout)
    assert printed["url"] == f"{server.url}/console/join?token={printed['token']}"
    page = requests.get(printed["url"], timeout=10)
    assert page.status_code == 200 and f"Join {account.user.name}" in page.text
