"""Structured logs: one JSON object a line in real mode, readable lines in embedded mode.

django-structlog binds each request's id to every line logged while it runs, Laurel's own
loggers and Django's included; the id is the proxy's X-Request-ID when it sent a sane one, so
nginx's access log and Laurel's lines join on it, and every response names it.
"""

import logging
import re
import uuid
from collections.abc import Callable

import structlog
from django.http import HttpRequest, HttpResponse

# nginx's $request_id is 32 hex digits; anything else a client sent is replaced, so a header
# cannot write arbitrary text into every line of the log.
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

# Secrets that travel in URLs: a nominee's private toolkit link (/…/stats/<token>/) and a vote
# button's one-time token (…/challenge/?token=…). Logs keep where a request went, not these.
SECRET_IN_PATH = re.compile(r"(/stats/)[^/\s?]+")
SECRET_IN_QUERY = re.compile(r"([?&]token=)[^&\s]+")


def without_secrets(text: str) -> str:
    return SECRET_IN_QUERY.sub(r"\1...", SECRET_IN_PATH.sub(r"\1...", text))


def redact_secrets(logger, method_name: str, event_dict: dict) -> dict:
    for key in ("request", "event", "message", "path"):
        if isinstance(event_dict.get(key), str):
            event_dict[key] = without_secrets(event_dict[key])
    return event_dict


SHARED_PROCESSORS = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def request_of_record(logger, method_name: str, event_dict: dict) -> dict:
    """Django logs a failed request (django.request, django.security) after the middleware has
    finished, when the request's context is gone: take its id from the request itself."""
    request = getattr(event_dict.get("_record"), "request", None)
    if request is not None and hasattr(request, "META"):
        event_dict.setdefault("request_id", request.META.get("HTTP_X_REQUEST_ID"))
        event_dict["request"] = f"{request.method} {request.get_full_path()}"
    return event_dict


FOREIGN_PRE_CHAIN = [
    *SHARED_PROCESSORS,
    structlog.stdlib.ExtraAdder(),
    request_of_record,
    redact_secrets,
]


def structlog_configure() -> None:
    structlog.configure(
        processors=[
            *SHARED_PROCESSORS,
            structlog.stdlib.PositionalArgumentsFormatter(),
            redact_secrets,
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def json_formatter() -> structlog.stdlib.ProcessorFormatter:
    return structlog.stdlib.ProcessorFormatter(
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            # A traceback as one string: the structured form would write every frame's local
            # variables, secrets included, into the log.
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        foreign_pre_chain=FOREIGN_PRE_CHAIN,
    )


def readable_line(logger, method_name: str, event_dict: dict) -> dict:
    """Embedded mode's console: a request as "GET /path → 200", every line stamped with the
    time of day; the rest (logger, request id) only where something went wrong."""
    stamp = event_dict.pop("timestamp", "")
    event_dict["timestamp"] = stamp[11:19]
    if event_dict.get("event") == "request_finished":
        event_dict["event"] = f"{event_dict.pop('request', '')} → {event_dict.pop('code', '')}"
        event_dict.pop("logger", None)
    if event_dict.get("level") in ("debug", "info"):
        event_dict.pop("logger", None)
        event_dict.pop("request_id", None)
        event_dict.pop("message", None)  # what Django's own lines repeat of their event
    return event_dict


# django-structlog's lines that only repeat a request's finished line.
REPEATS = {"request_started", "streaming_started", "streaming_finished"}


class OneLinePerRequest(logging.Filter):
    """Embedded mode's console keeps django-structlog's finished line for each request, and
    drops what only repeats it: the started and streaming lines, runserver's access line, and
    Django's warning for a 4xx (a 5xx keeps its traceback)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "django.server":
            return record.levelno >= logging.ERROR
        if record.name == "django.request":
            return record.levelno >= logging.ERROR
        event = record.msg.get("event") if isinstance(record.msg, dict) else None
        return event not in REPEATS


def console_formatter() -> structlog.stdlib.ProcessorFormatter:
    return structlog.stdlib.ProcessorFormatter(
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            readable_line,
            structlog.dev.ConsoleRenderer(
                colors=False,
                pad_event_to=0,
                pad_level=False,
                # Never the rich traceback with its local variables (secrets among them).
                exception_formatter=structlog.dev.plain_traceback,
            ),
        ],
        foreign_pre_chain=FOREIGN_PRE_CHAIN,
    )


def logging_config(*, json: bool, level: str) -> dict:
    """Django's LOGGING: every logger through structlog's formatter, JSON or console.

    Django's own handlers are replaced, not added to: each line is written once, by the root.
    """
    formatter = "json" if json else "console"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {"()": json_formatter},
            "console": {"()": console_formatter},
        },
        "filters": {
            "one_line_per_request": {"()": OneLinePerRequest},
            "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": formatter,
                "filters": [] if json else ["one_line_per_request"],
            },
            # Django's own, kept: errors mailed to ADMINS when there are any.
            "mail_admins": {
                "level": "ERROR",
                "filters": ["require_debug_false"],
                "class": "django.utils.log.AdminEmailHandler",
            },
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django": {"handlers": ["mail_admins"], "level": level, "propagate": True},
            "django.server": {"handlers": [], "level": level, "propagate": True},
            "django.db.backends": {"level": "INFO"},
        },
    }


def request_id(get_response: Callable[[HttpRequest], HttpResponse]):
    """Decide the request's id before django-structlog binds it, and name it in the response."""

    def middleware(request: HttpRequest) -> HttpResponse:
        sent = request.META.get("HTTP_X_REQUEST_ID", "")
        ident = sent if REQUEST_ID.match(sent) else uuid.uuid4().hex
        request.META["HTTP_X_REQUEST_ID"] = ident
        response = get_response(request)
        response["X-Request-ID"] = ident
        return response

    return middleware
