"""engine.gcpause: the collector is off inside a block and as it was after — nested, in
threads, on error — and what a block leaves as cyclic garbage is collected afterwards."""

from __future__ import annotations

import gc
import threading
import weakref

import pytest

from engine.gcpause import gc_paused


@pytest.fixture(autouse=True)
def _collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_off_inside_and_on_after_even_on_error():
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ValueError, match="boom"), gc_paused():
        raise ValueError("boom")
    assert gc.isenabled()


def test_nested_blocks_restore_only_at_the_outermost():
    with gc_paused():
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer block is still running
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off():
    gc.disable()
    with gc_paused():
        pass
    assert not gc.isenabled()


def test_overlapping_blocks_in_two_threads():
    inside, release = threading.Event(), threading.Event()

    def other():
        with gc_paused():
            inside.set()
            release.wait(10)

    t = threading.Thread(target=other)
    with gc_paused():
        t.start()
        assert inside.wait(10)
    assert not gc.isenabled()  # the other thread's block still runs
    release.set()
    t.join(10)
    assert gc.isenabled()


def test_cycles_made_inside_are_collected_after():
    class Node:
        pass

    with gc_paused():
        a, b = Node(), Node()
        a.other, b.other = b, a  # a reference cycle: only the cyclic collector frees it
        probe = weakref.ref(a)
        del a, b
        assert probe() is not None  # not freed while the collector is off
    gc.collect()
    assert probe() is None
