"""A small client for Wonde's REST API (https://docs.wonde.com), read-only.

Bearer token per school; pages followed through `meta.pagination.next`; `updated_after` for
deltas; 429 answered by waiting Retry-After; 5xx, timeouts and dropped connections retried with
exponential backoff; anything else (401, 403, 404) fails at once with a plain reason.
"""

import datetime
import time

import requests
from django.conf import settings

from core.numbers import is_whole_number

STUDENT_INCLUDES = "contacts,contacts.contact_details,education_details"
EMPLOYEE_INCLUDES = "contact_details"
MAX_RETRY_AFTER_SECONDS = 120


class WondeError(Exception):
    """Wonde could not be read; the run changes nothing."""


def wonde_time(moment: datetime.datetime) -> str:
    """Wonde's `updated_after` format: UTC, `YYYY-MM-DD HH:MM:SS`."""
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S")


class WondeClient:
    def __init__(self, *, base_url: str, token: str, sleep=time.sleep, session=None):
        if not token:
            raise WondeError("No Wonde token is set for this school (see docs/mis-sync.md).")
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.sleep = sleep
        self.session = session or requests.Session()
        self.timeout = settings.MIS_TIMEOUT_SECONDS
        self.attempts = settings.MIS_ATTEMPTS
        self.backoff = settings.MIS_BACKOFF_SECONDS
        self.per_page = settings.MIS_PER_PAGE

    def _get(self, url: str, params=None) -> dict:
        problem = ""
        for attempt in range(self.attempts):
            wait = self.backoff * (2**attempt)
            try:
                response = self.session.get(
                    url,
                    params=params,
                    headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json"},
                    timeout=self.timeout,
                )
            except (requests.Timeout, requests.ConnectionError) as error:
                problem = f"no answer ({type(error).__name__})"
                self.sleep(wait)
                continue
            if response.status_code == 429:
                problem = "rate limited (429)"
                retry_after = response.headers.get("Retry-After", "")
                if is_whole_number(retry_after):
                    wait = min(int(retry_after), MAX_RETRY_AFTER_SECONDS)
                self.sleep(wait)
                continue
            if response.status_code >= 500:
                problem = f"server error ({response.status_code})"
                self.sleep(wait)
                continue
            if response.status_code in (401, 403):
                raise WondeError(
                    f"Wonde refused the token ({response.status_code}): check the school "
                    "approved Homeward and the token is current."
                )
            if response.status_code >= 400:
                raise WondeError(f"Wonde answered {response.status_code} for {url}.")
            try:
                return response.json()
            except ValueError as error:
                raise WondeError(f"Wonde sent something that is not JSON from {url}.") from error
        raise WondeError(f"Wonde did not answer after {self.attempts} attempts: {problem}.")

    def _all(self, path: str, params: dict) -> list[dict]:
        url = f"{self.base_url}{path}"
        params = {**params, "per_page": self.per_page}
        records = []
        while url:
            body = self._get(url, params)
            records.extend(body.get("data") or [])
            url = ((body.get("meta") or {}).get("pagination") or {}).get("next")
            params = None  # the next page's URL carries the query
        return records

    def _since(self, updated_after) -> dict:
        return {"updated_after": wonde_time(updated_after)} if updated_after else {}

    def students(self, school_id: str, updated_after=None) -> list[dict]:
        params = {"include": STUDENT_INCLUDES, **self._since(updated_after)}
        return self._all(f"/schools/{school_id}/students", params)

    def employees(self, school_id: str, updated_after=None) -> list[dict]:
        params = {"include": EMPLOYEE_INCLUDES, **self._since(updated_after)}
        return self._all(f"/schools/{school_id}/employees", params)

    def deletions(self, school_id: str, updated_after=None) -> list[dict]:
        params = {"type": "student", **self._since(updated_after)}
        return self._all(f"/schools/{school_id}/deletions", params)
