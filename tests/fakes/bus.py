"""Workers of one process that hear each other: the in-process bus, wired together.

A real subclass of the contract: placement and facts stay each worker's
own (as LocalBus keeps them), but notices reach every worker of the group,
which is what the store's cache and shadow sharing rely on.
"""

from __future__ import annotations

from bridge.bus import Message
from bridge.bus.local import LocalBus


class GroupBus(LocalBus):
    def __init__(self, worker: str, group: list[GroupBus]) -> None:
        super().__init__(worker)
        self.group = group
        self.published: list[tuple[str, Message]] = []
        self.down = False
        group.append(self)

    @property
    def shared(self) -> bool:
        return True

    def alive(self, worker: str) -> bool:
        return any(bus.worker == worker for bus in self.group)

    def publish(self, topic: str, message: Message) -> None:
        if self.down:
            raise ConnectionError("the bus is down")
        self.published.append((topic, message))
        for bus in self.group:
            LocalBus.publish(bus, topic, message)
