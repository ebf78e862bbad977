import struct
import zlib

import cv2
import numpy as np
import pytest
from imaging import CLASSES, camera_frame, encode, invoice_page, qr_image, random_payload
from PIL import Image

from yanpiao import decoder
from yanpiao.decoder import (
    CorruptFile,
    DecodeError,
    NoCodeFound,
    Reason,
    TooManyPixels,
    UnsupportedFileType,
    decode_frame,
    decode_image_bytes,
    sniff_image_type,
)
from yanpiao.qr import find_invoice_payload

PAYLOAD = "01,32,,24312000000136634917,0.01,20240514,,1DD6"


def frames_of(kind, count, seed):
    rng = np.random.default_rng(seed)
    result = []
    for _ in range(count):
        text = random_payload(rng)
        result.append((text, camera_frame(kind, text, rng)))
    return result


@pytest.mark.parametrize("kind", CLASSES)
def test_every_degradation_class_decodes(kind):
    for text, frame in frames_of(kind, 2, seed=100 + CLASSES.index(kind)):
        assert decode_frame(frame) == [text]


def test_frame_without_code_gives_nothing():
    rng = np.random.default_rng(5)
    for kind in ("clean", "realistic", "dark", "inverted"):
        assert decode_frame(camera_frame(kind, None, rng)) == []


def test_frame_formats():
    _, frame = frames_of("clean", 1, seed=1)[0]
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    bgra = cv2.cvtColor(frame, cv2.COLOR_BGR2BGRA)
    expected = decode_frame(frame)
    assert expected
    assert decode_frame(gray) == expected
    assert decode_frame(bgra) == expected
    assert decode_frame(gray[:, :, None]) == expected


@pytest.mark.parametrize("fmt, params", [("JPEG", {"quality": 80}), ("PNG", {}), ("WEBP", {"quality": 80}),
                                         ("BMP", {})])
def test_uploaded_picture_formats(fmt, params):
    text, frame = frames_of("realistic", 1, seed=3)[0]
    assert decode_image_bytes(encode(frame, fmt, **params)) == [text]


def test_large_photo_is_shrunk_and_still_read():
    rng = np.random.default_rng(8)
    page, _ = invoice_page(PAYLOAD, rng, module_px=24)  # a 12 MP scan-like photo
    photo = cv2.resize(page, (4000, int(4000 * page.shape[0] / page.shape[1])))
    assert decode_image_bytes(encode(photo, "JPEG", quality=85)) == [PAYLOAD]


def test_code_too_small_for_the_shrunk_copy_is_read_at_full_size():
    canvas = np.full((3000, 5000), 235, np.uint8)
    code = qr_image(PAYLOAD, scale=3)
    canvas[2000: 2000 + code.shape[0], 3000: 3000 + code.shape[1]] = code
    assert decode_image_bytes(encode(canvas, "PNG")) == [PAYLOAD]


def test_several_codes_are_all_returned():
    canvas = np.full((700, 1200), 240, np.uint8)
    invoice, shop = qr_image(PAYLOAD, scale=6), qr_image("https://shop.example/pay?id=42", scale=6)
    canvas[50: 50 + invoice.shape[0], 50: 50 + invoice.shape[1]] = invoice
    canvas[100: 100 + shop.shape[0], 700: 700 + shop.shape[1]] = shop
    texts = decode_frame(canvas)
    assert sorted(texts) == sorted([PAYLOAD, "https://shop.example/pay?id=42"])
    assert find_invoice_payload(texts) is not None


def test_duplicate_codes_are_returned_once():
    code = qr_image(PAYLOAD, scale=5)
    canvas = np.full((400, 900), 255, np.uint8)
    canvas[20: 20 + code.shape[0], 20: 20 + code.shape[1]] = code
    canvas[20: 20 + code.shape[0], 500: 500 + code.shape[1]] = code
    assert decode_frame(canvas) == [PAYLOAD]


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_chinese_text_is_decoded_whatever_the_encoder_used(encoding):
    text = "发票查验 01,32 增值税"
    image = qr_image(text.encode(encoding), scale=6)
    assert decode_frame(image) == [text]


def test_code_on_a_transparent_background():
    code = qr_image(PAYLOAD, scale=6)
    rgba = np.zeros((*code.shape, 4), np.uint8)
    rgba[..., 3] = np.where(code == 0, 255, 0)  # black modules, everything else see-through
    assert decode_image_bytes(encode(Image.fromarray(rgba, "RGBA"), "PNG")) == [PAYLOAD]


def test_sixteen_bit_png():
    code = qr_image(PAYLOAD, scale=6).astype(np.uint16) * 257
    image = Image.fromarray(code)
    assert image.mode.startswith("I;16")
    assert decode_image_bytes(encode(image, "PNG")) == [PAYLOAD]


def test_picture_without_code():
    rng = np.random.default_rng(2)
    page, _ = invoice_page(None, rng, module_px=6)
    with pytest.raises(NoCodeFound) as caught:
        decode_image_bytes(encode(page, "PNG"))
    assert caught.value.reason == Reason.NO_CODE == "no_code"


# --- refusals -----------------------------------------------------------------------------------


def png_header(width, height):
    """A PNG that declares its size and holds (almost) nothing: the pixel bomb's shape."""

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    signature = b"\x89PNG\r\n\x1a\n"
    return signature + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0")) + chunk(b"IEND", b"")


@pytest.mark.parametrize("size", [(8000, 6000), (100_000, 100_000)])
def test_pixel_bombs_are_refused_before_decoding(size):
    with pytest.raises(TooManyPixels) as caught:
        decode_image_bytes(png_header(*size))
    assert caught.value.reason == "too_many_pixels"


def test_pixel_limit_is_a_parameter():
    data = encode(qr_image(PAYLOAD, scale=10), "PNG")
    with pytest.raises(TooManyPixels):
        decode_image_bytes(data, max_pixels=10_000)
    assert decode_image_bytes(data) == [PAYLOAD]


def test_pillow_is_never_asked_to_decode_a_bomb(monkeypatch):
    def forbidden(self, *args, **kwargs):
        raise AssertionError("decoded before the size check")

    monkeypatch.setattr(Image.Image, "load", forbidden)
    monkeypatch.setattr("PIL.ImageFile.ImageFile.load", forbidden)
    with pytest.raises(TooManyPixels):
        decode_image_bytes(png_header(8000, 6000))


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_truncated_pictures_are_corrupt(fmt):
    _, frame = frames_of("clean", 1, seed=4)[0]
    data = encode(frame, fmt)
    with pytest.raises(CorruptFile) as caught:
        decode_image_bytes(data[: len(data) // 2])
    assert caught.value.reason == "corrupt_image"


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
        b"\xff\xd8\xff\xe0" + b"\x00" * 600,
        b"RIFF\x10\x00\x00\x00WEBPVP8 garbage",
        b"BM" + b"\x00" * 12 + struct.pack("<I", 40) + b"\xff" * 40,
        png_header(0, 10),
    ],
)
def test_corrupt_pictures(data):
    with pytest.raises(CorruptFile) as caught:
        decode_image_bytes(data)
    assert caught.value.reason == "corrupt_image"


@pytest.mark.parametrize(
    "data",
    [
        b"GIF89a" + b"\x00" * 100,
        b"%PDF-1.7\n",
        b"PK\x03\x04 a zip",
        b"BM but only text that starts like a bitmap",
        "01,32,,24312000000136634917,0.01,20240514,,1DD6".encode(),
        b"\x00\x00\x00\x0cjP  \r\n\x87\n",  # JPEG 2000
    ],
)
def test_wrong_types_are_unsupported(data):
    with pytest.raises(UnsupportedFileType) as caught:
        decode_image_bytes(data)
    assert caught.value.reason == "unsupported_type"


def test_empty_upload():
    with pytest.raises(UnsupportedFileType) as caught:
        decode_image_bytes(b"")
    assert caught.value.reason == "empty_file"


def test_errors_are_value_errors_with_stable_reasons():
    assert issubclass(DecodeError, ValueError)
    for error in (CorruptFile, NoCodeFound, TooManyPixels, UnsupportedFileType, decoder.UnsafeFile):
        assert issubclass(error, DecodeError)
        assert error().reason in set(Reason)


@pytest.mark.parametrize(
    "fmt, expected", [("JPEG", "jpeg"), ("PNG", "png"), ("WEBP", "webp"), ("BMP", "bmp"), ("GIF", None),
                      ("TIFF", None)],
)
def test_sniffing_reads_content_not_names(fmt, expected):
    assert sniff_image_type(encode(qr_image("x", scale=2), fmt)) == expected
