/*
 * check.c — the bounded checker: compiles a schema once into a flat plan and
 * walks datums with it before avro-c is allowed to read them.
 *
 * avro-c 1.11.1 believes every length, count and index it decodes: it
 * allocates what a string length asks for, loops as long as an array block
 * count says, and never checks an enum index. The walk here decodes the same
 * varints itself and refuses anything that could not be a real datum of the
 * schema within the bytes at hand — negative or oversized lengths, block
 * counts whose items cannot fit in what is left, union and enum indexes out of
 * range, truncation, nesting past WEIR_AVRO_MAX_DEPTH, more than
 * WEIR_AVRO_MAX_ITEMS collection items (WEIR_AVRO_MAX_EMPTY_ITEMS of items that
 * take no bytes), datums past WEIR_AVRO_MAX_DATUM — and
 * says where: the byte offset and the field path of the refusal.
 *
 * Booleans other than 0 or 1 and ints outside 32 bits are invalid_value
 * (avro-c would take the former and refuse the latter); a varint longer than
 * 10 bytes or past 64 bits is invalid_value too. The walk allocates nothing
 * and recurses at most WEIR_AVRO_MAX_DEPTH levels. Given a capture (plan.c),
 * the same walk also reads the requested fields as it passes them, which is
 * how the pipeline decodes events without avro-c; what it refuses, and how it
 * says so, does not depend on what it reads.
 *
 * The compiler refuses the schemas whose datums avro-c 1.11.1 cannot hold,
 * so that no datum the walk passes is then refused by avro-c: a fixed of
 * size 0 (avro-c cannot allocate its value) and an array whose items are a
 * record that holds no data, written in place rather than named by reference
 * (avro-c's generic value for it has no bytes, and its arrays cannot grow).
 * It also refuses a record that contains itself through record fields alone,
 * with no array, map or union in between: no datum of it can end, and avro-c
 * recurses until the stack runs out making a value of it; and a fixed larger
 * than WEIR_AVRO_MAX_DATUM, or a schema whose smallest datum is, since avro-c
 * allocates a value's fixed bytes when it makes the value.
 */
#include "schemas_int.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Caps on what a (trusted or file-borne) schema may compile to. */
#define MAX_PLAN_NODES (1u << 16)
#define MAX_PLAN_EDGES (1u << 18)
#define MAX_SCHEMA_NESTING 256
#define MIN_SIZE_PASSES 64

/* ------------------------------------------------------------------ */
/* Varints                                                             */

int weir_varint_decode(const uint8_t *p, size_t len, int64_t *out)
{
    uint64_t acc = 0;
    int used = -1;
    for (size_t i = 0; i < WEIR_VARINT_MAX; i++) {
        if (i >= len) {
            used = 0;
            break;
        }
        uint8_t b = p[i];
        /* The tenth byte carries bit 63 only; anything more overflows. */
        if (i == WEIR_VARINT_MAX - 1 && b > 1)
            break;
        acc |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *out = (int64_t)((acc >> 1) ^ (0 - (acc & 1)));
            used = (int)i + 1;
            break;
        }
    }
    return used;
}

size_t weir_varint_encode(int64_t v, uint8_t out[WEIR_VARINT_MAX])
{
    uint64_t n = ((uint64_t)v << 1) ^ (0 - ((uint64_t)v >> 63));
    size_t i = 0;
    while (n & ~(uint64_t)0x7f) {
        out[i++] = (uint8_t)((n & 0x7f) | 0x80);
        n >>= 7;
    }
    out[i++] = (uint8_t)n;
    return i;
}

/* ------------------------------------------------------------------ */
/* Compiling                                                           */

typedef struct {
    avro_schema_t schema;
    uint32_t node;
} named_t;

typedef struct {
    weir_plan_t *plan;
    size_t nodes_cap;
    size_t edges_cap;
    named_t *named; /* named types already compiled: links and reuses find them */
    size_t n_named;
    size_t named_cap;
    char *err;
    size_t errsz;
} compiler_t;

static int grow(void **p, size_t *cap, size_t need, size_t size, size_t max)
{
    int rc = 0;
    if (need <= *cap)
        goto out;
    if (need > max) {
        rc = WEIR_ELIMIT;
        goto out;
    }
    size_t ncap = *cap ? *cap * 2 : 16;
    while (ncap < need)
        ncap *= 2;
    if (ncap > max)
        ncap = max;
    void *np = realloc(*p, ncap * size);
    if (!np) {
        rc = WEIR_ENOMEM;
        goto out;
    }
    *p = np;
    *cap = ncap;
out:
    return rc;
}

static int new_node(compiler_t *c, avro_type_t type, uint32_t *index)
{
    weir_plan_t *plan = c->plan;
    int rc = grow((void **)&plan->nodes, &c->nodes_cap, plan->n_nodes + 1, sizeof(weir_plan_node_t),
                  MAX_PLAN_NODES);
    if (rc) {
        weir_seterr(c->err, c->errsz, rc, "schema has more than %u types", MAX_PLAN_NODES);
        goto out;
    }
    *index = (uint32_t)plan->n_nodes++;
    memset(&plan->nodes[*index], 0, sizeof(weir_plan_node_t));
    plan->nodes[*index].type = type;
out:
    return rc;
}

static int reserve_edges(compiler_t *c, size_t n, uint32_t *first)
{
    weir_plan_t *plan = c->plan;
    int rc = 0;
    *first = (uint32_t)plan->n_edges;
    /* A record with no fields has no edges, and the array may not exist yet. */
    if (n == 0)
        goto out;
    rc = grow((void **)&plan->edges, &c->edges_cap, plan->n_edges + n, sizeof(weir_plan_edge_t),
              MAX_PLAN_EDGES);
    if (rc) {
        weir_seterr(c->err, c->errsz, rc, "schema has more than %u fields and branches",
                    MAX_PLAN_EDGES);
        goto out;
    }
    memset(&plan->edges[plan->n_edges], 0, n * sizeof(weir_plan_edge_t));
    plan->n_edges += n;
out:
    return rc;
}

static int remember_named(compiler_t *c, avro_schema_t schema, uint32_t node)
{
    int rc =
        grow((void **)&c->named, &c->named_cap, c->n_named + 1, sizeof(named_t), MAX_PLAN_NODES);
    if (rc) {
        weir_seterr(c->err, c->errsz, rc, "out of memory compiling a schema");
        goto out;
    }
    c->named[c->n_named].schema = schema;
    c->named[c->n_named].node = node;
    c->n_named++;
out:
    return rc;
}

static int compile(compiler_t *c, avro_schema_t schema, unsigned level, uint32_t *out);

/* A record written in place whose fields are all such records (or none):
 * avro-c gives its generic value no bytes. A reference is a link in avro-c,
 * whose value is never empty. */
static int holds_nothing(avro_schema_t schema, unsigned level)
{
    int empty = 0;
    if (level > MAX_SCHEMA_NESTING || is_avro_link(schema) || !is_avro_record(schema))
        goto out;
    empty = 1;
    for (size_t i = 0; i < avro_schema_record_size(schema) && empty; i++)
        empty = holds_nothing(avro_schema_record_field_get_by_index(schema, (int)i), level + 1);
out:
    return empty;
}

/* Compiles the children of a container into its (already reserved) edges. The
 * plan's arrays may move while a child compiles, so only indexes are held. */
static int compile_children(compiler_t *c, avro_schema_t schema, uint32_t node, size_t n,
                            unsigned level)
{
    uint32_t first = 0;
    int rc = reserve_edges(c, n, &first);
    if (rc)
        goto out;
    c->plan->nodes[node].first = first;
    c->plan->nodes[node].count = (uint32_t)n;
    for (size_t i = 0; i < n; i++) {
        avro_schema_t child = NULL;
        const char *name = NULL;
        switch (c->plan->nodes[node].type) {
        case AVRO_RECORD:
            child = avro_schema_record_field_get_by_index(schema, (int)i);
            name = avro_schema_record_field_name(schema, (int)i);
            break;
        case AVRO_UNION:
            child = avro_schema_union_branch(schema, (int)i);
            break;
        case AVRO_ARRAY:
            child = avro_schema_array_items(schema);
            break;
        case AVRO_MAP:
            child = avro_schema_map_values(schema);
            break;
        default:
            break;
        }
        if (!child) {
            rc = weir_seterr(c->err, c->errsz, WEIR_ESCHEMA, "%s has no child %zu",
                             avro_schema_type_name(schema), i);
            goto out;
        }
        uint32_t child_node = 0;
        rc = compile(c, child, level + 1, &child_node);
        if (rc)
            goto out;
        c->plan->edges[first + i].node = child_node;
        c->plan->edges[first + i].name = name;
    }
out:
    return rc;
}

static int compile(compiler_t *c, avro_schema_t schema, unsigned level, uint32_t *out)
{
    int rc = 0;
    uint32_t node = 0;
    if (level > MAX_SCHEMA_NESTING) {
        rc = weir_seterr(c->err, c->errsz, WEIR_ESCHEMA, "schema nests deeper than %d levels",
                         MAX_SCHEMA_NESTING);
        goto out;
    }
    if (is_avro_link(schema))
        schema = avro_schema_link_target(schema);
    if (!is_avro_schema(schema)) {
        rc = weir_seterr(c->err, c->errsz, WEIR_ESCHEMA, "not a schema");
        goto out;
    }
    avro_type_t type = avro_typeof(schema);
    if (is_avro_named_type(schema)) {
        for (size_t i = 0; i < c->n_named; i++) {
            if (c->named[i].schema == schema) {
                *out = c->named[i].node;
                goto out;
            }
        }
    }
    rc = new_node(c, type, &node);
    if (rc)
        goto out;
    if (is_avro_named_type(schema)) {
        c->plan->nodes[node].name = avro_schema_name(schema);
        /* Remembered before its children compile, so that a recursive
         * reference finds this node instead of compiling forever. */
        rc = remember_named(c, schema, node);
        if (rc)
            goto out;
    }
    switch (type) {
    case AVRO_RECORD:
        rc = compile_children(c, schema, node, avro_schema_record_size(schema), level);
        break;
    case AVRO_UNION:
        rc = compile_children(c, schema, node, avro_schema_union_size(schema), level);
        break;
    case AVRO_ARRAY:
        if (holds_nothing(avro_schema_array_items(schema), level)) {
            rc = weir_seterr(c->err, c->errsz, WEIR_ESCHEMA,
                             "array of %s, a record that holds no data: avro-c cannot read it "
                             "(name the record by reference instead)",
                             avro_schema_name(avro_schema_array_items(schema)));
            break;
        }
        rc = compile_children(c, schema, node, 1, level);
        break;
    case AVRO_MAP:
        rc = compile_children(c, schema, node, 1, level);
        break;
    case AVRO_ENUM: {
        int symbols = avro_schema_enum_number_of_symbols(schema);
        if (symbols < 0) {
            rc = weir_seterr(c->err, c->errsz, WEIR_ESCHEMA, "enum %s: cannot count its symbols",
                             avro_schema_name(schema));
            break;
        }
        c->plan->nodes[node].count = (uint32_t)symbols;
        break;
    }
    case AVRO_FIXED: {
        int64_t size = avro_schema_fixed_size(schema);
        if (size <= 0) {
            rc = weir_seterr(c->err, c->errsz, WEIR_ESCHEMA,
                             size ? "fixed %s has a negative size"
                                  : "fixed %s has size 0: avro-c cannot read it",
                             avro_schema_name(schema));
            break;
        }
        /* avro-c allocates a fixed's bytes when it makes a value, datum or not. */
        if ((uint64_t)size > WEIR_AVRO_MAX_DATUM) {
            rc = weir_seterr(c->err, c->errsz, WEIR_ESCHEMA,
                             "fixed %s of %" PRId64
                             " bytes is larger than a datum may be (%u bytes)",
                             avro_schema_name(schema), size, WEIR_AVRO_MAX_DATUM);
            break;
        }
        c->plan->nodes[node].fixed_size = size;
        break;
    }
    case AVRO_STRING:
    case AVRO_BYTES:
    case AVRO_INT32:
    case AVRO_INT64:
    case AVRO_FLOAT:
    case AVRO_DOUBLE:
    case AVRO_BOOLEAN:
    case AVRO_NULL:
        break;
    default:
        rc = weir_seterr(c->err, c->errsz, WEIR_ESCHEMA, "unsupported schema type %d", (int)type);
        break;
    }
    *out = node;
out:
    return rc;
}

static size_t add_saturating(size_t a, size_t b)
{
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

static size_t node_min_size(const weir_plan_t *plan, const weir_plan_node_t *n)
{
    size_t size = 0;
    switch (n->type) {
    case AVRO_NULL:
        size = 0;
        break;
    case AVRO_FLOAT:
        size = 4;
        break;
    case AVRO_DOUBLE:
        size = 8;
        break;
    case AVRO_FIXED:
        size = (uint64_t)n->fixed_size > SIZE_MAX ? SIZE_MAX : (size_t)n->fixed_size;
        break;
    case AVRO_RECORD:
        for (uint32_t i = 0; i < n->count; i++)
            size = add_saturating(size, plan->nodes[plan->edges[n->first + i].node].min_size);
        break;
    case AVRO_UNION:
        size = n->count ? SIZE_MAX : 0;
        for (uint32_t i = 0; i < n->count; i++) {
            size_t branch = plan->nodes[plan->edges[n->first + i].node].min_size;
            size = branch < size ? branch : size;
        }
        size = add_saturating(size, 1);
        break;
    default:
        size = 1;
        break; /* a varint, a length or a block count */
    }
    return size;
}

/* Lower bounds of encoded sizes, by rounds from 0: every round's values are
 * still lower bounds, so stopping early (a record that contains itself
 * directly has no finite size) is safe. No recursion: named types may chain. */
static void compute_min_sizes(weir_plan_t *plan)
{
    int changed = 1;
    for (int pass = 0; changed && pass < MIN_SIZE_PASSES; pass++) {
        changed = 0;
        for (size_t i = plan->n_nodes; i-- > 0;) {
            size_t size = node_min_size(plan, &plan->nodes[i]);
            if (size != plan->nodes[i].min_size) {
                plan->nodes[i].min_size = size;
                changed = 1;
            }
        }
    }
}

/* Finds a record that contains itself through record fields alone: a cycle
 * of record nodes, by a depth-first walk with an explicit stack (a plan may
 * chain thousands of records). */
static int refuse_endless_records(const weir_plan_t *plan, char *err, size_t errsz)
{
    enum { UNSEEN, ON_PATH, DONE };
    size_t n = plan->n_nodes;
    uint8_t *state = calloc(n, 1);
    uint32_t *path = malloc(n * sizeof(*path));
    uint32_t *next_edge = malloc(n * sizeof(*next_edge));
    int rc = 0;
    if (!state || !path || !next_edge) {
        rc = weir_seterr(err, errsz, WEIR_ENOMEM, "out of memory compiling a schema");
        goto out;
    }
    for (size_t start = 0; start < n; start++) {
        size_t depth = 0;
        if (plan->nodes[start].type != AVRO_RECORD || state[start] != UNSEEN)
            continue;
        path[depth] = (uint32_t)start;
        next_edge[depth++] = 0;
        state[start] = ON_PATH;
        while (depth > 0) {
            const weir_plan_node_t *node = &plan->nodes[path[depth - 1]];
            if (next_edge[depth - 1] == node->count) {
                state[path[--depth]] = DONE;
                continue;
            }
            uint32_t child = plan->edges[node->first + next_edge[depth - 1]++].node;
            if (plan->nodes[child].type != AVRO_RECORD || state[child] == DONE)
                continue;
            if (state[child] == ON_PATH) {
                rc = weir_seterr(err, errsz, WEIR_ESCHEMA,
                                 "record %s contains itself with no array, map or union in "
                                 "between: none of its datums could end",
                                 plan->nodes[child].name);
                goto out;
            }
            state[child] = ON_PATH;
            path[depth] = child;
            next_edge[depth++] = 0;
        }
    }
out:
    free(state);
    free(path);
    free(next_edge);
    return rc;
}

int weir_plan_compile(avro_schema_t schema, weir_plan_t *plan, char *err, size_t errsz)
{
    compiler_t c = {.plan = plan, .err = err, .errsz = errsz};
    uint32_t root = 0;
    memset(plan, 0, sizeof(*plan));
    int rc = compile(&c, schema, 0, &root);
    if (rc == 0)
        rc = refuse_endless_records(plan, err, errsz);
    if (rc)
        goto out;
    compute_min_sizes(plan);
    /* No datum could pass the walk, and avro-c would still allocate the
     * fixed bytes of a record's fields for the reader's value. */
    if (plan->nodes[0].min_size > WEIR_AVRO_MAX_DATUM) {
        rc = weir_seterr(err, errsz, WEIR_ESCHEMA,
                         "every datum of the schema takes at least %zu bytes, more than a datum "
                         "may be (%u bytes)",
                         plan->nodes[0].min_size, WEIR_AVRO_MAX_DATUM);
        goto out;
    }
out:
    free(c.named);
    if (rc)
        weir_plan_dispose(plan);
    return rc;
}

void weir_plan_dispose(weir_plan_t *plan)
{
    free(plan->nodes);
    free(plan->edges);
    memset(plan, 0, sizeof(*plan));
}

/* ------------------------------------------------------------------ */
/* Walking                                                             */

typedef enum { PATH_FIELD, PATH_INDEX, PATH_KEY } path_kind_t;

typedef struct {
    path_kind_t kind;
    const char *name;   /* PATH_FIELD */
    int64_t index;      /* PATH_INDEX */
    const uint8_t *key; /* PATH_KEY: the key's bytes inside the datum */
    size_t key_len;
} path_part_t;

typedef struct {
    const weir_plan_t *plan;
    const uint8_t *start;
    const uint8_t *pos;
    const uint8_t *end;   /* end of the input */
    const uint8_t *limit; /* start + WEIR_AVRO_MAX_DATUM, or end if sooner */
    size_t base;
    uint32_t items;
    uint32_t empty_items; /* items of no bytes: they cost work but no input */
    size_t n_path;
    path_part_t path[WEIR_AVRO_MAX_DEPTH + 1];
    weir_reason_t reason;
    char *detail;
    size_t detailsz;
    const weir_capture_t *capture; /* what to read on the way, or NULL */
    weir_field_value_t *values;
} walk_t;

/* Map keys are attacker-chosen: quote at most 32 printable bytes of one. */
static size_t format_key(char *out, size_t outsz, const uint8_t *key, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len && i < 32 && n + 1 < outsz; i++)
        out[n++] = (key[i] >= 0x20 && key[i] < 0x7f && key[i] != '"') ? (char)key[i] : '?';
    if (len > 32 && n + 3 < outsz) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n < outsz ? n : outsz - 1] = '\0';
    return n;
}

static void format_path(const walk_t *w, char *out, size_t outsz)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < w->n_path && n + 1 < outsz; i++) {
        const path_part_t *p = &w->path[i];
        int wrote = 0;
        if (p->kind == PATH_FIELD) {
            wrote = snprintf(out + n, outsz - n, "%s%s", n ? "." : "", p->name);
        } else if (p->kind == PATH_INDEX) {
            wrote = snprintf(out + n, outsz - n, "[%" PRId64 "]", p->index);
        } else {
            char key[40];
            format_key(key, sizeof(key), p->key, p->key_len);
            wrote = snprintf(out + n, outsz - n, "[\"%s\"]", key);
        }
        if (wrote < 0)
            break;
        n += (size_t)wrote;
    }
}

static int fail(walk_t *w, const uint8_t *at, weir_reason_t reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(walk_t *w, const uint8_t *at, weir_reason_t reason, const char *fmt, ...)
{
    char msg[160];
    char path[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    format_path(w, path, sizeof(path));
    size_t offset = w->base + (size_t)(at - w->start);
    if (path[0])
        weir_seterr(w->detail, w->detailsz, 0, "at byte %zu (%s): %s", offset, path, msg);
    else
        weir_seterr(w->detail, w->detailsz, 0, "at byte %zu: %s", offset, msg);
    w->reason = reason;
    return WEIR_EDECODE;
}

static int too_large(walk_t *w, const uint8_t *at)
{
    return fail(w, at, WEIR_REASON_TOO_LARGE, "datum longer than %u bytes", WEIR_AVRO_MAX_DATUM);
}

/* Ensures @n more bytes: truncated past the input, too_large past the cap. */
static int need(walk_t *w, uint64_t n, const char *what)
{
    int rc = 0;
    if (n > (uint64_t)(w->end - w->pos))
        rc = fail(w, w->pos, WEIR_REASON_TRUNCATED, "truncated %s", what);
    else if (n > (uint64_t)(w->limit - w->pos))
        rc = too_large(w, w->pos);
    return rc;
}

static int read_long(walk_t *w, int64_t *v, const char *what)
{
    int rc = 0;
    const uint8_t *at = w->pos;
    int used = weir_varint_decode(w->pos, (size_t)(w->end - w->pos), v);
    if (used == 0) {
        rc = fail(w, at, WEIR_REASON_TRUNCATED, "truncated %s", what);
        goto out;
    }
    if (used < 0) {
        rc = fail(w, at, WEIR_REASON_INVALID_VALUE,
                  "%s: varint longer than 10 bytes or past 64 bits", what);
        goto out;
    }
    if ((size_t)used > (size_t)(w->limit - w->pos)) {
        rc = too_large(w, at);
        goto out;
    }
    w->pos += used;
out:
    return rc;
}

/* A string, bytes or map key: a length, then that many bytes. */
static int walk_length_prefixed(walk_t *w, const char *what, const uint8_t **data, size_t *len)
{
    const uint8_t *at = w->pos;
    int64_t n = 0;
    int rc = read_long(w, &n, what);
    if (rc)
        goto out;
    if (n < 0) {
        rc = fail(w, at, WEIR_REASON_BAD_LENGTH, "negative %s %" PRId64, what, n);
        goto out;
    }
    if ((uint64_t)n > (uint64_t)(w->end - w->pos)) {
        /* Within the datum cap it reads as a cut-off value, beyond as a lie. */
        rc = fail(
            w, at,
            (uint64_t)n <= WEIR_AVRO_MAX_DATUM ? WEIR_REASON_TRUNCATED : WEIR_REASON_BAD_LENGTH,
            "%s %" PRId64 " past the end (%zu bytes left)", what, n, (size_t)(w->end - w->pos));
        goto out;
    }
    if ((uint64_t)n > (uint64_t)(w->limit - w->pos)) {
        rc = too_large(w, at);
        goto out;
    }
    if (data)
        *data = w->pos;
    if (len)
        *len = (size_t)n;
    w->pos += n;
out:
    return rc;
}

static int walk(walk_t *w, uint32_t index, unsigned depth, int32_t cap);

/* Fills the requested fields of capture leaf @p cap with one value. */
static void capture(walk_t *w, int32_t cap, weir_value_kind_t kind, double number, int64_t integer,
                    const char *string, size_t length)
{
    for (int32_t s = w->capture->nodes[cap].first_slot; s >= 0; s = w->capture->next_slot[s]) {
        weir_field_value_t *v = &w->values[s];
        v->value.kind = kind;
        v->value.number = number;
        v->value.string = string;
        v->value.length = length;
        v->integer = integer;
    }
}

/* Arrays and maps: blocks of (count, [byte size if count < 0], items) up to a
 * zero count. Every block is checked before its first item is walked. */
static int walk_blocks(walk_t *w, const weir_plan_node_t *n, unsigned depth)
{
    int is_map = n->type == AVRO_MAP;
    const char *kind = is_map ? "map" : "array";
    uint32_t child = w->plan->edges[n->first].node;
    size_t item_min = w->plan->nodes[child].min_size;
    int64_t index = 0;
    int rc = 0;
    if (is_map)
        item_min = add_saturating(item_min, 1); /* the key's length */
    for (;;) {
        const uint8_t *at = w->pos;
        int64_t count = 0;
        int64_t size = -1;
        rc = read_long(w, &count, is_map ? "map block count" : "array block count");
        if (rc || count == 0)
            goto out;
        if (count < 0) {
            /* A negative count is followed by the block's size in bytes. */
            if (count == INT64_MIN) {
                rc = fail(w, at, WEIR_REASON_BAD_LENGTH, "%s block count %" PRId64 " out of range",
                          kind, count);
                goto out;
            }
            count = -count;
            const uint8_t *size_at = w->pos;
            rc = read_long(w, &size, is_map ? "map block size" : "array block size");
            if (rc)
                goto out;
            if (size < 0 || (uint64_t)size > (uint64_t)(w->end - w->pos)) {
                rc = fail(w, size_at, WEIR_REASON_BAD_LENGTH,
                          "%s block size %" PRId64 " with %zu bytes left", kind, size,
                          (size_t)(w->end - w->pos));
                goto out;
            }
        }
        const uint8_t *block_start = w->pos;
        uint64_t room = size >= 0 ? (uint64_t)size : (uint64_t)(w->end - w->pos);
        if (item_min > 0 && (uint64_t)count > room / item_min) {
            rc = fail(w, at, WEIR_REASON_BAD_LENGTH,
                      "%s block of %" PRId64 " items cannot fit in %" PRIu64 " bytes", kind, count,
                      room);
            goto out;
        }
        if ((uint64_t)count > WEIR_AVRO_MAX_ITEMS - w->items) {
            rc = fail(w, at, WEIR_REASON_TOO_LARGE,
                      "%s block of %" PRId64 " items: more than %u items in the datum", kind, count,
                      WEIR_AVRO_MAX_ITEMS);
            goto out;
        }
        /* Items of no bytes (null, records of nulls) fit anywhere: a few bytes
         * could claim a million, so they have a cap of their own. */
        if (item_min == 0 && (uint64_t)count > WEIR_AVRO_MAX_EMPTY_ITEMS - w->empty_items) {
            rc = fail(w, at, WEIR_REASON_TOO_LARGE,
                      "%s block of %" PRId64 " items: more than %u items of no bytes in the datum",
                      kind, count, WEIR_AVRO_MAX_EMPTY_ITEMS);
            goto out;
        }
        w->items += (uint32_t)count;
        if (item_min == 0)
            w->empty_items += (uint32_t)count;
        for (int64_t i = 0; i < count; i++, index++) {
            path_part_t *part = &w->path[w->n_path];
            if (is_map) {
                part->kind = PATH_KEY;
                rc = walk_length_prefixed(w, "map key length", &part->key, &part->key_len);
                if (rc)
                    goto out;
            } else {
                part->kind = PATH_INDEX;
                part->index = index;
            }
            w->n_path++;
            rc = walk(w, child, depth + 1, -1);
            if (rc)
                goto out;
            w->n_path--;
        }
        if (size >= 0 && w->pos - block_start != size) {
            rc = fail(w, block_start, WEIR_REASON_BAD_LENGTH,
                      "%s block size %" PRId64 " but its items take %td bytes", kind, size,
                      w->pos - block_start);
            goto out;
        }
    }
out:
    return rc;
}

/* @p cap: the capture node of this position, or -1 when nothing is read here. */
static int walk(walk_t *w, uint32_t index, unsigned depth, int32_t cap)
{
    const weir_plan_node_t *n = &w->plan->nodes[index];
    const uint8_t *at = w->pos;
    int64_t v = 0;
    int rc = 0;
    switch (n->type) {
    case AVRO_RECORD:
    case AVRO_UNION:
    case AVRO_ARRAY:
    case AVRO_MAP:
        if (depth >= WEIR_AVRO_MAX_DEPTH) {
            rc = fail(w, at, WEIR_REASON_TOO_LARGE, "nested deeper than %d levels",
                      WEIR_AVRO_MAX_DEPTH);
            goto out;
        }
        break;
    default:
        break;
    }
    switch (n->type) {
    case AVRO_NULL:
        break;
    case AVRO_BOOLEAN:
        rc = need(w, 1, "boolean");
        if (rc)
            goto out;
        if (*w->pos > 1) {
            rc = fail(w, at, WEIR_REASON_INVALID_VALUE, "boolean byte 0x%02x is neither 0 nor 1",
                      *w->pos);
            goto out;
        }
        if (cap >= 0)
            capture(w, cap, WEIR_VALUE_NUMBER, *w->pos ? 1.0 : 0.0, 0, NULL, 0);
        w->pos++;
        break;
    case AVRO_INT32:
        rc = read_long(w, &v, "int");
        if (rc)
            goto out;
        if (v < INT32_MIN || v > INT32_MAX)
            rc = fail(w, at, WEIR_REASON_INVALID_VALUE, "int %" PRId64 " out of 32-bit range", v);
        else if (cap >= 0)
            capture(w, cap, WEIR_VALUE_NUMBER, (double)v, v, NULL, 0);
        break;
    case AVRO_INT64:
        rc = read_long(w, &v, "long");
        if (rc == 0 && cap >= 0)
            capture(w, cap, WEIR_VALUE_NUMBER, (double)v, v, NULL, 0);
        break;
    case AVRO_FLOAT:
        rc = need(w, 4, "float");
        if (rc == 0) {
            if (cap >= 0) {
                /* Avro floats are little-endian IEEE 754, as avro-c reads them */
                uint32_t bits = (uint32_t)w->pos[0] | (uint32_t)w->pos[1] << 8 |
                                (uint32_t)w->pos[2] << 16 | (uint32_t)w->pos[3] << 24;
                float f;
                memcpy(&f, &bits, sizeof(f));
                capture(w, cap, WEIR_VALUE_NUMBER, f, 0, NULL, 0);
            }
            w->pos += 4;
        }
        break;
    case AVRO_DOUBLE:
        rc = need(w, 8, "double");
        if (rc == 0) {
            if (cap >= 0) {
                uint64_t bits = 0;
                for (int i = 7; i >= 0; i--)
                    bits = bits << 8 | w->pos[i];
                double d;
                memcpy(&d, &bits, sizeof(d));
                capture(w, cap, WEIR_VALUE_NUMBER, d, 0, NULL, 0);
            }
            w->pos += 8;
        }
        break;
    case AVRO_STRING: {
        const uint8_t *data = NULL;
        size_t len = 0;
        rc = walk_length_prefixed(w, "string length", &data, &len);
        if (rc == 0 && cap >= 0)
            capture(w, cap, WEIR_VALUE_STRING, 0, 0, (const char *)data, len);
        break;
    }
    case AVRO_BYTES:
        rc = walk_length_prefixed(w, "bytes length", NULL, NULL);
        break;
    case AVRO_FIXED:
        rc = need(w, (uint64_t)n->fixed_size, "fixed");
        if (rc == 0)
            w->pos += n->fixed_size;
        break;
    case AVRO_ENUM:
        rc = read_long(w, &v, "enum index");
        if (rc)
            goto out;
        if (v < 0 || v >= (int64_t)n->count)
            rc = fail(w, at, WEIR_REASON_BAD_ENUM, "enum %s index %" PRId64 " of %u symbols",
                      n->name, v, n->count);
        else if (cap >= 0 && w->capture->nodes[cap].enum_schema) {
            const char *symbol = avro_schema_enum_get(w->capture->nodes[cap].enum_schema, (int)v);
            capture(w, cap, WEIR_VALUE_STRING, 0, 0, symbol ? symbol : "",
                    symbol ? strlen(symbol) : 0);
        }
        break;
    case AVRO_UNION:
        rc = read_long(w, &v, "union index");
        if (rc)
            goto out;
        if (v < 0 || v >= (int64_t)n->count) {
            rc = fail(w, at, WEIR_REASON_BAD_UNION, "union index %" PRId64 " of %u branches", v,
                      n->count);
            goto out;
        }
        /* a requested field in a union: its non-null branch is read, null stays missing */
        rc = walk(w, w->plan->edges[n->first + v].node, depth + 1, cap);
        break;
    case AVRO_RECORD:
        for (uint32_t i = 0; i < n->count; i++) {
            const weir_plan_edge_t *field = &w->plan->edges[n->first + i];
            w->path[w->n_path].kind = PATH_FIELD;
            w->path[w->n_path].name = field->name;
            w->n_path++;
            int32_t below = cap >= 0 && i < w->capture->nodes[cap].n_children
                                ? w->capture->nodes[cap].children[i]
                                : -1;
            rc = walk(w, field->node, depth + 1, below);
            if (rc)
                goto out;
            w->n_path--;
        }
        break;
    case AVRO_ARRAY:
    case AVRO_MAP:
        rc = walk_blocks(w, n, depth);
        break;
    default:
        rc = fail(w, at, WEIR_REASON_DECODE, "unsupported schema type %d", (int)n->type);
        break;
    }
out:
    return rc;
}

int weir_plan_check(const weir_plan_t *plan, const uint8_t *buf, size_t len, int exact, size_t base,
                    size_t *consumed, weir_reason_t *reason, char *detail, size_t detailsz)
{
    return weir_plan_read(plan, NULL, NULL, buf, len, exact, base, consumed, reason, detail,
                          detailsz);
}

int weir_plan_read(const weir_plan_t *plan, const weir_capture_t *capture,
                   weir_field_value_t *values, const uint8_t *buf, size_t len, int exact,
                   size_t base, size_t *consumed, weir_reason_t *reason, char *detail,
                   size_t detailsz)
{
    static const uint8_t nothing[1];
    walk_t w = {.plan = plan,
                .base = base,
                .detail = detail,
                .detailsz = detailsz,
                .capture = capture && capture->n_nodes ? capture : NULL,
                .values = values};
    int rc = 0;
    if (!buf) {
        buf = nothing;
        len = 0;
    }
    w.start = w.pos = buf;
    w.end = buf + len;
    w.limit = len > WEIR_AVRO_MAX_DATUM ? buf + WEIR_AVRO_MAX_DATUM : w.end;
    if (detail && detailsz)
        detail[0] = '\0';
    if (!plan || plan->n_nodes == 0) {
        rc = fail(&w, buf, WEIR_REASON_DECODE, "no compiled schema");
        goto out;
    }
    if (exact && len > WEIR_AVRO_MAX_DATUM) {
        rc = fail(&w, buf, WEIR_REASON_TOO_LARGE, "datum of %zu bytes is longer than %u", len,
                  WEIR_AVRO_MAX_DATUM);
        goto out;
    }
    if (w.capture) {
        for (size_t s = 0; s < capture->n_slots; s++) {
            memset(&values[s], 0, sizeof(values[s]));
            values[s].value.kind = WEIR_VALUE_MISSING;
        }
    }
    rc = walk(&w, 0, 0, w.capture ? 0 : -1);
    if (rc)
        goto out;
    if (exact && w.pos != w.end) {
        rc = fail(&w, w.pos, WEIR_REASON_TRAILING_BYTES, "%td byte%s after the datum",
                  w.end - w.pos, w.end - w.pos == 1 ? "" : "s");
        goto out;
    }
    if (consumed)
        *consumed = (size_t)(w.pos - w.start);
out:
    if (reason)
        *reason = rc ? w.reason : WEIR_REASON_NONE;
    return rc;
}
