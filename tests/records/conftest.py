"""A visit the visitors have just come back from, and a complete record of it."""

import pytest

from records import services
from tests.factories import visit_returned


@pytest.fixture
def returned_visit(sam, tess, dana, hugh, olive, pupil):
    return visit_returned(sam, pupil, [sam, tess], dana)


COMPLETE = {
    "others_present": "Mother (Sarah) and a younger sibling.",
    "adults_presentation": "Mother calm and welcoming; tired.",
    "home_conditions": "Tidy front room, food in the kitchen.",
    "family_wanted_help": "wanted",
    "help_offered": "Signposted to the food bank; uniform grant form left.",
    "acknowledgement": "signed",
    "acknowledged_by_name": "Sarah Ahmed",
    "comments": "Mother says Aisha has had a cough for a week.",
    "outcome": "seen_no_concerns",
    "outcome_details": "Aisha seen and spoken to; returning to school on Monday.",
    "action_required": "Attendance officer to call on Monday at 09:30.",
}
SEEN = {
    "seen": True,
    "spoken_to": True,
    "seen_alone": False,
    "why_not": "Aisha wanted her mother to stay in the room.",
    "child_said": '“I’ve been poorly but I want to come back,” she said. "I miss Miss Patel."',
    "physical_presentation": "Clean, dressed for the weather, slight cough.",
    "emotional_presentation": "Smiling, chatty, made eye contact.",
    "clothing": "no_concern",
    "hunger": "no_concern",
    "cleanliness": "no_concern",
}


def record_answers(visit, **overrides) -> dict:
    fields = {**COMPLETE, **{k: v for k, v in overrides.items() if k != "pupils"}}
    pupils = overrides.get("pupils") or {pupil.pk: dict(SEEN) for pupil in visit.pupils.all()}
    return {"fields": fields, "pupils": pupils}


@pytest.fixture
def complete_record():
    """`complete_record(visit, by, submit=True, **overrides)` → the record, saved, submitted."""

    def make(visit, by, *, submit=True, **overrides):
        record = services.record_save(actor=by, visit=visit, **record_answers(visit, **overrides))
        if submit:
            record = services.record_submit(actor=by, visit=visit)
        return record

    return make


def queries_for(client, url):
    """(number of queries, response) of one GET: pages with lists must not grow with rows.

    The page is opened once before counting: a process's first request fills caches once (content
    types, permissions), which depends on which tests ran before, not on the page."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured), response
