"""Memory hooks: Qiling's names and callback shapes, the return-value rule,
exceptions in callbacks, hooks that unmap, re-entrancy."""
import gc

import pytest

import softmmu
from softmmu import UC_PROT_NONE, UC_PROT_READ, Memory


def test_fault_hook_maps_page_and_access_retries(mem):
    seen = []

    def memory_fix(m, access, addr, size, value):
        seen.append((access, addr, size, value))
        m.map(addr // 4096 * 4096, 4096)
        m.write_ptr(addr, 0x42, 4)
    mem.hook_mem_unmapped(memory_fix)
    assert mem.load(0x900010, 4) == (0x42).to_bytes(4, 'little')
    assert seen == [(softmmu.UC_MEM_READ_UNMAPPED, 0x900010, 4, 0)]


def test_write_fault_reports_value(mem):
    seen = []
    mem.hook_mem_write_invalid(lambda m, a, addr, size, value: seen.append((a, addr, size, value)) or False)
    with pytest.raises(softmmu.WriteUnmappedError):
        mem.store(0x5000, (0x1122).to_bytes(2, 'little'))
    assert seen == [(softmmu.UC_MEM_WRITE_UNMAPPED, 0x5000, 2, 0x1122)]


@pytest.mark.parametrize('ret,handled', [(None, True), (True, True), (1, True), (False, False)])
def test_return_value_rule(mem, ret, handled):
    def hook(m, access, addr, size, value):
        if not m.is_mapped(0x7000, 1):
            m.map(0x7000, 0x1000)
        return ret
    mem.hook_mem_unmapped(hook)
    if handled:
        assert mem.load(0x7000, 1) == b'\0'
    else:
        with pytest.raises(softmmu.ReadUnmappedError) as ei:
            mem.load(0x6fff, 2)  # maps 0x7000 but says not handled: the access fails
        assert ei.value.address == 0x6fff


def test_handled_but_not_fixed_fails_precisely(mem):
    calls = []
    mem.hook_mem_unmapped(lambda *a: calls.append(a))  # returns None: "handled"
    with pytest.raises(softmmu.ReadUnmappedError) as ei:
        mem.load(0x3000, 8)
    assert ei.value.address == 0x3000 and 1 <= len(calls) <= 9  # retried a bounded number of times


def test_user_data_passed_only_when_not_none(mem):
    got = []
    mem.map(0x1000, 0x1000)
    mem.hook_mem_read(lambda *a: got.append(len(a)))
    mem.hook_mem_read(lambda *a: got.append(a[-1]), 0)  # user_data=0 is passed
    mem.hook_mem_read(lambda *a: got.append(a[-1]), user_data='ud')
    mem.load(0x1000, 1)
    assert got == [5, 0, 'ud']


def test_access_codes_and_kinds(mem):
    log = []
    mem.map(0x1000, 0x1000, UC_PROT_READ)
    mem.map(0x2000, 0x1000, softmmu.UC_PROT_EXEC)
    mem.hook_mem_read(lambda m, a, *r: log.append(('read', a)))
    mem.hook_mem_write(lambda m, a, *r: log.append(('write', a)))
    mem.hook_mem_fetch(lambda m, a, *r: log.append(('fetch', a)))
    mem.hook_mem_invalid(lambda m, a, *r: log.append(('invalid', a)) or False)
    mem.load(0x1000, 1)
    mem.fetch(0x2000, 1)
    with pytest.raises(softmmu.WriteProtError):
        mem.store(0x1000, b'x')
    with pytest.raises(softmmu.FetchProtError):
        mem.fetch(0x1000, 1)
    # an access that faults fires its fault hooks only: access hooks fire
    # for accesses that happen (Unicorn's order)
    assert log == [('read', 16), ('fetch', 18), ('invalid', softmmu.UC_MEM_WRITE_PROT),
                   ('invalid', softmmu.UC_MEM_FETCH_PROT)]


def test_typed_invalid_hooks_filter(mem):
    log = []
    mem.map(0x1000, 0x1000, UC_PROT_NONE)
    mem.hook_mem_read_invalid(lambda *a: log.append('r') or False)
    mem.hook_mem_write_invalid(lambda *a: log.append('w') or False)
    mem.hook_mem_fetch_invalid(lambda *a: log.append('f') or False)
    for call in (lambda: mem.load(0x1000, 1), lambda: mem.store(0x1000, b'x'), lambda: mem.fetch(0x1000, 1)):
        with pytest.raises(softmmu.FaultError):
            call()
    assert log == ['r', 'w', 'f']


def test_hook_range_overlap(mem):
    mem.map(0x500000 - 0x1000, 0x3000)
    fired = []
    for lo, hi in [(0x500007, 0x500100), (0x4ff000, 0x500000), (0x500001, 0x500006), (0x600000, 0x600010)]:
        mem.hook_mem_read(lambda *a, r=(lo, hi): fired.append(r), begin=lo, end=hi)
    mem.load(0x500000, 8)
    # any byte of the access counts (Qiling tests only the endpoints)
    assert fired == [(0x500007, 0x500100), (0x4ff000, 0x500000), (0x500001, 0x500006)]


def test_begin_alone_hooks_everything(mem):
    mem.map(0x1000, 0x1000)
    fired = []
    mem.hook_mem_read(lambda *a: fired.append(1), None, 0xdecaf000)
    mem.load(0x1000, 1)
    assert fired == [1]


def test_hook_del_and_remove(mem):
    mem.map(0x1000, 0x1000)
    n = []
    h1 = mem.hook_mem_read(lambda *a: n.append(1))
    h2 = mem.hook_mem_read(lambda *a: n.append(2))
    mem.load(0x1000, 1)
    mem.hook_del(h1)
    h2.remove()
    mem.load(0x1000, 1)
    assert n == [1, 2] and not h1.alive and not h2.alive
    with pytest.raises(ValueError):
        h1.remove()
    with pytest.raises(TypeError):
        mem.hook_del(42)


def test_hook_removes_itself(mem):
    mem.map(0x1000, 0x1000)
    n = []
    handle = []

    def once(*a):
        n.append(1)
        handle[0].remove()
    handle.append(mem.hook_mem_read(once))
    mem.load(0x1000, 1)
    mem.load(0x1000, 1)
    assert n == [1]


def test_hook_that_unmaps_the_page(mem):
    mem.map(0x1000, 0x1000)
    mem.hook_mem_read(lambda m, *a: m.unmap(0x1000, 0x1000))
    with pytest.raises(softmmu.ReadUnmappedError):
        mem.load(0x1000, 8)
    assert not mem.is_mapped(0x1000, 1)


def test_reentrant_hooks(mem):
    """a hook makes guest accesses that run hooks themselves"""
    mem.map(0x1000, 0x1000)
    depth = []

    def on_read(m, access, addr, size, value):
        depth.append(addr)
        if addr == 0x1000:
            m.load(0x1800, 4)
    mem.hook_mem_read(on_read)
    mem.load(0x1000, 1)
    assert depth == [0x1000, 0x1800]


def test_callback_bad_signature_is_an_exception(mem):
    mem.map(0x1000, 0x1000)
    mem.hook_mem_read(lambda m: None)
    with pytest.raises(TypeError):
        mem.load(0x1000, 1)


class Boom(Exception):
    pass


def test_exception_in_fault_hook_stops_access_and_reraises(mem):
    calls = []

    def bad(*a):
        calls.append(1)
        raise Boom('fault hook')
    mem.hook_mem_unmapped(bad)
    mem.hook_mem_unmapped(lambda *a: calls.append(2))  # must not run after the exception
    with pytest.raises(Boom):
        mem.load(0x5000, 8)
    with pytest.raises(Boom):
        mem.store(0x5000, b'x')
    assert calls == [1, 1]


def test_exception_in_access_hook_reraises(mem):
    mem.map(0x1000, 0x1000)

    def bad(*a):
        raise Boom('read hook')
    h = mem.hook_mem_read(bad)
    with pytest.raises(Boom):
        mem.load(0x1000, 8)
    h.remove()
    assert mem.load(0x1000, 1) == b'\0'  # nothing left pending


def test_exception_in_write_hook_cancels_the_write(mem):
    mem.map(0x1000, 0x1000)
    mem.write(0x1000, b'old!')

    def bad(*a):
        raise Boom('write hook')
    mem.hook_mem_write(bad)
    with pytest.raises(Boom):
        mem.store(0x1000, b'new!')
    assert mem.read(0x1000, 4) == b'old!'  # no byte moved


def test_exception_in_mmio_write_cancels_the_rest(mem):
    writes = []

    class Dev:
        def write(self, m, off, size, value):
            writes.append((off, size))
            raise Boom('device')
    mem.map_mmio(0x8000, 0x1000, Dev())
    with pytest.raises(Boom):
        mem.store(0x8000, bytes(24))  # three 8-byte pieces
    assert writes == [(0, 8)]  # the first raised: the others never reached the device


def test_exception_does_not_leak_into_next_call(mem):
    mem.map(0x1000, 0x1000)
    state = {'raise': True}

    def maybe(*a):
        if state['raise']:
            raise Boom()
    mem.hook_mem_read(maybe)
    with pytest.raises(Boom):
        mem.load(0x1000, 1)
    state['raise'] = False
    assert mem.load(0x1000, 1) == b'\0'


def test_exception_caught_inside_callback_is_fine(mem):
    mem.map(0x1000, 0x1000)

    def hook(m, *a):
        try:
            m.read(0xdead000, 1)
        except softmmu.ReadUnmappedError:
            pass
    mem.hook_mem_read(hook)
    assert mem.load(0x1000, 1) == b'\0'


def test_close_inside_callback_is_refused(mem):
    mem.map(0x1000, 0x1000)
    errors = []

    def hook(m, *a):
        try:
            m.close()
        except RuntimeError as e:
            errors.append(e)
    mem.hook_mem_read(hook)
    mem.load(0x1000, 1)
    assert len(errors) == 1 and not mem.closed


def test_hook_on_closed_memory_and_handles_after_close():
    m = Memory()
    h = m.hook_mem_read(print)
    m.close()
    assert not h.alive
    with pytest.raises(ValueError):
        h.remove()
    with pytest.raises(softmmu.ClosedError):
        m.hook_mem_unmapped(print)


def test_non_callable_callback(mem):
    with pytest.raises(TypeError):
        mem.hook_mem_read(42)


def test_hook_cycle_is_collected():
    """Memory -> hook -> closure -> Memory is garbage collected"""
    import weakref
    m = Memory()
    m.map(0x1000, 0x1000)
    m.hook_mem_read(lambda *a: m.digest())
    ref = weakref.ref(m)
    del m
    gc.collect()
    assert ref() is None


def test_many_hooks_and_events(mem):
    mem.map(0x1000, 0x10000)
    counts = [0] * 50
    hooks = [mem.hook_mem_write(lambda *a, i=i: counts.__setitem__(i, counts[i] + 1)) for i in range(50)]
    for k in range(20):
        mem.store(0x1000 + 8 * k, b'12345678')
    for h in hooks[::2]:
        h.remove()
    mem.store(0x1000, b'x')
    assert counts == [20 if i % 2 == 0 else 21 for i in range(50)]


def test_read_hook_runs_before_the_load(mem):
    """as in Unicorn: a read hook may rewrite the memory being read"""
    mem.map(0x1000, 0x1000)
    mem.hook_mem_read(lambda m, *a: m.write_ptr(0x1000, 0xcafe))
    assert mem.load(0x1000, 8) == (0xcafe).to_bytes(8, 'little')


def test_a_store_that_faults_fires_only_the_fault_hook_with_the_value(mem):
    log = []
    mem.hook_mem_write(lambda m, a, addr, size, value: log.append((a, value)))
    mem.hook_mem_write_invalid(lambda m, a, addr, size, value: log.append((a, value)) or False)
    with pytest.raises(softmmu.WriteUnmappedError):
        mem.store(0x50000, b'\x01\x02')
    assert log == [(softmmu.UC_MEM_WRITE_UNMAPPED, 0x0201)]


def test_other_thread_is_refused_while_inside_a_callback(mem):
    import threading
    mem.map(0x1000, 0x1000)
    results = []

    def other():
        try:
            mem.read(0x1000, 1)
        except RuntimeError as e:
            results.append(e)

    def hook(m, *a):
        t = threading.Thread(target=other)
        t.start()
        t.join()  # releases the GIL: the other thread runs while we are inside the library
    mem.hook_mem_read(hook)
    mem.load(0x1000, 1)
    assert len(results) == 1 and 'another thread' in str(results[0])
    other()  # outside callbacks any thread may use it
    assert len(results) == 1
