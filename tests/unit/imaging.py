"""Synthetic invoice pictures for the decoder tests and for ``bench/decode.py``.

A camera frame is an invoice-like page (QR code top left, as on Chinese e-invoices, with
lines and text around it) projected into a 1280x720 frame through a pinhole model, so tilt
and rotation are real perspective, followed by the degradation of its class. Everything is
driven by a ``numpy.random.Generator`` so a seed reproduces a frame exactly.
"""

from __future__ import annotations

import io
import math
import string

import cv2
import numpy as np
import segno
from PIL import Image

FRAME_SIZE = (1280, 720)

CLASSES = (
    "clean",
    "rotated",
    "tilted",
    "blurred",
    "motion",
    "small",
    "dark",
    "glare",
    "jpeg",
    "inverted",
    "realistic",
)

_TYPES = ("01", "03", "04", "10", "11", "14", "15", "20", "31", "32")


def random_payload(rng: np.random.Generator) -> str:
    """A payload in the DESIGN 1.1 format, with the usual variations of real ones."""

    def digits(n: int) -> str:
        return "".join(str(d) for d in rng.integers(0, 10, n))

    type_code = _TYPES[rng.integers(len(_TYPES))]
    digital = type_code in ("31", "32")
    code = "" if digital else (digits(10) if rng.random() < 0.5 else "0" + digits(11))
    number = digits(20) if digital else digits(8)
    cents = int(rng.integers(1, 10_000_000))
    amount = f"{cents // 100}.{cents % 100:02d}"
    if rng.random() < 0.3:
        amount = amount.rstrip("0").rstrip(".")
    issued = f"20{rng.integers(16, 26):02d}{rng.integers(1, 13):02d}{rng.integers(1, 29):02d}"
    check = digits(20) if type_code in ("04", "10", "11", "14") else ""
    crc = "".join(rng.choice(list("0123456789ABCDEF"), 4))
    trailer = "," if rng.random() < 0.5 else ""
    return f"01,{type_code},{code},{number},{amount},{issued},{check},{crc}{trailer}"


def qr_modules(text: str | bytes, *, border: int = 4, error: str = "m") -> np.ndarray:
    """The QR symbol as a boolean module matrix (True = dark), quiet zone included."""
    qr = segno.make_qr(text, error=error, boost_error=False)
    matrix = np.array([list(row) for row in qr.matrix], dtype=bool)
    return np.pad(matrix, border, constant_values=False)


def qr_image(text: str | bytes, *, scale: int = 6, border: int = 4) -> np.ndarray:
    """A clean grayscale QR code picture (black on white)."""
    modules = qr_modules(text, border=border)
    pixels = np.where(modules, 0, 255).astype(np.uint8)
    return np.kron(pixels, np.ones((scale, scale), dtype=np.uint8))


def _scribble(rng: np.random.Generator, length: int) -> str:
    alphabet = string.ascii_uppercase + string.digits + "  "
    return "".join(rng.choice(list(alphabet), length))


def invoice_page(text: str | None, rng: np.random.Generator, *, module_px: int = 8) -> tuple[
    np.ndarray, tuple[int, int, int]
]:
    """An invoice-like page (BGR) and the QR symbol's box (x, y, size) on it.

    With ``text=None`` the page has no code, only the same printing around where it would be.
    """
    modules = qr_modules(text) if text is not None else qr_modules("placeholder0123456789" * 3)
    symbol = (modules.shape[0] - 8) * module_px
    margin = module_px * 4
    width, height = symbol * 6, symbol * 4
    paper = np.array([238, 243, 246], dtype=np.float32) + rng.normal(0, 3, 3)
    page = np.empty((height, width, 3), dtype=np.uint8)
    page[:] = np.clip(paper, 0, 255).astype(np.uint8)
    ink = (40, 60, 150)  # the brownish red of printed invoice forms (BGR)
    line = max(1, module_px // 3)
    top = margin + symbol + margin
    cv2.rectangle(page, (margin, top), (width - margin, height - margin), ink, line)
    for row in range(1, 5):
        y = top + row * (height - margin - top) // 5
        cv2.line(page, (margin, y), (width - margin, y), ink, line)
    for col in (0.2, 0.55, 0.7):
        x = int(width * col)
        cv2.line(page, (x, top), (x, height - margin), ink, line)
    font_scale = module_px / 8 * 1.2
    cv2.putText(page, _scribble(rng, 12), (int(width * 0.35), margin + symbol // 3),
                cv2.FONT_HERSHEY_SIMPLEX, font_scale * 1.6, ink, max(1, line * 2))
    cv2.ellipse(page, (int(width * 0.5), margin + symbol * 2 // 3),
                (symbol // 2, symbol // 4), 0, 0, 360, ink, line)
    for k in range(3):
        cv2.putText(page, _scribble(rng, 18), (int(width * 0.72), margin + (k + 1) * symbol // 4),
                    cv2.FONT_HERSHEY_SIMPLEX, font_scale * 0.8, (30, 30, 30), max(1, line))
    for k in range(4):
        cv2.putText(page, _scribble(rng, 30), (margin * 2, top + (2 * k + 1) * (height - margin - top) // 10),
                    cv2.FONT_HERSHEY_SIMPLEX, font_scale * 0.8, (30, 30, 30), max(1, line))
    if text is not None:
        pixels = np.where(modules, 20, 255).astype(np.uint8)
        pixels = np.kron(pixels, np.ones((module_px, module_px), dtype=np.uint8))
        qr_zone = pixels[4 * module_px: -4 * module_px, 4 * module_px: -4 * module_px]
        page[margin: margin + symbol, margin: margin + symbol] = np.minimum(
            page[margin: margin + symbol, margin: margin + symbol], qr_zone[..., None]
        )
    return page, (margin, margin, symbol)


def _background(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """A dull desk: a colour, a gradient and coarse texture."""
    base = rng.uniform(40, 140, 3)
    small = rng.normal(0, 12, (height // 40 + 1, width // 40 + 1, 3)).astype(np.float32)
    texture = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    ramp = np.linspace(-20, 20, width, dtype=np.float32)[None, :, None]
    return np.clip(texture + ramp + base.astype(np.float32), 0, 255).astype(np.uint8)


def _project(
    page: np.ndarray,
    box: tuple[int, int, int],
    rng: np.random.Generator,
    *,
    frame_size: tuple[int, int],
    symbol_px: float,
    angle: float,
    tilt: tuple[float, float],
    background: np.ndarray,
) -> tuple[np.ndarray, tuple[float, float]]:
    """Lay the page on the background so the QR symbol is ~symbol_px wide, seen in perspective.

    Returns the frame and where the centre of the code landed in it.
    """
    width, height = frame_size
    x, y, size = box
    scale = symbol_px / size
    qcx, qcy = x + size / 2, y + size / 2
    focal = 1100.0
    ax, ay = (math.radians(t) for t in tilt)
    rot_x = np.array([[1, 0, 0], [0, math.cos(ax), -math.sin(ax)], [0, math.sin(ax), math.cos(ax)]])
    rot_y = np.array([[math.cos(ay), 0, math.sin(ay)], [0, 1, 0], [-math.sin(ay), 0, math.cos(ay)]])
    theta = math.radians(angle)
    rot_z = np.array(
        [[math.cos(theta), -math.sin(theta), 0], [math.sin(theta), math.cos(theta), 0], [0, 0, 1]]
    )
    rotation = rot_y @ rot_x @ rot_z
    half = symbol_px / 2 + 40
    center = np.array([rng.uniform(half, width - half), rng.uniform(half, height - half)])
    corners = np.array([[0, 0], [page.shape[1], 0], [page.shape[1], page.shape[0]], [0, page.shape[0]]],
                       dtype=np.float64)
    # The QR corners decide the framing, so the code stays inside the frame whatever the tilt.
    qr_corners = np.array([[x, y], [x + size, y], [x + size, y + size], [x, y + size]], dtype=np.float64)

    def project(points: np.ndarray) -> np.ndarray:
        local = np.column_stack([(points - [qcx, qcy]) * scale, np.zeros(len(points))])
        world = local @ rotation.T + [0, 0, focal]
        world[:, 2] = np.maximum(world[:, 2], focal * 0.2)
        return world[:, :2] * focal / world[:, 2:3]

    projected_qr = project(qr_corners)
    shift = center - projected_qr.mean(axis=0)
    lo, hi = projected_qr.min(axis=0) + shift, projected_qr.max(axis=0) + shift
    shift += np.maximum(0, 12 - lo) - np.maximum(0, hi - (np.array([width, height]) - 12))
    homography = cv2.getPerspectiveTransform(
        corners.astype(np.float32), (project(corners) + shift).astype(np.float32)
    )
    # Anti-alias before shrinking, as a lens would.
    sigma = 0.45 / scale if scale < 1 else 0
    source = cv2.GaussianBlur(page, (0, 0), sigma) if sigma > 0.3 else page
    frame = background.copy()
    cv2.warpPerspective(source, homography, (width, height), dst=frame,
                        flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_TRANSPARENT)
    qr_center = (projected_qr + shift).mean(axis=0)
    return frame, (float(qr_center[0]), float(qr_center[1]))


def _noise(frame: np.ndarray, rng: np.random.Generator, sigma: float) -> np.ndarray:
    noisy = frame.astype(np.float32) + rng.standard_normal(frame.shape, dtype=np.float32) * sigma
    return np.clip(noisy, 0, 255, out=noisy).astype(np.uint8)


def _jpeg(frame: np.ndarray, quality: int) -> np.ndarray:
    ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    assert ok
    return cv2.imdecode(data, cv2.IMREAD_COLOR)


def _motion_blur(frame: np.ndarray, length: float, angle: float) -> np.ndarray:
    size = int(math.ceil(length)) | 1
    kernel = np.zeros((size, size), dtype=np.float32)
    kernel[size // 2, :] = 1.0
    rotate = cv2.getRotationMatrix2D((size / 2 - 0.5, size / 2 - 0.5), angle, 1.0)
    kernel = cv2.warpAffine(kernel, rotate, (size, size))
    return cv2.filter2D(frame, -1, kernel / kernel.sum())


def _illumination(frame: np.ndarray, rng: np.random.Generator, gain: float, uneven: float) -> np.ndarray:
    height, width = frame.shape[:2]
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    cx, cy = rng.uniform(0, width), rng.uniform(0, height)
    falloff = 1 - uneven * (((xx - cx) / width) ** 2 + ((yy - cy) / height) ** 2)
    lit = frame.astype(np.float32) * (gain * np.clip(falloff, 0.2, 1))[..., None]
    return np.clip(lit, 0, 255).astype(np.uint8)


def _glare(frame: np.ndarray, rng: np.random.Generator, near: tuple[float, float], radius: float,
           strength: float) -> np.ndarray:
    height, width = frame.shape[:2]
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    cx = near[0] + rng.uniform(-radius, radius) * 0.8
    cy = near[1] + rng.uniform(-radius, radius) * 0.8
    spot = np.exp(-(((xx - cx) ** 2 + ((yy - cy) * 1.6) ** 2) / (2 * radius**2)))
    lit = frame.astype(np.float32) + strength * spot[..., None]
    return np.clip(lit, 0, 255).astype(np.uint8)


def camera_frame(kind: str, text: str | None, rng: np.random.Generator, *,
                 frame_size: tuple[int, int] = FRAME_SIZE) -> np.ndarray:
    """A BGR camera frame of one degradation class; ``text=None`` gives a frame without code."""
    if kind not in CLASSES:
        raise ValueError(kind)
    width, height = frame_size
    symbol_px = rng.uniform(150, 280)
    angle = rng.uniform(-12, 12)
    tilt = (rng.uniform(-8, 8), rng.uniform(-8, 8))
    if kind == "rotated":
        angle = rng.uniform(0, 360)
    elif kind == "tilted":
        strong = rng.uniform(30, 45) * rng.choice([-1, 1])
        tilt = (strong, rng.uniform(-15, 15)) if rng.random() < 0.5 else (rng.uniform(-15, 15), strong)
        angle = rng.uniform(0, 360)
    elif kind == "small":
        symbol_px = rng.uniform(80, 120)
    elif kind == "realistic":
        symbol_px = rng.uniform(110, 280)
        angle = rng.uniform(0, 360)
        tilt = (rng.uniform(-30, 30), rng.uniform(-30, 30))
    elif kind in ("blurred", "motion"):
        symbol_px = rng.uniform(180, 300)
    module_px = max(3, int(math.ceil(symbol_px / 29 * 1.6)))
    page, box = invoice_page(text, rng, module_px=module_px)
    if kind == "inverted":
        page = 255 - page
    background = _background(rng, width, height)
    if kind == "inverted":
        background = 255 - background // 2
    frame, qr_center = _project(page, box, rng, frame_size=frame_size, symbol_px=symbol_px, angle=angle,
                     tilt=tilt, background=background)
    frame = cv2.GaussianBlur(frame, (0, 0), 0.6)
    noise = 2.5
    if kind == "blurred":
        frame = cv2.GaussianBlur(frame, (0, 0), rng.uniform(1.5, 3.0))
    elif kind == "motion":
        frame = _motion_blur(frame, rng.uniform(6, 14), rng.uniform(0, 180))
    elif kind == "dark":
        frame = _illumination(frame, rng, rng.uniform(0.15, 0.3), 0.6)
        noise = 3.5
    elif kind == "glare":
        frame = _glare(frame, rng, qr_center, symbol_px * rng.uniform(0.25, 0.45), rng.uniform(120, 200))
    elif kind == "realistic":
        if rng.random() < 0.6:
            frame = cv2.GaussianBlur(frame, (0, 0), rng.uniform(0.5, 1.6))
        if rng.random() < 0.3:
            frame = _motion_blur(frame, rng.uniform(2, 6), rng.uniform(0, 180))
        frame = _illumination(frame, rng, rng.uniform(0.35, 1.1), rng.uniform(0.2, 0.9))
        if rng.random() < 0.25:
            frame = _glare(frame, rng, qr_center, symbol_px * 0.3, rng.uniform(60, 120))
        noise = rng.uniform(2, 6)
    frame = _noise(frame, rng, noise)
    if kind == "jpeg":
        frame = _jpeg(frame, int(rng.integers(12, 30)))
    elif kind == "realistic":
        frame = _jpeg(frame, int(rng.integers(40, 90)))
    return frame


def encode(image: np.ndarray | Image.Image, fmt: str, **params) -> bytes:
    """An image as file bytes (JPEG, PNG, WEBP, BMP, PDF...) through Pillow."""
    if isinstance(image, np.ndarray):
        image = Image.fromarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB) if image.ndim == 3 else image)
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()
