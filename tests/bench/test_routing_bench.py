"""A tiny run of bench/routing_model.py: it works and prints every figure it promises.
Never a measurement."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def test_the_routing_bench_prints_every_figure():
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "routing_model.py"),
            "--appeals",
            "2000",
            "--agencies",
            "12",
            "--predictions",
            "20",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "DEBUG": "1"},
        check=True,
    )
    out = result.stdout

    assert re.search(r"^training .*: [\d.]+ s, peak resident memory \d+ MB", out, re.M)
    assert re.search(
        r"^held-out agency: top1 [01]\.\d{3} top3 [01]\.\d{3} n 200$", out, re.M
    )
    assert re.search(
        r"^held-out topic:  topic top1 [01]\.\d{3} top3 [01]\.\d{3} n 200$", out, re.M
    )
    assert re.search(r"^model file: [\d.]+ MB compressed", out, re.M)
    assert re.search(
        r"^prediction per appeal \(20\): p50 [\d.]+ ms, p95 [\d.]+ ms", out, re.M
    )
