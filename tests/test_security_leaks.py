"""Nothing leaks (issue #7): the scanner that checks every email, SMS and log line of the suite
(tests/leaks.py, wired into every test's teardown) finds a child's name, date of birth or
address, and lets staff names, times and links through."""

import datetime
import logging
import sys
import types

from django.core import mail
from django.urls import reverse

from tests import leaks


def test_the_scanner_finds_each_kind_of_child_detail(pupil):
    children = leaks.children_in_database()
    found = {
        leak.what
        for text in (
            "Visit for Aisha tomorrow",
            "AHMED household",
            "born 14/03/2017",
            "born 14 March 2017",
            "at 12 Elm Grove",
            "postcode ls62bd",
        )
        for leak in leaks.leaks_in(text, children, "test")
    }
    assert found == {"name", "date of birth", "address", "postcode"}


def test_the_scanner_lets_staff_names_times_and_links_through(pupil, sam):
    text = (
        "Sam Example asked for a visit on 24/11/2026 at 10:00. "
        "Open it: https://homeward.example/visits/12/"
    )
    assert leaks.leaks_in(text, leaks.children_in_database(), "email") == []


def test_every_test_s_emails_are_scanned_before_its_database_goes(request, pupil):
    mail.send_mail("Visit", "Please visit Aisha Ahmed today", "a@school.example", ["b@x.example"])
    try:
        found = leaks.scan(request.node)
        assert [leak.what for leak in found] == ["name"]
    finally:
        mail.outbox.clear()  # or this very test would fail at teardown, as it should


def test_html_alternatives_are_scanned_too(request, pupil):
    message = mail.EmailMultiAlternatives("Visit", "See the link", to=["b@x.example"])
    message.attach_alternative("<p>Pupil: Aisha&nbsp;Ahmed</p>", "text/html")
    message.send()
    try:
        assert [leak.what for leak in leaks.scan(request.node)] == ["name"]
    finally:
        mail.outbox.clear()


def test_text_messages_are_scanned_once_the_sms_outbox_exists(request, monkeypatch, pupil):
    fake = types.ModuleType("tracking.sms")
    fake.outbox = [types.SimpleNamespace(to="+447700900101", body="Child: Aisha, 12 Elm Grove")]
    monkeypatch.setitem(sys.modules, "tracking.sms", fake)
    found = leaks.scan(request.node)
    fake.outbox.clear()
    assert sorted(leak.what for leak in found) == ["address", "name"]


def test_log_lines_are_scanned(request, caplog, pupil):
    logging.getLogger("homeward.test").warning("Could not send for %s", "Aisha Ahmed")
    try:
        assert [leak.what for leak in leaks.scan(request.node)] == ["name"]
    finally:
        caplog.clear()


def test_the_scan_runs_at_every_test_s_teardown(request):
    hooks = request.config.pluginmanager.hook.pytest_runtest_teardown.get_hookimpls()
    assert leaks.pytest_runtest_teardown in [hook.function for hook in hooks]


def test_the_password_reset_email_carries_no_child_data(client, dana, pupil, request):
    client.post(reverse("password_reset"), {"email": dana.email})
    assert len(mail.outbox) == 1
    assert leaks.scan(request.node) == []


def test_errors_shown_to_people_carry_no_stack_trace_or_sql(signed_in, dana, monkeypatch):
    from django.db import DatabaseError

    from visits import views

    def broken(**kwargs):
        raise DatabaseError('relation "visits_visit" SELECT * FROM visits_visit WHERE id = 1')

    monkeypatch.setattr(views.selectors, "visit_get", broken)
    client = signed_in(dana)
    client.raise_request_exception = False
    response = client.get(reverse("visits:detail", kwargs={"pk": 1}))
    page = response.content.decode()
    assert response.status_code == 500
    assert "Traceback" not in page and "SELECT" not in page and "visits_visit" not in page


def test_an_old_date_of_birth_in_a_log_is_found(pupil, request, caplog):
    logging.getLogger("homeward.test").info("dob %s", datetime.date(2017, 3, 14).isoformat())
    try:
        assert [leak.what for leak in leaks.scan(request.node)] == ["date of birth"]
    finally:
        caplog.clear()
