"""The MQTT transport's own tables, on SQLite and on PostgreSQL, and their move out of the
core's migration set: an older database keeps its rows."""

from __future__ import annotations

from bridge.transports.mqtt.tables import Certificates, ThingShadows


def test_authorities_are_kept_once_and_revocations_listed(db, alice):
    certificates = db.repository(Certificates)
    assert certificates.save_authority("things", "CERT", "KEY")
    assert not certificates.save_authority("things", "OTHER", "OTHER")  # the first stays
    assert certificates.authority("things") == ("CERT", "KEY")
    lamp = db.devices.create(alice.id, "light", "Lamp", transport="mqtt")
    certificates.issued(12345678901234567890, "things", lamp.id, lamp.id)
    assert certificates.revoked("things") == []
    assert certificates.revoke_device(lamp.id) == 1
    [(serial, at)] = certificates.revoked("things")
    assert int(serial) == 12345678901234567890 and at > 0


def test_thing_shadow_versions_only_grow(db):
    shadows = db.repository(ThingShadows)
    shadows.save("t" * 24, {"state": {"reported": {"a": 1}}}, 2)
    shadows.save("t" * 24, {"state": {"reported": {"a": 0}}}, 1)  # late and older
    assert shadows.get("t" * 24) == ({"state": {"reported": {"a": 1}}}, 2)
    shadows.save("t" * 24, {"state": {"reported": {"a": 3}}}, 3, durable=True)
    assert shadows.get("t" * 24)[1] == 3
