"""Receipts through the test client: page, PDF, text, share links, public key, checking."""

import base64
import io
import re

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from yanpiao.receipts import BEGIN, END

HTMX = {"HX-Request": "true", "HX-Target": "receipt-check-result"}


@pytest.fixture(autouse=True)
def setup(app, tmp_path):
    app.config["WTF_CSRF_ENABLED"] = False
    app.config["YANPIAO_RECEIPT_KEY_DIR"] = str(tmp_path / "keys")
    app.config["YANPIAO_PUBLIC_URL"] = "https://yanpiao.example"


def new_client(app):
    client = app.test_client()
    client.set_cookie("lang", "en")
    return client


@pytest.fixture
def client(app):
    return new_client(app)


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def receipt(client, make_invoice):
    """A valid check by this client: (receipt id, share link path)."""
    stored = make_invoice()
    response = client.post("/verify", data={
        "invoice_code": stored["invoice_code"], "invoice_number": stored["invoice_number"],
        "issue_date": stored["issue_date"], "check_code": "294433"})
    page = text(client.get(response.headers["Location"]))
    link = re.search(r'<a href="(/receipts/([A-Z2-7]{20})\?k=[^"]+)">Receipt</a>', page)
    assert link, "the result links to its receipt"
    return link.group(2), link.group(1).replace("&amp;", "&")


def signed_text(client, receipt_id) -> str:
    response = client.get(f"/receipts/{receipt_id}.txt")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"  # said once
    return text(response)


def test_the_owner_sees_the_receipt_with_its_verdict_and_qr(client, receipt):
    receipt_id, link = receipt
    response = client.get(f"/receipts/{receipt_id}")
    page = text(response)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "private, no-store"
    assert "verdict-ok" in page and "Valid invoice" in page
    assert "Signature genuine" in page and "北京星河科技有限公司" in page
    assert "<svg" in page  # the QR code, inline
    assert f"https://yanpiao.example{link}" in page.replace("&amp;", "&")
    assert BEGIN in page and END in page


def test_a_share_link_opens_it_for_anyone_but_only_for_that_receipt(app, client, receipt,
                                                                    make_invoice):
    receipt_id, link = receipt
    stranger = new_client(app)
    assert stranger.get(link).status_code == 200
    token = link.split("k=")[1]
    assert stranger.get(f"/receipts/{receipt_id}.txt?k={token}").status_code == 200
    token = link.split("k=")[1]
    other_id = "A" * 20 if receipt_id != "A" * 20 else "B" * 20
    assert stranger.get(f"/receipts/{other_id}?k={token}").status_code == 404
    assert stranger.get(f"/receipts/{receipt_id}?k=wrong").status_code == 404
    assert stranger.get(f"/receipts/{receipt_id}").status_code == 404
    assert stranger.get(f"/receipts/{receipt_id}.pdf").status_code == 404


@pytest.mark.parametrize("receipt_id", ["x", "abc%00", "A" * 200, "../../etc/passwd"])
def test_odd_ids_are_simply_not_found(client, receipt_id):
    assert client.get(f"/receipts/{receipt_id}").status_code == 404


def test_the_pdf_is_a_receipt_that_checks_genuine(app, client, receipt):
    receipt_id, link = receipt
    stranger = new_client(app)
    token = link.split("k=")[1]
    response = stranger.get(f"/receipts/{receipt_id}.pdf?k={token}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    assert f"yanpiao-receipt-{receipt_id}.pdf" in response.headers["Content-Disposition"]
    checked = stranger.post("/receipts/check", data={
        "file": (io.BytesIO(response.data), "receipt.pdf")}, content_type="multipart/form-data")
    assert checked.status_code == 200 and "Genuine receipt" in text(checked)
    assert receipt_id in text(checked)


def test_an_arabic_reader_gets_the_pdf_in_arabic_letters(app, client, receipt):
    import pypdfium2 as pdfium

    receipt_id, link = receipt
    reader = app.test_client()
    reader.set_cookie("lang", "ar")
    response = reader.get(f"/receipts/{receipt_id}.pdf?k={link.split('k=')[1]}")
    assert response.status_code == 200
    document = pdfium.PdfDocument(response.data)
    try:
        drawn = document[0].get_textpage().get_text_range()
    finally:
        document.close()
    assert "إيصال تحقق Yanpiao" in drawn  # the title, in Arabic letters
    checked = client.post("/receipts/check", data={
        "file": (io.BytesIO(response.data), "receipt.pdf")}, content_type="multipart/form-data")
    assert "Genuine receipt" in text(checked)


def test_pasted_text_is_genuine_and_one_changed_character_is_tampered(client, receipt):
    receipt_id, _link = receipt
    document = signed_text(client, receipt_id)
    genuine = client.post("/receipts/check", data={"document": document.replace("\n", "\r\n")})
    assert "Genuine receipt" in text(genuine) and "Valid invoice" in text(genuine)
    forged = document.replace("total: 1130.00", "total: 1730.00")
    assert forged != document
    tampered = client.post("/receipts/check", data={"document": forged})
    assert tampered.status_code == 200
    assert "Tampered receipt" in text(tampered)
    assert "receipt-fields" not in text(tampered)  # nothing of it is shown as fact


def test_an_uploaded_text_file_with_a_change_is_tampered(client, receipt):
    receipt_id, _link = receipt
    forged = signed_text(client, receipt_id).replace("outcome: match", "outcome: matcH")
    response = client.post("/receipts/check", data={
        "file": (io.BytesIO(forged.encode()), "receipt.txt")}, content_type="multipart/form-data")
    assert "Tampered receipt" in text(response)


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({}, 422, "Paste the text of a receipt, or choose its file."),
        ({"document": "   "}, 422, "Paste the text of a receipt, or choose its file."),
        ({"document": "hello there"}, 200, "No receipt found"),
        ({"file": (io.BytesIO(b"\x89PNG\r\n\x1a\n"), "photo.png")}, 200, "No receipt found"),
        ({"file": (io.BytesIO(b"x" * (2 * 1024 * 1024 + 1)), "big.pdf")}, 422, "larger than 2 MB"),
    ],
    ids=["nothing", "blank", "random-text", "an-image", "too-large"],
)
def test_checking_odd_input_never_fails(client, data, status, message):
    response = client.post("/receipts/check", data=data, content_type="multipart/form-data")
    assert response.status_code == status and message in text(response)
    fragment = client.post("/receipts/check", data=data, content_type="multipart/form-data",
                           headers=HTMX) if "file" not in data else None
    if fragment is not None:
        body = text(fragment)
        assert fragment.status_code == 200 and "<html" not in body and message in body
        assert 'hx-swap-oob="true"' in body


def test_the_check_page_and_its_fragment(client, receipt):
    page = text(client.get("/receipts/check"))
    assert 'enctype="multipart/form-data"' in page and 'hx-post="/receipts/check"' in page
    document = signed_text(client, receipt[0])
    fragment = client.post("/receipts/check", data={"document": document}, headers=HTMX)
    body = text(fragment)
    assert fragment.status_code == 200 and "<html" not in body
    assert "Genuine receipt" in body and "HX-Request" in fragment.headers["Vary"]


def test_the_public_key_verifies_the_signature(client, receipt):
    pem = client.get("/receipts/public-key")
    assert pem.status_code == 200 and pem.mimetype == "text/plain"
    key = load_pem_public_key(pem.data)
    lines = signed_text(client, receipt[0]).strip().split("\n")
    content = "\n".join(lines[1:-2])
    signature = base64.b64decode(lines[-2].removeprefix("signature: "))
    key.verify(signature, content.encode())  # raises if not genuine


def test_the_key_lives_in_the_configured_directory(app, client, receipt, tmp_path):
    assert (tmp_path / "keys" / "receipt-signing-key.pem").exists()


def test_a_receipt_of_a_mismatch_reveals_nothing_of_the_invoice(client, make_invoice):
    stored = make_invoice()
    response = client.post("/verify", data={
        "invoice_code": stored["invoice_code"], "invoice_number": stored["invoice_number"],
        "issue_date": stored["issue_date"], "check_code": "000000"})
    receipt_id = response.headers["Location"].rsplit("/", 1)[1]
    document = signed_text(client, receipt_id)
    assert "outcome: mismatch" in document and "valid: no" in document
    assert "北京" not in document and "1130.00" not in document
    assert "verdict-bad" in text(client.get(f"/receipts/{receipt_id}"))


def test_links_made_for_many_receipts_are_the_receipts_own(app):
    """A batch's download builds the address once; it must be the one receipt_url gives."""
    from blueprints.receipts import receipt_links, receipt_url

    with app.test_request_context("/"):
        link = receipt_links()
        for receipt_id in ("ARJD4YERBSLA25BH4J6Q", "22222222222222222222"):
            assert link(receipt_id) == receipt_url(receipt_id, external=True)
