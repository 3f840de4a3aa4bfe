"""softmmu: a fast, exact software MMU and a small x86-64 interpreter, with
Qiling's ``ql.mem`` API.

Code written against Qiling's ``QlMemoryManager`` runs on :class:`Memory` by
changing only how the object is made::

    import softmmu
    mem = softmmu.Memory()                 # instead of ql.mem
    mem.map(0x400000, 0x4000, softmmu.UC_PROT_READ | softmmu.UC_PROT_EXEC, '/bin/x')
    addr = mem.map_anywhere(0x10)
    mem.write(addr, b'hello\\0')
    assert mem.string(addr) == 'hello'

Differences from Qiling are on purpose and listed in README.md ("Python").
"""
from __future__ import annotations

import enum
import os
import re
from collections import namedtuple
from typing import Any, Callable, List, Optional, Tuple, Union

from . import _softmmu

__all__ = [
    'Memory', 'Cpu', 'Snapshot', 'Exit', 'Fault',
    'MmuError', 'ClosedError', 'FaultError',
    'NoMemoryError', 'ArgumentError', 'MappedError', 'UnmappedError', 'NoSpaceError', 'RangeError',
    'ReadUnmappedError', 'WriteUnmappedError', 'FetchUnmappedError',
    'ReadProtError', 'WriteProtError', 'FetchProtError', 'NotFoundError', 'CorruptError', 'CancelledError',
    'QlMemoryMappedError', 'QlOutOfMemory', 'QlErrorOutOfMemory',
    'UC_PROT_NONE', 'UC_PROT_READ', 'UC_PROT_WRITE', 'UC_PROT_EXEC', 'UC_PROT_ALL',
    'PROT_NONE', 'PROT_READ', 'PROT_WRITE', 'PROT_EXEC', 'PROT_ALL',
]

# ------------------------------------------------------------ constants

UC_PROT_NONE, UC_PROT_READ, UC_PROT_WRITE, UC_PROT_EXEC, UC_PROT_ALL = 0, 1, 2, 4, 7
PROT_NONE, PROT_READ, PROT_WRITE, PROT_EXEC, PROT_ALL = 0, 1, 2, 4, 7

# Unicorn's uc_mem_type values: the `access` argument of memory callbacks
UC_MEM_READ, UC_MEM_WRITE, UC_MEM_FETCH = 16, 17, 18
UC_MEM_READ_UNMAPPED, UC_MEM_WRITE_UNMAPPED, UC_MEM_FETCH_UNMAPPED = 19, 20, 21
UC_MEM_WRITE_PROT, UC_MEM_READ_PROT, UC_MEM_FETCH_PROT = 22, 23, 24

# the library's hook type bits (MMU_HOOK_MEM_*)
HOOK_MEM_READ, HOOK_MEM_WRITE, HOOK_MEM_FETCH = 1 << 0, 1 << 1, 1 << 2
HOOK_MEM_READ_UNMAPPED, HOOK_MEM_WRITE_UNMAPPED, HOOK_MEM_FETCH_UNMAPPED = 1 << 3, 1 << 4, 1 << 5
HOOK_MEM_READ_PROT, HOOK_MEM_WRITE_PROT, HOOK_MEM_FETCH_PROT = 1 << 6, 1 << 7, 1 << 8
HOOK_MEM_UNMAPPED, HOOK_MEM_PROT, HOOK_MEM_INVALID = 7 << 3, 7 << 6, 63 << 3

# ------------------------------------------------------------ exceptions


class ClosedError(ValueError):
    """An operation on a Memory or Cpu after close()."""


class MmuError(Exception):
    """Base of every error the library reports. ``err`` is the C name
    (``'MMU_ERR_MAPPED'``), ``code`` its value; faults also carry
    ``address`` (the first byte that failed) and ``access`` (Unicorn's
    uc_mem_type code, e.g. ``UC_MEM_READ_UNMAPPED``)."""
    err = 'MMU_OK'
    code = 0

    def __init__(self, msg: str = '', address: Optional[int] = None, access: Optional[int] = None):
        super().__init__(msg or _softmmu.strerror(self.code))
        self.msg = str(msg)
        self.address = address
        self.access = access

    def __str__(self) -> str:
        if self.address is not None:
            return f'{self.msg} at {self.address:#x}'
        return self.msg


class QlMemoryMappedError(MmuError):
    """Qiling's name: a map over a mapped range, or an unmap/protect of a range
    that is not mapped. Catches MappedError and UnmappedError."""


class NoSpaceError(MmuError):
    """find_free_space / map_anywhere found no gap (Qiling QlOutOfMemory)."""
    err, code = 'MMU_ERR_NOSPACE', 5


QlOutOfMemory = QlErrorOutOfMemory = NoSpaceError


class FaultError(MmuError):
    """A memory access failed; ``address`` and ``access`` tell where and how."""


class NoMemoryError(MmuError, MemoryError):
    err, code = 'MMU_ERR_NOMEM', 1


class ArgumentError(MmuError, ValueError):
    err, code = 'MMU_ERR_ARG', 2


class MappedError(QlMemoryMappedError):
    err, code = 'MMU_ERR_MAPPED', 3


class UnmappedError(QlMemoryMappedError):
    err, code = 'MMU_ERR_UNMAPPED', 4


class RangeError(MmuError, ValueError):
    err, code = 'MMU_ERR_RANGE', 6


class ReadUnmappedError(FaultError):
    err, code = 'MMU_ERR_READ_UNMAPPED', 7


class WriteUnmappedError(FaultError):
    err, code = 'MMU_ERR_WRITE_UNMAPPED', 8


class FetchUnmappedError(FaultError):
    err, code = 'MMU_ERR_FETCH_UNMAPPED', 9


class ReadProtError(FaultError):
    err, code = 'MMU_ERR_READ_PROT', 10


class WriteProtError(FaultError):
    err, code = 'MMU_ERR_WRITE_PROT', 11


class FetchProtError(FaultError):
    err, code = 'MMU_ERR_FETCH_PROT', 12


class NotFoundError(MmuError, LookupError):
    err, code = 'MMU_ERR_NOTFOUND', 13


class CorruptError(MmuError):
    err, code = 'MMU_ERR_CORRUPT', 14


class CancelledError(MmuError):
    """An access hook or MMIO handler cancelled the access (in Python: it
    raised, and that exception is what the call re-raises)."""
    err, code = 'MMU_ERR_CANCELLED', 15


_ERRORS: Tuple[type, ...] = (MmuError, NoMemoryError, ArgumentError, MappedError, UnmappedError, NoSpaceError,
                             RangeError, ReadUnmappedError, WriteUnmappedError, FetchUnmappedError,
                             ReadProtError, WriteProtError, FetchProtError, NotFoundError, CorruptError,
                             CancelledError)
assert len(_ERRORS) == _softmmu.N_ERRS and all(c.code == i for i, c in enumerate(_ERRORS))
_softmmu._set_errors(_ERRORS, ClosedError)

#: the exception class for each C name
ERRORS = {c.err: c for c in _ERRORS[1:]}

Snapshot = _softmmu.Snapshot
Hook = _softmmu.Hook

# the regex search's copy buffer, kept between calls up to this size
_SEARCH_BUF_KEEP = 256 << 20
_search_buf: Optional[bytearray] = None

_PERMS_STR = ['---', 'r--', '-w-', 'rw-', '--x', 'r-x', '-wx', 'rwx']
_BOX = re.compile(r'^\[.+\]\s*')


def _perms_str(p: int) -> str:
    return _PERMS_STR[p & 7]

# ---------------------------------------------------------------- Memory


class Memory(_softmmu.Memory):
    """Guest memory with Qiling's ``QlMemoryManager`` methods.

    ``Memory(addr_bits=64, ptr_size=None, big_endian=False, tlb_entries=None)``:
    the address space is ``[0, 2**addr_bits)`` (32, 48 or 64); ``ptr_size``
    (default 4 for 32-bit, else 8) is the size ``read_ptr``/``write_ptr`` use
    for ``size=0``. Close with ``close()`` or let garbage collection do it;
    any use after ``close()`` raises :class:`ClosedError`.

    Implemented in C (see ``_softmmu.Memory``): map, unmap, unmap_all,
    protect, map_anywhere, find_free_space, is_available, is_mapped, read,
    read_into, write, read_ptr, write_ptr, map_mmio, get_lib_base, save,
    restore, digest, stats, hook_del, load/store/fetch (permission-checked
    guest accesses that run hooks), pagesize, max_addr.
    """
    __slots__ = ('__weakref__',)

    # -- search
    def search(self, needle: Union[bytes, bytearray, memoryview, str, 're.Pattern[bytes]'],
               begin: Optional[int] = None, end: Optional[int] = None, *, cross: bool = False) -> List[int]:
        """Addresses of the non-overlapping matches lying wholly in
        ``[begin, end)``, ascending. Each map entry is searched on its own
        (as Qiling does) unless ``cross=True``; MMIO is skipped, page
        protections are ignored. ``needle``: bytes-like (literal), a compiled
        bytes regex (``re.compile(rb'...')``), or a str YARA hex pattern
        (``'09 53 ( 0F | 1A | 04 ) ~0D'``, ``??`` wildcards)."""
        if isinstance(needle, re.Pattern):
            return self._search_regex(needle, begin, end, cross)
        return self._search(needle, begin, end, cross)

    def _search_regex(self, pattern: 're.Pattern[bytes]', begin: Optional[int], end: Optional[int],
                      cross: bool) -> List[int]:
        if not isinstance(pattern.pattern, bytes):
            raise TypeError('cannot use a string pattern on a bytes-like object')
        hits: List[int] = []
        for lo, hi in self._ranges(begin, end, cross):
            try:
                chunk = self.view(lo, hi - lo)  # the host pages themselves
            except MmuError:
                chunk = None  # (cross=True) mappings that do not follow on the host
            if chunk is None:
                hits.extend(self._search_copy(pattern, lo, hi))
                continue
            with chunk:
                hits.extend(lo + m.start() for m in pattern.finditer(chunk))
        return hits

    def _search_copy(self, pattern: 're.Pattern[bytes]', lo: int, hi: int) -> List[int]:
        """The regex over a copy of [lo, hi), in a buffer kept between calls."""
        global _search_buf
        buf, _search_buf = _search_buf, None
        if buf is None or len(buf) < hi - lo:
            buf = bytearray(hi - lo)
        try:
            with memoryview(buf) as view, view[:hi - lo] as chunk:
                self.read_into(lo, chunk)
                return [lo + m.start() for m in pattern.finditer(chunk)]
        finally:
            if len(buf) <= _SEARCH_BUF_KEEP:
                _search_buf = buf

    def _ranges(self, begin: Optional[int], end: Optional[int], cross: bool) -> List[Tuple[int, int]]:
        """The clipped ranges a search scans, as Qiling computes them."""
        regions = [r for r in self.regions() if not r[4]]
        if not regions:
            return []
        lo_all = regions[0][0] if begin is None or begin == 0 else begin
        hi_all = regions[-1][1] if end is None or end == 0 else end
        if lo_all < 0 or hi_all < 0:
            raise ValueError('begin and end must not be negative')
        if end not in (None, 0) and lo_all >= hi_all:
            raise ValueError('search arguments do not make sense (begin >= end)')
        ranges: List[Tuple[int, int]] = []
        for lb, ub, *_ in regions:
            lo, hi = max(lo_all, lb), min(ub, hi_all)
            if lo >= hi:
                continue
            if cross and ranges and ranges[-1][1] == lo:
                ranges[-1] = (ranges[-1][0], hi)
            else:
                ranges.append((lo, hi))
        return ranges

    # -- strings
    def string(self, addr: int, value: Optional[str] = None, encoding: str = 'utf-8') -> Optional[str]:
        """Qiling's ``string``: with ``value`` None, reads the NUL-terminated
        string at ``addr`` and decodes it as latin-1 (as Qiling does, whatever
        ``encoding`` says); otherwise writes ``value.encode(encoding) + b'\\0'``."""
        if value is None:
            return self.read_cstring(addr).decode('latin-1')
        if not isinstance(value, str):
            raise TypeError('value must be a str')
        self.write(addr, value.encode(encoding) + b'\x00')
        return None

    # -- map info
    @property
    def map_info(self) -> List[Tuple[int, int, int, str, Any]]:
        """Qiling's ``map_info``: ``(lbound, ubound, perms, label, mmio_ctx)``
        per entry, ``mmio_ctx`` the handler for MMIO, else None. A fresh list
        each time (changing it changes nothing)."""
        return [(lb, ub, p, label, self._mmio_handler(lb) if mmio else None)
                for lb, ub, p, label, mmio in self.regions()]

    def get_mapinfo(self) -> Tuple[Tuple[int, int, str, str, str], ...]:
        """Qiling's ``get_mapinfo``: ``(lbound, ubound, 'rwx', label, image)``;
        image is always ``''`` (there is no loader)."""
        return tuple((lb, ub, _perms_str(p), label, '') for lb, ub, p, label, _ in self.regions())

    def get_formatted_mapinfo(self) -> List[str]:
        """Qiling's table, one str per line (header first); [] when nothing is
        mapped (Qiling raises IndexError)."""
        text = self.format_mapinfo()
        return text.split('\n') if text else []

    def change_mapinfo(self, mem_s: int, mem_e: int, *, new_perms: Optional[int] = None,
                       new_info: Optional[str] = None) -> None:
        """Qiling's ``change_mapinfo`` over ``[mem_s, mem_e)``, applied for real
        (perms through protect, labels through set_label)."""
        if new_perms is not None:
            self.protect(mem_s, mem_e - mem_s, new_perms)
        if new_info is not None:
            self.set_label(mem_s, mem_e - mem_s, new_info)

    def unmap_between(self, mem_s: int, mem_e: int) -> None:
        """Qiling's ``unmap_between``: unmaps only the mapped parts of ``[mem_s, mem_e)``."""
        for lb, ub, *_ in self.regions():
            lo, hi = max(lb, mem_s), min(ub, mem_e)
            if lo < hi:
                self.unmap(lo, hi - lo)

    # -- alignment helpers (Qiling)
    def align(self, value: int, alignment: Optional[int] = None) -> int:
        """Rounds down to ``alignment`` (a power of two, default the page size)."""
        a = self.pagesize if alignment is None else alignment
        if a <= 0 or a & (a - 1):
            raise ValueError('alignment must be a power of two')
        return value & ~(a - 1)

    def align_up(self, value: int, alignment: Optional[int] = None) -> int:
        """Rounds up to ``alignment`` (a power of two, default the page size)."""
        a = self.pagesize if alignment is None else alignment
        if a <= 0 or a & (a - 1):
            raise ValueError('alignment must be a power of two')
        return (value + a - 1) & ~(a - 1)

    # -- views
    def view(self, addr: int, size: int, writable: bool = False) -> memoryview:
        """A zero-copy ``memoryview`` of ``[addr, addr+size)``: the host pages
        themselves, so it sees every later write (and, with ``writable=True``,
        writes through it are guest memory). The range must be RAM or
        ``map_ptr`` memory contiguous on the host: one mapping, or pieces of
        one split by ``protect``; MMIO, or separate mappings, raise
        :class:`ArgumentError`, an unmapped byte :class:`ReadUnmappedError`.

        Lifetime: while the memoryview (or any buffer taken from it) is
        alive, ``unmap`` over it, ``unmap_all``, ``restore`` and ``close``
        raise ``BufferError``, as resizing an exported ``bytearray`` does;
        release it (``with mem.view(...) as v:`` or ``v.release()``) first.
        A writable view prepares the pages when created, as ``write`` does
        (snapshots saved before see the old bytes): after a ``save()``, or
        after running code from the range, take a new view before writing."""
        return super().view(addr, size, writable)

    # -- hooks (Qiling's names and callback shapes)
    def _hook(self, types: int, callback: Callable, user_data: Any, begin: int, end: int) -> Hook:
        return self._hook_add(types, callback, user_data, begin, end)

    def hook_mem_unmapped(self, callback: Callable, user_data: Any = None, begin: int = 1, end: int = 0) -> Hook:
        """Fault hook for unmapped read/write/fetch:
        ``callback(mem, access, address, size, value[, user_data])``; return
        None or True when handled (the access is retried), False when not."""
        return self._hook(HOOK_MEM_UNMAPPED, callback, user_data, begin, end)

    def hook_mem_read_invalid(self, callback: Callable, user_data: Any = None, begin: int = 1,
                              end: int = 0) -> Hook:
        """Fault hook for reads of unmapped or unreadable memory."""
        return self._hook(HOOK_MEM_READ_UNMAPPED | HOOK_MEM_READ_PROT, callback, user_data, begin, end)

    def hook_mem_write_invalid(self, callback: Callable, user_data: Any = None, begin: int = 1,
                               end: int = 0) -> Hook:
        """Fault hook for writes to unmapped or read-only memory."""
        return self._hook(HOOK_MEM_WRITE_UNMAPPED | HOOK_MEM_WRITE_PROT, callback, user_data, begin, end)

    def hook_mem_fetch_invalid(self, callback: Callable, user_data: Any = None, begin: int = 1,
                               end: int = 0) -> Hook:
        """Fault hook for fetches from unmapped or non-executable memory."""
        return self._hook(HOOK_MEM_FETCH_UNMAPPED | HOOK_MEM_FETCH_PROT, callback, user_data, begin, end)

    def hook_mem_invalid(self, callback: Callable, user_data: Any = None, begin: int = 1, end: int = 0) -> Hook:
        """Fault hook for all six fault kinds."""
        return self._hook(HOOK_MEM_INVALID, callback, user_data, begin, end)

    def hook_mem_read(self, callback: Callable, user_data: Any = None, begin: int = 1, end: int = 0) -> Hook:
        """Access hook, before each guest read touching [begin, end]; value is 0."""
        return self._hook(HOOK_MEM_READ, callback, user_data, begin, end)

    def hook_mem_write(self, callback: Callable, user_data: Any = None, begin: int = 1, end: int = 0) -> Hook:
        """Access hook, before each guest write; value is the value written."""
        return self._hook(HOOK_MEM_WRITE, callback, user_data, begin, end)

    def hook_mem_fetch(self, callback: Callable, user_data: Any = None, begin: int = 1, end: int = 0) -> Hook:
        """Access hook, before each instruction fetch (it fires, unlike Unicorn's)."""
        return self._hook(HOOK_MEM_FETCH, callback, user_data, begin, end)

    def hook_mem_valid(self, callback: Callable, user_data: Any = None, begin: int = 1, end: int = 0) -> Hook:
        """Access hook for reads, writes and fetches."""
        return self._hook(HOOK_MEM_READ | HOOK_MEM_WRITE | HOOK_MEM_FETCH, callback, user_data, begin, end)

    def __enter__(self) -> 'Memory':
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        if self.closed:
            return '<softmmu.Memory closed>'
        return f'<softmmu.Memory {self.addr_bits}-bit, {len(self.regions())} regions>'

# ------------------------------------------------------------------- Cpu


class Exit(enum.IntEnum):
    """Why ``Cpu.run`` returned (cpu_exit)."""
    UNTIL = 0          # reached `until`
    COUNT = 1          # executed `count` instructions
    STOPPED = 2        # stop() from a hook
    HLT = 3            # hlt; RIP after it
    MEM_FAULT = 4      # unhandled memory fault: see Cpu.last_fault
    INSN_INVALID = 5   # undecodable or unsupported instruction at RIP
    EXCEPTION = 6      # guest exception (#DE, int3, unhandled syscall)


#: the fault that ended the last run with Exit.MEM_FAULT
Fault = namedtuple('Fault', 'error address size rip access')

_REG64 = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13',
          'r14', 'r15', 'rip', 'rflags', 'fs_base', 'gs_base']
# name -> (index, bits, shift)
_REGS = {n: (i, 64, 0) for i, n in enumerate(_REG64)}
_REGS.update(pc=(16, 64, 0), sp=(4, 64, 0), eflags=(17, 32, 0), eip=(16, 32, 0))
for _i, _n in enumerate(['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di']):
    _REGS['e' + _n] = (_i, 32, 0)
    _REGS[_n] = (_i, 16, 0)
    if _i < 4:
        _REGS[_n[0] + 'l'] = (_i, 8, 0)
        _REGS[_n[0] + 'h'] = (_i, 8, 8)
    else:
        _REGS[_n + 'l'] = (_i, 8, 0)
for _i in range(8, 16):
    _REGS[f'r{_i}d'] = (_i, 32, 0)
    _REGS[f'r{_i}w'] = (_i, 16, 0)
    _REGS[f'r{_i}b'] = (_i, 8, 0)


class Registers:
    """``cpu.reg``: registers by name (``cpu.reg.rax``, ``cpu.reg.read('rip')``,
    ``cpu.reg.write('rsp', v)``), with ``arch_sp`` and ``arch_pc``. Partial
    registers (eax, ax, al, ah, r8d...) read their bits and write them into
    the 64-bit register, keeping the other bits (as Unicorn's reg_write does)."""
    __slots__ = ('_cpu',)

    def __init__(self, cpu: 'Cpu'):
        object.__setattr__(self, '_cpu', cpu)

    @staticmethod
    def _spec(name: str) -> Tuple[int, int, int]:
        try:
            return _REGS[name.lower()]
        except (KeyError, AttributeError):
            raise AttributeError(f'no register named {name!r}') from None

    def read(self, name: str) -> int:
        idx, bits, shift = self._spec(name)
        v = self._cpu._reg_read(idx)
        return v if bits == 64 else (v >> shift) & ((1 << bits) - 1)

    def write(self, name: str, value: int) -> None:
        idx, bits, shift = self._spec(name)
        if bits != 64:
            mask = ((1 << bits) - 1) << shift
            if not 0 <= value < 1 << bits:
                raise ValueError(f'{name} takes values in [0, 2**{bits})')
            value = (self._cpu._reg_read(idx) & ~mask) | (value << shift)
        self._cpu._reg_write(idx, value)

    def __getattr__(self, name: str) -> int:
        return self.read(name)

    def __setattr__(self, name: str, value: int) -> None:
        self.write(name, value)

    @property
    def arch_sp(self) -> int:
        return self._cpu._reg_read(4)

    @arch_sp.setter
    def arch_sp(self, value: int) -> None:
        self._cpu._reg_write(4, value)

    @property
    def arch_pc(self) -> int:
        return self._cpu._reg_read(16)

    @arch_pc.setter
    def arch_pc(self, value: int) -> None:
        self._cpu._reg_write(16, value)

    def __dir__(self) -> List[str]:
        return sorted(_REGS) + ['read', 'write', 'arch_sp', 'arch_pc']


# Registers' properties must win over __setattr__'s register lookup
def _regs_setattr(self: Registers, name: str, value: int) -> None:
    if name in ('arch_sp', 'arch_pc'):
        object.__setattr__(self, name, value)
    else:
        self.write(name, value)


Registers.__setattr__ = _regs_setattr  # type: ignore[assignment]


class Cpu(_softmmu.Cpu):
    """An x86-64 interpreter running on a :class:`Memory` (which it keeps
    alive). ``run(begin, until=0, count=0) -> Exit``; Qiling's stack ops
    ``stack_push(value) -> new SP``, ``stack_pop()``, ``stack_read(offset)``,
    ``stack_write(offset, value)`` (word = 8 bytes, offsets in bytes);
    ``hook_code(callback, user_data=None, begin=1, end=0)`` with
    ``callback(cpu, address, size[, user_data])``; ``hook_syscall(callback)``
    with ``callback(cpu[, user_data])`` returning None/True when handled.
    Memory hooks are the Memory's. An exception raised in any callback stops
    the run and re-raises from ``run``."""
    __slots__ = ('reg', '__weakref__')

    def __init__(self, mem: Memory):
        super().__init__(mem)
        self.reg = Registers(self)

    def run(self, begin: int, until: int = 0, count: int = 0) -> Exit:
        """Runs from ``begin`` until RIP == ``until`` (0: never), ``count``
        instructions (0: no limit), stop(), or an exit condition."""
        return Exit(self._run(begin, until, count))

    @property
    def last_fault(self) -> Optional[Fault]:
        """The fault that ended the last run with Exit.MEM_FAULT, else None:
        ``Fault(error, address, size, rip, access)`` with ``error`` the
        exception class and ``access`` the uc_mem_type code."""
        f = self._last_fault()
        if f is None:
            return None
        err, addr, size, rip = f
        cls = _ERRORS[err]
        access = {7: 19, 8: 20, 9: 21, 10: 23, 11: 22, 12: 24}.get(err)
        return Fault(cls, addr, size, rip, access)

    @property
    def arch_sp(self) -> int:
        return self._reg_read(4)

    @arch_sp.setter
    def arch_sp(self, value: int) -> None:
        self._reg_write(4, value)

    @property
    def arch_pc(self) -> int:
        return self._reg_read(16)

    @arch_pc.setter
    def arch_pc(self, value: int) -> None:
        self._reg_write(16, value)

    def __enter__(self) -> 'Cpu':
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
