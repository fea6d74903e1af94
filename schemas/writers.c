/*
 * writers.c — the writer schemas a stream carries besides its reader's: per
 * schema id, the resolution of the writer to input.schema (compiled once,
 * when the id is first met) and the writer's plan that bounds its data, or
 * the reason every event with that id is a dead letter (the registry does
 * not know it, or it cannot be read as input.schema).
 *
 * The table is filled by whoever talks to the registry and read by the
 * decoders that point at it (weir_decoder_use_writers()); it holds at most
 * WEIR_WRITERS_MAX ids, so an endless series of new ids cannot grow it
 * without bound. Resolutions keep scratch state: decode on one thread.
 */
#include "schemas_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int32_t id;
    weir_reader_t *writer;         /* bounds the writer's data; NULL when refused */
    weir_resolution_t *resolution; /* NULL when refused */
    weir_reason_t reason;          /* when refused */
    char detail[256];
} writer_t;

struct weir_writers {
    char *reader_json;
    writer_t *entries;
    size_t n, cap;
};

int weir_writers_new(const char *reader_json, weir_writers_t **out, char *err, size_t errsz)
{
    int rc = 0;
    weir_writers_t *w = calloc(1, sizeof(*w));
    *out = NULL;
    if (!w || !(w->reader_json = strdup(reader_json))) {
        rc = weir_seterr(err, errsz, WEIR_ENOMEM, "out of memory");
        goto out;
    }
    *out = w;
    w = NULL;
out:
    weir_writers_destroy(w);
    return rc;
}

void weir_writers_destroy(weir_writers_t *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->n; i++) {
        weir_reader_destroy(w->entries[i].writer);
        weir_resolve_destroy(w->entries[i].resolution);
    }
    free(w->entries);
    free(w->reader_json);
    free(w);
}

static writer_t *find(const weir_writers_t *w, int32_t id)
{
    for (size_t i = 0; i < w->n; i++)
        if (w->entries[i].id == id)
            return &w->entries[i];
    return NULL;
}

int weir_writers_known(const weir_writers_t *w, int32_t id)
{
    return w && find(w, id) != NULL;
}

static writer_t *add(weir_writers_t *w, int32_t id)
{
    writer_t *e = find(w, id);
    if (e)
        return e;
    if (w->n == w->cap) {
        if (w->cap >= WEIR_WRITERS_MAX)
            return NULL;
        size_t cap = w->cap ? w->cap * 2 : 8;
        writer_t *grown = realloc(w->entries, cap * sizeof(*grown));
        if (!grown)
            return NULL;
        w->entries = grown;
        w->cap = cap;
    }
    e = &w->entries[w->n++];
    memset(e, 0, sizeof(*e));
    e->id = id;
    return e;
}

int weir_writers_refuse(weir_writers_t *w, int32_t id, weir_reason_t reason, const char *detail)
{
    writer_t *e = add(w, id);
    if (!e)
        return WEIR_ELIMIT;
    if (!e->resolution) {
        e->reason = reason;
        snprintf(e->detail, sizeof(e->detail), "%s", detail ? detail : "");
    }
    return 0;
}

int weir_writers_add(weir_writers_t *w, int32_t id, const char *writer_json, char *err,
                     size_t errsz)
{
    int rc = 0;
    avro_schema_t schema = NULL;
    weir_reader_t *reader = NULL;
    weir_resolution_t *res = NULL;
    char why[256] = "";
    if (find(w, id)) /* known already: resolved or refused */
        goto out;
    if ((rc = weir_schema_parse(writer_json, &schema, why, sizeof(why))) != 0 ||
        (rc = weir_reader_new(schema, &reader, why, sizeof(why))) != 0 ||
        (rc = weir_resolve_new(writer_json, w->reader_json, &res, why, sizeof(why))) != 0) {
        if (rc == WEIR_ENOMEM)
            goto fail;
        rc = weir_seterr(err, errsz, WEIR_ESCHEMA,
                         "schema id %" PRId32 " cannot be read as input.schema: %s", id, why);
        if (weir_writers_refuse(w, id, WEIR_REASON_INCOMPATIBLE, err) != 0)
            rc = weir_seterr(err, errsz, WEIR_ELIMIT, "more than %d writer schemas",
                             WEIR_WRITERS_MAX);
        goto out;
    }
    writer_t *e = add(w, id);
    if (!e) {
        rc = weir_seterr(err, errsz, WEIR_ELIMIT, "more than %d writer schemas", WEIR_WRITERS_MAX);
        goto out;
    }
    e->writer = reader;
    e->resolution = res;
    reader = NULL;
    res = NULL;
    goto out;
fail:
    rc = weir_seterr(err, errsz, rc, "schema id %" PRId32 ": %s", id, why);
out:
    if (schema)
        avro_schema_decref(schema);
    weir_reader_destroy(reader);
    weir_resolve_destroy(res);
    return rc;
}

int weir__writers_resolve(weir_writers_t *w, int32_t id, const uint8_t *body, size_t len,
                          size_t base, weir_buf_t *out, weir_reason_t *reason, char *detail,
                          size_t detailsz)
{
    int rc = 0;
    writer_t *e = w ? find(w, id) : NULL;
    if (!e) {
        *reason = WEIR_REASON_UNKNOWN_SCHEMA;
        rc = weir_seterr(detail, detailsz, WEIR_EDECODE, "schema id %" PRId32 " is not registered",
                         id);
        goto out;
    }
    if (!e->resolution) {
        *reason = e->reason;
        rc = weir_seterr(detail, detailsz, WEIR_EDECODE, "%s", e->detail);
        goto out;
    }
    /* the writer's bounds first: the resolution trusts the shape it reads */
    rc = weir_plan_check(weir_reader_plan(e->writer), body, len, 1, base, NULL, reason, detail,
                         detailsz);
    if (rc)
        goto out;
    size_t start = out->len;
    rc = weir_resolve_read(e->resolution, body, len, out, detail, detailsz);
    if (rc) {
        out->len = start;
        *reason = rc == WEIR_ELIMIT ? WEIR_REASON_TOO_LARGE : WEIR_REASON_INCOMPATIBLE;
        rc = WEIR_EDECODE;
    }
out:
    return rc;
}
