"""The SMS "provider" of `make cluster-test`: appends each message's idempotency reference to the
file CLUSTER_SMS_LOG, from whichever worker process sends it, so the test can count how many
times each message reached the provider. One short O_APPEND write per message: atomic."""

import os
import time
import uuid


class AppendFileBackend:
    def send(self, *, to: str, body: str, reference: str) -> str:
        time.sleep(float(os.environ.get("CLUSTER_SMS_DELAY", "0")))  # a provider takes a while
        line = f"{reference}\t{time.time():.3f}\n".encode()
        fd = os.open(os.environ["CLUSTER_SMS_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
        return uuid.uuid4().hex
