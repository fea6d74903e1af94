/*
 * docblocks.c — the documentation tests' reader and runner. It reads the
 * fenced blocks of README.md and docs/ *.md with the doctest markers before
 * them, copies the working tree into a scratch folder (so that what a block
 * writes never lands in the source), and runs the shell blocks there in
 * reading order with `sh -e`, as a user who copies them one after the other
 * would. Each block runs in a process group of its own, so a block that
 * overruns its deadline is killed with whatever it started.
 */
#include "docblocks.h"

#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "support.h"

#define ELLIPSIS "\xe2\x80\xa6" /* … */

static int by_name(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

size_t weir_doc_files(char files[][64], size_t max)
{
    size_t n = 0;
    snprintf(files[n++], 64, "README.md");
    DIR *d = opendir(WEIR_SOURCE_DIR "/docs");
    cr_assert_not_null(d, "docs/: %s", strerror(errno));
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len > 3 && !strcmp(e->d_name + len - 3, ".md")) {
            cr_assert_lt(n, max);
            snprintf(files[n++], 64, "docs/%s", e->d_name);
        }
    }
    closedir(d);
    qsort(files + 1, n - 1, sizeof(files[0]), by_name);
    return n;
}

/* Reads "<!-- doctest: item, item -->" into @p b. */
static void parse_marker(const char *file, int line, const char *marker, weir_doc_block_t *b)
{
    const char *p = marker;
    for (;;) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!strncmp(p, "-->", 3) || !*p)
            break;
        char word[16];
        size_t w = 0;
        while (*p >= 'a' && *p <= 'z' && w + 1 < sizeof(word))
            word[w++] = *p++;
        word[w] = '\0';
        if (!strcmp(word, "broker"))
            b->broker = 1;
        else if (!strcmp(word, "slow"))
            b->slow = 1;
        else if (!strcmp(word, "skip"))
            b->skip = 1;
        else if (!strcmp(word, "output"))
            b->output = 1;
        else if (!strcmp(word, "exit")) {
            char *end;
            long code = strtol(p, &end, 10);
            cr_assert(end != p && code >= 0 && code < 256, "%s:%d: \"exit\" needs a status", file,
                      line);
            b->exit_code = (int)code;
            p = end;
        } else
            cr_assert_fail("%s:%d: unknown doctest marker item \"%s\" in \"%s\"", file, line, word,
                           marker);
        while (*p == ' ')
            p++;
        if (*p == '(') {
            const char *start = ++p;
            int depth = 1;
            while (*p && depth) {
                depth += *p == '(' ? 1 : *p == ')' ? -1 : 0;
                p++;
            }
            cr_assert_eq(depth, 0, "%s:%d: unclosed \"(\" in \"%s\"", file, line, marker);
            snprintf(b->reason, sizeof(b->reason), "%.*s", (int)(p - 1 - start), start);
        }
    }
    cr_assert(!b->skip || b->reason[0], "%s:%d: \"skip\" needs its reason: skip (why)", file, line);
}

size_t weir_doc_parse(const char *relative, weir_doc_block_t *blocks, size_t n, size_t max)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", WEIR_SOURCE_DIR, relative);
    char *text = weir_test_read_file(path, NULL);
    cr_assert_not_null(text, "%s: %s", path, strerror(errno));
    weir_doc_block_t pending;
    memset(&pending, 0, sizeof(pending));
    int has_marker = 0, lineno = 0;
    weir_doc_block_t *open = NULL;
    size_t body_len = 0, body_cap = 0;
    char *line = text;
    while (*line) {
        char *next = strchr(line, '\n');
        size_t len = next ? (size_t)(next - line) : strlen(line);
        lineno++;
        if (open) {
            if (len >= 3 && !strncmp(line, "```", 3)) {
                open = NULL;
            } else {
                if (body_len + len + 2 > body_cap) {
                    body_cap = (body_len + len + 2) * 2;
                    open->text = realloc(open->text, body_cap);
                    cr_assert_not_null(open->text);
                }
                memcpy(open->text + body_len, line, len);
                body_len += len;
                open->text[body_len++] = '\n';
                open->text[body_len] = '\0';
            }
        } else if (len >= 3 && !strncmp(line, "```", 3)) {
            cr_assert_lt(n, max, "more than %zu blocks", max);
            open = &blocks[n++];
            *open = has_marker ? pending : (weir_doc_block_t){0};
            snprintf(open->file, sizeof(open->file), "%s", relative);
            open->line = lineno;
            snprintf(open->lang, sizeof(open->lang), "%.*s", (int)(len - 3), line + 3);
            open->text = calloc(1, 1);
            body_len = 0;
            body_cap = 1;
            has_marker = 0;
        } else if (!strncmp(line, "<!-- doctest:", 13)) {
            memset(&pending, 0, sizeof(pending));
            char marker[512];
            snprintf(marker, sizeof(marker), "%.*s", (int)len, line);
            parse_marker(relative, lineno, marker + 13, &pending);
            has_marker = 1;
        } else if (len > 0) {
            /* a marker belongs to the fence right after it (blank lines aside) */
            cr_assert(!has_marker, "%s:%d: a doctest marker must come right before a fence",
                      relative, lineno - 1);
        }
        line = next ? next + 1 : line + len;
    }
    cr_assert_null(open, "%s: a fence is never closed", relative);
    free(text);
    return n;
}

size_t weir_doc_parse_all(weir_doc_block_t *blocks, size_t max)
{
    char files[32][64];
    size_t nf = weir_doc_files(files, 32), n = 0;
    for (size_t i = 0; i < nf; i++)
        n = weir_doc_parse(files[i], blocks, n, max);
    return n;
}

void weir_doc_free(weir_doc_block_t *blocks, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(blocks[i].text);
}

int weir_doc_is_shell(const weir_doc_block_t *b)
{
    return !strcmp(b->lang, "sh") || !strcmp(b->lang, "shell") || !strcmp(b->lang, "bash");
}

void weir_doc_scratch(const char *scratch)
{
    char cmd[8192];
    /* a scratch folder inside the source tree (a build folder git does not
     * ignore) must not be copied into itself */
    const char *root = WEIR_SOURCE_DIR;
    size_t rl = strlen(root);
    char exclude[1100] = "";
    if (!strncmp(scratch, root, rl) && scratch[rl] == '/')
        snprintf(exclude, sizeof(exclude), "':(exclude)%s'", scratch + rl + 1);
    snprintf(cmd, sizeof(cmd),
             "set -e; mkdir -p '%s'; "
             "find '%s' -mindepth 1 -maxdepth 1 ! -name 'build*' -exec rm -rf {} +; "
             "cd '%s'; git ls-files -z --cached --others --exclude-standard -- . %s | "
             "tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -xpf - -C '%s'; "
             "if [ -d .venv ]; then ln -s '%s/.venv' '%s/.venv'; fi",
             scratch, scratch, root, exclude, scratch, root, scratch);
    cr_assert_eq(system(cmd), 0, "cannot copy the working tree to %s", scratch);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs @p script with sh -e in @p dir, stdout and stderr to @p out; kills its
 * process group at the deadline (-1). */
static int run_script(const char *dir, const char *script, const char *out, int timeout_ms)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        setpgid(0, 0);
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int in = open("/dev/null", O_RDONLY);
        if (fd < 0 || in < 0 || chdir(dir) != 0)
            _exit(127);
        dup2(in, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
        close(in);
        char path[8192];
        snprintf(path, sizeof(path), "%s/build:%s", dir, getenv("PATH") ? getenv("PATH") : "");
        setenv("PATH", path, 1);
        execl("/bin/sh", "sh", "-e", script, (char *)NULL);
        _exit(127);
    }
    setpgid(pid, pid);
    int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (now_ms() >= deadline) {
            kill(-pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        /* waitpid has no timeout: poll the child until the deadline */
        struct timespec ts = {0, 50 * 1000000};
        nanosleep(&ts, NULL);
    }
}

/* Drops colour escapes (ESC [ ... letter) and trailing blanks of @p line. */
static void plain_line(const char *line, size_t len, char *out, size_t outsz)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 1 < outsz; i++) {
        if (line[i] == '\033' && i + 1 < len && line[i + 1] == '[') {
            i += 2;
            while (i < len &&
                   !((line[i] >= 'A' && line[i] <= 'Z') || (line[i] >= 'a' && line[i] <= 'z')))
                i++;
            continue;
        }
        out[o++] = line[i];
    }
    while (o > 0 && (out[o - 1] == ' ' || out[o - 1] == '\r' || out[o - 1] == '\t'))
        o--;
    out[o] = '\0';
}

/* Whether @p have matches @p want, where "…" in want stands for any text. */
static int line_matches(const char *want, const char *have)
{
    const char *w = want, *h = have;
    int anchored = 1;
    for (;;) {
        const char *gap = strstr(w, ELLIPSIS);
        size_t piece = gap ? (size_t)(gap - w) : strlen(w);
        if (!gap) {
            /* the last piece ends the line */
            size_t hl = strlen(h);
            if (anchored)
                return hl == piece && !strncmp(h, w, piece);
            return hl >= piece && !strncmp(h + hl - piece, w, piece);
        }
        if (anchored) {
            if (strncmp(h, w, piece) != 0)
                return 0;
            h += piece;
        } else if (piece) {
            char buf[1024];
            snprintf(buf, sizeof(buf), "%.*s", (int)piece, w);
            const char *at = strstr(h, buf);
            if (!at)
                return 0;
            h = at + piece;
        }
        anchored = 0;
        w = gap + strlen(ELLIPSIS);
    }
}

const char *weir_doc_sample_missing(const char *sample, const char *output)
{
    static __thread char want[1024];
    const char *s = sample;
    while (*s) {
        const char *end = strchr(s, '\n');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        plain_line(s, len, want, sizeof(want));
        s = end ? end + 1 : s + len;
        if (!want[0])
            continue;
        int found = 0;
        const char *o = output;
        while (*o && !found) {
            const char *oe = strchr(o, '\n');
            size_t ol = oe ? (size_t)(oe - o) : strlen(o);
            char have[4096];
            plain_line(o, ol, have, sizeof(have));
            found = line_matches(want, have);
            o = oe ? oe + 1 : o + ol;
        }
        if (!found)
            return want;
    }
    return NULL;
}

/* The last @p lines lines of @p text. */
static const char *tail(const char *text, int lines)
{
    const char *p = text + strlen(text);
    while (p > text && lines >= 0) {
        p--;
        if (*p == '\n')
            lines--;
    }
    return p == text ? p : p + 1;
}

size_t weir_doc_run_all(const char *scratch, int with_broker)
{
    static weir_doc_block_t blocks[WEIR_DOC_MAX_BLOCKS];
    size_t n = weir_doc_parse_all(blocks, WEIR_DOC_MAX_BLOCKS);
    char dir[1100], script[1200], out[1200];
    snprintf(dir, sizeof(dir), "%s/.doctest", scratch);
    mkdir(dir, 0755);
    size_t ran = 0, later = 0, skipped = 0;
    char *output = NULL;
    int last_ran = 0;
    for (size_t i = 0; i < n; i++) {
        weir_doc_block_t *b = &blocks[i];
        if (b->output) {
            cr_assert(i > 0 && weir_doc_is_shell(&blocks[i - 1]),
                      "%s:%d: an output sample must follow a shell block", b->file, b->line);
            if (!last_ran)
                continue;
            const char *missing = weir_doc_sample_missing(b->text, output ? output : "");
            cr_expect_null(
                missing, "%s:%d: the block at line %d did not print \"%s\"; its output ends:\n%s",
                b->file, b->line, blocks[i - 1].line, missing, tail(output ? output : "", 30));
            continue;
        }
        last_ran = 0;
        if (!weir_doc_is_shell(b))
            continue;
        if (b->skip) {
            skipped++;
            cr_log_info("%s:%d: skipped (%s)", b->file, b->line, b->reason);
            continue;
        }
        if ((b->broker || b->slow) && !with_broker) {
            later++;
            continue;
        }
        snprintf(script, sizeof(script), "%s/block-%03zu.sh", dir, i);
        snprintf(out, sizeof(out), "%s/block-%03zu.out", dir, i);
        FILE *f = fopen(script, "w");
        cr_assert_not_null(f, "%s", script);
        fprintf(f, "# %s:%d\n%s", b->file, b->line, b->text);
        fclose(f);
        int64_t started = now_ms();
        int code = run_script(scratch, script, out, b->slow ? 1200000 : 600000);
        free(output);
        output = weir_test_read_file(out, NULL);
        fprintf(stderr, "docs: %s:%d: exit %d in %.1f s%s\n", b->file, b->line, code,
                (now_ms() - started) / 1000.0,
                b->broker ? " (broker)"
                : b->slow ? " (slow)"
                          : "");
        cr_expect_eq(code, b->exit_code,
                     "%s:%d: the block exited %d (-1: past its deadline), the text says %d; "
                     "its output ends:\n%s",
                     b->file, b->line, code, b->exit_code, tail(output ? output : "", 30));
        ran++;
        last_ran = 1;
    }
    free(output);
    fprintf(stderr,
            "docs: %zu shell blocks ran; %zu need the broker or a long run%s; %zu skipped "
            "(their reasons are next to them)\n",
            ran, later, with_broker ? "" : " (the broker suite runs them)", skipped);
    weir_doc_free(blocks, n);
    return ran;
}
