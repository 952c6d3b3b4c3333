"""A household member on Tmall Genie: a query makes their link, the shared light answers,
and leaving the household notifies Tmall Genie that the member's device list changed."""

from __future__ import annotations

from genie_helpers import QUERY, v1
from household_helpers import households, join

LIST = "alibaba.ailabs.iot.device.list.update.notify"


def test_a_member_reaches_the_shared_light_and_is_notified_when_it_leaves(
    genie, taobao, store, account, make_account
):
    ben = make_account()
    token = store.tokens.issue(ben.user.id, "tmallgenie")
    light = store.devices.create(account.user.id, "light", "Attic light")
    join(store, account, ben)
    answer = genie.send(v1(QUERY, "Query", token, light.id))  # the bridge now knows the token
    assert answer["payload"]["errorCode"] == "IOT_DEVICE_OFFLINE"  # reached: it is offline
    before = len(taobao.wait_for(lambda c: c["method"] == LIST and c["token"] == token, 0))
    households(store).remove(account.user, ben.user.id)
    notified = taobao.wait_for(lambda c: c["method"] == LIST and c["token"] == token)
    assert len(notified) > before
    gone = genie.send(v1(QUERY, "Query", token, light.id))
    assert gone["payload"]["errorCode"] == "DEVICE_IS_NOT_EXIST", gone
