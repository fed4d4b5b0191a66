/*
 * replay.c — the main a harness gets when it is built without libFuzzer: it runs
 * LLVMFuzzerTestOneInput once over each file named, or each file in each
 * directory named (not recursively, dot files skipped), so the seed corpus and the
 * crashes fuzzing found (tests/fuzz/regress/HARNESS/) replay in every ordinary test
 * run, gcc's and the ASan build's alike. A directory that does not exist is
 * empty (a harness without regressions has no regress/ directory); no input at
 * all is a failure, because a replay that ran nothing proves nothing.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* Run the harness over the file at path; false when it cannot be read. */
static bool run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return false;
    }
    size_t cap = 1 << 16, n = 0;
    uint8_t *data = malloc(cap);
    size_t got;
    while (data && (got = fread(data + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap)
            data = realloc(data, cap *= 2);
    }
    bool ok = data && !ferror(f);
    fclose(f);
    if (ok)
        LLVMFuzzerTestOneInput(data, n);
    else
        fprintf(stderr, "replay: %s: cannot read it\n", path);
    free(data);
    return ok;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every input under path (a file or a directory); adds to *count, false on a
 * file that cannot be read. */
static bool run_path(const char *path, int *count)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return errno == ENOENT;
    if (!S_ISDIR(sb.st_mode)) {
        ++*count;
        return run_file(path);
    }
    DIR *d = opendir(path);
    if (!d) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return false;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        names = realloc(names, (n + 1) * sizeof *names);
        size_t len = strlen(path) + strlen(e->d_name) + 2;
        names[n] = malloc(len);
        snprintf(names[n++], len, "%s/%s", path, e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, by_name); /* the same order every run */
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        ++*count;
        ok = run_file(names[i]) && ok;
        free(names[i]);
    }
    free(names);
    return ok;
}

int main(int argc, char **argv)
{
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    int count = 0;
    bool ok = true;
    for (int i = 1; i < argc; i++)
        ok = run_path(argv[i], &count) && ok;
    printf("%s: %d inputs replayed\n", argv[0], count);
    if (count == 0)
        fprintf(stderr, "replay: no input found in the paths given\n");
    return ok && count > 0 ? 0 : 1;
}
