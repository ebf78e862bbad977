"""QR payloads out of electronic invoice files: PDF and OFD, and one entry for any upload.

PDF pages are rendered and read like a photo. OFD (GB/T 33190, a ZIP of XML) carries the
invoice as data, so nothing is rendered there: the QR picture or the invoice's fields are
read from the XML, refusing archive bombs and XML with a DTD or entities on the way.

OFD elements read, as written by the platforms' OFD producers:

- ``Doc_0/Attachs/original_invoice.xml`` (legacy e-invoices, root ``eInvoice``):
  ``GraphCode`` holds the QR code, in practice as a base64 PNG, sometimes as the payload
  text; else ``InvoiceCode``, ``InvoiceNo``, ``IssueDate``, ``InvoiceCheckCode``,
  ``TaxExclusiveTotalAmount`` / ``TaxInclusiveTotalAmount`` give the payload's fields.
- ``Doc_0/Tags/CustomTag.xml``: per field (``InvoiceNo``, ``IssueDate``,
  ``TaxInclusiveTotalAmount``, ``TaxExclusiveTotalAmount``, ``TaxTotalAmount``,
  ``InvoiceCode``, ``InvoiceCheckCode``) an ``ObjectRef`` naming the ``TextObject`` on the
  page (``Doc_0/Pages/Page_N/Content.xml``) whose ``TextCode`` shows the value.
- ``OFD.xml`` ``CustomData`` entries named 发票号码, 发票代码, 开票日期, 合计金额 (pre-tax),
  合计税额, 价税合计, 校验码 (数电 files carry the first four or five).

A 数电 number does not say special (31) or ordinary (32); the file's own title text
(电子发票（增值税专用发票）/（普通发票）) decides, and without it no payload is made up.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import threading
import zipfile
from collections.abc import Iterable
from decimal import Decimal
from xml.etree.ElementTree import Element, ParseError  # nosec B405 # types only; defusedxml parses

import defusedxml.ElementTree as safe_xml
import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_raw
from defusedxml import DefusedXmlException

from . import codes, normalize
from .decoder import (
    CorruptFile,
    DecodeError,
    NoCodeFound,
    Reason,
    UnsafeFile,
    UnsupportedFileType,
    decode_frame,
    decode_image_bytes,
    sniff_image_type,
)
from .qr import NotInvoicePayload, find_invoice_payload, parse_qr_payload
from .types import InvoiceType


def sniff_file_type(data: bytes) -> str | None:
    """'pdf', 'ofd', 'jpeg', 'png', 'webp', 'bmp' or None, from the content alone."""
    image = sniff_image_type(data)
    if image is not None:
        return image
    head = bytes(data[:1024])
    # Readers accept a PDF header anywhere in the first kilobyte (some generators prepend junk).
    if b"%PDF-" in head:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError, ValueError):
            # Broken, but it names OFD.xml: report it as a damaged OFD, not as a foreign file.
            return "ofd" if b"OFD.xml" in bytes(data[:65536]) else None
        if any(name.lstrip("/").lower() == "ofd.xml" for name in names):
            return "ofd"
    return None


def decode_file(data: bytes) -> list[str]:
    """Every distinct QR text in an upload of any accepted type; raises ``DecodeError``."""
    if not data:
        raise UnsupportedFileType(Reason.EMPTY_FILE)
    kind = sniff_file_type(data)
    if kind == "pdf":
        return decode_pdf(data)
    if kind == "ofd":
        return decode_ofd(data)
    if kind is not None:
        return decode_image_bytes(data)
    raise UnsupportedFileType()


# ---------------------------------------------------------------------------------------------
# PDF

# PDFium keeps global state and is not thread-safe; web workers may run threads.
_PDFIUM_LOCK = threading.Lock()
# Resolutions tried: e-invoice QR codes are ~20 mm wide, ~4 px per module at 150 dpi.
_PDF_DPIS = (150, 300)
_PDF_MAX_PIXELS = 30_000_000
# Chinese e-invoices print the code in the top-left corner: this share of width and height.
_CORNER = (0.45, 0.5)


def decode_pdf(data: bytes) -> list[str]:
    """QR texts on the first page of a PDF; corner first, then the page, then finer."""
    texts: list[str] = []
    with _PDFIUM_LOCK:
        try:
            document = pdfium.PdfDocument(bytes(data))
        except pdfium.PdfiumError as exc:
            if getattr(exc, "err_code", None) == pdfium_raw.FPDF_ERR_PASSWORD:
                raise CorruptFile(Reason.PROTECTED_PDF) from None
            raise CorruptFile(Reason.CORRUPT_PDF, str(exc)) from None
        try:
            if len(document) == 0:
                raise NoCodeFound(Reason.NO_PAGES)
            try:
                page = document[0]
            except pdfium.PdfiumError as exc:
                raise CorruptFile(Reason.CORRUPT_PDF, str(exc)) from None
            try:
                width, height = page.get_size()
                if not (width > 0 and height > 0):
                    raise CorruptFile(Reason.CORRUPT_PDF, "empty page")
                corner = (0, height * (1 - _CORNER[1]), width * (1 - _CORNER[0]), 0)
                for dpi in _PDF_DPIS:
                    scale = min(dpi / 72, (_PDF_MAX_PIXELS / (width * height)) ** 0.5)
                    for crop in (corner, (0, 0, 0, 0)):
                        texts.extend(t for t in decode_frame(_render(page, scale, crop)) if t not in texts)
                        if find_invoice_payload(texts) is not None:
                            return texts
                    if texts:
                        return texts
            finally:
                page.close()
        finally:
            document.close()
    raise NoCodeFound()


def _render(page: pdfium.PdfPage, scale: float, crop: tuple[float, float, float, float]) -> np.ndarray:
    try:
        bitmap = page.render(scale=scale, crop=crop, grayscale=True, fill_color=(255, 255, 255, 255))
    except pdfium.PdfiumError as exc:
        raise CorruptFile(Reason.CORRUPT_PDF, str(exc)) from None
    try:
        pixels = bitmap.to_numpy()
        return np.array(pixels[:, :, 0] if pixels.ndim == 3 else pixels)
    finally:
        bitmap.close()


# ---------------------------------------------------------------------------------------------
# OFD

MAX_MEMBERS = 1000
MAX_MEMBER_SIZE = 16 * 1024 * 1024
MAX_TOTAL_SIZE = 64 * 1024 * 1024
# Deflated XML reaches ratios of 20-50; bombs reach thousands. Small members are let through:
# a tiny repetitive XML file is no threat whatever its ratio.
MAX_RATIO = 100
_RATIO_FLOOR = 1024 * 1024
_MAX_IMAGES = 8


class _Ofd:
    """The members of an OFD archive, read within limits."""

    def __init__(self, data: bytes):
        try:
            self.archive = zipfile.ZipFile(io.BytesIO(data))
            members = self.archive.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
            raise CorruptFile(Reason.CORRUPT_OFD, str(exc)) from None
        if len(members) > MAX_MEMBERS:
            raise UnsafeFile(Reason.UNSAFE_ARCHIVE, f"{len(members)} members")
        total = 0
        for info in members:
            total += info.file_size
            if info.file_size > MAX_MEMBER_SIZE or total > MAX_TOTAL_SIZE:
                raise UnsafeFile(Reason.UNSAFE_ARCHIVE, f"{info.filename} too large")
            if info.file_size > _RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise UnsafeFile(Reason.UNSAFE_ARCHIVE, f"{info.filename} compressed too well")
        # Case and a leading slash vary between producers.
        self.members = {info.filename.lstrip("/").lower(): info for info in members if not info.is_dir()}
        if "ofd.xml" not in self.members:
            raise CorruptFile(Reason.CORRUPT_OFD, "no OFD.xml")
        self._page_text: dict[str, str] | None = None

    def read(self, name: str) -> bytes | None:
        info = self.members.get(name.lower())
        if info is None:
            return None
        try:
            # The declared size is what zipfile stops at, and it was checked above.
            with self.archive.open(info) as member:
                return member.read(MAX_MEMBER_SIZE + 1)
        except (zipfile.BadZipFile, RuntimeError, OSError, ValueError, EOFError, NotImplementedError) as exc:
            raise CorruptFile(Reason.CORRUPT_OFD, f"{name}: {exc}") from None

    def xml(self, name: str, *, required: bool = False) -> Element | None:
        raw = self.read(name)
        if raw is None:
            if required:
                raise CorruptFile(Reason.CORRUPT_OFD, f"no {name}")
            return None
        try:
            return safe_xml.fromstring(raw, forbid_dtd=True)
        except DefusedXmlException as exc:
            raise UnsafeFile(Reason.UNSAFE_XML, f"{name}: {type(exc).__name__}") from None
        except (ParseError, ValueError) as exc:
            if required:
                raise CorruptFile(Reason.CORRUPT_OFD, f"{name}: {exc}") from None
            return None  # a damaged side file does not spoil the rest

    def page_text(self) -> dict[str, str]:
        """Text of every TextObject on the pages and templates, by object ID."""
        if self._page_text is None:
            texts: dict[str, str] = {}
            for name in self.names(r"doc_\d+/(pages/page_\d+|tpls/tpl_\d+)/content\.xml"):
                page = self.xml(name)
                if page is None:
                    continue
                for node in page.iter():
                    if _local(node.tag) == "TextObject" and node.get("ID"):
                        parts = [c for c in node.iter() if _local(c.tag) == "TextCode"]
                        texts[node.get("ID", "")] = "".join("".join(c.itertext()) for c in parts).strip()
            self._page_text = texts
        return self._page_text

    def names(self, pattern: str) -> list[str]:
        regex = re.compile(pattern)
        return sorted(name for name in self.members if regex.fullmatch(name))


def decode_ofd(data: bytes) -> list[str]:
    """The invoice's QR text from an OFD file, read from its XML; raises ``DecodeError``."""
    ofd = _Ofd(data)
    with ofd.archive:
        root = ofd.xml("OFD.xml", required=True)
        texts: list[str] = []
        for text in _ofd_candidates(ofd, root):
            if text and text not in texts:
                texts.append(text)
            if find_invoice_payload(texts) is not None:
                return texts
    if texts:
        return texts
    raise NoCodeFound()


def _ofd_candidates(ofd: _Ofd, root: Element) -> Iterable[str]:
    """Payload texts in order of trust: the QR itself, then fields the issuer wrote down."""
    invoice = None
    for name in ofd.names(r"doc_\d+/attachs/original_invoice\.xml") or ofd.names(r".*original_invoice\.xml"):
        invoice = ofd.xml(name)
        if invoice is not None:
            break
    if invoice is not None:
        graph = _first_text(invoice, "GraphCode")
        if graph:
            yield from _graph_code(graph)
        yield _payload_from_fields(_fields(invoice), ofd)
    tags = _custom_tag_fields(ofd)
    if tags:
        yield _payload_from_fields(tags, ofd)
    yield _payload_from_fields(_custom_data_fields(root), ofd)
    yield from _resource_images(ofd)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _first_text(element: Element, local_name: str) -> str:
    for node in element.iter():
        if _local(node.tag) == local_name:
            return "".join(node.itertext()).strip()
    return ""


_FIELD_NAMES = ("InvoiceCode", "InvoiceNo", "IssueDate", "InvoiceCheckCode",
                "TaxExclusiveTotalAmount", "TaxInclusiveTotalAmount", "TaxTotalAmount")


def _fields(invoice: Element) -> dict[str, str]:
    return {name: _first_text(invoice, name) for name in _FIELD_NAMES}


def _graph_code(graph: str) -> Iterable[str]:
    try:
        parse_qr_payload(graph)
    except NotInvoicePayload:
        pass
    else:
        yield graph
        return
    try:
        picture = base64.b64decode("".join(graph.split()), validate=True)
    except (binascii.Error, ValueError):
        return
    if sniff_image_type(picture) is None:
        return
    try:
        yield from decode_image_bytes(picture)
    except DecodeError:
        return


def _custom_tag_fields(ofd: _Ofd) -> dict[str, str]:
    """Field values through CustomTag.xml's object references into the page text."""
    refs: dict[str, list[str]] = {}
    for name in ofd.names(r"doc_\d+/tags/customtag\.xml"):
        tags = ofd.xml(name)
        if tags is None:
            continue
        for node in tags.iter():
            field = _local(node.tag)
            if field in _FIELD_NAMES:
                ids = [(ref.text or "").strip() for ref in node.iter() if _local(ref.tag) == "ObjectRef"]
                refs.setdefault(field, []).extend(i for i in ids if i)
    if not refs:
        return {}
    page_text = ofd.page_text()
    return {field: "".join(page_text.get(i, "") for i in ids) for field, ids in refs.items()}


_CUSTOM_DATA = {
    "发票代码": "InvoiceCode",
    "发票号码": "InvoiceNo",
    "开票日期": "IssueDate",
    "校验码": "InvoiceCheckCode",
    "合计金额": "TaxExclusiveTotalAmount",
    "合计税额": "TaxTotalAmount",
    "价税合计": "TaxInclusiveTotalAmount",
}


def _custom_data_fields(root: Element) -> dict[str, str]:
    fields: dict[str, str] = {}
    for node in root.iter():
        if _local(node.tag) == "CustomData":
            field = _CUSTOM_DATA.get((node.get("Name") or "").strip())
            if field and (node.text or "").strip():
                fields[field] = node.text.strip()
    return fields


def _digital_type(ofd: _Ofd) -> InvoiceType | None:
    """Special or ordinary, from the title printed on the 数电 invoice."""
    words = " ".join(ofd.page_text().values())
    if "专用发票" in words:
        return InvoiceType.DIGITAL_SPECIAL
    if "普通发票" in words:
        return InvoiceType.DIGITAL_ORDINARY
    return None


def _payload_from_fields(fields: dict[str, str], ofd: _Ofd) -> str:
    """A payload in the QR format (DESIGN 1.1) from an invoice's fields, or '' if they fall short."""
    try:
        number = normalize.digits(fields.get("InvoiceNo", ""))
        issued = normalize.parse_date(re.split(r"[\sT]", normalize.fold(fields.get("IssueDate", "")))[0])
    except ValueError:
        return ""
    check = re.sub(r"\s", "", fields.get("InvoiceCheckCode", ""))
    try:
        if len(number) == codes.DIGITAL_NUMBER_LENGTH:
            invoice_type = _digital_type(ofd)
            if invoice_type is None:
                return ""
            code = ""
            amount = _total(fields)
        else:
            code = normalize.digits(fields.get("InvoiceCode", ""))
            invoice_type = codes.type_from_code(code)
            amount = normalize.parse_amount(fields.get("TaxExclusiveTotalAmount", ""))
    except ValueError:
        return ""
    text = f"01,{invoice_type.code},{code},{number},{amount},{issued:%Y%m%d},{check},"
    try:
        parse_qr_payload(text)
    except NotInvoicePayload:
        return ""
    return text


def _total(fields: dict[str, str]) -> Decimal:
    if fields.get("TaxInclusiveTotalAmount"):
        return normalize.parse_amount(fields["TaxInclusiveTotalAmount"])
    return normalize.parse_amount(fields.get("TaxExclusiveTotalAmount", "")) + normalize.parse_amount(
        fields.get("TaxTotalAmount", "")
    )


def _resource_images(ofd: _Ofd) -> Iterable[str]:
    """Last resort: a QR picture among the document's image resources."""
    tried = 0
    for name in ofd.names(r"doc_\d+/res/.*\.(png|jpe?g|bmp|webp)"):
        if tried >= _MAX_IMAGES:
            return
        tried += 1
        picture = ofd.read(name)
        if not picture:
            continue
        try:
            yield from decode_image_bytes(picture)
        except DecodeError:
            continue
