"""The baseline for bench/verify.py: Flask with one JSON route and nothing else.

Served by gunicorn with the app's own gunicorn.conf.py, so the difference in throughput is what
Yanpiao's extensions, database work and templates cost on top of Flask and gunicorn themselves.
"""

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.post("/verify")
def verify():
    # Read the body like the real endpoint does, so both pay for JSON parsing.
    payload = request.get_json(silent=True) or {}
    return jsonify(outcome="match", fields=len(payload))
