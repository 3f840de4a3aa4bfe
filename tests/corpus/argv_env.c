/*
 * argv_env.c - prints its arguments and its environment (sorted), reads,
 * sets and removes variables, and exits with the status named by an
 * argument "exit=N" (0 without one).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

extern char **environ;

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void print_env(const char *when)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **copy = malloc((n + 1) * sizeof *copy);
    memcpy(copy, environ, (n + 1) * sizeof *copy);
    qsort(copy, n, sizeof *copy, cmp);
    printf("environment %s (%zu):\n", when, n);
    for (size_t i = 0; i < n; i++)
        printf("  %s\n", copy[i]);
    free(copy);
}

int main(int argc, char **argv)
{
    const char *base = strrchr(argv[0], '/');
    printf("argc %d, argv[0] base %s\n", argc, base ? base + 1 : argv[0]);
    int status = 0;
    for (int i = 1; i < argc; i++) {
        printf("argv[%d] = [%s] (%zu bytes)\n", i, argv[i], strlen(argv[i]));
        if (strncmp(argv[i], "exit=", 5) == 0)
            status = atoi(argv[i] + 5);
    }
    printf("argv[argc] is NULL: %d\n", argv[argc] == NULL);
    print_env("at start");
    printf("getenv CORPUS_GREETING: %s\n", getenv("CORPUS_GREETING") ? getenv("CORPUS_GREETING") : "(unset)");
    setenv("NEW_VAR", "new value", 0);
    setenv("CORPUS_GREETING", "replaced", 1);
    unsetenv("A");
    putenv("PUT=by putenv");
    print_env("after setenv/unsetenv/putenv");
    printf("auxv: pagesz %lu, AT_SECURE %lu, random bytes present %d\n", getauxval(AT_PAGESZ),
           getauxval(AT_SECURE), getauxval(AT_RANDOM) != 0);
    return status;
}
