/*
 * avro_walk.h — for the fuzz harnesses that decode Avro: reads every part of
 * an avro-c value the way a consumer of it would (every field, item, entry,
 * branch, string and byte), and aborts when the value does not have the shape
 * its own schema says. Strings and bytes are summed byte by byte, so that
 * AddressSanitizer sees a read of every byte the value claims to hold.
 */
#ifndef WEIR_FUZZ_AVRO_WALK_H
#define WEIR_FUZZ_AVRO_WALK_H

#include <avro.h>
#include <stdint.h>
#include <stdlib.h>

/* Kept so that the reads cannot be optimised away. */
static volatile uint64_t avro_walk_sum;

static void avro_walk_bytes(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint64_t sum = 0;
    if (n > 0 && !p)
        abort();
    for (size_t i = 0; i < n; i++)
        sum += b[i];
    avro_walk_sum += sum;
}

static void avro_walk(avro_value_t *v, unsigned depth)
{
    avro_schema_t schema = avro_value_get_schema(v);
    size_t n = 0;
    if (depth > 2 * 64 + 2 || !schema)
        abort();
    switch (avro_value_get_type(v)) {
    case AVRO_STRING: {
        const char *s = NULL;
        if (avro_value_get_string(v, &s, &n) != 0 || !s)
            abort();
        /* avro-c counts the terminating NUL in the size. */
        if (n == 0 || s[n - 1] != '\0')
            abort();
        avro_walk_bytes(s, n);
        break;
    }
    case AVRO_BYTES: {
        const void *b = NULL;
        if (avro_value_get_bytes(v, &b, &n) != 0)
            abort();
        avro_walk_bytes(b, n);
        break;
    }
    case AVRO_FIXED: {
        const void *b = NULL;
        if (avro_value_get_fixed(v, &b, &n) != 0 || (int64_t)n != avro_schema_fixed_size(schema))
            abort();
        avro_walk_bytes(b, n);
        break;
    }
    case AVRO_ENUM: {
        int symbol = -1;
        if (avro_value_get_enum(v, &symbol) != 0 || symbol < 0 ||
            symbol >= avro_schema_enum_number_of_symbols(schema) ||
            !avro_schema_enum_get(schema, symbol))
            abort();
        break;
    }
    case AVRO_RECORD:
    case AVRO_ARRAY:
    case AVRO_MAP:
        if (avro_value_get_size(v, &n) != 0)
            abort();
        if (avro_value_get_type(v) == AVRO_RECORD && n != avro_schema_record_size(schema))
            abort();
        for (size_t i = 0; i < n; i++) {
            avro_value_t child;
            const char *name = NULL;
            if (avro_value_get_by_index(v, i, &child, &name) != 0)
                abort();
            if (avro_value_get_type(v) != AVRO_ARRAY && !name)
                abort();
            avro_walk(&child, depth + 1);
        }
        break;
    case AVRO_UNION: {
        int branch = -1;
        avro_value_t current;
        if (avro_value_get_discriminant(v, &branch) != 0 || branch < 0 ||
            (size_t)branch >= avro_schema_union_size(schema) ||
            avro_value_get_current_branch(v, &current) != 0)
            abort();
        avro_walk(&current, depth + 1);
        break;
    }
    case AVRO_INT32: {
        int32_t x;
        if (avro_value_get_int(v, &x) != 0)
            abort();
        avro_walk_sum += (uint64_t)x;
        break;
    }
    case AVRO_INT64: {
        int64_t x;
        if (avro_value_get_long(v, &x) != 0)
            abort();
        avro_walk_sum += (uint64_t)x;
        break;
    }
    case AVRO_FLOAT: {
        float x;
        if (avro_value_get_float(v, &x) != 0)
            abort();
        break;
    }
    case AVRO_DOUBLE: {
        double x;
        if (avro_value_get_double(v, &x) != 0)
            abort();
        break;
    }
    case AVRO_BOOLEAN: {
        int x;
        if (avro_value_get_boolean(v, &x) != 0 || (x != 0 && x != 1))
            abort();
        break;
    }
    case AVRO_NULL:
        if (avro_value_get_null(v) != 0)
            abort();
        break;
    default:
        abort();
    }
}

#endif
