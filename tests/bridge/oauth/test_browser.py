"""The linking pages in a real headless Chromium, on a phone-sized screen."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect


@pytest.fixture
def page(browser) -> Page:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    yield context.new_page()
    context.close()


def test_linking_in_a_browser(page, platform, account, light, store, recorder, output_dir):
    store.devices.create(account.user.id, "thermostat", "Hall thermostat", "Hall")
    page.goto(platform.base + platform.authorize_path(state="browser-state"))
    expect(page.get_by_role("heading")).to_have_text(f"Sign in to link {platform.name}")
    page.screenshot(path=output_dir / "1-login.png", full_page=True)

    page.get_by_label("User name").fill(account.user.name)
    page.get_by_label("Password").fill("not my password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong user name or password.")
    page.screenshot(path=output_dir / "2-wrong-password.png", full_page=True)

    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading")).to_have_text(
        f"Allow {platform.name} to control your devices?"
    )
    expect(page.locator(".devices li")).to_have_count(2)
    expect(page.locator(".devices")).to_contain_text("Hall thermostat")
    page.screenshot(path=output_dir / "3-consent.png", full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "the page must fit a phone without sideways scrolling"

    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(platform.redirect_uri + "?*")
    query = parse_qs(urlsplit(page.url).query)
    assert query["state"] == ["browser-state"]
    page.screenshot(path=output_dir / "4-back-at-platform.png", full_page=True)
    tokens = platform.exchange(query["code"][0]).json()
    names = {d["name"] for d in platform.discover(tokens["access_token"]).json()["devices"]}
    assert names == {"Kitchen light", "Hall thermostat"}
    assert all(
        (output_dir / f).stat().st_size > 1000
        for f in ("1-login.png", "2-wrong-password.png", "3-consent.png", "4-back-at-platform.png")
    )


def test_denying_in_a_browser(page, platform, account, output_dir):
    page.goto(platform.base + platform.authorize_path(state="no-thanks"))
    page.get_by_label("User name").fill(account.user.name)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Deny").click()
    expect(page.get_by_role("heading")).to_have_text("Linking cancelled")
    page.screenshot(path=output_dir / "denied.png", full_page=True)
    page.get_by_role("link", name=f"Return to {platform.name}").click()
    page.wait_for_url(platform.redirect_uri + "?*")
    query = parse_qs(urlsplit(page.url).query)
    assert query["error"] == ["access_denied"] and query["state"] == ["no-thanks"]
