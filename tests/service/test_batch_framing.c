/*
 * test_batch_framing.c — `weir batch` over container files whose blocks lie
 * about their datum counts, through the built binary. A block that claims
 * more datums than its bytes can hold, a deflate bomb, and a block of no
 * datums that holds bytes are each a broken file: weir scores what came
 * before, prints its summary, writes its report, names the file and the
 * block's byte offset, and exits 1 — instead of one dead letter per claimed
 * datum (67,108,864 of them for a 2.4 KB file, once).
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "../schemas/tx_example.h"
#include "broker.h"
#include "schemas.h"
#include "support.h"

#define EXAMPLE_MODEL WEIR_SOURCE_DIR "/examples/model.json"

static const uint8_t sync_marker[16] = {0xa0, 0xb1, 0xc2, 0xd3, 0xe4, 0xf5, 0x06, 0x17,
                                        0x28, 0x39, 0x4a, 0x5b, 0x6c, 0x7d, 0x8e, 0x9f};

static char *dir;

static void setup(void)
{
    dir = weir_it_tmpdir();
}

static void teardown(void)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
    free(dir);
}

TestSuite(batch_framing, .init = setup, .fini = teardown);

static char *path_in_dir(const char *name)
{
    char *path = NULL;
    cr_assert_geq(asprintf(&path, "%s/%s", dir, name), 0);
    return path;
}

typedef struct {
    int code;
    char *err; /* stderr */
} result_t;

/* Runs `weir batch --model EXAMPLE --in IN --out OUT --report REPORT -q`. */
static result_t run_batch(const char *in, const char *out, const char *report)
{
    char *err_path = path_in_dir("stderr");
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (e < 0)
            _exit(127);
        dup2(e, 2);
        close(e);
        execl(WEIR_BINARY, WEIR_BINARY, "batch", "--model", EXAMPLE_MODEL, "--in", in, "--out", out,
              "--report", report, "-q", (char *)NULL);
        _exit(127);
    }
    result_t r;
    r.code = weir_it_wait(pid, 120000);
    r.err = weir_test_read_file(err_path, NULL);
    cr_assert_not_null(r.err);
    free(err_path);
    return r;
}

static void put_header(weir_buf_t *f, const char *codec)
{
    const char *schema = weir_schema_text("transaction");
    weir_buf_append(f, "Obj\x01", 4);
    weir_avro_write_long(f, 2);
    weir_avro_write_string(f, "avro.schema", 11);
    weir_avro_write_string(f, schema, strlen(schema));
    weir_avro_write_string(f, "avro.codec", 10);
    weir_avro_write_string(f, codec, strlen(codec));
    weir_avro_write_long(f, 0);
    weir_buf_append(f, sync_marker, 16);
}

static void put_block(weir_buf_t *f, int64_t count, const uint8_t *data, size_t len)
{
    weir_avro_write_long(f, count);
    weir_avro_write_long(f, (int64_t)len);
    weir_buf_append(f, data, len);
    weir_buf_append(f, sync_marker, 16);
}

/* Raw deflate (RFC 1951) of @p n bytes into @p out. */
static void deflate_into(weir_buf_t *out, const void *in, size_t n)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    cr_assert_eq(deflateInit2(&z, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY), Z_OK);
    weir_buf_reset(out);
    cr_assert_eq(weir_buf_reserve(out, deflateBound(&z, (uLong)n)), 0);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = out->data;
    z.avail_out = (uInt)out->cap;
    cr_assert_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
    out->len = out->cap - z.avail_out;
    deflateEnd(&z);
}

/* A block of example transactions first..first+n-1, compressed when @p deflate. */
static void put_transactions(weir_buf_t *f, int first, int n, int deflate)
{
    weir_buf_t data, packed;
    weir_buf_init(&data, 1 << 20);
    weir_buf_init(&packed, 1 << 21);
    for (int i = first; i < first + n; i++) {
        tx_t t;
        tx_example(&t, i);
        cr_assert_eq(tx_encode(&data, &t, NULL), 0);
    }
    if (deflate) {
        deflate_into(&packed, data.data, data.len);
        put_block(f, n, packed.data, packed.len);
    } else {
        put_block(f, n, data.data, data.len);
    }
    weir_buf_dispose(&data);
    weir_buf_dispose(&packed);
}

/* Writes @p f as the input, runs weir batch on it and expects: exit 1, the
 * file and "file byte @p offset" and @p needle on stderr, the summary of
 * @p scored events all scored, a report that says the same, and no
 * dead-letter file. */
static void expect_broken_at(const weir_buf_t *f, size_t offset, const char *needle, long scored)
{
    char *in = path_in_dir("in.avro");
    char *out = path_in_dir("out.avro");
    char *report = path_in_dir("report.json");
    char *dlq = path_in_dir("out.avro.dead.jsonl");
    FILE *file = fopen(in, "wb");
    cr_assert_not_null(file);
    cr_assert_eq(fwrite(f->data, 1, f->len, file), f->len);
    fclose(file);

    result_t r = run_batch(in, out, report);
    cr_assert_eq(r.code, 1, "exit %d: %s", r.code, r.err);
    char at[64], summary[128];
    snprintf(at, sizeof(at), "file byte %zu", offset);
    snprintf(summary, sizeof(summary), "weir batch: %ld events: %ld scored, 0 dead letters", scored,
             scored);
    cr_assert(strstr(r.err, in), "%s", r.err);
    cr_assert(strstr(r.err, at), "\"%s\" lacks \"%s\"", r.err, at);
    cr_assert(strstr(r.err, needle), "\"%s\" lacks \"%s\"", r.err, needle);
    cr_assert(strstr(r.err, summary), "\"%s\" lacks \"%s\"", r.err, summary);

    json_error_t error;
    json_t *rep = json_load_file(report, 0, &error);
    cr_assert_not_null(rep, "%s", error.text);
    cr_assert_eq(json_integer_value(json_object_get(rep, "events")), scored);
    cr_assert_eq(json_integer_value(json_object_get(rep, "scored")), scored);
    cr_assert_eq(json_integer_value(json_object_get(rep, "dead_letters_total")), 0);
    json_decref(rep);
    struct stat st;
    cr_assert_neq(stat(dlq, &st), 0, "no dead-letter file");

    weir_container_reader_t *reader = NULL;
    char err[512];
    cr_assert_eq(weir_container_reader_open(out, &reader, err, sizeof(err)), 0, "%s", err);
    long n = 0;
    int got;
    while ((got = weir_container_reader_next(reader, NULL, NULL, NULL, NULL, NULL, err,
                                             sizeof(err))) == 1)
        n++;
    cr_assert_eq(got, 0, "%s", err);
    cr_assert_eq(n, scored, "the events before the break are in the output");
    weir_container_reader_close(reader);
    free(r.err);
    free(in);
    free(out);
    free(report);
    free(dlq);
}

Test(batch_framing, a_count_that_cannot_fit_its_block_is_a_broken_file)
{
    weir_buf_t f;
    weir_buf_init(&f, 1 << 20);
    put_header(&f, "null");
    put_transactions(&f, 0, 5, 0);
    size_t offset = f.len;
    put_block(&f, 67108864, (const uint8_t *)"0123456789", 10);
    put_transactions(&f, 5, 1, 0);
    expect_broken_at(&f, offset, "67108864 datums cannot fit in its 10 bytes", 5);
    weir_buf_dispose(&f);
}

Test(batch_framing, a_deflate_bomb_is_a_broken_file)
{
    /* 32 MiB of zeros in about 32 KiB, claiming a million datums. */
    size_t big = (size_t)32 << 20;
    uint8_t *zeros = calloc(big, 1);
    weir_buf_t f, bomb;
    cr_assert_not_null(zeros);
    weir_buf_init(&f, 1 << 20);
    weir_buf_init(&bomb, 1 << 26);
    put_header(&f, "deflate");
    put_transactions(&f, 0, 7, 1);
    size_t offset = f.len;
    deflate_into(&bomb, zeros, big);
    put_block(&f, 1000000, bomb.data, bomb.len);
    cr_assert_lt(f.len, 40000);
    expect_broken_at(&f, offset, "1000000 datums cannot fit", 7);
    weir_buf_dispose(&bomb);
    weir_buf_dispose(&f);
    free(zeros);
}

Test(batch_framing, a_block_of_no_datums_that_holds_bytes_is_a_broken_file)
{
    weir_buf_t f, data;
    weir_buf_init(&f, 1 << 20);
    weir_buf_init(&data, 1 << 20);
    put_header(&f, "null");
    put_transactions(&f, 0, 3, 0);
    size_t offset = f.len;
    tx_t t;
    tx_example(&t, 3);
    cr_assert_eq(tx_encode(&data, &t, NULL), 0);
    put_block(&f, 0, data.data, data.len);
    put_transactions(&f, 4, 1, 0);
    expect_broken_at(&f, offset, "bytes but no datums", 3);
    weir_buf_dispose(&data);
    weir_buf_dispose(&f);
}
