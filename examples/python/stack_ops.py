#!/usr/bin/python3
"""Qiling's architectural stack operations (ql.arch.stack_*) on softmmu.Cpu."""
import softmmu

mem = softmmu.Memory()
cpu = softmmu.Cpu(mem)
mem.map(0x7ffffffde000, 0x21000, softmmu.UC_PROT_READ | softmmu.UC_PROT_WRITE, '[stack]')
cpu.reg.arch_sp = 0x7ffffffff000

# the test_pe crackme sequence
for v in (0, 1001, 273, 0, 0x0401018):
    sp = cpu.stack_push(v)
assert sp == cpu.reg.arch_sp == 0x7ffffffff000 - 5 * 8
assert cpu.stack_read(0) == 0x0401018        # top of stack
assert cpu.stack_read(16) == 273             # offsets are in bytes
cpu.stack_write(0, 0xdeadbeef)               # write_exit_trap style
assert cpu.stack_pop() == 0xdeadbeef
assert cpu.stack_read(-8) == 0xdeadbeef      # negative offsets peek below SP
print(f'sp={cpu.reg.arch_sp:#x} top={cpu.stack_read(0)}')

# a failed push leaves SP where it was (Qiling moves it anyway)
cpu.reg.arch_sp = 0x7ffffffde000
try:
    cpu.stack_push(1)
except softmmu.WriteUnmappedError as e:
    assert cpu.reg.arch_sp == 0x7ffffffde000 and e.address == 0x7ffffffddff8
print('stack ok')
