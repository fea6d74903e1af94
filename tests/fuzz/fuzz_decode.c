/*
 * fuzz_decode.c — a libFuzzer target for weir_decoder_decode(): any bytes as
 * a Confluent-framed Kafka value against the Transaction schema (registered
 * as id 1), then every field read through weir_field_get(). A refusal must
 * carry a dead-letter reason and a detail; anything else aborts, which is
 * what a fuzzer reports.
 *
 * With clang and libFuzzer:
 *
 *     clang -g -O1 -fsanitize=fuzzer,address,undefined -I schemas -I common \
 *         tests/fuzz/fuzz_decode.c schemas/check.c schemas/reader.c \
 *         schemas/field.c schemas/encode.c schemas/container.c common/common.c \
 *         build/generated/schemas_embedded.c -lavro -lz -o fuzz_decode
 *     ./fuzz_decode -max_len=4096 corpus/
 *
 * Built with -DWEIR_FUZZ_MAIN it is a plain program that runs the target over
 * the files named on its command line (to replay a crash without libFuzzer).
 * tests/schemas/test_fuzz_smoke.c includes this file and drives the same
 * entry point with mutated transactions on every ctest run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schemas.h"

#define FUZZ_SCHEMA_ID 1

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int weir_fuzz_decode(const uint8_t *data, size_t size, weir_reason_t *reason, char *detail,
                     size_t detailsz);
void weir_fuzz_teardown(void);

static weir_decoder_t *fuzz_decoder;
static weir_field_t fuzz_fields[64];
static size_t fuzz_n_fields;

static void fuzz_setup(void)
{
    avro_schema_t schema = NULL;
    char err[256];
    if (fuzz_decoder)
        return;
    if (weir_schema_parse(weir_schema_text("transaction"), &schema, err, sizeof(err)) != 0 ||
        weir_decoder_new(WEIR_FRAMING_CONFLUENT, &fuzz_decoder) != 0 ||
        weir_decoder_add_schema(fuzz_decoder, FUZZ_SCHEMA_ID, schema, err, sizeof(err)) != 0) {
        fprintf(stderr, "fuzz_decode: setup failed: %s\n", err);
        abort();
    }
    size_t n = avro_schema_record_size(schema);
    for (size_t i = 0; i < n && fuzz_n_fields < sizeof(fuzz_fields) / sizeof(fuzz_fields[0]); i++) {
        const char *name = avro_schema_record_field_name(schema, (int)i);
        if (weir_field_resolve(schema, name, &fuzz_fields[fuzz_n_fields], err, sizeof(err)) == 0)
            fuzz_n_fields++;
    }
    avro_schema_decref(schema);
}

void weir_fuzz_teardown(void)
{
    weir_decoder_destroy(fuzz_decoder);
    fuzz_decoder = NULL;
    fuzz_n_fields = 0;
}

/* Decodes one value and reads every field of what decodes. Returns the
 * decoder's result; aborts on a broken contract. */
int weir_fuzz_decode(const uint8_t *data, size_t size, weir_reason_t *reason, char *detail,
                     size_t detailsz)
{
    weir_decoded_t out;
    fuzz_setup();
    *reason = WEIR_REASON__COUNT;
    int rc = weir_decoder_decode(fuzz_decoder, data, size, &out, reason, detail, detailsz);
    if (rc == 0) {
        if (*reason != WEIR_REASON_NONE || out.body_len + 5 != size)
            abort();
        for (size_t i = 0; i < fuzz_n_fields; i++) {
            weir_value_t v;
            if (weir_field_get(&fuzz_fields[i], out.value, &v) != 0)
                abort();
            if (v.kind == WEIR_VALUE_STRING && v.length > 0 && !v.string)
                abort();
        }
    } else if (rc != WEIR_EDECODE || *reason <= WEIR_REASON_NONE || *reason >= WEIR_REASON__COUNT ||
               !detail[0]) {
        abort();
    }
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    weir_reason_t reason;
    char detail[512];
    weir_fuzz_decode(data, size, &reason, detail, sizeof(detail));
    return 0;
}

#ifdef WEIR_FUZZ_MAIN
int main(int argc, char **argv)
{
    static uint8_t buf[1 << 20];
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            perror(argv[i]);
            return 1;
        }
        size_t n = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, n);
    }
    weir_fuzz_teardown();
    return 0;
}
#endif
