/*
 * test_plan.c — the decoding plan (weir_decoder_read_fields()) against the
 * path it replaces (weir_decoder_decode() + weir_field_get()): the same
 * refusals with the same reasons and details, and the same field values, over
 * the decoder fuzz corpus and over every truncation and every single-byte
 * change of example transactions.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schemas.h"
#include "support.h"
#include "tx_example.h"

#define MAX_FIELDS 64

typedef struct {
    avro_schema_t schema;
    weir_decoder_t *raw, *confluent;
    weir_field_t fields[2 * MAX_FIELDS];
    size_t n_fields;
    weir_field_value_t values[2 * MAX_FIELDS];
    size_t compared, decoded;
} differ_t;

static void collect(differ_t *t, avro_schema_t record, char *path, size_t len, size_t depth)
{
    for (size_t i = 0; i < avro_schema_record_size(record) && t->n_fields < MAX_FIELDS; i++) {
        const char *name = avro_schema_record_field_name(record, (int)i);
        avro_schema_t type = avro_schema_record_field_get_by_index(record, (int)i);
        if (is_avro_link(type))
            type = avro_schema_link_target(type);
        size_t end = len + (len ? 1 : 0) + strlen(name);
        if (end + 1 > 512)
            continue;
        snprintf(path + len, 512 - len, "%s%s", len ? "." : "", name);
        if (is_avro_record(type) && depth + 1 < WEIR_FIELD_MAX_DEPTH) {
            collect(t, type, path, end, depth + 1);
        } else {
            char err[256];
            if (weir_field_resolve(t->schema, path, &t->fields[t->n_fields], err, sizeof(err)) == 0)
                t->n_fields++;
        }
        path[len] = '\0';
    }
}

/* 0 when the schema is not a record that compiles (nothing to compare). */
static int differ_init(differ_t *t, const char *json)
{
    char err[512];
    memset(t, 0, sizeof(*t));
    if (weir_schema_parse(json, &t->schema, err, sizeof(err)) != 0)
        return 0;
    cr_assert_eq(weir_decoder_new(WEIR_FRAMING_RAW, &t->raw), 0);
    cr_assert_eq(weir_decoder_new(WEIR_FRAMING_CONFLUENT, &t->confluent), 0);
    if (!is_avro_record(t->schema) ||
        weir_decoder_add_schema(t->raw, 0, t->schema, err, sizeof(err)) != 0)
        return 0;
    cr_assert_eq(weir_decoder_add_schema(t->confluent, 1, t->schema, err, sizeof(err)), 0);
    char path[512] = "";
    collect(t, t->schema, path, 0, 0);
    size_t n = t->n_fields;
    for (size_t i = 0; i < n; i++) /* each twice: one leaf filling two requested fields */
        t->fields[n + i] = t->fields[n - 1 - i];
    t->n_fields = 2 * n;
    cr_assert_eq(
        weir_decoder_plan_fields(t->raw, t->schema, t->fields, t->n_fields, err, sizeof(err)), 0,
        "%s", err);
    cr_assert_eq(
        weir_decoder_plan_fields(t->confluent, t->schema, t->fields, t->n_fields, err, sizeof(err)),
        0, "%s", err);
    return 1;
}

static void differ_dispose(differ_t *t)
{
    weir_decoder_destroy(t->raw);
    weir_decoder_destroy(t->confluent);
    if (t->schema)
        avro_schema_decref(t->schema);
}

static void compare(differ_t *t, int confluent, const uint8_t *value, size_t len)
{
    weir_decoder_t *d = confluent ? t->confluent : t->raw;
    weir_decoded_t g, p;
    weir_reason_t gr = WEIR_REASON__COUNT, pr = WEIR_REASON__COUNT;
    char gd[512] = "", pd[512] = "";
    int grc = weir_decoder_decode(d, value, len, &g, &gr, gd, sizeof(gd));
    int prc = weir_decoder_read_fields(d, value, len, &p, t->values, &pr, pd, sizeof(pd));
    t->compared++;
    cr_assert_eq(prc, grc, "plan %d, decode %d (\"%s\")", prc, grc, gd);
    cr_assert_eq(pr, gr, "plan %s, decode %s", weir_reason_name(pr), weir_reason_name(gr));
    cr_assert_str_eq(pd, gd);
    if (grc != 0)
        return;
    t->decoded++;
    cr_assert_null(p.value);
    cr_assert_eq(p.body, g.body);
    cr_assert_eq(p.body_len, g.body_len);
    for (size_t i = 0; i < t->n_fields; i++) {
        weir_value_t v;
        const weir_value_t *pv = &t->values[i].value;
        cr_assert_eq(weir_field_get(&t->fields[i], g.value, &v), 0);
        cr_assert_eq(pv->kind, v.kind, "field %zu", i);
        if (v.kind == WEIR_VALUE_NUMBER) {
            cr_assert_eq(memcmp(&pv->number, &v.number, sizeof(double)), 0, "field %zu", i);
            if (t->fields[i].leaf == AVRO_INT32 || t->fields[i].leaf == AVRO_INT64)
                cr_assert_eq((double)t->values[i].integer, v.number, "field %zu", i);
        }
        if (v.kind == WEIR_VALUE_STRING) {
            cr_assert_eq(pv->length, v.length, "field %zu", i);
            cr_assert_eq(memcmp(pv->string, v.string, v.length), 0, "field %zu", i);
        }
    }
}

Test(plan, refuses_and_reads_as_the_avro_c_path_over_the_decoder_fuzz_corpus)
{
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/fuzz/corpus/decode", WEIR_TESTS_DIR);
    DIR *dp = opendir(dir);
    cr_assert_not_null(dp, "%s", dir);
    size_t files = 0, compared = 0;
    struct dirent *e;
    while ((e = readdir(dp)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[2048];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        cr_assert_not_null(f, "%s", path);
        static uint8_t data[1 << 16];
        size_t size = fread(data, 1, sizeof(data), f);
        fclose(f);
        files++;
        const uint8_t *nul = memchr(data, 0, size);
        if (!nul || (size_t)(nul - data) + 1 >= size)
            continue;
        char *json = strndup((const char *)data, (size_t)(nul - data));
        differ_t t;
        if (differ_init(&t, json)) {
            const uint8_t *value = nul + 2;
            size_t len = size - (size_t)(value - data);
            compare(&t, nul[1] & 1, value, len);
            /* and every prefix of it, raw: truncations at every position */
            for (size_t cut = 0; cut < len && cut < 4096; cut++)
                compare(&t, 0, value, cut);
            compared += t.compared;
        }
        differ_dispose(&t);
        free(json);
    }
    closedir(dp);
    cr_assert_gt(files, 10);
    cr_assert_gt(compared, 100);
}

Test(plan, refuses_and_reads_as_the_avro_c_path_over_changed_transactions)
{
    differ_t t;
    cr_assert(differ_init(&t, weir_schema_text("transaction")));
    cr_assert_gt(t.n_fields, 20);
    for (int i = 0; i < 8; i++) {
        weir_buf_t b;
        tx_t tx;
        size_t offsets[TX_FIELDS];
        tx_example(&tx, i);
        weir_buf_init(&b, 1 << 20);
        cr_assert_eq(weir_framing_write(&b, WEIR_FRAMING_CONFLUENT, 1), 0);
        cr_assert_eq(tx_encode(&b, &tx, offsets), 0);
        compare(&t, 1, b.data, b.len);
        for (size_t cut = 0; cut < b.len; cut++)
            compare(&t, 1, b.data, cut);
        for (size_t at = 0; at < b.len; at++) {
            static const uint8_t changes[] = {0x00, 0x01, 0x02, 0x7f, 0x80, 0xff};
            uint8_t saved = b.data[at];
            for (size_t c = 0; c < sizeof(changes); c++) {
                b.data[at] = changes[c];
                compare(&t, 1, b.data, b.len);
            }
            b.data[at] = saved;
        }
        weir_buf_dispose(&b);
    }
    cr_assert_gt(t.decoded, 100);
    differ_dispose(&t);
}

Test(plan, refuses_fields_of_another_schema)
{
    differ_t t;
    cr_assert(differ_init(&t, weir_schema_text("transaction")));
    avro_schema_t other = NULL;
    char err[256];
    cr_assert_eq(weir_schema_parse("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":"
                                   "\"x\",\"type\":\"int\"}]}",
                                   &other, err, sizeof(err)),
                 0);
    int rc = weir_decoder_plan_fields(t.raw, other, t.fields, 1, err, sizeof(err));
    cr_assert_eq(rc, WEIR_EINVAL);
    avro_schema_decref(other);
    differ_dispose(&t);
}
