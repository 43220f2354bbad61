"""Messages for people in Chinese (zh-CN) and English: one catalogue, keyed by message code.

A user error (``errors.SuirenError``) is raised with a ``Text`` — ``text("month.form",
shown="'2026-13'")`` — rather than a sentence in one language: its ``message`` is the English
(the CLI's ``error:`` line, a file's refused-row reason, a log), its ``message_zh`` the Chinese
(the CLI prints it first; the API's problem ``detail`` is in the caller's language, as its
``title`` is). The two templates of a code take the same ``{parameters}``; a parameter that is
itself a ``Text`` (a noun, the form a value must have) is put in each language's own half.
``tests/domain/test_messages.py`` fails on a code whose halves differ in parameters, a Chinese
half without Chinese, or a code no module uses.

Messages not in the catalogue yet are plain English strings (``SuirenError("…")``); a code
here is added when a message moves over, never two sentences joined by hand.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Text:
    """One message in both languages."""

    zh: str
    en: str

    def joined(self) -> str:
        """Both in one line, Chinese first: for a single text field (a file's reason column)."""
        return f"{self.zh} / {self.en}"


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
        "{minimum} 至 {maximum} 之间、最多四位小数的数，如 0.6",
        "a decimal from {minimum} to {maximum} with at most four places, such as 0.6",
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
    # --- a contribution month refused (services/contributions.py: one payment or a file's row) --
    "noun.payment-and-month": ("缴费编号和月份", "payment id and month"),
    "noun.worker-and-month": ("人员和月份", "worker and month"),
    "payment.twice": (
        "同一批次中同样的{what}出现了两次",
        "the same {what} appear twice in one batch",
    ),
    "payment.not-enrolled": (
        "人员 {worker} 未参加 {scheme}，请先参保登记",
        "worker {worker} is not enrolled in {scheme}; enrol first",
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
    "resident-id.not-digit": ("不是数字", "not a digit"),
    "resident-id.length": (
        "身份号码为 18 位（旧号码 15 位），收到 {chars} 位",
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


def text(code: str, /, **parameters: object) -> Text:
    """The message ``code`` with its ``parameters`` (a ``Text`` parameter in each language)."""
    zh, en = CATALOGUE[code]
    return Text(
        zh.format(**{k: v.zh if isinstance(v, Text) else v for k, v in parameters.items()}),
        en.format(**{k: v.en if isinstance(v, Text) else v for k, v in parameters.items()}),
    )
