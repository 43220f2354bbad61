"""What the portal says to people, and how it writes money, months and places.

Every sentence is an English msgid, marked ``N_`` where it is written and translated when a
page is rendered, in the page's language (``i18n``): the tables here (a code -> its msgid)
are the labels of states, schemes and refusals. A refusal from the services carries a stable
``code``; the page says the service's own message in the page's language where it has one
(``domain.messages``: it says more about this input), else the sentence for the code. A code not in the tables reads as a generic
refusal, never as a stack trace.

Amounts are int fen to the last moment and written by ``fen_to_yuan_str`` (exact, two
decimals) with thousands grouped: ¥1,234.56, in both languages. Months read 2026年11月 or
Nov 2026. Regions are named from the GB/T 2260 registry, with their code; the names are
Chinese (the registry has no other), so an English page marks them ``lang="zh-CN"``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from markupsafe import Markup, escape

from suiren.domain.errors import SuirenError, UnknownRegion
from suiren.domain.money import fen_to_yuan_str, yuan_to_fen
from suiren.domain.month import Month
from suiren.domain.region import NATIONAL, default_registry
from suiren.portal import i18n

CJK_RE = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")


def N_(msgid: str) -> str:
    """Marks ``msgid`` for extraction (``make i18n``); it is translated when shown."""
    return msgid


@dataclass(frozen=True, slots=True)
class Message:
    """A sentence to show: its msgid, the values of its ``%(name)s`` placeholders (a
    ``Month`` is written in the page's language), and ``detail`` and ``detail_zh``, the
    service's own sentence in English and in Chinese (``domain.messages``), which a page in
    that language shows in its place (a Chinese page never shows the English one)."""

    msgid: str
    values: Mapping[str, object] = field(default_factory=dict)
    detail: str = ""
    detail_zh: str = ""


Said = str | Message  # what a page may be given to say: a msgid, or a Message


class Finding(Protocol):
    """A problem the ledger audit names (``store.audit.Problem``), in both languages."""

    @property
    def what(self) -> str: ...

    @property
    def what_zh(self) -> str: ...


def say(message: Said, lang: str) -> str:
    """``message`` (a msgid or a ``Message``) in ``lang``."""
    translations = i18n.translations(lang)
    if isinstance(message, str):
        return translations.gettext(message)
    detail = message.detail if lang == "en" else message.detail_zh
    if detail:
        return detail
    said = translations.gettext(message.msgid)
    if not message.values:
        return said
    words = {
        name: i18n.month(str(value), lang) if isinstance(value, Month) else str(value)
        for name, value in message.values.items()
    }
    return said % words


# codes whose sentence is written here (on an English page too: the service's message names
# an input it got, or is kept alike on purpose, as a login refusal is)
MESSAGES: dict[str, str] = {
    "invalid-resident-id": N_("The resident id is not valid: enter the 18-character resident id (the last may be X)."),
    "full-width-login": N_("The number has full-width characters: switch the keyboard to half-width and type it again."),
    "unauthorized": N_("The resident id, code or password is not valid."),
    "locked": N_("Too many attempts; try again later."),
    "password": N_("A password has 8 to 128 characters."),
    "code-format": N_("The one-time code is 6 digits."),
    "invalid-phone": N_("The mobile number is not valid: it has 11 digits and begins with 13 to 19."),
    "invalid-code": N_("The one-time code is not valid or has expired; ask for a new one."),
    "csrf": N_("The form has expired or did not come from this site; reload the page and try again."),
    "expired": N_("Your session has expired; please log in again."),
    "logged-out": N_("You have logged out."),
    "ended": N_("You have logged out on every device: every session of yours has ended. Log in again."),
    "not-found": N_("Page not found."),
    "bad-form": N_("The form could not be read; reload the page and try again."),
    "internal": N_("An internal error; nothing was changed. Please try again later."),
    "retry": N_("The database could not answer; nothing was changed. Please try again."),
}  # fmt: skip
# codes whose English sentence is the service's message (it says what was wrong with the input)
SERVICE_MESSAGES: dict[str, str] = {
    "invalid-input": N_("The input is not valid."),
    "invalid-month": N_("The month is not valid: write it as year-month, such as 2050-06."),
    "invalid-amount": N_("The amount is not valid."),
    "unknown-worker": N_("No insurance record was found."),
    "parameter-not-found": N_("A policy parameter the estimate needs is missing."),
    "transfer-refused": N_("The transfer request was not accepted."),
    "unknown-region": N_("Unknown region code: enter a 6-digit administrative division code."),
}
REFUSED = N_("The request was refused.")


def message_for(error: SuirenError) -> Message:
    """The sentence for a service's refusal: the service's own message in the page's language
    where it has one (a Chinese page: its ``message_zh``; an error raised in English alone
    reads as the code's sentence there)."""
    if error.code in MESSAGES:
        return Message(MESSAGES[error.code])
    return Message(
        SERVICE_MESSAGES.get(error.code, REFUSED),
        detail=error.message,
        detail_zh=error.message_zh or "",
    )


def yuan(fen: int) -> str:
    """¥1,234.56 from 123456 fen (exact; a minus sign before the ¥)."""
    text = fen_to_yuan_str(int(fen))
    sign = "-" if text.startswith("-") else ""
    whole, cents = text.lstrip("-").split(".")
    return f"{sign}¥{int(whole):,}.{cents}"


def yuan_text(amount: str) -> str:
    """¥6,000.00 from a service's "6000.00" (an amount it already wrote in yuan)."""
    return yuan(yuan_to_fen(amount))


def masked(value: str | None) -> Markup:
    """A masked resident id (4401**********1234) or phone number (138****5678) as one unbreakable
    piece (``.masked`` in ``portal.css``): a narrow phone wraps the line before it, never
    inside it."""
    return Markup('<span class="masked">{}</span>').format(value or "")


def region(code: str | None, lang: str) -> str:
    """广州市 (440100); the code alone if the registry does not know it. On an English page
    the Chinese name is marked as such (a screen reader switches voice)."""
    if not code:
        return ""
    if code == NATIONAL:
        national = say(N_("National"), lang)
        return f"{national} ({code})"
    try:
        name = default_registry().get(code).name
    except UnknownRegion:
        return code
    if lang == "zh":
        return f"{name} ({code})"
    return Markup('<span lang="zh-CN">{}</span> ({})').format(name, code)


def half(item: Mapping[str, object], key: str, lang: str) -> object:
    """The page's language's half of what a service says in both: a step of an estimate's
    explanation (``rules.explain.Step``) gives ``step_zh`` and ``step_en``, ``formula_zh``
    and ``formula_en``, and so its inputs and result; ``key`` names which."""
    return item[f"{key}_{lang}"]


def as_written(words: object, lang: str) -> str:
    """Words a page shows as their source wrote them (the rules engine's formulas, the
    regulations it cites): on an English page, any with Chinese in them are marked so."""
    shown = str(words)
    if lang == "zh" or not CJK_RE.search(shown):
        return shown
    return Markup('<span lang="zh-CN">{}</span>').format(shown)


def finding(problem: Finding, lang: str) -> str:
    """What the ledger audit found (``store.audit.Problem``) in the page's language: its
    ``what_zh`` on a Chinese page, its ``what`` on an English one (with any Chinese it quotes
    marked so)."""
    return problem.what_zh if lang == "zh" else as_written(problem.what, lang)


def label(table: Mapping[str, str], key: str, lang: str) -> str:
    """The label of ``key`` in ``table`` in ``lang``; the key itself if the table lacks it."""
    return say(table[key], lang) if key in table else key


SCHEMES = {
    "employee_pension": N_("Employee pension"),
    "employee_medical": N_("Employee medical"),
    "resident_pension": N_("Resident pension"),
    "resident_medical": N_("Resident medical"),
    "occupational_injury": N_("Occupational injury"),
    "commercial_pension": N_("Commercial pension"),
}
ACCOUNT_KINDS = {
    "individual_account": N_("Individual account"),
    "pooled_entitlement": N_("Pooled-fund entitlement"),
}
SCENARIOS = {
    "current_law": N_("Today's rules"),
    "money_follows_person": N_("Money follows the person (reform)"),
}
# the yearly figures (``metadata.published: yearly``) a ``provisional-parameter`` warning names
YEARLY_FIGURES = {
    "contribution.base.average_monthly_wage": N_("the average wage"),
    "contribution.base.published_floor": N_("the published floor of the base"),
    "contribution.base.published_ceiling": N_("the published ceiling of the base"),
    "pension.base": N_("the pension calculation base"),
    "account.interest_rate": N_("the crediting rate"),
}


def figures(parameters: list[Mapping[str, str]], lang: str) -> str:
    """The figures of a ``provisional-parameter`` warning in ``lang``, each (figure, year)
    once: "the average wage of 2025, the crediting rate of 2025"."""
    named: dict[tuple[str, str], None] = {}
    for p in parameters:
        named.setdefault((p["parameter"], p["in_force_from"][:4]), None)
    return say(N_(", "), lang).join(
        say(
            Message(
                N_("%(figure)s of %(year)s"),
                {"figure": label(YEARLY_FIGURES, path, lang), "year": year},
            ),
            lang,
        )
        for path, year in named
    )


def interest_rates(runs: list[Mapping[str, object]], lang: str) -> str:
    """The estimate's crediting rates ahead (``projection.interest_rates``) in ``lang``:
    "2026–2035: 0.015 (the latest published, 2025's)", each run of years once."""
    said = []
    for run in runs:
        first, last = run["from_year"], run["to_year"]
        years = f"{first}" if first == last else f"{first}–{last}"
        rate = f"{years}: {run['rate']}"
        if run["stand_in_year"] is not None:
            rate = say(
                Message(N_("%(rate)s (the latest published, %(year)s's)"),
                        {"rate": rate, "year": run["stand_in_year"]}),
                lang,
            )  # fmt: skip
        said.append(rate)
    return say(N_(", "), lang).join(said) or say(N_("none (retiring this year)"), lang)


# what makes the two scenarios' estimates differ (``career.difference_causes``): a code -> its
# sentence (placeholders from the cause)
CAUSES = {
    "paying-province": N_("the paying province changes from %(before)s to %(after)s"),
    "temporary-account-months": N_("%(months)s months in temporary accounts under %(scenario)s"),
    "pooled-left-behind": N_("%(amount)s of pooled money left behind where you moved from"),
    "none": N_("no difference in the paying province, temporary accounts or pooled money left behind"),
}  # fmt: skip


def causes(items: list[Mapping[str, object]], lang: str) -> Markup:
    """The causes of the difference between the scenarios in ``lang``, one after another
    (a region named as ``region`` names it, a scenario by its label, an amount in yuan)."""
    translations = i18n.translations(lang)
    said = []
    for cause in items:
        values: dict[str, object] = {}
        if cause["code"] == "paying-province":
            values = {k: region(str(cause[k]), lang) for k in ("before", "after")}
        elif cause["code"] == "temporary-account-months":
            values = {
                "months": cause["months"],
                "scenario": label(SCENARIOS, str(cause["scenario"]), lang),
            }
        elif cause["code"] == "pooled-left-behind":
            values = {"amount": yuan(int(str(cause["amount_fen"])))}
        template = Markup(escape(translations.gettext(CAUSES[str(cause["code"])])))
        said.append(template % values)
    return Markup(escape(say(N_("; "), lang))).join(said)


# the agency console (经办控制台)
CONSOLE_MESSAGES = {
    "refused": N_("The login name or password is not valid."),
    "approve": N_("Approved: the money is in clearing."),
    "accept": N_("Accepted: the money is in the worker's accounts."),
    "complete": N_("Completed: the worker is now insured here."),
    "reject": N_("Rejected: any money released has gone back."),
    "reason": N_("Give the reason for rejecting (1 to 200 characters)."),
    "search": N_("Enter a worker id or a masked resident id (such as 44****************)."),
    "not-found": N_("Not found, or not of this region."),
    "none": N_("No worker of the region here."),
    "page": N_("That page of the list is not one this console gave: search again."),
    "region": N_("Choose the region from the list."),
    "sessions-ended": N_("Every session of this worker has ended: they must log in again."),
}
TRANSFER_STATES = {
    "requested": N_("Requested: waiting for the old region"),
    "approved": N_("Approved: waiting for the new region"),
    "accepted": N_("Accepted: waiting to be completed"),
    "completed": N_("Completed"),
    "rejected": N_("Rejected"),
    "expired": N_("Expired"),
}
TRANSFER_STEPS = {
    "approve": N_("Approve"),
    "accept": N_("Accept"),
    "complete": N_("Complete"),
    "reject": N_("Reject"),
}
TRANSFER_KINDS = {
    "move": N_("Move of the insurance"),
    "continue": N_("Continue"),
    "gather": N_("Gather"),
    "claim": N_("To the paying region"),
}
FUND_KINDS = {
    "pooled_fund": N_("Pooled fund"),
    "pooled_entitlement": N_("Pooled entitlements (workers)"),
    "individual_account": N_("Individual accounts (workers)"),
    "clearing": N_("Clearing"),
    "collection": N_("Collection"),
    "opening": N_("Opening"),
    "payable": N_("Benefits payable"),
}

# the pay page (缴费): a refusal's reason -> its sentence (placeholders from the refusal)
PAY_MESSAGES = {
    "future": N_("%(month)s has not come yet; pay it when it comes."),
    "too-early": N_("%(month)s cannot be paid now: missed months may be paid from %(earliest)s on."),
    "paid": N_("%(month)s is already paid; it is not paid twice."),
    "past-retirement": N_("%(month)s cannot be paid: you have the minimum contribution years and retire by %(latest)s at the latest. Apply for your pension."),
    "no-parameters": N_("Your region has not published the bounds for %(month)s."),
    "out-of-bounds": N_("The base must be from %(floor)s to %(ceiling)s for %(month)s."),
    "base-format": N_("Enter the base in yuan, such as 6000 or 6000.50."),
    "month-format": N_("Choose the month to pay."),
    "used": N_("This form was already used for another payment; open the pay page again."),
    "moving": N_("Your insurance is being moved to another region: %(month)s can be paid once the move is completed or rejected."),
}  # fmt: skip
# the move page (转移接续)
ACCOUNT_MESSAGES = {
    "bound": N_("The number is bound: you can log in with it from now on."),
    "removed": N_("The number is removed: you log in with your resident id."),
}
MOVE_MESSAGES = {
    "requested": N_("Your request is in: the agency of your region approves it next."),
    "requested-provisional": N_("Your request is in: the agency of your region approves it next. The amounts shown rest on a yearly figure not published yet (an earlier year's stands in); they are computed again when the request is approved."),
    "region-format": N_("Enter the 6-digit code of the region to move to, such as 330100 (Hangzhou)."),
}  # fmt: skip
# a refused move's reason (``TransferRefused.reason``) -> its sentence
MOVE_REFUSALS = {
    "same-region": N_("You are already insured in that region: choose another one."),
    "open": N_("You already have a move under way: follow it below; request another when it is completed or rejected."),
    "nothing-paid": N_("No contributions are recorded in your region yet: there is nothing to move."),
    "moved": N_("Your insurance moved while this request was made; send it again."),
}  # fmt: skip
# the pension page (养老金测算): a refusal's reason -> its sentence
PENSION_MESSAGES = {
    "ratio": N_("Choose the base as a share of the local average wage, from %(low)s to %(high)s."),
    "no-months": N_("No contributions are recorded yet, so there is no pension to estimate; it can be estimated once a month is paid."),
    "retire-not-after-paid": N_("Choose a retirement month after %(last_paid)s, your last month paid."),
    "retire-out-of-range": N_("An estimate for retiring in %(month)s cannot be made: choose a month nearer your statutory retirement age."),
}  # fmt: skip
TRANSFER_EVENTS = {
    "requested": N_("Requested"),
    "approved": N_("Approved by the old region"),
    "accepted": N_("Accepted by the new region"),
    "completed": N_("Completed"),
    "rejected": N_("Rejected"),
    "expired": N_("Expired"),
}
