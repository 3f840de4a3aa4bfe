#!/usr/bin/python3
"""tally.py - which real programs softmmu-run runs, and what stops the others.

Runs every corpus test of a build (the ctest tests labelled "corpus", with
their exact arguments, stdin and environment) and, when /bin/busybox exists,
a fixed list of busybox applet invocations: each natively and under
softmmu-run --strace, in fresh directories, comparing stdout and exit status
as compare.sh does. For each failure it names the first blocker:

  insn MNEMONIC   the instruction the interpreter stopped on (its bytes too)
  fault           a guest memory fault the native run did not have
  enosys CALL     ran to the end but differed, and CALL got -ENOSYS (the
                  first such call other than glibc's startup probes rseq,
                  prctl and readlink, which it survives, if there is one)
  timeout         still running after --timeout seconds
  differs         ran to the end, output or status differs, no ENOSYS seen
                  but the startup probes (the last call that failed is named)

then tallies the blockers, the most blocking first with a cumulative count,
and the system calls that got -ENOSYS. The tally guides the instruction-set
and system-call work; it is not a test (ctest is).

--deep looks past the first blocker: it runs each program under
qemu-x86_64 -d in_asm (with a baseline CPU model, -cpu qemu64, so libc picks
the code paths an SSE2 machine gets), takes every instruction form the
program executes (mnemonic and operand kinds, one sample encoding each),
and asks softmmu-run whether it runs that encoding (a flat --raw program
holding it and an exit). It prints, for each missing mnemonic, how many
programs execute it, and how many programs would have no missing
instruction left once it and all those above it are implemented.

usage: tally.py [--build DIR] [--runner PATH] [--busybox PATH|none] [--timeout S] [-j N]
                [--deep [--qemu PATH] [--qemu-cpu MODEL]]
"""
import argparse
import collections
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PREFIXES = {"rep", "repe", "repz", "repne", "repnz", "lock", "bnd", "notrack", "data16", "addr32"}
INSN_RE = re.compile(r"softmmu-run: (invalid or unsupported instruction|privileged instruction|[^:]*) "
                     r"at 0x[0-9a-f]+: ((?:[0-9a-f]{2} )+)\s*(.*)$")
ENOSYS_RE = re.compile(r"^(\w+)\(.*\) = -1 ENOSYS")
FAILED_RE = re.compile(r"^(\w+)\(.*\) = -1 (E[A-Z0-9]+)")
STARTUP_PROBES = ("rseq", "prctl", "readlink")  # glibc's startup calls them and copes with -ENOSYS
TUNABLES = "glibc.cpu.hwcaps=-AVX,-AVX2,-FMA,-FMA4"  # as SOFTMMU_CORPUS_TUNABLES


def syscall_names():
    """x86-64 system call numbers to names, from the kernel headers"""
    names = {}
    try:
        with open("/usr/include/x86_64-linux-gnu/asm/unistd_64.h") as f:
            for line in f:
                m = re.match(r"#define __NR_(\w+) (\d+)", line)
                if m:
                    names["syscall_" + m.group(2)] = m.group(1)
    except OSError:
        pass
    return names


SYSCALL_NAMES = syscall_names()
FAULT_RE = re.compile(r"softmmu-run: (.*(?:fault|protected|unmapped).*)$")

# busybox invocations: argv after "busybox"; run in a directory holding
# input.txt (text lines) and data.bin (bytes). A string is run by sh -c.
BUSYBOX = [
    ["echo", "hello", "world"], ["cat", "input.txt"], ["wc", "input.txt"],
    ["sort", "input.txt"], ["sort", "-n", "-r", "input.txt"], ["uniq", "-c", "input.txt"],
    ["cut", "-d", " ", "-f", "2", "input.txt"], ["head", "-n", "3", "input.txt"],
    ["tail", "-n", "2", "input.txt"], ["tac", "input.txt"], ["nl", "input.txt"],
    ["sed", "s/o/0/g", "input.txt"], ["awk", "{ s += $1 } END { print s, NR }", "input.txt"],
    ["grep", "-E", "b[a-z]+", "input.txt"], ["od", "-A", "x", "-t", "x1", "data.bin"],
    ["hexdump", "-C", "data.bin"], ["base64", "data.bin"], ["md5sum", "data.bin"], ["sha1sum", "data.bin"],
    ["sha256sum", "data.bin"], ["sha512sum", "data.bin"], ["expr", "6", "*", "7"],
    ["printf", "%d %s %x %5.2f\\n", "42", "str", "255", "3.14159"], ["date", "-u", "-d", "@0"],
    ["seq", "1", "3", "20"], ["basename", "/a/b/c.txt", ".txt"], ["ls", "-1"], ["stat", "-c", "%s %n", "input.txt"],
    ["du", "-k", "data.bin"], ["env"], ["sh", "-c", "echo $((6 * 7)); for i in 1 2 3; do echo $i; done"],
    ["sh", "-c", "x=$(echo sub); echo $x | tr a-z A-Z > out.txt; cat out.txt"],
    ["sh", "-c", "gzip -c input.txt | gunzip -c | sha256sum"],
    ["sh", "-c", "bzip2 -c data.bin | bunzip2 -c | md5sum"],
    ["sh", "-c", "mkdir -p d/e && cp input.txt d/e/f && mv d/e/f d/g && ln -s g d/h && ls -la d | wc -l && rm -r d"],
    ["sh", "-c", "find . -name '*.txt' | sort"],
]


def parse_compare(cmd):
    """(stdin, env list, runner, program, args) from a compare.sh command line"""
    i = cmd.index("--") if "--" in cmd else len(cmd)
    opts, rest = cmd[2:i], cmd[i + 1:]
    stdin, env = "/dev/null", []
    for k in range(0, len(opts) - 1, 2):
        if opts[k] == "--stdin":
            stdin = opts[k + 1]
        elif opts[k] == "--env":
            env.append(opts[k + 1])
    return stdin, env, rest[0], rest[1], rest[2:]


def corpus_jobs(build):
    out = subprocess.run(["ctest", "--test-dir", build, "--show-only=json-v1", "-L", "corpus"],
                         capture_output=True, text=True, check=True).stdout
    jobs = []
    for t in json.loads(out)["tests"]:
        if t["name"].startswith("corpus.harness."):
            continue
        stdin, env, _runner, prog, args = parse_compare(t["command"])
        jobs.append({"name": t["name"], "argv": [prog] + args, "stdin": stdin, "env": env, "setup": None})
    return jobs


def busybox_setup(d):
    with open(os.path.join(d, "input.txt"), "w") as f:
        for i in range(40):
            f.write("%d %s line%d\n" % ((i * 37) % 23, ["alpha", "beta", "gamma", "bravo"][i % 4], i % 7))
    with open(os.path.join(d, "data.bin"), "wb") as f:
        f.write(bytes((i * 131 + 7) % 256 for i in range(3000)))


def busybox_jobs(path):
    jobs = []
    for argv in BUSYBOX:
        name = "busybox." + " ".join(argv)[:40]
        jobs.append({"name": name, "argv": [path] + argv, "stdin": "/dev/null",
                     "env": ["LC_ALL=C", "PATH=/nonexistent", "GLIBC_TUNABLES=" + TUNABLES],
                     "setup": busybox_setup})
    return jobs


def run_one(argv, stdin, env, cwd, timeout):
    try:
        with open(stdin, "rb") as fin:
            p = subprocess.run(argv, stdin=fin, capture_output=True, cwd=cwd, timeout=timeout,
                               env=dict(e.split("=", 1) for e in env),
                               preexec_fn=lambda: __import__("resource").setrlimit(
                                   __import__("resource").RLIMIT_CORE, (0, 0)))
        status = p.returncode if p.returncode >= 0 else 128 - p.returncode
        return status, p.stdout, p.stderr.decode("utf-8", "replace")
    except subprocess.TimeoutExpired as e:
        return "timeout", e.stdout or b"", (e.stderr or b"").decode("utf-8", "replace")


def blocker(status, err):
    """(kind, detail, enosys calls) from the runner's stderr"""
    enosys = []
    for line in err.splitlines():
        m = ENOSYS_RE.match(line)
        call = m and SYSCALL_NAMES.get(m.group(1), m.group(1))
        if call and call not in enosys:
            enosys.append(call)
    for line in err.splitlines():
        m = INSN_RE.search(line)
        if m and "instruction" in m.group(1):
            words = m.group(3).split()
            mnem = words[0] if words else "?"
            if mnem in PREFIXES and len(words) > 1:
                mnem += " " + words[1].rstrip(",")
            return "insn", mnem + " (" + m.group(2).strip() + ")", enosys
        m = FAULT_RE.search(line)
        if m and "killed by signal" not in line:
            return "fault", m.group(1)[:70], enosys
    if status == "timeout":
        return "timeout", "", enosys
    telling = [c for c in enosys if c not in STARTUP_PROBES]
    if telling:
        return "enosys", telling[0], enosys
    failed = [m for m in (FAILED_RE.match(line) for line in err.splitlines()) if m and m.group(2) != "ENOSYS"]
    if failed:  # a hint: the last call that failed before the end
        call = SYSCALL_NAMES.get(failed[-1].group(1), failed[-1].group(1))
        return "differs", "last failed call: %s (%s)" % (call, failed[-1].group(2)), enosys
    return "differs", "", enosys


def tally_job(job, runner, timeout):
    dirs = [tempfile.mkdtemp(prefix="softmmu-tally.") for _ in range(2)]
    try:
        for d in dirs:
            if job["setup"]:
                job["setup"](d)
        n_status, n_out, _ = run_one(job["argv"], job["stdin"], job["env"], dirs[0], timeout)
        rargv = [runner, "--strace"] + [x for e in job["env"] for x in ("--env", e)] + job["argv"]
        r_status, r_out, r_err = run_one(rargv, job["stdin"], [], dirs[1], timeout)
    finally:
        for d in dirs:
            shutil.rmtree(d, ignore_errors=True)
    if n_status == "timeout":
        return dict(job, ok=False, kind="native-timeout", detail="", enosys=[])
    stopped = "softmmu-run: invalid or unsupported instruction" in r_err or "softmmu-run: privileged instruction" in r_err
    if n_status == r_status and n_out == r_out and not stopped:
        return dict(job, ok=True, kind="", detail="", enosys=blocker(r_status, r_err)[2])
    kind, detail, enosys = blocker(r_status, r_err)
    return dict(job, ok=False, kind=kind, detail=detail, enosys=enosys)


QEMU_LINE = re.compile(r"^0x[0-9a-f]+:  ((?:[0-9a-f]{2})(?: [0-9a-f]{2})*)(?:\s{2,}(.*))?$")
REG_CLASSES = [(re.compile(r"^%xmm\d+$"), "xmm"), (re.compile(r"^%ymm\d+$"), "ymm"), (re.compile(r"^%mm\d$"), "mm"),
               (re.compile(r"^%st(\(\d\))?$"), "st"),
               (re.compile(r"^%(r[abcd]x|r[sd]i|r[sb]p|r\d+|rip)$"), "r64"),
               (re.compile(r"^%(e[abcd]x|e[sd]i|e[sb]p|r\d+d)$"), "r32"),
               (re.compile(r"^%([abcd]x|[sd]i|[sb]p|r\d+w)$"), "r16"), (re.compile(r"^%[a-z0-9]+$"), "r8")]


def operand_kind(op):
    op = op.strip()
    if op.startswith("$"):
        return "imm"
    if op.startswith("*"):
        op = op[1:]
    if "(" in op or ":" in op:
        return "m"
    for pattern, kind in REG_CLASSES:
        if pattern.match(op):
            return kind
    return "a"  # an address: a branch target or an absolute operand


def insn_forms(log_path):
    """{form: sample bytes} of every instruction qemu translated"""
    forms, last = {}, None
    try:
        with open(log_path, errors="replace") as f:
            for line in f:
                m = QEMU_LINE.match(line)
                if not m:
                    continue
                if not m.group(2):  # more bytes of a long instruction
                    if last is not None:
                        last.extend(m.group(1).split())
                    continue
                words = m.group(2).split(None, 1)
                mnem, ops = words[0], words[1] if len(words) > 1 else ""
                if mnem in PREFIXES and ops:
                    more = ops.split(None, 1)
                    mnem, ops = mnem + " " + more[0], more[1] if len(more) > 1 else ""
                # split operands on commas outside parentheses
                parts, depth, cur = [], 0, ""
                for ch in ops:
                    depth += (ch == "(") - (ch == ")")
                    if ch == "," and depth == 0:
                        parts.append(cur)
                        cur = ""
                    else:
                        cur += ch
                if cur.strip():
                    parts.append(cur)
                form = mnem + " " + ",".join(operand_kind(p) for p in parts)
                if form in forms:
                    last = None
                else:
                    last = forms[form] = m.group(1).split()
    except OSError:
        pass
    return forms


PROBE_EXIT = bytes([0xB8, 0x3C, 0, 0, 0, 0x31, 0xFF, 0x0F, 0x05])  # mov eax, 60; xor edi, edi; syscall
PROBE_ADDR = 0x100000


def probe(runner, hex_bytes, d, i):
    """None if softmmu-run runs this encoding, else the Capstone mnemonic it names"""
    path = os.path.join(d, "probe-%d.bin" % i)
    with open(path, "wb") as f:
        f.write(bytes(int(b, 16) for b in hex_bytes) + PROBE_EXIT)
    try:
        p = subprocess.run([runner, "--count", "100", "--raw", hex(PROBE_ADDR), path], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=20)
        err = p.stderr.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        return None
    finally:
        os.unlink(path)
    for line in err.splitlines():
        m = INSN_RE.search(line)
        if m and "unsupported" in m.group(1) and "at 0x%016x:" % PROBE_ADDR in line:
            words = m.group(3).split()
            mnem = words[0] if words else "?"
            if mnem in PREFIXES and len(words) > 1:
                mnem += " " + words[1]
            return mnem
    return None


def deep_job(job, qemu, cpu, timeout):
    d = tempfile.mkdtemp(prefix="softmmu-tally.")
    try:
        if job["setup"]:
            job["setup"](d)
        log = os.path.join(d, "qemu-in_asm.log")
        run_one([qemu, "-cpu", cpu, "-d", "in_asm", "-D", log] + job["argv"], job["stdin"], job["env"], d, timeout)
        return insn_forms(log)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def deep(jobs, runner, qemu, cpu, timeout, n_jobs):
    with concurrent.futures.ThreadPoolExecutor(n_jobs) as ex:
        per_job = list(ex.map(lambda j: deep_job(j, qemu, cpu, timeout), jobs))
    samples = {}
    for forms in per_job:
        for form, b in forms.items():
            samples.setdefault(form, b)
    d = tempfile.mkdtemp(prefix="softmmu-probe.")
    try:
        with concurrent.futures.ThreadPoolExecutor(n_jobs) as ex:
            forms = list(samples)
            missing = dict(zip(forms, ex.map(lambda i: probe(runner, samples[forms[i]], d, i), range(len(forms)))))
    finally:
        shutil.rmtree(d, ignore_errors=True)
    need = []  # per job: the set of missing mnemonics it executes
    for forms in per_job:
        need.append({missing[f] for f in forms if missing[f]})
    counts = collections.Counter(m for n in need for m in n)
    print("\n--deep: every instruction executed under qemu-x86_64 -cpu %s (%d forms, %d not run by softmmu-run)"
          % (cpu, len(samples), sum(1 for v in missing.values() if v)))
    print("%d of %d programs execute no missing instruction" % (sum(1 for n in need if not n), len(jobs)))
    print("  %-20s %9s  %s" % ("missing mnemonic", "programs", "programs with nothing missing once this and all above exist"))
    done = set()
    for mnem, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        done.add(mnem)
        print("  %-20s %9d  %3d" % (mnem, n, sum(1 for x in need if x <= done)))
    print("\nmissing mnemonics per program:")
    width = max(len(j["name"]) for j in jobs)
    for j, n in zip(jobs, need):
        print("  %-*s %3d  %s" % (width, j["name"], len(n), " ".join(sorted(n, key=lambda m: (-counts[m], m)))))


def report(results):
    width = max(len(r["name"]) for r in results)
    for r in results:
        what = "pass" if r["ok"] else "FAIL  %-7s %s" % (r["kind"], r["detail"])
        extra = "  [ENOSYS: %s]" % ", ".join(r["enosys"]) if r["enosys"] else ""
        print("%-*s  %s%s" % (width, r["name"], what, extra))

    print("\npass counts:")
    groups = collections.OrderedDict()
    for r in results:
        g = r["name"].rsplit(".", 1)[1] if r["name"].startswith("corpus.") else "busybox"
        groups.setdefault(g, [0, 0])
        groups[g][0] += r["ok"]
        groups[g][1] += 1
    for g, (ok, n) in groups.items():
        print("  %-12s %3d / %d" % (g, ok, n))
    print("  %-12s %3d / %d" % ("total", sum(r["ok"] for r in results), len(results)))

    failed = [r for r in results if not r["ok"]]
    insns = collections.Counter(r["detail"].split(" (")[0] for r in failed if r["kind"] == "insn")
    print("\nfirst blockers, instructions (programs stopped by each; cumulative):")
    cum = 0
    for mnem, n in insns.most_common():
        cum += n
        print("  %-24s %3d  %3d  %3.0f%% of failures" % (mnem, n, cum, 100.0 * cum / len(failed)))
    others = collections.Counter((r["kind"] + " " + r["detail"]).strip() for r in failed if r["kind"] != "insn")
    if others:
        print("\nfirst blockers, other:")
        for what, n in others.most_common():
            print("  %-60s %3d" % (what[:60], n))
    calls = collections.Counter(c for r in results for c in r["enosys"])
    if calls:
        print("\nsystem calls answered -ENOSYS (programs making them, passing or not):")
        for c, n in calls.most_common():
            print("  %-24s %3d" % (c, n))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build", "dev"), help="build directory (default build/dev)")
    ap.add_argument("--runner", help="softmmu-run (default: the build's)")
    ap.add_argument("--busybox", default="/bin/busybox", help="busybox binary, or none")
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("-j", type=int, default=2, help="parallel jobs (default 2)")
    ap.add_argument("--deep", action="store_true", help="every missing instruction, via qemu-x86_64 -d in_asm")
    ap.add_argument("--qemu", default="qemu-x86_64")
    ap.add_argument("--qemu-cpu", default="qemu64", help="qemu CPU model for --deep (default qemu64: SSE2, SSE3)")
    a = ap.parse_args()
    runner = a.runner or os.path.join(a.build, "tools", "softmmu-run")
    jobs = corpus_jobs(a.build)
    if a.busybox != "none" and os.path.exists(a.busybox):
        jobs += busybox_jobs(a.busybox)
    with concurrent.futures.ThreadPoolExecutor(a.j) as ex:
        results = list(ex.map(lambda j: tally_job(j, runner, a.timeout), jobs))
    report(results)
    if a.deep:
        qemu = shutil.which(a.qemu)
        if not qemu:
            sys.exit("tally.py: --deep needs %s (Debian qemu-user)" % a.qemu)
        deep(jobs, runner, qemu, a.qemu_cpu, a.timeout, a.j)


if __name__ == "__main__":
    sys.exit(main())
