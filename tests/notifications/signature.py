"""The verification snippet of docs/webhooks.md, taken from the page itself: the tests check every
delivery with exactly what receivers are told to run."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def _documented():
    text = DOC.read_text()
    [code] = [
        block
        for block in re.findall(r"```python\n(.*?)```", text, re.S)
        if "def verify_portico_signature" in block
    ]
    namespace: dict = {}
    exec(compile(code, str(DOC), "exec"), namespace)  # our own documentation
    return namespace["verify_portico_signature"]


verify_portico_signature = _documented()
