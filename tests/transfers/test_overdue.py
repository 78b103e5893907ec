"""R-REC-8: a file past its deadline shows on the DSL's queue, the records dashboard and the
file transfer page, for the school's DSLs only."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.auth import sign_in

from .conftest import transfer_to_send


@pytest.fixture(autouse=True)
def _a_thursday_in_term(time_machine):
    time_machine.move_to(
        datetime.datetime(2026, 12, 10, 9, 0, tzinfo=timezone.get_current_timezone()), tick=False
    )


@pytest.mark.parametrize("url", ["visits:queue", "records:dashboard", "transfers:dashboard"])
def test_an_overdue_file_transfer_is_on_the_dsls_pages(client, dana, oakfield, url):
    transfer_to_send(oakfield, left_on=datetime.date(2026, 11, 25))
    sign_in(client, dana)
    page = client.get(reverse(url)).content.decode()
    assert "Leo Lewis" in page and "overdue" in page.lower()


def test_another_schools_overdue_transfer_is_not_shown(client, bea, oakfield):
    transfer_to_send(oakfield, left_on=datetime.date(2026, 11, 25))
    sign_in(client, bea)
    assert "Leo Lewis" not in client.get(reverse("visits:queue")).content.decode()


def test_the_file_transfer_page_takes_the_same_number_of_queries_for_many_files(
    client, dana, oakfield, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    transfer_to_send(oakfield, left_on=datetime.date(2026, 11, 25))
    sign_in(client, dana)
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("transfers:dashboard"))
    for n in range(5):
        transfer_to_send(oakfield, first_name=f"Kid{n}", left_on=datetime.date(2026, 11, 25))
    with CaptureQueriesContext(connection) as six:
        client.get(reverse("transfers:dashboard"))
    assert len(six) == len(one)
