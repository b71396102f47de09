"""Opens a data dir read-only (as `memcli memories search` or a long `log --sql` does), prints READY, waits."""

import sys
import time
from pathlib import Path

from memcli.core.store.log import EventStore

store = EventStore(Path(sys.argv[1]), read_only=True)
store.events()
print("READY", flush=True)
time.sleep(600)
