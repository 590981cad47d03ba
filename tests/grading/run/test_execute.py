"""The sandboxed executor's own mechanics, without a kernel: how it waits on a channel."""
import asyncio
import time
from queue import Empty

from course.grading.run import execute, stopwatch


class MissedWakeUp:
    """A channel whose message is there from the start, but whose first wait does not notice it (nbclient#312)."""

    def __init__(self):
        self.calls = []

    async def get_msg(self, timeout=None):
        self.calls.append(timeout)
        if len(self.calls) == 1:
            await asyncio.sleep(timeout if timeout is not None else 3600)
            raise Empty
        return {"header": {"msg_type": "execute_reply"}}


def test_a_missed_wake_up_costs_one_slice_not_the_whole_timeout():
    channel = MissedWakeUp()
    execute.poll_in_slices(channel, slice_s=0.05)
    start = time.monotonic()
    reply = asyncio.run(channel.get_msg(timeout=30))
    assert reply["header"]["msg_type"] == "execute_reply"
    assert time.monotonic() - start < 5
    assert channel.calls[0] <= 0.05 and len(channel.calls) == 2


def test_sliced_waiting_still_times_out():
    class Silent:
        async def get_msg(self, timeout=None):
            await asyncio.sleep(timeout)
            raise Empty

    channel = Silent()
    execute.poll_in_slices(channel, slice_s=0.05)
    start = time.monotonic()
    try:
        asyncio.run(channel.get_msg(timeout=0.3))
    except Empty:
        pass
    else:
        raise AssertionError("a channel with no message must raise Empty when the time-out runs out")
    assert 0.25 <= time.monotonic() - start < 3


def test_the_unsliced_channel_shows_the_stall():
    """The control: without slicing, the same channel keeps the caller for the whole wait."""
    channel = MissedWakeUp()
    start = time.monotonic()
    try:
        asyncio.run(channel.get_msg(timeout=0.5))
    except Empty:
        pass
    assert time.monotonic() - start >= 0.45


def test_the_stopwatch_reports_long_waits_only():
    watch = stopwatch.restart()
    watch.waits += [(3, 0.01), (15, 119.7), (17, 4.9)]
    with watch.phase("cells"):
        pass
    assert watch.stalls() == [(15, 119.7)] and "cells" in watch.seconds
    assert stopwatch.current is watch
