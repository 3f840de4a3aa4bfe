/*
 * fuzz_ops.c - the differential op stream of tests/model.c driven by the
 * fuzzer's bytes: the first bytes choose the configuration, the rest the
 * operations; any divergence from the reference model aborts with a C
 * reproducer.
 */
#include "model.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    op_src src = { .data = data, .size = size, .fuzz = true };
    harness_cfg cfg = harness_gen_cfg(&src);
    harness *h = harness_new(&cfg);
    op ops[1024];
    size_t n = 0;
    bool ok = true;
    while (ok && src.pos < src.size && n < 1024) {
        ops[n] = harness_gen(h, &src);
        ok = harness_step(h, &ops[n++]);
    }
    if (ok)
        ok = harness_check(h);
    if (!ok) {
        fprintf(stderr, "model divergence at op %zu: %s\n", n - 1, harness_msg(h));
        harness_print(stderr, &cfg, ops, harness_shrink(&cfg, ops, n));
        abort();
    }
    harness_free(h);
    return 0;
}
