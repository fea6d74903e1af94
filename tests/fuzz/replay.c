/*
 * replay.c — the main() that turns a libFuzzer harness into a plain program
 * for the normal build: it runs LLVMFuzzerTestOneInput() once over every
 * file named on its command line, and over every regular file of every
 * folder named there (in name order, not recursing), and fails when it found
 * no input at all, so that a corpus folder that goes missing is noticed.
 *
 * Each input is read into a buffer of exactly its size, so that AddressSanitizer
 * catches a harness or the code under test reading one byte past it. A harness
 * reports a broken invariant by aborting, which fails the ctest test that runs
 * this program; so do the sanitizers.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional, as in libFuzzer: called once before the first input. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

#define MAX_REPLAY_INPUT (64u << 20)

/* Runs the harness over one file; returns 0, or -1 when it cannot be read. */
static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *data = NULL;
    long size = -1;
    int rc = -1;
    if (!f) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        goto out;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
        (unsigned long)size > MAX_REPLAY_INPUT) {
        fprintf(stderr, "replay: %s: cannot size it (or larger than %u bytes)\n", path,
                MAX_REPLAY_INPUT);
        goto out;
    }
    /* malloc(0) may return NULL: keep a non-null pointer for empty inputs. */
    data = malloc(size > 0 ? (size_t)size : 1);
    if (!data || fread(data, 1, (size_t)size, f) != (size_t)size) {
        fprintf(stderr, "replay: %s: read failed\n", path);
        goto out;
    }
    LLVMFuzzerTestOneInput(data, (size_t)size);
    rc = 0;
out:
    free(data);
    if (f)
        fclose(f);
    return rc;
}

static int regular_file(const struct dirent *e)
{
    return e->d_name[0] != '.';
}

/* Replays every regular file of @p dir; returns how many, or -1 on a failure. */
static long replay_dir(const char *dir)
{
    struct dirent **entries = NULL;
    long count = 0;
    int n = scandir(dir, &entries, regular_file, alphasort);
    if (n < 0) {
        fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    for (int i = 0; i < n; i++) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s", dir, entries[i]->d_name);
        if (count >= 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode))
            count = replay_file(path) == 0 ? count + 1 : -1;
        free(entries[i]);
    }
    free(entries);
    return count;
}

int main(int argc, char **argv)
{
    long total = 0;
    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR|FILE...\n", argv[0]);
        return 2;
    }
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        struct stat st;
        long n = -1;
        if (stat(argv[i], &st) != 0)
            fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
        else if (S_ISDIR(st.st_mode))
            n = replay_dir(argv[i]);
        else
            n = replay_file(argv[i]) == 0 ? 1 : -1;
        if (n < 0)
            return 1;
        total += n;
    }
    printf("replay: %ld input%s, no invariant broken\n", total, total == 1 ? "" : "s");
    if (total == 0) {
        fprintf(stderr, "replay: no input found\n");
        return 1;
    }
    return 0;
}
