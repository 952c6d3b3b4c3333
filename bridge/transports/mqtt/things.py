"""Things: batches of MQTT devices with certificates, revocation and the CRL.

Like a Thing Batch API: N devices on the `mqtt` transport and one zip with a
folder per thing (folder = thing name = device id) holding `cert.pem` and
`privkey.pem`, plus `ca.pem` and a `README.txt` at its root. The private
keys exist only in that zip: the bridge keeps the certificates' serials.
"""

from __future__ import annotations

import io
import os
import signal
import zipfile
from pathlib import Path

from bridge.plugin import BridgeError, Device, Store, User
from bridge.transports.mqtt import topics
from bridge.transports.mqtt.pki import Authority, new_authority
from bridge.transports.mqtt.tables import Certificates

AUTHORITY = "mqtt-things"
TRANSPORT = "mqtt"
MAX_BATCH = 1000
CRL_FILE = "crl.pem"
PID_FILE = "mosquitto.pid"


def authority(store: Store) -> Authority:
    """The bridge's CA for things, made on first use (its key encrypted at rest)."""
    found = store.repository(Certificates).authority(AUTHORITY)
    if found is None:
        made = new_authority()
        store.repository(Certificates).save_authority(AUTHORITY, made.cert_pem, made.key_pem)
        found = store.repository(Certificates).authority(AUTHORITY)  # another process may have won
    assert found is not None
    return Authority(*found)


def issue(store: Store, ca: Authority, device: Device):
    issued = ca.issue(device.id)
    store.repository(Certificates).issued(issued.serial, AUTHORITY, device.id, device.id)
    return issued


def batch(
    store: Store,
    user: User,
    type_name: str,
    count: int,
    prefix: str,
    broker: str,
) -> tuple[list[Device], bytes]:
    """Create `count` things; return them and the zip (bytes, written by the caller as 0600)."""
    if not 1 <= count <= MAX_BATCH:
        raise BridgeError(f"a batch is 1 to {MAX_BATCH} things")
    ca = authority(store)
    made: list[Device] = []
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("ca.pem", ca.cert_pem)
        for n in range(1, count + 1):
            device = store.devices.create(
                user.id, type_name, f"{prefix} {n}".strip(), transport=TRANSPORT
            )
            issued = issue(store, ca, device)
            archive.writestr(f"{device.id}/cert.pem", issued.cert_pem)
            archive.writestr(f"{device.id}/privkey.pem", issued.key_pem)
            made.append(device)
        archive.writestr("README.txt", readme(broker or "the bridge's broker", type_name))
        if broker:
            archive.writestr(BROKER_FILE, f"mqtts://{broker}\n")
    return made, out.getvalue()


BROKER_FILE = "broker.txt"
"""The broker's URL, in a batch made knowing it: `bridge simulate --things` reads it."""

WILL_PAYLOAD = '{"state":{"reported":{"connection_status":"disconnected"}}}'


def readme(broker: str, type_name: str) -> str:
    t = "<thing>"
    return f"""Things made by the voice bridge ({type_name}).

Each folder is one thing: its name is the thing name, the MQTT client id and
the certificate's common name. Connect with TLS 1.2+ to {broker}, trusting
ca.pem, presenting the folder's cert.pem and privkey.pem.

Topics (AWS IoT device shadow):
  publish   {topics.UPDATE.format(thing=t)}  reported state (and clientToken)
  subscribe {topics.DELTA.format(thing=t)}  what the bridge asks for
  publish   {topics.GET.format(thing=t)}  ask for the whole shadow
  subscribe {topics.GET_ACCEPTED.format(thing=t)}
  publish   {topics.BACKDATE.format(thing=t)}  past observations (history only)
  will      {topics.WILL.format(thing=t)}
            {WILL_PAYLOAD}

On connecting, report {{"connection_status": "connected"}}. Shadow keys are
the bridge's property names (powerState "On"/"Off", brightness 0-100, ...);
a command you cannot carry out is answered by reporting an error object:
{{"state":{{"reported":{{"error":{{"message":"..."}}}}}},"clientToken":"<the delta's>"}}
"""


def write_crl(store: Store, directory: Path) -> Path:
    """Rewrite the broker's CRL from the store, and ask a running broker to reload it."""
    ca = authority(store)
    path = directory / CRL_FILE
    write_private(path, ca.crl(store.repository(Certificates).revoked(AUTHORITY)))
    reload(directory)
    return path


def reload(directory: Path) -> bool:
    """Ask the broker running from `directory` to reread its files (CRL, ACL); whether
    one was told. None running from this folder: it reads them when it starts."""
    pid_file = directory / PID_FILE
    if not pid_file.exists():
        return False
    try:
        os.kill(int(pid_file.read_text().strip()), signal.SIGHUP)
    except (ValueError, ProcessLookupError, PermissionError):
        return False
    return True


def write_private(path: Path, text: str | bytes) -> None:
    data = text.encode() if isinstance(text, str) else text
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(path, 0o600)
