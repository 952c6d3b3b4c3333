"""Taobao Open Platform calls, signed as TOP requires, and what their answers mean."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
from typing import Any

from bridge.plugin import AdapterContext, DeadLetter, RetryLater

CHINA = datetime.timezone(datetime.timedelta(hours=8))
RETRY_CODES = {"7", "15", "27"}  # throttled, remote service error, temporarily unavailable


def sign(params: dict[str, str], secret: str) -> str:
    """HMAC-SHA256 over the sorted key+value pairs, upper-case hex (sign_method hmac-sha256)."""
    text = "".join(f"{k}{params[k]}" for k in sorted(params))
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest().upper()


class Top:
    def __init__(self, context: AdapterContext) -> None:
        self.context = context

    def call(self, method: str, business: dict[str, Any]) -> dict[str, Any]:
        params = {
            "method": method,
            "app_key": self.context.settings.app_key,
            "timestamp": datetime.datetime.now(CHINA).strftime("%Y-%m-%d %H:%M:%S"),
            "format": "json",
            "v": "2.0",
            "sign_method": "hmac-sha256",
            **{
                k: v
                if isinstance(v, str)
                else json.dumps(v, ensure_ascii=False, separators=(",", ":"))
                for k, v in business.items()
            },
        }
        params["sign"] = sign(params, self.context.settings.app_secret)
        url = self.context.settings.gateway_url
        body = self.context.push("TOP", url, data=params)
        error = body.get("error_response")
        if isinstance(error, dict):
            reason = (
                f"{error.get('code')} {error.get('msg', '')} "
                f"{error.get('sub_code', '')} {error.get('sub_msg', '')}"
            ).strip()
            if str(error.get("code")) in RETRY_CODES or str(error.get("sub_code", "")).startswith(
                "isp."
            ):
                raise RetryLater(reason)
            raise DeadLetter(reason)
        return body
