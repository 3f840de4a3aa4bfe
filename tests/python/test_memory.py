"""softmmu.Memory against Qiling's QlMemoryManager semantics
(shared/reference/qiling-semantics.md), and its error paths."""
import re

import pytest

import softmmu
from softmmu import (UC_PROT_ALL, UC_PROT_EXEC, UC_PROT_NONE, UC_PROT_READ, UC_PROT_WRITE, Memory)

RW = UC_PROT_READ | UC_PROT_WRITE


def entries(mem):
    return [(lb, ub, p, label) for lb, ub, p, label, _ in mem.map_info]


# ------------------------------------------------------------- construction

def test_defaults():
    m = Memory()
    assert m.pagesize == 0x1000
    assert m.max_addr == m.max_mem_addr == 2**64 - 1
    assert m.ptr_size == 8 and m.addr_bits == 64 and not m.big_endian
    assert Memory(32).max_addr == 2**32 - 1 and Memory(32).ptr_size == 4
    assert Memory(addr_bits=48).max_addr == 2**48 - 1
    m.close()


@pytest.mark.parametrize('kw', [dict(addr_bits=16), dict(ptr_size=3), dict(tlb_entries=3), dict(addr_bits=-1),
                                dict(tlb_entries=1 << 20)])
def test_bad_config(kw):
    with pytest.raises(ValueError):
        Memory(**kw)


def test_bad_config_type():
    with pytest.raises(TypeError):
        Memory(addr_bits='64')


def test_tlb_entries_and_endianness():
    m = Memory(tlb_entries=1, big_endian=True)
    m.map(0, 0x1000)
    m.write(0, bytes.fromhex('11223344'))
    assert m.read_ptr(0, 4) == 0x11223344
    m.write_ptr(0, 0xaabb, 2)
    assert m.read(0, 2) == bytes.fromhex('aabb')


# ---------------------------------------------------------------------- map

def test_map_and_labels(mem):
    mem.map(0x1000, 0x1000)
    mem.map(0x2000, 0x1000, UC_PROT_READ, 'adj')
    mem.map(0x3000, 0x1000, info='')
    assert entries(mem) == [(0x1000, 0x2000, 7, '[mapped]'), (0x2000, 0x3000, 1, 'adj'),
                            (0x3000, 0x4000, 7, '[mapped]')]
    assert mem.read(0x1000, 16) == bytearray(16)  # new memory reads as zeros


def test_map_keywords(mem):
    mem.map(addr=0x5000, size=0x2000, perms=RW, info='kw')
    assert entries(mem) == [(0x5000, 0x7000, 3, 'kw')]


def test_map_overlap_is_qlmemorymappederror(mem):
    mem.map(0x10000, 0x2000)
    with pytest.raises(softmmu.QlMemoryMappedError) as ei:
        mem.map(0x11000, 0x1000)
    assert isinstance(ei.value, softmmu.MappedError) and ei.value.err == 'MMU_ERR_MAPPED'
    assert isinstance(ei.value, softmmu.MmuError)
    assert entries(mem) == [(0x10000, 0x12000, 7, '[mapped]')]


@pytest.mark.parametrize('args', [(0x1001, 0x1000), (0x1000, 0x800), (0x1000, 0), (0x1000, 0x1000, 8)])
def test_map_bad_arguments_are_valueerrors(mem, args):
    with pytest.raises(ValueError) as ei:
        mem.map(*args)
    assert isinstance(ei.value, softmmu.ArgumentError)
    assert mem.map_info == []


def test_map_out_of_range():
    m = Memory(32)
    with pytest.raises(softmmu.RangeError):
        m.map(0x100000000, 0x1000)
    with pytest.raises(ValueError):  # RangeError is a ValueError too
        m.map(0xfffff000, 0x2000)


@pytest.mark.parametrize('bad', [-1, 2**64, -2**70])
def test_negative_or_huge_ints_are_valueerrors(mem, bad):
    with pytest.raises(ValueError):
        mem.map(bad, 0x1000)
    with pytest.raises(ValueError):
        mem.read(0, bad)
    with pytest.raises(ValueError):
        mem.is_mapped(bad, 1)


@pytest.mark.parametrize('bad', ['0x1000', 1.5, None, b'1'])
def test_wrong_types_are_typeerrors(mem, bad):
    with pytest.raises(TypeError):
        mem.map(bad, 0x1000)
    with pytest.raises(TypeError):
        mem.read(0x1000, bad)


def test_bad_label_type(mem):
    with pytest.raises(TypeError):
        mem.map(0x1000, 0x1000, 7, ['[list]'])  # the old docs' example
    with pytest.raises(ValueError):
        mem.map(0x1000, 0x1000, 7, 'nul\0inside')


def test_argument_errors(mem):
    with pytest.raises(TypeError):
        mem.map(0x1000)
    with pytest.raises(TypeError):
        mem.map(0x1000, 0x1000, 7, None, 5)
    with pytest.raises(TypeError):
        mem.map(0x1000, 0x1000, bogus=1)
    with pytest.raises(TypeError):
        mem.map(0x1000, 0x1000, addr=0x1000)


def test_index_objects_accepted(mem):
    class Idx:
        def __index__(self):
            return 0x1000
    mem.map(Idx(), Idx())
    assert mem.is_mapped(0x1000, 0x1000)


# -------------------------------------------------------------------- unmap

def test_partial_unmap_keeps_pieces(mem):
    mem.map(0x10000, 0x5000, RW, 'A')
    mem.unmap(0x11000, 0x1000)
    assert entries(mem) == [(0x10000, 0x11000, 3, 'A'), (0x12000, 0x15000, 3, 'A')]


def test_unmap_spanning_entries(mem):
    mem.map(0x20000, 0x2000, 7, 'X')
    mem.map(0x22000, 0x2000, 7, 'Y')
    mem.unmap(0x21000, 0x2000)
    assert entries(mem) == [(0x20000, 0x21000, 7, 'X'), (0x23000, 0x24000, 7, 'Y')]


def test_unmap_errors_change_nothing(mem):
    mem.map(0x10000, 0x5000, RW, 'A')
    d = mem.digest()
    with pytest.raises(softmmu.QlMemoryMappedError):  # docs' promise, kept
        mem.unmap(0x14000, 0x2000)
    with pytest.raises(softmmu.UnmappedError):
        mem.unmap(0x30000, 0x1000)
    with pytest.raises(softmmu.ArgumentError):
        mem.unmap(0x12800, 0x800)
    assert mem.digest() == d and entries(mem) == [(0x10000, 0x15000, 3, 'A')]


def test_unmap_all(mem):
    mem.map(0x1000, 0x1000)
    mem.map(0x5000, 0x3000)
    mem.unmap_all()
    assert mem.map_info == [] and mem.is_available(0, 0x10000)


def test_unmap_between(mem):
    mem.map(0x10000, 0x2000, 7, 'A')
    mem.map(0x14000, 0x2000, 7, 'B')
    mem.unmap_between(0x11000, 0x15000)
    assert entries(mem) == [(0x10000, 0x11000, 7, 'A'), (0x15000, 0x16000, 7, 'B')]


# ------------------------------------------------------------------ protect

def test_protect_widens_and_splits(mem):
    mem.map(0x10000, 0x4000, 7, 'A')
    mem.protect(0x11234, 0x10, UC_PROT_READ)
    assert entries(mem) == [(0x10000, 0x11000, 7, 'A'), (0x11000, 0x12000, 1, 'A'), (0x12000, 0x14000, 7, 'A')]


def test_protect_across_entries_updates_all(mem):
    mem.map(0x10000, 0x4000, 7, 'A')
    mem.protect(0x11234, 0x10, UC_PROT_READ)
    mem.protect(0x11000, 0x2000, RW)  # Qiling leaves map_info stale here
    assert entries(mem) == [(0x10000, 0x11000, 7, 'A'), (0x11000, 0x12000, 3, 'A'), (0x12000, 0x13000, 3, 'A'),
                            (0x13000, 0x14000, 7, 'A')]


def test_protect_errors(mem):
    mem.map(0x10000, 0x1000)
    with pytest.raises(softmmu.ArgumentError):
        mem.protect(0x10000, 0, 1)
    with pytest.raises(softmmu.ArgumentError):
        mem.protect(0x10000, 0x1000, 8)
    with pytest.raises(softmmu.UnmappedError):
        mem.protect(0x10000, 0x2000, 1)


def test_change_mapinfo_and_set_label(mem):
    mem.map(0x10000, 0x4000, 7, 'A')
    mem.change_mapinfo(0x11000, 0x12000, new_info='B')
    assert [e[3] for e in entries(mem)] == ['A', 'B', 'A']
    mem.change_mapinfo(0x11000, 0x12000, new_perms=1)
    assert entries(mem)[1] == (0x11000, 0x12000, 1, 'B')


# --------------------------------------------- map_anywhere, find_free_space

def test_map_anywhere_sequence(mem):
    assert mem.map_anywhere(0x10) == 0
    assert mem.map_anywhere(0x1800) == 0x1000
    assert mem.map_anywhere(0x1000, minaddr=0x10000) == 0x10000
    assert mem.map_anywhere(0x1000, minaddr=0x10800) == 0x11000
    assert mem.map_anywhere(0x1000, minaddr=0x20000, align=0x10000) == 0x20000
    assert mem.map_anywhere(0x1000, minaddr=0x20001, align=0x10000) == 0x30000
    assert entries(mem)[1] == (0x1000, 0x3000, 7, '[mapped]')


def test_map_anywhere_perms_info(mem):
    a = mem.map_anywhere(0x1000, 0x400000, None, None, UC_PROT_READ, '[heap]')
    assert a == 0x400000 and entries(mem) == [(a, a + 0x1000, 1, '[heap]')]


def test_map_anywhere_32bit_out_of_memory():
    m = Memory(32)
    m.map(0, 0xfffff000)
    assert m.map_anywhere(0x1000) == 0xfffff000
    with pytest.raises(softmmu.QlOutOfMemory):
        m.map_anywhere(0x1000)
    assert softmmu.QlErrorOutOfMemory is softmmu.QlOutOfMemory is softmmu.NoSpaceError


def test_find_free_space(mem):
    mem.map(0xfffffffffffff000, 0x1000)
    assert mem.find_free_space(0x1000, minaddr=0xffffffffffffe000) == 0xffffffffffffe000
    assert mem.find_free_space(0x1000, maxaddr=2**64) == 0  # Qiling's explicit default
    assert not mem.is_mapped(0, 1)  # does not map
    with pytest.raises(softmmu.NoSpaceError):
        mem.find_free_space(0x2000, minaddr=0xffffffffffffe000)
    with pytest.raises(ValueError):
        mem.find_free_space(0x1000, align=0x1800)
    with pytest.raises(ValueError):
        mem.find_free_space(0x10000, minaddr=0x1000, maxaddr=0x2000)  # search domain too small
    with pytest.raises(ValueError):
        mem.find_free_space(0)


# --------------------------------------------------- is_available, is_mapped

@pytest.mark.parametrize('lo,hi,avail,mapped', [
    (0x10000, 0x14000, False, True), (0x11000, 0x13000, False, True), (0xf000, 0x11000, False, False),
    (0x13000, 0x15000, False, False), (0x14000, 0x15000, True, False), (0xf000, 0x10000, True, False),
    (0x13fff, 0x14000, False, True), (0xe000, 0x16000, False, False)])
def test_is_available_is_mapped_table(mem, lo, hi, avail, mapped):
    mem.map(0x10000, 0x2000)
    mem.map(0x12000, 0x2000, UC_PROT_READ, 'other')
    assert mem.is_available(lo, hi - lo) is avail
    assert mem.is_mapped(lo, hi - lo) is mapped


def test_size_zero_queries(mem):
    mem.map(0x1000, 0x1000)
    assert mem.is_mapped(0x1000, 0) is False and mem.is_available(0x5000, 0) is False


# -------------------------------------------------------------- read, write

def test_read_write_ignore_perms_and_cross_entries(mem):
    mem.map(0x1000, 0x1000, UC_PROT_NONE)
    mem.map(0x2000, 0x1000, UC_PROT_READ)
    mem.write(0x1ffc, b'12345678')
    out = mem.read(0x1ffc, 8)
    assert out == b'12345678' and type(out) is bytearray
    mem.write(0x1000, bytearray(b'ba'))
    mem.write(0x1002, memoryview(b'mv'))
    assert mem.read(0x1000, 4) == b'bamv'


def test_read_size_zero_anywhere(mem):
    assert mem.read(0xdead0000, 0) == bytearray()
    mem.write(0xdead0000, b'')


def test_read_unmapped_reports_first_bad_byte(mem):
    mem.map(0x50f000, 0x1000)
    with pytest.raises(softmmu.ReadUnmappedError) as ei:
        mem.read(0x50fffc, 8)
    e = ei.value
    assert e.address == 0x510000 and e.access == softmmu.UC_MEM_READ_UNMAPPED
    assert isinstance(e, softmmu.FaultError) and e.err == 'MMU_ERR_READ_UNMAPPED'
    assert '0x510000' in str(e)


def test_partly_unmapped_write_writes_nothing(mem):
    mem.map(0x1000, 0x1000)
    mem.write(0x1ffc, b'keep')
    with pytest.raises(softmmu.WriteUnmappedError) as ei:
        mem.write(0x1ffc, b'12345678')
    assert ei.value.address == 0x2000 and ei.value.access == softmmu.UC_MEM_WRITE_UNMAPPED
    assert mem.read(0x1ffc, 4) == b'keep'


def test_write_rejects_str(mem):
    mem.map(0x1000, 0x1000)
    with pytest.raises(TypeError):
        mem.write(0x1000, 'text')
    with pytest.raises(TypeError):
        mem.write(0x1000, 42)


def test_read_into(mem):
    mem.map(0x1000, 0x1000)
    mem.write(0x1000, b'abcdef')
    buf = bytearray(4)
    mem.read_into(0x1001, buf)
    assert buf == b'bcde'
    with pytest.raises((TypeError, BufferError)):
        mem.read_into(0x1000, b'immutable')


def test_view_is_zero_copy_and_readonly_by_default(mem):
    mem.map(0x1000, 0x2000)
    mem.write(0x1000, b'view')
    with mem.view(0x1000, 0x2000) as v:
        assert bytes(v[:4]) == b'view' and v.readonly and len(v) == 0x2000
        mem.write(0x1001, b'I')
        assert bytes(v[:4]) == b'vIew', 'sees later writes: no copy'
        with pytest.raises(TypeError):
            v[0] = 1


def test_writable_view_writes_guest_memory(mem):
    mem.map(0x1000, 0x1000)
    with mem.view(0x1000, 0x1000, writable=True) as v:
        v[0x10:0x13] = b'abc'
    assert mem.read(0x1010, 3) == b'abc'


def test_view_blocks_unmap_restore_and_close_until_released(mem):
    mem.map(0x1000, 0x1000)
    mem.map(0x5000, 0x1000)
    snap = mem.save()
    v = mem.view(0x1000, 0x1000)
    for call in (lambda: mem.unmap(0x1000, 0x1000), mem.unmap_all, lambda: mem.restore(snap), mem.close):
        with pytest.raises(BufferError):
            call()
    assert mem.is_mapped(0x1000, 0x1000) and not mem.closed
    mem.unmap(0x5000, 0x1000)  # elsewhere: fine
    v.release()
    mem.unmap(0x1000, 0x1000)
    with pytest.raises(softmmu.ReadUnmappedError):
        mem.view(0x1000, 1)


def test_view_errors(mem):
    mem.map(0x1000, 0x1000)
    mem.map(0x2000, 0x1000)

    class Dev:
        def read(self, mem, offset, size):
            return 0
    mem.map_mmio(0x10000, 0x1000, Dev())
    with pytest.raises(softmmu.ArgumentError):
        mem.view(0x10000, 4)
    with pytest.raises(softmmu.ReadUnmappedError):
        mem.view(0x3000, 4)
    with pytest.raises(ValueError):
        mem.view(0x1000, 0)
    with pytest.raises((ValueError, OverflowError)):
        mem.view(-1, 4)
    mem.protect(0x1000, 0x1000, softmmu.UC_PROT_READ)
    with mem.view(0x1800, 0x400) as v:  # perms do not matter
        assert len(v) == 0x400


def test_regex_search_runs_over_the_host_pages(mem):
    import re
    mem.map(0x1000, 0x3000)
    mem.map(0x4000, 0x1000)
    mem.write(0x1ffe, b'needle')
    mem.write(0x4ffc, b'need')
    mem.write(0x4000 - 2, b'ne')
    assert mem.search(re.compile(rb'ne+dle')) == [0x1ffe]
    assert mem.search(re.compile(rb'need')) == [0x1ffe, 0x4ffc]
    # cross=True joins adjacent mappings; they may not follow on the host
    assert mem.search(re.compile(rb'need'), cross=True) == [0x1ffe, 0x4ffc]


# ------------------------------------------------------ read_ptr, write_ptr

def test_read_write_ptr(mem):
    mem.map(0x1000, 0x1000)
    mem.write_ptr(0x1000, -1, 2, signed=True)
    assert mem.read(0x1000, 2) == b'\xff\xff'
    assert mem.read_ptr(0x1000, 2, signed=True) == -1
    assert mem.read_ptr(0x1000, 2) == 65535
    mem.write_ptr(0x1008, 0x1122334455667788)
    assert mem.read_ptr(0x1008) == 0x1122334455667788
    assert mem.read_ptr(0x1008, 0) == 0x1122334455667788
    assert mem.read_ptr(0x1008, 4) == 0x55667788
    assert mem.read_ptr(addr=0x1008, size=1) == 0x88
    mem.write_ptr(0x1010, -2**63, 8, signed=True)
    assert mem.read_ptr(0x1010, signed=True) == -2**63


def test_ptr_errors(mem):
    mem.map(0x1000, 0x1000)
    with pytest.raises(ValueError, match='Unsupported pointer size: 3'):
        mem.read_ptr(0x1000, 3)
    with pytest.raises(ValueError):
        mem.write_ptr(0x1000, 1, 3)
    with pytest.raises(ValueError):
        mem.write_ptr(0x1000, -1)  # unsigned
    with pytest.raises(ValueError):
        mem.write_ptr(0x1000, 2**32, 4)
    with pytest.raises(ValueError):
        mem.write_ptr(0x1000, 0x80, 1, signed=True)
    with pytest.raises(TypeError):
        mem.read_ptr(0x1000, 8, True)  # signed is keyword-only
    with pytest.raises(softmmu.ReadUnmappedError):
        mem.read_ptr(0x5000)
    with pytest.raises(softmmu.WriteUnmappedError):
        mem.write_ptr(0x5000, 1)


def test_ptr_size_default_32bit():
    m = Memory(32)
    m.map(0x1000, 0x1000)
    m.write_ptr(0x1000, 0xffffffff)
    assert m.read(0x1000, 8) == b'\xff' * 4 + b'\0' * 4


# ------------------------------------------------------------------- string

def test_string_roundtrip_and_qiling_latin1(mem):
    mem.map(0x1000, 0x1000)
    assert mem.string(0x1000, 'héllo') is None
    assert mem.read(0x1000, 7) == bytes.fromhex('68c3a96c6c6f00')
    assert mem.string(0x1000) == 'hÃ©llo'  # read decodes latin-1, as Qiling
    mem.string(0x1100, 'hi', 'utf-16le')
    assert mem.read(0x1100, 5) == b'h\0i\0\0' and mem.string(0x1100) == 'h'


def test_string_errors(mem):
    mem.map(0x1000, 0x1000)
    mem.write(0x1ff0, b'x' * 16)
    with pytest.raises(softmmu.ReadUnmappedError):
        mem.string(0x1ff0)  # runs off the mapping
    with pytest.raises(softmmu.WriteUnmappedError):
        mem.string(0x1fff, 'ab')
    with pytest.raises(softmmu.NotFoundError):
        mem.read_cstring(0x1ff0, maxlen=4)
    with pytest.raises(TypeError):
        mem.string(0x1000, b'bytes')


def test_read_cstring_crosses_pages(mem):
    mem.map(0x1000, 0x3000)
    s = b'y' * 0x1800
    mem.write(0x1800, s + b'\0')
    assert mem.read_cstring(0x1800) == s


# ------------------------------------------------------------------- search

def test_search_literal_regex_and_hex(mem):
    mem.map(0x1000, 0x1000)
    mem.write(0x1100, b'\x09\x53\x0f\x41....\x09\x53\x1a\x0d')
    assert mem.search(b'\x09\x53') == [0x1100, 0x1108]
    assert mem.search(re.compile(rb'\x09\x53(\x0f|\x1a|\x04)[^\x0d]')) == [0x1100]
    assert mem.search('09 53 ( 0F | 1A | 04 ) ~0D') == [0x1100]
    assert mem.search('09 5?') == [0x1100, 0x1108]
    assert mem.search(bytearray(b'\x53\x1a')) == [0x1109]
    assert mem.search(b'absent') == []


def test_search_no_match_across_entries(mem):
    mem.map(0x1000, 0x1000)
    mem.map(0x2000, 0x1000)
    mem.write(0x1ffe, b'TEAR')
    assert mem.search(b'TEAR') == []
    assert mem.search(re.compile(b'TEAR')) == []
    assert mem.search(b'TEAR', cross=True) == [0x1ffe]
    assert mem.search(re.compile(b'TEAR'), cross=True) == [0x1ffe]


def test_search_non_overlapping_and_bounds(mem):
    mem.map(0x1000, 0x1000)
    mem.write(0x1000, b'\x01' * 4)
    assert mem.search(b'\0\0', 0x1004, 0x1008) == [0x1004, 0x1006]
    assert mem.search(re.compile(b'\0\0'), 0x1004, 0x1008) == [0x1004, 0x1006]
    assert mem.search(b'\0\0', 0x1004, 0x1007) == [0x1004]  # a match lies wholly in [begin, end)
    assert mem.search(re.compile(b'^\x01'), 0x1001, 0x1010) == [0x1001]  # ^ anchors at each clipped range
    with pytest.raises(ValueError):
        mem.search(b'x', 0x2000, 0x1000)
    with pytest.raises(ValueError):
        mem.search(re.compile(b'x'), 0x2000, 0x1000)


def test_search_skips_mmio_and_ignores_perms(mem):
    class Dev:
        def read(self, m, off, size):
            raise AssertionError('search must not read MMIO')
    mem.map(0x1000, 0x1000, UC_PROT_NONE)
    mem.write(0x1000, b'needle')
    mem.map_mmio(0x2000, 0x1000, Dev())
    assert mem.search(b'needle') == [0x1000]
    assert mem.search(re.compile(b'needle')) == [0x1000]


def test_search_bad_needles(mem):
    mem.map(0x1000, 0x1000)
    with pytest.raises(TypeError):
        mem.search(re.compile('str pattern'))
    with pytest.raises(ValueError):
        mem.search('not hex')
    with pytest.raises(ValueError):
        mem.search(b'')
    with pytest.raises(TypeError):
        mem.search(12)


def test_search_empty_memory(mem):
    assert mem.search(b'x') == [] and mem.search(re.compile(b'x')) == []


def test_search_many_matches(mem):
    mem.map(0x10000, 0x10000)
    mem.write(0x10000, b'ab' * 0x8000)
    hits = mem.search(b'ab')
    assert len(hits) == 0x8000 and hits[:2] == [0x10000, 0x10002] and hits[-1] == 0x1fffe


# ----------------------------------------------------------------- map info

def test_get_mapinfo_and_formatted(mem):
    assert mem.get_formatted_mapinfo() == []
    mem.map(0x1000, 0x1000)
    mem.map(0x555555554000, 0x1000, UC_PROT_READ | UC_PROT_EXEC, '/bin/x8664_hello')
    mem.map(0x7ffffffde000, 0x21000, RW, '[stack]')
    assert mem.get_mapinfo()[1] == (0x555555554000, 0x555555555000, 'r-x', '/bin/x8664_hello', '')
    assert mem.get_formatted_mapinfo() == [
        'Start            End              Perm    Label              Image',
        '00000000001000 - 00000000002000   rwx     [mapped]           ',
        '00555555554000 - 00555555555000   r-x     /bin/x8664_hello   ',
        '007ffffffde000 - 007ffffffff000   rw-     [stack]            ',
    ]


def test_map_info_top_of_space(mem):
    mem.map(0xfffffffffffff000, 0x1000)
    assert mem.map_info[0][:2] == (0xfffffffffffff000, 2**64)


def test_get_lib_base(mem):
    mem.map(0x1000, 0x1000, info='[mmap] libc.so.6')
    mem.map(0x3000, 0x1000, info='/lib/x86_64-linux-gnu/libc.so.6')
    assert mem.get_lib_base('libc.so.6') == 0x1000
    assert mem.get_lib_base('libc') is None
    assert mem.get_lib_base('LIBC.so.6') is None
    with pytest.raises(TypeError):
        mem.get_lib_base(None)


def test_align_helpers(mem):
    for v, a, au, a16, au16 in [(0, 0, 0, 0, 0), (1, 0, 0x1000, 0, 0x10), (0xfff, 0, 0x1000, 0xff0, 0x1000),
                                (0x1000, 0x1000, 0x1000, 0x1000, 0x1000), (0x1001, 0x1000, 0x2000, 0x1000, 0x1010)]:
        assert (mem.align(v), mem.align_up(v), mem.align(v, 0x10), mem.align_up(v, 0x10)) == (a, au, a16, au16)
    with pytest.raises(ValueError):
        mem.align(1, 3)


# --------------------------------------------------------------------- MMIO

class Recorder:
    def __init__(self):
        self.log = []

    def read(self, mem, offset, size):
        self.log.append(('r', offset, size))
        return 0x1122334455667788

    def write(self, mem, offset, size, value):
        self.log.append(('w', offset, size, value))


def test_mmio_handler_protocol(mem):
    dev = Recorder()
    mem.map_mmio(0x40000000, 0x1000, dev)
    assert mem.map_info == [(0x40000000, 0x40001000, 3, '[mmio]', dev)]
    assert mem.read(0x40000004, 4) == bytes.fromhex('88776655')
    mem.write(0x40000008, bytes.fromhex('01020304'))
    assert dev.log == [('r', 4, 4), ('w', 8, 4, 0x04030201)]
    assert mem.read_ptr(0x40000000, 2) == 0x7788


def test_mmio_missing_method_faults_that_direction(mem):
    class ReadOnly:
        def read(self, mem, offset, size):
            return 7

    class WriteOnly:
        def write(self, mem, offset, size, value):
            pass
    mem.map_mmio(0x1000, 0x1000, ReadOnly(), info='ro')
    mem.map_mmio(0x2000, 0x1000, WriteOnly())
    assert entries(mem) == [(0x1000, 0x2000, 1, 'ro'), (0x2000, 0x3000, 2, '[mmio]')]
    assert mem.read_ptr(0x1000, 1) == 7
    with pytest.raises(softmmu.WriteUnmappedError):
        mem.write(0x1000, b'x')
    with pytest.raises(softmmu.ReadUnmappedError) as ei:
        mem.read(0x2000, 1)
    assert ei.value.address == 0x2000
    mem.write(0x2000, b'x')
    with pytest.raises(softmmu.WriteProtError):
        mem.store(0x1000, b'x')  # guest access: a protection fault


def test_mmio_errors(mem):
    mem.map(0x1000, 0x1000)
    with pytest.raises(softmmu.MappedError):
        mem.map_mmio(0x1000, 0x1000, Recorder())
    with pytest.raises(TypeError):
        class Bad:
            read = 5
        mem.map_mmio(0x5000, 0x1000, Bad())


def test_mmio_handler_exception_reraises(mem):
    class Broken:
        def read(self, mem, offset, size):
            raise KeyError('device on fire')

        def write(self, mem, offset, size, value):
            raise OSError('nope')
    mem.map_mmio(0x1000, 0x1000, Broken())
    with pytest.raises(KeyError, match='device on fire'):
        mem.read(0x1000, 16)  # two 8-byte pieces: the second must not run
    with pytest.raises(OSError):
        mem.write(0x1000, b'x')
    with pytest.raises(KeyError):
        mem.load(0x1000, 8)


def test_mmio_read_must_return_int(mem):
    class Bad:
        def read(self, mem, offset, size):
            return 'str'
    mem.map_mmio(0x1000, 0x1000, Bad())
    with pytest.raises(TypeError):
        mem.read(0x1000, 1)


def test_mmio_partial_unmap(mem):
    dev = Recorder()
    mem.map_mmio(0x1000, 0x3000, dev)
    mem.unmap(0x1000, 0x1000)
    mem.read(0x2004, 1)
    assert dev.log == [('r', 0x1004, 1)]  # offset from the original start
    assert mem.map_info[0][4] is dev


# -------------------------------------------------------------- snapshots

def test_restore_is_exact(mem):
    mem.map(0x1000, 0x2000, 7, 'A')
    mem.protect(0x2000, 0x1000, UC_PROT_READ)
    mem.write(0x1000, b'orig')
    d = mem.digest()
    snap = mem.save()
    mem.write(0x1000, b'new!')
    mem.map(0x8000, 0x1000, 7, 'later')
    mem.unmap(0x2000, 0x1000)
    mem.protect(0x1000, 0x1000, UC_PROT_NONE)
    mem.restore(snap)
    assert entries(mem) == [(0x1000, 0x2000, 7, 'A'), (0x2000, 0x3000, 1, 'A')]
    assert mem.read(0x1000, 4) == b'orig' and mem.digest() == d


def test_snapshot_bytes_roundtrip_into_other_memory(mem):
    mem.map(0x1000, 0x1000, 5, 'code')
    mem.write(0x1000, b'\x90\xc3')
    blob = mem.save().to_bytes()
    snap = softmmu.Snapshot.from_bytes(blob)
    other = Memory()
    other.restore(snap)
    assert other.digest() == mem.digest()
    with pytest.raises(softmmu.CorruptError):
        softmmu.Snapshot.from_bytes(blob[:-1])
    with pytest.raises(softmmu.CorruptError):
        softmmu.Snapshot.from_bytes(b'')
    bad = bytearray(blob)
    bad[len(bad) // 2] ^= 1
    with pytest.raises(softmmu.CorruptError):
        softmmu.Snapshot.from_bytes(bytes(bad))
    with pytest.raises(TypeError):
        mem.restore({'ram': []})


def test_snapshot_with_mmio(mem):
    dev = Recorder()
    mem.map_mmio(0x1000, 0x1000, dev)
    snap = mem.save()
    mem.unmap(0x1000, 0x1000)
    mem.restore(snap)
    assert mem.read_ptr(0x1000, 1) == 0x88 and mem.map_info[0][4] is dev
    with pytest.raises(ValueError):
        snap.to_bytes()
    with pytest.raises(ValueError):
        Memory().restore(snap)


def test_snapshot_outlives_memory():
    m = Memory()
    m.map(0x1000, 0x1000)
    m.write(0x1000, b'kept')
    snap = m.save()
    m.close()
    other = Memory()
    other.restore(snap)
    assert other.read(0x1000, 4) == b'kept'


# ------------------------------------------------------------ digest, stats

def test_digest_and_stats(mem):
    d0 = mem.digest()
    mem.map(0x1000, 0x2000)
    assert mem.digest() != d0
    s = mem.stats()
    assert set(s) == {'tlb_hits', 'tlb_misses', 'tlb_flushes', 'page_walks', 'faults', 'regions', 'pages_mapped',
                      'meta_bytes', 'tlb_entries', 'tlb_resizes'}
    assert s['regions'] == 1 and s['pages_mapped'] == 2
    assert s['tlb_entries'] >= 1 and s['tlb_entries'] & (s['tlb_entries'] - 1) == 0


# --------------------------------------------------------------- guest path

def test_guest_accesses_check_perms(mem):
    mem.map(0x1000, 0x1000, UC_PROT_READ)
    mem.map(0x2000, 0x1000, UC_PROT_EXEC)
    assert mem.load(0x1000, 4) == bytes(4)
    with pytest.raises(softmmu.WriteProtError) as ei:
        mem.store(0x1ffe, b'1234')
    assert ei.value.address == 0x1ffe and ei.value.access == softmmu.UC_MEM_WRITE_PROT
    with pytest.raises(softmmu.ReadProtError) as ei:
        mem.load(0x1ffe, 4)
    assert ei.value.address == 0x2000
    assert mem.fetch(0x2000, 2) == bytes(2)
    with pytest.raises(softmmu.FetchProtError):
        mem.fetch(0x1000, 1)
    with pytest.raises(softmmu.FetchUnmappedError):
        mem.fetch(0x9000, 1)


# ----------------------------------------------------------- close, repr

def test_use_after_close_raises():
    m = Memory()
    m.map(0x1000, 0x1000)
    m.close()
    m.close()  # twice is fine
    assert m.closed
    for call in (lambda: m.read(0x1000, 1), lambda: m.map(0x2000, 0x1000), lambda: m.search(b'x'),
                 lambda: m.pagesize, lambda: m.save(), lambda: m.hook_mem_read(print), lambda: m.digest(),
                 lambda: m.write_ptr(0x1000, 1), lambda: m.get_formatted_mapinfo()):
        with pytest.raises(softmmu.ClosedError):
            call()
    assert isinstance(softmmu.ClosedError('x'), ValueError)
    assert 'closed' in repr(m)


def test_context_manager_and_repr():
    with Memory() as m:
        m.map(0, 0x1000)
        assert '1 regions' in repr(m)
    assert m.closed


def test_subclassing():
    class QlMem(Memory):
        def __init__(self):
            super().__init__(addr_bits=32)
            self.extra = 1  # subclasses get a __dict__
    q = QlMem()
    q.map(0x1000, 0x1000)
    assert q.extra == 1 and q.max_addr == 2**32 - 1


def test_strerror_names_the_enum():
    assert 'MMU_ERR_MAPPED' in softmmu._softmmu.strerror(3)
    assert softmmu.ERRORS['MMU_ERR_NOSPACE'] is softmmu.NoSpaceError


def test_map_anywhere_errors(mem):
    with pytest.raises(ValueError):
        mem.map_anywhere(0)
    with pytest.raises(softmmu.ArgumentError):
        mem.map_anywhere(0x10, align=0x10)  # below the page size (Qiling then fails in Unicorn)
    with pytest.raises(ValueError):
        mem.map_anywhere(0x1000, maxaddr=0)
    with pytest.raises(ValueError):
        mem.map_anywhere(0x1000, perms=8)
    with pytest.raises(ValueError):  # the search domain is too small (Qiling: ValueError too)
        mem.map_anywhere(0x2000, minaddr=0x1000, maxaddr=0x2000)
    assert mem.map_info == []
    mem.map(0x1000, 0x2000)
    with pytest.raises(softmmu.QlOutOfMemory):
        mem.map_anywhere(0x1000, minaddr=0x1000, maxaddr=0x3000)


def test_hook_mem_valid(mem):
    mem.map(0x1000, 0x1000)
    log = []
    mem.hook_mem_valid(lambda m, a, *r: log.append(a))
    mem.load(0x1000, 1)
    mem.store(0x1000, b'x')
    mem.fetch(0x1000, 1)
    assert log == [softmmu.UC_MEM_READ, softmmu.UC_MEM_WRITE, softmmu.UC_MEM_FETCH]
