/*
 * flags.c - the arithmetic RFLAGS bits to and from the lazy form (lf_res,
 * lf_aux; see cpu_int.h). Handlers read single flags inline (exec.h); these
 * are for pushf/popf, lahf/sahf, syscall and the register API.
 */
#include "exec.h"

uint64_t flags_get(const cpu_t *c)
{
    return (uint64_t)get_cf(c) | (uint64_t)get_pf(c) << 2 | (uint64_t)get_af(c) << 4
           | (uint64_t)get_zf(c) << 6 | (uint64_t)get_sf(c) << 7 | (uint64_t)get_of(c) << 11;
}

/* a result of 0 or 0x100 gives ZF; the invert bits give SF and PF */
void flags_set(cpu_t *c, uint64_t v)
{
    uint64_t cf = v & 1, pf = (v >> 2) & 1, af = (v >> 4) & 1, zf = (v >> 6) & 1, sf = (v >> 7) & 1,
             of = (v >> 11) & 1;
    c->lf_res = zf ? 0 : 0x100;
    c->lf_aux = cf << 63 | (cf ^ of) << 62 | af << LF_AF | sf << LF_SFD | (pf ^ 1) << LF_PFD;
}
