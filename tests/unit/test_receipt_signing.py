"""Receipts: canonical content, Ed25519 signatures, key files, share tokens and the PDF."""

import stat
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from yanpiao import receipts
from yanpiao.registry import InvoiceSnapshot, Party
from yanpiao.requests import VerificationRequest
from yanpiao.types import ExtraField, InvoiceType, Outcome, Status
from yanpiao.verification import VerificationResult

CHECKED = datetime(2026, 11, 21, 4, 0, tzinfo=UTC)
REQUEST = VerificationRequest(
    invoice_number="12345678",
    issue_date=date(2026, 11, 1),
    extra_field=ExtraField.CHECK_CODE,
    invoice_code="011002400104",
    invoice_type=InvoiceType.VAT_ORDINARY,
    check_code="294433",
)
INVOICE = InvoiceSnapshot(
    invoice_type=InvoiceType.VAT_ORDINARY,
    invoice_code="011002400104",
    invoice_number="12345678",
    issue_date=date(2026, 11, 1),
    check_code="48114255542168294433",
    amount=Decimal("1000.00"),
    tax=Decimal("130.00"),
    total=Decimal("1130.00"),
    status=Status.NORMAL,
    seller=Party(name="北京星河科技有限公司", tax_id="91110108MA01ABCD2X"),
    buyer=Party(name="北京云图商贸有限公司\n第二行", tax_id="91110105MA02EFGH3Y"),
)


def match(**overrides) -> VerificationResult:
    values = dict(outcome=Outcome.MATCH, request=REQUEST, invoice=INVOICE, verification_count=2,
                  receipt_id="ABCDEFGHIJKLMNOPQRST", checked_at=CHECKED,
                  previous_verified_at=datetime(2026, 11, 20, 1, 2, 3, tzinfo=UTC))
    values.update(overrides)
    return VerificationResult(**values)


@pytest.fixture(scope="module")
def signer(tmp_path_factory):
    return receipts.ReceiptSigner.from_directory(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def document(signer):
    return signer.document(receipts.receipt_content(match()))


def test_content_states_verdict_fields_and_invoice_facts():
    fields = dict(receipts.receipt_fields(match()))
    assert fields["receipt"] == "ABCDEFGHIJKLMNOPQRST"
    assert fields["checked_at"] == "2026-11-21T04:00:00Z"
    assert (fields["outcome"], fields["valid"], fields["status"]) == ("match", "yes", "normal")
    assert fields["seller_name"] == "北京星河科技有限公司"
    assert fields["buyer_name"] == "北京云图商贸有限公司 第二行"  # one line per field, always
    assert fields["total"] == "1130.00" and fields["verification_count"] == "2"
    assert fields["previous_check_at"] == "2026-11-20T01:02:03Z"


def test_a_non_match_states_only_what_was_given():
    result = VerificationResult(Outcome.MISMATCH, REQUEST, receipt_id="ABCDEFGHIJKLMNOPQRST",
                                checked_at=CHECKED)
    fields = dict(receipts.receipt_fields(result))
    assert fields["outcome"] == "mismatch" and fields["valid"] == "no"
    assert fields["check_code"] == "294433"
    assert not {"seller_name", "buyer_name", "total", "status"} & set(fields)


def test_a_void_match_is_not_valid():
    void = match(invoice=InvoiceSnapshot(**{**INVOICE.__dict__, "status": Status.VOID}))
    fields = dict(receipts.receipt_fields(void))
    assert (fields["valid"], fields["status"]) == ("no", "void")


def test_an_unrecorded_result_has_no_receipt():
    with pytest.raises(ValueError):
        receipts.receipt_content(VerificationResult(Outcome.INVALID))


def test_a_signed_receipt_is_genuine(signer, document):
    check = signer.check(document)
    assert check.verdict is receipts.Verdict.GENUINE
    assert check.receipt_id == "ABCDEFGHIJKLMNOPQRST"
    assert ("seller_name", "北京星河科技有限公司") in check.fields


def _positions(document: str) -> list[int]:
    """Every character of the content and the signature, not the BEGIN/END markers."""
    start = len(receipts.BEGIN) + 1
    end = document.index(receipts.END) - 1
    return [i for i in range(start, end) if document[i] not in "\n "]


def _change(character: str) -> str:
    return {"0": "1", "a": "b", "A": "B", "=": "A", "/": "+"}.get(
        character, "0" if character != "0" else "1"
    )


def test_changing_any_one_character_makes_it_tampered(signer, document):
    for position in _positions(document):
        altered = document[:position] + _change(document[position]) + document[position + 1 :]
        assert signer.check(altered).verdict is receipts.Verdict.TAMPERED, (
            position, document[position]
        )


GENUINE, TAMPERED = receipts.Verdict.GENUINE, receipts.Verdict.TAMPERED


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda d: d.replace("1130.00", "1180.00"), TAMPERED),
        (lambda d: d.replace("valid: yes\n", ""), TAMPERED),
        (lambda d: d.replace("valid: yes\n", "valid: yes\nnote: added\n"), TAMPERED),
        (lambda d: "\n".join(x for x in d.split("\n") if not x.startswith("signature")), TAMPERED),
        (lambda d: d.replace("signature: ", "signature: !!"), TAMPERED),
        # What pasting and mailing do to text changes nothing that was signed.
        (lambda d: d.replace("outcome: match", "outcome: match  "), GENUINE),
        (lambda d: d.replace("\n", "\r\n"), GENUINE),
        (lambda d: "Fwd:\n\n" + d.replace("\n", "\n    ") + "\n-- \nsent from my phone", GENUINE),
    ],
    ids=["amount", "line-removed", "line-added", "no-signature", "garbled-signature",
         "trailing-spaces", "crlf", "indented-in-a-mail"],
)
def test_edits_to_the_text(signer, document, edit, expected):
    assert signer.check(edit(document)).verdict is expected


def test_no_receipt_in_text_is_unreadable(signer):
    assert signer.check("hello").verdict is receipts.Verdict.UNREADABLE
    assert signer.check(b"%PDF-1.7 \x00\xff").verdict is receipts.Verdict.UNREADABLE


def test_another_key_does_not_vouch_for_it(tmp_path, document):
    stranger = receipts.ReceiptSigner.from_directory(tmp_path)
    assert stranger.check(document).verdict is receipts.Verdict.TAMPERED


def test_the_key_is_made_once_kept_private_and_reloaded(tmp_path):
    first = receipts.ReceiptSigner.from_directory(tmp_path / "instance")
    key_file = tmp_path / "instance" / receipts.KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    again = receipts.ReceiptSigner.from_directory(tmp_path / "instance")
    assert again.public_key_pem == first.public_key_pem
    assert first.public_key_pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert list((tmp_path / "instance").iterdir()) == [key_file]  # no temporary file left


def test_share_tokens_belong_to_one_receipt(signer, tmp_path):
    token = signer.link_token("ABCDEFGHIJKLMNOPQRST")
    assert signer.link_token_matches("ABCDEFGHIJKLMNOPQRST", token)
    assert not signer.link_token_matches("ABCDEFGHIJKLMNOPQRSU", token)
    assert not signer.link_token_matches("ABCDEFGHIJKLMNOPQRST", None)
    other = receipts.ReceiptSigner.from_directory(tmp_path)
    assert not other.link_token_matches("ABCDEFGHIJKLMNOPQRST", token)


def _pdf(document, font):
    spec = receipts.PdfReceipt(
        title="Yanpiao verification receipt", verdict="发票有效",
        rows=[("Seller", "北京星河科技有限公司"), ("Total", "1130.00")],
        link="https://yanpiao.example/receipts/ABCDEFGHIJKLMNOPQRST?k=x",
        link_note="Scan the QR code", document=document, notes=["Signed by Yanpiao."],
    )
    return receipts.render_pdf(spec, font)


def test_the_pdf_carries_the_signed_text_and_checks_genuine(signer, document):
    font = receipts.find_cjk_font()
    assert font is not None, "fonts-noto-cjk is missing (make installs it)"
    data = _pdf(document, font)
    assert data.startswith(b"%PDF-")
    assert b"NotoSansCJK" in data or b"Noto" in data  # the CJK font is embedded
    assert signer.check(data).verdict is receipts.Verdict.GENUINE


def test_without_a_cjk_font_the_pdf_still_carries_the_receipt(signer, document):
    data = _pdf(document, None)
    assert signer.check(data).verdict is receipts.Verdict.GENUINE


def _text_and_boxes(data: bytes, *needles: str) -> tuple[str, list[float]]:
    """The PDF's first page as text, and the left edge of where each needle starts."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(data)
    try:
        page = document[0]
        text_page = page.get_textpage()
        text = text_page.get_text_range()
        lefts = []
        for needle in needles:
            found = text_page.search(needle).get_next()
            assert found, f"{needle!r} is not drawn"
            lefts.append(text_page.get_charbox(found[0])[0])
        return text, lefts
    finally:
        document.close()


def test_an_arabic_receipt_draws_every_letter_right_to_left(signer, document):
    fallback = receipts.find_fallback_font()
    assert fallback is not None, "fonts-noto-core is missing (make installs it)"
    spec = receipts.PdfReceipt(
        title="إيصال التحقق من Yanpiao", verdict="فاتورة صالحة",
        rows=[("البائع", "北京星河科技有限公司"), ("الإجمالي", "¥1,130.00")],
        link="https://yanpiao.example/receipts/ABCDEFGHIJKLMNOPQRST?k=x",
        link_note="امسح رمز QR", document=document, lang="ar", rtl=True,
    )
    data = receipts.render_pdf(spec, receipts.find_cjk_font(), fallback)
    text, (label, value) = _text_and_boxes(data, "البائع", "北京星河科技有限公司")
    # The CJK font alone has no Arabic letters: these were blank before.
    assert "إيصال التحقق من Yanpiao" in text and "فاتورة صالحة" in text
    assert label > value  # mirrored: the label on the right, its value to the left of it
    assert signer.check(data).verdict is receipts.Verdict.GENUINE


def test_a_font_collection_gets_its_simplified_chinese_face():
    font = receipts.find_cjk_font()
    assert font is not None and font.path.endswith(".ttc"), "fonts-noto-cjk is missing"
    from fontTools.ttLib import TTCollection

    name = TTCollection(font.path, lazy=True).fonts[font.index]["name"].getDebugName(1)
    assert name.endswith(" SC")


def test_a_configured_font_that_is_missing_falls_back(tmp_path):
    assert receipts.find_cjk_font(str(tmp_path / "nothing.ttf")) == receipts.find_cjk_font()
