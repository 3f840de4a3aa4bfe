/*
 * test_model.c - differential testing against the reference model
 * (tests/model.c): random operation streams run on the MMU and on the model
 * and every result, region list and byte is compared.
 * SOFTMMU_MODEL_OPS=N sets the number of operations (default 100000),
 * SOFTMMU_MODEL_SEED=S the seed.
 */
#include "test_util.h"

#include "model.c"

static uint64_t env_u64(const char *name, uint64_t dflt)
{
    const char *s = getenv(name);
    return s && *s ? strtoull(s, NULL, 0) : dflt;
}

Test(model, random_operation_streams_match_the_reference)
{
    uint64_t total = env_u64("SOFTMMU_MODEL_OPS", 100000), seed = env_u64("SOFTMMU_MODEL_SEED", 0x50f7);
    run_stats st = { 0 };
    bool ok = harness_random(seed, total, 2000, &st, stderr);
    fprintf(stderr, "model: %llu operations compared in %llu runs (seed %#llx), %llu divergences\n",
            (unsigned long long)st.ops, (unsigned long long)st.runs, (unsigned long long)seed,
            (unsigned long long)st.divergences);
    cr_assert(ok, "the MMU diverged from the model: reproducer above");
}

/* the harness must notice a change the model did not make */
Test(model, harness_detects_a_write_behind_its_back)
{
    harness_cfg cfg = { 64, 8, 0, false };
    harness *h = harness_new(&cfg);
    op map = { .k = OP_MAP, .a = 0x10000, .b = 0x2000, .perms = MMU_PROT_ALL };
    cr_assert(harness_step(h, &map), "%s", harness_msg(h));
    cr_assert(harness_check(h), "%s", harness_msg(h));
    OK(mmu_write(h->m, 0x11000, "x", 1));
    cr_assert_not(harness_check(h));
    cr_assert(strstr(harness_msg(h), "0x11000"), "%s", harness_msg(h));
    harness_free(h);
}

Test(model, harness_detects_a_region_change_behind_its_back)
{
    harness_cfg cfg = { 32, 4, 1, true };
    harness *h = harness_new(&cfg);
    op map = { .k = OP_MAP, .a = 0x10000, .b = 0x3000, .perms = MMU_PROT_READ, .label = 2 };
    cr_assert(harness_step(h, &map), "%s", harness_msg(h));
    OK(mmu_protect(h->m, 0x11000, 1, MMU_PROT_ALL));
    op check = { .k = OP_CHECK };
    cr_assert_not(harness_step(h, &check));
    harness_free(h);
}

/* the model itself against the verified Qiling map_anywhere sequence */
Test(model, model_follows_the_qiling_map_anywhere_table)
{
    model md;
    uint64_t a;
    model_init(&md, 64, 8, false);
    static const struct { uint64_t size, min, align, want; } t[] = {
        { 0x10, 0, 0, 0x0 },           { 0x1800, 0, 0, 0x1000 },          { 0x1000, 0x10000, 0, 0x10000 },
        { 0x1000, 0x10800, 0, 0x11000 }, { 0x1000, 0x20000, 0x10000, 0x20000 }, { 0x1000, 0x20001, 0x10000, 0x30000 },
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        cr_assert_eq(model_map_anywhere(&md, t[i].size, t[i].min, 0, t[i].align, 7, NULL, &a), EBIT(MMU_OK));
        cr_assert_eq(a, t[i].want, "row %zu: %#llx", i, (unsigned long long)a);
    }
    model_free(&md);
}

/* a reproducer replays: the shrinker keeps a list that still diverges */
Test(model, replay_of_a_clean_stream_finds_no_divergence)
{
    op_src src = { .state = 42 };
    harness_cfg cfg = harness_gen_cfg(&src);
    harness *h = harness_new(&cfg);
    op ops[300];
    for (int i = 0; i < 300; i++) {
        ops[i] = harness_gen(h, &src);
        cr_assert(harness_step(h, &ops[i]), "%s", harness_msg(h));
    }
    harness_free(h);
    cr_assert_eq(harness_replay(&cfg, ops, 300), -1, "%s", replay_msg);
    cr_assert_eq(harness_shrink(&cfg, ops, 300), 300);
}

/* found by the model: perms > 7 was checked only after the map lookup */
Test(model, protect_rejects_bad_perms_before_looking_at_the_map)
{
    mmu_t *m;
    OK(mmu_open(NULL, &m));
    ERR_UNCHANGED(m, mmu_protect(m, 0x7000, 0x6000, 8), MMU_ERR_ARG);
    OK(mmu_map(m, 0x7000, 0x1000, MMU_PROT_READ, NULL));
    ERR_UNCHANGED(m, mmu_protect(m, 0x7000, 0x1000, 8), MMU_ERR_ARG);
    mmu_close(m);
}

/* found by the model: a fetch that hit the TLB after a write did not mark
 * the page as code again, so the next write left the generation alone */
Test(model, write_after_refetch_changes_the_code_generation)
{
    mmu_t *m;
    uint8_t buf[16];
    OK(mmu_open(NULL, &m));
    OK(mmu_map(m, 0x434000, 0x1000, MMU_PROT_WRITE | MMU_PROT_EXEC, NULL));
    OK(mmu_fetch(m, 0x434000, buf, 10));
    uint64_t g = mmu_code_generation(m);
    OK(mmu_write_ptr(m, 0x434000, 0x1234, 8, false));
    cr_assert_neq(mmu_code_generation(m), g);
    OK(mmu_fetch(m, 0x434000, buf, 8));
    g = mmu_code_generation(m);
    OK(mmu_store_u8(m, 0x434fff, 0x6d));
    cr_assert_neq(mmu_code_generation(m), g, "a store to fetched code must change the generation");
    mmu_close(m);
}
