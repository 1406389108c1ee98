"""``python -m runbook_lib local-aws``: the embedded local AWS alone, for papermill and JupyterLab users.

It runs until SIGINT, SIGTERM or SIGHUP (a closed terminal), then stops MiniStack cleanly. stdout says where it
is, one ``key=value`` a line, ``endpoint_url=`` first and flushed at once so a script can read it; what to do
with it goes to stderr.
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import TextIO

from runbook_lib.aws.local import LocalAWS
from runbook_lib.aws.target import ENDPOINT_ENV
from runbook_lib.errors import LocalStackError

__all__ = ["serve_local_aws"]


def serve_local_aws(log_dir: Path, port: int | None, out: TextIO) -> int:
    """Start MiniStack on 127.0.0.1 (``port``, or a free one), print where, serve until a signal; returns 0."""
    stop = threading.Event()
    stops = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in stops}
    try:
        with LocalAWS(log_dir=log_dir, port=port) as aws:
            assert aws.process is not None
            out.write(f"endpoint_url={aws.endpoint_url}\nministack_pid={aws.process.pid}\nlog={aws.log_path}\n")
            out.flush()
            print(f"The local AWS runs on {aws.endpoint_url} until Ctrl-C or SIGTERM. Pass it to a notebook "
                  f"with `papermill ... -p endpoint_url {aws.endpoint_url}`, or export "
                  f"{ENDPOINT_ENV}={aws.endpoint_url} before starting Jupyter.", file=sys.stderr, flush=True)
            while not stop.wait(0.5):
                if aws.process.poll() is not None:
                    raise LocalStackError(f"MiniStack exited with code {aws.process.returncode} while serving. "
                                          f"Its log is {aws.log_path}.")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("The local AWS is stopped.", file=sys.stderr)
    return 0
