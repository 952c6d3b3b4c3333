"""The baseline: a hello-world Flask POST endpoint, served like the bridge."""

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.post("/hello")
def hello():
    body = request.get_json(silent=True) or {}
    return jsonify(ok=True, echo=body.get("device"))
