#!/usr/bin/python3
"""Speed of the Python package softmmu, each figure next to Unicorn's Python
binding (Debian's python3-unicorn) measured in the same run.

    PYTHONPATH=build/release/python /usr/bin/python3 bench/python_bench.py [--quick]

Median of several repetitions after a warm-up, timed in process CPU time
(user + system) so that other load on the machine does not count; --quick (the ctest smoke run)
uses tiny sizes and checks nothing but that every row runs.
"""
import argparse
import os
import re
import statistics
import sys
import time

import softmmu

try:
    import unicorn
    from unicorn import x86_const
except ImportError:  # the rows still print, with n/a for Unicorn
    unicorn = None

PAGE = 0x1000
# CPU time of this process (user + system, so kernel page faults count): on a
# shared machine wall time mostly measures the other processes
clock = time.process_time


def best_of(fn, reps):
    fn()  # warm-up
    times = []
    for _ in range(reps):
        t0 = clock()
        fn()
        times.append(clock() - t0)
    return statistics.median(times)


def per_call(stmt, n, reps):
    """median seconds per call of stmt() over n calls"""
    def loop():
        for _ in range(n):
            stmt()
    return best_of(loop, reps) / n


def fmt_time(s):
    if s is None:
        return 'n/a'
    if s < 1e-6:
        return f'{s * 1e9:.0f} ns'
    if s < 1e-3:
        return f'{s * 1e6:.2f} us'
    return f'{s * 1e3:.2f} ms'


rows = []


def row(name, what, ours, base, base_name, uc, target, met, unit='time'):
    """unit 'time': lower is better; 'rate': GB/s, higher is better"""
    if unit == 'time':
        o, b, u = fmt_time(ours), fmt_time(base), fmt_time(uc)
    else:
        o, b, u = (f'{x:.2f} GB/s' if x is not None else 'n/a' for x in (ours, base, uc))
    ratio = f'{ours / base:.2f}x' if base else '-'
    print(f'  {name}: {o} (baseline {b}, unicorn {u})', file=sys.stderr, flush=True)
    rows.append((name, what, o, f'{b} {base_name}' if base is not None else '-', ratio, target,
                 'ok' if met else ('MISS' if met is not None else '-'), u))


def bench_read(quick):
    n, reps = (2000, 3) if quick else (200000, 7)
    mem = softmmu.Memory()
    mem.map(0x10000, 0x10000)
    ours = per_call(lambda: mem.read(0x10008, 8), n, reps)
    ours_ptr = per_call(lambda: mem.read_ptr(0x10008), n, reps)
    uc_t = uc_ptr = None
    if unicorn:
        uc = unicorn.Uc(unicorn.UC_ARCH_X86, unicorn.UC_MODE_64)
        uc.mem_map(0x10000, 0x10000)
        uc_t = per_call(lambda: uc.mem_read(0x10008, 8), n, reps)
        uc_ptr = per_call(lambda: int.from_bytes(uc.mem_read(0x10008, 8), 'little'), n, reps)
    ok = ours <= 0.3e-6 and (uc_t is None or uc_t / ours >= 3)
    row('read.8', 'Memory.read(addr, 8) vs Uc.mem_read', ours, uc_t, 'unicorn', uc_t,
        '<=0.3us, >=3x unicorn', ok)
    row('read_ptr.8', 'Memory.read_ptr(addr) vs int.from_bytes(Uc.mem_read)', ours_ptr, uc_ptr, 'unicorn',
        uc_ptr, '-', None)
    w = per_call(lambda: mem.write(0x10008, b'12345678'), n, reps)
    uc_w = per_call(lambda: uc.mem_write(0x10008, b'12345678'), n, reps) if unicorn else None
    row('write.8', 'Memory.write(addr, 8 bytes) vs Uc.mem_write', w, uc_w, 'unicorn', uc_w, '-', None)
    mem.close()


def bench_search(quick):
    size = (1 << 20) if quick else (64 << 20)
    reps = 3 if quick else 7
    data = os.urandom(size)
    needle = b'\x00softmmu-needle\x00'  # 16 bytes, not in random data (p ~ 2^-128)
    mem = softmmu.Memory()
    mem.map(0x100000, size)
    mem.write(0x100000, data)
    assert mem.search(needle) == [] and data.find(needle) == -1
    gbs = lambda t: size / t / 1e9
    t_ours = best_of(lambda: mem.search(needle), reps)
    t_find = best_of(lambda: data.find(needle), reps)
    uc_t = None
    if unicorn:
        uc = unicorn.Uc(unicorn.UC_ARCH_X86, unicorn.UC_MODE_64)
        uc.mem_map(0x100000, size)
        uc.mem_write(0x100000, data)
        # what Qiling's search does on Unicorn: read the whole entry, then re
        pat = re.compile(re.escape(needle))
        uc_t = best_of(lambda: [m.start() for m in pat.finditer(uc.mem_read(0x100000, size))], min(reps, 3))
    row('search.bytes', f'search {size >> 20} MiB, 16-byte literal', gbs(t_ours), gbs(t_find), 'bytes.find',
        gbs(uc_t) if uc_t else None, '>=0.8x bytes.find', t_find / t_ours >= 0.8, unit='rate')
    rx = re.compile(rb'\x00softmmu-n(ee|aa)dle\x00')
    t_rx = best_of(lambda: mem.search(rx), reps)
    t_rx_base = best_of(lambda: [m.start() for m in rx.finditer(data)], reps)
    uc_rx = None
    if unicorn:
        uc_rx = best_of(lambda: [m.start() for m in rx.finditer(uc.mem_read(0x100000, size))], min(reps, 3))
    row('search.regex', f'search {size >> 20} MiB, compiled bytes regex', gbs(t_rx), gbs(t_rx_base),
        're on bytes', gbs(uc_rx) if uc_rx else None, '-', None, unit='rate')
    t_pat = best_of(lambda: mem.search('00 73 6f 66 74 6d 6d 75 2d 6e ?? ?? 64 6c 65 00'), reps)
    row('search.hex', f'search {size >> 20} MiB, hex pattern with ??', gbs(t_pat), gbs(t_find), 'bytes.find',
        None, '-', None, unit='rate')
    mem.close()


# loop: mov [rax], rax; add rax, 0x1000; dec rcx; jnz loop; hlt
TOUCH_PAGES = bytes.fromhex('488900' '480500100000' '48ffc9' '75f2' 'f4')
# loop: mov rbx, [rax]; add rax, 0x1000; dec rcx; jnz loop; hlt
READ_PAGES = bytes.fromhex('488b18' '480500100000' '48ffc9' '75f2' 'f4')
CODE, DATA = 0x1000, 0x10000000


def kernel_first_touch(n):
    """seconds per page for the kernel to back a fresh anonymous page"""
    import mmap
    m = mmap.mmap(-1, n * PAGE)
    t0 = clock()
    for p in range(n):
        m[p * PAGE] = 1
    t = clock() - t0
    m.close()
    return t / n


def run_ours(n, code, prot_fault):
    mem = softmmu.Memory()
    mem.map(CODE, PAGE, softmmu.UC_PROT_READ | softmmu.UC_PROT_EXEC)
    mem.write(CODE, code)
    if prot_fault:  # pages mapped PROT_NONE and already backed: no kernel work in the loop
        mem.map(DATA, n * PAGE, softmmu.UC_PROT_NONE)
        for p in range(n):
            mem.write(DATA + p * PAGE, b'x')
        mem.hook_mem_read_invalid(lambda m, access, addr, size, value: m.protect(addr & ~0xfff, PAGE, 3))
    else:
        mem.hook_mem_unmapped(lambda m, access, addr, size, value: m.map(addr & ~0xfff, PAGE))
    cpu = softmmu.Cpu(mem)
    cpu.reg.rax, cpu.reg.rcx = DATA, n
    t0 = clock()
    ex = cpu.run(CODE)
    t = clock() - t0
    assert ex == softmmu.Exit.HLT and mem.stats()['faults'] == n, ex
    cpu.close()
    mem.close()
    return t / n


def run_uc(n, code, prot_fault):
    uc = unicorn.Uc(unicorn.UC_ARCH_X86, unicorn.UC_MODE_64)
    uc.mem_map(CODE, PAGE, unicorn.UC_PROT_READ | unicorn.UC_PROT_EXEC)
    uc.mem_write(CODE, code)
    if prot_fault:
        uc.mem_map(DATA, n * PAGE, unicorn.UC_PROT_NONE)
        for p in range(n):
            uc.mem_write(DATA + p * PAGE, b'x')

        def fix(u, access, addr, size, value, user):
            u.mem_protect(addr & ~0xfff, PAGE, 3)
            return True
        uc.hook_add(unicorn.UC_HOOK_MEM_READ_PROT, fix)
    else:
        def fix(u, access, addr, size, value, user):
            u.mem_map(addr & ~0xfff, PAGE)
            return True
        uc.hook_add(unicorn.UC_HOOK_MEM_UNMAPPED, fix)
    uc.reg_write(x86_const.UC_X86_REG_RAX, DATA)
    uc.reg_write(x86_const.UC_X86_REG_RCX, n)
    t0 = clock()
    uc.emu_start(CODE, CODE + len(code) - 1)
    return (clock() - t0) / n


def bench_fault(quick):
    # Unicorn aborts past ~4000 separate mappings (qemu phys_section_add): 2000 pages
    n, reps = (100, 3) if quick else (2000, 5)
    med = lambda f: (f(), statistics.median(f() for _ in range(reps)))[1]
    once = lambda f: f()  # Unicorn takes milliseconds per fault here: one run
    kernel = med(lambda: kernel_first_touch(n))
    ours = med(lambda: run_ours(n, TOUCH_PAGES, False))
    uc_t = once(lambda: run_uc(n, TOUCH_PAGES, False)) if unicorn else None
    row('fault.map', 'guest store faults, Python hook maps the page', ours, kernel, 'kernel 1st touch', uc_t,
        '<=5us', ours <= 5e-6)
    row('fault.map-kernel', 'fault.map minus the kernel\'s first touch', max(ours - kernel, 0), None, '', None,
        '-', None)
    ours = med(lambda: run_ours(n, READ_PAGES, True))
    uc_t = once(lambda: run_uc(n, READ_PAGES, True)) if unicorn else None
    row('fault.protect', 'guest load faults, Python hook protects the page', ours, None, '', uc_t, '<=5us',
        ours <= 5e-6)

    def hook_read():
        mem = softmmu.Memory()
        mem.map(0x10000, PAGE)
        mem.hook_mem_read(lambda *a: None)
        t = per_call(lambda: mem.load(0x10000, 8), 20 * n, 3)
        mem.close()
        return t
    row('hook.read', 'Memory.load(addr, 8) with a Python read hook', hook_read(), None, '', None, '-', None)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--quick', action='store_true', help='tiny sizes: a smoke run')
    args = ap.parse_args()
    print(f'softmmu Python bench  python {sys.version.split()[0]}  unicorn '
          f'{unicorn.__version__ if unicorn else "not installed"}  {"quick" if args.quick else "full"}')
    bench_read(args.quick)
    bench_search(args.quick)
    bench_fault(args.quick)
    head = ('row', 'workload', 'ours', 'baseline', 'ratio', 'target', '', 'unicorn')
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    for r in [head] + rows:
        print('  '.join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())
    missed = [r[0] for r in rows if r[6] == 'MISS']
    print(f'{len(rows)} rows; targets missed: {", ".join(missed) if missed else "none"}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
