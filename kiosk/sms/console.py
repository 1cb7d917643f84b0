"""A development backend: prints each SMS to standard output instead of sending it.

For the demo only. It prints message bodies, which hold the name typed at the kiosk; never use it in production.
"""

import itertools
import sys
from typing import TextIO

from kiosk.phone import mask
from kiosk.sms.base import SmsClient


class ConsoleSmsClient(SmsClient):
    name = "console"

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self._ids = itertools.count(1)

    def _send(self, to: str, body: str, *, ref: str) -> str:
        # One write per message: two gunicorn workers printing at once must not run their lines together.
        self.stream.write(f"[SMS to {mask(to)}] {body}\n")
        self.stream.flush()
        return f"SMconsole{next(self._ids):027d}"

    def _redact(self, sid: str) -> None:
        pass  # nothing left the machine, so no provider keeps a copy
