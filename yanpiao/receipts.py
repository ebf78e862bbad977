"""Signed, tamper-evident receipts of verifications.

A receipt is a few ``key: value`` lines (its canonical content) derived from a stored
verification, signed with Ed25519. The signed document is plain text between BEGIN/END lines,
so it survives being pasted into a form or an email and can be found inside the receipt PDF,
which carries it as an attached file. Changing any character of the content breaks the
signature.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import hmac
import io
import os
import re
import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .types import Outcome
from .verification import VerificationResult

FORMAT = "yanpiao-receipt/1"
BEGIN = "-----BEGIN YANPIAO RECEIPT-----"
END = "-----END YANPIAO RECEIPT-----"
SIGNATURE_KEY = "signature"
KEY_FILE = "receipt-signing-key.pem"
RECEIPT_ID = re.compile(r"^[A-Z2-7]{16,24}$")
_DOCUMENT = re.compile(re.escape(BEGIN).encode() + rb".*?" + re.escape(END).encode(), re.DOTALL)


# --- content -----------------------------------------------------------------------------


def _clean(value: object) -> str:
    """One line of text: no line breaks or runs of spaces, composed Unicode."""
    return " ".join(unicodedata.normalize("NFC", str(value)).split())


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def receipt_fields(result: VerificationResult) -> list[tuple[str, str]]:
    """What a receipt states, in a fixed order: the verdict, the fields given, and on a match
    the invoice's key facts. Never more of an invoice than the outcome entitles one to see."""
    if result.receipt_id is None or result.checked_at is None:
        raise ValueError("only a recorded verification has a receipt")
    request, invoice = result.request, result.invoice
    invoice_type = invoice.invoice_type if invoice else (request.invoice_type if request else None)
    rows: list[tuple[str, object]] = [
        ("format", FORMAT),
        ("receipt", result.receipt_id),
        ("checked_at", _utc(result.checked_at)),
        ("outcome", result.outcome.value),
        ("valid", "yes" if result.is_valid else "no"),
    ]
    if invoice_type is not None:
        rows.append(("type", invoice_type.code))
    if request is not None:
        if request.invoice_code:
            rows.append(("invoice_code", request.invoice_code))
        rows.append(("invoice_number", request.invoice_number))
        rows.append(("issue_date", request.issue_date.isoformat()))
        if request.amount is not None:
            rows.append(("amount", request.amount))
        if request.check_code:
            rows.append(("check_code", request.check_code))
    if result.outcome is Outcome.MATCH and invoice is not None:
        rows.append(("status", invoice.status.value))
        if result.verification_count:
            rows.append(("verification_count", result.verification_count))
        if result.previous_verified_at:
            rows.append(("previous_check_at", _utc(result.previous_verified_at)))
        rows += [
            ("seller_name", invoice.seller.name),
            ("seller_tax_id", invoice.seller.tax_id),
            ("buyer_name", invoice.buyer.name),
            ("buyer_tax_id", invoice.buyer.tax_id),
            ("amount_before_tax", invoice.amount),
            ("tax", invoice.tax),
            ("total", invoice.total),
        ]
    return [(key, _clean(value)) for key, value in rows if _clean(value)]


def receipt_content(result: VerificationResult) -> str:
    """The canonical text that is signed."""
    return "\n".join(f"{key}: {value}" for key, value in receipt_fields(result))


def parse_content(content: str) -> list[tuple[str, str]]:
    rows = []
    for line in content.split("\n"):
        key, sep, value = line.partition(": ")
        rows.append((key, value) if sep else ("", line))
    return rows


def _normalise(text: str) -> list[str]:
    """Lines as they were signed, whatever a paste or an email did to line ends and margins."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    return [line.strip() for line in text.split("\n") if line.strip()]


def extract_document(data: bytes | str) -> str | None:
    """The first signed receipt in pasted text, a text file, or a receipt PDF."""
    raw = data.encode("utf-8", "replace") if isinstance(data, str) else data
    found = _DOCUMENT.search(raw)
    if found is None:
        return None
    return found.group(0).decode("utf-8", "replace")


# --- keys and signatures -----------------------------------------------------------------


class Verdict(enum.StrEnum):
    GENUINE = "genuine"
    TAMPERED = "tampered"
    UNREADABLE = "unreadable"


@dataclass(frozen=True)
class ReceiptCheck:
    verdict: Verdict
    content: str = ""
    fields: list[tuple[str, str]] = field(default_factory=list)

    @property
    def receipt_id(self) -> str | None:
        return dict(self.fields).get("receipt")

    @property
    def is_genuine(self) -> bool:
        return self.verdict is Verdict.GENUINE


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _write_new_key(path: Path) -> None:
    """Create the key file once, even when several workers start together."""
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
        os.link(temporary, path)  # fails if another process got there first: keep theirs
    except FileExistsError:
        pass
    finally:
        temporary.unlink(missing_ok=True)


class ReceiptSigner:
    """Signs receipts and checks them; also makes the unguessable share links."""

    def __init__(self, private_key: Ed25519PrivateKey):
        self._key = private_key
        self.public_key: Ed25519PublicKey = private_key.public_key()
        raw = private_key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        # Share links live exactly as long as the signing key: derived from it, never stored.
        self._link_key = hashlib.sha256(b"yanpiao receipt links\0" + raw).digest()

    @classmethod
    def from_directory(cls, directory: Path | str) -> ReceiptSigner:
        """The key kept in ``directory``, generated there on first use."""
        path = Path(directory) / KEY_FILE
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            _write_new_key(path)
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} does not hold an Ed25519 private key")
        return cls(key)

    @property
    def public_key_pem(self) -> str:
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the raw public key, in groups people can compare by eye."""
        raw = self.public_key.public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        digest = hashlib.sha256(raw).hexdigest()[:32].upper()
        return " ".join(digest[i : i + 4] for i in range(0, len(digest), 4))

    def sign(self, content: str) -> str:
        return _b64(self._key.sign(content.encode("utf-8")))

    def document(self, content: str) -> str:
        """The signed receipt as text: what is downloaded, embedded in the PDF and pasted back."""
        return "\n".join(
            [BEGIN, content, f"{SIGNATURE_KEY}: {self.sign(content)}", END]
        ) + "\n"

    def check(self, data: bytes | str) -> ReceiptCheck:
        """Genuine, tampered, or no receipt at all, for pasted text or an uploaded file."""
        document = extract_document(data)
        if document is None:
            return ReceiptCheck(Verdict.UNREADABLE)
        lines = _normalise(document)[1:-1]  # without the BEGIN and END lines
        marker = f"{SIGNATURE_KEY}: "
        signature_lines = [i for i, line in enumerate(lines) if line.startswith(marker)]
        if not signature_lines:
            return ReceiptCheck(Verdict.TAMPERED, "\n".join(lines))
        at = signature_lines[-1]
        content = "\n".join(lines[:at])
        encoded = lines[at][len(marker):]
        try:
            signature = base64.b64decode(encoded, validate=True)
            # Only the canonical spelling counts: base64's padding bits would otherwise let a
            # changed last character decode to the same signature.
            if _b64(signature) != encoded:
                raise ValueError("non-canonical base64")
            self.public_key.verify(signature, content.encode("utf-8"))
        except (InvalidSignature, binascii.Error, ValueError):
            return ReceiptCheck(Verdict.TAMPERED, content)
        return ReceiptCheck(Verdict.GENUINE, content, parse_content(content))

    def link_token(self, receipt_id: str) -> str:
        digest = hmac.new(self._link_key, receipt_id.encode(), hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def link_token_matches(self, receipt_id: str, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.link_token(receipt_id), token)


# --- PDF ---------------------------------------------------------------------------------

FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
)


@dataclass(frozen=True)
class FontChoice:
    path: str
    index: int = 0


# Arabic, which the CJK fonts lack: Debian's fonts-noto-core, else fonts-dejavu-core.
FALLBACK_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf",
    "/usr/share/fonts/truetype/noto/NotoNaskhArabic-Regular.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
)


def find_fallback_font() -> str | None:
    """A font with Arabic letters, which the CJK fonts lack."""
    return next((path for path in FALLBACK_FONT_CANDIDATES if os.path.isfile(path)), None)


@lru_cache(maxsize=8)
def find_cjk_font(preferred: str = "") -> FontChoice | None:
    """A font that has Chinese glyphs: the configured one, else Debian's fonts-noto-cjk.

    In a font collection (.ttc) the simplified-Chinese face is chosen, so 门 is not drawn
    in its Japanese form.
    """
    for candidate in ([preferred] if preferred else []) + list(FONT_CANDIDATES):
        if candidate and os.path.isfile(candidate):
            return FontChoice(candidate, _simplified_chinese_face(candidate))
    return None


def _simplified_chinese_face(path: str) -> int:
    if not path.lower().endswith((".ttc", ".otc")):
        return 0
    from fontTools.ttLib import TTCollection

    try:
        collection = TTCollection(path, lazy=True)
        names = [font["name"].getDebugName(1) or "" for font in collection.fonts]
    except Exception:  # an unreadable collection: let fpdf2 try its first face
        return 0
    for index, name in enumerate(names):
        if name.endswith(" SC") and "Mono" not in name:
            return index
    return 0


@dataclass(frozen=True)
class PdfReceipt:
    """Everything the PDF shows, already in the reader's language."""

    title: str
    verdict: str
    rows: Sequence[tuple[str, str]]
    link: str
    link_note: str
    document: str
    notes: Sequence[str] = ()
    lang: str = "zh-Hans"
    filename: str = "receipt.txt"
    rtl: bool = False  # Arabic: the page is mirrored, paragraphs read from the right


def render_pdf(receipt: PdfReceipt, font: FontChoice | None, fallback: str | None = None) -> bytes:
    """An A4 receipt with a QR code to its page; the signed text rides along as an attachment.

    A right-to-left receipt is laid out mirrored, drawn in ``fallback`` (a font with Arabic
    letters; ``font`` has none) and its text shaped by HarfBuzz: joined letters, in reading order.
    """
    import segno
    from fpdf import FPDF
    from fpdf.enums import Align, WrapMode, XPos, YPos

    pdf = FPDF(format="A4")
    pdf.set_title(receipt.title)
    pdf.set_creator("Yanpiao")
    pdf.set_lang(receipt.lang)
    pdf.set_auto_page_break(True, margin=15)
    if font is not None:
        pdf.add_font("cjk", "", font.path, collection_font_number=font.index)
        family = "cjk"
        if receipt.rtl and fallback is not None:
            # The Arabic font first and the CJK one for what it lacks (Chinese names): the other
            # way round, fpdf2 2.8.9 drew the CJK text at the size of an earlier line.
            pdf.add_font("arabic", "", fallback)
            pdf.set_fallback_fonts(["cjk"])
            family = "arabic"
        if receipt.rtl:
            pdf.set_text_shaping(True)

        def text(value: str) -> str:
            # CLDR puts narrow no-break spaces into times ("2:35 PM"); CJK fonts lack them.
            return value.replace("\u202f", "\u00a0")
    else:  # no CJK font installed: the built-in font, Latin-1 only, the attachment intact
        family = "helvetica"

        def text(value: str) -> str:
            value = value.replace("\u202f", "\u00a0")
            return value.encode("latin-1", "replace").decode("latin-1")

    reading_side = Align.R if receipt.rtl and font is not None else Align.L

    def lines(w: float, h: float, value: str, align: Align = reading_side, **kwargs) -> None:
        kwargs.setdefault("new_x", XPos.LMARGIN)
        kwargs.setdefault("new_y", YPos.NEXT)
        pdf.multi_cell(w, h, text(value), align=align, **kwargs)

    def mirrored(x: float, w: float) -> float:
        """The left edge of a box ``x`` from the start of the line, in the reading direction."""
        return pdf.l_margin + (width - x - w if reading_side is Align.R else x)

    pdf.add_page()
    width = pdf.epw
    pdf.set_font(family, size=18)
    lines(width, 10, receipt.title)
    pdf.set_font(family, size=15)
    lines(width, 9, receipt.verdict)
    pdf.ln(2)

    qr = io.BytesIO()
    segno.make_qr(receipt.link, error="m").save(qr, kind="png", scale=6, border=2)
    qr.seek(0)
    qr_size = 42
    top = pdf.get_y()
    pdf.image(qr, x=mirrored(width - qr_size, qr_size), y=top, w=qr_size, h=qr_size)

    label_width, value_width = 48, width - 48 - qr_size - 4
    pdf.set_font(family, size=10)
    for label, value in receipt.rows:
        if pdf.will_page_break(12):
            pdf.add_page()
        y = pdf.get_y()
        line_width = value_width if y < top + qr_size else width - label_width
        pdf.set_text_color(80, 90, 95)
        pdf.set_x(mirrored(0, label_width - 2))
        lines(label_width - 2, 6, label)
        label_bottom = pdf.get_y()
        pdf.set_xy(mirrored(label_width, line_width), y)
        pdf.set_text_color(0, 0, 0)
        lines(line_width, 6, value, wrapmode=WrapMode.CHAR)
        pdf.set_y(max(pdf.get_y(), label_bottom))
    pdf.set_y(max(pdf.get_y(), top + qr_size) + 4)

    pdf.set_font(family, size=9)
    lines(width, 5, receipt.link_note)
    pdf.set_text_color(11, 83, 148)
    lines(width, 5, receipt.link, align=Align.L, link=receipt.link, wrapmode=WrapMode.CHAR)
    pdf.set_text_color(0, 0, 0)
    for note in receipt.notes:
        pdf.ln(1)
        lines(width, 5, note)
    pdf.ln(3)
    pdf.set_font(family, size=7)
    lines(width, 3.6, receipt.document, align=Align.L, wrapmode=WrapMode.CHAR)

    # Uncompressed, so the signed text can be found in the PDF's bytes when it is uploaded.
    pdf.embed_file(
        bytes=receipt.document.encode("utf-8"),
        basename=receipt.filename,
        mime_type="text/plain",
        compress=False,
    )
    return bytes(pdf.output())
