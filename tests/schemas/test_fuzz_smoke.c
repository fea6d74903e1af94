/*
 * test_fuzz_smoke.c — a fixed-seed mutation pass over the decoder on every
 * ctest run: valid Confluent-framed transactions mutated by a seeded PRNG
 * (bit flips, truncations, insertions, varint splices, overlong varint runs)
 * for WEIR_FUZZ_ITERATIONS rounds (default 200000), each decoded and, when it
 * decodes, every field read through weir_field_get(). Nothing may crash (the
 * sanitizer build is where this pays), every refusal must carry a reason and a
 * detail, no datum the checker passes may be refused by avro-c, and the
 * mutations must reach every refusal of the checker. A second suite does the
 * same for a schema with arrays, maps, fixed, enums and recursion, straight
 * through weir_reader_read(). Coverage-guided fuzzing of the same code, with
 * schemas taken from the input too, is tests/fuzz/fuzz_decode.c
 * (scripts/fuzz.sh); this pass is the part that runs without clang.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "schemas.h"
#include "tx_example.h"

#define SMOKE_SCHEMA_ID 1

static weir_decoder_t *smoke_decoder;
static weir_field_t smoke_fields[64];
static size_t smoke_n_fields;

static void decoder_setup(void)
{
    avro_schema_t schema = NULL;
    char err[256];
    cr_assert_eq(weir_schema_parse(weir_schema_text("transaction"), &schema, err, sizeof(err)), 0,
                 "%s", err);
    cr_assert_eq(weir_decoder_new(WEIR_FRAMING_CONFLUENT, &smoke_decoder), 0);
    cr_assert_eq(weir_decoder_add_schema(smoke_decoder, SMOKE_SCHEMA_ID, schema, err, sizeof(err)),
                 0, "%s", err);
    size_t n = avro_schema_record_size(schema);
    for (size_t i = 0; i < n && smoke_n_fields < sizeof(smoke_fields) / sizeof(smoke_fields[0]);
         i++) {
        const char *name = avro_schema_record_field_name(schema, (int)i);
        cr_assert_eq(
            weir_field_resolve(schema, name, &smoke_fields[smoke_n_fields], err, sizeof(err)), 0,
            "%s", err);
        smoke_n_fields++;
    }
    avro_schema_decref(schema);
}

/* Decodes one value and reads every field of what decodes. */
static int decode_and_read(const uint8_t *data, size_t size, weir_reason_t *reason, char *detail,
                           size_t detailsz)
{
    weir_decoded_t out;
    *reason = WEIR_REASON__COUNT;
    int rc = weir_decoder_decode(smoke_decoder, data, size, &out, reason, detail, detailsz);
    if (rc == 0) {
        cr_assert_eq(*reason, WEIR_REASON_NONE);
        cr_assert_eq(out.body_len + 5, size);
        for (size_t i = 0; i < smoke_n_fields; i++) {
            weir_value_t v;
            cr_assert_eq(weir_field_get(&smoke_fields[i], out.value, &v), 0);
            cr_assert(v.kind != WEIR_VALUE_STRING || v.length == 0 || v.string);
        }
    }
    return rc;
}

#define MAX_INPUT 4096

typedef struct {
    uint64_t state;
} prng_t;

static uint64_t prng_next(prng_t *p)
{
    /* splitmix64 */
    uint64_t z = (p->state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static size_t prng_below(prng_t *p, size_t n)
{
    return n ? (size_t)(prng_next(p) % n) : 0;
}

static long iterations(void)
{
    const char *env = getenv("WEIR_FUZZ_ITERATIONS");
    long n = env ? strtol(env, NULL, 10) : 200000;
    return n > 0 ? n : 200000;
}

/* Values that sit on the checker's edges, spliced in as varints. */
static const int64_t interesting[] = {
    0,
    1,
    -1,
    2,
    3,
    4,
    5,
    63,
    64,
    -64,
    -65,
    127,
    128,
    INT32_MAX,
    INT32_MIN,
    INT64_MAX,
    INT64_MIN,
    1LL << 31,
    -(1LL << 31) - 1,
    1LL << 62,
    -(1LL << 62),
    (1 << 20),
    (1 << 20) + 1,
    -(1 << 20),
    16777216,
    16777217,
    4096,
};

static void splice(uint8_t *buf, size_t *len, size_t at, size_t remove, const uint8_t *ins,
                   size_t n)
{
    if (at > *len)
        at = *len;
    if (remove > *len - at)
        remove = *len - at;
    if (*len - remove + n > MAX_INPUT)
        return;
    memmove(buf + at + n, buf + at + remove, *len - at - remove);
    memcpy(buf + at, ins, n);
    *len = *len - remove + n;
}

static void mutate(prng_t *p, uint8_t *buf, size_t *len)
{
    int rounds = 1 + (int)prng_below(p, 3);
    for (int r = 0; r < rounds; r++) {
        size_t at = prng_below(p, *len + 1);
        switch (prng_below(p, 7)) {
        case 0: /* bit flip */
            if (*len)
                buf[prng_below(p, *len)] ^= (uint8_t)(1u << prng_below(p, 8));
            break;
        case 1: /* truncation */
            *len = prng_below(p, *len + 1);
            break;
        case 2: { /* insertion of random bytes */
            uint8_t ins[8];
            size_t n = 1 + prng_below(p, sizeof(ins));
            for (size_t i = 0; i < n; i++)
                ins[i] = (uint8_t)prng_next(p);
            splice(buf, len, at, 0, ins, n);
            break;
        }
        case 3:   /* varint splice over what was there */
        case 4: { /* varint splice, weighted: lengths and counts live here */
            weir_buf_t v;
            int64_t value =
                prng_below(p, 4) == 0
                    ? (int64_t)prng_next(p)
                    : interesting[prng_below(p, sizeof(interesting) / sizeof(interesting[0]))];
            weir_buf_init(&v, 16);
            weir_avro_write_long(&v, value);
            splice(buf, len, at, prng_below(p, 4), v.data, v.len);
            weir_buf_dispose(&v);
            break;
        }
        case 5: { /* overlong or unterminated varint run */
            uint8_t run[12];
            size_t n = 1 + prng_below(p, sizeof(run));
            memset(run, prng_below(p, 2) ? 0xff : 0x80, n);
            splice(buf, len, at, prng_below(p, 2), run, n);
            break;
        }
        default: /* byte overwrite */
            if (*len)
                buf[prng_below(p, *len)] = (uint8_t)prng_next(p);
            break;
        }
    }
}

Test(fuzz_smoke, mutated_transactions_never_crash_and_refusals_carry_reasons)
{
    enum { POOL = 32 };
    uint8_t seeds[POOL][MAX_INPUT];
    size_t seed_len[POOL];
    weir_buf_t b;
    prng_t p = {.state = 20240607};
    long counts[WEIR_REASON__COUNT + 1] = {0};
    long accepted = 0;
    long n = iterations();
    weir_buf_init(&b, MAX_INPUT);
    decoder_setup();
    for (int i = 0; i < POOL; i++) {
        tx_t t;
        tx_example(&t, i * 7);
        weir_buf_reset(&b);
        weir_framing_write(&b, WEIR_FRAMING_CONFLUENT, SMOKE_SCHEMA_ID);
        cr_assert_eq(tx_encode(&b, &t, NULL), 0);
        memcpy(seeds[i], b.data, b.len);
        seed_len[i] = b.len;
    }
    for (long it = 0; it < n; it++) {
        uint8_t buf[MAX_INPUT];
        size_t pick = prng_below(&p, POOL);
        size_t len = seed_len[pick];
        weir_reason_t reason;
        char detail[512] = "";
        memcpy(buf, seeds[pick], len);
        mutate(&p, buf, &len);
        int rc = decode_and_read(buf, len, &reason, detail, sizeof(detail));
        if (rc == 0) {
            accepted++;
            continue;
        }
        cr_assert_eq(rc, WEIR_EDECODE);
        cr_assert(reason > WEIR_REASON_NONE && reason < WEIR_REASON__COUNT,
                  "iteration %ld: no reason", it);
        cr_assert(detail[0], "iteration %ld: no detail", it);
        cr_assert_neq(reason, WEIR_REASON_DECODE,
                      "iteration %ld: avro-c refused what the checker passed: %s", it, detail);
        counts[reason]++;
    }
    cr_log_info("%ld iterations: %ld accepted, refused: truncated %ld, bad_length %ld, "
                "bad_union %ld, bad_enum %ld, trailing %ld, framing %ld, unknown id %ld, "
                "invalid %ld, too_large %ld",
                n, accepted, counts[WEIR_REASON_TRUNCATED], counts[WEIR_REASON_BAD_LENGTH],
                counts[WEIR_REASON_BAD_UNION], counts[WEIR_REASON_BAD_ENUM],
                counts[WEIR_REASON_TRAILING_BYTES], counts[WEIR_REASON_BAD_FRAMING],
                counts[WEIR_REASON_UNKNOWN_SCHEMA], counts[WEIR_REASON_INVALID_VALUE],
                counts[WEIR_REASON_TOO_LARGE]);
    /* The mutations reach the checker's refusals, not just the framing. */
    cr_assert_gt(accepted, 0);
    cr_assert_gt(counts[WEIR_REASON_TRUNCATED], 0);
    cr_assert_gt(counts[WEIR_REASON_BAD_LENGTH], 0);
    cr_assert_gt(counts[WEIR_REASON_BAD_UNION], 0);
    cr_assert_gt(counts[WEIR_REASON_BAD_ENUM], 0);
    cr_assert_gt(counts[WEIR_REASON_TRAILING_BYTES], 0);
    cr_assert_gt(counts[WEIR_REASON_BAD_FRAMING], 0);
    cr_assert_gt(counts[WEIR_REASON_INVALID_VALUE], 0);
    weir_buf_dispose(&b);
    weir_decoder_destroy(smoke_decoder);
}

/* ------------------------------------------------------------------ */
/* Collections, fixed, enums and recursion                             */

static const char *document =
    "{\"type\":\"record\",\"name\":\"Doc\",\"fields\":["
    "{\"name\":\"id\",\"type\":\"long\"},"
    "{\"name\":\"tags\",\"type\":{\"type\":\"array\",\"items\":\"string\"}},"
    "{\"name\":\"attrs\",\"type\":{\"type\":\"map\",\"values\":[\"null\",\"double\",\"Doc\"]}},"
    "{\"name\":\"kind\",\"type\":{\"type\":\"enum\",\"name\":\"Kind\",\"symbols\":"
    "[\"a\",\"b\",\"c\"]}},"
    "{\"name\":\"hash\",\"type\":{\"type\":\"fixed\",\"name\":\"H\",\"size\":8}},"
    "{\"name\":\"flags\",\"type\":{\"type\":\"array\",\"items\":\"boolean\"}},"
    "{\"name\":\"nothing\",\"type\":{\"type\":\"array\",\"items\":\"null\"}},"
    "{\"name\":\"blob\",\"type\":\"bytes\"},"
    "{\"name\":\"child\",\"type\":[\"null\",\"Doc\"]}]}";

static void write_doc(prng_t *p, weir_buf_t *b, int depth)
{
    weir_avro_write_long(b, (int64_t)prng_next(p));
    size_t tags = prng_below(p, 4);
    if (tags) {
        /* a negative count with its byte size, as some writers do */
        if (prng_below(p, 2)) {
            weir_buf_t items;
            weir_buf_init(&items, 1024);
            for (size_t i = 0; i < tags; i++)
                weir_avro_write_string(&items, "tag", 1 + prng_below(p, 3));
            weir_avro_write_long(b, -(int64_t)tags);
            weir_avro_write_long(b, (int64_t)items.len);
            weir_buf_append(b, items.data, items.len);
            weir_buf_dispose(&items);
        } else {
            weir_avro_write_long(b, (int64_t)tags);
            for (size_t i = 0; i < tags; i++)
                weir_avro_write_string(b, "label", 1 + prng_below(p, 5));
        }
    }
    weir_avro_write_long(b, 0);
    size_t attrs = prng_below(p, 3);
    if (attrs) {
        weir_avro_write_long(b, (int64_t)attrs);
        for (size_t i = 0; i < attrs; i++) {
            char key[2] = {(char)('a' + i), 0};
            size_t branch = depth < 2 ? prng_below(p, 3) : prng_below(p, 2);
            weir_avro_write_string(b, key, 1);
            weir_avro_write_long(b, (int64_t)branch);
            if (branch == 1)
                weir_avro_write_double(b, 0.5 * (double)i);
            else if (branch == 2)
                write_doc(p, b, depth + 1);
        }
    }
    weir_avro_write_long(b, 0);
    weir_avro_write_long(b, (int64_t)prng_below(p, 3));
    weir_buf_append(b, "01234567", 8);
    size_t flags = prng_below(p, 5);
    if (flags) {
        weir_avro_write_long(b, (int64_t)flags);
        for (size_t i = 0; i < flags; i++)
            weir_avro_write_boolean(b, (int)prng_below(p, 2));
    }
    weir_avro_write_long(b, 0);
    size_t nothing = prng_below(p, 3);
    if (nothing)
        weir_avro_write_long(b, (int64_t)nothing);
    weir_avro_write_long(b, 0);
    weir_avro_write_string(b, "\x00\x01\x02\x03", prng_below(p, 5));
    int child = depth < 3 && prng_below(p, 2);
    weir_avro_write_long(b, child);
    if (child)
        write_doc(p, b, depth + 1);
}

Test(fuzz_smoke, mutated_collections_and_recursion_never_crash)
{
    enum { POOL = 32 };
    static uint8_t seeds[POOL][MAX_INPUT];
    size_t seed_len[POOL];
    prng_t p = {.state = 7};
    avro_schema_t schema = NULL;
    weir_reader_t *r = NULL;
    weir_buf_t b;
    char err[256];
    long accepted = 0, refused = 0;
    long n = iterations() / 4;
    cr_assert_eq(weir_schema_parse(document, &schema, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(weir_reader_new(schema, &r, err, sizeof(err)), 0, "%s", err);
    weir_buf_init(&b, MAX_INPUT);
    for (int i = 0; i < POOL; i++) {
        weir_reason_t reason;
        weir_buf_reset(&b);
        write_doc(&p, &b, 0);
        cr_assert_lt(b.len, MAX_INPUT);
        cr_assert_eq(weir_reader_check(r, b.data, b.len, 1, NULL, &reason, err, sizeof(err)), 0,
                     "seed %d: %s", i, err);
        memcpy(seeds[i], b.data, b.len);
        seed_len[i] = b.len;
    }
    for (long it = 0; it < n; it++) {
        uint8_t buf[MAX_INPUT];
        size_t pick = prng_below(&p, POOL);
        size_t len = seed_len[pick];
        size_t consumed = 0;
        avro_value_t *value = NULL;
        weir_reason_t reason = WEIR_REASON__COUNT;
        char detail[512] = "";
        int exact = (int)(it & 1);
        memcpy(buf, seeds[pick], len);
        mutate(&p, buf, &len);
        int rc = weir_reader_read(r, buf, len, exact, &value, &consumed, &reason, detail,
                                  sizeof(detail));
        if (rc == 0) {
            cr_assert_eq(reason, WEIR_REASON_NONE);
            cr_assert_leq(consumed, len);
            cr_assert(!exact || consumed == len);
            accepted++;
            continue;
        }
        cr_assert_eq(rc, WEIR_EDECODE);
        cr_assert(reason > WEIR_REASON_NONE && reason < WEIR_REASON__COUNT,
                  "iteration %ld: no reason", it);
        cr_assert(detail[0], "iteration %ld: no detail", it);
        cr_assert_neq(reason, WEIR_REASON_DECODE,
                      "iteration %ld: avro-c refused what the checker passed: %s", it, detail);
        refused++;
    }
    cr_log_info("%ld iterations: %ld accepted, %ld refused", n, accepted, refused);
    cr_assert_gt(accepted, 0);
    cr_assert_gt(refused, 0);
    weir_buf_dispose(&b);
    weir_reader_destroy(r);
    avro_schema_decref(schema);
}
