/*
 * _softmmu.c - the CPython extension behind the `softmmu` package.
 *
 * Built on the stable ABI (Py_LIMITED_API 3.11): one .abi3.so serves every
 * CPython >= 3.11. It uses only the public headers softmmu/mmu.h and
 * softmmu/cpu.h. The Qiling-shaped conveniences (search dispatch, map-info
 * formatting, named hook methods, register names) live in softmmu/__init__.py
 * over the primitives here; the hot calls (read, write, read_ptr, write_ptr)
 * are METH_FASTCALL with a small argument parser of our own.
 *
 * Callbacks (hooks, MMIO handlers) run Python code from inside the library.
 * An exception raised there is left set in the thread state; every later
 * callback of the same C call sees it and does nothing (a fault hook then
 * reports "not handled", so the access fails; a running CPU is stopped), and
 * the Python-facing method that made the C call returns NULL, so the
 * exception re-raises from the call that caused it.
 */
#define Py_LIMITED_API 0x030B0000
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include <softmmu/cpu.h>
#include <softmmu/mmu.h>

#include <stdlib.h>

/* Unicorn's uc_mem_type values, which Qiling hands to memory callbacks */
enum {
    UC_MEM_READ = 16, UC_MEM_WRITE, UC_MEM_FETCH, UC_MEM_READ_UNMAPPED, UC_MEM_WRITE_UNMAPPED,
    UC_MEM_FETCH_UNMAPPED, UC_MEM_WRITE_PROT, UC_MEM_READ_PROT, UC_MEM_FETCH_PROT,
};

#define N_ERRS (MMU_ERR_CANCELLED + 1)
static PyObject *g_errors[N_ERRS]; /* exception class per mmu_err, set by _set_errors */
static PyObject *g_closed_error;   /* use after close */
static PyObject *g_zero, *g_two64;

typedef struct CpuObject CpuObject;

typedef struct mmio_dev {
    PyObject *handler, *read, *write; /* read/write NULL when the handler lacks them */
    PyObject *mem;                    /* borrowed: devices live as long as their Memory */
    uint64_t  start, end;             /* as mapped */
} mmio_dev;

typedef struct {
    PyObject_HEAD
    mmu_t      *m;
    unsigned    ptr_size;
    bool        big_endian;
    unsigned    addr_bits;
    int         busy;        /* depth of library calls that may run callbacks */
    unsigned long busy_thread; /* the thread inside them (callbacks may let others run) */
    PyObject   *hooks;       /* dict: id -> Hook */
    mmio_dev  **devs;        /* every MMIO device ever mapped (snapshots may bring one back) */
    size_t      n_devs;
    CpuObject **cpus;        /* open CPUs on this memory (borrowed) */
    size_t      n_cpus;
    CpuObject  *running;     /* the CPU inside cpu_run, if any */
    struct ViewObject *views; /* views of its memory, chained (each holds the Memory) */
} MemoryObject;

/* A zero-copy window on guest memory (Memory.view): exports the host pages
 * through the buffer protocol. While a buffer is exported, whatever would
 * free or move those pages (unmap over them, unmap_all, restore, close)
 * raises BufferError, as resizing a bytearray does. Not GC-tracked: it holds
 * its Memory, the Memory only counts it. */
typedef struct ViewObject {
    PyObject_HEAD
    MemoryObject      *mem;
    uint64_t           addr, size;
    bool               writable;
    Py_ssize_t         exports;
    struct ViewObject *next, **prev;
} ViewObject;

struct CpuObject {
    PyObject_HEAD
    cpu_t        *c;
    MemoryObject *mem; /* strong: the CPU keeps its memory alive */
    PyObject     *hooks;
    int           running;
};

typedef struct {
    PyObject_HEAD
    PyObject   *owner;     /* Memory or Cpu (strong) */
    PyObject   *callback;
    PyObject   *user_data; /* NULL: not passed (Qiling passes it only when not None) */
    mmu_hook_id id;
    int         kind;      /* 0 memory, 1 code, 2 syscall */
    bool        alive;
} HookObject;

typedef struct {
    PyObject_HEAD
    mmu_snapshot *s;
    PyObject     *mem;  /* the Memory it was saved from (MMIO devices belong to it) */
    bool          has_mmio;
} SnapshotObject;

static PyTypeObject *MemoryType, *CpuType, *HookType, *SnapshotType, *ViewType;

/* ------------------------------------------------------------ errors */

static int access_of_err(mmu_err err)
{
    switch (err) {
    case MMU_ERR_READ_UNMAPPED: return UC_MEM_READ_UNMAPPED;
    case MMU_ERR_WRITE_UNMAPPED: return UC_MEM_WRITE_UNMAPPED;
    case MMU_ERR_FETCH_UNMAPPED: return UC_MEM_FETCH_UNMAPPED;
    case MMU_ERR_READ_PROT: return UC_MEM_READ_PROT;
    case MMU_ERR_WRITE_PROT: return UC_MEM_WRITE_PROT;
    case MMU_ERR_FETCH_PROT: return UC_MEM_FETCH_PROT;
    default: return -1;
    }
}

/* Raises the class for err; addr is passed when has_addr. Returns NULL. */
static PyObject *raise_err_at(mmu_err err, bool has_addr, uint64_t addr)
{
    PyObject *cls = (err > 0 && err < N_ERRS && g_errors[err]) ? g_errors[err] : PyExc_RuntimeError;
    int acc = access_of_err(err);
    PyObject *a = has_addr ? PyLong_FromUnsignedLongLong(addr) : (Py_INCREF(Py_None), Py_None);
    PyObject *ac = acc >= 0 ? PyLong_FromLong(acc) : (Py_INCREF(Py_None), Py_None);
    PyObject *exc = (a && ac) ? PyObject_CallFunction(cls, "sOO", mmu_strerror(err), a, ac) : NULL;
    Py_XDECREF(a);
    Py_XDECREF(ac);
    if (exc) {
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
        Py_DECREF(exc);
    }
    return NULL;
}

static PyObject *raise_err(mmu_err err) { return raise_err_at(err, false, 0); }

static PyObject *raise_closed(const char *what)
{
    PyErr_Format(g_closed_error ? g_closed_error : PyExc_ValueError, "operation on a closed %s", what);
    return NULL;
}

/* First byte of [addr, addr+size) that a host (host=true) or guest access
 * needing perm cannot touch; *out unchanged and false if none is found. */
static bool first_bad(mmu_t *m, uint64_t addr, uint64_t size, unsigned perm, bool host, uint64_t *out)
{
    size_t n = mmu_regions(m, NULL, 0);
    mmu_region *r = n ? malloc(n * sizeof *r) : NULL;
    if (n && !r)
        return false;
    n = mmu_regions(m, r, n);
    uint64_t cur = addr, last = size ? addr + size - 1 : addr;
    if (last < addr)
        last = UINT64_MAX;
    bool found = true;
    for (size_t i = 0; i < n && found; i++) {
        uint64_t rlast = r[i].end - 1; /* end 0 = 2^64 */
        if (rlast < cur)
            continue;
        if (r[i].start > cur)
            break;
        bool ok = host ? (!r[i].mmio || (r[i].perms & perm)) : (r[i].perms & perm) != 0;
        if (!ok)
            break;
        if (rlast >= last)
            found = false;
        else
            cur = rlast + 1;
    }
    free(r);
    if (found && cur <= last)
        *out = cur;
    return found && cur <= last;
}

/* Raises a fault for an access at [addr, addr+size) with its first bad byte. */
static PyObject *raise_fault(MemoryObject *self, mmu_err err, uint64_t addr, uint64_t size, bool host)
{
    unsigned perm = MMU_PROT_READ;
    if (err == MMU_ERR_WRITE_UNMAPPED || err == MMU_ERR_WRITE_PROT)
        perm = MMU_PROT_WRITE;
    else if (err == MMU_ERR_FETCH_UNMAPPED || err == MMU_ERR_FETCH_PROT)
        perm = MMU_PROT_EXEC;
    uint64_t bad = addr;
    if (access_of_err(err) < 0)
        return raise_err(err);
    first_bad(self->m, addr, size, perm, host, &bad);
    return raise_err_at(err, true, bad);
}

/* ---------------------------------------------------------- arguments */

/* Maps positional and keyword arguments onto names[]; out[i] is borrowed or
 * NULL when absent. The first nreq are required, at most nposmax positional. */
static int parse_args(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, const char *fname,
                      const char *const *names, int nnames, int nreq, int nposmax, PyObject **out)
{
    for (int i = 0; i < nnames; i++)
        out[i] = NULL;
    if (nargs > nposmax) {
        PyErr_Format(PyExc_TypeError, "%s() takes at most %d positional arguments (%zd given)", fname, nposmax,
                     nargs);
        return -1;
    }
    for (Py_ssize_t i = 0; i < nargs; i++)
        out[i] = args[i];
    Py_ssize_t nkw = kwnames ? PyTuple_Size(kwnames) : 0;
    for (Py_ssize_t k = 0; k < nkw; k++) {
        PyObject *key = PyTuple_GetItem(kwnames, k);
        int j = 0;
        while (j < nnames && PyUnicode_CompareWithASCIIString(key, names[j]) != 0)
            j++;
        if (j == nnames) {
            PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%U'", fname, key);
            return -1;
        }
        if (out[j]) {
            PyErr_Format(PyExc_TypeError, "%s() got multiple values for argument '%s'", fname, names[j]);
            return -1;
        }
        out[j] = args[nargs + k];
    }
    for (int i = 0; i < nreq; i++)
        if (!out[i]) {
            PyErr_Format(PyExc_TypeError, "%s() missing required argument '%s'", fname, names[i]);
            return -1;
        }
    return 0;
}

#define PARSE(fname, nreq, nposmax, ...)                                                                    \
    static const char *const names_[] = {__VA_ARGS__};                                                     \
    enum { NN_ = sizeof names_ / sizeof names_[0] };                                                        \
    PyObject *a[NN_];                                                                                       \
    if (parse_args(args, nargs, kwnames, fname, names_, NN_, nreq, nposmax, a) < 0)                         \
        return NULL;

static int to_u64(PyObject *o, const char *name, uint64_t *out)
{
    PyObject *idx;
    if (PyLong_Check(o)) {
        idx = o;
        Py_INCREF(idx);
    } else if (PyIndex_Check(o)) {
        if (!(idx = PyNumber_Index(o)))
            return -1;
    } else {
        PyObject *tname = PyType_GetName(Py_TYPE(o));
        PyErr_Format(PyExc_TypeError, "%s must be an int, not %S", name, tname ? tname : Py_None);
        Py_XDECREF(tname);
        return -1;
    }
    uint64_t v = PyLong_AsUnsignedLongLong(idx);
    if (v == (uint64_t)-1 && PyErr_Occurred()) {
        PyErr_Clear();
        int neg = PyObject_RichCompareBool(idx, g_zero, Py_LT);
        PyErr_Format(PyExc_ValueError, neg ? "%s must not be negative" : "%s must be below 2**64", name);
        Py_DECREF(idx);
        return -1;
    }
    Py_DECREF(idx);
    *out = v;
    return 0;
}

static int to_i64(PyObject *o, const char *name, int64_t *out)
{
    if (!PyLong_Check(o) && !PyIndex_Check(o)) {
        PyErr_Format(PyExc_TypeError, "%s must be an int", name);
        return -1;
    }
    PyObject *idx = PyNumber_Index(o);
    if (!idx)
        return -1;
    long long v = PyLong_AsLongLong(idx);
    Py_DECREF(idx);
    if (v == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        PyErr_Format(PyExc_ValueError, "%s must lie in [-2**63, 2**63)", name);
        return -1;
    }
    *out = v;
    return 0;
}

static int to_uint(PyObject *o, const char *name, unsigned *out)
{
    uint64_t v;
    if (to_u64(o, name, &v) < 0)
        return -1;
    if (v > 0xffffffffu) {
        PyErr_Format(PyExc_ValueError, "%s is too large", name);
        return -1;
    }
    *out = (unsigned)v;
    return 0;
}

static int to_size(PyObject *o, const char *name, size_t *out)
{
    uint64_t v;
    if (to_u64(o, name, &v) < 0)
        return -1;
    if (v > (uint64_t)PY_SSIZE_T_MAX) {
        PyErr_Format(PyExc_ValueError, "%s is too large", name);
        return -1;
    }
    *out = (size_t)v;
    return 0;
}

/* optional u64: absent or None gives dflt */
static int opt_u64(PyObject *o, const char *name, uint64_t dflt, uint64_t *out)
{
    if (!o || o == Py_None) {
        *out = dflt;
        return 0;
    }
    return to_u64(o, name, out);
}

/* label: None -> NULL, str -> UTF-8 without NUL */
static int to_label(PyObject *o, const char *name, const char **out)
{
    if (!o || o == Py_None) {
        *out = NULL;
        return 0;
    }
    if (!PyUnicode_Check(o)) {
        PyErr_Format(PyExc_TypeError, "%s must be a str or None", name);
        return -1;
    }
    Py_ssize_t len;
    const char *s = PyUnicode_AsUTF8AndSize(o, &len);
    if (!s)
        return -1;
    if ((Py_ssize_t)strlen(s) != len) {
        PyErr_Format(PyExc_ValueError, "%s must not contain NUL", name);
        return -1;
    }
    *out = s;
    return 0;
}

static int to_flag(PyObject *o, bool *out)
{
    if (!o) {
        *out = false;
        return 0;
    }
    int t = PyObject_IsTrue(o);
    if (t < 0)
        return -1;
    *out = t;
    return 0;
}

/* ------------------------------------------------------------- Memory */

/* Open, and not inside a library call of another thread (a callback lets
 * other threads run; an mmu_t is for one thread at a time). */
#define MEM_OPEN(self)                                                                                      \
    if (!(self)->m)                                                                                         \
        return raise_closed("Memory");                                                                     \
    if ((self)->busy && (self)->busy_thread != PyThread_get_thread_ident())                                \
        return raise_other_thread();

#define BUSY_ENTER(self)                                                                                    \
    do {                                                                                                    \
        if ((self)->busy++ == 0)                                                                            \
            (self)->busy_thread = PyThread_get_thread_ident();                                              \
    } while (0)
#define BUSY_LEAVE(self) ((self)->busy--)

static PyObject *raise_other_thread(void)
{
    PyErr_SetString(PyExc_RuntimeError, "Memory is in use by another thread (inside one of its callbacks)");
    return NULL;
}

/* Raises BufferError when a view of [lo, hi] is exported: its pages must stay. */
static int views_block(MemoryObject *self, uint64_t lo, uint64_t hi, const char *what)
{
    for (ViewObject *v = self->views; v; v = v->next) {
        if (v->exports && v->addr <= hi && lo <= v->addr + (v->size - 1)) {
            PyErr_Format(PyExc_BufferError,
                         "cannot %s: a view() of [%#llx, %#llx) is still exported (release the memoryview first)",
                         what, (unsigned long long)v->addr, (unsigned long long)(v->addr + v->size));
            return -1;
        }
    }
    return 0;
}

/* The access that ran a callback which raised: stop the running CPU too. */
static void callback_failed(MemoryObject *mem)
{
    if (mem && mem->running && mem->running->c)
        cpu_stop(mem->running->c);
}

static PyObject *Memory_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    (void)args;
    (void)kw;
    allocfunc alloc = (allocfunc)PyType_GetSlot(type, Py_tp_alloc);
    MemoryObject *self = (MemoryObject *)alloc(type, 0);
    if (!self)
        return NULL;
    self->hooks = PyDict_New();
    if (!self->hooks) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static int Memory_init(MemoryObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"addr_bits", "ptr_size", "big_endian", "tlb_entries", NULL};
    PyObject *bits_o = NULL, *ptr_o = NULL, *be_o = NULL, *tlb_o = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|OOOO:Memory", kwlist, &bits_o, &ptr_o, &be_o, &tlb_o))
        return -1;
    if (self->m) {
        PyErr_SetString(PyExc_RuntimeError, "Memory is already initialised");
        return -1;
    }
    mmu_config cfg = {0};
    uint64_t bits, ptr, tlb;
    bool be;
    if (opt_u64(bits_o, "addr_bits", 64, &bits) < 0 || opt_u64(ptr_o, "ptr_size", bits == 32 ? 4 : 8, &ptr) < 0 ||
        opt_u64(tlb_o, "tlb_entries", 0, &tlb) < 0 || to_flag(be_o, &be) < 0)
        return -1;
    if (bits != 32 && bits != 48 && bits != 64) {
        PyErr_SetString(PyExc_ValueError, "addr_bits must be 32, 48 or 64");
        return -1;
    }
    if (ptr != 1 && ptr != 2 && ptr != 4 && ptr != 8) {
        PyErr_SetString(PyExc_ValueError, "ptr_size must be 1, 2, 4 or 8");
        return -1;
    }
    if (tlb > 65536 || (tlb & (tlb - 1))) {
        PyErr_SetString(PyExc_ValueError, "tlb_entries must be a power of two up to 65536");
        return -1;
    }
    cfg.addr_bits = (unsigned)bits;
    cfg.ptr_size = (unsigned)ptr;
    cfg.big_endian = be;
    cfg.tlb_entries = (unsigned)tlb;
    mmu_err err = mmu_open(&cfg, &self->m);
    if (err) {
        raise_err(err);
        return -1;
    }
    self->ptr_size = cfg.ptr_size;
    self->big_endian = be;
    self->addr_bits = cfg.addr_bits;
    return 0;
}

static void cpu_shutdown(CpuObject *c);

/* Frees the library handle and drops everything that refers to it. */
static void memory_shutdown(MemoryObject *self)
{
    while (self->n_cpus)
        cpu_shutdown(self->cpus[self->n_cpus - 1]);
    free(self->cpus);
    self->cpus = NULL;
    if (self->m) {
        mmu_close(self->m);
        self->m = NULL;
    }
    if (self->hooks) {
        PyObject *key, *val;
        Py_ssize_t pos = 0;
        while (PyDict_Next(self->hooks, &pos, &key, &val))
            ((HookObject *)val)->alive = false;
        PyDict_Clear(self->hooks);
    }
    for (size_t i = 0; i < self->n_devs; i++) {
        Py_XDECREF(self->devs[i]->handler);
        Py_XDECREF(self->devs[i]->read);
        Py_XDECREF(self->devs[i]->write);
        free(self->devs[i]);
    }
    free(self->devs);
    self->devs = NULL;
    self->n_devs = 0;
}

static int Memory_traverse(MemoryObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->hooks);
    for (size_t i = 0; i < self->n_devs; i++) {
        Py_VISIT(self->devs[i]->handler);
        Py_VISIT(self->devs[i]->read);
        Py_VISIT(self->devs[i]->write);
    }
    Py_VISIT(Py_TYPE((PyObject *)self));
    return 0;
}

static int Memory_clear(MemoryObject *self)
{
    memory_shutdown(self);
    Py_CLEAR(self->hooks);
    return 0;
}

static void Memory_dealloc(MemoryObject *self)
{
    PyTypeObject *tp = Py_TYPE((PyObject *)self);
    PyObject_GC_UnTrack(self);
    Memory_clear(self);
    freefunc tp_free = (freefunc)PyType_GetSlot(tp, Py_tp_free);
    tp_free(self);
    Py_DECREF(tp);
}

static PyObject *Memory_close(MemoryObject *self, PyObject *unused)
{
    (void)unused;
    if (self->busy) {
        PyErr_SetString(PyExc_RuntimeError, "cannot close a Memory from inside one of its callbacks");
        return NULL;
    }
    for (size_t i = 0; i < self->n_cpus; i++)
        if (self->cpus[i]->running) {
            PyErr_SetString(PyExc_RuntimeError, "cannot close a Memory while a Cpu runs on it");
            return NULL;
        }
    if (self->m && views_block(self, 0, UINT64_MAX, "close") < 0)
        return NULL;
    memory_shutdown(self);
    Py_RETURN_NONE;
}

static PyObject *Memory_get_closed(MemoryObject *self, void *c)
{
    (void)c;
    return PyBool_FromLong(self->m == NULL);
}

static PyObject *Memory_get_pagesize(MemoryObject *self, void *c)
{
    (void)c;
    MEM_OPEN(self);
    return PyLong_FromUnsignedLongLong(mmu_pagesize(self->m));
}

static PyObject *Memory_get_max_addr(MemoryObject *self, void *c)
{
    (void)c;
    MEM_OPEN(self);
    return PyLong_FromUnsignedLongLong(mmu_max_addr(self->m));
}

static PyObject *Memory_get_ptr_size(MemoryObject *self, void *c)
{
    (void)c;
    return PyLong_FromUnsignedLong(self->ptr_size);
}

static PyObject *Memory_get_addr_bits(MemoryObject *self, void *c)
{
    (void)c;
    return PyLong_FromUnsignedLong(self->addr_bits);
}

static PyObject *Memory_get_big_endian(MemoryObject *self, void *c)
{
    (void)c;
    return PyBool_FromLong(self->big_endian);
}

/* map(addr, size, perms=UC_PROT_ALL, info=None) */
static PyObject *Memory_map(MemoryObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PARSE("map", 2, 4, "addr", "size", "perms", "info");
    uint64_t addr, size;
    unsigned perms = MMU_PROT_ALL;
    const char *label;
    MEM_OPEN(self);
    if (to_u64(a[0], "addr", &addr) < 0 || to_u64(a[1], "size", &size) < 0 ||
        (a[2] && to_uint(a[2], "perms", &perms) < 0) || to_label(a[3], "info", &label) < 0)
        return NULL;
    mmu_err err = mmu_map(self->m, addr, size, perms, label);
    if (err)
        return raise_err(err);
    Py_RETURN_NONE;
}

/* unmap(addr, size) */
static PyObject *Memory_unmap(MemoryObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PARSE("unmap", 2, 2, "addr", "size");
    uint64_t addr, size;
    MEM_OPEN(self);
    if (to_u64(a[0], "addr", &addr) < 0 || to_u64(a[1], "size", &size) < 0)
        return NULL;
    if (size && views_block(self, addr, size - 1 > UINT64_MAX - addr ? UINT64_MAX : addr + (size - 1), "unmap") < 0)
        return NULL;
    mmu_err err = mmu_unmap(self->m, addr, size);
    if (err)
        return raise_err(err);
    Py_RETURN_NONE;
}

static PyObject *Memory_unmap_all(MemoryObject *self, PyObject *unused)
{
    (void)unused;
    MEM_OPEN(self);
    if (views_block(self, 0, UINT64_MAX, "unmap_all") < 0)
        return NULL;
    mmu_unmap_all(self->m);
    Py_RETURN_NONE;
}

/* protect(addr, size, perms) */
static PyObject *Memory_protect(MemoryObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PARSE("protect", 3, 3, "addr", "size", "perms");
    uint64_t addr, size;
    unsigned perms;
    MEM_OPEN(self);
    if (to_u64(a[0], "addr", &addr) < 0 || to_u64(a[1], "size", &size) < 0 || to_uint(a[2], "perms", &perms) < 0)
        return NULL;
    mmu_err err = mmu_protect(self->m, addr, size, perms);
    if (err)
        return raise_err(err);
    Py_RETURN_NONE;
}

/* change_mapinfo(addr, size, info): relabel, splitting like protect */
static PyObject *Memory_set_label(MemoryObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PARSE("set_label", 3, 3, "addr", "size", "info");
    uint64_t addr, size;
    const char *label;
    MEM_OPEN(self);
    if (to_u64(a[0], "addr", &addr) < 0 || to_u64(a[1], "size", &size) < 0 || to_label(a[2], "info", &label) < 0)
        return NULL;
    mmu_err err = mmu_set_label(self->m, addr, size, label);
    if (err)
        return raise_err(err);
    Py_RETURN_NONE;
}

/* Qiling's defaults: minaddr None = 0, maxaddr None = end of space, align None = page. */
static int free_space_args(MemoryObject *self, PyObject **a, uint64_t *size, uint64_t *lo, uint64_t *hi,
                           uint64_t *align)
{
    if (to_u64(a[0], "size", size) < 0 || opt_u64(a[1], "minaddr", 0, lo) < 0 ||
        opt_u64(a[3], "align", 0, align) < 0)
        return -1;
    *hi = 0; /* the library's "end of the address space" */
    if (!a[2] || a[2] == Py_None)
        return 0;
    int top = self->addr_bits == 64 ? PyObject_RichCompareBool(a[2], g_two64, Py_EQ) : 0;
    if (top < 0 || (!top && to_u64(a[2], "maxaddr", hi) < 0))
        return -1;
    if (!top && *hi == 0) {
        PyErr_SetString(PyExc_ValueError, "maxaddr must be above minaddr");
        return -1;
    }
    if (self->addr_bits < 64 && *hi == (uint64_t)1 << self->addr_bits)
        *hi = 0;
    return 0;
}

/* find_free_space(size, minaddr=None, maxaddr=None, align=None) -> int */
static PyObject *Memory_find_free_space(MemoryObject *self, PyObject *const *args, Py_ssize_t nargs,
                                        PyObject *kwnames)
{
    PARSE("find_free_space", 1, 4, "size", "minaddr", "maxaddr", "align");
    uint64_t size, lo, hi, align, out;
    MEM_OPEN(self);
    if (free_space_args(self, a, &size, &lo, &hi, &align) < 0)
        return NULL;
    mmu_err err = mmu_find_free_space(self->m, size, lo, hi, align, &out);
    if (err)
        return raise_err(err);
    return PyLong_FromUnsignedLongLong(out);
}

/* map_anywhere(size, minaddr=None, maxaddr=None, align=None, perms=UC_PROT_ALL, info=None) -> int */
static PyObject *Memory_map_anywhere(MemoryObject *self, PyObject *const *args, Py_ssize_t nargs,
                                     PyObject *kwnames)
{
    PARSE("map_anywhere", 1, 6, "size", "minaddr", "maxaddr", "align", "perms", "info");
    uint64_t size, lo, hi, align, out;
    unsigned perms = MMU_PROT_ALL;
    const char *label;
    MEM_OPEN(self);
    if (free_space_args(self, a, &size, &lo, &hi, &align) < 0 || (a[4] && to_uint(a[4], "perms", &perms) < 0) ||
        to_label(a[5], "info", &label) < 0)
        return NULL;
    mmu_err err = mmu_map_anywhere(self->m, size, lo, hi, align, perms, label, &out);
    if (err)
        return raise_err(err);
    return PyLong_FromUnsignedLongLong(out);
}

static PyObject *range_query(MemoryObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
                             bool mapped)
{
    PARSE(mapped ? "is_mapped" : "is_available", 2, 2, "addr", "size");
    uint64_t addr, size;
    MEM_OPEN(self);
    if (to_u64(a[0], "addr", &addr) < 0 || to_u64(a[1], "size", &size) < 0)
        return NULL;
    return PyBool_FromLong(mapped ? mmu_is_mapped(self->m, addr, size) : mmu_is_available(self->m, addr, size));
}

static PyObject *Memory_is_mapped(MemoryObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    return range_query(self, args, nargs, kwnames, true);
}

static PyObject *Memory_is_available(MemoryObject *self, PyObject *const *args, Py_ssize_t nargs,
                                     PyObject *kwnames)
{
    return range_query(self, args, nargs, kwnames, false);
}

/* Runs after a library call that may have run callbacks: a pending
 * exception from one of them wins over the result. */
#define PENDING_WINS(result)                                                                                \
    if (PyErr_Occurred()) {                                                                                 \
        Py_XDECREF(result);                                                                                 \
        return NULL;                                                                                        \
    }

/* read(addr, size) -> bytearray; ignores perms (ql.mem.read) */
static PyObject *Memory_read(MemoryObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    uint64_t addr;
    size_t size;
    if (nargs == 2 && !kwnames) { /* the common case, without the general parser */
        if (to_u64(args[0], "addr", &addr) < 0 || to_size(args[1], "size", &size) < 0)
            return NULL;
    } else {
        PARSE("read", 2, 2, "addr", "size");
        if (to_u64(a[0], "addr", &addr) < 0 || to_size(a[1], "size", &size) < 0)
            return NULL;
    }
    MEM_OPEN(self);
    PyObject *out = PyByteArray_FromStringAndSize(NULL, (Py_ssize_t)size);
    if (!out)
        return NULL;
    BUSY_ENTER(self);
    mmu_err err = mmu_read(self->m, addr, PyByteArray_AsString(out), size);
    BUSY_LEAVE(self);
    PENDING_WINS(out);
    if (err) {
        Py_DECREF(out);
        return raise_fault(self, err, addr, size, true);
    }
    return out;
}

/* read_into(addr, buffer) -> None: fills a writable buffer, ignores perms */
static PyObject *Memory_read_into(MemoryObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PARSE("read_into", 2, 2, "addr", "buffer");
    uint64_t addr;
    MEM_OPEN(self);
    if (to_u64(a[0], "addr", &addr) < 0)
        return NULL;
    Py_buffer view;
    if (PyObject_GetBuffer(a[1], &view, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) < 0)
        return NULL;
    BUSY_ENTER(self);
    mmu_err err = mmu_read(self->m, addr, view.buf, (size_t)view.len);
    BUSY_LEAVE(self);
    size_t len = (size_t)view.len;
    PyBuffer_Release(&view);
    PENDING_WINS(NULL);
    if (err)
        return raise_fault(self, err, addr, len, true);
    Py_RETURN_NONE;
}

/* write(addr, data) -> None; ignores perms, all-or-nothing */
static PyObject *Memory_write(MemoryObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    uint64_t addr;
    PyObject *data;
    if (nargs == 2 && !kwnames) {
        data = args[1];
        if (to_u64(args[0], "addr", &addr) < 0)
            return NULL;
    } else {
        PARSE("write", 2, 2, "addr", "data");
        data = a[1];
        if (to_u64(a[0], "addr", &addr) < 0)
            return NULL;
    }
    MEM_OPEN(self);
    if (PyUnicode_Check(data)) {
        PyErr_SetString(PyExc_TypeError, "data must be bytes-like, not str");
        return NULL;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(data, &view, PyBUF_C_CONTIGUOUS) < 0)
        return NULL;
    BUSY_ENTER(self);
    mmu_err err = mmu_write(self->m, addr, view.buf, (size_t)view.len);
    BUSY_LEAVE(self);
    size_t len = (size_t)view.len;
    PyBuffer_Release(&view);
    PENDING_WINS(NULL);
    if (err)
        return raise_fault(self, err, addr, len, true);
    Py_RETURN_NONE;
}

static int ptr_size_arg(MemoryObject *self, PyObject *o, unsigned *out)
{
    unsigned size = 0;
    if (o && to_uint(o, "size", &size) < 0)
        return -1;
    if (size == 0)
        size = self->ptr_size;
    if (size != 1 && size != 2 && size != 4 && size != 8) {
        PyErr_Format(PyExc_ValueError, "Unsupported pointer size: %u", size);
        return -1;
    }
    *out = size;
    return 0;
}

/* read_ptr(addr, size=0, *, signed=False) -> int */
static PyObject *Memory_read_ptr(MemoryObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    uint64_t addr, v;
    unsigned size;
    bool sgn;
    if (nargs <= 2 && nargs >= 1 && !kwnames) {
        if (to_u64(args[0], "addr", &addr) < 0 || ptr_size_arg(self, nargs == 2 ? args[1] : NULL, &size) < 0)
            return NULL;
        sgn = false;
    } else {
        PARSE("read_ptr", 1, 2, "addr", "size", "signed");
        if (to_u64(a[0], "addr", &addr) < 0 || ptr_size_arg(self, a[1], &size) < 0 || to_flag(a[2], &sgn) < 0)
            return NULL;
    }
    MEM_OPEN(self);
    BUSY_ENTER(self);
    mmu_err err = mmu_read_ptr(self->m, addr, size, sgn, &v);
    BUSY_LEAVE(self);
    PENDING_WINS(NULL);
    if (err)
        return raise_fault(self, err, addr, size, true);
    return sgn ? PyLong_FromLongLong((long long)v) : PyLong_FromUnsignedLongLong(v);
}

/* write_ptr(addr, value, size=0, *, signed=False) */
static PyObject *Memory_write_ptr(MemoryObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PARSE("write_ptr", 2, 3, "addr", "value", "size", "signed");
    uint64_t addr, v;
    unsigned size;
    bool sgn;
    if (to_u64(a[0], "addr", &addr) < 0 || ptr_size_arg(self, a[2], &size) < 0 || to_flag(a[3], &sgn) < 0)
        return NULL;
    MEM_OPEN(self);
    if (sgn) {
        int64_t sv;
        if (to_i64(a[1], "value", &sv) < 0)
            return NULL;
        v = (uint64_t)sv;
    } else if (to_u64(a[1], "value", &v) < 0) {
        return NULL;
    }
    BUSY_ENTER(self);
    mmu_err err = mmu_write_ptr(self->m, addr, v, size, sgn);
    BUSY_LEAVE(self);
    PENDING_WINS(NULL);
    if (err == MMU_ERR_ARG) {
        PyErr_Format(PyExc_ValueError, "value does not fit in %u %s bytes", size, sgn ? "signed" : "unsigned");
        return NULL;
    }
    if (err)
        return raise_fault(self, err, addr, size, true);
    Py_RETURN_NONE;
}

/* read_cstring(addr, maxlen=1 MiB) -> bytes: up to the NUL, page-sized chunks */
static PyObject *Memory_read_cstring(MemoryObject *self, PyObject *const *args, Py_ssize_t nargs,
                                     PyObject *kwnames)
{
    PARSE("read_cstring", 1, 2, "addr", "maxlen");
    uint64_t addr, maxlen;
    MEM_OPEN(self);
    if (to_u64(a[0], "addr", &addr) < 0 || opt_u64(a[1], "maxlen", 1 << 20, &maxlen) < 0)
        return NULL;
    if (maxlen > ((uint64_t)1 << 32)) {
        PyErr_SetString(PyExc_ValueError, "maxlen is too large");
        return NULL;
    }
    size_t cap = (size_t)maxlen + 1, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        return PyErr_NoMemory();
    BUSY_ENTER(self);
    mmu_err err = mmu_read_string(self->m, addr, buf, cap, &len);
    BUSY_LEAVE(self);
    PyObject *res = err ? NULL : PyBytes_FromStringAndSize(buf, (Py_ssize_t)len);
    free(buf);
    PENDING_WINS(res);
    if (err == MMU_ERR_READ_UNMAPPED)
        return raise_fault(self, err, addr, cap, true);
    if (err)
        return raise_err(err);
    return res;
}

/* guest accesses: load(addr, size) / fetch(addr, size) -> bytes, store(addr, data) */
static PyObject *guest_read(MemoryObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
                            bool fetch)
{
    PARSE(fetch ? "fetch" : "load", 2, 2, "addr", "size");
    uint64_t addr;
    size_t size;
    MEM_OPEN(self);
    if (to_u64(a[0], "addr", &addr) < 0 || to_size(a[1], "size", &size) < 0)
        return NULL;
    PyObject *out = PyByteArray_FromStringAndSize(NULL, (Py_ssize_t)size);
    if (!out)
        return NULL;
    BUSY_ENTER(self);
    mmu_err err = (fetch ? mmu_fetch : mmu_load)(self->m, addr, PyByteArray_AsString(out), size);
    BUSY_LEAVE(self);
    PENDING_WINS(out);
    if (err) {
        Py_DECREF(out);
        return raise_fault(self, err, addr, size, false);
    }
    return out;
}

static PyObject *Memory_load(MemoryObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    return guest_read(self, args, nargs, kwnames, false);
}

static PyObject *Memory_fetch(MemoryObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    return guest_read(self, args, nargs, kwnames, true);
}

static PyObject *Memory_store(MemoryObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PARSE("store", 2, 2, "addr", "data");
    uint64_t addr;
    MEM_OPEN(self);
    if (to_u64(a[0], "addr", &addr) < 0)
        return NULL;
    Py_buffer view;
    if (PyObject_GetBuffer(a[1], &view, PyBUF_C_CONTIGUOUS) < 0)
        return NULL;
    BUSY_ENTER(self);
    mmu_err err = mmu_store(self->m, addr, view.buf, (size_t)view.len);
    BUSY_LEAVE(self);
    size_t len = (size_t)view.len;
    PyBuffer_Release(&view);
    PENDING_WINS(NULL);
    if (err)
        return raise_fault(self, err, addr, len, false);
    Py_RETURN_NONE;
}

/* A search needle: a compiled hex pattern (str) or a literal (bytes-like). */
typedef struct {
    mmu_pattern *pat;
    Py_buffer    view;
} needle_t;

static int needle_get(PyObject *o, needle_t *nd)
{
    memset(nd, 0, sizeof *nd);
    if (PyUnicode_Check(o)) {
        const char *hex;
        if (to_label(o, "needle", &hex) < 0)
            return -1;
        mmu_err err = mmu_pattern_compile(hex, &nd->pat);
        if (err == MMU_ERR_ARG)
            PyErr_Format(PyExc_ValueError, "bad hex pattern: %R", o);
        else if (err)
            raise_err(err);
        return err ? -1 : 0;
    }
    if (PyObject_GetBuffer(o, &nd->view, PyBUF_C_CONTIGUOUS) < 0)
        return -1;
    if (nd->view.len == 0) {
        PyBuffer_Release(&nd->view);
        PyErr_SetString(PyExc_ValueError, "needle must not be empty");
        return -1;
    }
    return 0;
}

static void needle_release(needle_t *nd)
{
    mmu_pattern_free(nd->pat);
    if (nd->view.obj)
        PyBuffer_Release(&nd->view);
}

/* Runs the search, growing *out (first *stack of cap entries) until every
 * match fits; *n gets the count. */
static mmu_err search_all(mmu_t *m, const needle_t *nd, uint64_t begin, uint64_t end, unsigned flags,
                          uint64_t **out, size_t cap, size_t *n)
{
    uint64_t *stack = *out;
    for (;;) {
        mmu_err err = nd->pat ? mmu_search_pattern(m, nd->pat, begin, end, flags, *out, cap, n)
                              : mmu_search(m, nd->view.buf, (size_t)nd->view.len, begin, end, flags, *out, cap, n);
        if (err || *n <= cap)
            return err;
        if (*out != stack)
            free(*out);
        cap = *n;
        if (!(*out = malloc(cap * sizeof **out))) {
            *out = stack;
            return MMU_ERR_NOMEM;
        }
    }
}

static PyObject *u64_list(const uint64_t *v, size_t n)
{
    PyObject *list = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; list && i < n; i++) {
        PyObject *x = PyLong_FromUnsignedLongLong(v[i]);
        if (!x || PyList_SetItem(list, (Py_ssize_t)i, x) < 0)
            Py_CLEAR(list);
    }
    return list;
}

/* _search(needle, begin, end, cross) -> list: needle bytes-like (literal)
 * or str (YARA hex pattern) */
static PyObject *Memory_search_raw(MemoryObject *self, PyObject *const *args, Py_ssize_t nargs,
                                   PyObject *kwnames)
{
    PARSE("_search", 1, 4, "needle", "begin", "end", "cross");
    uint64_t begin, end, stack[64], *out = stack;
    bool cross;
    needle_t nd;
    size_t n = 0;
    MEM_OPEN(self);
    if (opt_u64(a[1], "begin", 0, &begin) < 0 || opt_u64(a[2], "end", 0, &end) < 0 || to_flag(a[3], &cross) < 0 ||
        needle_get(a[0], &nd) < 0)
        return NULL;
    mmu_err err = search_all(self->m, &nd, begin, end, cross ? MMU_SEARCH_CROSS : 0, &out, 64, &n);
    needle_release(&nd);
    PyObject *list = err ? NULL : u64_list(out, n);
    if (out != stack)
        free(out);
    if (err == MMU_ERR_ARG)
        PyErr_SetString(PyExc_ValueError, "search arguments do not make sense (begin >= end)");
    else if (err)
        raise_err(err);
    return list;
}

/* regions() -> list of (start, end, perms, label, is_mmio); end is exclusive
 * (2**64 for a region ending at the top) */
static PyObject *Memory_regions(MemoryObject *self, PyObject *unused)
{
    (void)unused;
    MEM_OPEN(self);
    size_t n = mmu_regions(self->m, NULL, 0);
    mmu_region *r = malloc((n ? n : 1) * sizeof *r);
    if (!r)
        return PyErr_NoMemory();
    n = mmu_regions(self->m, r, n);
    PyObject *list = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; list && i < n; i++) {
        PyObject *end = r[i].end ? PyLong_FromUnsignedLongLong(r[i].end) : (Py_INCREF(g_two64), g_two64);
        PyObject *t = end ? Py_BuildValue("(KNIsO)", (unsigned long long)r[i].start, end, r[i].perms, r[i].label,
                                          r[i].mmio ? Py_True : Py_False)
                          : NULL;
        if (!t || PyList_SetItem(list, (Py_ssize_t)i, t) < 0)
            Py_CLEAR(list);
    }
    free(r);
    return list;
}

/* format_mapinfo() -> str (Qiling's table, lines joined by '\n') */
static PyObject *Memory_format_mapinfo(MemoryObject *self, PyObject *unused)
{
    (void)unused;
    MEM_OPEN(self);
    size_t need = 0;
    char dummy[1];
    mmu_err err = mmu_format_mapinfo(self->m, dummy, sizeof dummy, &need);
    if (err && err != MMU_ERR_ARG)
        return raise_err(err);
    char *buf = malloc(need + 1);
    if (!buf)
        return PyErr_NoMemory();
    err = mmu_format_mapinfo(self->m, buf, need + 1, &need);
    PyObject *s = err ? raise_err(err) : PyUnicode_DecodeUTF8(buf, (Py_ssize_t)need, "surrogateescape");
    free(buf);
    return s;
}

/* get_lib_base(filename) -> int or None */
static PyObject *Memory_get_lib_base(MemoryObject *self, PyObject *const *args, Py_ssize_t nargs,
                                     PyObject *kwnames)
{
    PARSE("get_lib_base", 1, 1, "filename");
    const char *name;
    uint64_t out;
    MEM_OPEN(self);
    if (to_label(a[0], "filename", &name) < 0)
        return NULL;
    if (!name) {
        PyErr_SetString(PyExc_TypeError, "filename must be a str");
        return NULL;
    }
    mmu_err err = mmu_lib_base(self->m, name, &out);
    if (err == MMU_ERR_NOTFOUND)
        Py_RETURN_NONE;
    if (err)
        return raise_err(err);
    return PyLong_FromUnsignedLongLong(out);
}

static PyObject *Memory_digest(MemoryObject *self, PyObject *unused)
{
    (void)unused;
    MEM_OPEN(self);
    return PyLong_FromUnsignedLongLong(mmu_digest(self->m));
}

static PyObject *Memory_stats(MemoryObject *self, PyObject *unused)
{
    (void)unused;
    MEM_OPEN(self);
    mmu_stats s;
    mmu_get_stats(self->m, &s);
    return Py_BuildValue("{sKsKsKsKsKsKsKsKsKsK}", "tlb_hits", (unsigned long long)s.tlb_hits, "tlb_misses",
                         (unsigned long long)s.tlb_misses, "tlb_flushes", (unsigned long long)s.tlb_flushes,
                         "page_walks", (unsigned long long)s.page_walks, "faults", (unsigned long long)s.faults,
                         "regions", (unsigned long long)s.regions, "pages_mapped",
                         (unsigned long long)s.pages_mapped, "meta_bytes", (unsigned long long)s.meta_bytes,
                         "tlb_entries", (unsigned long long)s.tlb_entries, "tlb_resizes",
                         (unsigned long long)s.tlb_resizes);
}

/* ---------------------------------------------------------------- MMIO */

static uint64_t mmio_read_tramp(void *user, uint64_t offset, unsigned size)
{
    mmio_dev *d = user;
    if (PyErr_Occurred()) { /* an earlier callback raised: stop this access too */
        mmu_cancel_access(((MemoryObject *)d->mem)->m);
        return 0;
    }
    PyObject *res = PyObject_CallFunction(d->read, "OKI", d->mem, (unsigned long long)offset, size);
    uint64_t v = 0;
    if (res) {
        if (PyLong_Check(res))
            v = PyLong_AsUnsignedLongLongMask(res);
        else
            PyErr_Format(PyExc_TypeError, "MMIO read handler must return an int");
        Py_DECREF(res);
    }
    if (PyErr_Occurred()) {
        mmu_cancel_access(((MemoryObject *)d->mem)->m); /* the exception stops the access */
        callback_failed((MemoryObject *)d->mem);
    } else if (size < 8)
        v &= (UINT64_C(1) << (8 * size)) - 1;
    return v;
}

static void mmio_write_tramp(void *user, uint64_t offset, unsigned size, uint64_t value)
{
    mmio_dev *d = user;
    if (PyErr_Occurred()) {
        mmu_cancel_access(((MemoryObject *)d->mem)->m);
        return;
    }
    PyObject *res =
        PyObject_CallFunction(d->write, "OKIK", d->mem, (unsigned long long)offset, size, (unsigned long long)value);
    Py_XDECREF(res);
    if (!res) {
        mmu_cancel_access(((MemoryObject *)d->mem)->m);
        callback_failed((MemoryObject *)d->mem);
    }
}

/* getattr that treats a missing attribute as NULL without an error */
static PyObject *optional_attr(PyObject *o, const char *name)
{
    PyObject *v = PyObject_GetAttrString(o, name);
    if (!v && PyErr_ExceptionMatches(PyExc_AttributeError)) {
        PyErr_Clear();
        return NULL;
    }
    return v;
}

/* map_mmio(addr, size, handler, info='[mmio]') */
static PyObject *Memory_map_mmio(MemoryObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PARSE("map_mmio", 3, 4, "addr", "size", "handler", "info");
    uint64_t addr, size;
    const char *label;
    MEM_OPEN(self);
    if (to_u64(a[0], "addr", &addr) < 0 || to_u64(a[1], "size", &size) < 0 || to_label(a[3], "info", &label) < 0)
        return NULL;
    mmio_dev **grown = realloc(self->devs, (self->n_devs + 1) * sizeof *grown);
    mmio_dev *d = calloc(1, sizeof *d);
    if (grown)
        self->devs = grown;
    if (!grown || !d) {
        free(d);
        return PyErr_NoMemory();
    }
    d->read = optional_attr(a[2], "read");
    d->write = PyErr_Occurred() ? NULL : optional_attr(a[2], "write");
    if (PyErr_Occurred() || (d->read && !PyCallable_Check(d->read)) || (d->write && !PyCallable_Check(d->write))) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_TypeError, "handler.read and handler.write must be callable");
        Py_XDECREF(d->read);
        Py_XDECREF(d->write);
        free(d);
        return NULL;
    }
    d->handler = a[2];
    Py_INCREF(d->handler);
    d->mem = (PyObject *)self;
    d->start = addr;
    d->end = addr + size;
    mmu_err err = mmu_map_mmio(self->m, addr, size, d->read ? mmio_read_tramp : NULL,
                               d->write ? mmio_write_tramp : NULL, d, label ? label : "[mmio]");
    if (err) {
        Py_XDECREF(d->read);
        Py_XDECREF(d->write);
        Py_DECREF(d->handler);
        free(d);
        return raise_err(err);
    }
    self->devs[self->n_devs++] = d;
    Py_RETURN_NONE;
}

/* _mmio_handler(addr) -> the handler of the newest device mapped over addr, or None */
static PyObject *Memory_mmio_handler(MemoryObject *self, PyObject *arg)
{
    uint64_t addr;
    if (to_u64(arg, "addr", &addr) < 0)
        return NULL;
    for (size_t i = self->n_devs; i-- > 0;)
        if (self->devs[i]->start <= addr && addr - self->devs[i]->start < self->devs[i]->end - self->devs[i]->start) {
            Py_INCREF(self->devs[i]->handler);
            return self->devs[i]->handler;
        }
    Py_RETURN_NONE;
}

/* ---------------------------------------------------------------- hooks */

static int hook_access_code(unsigned type)
{
    switch (type) {
    case MMU_HOOK_MEM_READ: return UC_MEM_READ;
    case MMU_HOOK_MEM_WRITE: return UC_MEM_WRITE;
    case MMU_HOOK_MEM_FETCH: return UC_MEM_FETCH;
    case MMU_HOOK_MEM_READ_UNMAPPED: return UC_MEM_READ_UNMAPPED;
    case MMU_HOOK_MEM_WRITE_UNMAPPED: return UC_MEM_WRITE_UNMAPPED;
    case MMU_HOOK_MEM_FETCH_UNMAPPED: return UC_MEM_FETCH_UNMAPPED;
    case MMU_HOOK_MEM_READ_PROT: return UC_MEM_READ_PROT;
    case MMU_HOOK_MEM_WRITE_PROT: return UC_MEM_WRITE_PROT;
    case MMU_HOOK_MEM_FETCH_PROT: return UC_MEM_FETCH_PROT;
    default: return 0;
    }
}

/* Calls h's callback with head args (a new tuple, stolen) plus user_data;
 * returns the result or NULL with the error set. */
static PyObject *call_hook(HookObject *h, PyObject *head)
{
    if (!head)
        return NULL;
    if (!h->callback) { /* cleared by the collector: nothing to call */
        Py_DECREF(head);
        Py_INCREF(Py_False);
        return Py_False;
    }
    if (h->user_data) {
        Py_ssize_t n = PyTuple_Size(head);
        PyObject *full = PyTuple_New(n + 1);
        for (Py_ssize_t i = 0; full && i < n; i++) {
            PyObject *v = PyTuple_GetItem(head, i);
            Py_INCREF(v);
            PyTuple_SetItem(full, i, v);
        }
        if (full) {
            Py_INCREF(h->user_data);
            PyTuple_SetItem(full, n, h->user_data);
        }
        Py_DECREF(head);
        if (!(head = full))
            return NULL;
    }
    PyObject *res = PyObject_Call(h->callback, head, NULL);
    Py_DECREF(head);
    return res;
}

static bool mem_hook_tramp(mmu_t *m, const mmu_mem_event *ev, void *user)
{
    HookObject *h = user;
    bool access = ev->type & (MMU_HOOK_MEM_READ | MMU_HOOK_MEM_WRITE | MMU_HOOK_MEM_FETCH);
    if (PyErr_Occurred()) { /* an earlier callback raised: fail the access */
        if (access)
            mmu_cancel_access(m);
        return false;
    }
    Py_INCREF((PyObject *)h); /* the callback may remove its own hook */
    PyObject *res = call_hook(h, Py_BuildValue("(OiKIK)", h->owner, hook_access_code(ev->type),
                                               (unsigned long long)ev->addr, ev->size,
                                               (unsigned long long)ev->value));
    bool handled = res && res != Py_False;
    Py_XDECREF(res);
    if (!res) {
        if (access)
            mmu_cancel_access(m); /* the access must not happen: the exception stops it */
        callback_failed((MemoryObject *)h->owner);
    }
    Py_DECREF((PyObject *)h);
    return handled;
}

static HookObject *hook_new(PyObject *owner, PyObject *cb, PyObject *user_data, int kind)
{
    if (!PyCallable_Check(cb)) {
        PyErr_SetString(PyExc_TypeError, "callback must be callable");
        return NULL;
    }
    allocfunc alloc = (allocfunc)PyType_GetSlot(HookType, Py_tp_alloc);
    HookObject *h = (HookObject *)alloc(HookType, 0);
    if (!h)
        return NULL;
    h->owner = owner;
    Py_INCREF(owner);
    h->callback = cb;
    Py_INCREF(cb);
    if (user_data && user_data != Py_None) {
        h->user_data = user_data;
        Py_INCREF(user_data);
    }
    h->kind = kind;
    return h;
}

/* Stores h in dict under its id; on failure undoes the library hook. */
static PyObject *hook_register(PyObject *dict, HookObject *h)
{
    PyObject *key = PyLong_FromUnsignedLongLong(h->id);
    if (!key || PyDict_SetItem(dict, key, (PyObject *)h) < 0) {
        Py_XDECREF(key);
        Py_DECREF((PyObject *)h);
        return NULL;
    }
    Py_DECREF(key);
    h->alive = true;
    return (PyObject *)h;
}

/* _hook_add(types, callback, user_data=None, begin=1, end=0) -> Hook */
static PyObject *Memory_hook_add(MemoryObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PARSE("_hook_add", 2, 5, "types", "callback", "user_data", "begin", "end");
    unsigned types;
    uint64_t begin, end;
    MEM_OPEN(self);
    if (to_uint(a[0], "types", &types) < 0 || opt_u64(a[3], "begin", 1, &begin) < 0 ||
        opt_u64(a[4], "end", 0, &end) < 0)
        return NULL;
    HookObject *h = hook_new((PyObject *)self, a[1], a[2], 0);
    if (!h)
        return NULL;
    mmu_err err = mmu_hook_add(self->m, types, mem_hook_tramp, h, begin, end, &h->id);
    if (err) {
        Py_DECREF((PyObject *)h);
        return raise_err(err);
    }
    PyObject *r = hook_register(self->hooks, h);
    if (!r)
        mmu_hook_del(self->m, h->id);
    return r; /* one reference in the dict, one for the caller */
}

static PyObject *Hook_remove(HookObject *self, PyObject *unused);

/* hook_del(handle) */
static PyObject *Memory_hook_del(MemoryObject *self, PyObject *h)
{
    (void)self;
    if (!PyObject_TypeCheck(h, HookType)) {
        PyErr_SetString(PyExc_TypeError, "hook_del() takes a handle returned by a hook_* method");
        return NULL;
    }
    return Hook_remove((HookObject *)h, NULL);
}

/* ----------------------------------------------------------- snapshots */

static PyObject *Memory_save(MemoryObject *self, PyObject *unused)
{
    (void)unused;
    MEM_OPEN(self);
    mmu_snapshot *s;
    mmu_err err = mmu_snapshot_save(self->m, &s);
    if (err)
        return raise_err(err);
    allocfunc alloc = (allocfunc)PyType_GetSlot(SnapshotType, Py_tp_alloc);
    SnapshotObject *so = (SnapshotObject *)alloc(SnapshotType, 0);
    if (!so) {
        mmu_snapshot_free(s);
        return NULL;
    }
    so->s = s;
    so->mem = (PyObject *)self;
    Py_INCREF((PyObject *)self);
    size_t n = mmu_regions(self->m, NULL, 0);
    mmu_region *r = malloc((n ? n : 1) * sizeof *r);
    n = r ? mmu_regions(self->m, r, n) : 0;
    for (size_t i = 0; i < n; i++)
        so->has_mmio |= r[i].mmio;
    free(r);
    return (PyObject *)so;
}

static PyObject *Memory_restore(MemoryObject *self, PyObject *snap)
{
    MEM_OPEN(self);
    if (!PyObject_TypeCheck(snap, SnapshotType)) {
        PyErr_SetString(PyExc_TypeError, "restore() takes a Snapshot from save() or Snapshot.from_bytes()");
        return NULL;
    }
    SnapshotObject *so = (SnapshotObject *)snap;
    if (so->has_mmio && so->mem != (PyObject *)self) {
        PyErr_SetString(PyExc_ValueError, "a snapshot holding MMIO can only be restored into its own Memory");
        return NULL;
    }
    if (views_block(self, 0, UINT64_MAX, "restore") < 0) /* a mapping may be rebuilt elsewhere */
        return NULL;
    mmu_err err = mmu_snapshot_restore(self->m, so->s);
    if (err)
        return raise_err(err);
    Py_RETURN_NONE;
}

static int Snapshot_traverse(SnapshotObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->mem);
    Py_VISIT(Py_TYPE((PyObject *)self));
    return 0;
}

static int Snapshot_clear(SnapshotObject *self)
{
    Py_CLEAR(self->mem);
    return 0;
}

static void Snapshot_dealloc(SnapshotObject *self)
{
    PyTypeObject *tp = Py_TYPE((PyObject *)self);
    PyObject_GC_UnTrack(self);
    mmu_snapshot_free(self->s);
    Snapshot_clear(self);
    ((freefunc)PyType_GetSlot(tp, Py_tp_free))(self);
    Py_DECREF(tp);
}

/* to_bytes() -> bytes in the library's versioned snapshot format */
static PyObject *Snapshot_to_bytes(SnapshotObject *self, PyObject *unused)
{
    (void)unused;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return PyErr_NoMemory();
    mmu_err err = mmu_snapshot_write(self->s, f);
    fclose(f);
    PyObject *res = err ? NULL : PyBytes_FromStringAndSize(buf, (Py_ssize_t)len);
    free(buf);
    if (err == MMU_ERR_ARG) {
        PyErr_SetString(PyExc_ValueError, "a snapshot holding MMIO cannot be serialised");
        return NULL;
    }
    return err ? raise_err(err) : res;
}

/* Snapshot.from_bytes(data) -> Snapshot */
static PyObject *Snapshot_from_bytes(PyObject *cls, PyObject *data)
{
    (void)cls;
    Py_buffer view;
    if (PyObject_GetBuffer(data, &view, PyBUF_C_CONTIGUOUS) < 0)
        return NULL;
    mmu_snapshot *s = NULL;
    mmu_err err = MMU_ERR_CORRUPT;
    FILE *f = view.len ? fmemopen(view.buf, (size_t)view.len, "rb") : NULL;
    if (f) {
        err = mmu_snapshot_read(f, &s);
        fclose(f);
    }
    PyBuffer_Release(&view);
    if (err)
        return raise_err(err);
    allocfunc alloc = (allocfunc)PyType_GetSlot(SnapshotType, Py_tp_alloc);
    SnapshotObject *so = (SnapshotObject *)alloc(SnapshotType, 0);
    if (!so) {
        mmu_snapshot_free(s);
        return NULL;
    }
    so->s = s;
    return (PyObject *)so;
}

static PyMethodDef Snapshot_methods[] = {
    {"to_bytes", (PyCFunction)Snapshot_to_bytes, METH_NOARGS, "Serialise in the library's snapshot file format."},
    {"from_bytes", (PyCFunction)Snapshot_from_bytes, METH_O | METH_CLASS, "Read a snapshot written by to_bytes()."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot Snapshot_slots[] = {
    {Py_tp_dealloc, Snapshot_dealloc},
    {Py_tp_traverse, Snapshot_traverse},
    {Py_tp_clear, Snapshot_clear},
    {Py_tp_methods, Snapshot_methods},
    {Py_tp_doc, "An exact memory snapshot from Memory.save(); give it to Memory.restore()."},
    {0, NULL},
};

static PyType_Spec Snapshot_spec = {"softmmu._softmmu.Snapshot", sizeof(SnapshotObject), 0,
                                    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC, Snapshot_slots};

/* ------------------------------------------------------------ View type */

/* view(addr, size, writable=False) -> memoryview over the host pages */
static PyObject *Memory_view(MemoryObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PARSE("view", 2, 3, "addr", "size", "writable");
    uint64_t addr, size;
    int writable = 0;
    MEM_OPEN(self);
    if (to_u64(a[0], "addr", &addr) < 0 || to_u64(a[1], "size", &size) < 0 ||
        (a[2] && (writable = PyObject_IsTrue(a[2])) < 0))
        return NULL;
    if (size == 0 || size > (uint64_t)PY_SSIZE_T_MAX) {
        PyErr_SetString(PyExc_ValueError, "view size must be between 1 and sys.maxsize");
        return NULL;
    }
    void *host;
    mmu_err err = mmu_host_ptr(self->m, addr, size, 0, &host); /* fail here, not in memoryview() */
    if (err)
        return raise_err(err);
    ViewObject *v = PyObject_New(ViewObject, ViewType);
    if (!v)
        return NULL;
    Py_INCREF((PyObject *)self);
    v->mem = self;
    v->addr = addr;
    v->size = size;
    v->writable = writable;
    v->exports = 0;
    v->next = self->views;
    v->prev = &self->views;
    if (self->views)
        self->views->prev = &v->next;
    self->views = v;
    PyObject *mv = PyMemoryView_FromObject((PyObject *)v);
    Py_DECREF((PyObject *)v); /* the memoryview holds it */
    return mv;
}

/* The pages are looked up again at each export: a view whose memory went
 * away (unmapped while nothing was exported) raises, never dangles. */
static int View_getbuffer(ViewObject *self, Py_buffer *b, int flags)
{
    if (!self->mem->m) {
        raise_closed("Memory");
        return -1;
    }
    if ((flags & PyBUF_WRITABLE) && !self->writable) {
        PyErr_SetString(PyExc_BufferError, "this view is read-only (Memory.view(..., writable=True))");
        return -1;
    }
    void *host;
    mmu_err err = mmu_host_ptr(self->mem->m, self->addr, self->size, self->writable ? MMU_HOST_WRITE : 0, &host);
    if (err) {
        raise_err(err);
        return -1;
    }
    if (PyBuffer_FillInfo(b, (PyObject *)self, host, (Py_ssize_t)self->size, !self->writable, flags) < 0)
        return -1;
    self->exports++;
    return 0;
}

static void View_releasebuffer(ViewObject *self, Py_buffer *b)
{
    (void)b;
    self->exports--;
}

static void View_dealloc(ViewObject *self)
{
    *self->prev = self->next;
    if (self->next)
        self->next->prev = self->prev;
    Py_DECREF((PyObject *)self->mem);
    PyTypeObject *tp = Py_TYPE((PyObject *)self);
    freefunc tp_free = (freefunc)PyType_GetSlot(tp, Py_tp_free);
    tp_free(self);
    Py_DECREF(tp);
}

static PyType_Slot View_slots[] = {
    {Py_tp_dealloc, View_dealloc},
    {Py_bf_getbuffer, View_getbuffer},
    {Py_bf_releasebuffer, View_releasebuffer},
    {Py_tp_doc, "The exporter behind Memory.view(): host pages of guest memory, zero-copy."},
    {0, NULL},
};

static PyType_Spec View_spec = {"softmmu._softmmu.View", sizeof(ViewObject), 0, Py_TPFLAGS_DEFAULT, View_slots};

/* ----------------------------------------------------------- Hook type */

static PyObject *Hook_remove(HookObject *self, PyObject *unused)
{
    (void)unused;
    if (!self->alive) {
        PyErr_SetString(PyExc_ValueError, "hook already removed (or its owner closed)");
        return NULL;
    }
    mmu_err err;
    PyObject *dict;
    if (self->kind == 0) {
        MemoryObject *mem = (MemoryObject *)self->owner;
        MEM_OPEN(mem);
        err = mmu_hook_del(mem->m, self->id);
        dict = mem->hooks;
    } else {
        CpuObject *cpu = (CpuObject *)self->owner;
        if (!cpu->c)
            return raise_closed("Cpu");
        err = cpu_hook_del(cpu->c, self->id);
        dict = cpu->hooks;
    }
    if (err)
        return raise_err(err);
    self->alive = false;
    PyObject *key = PyLong_FromUnsignedLongLong(self->id);
    if (!key || PyDict_DelItem(dict, key) < 0) {
        Py_XDECREF(key);
        return NULL;
    }
    Py_DECREF(key);
    Py_RETURN_NONE;
}

static PyObject *Hook_get_alive(HookObject *self, void *c)
{
    (void)c;
    return PyBool_FromLong(self->alive);
}

static int Hook_traverse(HookObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->owner);
    Py_VISIT(self->callback);
    Py_VISIT(self->user_data);
    Py_VISIT(Py_TYPE((PyObject *)self));
    return 0;
}

static int Hook_clear(HookObject *self)
{
    Py_CLEAR(self->owner);
    Py_CLEAR(self->callback);
    Py_CLEAR(self->user_data);
    return 0;
}

static void Hook_dealloc(HookObject *self)
{
    PyTypeObject *tp = Py_TYPE((PyObject *)self);
    PyObject_GC_UnTrack(self);
    Hook_clear(self);
    ((freefunc)PyType_GetSlot(tp, Py_tp_free))(self);
    Py_DECREF(tp);
}

static PyMethodDef Hook_methods[] = {
    {"remove", (PyCFunction)Hook_remove, METH_NOARGS, "Remove this hook (same as hook_del(handle))."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Hook_getset[] = {
    {"alive", (getter)Hook_get_alive, NULL, "True until the hook is removed or its owner closed.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMemberDef Hook_members[] = {
    {"id", T_ULONGLONG, offsetof(HookObject, id), READONLY, "library hook id"},
    {"callback", T_OBJECT, offsetof(HookObject, callback), READONLY, "the callback"},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot Hook_slots[] = {
    {Py_tp_dealloc, Hook_dealloc}, {Py_tp_traverse, Hook_traverse}, {Py_tp_clear, Hook_clear},
    {Py_tp_methods, Hook_methods}, {Py_tp_getset, Hook_getset},     {Py_tp_members, Hook_members},
    {Py_tp_doc, "A hook handle: remove() or pass it to hook_del()."},
    {0, NULL},
};

static PyType_Spec Hook_spec = {"softmmu._softmmu.Hook", sizeof(HookObject), 0,
                                Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC, Hook_slots};

/* ---------------------------------------------------------- Memory type */

#define FAST (METH_FASTCALL | METH_KEYWORDS)
#define M(name, fn, flags, doc) {name, (PyCFunction)(void (*)(void))fn, flags, doc}

static PyMethodDef Memory_methods[] = {
    M("map", Memory_map, FAST, "map(addr, size, perms=UC_PROT_ALL, info=None)"),
    M("unmap", Memory_unmap, FAST, "unmap(addr, size)"),
    M("unmap_all", Memory_unmap_all, METH_NOARGS, "unmap_all()"),
    M("protect", Memory_protect, FAST, "protect(addr, size, perms): widened to whole pages"),
    M("set_label", Memory_set_label, FAST, "set_label(addr, size, info): Qiling change_mapinfo(new_info=...)"),
    M("find_free_space", Memory_find_free_space, FAST,
      "find_free_space(size, minaddr=None, maxaddr=None, align=None) -> int"),
    M("map_anywhere", Memory_map_anywhere, FAST,
      "map_anywhere(size, minaddr=None, maxaddr=None, align=None, perms=UC_PROT_ALL, info=None) -> int"),
    M("is_mapped", Memory_is_mapped, FAST, "is_mapped(addr, size) -> bool"),
    M("is_available", Memory_is_available, FAST, "is_available(addr, size) -> bool"),
    M("read", Memory_read, FAST, "read(addr, size) -> bytearray (ignores page protections)"),
    M("read_into", Memory_read_into, FAST, "read_into(addr, buffer): fill a writable buffer from addr"),
    M("write", Memory_write, FAST, "write(addr, data) (ignores page protections; all-or-nothing)"),
    M("read_ptr", Memory_read_ptr, FAST, "read_ptr(addr, size=0, *, signed=False) -> int"),
    M("write_ptr", Memory_write_ptr, FAST, "write_ptr(addr, value, size=0, *, signed=False)"),
    M("read_cstring", Memory_read_cstring, FAST, "read_cstring(addr, maxlen=1 MiB) -> bytes up to the NUL"),
    M("load", Memory_load, FAST, "load(addr, size) -> bytearray: guest read (needs READ, runs hooks)"),
    M("store", Memory_store, FAST, "store(addr, data): guest write (needs WRITE, runs hooks)"),
    M("fetch", Memory_fetch, FAST, "fetch(addr, size) -> bytearray: guest fetch (needs EXEC, runs hooks)"),
    M("_search", Memory_search_raw, FAST, "_search(needle, begin, end, cross) -> list"),
    M("regions", Memory_regions, METH_NOARGS, "regions() -> [(start, end, perms, label, is_mmio)]"),
    M("format_mapinfo", Memory_format_mapinfo, METH_NOARGS, "Qiling's formatted map table as one str"),
    M("get_lib_base", Memory_get_lib_base, FAST, "get_lib_base(filename) -> int or None"),
    M("digest", Memory_digest, METH_NOARGS, "digest() -> int: XXH3-64 of the map and every mapped byte"),
    M("stats", Memory_stats, METH_NOARGS, "stats() -> dict of the library counters"),
    M("map_mmio", Memory_map_mmio, FAST, "map_mmio(addr, size, handler, info='[mmio]')"),
    M("_mmio_handler", Memory_mmio_handler, METH_O, "the handler mapped over addr, or None"),
    M("_hook_add", Memory_hook_add, FAST, "_hook_add(types, callback, user_data=None, begin=1, end=0)"),
    M("hook_del", Memory_hook_del, METH_O, "hook_del(handle)"),
    M("save", Memory_save, METH_NOARGS, "save() -> Snapshot (exact: layout, perms, labels, contents)"),
    M("restore", Memory_restore, METH_O, "restore(snapshot): makes the memory exactly as at save()"),
    M("close", Memory_close, METH_NOARGS, "close(): free the memory now; later use raises ClosedError"),
    M("view", Memory_view, FAST,
      "view(addr, size, writable=False) -> memoryview of the host pages (zero-copy; see Memory.view)"),
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Memory_getset[] = {
    {"pagesize", (getter)Memory_get_pagesize, NULL, "0x1000", NULL},
    {"max_addr", (getter)Memory_get_max_addr, NULL, "2**addr_bits - 1 (Qiling max_mem_addr)", NULL},
    {"max_mem_addr", (getter)Memory_get_max_addr, NULL, "alias of max_addr (Qiling's name)", NULL},
    {"ptr_size", (getter)Memory_get_ptr_size, NULL, "native pointer size", NULL},
    {"addr_bits", (getter)Memory_get_addr_bits, NULL, "address-space width", NULL},
    {"big_endian", (getter)Memory_get_big_endian, NULL, "byte order of read_ptr/write_ptr", NULL},
    {"closed", (getter)Memory_get_closed, NULL, "True after close()", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot Memory_slots[] = {
    {Py_tp_new, Memory_new},         {Py_tp_init, Memory_init},       {Py_tp_dealloc, Memory_dealloc},
    {Py_tp_traverse, Memory_traverse}, {Py_tp_clear, Memory_clear},   {Py_tp_methods, Memory_methods},
    {Py_tp_getset, Memory_getset},
    {Py_tp_doc, "Memory(addr_bits=64, ptr_size=None, big_endian=False, tlb_entries=None)"},
    {0, NULL},
};

static PyType_Spec Memory_spec = {"softmmu._softmmu.Memory", sizeof(MemoryObject), 0,
                                  Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC, Memory_slots};

/* ------------------------------------------------------------------ Cpu */

#define CPU_OPEN(self)                                                                                      \
    if (!(self)->c)                                                                                         \
        return raise_closed("Cpu");                                                                        \
    if ((self)->mem->busy && (self)->mem->busy_thread != PyThread_get_thread_ident())                      \
        return raise_other_thread();

static void cpu_shutdown(CpuObject *self)
{
    MemoryObject *mem = self->mem;
    if (self->c) {
        cpu_close(self->c);
        self->c = NULL;
    }
    if (self->hooks) {
        PyObject *key, *val;
        Py_ssize_t pos = 0;
        while (PyDict_Next(self->hooks, &pos, &key, &val))
            ((HookObject *)val)->alive = false;
        PyDict_Clear(self->hooks);
    }
    for (size_t i = 0; mem && i < mem->n_cpus; i++)
        if (mem->cpus[i] == self) {
            mem->cpus[i] = mem->cpus[--mem->n_cpus];
            break;
        }
}

static int Cpu_init(CpuObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"mem", NULL};
    PyObject *mem;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O:Cpu", kwlist, &mem))
        return -1;
    if (!PyObject_TypeCheck(mem, MemoryType)) {
        PyErr_SetString(PyExc_TypeError, "Cpu(mem) needs a softmmu.Memory");
        return -1;
    }
    if (self->c) {
        PyErr_SetString(PyExc_RuntimeError, "Cpu is already initialised");
        return -1;
    }
    MemoryObject *m = (MemoryObject *)mem;
    if (!m->m) {
        raise_closed("Memory");
        return -1;
    }
    CpuObject **grown = realloc(m->cpus, (m->n_cpus + 1) * sizeof *grown);
    if (!grown) {
        PyErr_NoMemory();
        return -1;
    }
    m->cpus = grown;
    if (!self->hooks && !(self->hooks = PyDict_New()))
        return -1;
    mmu_err err = cpu_open(m->m, &self->c);
    if (err) {
        raise_err(err);
        return -1;
    }
    Py_INCREF(mem);
    Py_XDECREF((PyObject *)self->mem);
    self->mem = m;
    m->cpus[m->n_cpus++] = self;
    return 0;
}

static int Cpu_traverse(CpuObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->mem);
    Py_VISIT(self->hooks);
    Py_VISIT(Py_TYPE((PyObject *)self));
    return 0;
}

static int Cpu_clear(CpuObject *self)
{
    cpu_shutdown(self);
    Py_CLEAR(self->hooks);
    PyObject *mem = (PyObject *)self->mem;
    self->mem = NULL;
    Py_XDECREF(mem);
    return 0;
}

static void Cpu_dealloc(CpuObject *self)
{
    PyTypeObject *tp = Py_TYPE((PyObject *)self);
    PyObject_GC_UnTrack(self);
    Cpu_clear(self);
    ((freefunc)PyType_GetSlot(tp, Py_tp_free))(self);
    Py_DECREF(tp);
}

static PyObject *Cpu_close(CpuObject *self, PyObject *unused)
{
    (void)unused;
    if (self->running) {
        PyErr_SetString(PyExc_RuntimeError, "cannot close a Cpu while it runs");
        return NULL;
    }
    cpu_shutdown(self);
    Py_RETURN_NONE;
}

static int reg_arg(PyObject *o, cpu_reg *out)
{
    unsigned r;
    if (to_uint(o, "register index", &r) < 0)
        return -1;
    if (r >= CPU_REG_COUNT) {
        PyErr_SetString(PyExc_ValueError, "no such register");
        return -1;
    }
    *out = (cpu_reg)r;
    return 0;
}

static PyObject *Cpu_reg_read(CpuObject *self, PyObject *arg)
{
    cpu_reg r;
    CPU_OPEN(self);
    if (reg_arg(arg, &r) < 0)
        return NULL;
    return PyLong_FromUnsignedLongLong(cpu_reg_read(self->c, r));
}

static PyObject *Cpu_reg_write(CpuObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    cpu_reg r;
    uint64_t v;
    CPU_OPEN(self);
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "_reg_write(index, value)");
        return NULL;
    }
    if (reg_arg(args[0], &r) < 0 || to_u64(args[1], "value", &v) < 0)
        return NULL;
    cpu_reg_write(self->c, r, v);
    Py_RETURN_NONE;
}

static PyObject *cpu_fault_raise(CpuObject *self, mmu_err err, uint64_t addr)
{
    return raise_fault(self->mem, err, addr, 8, true);
}

static PyObject *Cpu_stack_push(CpuObject *self, PyObject *arg)
{
    uint64_t v, sp;
    CPU_OPEN(self);
    if (to_u64(arg, "value", &v) < 0)
        return NULL;
    mmu_err err = cpu_stack_push(self->c, v, &sp);
    if (err)
        return cpu_fault_raise(self, err, cpu_reg_read(self->c, CPU_RSP) - 8);
    return PyLong_FromUnsignedLongLong(sp);
}

static PyObject *Cpu_stack_pop(CpuObject *self, PyObject *unused)
{
    (void)unused;
    uint64_t v;
    CPU_OPEN(self);
    mmu_err err = cpu_stack_pop(self->c, &v);
    if (err)
        return cpu_fault_raise(self, err, cpu_reg_read(self->c, CPU_RSP));
    return PyLong_FromUnsignedLongLong(v);
}

static PyObject *Cpu_stack_read(CpuObject *self, PyObject *arg)
{
    int64_t off;
    uint64_t v;
    CPU_OPEN(self);
    if (to_i64(arg, "offset", &off) < 0)
        return NULL;
    mmu_err err = cpu_stack_read(self->c, off, &v);
    if (err)
        return cpu_fault_raise(self, err, cpu_reg_read(self->c, CPU_RSP) + (uint64_t)off);
    return PyLong_FromUnsignedLongLong(v);
}

static PyObject *Cpu_stack_write(CpuObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    int64_t off;
    uint64_t v;
    CPU_OPEN(self);
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "stack_write(offset, value)");
        return NULL;
    }
    if (to_i64(args[0], "offset", &off) < 0 || to_u64(args[1], "value", &v) < 0)
        return NULL;
    mmu_err err = cpu_stack_write(self->c, off, v);
    if (err)
        return cpu_fault_raise(self, err, cpu_reg_read(self->c, CPU_RSP) + (uint64_t)off);
    Py_RETURN_NONE;
}

/* _run(begin, until=0, count=0) -> int (cpu_exit) */
static PyObject *Cpu_run(CpuObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PARSE("run", 1, 3, "begin", "until", "count");
    uint64_t begin, until, count;
    CPU_OPEN(self);
    if (to_u64(a[0], "begin", &begin) < 0 || opt_u64(a[1], "until", 0, &until) < 0 ||
        opt_u64(a[2], "count", 0, &count) < 0)
        return NULL;
    MemoryObject *mem = self->mem;
    CpuObject *outer = mem->running;
    cpu_exit ex = CPU_EXIT_UNTIL;
    mem->running = self;
    BUSY_ENTER(mem);
    self->running++;
    mmu_err err = cpu_run(self->c, begin, until, count, &ex);
    self->running--;
    BUSY_LEAVE(mem);
    mem->running = outer;
    PENDING_WINS(NULL);
    if (err)
        return raise_err(err);
    return PyLong_FromLong((long)ex);
}

static PyObject *Cpu_stop(CpuObject *self, PyObject *unused)
{
    (void)unused;
    CPU_OPEN(self);
    cpu_stop(self->c);
    Py_RETURN_NONE;
}

/* _last_fault() -> (err, addr, size, rip) or None */
static PyObject *Cpu_last_fault(CpuObject *self, PyObject *unused)
{
    (void)unused;
    CPU_OPEN(self);
    cpu_fault f;
    cpu_last_fault(self->c, &f);
    if (f.err == MMU_OK)
        Py_RETURN_NONE;
    return Py_BuildValue("(iKIK)", (int)f.err, (unsigned long long)f.addr, f.size, (unsigned long long)f.rip);
}

static PyObject *Cpu_get_insn_count(CpuObject *self, void *c)
{
    (void)c;
    CPU_OPEN(self);
    return PyLong_FromUnsignedLongLong(cpu_insn_count(self->c));
}

static PyObject *Cpu_get_mem(CpuObject *self, void *c)
{
    (void)c;
    if (!self->mem)
        Py_RETURN_NONE;
    Py_INCREF((PyObject *)self->mem);
    return (PyObject *)self->mem;
}

static PyObject *Cpu_get_closed(CpuObject *self, void *c)
{
    (void)c;
    return PyBool_FromLong(self->c == NULL);
}

static PyObject *Cpu_context_save(CpuObject *self, PyObject *unused)
{
    (void)unused;
    CPU_OPEN(self);
    cpu_context ctx;
    cpu_context_save(self->c, &ctx);
    PyObject *t = PyTuple_New(CPU_REG_COUNT);
    for (int i = 0; t && i < CPU_REG_COUNT; i++) {
        PyObject *v = PyLong_FromUnsignedLongLong(ctx.regs[i]);
        if (!v || PyTuple_SetItem(t, i, v) < 0)
            Py_CLEAR(t);
    }
    return t;
}

static PyObject *Cpu_context_restore(CpuObject *self, PyObject *t)
{
    CPU_OPEN(self);
    if (!PyTuple_Check(t) || PyTuple_Size(t) != CPU_REG_COUNT) {
        PyErr_SetString(PyExc_TypeError, "context_restore() takes a tuple from context_save()");
        return NULL;
    }
    cpu_context ctx;
    for (int i = 0; i < CPU_REG_COUNT; i++)
        if (to_u64(PyTuple_GetItem(t, i), "register value", &ctx.regs[i]) < 0)
            return NULL;
    cpu_context_restore(self->c, &ctx);
    Py_RETURN_NONE;
}

static void code_hook_tramp(cpu_t *c, uint64_t addr, unsigned size, void *user)
{
    HookObject *h = user;
    if (PyErr_Occurred()) {
        cpu_stop(c);
        return;
    }
    Py_INCREF((PyObject *)h);
    PyObject *res = call_hook(h, Py_BuildValue("(OKI)", h->owner, (unsigned long long)addr, size));
    if (res)
        Py_DECREF(res);
    else
        cpu_stop(c);
    Py_DECREF((PyObject *)h);
}

static bool syscall_hook_tramp(cpu_t *c, void *user)
{
    HookObject *h = user;
    if (PyErr_Occurred()) {
        cpu_stop(c);
        return false;
    }
    Py_INCREF((PyObject *)h);
    PyObject *res = call_hook(h, Py_BuildValue("(O)", h->owner));
    bool handled = res && res != Py_False;
    if (res)
        Py_DECREF(res);
    else
        cpu_stop(c);
    Py_DECREF((PyObject *)h);
    return handled;
}

/* hook_code(callback, user_data=None, begin=1, end=0) */
static PyObject *Cpu_hook_code(CpuObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PARSE("hook_code", 1, 4, "callback", "user_data", "begin", "end");
    uint64_t begin, end;
    CPU_OPEN(self);
    if (opt_u64(a[2], "begin", 1, &begin) < 0 || opt_u64(a[3], "end", 0, &end) < 0)
        return NULL;
    HookObject *h = hook_new((PyObject *)self, a[0], a[1], 1);
    if (!h)
        return NULL;
    mmu_err err = cpu_hook_code(self->c, code_hook_tramp, h, begin, end, &h->id);
    if (err) {
        Py_DECREF((PyObject *)h);
        return raise_err(err);
    }
    PyObject *r = hook_register(self->hooks, h);
    if (!r)
        cpu_hook_del(self->c, h->id);
    return r;
}

/* hook_syscall(callback, user_data=None) */
static PyObject *Cpu_hook_syscall(CpuObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PARSE("hook_syscall", 1, 2, "callback", "user_data");
    CPU_OPEN(self);
    HookObject *h = hook_new((PyObject *)self, a[0], a[1], 2);
    if (!h)
        return NULL;
    mmu_err err = cpu_hook_syscall(self->c, syscall_hook_tramp, h, &h->id);
    if (err) {
        Py_DECREF((PyObject *)h);
        return raise_err(err);
    }
    PyObject *r = hook_register(self->hooks, h);
    if (!r)
        cpu_hook_del(self->c, h->id);
    return r;
}

static PyMethodDef Cpu_methods[] = {
    M("_reg_read", Cpu_reg_read, METH_O, "_reg_read(index) -> int"),
    M("_reg_write", Cpu_reg_write, METH_FASTCALL, "_reg_write(index, value)"),
    M("stack_push", Cpu_stack_push, METH_O, "stack_push(value) -> new SP"),
    M("stack_pop", Cpu_stack_pop, METH_NOARGS, "stack_pop() -> value"),
    M("stack_read", Cpu_stack_read, METH_O, "stack_read(offset) -> value at SP + offset bytes"),
    M("stack_write", Cpu_stack_write, METH_FASTCALL, "stack_write(offset, value)"),
    M("_run", Cpu_run, FAST, "_run(begin, until=0, count=0) -> int"),
    M("stop", Cpu_stop, METH_NOARGS, "stop(): make run() return Exit.STOPPED"),
    M("_last_fault", Cpu_last_fault, METH_NOARGS, "(err, addr, size, rip) or None"),
    M("context_save", Cpu_context_save, METH_NOARGS, "context_save() -> tuple of every register"),
    M("context_restore", Cpu_context_restore, METH_O, "context_restore(ctx)"),
    M("hook_code", Cpu_hook_code, FAST, "hook_code(callback, user_data=None, begin=1, end=0)"),
    M("hook_syscall", Cpu_hook_syscall, FAST, "hook_syscall(callback, user_data=None)"),
    M("hook_del", Memory_hook_del, METH_O, "hook_del(handle)"),
    M("close", Cpu_close, METH_NOARGS, "close(): free the CPU now; later use raises ClosedError"),
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Cpu_getset[] = {
    {"insn_count", (getter)Cpu_get_insn_count, NULL, "instructions completed since the Cpu was made", NULL},
    {"mem", (getter)Cpu_get_mem, NULL, "the Memory this CPU runs on", NULL},
    {"closed", (getter)Cpu_get_closed, NULL, "True after close()", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyObject *Cpu_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    (void)args;
    (void)kw;
    return ((allocfunc)PyType_GetSlot(type, Py_tp_alloc))(type, 0);
}

static PyType_Slot Cpu_slots[] = {
    {Py_tp_new, Cpu_new},         {Py_tp_init, Cpu_init},       {Py_tp_dealloc, Cpu_dealloc},
    {Py_tp_traverse, Cpu_traverse}, {Py_tp_clear, Cpu_clear},   {Py_tp_methods, Cpu_methods},
    {Py_tp_getset, Cpu_getset},   {Py_tp_doc, "Cpu(mem): an x86-64 interpreter on a Memory"},
    {0, NULL},
};

static PyType_Spec Cpu_spec = {"softmmu._softmmu.Cpu", sizeof(CpuObject), 0,
                               Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC, Cpu_slots};

/* --------------------------------------------------------------- module */

/* _set_errors(classes, closed_error): classes[i] is the class for mmu_err i */
static PyObject *mod_set_errors(PyObject *mod, PyObject *args)
{
    (void)mod;
    PyObject *seq, *closed;
    if (!PyArg_ParseTuple(args, "OO", &seq, &closed))
        return NULL;
    if (!PyTuple_Check(seq) || PyTuple_Size(seq) != N_ERRS) {
        PyErr_SetString(PyExc_TypeError, "need a tuple with one class per mmu_err");
        return NULL;
    }
    for (int i = 0; i < N_ERRS; i++) {
        PyObject *c = PyTuple_GetItem(seq, i);
        Py_INCREF(c);
        Py_XDECREF(g_errors[i]);
        g_errors[i] = c;
    }
    Py_INCREF(closed);
    Py_XDECREF(g_closed_error);
    g_closed_error = closed;
    Py_RETURN_NONE;
}

static PyObject *mod_strerror(PyObject *mod, PyObject *arg)
{
    (void)mod;
    long v = PyLong_AsLong(arg);
    if (v == -1 && PyErr_Occurred())
        return NULL;
    return PyUnicode_FromString(mmu_strerror((mmu_err)v));
}

/* _pattern_check(hex) -> None or ValueError: compile-only */
static PyObject *mod_pattern_check(PyObject *mod, PyObject *arg)
{
    (void)mod;
    const char *hex;
    if (to_label(arg, "pattern", &hex) < 0)
        return NULL;
    mmu_pattern *p = NULL;
    mmu_err err = hex ? mmu_pattern_compile(hex, &p) : MMU_ERR_ARG;
    mmu_pattern_free(p);
    if (err == MMU_ERR_ARG) {
        PyErr_Format(PyExc_ValueError, "bad hex pattern: %R", arg);
        return NULL;
    }
    return err ? raise_err(err) : (Py_INCREF(Py_None), Py_None);
}

static PyMethodDef mod_methods[] = {
    {"_set_errors", mod_set_errors, METH_VARARGS, NULL},
    {"strerror", mod_strerror, METH_O, "strerror(code) -> the library's message for an mmu_err"},
    {"_pattern_check", mod_pattern_check, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef moddef = {PyModuleDef_HEAD_INIT, "_softmmu", "softmmu's C core", -1, mod_methods,
                                    NULL, NULL, NULL, NULL};

static int add_type(PyObject *mod, PyType_Spec *spec, PyTypeObject **out, const char *name)
{
    *out = (PyTypeObject *)PyType_FromSpec(spec);
    if (!*out)
        return -1;
    Py_INCREF((PyObject *)*out);
    return PyModule_AddObject(mod, name, (PyObject *)*out) < 0 ? (Py_DECREF((PyObject *)*out), -1) : 0;
}

PyMODINIT_FUNC PyInit__softmmu(void)
{
    PyObject *mod = PyModule_Create(&moddef);
    if (!mod)
        return NULL;
    g_zero = PyLong_FromLong(0);
    g_two64 = PyLong_FromString("0x10000000000000000", NULL, 16);
    if (!g_zero || !g_two64 || add_type(mod, &Memory_spec, &MemoryType, "Memory") < 0 ||
        add_type(mod, &Cpu_spec, &CpuType, "Cpu") < 0 || add_type(mod, &Hook_spec, &HookType, "Hook") < 0 ||
        add_type(mod, &Snapshot_spec, &SnapshotType, "Snapshot") < 0 ||
        add_type(mod, &View_spec, &ViewType, "View") < 0 ||
        PyModule_AddIntConstant(mod, "N_ERRS", N_ERRS) < 0 ||
        PyModule_AddIntConstant(mod, "CPU_REG_COUNT", CPU_REG_COUNT) < 0) {
        Py_DECREF(mod);
        return NULL;
    }
    return mod;
}
