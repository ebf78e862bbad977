"""Videos for the kiosk's camera reader (tests/browser/test_kiosk.py, bench/kiosk.py): paper
without a code, then invoices held up, written with cv2.VideoWriter as MJPG .avi (no codec
beyond OpenCV's own)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from imaging import invoice_page

FRAME_SIZE = (640, 480)


def invoice_payload(record: dict) -> str:
    """The QR text printed on the invoice of an import-format record (DESIGN 1.1)."""
    extra = record["total"] if record["type"] in ("31", "32") else record["amount"]
    check = record["check_code"] if record["type"] in ("04", "10", "11", "14") else ""
    return ",".join(["01", record["type"], record["invoice_code"], record["invoice_number"], extra,
                     record["issue_date"].replace("-", ""), check, "A1B2", ""])


def frame(payload: str | None, seed: int = 0) -> np.ndarray:
    """An invoice lying under the camera; without a payload the same paper with no code."""
    page, _ = invoice_page(payload, np.random.default_rng(seed), module_px=5)
    width, height = FRAME_SIZE
    scale = min(width / page.shape[1], height / page.shape[0]) * 0.95
    page = cv2.resize(page, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    canvas = np.full((height, width, 3), (70, 80, 90), np.uint8)  # a dull desk
    top, left = (height - page.shape[0]) // 2, (width - page.shape[1]) // 2
    canvas[top: top + page.shape[0], left: left + page.shape[1]] = page
    return canvas


@dataclass(frozen=True)
class Shown:
    payload: str
    first_frame: int  # index of the first frame that shows it


def write_video(path: Path, segments: list[tuple[float, str | None]], fps: float = 10.0) -> list[Shown]:
    """Segments of (seconds, payload or None); returns where each code first appears."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, FRAME_SIZE)
    assert writer.isOpened(), "OpenCV cannot write MJPG"
    shown, index = [], 0
    cache: dict[str | None, np.ndarray] = {}
    for seconds, payload in segments:
        if payload not in cache:
            cache[payload] = frame(payload, seed=len(cache))
        if payload is not None:
            shown.append(Shown(payload, index))
        for _ in range(round(seconds * fps)):
            writer.write(cache[payload])
            index += 1
    writer.release()
    return shown
