"""Sessions read from the cache and written through to the database (issue 15), that keep
working when the cache (Redis) is down: every read and write then goes to the database alone.

Django's own `cached_db` already survives a failed cache write on save; a failed cache read
falls back to the database, but the cache write after it, the existence check and the delete on
sign-out still raise. Here each of those is caught and logged, so a Redis outage costs a
signed-in page a database read, never an error page.
"""

import logging

from django.contrib.sessions.backends import cached_db
from django.contrib.sessions.backends.db import SessionStore as DatabaseStore

logger = logging.getLogger("django.contrib.sessions")


class SessionStore(cached_db.SessionStore):
    def load(self):
        try:
            data = self._cache.get(self.cache_key)
        except Exception:
            logger.warning("Session cache unavailable: reading the session from the database.")
            data = None
        if data is not None:
            return data
        stored = self._get_session_from_db()
        if not stored:
            return {}
        data = self.decode(stored.session_data)
        try:
            self._cache.set(self.cache_key, data, self.get_expiry_age(expiry=stored.expire_date))
        except Exception:
            logger.warning("Session cache unavailable: the session is not cached.")
        return data

    def exists(self, session_key):
        try:
            if session_key and (self.cache_key_prefix + session_key) in self._cache:
                return True
        except Exception:
            logger.warning("Session cache unavailable: asking the database.")
        return DatabaseStore.exists(self, session_key)

    def delete(self, session_key=None):
        DatabaseStore.delete(self, session_key)
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        try:
            self._cache.delete(self.cache_key_prefix + session_key)
        except Exception:
            # The row is gone, so a session read from the database again is ended; a copy the
            # cache still holds would outlive it, so this is logged as an error.
            logger.exception("Could not remove an ended session from the cache (%s)", self._cache)
