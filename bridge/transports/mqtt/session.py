"""The bridge's MQTT client: paho's, reading every packet that is there at each wake.

paho's `loop_read` reads one packet per select, whatever its argument says:
under gevent each small message then costs a select and a switch to the hub,
and the one session that hears every thing drains ~24,000 messages a second
(measured on the development machine, TLS), less than one flooding thing
sends. Reading until the socket has no more (at most `BATCH`, then the loop
yields) drains ~30,000, so a flood refused by the budget does not queue up
behind everyone else's answers. paho is pinned: this leans on its
`_packet_read`, as its own `loop_read` does.
"""

from __future__ import annotations

import paho.mqtt.client as mqtt

BATCH = 200
"""Packets read per wake at most, so that other greenlets run between batches."""


class Session(mqtt.Client):
    def loop_read(self, max_packets: int = 1) -> mqtt.MQTTErrorCode:
        for _ in range(BATCH):
            if self._sock is None:
                return mqtt.MQTTErrorCode.MQTT_ERR_NO_CONN
            rc = self._packet_read()
            if rc > 0:
                return self._loop_rc_handle(rc)
            if rc == mqtt.MQTTErrorCode.MQTT_ERR_AGAIN:
                break
        return mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS
