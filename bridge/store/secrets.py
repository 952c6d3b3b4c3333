"""Secrets at rest: Fernet for what must be read back, hashes for the rest."""

from __future__ import annotations

import base64
import hashlib
import secrets
import uuid

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from werkzeug.security import check_password_hash, generate_password_hash


def derive_key(secret_key: str, purpose: str) -> bytes:
    """A 32-byte key of its own for each purpose, all from BRIDGE_SECRET_KEY."""
    if not secret_key:
        raise ValueError("a secret key is required")
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"voice-bridge", info=purpose.encode()
    ).derive(secret_key.encode())


class Vault:
    """Encrypts device app secrets (and later platform tokens) at rest."""

    def __init__(self, secret_key: str) -> None:
        key = derive_key(secret_key, "secrets-at-rest")
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def encrypt(self, text: str) -> str:
        return self._fernet.encrypt(text.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("cannot decrypt: was BRIDGE_SECRET_KEY changed?") from exc


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def check_password(stored: str, password: str) -> bool:
    return check_password_hash(stored, password)


def hash_token(token: str) -> str:
    """Lookup hash for high-entropy random tokens (no salt needed, no stretching)."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_app_key() -> str:
    return str(uuid.uuid4())


def new_app_secret() -> str:
    """Two UUIDs joined by '-': the shape Sinric's own secrets have (73 chars)."""
    return f"{uuid.uuid4()}-{uuid.uuid4()}"


def new_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def new_device_id() -> str:
    return secrets.token_hex(12)
