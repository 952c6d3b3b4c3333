"""Meter readings: each `powerUsage` a device sent, the series energy totals come from.

A reading is the power when it was taken and the energy used since the one
before (`start` to `at`, as Sinric's PowerSensor counts it). They are kept as
long as the history is, in a table of their own, so that summing a month of
energy reads a few thousand small rows and no message payload.
"""

from __future__ import annotations

from dataclasses import dataclass

from bridge.store.sql import Database

MAX_READINGS = 50_000
"""The most one answer sums (a reading a minute for a month is 44,640); `between` returns
one more when there are more, so that a caller can refuse rather than sum a part."""


@dataclass(frozen=True)
class Reading:
    at: float
    start: float | None
    power: float | None
    watt_hours: float | None


class Readings:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, device_id: str, reading: Reading) -> None:
        self.db["meter_readings"].insert(
            {
                "device_id": device_id,
                "at": reading.at,
                "start": reading.start,
                "power": reading.power,
                "watt_hours": reading.watt_hours,
            }
        )

    def between(self, device_id: str, since: float, until: float) -> list[Reading]:
        """The readings whose span (`start` to `at`) meets [since, until), oldest first."""
        rows = self.db.execute(
            "select at, start, power, watt_hours from meter_readings where device_id = ?"
            " and at >= ? and coalesce(start, at) < ? order by at limit ?",
            (device_id, since, until, MAX_READINGS + 1),
        ).fetchall()
        return [Reading(*row) for row in rows]

    def forget_device(self, device_id: str) -> None:
        self.db.execute("delete from meter_readings where device_id = ?", (device_id,))

    def prune(self, older_than: float) -> None:
        self.db.execute("delete from meter_readings where at < ?", (older_than,))
