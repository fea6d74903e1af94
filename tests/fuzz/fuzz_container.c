/*
 * fuzz_container.c — the Avro object container reader as `weir batch` uses
 * it, over any bytes as the file: open (header, codec, the writer schema
 * through the bounded plan compiler), then weir_container_reader_next() to
 * the end or to the break, reading every part of every datum (avro_walk.h).
 * Each datum read is appended to a container writer on the same schema
 * (deflate or null, by the parity of the input's size), and the written file
 * must read back to the same datums, in order, with no refusal.
 *
 * Invariants, each an abort(): a failed open names the file; a datum
 * refusal carries WEIR_EDECODE, a reason and a detail, and takes down at most
 * one datum per 16 bytes of the file after it; a broken file (WEIR_EIO) names
 * the file and stays broken; the end stays the end; the writer takes every
 * datum the reader gave; what weir writes, weir reads back unchanged.
 *
 * The input and output files live in memory (memfd), reached by their
 * /proc/self/fd paths, since the reader and the writer take paths. An input
 * is read to its first MAX_DATUMS datums only: a few KiB of deflate can hold
 * a million valid datums, which weir reads at a cost bounded by the bytes
 * inflated, but which would make each such input take seconds here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "avro_walk.h"
#include "schemas.h"

#define MAX_DATUMS (1u << 14)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int in_fd = -1, out_fd = -1;
static char in_path[64], out_path[64];

static void open_files(void)
{
    if (in_fd >= 0)
        return;
    in_fd = memfd_create("weir-fuzz-in", 0);
    out_fd = memfd_create("weir-fuzz-out", 0);
    if (in_fd < 0 || out_fd < 0) {
        perror("fuzz_container: memfd_create");
        abort();
    }
    snprintf(in_path, sizeof(in_path), "/proc/self/fd/%d", in_fd);
    snprintf(out_path, sizeof(out_path), "/proc/self/fd/%d", out_fd);
}

static void put_input(const uint8_t *data, size_t size)
{
    if (ftruncate(in_fd, 0) != 0)
        abort();
    for (size_t done = 0; done < size;) {
        ssize_t n = pwrite(in_fd, data + done, size - done, (off_t)done);
        if (n <= 0)
            abort();
        done += (size_t)n;
    }
}

/* FNV-1a over each datum's length and bytes: the order and content of a file. */
static uint64_t hash_datum(uint64_t h, const uint8_t *body, size_t len)
{
    uint8_t n[sizeof(len)];
    memcpy(n, &len, sizeof(len));
    for (size_t i = 0; i < sizeof(n); i++)
        h = (h ^ n[i]) * 0x100000001b3ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ body[i]) * 0x100000001b3ULL;
    return h;
}

static void require(int ok, const char *what, const char *detail)
{
    if (!ok) {
        fprintf(stderr, "fuzz_container: %s (%s)\n", what, detail);
        abort();
    }
}

/* Reads @p path to its end; returns the datums read and their hash. With
 * @p w, appends each datum to it. @p size bounds the datums a refusal may skip. */
static uint64_t read_all(const char *path, weir_container_reader_t *r, weir_container_writer_t *w,
                         size_t size, uint64_t *datums, int *clean)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    *datums = 0;
    *clean = 1;
    while (*datums < MAX_DATUMS) {
        avro_value_t *value = NULL;
        const uint8_t *body = NULL;
        size_t len = 0, skipped = 0;
        weir_reason_t reason = WEIR_REASON__COUNT;
        char detail[512] = "";
        int rc = weir_container_reader_next(r, &value, &body, &len, &skipped, &reason, detail,
                                            sizeof(detail));
        if (rc == 1) {
            require(value && (body || len == 0) && reason == WEIR_REASON_NONE && skipped == 0,
                    "a datum without its value or body", detail);
            avro_walk(value, 0);
            avro_walk_bytes(body, len);
            h = hash_datum(h, body, len);
            (*datums)++;
            if (w)
                require(weir_container_writer_append(w, body, len) == 0,
                        "the writer refuses a datum the reader gave", path);
            continue;
        }
        if (rc == 0) {
            rc =
                weir_container_reader_next(r, NULL, NULL, NULL, NULL, NULL, detail, sizeof(detail));
            require(rc == 0, "the end does not stay the end", detail);
            break;
        }
        *clean = 0;
        if (rc == WEIR_EDECODE) {
            require(reason > WEIR_REASON_NONE && reason < WEIR_REASON__COUNT && detail[0],
                    "a refused datum without a reason or detail", detail);
            require(skipped <= size / 16, "a refused datum takes down too many", detail);
            continue;
        }
        require(rc == WEIR_EIO && detail[0] && strstr(detail, path),
                "a broken file without a message naming it", detail);
        rc = weir_container_reader_next(r, NULL, NULL, NULL, NULL, NULL, detail, sizeof(detail));
        require(rc == WEIR_EIO, "a broken file does not stay broken", detail);
        break;
    }
    return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    weir_container_reader_t *r = NULL;
    weir_container_writer_t *w = NULL;
    char err[512] = "";
    open_files();
    put_input(data, size);
    int rc = weir_container_reader_open(in_path, &r, err, sizeof(err));
    if (rc != 0) {
        require(rc < 0 && !r && err[0] && strstr(err, in_path), "a failed open without a message",
                err);
        return 0;
    }
    avro_schema_t schema = weir_container_reader_schema(r);
    require(schema != NULL, "an open file without a schema", in_path);
    const char *codec = (size & 1) ? "deflate" : "null";
    rc = weir_container_writer_open(out_path, schema, codec, &w, err, sizeof(err));
    if (rc != 0) {
        /* A schema whose JSON outgrows the header cap; anything else is a bug. */
        require(rc == WEIR_ELIMIT && err[0], "the writer cannot take the schema the reader took",
                err);
        uint64_t datums = 0;
        int clean = 0;
        read_all(in_path, r, NULL, size, &datums, &clean);
        weir_container_reader_close(r);
        return 0;
    }

    uint64_t datums = 0, again = 0;
    int clean = 0, clean_again = 0;
    uint64_t h = read_all(in_path, r, w, size, &datums, &clean);
    weir_container_reader_close(r);
    r = NULL;
    rc = weir_container_writer_close(w, err, sizeof(err));
    require(rc == 0, "the writer fails", err);

    rc = weir_container_reader_open(out_path, &r, err, sizeof(err));
    require(rc == 0, "what weir wrote does not open", err);
    uint64_t h_again = read_all(out_path, r, NULL, 0, &again, &clean_again);
    require(clean_again && again == datums && h_again == h,
            "what weir wrote does not read back the same", out_path);
    weir_container_reader_close(r);
    return 0;
}
