"""QR codes out of pictures: uploaded photos and kiosk camera frames.

One ladder serves both. zxing-cpp on the whole grey frame finds nearly every readable code in
about a millisecond, so it runs first and alone; zbar (pyzbar) is the second engine, run only on
code-like patches where its ~18 ms per whole frame cannot slow the camera loop. Only when it finds nothing does a cheap texture
map look for code-like patches (dense contrast in a squarish blob); each patch is cropped,
brought to a standard size and put through the repairs that recover blurred, shaken and tiny
codes. A frame without any code-like patch costs little more than the first pass, which keeps
the kiosk's idle frames cheap.

Errors are ``DecodeError`` subclasses whose ``reason`` is a stable code the web layer words
for the visitor.
"""

from __future__ import annotations

import enum
import io
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import cv2
import numpy as np
import zxingcpp
from PIL import Image, UnidentifiedImageError
from pyzbar.pyzbar import ZBarSymbol
from pyzbar.pyzbar import decode as zbar_decode

from .qr import find_invoice_payload

DEFAULT_MAX_PIXELS = 40_000_000
# Long side a photo is shrunk to before the first pass: a phone photo of an invoice still has
# ~5 px per module there, and decoding is several times cheaper than at full size.
WORKING_SIDE = 2048


class Reason(enum.StrEnum):
    EMPTY_FILE = "empty_file"
    UNSUPPORTED_TYPE = "unsupported_type"
    CORRUPT_IMAGE = "corrupt_image"
    TOO_MANY_PIXELS = "too_many_pixels"
    NO_CODE = "no_code"
    CORRUPT_PDF = "corrupt_pdf"
    PROTECTED_PDF = "protected_pdf"
    NO_PAGES = "no_pages"
    CORRUPT_OFD = "corrupt_ofd"
    UNSAFE_ARCHIVE = "unsafe_archive"
    UNSAFE_XML = "unsafe_xml"


class DecodeError(ValueError):
    """A file or picture that yields no code; ``reason`` says why."""

    default_reason: Reason = Reason.CORRUPT_IMAGE

    def __init__(self, reason: Reason | None = None, detail: str = ""):
        self.reason = Reason(reason or self.default_reason)
        super().__init__(f"{self.reason}: {detail}" if detail else str(self.reason))


class UnsupportedFileType(DecodeError):
    default_reason = Reason.UNSUPPORTED_TYPE


class CorruptFile(DecodeError):
    """Unreadable, truncated or internally inconsistent (reason names the format)."""

    default_reason = Reason.CORRUPT_IMAGE


class TooManyPixels(DecodeError):
    default_reason = Reason.TOO_MANY_PIXELS


class NoCodeFound(DecodeError):
    default_reason = Reason.NO_CODE


class UnsafeFile(DecodeError):
    """Built to hurt the reader: an archive bomb or XML with entities or a DTD."""

    default_reason = Reason.UNSAFE_ARCHIVE


# ---------------------------------------------------------------------------------------------
# File types


_PILLOW_FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "bmp": "BMP"}
# Sizes of the BMP info headers in use (core, v1-v5): "BM" alone is too common a start of text.
_BMP_HEADER_SIZES = frozenset({12, 16, 40, 52, 56, 64, 108, 124})


def sniff_image_type(data: bytes) -> str | None:
    """'jpeg', 'png', 'webp' or 'bmp' from the file's first bytes; a name can lie, these not."""
    head = bytes(data[:32])
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:2] == b"BM" and len(head) >= 18 and int.from_bytes(head[14:18], "little") in _BMP_HEADER_SIZES:
        return "bmp"
    return None


# ---------------------------------------------------------------------------------------------
# Entry points


def decode_image_bytes(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> list[str]:
    """Every distinct QR text in an uploaded picture; raises ``DecodeError`` when there is none."""
    gray = load_gray(data, max_pixels=max_pixels)
    texts = decode_large(gray)
    if not texts:
        raise NoCodeFound()
    return texts


def decode_frame(frame: np.ndarray) -> list[str]:
    """Every distinct QR text in a camera frame (BGR, BGRA or grey); ``[]`` when there is none."""
    return _Ladder(_to_gray(frame)).run()


def decode_large(gray: np.ndarray) -> list[str]:
    """Like ``decode_frame`` for pictures of any size: shrunk first, full size only if needed."""
    height, width = gray.shape[:2]
    scale = WORKING_SIDE / max(height, width)
    if scale >= 1:
        return decode_frame(gray)
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return decode_frame(small) or decode_frame(gray)


def load_gray(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """A grey 8-bit array from JPEG/PNG/WebP/BMP bytes, refusing pixel bombs before decoding."""
    if not data:
        raise UnsupportedFileType(Reason.EMPTY_FILE)
    kind = sniff_image_type(data)
    if kind is None:
        raise UnsupportedFileType()
    try:
        image = Image.open(io.BytesIO(data), formats=[_PILLOW_FORMATS[kind]])
    except Image.DecompressionBombError as exc:
        raise TooManyPixels(detail=str(exc)) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise CorruptFile(Reason.CORRUPT_IMAGE, str(exc)) from None
    with image:
        width, height = image.size
        if width <= 0 or height <= 0:
            raise CorruptFile(Reason.CORRUPT_IMAGE, "no pixels")
        # Only the header has been read so far: the size is known before any memory is spent.
        if width * height > max_pixels:
            raise TooManyPixels(detail=f"{width}x{height}")
        try:
            if kind == "jpeg":
                # Let libjpeg scale down while decoding: a 48 MP photo decodes in a fraction.
                factor = max(1, max(width, height) // WORKING_SIDE)
                if factor > 1:
                    image.draft("L", (width // factor, height // factor))
            image.load()
            return _pil_to_gray(image)
        except Image.DecompressionBombError as exc:
            raise TooManyPixels(detail=str(exc)) from None
        except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as exc:
            raise CorruptFile(Reason.CORRUPT_IMAGE, str(exc)) from None


def _pil_to_gray(image: Image.Image) -> np.ndarray:
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        wide = np.asarray(image, dtype=np.float64)
        top = float(wide.max()) or 1.0
        return np.clip(wide * (255.0 / top), 0, 255).astype(np.uint8)
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        # A code drawn on a transparent background: flatten onto white, not onto black.
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    return np.asarray(image.convert("L"))


def _to_gray(frame: np.ndarray) -> np.ndarray:
    if not isinstance(frame, np.ndarray) or frame.size == 0:
        raise ValueError("not an image array")
    if frame.dtype != np.uint8:
        frame = cv2.normalize(frame, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    if frame.ndim == 2:
        return frame
    if frame.ndim == 3 and frame.shape[2] == 1:
        return frame[:, :, 0]
    if frame.ndim == 3 and frame.shape[2] == 3:
        return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    if frame.ndim == 3 and frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2GRAY)
    raise ValueError(f"unexpected image shape {frame.shape}")


# ---------------------------------------------------------------------------------------------
# Engines


@dataclass(frozen=True)
class _Found:
    text: str
    # Corners in the coordinates of the image the engine was given, to skip patches already read.
    corners: np.ndarray | None


def _text_from_bytes(raw: bytes, fallback: str | None = None) -> str:
    """UTF-8 first (what invoice software writes), then GB 18030 (older Chinese encoders)."""
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return fallback if fallback is not None else raw.decode("latin-1")


_QR = zxingcpp.BarcodeFormat.QRCode


def _zxing(gray: np.ndarray) -> list[_Found]:
    found = []
    for barcode in zxingcpp.read_barcodes(gray, formats=_QR):
        position = barcode.position
        corners = np.array(
            [[p.x, p.y] for p in (position.top_left, position.top_right,
                                   position.bottom_right, position.bottom_left)],
            dtype=np.float32,
        )
        found.append(_Found(_text_from_bytes(barcode.bytes, barcode.text), corners))
    return found


def _zbar(gray: np.ndarray) -> list[_Found]:
    """zbar, QR symbols only (by default it also reports junk 1-D reads from text lines).

    zbar guesses Shift-JIS for bytes that are not ASCII, so its raw bytes are re-read here.
    It only ever sees a cropped patch: on a whole frame it costs ~18 ms, too slow for the
    kiosk's idle frames.
    """
    return [
        _Found(_text_from_bytes(symbol.data), None)
        for symbol in zbar_decode(gray, symbols=[ZBarSymbol.QRCODE])
    ]


def _otsu(gray: np.ndarray) -> np.ndarray:
    _, binary = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return binary


# ---------------------------------------------------------------------------------------------
# Finding code-like patches

_LOCATOR_STEP = 4  # the texture map is computed at a quarter of the size
_MIN_PATCH = 14  # in quarter pixels: a 56 px code, below what any engine reads anyway
_MAX_PATCHES = 2


def find_patches(gray: np.ndarray, limit: int = _MAX_PATCHES) -> list[tuple[int, int, int, int]]:
    """Boxes (x, y, w, h) of squarish, densely contrasted patches, most code-like first.

    A QR code is a block of dark and light modules at ~50 %, so its local standard deviation
    is high all over; text and ruled lines are high only in thin bands, which the opening
    removes, and paper or desk are low.
    """
    height, width = gray.shape
    step = _LOCATOR_STEP
    if min(width, height) < _MIN_PATCH * step:
        return []  # too small to hold a patch (and to shrink: OpenCV refuses a 0-pixel side)
    small = cv2.resize(gray, (width // step, height // step), interpolation=cv2.INTER_AREA)
    small = small.astype(np.float32)
    mean = cv2.boxFilter(small, -1, (5, 5))
    mean_sq = cv2.boxFilter(small * small, -1, (5, 5))
    spread = np.sqrt(np.maximum(mean_sq - mean * mean, 0))
    top = float(np.percentile(spread, 99.5))
    if top < 6:
        return []
    mask = (spread > max(0.4 * top, 5.0)).astype(np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((9, 9), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask)
    scored = []
    for label in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[label])
        if w < _MIN_PATCH or h < _MIN_PATCH or not 0.5 <= w / h <= 2:
            continue
        if not _about_half_dark(small[y: y + h, x: x + w]):
            continue
        fill = area / (w * h)
        score = float(spread[labels == label].mean()) * min(1.0, fill * 1.5)
        scored.append((score, (x * step, y * step, w * step, h * step)))
    scored.sort(key=lambda item: -item[0])
    return [box for _, box in scored[:limit]]


def _about_half_dark(patch: np.ndarray) -> bool:
    """QR modules are dark about half the time, however blurred; text is mostly paper."""
    _, binary = cv2.threshold(patch.astype(np.uint8), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return 0.3 <= float(np.count_nonzero(binary == 0)) / binary.size <= 0.7


# ---------------------------------------------------------------------------------------------
# Repairs for a cropped patch


@dataclass
class _Patch:
    gray: np.ndarray  # the whole picture
    box: tuple[int, int, int, int]
    _sizes: dict[int, np.ndarray] = field(default_factory=dict)

    def at(self, side: int) -> np.ndarray:
        """The patch with a margin, scaled so the box's long side is ``side`` pixels."""
        if side not in self._sizes:
            x, y, w, h = self.box
            margin = int(max(w, h) * 0.25)
            height, width = self.gray.shape
            crop = self.gray[max(0, y - margin): min(height, y + h + margin),
                             max(0, x - margin): min(width, x + w + margin)]
            factor = side / max(w, h)
            interpolation = cv2.INTER_CUBIC if factor > 1 else cv2.INTER_AREA
            self._sizes[side] = cv2.resize(crop, None, fx=factor, fy=factor, interpolation=interpolation)
        return self._sizes[side]


def _sharpen(gray: np.ndarray, sigma: float, amount: float) -> np.ndarray:
    blurred = cv2.GaussianBlur(gray, (0, 0), sigma)
    return cv2.addWeighted(gray, 1 + amount, blurred, -amount, 0)


def _equalise(gray: np.ndarray) -> np.ndarray:
    # A fresh CLAHE each time: the object keeps buffers, and the kiosk's camera thread and
    # upload requests may decode at once.
    return cv2.createCLAHE(clipLimit=2.0, tileGridSize=(4, 4)).apply(gray)


def _blur_direction(gray: np.ndarray) -> tuple[float, float]:
    """Direction of the weakest gradients (degrees, OpenCV's sense) and how one-sided they are.

    Shake smears edges along one direction, so the gradient energy becomes strongly
    anisotropic (ratio well below 1); a sharp or evenly defocused code has a ratio near 1.
    """
    source = gray.astype(np.float32)
    gx = cv2.Sobel(source, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(source, cv2.CV_32F, 0, 1)
    jxx, jyy, jxy = float((gx * gx).sum()), float((gy * gy).sum()), float((gx * gy).sum())
    half_trace = (jxx + jyy) / 2
    root = math.sqrt(((jxx - jyy) / 2) ** 2 + jxy**2)
    strongest = half_trace + root
    ratio = (half_trace - root) / strongest if strongest > 0 else 1.0
    return -(math.degrees(0.5 * math.atan2(2 * jxy, jxx - jyy)) + 90), ratio


def _motion_otf(length: float, angle: float, shape: tuple[int, int]) -> np.ndarray:
    size = int(math.ceil(length)) | 1
    kernel = np.zeros((size, size), np.float32)
    kernel[size // 2, :] = 1
    rotation = cv2.getRotationMatrix2D((size / 2 - 0.5, size / 2 - 0.5), angle, 1)
    kernel = cv2.warpAffine(kernel, rotation, (size, size))
    kernel /= kernel.sum()
    padded = np.zeros(shape, np.float32)
    padded[:size, :size] = kernel
    padded = np.roll(padded, (-(size // 2), -(size // 2)), (0, 1))
    return np.fft.rfft2(padded)


def _wiener_motion(gray: np.ndarray, length: float, angle: float, noise: float = 0.01) -> np.ndarray:
    """Undo a straight shake of ``length`` pixels: no sharpening brings back modules smeared
    into each other along one direction, dividing the blur out of the spectrum does."""
    image = gray.astype(np.float32) / 255
    otf = _motion_otf(length, angle, image.shape)
    spectrum = np.fft.rfft2(image)
    restored = np.fft.irfft2(spectrum * np.conj(otf) / (np.abs(otf) ** 2 + noise), s=image.shape)
    return np.clip(restored * 255, 0, 255).astype(np.uint8)


# Shake lengths tried, in pixels of the picture (before the patch is rescaled).
_SHAKE_LENGTHS = (10, 12, 8, 14)
_SHAKE_RATIO = 0.5


def _patch_attempts(patch: _Patch) -> Iterator[Callable[[], list[_Found]]]:
    """The repairs, most often successful first (bench/decode.py measures them)."""
    base = patch.at(200)
    angle, ratio = _blur_direction(base)
    if ratio < _SHAKE_RATIO:
        factor = 200 / max(patch.box[2], patch.box[3])
        for length in _SHAKE_LENGTHS:
            yield lambda length=length: _zxing(_wiener_motion(base, length * factor, angle))
    yield lambda: _zxing(patch.at(400))  # enlarging alone rescues many small codes
    yield lambda: _zxing(_sharpen(base, 2.0, 3.0))
    yield lambda: _zxing(_sharpen(_equalise(base), 2.0, 2.0))
    yield lambda: _zxing(_sharpen(patch.at(400), 1.0, 3.0))
    # The second engine, on the same candidate patch: zbar's binariser copes differently with
    # uneven light, so it is the last word before giving up on a patch.
    yield lambda: _zbar(patch.at(400))
    yield lambda: _zbar(_otsu(_sharpen(patch.at(400), 1.0, 2.0)))


# ---------------------------------------------------------------------------------------------
# The ladder


class _Ladder:
    """One picture's way down the ladder; stops once an invoice payload is among the finds."""

    def __init__(self, gray: np.ndarray):
        self.gray = gray
        self.texts: list[str] = []
        self.regions: list[tuple[float, float, float, float]] = []

    def run(self) -> list[str]:
        self._add(_zxing(self.gray))
        if self._has_invoice():
            return self.texts
        for box in find_patches(self.gray):
            if self._covered(box):
                continue
            patch = _Patch(self.gray, box)
            for attempt in _patch_attempts(patch):
                found = attempt()
                if found:
                    # Corners are in the rescaled patch's coordinates: keep the texts only.
                    self.texts.extend(f.text for f in found if f.text not in self.texts)
                    break
            if self._has_invoice():
                break
        return self.texts

    def _add(self, found: list[_Found]) -> None:
        for item in found:
            if item.text not in self.texts:
                self.texts.append(item.text)
            if item.corners is not None and len(item.corners):
                xs, ys = item.corners[:, 0], item.corners[:, 1]
                self.regions.append((float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())))

    def _covered(self, box: tuple[int, int, int, int]) -> bool:
        x, y, w, h = box
        cx, cy = x + w / 2, y + h / 2
        return any(x0 <= cx <= x1 and y0 <= cy <= y1 for x0, y0, x1, y1 in self.regions)

    def _has_invoice(self) -> bool:
        # A photo may show a shop's or a product's code next to the invoice's: keep looking
        # until the invoice's own is among the finds.
        return find_invoice_payload(self.texts) is not None
