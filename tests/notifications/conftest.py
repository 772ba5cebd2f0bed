import pytest

from tests.notifications.receiver import Receiver


@pytest.fixture
def receiver():
    """A webhook receiver on a free loopback port, stopped after the test."""
    server = Receiver().start()
    try:
        yield server
    finally:
        server.stop()
