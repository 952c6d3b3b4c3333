import pytest

from config.settings import Settings


def test_defaults_and_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("BRIDGE_DATABASE", str(tmp_path / "s.db"))
    monkeypatch.setenv("PORT", "9123")
    monkeypatch.setenv("BRIDGE_DEVICE_TIMEOUT", "2.5")
    monkeypatch.setenv("BRIDGE_ADAPTERS", "alexa, echo,")
    monkeypatch.delenv("BRIDGE_URL", raising=False)
    monkeypatch.delenv("BRIDGE_SECRET_KEY", raising=False)
    settings = Settings.from_env().with_overrides(None)
    assert settings.url == "http://127.0.0.1:9123"
    assert settings.device_timeout == 2.5
    assert settings.adapters == ("alexa", "echo")
    assert settings.signature_window == 60 and settings.history_days == 30
    key_file = tmp_path / "s.key"
    assert settings.secret_key == key_file.read_text() and len(settings.secret_key) >= 32
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert Settings.from_env().with_overrides(None).secret_key == settings.secret_key


def test_bad_values_are_refused(monkeypatch):
    monkeypatch.setenv("BRIDGE_DEVICE_TIMEOUT", "soon")
    with pytest.raises(SystemExit, match="BRIDGE_DEVICE_TIMEOUT must be a number"):
        Settings.from_env()


def test_unknown_override_is_an_error():
    with pytest.raises(ValueError, match="unknown settings"):
        Settings(secret_key="k").with_overrides({"colour": "blue"})
