"""Fingerprinted static files, built by every gunicorn worker as it starts."""

import gzip
import shutil
from pathlib import Path

from blueprints import assets


def static_folder(tmp_path: Path) -> Path:
    static = tmp_path / "static"
    (static / "css").mkdir(parents=True)
    (static / "css" / "site.css").write_text("body { color: #1b1b1b; }\n" * 200)
    (static / "img").mkdir()
    (static / "img" / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    return static


def test_files_get_hashed_names_and_compressed_variants(tmp_path):
    out = tmp_path / "assets"
    manifest = assets.build(static_folder(tmp_path), out)
    css = out / manifest["css/site.css"]
    assert css.name.startswith("site.") and css.read_text().startswith("body")
    assert gzip.decompress((out / (manifest["css/site.css"] + ".gz")).read_bytes()) == \
        css.read_bytes()
    assert (out / manifest["img/logo.png"]).exists()
    assert not list(out.rglob("*.tmp"))


def test_a_worker_building_while_another_does_still_starts(tmp_path, monkeypatch):
    """Two gunicorn workers built the same file under one temporary name: the second found it
    already renamed away by the first and failed to boot (FileNotFoundError)."""
    static, out = static_folder(tmp_path), tmp_path / "assets"
    copy = shutil.copyfile
    others = []

    def copy_while_another_worker_builds(source, destination):
        result = copy(source, destination)
        if not others:  # the other worker runs its whole build between our copy and rename
            others.append(None)
            others[0] = assets.build(static, out)
        return result

    monkeypatch.setattr(assets.shutil, "copyfile", copy_while_another_worker_builds)
    manifest = assets.build(static, out)
    assert manifest == others[0]
    for hashed in manifest.values():
        assert (out / hashed).exists()
    assert gzip.decompress((out / (manifest["css/site.css"] + ".gz")).read_bytes()).startswith(
        b"body")
    assert not list(out.rglob("*.tmp*"))


def test_a_worker_starting_while_another_builds_lists_no_half_written_file(tmp_path,
                                                                           monkeypatch):
    """WhiteNoise lists the folder, then reads each file's size: a temporary file written
    there by another worker was renamed in between, and the starting worker failed."""
    static, out = static_folder(tmp_path), tmp_path / "assets"
    copy = shutil.copyfile
    seen = []

    def copy_and_look(source, destination):
        result = copy(source, destination)
        seen.extend(path.name for path in out.rglob("*"))
        return result

    monkeypatch.setattr(assets.shutil, "copyfile", copy_and_look)
    manifest = assets.build(static, out)
    assert seen and not [name for name in seen if "tmp" in name or name[0].isdigit()]
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == \
        sorted([*manifest.values(), manifest["css/site.css"] + ".gz",
                manifest["css/site.css"] + ".br", "manifest.json"])
