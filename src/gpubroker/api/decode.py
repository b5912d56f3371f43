"""One decoder for every error shape the hosted API emits, mapped to gpubroker's exit codes.

Shapes understood (admin-api.md §1.0):

- ``{"detail": "text"}`` and ``{"detail": [{"loc": [...], "msg": ...}, ...]}`` (Ninja);
- ``{"error": "text"}``, with or without ``"success": false``;
- the legacy envelope ``{"error": {"code", "message", "details", "trace_id"}}``;
- HTTP 200 with ``{"success": false, "error": "<Spanish text>"}`` (admin "soft" failures);
- HTML or plain-text bodies (Django's 500 page, a DEBUG traceback, a proxy's error page).

Status codes decide first: 401/403 → `InvalidCredentialsError` (exit 4), 404 →
`NotFoundError` (3), 400/409/422 → `RefusedError` (6), 429 and 5xx → `RemoteError` (5).
Without a telling status (a soft failure), the envelope's ``code`` decides, then the text:
"not found" / "no encontrado" → 3, "inválida o expirada" / "credenciales" → 4, else 6.

Messages keep the server's own words (Spanish included) after what gpubroker was doing, and
the hint says what to do next. Only a short, cleaned extract of a body is ever quoted (never a
whole traceback page, which can echo request headers), and callers redact known secrets.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass
from typing import Any

import httpx

from gpubroker.api.models import clean_text
from gpubroker.errors import (
    GpubrokerError,
    InvalidCredentialsError,
    NotFoundError,
    RefusedError,
    RemoteError,
    RemoteResponseError,
)

SERVICE = "api"
_MAX_QUOTE = 200

#: The legacy envelope's codes → the error class they mean.
ENVELOPE_CODES: dict[str, type[GpubrokerError]] = {
    "VALIDATION_ERROR": RefusedError,
    "BAD_REQUEST": RefusedError,
    "CONFLICT": RefusedError,
    "UNAUTHORIZED": InvalidCredentialsError,
    "FORBIDDEN": InvalidCredentialsError,
    "NOT_FOUND": NotFoundError,
    "RATE_LIMITED": RemoteError,
    "INTERNAL_ERROR": RemoteError,
    "BAD_GATEWAY": RemoteError,
    "SERVICE_UNAVAILABLE": RemoteError,
}
_NOT_FOUND_WORDS = re.compile(
    r"not found|no encontrad|no existe|does not exist|doesn't exist|no such", re.I
)
_AUTH_WORDS = re.compile(
    r"inv[aá]lid[ao]s? o expirad|invalid or expired|credencial|credential|unauthori[sz]ed|"
    r"no autorizad|bloquead|locked|forbidden",
    re.I,
)


@dataclass(frozen=True, slots=True)
class Call:
    """What a request was for, so that an error can say it and suggest the next step.

    Attributes:
        action: what gpubroker was doing, e.g. ``activating the subscription``.
        base_url: the API base URL (named in hints).
        auth: ``token`` (admin bearer), ``api_key`` (subscription key) or None.
        not_found_hint: what to do when the thing asked for does not exist.
        body_as_query_defect: the route declares its body as a query parameter upstream,
            so a 422 about ``data`` is the backend's defect, not the caller's input.
    """

    action: str
    base_url: str = ""
    auth: str | None = None
    not_found_hint: str | None = None
    body_as_query_defect: bool = False


@dataclass(frozen=True, slots=True)
class ServerText:
    """What a server said, reduced to a short safe quote."""

    text: str | None = None
    code: str | None = None
    trace_id: str | None = None
    html: bool = False
    query_data_defect: bool = False


def _quote(value: Any) -> str | None:
    text = clean_text(value)
    if text and len(text) > _MAX_QUOTE:
        text = text[: _MAX_QUOTE - 1] + "…"
    return text


def _detail_list(items: list[Any]) -> tuple[str | None, bool]:
    parts = []
    defect = False
    for item in items:
        if not isinstance(item, dict):
            quoted = _quote(item)
            if quoted:
                parts.append(quoted)
            continue
        loc = [str(p) for p in item.get("loc") or [] if p not in ("body", "query", "path")]
        raw_loc = [str(p) for p in item.get("loc") or []]
        if raw_loc[:2] == ["query", "data"]:
            defect = True
        msg = _quote(item.get("msg") or item.get("message")) or "invalid"
        parts.append(f"{'.'.join(loc)}: {msg}" if loc else msg)
    if not parts:
        return None, defect
    shown = "; ".join(parts[:3])
    if len(parts) > 3:
        shown += f" (+{len(parts) - 3} more)"
    return _quote(shown), defect


def body_text(body: Any) -> ServerText:
    """The server's own message in a JSON body of any known error shape."""
    if isinstance(body, list):
        text, defect = _detail_list(body)
        return ServerText(text, query_data_defect=defect)
    if not isinstance(body, dict):
        return ServerText(_quote(body))
    error = body.get("error")
    if isinstance(error, dict):
        code = _quote(error.get("code"))
        text = _quote(error.get("message") or error.get("detail"))
        details = error.get("details")
        if isinstance(details, (list, dict)) and not text:
            text, _ = _detail_list(details if isinstance(details, list) else [details])
        return ServerText(
            text, code=code.upper() if code else None, trace_id=_quote(error.get("trace_id"))
        )
    detail = body.get("detail")
    if isinstance(detail, list):
        text, defect = _detail_list(detail)
        return ServerText(text, query_data_defect=defect)
    for value in (error, detail, body.get("message"), body.get("warning")):
        text = _quote(value)
        if text:
            return ServerText(text)
    return ServerText()


def _title(html: str) -> str | None:
    match = re.search(r"<title[^>]*>(.*?)</title>", html, re.I | re.S)
    if match:
        return _quote(re.sub(r"<[^>]+>", " ", match.group(1)))
    match = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.I | re.S)
    return _quote(re.sub(r"<[^>]+>", " ", match.group(1))) if match else None


def response_text(response: httpx.Response) -> ServerText:
    """The server's message in any response body: JSON shapes, HTML pages, plain text."""
    try:
        raw = response.text
    except (httpx.ResponseNotRead, UnicodeDecodeError, LookupError):
        raw = ""
    ctype = response.headers.get("content-type", "").lower()
    stripped = raw.lstrip()
    if "json" in ctype or stripped[:1] in ("{", "["):
        with contextlib.suppress(ValueError):
            return body_text(json.loads(raw))
    if "html" in ctype or stripped[:1] == "<":
        title = _title(raw)
        return ServerText(f"HTML error page ({title})" if title else "HTML error page", html=True)
    if not stripped:
        return ServerText()
    # A plain-text body: Django's DEBUG traceback starts "ExceptionType at /path" and then
    # the exception's message; the rest of such a page (request headers, settings) is not
    # quoted.
    lines = [line.strip() for line in stripped.splitlines() if line.strip()][:2]
    return ServerText(_quote(" — ".join(lines)))


def _kind_for_text(text: str | None) -> type[GpubrokerError]:
    if text and _NOT_FOUND_WORDS.search(text):
        return NotFoundError
    if text and _AUTH_WORDS.search(text):
        return InvalidCredentialsError
    return RefusedError


def _hint(kind: type[GpubrokerError], call: Call, said: ServerText) -> str:
    if issubclass(kind, InvalidCredentialsError):
        if call.auth == "api_key":
            return (
                "check the subscription API key: `gpubroker activate --api-key KEY`,"
                " or set GPUBROKER_API_KEY"
            )
        return (
            "log in again with `gpubroker auth login` (admin tokens last 15 minutes),"
            " or set GPUBROKER_TOKEN"
        )
    trace = f"; quote trace id {said.trace_id} when reporting it" if said.trace_id else ""
    if issubclass(kind, NotFoundError):
        return call.not_found_hint or f"check the name or id you gave{trace}"
    if issubclass(kind, RemoteError):
        where = f" at {call.base_url}" if call.base_url else ""
        return f"the hosted API{where} is failing; retry later{trace}"
    return f"the server refused the request as sent: correct what it names and retry{trace}"


def build_error(
    kind: type[GpubrokerError],
    call: Call,
    said: ServerText,
    *,
    status: int | None = None,
    retry_after_s: float | None = None,
) -> GpubrokerError:
    """The gpubroker error of class ``kind`` for what the server said."""
    detail = said.text or (f"HTTP {status}" if status else "refused without a reason")
    if status and said.text:
        detail = f"{said.text} (HTTP {status})"
    message = f"{call.action}: {detail}"
    hint = _hint(kind, call, said)
    if issubclass(kind, InvalidCredentialsError):
        return InvalidCredentialsError(message, hint=hint, service=SERVICE)
    if issubclass(kind, RemoteError):
        return RemoteError(
            SERVICE, message, hint=hint, status_code=status, retry_after_s=retry_after_s
        )
    return kind(message, hint=hint)


def error_for_response(response: httpx.Response, call: Call) -> GpubrokerError:
    """The error an HTTP error response (status >= 400) means."""
    from gpubroker.http import parse_retry_after

    status = response.status_code
    said = response_text(response)
    if status in (401, 403):
        kind: type[GpubrokerError] = InvalidCredentialsError
    elif status == 404 or status == 410:
        kind = NotFoundError
    elif status == 422 and call.body_as_query_defect and said.query_data_defect:
        return RemoteError(
            SERVICE,
            f"{call.action}: the server cannot take this request (HTTP 422: it reads the"
            " JSON body as a query parameter named 'data', a known backend defect)",
            hint="nothing was changed; use the admin web panel for this until the backend is fixed",
            status_code=status,
        )
    elif status in (400, 409, 412, 422):
        kind = RefusedError
    elif status == 429 or status >= 500:
        kind = RemoteError
    elif said.code in ENVELOPE_CODES:
        kind = ENVELOPE_CODES[said.code]
    else:
        kind = RemoteError
    return build_error(
        kind,
        call,
        said,
        status=status,
        retry_after_s=parse_retry_after(response.headers.get("Retry-After")),
    )


def soft_failure(body: Any) -> bool:
    """True for a 2xx body that reports a failure (``success: false``, or a bare error)."""
    if not isinstance(body, dict):
        return False
    if body.get("success") is False:
        return True
    if "success" in body:
        return False
    error = body.get("error")
    # The legacy envelope, or a bare {"error": "..."} with nothing else of substance.
    others = set(body) - {"error", "detail", "message", "code", "status", "warning"}
    return bool(error) and (isinstance(error, dict) or not others)


def error_for_soft_failure(body: dict[str, Any], call: Call) -> GpubrokerError:
    """The error a 2xx ``success: false`` body means (the envelope's code, else its text)."""
    said = body_text(body)
    kind = ENVELOPE_CODES.get(said.code or "") or _kind_for_text(said.text)
    return build_error(kind, call, said)


def unexpected_payload(call: Call, what: str) -> RemoteResponseError:
    """A 2xx answer that is not the JSON the contract documents."""
    return RemoteResponseError(
        SERVICE,
        f"{call.action}: the server answered with {what}, not the JSON it documents",
        hint=f"check that api_url ({call.base_url}) is the hosted API"
        " (`gpubroker config get api_url`, GPUBROKER_API_URL)",
    )


__all__ = [
    "Call",
    "ServerText",
    "body_text",
    "build_error",
    "error_for_response",
    "error_for_soft_failure",
    "response_text",
    "soft_failure",
    "unexpected_payload",
]
