/*
 * field.c — dotted field paths: resolved once against a record schema into
 * field indexes, then read from each decoded value without a lookup by name
 * and without allocating (strings and enum symbols are borrowed).
 *
 * A path goes through nested records ("card.country"); its leaf is a number,
 * boolean, string or enum, or a union of null and one of them, which is what
 * the feature transforms can take. Anything else is refused at resolve time
 * with the component at fault named, so a bad bundle fails at start-up rather
 * than per record.
 */
#include "schemas_int.h"

#include <string.h>

static avro_schema_t resolve_link(avro_schema_t s)
{
    return is_avro_link(s) ? avro_schema_link_target(s) : s;
}

static int is_leaf_type(avro_type_t t)
{
    switch (t) {
    case AVRO_INT32:
    case AVRO_INT64:
    case AVRO_FLOAT:
    case AVRO_DOUBLE:
    case AVRO_BOOLEAN:
    case AVRO_STRING:
    case AVRO_ENUM:
        return 1;
    default:
        return 0;
    }
}

/* "an array", "a double", "a union": for messages. */
static const char *describe(avro_schema_t s)
{
    switch (avro_typeof(s)) {
    case AVRO_STRING:
        return "a string";
    case AVRO_BYTES:
        return "bytes";
    case AVRO_INT32:
        return "an int";
    case AVRO_INT64:
        return "a long";
    case AVRO_FLOAT:
        return "a float";
    case AVRO_DOUBLE:
        return "a double";
    case AVRO_BOOLEAN:
        return "a boolean";
    case AVRO_NULL:
        return "null";
    case AVRO_RECORD:
        return "a record";
    case AVRO_ENUM:
        return "an enum";
    case AVRO_FIXED:
        return "a fixed";
    case AVRO_MAP:
        return "a map";
    case AVRO_ARRAY:
        return "an array";
    case AVRO_UNION:
        return "a union";
    default:
        return "an unknown type";
    }
}

/* For a union of null and one leaf type (in either order), the non-null branch. */
static avro_schema_t nullable_leaf(avro_schema_t u)
{
    avro_schema_t leaf = NULL;
    if (avro_schema_union_size(u) == 2) {
        avro_schema_t a = resolve_link(avro_schema_union_branch(u, 0));
        avro_schema_t b = resolve_link(avro_schema_union_branch(u, 1));
        if (is_avro_null(a) && is_leaf_type(avro_typeof(b)))
            leaf = b;
        else if (is_avro_null(b) && is_leaf_type(avro_typeof(a)))
            leaf = a;
    }
    return leaf;
}

int weir_field_resolve(avro_schema_t record, const char *dotted, weir_field_t *out, char *err,
                       size_t errsz)
{
    int rc = 0;
    avro_schema_t current = record ? resolve_link(record) : NULL;
    const char *p = dotted;
    memset(out, 0, sizeof(*out));
    if (!dotted || !*dotted) {
        rc = weir_seterr(err, errsz, WEIR_ESCHEMA, "empty field name");
        goto out;
    }
    if (!is_avro_record(current)) {
        rc = weir_seterr(err, errsz, WEIR_ESCHEMA, "field \"%s\": the schema is not a record",
                         dotted);
        goto out;
    }
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        char name[256];
        if (n == 0 || n >= sizeof(name)) {
            rc = weir_seterr(err, errsz, WEIR_ESCHEMA, "field \"%s\": bad component \"%.*s\"",
                             dotted, (int)(n > 64 ? 64 : n), p);
            goto out;
        }
        if (out->depth == WEIR_FIELD_MAX_DEPTH) {
            rc = weir_seterr(err, errsz, WEIR_ESCHEMA, "field \"%s\": more than %d components",
                             dotted, WEIR_FIELD_MAX_DEPTH);
            goto out;
        }
        memcpy(name, p, n);
        name[n] = '\0';
        int index = avro_schema_record_field_get_index(current, name);
        if (index < 0) {
            rc = weir_seterr(err, errsz, WEIR_ESCHEMA, "no field \"%s\" in record %s", name,
                             avro_schema_name(current));
            goto out;
        }
        out->index[out->depth++] = (size_t)index;
        avro_schema_t type = resolve_link(avro_schema_record_field_get_by_index(current, index));
        if (dot) {
            if (!is_avro_record(type)) {
                rc = weir_seterr(err, errsz, WEIR_ESCHEMA, "field \"%s\" is %s: not a record", name,
                                 describe(type));
                goto out;
            }
            current = type;
            p = dot + 1;
            continue;
        }
        if (is_avro_union(type)) {
            avro_schema_t leaf = nullable_leaf(type);
            if (!leaf) {
                rc = weir_seterr(err, errsz, WEIR_ESCHEMA,
                                 "field \"%s\" is a union: only null and one primitive or "
                                 "enum are supported",
                                 name);
                goto out;
            }
            out->nullable = 1;
            out->leaf = avro_typeof(leaf);
        } else if (is_leaf_type(avro_typeof(type))) {
            out->leaf = avro_typeof(type);
        } else {
            rc = weir_seterr(err, errsz, WEIR_ESCHEMA, "field \"%s\" is %s: not a primitive", name,
                             describe(type));
            goto out;
        }
        break;
    }
out:
    if (rc)
        memset(out, 0, sizeof(*out));
    return rc;
}

int weir_field_get(const weir_field_t *f, avro_value_t *record, weir_value_t *out)
{
    int rc = 0;
    avro_value_t current = *record;
    avro_value_t next;
    memset(out, 0, sizeof(*out));
    out->kind = WEIR_VALUE_MISSING;
    for (size_t i = 0; i < f->depth; i++) {
        if (avro_value_get_by_index(&current, f->index[i], &next, NULL) != 0) {
            rc = WEIR_ETYPE;
            goto out;
        }
        current = next;
    }
    if (f->nullable) {
        if (avro_value_get_type(&current) != AVRO_UNION ||
            avro_value_get_current_branch(&current, &next) != 0) {
            rc = WEIR_ETYPE;
            goto out;
        }
        current = next;
        if (avro_value_get_type(&current) == AVRO_NULL)
            goto out;
    }
    if (avro_value_get_type(&current) != f->leaf) {
        rc = WEIR_ETYPE;
        goto out;
    }
    switch (f->leaf) {
    case AVRO_INT32: {
        int32_t v = 0;
        rc = avro_value_get_int(&current, &v);
        out->number = v;
        break;
    }
    case AVRO_INT64: {
        int64_t v = 0;
        rc = avro_value_get_long(&current, &v);
        out->number = (double)v;
        break;
    }
    case AVRO_FLOAT: {
        float v = 0;
        rc = avro_value_get_float(&current, &v);
        out->number = v;
        break;
    }
    case AVRO_DOUBLE:
        rc = avro_value_get_double(&current, &out->number);
        break;
    case AVRO_BOOLEAN: {
        int v = 0;
        rc = avro_value_get_boolean(&current, &v);
        out->number = v ? 1.0 : 0.0;
        break;
    }
    case AVRO_STRING: {
        const char *s = NULL;
        size_t size = 0;
        rc = avro_value_get_string(&current, &s, &size);
        /* avro-c counts the terminating NUL in a string's size. */
        out->string = s ? s : "";
        out->length = size > 0 ? size - 1 : 0;
        break;
    }
    case AVRO_ENUM: {
        int symbol = 0;
        avro_schema_t schema = avro_value_get_schema(&current);
        rc = avro_value_get_enum(&current, &symbol);
        /* avro_schema_enum_get() does not check its index. */
        int symbols = schema ? avro_schema_enum_number_of_symbols(schema) : 0;
        const char *name = rc == 0 && symbol >= 0 && symbol < symbols
                               ? avro_schema_enum_get(schema, symbol)
                               : NULL;
        if (!name) {
            rc = WEIR_ETYPE;
            break;
        }
        out->string = name;
        out->length = strlen(name);
        break;
    }
    default:
        rc = WEIR_ETYPE;
        break;
    }
    if (rc) {
        rc = WEIR_ETYPE;
        goto out;
    }
    out->kind =
        f->leaf == AVRO_STRING || f->leaf == AVRO_ENUM ? WEIR_VALUE_STRING : WEIR_VALUE_NUMBER;
out:
    if (rc)
        out->kind = WEIR_VALUE_MISSING;
    return rc;
}
