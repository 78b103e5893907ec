from django.db import models


class Heartbeat(models.Model):
    """When a periodic job last ran: the board warns when the escalation scan goes quiet."""

    name = models.CharField(max_length=60, unique=True)
    last_ran_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.last_ran_at}"
