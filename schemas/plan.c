/*
 * plan.c — the part of a decoding plan that says what to read: the requested
 * fields of one writer schema (the event id, the event time and each
 * feature's source field), compiled once into a tree of record fields that
 * the bounded walk of check.c follows, so that an event's bytes are read into
 * feature values in the pass that bounds them, with no avro-c value, no field
 * lookup and no allocation per event.
 *
 * The tree mirrors the requested paths only: a record node has one entry per
 * field of the record (-1 where nothing requested lies below); a leaf node is
 * the primitive or nullable-primitive field itself and chains the requested
 * fields it fills (two features may read the same field). The tree is built
 * from field indexes, so it holds for the schema the fields were resolved
 * against and for no other.
 */
#include "schemas_int.h"

#include <stdlib.h>
#include <string.h>

#define MAX_CAPTURE_SLOTS 4096

static avro_schema_t resolve_link(avro_schema_t s)
{
    return is_avro_link(s) ? avro_schema_link_target(s) : s;
}

/* Adds a node; a record node gets one entry per field. Returns its index or -1. */
static int32_t add_node(weir_capture_t *c, size_t *cap, avro_schema_t record)
{
    if (c->n_nodes == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        weir_capture_node_t *grown = realloc(c->nodes, ncap * sizeof(*grown));
        if (!grown)
            return -1;
        c->nodes = grown;
        *cap = ncap;
    }
    weir_capture_node_t *node = &c->nodes[c->n_nodes];
    memset(node, 0, sizeof(*node));
    node->first_slot = -1;
    if (record) {
        size_t fields = avro_schema_record_size(record);
        node->children = malloc((fields ? fields : 1) * sizeof(*node->children));
        if (!node->children)
            return -1;
        for (size_t i = 0; i < fields; i++)
            node->children[i] = -1;
        node->n_children = (uint32_t)fields;
    }
    return (int32_t)c->n_nodes++;
}

int weir_capture_compile(avro_schema_t schema, const weir_field_t *fields, size_t n,
                         weir_capture_t *capture, char *err, size_t errsz)
{
    int rc = 0;
    size_t cap = 0;
    avro_schema_t root = schema ? resolve_link(schema) : NULL;
    memset(capture, 0, sizeof(*capture));
    if (!is_avro_record(root)) {
        rc = weir_seterr(err, errsz, WEIR_ESCHEMA, "a decoding plan needs a record schema");
        goto out;
    }
    if (n > MAX_CAPTURE_SLOTS) {
        rc = weir_seterr(err, errsz, WEIR_ELIMIT, "more than %d planned fields", MAX_CAPTURE_SLOTS);
        goto out;
    }
    capture->next_slot = malloc((n ? n : 1) * sizeof(*capture->next_slot));
    capture->n_slots = n;
    if (!capture->next_slot || add_node(capture, &cap, root) != 0) {
        rc = weir_seterr(err, errsz, WEIR_ENOMEM, "out of memory compiling a decoding plan");
        goto out;
    }
    for (size_t s = 0; s < n; s++) {
        const weir_field_t *f = &fields[s];
        avro_schema_t record = root;
        int32_t node = 0;
        capture->next_slot[s] = -1;
        if (f->depth == 0 || f->depth > WEIR_FIELD_MAX_DEPTH) {
            rc = weir_seterr(err, errsz, WEIR_ESCHEMA, "planned field %zu is not resolved", s);
            goto out;
        }
        for (size_t d = 0; d < f->depth; d++) {
            size_t index = f->index[d];
            int last = d + 1 == f->depth;
            if (index >= capture->nodes[node].n_children) {
                rc = weir_seterr(err, errsz, WEIR_ESCHEMA,
                                 "planned field %zu does not fit the schema", s);
                goto out;
            }
            avro_schema_t type =
                resolve_link(avro_schema_record_field_get_by_index(record, (int)index));
            if (!last && !is_avro_record(type)) {
                rc = weir_seterr(err, errsz, WEIR_ESCHEMA,
                                 "planned field %zu does not fit the schema", s);
                goto out;
            }
            int32_t child = capture->nodes[node].children[index];
            if (child < 0) {
                child = add_node(capture, &cap, last ? NULL : type);
                if (child < 0) {
                    rc = weir_seterr(err, errsz, WEIR_ENOMEM,
                                     "out of memory compiling a decoding plan");
                    goto out;
                }
                capture->nodes[node].children[index] = child;
            } else if (last != (capture->nodes[child].children == NULL)) {
                rc = weir_seterr(err, errsz, WEIR_ESCHEMA,
                                 "planned field %zu does not fit the schema", s);
                goto out;
            }
            node = child;
            record = type;
        }
        /* the leaf: the field's type, or the non-null branch of its union */
        avro_schema_t leaf = record;
        if (is_avro_union(leaf)) {
            for (size_t b = 0; b < avro_schema_union_size(leaf); b++) {
                avro_schema_t branch = resolve_link(avro_schema_union_branch(leaf, (int)b));
                if (!is_avro_null(branch)) {
                    leaf = branch;
                    break;
                }
            }
        }
        if (avro_typeof(leaf) != f->leaf) {
            rc = weir_seterr(err, errsz, WEIR_ESCHEMA, "planned field %zu does not fit the schema",
                             s);
            goto out;
        }
        if (is_avro_enum(leaf))
            capture->nodes[node].enum_schema = leaf;
        /* appended last, so a leaf fills its fields in the order requested */
        int32_t *link = &capture->nodes[node].first_slot;
        while (*link >= 0)
            link = &capture->next_slot[*link];
        *link = (int32_t)s;
    }
out:
    if (rc)
        weir_capture_dispose(capture);
    return rc;
}

void weir_capture_dispose(weir_capture_t *capture)
{
    for (size_t i = 0; i < capture->n_nodes; i++)
        free(capture->nodes[i].children);
    free(capture->nodes);
    free(capture->next_slot);
    memset(capture, 0, sizeof(*capture));
}
