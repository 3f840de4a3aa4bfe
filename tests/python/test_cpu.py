"""softmmu.Cpu: registers, Qiling's stack ops, run and exit reasons, code and
syscall hooks, demand paging, exceptions in callbacks during a run, lifetime."""
import gc
import weakref

import pytest

import softmmu
from softmmu import Cpu, Exit, Memory

CODE = 0x400000
STACK = 0x7ffff000
# mov rax, [0x900000]; hlt
LOAD_900000 = bytes.fromhex('488b042500009000' 'f4')
# loop: mov [rax], rax; add rax, 0x1000; dec rcx; jnz loop; hlt
TOUCH_PAGES = bytes.fromhex('488900' '480500100000' '48ffc9' '75f2' 'f4')
# mov eax, 0x1234 (zero-extends); add rax, 1; nop; hlt
SMALL = bytes.fromhex('b834120000' '4883c001' '90' 'f4')


def machine(code, perms=softmmu.UC_PROT_READ | softmmu.UC_PROT_EXEC):
    mem = Memory()
    mem.map(CODE, 0x1000, perms, '[code]')
    mem.write(CODE, code)
    mem.map(STACK, 0x1000, 3, '[stack]')
    cpu = Cpu(mem)
    cpu.reg.rsp = STACK + 0x1000
    return mem, cpu


def test_registers_by_name():
    mem, cpu = machine(SMALL)
    cpu.reg.rax = 0x1122334455667788
    assert cpu.reg.rax == cpu.reg.read('rax') == cpu.reg.read('RAX') == 0x1122334455667788
    assert cpu.reg.eax == 0x55667788 and cpu.reg.ax == 0x7788 and cpu.reg.al == 0x88 and cpu.reg.ah == 0x77
    cpu.reg.al = 0x11
    assert cpu.reg.rax == 0x1122334455667711
    cpu.reg.write('r9', 5)
    assert cpu.reg.r9 == 5 and cpu.reg.r9d == 5
    cpu.reg.arch_sp = 0x1000
    assert cpu.reg.rsp == cpu.arch_sp == 0x1000
    cpu.arch_pc = CODE
    assert cpu.reg.rip == cpu.reg.arch_pc == CODE
    assert cpu.reg.rflags & 2  # bit 1 always set
    with pytest.raises(AttributeError):
        cpu.reg.xmm0
    with pytest.raises(AttributeError):
        cpu.reg.write('bogus', 1)
    with pytest.raises(ValueError):
        cpu.reg.rax = -1
    with pytest.raises(ValueError):
        cpu.reg.eax = 2**32
    assert 'rax' in dir(cpu.reg)


def test_run_until_count_and_hlt():
    mem, cpu = machine(SMALL)
    assert cpu.run(CODE, count=1) == Exit.COUNT and cpu.reg.rax == 0x1234
    assert cpu.run(cpu.reg.rip, until=CODE + 10) == Exit.UNTIL and cpu.reg.rip == CODE + 10
    assert cpu.run(cpu.reg.rip) == Exit.HLT and cpu.reg.rax == 0x1235
    assert isinstance(cpu.run(CODE, count=1), Exit)
    assert cpu.insn_count == 5


def test_stack_ops():
    mem, cpu = machine(SMALL)
    top = STACK + 0x1000
    assert cpu.stack_push(0x1111) == top - 8
    assert cpu.stack_push(0x2222) == top - 16
    assert cpu.stack_read(0) == 0x2222 and cpu.stack_read(8) == 0x1111
    cpu.stack_write(8, 0x3333)
    assert cpu.stack_read(8) == 0x3333 and cpu.reg.rsp == top - 16
    assert cpu.stack_read(-8) == 0  # negative offsets are fine
    assert cpu.stack_pop() == 0x2222 and cpu.stack_pop() == 0x3333 and cpu.reg.rsp == top
    assert mem.read_ptr(top - 8) == 0x3333


def test_stack_push_failure_keeps_sp():
    mem, cpu = machine(SMALL)
    cpu.reg.rsp = STACK  # the page below is unmapped
    with pytest.raises(softmmu.WriteUnmappedError) as ei:
        cpu.stack_push(1)
    assert cpu.reg.rsp == STACK and ei.value.address == STACK - 8
    cpu.reg.rsp = 0x10
    with pytest.raises(softmmu.ReadUnmappedError):
        cpu.stack_pop()
    assert cpu.reg.rsp == 0x10
    with pytest.raises(ValueError):
        cpu.stack_push(-1)  # unsigned, as Qiling's pack
    with pytest.raises(softmmu.ReadUnmappedError):
        cpu.stack_read(0x100)
    with pytest.raises(softmmu.WriteUnmappedError):
        cpu.stack_write(0x100, 1)


def test_unhandled_fault_exit_and_last_fault():
    mem, cpu = machine(LOAD_900000)
    assert cpu.last_fault is None
    assert cpu.run(CODE) == Exit.MEM_FAULT
    f = cpu.last_fault
    assert f.error is softmmu.ReadUnmappedError and f.address == 0x900000 and f.size == 8 and f.rip == CODE
    assert f.access == softmmu.UC_MEM_READ_UNMAPPED
    assert cpu.reg.rip == CODE


def test_demand_paging_hook_during_run():
    mem, cpu = machine(LOAD_900000)

    def memory_fix(m, access, addr, size, value):
        m.map(addr // 4096 * 4096, 4096)
        m.write_ptr(addr, 0x4242424242424242)
    mem.hook_mem_unmapped(memory_fix)
    assert cpu.run(CODE) == Exit.HLT
    assert cpu.reg.rax == 0x4242424242424242


def test_demand_paging_many_pages():
    mem, cpu = machine(TOUCH_PAGES)
    faults = []
    mem.hook_mem_unmapped(lambda m, a, addr, s, v: faults.append(addr) or m.map(addr & ~0xfff, 0x1000, 3))
    cpu.reg.rax, cpu.reg.rcx = 0x10000000, 100
    assert cpu.run(CODE) == Exit.HLT
    assert len(faults) == 100 and faults[-1] == 0x10000000 + 99 * 0x1000
    assert mem.read_ptr(0x10000000 + 5 * 0x1000) == 0x10000000 + 5 * 0x1000


def test_code_hook_and_stop():
    mem, cpu = machine(SMALL)
    seen = []
    cpu.hook_code(lambda c, addr, size: seen.append((addr, size)))
    assert cpu.run(CODE) == Exit.HLT
    assert seen == [(CODE, 5), (CODE + 5, 4), (CODE + 9, 1), (CODE + 10, 1)]

    def stopper(c, addr, size, ud):
        if addr == CODE + 5:
            c.stop()
    cpu2 = Cpu(mem)
    cpu2.hook_code(stopper, 'ud', CODE, CODE + 0x100)
    assert cpu2.run(CODE) == Exit.STOPPED and cpu2.reg.rip == CODE + 5


def test_code_hook_range_and_removal():
    mem, cpu = machine(SMALL)
    seen = []
    h = cpu.hook_code(lambda c, addr, size: seen.append(addr), begin=CODE + 9, end=CODE + 9)
    cpu.run(CODE)
    assert seen == [CODE + 9]
    h.remove()
    cpu.run(CODE)
    assert seen == [CODE + 9] and not h.alive
    h2 = cpu.hook_code(lambda *a: None)
    cpu.hook_del(h2)
    assert not h2.alive


def test_syscall_hook():
    # syscall; hlt
    mem, cpu = machine(bytes.fromhex('0f05' 'f4'))
    calls = []

    def on_syscall(c):
        calls.append(c.reg.rcx)  # RCX = return address, as the hardware sets it
        c.reg.rax = 60
    cpu.hook_syscall(on_syscall)
    assert cpu.run(CODE) == Exit.HLT and calls == [CODE + 2] and cpu.reg.rax == 60


def test_syscall_not_handled_is_exception_exit():
    mem, cpu = machine(bytes.fromhex('0f05' 'f4'))
    cpu.hook_syscall(lambda c, ud: False, 'ud')
    assert cpu.run(CODE) == Exit.EXCEPTION and cpu.reg.rip == CODE


def test_invalid_instruction_and_exception_exits():
    mem, cpu = machine(bytes.fromhex('0f0b'))  # ud2
    assert cpu.run(CODE) in (Exit.INSN_INVALID, Exit.EXCEPTION)
    mem, cpu = machine(bytes.fromhex('48f7f1' 'f4'))  # div rcx with rcx = 0
    assert cpu.run(CODE) == Exit.EXCEPTION


class Boom(Exception):
    pass


def test_exception_in_code_hook_stops_run():
    mem, cpu = machine(SMALL)
    ran = []

    def hook(c, addr, size):
        ran.append(addr)
        if addr == CODE + 5:
            raise Boom('code hook')
    cpu.hook_code(hook)
    with pytest.raises(Boom):
        cpu.run(CODE)
    assert ran == [CODE, CODE + 5] and cpu.reg.rip == CODE + 5
    assert cpu.run(CODE, count=1) == Exit.COUNT  # nothing pending afterwards


def test_exception_in_fault_hook_during_run():
    mem, cpu = machine(LOAD_900000)

    def hook(*a):
        raise Boom('fault hook')
    mem.hook_mem_unmapped(hook)
    with pytest.raises(Boom):
        cpu.run(CODE)
    assert cpu.reg.rip == CODE and cpu.reg.rax == 0  # the faulting instruction left nothing behind


def test_exception_in_access_hook_during_run():
    mem, cpu = machine(LOAD_900000)
    mem.map(0x900000, 0x1000)
    mem.hook_mem_read(lambda *a: (_ for _ in ()).throw(Boom('read hook')))
    with pytest.raises(Boom):
        cpu.run(CODE)
    assert cpu.reg.rip == CODE  # the access was cancelled: the instruction did not complete


def test_exception_in_syscall_hook():
    mem, cpu = machine(bytes.fromhex('0f05' 'f4'))
    cpu.hook_syscall(lambda c: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        cpu.run(CODE)


def test_exception_in_mmio_during_run():
    class Dev:
        def read(self, m, off, size):
            raise Boom('mmio')
    mem, cpu = machine(LOAD_900000)
    mem.map_mmio(0x900000, 0x1000, Dev())
    with pytest.raises(Boom):
        cpu.run(CODE)


def test_run_inside_hook_is_refused():
    mem, cpu = machine(SMALL)
    errors = []

    def hook(c, addr, size):
        try:
            c.run(CODE)
        except softmmu.ArgumentError as e:
            errors.append(e)
    cpu.hook_code(hook, begin=CODE, end=CODE)
    assert cpu.run(CODE) == Exit.HLT and len(errors) == 1


def test_close_while_running_is_refused():
    mem, cpu = machine(SMALL)
    errors = []

    def hook(c, addr, size):
        for obj in (c, mem):
            try:
                obj.close()
            except RuntimeError as e:
                errors.append(e)
    cpu.hook_code(hook, begin=CODE, end=CODE)
    assert cpu.run(CODE) == Exit.HLT and len(errors) == 2


def test_context_save_restore_with_snapshot():
    mem, cpu = machine(SMALL)
    ctx, snap = cpu.context_save(), mem.save()
    cpu.run(CODE)
    mem.write(STACK, b'dirty')
    assert cpu.reg.rax == 0x1235
    cpu.context_restore(ctx)
    mem.restore(snap)
    assert cpu.reg.rax == 0 and mem.read(STACK, 5) == bytes(5)
    with pytest.raises(TypeError):
        cpu.context_restore((1, 2))


def test_self_modifying_write_takes_effect():
    mem, cpu = machine(SMALL)
    cpu.run(CODE)
    mem.write(CODE + 1, (0x9999).to_bytes(4, 'little'))
    cpu.run(CODE)
    assert cpu.reg.rax == 0x999a


def test_cpu_keeps_memory_alive():
    mem, cpu = machine(SMALL)
    ref = weakref.ref(mem)
    del mem
    gc.collect()
    assert ref() is not None and cpu.mem is ref()
    assert cpu.run(CODE) == Exit.HLT
    del cpu
    gc.collect()
    assert ref() is None


def test_use_after_close():
    mem, cpu = machine(SMALL)
    cpu.close()
    assert cpu.closed
    for call in (lambda: cpu.run(CODE), lambda: cpu.reg.rax, lambda: cpu.stack_pop(), lambda: cpu.insn_count,
                 lambda: cpu.hook_code(print), lambda: cpu.context_save()):
        with pytest.raises(softmmu.ClosedError):
            call()
    mem2, cpu2 = machine(SMALL)
    mem2.close()  # closes its CPUs first
    assert cpu2.closed
    with pytest.raises(softmmu.ClosedError):
        cpu2.run(CODE)
    with pytest.raises(softmmu.ClosedError):
        Cpu(mem2)


def test_cpu_needs_a_memory():
    with pytest.raises(TypeError):
        Cpu(42)
    with pytest.raises(softmmu.ArgumentError):
        Cpu(Memory(big_endian=True))


def test_two_cpus_share_memory():
    mem, cpu = machine(SMALL)
    other = Cpu(mem)
    cpu.run(CODE)
    other.run(CODE, count=1)
    assert cpu.reg.rax == 0x1235 and other.reg.rax == 0x1234
