"""What the portal says to people: Chinese first, then English, and how it writes money,
months and places.

Amounts are int fen to the last moment and written by ``fen_to_yuan_str`` (exact, two
decimals) with thousands grouped: ¥1,234.56. Months read 2026年11月. Regions are named from
the GB/T 2260 registry, with their code.

The messages are a table (code -> Chinese, English): a refusal from the services carries a
stable ``code``, and the page shows the Chinese sentence for it, then the English one (the
service's own message where it says more about this input). A code not in the table reads
as a generic refusal, never as a stack trace.
"""

from __future__ import annotations

from typing import NamedTuple

from suiren.domain.errors import SuirenError, UnknownRegion
from suiren.domain.money import fen_to_yuan_str, yuan_to_fen
from suiren.domain.region import NATIONAL, default_registry


class Message(NamedTuple):
    zh: str
    en: str


# codes whose English sentence is written here (the service's message names an input it got
# or is kept alike on purpose, as a login refusal is)
MESSAGES: dict[str, Message] = {
    "invalid-resident-id": Message(
        "身份证号码无效：请填写18位居民身份证号码（最后一位可以是X）。",
        "The resident id is not valid: enter the 18-character resident id (the last may be X).",
    ),
    "unauthorized": Message(
        "身份证号码、验证码或密码不正确。",
        "The resident id, code or password is not valid.",
    ),
    "locked": Message(
        "尝试次数过多，请稍后再试。",
        "Too many attempts; try again later.",
    ),
    "password": Message(
        "密码须为8至128个字符。",
        "A password has 8 to 128 characters.",
    ),
    "code-format": Message(
        "验证码是6位数字。",
        "The one-time code is 6 digits.",
    ),
    "csrf": Message(
        "表单已过期或并非来自本站，请刷新页面后重试。",
        "The form has expired or did not come from this site; reload the page and try again.",
    ),
    "expired": Message(
        "登录已过期，请重新登录。",
        "Your session has expired; please log in again.",
    ),
    "logged-out": Message("您已退出登录。", "You have logged out."),
    "not-found": Message("页面不存在。", "Page not found."),
    "bad-form": Message(
        "无法读取提交的表单，请刷新页面后重试。",
        "The form could not be read; reload the page and try again.",
    ),
    "internal": Message(
        "服务出现内部错误，未作任何更改，请稍后再试。",
        "An internal error; nothing was changed. Please try again later.",
    ),
    "retry": Message(
        "数据库暂时无法处理请求，未作任何更改，请稍后再试。",
        "The database could not answer; nothing was changed. Please try again.",
    ),
}
# codes whose English sentence is the service's message (it says what was wrong with the input)
SERVICE_MESSAGES: dict[str, str] = {
    "invalid-input": "输入无效。",
    "invalid-month": "月份无效，请按“年-月”填写，如 2050-06。",
    "invalid-amount": "数值无效。",
    "unknown-worker": "未找到参保记录。",
    "parameter-not-found": "缺少测算所需的政策参数。",
    "transfer-refused": "转移接续请求未被接受。",
    "unknown-region": "未知的地区代码，请填写6位行政区划代码。",
}
REFUSED = Message("请求未被接受。", "The request was refused.")


def message_for(error: SuirenError) -> Message:
    """The Chinese and English sentences for a service's refusal."""
    if error.code in MESSAGES:
        return MESSAGES[error.code]
    zh = SERVICE_MESSAGES.get(error.code, REFUSED.zh)
    return Message(zh, error.message or REFUSED.en)


def yuan(fen: int) -> str:
    """¥1,234.56 from 123456 fen (exact; a minus sign before the ¥)."""
    text = fen_to_yuan_str(int(fen))
    sign = "-" if text.startswith("-") else ""
    whole, cents = text.lstrip("-").split(".")
    return f"{sign}¥{int(whole):,}.{cents}"


def yuan_text(amount: str) -> str:
    """¥6,000.00 from a service's "6000.00" (an amount it already wrote in yuan)."""
    return yuan(yuan_to_fen(amount))


def month(text: str | None) -> str:
    """2026年11月 from "2026-11" (anything else as it came)."""
    if not text or len(text) != 7 or text[4] != "-":
        return text or ""
    return f"{text[:4]}年{int(text[5:])}月"


def region(code: str | None) -> str:
    """广州市 (440100); the code alone if the registry does not know it."""
    if not code:
        return ""
    if code == NATIONAL:
        return f"全国 ({code})"
    try:
        return f"{default_registry().get(code).name} ({code})"
    except UnknownRegion:
        return code


SCHEMES = {
    "employee_pension": Message("职工基本养老保险", "Employee pension"),
    "employee_medical": Message("职工基本医疗保险", "Employee medical"),
    "resident_pension": Message("城乡居民基本养老保险", "Resident pension"),
    "resident_medical": Message("城乡居民基本医疗保险", "Resident medical"),
    "occupational_injury": Message("职业伤害保障", "Occupational injury"),
    "commercial_pension": Message("专属商业养老保险", "Commercial pension"),
}
ACCOUNT_KINDS = {
    "individual_account": Message("个人账户", "Individual account"),
    "pooled_entitlement": Message("统筹权益", "Pooled-fund entitlement"),
}
SCENARIOS = {
    "current_law": Message("现行政策", "Today's rules"),
    "money_follows_person": Message("钱随人走（改革方案）", "Money follows the person (reform)"),
}


def label(table: dict[str, Message], key: str) -> Message:
    return table.get(key, Message(key, key))


# the agency console (经办控制台)
CONSOLE_MESSAGES: dict[str, Message] = {
    "refused": Message("登录名或密码不正确。", "The login name or password is not valid."),
    "approve": Message("已批准转出，资金已转入清算账户。", "Approved: the money is in clearing."),
    "accept": Message("已接收转入，资金已记入参保人账户。", "Accepted: the money is in the worker's accounts."),
    "complete": Message("已办结，参保关系已转入本地。", "Completed: the worker is now insured here."),
    "reject": Message("已退回，已转出的资金退回原地。", "Rejected: any money released has gone back."),
    "reason": Message("请填写退回原因（1至200个字符）。", "Give the reason for rejecting (1 to 200 characters)."),
    "search": Message("请输入参保人编号或脱敏身份证号（如 44****************）。", "Enter a worker id or a masked resident id (such as 44****************)."),
    "not-found": Message("未找到，或不属于本地区。", "Not found, or not of this region."),
}  # fmt: skip
TRANSFER_STATES = {
    "requested": Message("待转出地批准", "Requested: waiting for the old region"),
    "approved": Message("已批准，待转入地接收", "Approved: waiting for the new region"),
    "accepted": Message("已接收，待办结", "Accepted: waiting to be completed"),
    "completed": Message("已办结", "Completed"),
    "rejected": Message("已退回", "Rejected"),
    "expired": Message("已逾期失效", "Expired"),
}
TRANSFER_STEPS = {
    "approve": Message("批准转出", "Approve"),
    "accept": Message("接收转入", "Accept"),
    "complete": Message("办结", "Complete"),
    "reject": Message("退回", "Reject"),
}
TRANSFER_KINDS = {
    "move": Message("转移", "Move"),
    "continue": Message("接续", "Continue"),
    "gather": Message("归集", "Gather"),
    "claim": Message("待遇领取地转入", "To the paying region"),
}
FUND_KINDS = {
    "pooled_fund": Message("统筹基金", "Pooled fund"),
    "pooled_entitlement": Message("统筹权益（参保人合计）", "Pooled entitlements (workers)"),
    "individual_account": Message("个人账户（参保人合计）", "Individual accounts (workers)"),
    "clearing": Message("清算", "Clearing"),
    "collection": Message("征收", "Collection"),
    "opening": Message("期初", "Opening"),
    "payable": Message("应付待遇", "Benefits payable"),
}

# the pay page (缴费): a refusal's reason -> its sentences ({placeholders} from the refusal)
PAY_MESSAGES = {
    "future": Message("{month}尚未到来，不能提前缴费。", "{month_en} has not come yet; pay it when it comes."),
    "too-early": Message("不能补缴{month}：灵活就业人员可补缴{earliest}及以后的月份。", "{month_en} cannot be paid now: missed months may be paid from {earliest_en} on."),
    "paid": Message("{month}已经缴过费，无需重复缴纳。", "{month_en} is already paid; it is not paid twice."),
    "no-parameters": Message("参保地尚未公布{month}的缴费基数。", "Your region has not published the bounds for {month_en}."),
    "out-of-bounds": Message("缴费基数须在{floor}至{ceiling}之间（{month}）。", "The base must be from {floor} to {ceiling} for {month_en}."),
    "base-format": Message("请按元填写缴费基数，如 6000 或 6000.50。", "Enter the base in yuan, such as 6000 or 6000.50."),
    "month-format": Message("请选择要缴费的月份。", "Choose the month to pay."),
    "used": Message("这张表单已用于另一笔缴费，请重新打开缴费页面。", "This form was already used for another payment; open the pay page again."),
}  # fmt: skip
# the move page (转移接续)
MOVE_MESSAGES = {
    "requested": Message("转移申请已提交，请等待转出地经办机构批准。", "Your request is in: the agency of your region approves it next."),
    "region-format": Message("请填写转入地的6位行政区划代码，如 330100（杭州市）。", "Enter the 6-digit code of the region to move to, such as 330100 (Hangzhou)."),
}  # fmt: skip
TRANSFER_EVENTS = {
    "requested": Message("已申请", "Requested"),
    "approved": Message("转出地已批准", "Approved by the old region"),
    "accepted": Message("转入地已接收", "Accepted by the new region"),
    "completed": Message("已办结", "Completed"),
    "rejected": Message("已退回", "Rejected"),
    "expired": Message("已逾期失效", "Expired"),
}

# the page's language (界面语言): both languages are always on the page, the chosen one first
LANGUAGES = ("zh", "en")
LANGUAGE_COOKIE = "suiren_lang"
ACCEPT_LANGUAGE_CHARS_MAX = 256
CHROME = {
    "zh": {"html": "zh-CN", "other": "en", "skip": "跳到正文", "menu": "主菜单",
           "switch": "English", "switch_to": "en",
           "footer": "随人：钱随人走的灵活就业社会保险。"},
    "en": {"html": "en", "other": "zh-CN", "skip": "Skip to content", "menu": "Main menu",
           "switch": "中文", "switch_to": "zh",
           "footer": "Suiren: portable social insurance for flexible workers."},
}  # fmt: skip


def language(chosen: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The page's language: ``?lang=`` first, then the cookie a switch set, then the browser's
    first choice in ``Accept-Language`` (English only if it prefers English); Chinese else."""
    for given in (chosen, cookie):
        if given in LANGUAGES:
            return str(given)
    best, best_q = "zh", -1.0
    for part in (accept_language or "")[:ACCEPT_LANGUAGE_CHARS_MAX].split(","):
        tag, _, rest = part.strip().partition(";")
        q = 1.0
        if rest.strip().startswith("q="):
            try:
                q = float(rest.strip()[2:])
            except ValueError:
                continue
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and q > best_q:
            best, best_q = primary, q
    return best
