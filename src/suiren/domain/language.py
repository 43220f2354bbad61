"""The language a caller prefers, from an HTTP ``Accept-Language`` header (RFC 9110 §12.5.4):
the API's problem titles and the portal's pages read it alike."""

from __future__ import annotations

ACCEPT_LANGUAGE_CHARS_MAX = 256  # a header longer than any browser sends is read this far


def preferred_language(header: str | None, offered: tuple[str, ...], default: str) -> str:
    """The offered language (a primary subtag: ``zh``, ``en``) of highest quality in
    ``header``; among equals the first named. ``q=0`` is "not this one"; a malformed or out of
    range quality value makes its entry ignored; a wildcard or an unknown tag chooses nothing,
    and then ``default``."""
    best, best_q = default, 0.0
    for part in (header or "")[:ACCEPT_LANGUAGE_CHARS_MAX].split(","):
        tag, _, parameters = part.strip().partition(";")
        q = 1.0
        parameter = parameters.strip().replace(" ", "")
        if parameter:
            if not parameter.startswith("q="):
                continue
            try:
                q = float(parameter[2:])
            except ValueError:
                continue
            if not 0.0 <= q <= 1.0:  # also NaN
                continue
        primary = tag.strip().lower().split("-")[0]
        if primary in offered and q > best_q:
            best, best_q = primary, q
    return best
