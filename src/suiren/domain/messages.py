"""Messages for people in Chinese (zh-CN) and English: one catalogue, keyed by message code.

A user error (``errors.SuirenError``) is raised with a ``Text`` — ``text("month.form",
shown="'2026-13'")`` — rather than a sentence in one language: its ``message`` is the English
(the CLI's ``error:`` line, a file's refused-row reason, a log), its ``message_zh`` the Chinese
(the CLI prints it first; the API's problem ``detail`` is in the caller's language, as its
``title`` is). The two templates of a code take the same ``{parameters}``; a parameter that is
itself a ``Text`` (a noun, the form a value must have) is put in each language's own half.
``tests/domain/test_messages.py`` fails on a code whose halves differ in parameters, a Chinese
half without Chinese, or a code no module uses.

A file's refused row says why with a ``Text`` too (``services.intake.RowError``: its report
carries ``reason`` and ``reason_zh``). The errors still raised with a plain English string
(``SuirenError("…")``) are the kinds ``tests/domain/test_messages.py`` lists, none that a
worker, a clerk or a platform meets (a parameter file's checks, a programming error, the
portal's own sentence keys); a new one fails that test. A code here is added when a message
moves over, never two sentences joined by hand.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Text:
    """One message in both languages."""

    zh: str
    en: str

    def joined(self) -> str:
        """Both in one line, Chinese first: for a single text field (a file's reason column)."""
        return f"{self.zh} / {self.en}"

    def fields(self, key: str = "message") -> dict[str, str]:
        """A record's fields for it, as an explanation's step carries its name: ``key`` both
        in one line (Chinese first), ``key_zh`` and ``key_en`` each alone."""
        return {key: self.joined(), f"{key}_zh": self.zh, f"{key}_en": self.en}


# code -> (zh-CN template, English template)
CATALOGUE: dict[str, tuple[str, str]] = {
    # --- the form of a value typed on the command line (cli/options.py) ------------------------
    "value.not-text": ("{name} 应为文本", "{name} must be text"),
    "value.refused": (
        "{name} 须为：{expected}；收到 {shown}{hint}",
        "{name} must be {expected}, got {shown}{hint}",
    ),
    "value.hint-digits": (
        "；请用半角数字 0-9 输入（全角或其他非 ASCII 数字不予识别）",
        "; type the digits as ASCII 0-9 (a full-width or other non-ASCII digit is not read)",
    ),
    "value.hint-space": ("；请去掉前后的空白", "; remove the whitespace around it"),
    "value.text-too-long": (
        "{name} 最多 {chars_max} 个字符，收到 {chars}",
        "{name} has at most {chars_max} characters, got {chars}",
    ),
    "value.text-not-printable": (
        "{name} 应为一行可打印的文字，其中含有 {char}",
        "{name} is one line of printable text; it contains {char}",
    ),
    "value.not-a-file": ("{name}：{path} 不是文件", "{name}: {path} is not a file"),
    "value.cannot-read": (
        "{name}：无法读取 {path}：{reason}；未写入任何内容",
        "{name}: cannot read {path}: {reason}; nothing was written",
    ),
    "value.cannot-write": (
        "{name}：无法写入 {shown}（其所在文件夹须存在且可写）",
        "{name}: cannot write {shown} (its folder must exist and be writable)",
    ),
    # what a value must be (the {expected} of value.refused)
    "expect.id": (
        "{what}（1–{chars_max} 个 ASCII 字母、数字或 ._:/- 字符）",
        "{what}: 1–{chars_max} ASCII letters, digits and ._:/-",
    ),
    "expect.worker": (
        "人员编号，如 W3F2A9C01B7D4（1–{chars_max} 个 ASCII 字母和数字）",
        "a worker id such as W3F2A9C01B7D4 (1–{chars_max} ASCII letters and digits)",
    ),
    "expect.month": (
        "YYYY-MM 格式的月份（{year_min} 至 {year_max} 年）",
        "YYYY-MM, a month from {year_min} to {year_max}",
    ),
    "expect.day": (
        "YYYY-MM-DD 格式的日期（{year_min} 至 {year_max} 年）",
        "YYYY-MM-DD, a day from {year_min} to {year_max}",
    ),
    "expect.real-day": (
        "YYYY-MM-DD 格式且实际存在的日期（{year_min} 至 {year_max} 年）",
        "YYYY-MM-DD, a day from {year_min} to {year_max} that exists",
    ),
    "expect.year": (
        "四位 ASCII 数字的年份（{year_min} 至 {year_max}）",
        "a year of four ASCII digits from {year_min} to {year_max}",
    ),
    "expect.yuan": (
        "以元为单位的正数金额，不超过 {most}，最多两位小数，如 6000 或 6,000.50（逗号只用作三位一组的"
        "千位分隔）",
        "a positive amount in yuan up to {most} with at most two decimals, such as 6000 or"
        " 6,000.50 (a comma only between groups of three digits)",
    ),
    "expect.rate": (
        "{minimum} 至 {maximum} 之间、最多四位小数的数，如 {example}",
        "a decimal from {minimum} to {maximum} with at most four places, such as {example}",
    ),
    "expect.host": (
        "IP 地址（127.0.0.1、::1）或 localhost",
        "an IP address (127.0.0.1, ::1) or localhost",
    ),
    "expect.port": (
        "1 至 65535 的端口号（ASCII 数字）",
        "a port number from 1 to 65535 in ASCII digits",
    ),
    "expect.count": (
        "{minimum} 至 {maximum} 的整数（ASCII 数字）",
        "a whole number from {minimum} to {maximum} in ASCII digits",
    ),
    "expect.region": (
        "六位 ASCII 数字的行政区划代码（GB/T 2260）",
        "a region code of six ASCII digits (GB/T 2260)",
    ),
    "expect.resident-id": (
        "18 位公民身份号码：17 位 ASCII 数字加一位校验码（数字或 X）",
        "a resident id of 18 characters: 17 ASCII digits and a check digit or X",
    ),
    "expect.choice": ("以下之一：{choices}", "one of {choices}"),
    "expect.path": ("1–{chars_max} 个字符的文件路径", "a file path of 1–{chars_max} characters"),
    # the ids a command takes (the {what} of expect.id)
    "noun.id": ("编号", "an id"),
    "noun.payment-id": ("缴费编号", "a payment id"),
    "noun.reversal-id": ("红冲编号", "a reversal id"),
    "noun.month-to-reverse": ("要冲销的缴费月份", "the month to reverse"),
    "noun.transfer-id": ("转移编号", "a transfer id"),
    "noun.gathering-id": ("归集编号", "a gathering id"),
    "noun.login-name": ("登录名", "a login name"),
    "noun.region-code": ("行政区划代码", "a region code"),
    "noun.scope": ("行政区划代码或平台编号", "a region code or platform id"),
    "noun.key-id": ("密钥编号", "a key id"),
    "noun.platform-id": ("平台编号", "a platform id"),
    "noun.transaction-id": ("交易编号", "transaction id"),
    # --- ids and memos (ledger/transaction.py; {what} is the id's noun) --------------------------
    "id.form": (
        "{what} {shown} 应为 1–{chars_max} 个 ASCII 字母、数字或 ._:/- 字符",
        "{what} {shown} must be 1–{chars_max} characters of ASCII letters, digits and ._:/-",
    ),
    "id.too-long": ("{what}最多 {chars_max} 个字符", "{what} has at most {chars_max} characters"),
    "id.reserved": (
        "{what}不得以 {prefixes} 开头（系统自用的编号）",
        "{what} may not start with {prefixes} (the system's own ids)",
    ),
    "transfer.id-made": (
        "转移编号 {shown} 是系统自动生成的转移所用的形式（归集的 …/行政区划代码，红冲后随人转移的"
        " …/follow 或 follow/…），请另选编号",
        "transfer id {shown} has the form of the transfers the system makes (a gathering's"
        " …/REGION, a reversal's follow-up …/follow or follow/…); choose another",
    ),
    "id.month-like": (
        "编号 {shown} 的结尾与缴费月份的编号相同（/YYYY-MM），请另选编号",
        "id {shown} ends like a contribution month's (/YYYY-MM); choose another",
    ),
    "memo.too-long": ("备注最多 {chars_max} 个字符", "a memo has at most {chars_max} characters"),
    "memo.control": (
        "备注或理由须为一行可打印的文字：不得含有控制字符或格式字符（换行、转义、文字方向控制符等）",
        "a memo or a reason is one line of printable text: no control or format character (a"
        " line break, an escape, a direction override)",
    ),
    # --- amounts (domain/money.py; {what} names the field or option) ---------------------------
    "noun.amount": ("金额", "amount"),
    "amount.float": (
        "{what} 须为十进制字符串或精确数值，不能是二进制浮点数（{shown}）；解析 JSON 时请用"
        ' parse_float=Decimal，或传入 "123.45" 这样的字符串',
        "{what} must be a decimal string or an exact number, not a binary float ({shown});"
        ' parse JSON with parse_float=Decimal or pass a string such as "123.45"',
    ),
    "amount.not-finite": (
        "{what} 须为有限的数，收到 {value}",
        "{what} must be a finite number, got {value}",
    ),
    "amount.form": (
        '{what} 须为十进制数，如 "123.45" 或 "1,234.50"（ASCII 数字，逗号只用作三位一组的千位分隔），'
        "收到 {shown}",
        '{what} must be a decimal number such as "123.45" or "1,234.50" (ASCII digits, a comma'
        " only between groups of three), got {shown}",
    ),
    "amount.type": (
        "{what} 须为数值或十进制字符串，收到 {kind}",
        "{what} must be a number or a decimal string, got {kind}",
    ),
    "amount.places": (
        "{what} 的小数超过两位（分）：{shown}",
        "{what} has more than two decimal places (分): {shown}",
    ),
    "amount.range": ("{what} 超出范围：{shown}", "{what} is out of range: {shown}"),
    # --- a worker looked up by id (services/workers.py, contributions.py) -----------------------
    "worker.unknown": ("没有编号为 {shown} 的人员", "no worker with id {shown}"),
    "worker.no-such-resident": (
        "没有以此身份号码登记的人员",
        "no worker is registered with this resident id",
    ),
    # --- enrolment (services/workers.py) ---------------------------------------------------------
    "enrol.too-young": (
        "灵活就业人员年满 {youngest} 周岁方可参保，此人现年 {age} 周岁（劳动法 第十五条）",
        "a flexible worker enrols from the age of {youngest}; this person is {age} (劳动法 第十五条)",
    ),
    "enrol.past-retirement-age": (
        "此人已于 {month} 达到法定退休年龄；首次参保登记限于劳动年龄内的人员（缴费年限不足的人员"
        "继续其原有的参保关系）",
        "this person reached the statutory retirement age in {month}; a first enrolment is for"
        " working age (a worker short of the minimum years continues the enrolment they have)",
    ),
    "enrol.schemes": ("参保登记的险种为 {schemes}", "enrolment is in {schemes}"),
    "enrol.hukou-required": (
        "按 {region} 在该日的规定，灵活就业人员须具有本地户籍方可参保（enrolment.hukou_required）",
        "in {region} a flexible worker may enrol only with a local hukou on this date"
        " (enrolment.hukou_required)",
    ),
    "enrol.hukou-differs": (
        "人员 {worker} 登记的户籍地为 {recorded}，与所填 {given} 不符；户籍变更不在参保登记中办理",
        "worker {worker} is registered with hukou region {recorded}, not {given}; a change of"
        " hukou is not made by enrolling",
    ),
    "enrol.elsewhere": (
        "人员 {worker} 已在 {region} 参加 {scheme}；变更参保地须办理转移接续",
        "worker {worker} is already enrolled in {scheme} in region {region}; moving needs a"
        " transfer (转移接续)",
    ),
    # --- a contribution month refused (services/contributions.py: one payment or a file's row) --
    "noun.payment-and-month": ("缴费编号和月份", "payment id and month"),
    "noun.worker-and-month": ("人员和月份", "worker and month"),
    "payment.earlier-in-file": (
        "本文件前面的行已有同样的缴费编号和月份：同一笔缴费重复出现，未重复入账",
        "the same payment id and month are on an earlier row of this file: a payment listed"
        " twice is not posted twice",
    ),
    "payment.twice": (
        "同一批次中同样的{what}出现了两次",
        "the same {what} appear twice in one batch",
    ),
    "worker.not-enrolled": (
        "人员 {worker} 未参加 {scheme}，请先参保登记",
        "worker {worker} is not enrolled in {scheme}; enrol first",
    ),
    "payment.range-reversed": (
        "缴费期间的结束月份（{last}）早于开始月份（{first}）",
        "the range ends ({last}) before it starts ({first})",
    ),
    "payment.range-too-long": (
        "每笔缴费最多 {most} 个月，收到 {months} 个月",
        "at most {most} months per payment, got {months}",
    ),
    "payment.schemes": ("可缴费的险种为 {schemes}", "contributions are taken for {schemes}"),
    "payment.batch-too-large": (
        "每批最多 {most} 个缴费月份，收到 {rows} 个",
        "at most {most} contribution months per batch, got {rows}",
    ),
    "payment.moved-meanwhile": (
        "缴费办理期间，人员 {worker} 的参保关系已转至 {region}；本次未缴费，请重新提交",
        "worker {worker}'s insurance moved to {region} while this payment was being made;"
        " nothing was paid, send it again",
    ),
    "payment.future": (
        "{month} 尚未到来，请到时再缴",
        "month {month} is in the future; pay it when it comes",
    ),
    "payment.back-payment": (
        "不允许补缴 {month}：灵活就业人员可补缴 {earliest} 及以后的月份",
        "back-payment (补缴) of {month} is not allowed; flexible workers may pay missed months"
        " from {earliest} on",
    ),
    "payment.no-parameters": (
        "{region} 没有 {month} 的缴费参数",
        "region {region} has no contribution parameters for {month}",
    ),
    "payment.base-out-of-bounds": (
        "缴费基数 {base} 元超出 {region} {month} 的允许范围：{floor} 至 {ceiling} 元",
        "base {base} yuan is outside the allowed range for {month} in {region}: {floor} to"
        " {ceiling} yuan",
    ),
    "payment.conflict": (
        "缴费编号 {shown} 已用于另一笔缴费{what}；新的缴费请用新的编号",
        "payment id {shown} was already used for another payment{what}; use a new id for a new"
        " payment",
    ),
    "payment.conflict-what": (
        "（{scheme}，人员 {worker}，{month}，基数 {base}）",
        " ({scheme}, worker {worker}, {month}, base {base})",
    ),
    "payment.already-paid": (
        "人员 {worker} 的 {month} 已在 {scheme} 缴费（缴费 {payment}）；如需重缴，请先红冲",
        "{month} of worker {worker} is already paid in {scheme} (payment {payment}); reverse it"
        " first to pay it again",
    ),
    "payment.month-paid": ("{month} 已缴费", "{month} is already paid"),
    "payment.moving-out": (
        "参保关系正在从 {region} 转出（{transfer}），请在转移办结后缴费",
        "the insurance is being transferred out of {region} ({transfer}); pay after the"
        " transfer is completed",
    ),
    "payment.base-outside": (
        "缴费基数超出 {region} {month} 的上下限",
        "the base is outside {month}'s bounds in {region}",
    ),
    "payment.moving": (
        "人员 {worker} 正在从 {region} 转出（{transfer}），请在转移办结后缴费",
        "worker {worker} is being transferred out of {region} ({transfer}); pay after the"
        " transfer is completed",
    ),
    "payment.in-history": (
        "人员 {worker} 的 {month} 已由从旧系统导入的历史记录记载（{kind}，{region}），一个月份只记一次",
        "{month} of worker {worker} is already recorded by the history imported from the earlier"
        " system ({kind}, {region}); a month is recorded once",
    ),
    "payment.no-retirement-rule": (
        "没有 {born} 出生人员的退休规则，不能判断是否已退休（{error}）",
        "no retirement rule for a worker born in {born}: whether they are a pensioner cannot be"
        " judged ({error})",
    ),
    "payment.past-retirement": (
        "{month} 不能缴费：职工 {worker} 最晚于 {latest} 退休，已累计缴费 {months} 个月，达到最低"
        "缴费年限 {years} 年，应按月领取基本养老金（社会保险法 第十六条）",
        "{month} cannot be paid: worker {worker} retires in {latest} at the latest and has"
        " {months} contribution months, the minimum of {years} years: the pension is paid from"
        " then (Social Insurance Law art. 16); only a worker short of the minimum pays on until"
        " it is reached (延长缴费)",
    ),
    # --- names of recorded values the CLI shows (cli.context.named) -----------------------
    "stint-kind.paid": ("实际缴费", "paid"),
    "stint-kind.deemed": ("视同缴费", "deemed"),
    "stint-kind.temporary": ("临时账户", "temporary"),
    "account-kind.individual-account": ("个人账户", "individual account"),
    "account-kind.pooled-entitlement": ("统筹权益", "pooled-fund entitlement"),
    "month-status.paid": ("已缴", "paid"),
    "month-status.reversed": ("已红冲", "reversed"),
    "actor.platform": ("平台", "platform"),
    "actor.agency": ("经办机构", "agency"),
    "actor.analyst": ("分析人员", "analyst"),
    "actor.auditor": ("审计人员", "auditor"),
    # --- transfers (转移接续: services/transfers.py, transfer_quotes.py, gathering.py) ----------
    "transfer-state.requested": ("已申请", "requested"),
    "transfer-state.approved": ("转出地已同意", "approved"),
    "transfer-state.accepted": ("转入地已接收", "accepted"),
    "transfer-state.completed": ("已办结", "completed"),
    "transfer-state.rejected": ("已拒绝", "rejected"),
    "transfer-state.expired": ("已逾期失效", "expired"),
    "transfer-step.approve": ("转出地同意（approve）", "approve"),
    "transfer-step.accept": ("转入地接收（accept）", "accept"),
    "transfer-step.complete": ("办结（complete）", "complete"),
    "transfer.unknown": ("没有编号为 {shown} 的转移", "no transfer {shown}"),
    "transfer.moved-meanwhile": (
        "申请办理期间，人员 {worker} 的参保关系已发生变动，请重新提交",
        "worker {worker}'s insurance moved while this request was made; send it again",
    ),
    "transfer.same-region": (
        "该人员已在 {region} 参保；转移接续须转往其他地区",
        "the worker is already insured in {region}; a transfer needs another region",
    ),
    "transfer.id-used": (
        "转移编号 {shown} 已用于另一笔转移",
        "transfer id {shown} was already used for another transfer",
    ),
    "transfer.open": (
        "人员 {worker} 已有一笔正在办理的转移（{transfer}）",
        "worker {worker} already has an open transfer ({transfer})",
    ),
    "transfer.wrong-state": (
        "转移 {transfer} 的状态为“{state}”；{step}须在“{needed}”状态下办理{next}",
        "transfer {transfer} is {state}; {step} needs it to be {needed}{next}",
    ),
    "transfer.next-step": ("（下一步：{step}）", " (next step: {step})"),
    "transfer.reason-blank": (
        "拒绝理由不能只有空白：请写明理由",
        "a rejection's reason cannot be blank: say why",
    ),
    "transfer.reject-state": (
        "转移 {transfer} 的状态为“{state}”；只有已申请或转出地已同意的转移可以拒绝",
        "transfer {transfer} is {state}; only a requested or approved one can be rejected",
    ),
    "transfer.nothing-paid": (
        "人员 {worker} 在 {region} 没有缴费记录，无可转移",
        "worker {worker} has paid no contributions in {region}; there is nothing to transfer",
    ),
    "transfer.index-unpriced": (
        "{region} {month} 的记录只有缴费指数，而随人没有 {region} {year} 年的平均工资：无法换算"
        "出计算 12% 统筹基金所依据的缴费基数；请先添加该工资参数",
        "{month} in {region} was recorded as an index only and Suiren has no average wage of"
        " {region} for {year}: the base that the 12% share counts cannot be priced; add the"
        " wage parameter first",
    ),
    "gather.id-form": (
        "归集编号为 1–{chars_max} 个字母、数字或 ._:/- 字符",
        "a gathering id is 1–{chars_max} characters of letters, digits and ._:/-",
    ),
    "gather.nothing": (
        "人员 {worker} 无需归集：没有临时账户，参保关系也已在待遇领取地 {region}（{why}）",
        "nothing to gather for worker {worker}: no temporary account and the insurance"
        " relation is already in the paying region {region} ({why})",
    ),
    "gather.before-retirement": (
        "归集在退休时办理：人员 {worker} 自 {allowed} 起方可退休（{age} 周岁），{day} 不能办理",
        "gathering (归集) is at retirement: worker {worker} may retire from {allowed} on (aged"
        " {age}), not on {day}",
    ),
    "gather.id-used": (
        "归集编号 {shown} 已用于另一人员",
        "gathering id {shown} was already used for another worker",
    ),
    "gather.other-target": (
        "归集 {shown} 转往 {region}，而非 {asked}；请使用新的编号",
        "gathering {shown} goes to {region}, not {asked}; use a new id",
    ),
    "gather.not-in-province": (
        "{region} 不在待遇领取地所在省份 {province}；养老金由该省发放",
        "{region} is not in the paying province {province}; the pension is paid there",
    ),
    # --- reversals (红冲: services/reversals.py) -------------------------------------------------
    "reverse.id-form": (
        "红冲编号不得以系统保留的前缀开头，也不得以月份结尾（/YYYY-MM）",
        "a reversal id may not start with a system prefix or end like a month (/YYYY-MM)",
    ),
    "reverse.id-used": (
        "红冲编号 {shown} 已用于红冲 {other}",
        "reversal id {shown} was already used for {other}",
    ),
    "reverse.already": (
        "{tx} 已被红冲（红冲编号 {by}）",
        "{tx} has already been reversed (by {by})",
    ),
    "reverse.moved-meanwhile": (
        "红冲 {tx} 期间，人员 {worker} 的参保关系已发生变动；请重新提交红冲",
        "worker {worker}'s insurance moved while {tx} was being reversed; send the reversal again",
    ),
    "reverse.part-reversed": (
        "{tx} 中归户籍地的部分 {part} 已单独红冲（{by}）；{tx} 不能再整体红冲",
        "{part} of {tx} was reversed on its own (by {by}); {tx} cannot be reversed as a whole"
        " any more",
    ),
    "reverse.open-transfer": (
        "{tx} 是人员 {worker} 在 {region} 的最后一个缴费月份，该人员已离开该地：其在该地的剩余"
        "权益将在正在办理的转移 {transfer} 办结后随其转至 {to}；届时再红冲此月份",
        "{tx} is the last month of worker {worker} in {region}, which they have left: what"
        " remains there follows them to {to}, after their open transfer {transfer} is done;"
        " reverse the month then",
    ),
    "reverse.follow-id-used": (
        "本次红冲须用转移编号 {shown} 将 {region} 的剩余权益转至 {to}，但该编号已被使用；请使用"
        "其他红冲编号",
        "transfer id {shown}, which this reversal needs to move what remains in {region} to"
        " {to}, is already used; use another reversal id",
    ),
    "reverse.unknown": ("没有可红冲的缴费月份 {shown}", "no contribution month {shown} to reverse"),
    "reverse.hukou-part": (
        "{tx} 是缴费 {month} 中归户籍地的部分；请改为红冲该月缴费 {month}（将同时冲销两部分）",
        "{tx} is the part of the contribution {month} held at the hukou region; reverse the"
        " month's contribution {month} instead (that reverses both)",
    ),
    "reverse.not-a-month": (
        "{tx} 是 {kind} 记录，不是缴费月份：{instead}",
        "{tx} is a {kind} entry, not a contribution month: {instead}",
    ),
    "reverse-instead.transfer": (
        "转移的某一步骤应在转入地接收前以拒绝该转移的方式撤销（`suiren transfer reject ID --reason"
        " …`）；已办结的转移不可撤销",
        "a transfer step is undone by rejecting the transfer before it is accepted (`suiren"
        " transfer reject ID --reason …`); a completed transfer is final",
    ),
    "reverse-instead.settlement": (
        "清算由下一清算窗口更正，不予红冲",
        "a settlement is corrected by the next settlement window, never reversed",
    ),
    "reverse-instead.interest": (
        "利息通过调整计息更正，不予红冲",
        "interest is corrected by an adjustment run, never reversed",
    ),
    "reverse-instead.reversal": (
        "该记录本身即为红冲，不可撤销；请用新的缴费编号重新缴纳该月",
        "it is itself a reversal, which is final; pay the month again with a new payment id",
    ),
    "reverse-instead.enrolment": (
        "参保登记通过转移接续变更，不予红冲",
        "an enrolment is changed by a transfer, never reversed",
    ),
    "reverse-instead.receipt": (
        "回执记录的是一个批次的处理结果；请红冲该批次入账的月份",
        "a receipt records what a batch did; reverse the months it posted",
    ),
    "reverse-instead.provisional": (
        "该记录载明一个批次的月份所依据的暂用数据；请红冲这些月份",
        "it records the provisional figures a batch's months rest on; reverse the months",
    ),
    "reverse-instead.contribution": (
        "请逐月红冲：月份编号为 PAYMENT-ID/YYYY-MM",
        "reverse a single month: its id is PAYMENT-ID/YYYY-MM",
    ),
    "reverse-instead.other": ("只有缴费月份可以红冲", "only a contribution month can be reversed"),
    "reverse.money-left": (
        "{tx} 的资金已转出 {region}（{kind} {transfer}，转至 {to}）；不能在此红冲，应由现持有该资金"
        "的经办机构以调整方式更正",
        "the money of {tx} has left {region} ({kind} {transfer} to {to}); it cannot be reversed"
        " here — the agency that holds it now corrects it by an adjustment",
    ),
    # --- settlement, medical transfers, interest (services/settlement.py, medical.py, interest.py)
    "settlement.window-open": (
        "清算窗口 {window} 尚未结束；请自次日起关闭",
        "window {window} is not over yet; close it from the next day on",
    ),
    "medical.nothing": (
        "人员 {worker} 在 {region} 没有职工医保记录或资金，无可转移",
        "worker {worker} has no employee medical record or money in {region}; there is nothing"
        " to transfer",
    ),
    "interest.year": (
        "记账利息只能计入 {first} 至 {last} 年中已结束的年度，收到 {year}",
        "interest can be credited for a year from {first} to {last} (a year that has ended),"
        " got {year}",
    ),
    # --- platforms' declarations (用工声明: services/platforms.py) --------------------------------
    "platform.id-form": (
        "平台编号为 1 至 64 个 ASCII 字母、数字或 -",
        "a platform id is 1 to 64 ASCII letters, digits and -",
    ),
    "engage.after-today": (
        "{what} {day} 晚于今天（{today}）：用工声明记录的是已经发生的情况",
        "{what} {day} is after today ({today}): a declaration records what is",
    ),
    "engage.before-rules": (
        "{since} 早于随人所存劳动年龄规则的起始日期（劳动法 第十五条）",
        "{since} is before the rules on working age that Suiren holds (劳动法 第十五条)",
    ),
    "engage.too-young": (
        "{since} 时此人 {age} 周岁：不得招用未满 {youngest} 周岁的人员（劳动法 第十五条）",
        "on {since} this person was {age}: no one under {youngest} may be engaged (劳动法"
        " 第十五条)",
    ),
    "engage.relation": ("relation 应为以下之一：{choices}", "relation: one of {choices}"),
    "engage.change-before": (
        "当前用工自 {since} 起；变更自该日或之后生效",
        "the engagement runs from {since}: a change takes effect on that day or later",
    ),
    "engage.after-last": (
        "上一段用工至 {until} 结束：新的用工须在其后开始",
        "the last engagement ran to {until}: a new one starts after it",
    ),
    "engage.not-declared": (
        "平台 {platform} 未申报过人员 {worker}",
        "platform {platform} has not declared worker {worker}",
    ),
    "engage.ended": (
        "该用工已于 {until} 结束；如有新的用工，请重新申报该人员",
        "the engagement ended on {until} already; declare the worker again for a new one",
    ),
    "engage.end-before-start": (
        "该用工始于 {since}：其最后一天不能早于该日",
        "the engagement began on {since}: its last day is not before it",
    ),
    # --- clerks, logins and sessions (services/clerks.py, logins.py; api/auth.py) ---------------
    "clerk.login-form": (
        "登录名为 3 至 {chars_max} 个 a-z、0-9、.、_、- 字符，以字母或数字开头",
        "a login name has 3 to {chars_max} of a-z 0-9 . _ -, starting with a letter or digit",
    ),
    "clerk.region-level": (
        "经办人员隶属于省、地级市或 000000（全国），不能隶属于 {name}（{code}）",
        "a clerk works for a province, a city or 000000 (national), not {name} ({code})",
    ),
    "password.length": (
        "密码为 {chars_min} 至 {chars_max} 个字符",
        "a password has {chars_min} to {chars_max} characters",
    ),
    "clerk.exists": (
        "已有登录名为 {shown} 的经办人员，请另选登录名",
        "there is already a clerk {shown}; choose another login name",
    ),
    "clerk.unknown": ("没有登录名为 {shown} 的经办人员", "no clerk {shown}"),
    "clerk.tampered": (
        "经办人员 {shown} 的记录与日志所载不符（在账本之外被改动）：`suiren audit verify` 可列出"
        "差异",
        "clerk {shown} is not as the journal recorded it (changed behind the ledger's back):"
        " `suiren audit verify` names what differs",
    ),
    "clerk.refused": ("登录名或密码不正确", "the login name or password is not valid"),
    "login.refused": (
        "身份号码、验证码或密码不正确",
        "the resident id, code or password is not valid",
    ),
    "login.code-refused": (
        "验证码不正确或已过期：请重新获取",
        "the one-time code is not valid or has expired: ask for a new one",
    ),
    "login.code-resend": (
        "验证码刚刚发出：请 {seconds} 秒后再获取新的验证码",
        "a code was just sent: ask for another in {seconds} s",
    ),
    "login.code-daily": (
        "今天已为此身份号码或手机号发送 {count} 条验证码，已达每日上限：请明天（北京时间零点后）再获取",
        "{count} codes were sent for this login today, the most a day: ask again tomorrow"
        " (after midnight, Beijing time)",
    ),
    "login.locked": (
        "失败次数过多：请 {minutes} 分钟后再试",
        "too many failed attempts: try again after {minutes} minutes",
    ),
    "login.session": (
        "会话无效或已过期，请重新登录",
        "the session is not valid or has expired; log in again",
    ),
    # --- API keys and credentials (api/auth.py, api/routes/common.py) ---------------------------
    "key.worker": (
        "劳动者凭验证码和密码登录，不发放 API 密钥",
        "workers log in (a code, then a password); they get no API key",
    ),
    "key.platform-scope": (
        "平台密钥须注明其平台编号（ASCII 字母、数字或 -）",
        "a platform key needs its platform id (ASCII letters, digits, -)",
    ),
    "key.label-too-long": (
        "标签最多 {chars_max} 个字符",
        "a label has at most {chars_max} characters",
    ),
    "key.unknown": ("没有编号为 {shown} 的 API 密钥", "no API key with id {shown}"),
    "auth.bearer": (
        "请发送 Authorization: Bearer <API 密钥>",
        "send Authorization: Bearer <API key>",
    ),
    "auth.refused": (
        "请发送 Authorization: Bearer <API 密钥>；此密钥无效",
        "send Authorization: Bearer <API key>; this one is not valid",
    ),
    "auth.changed": (
        "请求处理期间凭证已发生变更（经办人员的地区）；未写入任何内容",
        "the credentials changed while the request ran (a clerk's region); nothing was written",
    ),
    "auth.one-header": (
        "请只发送一个 Authorization 请求头",
        "send one Authorization header, not several",
    ),
    "login.too-many-requests": (
        "来自此地址的登录请求过多：请等候一分钟",
        "too many login requests from this address: wait a minute",
    ),
    # --- the API's own refusals (api/access.py, body.py, routes/) -------------------------------
    "noun.worker": ("人员", "worker"),
    "noun.transfer": ("转移", "transfer"),
    "noun.contribution-month": ("缴费月份", "contribution month"),
    "api.not-here": ("未找到{what} {shown}", "no {what} {shown} here"),
    "api.no-such": ("未找到该资源", "no such resource here"),
    "api.region-not-served": (
        "地区 {code} 不在此密钥的服务范围内",
        "region {code} is not one this key serves",
    ),
    "api.one-idempotency-key": (
        "请只发送一个 Idempotency-Key 请求头",
        "send one Idempotency-Key header, not several",
    ),
    "api.idempotency-key-form": (
        "Idempotency-Key 为 1 至 {chars_max} 个 A-Z、a-z、0-9、_、.、:、- 字符",
        "Idempotency-Key: 1 to {chars_max} of A-Z a-z 0-9 _ . : -",
    ),
    "api.raced": (
        "该请求与使用同一幂等键的另一请求同时到达；请重新发送",
        "the request raced another under the same key; send it again",
    ),
    "api.file-too-large": ("文件最多 {bytes_max} 字节", "a file has at most {bytes_max} bytes"),
    "api.content-type": ("Content-Type 应为以下之一：{choices}", "Content-Type: one of {choices}"),
    "api.cursor": ("不是本 API 给出的游标", "not a cursor this API gave"),
    "api.unknown-fields": (
        "未知的字段 {shown}；可用的字段为 {fields}",
        "unknown field(s) {shown}; the fields are {fields}",
    ),
    "api.file-worker-id": (
        "通过 API 发送的文件请以 worker_id 标明人员",
        "name workers by worker_id in a file sent to the API",
    ),
    "api.not-a-day": ("不是日期：{shown}", "not a day: {shown}"),
    "api.param-not-a-day": (
        "{name}：{value} 不是日期（YYYY-MM-DD）",
        "{name}: {value} is not a day (YYYY-MM-DD)",
    ),
    "api.body-not-utf8": ("请求体不是 UTF-8 文本", "the body is not UTF-8 text"),
    "api.body-cases": (
        "请求体须为 JSON 对象或对象数组",
        "the body must be a JSON object or an array of objects",
    ),
    "api.nul-path": ("路径中含有 NUL 字符（%00）", "the path holds a NUL character (%00)"),
    "api.nul-query": (
        "查询参数 {name} 中含有 NUL 字符（%00）",
        "the query parameter {name} holds a NUL character (%00)",
    ),
    "api.query-twice": (
        "查询参数 {name} 出现了两次；每个参数只发送一次",
        "the query parameter {name} is sent twice; send each once",
    ),
    "api.no-path": ("没有此路径", "Not Found"),
    "api.method": ("此路径不支持该方法（Allow 响应头列出了支持的方法）", "Method Not Allowed"),
    "api.request-too-large": (
        "请求体最多 {bytes_max} 字节",
        "a request body has at most {bytes_max} bytes",
    ),
    "api.content-length": (
        "Content-Length 应为字节数，而非 {shown}",
        "Content-Length must be a number of bytes, not {shown}",
    ),
    "api.unstorable": (
        "请求中有数据库无法存储的值；未写入任何内容",
        "the request holds a value the database cannot store; nothing was written",
    ),
    "api.database-refused": (
        "数据库拒绝了该请求；未写入任何内容",
        "the database refused the request; nothing was written",
    ),
    "api.internal": ("服务内部错误；未写入任何内容", "an internal error; nothing was written"),
    "api.kept-answer-unsealed": (
        "为此 Idempotency-Key 保存的答复与其封印不符（已在数据库中被改动），不予返回；请使用新的"
        " Idempotency-Key 重新发送请求（账本自身的编号保证同一笔缴费不会重复入账），并告知经办机构",
        "the answer kept for this Idempotency-Key does not match its seal (it was changed in the"
        " database) and is not served; send the request again with a new Idempotency-Key (the"
        " ledger's own ids keep a payment from being posted twice) and tell the agency",
    ),
    "api.idempotency-key-reused": (
        "此 Idempotency-Key 已随另一请求发送过；请使用新的幂等键",
        "this Idempotency-Key was sent with another request; use a new key",
    ),
    "body.not-json-type": (
        "请以 JSON 发送请求体，并设置 Content-Type: application/json（当前为：{kind}）",
        "send the body as JSON with Content-Type: application/json (not {kind})",
    ),
    "body.missing": (
        "请求须以一个 JSON 对象作为请求体",
        "the request needs a JSON object as its body",
    ),
    "body.not-object": ("请求体须为 JSON 对象（{{…}}）", "the body must be a JSON object ({{…}})"),
    "body.field": ("字段 {where}：{error}", "{where}: {error}"),
    "body.schema": ("请求不符合其格式：{error}", "{error}"),
    "body.key-twice": (
        "请求体的同一对象中 {shown} 出现了两次；每个字段只发送一次",
        "the body names {shown} twice in one object; send each field once",
    ),
    "body.constant": (
        "请求体含有 {name}，它不是 JSON 数字；请发送数字",
        "the body holds {name}, which is not a JSON number; send a number",
    ),
    "body.unfit": ("请求体的 {where} 含有 {what}", "the body's {where} holds {what}"),
    "json.integer-too-long": (
        "JSON 中的整数超过 {digits} 位",
        "an integer in the JSON has more than {digits} digits",
    ),
    "checkpoint.not-json": ("检查点文件不是 JSON", "the checkpoint file is not JSON"),
    "body.nul": ("NUL 字符（\\u0000）", "a NUL character (\\u0000)"),
    "body.surrogate": (
        "孤立的代理项（\\ud800-\\udfff），它不是字符",
        "a lone surrogate (\\ud800-\\udfff), which is not a character",
    ),
    "body.not-utf8": (
        "请求体不是 UTF-8 文本；请以 UTF-8 发送 JSON",
        "the body is not UTF-8 text; send JSON in UTF-8",
    ),
    "body.not-json": (
        "请求体不是有效的 JSON：{error}，位于第 {line} 行第 {column} 列",
        "the body is not valid JSON: {error} at line {line}, column {column}",
    ),
    "body.too-deep": ("请求体的 JSON 嵌套过深", "the body's JSON is nested too deeply"),
    "body.unreadable": (
        "请求体不是本 API 可读取的 JSON：{error}",
        "the body is not JSON this API reads: {error}",
    ),
    # --- a worker's pension estimate (services/career.py) ---------------------------------------
    "estimate.strict": (
        "方案 {scenario}：{said}（{code}）",
        "scenario {scenario}: {said} ({code})",
    ),
    "estimate.no-months": (
        "人员 {worker} 没有可据以测算养老金的缴费月份",
        "worker {worker} has no contribution months to estimate a pension from",
    ),
    "estimate.retire-age": (
        "退休月份 {retire} 时年龄为 {years} 岁 {months} 个月，计发月数表只有 {low} 至 {high} 岁：无法"
        "测算；请选择更接近法定退休年龄的月份",
        "retiring in {retire} is at {years} years {months} months, and the table of 计发月数 covers"
        " {low} to {high} only: no estimate; choose a month nearer the statutory retirement age",
    ),
    "estimate.paid-only-ahead": (
        "{paid_only} 只计已缴月份，不计今后的月份：{option} 是对今后月份的假设，不能同时给出",
        "{paid_only} counts the months paid so far and none ahead: {option}, an assumption"
        " about the months ahead, cannot be given with it",
    ),
    "estimate.retire-not-after-paid": (
        "退休月份 {retire} 不晚于最后一个缴费月份 {last_paid}：退休后所缴的月份不计为缴费",
        "the retirement month {retire} must come after the last month paid ({last_paid}): a"
        " month paid after retirement is no contribution",
    ),
    "estimate.no-index": (
        "缴费记录中没有可计算缴费指数的月份：随人没有 {lacking} 的平均工资（缴费指数按待遇领取地"
        "的工资计算），也没有记录的缴费指数",
        "no month of the career can be indexed: Suiren has no average wage of {lacking} (the"
        " index is against the paying region's wages) and no index was recorded",
    ),
    "assume.base-ratio": (
        "缴费基数比例须在 0.6 至 3 之间（社会平均工资的 60%–300%）",
        "the base ratio must be from 0.6 to 3 (60%–300% of the average wage)",
    ),
    "assume.wage-growth": (
        "工资增长率须在每年 -0.1 至 0.2 之间",
        "the wage growth must be from -0.1 to 0.2 a year",
    ),
    "assume.interest": (
        "记账利率须在每年 0 至 0.2 之间",
        "the interest rate must be from 0 to 0.2 a year",
    ),
    # --- retirement (policy/retirement.py) ------------------------------------------------------
    "retire.category": (
        "人员类别须为以下之一：{choices}；收到 {shown}",
        "category must be one of {choices}, got {shown}",
    ),
    "retire.sex": ("性别须为 'M' 或 'F'，收到 {shown}", "sex must be 'M' or 'F', got {shown}"),
    "retire.no-divisor": (
        "案例 {case}：退休年龄 {years} 岁 {months} 个月没有对应的计发月数（表中为 {low} 至 {high}"
        " 岁）；请给出 divisor_months",
        "case {case}: no 计发月数 for a retirement age of {years} years {months} months (the"
        " table covers {low} to {high}); give divisor_months",
    ),
    "parameter.no-value": (
        "参数 {path} 在 {day} 没有适用于地区 {region} 的取值（定义于 {source}）",
        "parameter {path} has no value on {day} for region {region} (defined in {source})",
    ),
    "parameter.excluded": (
        "参数 {path} 在 {day} 没有适用于地区 {region} 的取值：地区 {excluder} 当时的取值公布时不含"
        "该地区，该地区自己的取值未收录（定义于 {source}），不以 {excluder} 的取值代替",
        "parameter {path} has no value on {day} for region {region}: the value of region"
        " {excluder} then was published without it, and the region's own value is not in the"
        " parameters (defined in {source}); {excluder}'s value is not used in its place",
    ),
    # --- the ledger (store/ledger_repo.py) ------------------------------------------------------
    "ledger.id-twice": (
        "同一批次中同一交易编号出现了两次",
        "the same transaction id appears twice in one batch",
    ),
    "ledger.id-used": (
        "交易编号 {shown} 已用于另一笔交易；新的交易请使用新的编号",
        "transaction id {shown} was already used for a different transaction; use a new id for"
        " a new transaction",
    ),
    # --- the command line's own checks (cli/) ----------------------------------------------------
    "cli.enrol-file-excludes": (
        "--file 不与 --resident-id、--work-region 或 --hukou-region 同用",
        "--file takes no --resident-id, --work-region or --hukou-region",
    ),
    "cli.file-excludes": (
        "--file 不与 {options} 同用：文件自有其各列",
        "--file takes no {options}: the file has its own columns",
    ),
    "cli.with-file": ("{options} 须与 --file 同用", "{options} go with --file"),
    "cli.give": ("请给出 {options}（或 --file）", "give {options} (or --file)"),
    "cli.month-or-range": (
        "请给出 --month，或 --from（及 --to）",
        "give --month, or --from (and --to)",
    ),
    "cli.seed-only": ("--seed-only 须与 --demo 同用", "--seed-only goes with --demo"),
    "cli.transfer-show": (
        "请给出转移编号，或 --overdue / --expire",
        "give a transfer id, or --overdue / --expire",
    ),
    "checkpoint.not-a-file": ("检查点 {path} 不是文件", "the checkpoint {path} is not a file"),
    "checkpoint.too-large": (
        "检查点 {path} 过大，不是检查点文件",
        "the checkpoint {path} is too large to be a checkpoint",
    ),
    "checkpoint.not-utf8": (
        "检查点 {path} 无法按 UTF-8 文本读取",
        "the checkpoint {path} cannot be read as UTF-8 text",
    ),
    "password.line-too-long": ("密码行过长", "the password line is too long"),
    # --- a command line Typer (click) refuses (cli/usage.py; the English is click's own) ----
    "usage.no-such-option": ("没有选项 {option}", "No such option: {option}"),
    "usage.possible": ("{said}（可用的选项：{options}）", "{said} (Possible options: {options})"),
    "usage.missing-option": ("缺少选项 {name}", "Missing option {name}."),
    "usage.missing-arg": ("缺少参数 {name}", "Missing argument {name}."),
    "usage.no-such-command": ("没有命令 '{name}'", "No such command '{name}'."),
    "usage.missing-command": ("缺少命令", "Missing command."),
    "usage.extra": ("多余的参数（{args}）", "Got unexpected extra arguments ({args})"),
    "usage.needs-value": ("选项 '{option}' 须带一个值", "Option '{option}' requires an argument."),
    "usage.no-value": ("选项 '{option}' 不带值", "Option '{option}' does not take a value."),
    "usage.other": ("命令用法有误：{said}", "{said}"),
    "usage.help": ("用法见 {command}", "Try '{command}' for help."),
    "serve.port-in-use": (
        "端口 {port} 已被占用（另一个 suiren serve 或 make run？）：请用 --port 选择其他端口",
        "the port {port} is in use (another suiren serve, or make run?): choose another"
        " with --port",
    ),
    "serve.cannot-listen": (
        "无法在 {host} 的端口 {port} 上监听：{error}",
        "cannot listen on port {port} of {host}: {error}",
    ),
    "settings.some-variable": ("某个 SUIREN_ 变量", "a SUIREN_ variable"),
    "settings.unusable": ("{name} 不可用：{error}", "{name} is not usable: {error}"),
    "settings.database-url": (
        "不是数据库网址：应为 sqlite:///文件路径 或 postgresql://用户@主机/数据库",
        "not a database URL: give sqlite:///PATH or postgresql://USER@HOST/DATABASE",
    ),
    "settings.database-kind": (
        "不支持的数据库 {kind}：只支持 SQLite（sqlite:///文件路径）和 PostgreSQL"
        "（postgresql://，驱动 psycopg）",
        "{kind} is not a supported database: SQLite (sqlite:///PATH) and PostgreSQL"
        " (postgresql://, the psycopg driver) only",
    ),
    "settings.database-port": (
        "端口 {port} 不在 1 至 65535 之间",
        "the port {port} is not from 1 to 65535",
    ),
    "settings.not-a-day": ("须为 YYYY-MM-DD 格式的日期", "must be a day YYYY-MM-DD"),
    "settings.proxies-star": (
        "请写明代理的地址或网段，不能用 *",
        "name the proxies' addresses or networks, not *",
    ),
    "settings.proxy-not-address": (
        "不是 IP 地址或网段：{item}",
        "not an IP address or network: {item}",
    ),
    "db.not-ready": (
        "数据库尚无账本数据表；请先运行 `suiren db upgrade`",
        "the database has no ledger tables yet; run `suiren db upgrade` first",
    ),
    "cases.not-parquet": (
        "{name}：不是可读取的 Parquet 文件（{error}）",
        "{name}: not a readable Parquet file ({error})",
    ),
    "cases.column": ("列 {name}：{reason}", "column {name}: {reason}"),
    "cases.column-twice": (
        "有一个列名出现了两次；每个字段只给一次",
        "a column name appears twice; give each field once",
    ),
    "cases.column-floats": (
        "列 {name} 为二进制浮点数，不精确：请写成十进制数（decimal128）或文本",
        "column {name} holds binary floats, which are not exact: write it as decimal"
        " (decimal128) or as text",
    ),
    "cases.column-not-text": (
        "列 {name} 应为文本，而非 {kind}",
        "column {name} must hold text, not {kind}",
    ),
    "case.count": (
        "每次测算 1 至 {most} 个案例，收到 {count} 个",
        "give 1 to {most} cases per run, got {count}",
    ),
    "case.refused": (
        "案例 {index} 的字段 {field}：{reason}",
        "case {index}: field {field}: {reason}",
    ),
    "case.required": ("为必填项", "is required"),
    "case.got": ("{reason}（收到 {shown}）", "{reason} (got {shown})"),
    "case.not-object": ("每个案例须为 JSON 对象", "each case must be a JSON object"),
    "case.text-field": (
        "须为最多 {chars_max} 个字符的字符串",
        "must be a string of at most {chars_max} characters",
    ),
    "case.id-field": (
        "须为最多 {chars_max} 个字符的字符串或整数",
        "must be a string of at most {chars_max} characters or an integer",
    ),
    "case.unknown-field": ("未知的字段{more}", "unknown field{more}"),
    "case.did-you-mean": ("；是否应为 {name}？", "; did you mean {name}?"),
    "case.fields": ("；可用的字段：{fields}", "; fields: {fields}"),
    "case.unknown-region": (
        "未知的 GB/T 2260 行政区划代码 {shown}",
        "unknown GB/T 2260 region code {shown}",
    ),
    "case.month-range": (
        "须为 {first}-01 至 {last} 之间的月份",
        "must be a month from {first}-01 to {last}",
    ),
    "case.retire-age": (
        "退休时年龄须在 {youngest} 至 {oldest} 周岁之间",
        "must be at an age from {youngest} to {oldest}",
    ),
    "case.retire-before-birth": ("早于出生月份", "is before the birth month"),
    "case.deemed-over": ("超过 contribution_years", "exceeds contribution_years"),
    "case.early-over": (
        "与 deemed_years 之和超过 contribution_years",
        "with deemed_years exceeds contribution_years",
    ),
    "case.divisor-required": (
        "未给出 birth 和 retire（或 birth 和 sex）时为必填项",
        "is required unless birth and retire (or birth and sex) are given",
    ),
    "case.early-index-required": (
        "early_actual_years 大于 0 时为必填项（这些年度的平均缴费指数，北京 Z实）",
        "is required where early_actual_years is above 0 (the average contribution index of"
        " those years, 北京 Z实)",
    ),
    "case.early-years-required": (
        "给出 early_actual_index 时为必填项（早期的实际缴费年限，北京 N实98）",
        "is required where early_actual_index is given (the actual contribution years of the"
        " early period, 北京 N实98)",
    ),
    "case.index": ("须为 0 至 {most} 之间的小数", "must be a decimal between 0 and {most}"),
    "case.sex-required": (
        "由出生月份推算退休月份时为必填项",
        "is required to derive the retirement month from birth",
    ),
    "case.coefficient": (
        "须为比率，如 0.012（收到 {shown}）",
        "must be a rate such as 0.012 (got {shown})",
    ),
    "case.month": ('须为 "YYYY-MM" 格式的月份', 'must be a month "YYYY-MM"'),
    "case.base": (
        "须为以元为单位、不超过 {most}、最多两位小数的正数金额",
        "must be a positive amount in yuan up to {most} with at most 2 decimals",
    ),
    "case.positive-yuan": (
        "须为以元为单位、最多两位小数的正数金额{what}",
        "must be a positive amount in yuan with at most 2 decimals{what}",
    ),
    "case.non-negative-yuan": (
        "须为以元为单位、最多两位小数的非负金额{what}",
        "must be a non-negative amount in yuan with at most 2 decimals{what}",
    ),
    "case.retire-before-rules": (
        "退休月份须不早于 {first}：本计算器的养老金计发规则自 {first} 起收录，更早退休的养老金按"
        "当时的办法计发，不在计算范围内",
        "the retirement month must be {first} or later: the calculator's pension rules start in"
        " {first}; a pension of an earlier retirement was paid by the rules of its time, which are"
        " not computed",
    ),
    "case.derived-retire-before-rules": (
        "由出生月份推算的退休月份 {derived} 早于 {first}：本计算器的养老金计发规则自 {first} 起"
        "收录，更早退休的养老金按当时的办法计发，不在计算范围内",
        "the retirement month derived from birth, {derived}, is before {first}: the"
        " calculator's pension rules start in {first}; a pension of an earlier retirement was"
        " paid by the rules of its time, which are not computed",
    ),
    "case.rules-day-before-rules": (
        "未给出退休月份，按 {day} 的规则计算，但本计算器的养老金计发规则自 {first} 起收录：请给出"
        "退休月份，或不早于 {first} 的 --date",
        "no retirement month given, so the rules of {day} apply, but the calculator's pension"
        " rules start on {first}: give the retirement month, or a --date of {first} or later",
    ),
    "case.years-over-age": (
        "累计缴费年限超过退休时的年龄（{age}）：请核对缴费年限、出生月份和退休月份",
        "the contribution years exceed the age at retirement ({age}): check the years, the"
        " birth and the retirement month",
    ),
    "case.divisor-differs": (
        "给出的计发月数 {given} 不是退休年龄 {age} 在计发月数表中的 {table}：按给出的 {given} 计算",
        "the divisor given, {given} months, is not the table's {table} at the retirement age of"
        " {age}: computed with the {given} given",
    ),
    "case.divisor-no-row": (
        "计发月数表没有退休年龄 {age} 的一行：按给出的计发月数 {given} 计算",
        "the table of 计发月数 has no row for a retirement age of {age}: computed with the"
        " {given} months given",
    ),
    "case.years-max": (
        "须为不超过 {most} 的年数：最多四位小数，按表上打印的整月（如 39.83333），或年月"
        '（如 "39年10月"，月数 0 至 11）',
        "must be years up to {most}: to four decimals, a whole month as printed (39.83333), or"
        ' years and months ("39年10月", months 0 to 11)',
    ),
    "case.years": (
        '须为年数：最多四位小数，按表上打印的整月（如 {example}），或年月（如 "3年2月"，月数'
        " 0 至 11）",
        "must be years: to four decimals, a whole month as printed ({example}), or years and"
        ' months ("3年2月", months 0 to 11)',
    ),
    "case.divisor": (
        "须为最多一位小数的正的月数",
        "must be a positive number of months with at most one decimal",
    ),
    "case.increase-rate": (
        "须为 0 至 1 之间、最多六位小数的数（增发比例，如 0.001）",
        "must be a decimal from 0 to 1 with at most 6 decimals (增发比例, e.g. 0.001)",
    ),
    "case.flag": ("须为 true 或 false{what}", "must be true or false{what}"),
    "json.key-twice": (
        "同一对象中键 {shown} 出现了两次；请只给出一次",
        "the key {shown} appears twice in one object; give it once",
    ),
    "json.nested": (
        "{shown} 的值是 JSON {kind}；案例的字段应为字符串、数字或 null",
        "the value of {shown} is a JSON {kind}; a case's fields are strings, numbers or null",
    ),
    "json.surrogate": (
        "{shown} 的值含有孤立的代理项（\\ud800-\\udfff），它不是字符",
        "the value of {shown} holds a lone surrogate (\\ud800-\\udfff), which is not a character",
    ),
    "json.object": ("对象", "object"),
    "json.array": ("数组", "array"),
    "json.not-number": (
        '{name} 不是 JSON 数字；金额请以小数给出，如 "123.45"',
        '{name} is not a JSON number; give amounts as decimals such as "123.45"',
    ),
    "json.invalid": (
        "不是有效的 JSON：{error}，位于第 {line} 行第 {column} 列",
        "not valid JSON: {error} at line {line}, column {column}",
    ),
    "json.too-deep": (
        "JSON 嵌套过深：请给出一个对象或对象数组",
        "the JSON is nested too deeply: give an object or an array of objects",
    ),
    "json.not-valid": ("不是有效的输入：{error}", "not valid input: {error}"),
    # --- files a command writes (services/output_files.py; {label} names the option) ------------
    "output.exists": (
        "{label}{shown} 已存在；已有文件不会被覆盖",
        "{label}{shown} exists already; it is never overwritten",
    ),
    "output.is-input": (
        "{label}：{shown} 与 {other} 是同一个文件，写入会覆盖它；请另选路径，未读取或写入任何内容",
        "{label}: {shown} is the same file as {other}, which writing it would replace; choose"
        " another path (nothing was read or written)",
    ),
    "output.cannot-write": (
        "{label}无法写入 {shown}：{reason}；未写入任何内容",
        "{label}cannot write {shown}: {reason}; nothing was written there",
    ),
    "output.folder": (
        "{label}{shown} 是文件夹；请给出文件名",
        "{label}{shown} is a folder; name a file",
    ),
    "output.not-regular": (
        "{label}{shown} 不是普通文件；请给出文件名（不加此选项时，命令在可行时写到标准输出）",
        "{label}{shown} is not a regular file; name a file (without the option the command"
        " writes to standard output, where it can)",
    ),
    # --- pension cases (cli/pension.py, services/pension_calc.py, pension_table.py) -------------
    "cases.no-file": ("没有此文件：{path}", "no such file: {path}"),
    "cases.too-large": ("输入超过 {bytes_max} 字节", "input larger than {bytes_max} bytes"),
    "cases.not-utf8": ("{path}：不是 UTF-8 文本", "{path}: not UTF-8 text"),
    "cases.cannot-read": ("{path}：无法读取（{error}）", "{path}: cannot be read ({error})"),
    "cases.empty": (
        "{path}：没有内容；请给出一个 JSON 对象或对象数组",
        "{path}: empty; give a JSON object or an array of objects",
    ),
    "cases.sheet": (
        "{path}：测算案例不读取 {kind} 文件；请给出 JSON（一个对象或对象数组），或 Parquet 表"
        "（每个字段一列，配合 --out RESULTS.parquet）",
        "{path}: cases are not read from a {kind} file; give JSON (an object or an array of"
        " objects), or a Parquet table (one column per field, with --out RESULTS.parquet)",
    ),
    "cases.out-kind": (
        "--out 应为 .parquet 或 .json 文件",
        "--out must name a .parquet or a .json file",
    ),
    "cases.table-out": (
        "Parquet 格式的测算案例表输出为表：请加上 --out RESULTS.parquet",
        "a Parquet table of cases gives a table: add --out RESULTS.parquet",
    ),
    "cases.explain-table": (
        "--explain 用于 JSON 结果；表格只含金额和提示",
        "--explain is for JSON results; a table carries amounts and warnings",
    ),
    "cases.input-kind": (
        "输入须为 JSON 对象或对象数组",
        "input must be a JSON object or an array of objects",
    ),
    # --- the secret key (settings.py: SUIREN_SECRET_KEY, SUIREN_KEY_FILE) -----------------------
    "key.empty-env": (
        "SUIREN_SECRET_KEY 已设置但为空；请取消设置或给出密钥",
        "SUIREN_SECRET_KEY is set but empty; unset it or give the key",
    ),
    "key.none": (
        "此数据库未配置密钥：请设置 SUIREN_SECRET_KEY（32 字节的 base64）或 SUIREN_KEY_FILE；"
        "`suiren key generate` 可生成密钥",
        "no secret key is configured for this database: set SUIREN_SECRET_KEY (base64 of 32"
        " bytes) or SUIREN_KEY_FILE; `suiren key generate` makes one",
    ),
    "key.file-missing": (
        "密钥文件 {path} 不存在（SUIREN_KEY_FILE）",
        "the key file {path} does not exist (SUIREN_KEY_FILE)",
    ),
    "key.file-lost": (
        "数据库 {database} 已存在，但其密钥文件 {path} 缺失；请恢复该密钥文件（或将"
        " SUIREN_SECRET_KEY 设为该数据库的密钥）——新的密钥无法打开它",
        "the database {database} exists but its key file {path} is missing; restore the key"
        " file (or set SUIREN_SECRET_KEY to the database's key) — a new key would not open it",
    ),
    "key.no-folder": (
        "数据库所在的文件夹 {folder} 不存在",
        "the folder {folder} of the database does not exist",
    ),
    "key.not-base64": (
        "{where} 不是 base64 文本（应为 44 个字符）",
        "{where} is not base64 text (expected 44 characters)",
    ),
    "key.length": (
        "{where} 应为恰好 {bytes} 字节的 base64，而非 {got} 字节",
        "{where} must be base64 of exactly {bytes} bytes, not {got}",
    ),
    "key.where-file": ("密钥文件 {path}", "the key file {path}"),
    "key.file-folder": (
        "密钥文件 {path} 是文件夹，不是文件",
        "the key file {path} is a folder, not a file",
    ),
    "key.file-unreadable": (
        "无法读取密钥文件 {path}：{error}",
        "the key file {path} cannot be read: {error}",
    ),
    "key.file-not-regular": (
        "密钥文件 {path} 不是普通文件",
        "the key file {path} is not a regular file",
    ),
    "key.file-open": (
        "密钥文件 {path} 可被他人读取（权限 {mode}）；请运行 `chmod 600 {path}`",
        "the key file {path} can be read by others (mode {mode}); run `chmod 600 {path}`",
    ),
    "key.file-too-large": (
        "密钥文件 {path} 过大，不是密钥",
        "the key file {path} is too large to be a key",
    ),
    "key.file-not-text": (
        "密钥文件 {path} 不是可读取的 base64 文本",
        "the key file {path} is not readable base64 text",
    ),
    "key.state-empty": ("为空", "empty"),
    "key.state-cut": ("不完整（{chars} 个字符）", "cut short ({chars} characters)"),
    "key.file-cut": (
        "密钥文件 {path} {state}，不是密钥（应为 {chars} 个字符的 base64）：请用您保存的密钥副本"
        "恢复。随人绝不会在原处生成新的密钥，因为用某个密钥写入的数据只能用该密钥读取；如果从未"
        "用它写入任何数据（新数据库），请删除 {path} 后重新运行命令以生成密钥",
        "the key file {path} is {state}, not a key ({chars} characters of base64): restore it"
        " from your copy of the key. Suiren never makes a new key in its place, because the"
        " data written with a key is read only with that key; if nothing was ever written"
        " with it (a new database), delete {path} and run the command again to make one",
    ),
    "key.cannot-create": (
        "无法创建密钥文件 {path}：{error}",
        "cannot create the key file {path}: {error}",
    ),
    "key.cannot-link": (
        "无法创建密钥文件 {path}：{error}；请将 SUIREN_KEY_FILE 设为用 `suiren key generate --out"
        " FILE` 生成的密钥，或设置 SUIREN_SECRET_KEY",
        "cannot create the key file {path}: {error}; set SUIREN_KEY_FILE to a key made with"
        " `suiren key generate --out FILE`, or SUIREN_SECRET_KEY",
    ),
    # --- the shape of a file of rows (services/intake.py: payments, workers, stints) -----------
    "file.not-a-file": ("{path} 不是文件", "{path} is not a file"),
    "file.empty": (
        "{name} 是空文件：文件须有一行标题，列出各列名称",
        "{name} is empty: a file has a header row naming its columns",
    ),
    "file.kind": ("{name}：文件须为 .csv 或 .parquet", "{name}: a file is .csv or .parquet"),
    "file.unknown-columns": (
        "未知的列 {shown}；可用的列为 {columns}",
        "unknown column(s) {shown}; the columns are {columns}",
    ),
    "file.missing-columns": ("缺少列 {missing}", "missing column(s) {missing}"),
    "file.column-twice": ("标题行中有一列出现了两次", "a column appears twice in the header"),
    "file.header-too-long": (
        "标题行超过 {bytes_max} 字节",
        "the header line is longer than {bytes_max} bytes",
    ),
    "file.not-utf8": ("文件不是 UTF-8 文本", "the file is not UTF-8 text"),
    "file.header-not-csv": (
        "标题行不是 CSV（{error}）",
        "the header row cannot be read as CSV ({error})",
    ),
    "file.line-too-long": (
        "有一行超过 {bytes_max} 字节：随人读取的文件没有这么长的行",
        "a line is longer than {bytes_max} bytes: no row of a file Suiren reads is that long",
    ),
    "file.changed": (
        "文件 {name} 在读取期间被改动（大小、时间或文件被替换）；{done}。请在文件完整后重新运行同一"
        "命令：已入账的会重放，不会重复入账",
        "{name} changed on disk while it was being read (size, time or file replaced); {done} —"
        " run the same command again once the file is complete: what was posted is replayed,"
        " nothing is posted twice",
    ),
    "file.nothing-written": ("未写入任何内容", "nothing was written"),
    "file.rows-handed": (
        "前 {rows} 行已交付入账，可能已入账",
        "its first {rows} rows were handed to posting and may be posted",
    ),
    "file.rows-max": ("文件最多 {rows_max} 行", "a file has at most {rows_max} rows"),
    "file.not-parquet": (
        "{name} 不是 Parquet 文件（{error}）",
        "{name} is not a Parquet file ({error})",
    ),
    "file.cannot-read": ("无法读取 {name}（{error}）", "{name} cannot be read ({error})"),
    "file.parquet-damaged": (
        "Parquet 文件 {name} 已损坏：第 {group} 个行组（共 {groups} 个，第 {first}–{last} 行）自第"
        " {at} 行起无法读取（{error}）；未写入任何内容，请从数据源重新生成该文件",
        "{name}: row group {group} of {groups} (rows {first}–{last}) cannot be read at row {at}"
        " or after ({error}); nothing was written — write the file again from its source",
    ),
    "file.long-line-or-not-csv": (
        "有一行超过 {bytes_max} 字节，或文件不是 CSV",
        "a line is longer than {bytes_max} bytes or the file is not CSV",
    ),
    "file.row-width": (
        "有一行有 {fields} 个字段，而标题行有 {columns} 列",
        "a row has {fields} fields where the header has {columns}",
    ),
    "file.not-csv": ("文件无法按 CSV 读取（{error}）", "the file cannot be read as CSV ({error})"),
    "file.column-not-text": (
        "{name} 列的数据类型为 {kind}，应为文本",
        "column {name} holds {kind}; it must be text",
    ),
    "file.column-floats": (
        '{name} 列为二进制浮点数，无法确定其表示的十进制金额；请写成文本（"6000.00"）或十进制数'
        "（decimal）",
        "column {name} holds binary floats, which cannot say which decimal amount they mean;"
        ' write it as text ("6000.00") or as a decimal',
    ),
    "file.no-worker-column": (
        "缴费文件须有 worker_id 列或 resident_id 列",
        "a payments file has a worker_id or a resident_id column",
    ),
    "file.row-refused": ("第 {row} 行 {field}：{reason}", "row {row}, {field}: {reason}"),
    # the progress bar of a file (cli/intake.py): its name and units, a line in each language
    "intake.progress-payments": ("缴费文件", "payment file"),
    "intake.progress-workers": ("参保文件", "enrolment file"),
    "intake.progress-history": ("历史记录文件", "history file"),
    "intake.progress-rows": ("行", "rows"),
    "intake.progress-rate": ("行/秒", "rows/s"),
    "intake.progress-left": ("剩余", "left"),
    "intake.errors-kind": (
        "--errors 应为 .csv 或 .json 文件",
        "--errors names a .csv or .json file",
    ),
    # --- a refused row of a file (services/intake.py, history.py): the row's reason ------------
    "row.payment-id-form": (
        "缴费编号为 1–{chars_max} 个 ASCII 字母、数字或 ._:/- 字符",
        "a payment id is 1–{chars_max} ASCII letters, digits and ._:/-",
    ),
    "row.payment-id-reserved": (
        "缴费编号不得以系统保留的前缀开头",
        "a payment id may not start with a system prefix",
    ),
    "row.month-form": (
        '月份应为 "YYYY-MM" 格式（ASCII 数字）',
        'a month is "YYYY-MM" (ASCII digits)',
    ),
    "row.base-form": (
        "缴费基数应为以元为单位的十进制数，整数部分最多 {digits_max} 位、最多两位小数，"
        '如 "6000.50"（ASCII 数字，不含逗号）',
        "a base is a decimal number of yuan, at most {digits_max} digits before the point and"
        ' two after, such as "6000.50" (ASCII digits, no commas)',
    ),
    "row.base-positive": ("缴费基数须大于零", "the base must be positive"),
    "row.amount-form": (
        "金额应为以元为单位的十进制数，整数部分最多 {digits_max} 位、最多两位小数，"
        '如 "6000.50"（ASCII 数字，不含逗号）',
        "an amount is a decimal number of yuan, at most {digits_max} digits before the point"
        ' and two after, such as "6000.50" (ASCII digits, no commas)',
    ),
    "row.amount-positive": ("金额须大于零", "the amount must be positive"),
    "row.scheme": ("险种应为 {choices}", "the scheme is {choices}"),
    "row.worker-missing": (
        "每行须填写 worker_id 或 resident_id",
        "a row names its worker_id or resident_id",
    ),
    "row.worker-form": (
        "人员编号由 ASCII 字母、数字和 _.- 组成",
        "a worker id is ASCII letters, digits and _.-",
    ),
    "row.worker-and-resident-differ": (
        "该行的人员编号 {worker} 与身份号码不属于同一人员：请只填其一，或填写同一人员的两者",
        "the row names worker {worker} and a resident id that is not that worker's: give one"
        " of them, or both of the same worker",
    ),
    "row.not-your-region": (
        "{region} 不在您管辖的地区内，应由当地经办机构办理参保登记",
        "region {region} is not one you administer: its own agency enrols there",
    ),
    # --- a worker's earlier history (services/history.py: the stints and balances files) --------
    "history.kind": ("类型应为 {kinds} 之一", "the kind is {kinds}"),
    "history.base-too-large": (
        "{base} 元不是月缴费基数（按原记录保留的基数最多 {most} 元）",
        "{base} yuan is not a monthly base (at most {most} yuan are kept as recorded)",
    ),
    "history.index-form": (
        '缴费指数应为大于 0、不超过 {most} 的十进制数，最多六位小数，如 "0.8523"',
        "an index is a decimal above 0 and at most {most}, with at most six decimals, such as"
        ' "0.8523"',
    ),
    "history.deemed-with-base": (
        "视同缴费时段没有缴费基数；如有缴费指数，请填写指数",
        "a deemed stint (视同缴费) has no contribution base; give its index, if any",
    ),
    "history.no-base": (
        "实际缴费时段须填写 base_yuan（缴费基数）或 index（缴费指数）",
        "a paid stint has its base_yuan or its index",
    ),
    "history.period-reversed": ("to_month 早于 from_month", "to_month is before from_month"),
    "history.not-consecutive": (
        "此人的各行不相邻：请按 resident_id 排序文件",
        "this person's rows are not together: sort the file by resident_id",
    ),
    "history.too-many-stints": ("每人最多 {most} 个缴费时段", "at most {most} stints"),
    "history.hukou-differs": ("各行填写的户籍地不一致", "the rows give different hukou regions"),
    "history.sex-differs": (
        "所填性别与身份号码不符（GB 11643：第 17 位）",
        "the sex given disagrees with the resident id (GB 11643: 17th digit)",
    ),
    "history.birth-differs": (
        "所填出生年月与身份号码不符",
        "the birth month given disagrees with the resident id",
    ),
    "history.period-range": (
        "历史记录的时段为 {first} 至上月（{last}）；本月起经随人缴费",
        "history runs from {first} to last month ({last}); this month on is paid through Suiren",
    ),
    "history.before-16": (
        "该时段始于劳动者年满 16 周岁之前（劳动法 第十五条）",
        "the stint begins before the worker's 16th birthday (劳动法 第十五条)",
    ),
    "history.stint": (
        "第 {row} 行（{region} {first}–{last}，{kind}）",
        "row {row} ({region} {first}–{last}, {kind})",
    ),
    "history.duplicate-period": (
        "重复缴费：这些月份也在{kept}中，默认保留该条（参保关系所在地）：同一期间只保留一个参保"
        "关系，另一处的个人账户予以清退，缴费年限不重复计算（人社部发〔2009〕187号 附件 第三条；"
        "先转后清，2010 若干具体问题意见 第十条）；请拆分或清退此时段",
        "duplicate contributions (重复缴费): these months are also in {kept}, which is kept by"
        " default (the relation's region): one relation is kept for the same months, the"
        " other's account is refunded and its years not counted twice (人社部发〔2009〕187号"
        " 附件 第三条; 先转后清, 2010 若干具体问题意见 第十条); split or refund this stint",
    ),
    "history.balance-as-of": (
        "余额按记账年度末给出，格式为 YYYY-12-31",
        "a balance is given at a year's end (记账年度末), as YYYY-12-31",
    ),
    "history.balance-future": ("as_of 是将来的日期", "as_of is in the future"),
    "history.balance-twice": ("同一地区的第二条余额", "a second balance for this region"),
    "history.balance-without-stints": (
        "余额文件中的此条余额所属人员在分段缴费记录文件中没有记录",
        "a balance (balances file) for a person with no stints in the stints file",
    ),
    "history.hukou-registry": (
        "登记信息记载此人的户籍地为 {hukou}",
        "the registry records hukou {hukou} for this person",
    ),
    "history.not-insured-here": (
        "此人不在您管辖的地区参保：应由参保关系现所在地的经办机构导入其历史记录",
        "this person is not insured in the regions you administer: the agency where the"
        " relation is held now imports the history",
    ),
    "history.after-balance": (
        "这些月份晚于 {region} 截至 {as_of} 的余额（余额文件第 {row} 行），其资金不在该余额中：请将"
        "历史记录截至该年度末，以后的月份经随人缴费，或提供更晚的余额",
        "months after the balance of {region} at {as_of} (row {row} of the balances file) carry"
        " money the balance does not hold: end the history at that year's end and pay later"
        " months through Suiren, or give a later balance",
    ),
    "history.already-recorded": (
        "此人的 {month} 已{where}（{region}）；一个月份只记一次，请红冲或删去其中之一",
        "{month} of this worker is already {where} ({region}); a month is recorded once —"
        " reverse or leave out one of them",
    ),
    "history.from-another-file": ("由另一文件导入", "imported from another file"),
    "history.paid-here": ("经随人缴费", "paid through Suiren"),
    "history.no-stints": (
        "新参保人员的历史记录至少应有一个缴费时段",
        "a new person's history has at least one stint",
    ),
    "history.conflict": (
        "分段缴费记录文件 {file} 此前已导入，其中 {people}的个人账户余额与当时记录的不同：{shown}"
        "{more}。未写入任何内容。请提供首次导入时的余额文件以完成导入（首次被拒绝人员的余额行"
        "可以更正）；已记录的余额不会因再次导入而改变",
        "stints file {file} was imported before with other balances for {people}: {shown}{more}."
        " Nothing was written. Give the balances of the first run to finish it (the balance"
        " rows of people it refused may be corrected); a recorded balance is not changed by"
        " importing again",
    ),
    "history.conflict-more": ("；另有 {more} 人", "; and {more} more"),
    "history.worker": ("人员 {worker}", "worker {worker}"),
    "history.stints-row": (
        "分段缴费记录第 {row} 行（人员 {worker}）",
        "stints row {row} (worker {worker})",
    ),
    "history.row": ("第 {rows} 行", "row {rows}"),
    "history.rows": ("第 {rows} 行", "rows {rows}"),
    "history.no-balance-recorded": (
        "{who}：当时未记录余额，余额文件现在给出了{rows}",
        "{who}: no balance was recorded; the balances file now gives {rows}",
    ),
    "history.no-balance-given": (
        "{who}：当时记录了余额，余额文件现在没有给出",
        "{who}: a balance was recorded; the balances file now gives none",
    ),
    "history.balance-differs": (
        "{who}：余额文件第 {rows} 行与当时记录的余额不同",
        "{who}: balances row {rows} differs from the balances recorded",
    ),
    "history.balances-differ": (
        "{who}：余额文件第 {rows} 行与当时记录的余额不同",
        "{who}: balances rows {rows} differ from the balances recorded",
    ),
    # --- months (domain/month.py) ----------------------------------------------------------------
    "month.invalid": ("不是有效的月份：{month}", "not a valid month: {month}"),
    "month.not-text": (
        '月份应为 "YYYY-MM" 格式的字符串，收到 {shown}',
        'a month must be a string "YYYY-MM", got {shown}',
    ),
    "month.form": (
        '月份应形如 "2025-07"（YYYY-MM），收到 {shown}',
        'a month must look like "2025-07" (YYYY-MM), got {shown}',
    ),
    # --- region codes (domain/region.py) ---------------------------------------------------------
    "region.form": (
        "行政区划代码为六位 ASCII 数字（GB/T 2260），收到 {shown}",
        "a region code is six ASCII digits (GB/T 2260), got {shown}",
    ),
    "region.unknown": (
        "未知的行政区划代码 {code}（GB/T 2260）",
        "unknown region code {code} (GB/T 2260)",
    ),
    # --- resident ids (domain/resident_id.py; the number itself is never repeated) ---------------
    "resident-id.not-text": (
        "身份号码应为 18 位字符串",
        "a resident id must be a string of 18 characters",
    ),
    "resident-id.character": (
        "身份号码只能含半角数字和末位 X：第 {at} 位是{what}",
        "a resident id holds ASCII digits and a final X only: character {at} is {what}",
    ),
    "resident-id.whitespace": ("空白", "whitespace"),
    "resident-id.full-width": (
        "全角字符，请用半角输入",
        "a full-width character: type it half-width",
    ),
    "resident-id.not-digit": ("非数字字符", "not a digit"),  # 第 1 位是非数字字符
    "resident-id.length": (
        "身份号码为 18 位（旧号码 15 位）：17 位数字加一位校验码（数字或 X），收到 {chars} 位",
        "a resident id has 18 characters (an old one 15 digits): 17 digits and a check digit or"
        " X; got {chars} characters",
    ),
    "resident-id.old-length": (
        "15 位的旧身份号码应有 15 位数字",
        "a 15-digit resident id has 15 digits",
    ),
    "resident-id.check": (
        "身份号码的校验码不符（GB 11643-1999），请检查是否输错",
        "the resident id's check character does not match (GB 11643-1999); please check the"
        " number for a typing error",
    ),
    "resident-id.no-such-birth-date": (
        "身份号码中的出生日期不存在（{digits}）",
        "the birth date in the resident id is not a real date ({digits})",
    ),
    "resident-id.birth-date-out-of-range": (
        "身份号码中的出生日期超出范围（{born}）",
        "the birth date in the resident id is out of range ({born})",
    ),
    # --- unified social credit codes (domain/credit_code.py) -------------------------------------
    "credit-code.not-text": (
        "统一社会信用代码应为 18 位字符串",
        "a unified social credit code is a string of 18 characters",
    ),
    "credit-code.form": (
        "统一社会信用代码为 18 位，由 0-9 和 A-Y（不含 I、O、S、V、Z）组成（收到 {shown}）",
        "a unified social credit code has 18 characters from 0-9 and A-Y without I, O, S, V, Z"
        " (got {shown})",
    ),
    "credit-code.authority": (
        "第一位表示登记管理部门，{char} 不是其中之一",
        "the first character names the registering authority; {char} is not one",
    ),
    "credit-code.check": (
        "统一社会信用代码的校验码不符（GB 32100-2015），请检查是否输错",
        "the credit code's check character does not match (GB 32100-2015); please check the"
        " code for a typing error",
    ),
    # --- what differs between two scenarios' estimates (services/career.py compare) ----------
    "scenario.current-law": ("现行政策", "current law"),
    "scenario.money-follows-person": ("钱随人走", "money follows the person"),
    "cause.paying-province": (
        "待遇领取地由 {before} 变为 {after}",
        "paying province {before} → {after}",
    ),
    "cause.temporary-account-months": (
        "{scenario}下有 {months} 个月缴入临时账户",
        "{months} months in temporary accounts under {scenario}",
    ),
    "cause.pooled-left-behind": (
        "{yuan} 元统筹基金留在了原参保地",
        "{yuan} yuan of pooled money left behind",
    ),
    "cause.none": (
        "待遇领取地、临时账户和留在原参保地的统筹基金均无差别",
        "no difference in paying province, temporary accounts or money left behind",
    ),
    # --- what the ledger audit finds (store/audit.py, projections.py, checkpoint.py): a problem's
    # ``what`` (English, as scripts match it) and ``what_zh``, a table's row named beside it ------
    "audit.key-never-written": (
        "地区或序号不是服务会写入的值（在服务之外被改动）",
        "a region or seq the service never writes (changed outside the service)",
    ),
    "audit.head-key-never-written": (
        "地区或序号不是服务会写入的值",
        "a region or seq the service never writes",
    ),
    "audit.row-without-entry": (
        "该行没有日记账分录（其分录已被删除）",
        "row without a journal entry (its entry was deleted)",
    ),
    "audit.rows-without-entry": (
        "这些行没有日记账分录（其分录已被删除）",
        "rows without a journal entry (its entry was deleted)",
    ),
    "audit.sequence-gap": (
        "序号不连续：应为 {expected}（有分录被删除）",
        "sequence gap: expected {expected} (entries were deleted)",
    ),
    "audit.empty-worker-or-reverses": (
        "分录没有人员或被冲销分录，却存为空字符串（应为空值）",
        "an empty worker or reverses where the entry has none",
    ),
    "audit.content-hash": (
        "内容哈希与该分录及其分录行、事实或缴费月不符",
        "content hash does not match the entry, its postings, facts or months",
    ),
    "audit.previous-hash": (
        "前一哈希不是哈希链上一条分录的哈希（哈希链被截断）",
        "previous hash is not the chain's last (the chain was cut)",
    ),
    "audit.chain-hash": (
        "链哈希不是用密钥算出的（在没有密钥的情况下被改写）",
        "chain hash is not the key's (rewritten without the key)",
    ),
    "audit.head-without-journal": (
        "链头位于序号 {seq}，但该地区没有日记账（已被删除）",
        "head at seq {seq} but the region has no journal (deleted)",
    ),
    "audit.head-not-last": (
        "链头 {head} 与日记账最后一条分录 {last} 不符",
        "head {head} does not match the journal's last entry {last}",
    ),
    "audit.batch-with-lines": (
        "缴费月批次带有分录行或事实",
        "a batch of months has postings or facts",
    ),
    "audit.segments-without-batch": (
        "该分录不是缴费月批次，却有段",
        "segments of an entry that is not a batch",
    ),
    "audit.unbalanced": ("分录行借贷不平衡", "postings do not balance"),
    "audit.empty-entry": (
        "分录既无分录行也无事实",
        "an entry with neither postings nor facts",
    ),
    "audit.posting-copies": (
        "分录行的月份、代码或地区与其分录或账户不符",
        "a posting's month, code or region disagrees with its entry or account",
    ),
    "audit.lines-numbered": ("行号不是 0..n-1", "lines are not numbered 0..n-1"),
    "audit.batch-rows": (
        "{rows} 行，分录记载为 {months} 行",
        "{rows} rows, the entry says {months}",
    ),
    "audit.batch-lines-numbered": (
        "行号不是 0..n-1（有行被删除或添加）",
        "lines are not numbered 0..n-1 (rows deleted or added)",
    ),
    "audit.month-unsplit": (
        "应缴 ≠ 个人账户 + 统筹，或划归户籍地的部分不在统筹部分之内",
        "due ≠ account + pooled, or held outside the pooled part",
    ),
    "audit.segments-numbered": ("段号不是 0..n-1", "segments are not numbered 0..n-1"),
    "audit.segment-rows": (
        "记载为 {rows} 行，该段实有 {held} 行",
        "says {rows} rows, the segment holds {held}",
    ),
    "audit.segment-differs": (
        "第 {first_row}–{last_row} 行（{first} … {last}）与记录不符",
        "rows {first_row}–{last_row} ({first} … {last}) differ from what was recorded",
    ),
    "audit.unknown-kind": ("未知的事实类型 {kind}", "unknown kind {kind}"),
    "audit.repaired-session": (
        "登录时发现会话记录与日记账所载不符，已结束其全部会话（{recorded_at}）：{memo}",
        "found not as recorded at a login, every session ended ({recorded_at}): {memo}",
    ),
    "audit.used-code-back": (
        "已使用的一次性验证码（其使用已有记录）被放回：它不能用于登录",
        "a one-time code already used (its use is recorded), put back: it opens nothing",
    ),
    "audit.login-no-worker": (
        "登录账户所属的人不是已登记的参保人员",
        "a login of a person who is no registered worker",
    ),
    "audit.login-other-worker": (
        "此人的登录会打开另一参保人员的记录（登记的人员：{registered}）",
        "the person's login opens another worker's records (registered: {registered})",
    ),
    "audit.phone-no-worker": (
        "手机号码未绑定任何已登记的参保人员",
        "a mobile number bound to no registered worker",
    ),
    "audit.seal-missing": (
        "缺少封印（{columns} 在服务之外被改动）",
        "its seal is missing ({columns} changed outside the service)",
    ),
    "audit.seal-differs": (
        "封印不符（{columns} 在服务之外被改动）",
        "its seal does not match ({columns} changed outside the service)",
    ),
    "audit.sealed-wrong-type": (
        "存有服务不会在此写入的类型的值（在服务之外被改动）",
        "a value of a type the service never writes there (changed outside it)",
    ),
    "audit.wrong-type": (
        "存有服务不会在此写入的类型的值（在服务之外被改动）",
        "a value of a type the service never writes there (changed outside the service)",
    ),
    "audit.unreadable": (
        "存有服务不会写入的值（应为数字或日期处是字节或文本、早于公元 1 年或晚于 9999 年的日期、"
        "无穷大、不是 UTF-8 的文本），在服务之外被改动；{reporter}：{said}",
        "holds a value the service never writes (bytes or text where a number or date belongs,"
        " a date before year 1 or after 9999, infinity, text that is not UTF-8), changed outside"
        " the service; {reporter}: {said}",
    ),
    # who said the reason of audit.unreadable, which is quoted as it was said (in English)
    "audit.reported-by-driver": ("数据库驱动报告", "the database driver reports"),
    "audit.reported-by-reader": ("读取程序报告", "reading it raised"),
    "audit.balance-not-sum": (
        "余额 {stored} 不等于其分录行与缴费月之和 {computed}",
        "balance {stored} is not the sum of its postings and months, {computed}",
    ),
    "audit.balance-absent": ("缺失", "missing"),
    "audit.account-key": (
        "账户的所有者、险种、类型和地区（{parts}）与其账户键不符",
        "its owner, scheme, kind and region ({parts}) disagree with its key",
    ),
    "audit.accounts-sum": (
        "全部账户余额合计为 {total}，不为零",
        "the accounts sum to {total}, not zero",
    ),
    "audit.negative": (
        "参保人员的账户余额为负（{balance}）",
        "a worker's account is negative ({balance})",
    ),
    "audit.checkpoint-signature": (
        "签名不是此密钥的：检查点被改动过，或属于另一个数据库",
        "the signature is not this key's: the checkpoint was altered or is another database's",
    ),
    "audit.checkpoint-head-gone": (
        "检查点的链头已不存在（{region} 的日记账止于序号 {end}）：有分录被删除",
        "the checkpoint's head is gone (the journal of {region} ends at {end}): entries were"
        " removed",
    ),
    "audit.checkpoint-head-rewritten": (
        "检查点链头处的分录的链哈希已变：哈希链被改写",
        "the entry at the checkpoint's head has another chain hash: the chain was rewritten",
    ),
    "audit.two-versions": ("版本 {version} 有两条事实", "two facts of version {version}"),
    "audit.recorded-twice": ("记录了两次", "recorded twice"),
    "audit.duplicate-row": ("重复的行", "duplicate row"),
    "audit.row-without-fact": (
        "该行没有记载它的事实（不应存在）",
        "row without a fact (unexpected)",
    ),
    "audit.fact-not-json": ("其事实不是有效的 JSON", "its fact is not valid JSON"),
    "audit.fact-not-object": ("有事实不是 JSON 对象", "a fact is not a JSON object"),
    "audit.column-differs": (
        "{column}：{stored} ≠ 记录为 {recorded}",
        "{column}: {stored} ≠ recorded {recorded}",
    ),
    "audit.row-missing": ("缺少该行（有事实记载它）", "row missing (recorded by a fact)"),
    # --- mobile numbers (domain/phone.py) --------------------------------------------------------
    "phone.length": ("手机号码为 11 位数字", "a mobile number has 11 digits"),
    "phone.form": (
        "手机号码为 11 位数字，以 13 至 19 开头",
        "a mobile number has 11 digits and begins with 13 to 19",
    ),
}


def one_line(message: str | Text) -> str:
    """A message for a single text field (a file's refused-row reason): ``中文 / English``
    where it has both, else as written."""
    return message.joined() if isinstance(message, Text) else message


def join_texts(parts: Iterable[Text], zh: str = "；", en: str = "; ") -> Text:
    """Texts one after another (a list of people, of problems), each language with its own
    separator."""
    items = list(parts)
    return Text(zh.join(t.zh for t in items), en.join(t.en for t in items))


QUOTED = "〔原文〕"  # before what is quoted as it was said, untranslated, in a Chinese text


def quoted(said: object) -> Text:
    """What the system or a library said (an OS error, a parser's, a database driver's), in
    its own English: a parameter of a message, the same words in both languages, marked in
    the Chinese as quoted (``QUOTED``) so that it never reads as a Chinese sentence's own."""
    words = str(said)
    return Text(f"{QUOTED}{words}", words)


def text(code: str, /, **parameters: object) -> Text:
    """The message ``code`` with its ``parameters`` (a ``Text`` parameter in each language)."""
    zh, en = CATALOGUE[code]
    return Text(
        zh.format(**{k: v.zh if isinstance(v, Text) else v for k, v in parameters.items()}),
        en.format(**{k: v.en if isinstance(v, Text) else v for k, v in parameters.items()}),
    )
