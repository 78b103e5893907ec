"""Operations tests (health, metrics, logs, deployment) reuse the tracking tests' world: Sam and
Tess signed out by Olive, a scan that runs what it hands to the workers, and a still clock."""

from tests.tracking.conftest import clock, scan, signout, visit  # noqa: F401 - fixtures
