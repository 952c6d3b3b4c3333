"""The WSGI application: Flask, its blueprints, and the edge's middleware around it."""

from __future__ import annotations

from typing import Any

import orjson
from flask import Flask
from flask.json.provider import JSONProvider
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from bridge.store.secrets import derive_key
from config.settings import Settings

MAX_BODY_BYTES = 1024 * 1024


class OrjsonProvider(JSONProvider):
    """Flask's JSON through orjson: every webhook reply is JSON, so it adds up."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return orjson.loads(s)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Defaults, then BRIDGE_* environment variables, then the test dict."""
    from gevent import monkey

    from bridge import oauth
    from bridge.api.views import api
    from bridge.console import console
    from bridge.http import sessions
    from bridge.http.admin import admin
    from bridge.http.guard import HttpGuard
    from bridge.http.web import http_error, unexpected_error, web
    from bridge.http.webhooks import Webhooks
    from bridge.runtime.bridge import Bridge

    settings = Settings.from_env().with_overrides(test_config)
    app = Flask(__name__)
    app.json = OrjsonProvider(app)
    app.config.update(
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        SECRET_KEY=derive_key(settings.secret_key, "flask-sessions"),
    )
    bridge = Bridge(settings)
    app.extensions["bridge"] = bridge
    app.register_blueprint(web)
    for plugin in [*bridge.transports.by_name.values(), *bridge.adapters.values()]:
        blueprint = plugin.blueprint()  # a plugin's own routes, adapter or transport alike
        if blueprint is not None:
            app.register_blueprint(blueprint)
    app.register_blueprint(admin)
    app.register_blueprint(api)
    sessions.init_app(app)  # the linking pages and the console share the signed-in session
    oauth.init_app(app, bridge)
    app.register_blueprint(console)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, unexpected_error)
    app.wsgi_app = Webhooks(app.wsgi_app, bridge.adapters, bridge.store.messages.record)
    app.wsgi_app = HttpGuard(app.wsgi_app, bridge.adapters, MAX_BODY_BYTES, settings.body_timeout)
    if settings.proxy_hops:  # behind TLS-terminating proxies: trust their forwarded headers
        hops = settings.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    if monkey.is_module_patched("socket"):
        bridge.start_background()
    return app
