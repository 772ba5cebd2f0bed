"""Timing harness: median and p99 server time and queries per request, beside a floor view.

Requests go through Django's full handler and middleware in-process (the test Client), so the
figures are server time without network or browser. Each page is compared with the floor view
measured in the same run and process, so machine speed cancels out of the ratio.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

from django.db import connection
from django.test import Client

BACKEND = "portico.accounts.backends.TenantAuthenticationBackend"


@dataclass
class Result:
    name: str
    median_ms: float
    p99_ms: float
    queries: int
    status: int
    n: int


class QueryCounter:
    """Counts statements as they run (Django clears its query log at each request start)."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


class Harness:
    def __init__(self, database: str, requests: int = 200, match: list[str] | None = None):
        self.database = database
        self.requests = requests
        self.match = match or []
        self.rows: list[tuple[Result, Result]] = []
        self.notes: list[str] = []

    def wants(self, name: str) -> bool:
        """Whether a figure is to be measured (`--match`: only those whose name contains the text)."""
        return not self.match or any(text in name for text in self.match)

    def client(self, organization, user=None) -> Client:
        client = Client(HTTP_HOST=organization.host)
        if user is not None:
            client.force_login(user, backend=BACKEND)
        return client

    def _timed_get(self, client: Client, path: str) -> tuple[float, object]:
        start = time.perf_counter()
        response = client.get(path)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
        return (time.perf_counter() - start) * 1000, response

    def _queries(self, client: Client, path: str) -> int:
        counter = QueryCounter()
        with connection.execute_wrapper(counter):
            client.get(path)
        return counter.count

    def _result(self, name: str, times: list[float], queries: int, response) -> Result:
        if response.status_code != 200:
            raise RuntimeError(f"{name}: answered {response.status_code}")
        return Result(
            name, statistics.median(times), percentile(times, 99), queries, response.status_code, len(times)
        )

    def compare(
        self, name: str, client: Client, path: str, n: int | None = None
    ) -> tuple[Result, Result] | None:
        """Measure a page and the floor view, alternating request by request, and keep both.

        Alternating means a slower or faster stretch of the machine (other tenants of the host,
        frequency scaling) falls on both alike, so the ratio holds still where the times do not.
        """
        if not self.wants(name):
            return None
        n = n or self.requests
        floor_path = "/bench/floor/"
        for _ in range(5):
            client.get(path)
            client.get(floor_path)
        queries = (self._queries(client, path), self._queries(client, floor_path))
        page_times, floor_times = [], []
        page_response = floor_response = None
        for _ in range(n):
            elapsed, page_response = self._timed_get(client, path)
            page_times.append(elapsed)
            elapsed, floor_response = self._timed_get(client, floor_path)
            floor_times.append(elapsed)
        page = self._result(name, page_times, queries[0], page_response)
        floor = self._result("floor", floor_times, queries[1], floor_response)
        self.rows.append((page, floor))
        return page, floor

    def timed(self, name: str, fn, n: int = 5) -> float | None:
        """Median milliseconds of a callable (e.g. rendering a PDF)."""
        if not self.wants(name):
            return None
        times, cpu = [], []
        for _ in range(n):
            start, start_cpu = time.perf_counter(), time.process_time()
            fn()
            times.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
        median = statistics.median(times)
        # The CPU time too: on a shared machine the wall time also counts the other processes' turns.
        self.notes.append(
            f"{name}: median {median:.1f} ms over {n} runs (CPU {statistics.median(cpu):.1f} ms)"
        )
        return median

    def report(self) -> str:
        head = f"{'page':<34} {'median ms':>10} {'p99 ms':>9} {'queries':>8} {'floor ms':>9} {'floor q':>8} {'ratio':>7}"
        lines = [f"== {self.database} ==", head, "-" * len(head)]
        for page, floor in self.rows:
            ratio = page.median_ms / floor.median_ms if floor.median_ms else float("nan")
            lines.append(
                f"{page.name:<34} {page.median_ms:>10.2f} {page.p99_ms:>9.2f} {page.queries:>8} "
                f"{floor.median_ms:>9.2f} {floor.queries:>8} {ratio:>6.1f}x"
            )
        lines += self.notes
        return "\n".join(lines)
