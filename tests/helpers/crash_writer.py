"""Appends batches forever, printing each acknowledged (committed) last seq. Killed by the test."""

import sys
from pathlib import Path

from memcli.core import operations as ops
from memcli.engine import Engine
from memcli.settings import load_settings

BATCH = 20

engine = Engine(load_settings(data_dir=Path(sys.argv[1])))
i = 0
while True:
    events = engine.apply("crash", [ops.Add(text=f"fact {i}-{j}") for j in range(BATCH)], sync_index=False)
    print(f"ACK {events[-1].seq}", flush=True)
    i += 1
