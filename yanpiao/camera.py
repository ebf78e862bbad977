"""The kiosk's camera reader (DESIGN 2.2): frames in, new QR texts and a live preview out.

Only one process may own a camera, so the reader runs on its own (``flask --app app kiosk
camera``) and hands what it sees to the web workers through a folder and the database: the
latest preview JPEG and a small status file in the folder (written atomically), each new code
as a row (``yanpiao.kiosk.record_scan``). The web workers never open the camera.

The source is a device index (``0``), a video file (played in a loop at its own frame rate, so
tests and demos behave like a camera) or a stream URL. A camera that is missing, busy or
unplugged is reported as a state, and the reader keeps trying to open it again, so scanning
resumes by itself when it comes back.

Frames go through ``decoder.decode_frame``, the same decoder as uploaded photos. A text seen
again within ``debounce_seconds`` of the last time it was seen is not handed on again: an
invoice held under the camera for a while is verified once.
"""

from __future__ import annotations

import enum
import fcntl
import json
import math
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit, urlunsplit


from .qr import NotInvoicePayload, parse_qr_payload

if TYPE_CHECKING:
    import numpy as np

# OpenCV and the decoder (about 60 MB) load when a camera is read, not with the app: the web
# workers only read what the one camera process publishes.

DEBOUNCE_SECONDS = 10.0
RETRY_SECONDS = 2.0
PREVIEW_INTERVAL = 0.15
PREVIEW_WIDTH = 640
HEARTBEAT_SECONDS = 1.0
# The web side treats a status older than this as "the reader is not running".
STALE_AFTER = 5.0
# Consecutive failed reads of a live source before it counts as lost (a stream hiccups).
READ_FAILURES = 5
DEFAULT_FPS = 25.0

STATUS_FILE = "status.json"
PREVIEW_FILE = "preview.jpg"
LOCK_FILE = "camera.lock"


class CameraState(enum.StrEnum):
    STARTING = "starting"
    READING = "reading"
    MISSING = "missing"  # no such device or file, or the stream cannot be reached
    BUSY = "busy"  # the device is there but another program holds it or it gives no frames
    LOST = "lost"  # it was working and stopped: unplugged, stream dropped
    OFFLINE = "offline"  # no reader is running (seen from the web side only)


@dataclass(frozen=True)
class Source:
    kind: str  # "device", "file" or "url"
    location: int | str

    @property
    def paced(self) -> bool:
        """A file is played at its own frame rate; a camera or stream sets its own pace."""
        return self.kind == "file"

    def describe(self) -> str:
        """For logs and the status file: a URL without its password."""
        if self.kind == "url":
            parts = urlsplit(str(self.location))
            host = parts.hostname or ""
            if parts.port:
                host = f"{host}:{parts.port}"
            return urlunsplit((parts.scheme, host, parts.path, "", ""))
        return f"{self.kind} {self.location}"


def parse_source(text: str) -> Source:
    """``YANPIAO_CAMERA``: a device index, a stream URL (``scheme://…``) or a file path."""
    text = (text or "").strip()
    if not text:
        raise ValueError("no camera configured")
    if text.isdecimal():
        return Source("device", int(text))
    if "://" in text:
        return Source("url", text)
    return Source("file", text)


# --- the capture -----------------------------------------------------------------------------


class Capture(Protocol):
    """The part of ``cv2.VideoCapture`` the reader uses (tests pass a fake)."""

    def isOpened(self) -> bool: ...
    def read(self) -> tuple[bool, np.ndarray | None]: ...
    def grab(self) -> bool: ...
    def get(self, prop: int) -> float: ...
    def set(self, prop: int, value: float) -> bool: ...
    def release(self) -> None: ...


def open_capture(source: Source) -> Capture | None:
    """The capture, or None when there is plainly nothing to open."""
    import cv2

    if source.kind == "device":
        if sys.platform == "linux":
            if not Path(f"/dev/video{source.location}").exists():
                return None  # unplugged: no need to ask every backend in turn
            capture = cv2.VideoCapture(int(source.location), cv2.CAP_V4L2)
        else:
            capture = cv2.VideoCapture(int(source.location))
        # A queue of old frames would add their age to every answer.
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        return capture
    if source.kind == "file" and not Path(str(source.location)).is_file():
        return None
    if source.kind == "url":
        return cv2.VideoCapture(str(source.location), cv2.CAP_FFMPEG, [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, 5000, cv2.CAP_PROP_READ_TIMEOUT_MSEC, 5000])
    return cv2.VideoCapture(str(source.location))


def why_unopened(source: Source) -> CameraState:
    """Missing or busy: a device node or file that exists but does not open is busy."""
    if source.kind == "device":
        return CameraState.BUSY if Path(f"/dev/video{source.location}").exists() else CameraState.MISSING
    if source.kind == "file" and Path(str(source.location)).is_file():
        return CameraState.BUSY
    return CameraState.MISSING


# --- debouncing ------------------------------------------------------------------------------


class Debouncer:
    """Says which texts are new: not seen within the last ``window`` seconds."""

    def __init__(self, window: float = DEBOUNCE_SECONDS):
        self.window = window
        self._last_seen: dict[str, float] = {}

    def fresh(self, texts: Iterable[str], now: float) -> list[str]:
        # Forget what has not been seen for a while: the memory holds invoice data.
        self._last_seen = {t: at for t, at in self._last_seen.items() if now - at <= self.window}
        new = []
        for text in texts:
            if text not in self._last_seen and text not in new:
                new.append(text)
            self._last_seen[text] = now
        return new


def invoice_texts_first(texts: list[str]) -> list[str]:
    """The invoice payloads among a frame's codes, or all codes when there is none.

    A shop's or a product's code next to the invoice's is noise; a code that is no invoice's
    at all is still handed on, so the visitor hears that it is not an invoice QR code.
    """
    invoices = []
    for text in texts:
        try:
            parse_qr_payload(text)
        except NotInvoicePayload:
            continue
        invoices.append(text)
    return invoices or texts


# --- status ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CameraStatus:
    state: CameraState
    source: str = ""
    updated_at: float = 0.0  # wall clock (time.time)
    # A paced file: frame i of the playback is shown at started_at + i / fps (wall clock).
    fps: float | None = None
    started_at: float | None = None
    detail: str = ""

    @property
    def reading(self) -> bool:
        return self.state is CameraState.READING

    def to_json(self) -> str:
        values = asdict(self)
        values["state"] = self.state.value
        return json.dumps(values)

    @classmethod
    def from_json(cls, text: str) -> CameraStatus:
        values = json.loads(text)
        values["state"] = CameraState(values["state"])
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in values.items() if k in known})


def read_status(folder: Path, now: float | None = None, stale_after: float = STALE_AFTER) -> CameraStatus:
    """What the reader last published; ``offline`` when there is no reader or it went quiet."""
    now = time.time() if now is None else now
    try:
        status = CameraStatus.from_json((Path(folder) / STATUS_FILE).read_text())
    except (OSError, ValueError, TypeError, KeyError):
        return CameraStatus(CameraState.OFFLINE)
    if now - status.updated_at > stale_after:
        return CameraStatus(CameraState.OFFLINE, status.source, status.updated_at)
    return status


def read_preview(folder: Path) -> bytes | None:
    try:
        return (Path(folder) / PREVIEW_FILE).read_bytes()
    except OSError:
        return None


def _write_atomically(path: Path, data: bytes) -> None:
    """Readers see the old file or the new one, never half of one."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class FilePublisher:
    """Publishes the status and the preview into a folder the web workers read."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def status(self, status: CameraStatus) -> None:
        _write_atomically(self.folder / STATUS_FILE, status.to_json().encode())

    def preview(self, jpeg: bytes) -> None:
        _write_atomically(self.folder / PREVIEW_FILE, jpeg)

    def withdraw(self) -> None:
        """The reader stops: no stale picture or state is left for the web side to show."""
        for name in (STATUS_FILE, PREVIEW_FILE):
            (self.folder / name).unlink(missing_ok=True)


class CameraTaken(RuntimeError):
    """Another reader already owns the camera."""


def own_camera(folder: Path):
    """An exclusive lock held for as long as the returned file stays open.

    However many readers are started, and however gunicorn is configured, only the first one
    gets it; the lock goes with the process, so a crashed reader never blocks the next one.
    """
    Path(folder).mkdir(parents=True, exist_ok=True)
    handle = open(Path(folder) / LOCK_FILE, "a+")  # noqa: SIM115  (held until the process ends)
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise CameraTaken(str(Path(folder) / LOCK_FILE)) from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def preview_jpeg(frame: np.ndarray, width: int = PREVIEW_WIDTH, quality: int = 70) -> bytes:
    import cv2

    height, current = frame.shape[:2]
    if current > width:
        frame = cv2.resize(frame, (width, round(height * width / current)),
                           interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return data.tobytes() if ok else b""


# --- the reader ------------------------------------------------------------------------------


def _frame_rate(capture: Capture) -> float:
    import cv2

    fps = capture.get(cv2.CAP_PROP_FPS)
    if not fps or not math.isfinite(fps) or fps <= 0 or fps > 240:
        return DEFAULT_FPS
    return float(fps)


def _decode_frame(frame: np.ndarray) -> list[str]:
    from .decoder import decode_frame

    return decode_frame(frame)


@dataclass
class CameraReader:
    """Reads one source until ``stop`` is set; see the module docstring."""

    source: Source
    on_codes: Callable[[list[str]], None]
    on_status: Callable[[CameraStatus], None] = lambda status: None
    on_preview: Callable[[bytes], None] | None = None
    open_capture: Callable[[Source], Capture | None] = open_capture
    decode: Callable[[np.ndarray], list[str]] = _decode_frame
    clock: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time
    sleep: Callable[[float], None] | None = None  # default: waits on ``stop``
    debounce_seconds: float = DEBOUNCE_SECONDS
    retry_seconds: float = RETRY_SECONDS
    preview_interval: float = PREVIEW_INTERVAL
    log: Callable[[str], None] = lambda message: None

    _debouncer: Debouncer = field(init=False)
    _state: CameraState | None = field(default=None, init=False)
    _reported_at: float = field(default=-math.inf, init=False)
    _preview_at: float = field(default=-math.inf, init=False)
    _playback: tuple[float, float] | None = field(default=None, init=False)  # (fps, wall start)

    def __post_init__(self):
        self._debouncer = Debouncer(self.debounce_seconds)

    # The loop: open, read until it fails, say so, wait, try again.
    def run(self, stop: threading.Event) -> None:
        wait = self.sleep or (lambda seconds: stop.wait(seconds))
        self._report(CameraState.STARTING, force=True)
        while not stop.is_set():
            capture = self._open()
            if capture is None:
                wait(self.retry_seconds)
                continue
            try:
                self._read(capture, stop, wait)
            finally:
                capture.release()
            if not stop.is_set():
                self._report(CameraState.LOST, force=True)
                self.log(f"camera lost: {self.source.describe()}")
                wait(self.retry_seconds)

    def _open(self) -> Capture | None:
        try:
            capture = self.open_capture(self.source)
        except Exception as exc:  # a broken driver must not end the reader
            self.log(f"opening the camera failed: {exc!r}")
            capture = None
        if capture is not None and capture.isOpened():
            return capture
        if capture is not None:
            capture.release()
        state = why_unopened(self.source)
        if state is not self._state:
            self.log(f"camera {state.value}: {self.source.describe()}")
        self._report(state, force=True)
        return None

    def _read(self, capture: Capture, stop: threading.Event, wait: Callable[[float], None]) -> None:
        fps = _frame_rate(capture)
        start = self.clock()
        presented = 0  # frames of the playback shown so far (files only)
        failures = 0
        self._playback = (fps, self.wall()) if self.source.paced else None
        while not stop.is_set():
            if self.source.paced:
                due = start + presented / fps
                now = self.clock()
                if due > now:
                    wait(due - now)
                    if stop.is_set():
                        return
                else:
                    # Decoding fell behind: drop frames as a live camera would.
                    behind = int((now - start) * fps + 1e-6) - presented
                    for _ in range(behind):
                        if not self._grab_looping(capture):
                            return
                    presented += max(behind, 0)
            ok, frame = capture.read()
            if (not ok or frame is None) and self.source.paced:
                ok, frame = self._rewind(capture)
                if not ok:
                    return
            if not ok or frame is None:
                failures += 1
                if failures >= READ_FAILURES:
                    return
                continue
            failures = 0
            presented += 1
            self._handle(frame)

    def _rewind(self, capture: Capture) -> tuple[bool, np.ndarray | None]:
        """The end of a video file: play it again from its first frame."""
        import cv2

        capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
        return capture.read()

    def _grab_looping(self, capture: Capture) -> bool:
        import cv2

        if capture.grab():
            return True
        capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
        return capture.grab()

    def _handle(self, frame: np.ndarray) -> None:
        texts = self.decode(frame)
        now = self.clock()
        if texts:
            new = self._debouncer.fresh(invoice_texts_first(texts), now)
            if new:
                self.on_codes(new)
        if self.on_preview is not None and now - self._preview_at >= self.preview_interval:
            self._preview_at = now
            self.on_preview(preview_jpeg(frame))
        self._report(CameraState.READING)

    def _report(self, state: CameraState, force: bool = False) -> None:
        """Publish the state when it changes, and as a heartbeat once a second."""
        now = self.clock()
        if not force and state is self._state and now - self._reported_at < HEARTBEAT_SECONDS:
            return
        self._state, self._reported_at = state, now
        fps, started = self._playback if (state is CameraState.READING and self._playback) else (None, None)
        self.on_status(CameraStatus(state, self.source.describe(), self.wall(), fps, started))
