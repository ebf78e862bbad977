"""The OpenAPI 3.1 document of the JSON API, served at /api/v1/openapi.json."""

from __future__ import annotations

from yanpiao.types import InvoiceType, Outcome, Status

API_VERSION = "1.0.0"

_PARTY = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "tax_id": {"type": "string"},
        "address_phone": {"type": "string"},
        "bank_account": {"type": "string"},
    },
}

_ITEM = {
    "type": "object",
    "properties": {
        name: {"type": "string"}
        for name in ("name", "spec", "unit", "quantity", "unit_price", "amount", "tax_rate", "tax")
    },
}

_INVOICE = {
    "type": "object",
    "description": "The invoice, in the field names of the registry import format.",
    "properties": {
        "type": {"type": "string", "enum": [t.code for t in InvoiceType]},
        "invoice_code": {"type": "string", "description": "Empty for types 31 and 32."},
        "invoice_number": {"type": "string"},
        "issue_date": {"type": "string", "format": "date"},
        "check_code": {"type": "string"},
        "amount": {"type": "string", "description": "Amount before tax, yuan."},
        "tax": {"type": "string"},
        "total": {"type": "string", "description": "Total including tax, yuan."},
        "status": {"type": "string", "enum": [s.value for s in Status]},
        "seller": {"$ref": "#/components/schemas/Party"},
        "buyer": {"$ref": "#/components/schemas/Party"},
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}},
        "remarks": {"type": "string"},
        "drawer": {"type": "string"},
    },
}

_ERRORS = {
    "type": "object",
    "description": "Messages per field, in the language of Accept-Language.",
    "additionalProperties": {"type": "string"},
}


_BATCH_ROW = {
    "type": "object",
    "required": ["row", "outcome", "valid"],
    "properties": {
        "row": {"type": "integer", "description": "Row number in the file (the header is row 1); for a ZIP, the file's position."},
        "file": {"type": "string", "description": "Name of the file inside the ZIP."},
        "invoice_code": {"type": "string"},
        "invoice_number": {"type": "string"},
        "issue_date": {"type": "string", "description": "As given in the file."},
        "outcome": {"type": "string", "enum": [o.value for o in Outcome]},
        "status": {"type": ["string", "null"], "enum": [*(s.value for s in Status), None]},
        "valid": {"type": "boolean", "description": "True only for a match whose status is normal."},
        "verification_count": {"type": ["integer", "null"], "description": "Check number of a match."},
        "duplicate_of": {"type": ["integer", "null"], "description": "The first row of the file with the same invoice."},
        "receipt_id": {"type": ["string", "null"]},
        "reasons": {"type": "array", "items": {"type": "string"}, "description": "Why the row was refused (invalid, too_old, future_date), in the language of Accept-Language."},
    },
}

_BATCH_STATUS = {
    "type": "object",
    "required": ["id", "state", "total_rows", "processed_rows", "percent"],
    "properties": {
        "id": {"type": "string"},
        "state": {"type": "string", "enum": ["queued", "running", "done", "failed"]},
        "filename": {"type": "string"},
        "total_rows": {"type": "integer"},
        "processed_rows": {"type": "integer"},
        "percent": {"type": "integer", "minimum": 0, "maximum": 100},
        "created_at": {"type": "string", "format": "date-time"},
        "finished_at": {"type": ["string", "null"], "format": "date-time"},
        "problem": {"type": "string", "description": "Why a failed batch could not be checked."},
        "message": {"type": "string"},
        "summary": {
            "type": "object",
            "description": "When done: rows per outcome and, for matches, per status.",
            "properties": {
                "rows": {"type": "integer"},
                "valid": {"type": "integer"},
                "duplicates": {"type": "integer"},
                "outcomes": {"type": "object", "additionalProperties": {"type": "integer"}},
                "statuses": {"type": "object", "additionalProperties": {"type": "integer"}},
            },
        },
        "rows": {"type": "array", "items": {"$ref": "#/components/schemas/BatchRow"},
                 "description": "When done: one page of rows in file order."},
        "page": {"type": "integer"},
        "next": {"type": ["string", "null"], "description": "URL of the next page of rows, if any."},
    },
}

_TOKEN_ERROR = {
    "description": "No valid API token: send Authorization: Bearer followed by a token from your account's token page.",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}


def _batch_paths() -> dict:
    return {
        "/api/v1/batch": {
            "post": {
                "operationId": "createBatch",
                "summary": "Check a list of invoices (CSV or XLSX) or a ZIP of invoice files",
                "description": (
                    "Upload up to 100,000 rows. Headers may be Chinese or English: 发票代码 "
                    "invoice_code, 发票号码 invoice_number, 开票日期 issue_date, 金额 amount (or "
                    "价税合计 / 不含税金额), 校验码 check_code. Every row is checked with the rules "
                    "and daily limits of a single check. The answer comes at once; follow "
                    "status_url for progress and results."
                ),
                "security": [{"bearerToken": []}],
                "requestBody": {
                    "required": True,
                    "content": {"multipart/form-data": {"schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }}},
                },
                "responses": {
                    "202": {
                        "description": "Accepted: the batch is being checked.",
                        "headers": {"Location": {"schema": {"type": "string"}}},
                        "content": {"application/json": {"schema": {
                            "type": "object",
                            "required": ["id", "status_url"],
                            "properties": {"id": {"type": "string"},
                                           "status_url": {"type": "string"}},
                        }}},
                    },
                    "401": _TOKEN_ERROR,
                    "422": {
                        "description": "The file cannot be checked (kind, headers, no rows, too many rows).",
                        "content": {"application/json": {"schema": {"type": "object", "properties": {
                            "problem": {"type": "string"}, "errors": _ERRORS}}}},
                    },
                    "429": {"description": "rate_limited: too many batches from this client."},
                },
            }
        },
        "/api/v1/batch/{job_id}": {
            "get": {
                "operationId": "batchStatus",
                "summary": "Progress of a batch, and its results when done",
                "description": "Only batches of the token's own account are found.",
                "security": [{"bearerToken": []}],
                "parameters": [
                    {"name": "job_id", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "page", "in": "query", "required": False,
                     "schema": {"type": "integer", "minimum": 1, "default": 1}},
                    {"name": "limit", "in": "query", "required": False,
                     "schema": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 1000}},
                ],
                "responses": {
                    "200": {"description": "The batch.", "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/BatchStatus"}}}},
                    "401": _TOKEN_ERROR,
                    "404": {"description": "No batch with this id for this token's account.",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                },
            },
            "delete": {
                "operationId": "deleteBatch",
                "summary": "Delete a finished batch and its results",
                "description": "Batches are also deleted when the history retention period "
                               "has passed. A batch still being checked cannot be deleted.",
                "security": [{"bearerToken": []}],
                "parameters": [
                    {"name": "job_id", "in": "path", "required": True, "schema": {"type": "string"}},
                ],
                "responses": {
                    "204": {"description": "Deleted."},
                    "401": _TOKEN_ERROR,
                    "404": {"description": "No batch with this id for this token's account.",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                    "409": {"description": "The batch is still being checked.",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                },
            },
        },
    }


def _batch_components(document: dict) -> dict:
    components = document["components"]
    components["schemas"].update(
        BatchRow=_BATCH_ROW,
        BatchStatus=_BATCH_STATUS,
        Error={"type": "object", "properties": {"error": {"type": "integer"},
                                                "message": {"type": "string"}}},
    )
    components.setdefault("securitySchemes", {})["bearerToken"] = {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token, created on the account's token page or with "
                       "`flask --app app users token EMAIL`.",
    }
    document["paths"].update(_batch_paths())
    return document


def document() -> dict:
    return _batch_components(_document())


def _document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Yanpiao invoice verification API",
            "version": API_VERSION,
            "description": (
                "Verify Chinese invoices against the invoice registry. Stateless: no cookies, "
                "no CSRF token. Rate-limited per client address. Error messages follow the "
                "Accept-Language header (zh-Hans by default)."
            ),
        },
        "servers": [{"url": "/"}],
        "paths": {
            "/api/v1/verify": {
                "post": {
                    "operationId": "verifyInvoice",
                    "summary": "Verify one invoice",
                    "description": (
                        "Send either the raw text of the invoice's QR code, or its fields. "
                        "Types 01, 03 and 20 need the amount before tax; 31 and 32 the total "
                        "including tax; 15 the total vehicle price; 04, 10, 11 and 14 the last "
                        "6 digits of the check code."
                    ),
                    "parameters": [
                        {
                            "name": "Accept-Language",
                            "in": "header",
                            "required": False,
                            "schema": {"type": "string"},
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "oneOf": [
                                        {"$ref": "#/components/schemas/QrRequest"},
                                        {"$ref": "#/components/schemas/FieldsRequest"},
                                    ]
                                },
                                "examples": {
                                    "qr": {"value": {"qr": "01,32,,24312000000136634917,0.01,20240514,,1DD6"}},
                                    "fields": {
                                        "value": {
                                            "invoice_code": "011001900104",
                                            "invoice_number": "12345678",
                                            "issue_date": "2024-10-25",
                                            "check_code": "294433",
                                        }
                                    },
                                },
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "The registry was asked: match, not_found or mismatch.",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/VerifyResult"}}},
                        },
                        "422": {
                            "description": "Refused: invalid input, too old, or a future date.",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Refusal"}}},
                        },
                        "429": {
                            "description": (
                                "limit_exceeded: this invoice was already checked the maximum "
                                "number of times today; or rate_limited: this client sent too "
                                "many requests (see Retry-After)."
                            ),
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Limited"}}},
                        },
                    },
                }
            },
            "/api/v1/decode": {
                "post": {
                    "operationId": "decodeCodes",
                    "summary": "Read the QR codes in a photo or e-invoice file",
                    "description": (
                        "Send a photo (JPEG, PNG, WebP, BMP) or an e-invoice file (PDF, OFD) in "
                        "the multipart field \"file\". The type is decided by the content, not "
                        "the name. Every code found is returned; those that are invoice QR codes "
                        "come with their fields, ready for /api/v1/verify."
                    ),
                    "requestBody": {
                        "required": True,
                        "content": {"multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["file"],
                                "properties": {"file": {"type": "string", "format": "binary"}},
                            },
                            "encoding": {"file": {"contentType": "image/png, image/jpeg, image/webp, image/bmp, application/pdf, application/ofd"}},
                        }},
                    },
                    "responses": {
                        "200": {
                            "description": "The codes found, in reading order.",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/DecodeResult"}}},
                        },
                        "413": {"description": "The file is larger than the upload limit."},
                        "422": {
                            "description": (
                                "Nothing could be read: no_file, empty_file, unsupported_type, "
                                "corrupt_image, too_many_pixels, no_code, corrupt_pdf, "
                                "protected_pdf, no_pages, corrupt_ofd, unsafe_archive, unsafe_xml."
                            ),
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/DecodeError"}}},
                        },
                        "429": {"description": "rate_limited: this client sent too many requests (see Retry-After)."},
                    },
                }
            },
            "/api/v1/openapi.json": {
                "get": {
                    "operationId": "openapiDocument",
                    "summary": "This document",
                    "responses": {"200": {"description": "The OpenAPI document.", "content": {"application/json": {"schema": {"type": "object"}}}}},
                }
            },
        },
        "components": {
            "schemas": {
                "DecodeResult": {
                    "type": "object",
                    "required": ["codes"],
                    "properties": {"codes": {"type": "array", "items": {
                        "type": "object",
                        "required": ["text", "invoice"],
                        "properties": {
                            "text": {"type": "string"},
                            "invoice": {"oneOf": [
                                {"type": "null"},
                                {"type": "object", "properties": {
                                    name: {"type": "string"} for name in (
                                        "type", "invoice_code", "invoice_number", "issue_date",
                                        "amount", "check_code")
                                }},
                            ]},
                        },
                    }}},
                },
                "DecodeError": {
                    "type": "object",
                    "required": ["error", "message"],
                    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
                },
                "QrRequest": {
                    "type": "object",
                    "required": ["qr"],
                    "properties": {"qr": {"type": "string", "description": "Raw QR text, e.g. from a scanner."}},
                },
                "FieldsRequest": {
                    "type": "object",
                    "required": ["invoice_number", "issue_date"],
                    "properties": {
                        "invoice_code": {"type": "string", "description": "10 or 12 digits; omit for 20-digit numbers."},
                        "invoice_number": {"type": "string", "description": "8 or 20 digits."},
                        "issue_date": {"type": "string", "description": "YYYY-MM-DD (also YYYYMMDD)."},
                        "amount": {"type": "string", "description": "Yuan, e.g. 1130.00."},
                        "check_code": {"type": "string", "description": "Last 6 digits (or all 20)."},
                    },
                },
                "VerifyResult": {
                    "type": "object",
                    "required": ["outcome"],
                    "properties": {
                        "outcome": {"type": "string", "enum": ["match", "not_found", "mismatch"]},
                        "status": {"type": "string", "enum": [s.value for s in Status]},
                        "valid": {"type": "boolean", "description": "True only for a match whose status is normal."},
                        "verification_count": {"type": "integer", "description": "Number of this successful check of the invoice."},
                        "invoice": {"$ref": "#/components/schemas/Invoice"},
                        "receipt_id": {"type": "string"},
                    },
                },
                "Refusal": {
                    "type": "object",
                    "required": ["outcome", "errors"],
                    "properties": {
                        "outcome": {"type": "string", "enum": ["invalid", "too_old", "future_date"]},
                        "errors": _ERRORS,
                    },
                },
                "Limited": {
                    "type": "object",
                    "required": ["outcome"],
                    "properties": {
                        "outcome": {"type": "string", "enum": ["limit_exceeded", "rate_limited"]},
                        "message": {"type": "string"},
                        "receipt_id": {"type": "string"},
                    },
                },
                "Invoice": _INVOICE,
                "Party": _PARTY,
                "Item": _ITEM,
            }
        },
    }
