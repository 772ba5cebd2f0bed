"""`manage.py receive_conversation_mail --host 0.0.0.0 --port 2525`: the SMTP receiver of replies to
conversation emails (`engagement.smtp_receiver`), until stopped."""

from __future__ import annotations

import signal
import threading

from django.core.management.base import BaseCommand, CommandError

from portico.engagement import reply_addresses
from portico.engagement.smtp_receiver import ConversationMailHandler, controller


class Command(BaseCommand):
    help = "Receive email replies into conversations over SMTP."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=2525)
        parser.add_argument(
            "--messages",
            type=int,
            default=0,
            help="Stop after this many messages (default: run until stopped).",
        )

    def handle(self, *args, host: str, port: int, messages: int = 0, **options):
        if not reply_addresses.inbound_domain():
            raise CommandError("Set PORTICO_INBOUND_DOMAIN: the receiver accepts mail for that domain only.")
        handler = ConversationMailHandler()
        receiver = controller(hostname=host, port=port, handler=handler)
        receiver.start()
        self.stdout.write(f"Receiving replies for @{reply_addresses.inbound_domain()} on {host}:{port}")
        stopped = threading.Event()
        if threading.current_thread() is threading.main_thread():  # signals reach the main thread only
            signal.signal(signal.SIGTERM, lambda *_: stopped.set())
        try:
            while not stopped.wait(0.1):
                if messages and handler.handled >= messages:
                    break
        except KeyboardInterrupt:
            pass
        finally:
            receiver.stop()
        self.stdout.write(f"Stopped after {handler.handled} messages.")
