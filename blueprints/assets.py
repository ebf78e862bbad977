"""Fingerprinted, pre-compressed static files served by WhiteNoise.

At app creation each file under ``static/`` is copied once to ``instance/assets/`` under a
name carrying its content hash (``css/site.3fa2c1d09b.css``) together with gzip and Brotli
variants. WhiteNoise serves them with a far-future, immutable cache header, so a repeat visit
loads no static file again, and a changed file gets a new name.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
from pathlib import Path

from flask import Flask
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

URL_PREFIX = "/assets/"
_COMPRESSIBLE = {".css", ".js", ".svg", ".txt", ".json"}


def _staging(out_dir: Path) -> Path:
    """Where files are written before they are renamed into ``out_dir``: beside it, on the same
    file system, but outside what WhiteNoise lists. A worker starting while another wrote there
    listed a temporary file that was renamed before it could read its size, and failed."""
    staging = out_dir.with_name(out_dir.name + ".staging")
    staging.mkdir(parents=True, exist_ok=True)
    return staging


def _temporary(out_dir: Path, suffix: str) -> Path:
    return _staging(out_dir) / f"{os.getpid()}-{secrets.token_hex(4)}{suffix}"


def _publish(source: Path, target: Path, tmp: Path, compressor: Compressor | None) -> None:
    """Write ``target`` and its compressed variants, each under ``tmp``, a name of this
    process's own, then renamed into place. Several gunicorn workers build at once: with one
    shared temporary name a worker's rename found the file already moved by another, and the
    worker failed to boot; variants compressed in place could be read half written."""
    try:
        shutil.copyfile(source, tmp)
        for written in compressor.compress(str(tmp)) if compressor else ():
            Path(written).replace(target.with_name(target.name + written[len(str(tmp)):]))
        tmp.replace(target)  # last: a target that exists has its variants beside it
    finally:
        for left in tmp.parent.glob(tmp.name + "*"):
            left.unlink(missing_ok=True)


def build(static_dir: Path, out_dir: Path) -> dict[str, str]:
    """Copy and compress every static file under its hashed name; returns the manifest."""
    manifest: dict[str, str] = {}
    compressor = Compressor(quiet=True)
    for source in sorted(p for p in static_dir.rglob("*") if p.is_file()):
        relative = source.relative_to(static_dir).as_posix()
        if relative.endswith((".gz", ".br")) or "/." in f"/{relative}":
            continue
        digest = hashlib.sha256(source.read_bytes()).hexdigest()[:10]
        stem = relative.removesuffix(source.suffix) if source.suffix else relative
        hashed = f"{stem}.{digest}{source.suffix}"
        target = out_dir / hashed
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            _publish(source, target, _temporary(out_dir, source.suffix),
                     compressor if source.suffix in _COMPRESSIBLE else None)
        manifest[relative] = hashed
    listing = _temporary(out_dir, ".json")
    listing.write_text(json.dumps(manifest, indent=1, sort_keys=True))
    listing.replace(out_dir / "manifest.json")
    return manifest


def init_app(app: Flask) -> None:
    static_dir = Path(app.root_path) / "static"
    out_dir = Path(app.instance_path) / "assets"
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = build(static_dir, out_dir)

    def asset_url(relative: str) -> str:
        return URL_PREFIX + manifest[relative]

    app.jinja_env.globals["asset_url"] = asset_url
    app.extensions["assets"] = manifest
    app.wsgi_app = WhiteNoise(
        app.wsgi_app,
        root=str(out_dir),
        prefix=URL_PREFIX,
        # Every file there carries its content hash in its name.
        immutable_file_test=lambda path, url: True,
        max_age=None,
    )
