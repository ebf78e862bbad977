"""The OpenAPI 3.1 document of the JSON API, served at /api/v1/openapi.json."""

from __future__ import annotations

from yanpiao.types import InvoiceType, Status

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


def document() -> dict:
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
