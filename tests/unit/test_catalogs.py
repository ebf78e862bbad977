"""The message catalogs: current with the code, complete in every language, placeholders intact.

When one of these fails, run `make translations` (extract → update → fill English → compile) and
translate what it lists.
"""

from __future__ import annotations

import re

import pytest
from babel.messages.extract import pathmatch

from blueprints.settings import LANGUAGES
from i18n_catalogs import (PLACEHOLDER, ROOT, TEMPLATE, catalog_path, extract_template, key,
                           listing, locales_on_disk, messages, placeholders, read_catalog, short)


@pytest.fixture(scope="module")
def template():
    return messages(read_catalog(TEMPLATE))


def test_every_language_has_a_catalog_and_every_catalog_a_language():
    assert locales_on_disk() == sorted(LANGUAGES)


def test_the_committed_template_catalog_is_current(tmp_path, template):
    fresh = messages(extract_template(tmp_path))
    new = sorted(set(fresh) - set(template), key=lambda k: k[1])
    gone = sorted(set(template) - set(fresh), key=lambda k: k[1])
    changed = sorted(
        (k for k in set(fresh) & set(template)
         if fresh[k].id != template[k].id),  # e.g. a new plural form
        key=lambda k: k[1],
    )
    problems = []
    if new:
        problems.append(f"{len(new)} in the code but not in messages.pot:\n"
                        + listing([short(k[1]) for k in new]))
    if gone:
        problems.append(f"{len(gone)} in messages.pot but no longer in the code:\n"
                        + listing([short(k[1]) for k in gone]))
    if changed:
        problems.append(f"{len(changed)} with a changed plural:\n"
                        + listing([short(k[1]) for k in changed]))
    if problems:
        pytest.fail("translations/messages.pot is stale; run `make translations`.\n"
                    + "\n".join(problems), pytrace=False)


def test_every_template_is_read_for_strings():
    """Mail bodies are templates too: a kind of file babel.cfg does not read stays English."""
    config = (ROOT / "babel.cfg").read_text()
    patterns = [p.strip() for p in re.findall(r"^\[jinja2:([^\]]+)\]", config, re.M)]
    files = [p.relative_to(ROOT).as_posix() for p in (ROOT / "templates").rglob("*")
             if p.is_file()]
    assert files
    assert [f for f in files if not any(pathmatch(p, f) for p in patterns)] == []


@pytest.mark.parametrize("locale", sorted(LANGUAGES))
def test_catalog_is_complete(locale, template):
    catalog = messages(read_catalog(catalog_path(locale), locale=locale))
    missing = [short(k[1]) for k in template if k not in catalog]
    untranslated, fuzzy = [], []
    for k, message in catalog.items():
        if k not in template:
            continue
        strings = message.string if isinstance(message.string, (tuple, list)) else [message.string]
        if not all(s.strip() for s in strings):
            untranslated.append(short(k[1]))
        if message.fuzzy:
            fuzzy.append(short(k[1]))
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing from the catalog (run `make translations`):\n"
                        + listing(sorted(missing)))
    if untranslated:
        problems.append(f"{len(untranslated)} untranslated:\n" + listing(sorted(untranslated)))
    if fuzzy:
        problems.append(f"{len(fuzzy)} fuzzy (check, then drop the flag):\n"
                        + listing(sorted(fuzzy)))
    if problems:
        pytest.fail(f"{locale} catalog is incomplete.\n" + "\n".join(problems), pytrace=False)


def placeholder_problems(message, num_plurals: int) -> list[str]:
    if isinstance(message.id, (tuple, list)):
        expected = placeholders(message.id[0]) | placeholders(message.id[1])
        forms = list(message.string)
    else:
        expected = placeholders(message.id)
        forms = [message.string]
    problems = []
    for index, form in enumerate(forms):
        if not form:
            continue  # untranslated: the completeness test reports it
        found = placeholders(form)
        # With several plural forms, a form may say the number in words ("once", "مرة واحدة").
        may_omit = {p for p in expected if p[0] == "num"} if len(forms) > 1 else set()
        unknown = set(found) - set(expected)
        lost = set(expected) - set(found) - may_omit
        if unknown or lost:
            where = f"[{index}]" if len(forms) > 1 or num_plurals > 1 else ""
            parts = []
            if unknown:
                parts.append("unknown " + ", ".join(_show(p) for p in sorted(unknown, key=str)))
            if lost:
                parts.append("missing " + ", ".join(_show(p) for p in sorted(lost, key=str)))
            detail = "; ".join(parts)
            problems.append(f"{short(key(message)[1], 50)}{where}: {detail}")
    return problems


def _show(placeholder: tuple[str | None, str]) -> str:
    name, kind = placeholder
    return f"%({name}){kind}" if name is not None else f"%{kind}"


@pytest.mark.parametrize("locale", sorted(LANGUAGES))
def test_placeholders_match_between_msgid_and_msgstr(locale):
    catalog = read_catalog(catalog_path(locale), locale=locale)
    problems = [p for m in catalog if m.id for p in placeholder_problems(m, catalog.num_plurals)]
    if problems:
        pytest.fail(f"{locale}: {len(problems)} translations whose placeholders differ from the "
                    f"msgid:\n" + listing(problems), pytrace=False)


def test_placeholder_check_catches_a_lost_or_renamed_placeholder():
    from babel.messages.catalog import Message

    good = Message("Ticket %(number)s of %(total)d", "第 %(number)s 张，共 %(total)d 张")
    lost = Message("Ticket %(number)s of %(total)d", "第 %(number)s 张")
    renamed = Message("Ticket %(number)s", "第 %(num)s 张")
    retyped = Message("Ticket %(number)s", "第 %(number)d 张")
    plural = Message(("%(num)d time", "%(num)d times"), ("مرة واحدة", "%(num)d مرات"))
    assert placeholder_problems(good, 1) == []
    assert placeholder_problems(plural, 2) == []
    assert "missing %(total)d" in placeholder_problems(lost, 1)[0]
    assert "unknown %(num)s" in placeholder_problems(renamed, 1)[0]
    assert "missing %(number)s" in placeholder_problems(retyped, 1)[0]
    assert placeholders("100%% sure") == {}


# A number and its abbreviated unit ("16 MB", "24 ч", "7 дн.") stay on one line: a plain space
# let a narrow screen put the unit alone at the start of the next line.
NUMBER_THEN_UNIT = re.compile(r"%\(\w+\)d (MB|KB|GB|МБ|КБ|ч|дн\.|с|мин\.)(?!\w)")


@pytest.mark.parametrize("locale", sorted(LANGUAGES))
def test_numbers_and_their_units_are_joined_by_a_non_breaking_space(locale):
    catalog = read_catalog(catalog_path(locale), locale=locale)
    apart = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, (tuple, list)) else [message.string]
        apart += [short(match.group(0)) + " in " + short(key(message)[1], 50)
                  for text in strings for match in NUMBER_THEN_UNIT.finditer(text or "")]
    assert not apart, f"{locale}: use U+00A0 between the number and its unit:\n" + listing(apart)


# Messages whose translations may write a number the source spells in figures in their own
# units: "40 megapixels" is "4000万像素" in Chinese and Japanese, "4천만 화소" in Korean.
NUMBERS_IN_OWN_UNITS = {
    "This image has too many pixels to read. Send a smaller photo (at most 40 megapixels).",
}
DIGITS = re.compile(r"\d+")


def missing_numbers(message) -> list[str]:
    """Numbers written in the msgid that a translation lost ("3 – acceptable" → "4 – 良好")."""
    source = message.id[0] if isinstance(message.id, (tuple, list)) else message.id
    if source in NUMBERS_IN_OWN_UNITS:
        return []
    numbers = set(DIGITS.findall(PLACEHOLDER.sub("", source)))
    forms = message.string if isinstance(message.string, (tuple, list)) else [message.string]
    return sorted({number for form in forms if form
                   for number in numbers - set(DIGITS.findall(form))})


@pytest.mark.parametrize("locale", sorted(LANGUAGES))
def test_translations_keep_the_numbers_of_their_msgid(locale):
    """A catalog whose entries slid by one gave "3 – acceptable" the label "4 – 良好": a rating of
    3 was then shown, stored and reported as a 4. Any number a msgid spells out must survive."""
    catalog = read_catalog(catalog_path(locale), locale=locale)
    lost = [f"{short(key(m)[1], 50)}: {', '.join(numbers)}"
            for m in catalog if m.id for numbers in [missing_numbers(m)] if numbers]
    assert not lost, f"{locale}: translations that lost a number of their msgid:\n" + listing(lost)


def test_number_check_catches_a_translation_taken_from_the_next_entry():
    from babel.messages.catalog import Message

    assert missing_numbers(Message("3 – acceptable", "4 – 良好")) == ["3"]
    assert missing_numbers(Message("3 – acceptable", "3 – 一般")) == []
    assert missing_numbers(Message("At most %(count)d of 20", "最多 %(count)d 个")) == ["20"]


# In right-to-left text, digits after Arabic letters are laid out as Arabic numbers: the parts
# of "2024-10-25" ran right to left and read 25-10-2024, a day-first date. Dates, date formats
# and quoted values a message shows must sit in an isolate (U+2066 LRI or U+2068 FSI … U+2069).
ISOLATE = re.compile(r"[\u2066\u2068][^\u2069]*\u2069")
NEEDS_ISOLATE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|YYYY-MM-DD|%\(value\)s")


def unisolated(text: str) -> list[str]:
    return NEEDS_ISOLATE.findall(ISOLATE.sub("", text or ""))


@pytest.mark.parametrize("locale", sorted(code for code, (_name, direction) in LANGUAGES.items()
                                          if direction == "rtl"))
def test_right_to_left_catalogs_isolate_dates_and_values(locale):
    catalog = read_catalog(catalog_path(locale), locale=locale)
    loose = [f"{short(key(m)[1], 50)}: {', '.join(found)}"
             for m in catalog if m.id
             for text in (m.string if isinstance(m.string, (tuple, list)) else [m.string])
             for found in [unisolated(text)] if found]
    assert not loose, f"{locale}: wrap these in U+2066 … U+2069:\n" + listing(loose)


def test_the_isolate_check_sees_a_bare_date():
    assert unisolated("مثل 2024-10-25 أو 20241025.") == ["2024-10-25"]
    assert unisolated("مثل \u20662024-10-25\u2069 أو 20241025.") == []
    assert unisolated("ليس %(value)s") == ["%(value)s"]


def test_arabic_dual_forms_do_not_repeat_the_number():
    """Arabic says two of a thing with the dual alone ("مرتين", "فاتورتان"): the catalog's
    dual forms put the number before it, "2 مرتين", which reads "2 twice"."""
    catalog = read_catalog(catalog_path("ar"), locale="ar")
    doubled = [short(key(m)[1], 50) for m in catalog
               if m.id and isinstance(m.string, (tuple, list)) and len(m.string) > 2
               and "%(num)d" in (m.string[2] or "")]
    assert not doubled, "dual forms (msgstr[2]) with %(num)d:\n" + listing(doubled)
