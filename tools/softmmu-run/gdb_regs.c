/*
 * gdb_regs.c - the register file as gdb sees it: a target description
 * (amd64 GNU/Linux: core, SSE, linux, segments features) and the mapping
 * from its register numbers to the CPU's registers and FXSAVE image.
 */
#include "gdb.h"

#include <string.h>

/* register numbers follow the order of the description below */
enum { R_RIP = 16, R_EFLAGS, R_CS, R_SS, R_DS, R_ES, R_FS, R_GS, R_ST0, R_FCTRL = 32, R_FSTAT,
       R_FTAG, R_FISEG, R_FIOFF, R_FOSEG, R_FOOFF, R_FOP, R_XMM0, R_MXCSR = 56, R_ORIG_RAX,
       R_FS_BASE, R_GS_BASE };

static const cpu_reg gpr[16] = { CPU_RAX, CPU_RBX, CPU_RCX, CPU_RDX, CPU_RSI, CPU_RDI, CPU_RBP, CPU_RSP,
                                 CPU_R8,  CPU_R9,  CPU_R10, CPU_R11, CPU_R12, CPU_R13, CPU_R14, CPU_R15 };

static const char target_xml[] =
    "<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n<target version=\"1.0\">\n"
    "<architecture>i386:x86-64</architecture>\n<osabi>GNU/Linux</osabi>\n"
    "<feature name=\"org.gnu.gdb.i386.core\">\n"
    "<flags id=\"i386_eflags\" size=\"4\"><field name=\"CF\" start=\"0\" end=\"0\"/>"
    "<field name=\"\" start=\"1\" end=\"1\"/><field name=\"PF\" start=\"2\" end=\"2\"/>"
    "<field name=\"AF\" start=\"4\" end=\"4\"/><field name=\"ZF\" start=\"6\" end=\"6\"/>"
    "<field name=\"SF\" start=\"7\" end=\"7\"/><field name=\"TF\" start=\"8\" end=\"8\"/>"
    "<field name=\"IF\" start=\"9\" end=\"9\"/><field name=\"DF\" start=\"10\" end=\"10\"/>"
    "<field name=\"OF\" start=\"11\" end=\"11\"/></flags>\n"
    "<reg name=\"rax\" bitsize=\"64\" type=\"int64\" regnum=\"0\"/><reg name=\"rbx\" bitsize=\"64\" type=\"int64\"/>"
    "<reg name=\"rcx\" bitsize=\"64\" type=\"int64\"/><reg name=\"rdx\" bitsize=\"64\" type=\"int64\"/>"
    "<reg name=\"rsi\" bitsize=\"64\" type=\"int64\"/><reg name=\"rdi\" bitsize=\"64\" type=\"int64\"/>"
    "<reg name=\"rbp\" bitsize=\"64\" type=\"data_ptr\"/><reg name=\"rsp\" bitsize=\"64\" type=\"data_ptr\"/>\n"
    "<reg name=\"r8\" bitsize=\"64\" type=\"int64\"/><reg name=\"r9\" bitsize=\"64\" type=\"int64\"/>"
    "<reg name=\"r10\" bitsize=\"64\" type=\"int64\"/><reg name=\"r11\" bitsize=\"64\" type=\"int64\"/>"
    "<reg name=\"r12\" bitsize=\"64\" type=\"int64\"/><reg name=\"r13\" bitsize=\"64\" type=\"int64\"/>"
    "<reg name=\"r14\" bitsize=\"64\" type=\"int64\"/><reg name=\"r15\" bitsize=\"64\" type=\"int64\"/>\n"
    "<reg name=\"rip\" bitsize=\"64\" type=\"code_ptr\"/><reg name=\"eflags\" bitsize=\"32\" type=\"i386_eflags\"/>"
    "<reg name=\"cs\" bitsize=\"32\" type=\"int32\"/><reg name=\"ss\" bitsize=\"32\" type=\"int32\"/>"
    "<reg name=\"ds\" bitsize=\"32\" type=\"int32\"/><reg name=\"es\" bitsize=\"32\" type=\"int32\"/>"
    "<reg name=\"fs\" bitsize=\"32\" type=\"int32\"/><reg name=\"gs\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"st0\" bitsize=\"80\" type=\"i387_ext\"/><reg name=\"st1\" bitsize=\"80\" type=\"i387_ext\"/>"
    "<reg name=\"st2\" bitsize=\"80\" type=\"i387_ext\"/><reg name=\"st3\" bitsize=\"80\" type=\"i387_ext\"/>"
    "<reg name=\"st4\" bitsize=\"80\" type=\"i387_ext\"/><reg name=\"st5\" bitsize=\"80\" type=\"i387_ext\"/>"
    "<reg name=\"st6\" bitsize=\"80\" type=\"i387_ext\"/><reg name=\"st7\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "<reg name=\"fctrl\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
    "<reg name=\"fstat\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
    "<reg name=\"ftag\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
    "<reg name=\"fiseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
    "<reg name=\"fioff\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
    "<reg name=\"foseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
    "<reg name=\"fooff\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
    "<reg name=\"fop\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n</feature>\n"
    "<feature name=\"org.gnu.gdb.i386.sse\">\n"
    "<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/><vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>"
    "<vector id=\"v16i8\" type=\"int8\" count=\"16\"/><vector id=\"v8i16\" type=\"int16\" count=\"8\"/>"
    "<vector id=\"v4i32\" type=\"int32\" count=\"4\"/><vector id=\"v2i64\" type=\"int64\" count=\"2\"/>\n"
    "<union id=\"vec128\"><field name=\"v4_float\" type=\"v4f\"/><field name=\"v2_double\" type=\"v2d\"/>"
    "<field name=\"v16_int8\" type=\"v16i8\"/><field name=\"v8_int16\" type=\"v8i16\"/>"
    "<field name=\"v4_int32\" type=\"v4i32\"/><field name=\"v2_int64\" type=\"v2i64\"/>"
    "<field name=\"uint128\" type=\"uint128\"/></union>\n"
    "<flags id=\"i386_mxcsr\" size=\"4\"><field name=\"IE\" start=\"0\" end=\"0\"/>"
    "<field name=\"DE\" start=\"1\" end=\"1\"/><field name=\"ZE\" start=\"2\" end=\"2\"/>"
    "<field name=\"OE\" start=\"3\" end=\"3\"/><field name=\"UE\" start=\"4\" end=\"4\"/>"
    "<field name=\"PE\" start=\"5\" end=\"5\"/><field name=\"DAZ\" start=\"6\" end=\"6\"/>"
    "<field name=\"IM\" start=\"7\" end=\"7\"/><field name=\"DM\" start=\"8\" end=\"8\"/>"
    "<field name=\"ZM\" start=\"9\" end=\"9\"/><field name=\"OM\" start=\"10\" end=\"10\"/>"
    "<field name=\"UM\" start=\"11\" end=\"11\"/><field name=\"PM\" start=\"12\" end=\"12\"/>"
    "<field name=\"FZ\" start=\"15\" end=\"15\"/></flags>\n"
    "<reg name=\"xmm0\" bitsize=\"128\" type=\"vec128\" regnum=\"40\"/><reg name=\"xmm1\" bitsize=\"128\" type=\"vec128\"/>"
    "<reg name=\"xmm2\" bitsize=\"128\" type=\"vec128\"/><reg name=\"xmm3\" bitsize=\"128\" type=\"vec128\"/>"
    "<reg name=\"xmm4\" bitsize=\"128\" type=\"vec128\"/><reg name=\"xmm5\" bitsize=\"128\" type=\"vec128\"/>"
    "<reg name=\"xmm6\" bitsize=\"128\" type=\"vec128\"/><reg name=\"xmm7\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"xmm8\" bitsize=\"128\" type=\"vec128\"/><reg name=\"xmm9\" bitsize=\"128\" type=\"vec128\"/>"
    "<reg name=\"xmm10\" bitsize=\"128\" type=\"vec128\"/><reg name=\"xmm11\" bitsize=\"128\" type=\"vec128\"/>"
    "<reg name=\"xmm12\" bitsize=\"128\" type=\"vec128\"/><reg name=\"xmm13\" bitsize=\"128\" type=\"vec128\"/>"
    "<reg name=\"xmm14\" bitsize=\"128\" type=\"vec128\"/><reg name=\"xmm15\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"mxcsr\" bitsize=\"32\" type=\"i386_mxcsr\" group=\"vector\"/>\n</feature>\n"
    "<feature name=\"org.gnu.gdb.i386.linux\">\n"
    "<reg name=\"orig_rax\" bitsize=\"64\" type=\"int\" regnum=\"57\"/>\n</feature>\n"
    "<feature name=\"org.gnu.gdb.i386.segments\">\n"
    "<reg name=\"fs_base\" bitsize=\"64\" type=\"int\"/><reg name=\"gs_base\" bitsize=\"64\" type=\"int\"/>\n"
    "</feature>\n</target>\n";

const char *gdb_target_xml(void)
{
    return target_xml;
}

int gdb_reg_size(int n)
{
    if (n < 0 || n >= GDB_NREGS)
        return 0;
    if (n < R_EFLAGS || n >= R_ORIG_RAX)
        return 8;
    if (n >= R_ST0 && n < R_FCTRL)
        return 10;
    if (n >= R_XMM0 && n < R_MXCSR)
        return 16;
    return 4;
}

/* the full x87 tag word from the abridged one: 3 empty, 1 zero, 2 special, 0 valid */
static unsigned full_tag(const uint8_t *fx)
{
    unsigned top = (fx[3] >> 3) & 7, tag = 0;
    for (unsigned phys = 0; phys < 8; phys++) {
        unsigned t = 3;
        if (fx[4] & (1u << phys)) {
            const uint8_t *st = fx + 32 + 16 * ((phys - top) & 7);
            unsigned exp = (st[9] & 0x7f) << 8 | st[8];
            uint64_t mant;
            memcpy(&mant, st, 8);
            t = exp == 0x7fff ? 2 : exp == 0 ? (mant ? 2 : 1) : (mant >> 63) ? 0 : 2;
        }
        tag |= t << (2 * phys);
    }
    return tag;
}

static uint32_t fx_u32(const uint8_t *fx, int off, int size)
{
    uint32_t v = 0;
    memcpy(&v, fx + off, (size_t)size);
    return v;
}

/* the x87 control registers, from the FXSAVE image */
static uint32_t x87_ctl(const uint8_t *fx, int n)
{
    switch (n) {
    case R_FCTRL: return fx_u32(fx, 0, 2);
    case R_FSTAT: return fx_u32(fx, 2, 2);
    case R_FTAG:  return full_tag(fx);
    case R_FIOFF: return fx_u32(fx, 8, 4);
    case R_FOOFF: return fx_u32(fx, 16, 4);
    case R_FOP:   return fx_u32(fx, 6, 2) & 0x7ff;
    default:      return 0; /* fiseg, foseg: 0 in 64-bit mode */
    }
}

void gdb_reg_get(run_t *r, int n, uint8_t *out)
{
    uint8_t fx[512];
    uint64_t v = 0;
    int size = gdb_reg_size(n);
    if (n < 16)
        v = cpu_reg_read(r->c, gpr[n]);
    else if (n == R_RIP)
        v = cpu_reg_read(r->c, CPU_RIP);
    else if (n == R_EFLAGS)
        v = cpu_reg_read(r->c, CPU_RFLAGS);
    else if (n == R_CS)
        v = 0x33; /* Linux's user code and stack selectors */
    else if (n == R_SS)
        v = 0x2b;
    else if (n == R_ORIG_RAX)
        v = (uint64_t)-1;
    else if (n == R_FS_BASE || n == R_GS_BASE)
        v = cpu_reg_read(r->c, n == R_FS_BASE ? CPU_FS_BASE : CPU_GS_BASE);
    else if (n >= R_ST0 && n <= R_MXCSR && cpu_fxsave(r->c, fx) == MMU_OK) {
        if (n < R_FCTRL)
            return (void)memcpy(out, fx + 32 + 16 * (n - R_ST0), 10);
        if (n >= R_XMM0 && n < R_MXCSR)
            return (void)memcpy(out, fx + 160 + 16 * (n - R_XMM0), 16);
        v = n == R_MXCSR ? fx_u32(fx, 24, 4) : x87_ctl(fx, n);
    }
    memcpy(out, &v, (size_t)size);
}

/* writes into the FXSAVE image; false if n is not an FP register */
static bool fx_set(uint8_t *fx, int n, const uint8_t *in)
{
    uint32_t v;
    memcpy(&v, in, 4);
    if (n >= R_ST0 && n < R_FCTRL)
        memcpy(fx + 32 + 16 * (n - R_ST0), in, 10);
    else if (n >= R_XMM0 && n < R_MXCSR)
        memcpy(fx + 160 + 16 * (n - R_XMM0), in, 16);
    else if (n == R_MXCSR)
        memcpy(fx + 24, &v, 4);
    else if (n == R_FCTRL || n == R_FSTAT || n == R_FOP)
        memcpy(fx + (n == R_FCTRL ? 0 : n == R_FSTAT ? 2 : 6), &v, 2);
    else if (n == R_FTAG) { /* abridged: physical register i not empty */
        fx[4] = 0;
        for (int i = 0; i < 8; i++)
            fx[4] |= (uint8_t)(((v >> (2 * i)) & 3) != 3) << i;
    } else if (n == R_FIOFF || n == R_FOOFF)
        memcpy(fx + (n == R_FIOFF ? 8 : 16), &v, 4);
    else
        return false;
    return true;
}

void gdb_reg_set(run_t *r, int n, const uint8_t *in)
{
    uint64_t v = 0;
    uint8_t fx[512];
    int size = gdb_reg_size(n);
    if (size == 0)
        return;
    memcpy(&v, in, size < 8 ? (size_t)size : 8);
    if (n < 16)
        cpu_reg_write(r->c, gpr[n], v);
    else if (n == R_RIP)
        cpu_reg_write(r->c, CPU_RIP, v);
    else if (n == R_EFLAGS)
        cpu_reg_write(r->c, CPU_RFLAGS, (cpu_reg_read(r->c, CPU_RFLAGS) & ~0xffffffffull) | v);
    else if (n == R_FS_BASE || n == R_GS_BASE)
        cpu_reg_write(r->c, n == R_FS_BASE ? CPU_FS_BASE : CPU_GS_BASE, v);
    else if (cpu_fxsave(r->c, fx) == MMU_OK && fx_set(fx, n, in))
        (void)cpu_fxrstor(r->c, fx); /* a bad MXCSR is refused: nothing changes */
    /* segment selectors and orig_rax are fixed */
}
