"""What the bridge writes to disk is owner-only."""

import stat

from bridge.store import Store
from bridge.store.secrets import Vault
from config.settings import Settings


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_database_wal_shm_and_key_are_0600(tmp_path):
    db = tmp_path / "bridge.db"
    settings = Settings(database=str(db)).with_overrides({})  # makes the key file
    store = Store(str(db), Vault(settings.secret_key))
    store.users.create("alice", "password1")  # a write: the WAL and SHM exist now
    files = [db, tmp_path / "bridge.db-wal", tmp_path / "bridge.db-shm", tmp_path / "bridge.key"]
    assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}


def test_an_existing_world_readable_database_is_made_private(tmp_path):
    db = tmp_path / "old.db"
    Store(str(db), Vault("k")).close()
    db.chmod(0o644)
    Store(str(db), Vault("k"))
    assert mode(db) == 0o600
