"""Issue 19, cheap insurance: another site cannot start a document download (and so cannot fill
the audit trail with downloads nobody meant). `Sec-Fetch-Site: cross-site` → 403, audited;
same-origin, same-site, none and an absent header (older browsers) download as before."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from tests.auth import sign_in

LONDON = timezone.get_current_timezone()


@pytest.fixture(autouse=True)
def _wednesday_afternoon(time_machine):
    time_machine.move_to(datetime.datetime(2026, 11, 25, 14, 5, tzinfo=LONDON), tick=False)


@pytest.fixture
def downloads(returned_visit, sam, complete_record, pupil, oakfield):
    from tests.factories import assessment_for  # noqa: F401 - the visit already has one

    complete_record(returned_visit, sam)
    return [
        reverse("records:record_pdf", args=[returned_visit.pk]),
        reverse("records:assessment_pdf", args=[returned_visit.pk]),
        reverse("records:blank_pdf", args=[oakfield.pk, "home-visit-form"]),
        reverse("records:chronology_pdf", args=[pupil.pk]),
        reverse("records:pupil_file_pdf", args=[pupil.pk]),
        reverse("records:export") + f"?school={oakfield.pk}&start=2026-11-01&end=2026-11-30",
    ]


def test_a_download_started_from_another_site_is_refused_and_audited(client, downloads, dana):
    sign_in(client, dana)
    before = AuditEvent.objects.filter(event_type="document.downloaded").count()
    for url in downloads:
        response = client.get(url, headers={"Sec-Fetch-Site": "cross-site"})
        assert response.status_code == 403, url
        assert not response.has_header("Content-Disposition")
    assert AuditEvent.objects.filter(event_type="document.downloaded").count() == before
    refused = AuditEvent.objects.filter(event_type="document.refused_cross_site")
    assert refused.count() == len(downloads)
    assert {event.actor for event in refused} == {dana}


@pytest.mark.parametrize("origin", ["same-origin", "same-site", "none", None])
def test_a_download_from_homeward_itself_or_an_old_browser_still_works(
    client, downloads, dana, origin
):
    sign_in(client, dana)
    headers = {"Sec-Fetch-Site": origin} if origin else {}
    for url in downloads:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, url
        assert response["Content-Disposition"].startswith("attachment;")
    downloaded = AuditEvent.objects.filter(event_type="document.downloaded").count()
    assert downloaded == len(downloads)  # audited reads are kept


def test_the_export_form_page_itself_opens_from_a_link_elsewhere(client, dana):
    # Only the download is same-site: the page with the form is an ordinary page.
    sign_in(client, dana)
    response = client.get(reverse("records:export"), headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 200
