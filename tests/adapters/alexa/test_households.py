"""Two people of one household, each with their own Alexa: each hears the shared light's
changes on their own gateway token, never their own command back, and a member who is
removed hears the light deleted."""

from __future__ import annotations

from alexa_helpers import accept_grant, directive
from household_helpers import households, join

from bridge.reports.messages import DeviceAnnounced, StateReport, decode


def enable_skill(alexa, amazon, store, account) -> tuple[str, str]:
    """The person's bridge token (what Alexa sends) and gateway token (what it receives)."""
    token = store.tokens.issue(account.user.id, "alexa")
    assert accept_grant(alexa, amazon.issue_code(), token)["event"]["header"]["name"] == (
        "AcceptGrant.Response"
    )
    return token, store.links("alexa").get(account.user.id)["access_token"]


def queued(store, account, device, kind: type, **fields) -> list:
    """What the outbox holds for one person's Alexa about a device, of one kind."""
    rows = store.db.execute(
        "select change from outbox where adapter = 'alexa' and user_id = ? and device_id = ?",
        (account.user.id, device.id),
    ).fetchall()
    found = [decode(text) for (text,) in rows]
    return [
        m for m in found if type(m) is kind and all(getattr(m, k) == v for k, v in fields.items())
    ]


def scoped(event: dict) -> str:
    found = event["event"].get("endpoint", {}).get("scope") or event["event"]["payload"]["scope"]
    return found["token"]


def test_each_member_hears_the_shared_light_on_their_own_alexa(
    alexa, amazon, store, make_account, connect
):
    ann, ben = make_account(), make_account()
    light = store.devices.create(ann.user.id, "light", "Stair light")
    _, ann_gateway = enable_skill(alexa, amazon, store, ann)
    ben_token, ben_gateway = enable_skill(alexa, amazon, store, ben)
    join(store, ann, ben)

    def events(name: str, gateway: str, after: int = 0):
        return amazon.wait_for(
            lambda e: (
                e["event"]["header"]["name"] == name
                and "rejected" not in e
                and scoped(e) == gateway
                and light.id in str(e["event"])
                and amazon.events.index(e) >= after
            )
        )

    added = events("AddOrUpdateReport", ben_gateway)  # it entered Ben's reach
    assert added[0]["event"]["payload"]["endpoints"][0]["friendlyName"] == "Stair light"
    # Connected only now: the join came from this process, which a server hears of at its
    # next change check; the worker holding the light first reads who hears it after it.
    online = connect(ann, [light])
    for gateway in (ann_gateway, ben_gateway):  # its coming online, told to both first
        events("ChangeReport", gateway)
    mark = len(amazon.events)
    online.client.send_event(light.id, "setPowerState", {"state": "On"})  # the wall switch
    for gateway in (ann_gateway, ben_gateway):
        [heard] = events("ChangeReport", gateway, mark)[:1]
        assert heard["event"]["payload"]["change"]["cause"]["type"] == "PHYSICAL_INTERACTION"

    mark = len(amazon.events)
    turned = alexa.send(directive("Alexa.PowerController", "TurnOff", ben_token, light.id))
    assert turned["event"]["header"]["name"] == "Response"  # Ben's voice, Ann's light
    [voice] = events("ChangeReport", ann_gateway, mark)[:1]
    assert voice["event"]["payload"]["change"]["cause"]["type"] == "VOICE_INTERACTION"
    # Queued with the answer: Ann's Alexa has Ben's change; Ben's own Alexa never does.
    assert queued(store, ann, light, StateReport, origin="alexa")
    assert queued(store, ben, light, StateReport, origin="alexa") == []

    households(store).remove(ann.user, ben.user.id)
    deleted = events("DeleteReport", ben_gateway)
    assert deleted[0]["event"]["payload"]["endpoints"] == [{"endpointId": light.id}]
    assert queued(store, ann, light, DeviceAnnounced) == []  # Ann keeps her light
