/*
 * musl_hello.c - an ordinary C program linked statically against musl
 * (musl-gcc -static -O2), run unmodified: stdio, malloc (brk and mmap),
 * qsort, string functions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

int main(int argc, char **argv)
{
    int v[100], sorted = 1;
    unsigned x = 1;
    printf("Hello from musl, argc=%d, argv[0]=%s\n", argc, argv[0]);
    for (int i = 0; i < 100; i++) {
        x = x * 1103515245u + 12345u;
        v[i] = (int)((x >> 16) % 1000);
    }
    qsort(v, 100, sizeof *v, cmp);
    for (int i = 1; i < 100; i++)
        sorted &= v[i - 1] <= v[i];
    size_t big = 1 << 20; /* mallocng takes this from mmap */
    char *s = malloc(big), *d = strdup("softmmu");
    if (!s || !d)
        return 2;
    memset(s, 'a', big - 1);
    s[big - 1] = '\0';
    printf("qsort %s, strlen %zu, strdup %s\n", sorted ? "ok" : "FAILED", strlen(s), d);
    free(s);
    free(d);
    return !sorted;
}
