"""A fake Wonde on 127.0.0.1 (a threaded http.server) that follows Wonde's documented shapes:
GET /v1.0/schools/{id}/students?include=contacts,contacts.contact_details,education_details,
/employees?include=contact_details, /deletions?type=student; `updated_after`; pages with
`meta.pagination.next`; a bearer token. Tests script its failures: a 429 with Retry-After, a
500 or a hang on a given page, and fields the school switched off."""

import datetime
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

SCHOOL_ID = "A1930499544"
TOKEN = "wonde-test-token"  # noqa: S105 - the fake's


def wonde_date(day: datetime.date) -> dict:
    return {"date": f"{day.isoformat()} 00:00:00.000000", "timezone_type": 3, "timezone": "UTC"}


def student(n: int, *, contacts: list[dict], year: str = "5", upn=None, updated="2026-01-01"):
    return {
        "id": f"S{n:05d}",
        "mis_id": str(n),
        "forename": f"Pupil{n}",
        "surname": f"Family{n // 2}",
        "date_of_birth": wonde_date(datetime.date(2015, 1, 1) + datetime.timedelta(days=n % 700)),
        "updated_at": {"date": f"{updated} 00:00:00.000000"},
        "education_details": {
            "data": {
                "upn": upn if upn is not None else f"A{n:012d}",
                "current_nc_year": year,
                "date_of_leaving": None,
            }
        },
        "contacts": {"data": contacts},
    }


# Ofcom's ranges for drama: 1,000 numbers each, so thousands of carers all get valid numbers.
DRAMA_PREFIXES = (
    "07700 900", "0113 496 0", "0114 496 0", "0115 496 0", "0116 496 0",
    "0117 496 0", "0118 496 0", "0121 496 0", "0131 496 0", "0141 496 0",
)  # fmt: skip


def drama_number(n: int) -> str:
    return f"{DRAMA_PREFIXES[n // 1000 % len(DRAMA_PREFIXES)]}{n % 1000:03d}"


def contact(n: int, *, relationship="Mother", priority=1, mobile=None, postcode="LS6 2BD"):
    return {
        "id": f"C{n:05d}",
        "forename": f"Carer{n}",
        "surname": f"Family{n}",
        "relationship": {
            "data": {
                "relationship": relationship,
                "priority": priority,
                "parental_responsibility": True,
            }
        },
        "contact_details": {
            "data": {
                "phones": {"mobile": mobile or drama_number(n), "home": None},
                "emails": {"email": f"carer{n}@example.org"},
                "addresses": {
                    "home": {
                        "house_number": str(n % 200 + 1),
                        "street": "Elm Grove",
                        "town": "Leeds",
                        "postcode": postcode,
                    }
                },
            }
        },
    }


def employee(n: int, *, email=None):
    return {
        "id": f"E{n:04d}",
        "forename": f"Staff{n}",
        "surname": "Member",
        "updated_at": {"date": "2026-01-01 00:00:00.000000"},
        "contact_details": {"data": {"emails": {"email": email or f"staff{n}@oakfield.example"}}},
    }


def school_of(pupils: int, staff: int = 0) -> "FakeWonde":
    """`pupils` pupils in pupils/2 families of two carers each (siblings share a household)."""
    fake = FakeWonde()
    for n in range(pupils):
        family = n // 2
        fake.students[f"S{n:05d}"] = student(
            n,
            contacts=[
                contact(2 * family, relationship="Mother", priority=1),
                contact(2 * family + 1, relationship="Father", priority=2),
            ],
        )
    for n in range(staff):
        fake.employees[f"E{n:04d}"] = employee(n)
    return fake


class FakeWonde:
    def __init__(self, per_page_cap: int = 500):
        self.students: dict[str, dict] = {}
        self.employees: dict[str, dict] = {}
        self.deletions: list[dict] = []
        self.switched_off: set[str] = set()  # e.g. {"date_of_birth"}: never sent
        self.failures: list[dict] = []  # {"path": "students", "page": 3, "status": 500|429|"hang"}
        self.requests: list[str] = []
        self.per_page_cap = per_page_cap
        self.hang_seconds = 2.5  # longer than the tests' timeout (tests/mis/conftest.py)
        self.server = None

    # The data, as Wonde would send it

    def _records(self, kind: str, query: dict) -> list[dict]:
        if kind == "students":
            records = list(self.students.values())
        elif kind == "employees":
            records = list(self.employees.values())
        else:
            records = list(self.deletions)
        after = query.get("updated_after")
        if after:
            records = [r for r in records if _updated(r) > after]
        return records

    def _sent(self, records: list[dict]) -> list[dict]:
        """What Wonde sends of these records: a copy, without the switched-off fields."""
        out = []
        for record in records:
            record = json.loads(json.dumps(record))
            for field in self.switched_off:
                record.pop(field, None)
                for c in (record.get("contacts") or {}).get("data", []):
                    c.pop(field, None)
            out.append(record)
        return out

    def handle(self, handler):
        url = urlsplit(handler.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.requests.append(handler.path)
        if handler.headers.get("Authorization") != f"Bearer {TOKEN}":
            return handler.answer(401, {"error": "invalid token"})
        parts = url.path.strip("/").split("/")
        if parts[:2] != ["v1.0", "schools"] or len(parts) != 4 or parts[2] != SCHOOL_ID:
            return handler.answer(404, {"error": "not found"})
        kind = parts[3]
        page = int(query.get("page", "1"))
        for failure in list(self.failures):
            if failure["path"] == kind and failure["page"] == page:
                self.failures.remove(failure)
                if failure["status"] == "hang":
                    time.sleep(self.hang_seconds)
                    return handler.answer(200, {"data": [], "meta": {}})
                headers = {"Retry-After": "1"} if failure["status"] == 429 else {}
                return handler.answer(failure["status"], {"error": "scripted"}, headers)
        records = self._records(kind, query)
        per_page = min(int(query.get("per_page", "50")), self.per_page_cap)
        start = (page - 1) * per_page
        chunk = self._sent(records[start : start + per_page])
        more = start + per_page < len(records)
        next_url = None
        if more:
            next_query = {**query, "page": page + 1}
            next_url = f"{self.base_url}/schools/{SCHOOL_ID}/{kind}?{urlencode(next_query)}"
        return handler.answer(
            200,
            {
                "data": chunk,
                "meta": {
                    "pagination": {
                        "next": next_url,
                        "previous": None,
                        "more": more,
                        "per_page": per_page,
                        "current_page": page,
                    }
                },
            },
        )

    # The server

    def start(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                fake.handle(self)

            def answer(self, status, body, headers=None):
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in (headers or {}).items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (the timeout test)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1.0"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def _updated(record) -> str:
    value = record.get("updated_at") or record.get("created_at") or {}
    return (value.get("date") if isinstance(value, dict) else str(value))[:19]
