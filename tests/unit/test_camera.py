"""The kiosk's camera reader with a fake capture and a fake clock: debouncing, playing a video
file in a loop at its own frame rate, and getting the camera back after it went away."""

from __future__ import annotations

import threading

import cv2
import numpy as np
import pytest

from yanpiao import camera
from yanpiao.camera import (CameraReader, CameraState, CameraStatus, CameraTaken, Debouncer,
                            FilePublisher, Source, parse_source, read_status)

INVOICE = "01,04,011002400104,12345678,1000.00,20240105,48114255542168294433,DBFE,"
OTHER_INVOICE = "01,32,,24312000000136634917,0.01,20240514,,1DD6"
URL = "https://shop.example/pay?id=1"


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


class FakeCapture:
    """A video of ``frames`` (each the list of texts it shows) at ``fps``."""

    def __init__(self, frames: list[list[str]], fps: float = 10.0, *, opened: bool = True,
                 unplug_after: int | None = None):
        self.frames = [np.full((2, 2, 3), index, np.uint8) for index in range(len(frames))]
        self.texts = frames
        self.fps = fps
        self.opened = opened
        self.position = 0
        self.reads = 0
        self.unplug_after = unplug_after
        self.released = False

    def isOpened(self) -> bool:
        return self.opened

    def _unplugged(self) -> bool:
        return self.unplug_after is not None and self.reads >= self.unplug_after

    def read(self):
        if not self.grab():
            return False, None
        return True, self.frames[self.position - 1]

    def grab(self) -> bool:
        if self._unplugged() or self.position >= len(self.frames):
            return False
        self.position += 1
        self.reads += 1
        return True

    def get(self, prop):
        return {cv2.CAP_PROP_FPS: self.fps, cv2.CAP_PROP_FRAME_COUNT: len(self.frames)}.get(prop, 0)

    def set(self, prop, value) -> bool:
        if prop == cv2.CAP_PROP_POS_FRAMES:
            self.position = int(value)
            return True
        return False

    def release(self) -> None:
        self.released = True


class Harness:
    """A reader over fake captures that records what it hands on and when."""

    def __init__(self, source: Source, captures: list[FakeCapture], *, stop_after: int,
                 decode_seconds: float = 0.0):
        self.clock = Clock()
        self.stop = threading.Event()
        self.captures = list(captures)
        self.opened: list[FakeCapture] = []
        self.codes: list[tuple[float, list[str]]] = []
        self.states: list[CameraState] = []
        self.decoded: list[tuple[float, int]] = []  # (clock, frame index)
        self.stop_after = stop_after
        self.decode_seconds = decode_seconds
        self.reader = CameraReader(
            source,
            on_codes=lambda texts: self.codes.append((self.clock.now, texts)),
            on_status=lambda status: self.states.append(status.state),
            open_capture=self._open,
            decode=self._decode,
            clock=self.clock,
            wall=self.clock,
            sleep=self.clock.sleep,
            retry_seconds=2.0,
        )

    def _open(self, source):
        capture = self.captures.pop(0) if self.captures else FakeCapture([], opened=False)
        self.opened.append(capture)
        return capture

    def _decode(self, frame):
        index = int(frame[0, 0, 0])
        capture = self.opened[-1]
        self.decoded.append((self.clock.now, index))
        self.clock.now += self.decode_seconds
        if len(self.decoded) >= self.stop_after:
            self.stop.set()
        return list(capture.texts[index])

    def run(self):
        self.reader.run(self.stop)
        return self

    def handed_on(self) -> list[str]:
        return [text for _, texts in self.codes for text in texts]


def video(*segments: tuple[int, list[str]]) -> list[list[str]]:
    """Frames from (count, texts) segments."""
    return [list(texts) for count, texts in segments for _ in range(count)]


FILE = Source("file", "/videos/invoices.avi")


def test_a_code_held_for_five_seconds_is_handed_on_once():
    frames = video((10, []), (50, [INVOICE]), (10, []))  # 1 s blank, 5 s held, 1 s blank
    harness = Harness(FILE, [FakeCapture(frames)], stop_after=len(frames)).run()
    assert harness.handed_on() == [INVOICE]
    (at, _), = harness.codes
    assert at == pytest.approx(1.0)  # the first frame that shows it


def test_the_same_code_again_after_a_quiet_spell_counts_as_new():
    frames = video((10, [INVOICE]), (105, []), (10, [INVOICE]),  # away 10.5 s
                   (95, []), (10, [INVOICE]))  # away 9.5 s: still the same visit
    harness = Harness(FILE, [FakeCapture(frames)], stop_after=len(frames)).run()
    assert harness.handed_on() == [INVOICE, INVOICE]


def test_each_new_code_is_handed_on_at_once():
    frames = video((5, [INVOICE]), (5, [OTHER_INVOICE]), (5, [INVOICE]))
    harness = Harness(FILE, [FakeCapture(frames)], stop_after=len(frames)).run()
    assert harness.handed_on() == [INVOICE, OTHER_INVOICE]


def test_other_codes_next_to_an_invoice_are_ignored_but_a_lone_one_is_handed_on():
    frames = video((5, [URL, INVOICE]), (120, []), (5, [URL]))
    harness = Harness(FILE, [FakeCapture(frames)], stop_after=len(frames)).run()
    assert harness.handed_on() == [INVOICE, URL]


def test_the_debouncer_remembers_by_last_sighting():
    debouncer = Debouncer(10)
    assert debouncer.fresh(["a"], 0) == ["a"]
    assert debouncer.fresh(["a", "b", "b"], 9) == ["b"]
    assert debouncer.fresh(["a"], 18) == []  # last seen at 9
    assert debouncer.fresh(["b"], 19.5) == ["b"]  # last seen at 9: 10.5 s ago


def test_a_video_file_plays_in_a_loop_at_its_own_frame_rate():
    frames = video((8, []), (2, [INVOICE]))  # 1 s at 10 fps
    harness = Harness(FILE, [FakeCapture(frames, fps=10)], stop_after=35).run()
    times = [at for at, _ in harness.decoded]
    indexes = [index for _, index in harness.decoded]
    assert indexes == [i % 10 for i in range(35)]
    assert times == pytest.approx([i / 10 for i in range(35)])
    # Looping brings the code back every second: far within the debounce window.
    assert harness.handed_on() == [INVOICE]
    assert len(harness.opened) == 1  # looped by rewinding, not by reopening


def test_slow_decoding_drops_frames_instead_of_falling_behind():
    frames = video((100, []))
    harness = Harness(FILE, [FakeCapture(frames, fps=20)], stop_after=10,
                      decode_seconds=0.2).run()
    indexes = [index for _, index in harness.decoded]
    times = [at for at, _ in harness.decoded]
    # Each frame decoded is the one due at that moment (20 fps, 0.2 s per decode: every 4th).
    assert indexes == [round(at * 20) for at in times]
    assert indexes[-1] == 36


def test_a_missing_camera_is_reported_and_scanning_resumes_when_it_comes_back():
    device = Source("device", 97)  # no /dev/video97 here
    frames = video((3, []), (3, [INVOICE]), (3, []))
    captures = [FakeCapture([], opened=False), FakeCapture([], opened=False),
                FakeCapture(frames, unplug_after=6),  # unplugged in the middle
                FakeCapture([], opened=False),
                FakeCapture(video((3, []), (3, [OTHER_INVOICE]))),]
    harness = Harness(device, captures, stop_after=12).run()
    states = [s for i, s in enumerate(harness.states) if i == 0 or s != harness.states[i - 1]]
    assert states == [CameraState.STARTING, CameraState.MISSING, CameraState.READING,
                      CameraState.LOST, CameraState.MISSING, CameraState.READING]
    assert harness.handed_on() == [INVOICE, OTHER_INVOICE]
    assert all(capture.released for capture in harness.opened[:-1])
    assert harness.clock.now >= 3 * 2.0  # waited between the attempts


def test_a_device_that_exists_but_does_not_open_is_busy(tmp_path, monkeypatch):
    monkeypatch.setattr(camera, "Path", lambda p: tmp_path / "video0" if p == "/dev/video0" else p)
    (tmp_path / "video0").touch()
    assert camera.why_unopened(Source("device", 0)) is CameraState.BUSY


def test_a_busy_or_broken_capture_never_ends_the_reader():
    def explode(source):
        raise RuntimeError("driver fell over")

    stop = threading.Event()
    clock = Clock()
    states = []

    def sleep(seconds):
        clock.sleep(seconds)
        if clock.now > 5:
            stop.set()

    CameraReader(FILE, on_codes=lambda t: None, on_status=lambda s: states.append(s.state),
                 open_capture=explode, clock=clock, wall=clock, sleep=sleep).run(stop)
    assert CameraState.MISSING in states


@pytest.mark.parametrize(("text", "kind", "location"), [
    ("0", "device", 0),
    (" 2 ", "device", 2),
    ("rtsp://user:secret@10.0.0.5:554/stream", "url", "rtsp://user:secret@10.0.0.5:554/stream"),
    ("/srv/demo/invoices.avi", "file", "/srv/demo/invoices.avi"),
    ("demo.mp4", "file", "demo.mp4"),
])
def test_the_camera_setting_names_a_device_a_stream_or_a_file(text, kind, location):
    assert parse_source(text) == Source(kind, location)


def test_a_stream_is_described_without_its_password():
    assert parse_source("rtsp://user:secret@10.0.0.5:554/s").describe() == "rtsp://10.0.0.5:554/s"


def test_no_camera_setting_is_an_error():
    with pytest.raises(ValueError):
        parse_source("  ")


def test_the_status_is_published_atomically_and_goes_stale(tmp_path):
    publisher = FilePublisher(tmp_path)
    publisher.status(CameraStatus(CameraState.READING, "device 0", updated_at=100.0, fps=10,
                                  started_at=90.0))
    publisher.preview(b"\xff\xd8jpeg")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["preview.jpg", "status.json"]
    fresh = read_status(tmp_path, now=102.0)
    assert fresh.reading and fresh.fps == 10 and fresh.started_at == 90.0
    assert read_status(tmp_path, now=110.0).state is CameraState.OFFLINE
    assert camera.read_preview(tmp_path) == b"\xff\xd8jpeg"
    publisher.withdraw()
    assert read_status(tmp_path, now=100.0).state is CameraState.OFFLINE
    assert camera.read_preview(tmp_path) is None


def test_a_garbled_status_file_means_offline(tmp_path):
    (tmp_path / "status.json").write_text("{not json")
    assert read_status(tmp_path).state is CameraState.OFFLINE


def test_only_one_reader_owns_the_camera(tmp_path):
    first = camera.own_camera(tmp_path)
    with pytest.raises(CameraTaken):
        camera.own_camera(tmp_path)
    first.close()
    camera.own_camera(tmp_path).close()  # free again once the owner is gone


def test_the_preview_is_a_small_jpeg():
    frame = np.zeros((720, 1280, 3), np.uint8)
    jpeg = camera.preview_jpeg(frame)
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert jpeg[:3] == b"\xff\xd8\xff" and image.shape[:2] == (360, 640)
