/*
 * test_container.c — Avro object container files: weir's writer read back by
 * weir's reader (null and deflate), files written by avro-c's own
 * avro_file_writer and by python3-avro (committed fixtures, made by
 * fixtures/make_fixtures.py), python3-avro reading what weir wrote (skipped
 * when it is not installed), and hand-built broken files: a bad datum loses
 * only the rest of its block; a bad sync marker, and a block whose count
 * cannot be believed (deflate bombs, counts that cannot fit), stop the reader.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "schemas.h"
#include "support.h"
#include "tx_example.h"

#define DETAIL 512

static const uint8_t sync_marker[16] = {0x10, 0x21, 0x32, 0x43, 0x54, 0x65, 0x76, 0x87,
                                        0x98, 0xa9, 0xba, 0xcb, 0xdc, 0xed, 0xfe, 0x0f};

static char *temp_path(void)
{
    char *path = weir_test_write_temp(".avro", "", 0);
    return path;
}

/* Appends the Avro body of example transaction @p i to @p b (after a reset). */
static void tx_body(weir_buf_t *b, int i)
{
    tx_t t;
    tx_example(&t, i);
    weir_buf_reset(b);
    cr_assert_eq(tx_encode(b, &t, NULL), 0);
}

static weir_container_reader_t *open_reader(const char *path)
{
    weir_container_reader_t *r = NULL;
    char err[DETAIL];
    cr_assert_eq(weir_container_reader_open(path, &r, err, sizeof(err)), 0, "%s", err);
    return r;
}

/* Reads the whole file and expects example transactions first..first+n-1. */
static void expect_transactions(const char *path, int first, int n)
{
    weir_container_reader_t *r = open_reader(path);
    weir_buf_t expected;
    weir_buf_init(&expected, 1 << 16);
    cr_assert_str_eq(avro_schema_name(weir_container_reader_schema(r)), "Transaction");
    for (int i = first; i < first + n; i++) {
        avro_value_t *value = NULL;
        const uint8_t *body = NULL;
        size_t body_len = 0, skipped = 99;
        weir_reason_t reason;
        char detail[DETAIL];
        int rc = weir_container_reader_next(r, &value, &body, &body_len, &skipped, &reason, detail,
                                            sizeof(detail));
        cr_assert_eq(rc, 1, "datum %d: rc %d, %s", i, rc, detail);
        cr_assert_eq(skipped, 0);
        cr_assert_eq(weir_container_reader_index(r), (uint64_t)(i - first));
        tx_body(&expected, i);
        cr_assert_eq(body_len, expected.len, "datum %d", i);
        cr_assert(memcmp(body, expected.data, body_len) == 0, "datum %d differs", i);
        avro_value_t field;
        const char *id = NULL;
        size_t id_len = 0;
        avro_value_get_by_name(value, "event_id", &field, NULL);
        avro_value_get_string(&field, &id, &id_len);
        tx_t t;
        tx_example(&t, i);
        cr_assert_str_eq(id, t.event_id);
    }
    size_t skipped;
    weir_reason_t reason;
    char detail[DETAIL];
    cr_assert_eq(
        weir_container_reader_next(r, NULL, NULL, NULL, &skipped, &reason, detail, sizeof(detail)),
        0, "%s", detail);
    cr_assert_eq(
        weir_container_reader_next(r, NULL, NULL, NULL, &skipped, &reason, detail, sizeof(detail)),
        0, "the end stays the end");
    weir_buf_dispose(&expected);
    weir_container_reader_close(r);
}

static void write_transactions(const char *path, const char *codec, int n)
{
    avro_schema_t schema = tx_schema();
    weir_container_writer_t *w = NULL;
    weir_buf_t b;
    char err[DETAIL];
    weir_buf_init(&b, 1 << 16);
    cr_assert_eq(weir_container_writer_open(path, schema, codec, &w, err, sizeof(err)), 0, "%s",
                 err);
    for (int i = 0; i < n; i++) {
        tx_body(&b, i);
        cr_assert_eq(weir_container_writer_append(w, b.data, b.len), 0);
    }
    cr_assert_eq(weir_container_writer_close(w, err, sizeof(err)), 0, "%s", err);
    weir_buf_dispose(&b);
    avro_schema_decref(schema);
}

/* A zig-zag varint of a file this test trusts; returns its length. */
static int read_varint(const uint8_t *p, int64_t *v)
{
    uint64_t acc = 0;
    int i = 0;
    for (;;) {
        acc |= (uint64_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i++] & 0x80))
            break;
    }
    *v = (int64_t)((acc >> 1) ^ (0 - (acc & 1)));
    return i;
}

/* Counts the blocks of a well-formed file by walking its framing. */
static int count_blocks(const char *path)
{
    size_t len = 0;
    uint8_t *data = (uint8_t *)weir_test_read_file(path, &len);
    size_t pos = 4;
    int blocks = 0;
    int64_t v = 0;
    cr_assert_not_null(data);
    /* header map: count, then (key, value) pairs, then 0 */
    for (;;) {
        int64_t count = 0;
        pos += (size_t)read_varint(data + pos, &count);
        if (count == 0)
            break;
        for (int64_t i = 0; i < count * 2; i++) {
            pos += (size_t)read_varint(data + pos, &v);
            pos += (size_t)v;
        }
    }
    pos += 16;
    while (pos < len) {
        pos += (size_t)read_varint(data + pos, &v);
        pos += (size_t)read_varint(data + pos, &v);
        pos += (size_t)v + 16;
        blocks++;
    }
    free(data);
    return blocks;
}

Test(container, writes_and_reads_back_with_the_null_codec)
{
    char *path = temp_path();
    write_transactions(path, "null", 2000);
    cr_assert_gt(count_blocks(path), 2, "~64 KiB blocks");
    expect_transactions(path, 0, 2000);
    unlink(path);
    free(path);
}

Test(container, writes_and_reads_back_with_the_deflate_codec)
{
    char *path = temp_path();
    write_transactions(path, "deflate", 2000);
    size_t len = 0;
    char *data = weir_test_read_file(path, &len);
    cr_assert_lt(len, 2000 * 100, "deflate compresses");
    free(data);
    expect_transactions(path, 0, 2000);
    unlink(path);
    free(path);
}

Test(container, writes_and_reads_back_at_every_deflate_level)
{
    char *path = temp_path();
    size_t level1 = 0, level9 = 0;
    for (char level = '1'; level <= '9'; level++) {
        char codec[16];
        snprintf(codec, sizeof(codec), "deflate:%c", level);
        write_transactions(path, codec, 2000);
        size_t len = 0;
        char *data = weir_test_read_file(path, &len);
        cr_assert_lt(len, 2000 * 100, "%s compresses", codec);
        free(data);
        if (level == '1')
            level1 = len;
        if (level == '9')
            level9 = len;
        expect_transactions(path, 0, 2000);
    }
    cr_assert_leq(level9, level1, "level 9 is no larger than level 1");
    unlink(path);
    free(path);
}

Test(container, codec_names_say_the_deflate_level)
{
    int level = -1;
    cr_assert_eq(weir_container_codec_parse("null", &level), 0);
    cr_assert_eq(level, 0);
    cr_assert_eq(weir_container_codec_parse("deflate", &level), 0);
    cr_assert_eq(level, WEIR_CONTAINER_DEFLATE_LEVEL);
    cr_assert_eq(weir_container_codec_parse("deflate:9", &level), 0);
    cr_assert_eq(level, 9);
    cr_assert_eq(weir_container_codec_parse("deflate:0", &level), -1);
    cr_assert_eq(weir_container_codec_parse("deflate:10", &level), -1);
    cr_assert_eq(weir_container_codec_parse("deflate:", &level), -1);
    cr_assert_eq(weir_container_codec_parse("snappy", &level), -1);
}

Test(container, writes_an_empty_file_that_reads_as_empty)
{
    char *path = temp_path();
    write_transactions(path, "deflate", 0);
    expect_transactions(path, 0, 0);
    unlink(path);
    free(path);
}

Test(container, writer_refuses_unknown_codecs_and_foreign_datums)
{
    avro_schema_t schema = tx_schema();
    weir_container_writer_t *w = NULL;
    char err[DETAIL];
    char *path = temp_path();
    cr_assert_eq(weir_container_writer_open(path, schema, "snappy", &w, err, sizeof(err)),
                 WEIR_EINVAL);
    cr_assert(strstr(err, "unsupported codec \"snappy\""), "%s", err);
    cr_assert_eq(weir_container_writer_open(path, schema, "null", &w, err, sizeof(err)), 0, "%s",
                 err);
    cr_assert_eq(weir_container_writer_append(w, (const uint8_t *)"\x02x", 2), WEIR_EDECODE);
    cr_assert_eq(weir_container_writer_close(w, err, sizeof(err)), 0, "%s", err);
    expect_transactions(path, 0, 0);
    cr_assert_eq(
        weir_container_writer_open("/nonexistent/dir/x.avro", schema, "null", &w, err, sizeof(err)),
        WEIR_EIO);
    cr_assert(strstr(err, "/nonexistent/dir/x.avro"), "%s", err);
    unlink(path);
    free(path);
    avro_schema_decref(schema);
}

/* ------------------------------------------------------------------ */
/* Files from other implementations                                    */

static void write_with_avro_c(const char *path, const char *codec, int n)
{
    avro_schema_t schema = tx_schema();
    avro_file_writer_t writer;
    avro_value_iface_t *iface = avro_generic_class_from_schema(schema);
    avro_value_t value;
    avro_reader_t reader = avro_reader_memory("", 0);
    weir_buf_t b;
    weir_buf_init(&b, 1 << 16);
    cr_assert_eq(avro_generic_value_new(iface, &value), 0);
    unlink(path);
    cr_assert_eq(avro_file_writer_create_with_codec(path, schema, &writer, codec, 16384), 0, "%s",
                 avro_strerror());
    for (int i = 0; i < n; i++) {
        tx_body(&b, i);
        avro_reader_memory_set_source(reader, (const char *)b.data, (int64_t)b.len);
        cr_assert_eq(avro_value_read(reader, &value), 0, "%s", avro_strerror());
        cr_assert_eq(avro_file_writer_append_value(writer, &value), 0, "%s", avro_strerror());
    }
    cr_assert_eq(avro_file_writer_close(writer), 0);
    avro_reader_free(reader);
    avro_value_decref(&value);
    avro_value_iface_decref(iface);
    weir_buf_dispose(&b);
    avro_schema_decref(schema);
}

Test(container, reads_files_written_by_avro_c)
{
    char *path = temp_path();
    write_with_avro_c(path, "null", 700);
    cr_assert_gt(count_blocks(path), 2);
    expect_transactions(path, 0, 700);
    write_with_avro_c(path, "deflate", 700);
    expect_transactions(path, 0, 700);
    unlink(path);
    free(path);
}

Test(container, reads_transactions_written_by_python3_avro)
{
    const char *path = weir_test_path("schemas/fixtures/transactions_python_deflate.avro");
    char copy[4096];
    snprintf(copy, sizeof(copy), "%s", path);
    cr_assert_eq(count_blocks(copy), 3);
    expect_transactions(copy, 0, 50);
}

static avro_value_t get(avro_value_t *record, const char *name)
{
    avro_value_t field;
    cr_assert_eq(avro_value_get_by_name(record, name, &field, NULL), 0, "no field %s", name);
    return field;
}

Test(container, reads_every_type_written_by_python3_avro)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s",
             weir_test_path("schemas/fixtures/everything_python_null.avro"));
    weir_container_reader_t *r = open_reader(path);
    static const int32_t ints[] = {INT32_MIN, 0, INT32_MAX};
    static const int64_t longs[] = {INT64_MIN, 1, INT64_MAX};
    static const float floats[] = {-1.5f, 0.0f, 3.25f};
    const double doubles[] = {-1e300, 0.5, ldexp(1.0, -1000)};
    for (int i = 0; i < 3; i++) {
        avro_value_t *v = NULL;
        size_t skipped, n = 0;
        weir_reason_t reason;
        char detail[DETAIL];
        cr_assert_eq(weir_container_reader_next(r, &v, NULL, NULL, &skipped, &reason, detail,
                                                sizeof(detail)),
                     1, "%s", detail);
        avro_value_t f = get(v, "b");
        int bo = -1, sym = -1;
        int32_t i32 = 0;
        int64_t i64 = 0;
        float fl = 0;
        double d = 0;
        const char *s = NULL;
        const void *bytes = NULL;
        avro_value_get_boolean(&f, &bo);
        cr_assert_eq(bo, i % 2);
        f = get(v, "i");
        avro_value_get_int(&f, &i32);
        cr_assert_eq(i32, ints[i]);
        f = get(v, "l");
        avro_value_get_long(&f, &i64);
        cr_assert_eq(i64, longs[i]);
        f = get(v, "f");
        avro_value_get_float(&f, &fl);
        cr_assert_eq(fl, floats[i]);
        f = get(v, "d");
        avro_value_get_double(&f, &d);
        cr_assert_eq(d, doubles[i]);
        f = get(v, "s");
        avro_value_get_string(&f, &s, &n);
        cr_assert_eq(n - 1, (size_t)(i == 0 ? 0 : i == 1 ? 6 : 200));
        if (i == 1)
            cr_assert_str_eq(s, "h\xc3\xa9llo");
        f = get(v, "by");
        avro_value_get_bytes(&f, &bytes, &n);
        cr_assert_eq(n, (size_t)(i * 3));
        for (size_t k = 0; k < n; k++)
            cr_assert_eq(((const uint8_t *)bytes)[k], k);
        f = get(v, "fx");
        avro_value_get_fixed(&f, &bytes, &n);
        cr_assert_eq(n, 4);
        cr_assert_eq(((const uint8_t *)bytes)[3], i + 3);
        f = get(v, "e");
        avro_value_get_enum(&f, &sym);
        cr_assert_eq(sym, i);
        f = get(v, "a");
        avro_value_get_size(&f, &n);
        cr_assert_eq(n, (size_t)(i * 2));
        f = get(v, "m");
        avro_value_get_size(&f, &n);
        cr_assert_eq(n, (size_t)i);
        f = get(v, "u");
        avro_value_get_discriminant(&f, &sym);
        cr_assert_eq(sym, i);
    }
    size_t skipped;
    weir_reason_t reason;
    cr_assert_eq(weir_container_reader_next(r, NULL, NULL, NULL, &skipped, &reason, NULL, 0), 0);
    weir_container_reader_close(r);
}

/* Runs python3-avro over @p path; returns its output, or NULL to skip. */
static char *python_read(const char *path)
{
    char cmd[8192];
    char script[4096];
    snprintf(script, sizeof(script), "%s", weir_test_path("schemas/fixtures/read_container.py"));
    if (access("/usr/bin/python3", X_OK) != 0)
        return NULL;
    snprintf(cmd, sizeof(cmd), "/usr/bin/python3 '%s' '%s'", script, path);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t cap = 1 << 20, n = 0, got;
    char *out = malloc(cap);
    while ((got = fread(out + n, 1, cap - 1 - n, p)) > 0)
        n += got;
    out[n] = '\0';
    int status = pclose(p);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 3) {
        free(out);
        return NULL;
    }
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "python3-avro failed: %s", out);
    return out;
}

static void expect_python_reads(const char *codec)
{
    char *path = temp_path();
    write_transactions(path, codec, 1500);
    char *out = python_read(path);
    if (!out) {
        unlink(path);
        free(path);
        cr_skip_test("python3-avro is not installed");
    }
    char expected[64];
    snprintf(expected, sizeof(expected), "codec %s\nrecords 1500\ntx-000000 12.5000\n", codec);
    cr_assert(strncmp(out, expected, strlen(expected)) == 0, "%.200s", out);
    cr_assert(strstr(out, "\ntx-001499 387.2500\n"), "the last record");
    free(out);
    unlink(path);
    free(path);
}

Test(container, python3_avro_reads_what_weir_wrote_with_null)
{
    expect_python_reads("null");
}

Test(container, python3_avro_reads_what_weir_wrote_with_deflate)
{
    expect_python_reads("deflate");
}

/* ------------------------------------------------------------------ */
/* Broken files, built by hand                                         */

static void put_header_with(weir_buf_t *f, const char *schema, const char *codec)
{
    weir_buf_append(f, "Obj\x01", 4);
    weir_avro_write_long(f, codec ? 2 : 1);
    weir_avro_write_string(f, "avro.schema", 11);
    weir_avro_write_string(f, schema, strlen(schema));
    if (codec) {
        weir_avro_write_string(f, "avro.codec", 10);
        weir_avro_write_string(f, codec, strlen(codec));
    }
    weir_avro_write_long(f, 0);
    weir_buf_append(f, sync_marker, 16);
}

static void put_header(weir_buf_t *f, const char *codec)
{
    put_header_with(f, weir_schema_text("transaction"), codec);
}

static void put_block(weir_buf_t *f, int64_t count, const weir_buf_t *data, const uint8_t *sync)
{
    weir_avro_write_long(f, count);
    weir_avro_write_long(f, (int64_t)data->len);
    weir_buf_append(f, data->data, data->len);
    weir_buf_append(f, sync, 16);
}

/* Block data of example transactions first..first+n-1; @p bad (if >= 0)
 * gets an out-of-range channel. */
static void tx_block(weir_buf_t *data, int first, int n, int bad)
{
    weir_buf_reset(data);
    for (int i = first; i < first + n; i++) {
        tx_t t;
        size_t off[TX_FIELDS];
        size_t start = data->len;
        tx_example(&t, i);
        tx_encode(data, &t, off);
        if (i == bad)
            data->data[start + off[TX_CHANNEL]] = 0x7e;
    }
}

typedef struct {
    int rc;
    size_t skipped;
    weir_reason_t reason;
    uint64_t index;
    char detail[DETAIL];
    char event_id[32];
} step_t;

static step_t next(weir_container_reader_t *r)
{
    step_t s;
    avro_value_t *v = NULL;
    memset(&s, 0, sizeof(s));
    s.skipped = 99;
    s.rc = weir_container_reader_next(r, &v, NULL, NULL, &s.skipped, &s.reason, s.detail,
                                      sizeof(s.detail));
    s.index = weir_container_reader_index(r);
    if (s.rc == 1) {
        avro_value_t f;
        const char *id = NULL;
        size_t n = 0;
        avro_value_get_by_name(v, "event_id", &f, NULL);
        avro_value_get_string(&f, &id, &n);
        snprintf(s.event_id, sizeof(s.event_id), "%s", id);
    }
    return s;
}

static char *write_file(const weir_buf_t *f)
{
    return weir_test_write_temp(".avro", f->data, f->len);
}

Test(container, skips_the_rest_of_a_block_after_a_bad_datum)
{
    weir_buf_t f, data;
    weir_buf_init(&f, 1 << 20);
    weir_buf_init(&data, 1 << 20);
    put_header(&f, NULL);
    tx_block(&data, 0, 4, 1); /* datum 1 is bad: 2 and 3 cannot be found */
    put_block(&f, 4, &data, sync_marker);
    tx_block(&data, 4, 2, -1);
    put_block(&f, 2, &data, sync_marker);
    char *path = write_file(&f);
    weir_container_reader_t *r = open_reader(path);

    step_t s = next(r);
    cr_assert_eq(s.rc, 1, "%s", s.detail);
    cr_assert_str_eq(s.event_id, "tx-000000");
    s = next(r);
    cr_assert_eq(s.rc, WEIR_EDECODE);
    cr_assert_eq(s.reason, WEIR_REASON_BAD_ENUM);
    cr_assert_eq(s.index, 1);
    cr_assert_eq(s.skipped, 2, "datums 2 and 3 are lost with it");
    cr_assert(strstr(s.detail, "datum 1 (block at file byte"), "%s", s.detail);
    cr_assert(strstr(s.detail, "(channel): enum Channel index 63 of 4 symbols"), "%s", s.detail);
    s = next(r);
    cr_assert_eq(s.rc, 1, "%s", s.detail);
    cr_assert_str_eq(s.event_id, "tx-000004");
    cr_assert_eq(s.index, 4);
    s = next(r);
    cr_assert_eq(s.rc, 1);
    cr_assert_str_eq(s.event_id, "tx-000005");
    cr_assert_eq(next(r).rc, 0);
    weir_container_reader_close(r);
    unlink(path);
    free(path);
    weir_buf_dispose(&f);
    weir_buf_dispose(&data);
}

Test(container, refuses_bytes_left_over_at_the_end_of_a_block)
{
    weir_buf_t f, data;
    weir_buf_init(&f, 1 << 20);
    weir_buf_init(&data, 1 << 20);
    put_header(&f, NULL);
    tx_block(&data, 0, 2, -1);
    weir_buf_append(&data, "??", 2);
    put_block(&f, 2, &data, sync_marker);
    tx_block(&data, 2, 1, -1);
    put_block(&f, 1, &data, sync_marker);
    char *path = write_file(&f);
    weir_container_reader_t *r = open_reader(path);
    cr_assert_eq(next(r).rc, 1);
    step_t s = next(r);
    cr_assert_eq(s.rc, WEIR_EDECODE);
    cr_assert_eq(s.reason, WEIR_REASON_TRAILING_BYTES, "%s", s.detail);
    cr_assert_eq(s.skipped, 0);
    s = next(r);
    cr_assert_eq(s.rc, 1);
    cr_assert_str_eq(s.event_id, "tx-000002");
    weir_container_reader_close(r);
    unlink(path);
    free(path);
    weir_buf_dispose(&f);
    weir_buf_dispose(&data);
}

/* Expects the reader to stop with WEIR_EIO naming the file, "file byte
 * @p offset" and @p needle, and to stay stopped. */
static void expect_stop(weir_container_reader_t *r, const char *path, size_t offset,
                        const char *needle)
{
    char at[64];
    snprintf(at, sizeof(at), "file byte %zu", offset);
    step_t s = next(r);
    cr_assert_eq(s.rc, WEIR_EIO, "rc %d: %s", s.rc, s.detail);
    cr_assert_eq(s.skipped, 0);
    cr_assert(strstr(s.detail, path), "%s", s.detail);
    cr_assert(strstr(s.detail, at), "\"%s\" lacks \"%s\"", s.detail, at);
    cr_assert(strstr(s.detail, needle), "\"%s\" lacks \"%s\"", s.detail, needle);
    cr_assert_eq(next(r).rc, WEIR_EIO, "reading stays stopped");
}

Test(container, stops_at_a_block_claiming_more_datums_than_its_bytes_hold)
{
    /* 67,108,864 datums in 10 bytes: once a dead letter per claimed datum. */
    weir_buf_t f, data;
    weir_buf_init(&f, 1 << 20);
    weir_buf_init(&data, 1 << 20);
    put_header(&f, NULL);
    tx_block(&data, 0, 1, -1);
    put_block(&f, 1, &data, sync_marker);
    size_t offset = f.len;
    weir_buf_reset(&data);
    weir_buf_append(&data, "0123456789", 10);
    put_block(&f, 67108864, &data, sync_marker);
    tx_block(&data, 1, 1, -1);
    put_block(&f, 1, &data, sync_marker);
    char *path = write_file(&f);
    weir_container_reader_t *r = open_reader(path);
    step_t s = next(r);
    cr_assert_eq(s.rc, 1, "%s", s.detail);
    expect_stop(r, path, offset, "67108864 datums cannot fit in its 10 bytes");
    weir_container_reader_close(r);
    unlink(path);
    free(path);
    weir_buf_dispose(&f);
    weir_buf_dispose(&data);
}

Test(container, stops_when_a_block_runs_out_of_bytes_before_its_count)
{
    /* Eleven datums claimed, ten held: the count fits the bytes at the
     * smallest Transaction, but not once a few real ones are read. */
    weir_buf_t f, data;
    weir_buf_init(&f, 1 << 20);
    weir_buf_init(&data, 1 << 20);
    put_header(&f, NULL);
    size_t offset = f.len;
    tx_block(&data, 0, 10, -1);
    put_block(&f, 11, &data, sync_marker);
    char *path = write_file(&f);
    weir_container_reader_t *r = open_reader(path);
    int read = 0;
    while (next(r).rc == 1)
        read++;
    cr_assert(read > 0 && read < 10, "%d datums read", read);
    weir_container_reader_close(r);
    r = open_reader(path);
    for (int i = 0; i < read; i++)
        cr_assert_eq(next(r).rc, 1);
    char needle[64];
    snprintf(needle, sizeof(needle), "runs out of bytes: %d more datums", 11 - read);
    expect_stop(r, path, offset, needle);
    weir_container_reader_close(r);
    unlink(path);
    free(path);
    weir_buf_dispose(&f);
    weir_buf_dispose(&data);
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

Test(container, stops_at_deflate_bombs)
{
    /* 32 MiB of zeros in 32 KiB, claiming a million datums: they cannot fit. */
    size_t big = (size_t)65 << 20;
    uint8_t *zeros = calloc(big, 1);
    weir_buf_t f, data;
    weir_buf_init(&f, 1 << 20);
    weir_buf_init(&data, 1 << 27);
    cr_assert_not_null(zeros);
    put_header(&f, "deflate");
    size_t offset = f.len;
    deflate_into(&data, zeros, (size_t)32 << 20);
    cr_assert_lt(data.len, 40000);
    put_block(&f, 1000000, &data, sync_marker);
    char *path = write_file(&f);
    weir_container_reader_t *r = open_reader(path);
    expect_stop(r, path, offset, "1000000 datums cannot fit in its 33554432 bytes");
    weir_container_reader_close(r);
    unlink(path);
    free(path);

    /* Past the 64 MiB block cap. */
    weir_buf_reset(&f);
    put_header(&f, "deflate");
    deflate_into(&data, zeros, big);
    put_block(&f, 1, &data, sync_marker);
    path = write_file(&f);
    r = open_reader(path);
    expect_stop(r, path, offset, "inflates past 67108864 bytes");
    weir_container_reader_close(r);
    unlink(path);
    free(path);

    /* Ten thousand copies of a malformed Transaction compress to a few KiB:
     * the datums lost after the first are not believed. */
    weir_buf_t one;
    weir_buf_init(&one, 1 << 20);
    tx_block(&one, 0, 1, 0);
    weir_buf_reset(&f);
    put_header(&f, "deflate");
    weir_buf_t copies;
    weir_buf_init(&copies, 1 << 22);
    for (int i = 0; i < 10000; i++)
        weir_buf_append(&copies, one.data, one.len);
    deflate_into(&data, copies.data, copies.len);
    cr_assert_lt(data.len / 16, 9999);
    put_block(&f, 10000, &data, sync_marker);
    path = write_file(&f);
    r = open_reader(path);
    expect_stop(r, path, offset, "the 9999 datums the block claims after it are not believable");
    weir_container_reader_close(r);
    unlink(path);
    free(path);
    weir_buf_dispose(&copies);
    weir_buf_dispose(&one);
    free(zeros);
    weir_buf_dispose(&f);
    weir_buf_dispose(&data);
}

Test(container, skips_the_rest_of_a_compressed_block_after_a_bad_datum)
{
    /* The same loss in a block of ordinary compression is a bad datum. */
    weir_buf_t f, data, packed;
    weir_buf_init(&f, 1 << 20);
    weir_buf_init(&data, 1 << 20);
    weir_buf_init(&packed, 1 << 20);
    put_header(&f, "deflate");
    tx_block(&data, 0, 20, 3);
    deflate_into(&packed, data.data, data.len);
    put_block(&f, 20, &packed, sync_marker);
    tx_block(&data, 20, 1, -1);
    deflate_into(&packed, data.data, data.len);
    put_block(&f, 1, &packed, sync_marker);
    char *path = write_file(&f);
    weir_container_reader_t *r = open_reader(path);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(next(r).rc, 1);
    step_t s = next(r);
    cr_assert_eq(s.rc, WEIR_EDECODE, "%s", s.detail);
    cr_assert_eq(s.reason, WEIR_REASON_BAD_ENUM);
    cr_assert_eq(s.skipped, 16);
    s = next(r);
    cr_assert_eq(s.rc, 1, "%s", s.detail);
    cr_assert_str_eq(s.event_id, "tx-000020");
    cr_assert_eq(s.index, 20);
    cr_assert_eq(next(r).rc, 0);
    weir_container_reader_close(r);
    unlink(path);
    free(path);
    weir_buf_dispose(&packed);
    weir_buf_dispose(&f);
    weir_buf_dispose(&data);
}

Test(container, stops_at_a_block_of_no_datums_that_holds_bytes)
{
    weir_buf_t f, data, packed;
    weir_buf_init(&f, 1 << 20);
    weir_buf_init(&data, 1 << 20);
    weir_buf_init(&packed, 1 << 20);
    put_header(&f, NULL);
    size_t offset = f.len;
    tx_block(&data, 0, 1, -1);
    put_block(&f, 0, &data, sync_marker);
    char *path = write_file(&f);
    weir_container_reader_t *r = open_reader(path);
    char needle[64];
    snprintf(needle, sizeof(needle), "holds %zu bytes but no datums", data.len);
    expect_stop(r, path, offset, needle);
    weir_container_reader_close(r);
    unlink(path);
    free(path);

    weir_buf_reset(&f);
    put_header(&f, "deflate");
    offset = f.len;
    deflate_into(&packed, data.data, data.len);
    put_block(&f, 0, &packed, sync_marker);
    path = write_file(&f);
    r = open_reader(path);
    expect_stop(r, path, offset, needle);
    weir_container_reader_close(r);
    unlink(path);
    free(path);
    weir_buf_dispose(&packed);
    weir_buf_dispose(&f);
    weir_buf_dispose(&data);
}

Test(container, reads_a_schema_whose_datums_take_no_bytes_up_to_a_cap)
{
    static const char *empty = "{\"type\":\"record\",\"name\":\"Empty\",\"fields\":[]}";
    weir_buf_t f, none;
    weir_buf_init(&f, 1 << 20);
    weir_buf_init(&none, 16);
    put_header_with(&f, empty, NULL);
    put_block(&f, 3, &none, sync_marker);
    size_t offset = f.len;
    put_block(&f, 1025, &none, sync_marker);
    char *path = write_file(&f);
    weir_container_reader_t *r = open_reader(path);
    for (int i = 0; i < 3; i++) {
        avro_value_t *v = NULL;
        size_t len = 99, skipped = 99;
        weir_reason_t reason;
        char detail[DETAIL];
        cr_assert_eq(weir_container_reader_next(r, &v, NULL, &len, &skipped, &reason, detail,
                                                sizeof(detail)),
                     1, "%s", detail);
        cr_assert_eq(len, 0);
        cr_assert_eq(avro_value_get_type(v), AVRO_RECORD);
    }
    expect_stop(r, path, offset, "1025 datums cannot fit in its 0 bytes");
    weir_container_reader_close(r);
    unlink(path);
    free(path);
    weir_buf_dispose(&none);
    weir_buf_dispose(&f);
}

Test(container, passes_over_blocks_of_no_datums)
{
    weir_buf_t f, data, empty;
    weir_buf_init(&f, 1 << 20);
    weir_buf_init(&data, 1 << 20);
    weir_buf_init(&empty, 16);
    put_header(&f, "deflate");
    put_block(&f, 0, &empty, sync_marker);
    put_block(&f, 0, &empty, sync_marker);
    weir_buf_append(&empty, "\x03\x00", 2); /* deflate of no bytes */
    put_block(&f, 0, &empty, sync_marker);
    weir_buf_reset(&empty);
    char *path = write_file(&f);
    weir_container_reader_t *r = open_reader(path);
    cr_assert_eq(next(r).rc, 0);
    weir_container_reader_close(r);
    unlink(path);
    free(path);
    weir_buf_reset(&f);
    put_header(&f, NULL);
    put_block(&f, 0, &empty, sync_marker);
    tx_block(&data, 0, 1, -1);
    put_block(&f, 1, &data, sync_marker);
    path = write_file(&f);
    r = open_reader(path);
    step_t s = next(r);
    cr_assert_eq(s.rc, 1, "%s", s.detail);
    cr_assert_eq(s.index, 0);
    cr_assert_eq(next(r).rc, 0);
    weir_container_reader_close(r);
    unlink(path);
    free(path);
    weir_buf_dispose(&empty);
    weir_buf_dispose(&f);
    weir_buf_dispose(&data);
}

Test(container, stops_at_a_bad_sync_marker)
{
    weir_buf_t f, data;
    uint8_t wrong[16];
    memcpy(wrong, sync_marker, 16);
    wrong[7] ^= 0x40;
    weir_buf_init(&f, 1 << 20);
    weir_buf_init(&data, 1 << 20);
    put_header(&f, NULL);
    tx_block(&data, 0, 2, -1);
    put_block(&f, 2, &data, sync_marker);
    tx_block(&data, 2, 2, -1);
    put_block(&f, 2, &data, wrong);
    tx_block(&data, 4, 2, -1);
    put_block(&f, 2, &data, sync_marker);
    char *path = write_file(&f);
    weir_container_reader_t *r = open_reader(path);
    cr_assert_eq(next(r).rc, 1);
    cr_assert_eq(next(r).rc, 1);
    step_t s = next(r);
    cr_assert_eq(s.rc, WEIR_EIO);
    cr_assert(strstr(s.detail, "bad sync marker"), "%s", s.detail);
    cr_assert(strstr(s.detail, path), "%s", s.detail);
    s = next(r);
    cr_assert_eq(s.rc, WEIR_EIO, "reading stays stopped");
    weir_container_reader_close(r);
    unlink(path);
    free(path);
    weir_buf_dispose(&f);
    weir_buf_dispose(&data);
}

Test(container, stops_at_a_block_with_corrupt_deflate_data)
{
    weir_buf_t f, data;
    weir_buf_init(&f, 1 << 20);
    weir_buf_init(&data, 1 << 20);
    put_header(&f, "deflate");
    /* a stored (uncompressed) deflate block, then garbage as a second block */
    tx_block(&data, 0, 1, -1);
    weir_buf_t stored;
    weir_buf_init(&stored, 1 << 20);
    uint8_t head[5] = {0x01, (uint8_t)data.len, (uint8_t)(data.len >> 8), (uint8_t)~data.len,
                       (uint8_t)(~data.len >> 8)};
    weir_buf_append(&stored, head, 5);
    weir_buf_append(&stored, data.data, data.len);
    put_block(&f, 1, &stored, sync_marker);
    size_t offset = f.len;
    weir_buf_reset(&stored);
    weir_buf_append(&stored, "\xff\xff\xff\xff\xff\xff", 6);
    put_block(&f, 3, &stored, sync_marker);
    char *path = write_file(&f);
    weir_container_reader_t *r = open_reader(path);
    step_t s = next(r);
    cr_assert_eq(s.rc, 1, "%s", s.detail);
    expect_stop(r, path, offset, "bad deflate data");
    weir_container_reader_close(r);
    unlink(path);
    free(path);
    weir_buf_dispose(&stored);
    weir_buf_dispose(&f);
    weir_buf_dispose(&data);
}

Test(container, stops_at_a_truncated_block_and_an_absurd_count)
{
    weir_buf_t f, data;
    weir_buf_init(&f, 1 << 20);
    weir_buf_init(&data, 1 << 20);
    put_header(&f, NULL);
    tx_block(&data, 0, 2, -1);
    put_block(&f, 2, &data, sync_marker);
    size_t full = f.len;
    f.len -= 10;
    char *path = write_file(&f);
    weir_container_reader_t *r = open_reader(path);
    step_t s = next(r);
    cr_assert_eq(s.rc, WEIR_EIO);
    cr_assert(strstr(s.detail, "truncated"), "%s", s.detail);
    weir_container_reader_close(r);
    unlink(path);
    free(path);

    f.len = full;
    weir_avro_write_long(&f, -5);
    path = write_file(&f);
    r = open_reader(path);
    cr_assert_eq(next(r).rc, 1);
    cr_assert_eq(next(r).rc, 1);
    s = next(r);
    cr_assert_eq(s.rc, WEIR_EIO);
    cr_assert(strstr(s.detail, "claims -5 datums"), "%s", s.detail);
    weir_container_reader_close(r);
    unlink(path);
    free(path);
    weir_buf_dispose(&f);
    weir_buf_dispose(&data);
}

static void expect_open_error(const weir_buf_t *f, int code, const char *needle)
{
    char *path = write_file(f);
    weir_container_reader_t *r = NULL;
    char err[DETAIL] = "";
    cr_assert_eq(weir_container_reader_open(path, &r, err, sizeof(err)), code, "%s", err);
    cr_assert_null(r);
    cr_assert(strstr(err, needle), "\"%s\" lacks \"%s\"", err, needle);
    cr_assert(strstr(err, path), "%s", err);
    unlink(path);
    free(path);
}

Test(container, refuses_unreadable_headers_and_unknown_codecs)
{
    weir_buf_t f;
    weir_buf_init(&f, 1 << 20);
    weir_buf_append(&f, "PAR1", 4);
    expect_open_error(&f, WEIR_EIO, "not an Avro object container file");
    weir_buf_reset(&f);
    put_header(&f, "snappy");
    expect_open_error(&f, WEIR_EINVAL, "unsupported codec \"snappy\"");
    weir_buf_reset(&f);
    put_header(&f, NULL);
    f.len -= 20;
    expect_open_error(&f, WEIR_EIO, "truncated header");
    /* a header entry that claims 2^40 bytes */
    weir_buf_reset(&f);
    weir_buf_append(&f, "Obj\x01", 4);
    weir_avro_write_long(&f, 1);
    weir_avro_write_long(&f, INT64_C(1) << 40);
    expect_open_error(&f, WEIR_EIO, "header entry of 1099511627776 bytes");
    weir_buf_reset(&f);
    weir_buf_append(&f, "Obj\x01", 4);
    weir_avro_write_long(&f, 0);
    weir_buf_append(&f, sync_marker, 16);
    expect_open_error(&f, WEIR_EIO, "no avro.schema");
    /* schemas avro-c would crash on, or leak with */
    weir_buf_reset(&f);
    put_header_with(
        &f, "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"v\",\"type\":\"R\"}]}",
        NULL);
    expect_open_error(&f, WEIR_ESCHEMA, "record R contains itself");
    weir_buf_reset(&f);
    put_header_with(&f,
                    "[{\"type\":\"fixed\",\"name\":\"X\",\"size\":1},{\"type\":\"fixed\","
                    "\"name\":\"X\",\"size\":2}]",
                    NULL);
    expect_open_error(&f, WEIR_ESCHEMA, "the type X is defined twice");
    weir_buf_dispose(&f);

    weir_container_reader_t *r = NULL;
    char err[DETAIL];
    cr_assert_eq(weir_container_reader_open("/nonexistent.avro", &r, err, sizeof(err)), WEIR_EIO);
    cr_assert(strstr(err, "/nonexistent.avro"), "%s", err);
}

Test(container, writes_datums_of_no_bytes_in_blocks_it_reads_back)
{
    /* A block of empty records ends at the reader's cap, not at 64 KiB. */
    avro_schema_t schema = NULL;
    weir_container_writer_t *w = NULL;
    weir_container_reader_t *r = NULL;
    char err[DETAIL];
    char *path = temp_path();
    cr_assert_eq(weir_schema_parse("{\"type\":\"record\",\"name\":\"E\",\"fields\":[]}", &schema,
                                   err, sizeof(err)),
                 0, "%s", err);
    cr_assert_eq(weir_container_writer_open(path, schema, "deflate", &w, err, sizeof(err)), 0, "%s",
                 err);
    for (int i = 0; i < 3000; i++)
        cr_assert_eq(weir_container_writer_append(w, NULL, 0), 0);
    cr_assert_eq(weir_container_writer_close(w, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(count_blocks(path), 3);
    r = open_reader(path);
    int n = 0, rc;
    while ((rc = weir_container_reader_next(r, NULL, NULL, NULL, NULL, NULL, err, sizeof(err))) ==
           1)
        n++;
    cr_assert_eq(rc, 0, "%s", err);
    cr_assert_eq(n, 3000);
    weir_container_reader_close(r);
    avro_schema_decref(schema);
    unlink(path);
    free(path);
}
