/*
 * fuzz_range.c — a libFuzzer target for the range bounds of `weir replay`
 * and `weir profile` (--from, --to, topic:NAME@FROM..TO): any bytes, up to
 * the first NUL, as a bound (weir_source_parse_bound()) and as a time
 * (weir_source_parse_time()), disposed as the commands dispose them.
 *
 * What it holds to, by abort() (and LeakSanitizer for what a refusal keeps):
 * - a refusal is WEIR_EINVAL with a message that names the option;
 * - a bound of offsets names between 1 and WEIR_SOURCE_MAX_OFFSETS partitions,
 *   each with a partition and an offset that are not negative;
 * - a time written by weir_source_format_time() (years 0 to 9999) reads back
 *   as the same millisecond.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define YEAR_10000_MS INT64_C(253402300800000)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[1024], err[512];
    size_t n = size < sizeof(text) - 1 ? size : sizeof(text) - 1;
    memcpy(text, data, n);
    text[n] = '\0';
    weir_source_bound_t *bound = calloc(1, sizeof(*bound));
    if (!bound)
        return 0;
    err[0] = '\0';
    int rc = weir_source_parse_bound("--from", text, bound, err, sizeof(err));
    if (rc != 0 && (rc != WEIR_EINVAL || !strstr(err, "--from")))
        abort();
    if (rc == 0 && bound->is_offsets) {
        if (bound->n_offsets == 0 || bound->n_offsets > WEIR_SOURCE_MAX_OFFSETS)
            abort();
        for (size_t i = 0; i < bound->n_offsets; i++)
            if (bound->offsets[i].partition < 0 || bound->offsets[i].offset < 0)
                abort();
    }
    weir_source_bound_dispose(bound);
    weir_source_bound_dispose(bound); /* the commands may dispose twice */
    free(bound);

    int64_t ms, again;
    if (weir_source_parse_time(text, &ms) == 0 && ms >= 0 && ms < YEAR_10000_MS) {
        char written[64];
        weir_source_format_time(ms, written, sizeof(written));
        if (weir_source_parse_time(written, &again) != 0 || again != ms)
            abort();
    }
    return 0;
}
