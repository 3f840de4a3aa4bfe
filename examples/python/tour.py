#!/usr/bin/python3
"""The README's Python tour: Qiling's memory doc, on softmmu. Every outcome is
asserted; ctest runs this file."""
import re

import softmmu
from softmmu import UC_PROT_EXEC, UC_PROT_READ, UC_PROT_WRITE

mem = softmmu.Memory()                          # instead of ql.mem: 64-bit, 8-byte pointers

# ql.mem.map(addr, size, perms, info)
mem.map(0x400000, 0x4000, UC_PROT_READ | UC_PROT_EXEC, '/bin/x')
try:
    mem.map(0x400000, 0x1000)
except softmmu.QlMemoryMappedError as e:        # Qiling's name still catches it
    assert e.err == 'MMU_ERR_MAPPED'

# protect widens to whole pages and splits the entry; unmap may cut an entry in two
mem.protect(0x401234, 0x10, UC_PROT_READ)
mem.unmap(0x402000, 0x1000)

# map_anywhere: first fit from minaddr, size rounded up to a page
heap = mem.map_anywhere(0x10, minaddr=0x10000000, perms=UC_PROT_READ | UC_PROT_WRITE, info='[heap]')
assert heap == 0x10000000

# find_free_space does not map; is_available / is_mapped
where = mem.find_free_space(0x2000, minaddr=0x500000, align=0x10000)
assert where == 0x500000 and mem.is_available(where, 0x2000)
assert mem.is_mapped(0x400000, 0x2000) and not mem.is_mapped(0x400000, 0x4000)

# read / write ignore protections and return a bytearray
mem.write(heap, b'hello\0')
assert mem.read(heap, 6) == bytearray(b'hello\0')

# read_ptr / write_ptr
mem.write_ptr(heap + 8, -1, 2, signed=True)
assert mem.read_ptr(heap + 8, 2) == 0xffff and mem.read_ptr(heap + 8, 2, signed=True) == -1

# strings
mem.string(heap + 16, 'a string')
assert mem.string(heap + 16) == 'a string'

# search: bytes, a compiled bytes regex, or a YARA-style hex pattern
mem.write(heap + 0x100, b'\x09\x53\x0f\x41')
assert mem.search(b'\x09\x53') == [heap + 0x100]
assert mem.search(re.compile(rb'\x09\x53(\x0f|\x1a|\x04)[^\x0d]')) == [heap + 0x100]
assert mem.search('09 53 ( 0F | 1A | 04 ) ~0D') == [heap + 0x100]

# the map, as Qiling prints it
for line in mem.get_formatted_mapinfo():
    print(line)
assert mem.get_mapinfo()[1] == (0x401000, 0x402000, 'r--', '/bin/x', '')

# errors are one class per cause, with the faulting address
try:
    mem.read(0x403ffc, 8)
except softmmu.ReadUnmappedError as e:
    assert e.address == 0x404000 and e.access == softmmu.UC_MEM_READ_UNMAPPED

# exact snapshots
snap = mem.save()
mem.unmap_all()
mem.restore(snap)
assert mem.string(heap + 16) == 'a string'
mem.close()
print('tour ok')
