"""Fingerprinted, pre-compressed static files served by WhiteNoise.

At app creation each file under ``static/`` is copied once to ``instance/assets/`` under a
name carrying its content hash (``css/site.3fa2c1d09b.css``) together with gzip and Brotli
variants. WhiteNoise serves them with a far-future, immutable cache header, so a repeat visit
loads no static file again, and a changed file gets a new name.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from flask import Flask
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

URL_PREFIX = "/assets/"
_COMPRESSIBLE = {".css", ".js", ".svg", ".txt", ".json"}


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
            tmp = target.with_name(target.name + ".tmp")
            shutil.copyfile(source, tmp)
            tmp.replace(target)  # atomic: several gunicorn workers may build at once
            if source.suffix in _COMPRESSIBLE:
                for _ in compressor.compress(str(target)):
                    pass
        manifest[relative] = hashed
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True))
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
