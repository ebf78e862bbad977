"""Reading the message catalogs; extracting the template catalog as `make translations` does."""

from __future__ import annotations

import os
import re
import shlex
from collections import Counter
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = ROOT / "translations"
TEMPLATE = TRANSLATIONS / "messages.pot"

# %(name)s, %d, %.2f … but not %%.
PLACEHOLDER = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?(?P<kind>[diouxXeEfFgGcrsa%])"
)


def extract_arguments(output: Path) -> list[str]:
    """The Makefile's own `pybabel extract` arguments, writing to ``output`` instead."""
    for line in (ROOT / "Makefile").read_text().splitlines():
        if "pybabel extract" in line:
            words = shlex.split(line.split("pybabel", 1)[1])
            index = words.index("-o")
            words[index + 1] = str(output)
            return words
    raise AssertionError("the Makefile has no `pybabel extract` line")


def extract_template(folder: Path) -> Catalog:
    """Extract the messages of the code as it is now, exactly as `make translations` would."""
    output = folder / "messages.pot"
    previous = Path.cwd()
    os.chdir(ROOT)
    try:
        CommandLineInterface().run(["pybabel", "--quiet", *extract_arguments(output)])
    finally:
        os.chdir(previous)
    return read_catalog(output)


def read_catalog(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def locales_on_disk() -> list[str]:
    return sorted(p.parent.parent.name for p in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))


def catalog_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def key(message: Message) -> tuple[str | None, str]:
    """A message's identity: context and singular msgid."""
    msgid = message.id[0] if isinstance(message.id, (tuple, list)) else message.id
    return message.context, msgid


def messages(catalog: Catalog) -> dict[tuple[str | None, str], Message]:
    return {key(m): m for m in catalog if m.id}


def placeholders(text: str) -> Counter:
    """Python-format placeholders as (name, kind), counted; `%%` is not one."""
    return Counter(
        (m.group("name"), m.group("kind")) for m in PLACEHOLDER.finditer(text or "")
        if m.group("kind") != "%"
    )


def short(text: str, width: int = 70) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def listing(entries: list[str], limit: int = 20) -> str:
    """The first ``limit`` entries, one a line, and how many there are in all."""
    lines = [f"  - {entry}" for entry in entries[:limit]]
    if len(entries) > limit:
        lines.append(f"  … and {len(entries) - limit} more ({len(entries)} in all)")
    return "\n".join(lines)
