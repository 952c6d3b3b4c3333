"""DuerOS request signatures (verified when configured) and our push signatures."""

import base64
import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from adapters.xiaodu import signing

BODY = b'{"header":{"name":"TurnOnRequest"},"payload":{}}'


def certificate(key, name="dueros-api.baidu.com", days=1) -> bytes:
    now = datetime.datetime.now(datetime.UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=2))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def sign(key, body=BODY) -> str:
    return base64.b64encode(key.sign(body, padding.PKCS1v15(), hashes.SHA1())).decode()


def test_a_request_signed_by_dueros_verifies(key):
    assert signing.verify_request(BODY, sign(key), certificate(key))


def test_tampered_body_or_wrong_certificate_fails(key):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert not signing.verify_request(BODY + b" ", sign(key), certificate(key))
    assert not signing.verify_request(BODY, sign(other), certificate(key))
    assert not signing.verify_request(BODY, sign(key), certificate(key, "evil.example"))
    assert not signing.verify_request(BODY, sign(key), certificate(key, days=-1))
    assert not signing.verify_request(BODY, "not base64!", certificate(key))
    assert not signing.verify_request(BODY, sign(key), b"not a certificate")


@pytest.mark.parametrize(
    "url, ok",
    [
        ("https://duer.bdstatic.com/saiya/flow/cert.pem", True),
        ("http://duer.bdstatic.com/saiya/flow/cert.pem", False),
        ("https://duer.bdstatic.com.evil.example/saiya/flow/c.pem", False),
        ("https://duer.bdstatic.com:8443/saiya/flow/c.pem", False),
        ("https://duer.bdstatic.com/other/c.pem", False),
        ("https://127.0.0.1/saiya/flow/c.pem", False),
    ],
)
def test_only_baidus_certificate_location_is_fetched(url, ok):
    assert signing.cert_url_ok(url) is ok


def test_push_signature_verifies_with_the_uploaded_public_key(key):
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    signature = signing.sign_push(BODY, "bot-1", "1735689600", "debug", pem)
    message = base64.b64encode(BODY) + b"bot-11735689600debug"
    key.public_key().verify(base64.b64decode(signature), message, padding.PKCS1v15(), hashes.SHA1())


def test_the_webhook_checks_signatures_when_configured(key, tmp_path):
    from bridge import create_app

    app = create_app(
        {
            "database": str(tmp_path / "s.db"),
            "secret_key": "k",
            "plugin_settings": {"BRIDGE_XIAODU_VERIFY_SIGNATURE": "1"},
        }
    )
    url = "https://duer.bdstatic.com/saiya/flow/test.pem"
    app.extensions["bridge"].adapters["xiaodu"]._certs[url] = certificate(key)
    client = app.test_client()
    body = (
        b'{"header":{"namespace":"DuerOS.ConnectedHome.Discovery","name":'
        b'"DiscoverAppliancesRequest","messageId":"m1","payloadVersion":"1"},'
        b'"payload":{"accessToken":"x","openUid":"u"}}'
    )

    def post(data, signature):
        return client.post(
            "/voice/xiaodu",
            data=data,
            content_type="application/json",
            headers={"signaturecerturl": url, "signature": signature},
        ).json

    assert post(body, sign(key, body))["header"]["name"] == "DiscoverAppliancesResponse"
    forged = post(body, sign(rsa.generate_private_key(public_exponent=65537, key_size=2048), body))
    assert forged["header"]["name"] == "UnexpectedInformationReceivedError"
    assert forged["payload"] == {"faultingParameter": "signature"}
    elsewhere = client.post(
        "/voice/xiaodu",
        data=body,
        content_type="application/json",
        headers={"signaturecerturl": "https://127.0.0.1/x.pem", "signature": sign(key, body)},
    ).json
    assert elsewhere["payload"] == {"faultingParameter": "signaturecerturl"}
