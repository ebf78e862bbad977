"""The verify page in Debian's chromium: typing, htmx swaps, focus, and no JavaScript."""

import re

from playwright.sync_api import expect

from factories import FLOW_RECORD

RECORD = FLOW_RECORD


def fill(page, check_code="294433"):
    page.get_by_role("textbox", name="Invoice code", exact=True).fill(RECORD["invoice_code"])
    page.get_by_role("textbox", name="Invoice number", exact=True).fill(RECORD["invoice_number"])
    page.get_by_role("textbox", name="Issue date", exact=True).fill(RECORD["issue_date"])
    field = page.get_by_role("textbox", name="Check code (last 6 digits)", exact=True)
    expect(field).to_be_visible()
    field.fill(check_code)


def test_typed_invoice_shows_the_full_result(page):
    page.goto("/verify")
    fill(page)
    page.get_by_role("button", name="Verify", exact=True).click()
    status = page.get_by_role("status")
    expect(status.get_by_role("heading", name="Valid invoice")).to_be_visible()
    expect(status).to_contain_text(RECORD["seller"]["name"])
    expect(status).to_contain_text("*办公用品*打印纸")
    expect(status).to_contain_text("Check number 1")
    # The verdict heading takes focus, so screen readers land on it after the swap.
    expect(page.locator("#verdict-title")).to_be_focused()
    assert "/verify/results/" in page.url  # reload or share shows the same result


def test_back_after_a_result_shows_what_was_typed(page):
    """With htmx, Back after a result showed the form empty."""
    page.goto("/verify")
    fill(page)
    page.get_by_role("button", name="Verify", exact=True).click()
    expect(page.get_by_role("heading", name="Valid invoice")).to_be_visible()
    page.go_back()
    expect(page).to_have_url(re.compile(r"/verify$"))
    expect(page.locator("#invoice_number")).to_have_value(RECORD["invoice_number"])
    expect(page.locator("#check_code")).to_have_value("294433")


def test_extra_field_adapts_while_typing_the_code(page):
    complaints = []
    page.on("console", lambda message: complaints.append(message.text))
    page.goto("/verify")
    page.get_by_role("textbox", name="Invoice code", exact=True).fill("1100245130")
    expect(page.get_by_role("textbox", name="Amount before tax", exact=True)).to_be_visible()
    expect(page.locator("#check_code")).to_have_count(0)
    page.get_by_role("textbox", name="Invoice code", exact=True).fill("")
    page.get_by_role("textbox", name="Invoice number", exact=True).fill("24312000000136634917")
    expect(page.get_by_role("textbox", name="Total including tax", exact=True)).to_be_visible()
    # The form's "disable the Verify button" used to be inherited by the fields' requests,
    # where it found no button: an error in the console at each of them.
    assert not [text for text in complaints if "returned no matches" in text]


def test_a_slow_answer_for_the_extra_field_keeps_what_was_typed_meanwhile(page):
    """On a slow network the adapted extra field arrived with the amount as it was when the
    request left: 227480.82 typed meanwhile became 20.82."""
    held = []
    page.route("**/verify/fields?*", lambda route: held.append(route))
    page.goto("/verify")
    page.get_by_role("textbox", name="Invoice number", exact=True).fill("24312000000136634917")
    page.wait_for_timeout(600)  # the request has left (300 ms delay) and is held
    assert held, "the number did not ask for its extra field"
    amount = page.locator("#amount")
    amount.click()
    amount.press_sequentially("227480.82")
    for route in held:
        route.continue_()
    expect(page.get_by_role("textbox", name="Total including tax", exact=True)).to_be_visible()
    expect(page.locator("#amount")).to_have_value("227480.82")
    expect(page.locator("#amount")).to_be_focused()
    page.keyboard.type("5")
    expect(page.locator("#amount")).to_have_value("227480.825")


def test_switching_the_language_keeps_what_was_typed(page):
    """The switch loaded the page again with every field empty."""
    page.goto("/verify")
    fill(page)
    page.locator(".site-header .language-menu summary").click()
    page.locator(".site-header .language-menu button[value=ru]").click()
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.locator("#invoice_code")).to_have_value(RECORD["invoice_code"])
    expect(page.locator("#invoice_number")).to_have_value(RECORD["invoice_number"])
    expect(page.locator("#issue_date")).to_have_value(RECORD["issue_date"])
    expect(page.locator("#check_code")).to_have_value("294433")
    expect(page.locator("#amount")).to_have_count(0)  # the extra field adapted to the code
    # Once only: a later visit to the page starts empty.
    page.goto("/verify")
    expect(page.locator("#invoice_code")).to_have_value("")


def test_a_photo_too_large_is_said_in_view(page):
    """With JavaScript the server's 413 left the page as it was: nothing said, nothing moved."""
    page.goto("/verify")
    page.locator("#photo").set_input_files(
        {"name": "big.jpg", "mimeType": "image/jpeg", "buffer": b"\xff\xd8" + bytes(11 * 1024 * 1024)})
    page.locator("#photo-form button[type=submit]").click()
    result = page.locator("#verify-result")
    expect(result).to_contain_text("larger than 10 MB")
    expect(result).to_be_focused()
    expect(result).to_be_in_viewport()


def test_a_refused_scan_keeps_the_typed_form_and_its_errors_take_focus_later(page):
    """A refused scan emptied the typed form; the typed form's errors then lost the focus to
    the scanner's older error box at the top of the page."""
    page.goto("/verify")
    page.get_by_role("textbox", name="Invoice code", exact=True).fill("12")
    page.locator("#qr").fill("not a code")
    page.locator("#scan-form button[type=submit]").click()
    expect(page.locator("#scan-form .error-summary")).to_be_focused()
    expect(page.locator("#invoice_code")).to_have_value("12")
    page.locator("#verify-form button[type=submit]").click()
    expect(page.locator("#verify-form .error-summary")).to_be_focused()


def test_bad_submit_moves_focus_to_the_error_summary(page):
    page.goto("/verify")
    page.get_by_role("textbox", name="Invoice number", exact=True).fill("123")
    page.get_by_role("button", name="Verify", exact=True).click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("There is a problem")
    summary.get_by_role("link").first.click()
    expect(page.locator("#invoice_code")).to_be_focused()  # the first field in error


def test_keyboard_only(page):
    page.goto("/verify")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    page.locator("#invoice_code").focus()
    page.keyboard.type(RECORD["invoice_code"])
    page.keyboard.press("Tab")
    page.keyboard.type(RECORD["invoice_number"])
    page.keyboard.press("Tab")
    page.keyboard.type(RECORD["issue_date"])
    expect(page.locator("#check_code")).to_be_visible()
    page.locator("#check_code").focus()
    page.keyboard.type("294433")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Valid invoice")).to_be_visible()


def test_works_without_javascript(page_without_js):
    page = page_without_js
    page.set_viewport_size({"width": 360, "height": 640})  # a phone: the form fills screens
    page.goto("/verify")
    page.get_by_role("textbox", name="Invoice code", exact=True).fill(RECORD["invoice_code"])
    page.get_by_role("textbox", name="Invoice number", exact=True).fill(RECORD["invoice_number"])
    page.get_by_role("textbox", name="Issue date", exact=True).fill(RECORD["issue_date"])
    page.get_by_role("textbox", name="Check code (last 6 digits)", exact=True).fill("294433")
    page.get_by_role("button", name="Verify", exact=True).click()
    expect(page.get_by_role("heading", name="Valid invoice")).to_be_visible()
    assert "/verify/results/" in page.url
    # The answer is below the form: the page opens on it, not on the form just sent.
    verdict = page.locator("#verdict-title")
    expect(verdict).to_be_focused()
    expect(verdict).to_be_in_viewport()


def test_no_js_error_summary_takes_focus(page_without_js):
    page = page_without_js
    page.goto("/verify")
    page.get_by_role("button", name="Verify", exact=True).click()
    expect(page.locator("#error-summary")).to_be_focused()


def focus_ring(page) -> dict:
    from page_checks import FOCUS_INDICATOR

    stop = page.evaluate(FOCUS_INDICATOR)
    assert stop is not None, "nothing has focus"
    assert stop["best"] >= 3, f"focus on {stop['tag']} “{stop['name']}” is hard to see"
    return stop


def test_keyboard_only_from_the_first_tab(page):
    """Tab, Space and Enter alone, from the top of the page to the announced result."""
    page.goto("/verify")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    focus_ring(page)
    page.keyboard.press("Enter")  # skip the header
    expect(page.locator("main")).to_be_focused()
    for _ in range(15):  # past the other ways in (scanner, photo): each stop visibly focused
        page.keyboard.press("Tab")
        focus_ring(page)
        if page.locator("#invoice_code").evaluate("e => e === document.activeElement"):
            break
    page.keyboard.type(RECORD["invoice_code"])
    for field, text in (("#invoice_number", RECORD["invoice_number"]),
                        ("#issue_date", RECORD["issue_date"])):
        page.keyboard.press("Tab")
        expect(page.locator(field)).to_be_focused()
        focus_ring(page)
        page.keyboard.type(text)
    # The code told the invoice type: only its one extra field is left.
    expect(page.locator("#amount")).to_have_count(0)
    page.keyboard.press("Tab")
    expect(page.locator("#check_code")).to_be_focused()
    page.keyboard.type("294433")
    page.keyboard.press("Tab")
    expect(page.locator("#verify-form button[type=submit]")).to_be_focused()
    focus_ring(page)
    page.keyboard.press("Tab")
    hint = page.locator("details.where-hint")
    expect(hint.locator("summary")).to_be_focused()
    focus_ring(page)
    page.keyboard.press("Space")
    expect(hint).to_have_attribute("open", "")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    status = page.get_by_role("status")
    expect(status.get_by_role("heading", name="Valid invoice")).to_be_visible()
    expect(page.locator("#verdict-title")).to_be_focused()
    focus_ring(page)


def test_keyboard_only_language_choice(page):
    page.goto("/verify")
    summary = page.locator(".language-menu summary")
    summary.focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.locator(".language-menu button").first).to_be_focused()
    focus_ring(page)
    arabic = page.locator(".language-menu button[lang=ar]")
    while not arabic.evaluate("b => b === document.activeElement"):
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")


PHONE = {"width": 360, "height": 640}


def test_phone_menu_folds_the_header_and_opens_as_a_button(page):
    """On a phone the links fold behind "Menu", so the page starts in the first screen."""
    page.set_viewport_size(PHONE)
    page.goto("/verify")
    header = page.locator(".site-header")
    assert header.bounding_box()["height"] <= 80  # one row: brand, Menu, language
    history = page.get_by_role("link", name="History", exact=True)
    expect(history).to_be_hidden()
    expect(page.get_by_role("heading", name="Verify an invoice")).to_be_in_viewport()
    menu = page.get_by_role("button", name="Menu", exact=True)
    expect(menu).to_have_attribute("aria-expanded", "false")
    menu.focus()
    page.keyboard.press("Space")
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(history).to_be_visible()
    expect(page.get_by_role("button", name="Large text, high contrast")).to_be_visible()
    page.keyboard.press("Tab")  # into the menu, in reading order
    expect(page.get_by_role("link", name="Verify", exact=True)).to_be_focused()
    page.keyboard.press("Escape")
    expect(history).to_be_hidden()
    expect(menu).to_be_focused()
    expect(menu).to_have_attribute("aria-expanded", "false")
    assert "#" not in page.url
    # After a check, Back lets htmx restore the page from its history: the menu still opens.
    fill(page)
    page.get_by_role("button", name="Verify", exact=True).click()
    expect(page.get_by_role("heading", name="Valid invoice")).to_be_visible()
    page.go_back()
    expect(page).to_have_url(re.compile(r"/verify$"))
    expect(page.get_by_role("heading", name="Valid invoice")).to_have_count(0)
    menu.click()
    expect(history).to_be_visible()
    history.click()
    expect(page).to_have_url(re.compile(r"/history$"))
    expect(page.get_by_role("button", name="Menu", exact=True)).to_have_attribute(
        "aria-expanded", "false")


def test_tablet_header_is_one_row_in_russian(page):
    """Russian's long link labels took three header rows (212 px) at tablet widths."""
    page.set_viewport_size({"width": 800, "height": 1280})
    page.goto("/verify")
    page.locator(".language-menu summary").click()
    page.get_by_role("button", name="Русский").click()
    heading = page.get_by_role("heading", name="Проверить счёт-фактуру")
    expect(heading).to_be_visible()
    assert page.locator(".site-header").bounding_box()["height"] <= 80
    history = page.get_by_role("link", name="История", exact=True)
    expect(history).to_be_hidden()
    page.get_by_role("button", name="Меню", exact=True).click()
    expect(history).to_be_visible()
    # Wide enough, the links wrap beside the brand: two rows, not three.
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(history).to_be_visible()
    expect(page.get_by_role("button", name="Меню", exact=True)).to_be_hidden()
    assert page.locator(".site-header").bounding_box()["height"] <= 120
    assert heading.bounding_box()["y"] < 200


def test_phone_menu_opens_and_closes_without_javascript(page_without_js):
    page = page_without_js
    page.set_viewport_size(PHONE)
    page.goto("/verify")
    history = page.get_by_role("link", name="History", exact=True)
    expect(history).to_be_hidden()
    page.get_by_role("link", name="Menu", exact=True).click()
    expect(history).to_be_visible()
    # The header's first row stays in view above the opened menu.
    expect(page.get_by_role("link", name="Menu", exact=True)).to_be_in_viewport()
    page.get_by_role("link", name="Close menu").click()
    expect(history).to_be_hidden()
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(history).to_be_visible()  # wide screens keep every link in the header
    expect(page.get_by_role("link", name="Menu", exact=True)).to_be_hidden()
