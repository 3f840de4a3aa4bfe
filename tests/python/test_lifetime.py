"""Garbage collection and leaks: 100k create/destroy cycles must not grow
the resident set; reference cycles through callbacks are collected."""
import gc
import os

import pytest

import softmmu
from conftest import SANITIZED

CYCLES = 100_000


def rss_kib():
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    raise RuntimeError('no VmRSS')


class Dev:
    def read(self, mem, offset, size):
        return offset


def one_cycle(i):
    mem = softmmu.Memory()
    mem.map(0x1000, 0x2000, info='cycle')
    mem.hook_mem_unmapped(lambda m, acc, addr, *a: mem.map(addr & ~0xfff, 0x1000))  # cycle: Memory -> hook -> mem
    mem.map_mmio(0x20000, 0x1000, Dev())
    mem.read(0x20000, 8)
    if i % 10 == 0:  # touching RAM costs a kernel page fault per cycle: not every time
        mem.write(0x1000, b'x' * 64)
        mem.load(0x8000, 1)  # runs the fault hook
    if i % 50 == 0:  # a Cpu costs ~0.2 ms to make (Capstone)
        cpu = softmmu.Cpu(mem)
        cpu.hook_code(lambda c, a, s: None)
        cpu.reg.rsp = 0x3000
        cpu.stack_push(i)
        snap = mem.save()
        mem.restore(snap)
    if i % 2 == 0:
        mem.close()  # explicit close; otherwise reference counting and the collector


def run_cycles(n):
    for i in range(n):
        one_cycle(i)
    gc.collect()


@pytest.mark.skipif(SANITIZED, reason='ASan keeps freed memory in quarantine, so RSS says nothing there')
def test_no_leak_over_100k_cycles():
    run_cycles(5_000)  # warm-up: allocator pools, code caches
    before = rss_kib()
    run_cycles(CYCLES)
    grown = rss_kib() - before
    # a leak of even 100 bytes per cycle would show as ~10 MiB
    assert grown < 4 * 1024, f'RSS grew by {grown} KiB over {CYCLES} cycles'


def test_cycles_under_sanitizer_or_quick():
    """a shorter run everywhere, so ASan sees every free path"""
    run_cycles(2_000 if SANITIZED else 500)


def test_no_objects_left_behind():
    run_cycles(200)
    gc.collect()
    live = [o for o in gc.get_objects() if isinstance(o, (softmmu.Memory, softmmu.Cpu, softmmu.Hook))]
    assert live == []


def test_snapshot_frees():
    before = None
    for k in range(3):
        for _ in range(2000):
            mem = softmmu.Memory()
            mem.map(0, 0x10000)
            mem.write(0, os.urandom(64))
            s = mem.save()
            mem.write(0, b'dirty')
            del mem
            s.to_bytes()
            del s
        gc.collect()
        if k == 0:
            before = rss_kib()
    if not SANITIZED:
        assert rss_kib() - before < 4 * 1024
