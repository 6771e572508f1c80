"""A step run beside the caller's own work: in a forked child process where that is safe, else
in a thread.

Blocking reads only the profiles and runs while the main thread builds comparison columns and
trains the model. In a thread the two take turns at Python's lock (pandas' factorize and
many small NumPy steps hold it), so each runs at about half speed; a forked child has the
profiles without copying them and runs on the other core. The child sends its result back
through a pipe (a county's five million candidate pairs are 80 MB, a fraction of a second).

A process is forked only on Linux and only while no other thread is running: a fork copies
just the calling thread, and a lock another thread held would stay locked in the child. Under
an orchestrator that runs threads of its own, the step runs in a thread, with the same result.
If the child dies (killed, or out of memory) before it answers, the step runs again in the
caller, so a run never fails for want of a process.
"""

from __future__ import annotations

import multiprocessing
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from multiprocessing.connection import Connection
from typing import Any


def can_fork() -> bool:
    """Whether a child process may be forked from here safely (a daemonic process may have
    no children)."""
    return (
        sys.platform == "linux"
        and threading.active_count() == 1
        and not multiprocessing.current_process().daemon
    )


class _Forked:
    """``function(*args)`` in a forked child; ``result()`` waits for it."""

    def __init__(self, function: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self._function, self._args = function, args
        context = multiprocessing.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)
        # A fork passes the function and its arguments by memory, not by pickling.
        self._process = context.Process(
            target=_answer, args=(send, function, args), daemon=True, name="linkage-step"
        )
        self._process.start()
        send.close()

    def result(self) -> Any:
        try:
            succeeded, value = self._receive.recv()
        except EOFError:
            # The child died without answering: do the work here instead.
            self._process.join()
            return self._function(*self._args)
        finally:
            self._receive.close()
        self._process.join()
        if not succeeded:
            raise value
        return value

    def stop(self) -> None:
        """End the child if its result was never asked for (the caller failed first). It is
        killed: it holds nothing to tidy, and a handler for SIGTERM it inherited (a test
        runner's, an orchestrator's) could keep it running."""
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
        self._receive.close()


def _answer(send: Connection, function: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        outcome: tuple[bool, Any] = (True, function(*args))
    except BaseException as error:  # raised again in the parent
        outcome = (False, error)
    try:
        send.send(outcome)
    except Exception as error:  # the error itself would not pickle: its text does
        send.send((False, RuntimeError(f"{type(outcome[1]).__name__}: {error}")))
    send.close()


@contextmanager
def run_beside(
    executor: Executor, function: Callable[..., Any], *args: Any, fork: bool = True
) -> Iterator[Any]:
    """``function(*args)`` started beside the caller: yields an object whose ``result()``
    returns what the function returned (or raises what it raised). With ``fork`` false, or
    where forking is not safe, it runs in ``executor``."""
    if not (fork and can_fork()):
        yield executor.submit(function, *args)
        return
    forked = _Forked(function, args)
    try:
        yield forked
    finally:
        forked.stop()
