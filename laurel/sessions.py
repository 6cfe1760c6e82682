"""Session cookies that Django never issues are dropped before the session is read.

Django issues session keys of lowercase letters and digits. Any other cookie value is forged,
and one with a NUL would reach PostgreSQL, which refuses it outright: a 500 on every page that
reads the session. Such a cookie is treated as no session at all.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse


def session_cookie_guard(get_response):
    """Before SessionMiddleware: a session cookie that is not a key Django could have made is
    ignored."""

    def middleware(request: HttpRequest) -> HttpResponse:
        key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        if key is not None and not (key.isascii() and key.isalnum()):
            del request.COOKIES[settings.SESSION_COOKIE_NAME]
        return get_response(request)

    return middleware
