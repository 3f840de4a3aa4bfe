/*
 * wordfreq.c - reads text on stdin, counts words (case-folded) in a hash
 * table, prints the most frequent, line and character statistics and the
 * longest line: the shape of an ordinary text tool (getline, ctype,
 * malloc/realloc/free, qsort, a hash table).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry { char *word; unsigned count; struct entry *next; } entry;

static entry *table[1021];
static size_t n_words;

static unsigned hash(const char *s)
{
    unsigned h = 2166136261u;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 16777619u;
    return h % 1021;
}

static void add(const char *w)
{
    entry **e = &table[hash(w)];
    for (; *e; e = &(*e)->next)
        if (strcmp((*e)->word, w) == 0) {
            (*e)->count++;
            return;
        }
    *e = calloc(1, sizeof **e);
    (*e)->word = strdup(w);
    (*e)->count = 1;
    n_words++;
}

static int by_count(const void *a, const void *b)
{
    const entry *x = *(entry *const *)a, *y = *(entry *const *)b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return strcmp(x->word, y->word);
}

int main(void)
{
    char *line = NULL, word[128], *longest = NULL;
    size_t cap = 0, lines = 0, chars = 0, total = 0, alpha = 0, digits = 0, spaces = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, stdin)) >= 0) {
        lines++;
        chars += (size_t)n;
        if (!longest || strlen(line) > strlen(longest)) {
            free(longest);
            longest = strdup(line);
        }
        size_t k = 0;
        for (ssize_t i = 0; i <= n; i++) {
            unsigned char c = (unsigned char)line[i];
            alpha += isalpha(c) != 0, digits += isdigit(c) != 0, spaces += isspace(c) != 0;
            if (isalnum(c) || c == '\'') {
                if (k < sizeof word - 1)
                    word[k++] = (char)tolower(c);
            } else if (k) {
                word[k] = 0;
                add(word);
                total++;
                k = 0;
            }
        }
    }
    entry **all = malloc((n_words + 1) * sizeof *all);
    size_t m = 0;
    for (int i = 0; i < 1021; i++)
        for (entry *e = table[i]; e; e = e->next)
            all[m++] = e;
    qsort(all, m, sizeof *all, by_count);
    printf("%zu lines, %zu chars, %zu words, %zu distinct; alpha %zu digits %zu spaces %zu\n", lines, chars,
           total, m, alpha, digits, spaces);
    for (size_t i = 0; i < m && i < 25; i++)
        printf("%6u %-20s %5.2f%%\n", all[i]->count, all[i]->word, 100.0 * all[i]->count / (double)total);
    printf("longest line (%zu chars): %s", longest ? strlen(longest) : 0, longest ? longest : "\n");
    return 0;
}
