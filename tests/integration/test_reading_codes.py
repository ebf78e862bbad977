"""Scanner keystrokes, photos, PDF and OFD files: each ends in the same verification."""

import io
import re
import zipfile

import numpy as np
import pytest
from PIL import Image

from imaging import encode, invoice_page

HTMX = {"HX-Request": "true", "HX-Target": "verify-result"}


@pytest.fixture(autouse=True)
def without_csrf(app):
    # CSRF on these forms is tested with the typed form; here only the reading matters.
    app.config["WTF_CSRF_ENABLED"] = False


@pytest.fixture
def stored(make_invoice):
    return make_invoice()


def payload_of(stored, check_code="48114255542168294433"):
    date = stored["issue_date"].replace("-", "")
    return f"01,04,{stored['invoice_code']},{stored['invoice_number']},1000.00,{date},{check_code},dbfe"


def typed_check_code(html: str) -> str:
    """The value of the typed form's check-code field."""
    field = re.search(r'<input[^>]*\bname="check_code"[^>]*>', html).group(0)
    return re.search(r'\bvalue="([^"]*)"', field).group(1)


def photo_of(text: str, fmt="png") -> bytes:
    page, _box = invoice_page(text, np.random.default_rng(7))
    return encode(page, fmt)


def pdf_of(text: str) -> bytes:
    page, _box = invoice_page(text, np.random.default_rng(3))
    out = io.BytesIO()
    Image.fromarray(page).convert("RGB").save(out, "PDF", resolution=150)
    return out.getvalue()


def test_scanner_keystrokes_verify_at_once(client, stored):
    response = client.post("/verify/scan", data={"qr": payload_of(stored) + "\r\n"})
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "verdict-ok" in page
    assert f'value="{stored["invoice_number"]}"' in page  # the typed form shows what was read
    # … with the check code as the last 6 digits its field asks for, not all 20.
    assert typed_check_code(page) == "294433"


def test_scanner_htmx_fragment(client, stored):
    body = client.post("/verify/scan", data={"qr": payload_of(stored)}, headers=HTMX).get_data(as_text=True)
    assert "verdict-ok" in body and "<html" not in body
    assert 'id="scan-form-body" hx-swap-oob="true"' in body
    assert typed_check_code(body) == "294433"


def test_scanned_mismatch_is_a_mismatch(client, stored):
    body = client.post("/verify/scan", data={"qr": payload_of(stored, "0" * 20)},
                       headers=HTMX).get_data(as_text=True)
    assert "verdict-bad" in body


@pytest.mark.parametrize("text", ["https://example.com/x", "6901234567892", "hello", "01,99,1,2,3,4,5"])
def test_garbage_qr_text_gets_a_clear_message(client, text):
    response = client.post("/verify/scan", data={"qr": text}, headers={"Accept-Language": "en"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "This is not an invoice QR code" in page
    assert 'href="#qr"' in page
    assert "verdict" not in page


def test_a_refused_scan_or_photo_leaves_the_typed_form_alone(client):
    """With htmx the answer also replaced the typed form's body, emptying what the visitor
    had typed there before trying the scanner or a photo."""
    for url, data in (("/verify/scan", {"qr": "not a code"}),
                      ("/verify/photo", {"photo": (io.BytesIO(b"text, not an image"), "x.jpg")})):
        body = client.post(url, data=data, headers={**HTMX, "Accept-Language": "en"},
                           content_type="multipart/form-data").get_data(as_text=True)
        assert "There is a problem" in body, url
        assert 'id="verify-form-body"' not in body, url


def test_the_photo_field_offers_the_camera_and_the_files_alike(client):
    """capture="environment" made phones open the camera only: no way to pick a photo taken
    before, or the PDF or OFD e-invoice the field's hint asks for."""
    page = client.get("/verify").get_data(as_text=True)
    field = re.search(r'<input type="file" id="photo"[^>]*>', page).group(0)
    assert "capture" not in field and ".pdf" in field and ".ofd" in field


def test_empty_scan(client):
    response = client.post("/verify/scan", data={"qr": "  "}, headers={**HTMX, "Accept-Language": "en"})
    assert "Scan the invoice" in response.get_data(as_text=True)


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp", "bmp"])
def test_photo_upload_verifies(client, stored, fmt):
    data = {"photo": (io.BytesIO(photo_of(payload_of(stored), fmt)), "IMG_0001.dat")}
    response = client.post("/verify/photo", data=data, content_type="multipart/form-data",
                           headers=HTMX)
    body = response.get_data(as_text=True)
    assert "verdict-ok" in body, body[:500]


def test_pdf_upload_verifies_with_its_own_entry_path(app, client, stored):
    data = {"photo": (io.BytesIO(pdf_of(payload_of(stored))), "invoice.pdf")}
    response = client.post("/verify/photo", data=data, content_type="multipart/form-data")
    assert response.status_code == 303
    from sqlalchemy import select

    from yanpiao.models import VerificationRecord

    with app.app_context():
        from blueprints.ext import db

        assert db.session.scalar(select(VerificationRecord.entry_path)) == "pdf"


def bomb() -> bytes:
    # A tiny PNG that claims 50,000 × 50,000 pixels.
    image = Image.new("1", (50_000, 50_000))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file you chose is empty"),
        (b"%!PS-Adobe-3.0 not an image", "This kind of file cannot be read"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 50, "damaged or incomplete"),
        (encode(np.full((400, 400, 3), 255, np.uint8), "png"), "No invoice QR code was found"),
        (None, "too many pixels"),
        # A shop's code was read: "take the photo again" would read it again.
        ("other-code", "The QR code in this photo is not an invoice&#39;s"),
    ],
    ids=["empty", "wrong-type", "truncated", "no-code", "pixel-bomb", "other-code"],
)
def test_bad_photos_get_their_own_message(client, content, message):
    content = bomb() if content is None else content
    if content == "other-code":
        content = photo_of("https://example.com/shop")
    response = client.post("/verify/photo", data={"photo": (io.BytesIO(content), "x.png")},
                           content_type="multipart/form-data", headers={"Accept-Language": "en"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page
    assert 'href="#photo"' in page


def test_two_different_invoices_in_one_photo(client, stored):
    first = invoice_page(payload_of(stored), np.random.default_rng(1))[0]
    other = payload_of({**stored, "invoice_number": "87654321"})
    second = invoice_page(other, np.random.default_rng(2))[0]
    both = np.concatenate([first, second], axis=1)
    response = client.post("/verify/photo", data={"photo": (io.BytesIO(encode(both, "png")), "x.png")},
                           content_type="multipart/form-data", headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert "more than one invoice" in response.get_data(as_text=True)


def test_too_large_upload_answers_413(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    response = client.post("/verify/photo", data={"photo": (io.BytesIO(b"x" * 20_000), "x.png")},
                           content_type="multipart/form-data", headers={"Accept-Language": "en"})
    assert response.status_code == 413
    assert "File too large" in response.get_data(as_text=True)


# --- POST /api/v1/decode ---------------------------------------------------------------


def test_decode_api_returns_the_codes_and_parsed_fields(client, stored):
    response = client.post("/api/v1/decode", data={"file": (io.BytesIO(photo_of(payload_of(stored))), "a")},
                           content_type="multipart/form-data")
    body = response.get_json()
    assert response.status_code == 200
    (code,) = body["codes"]
    assert code["text"] == payload_of(stored)
    assert code["invoice"]["invoice_number"] == stored["invoice_number"]
    assert code["invoice"]["type"] == "04"


def test_decode_api_reports_a_non_invoice_code_without_fields(client):
    response = client.post("/api/v1/decode", data={"file": (io.BytesIO(photo_of("https://example.com")), "a")},
                           content_type="multipart/form-data")
    assert response.get_json() == {"codes": [{"text": "https://example.com", "invoice": None}]}


def test_decode_api_ofd(client, stored):
    text = payload_of(stored)
    xml = f'<?xml version="1.0" encoding="UTF-8"?><eInvoice><GraphCode>{text}</GraphCode></eInvoice>'
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("OFD.xml", "<ofd:OFD xmlns:ofd='http://www.ofdspec.org/2016'/>")
        archive.writestr("Doc_0/Attachs/original_invoice.xml", xml)
    response = client.post("/api/v1/decode", data={"file": (io.BytesIO(out.getvalue()), "a.ofd")},
                           content_type="multipart/form-data")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["codes"][0]["text"] == text


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"", "empty_file"), (b"GIF89a....", "unsupported_type"), (b"\xff\xd8\xff\xe0" + b"\0" * 10, "corrupt_image")],
)
def test_decode_api_errors(client, content, reason):
    response = client.post("/api/v1/decode", data={"file": (io.BytesIO(content), "a")},
                           content_type="multipart/form-data", headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert response.get_json()["error"] == reason
    assert response.get_json()["message"]


def test_decode_api_without_a_code_offers_no_form(client):
    """The message told a script to "type the details below"."""
    blank = encode(np.full((400, 400, 3), 255, np.uint8), "png")
    response = client.post("/api/v1/decode", data={"file": (io.BytesIO(blank), "a.png")},
                           content_type="multipart/form-data", headers={"Accept-Language": "en"})
    assert (response.status_code, response.get_json()["error"]) == (422, "no_code")
    assert response.get_json()["message"] == (
        "No QR code was found. Send a sharper picture with the whole code in it.")


def test_decode_api_without_a_file_says_which_field_it_needs(client):
    """A 0-byte file answered no_file as if none had been sent; empty_file was documented
    but never given."""
    response = client.post("/api/v1/decode", data={}, content_type="multipart/form-data")
    assert (response.status_code, response.get_json()["error"]) == (422, "no_file")
