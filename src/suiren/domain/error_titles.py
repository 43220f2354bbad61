"""The kind of each user error, in Chinese and English: one title per stable error code.

The API puts the caller's language in a problem's ``title`` (``api.problems``, with its HTTP
status); the CLI prints the Chinese title first, then ``error: <message>``; the console shows
its own sentences (``portal.text``). A code without a title reads as ``DEFAULT``;
``tests/api/test_api_problems.py`` fails on an error class whose code has none."""

from __future__ import annotations

# code -> (zh-CN title, English title)
TITLES: dict[str, tuple[str, str]] = {
    "unauthorized": ("未提供有效凭证", "No valid credentials"),
    "not-found": ("未找到", "Not found"),
    "unknown-worker": ("未找到", "Not found"),
    "method-not-allowed": ("不支持该方法", "Method not allowed"),
    "conflict": ("与已记录的交易冲突", "Conflicts with a recorded transaction"),
    "transaction-conflict": ("与已记录的交易冲突", "Conflicts with a recorded transaction"),
    "insurance-moved": ("参保关系已转移", "The insurance relation has moved"),
    "history-conflict": (
        "与已导入的历史记录不同",
        "Differs from the history imported before",
    ),
    "idempotency-key-reused": (
        "幂等键已用于另一请求",
        "The idempotency key was used for another request",
    ),
    "kept-answer-unsealed": (
        "该幂等键保存的答复已被改动，不予返回",
        "The answer kept for this idempotency key was changed; it is not served",
    ),
    "invalid-request": ("请求无效", "Invalid request"),
    "engagement-refused": ("用工声明被拒绝", "Engagement declaration refused"),
    "invalid-code": ("验证码不正确或已过期", "The one-time code is not valid or has expired"),
    "invalid-phone": ("手机号码无效", "Invalid mobile number"),
    "too-large": ("请求过大", "Request too large"),
    "invalid-content-length": ("请求长度无效", "Invalid Content-Length"),
    "locked": ("尝试次数过多，请稍后再试", "Too many attempts; try again later"),
    "codes-per-day": ("今日验证码已达上限", "The day's one-time codes are all sent"),
    "retry": ("请稍后重试", "Try again"),
    "concurrent-change": ("数据已被同时修改，请重试", "Changed concurrently; try again"),
    "database-not-ready": ("数据库尚未初始化", "The database is not set up"),
    "internal": ("服务内部错误", "Internal error"),
    "invalid-input": ("输入无效", "Invalid input"),
    "invalid-amount": ("金额无效", "Invalid amount"),
    "invalid-month": ("月份无效", "Invalid month"),
    "invalid-resident-id": ("身份证号码无效", "Invalid resident id"),
    "full-width-login": ("号码含全角字符", "Full-width characters in the number"),
    "invalid-credit-code": ("统一社会信用代码无效", "Invalid unified social credit code"),
    "unknown-region": ("未知的行政区划代码", "Unknown region code"),
    "invalid-case": ("测算案例无效", "Invalid pension case"),
    "parameter-error": ("政策参数有误", "Policy parameter error"),
    "parameter-not-found": ("缺少所需的政策参数", "A policy parameter is missing"),
    "enrolment-refused": ("参保登记被拒绝", "Enrolment refused"),
    "enrolled-elsewhere": (
        "已在其他地区参保，需办理转移接续",
        "Enrolled in another region: moving needs a transfer",
    ),
    "contribution-refused": ("缴费被拒绝", "Contribution refused"),
    "payment-refused": ("缴费被拒绝", "Payment refused"),
    "pension-refused": ("养老金测算被拒绝", "Pension estimate refused"),
    "medical-refused": ("医保业务被拒绝", "Medical insurance request refused"),
    "transfer-refused": ("转移接续被拒绝", "Transfer refused"),
    "settlement-refused": ("清算被拒绝", "Settlement refused"),
    "reversal-refused": ("红冲被拒绝", "Reversal refused"),
    "file-refused": ("文件被拒绝", "File refused"),
    "clerk-exists": ("经办人员登录名已存在", "The clerk login exists already"),
    "key-not-usable": ("密钥不可用", "The secret key is not usable"),
    "wrong-key": ("密钥与数据库不符", "The secret key is not this database's"),
}
DEFAULT: tuple[str, str] = ("请求被拒绝", "Request refused")


def title(code: str) -> tuple[str, str]:
    """(zh-CN, English) title of the error ``code``; the generic one for a code not listed."""
    return TITLES.get(code, DEFAULT)
