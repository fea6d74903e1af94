/*
 * support.c — file and golden-vector helpers shared by the unit tests.
 */
#include "support.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *weir_test_path(const char *relative)
{
    static __thread char path[4096];
    snprintf(path, sizeof(path), "%s/%s", WEIR_TESTS_DIR, relative);
    return path;
}

json_t *weir_test_load_json(const char *relative)
{
    json_error_t error;
    json_t *root = json_load_file(weir_test_path(relative), 0, &error);
    if (!root)
        cr_assert_fail("%s:%d: %s", relative, error.line, error.text);
    return root;
}

char *weir_test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            cap *= 2;
            char *grown = realloc(buf, cap + 1);
            if (!grown) {
                free(buf);
                buf = NULL;
            }
            buf = grown;
        }
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        if (len)
            *len = n;
    }
    return buf;
}

char *weir_test_write_temp(const char *suffix, const void *data, size_t len)
{
    char *path = malloc(256);
    snprintf(path, 256, "/tmp/weir-test-XXXXXX%s", suffix ? suffix : "");
    int fd = mkstemps(path, suffix ? (int)strlen(suffix) : 0);
    cr_assert(fd >= 0, "mkstemps failed");
    cr_assert_eq(write(fd, data, len), (ssize_t)len);
    close(fd);
    return path;
}
