"""Sessions kept in the database as Django keeps them, ignoring keys Django never issues.

Django issues session keys of lowercase letters and digits. Any other cookie value is forged,
and one with a NUL would reach PostgreSQL, which refuses it outright: a 500 on every page that
reads the session. Such a key is treated as no session at all (SESSION_ENGINE).
"""

from django.contrib.sessions.backends import db


class SessionStore(db.SessionStore):
    def _validate_session_key(self, key: str | None) -> bool:
        return bool(super()._validate_session_key(key)) and key.isascii() and key.isalnum()
