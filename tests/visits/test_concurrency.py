"""Two DSLs authorising at the same moment on PostgreSQL produce one authorisation (R-AUTH-4)."""

import threading

import pytest
from django.db import close_old_connections, connection

from tests.factories import assessment_for, visit_draft
from visits import authorisation, common, requests
from visits.models import Authorisation, Status, Visit

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs real concurrent transactions (PostgreSQL)"
)


@pytest.mark.django_db(transaction=True)
def test_two_dsls_clicking_authorise_together_make_one_authorisation(sam, tess, dana, hugh, pupil):
    # R-AUTH-4: the conditional update lets exactly one of them win.
    visit = requests.visit_submit(actor=sam, visit=visit_draft(sam, pupil, [sam, tess]))
    assessment_for(visit, sam)
    barrier = threading.Barrier(2)
    outcomes = {}

    def decide(user):
        try:
            barrier.wait(timeout=10)
            authorisation.visit_authorise(actor=user, visit=Visit.objects.get(pk=visit.pk))
            outcomes[user.username] = "won"
        except common.VisitConflict as conflict:
            outcomes[user.username] = str(conflict)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=decide, args=(u,)) for u in (dana, hugh)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(v == "won" for v in outcomes.values()) == [False, True]
    loser = next(v for v in outcomes.values() if v != "won")
    assert "already authorised by" in loser
    assert Authorisation.objects.filter(visit=visit).count() == 1
    assert Visit.objects.get(pk=visit.pk).status == Status.AUTHORISED
