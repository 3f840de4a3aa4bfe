#!/usr/bin/python3
"""Qiling's memory doc example: a `memory_fix` hook that maps pages on demand
while guest code runs (here on softmmu's own x86-64 interpreter)."""
import struct

import softmmu

mem = softmmu.Memory()
cpu = softmmu.Cpu(mem)

CODE = 0x1000
# mov eax, [rbx]; add rbx, 0x1000; dec rcx; jnz loop; hlt  -- reads 16 pages nobody mapped
code = bytes.fromhex('8b03' '4881c300100000' '48ffc9' '75f2' 'f4')
mem.map(CODE, 0x1000, softmmu.UC_PROT_READ | softmmu.UC_PROT_EXEC, '[code]')
mem.write(CODE, code)

faults = []


def memory_fix(ql, access, addr, size, value):
    faults.append(addr)
    print(f'[_] Mapping {size} bytes at {addr:#x} | access: {access} | value: {value}')
    ql.mem.map(addr // 4096 * 4096, 4096)
    ql.mem.write(addr, struct.pack('<I', addr >> 12))  # memory packing is OS dependent
    # returning None: handled, the instruction re-executes


class Ql:  # code written for Qiling gets `ql`; here a shim with .mem is enough
    mem = mem


mem.hook_mem_unmapped(lambda m, *args: memory_fix(Ql, *args))
cpu.reg.rbx, cpu.reg.rcx = 0x10000000, 16
cpu.hook_code(lambda c, addr, size: None, begin=CODE, end=CODE)  # a code hook, for show
exit_reason = cpu.run(CODE)
assert exit_reason == softmmu.Exit.HLT, exit_reason
assert len(faults) == 16 and cpu.reg.eax == 0x10000 + 15
print(f'{len(faults)} pages mapped on demand; {cpu.insn_count} instructions; exit {exit_reason.name}')
print('\n'.join(mem.get_formatted_mapinfo()[:3]), '\n   ...')
