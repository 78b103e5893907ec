"""SMS backends that misbehave the ways real providers and workers do, for the outbox tests.
Selected with settings.SMS_BACKEND = "tests.tracking.sms_doubles.<Name>"."""

from tracking import sms


class WorkerDied(BaseException):
    """Stands for the worker being killed in the middle of a send: nothing after it runs."""


class RefusingBackend(sms.BaseBackend):
    """The provider says no (a 5xx, a bad number): certainly not sent."""

    def send(self, *, to, body, reference):
        raise sms.SmsNotSent("503 Service Unavailable")


class TimingOutBackend(sms.BaseBackend):
    """The request left, no answer came back: it may have been delivered."""

    def send(self, *, to, body, reference):
        raise TimeoutError("read timed out")


class DyingBackend(sms.BaseBackend):
    """The provider receives the message, then the worker dies before recording it."""

    def send(self, *, to, body, reference):
        sms.InMemoryBackend().send(to=to, body=body, reference=reference)
        raise WorkerDied()
