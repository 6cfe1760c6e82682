"""Structured logs: one JSON object a line in real mode, readable lines in embedded mode.

django-structlog binds each request's id to every line logged while it runs, Laurel's own
loggers and Django's included; the id is the proxy's X-Request-ID when it sent a sane one, so
nginx's access log and Laurel's lines join on it, and every response names it.
"""

import re
import uuid
from collections.abc import Callable

import structlog
from django.http import HttpRequest, HttpResponse

# nginx's $request_id is 32 hex digits; anything else a client sent is replaced, so a header
# cannot write arbitrary text into every line of the log.
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

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


FOREIGN_PRE_CHAIN = [*SHARED_PROCESSORS, structlog.stdlib.ExtraAdder(), request_of_record]


def structlog_configure() -> None:
    structlog.configure(
        processors=[
            *SHARED_PROCESSORS,
            structlog.stdlib.PositionalArgumentsFormatter(),
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


def console_formatter() -> structlog.stdlib.ProcessorFormatter:
    return structlog.stdlib.ProcessorFormatter(
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.dev.ConsoleRenderer(colors=False),
        ],
        foreign_pre_chain=FOREIGN_PRE_CHAIN,
    )


def logging_config(*, json: bool, level: str) -> dict:
    """Django's LOGGING: every logger through structlog's formatter, JSON or console."""
    formatter = "json" if json else "console"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {"()": json_formatter},
            "console": {"()": console_formatter},
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": formatter}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {"django.db.backends": {"level": "INFO"}},
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
