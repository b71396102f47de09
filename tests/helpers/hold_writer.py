"""Opens a data dir for writing, writes a few memories, prints READY and keeps writing until killed."""

import sys
import time
from pathlib import Path

from memcli.core import operations as ops
from memcli.engine import Engine
from memcli.settings import load_settings

engine = Engine(load_settings(data_dir=Path(sys.argv[1])))
engine.apply("rag-turns", [ops.Add(text=f"fact {i}") for i in range(5)])
print("READY", engine.store.last_seq, flush=True)
i = 0
while True:
    engine.apply("rag-turns", [ops.Add(text=f"later fact {i}")])
    i += 1
    time.sleep(0.01)
