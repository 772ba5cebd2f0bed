"""Progress for long commands (the demo, the bill run, imports): a bar that redraws itself on a
terminal and prints a few plain lines when the output is a file or a pipe (CI logs, cron mail).

    with Progress("Loading the demo", total=5, stream=self.stdout) as progress:
        for step in steps:
            progress.advance(label=step.name)
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    WIDTH = 30

    def __init__(self, title: str, total: int, stream: TextIO | None = None, every_seconds: float = 5.0):
        self.title = title
        self.total = max(int(total), 1)
        self.done = 0
        self.label = ""
        self.stream = stream if stream is not None else sys.stderr
        self.started = time.monotonic()
        self._last_line = 0.0
        self._every = every_seconds
        # Django's OutputWrapper wraps the real stream: ask the real one whether it is a terminal.
        real = getattr(self.stream, "_out", self.stream)
        self.interactive = bool(getattr(real, "isatty", lambda: False)())

    def __enter__(self) -> Progress:
        self._draw(force=True)
        return self

    def __exit__(self, *exc) -> None:
        if exc[0] is None:
            self.done = self.total
        self._draw(force=True)
        if self.interactive:
            self._write("\n")

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def advance(self, n: int = 1, label: str = "") -> None:
        self.done = min(self.done + n, self.total)
        if label:
            self.label = label
        self._draw()

    def line(self) -> str:
        share = self.done / self.total
        filled = round(share * self.WIDTH)
        bar = "█" * filled + "·" * (self.WIDTH - filled)
        label = f" {self.label}" if self.label else ""
        return f"{self.title} [{bar}] {self.done}/{self.total} {share:4.0%} {self.elapsed:5.1f}s{label}"

    def _draw(self, force: bool = False) -> None:
        if self.interactive:
            self._write("\r\x1b[2K" + self.line())
            return
        now = time.monotonic()
        if force or now - self._last_line >= self._every:
            self._last_line = now
            self._write(self.line() + "\n")

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text, ending="")  # Django's OutputWrapper
        except TypeError:
            self.stream.write(text)
        flush = getattr(self.stream, "flush", None)
        if flush is not None:
            flush()
