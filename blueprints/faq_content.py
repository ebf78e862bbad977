"""The FAQ's questions and answers, grouped by topic, as translatable text.

Answers may use these placeholders, filled in from the configuration when the page is shown:
``%(limit)d`` checks per invoice per day, ``%(years)d`` years an invoice can be verified,
``%(max_upload)s`` the largest file, ``%(urgent_hours)d`` and ``%(normal_days)d`` the
response-time standards, ``%(history_days)d`` and ``%(feedback_days)d`` how long checks and
finished reports are kept (0: for good). A paragraph wrapped in ``Only`` is shown only when its
placeholder is not 0. A text whose words follow a number that changes with the configuration
is a ``Plural``, which names that number ``%(num)d``. A slug is the answer's anchor on the
page: keep it when rewording.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Only:
    """A paragraph that applies only when the placeholder ``when`` is set (not 0)."""

    when: str
    text: object  # a lazy string


@dataclass(frozen=True)
class Plural:
    """A text in the singular and plural forms of the language, chosen by the number that the
    placeholder ``count`` holds; the text calls that number ``%(num)d``. `make translations`
    extracts it as ngettext's pair."""

    singular: str
    plural: str
    count: str


@dataclass(frozen=True)
class Question:
    slug: str
    question: object  # a lazy string
    answer: tuple  # paragraphs, each a lazy string
    links: tuple = ()  # (endpoint, label): shown when the endpoint exists
    figure: str | None = None  # "sample_invoice": the annotated invoice drawings


@dataclass(frozen=True)
class Topic:
    slug: str
    title: object
    questions: tuple


TOPICS = (
    Topic("fields", _l("Finding the details on your invoice"), (
        Question(
            "where-are-the-fields",
            _l("Where are the invoice code, number, date and check code on my invoice?"),
            (
                _l("On a paper VAT invoice the invoice code (发票代码, 10 or 12 digits) is "
                   "printed at the top left. The invoice number (发票号码, 8 digits), the issue "
                   "date (开票日期) and the 20-digit check code (校验码) are at the top right."),
                _l("The amount before tax (合计) is at the bottom right of the goods table; the "
                   "total including tax (价税合计) is in the row below it, in words and in "
                   "figures."),
                _l("A fully digital invoice (数电发票) has no invoice code and no check code: its "
                   "20-digit invoice number and the issue date are at the top right, and the "
                   "total including tax is at the bottom."),
                _l("Electronic invoices in PDF or OFD files carry the same fields in the same "
                   "places, and a QR code at the top left that holds them."),
            ),
            links=(("verify.verify", _l("Verify an invoice")),),
            figure="sample_invoice",
        ),
        Question(
            "which-field",
            _l("Which amount or code do I need to type?"),
            (
                _l("It depends on the kind of invoice. As soon as you type the code or the "
                   "number, the form shows the one field your invoice needs."),
                _l("VAT special invoices (专票), electronic special invoices and motor vehicle "
                   "sales invoices: the amount before tax."),
                _l("VAT ordinary invoices (普票) on paper, electronic or roll, and electronic "
                   "toll invoices: the last 6 digits of the check code."),
                _l("Used vehicle sales invoices: the total vehicle price (车价合计)."),
                _l("Fully digital invoices (数电), special or ordinary: the total including tax "
                   "(价税合计)."),
            ),
        ),
        Question(
            "digital-invoice-without-code",
            _l("My invoice has no invoice code. What do I enter?"),
            (
                _l("Then it is a fully digital invoice (数电发票). Leave the invoice code empty "
                   "and type the 20-digit invoice number, the issue date and the total including "
                   "tax (价税合计)."),
                _l("Paper copies of fully digital invoices sometimes show a code as well; you can "
                   "leave it empty. Whether the invoice is a special or an ordinary one makes no "
                   "difference to the check."),
            ),
        ),
        Question(
            "code-not-valid",
            _l("The form says my invoice code or number is not valid. Why?"),
            (
                _l("Invoice codes have 10 or 12 digits, and invoice numbers 8 digits, or 20 on a "
                   "fully digital invoice. Spaces, dashes and full-width digits are fine; "
                   "letters are not."),
                _l("The code also tells which kind of invoice it is. Freight transport "
                   "invoices were retired in 2016 and cannot be verified any more."),
                _l("Compare the digits with the invoice once more, or scan its QR code instead "
                   "of typing."),
            ),
        ),
    )),
    Topic("results", _l("Understanding the result"), (
        Question(
            "not-found",
            _l("Why does it say “Not found”?"),
            (
                _l("No invoice with that code and number is in the registry. Most often a digit "
                   "was mistyped: compare the code and the number with the invoice digit by "
                   "digit, or scan the QR code."),
                _l("An invoice issued today may only appear in the registry tomorrow."),
                _l("If it still cannot be found, the invoice may be forged. Do not accept it, and "
                   "ask the seller."),
                _l("An answer of “Not found” does not count towards the daily limit of checks."),
            ),
        ),
        Question(
            "details-dont-match",
            _l("Why does it say “Details don't match”?"),
            (
                _l("An invoice with this code and number exists, but the issue date, the amount "
                   "or the check code you typed differs from the registry."),
                _l("Common causes: the total including tax typed where the amount before tax is "
                   "needed (or the other way round), the first 6 digits of the check code "
                   "instead of the last 6, or the date of another invoice."),
                Plural("To protect the invoice's owner, a mismatch shows nothing about the "
                       "stored invoice, and every attempt counts towards the limit of %(num)d "
                       "check per invoice per day.",
                       "To protect the invoice's owner, a mismatch shows nothing about the "
                       "stored invoice, and every attempt counts towards the limit of %(num)d "
                       "checks per invoice per day.", "limit"),
            ),
        ),
        Question(
            "daily-limit",
            Plural("Why can an invoice be checked only %(num)d time a day?",
                   "Why can an invoice be checked only %(num)d times a day?", "limit"),
            (
                Plural("The daily limit counts every attempt that finds the invoice, whether "
                       "the details match or not and whoever makes it. After %(num)d such "
                       "attempt the invoice cannot be checked again until the next day.",
                       "The daily limit counts every attempt that finds the invoice, whether "
                       "the details match or not and whoever makes it. After %(num)d such "
                       "attempts the invoice cannot be checked again until the next day.",
                       "limit"),
                _l("The national verification platform has the same rule. It stops anyone from "
                   "guessing the check code to read someone else's invoice."),
                _l("Attempts that find no invoice do not count."),
            ),
        ),
        Question(
            "old-or-future-invoice",
            _l("Why can't I verify an old invoice, or one dated in the future?"),
            (
                Plural("Invoices issued more than %(num)d year ago can no longer be verified: "
                       "the registry answers only for the last year.",
                       "Invoices issued more than %(num)d years ago can no longer be verified: "
                       "the registry answers only for the last %(num)d years.", "years"),
                _l("An issue date after today is refused too. Check the date on the invoice: it "
                   "is printed as year, month and day (年月日)."),
            ),
        ),
        Question(
            "voided-and-red-reversed",
            _l("What do “Voided” and “Red-reversed” mean?"),
            (
                _l("Both mean that the invoice is genuine but no longer in force, so it must not "
                   "be accepted."),
                _l("Voided (作废): the seller cancelled the invoice after issuing it. It cannot be "
                   "used to claim expenses or to deduct tax."),
                _l("Red-reversed (红冲): the seller issued a red (negative) invoice against this "
                   "one, cancelling it in whole or in part, usually after a return or a "
                   "correction. Ask the seller for the corrected invoice."),
                _l("“Out of control” (失控) and “Abnormal” (异常) are set by the tax authority: do "
                   "not accept such an invoice until the seller or your tax office has cleared "
                   "it."),
            ),
        ),
        Question(
            "checked-before",
            _l("What do “Check number” and “Checked before” mean?"),
            (
                _l("The check number counts the successful checks of an invoice by anyone: 1 "
                   "means this is the first time it was verified."),
                _l("A higher number means someone checked the invoice before, and the result "
                   "says when. If that was not you, make sure the invoice has not already been "
                   "claimed by someone else."),
            ),
        ),
        Question(
            "official-result",
            _l("Is a Yanpiao result an official certificate?"),
            (
                _l("No. Yanpiao checks invoices against the invoice registry and shows what it "
                   "holds. Results are for information; the tax authority's records prevail."),
                _l("Keep the receipt number shown under each result: it identifies your check "
                   "if you need to report a problem."),
            ),
        ),
    )),
    Topic("scanning", _l("Scanning, photos and e-invoice files"), (
        Question(
            "how-to-scan",
            _l("How do I scan an invoice's QR code?"),
            (
                _l("Most invoices carry a QR code at the top left that holds the code, number, "
                   "date and amount. Scanning it fills in everything for you."),
                _l("With a handheld scanner: put the cursor in the scan field of the "
                   "verification page and scan. The scanner types the code and presses Enter, "
                   "and the result appears at once. You can also paste the text of a QR code "
                   "there."),
                _l("On a phone: choose “upload a photo of the invoice”, and the phone opens its "
                   "camera."),
                _l("At a kiosk: hold the invoice under the camera, inside the frame shown on the "
                   "screen."),
            ),
            links=(("verify.verify", _l("Verify an invoice")),),
        ),
        Question(
            "photos-and-files",
            _l("Can I upload a photo, a PDF or an OFD e-invoice?"),
            (
                _l("Yes. Photos can be JPEG, PNG, WebP or BMP files; electronic invoices can be "
                   "the PDF or OFD files you received. A file may be up to %(max_upload)s."),
                _l("Yanpiao reads the invoice's QR code from the file and verifies it exactly "
                   "like typed details. From a PDF it reads the first page."),
            ),
        ),
        Question(
            "photo-not-read",
            _l("My photo could not be read. What can I do?"),
            (
                _l("Photograph the whole QR code flat and in focus, in good light, without glare "
                   "or shadows across it. It need not fill the picture, but it should not be "
                   "tiny."),
                _l("A crumpled, torn or faded code may not be readable. You can always type the "
                   "details instead."),
                _l("If a clear photo still fails, please tell us with the feedback form and "
                   "choose “Scanning problem”."),
            ),
            links=(("feedback.feedback", _l("Report a problem")),),
        ),
    )),
    Topic("kiosk", _l("The self-service kiosk and accessibility"), (
        Question(
            "kiosk-how",
            _l("How do I use the self-service kiosk?"),
            (
                _l("Touch the screen to start and choose your language. Then hold the invoice's "
                   "QR code under the camera, inside the frame shown on the screen: the result "
                   "appears by itself."),
                _l("If the code cannot be read, type the details on the on-screen keypad. Where "
                   "the kiosk has a printer, you can print a receipt of the result."),
                _l("When you are done, touch “Finish”. If nobody touches the screen for a "
                   "minute, the kiosk asks whether you are still there and then starts again. "
                   "Either way, everything of your visit is wiped for the next visitor."),
            ),
        ),
        Question(
            "kiosk-accessibility",
            _l("Does the kiosk have an accessibility mode?"),
            (
                _l("Yes, one touch away on every screen. It switches to high contrast and large "
                   "text, moves the controls into the lower part of the screen, within reach "
                   "from a wheelchair, and reads prompts and results aloud in your language, "
                   "with buttons to repeat and to stop."),
            ),
        ),
        Question(
            "web-accessibility",
            _l("Can I use Yanpiao with a screen reader, the keyboard alone or large text?"),
            (
                _l("Yes. Every page works with the keyboard alone, with screen readers, with "
                   "enlarged text and without JavaScript, also on old phones and slow "
                   "connections."),
                _l("If something stands in your way, please tell us with the feedback form and "
                   "choose “Accessibility”."),
            ),
            links=(("feedback.feedback", _l("Report a problem")),),
        ),
        Question(
            "languages",
            _l("Which languages can I use?"),
            (
                _l("Chinese, English, Japanese, Korean, Russian and Arabic. Choose one from the "
                   "language menu at the top of every page, or on the kiosk's start screen. This "
                   "device remembers your choice."),
            ),
        ),
    )),
    Topic("privacy", _l("Privacy and your data"), (
        Question(
            "what-is-stored",
            _l("What do you store when I verify an invoice?"),
            (
                _l("For each check we store the details you gave (code, number, date, amount or "
                   "check code), how you entered them, the outcome with the invoice's status, "
                   "and the time. You do not need an account and we do not ask for your name."),
                _l("Without an account, your history of checks is tied to your browser session: "
                   "only this browser can see it. If you sign in, it moves into your account, "
                   "where you can delete single checks or all of them."),
                _l("At a kiosk, everything of your visit is wiped when you touch “Finish” or "
                   "when the kiosk starts again."),
                Only("history_days", _l(
                    "Every check is deleted %(history_days)d days after it was made, whether it "
                    "is in an account or not.")),
            ),
        ),
        Question(
            "who-can-see",
            _l("Can anyone else see my invoice or my checks?"),
            (
                _l("An invoice's details are shown only to someone who typed or scanned every "
                   "detail correctly, which normally means having the invoice. A mismatch or "
                   "“Not found” shows nothing about any stored invoice."),
                _l("Your history and your receipts can be seen only from your own browser "
                   "session or your own account."),
            ),
        ),
        Question(
            "feedback-data",
            _l("What happens to what I write in a feedback report?"),
            (
                _l("Staff read your report to answer it and to improve the service. Contact "
                   "details are kept only if you give them and agree, and are used only to ask "
                   "you about that report."),
                _l("If you send anonymously, no contact details are stored and the report is not "
                   "linked to your account."),
                _l("Your report's private page lets you delete the contact details you left, or "
                   "the whole report with our conversation, at any time."),
                Only("feedback_days", _l(
                    "Once a report is resolved or closed and nothing more happens to it, it is "
                    "deleted after %(feedback_days)d days, with our conversation and your "
                    "contact details.")),
            ),
        ),
    )),
    Topic("help", _l("Reporting a problem"), (
        Question(
            "report-problem",
            _l("How do I report a problem?"),
            (
                _l("Use the feedback form. Under every verification result there is a “Report a "
                   "problem” link that fills in the result's receipt number for you, so staff "
                   "can see exactly what you checked."),
                _l("Choose what kind of problem it is and describe it. If you like, leave an "
                   "email address or a mobile number for our reply; you can also send "
                   "anonymously."),
            ),
            links=(("feedback.feedback", _l("Report a problem")),),
        ),
        Question(
            "follow-report",
            _l("How do I follow my report, and how soon will you answer?"),
            (
                _l("After sending you get a ticket number such as FB-2026-000123 and a private "
                   "link. Keep the link: it shows the progress of your report and our replies, "
                   "lets you add information, and lets you rate our answer once it is resolved. "
                   "Anyone with the link can read the report, so do not share it."),
                _l("We answer urgent reports within %(urgent_hours)d hours and all others within "
                   "%(normal_days)d days."),
            ),
        ),
    )),
)

QUESTIONS = {question.slug: question for topic in TOPICS for question in topic.questions}
