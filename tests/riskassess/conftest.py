import datetime

import pytest
from django.utils import timezone


@pytest.fixture(autouse=True)
def _a_wednesday_morning_at_school(time_machine):
    """Wednesday 25/11/2026 09:30 in Oakfield's time; visits start tomorrow at 10:00."""
    time_machine.move_to(
        datetime.datetime(2026, 11, 25, 9, 30, tzinfo=timezone.get_current_timezone()), tick=False
    )


@pytest.fixture
def visit(sam, tess, pupil):
    from tests.factories import visit_draft

    return visit_draft(sam, pupil, [sam, tess])


@pytest.fixture
def doorstep_visit(sam, tess, pupil):
    from tests.factories import visit_draft

    return visit_draft(sam, pupil, [sam, tess], kind="doorstep")
