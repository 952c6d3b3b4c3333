"""The owner's console: behind the linking login, keys managed, history live, in a browser."""

import re
import time

import requests
from alexa_helpers import Alexa, directive
from conftest import ALEXA_DEADLINE
from playwright.sync_api import expect
from servers import eventually

from config.settings import Settings


def test_console_needs_a_login(server):
    reply = requests.get(server.url + "/console", allow_redirects=False, timeout=5)
    assert reply.status_code == 302 and reply.headers["Location"].endswith("/console/login")
    page = requests.get(server.url + "/console/login", timeout=5)
    assert "Sign in to your console" in page.text
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


def test_console_in_a_browser(browser, server, account, light, connect, output_dir):
    connect(account, [light])
    page = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
    page.goto(server.url + "/console")
    page.get_by_label("User name").fill(account.user.name)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/console$"))
    expect(page.get_by_text("Kitchen light").first).to_be_visible()
    expect(page.locator("span.pill", has_text="online").first).to_be_visible()
    page.screenshot(path=output_dir / "1-console.png", full_page=True)

    page.get_by_label("Name").fill("vendor app")
    page.get_by_label("Products").fill("light")
    page.get_by_role("button", name="Create key").click()
    key_id = page.locator("#key-id").inner_text()
    secret = page.locator("#key-secret").inner_text()
    page.screenshot(path=output_dir / "2-new-key.png", full_page=True)
    page.get_by_role("link", name="Back to the console").click()
    expect(page.get_by_text(key_id)).to_be_visible()

    token = requests.post(server.url + "/api/v1/token", auth=(key_id, secret), timeout=5).json()[
        "access_token"
    ]
    page.wait_for_timeout(700)  # the live table has subscribed
    reply = requests.post(
        server.url + f"/api/v1/devices/{light.id}/commands",
        timeout=10,
        headers={"Authorization": f"Bearer {token}"},
        json={"action": "setBrightness", "value": {"brightness": 44}},
    )
    assert reply.status_code == 200
    fresh = page.locator("#history tbody tr.fresh", has_text=f"api:{key_id}")
    expect(fresh.first).to_be_visible(timeout=10000)  # arrived without a reload
    expect(fresh.first).to_contain_text("setBrightness")
    page.screenshot(path=output_dir / "3-live-history.png", full_page=True)

    page.locator("form[action$='/disable'] button").first.click()
    expect(page.locator("span.pill", has_text="disabled")).to_be_visible()
    refused = requests.get(
        server.url + "/api/v1/devices", timeout=5, headers={"Authorization": f"Bearer {token}"}
    )
    assert refused.status_code == 401
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone.add_cookies(page.context.cookies())
    small = phone.new_page()
    small.goto(server.url + "/console")
    expect(small.get_by_text("Kitchen light").first).to_be_visible()
    small.screenshot(path=output_dir / "4-phone.png", full_page=True)


def test_a_password_change_ends_console_sessions(server, platform, account, store):
    session = platform.session
    platform.console_login(account.user.name, account.password)
    home = session.get(server.url + "/console", allow_redirects=False, timeout=5)
    assert home.status_code == 200
    assert 'id="services"' not in home.text  # every service of a serving bridge runs
    store.users.set_password(account.user.name, "a-brand-new-password")
    reply = session.get(server.url + "/console", allow_redirects=False, timeout=5)
    assert reply.status_code == 302 and reply.headers["Location"].endswith("/console/login")


def test_revoke_links_with_a_password_change_ends_every_grant(server_env, platform, account, store):
    import os
    import subprocess
    import sys
    from pathlib import Path

    code, _ = platform.code_for(account.user.name, account.password)
    token = platform.exchange(code).json()["access_token"]
    assert platform.discover(token).status_code == 200
    bridge = str(Path(sys.executable).with_name("bridge"))
    done = subprocess.run(
        [
            bridge,
            "user",
            "password",
            account.user.name,
            "--password",
            "another-pass-1",
            "--revoke-links",
        ],
        env={**os.environ, **server_env},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert "1 platform link(s) revoked" in done.stdout
    # The server is another process: it drops its token cache at its next change check
    # (every 50 ms; later on a busy machine), not the instant the command commits.
    eventually(lambda: platform.discover(token).json().get("error") == "invalid_token")


def _signed_in(browser, server, account, **context):
    page = browser.new_context(**context).new_page()
    page.goto(server.url + "/console")
    page.get_by_label("User name").fill(account.user.name)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/console$"))
    return page


def test_a_timeout_is_explained_and_its_journey_drawn(
    browser, server, store, account, light, connect, output_dir
):
    connect(account, [light], delay=ALEXA_DEADLINE + 0.15)
    token = store.tokens.issue(account.user.id, "alexa")
    Alexa(server.url).send(directive("Alexa.PowerController", "TurnOn", token, light.id))
    eventually(lambda: store.messages.query(device_id=light.id, kind="request", limit=1))
    # The device does it, too late: the reason says how late
    eventually(lambda: store.messages.query(device_id=light.id, kind="response", limit=1))
    page = _signed_in(browser, server, account, viewport={"width": 1200, "height": 900})
    reason = re.compile(rf"the device answered after [0-9.]+ s, past Alexa's {ALEXA_DEADLINE:g} s")
    row = page.locator("#history tbody tr", has_text="timeout").first
    expect(row).to_contain_text(reason)
    expect(row).to_contain_text("Kitchen light")  # the name, the id on hover
    assert row.locator("span[title]").first.get_attribute("title") == light.id
    page.screenshot(path=output_dir / "5-history-reasons.png", full_page=True)
    row.get_by_role("link", name="journey").click()
    expect(page.locator("#explanation")).to_have_text(reason)
    hops = page.locator("#timeline li")
    expect(hops).to_have_count(5)
    expect(hops.nth(0)).to_contain_text("webhook received")
    expect(hops.nth(2)).to_contain_text("timeout")
    expect(hops.nth(3)).to_contain_text("ENDPOINT_UNREACHABLE")
    expect(hops.nth(4)).to_contain_text("device answer, too late")
    expect(hops.nth(4)).to_contain_text("answered after")
    expect(hops.nth(0).locator(".after")).to_have_text("start")
    page.screenshot(path=output_dir / "6-journey.png", full_page=True)

    phone = _signed_in(
        browser, server, account, viewport={"width": 375, "height": 812}, is_mobile=True
    )
    card = phone.locator("#history tbody tr", has_text="timeout").first
    expect(card).to_contain_text(reason)
    device = phone.locator("#devices tbody tr").first
    for cell in [*card.locator("td").all(), *device.locator("td").all()]:
        if not cell.inner_text().strip():
            continue
        box = cell.bounding_box()  # every column's content on the screen, none cut off
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375, box
    phone.screenshot(path=output_dir / "7-phone-cards.png", full_page=True)


def test_charts_and_service_levels_draw_the_scripted_history(
    browser, server, store, account, light, output_dir
):
    from bridge.store.messages import Entry

    now = time.time()
    rows = [("alexa", "ok", 120.0)] * 9 + [("alexa", "timeout", 800.0)]
    rows += [("google", "ok", 300.0)] * 3 + [("google", "ok", 1500.0)]
    for n, (origin, outcome, latency) in enumerate(rows):
        at = now - 7200 + n  # two hours ago: in the day, not in the hour
        entry = Entry("out", "request", outcome, light.id, account.user.id, "setPowerState")
        entry.origin, entry.latency_ms, entry.at = origin, latency, at
        store.messages.record(entry)
    for outcome in ("ok", "ok", "ok", "dead-letter"):
        store.messages.record(
            Entry("out", "report", outcome, light.id, account.user.id, origin="alexa", at=now - 60)
        )
    for at, outcome in ((now - 6 * 3600, "offline"), (now - 3 * 3600, "online")):
        store.messages.record(Entry("in", "connection", outcome, light.id, account.user.id, at=at))
    store.writer.flush()
    page = _signed_in(browser, server, account, viewport={"width": 1200, "height": 1400})
    day = page.locator("svg[data-chart='success, last day']")
    assert day.locator("g[data-label='alexa']").get_attribute("data-value") == "0.9"
    assert day.locator("g[data-label='google']").get_attribute("data-value") == "1"
    assert page.locator("svg[data-chart='success, last hour'] g.bar").count() == 0
    latency = page.locator("svg[data-chart='p50 and p99 latency, last day (ms)']")
    assert latency.locator("g[data-label='google p99']").get_attribute("data-value") == "1500"
    assert latency.locator("g[data-label='alexa p50']").get_attribute("data-value") == "120"
    reports = page.locator("svg[data-chart='reports by outcome, last day'] g[data-label='alexa']")
    assert reports.locator("rect[data-kind='ok']").get_attribute("data-value") == "3"
    assert reports.locator("rect[data-kind='dead-letter']").get_attribute("data-value") == "1"
    strip = page.locator("svg[data-chart='online Kitchen light'] desc")
    assert abs(float(strip.get_attribute("data-online")) - 21 / 24) < 0.01
    google = page.locator("#slos tr", has_text="Google")
    expect(google).to_contain_text("100.0%")
    assert [p.get_attribute("data-met") for p in google.locator("span.pill").all()] == [
        "true",  # success 100% >= 99.5%
        "false",  # p90 1500 ms > 1 s
    ]
    alexa = page.locator("#slos tr", has_text="Alexa")
    expect(alexa).to_contain_text("90.0%")
    page.locator("#levels").screenshot(path=output_dir / "8-service-levels.png")


def test_history_filters_by_platform_device_and_time(server, platform, store, account, light):
    from bridge.store.messages import Entry

    plug = store.devices.create(account.user.id, "plug", "Porch plug")
    for origin, device, age in (("alexa", light, 7200), ("google", plug, 60)):
        entry = Entry("out", "request", "timeout", device.id, account.user.id, "setPowerState")
        entry.origin, entry.at = origin, time.time() - age
        store.messages.record(entry)
    store.writer.flush()
    platform.console_login(account.user.name, account.password)

    def rows(query: str) -> list[str]:
        html = platform.session.get(server.url + "/console?" + query, timeout=5).text
        table = html[html.index('id="history"') :]
        return re.findall(r'<span title="([0-9a-f]{24})">', table)

    assert rows("origin=google") == [plug.id]
    assert rows(f"device_id={light.id}") == [light.id]
    assert rows("window=hour") == [plug.id]  # the alexa row is two hours old
    assert set(rows("window=day")) == {light.id, plug.id}
    bad = platform.session.get(server.url + "/console?window=year", timeout=5)
    assert bad.status_code == 400


def test_a_request_a_webhook_made_shows_its_directive(server, platform, store, account, light):
    from bridge.store.messages import Entry

    entry = Entry("out", "request", "ok", light.id, account.user.id, "setPowerState")
    entry.directive, entry.reply, entry.origin = "Alexa.PowerController.TurnOn", "HTTP 200", "alexa"
    store.messages.record(entry)
    store.writer.flush()
    platform.console_login(account.user.name, account.password)
    html = platform.session.get(server.url + "/console", timeout=5).text
    assert '<td data-label="Action">setPowerState (Alexa.PowerController.TurnOn)</td>' in html


def test_open_alerts_are_shown_first(server, platform, store, account, light):
    store.alerts.open(
        account.user.id,
        f"offline:{light.id}",
        "device_offline",
        "Kitchen light has been offline since 09:00",
        light.id,
    )
    platform.console_login(account.user.name, account.password)
    html = platform.session.get(server.url + "/console", timeout=5).text
    section = html[html.index('id="alerts"') : html.index("<h2>Devices</h2>")]
    assert "Kitchen light has been offline since 09:00" in section


def test_the_console_names_a_service_that_is_not_running(tmp_path):
    """Built and not serving (its services stopped): the owner's page says so."""
    from bridge import create_app

    app = create_app({"database": str(tmp_path / "c.db"), "secret_key": "k"})
    app.extensions["bridge"].store.users.create("alice", "password1")
    client = app.test_client()
    page = client.get("/console/login").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post(
        "/oauth/login?next=/console",
        data={"username": "alice", "password": "password1", "csrf_token": csrf},
    )
    home = client.get("/console").text
    assert 'data-service="reports"' in home and "reports: stopped" in home


def test_a_page_past_the_accounts_open_streams_says_its_live_updates_stopped(
    browser, server, account, store
):
    key, secret = store.keys.create(account.user.id, "inbound", ["light"])
    token = requests.post(server.url + "/api/v1/token", auth=(key.id, secret), timeout=5).json()[
        "access_token"
    ]
    bearer = {"Authorization": f"Bearer {token}"}
    held = []
    try:
        for _ in range(Settings().streams_per_account):  # the account's every place
            held.append(
                requests.get(server.url + "/api/v1/stream", headers=bearer, stream=True, timeout=10)
            )
            assert held[-1].status_code == 200
            time.sleep(0.12)  # under the key's rate
        page = browser.new_context().new_page()
        page.goto(server.url + "/console")
        page.get_by_label("User name").fill(account.user.name)
        page.get_by_label("Password").fill(account.password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(r".*/console$"))
        expect(page.locator("#live-stopped")).to_contain_text("Live updates stopped")
    finally:
        for response in held:
            response.close()


def test_a_platform_is_linked_as_soon_as_its_owner_allows_it(server, make_platform, account):
    """Signed in and allowed: linked, before the platform calls (Alexa's AcceptGrant)."""
    alexa = make_platform(server.url, adapter="alexa")
    code, _ = alexa.code_for(account.user.name, account.password)
    assert alexa.exchange(code).status_code == 200
    html = alexa.session.get(server.url + "/console", timeout=5).text  # the same sign-in
    rows = dict(re.findall(r'data-label="Platform">(\w+)</td>(.*?)</tr>', html, re.S))
    assert ">linked<" in rows["alexa"]
    assert "reports start when the platform confirms the link" in rows["alexa"]
    assert ">not linked<" in rows["google"]


def test_each_devices_day_is_drawn_under_its_whole_name_on_a_time_axis(
    server, platform, store, account
):
    from bridge.store.messages import Entry

    long_name = "Living room ceiling light by the north window"
    lamp = store.devices.create(account.user.id, "light", long_name)
    meter = store.devices.create(account.user.id, "plug", "Field pump", transport="sigfox")
    now = time.time()
    for age in (5 * 3600, 3600):  # a device that holds no connection: heard twice
        store.messages.record(
            Entry("in", "event", "ok", meter.id, account.user.id, "setPowerState", at=now - age)
        )
    store.writer.flush()
    platform.console_login(account.user.name, account.password)
    html = platform.session.get(server.url + "/console", timeout=5).text
    strip = html[html.index(f'data-chart="online {long_name}"') :].split("</svg>", 1)[0]
    assert f'<text x="0" y="10">{long_name}</text>' in strip  # not cut at 16 characters
    heard = html[html.index('data-chart="heard Field pump"') :].split("</svg>", 1)[0]
    assert 'data-heard="2"' in heard and 'class="online"' not in heard
    assert len(re.findall(r'class="heard" data-at="', heard)) == 2
    assert 'data-chart="online Field pump"' not in html  # never "online all day"
    axis = html[html.index('data-chart="time axis"') :].split("</svg>", 1)[0]
    ticks = re.findall(r">(\d+ h ago|now)</text>", axis)
    assert ticks == ["24 h ago", "18 h ago", "12 h ago", "6 h ago", "now"]
    assert lamp.id in html


def test_on_a_phone_every_table_is_cards_and_no_label_touches_its_value(
    browser, server, store, account, light, output_dir
):
    from bridge.store.messages import Entry

    entry = Entry("out", "request", "ok", light.id, account.user.id, "setPowerState")
    entry.origin, entry.latency_ms = "alexa", 120.0
    store.messages.record(entry)
    store.writer.flush()
    phone = _signed_in(
        browser, server, account, viewport={"width": 375, "height": 812}, is_mobile=True
    )
    for table in ("#devices", "#slos", "#platforms", "#history"):
        expect(phone.locator(f"{table} thead")).to_be_hidden()
    gaps = phone.locator("#slos td, #platforms td").evaluate_all(
        """cells => cells.map(td => {
            const label = getComputedStyle(td, '::before');
            const range = document.createRange();
            range.selectNodeContents(td);
            const box = td.getBoundingClientRect();
            return {label: td.dataset.label, gap: parseFloat(label.marginRight),
                    fits: range.getBoundingClientRect().right <= box.right + 1};
        })"""
    )
    assert gaps and all(g["gap"] >= 6 for g in gaps), gaps  # a label never runs into its value
    assert all(g["fits"] for g in gaps), gaps  # and no value runs off its card
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    phone.screenshot(path=output_dir / "9-phone-cards.png", full_page=True)
