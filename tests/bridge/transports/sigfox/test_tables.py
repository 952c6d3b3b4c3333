"""The Sigfox transport's own tables, on SQLite and on PostgreSQL, and their move out of the
core's migration set: an older database keeps its rows."""

from __future__ import annotations

from bridge.transports.sigfox.tables import SigfoxStore


def test_sigfox_types_devices_and_frames(db, alice):
    tables = db.repository(SigfoxStore)
    tables.create_type("plug", "powerState::bool:0", None, "plug", None, "s3cret")
    assert tables.check_secret("plug", "s3cret") and not tables.check_secret("plug", "x")
    heater = db.devices.create(alice.id, "plug", "Heater", transport="sigfox")
    tables.add_device("1A2B3C", heater.id, "plug")
    assert tables.by_device(heater.id).sigfox_id == "1A2B3C"
    assert tables.devices_of_type("plug") == ["1A2B3C"]
    assert tables.first_sight("1A2B3C", 7, 1000) and not tables.first_sight("1A2B3C", 7, 1000)
    assert tables.last_frame("1A2B3C") == 1000  # the newest frame's time
    assert tables.set_reachable("1A2B3C", False) and not tables.device("1A2B3C").reachable
    tables.forget_device(heater.id)
    assert tables.by_device(heater.id) is None
