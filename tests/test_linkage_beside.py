"""A step run beside the caller: in a forked child where safe, else in a thread; the same
result either way, errors raised where the caller sees them, a dead child no lost run."""

import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from linkage_ops.evaluation import pairwise_scores
from linkage_ops.linkage import beside, link_records
from linkage_ops.synthetic.independent_people import generate_people

PARENT = os.getpid()


def _pid_and_sum(values: list[int]) -> tuple[int, int]:
    return os.getpid(), sum(values)


def _fails() -> None:
    raise ValueError("no such blocking key: postcode_town")


def _dies_in_a_child() -> int:
    if os.getpid() != PARENT:
        os.kill(os.getpid(), signal.SIGKILL)
    return 42


def _deaf_to_sigterm() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    time.sleep(60)


@pytest.fixture
def forking(monkeypatch: pytest.MonkeyPatch) -> None:
    # pytest's workers run threads of their own, so forking is allowed here explicitly; the
    # steps forked below touch nothing those threads hold.
    monkeypatch.setattr(beside, "can_fork", lambda: True)


@pytest.mark.usefixtures("forking")
def test_a_step_runs_in_a_child_process_and_returns_its_result() -> None:
    with (
        ThreadPoolExecutor(1) as pool,
        beside.run_beside(pool, _pid_and_sum, list(range(1_000_000))) as step,
    ):
        pid, total = step.result()
    assert pid != PARENT
    assert total == 499_999_500_000


@pytest.mark.usefixtures("forking")
def test_an_error_in_the_child_is_raised_in_the_caller() -> None:
    with (
        ThreadPoolExecutor(1) as pool,
        beside.run_beside(pool, _fails) as step,
        pytest.raises(ValueError, match="no such blocking key: postcode_town"),
    ):
        step.result()


@pytest.mark.usefixtures("forking")
def test_a_child_that_dies_before_answering_costs_time_not_the_run() -> None:
    with ThreadPoolExecutor(1) as pool, beside.run_beside(pool, _dies_in_a_child) as step:
        assert step.result() == 42


def test_with_another_thread_running_the_step_runs_in_a_thread() -> None:
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not beside.can_fork()
        with ThreadPoolExecutor(1) as pool, beside.run_beside(pool, _pid_and_sum, [1]) as step:
            assert step.result() == (PARENT, 1)
    finally:
        stop.set()
        other.join()


@pytest.mark.usefixtures("forking")
def test_a_child_whose_result_is_not_wanted_is_ended() -> None:
    with ThreadPoolExecutor(1) as pool, beside.run_beside(pool, _deaf_to_sigterm) as step:
        child = step._process
        assert child.is_alive()
    # The caller went on without asking (as when training fails): the child does not linger,
    # even one that inherited a handler ignoring SIGTERM (as under pytest's workers).
    assert not child.is_alive()
    assert child.exitcode == -signal.SIGKILL


def test_linkage_links_the_same_with_blocking_forked_or_in_a_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    people = generate_people(800, seed=5, preset="moderate")
    records = people.drop(columns=["truth", "errors"]).replace("", None)
    results = {}
    for forked in (True, False):
        monkeypatch.setattr(beside, "can_fork", lambda forked=forked: forked)
        results[forked] = link_records(records)
    assert results[True].bridge.equals(results[False].bridge)
    assert results[True].pairs.equals(results[False].pairs)
    truth = people.set_index("record_id").truth
    keys = results[True].bridge.set_index("record_id").person_key
    assert pairwise_scores(keys, truth.reindex(keys.index)).f1 > 0.85
