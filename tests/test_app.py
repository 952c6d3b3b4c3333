"""HTTP edges: problem+json errors, size limits, the admin guard, health."""

import requests
from servers import eventually


def test_unknown_route_is_problem_json(server):
    reply = requests.get(server.url + "/nope", timeout=5)
    assert reply.status_code == 404
    assert reply.headers["Content-Type"] == "application/problem+json"
    assert reply.json()["status"] == 404 and "Traceback" not in reply.text


def test_oversized_body_is_413_in_the_callers_format(server):
    big = b"x" * (1024 * 1024 + 1)
    json_type = {"Content-Type": "application/json"}
    reply = requests.post(server.url + "/voice/echo", data=big, headers=json_type, timeout=5)
    assert reply.status_code == 413 and reply.json()["error"] == "bad_request"
    reply = requests.post(server.url + "/admin/api/send", data=big, headers=json_type, timeout=5)
    assert reply.status_code == 413 and reply.json()["type"].endswith("/too_large")


def test_health(server):
    body = requests.get(server.url + "/healthz", timeout=5).json()
    assert body["ok"] is True and isinstance(body["devices_online"], int)


def test_the_server_is_ready_once_its_services_run(server):
    """Readiness names what fails; the served bridge's services all run (or wait their turn)."""

    def ready():
        answer = requests.get(server.url + "/readyz", timeout=5)
        return answer if answer.status_code == 200 else None

    body = eventually(ready).json()
    assert body["ready"] and body["failing"] == []
    states = {s["name"]: s["state"] for s in body["services"]}
    core = {"store sync", "checkpoints", "reports", "housekeeping", "alerts"}
    assert core | {"socket sweep", "sigfox expiry"} <= set(states)  # the plugins' too
    assert set(states.values()) <= {"running", "starting", "waiting for leadership"}
    live = requests.get(server.url + "/healthz", timeout=5).json()
    assert [s["name"] for s in live["services"]] == [s["name"] for s in body["services"]]


def test_a_bridge_whose_services_are_stopped_is_not_ready(tmp_path):
    from bridge import create_app

    app = create_app({"database": str(tmp_path / "r.db")})  # built, not serving
    answer = app.test_client().get("/readyz")
    assert answer.status_code == 503
    assert "reports" in answer.json["failing"] and not answer.json["ready"]


def test_admin_refuses_proxied_callers(server, light):
    reply = requests.post(
        server.url + "/admin/api/send",
        json={"device": light.id},
        headers={"X-Forwarded-For": "203.0.113.9"},
        timeout=5,
    )
    assert reply.status_code == 403


def test_admin_refuses_bad_bodies(server):
    for body in ([], {"device": 5}, "x"):
        reply = requests.post(server.url + "/admin/api/send", json=body, timeout=5)
        assert reply.status_code == 422 and reply.json()["type"].endswith("/invalid")
