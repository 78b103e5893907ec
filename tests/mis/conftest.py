import pytest

from .fake_wonde import SCHOOL_ID, TOKEN, FakeWonde


@pytest.fixture
def fake_wonde():
    fake = FakeWonde().start()
    yield fake
    fake.stop()


@pytest.fixture
def wonde(oakfield, fake_wonde, monkeypatch, settings):
    """Oakfield connected to the fake Wonde; retries without real waiting."""
    from mis.models import WondeConnection

    monkeypatch.setenv(f"WONDE_TOKEN_{SCHOOL_ID}", TOKEN)
    settings.MIS_BACKOFF_SECONDS = 0
    settings.MIS_TIMEOUT_SECONDS = 1.0
    settings.MIS_PER_PAGE = 100
    return WondeConnection.objects.create(
        school=oakfield, wonde_school_id=SCHOOL_ID, base_url=fake_wonde.base_url
    )


@pytest.fixture
def sleeps():
    """What the client waited (it never really sleeps in the tests)."""
    return []


@pytest.fixture
def sync(oakfield, wonde, sleeps):
    """sync(full=False) → the run, with a client that records its waits instead of sleeping."""
    from mis.services import mis_sync_run
    from mis.wonde import WondeClient

    def run(full=False):
        client = WondeClient(base_url=wonde.base_url, token=TOKEN, sleep=sleeps.append)
        return mis_sync_run(school=oakfield, full=full, client=client)

    return run
