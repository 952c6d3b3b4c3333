"""Signatures, both ways: DuerOS's on its requests, ours on pushes (both optional)."""

from __future__ import annotations

import base64
import datetime
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

CERT_HOST = "duer.bdstatic.com"
CERT_PATH = "/saiya/flow/"
CERT_NAME = "dueros-api.baidu.com"


def cert_url_ok(url: str) -> bool:
    """Only Baidu's certificate location may be fetched (no SSRF through the header)."""
    parts = urlsplit(url)
    return (
        parts.scheme == "https"
        and parts.hostname == CERT_HOST
        and parts.port in (None, 443)
        and parts.path.startswith(CERT_PATH)
    )


def verify_request(
    body: bytes, signature_b64: str, cert_pem: bytes, now: datetime.datetime | None = None
) -> bool:
    """RSA-SHA1 over the raw body, by a current certificate issued to DuerOS."""
    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        now = now or datetime.datetime.now(datetime.UTC)
        if CERT_NAME not in names.get_values_for_type(x509.DNSName):
            return False
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            return False
        key = cert.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            return False
        key.verify(base64.b64decode(signature_b64), body, padding.PKCS1v15(), hashes.SHA1())
    except (ValueError, x509.ExtensionNotFound, InvalidSignature):
        return False
    return True


def sign_push(body: bytes, bot_id: str, timestamp: str, stage: str, key_pem: bytes) -> str:
    """base64(RSA-SHA1(base64(body) + botId + timestamp + stage)), as DuerOS checks it."""
    key = serialization.load_pem_private_key(key_pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    message = base64.b64encode(body) + (bot_id + timestamp + stage).encode()
    return base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA1())).decode()
