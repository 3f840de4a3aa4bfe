/*
 * fuzz_pattern.c - mmu_pattern_compile on arbitrary text and
 * mmu_search_pattern over arbitrary data, against the reference matcher of
 * tests/model.c. Input: one flags byte, the pattern up to a newline, then
 * the data, mapped as two adjacent entries (and compared per entry and with
 * MMU_SEARCH_CROSS).
 */
#include "model.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ref_pattern ref;

#define BASE 0x10000u

static void check(mmu_t *m, model *md, const mmu_pattern *p, unsigned flags, uint64_t begin, uint64_t end)
{
    uint64_t got[64], want[64];
    size_t gn = 0, wn = 0;
    mmu_err e = mmu_search_pattern(m, p, begin, end, flags, got, 64, &gn);
    model_matcher mt = { ref_pattern_match, &ref, ref.len };
    unsigned w = model_search_with(md, &mt, begin, end, flags, want, 64, &wn);
    if (!(w & EBIT(e))) {
        fprintf(stderr, "mmu_search_pattern: %s, the model: mask %#x\n", mmu_strerror(e), w);
        abort();
    }
    if (e == MMU_OK && (gn != wn || memcmp(got, want, (gn < 64 ? gn : 64) * sizeof *got))) {
        fprintf(stderr, "mmu_search_pattern found %zu matches, the reference %zu (flags %u, [%#llx, %#llx))\n", gn,
                wn, flags, (unsigned long long)begin, (unsigned long long)end);
        for (size_t i = 0; i < gn && i < 64 && i < wn; i++)
            if (got[i] != want[i]) {
                fprintf(stderr, "first difference: match %zu at %#llx, reference %#llx\n", i,
                        (unsigned long long)got[i], (unsigned long long)want[i]);
                break;
            }
        abort();
    }
}

/* a pattern of plain tests only: the syntax is certain, both must accept */
static bool plain(const char *s)
{
    return !strpbrk(s, "()|");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    unsigned fl = data[0];
    const uint8_t *nl = memchr(data + 1, '\n', size - 1);
    size_t plen = nl ? (size_t)(nl - data - 1) : size - 1;
    char *text = xmalloc(plen + 1);
    memcpy(text, data + 1, plen);
    text[plen] = 0;
    const uint8_t *hay = nl ? nl + 1 : data + size;
    size_t n = (size_t)(data + size - hay);
    mmu_pattern *p = NULL;
    mmu_err e = mmu_pattern_compile(text, &p);
    bool ref_ok = strlen(text) == plen && ref_pattern_parse(text, &ref);
    if (e != MMU_OK && e != MMU_ERR_ARG)
        abort();
    if (e != MMU_OK && ref_ok && plain(text)) {
        fprintf(stderr, "mmu_pattern_compile rejected \"%s\", which is valid\n", text);
        abort();
    }
    if (e == MMU_OK && ref_ok && n) {
        /* two adjacent entries, split where the flags byte says */
        size_t pages = (n + 0xfff) / 0x1000 + 1, cut = 1 + (fl >> 2) % pages;
        mmu_t *m;
        model md;
        if (mmu_open(NULL, &m))
            abort();
        model_init(&md, 64, 8, false);
        mmu_map(m, BASE, cut * 0x1000, 7, "a");
        mmu_map(m, BASE + cut * 0x1000, (pages + 1 - cut) * 0x1000, 3, "b");
        model_map(&md, BASE, cut * 0x1000, 7, "a", MK_RAM, NULL, -1);
        model_map(&md, BASE + cut * 0x1000, (pages + 1 - cut) * 0x1000, 3, "b", MK_RAM, NULL, -1);
        uint64_t at = BASE + cut * 0x1000 - (fl & 0x40 ? n / 2 : 0) - (fl & 3);
        mmu_write(m, at, hay, n);
        model_write(&md, at, hay, n);
        check(m, &md, p, 0, 0, 0);
        check(m, &md, p, MMU_SEARCH_CROSS, 0, 0);
        check(m, &md, p, fl & 1, at + (fl & 7), at + n - (fl >> 5));
        mmu_close(m);
        model_free(&md);
    }
    mmu_pattern_free(p);
    free(text);
    return 0;
}
