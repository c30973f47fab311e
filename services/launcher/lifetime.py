"""Children that never outlive the process that started them (Linux `PR_SET_PDEATHSIG`).

Our children run in process groups (or sessions) of their own so that Ctrl-C reaches only the
runner, which then stops them in order. The price is that nothing takes them down when the runner
dies hard (`kill -9`, the OOM killer): they would be orphaned, holding their ports and the data
directory. So each child asks the kernel, between `fork` and `exec`, to send it a signal when its
parent dies. The setting survives `exec` but not a change of user id, which is why it is made in
`preexec_fn`: Python runs that after switching to `user=`/`group=`.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path

_PR_SET_PDEATHSIG = 1


def die_with_parent(signum: int = signal.SIGTERM) -> Callable[[], None] | None:
    """A `preexec_fn` that makes the child receive `signum` when this process exits.

    None where the kernel has no such thing (not Linux): children then outlive a hard kill. None
    too when called outside the main thread: the kernel signals the child when the *thread*
    that forked it ends, and a pool thread may end long before the process.
    """
    if (
        not sys.platform.startswith("linux")
        or threading.current_thread() is not threading.main_thread()
    ):
        return None
    libc = ctypes.CDLL(None, use_errno=True)  # loaded here: the child must not load libraries
    prctl = libc.prctl
    parent = os.getpid()

    def in_child() -> None:
        if prctl(_PR_SET_PDEATHSIG, signum, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
        # The parent may have died between fork and prctl: then no signal will ever come.
        if os.getppid() != parent:
            os._exit(1)

    return in_child


def is_running(pid: int) -> bool:
    """Whether `pid` is a live process: not gone, and not a zombie waiting for its parent.

    An orphan's new parent (PID 1 in a container) may never reap it, so a process that has
    exited can linger in /proc as a zombie; it holds no port and no file.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    # The state follows the command name, which is in parentheses and may contain anything.
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")
