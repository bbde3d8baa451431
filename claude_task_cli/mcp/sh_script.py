"""An `sh` script handed to the shell a line at a time, so the line that stopped it is known.

Debian's /bin/sh (dash) has neither an ERR trap nor `$LINENO`, so a failing command cannot name
its line the way bash's trap does. Instead the shell reads the script from a pipe
(`/bin/sh -e -c '. /dev/fd/N' /bin/sh`), and the next line goes in only once the shell has read
everything before it. A shell reads its script one complete command at a time, just before running
it, so when it stops, the last line it had read is the failing command's own line, or the last line
of the compound command (a loop, an `if`, a here-document) the failure sits in. The script's stdin,
stdout, stderr and `$0` are as under `sh -e -c`: nothing is added to what it writes.

The feeder is not told when the shell reads, so it looks (`FIONREAD`) at rising intervals from 1 ms
up to `_MAX_WAIT`. The next line is written while the shell runs the one before, so it is usually
waiting when the shell asks for it; a line that ends sooner than the feeder looks waits for that
look (the cost per line: benchmarks/bench_sh_scripts.py, docs/benchmarks.md).
"""

from __future__ import annotations

import array
import asyncio
import bisect
import contextlib
import fcntl
import os
import termios

_MAX_WAIT = 0.005  # seconds between looks while the shell runs a line


class LineFeed:
    """The pipe a script is read from, and how far the shell has read it.

    Use `argv` to start the shell with `pass_fds=(feed.read_fd,)`, run `feed.feed()` beside it,
    then `read_up_to()` once it has ended, and `close()`.
    """

    def __init__(self, script: str) -> None:
        self.read_fd, self._write_fd = os.pipe()
        os.set_blocking(self._write_fd, False)
        # the shell keeps the inherited descriptor; its first line closes it for what it runs
        prefix = f"exec {self.read_fd}<&-; ".encode()
        data = prefix + script.encode("utf-8", errors="surrogateescape")
        *whole, last = data.split(b"\n")  # lines as the shell counts them (a CR is not one)
        self._lines = [line + b"\n" for line in whole] + ([last] if last else [])
        self._ends: list[int] = []  # each line's end, counted in the script without the prefix
        end = -len(prefix)
        for line in self._lines:
            end += len(line)
            self._ends.append(end)
        self._written = -len(prefix)

    @property
    def argv(self) -> list[str]:
        return ["/bin/sh", "-e", "-c", f". /dev/fd/{self.read_fd}", "/bin/sh"]

    async def feed(self) -> None:
        """Write the script, each line once the shell has read the ones before; then end it."""
        for line in self._lines:
            view = memoryview(line)
            while view:
                await self._until_read()
                try:
                    sent = os.write(self._write_fd, view)
                except BlockingIOError:  # a line longer than the pipe holds: the rest next time
                    continue
                view = view[sent:]
                self._written += sent
        os.close(self._write_fd)  # the shell reads to the end, then sees it
        self._write_fd = -1

    def read_up_to(self) -> int | None:
        """The 1-based line the shell read last (None: not even the first)."""
        read = self._written - self._unread()
        if read <= 0:
            return None
        return min(bisect.bisect_left(self._ends, read) + 1, len(self._ends))

    def close(self) -> None:
        for fd in (self.read_fd, self._write_fd):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.read_fd = self._write_fd = -1

    def _unread(self) -> int:
        count = array.array("i", [0])
        fcntl.ioctl(self.read_fd, termios.FIONREAD, count)
        return count[0]

    async def _until_read(self) -> None:
        wait = 0.001
        while self._unread():
            await asyncio.sleep(wait)
            wait = min(wait * 2, _MAX_WAIT)
