/*
 * schemas_int.h — what the files of schemas/ share and no other module sees:
 * the plan a schema compiles to, the bounded walk over a datum that the plan
 * drives, and the Avro varint helpers the reader, the container code and the
 * writers have in common.
 *
 * A plan is a flat array of nodes. Containers point at their children through
 * a second flat array of edges (record fields, union branches, the items of an
 * array, the values of a map), so a recursive schema is a cycle of indexes and
 * needs no pointers into avro-c's schema objects once compiled. Field names
 * are borrowed from the schema, which the plan's owner keeps a reference to.
 */
#ifndef WEIR_SCHEMAS_INT_H
#define WEIR_SCHEMAS_INT_H

#include "schemas.h"

/** @brief One schema node: a type and, for containers, a run of edges. */
typedef struct {
    avro_type_t type;   /**< never AVRO_LINK: links are resolved at compile time */
    uint32_t first;     /**< first edge (record, union, array, map) */
    uint32_t count;     /**< edges; for an enum, the number of symbols */
    int64_t fixed_size; /**< bytes of a fixed */
    size_t min_size;    /**< a lower bound on the length of any encoding */
    const char *name;   /**< named types: the name, borrowed from the schema */
} weir_plan_node_t;

/** @brief A child of a container node. */
typedef struct {
    uint32_t node;
    const char *name; /**< record field name; NULL for other edges */
} weir_plan_edge_t;

/** @brief A compiled schema. Node 0 is the root. Embed; pair compile/dispose. */
typedef struct {
    weir_plan_node_t *nodes;
    size_t n_nodes;
    weir_plan_edge_t *edges;
    size_t n_edges;
} weir_plan_t;

/** @brief Compiles @p schema; the caller keeps @p schema alive as long as the plan. */
int weir_plan_compile(avro_schema_t schema, weir_plan_t *plan, char *err, size_t errsz);
void weir_plan_dispose(weir_plan_t *plan);

/**
 * @brief What a decoding plan reads besides bounding the datum: a tree that
 * follows the record fields leading to the requested fields (index paths of
 * weir_field_t), so that the walk knows, at each record field, whether a
 * requested value lies below it. Nodes reference each other by index.
 */
typedef struct {
    int32_t *children;         /**< record: per field, the node below it or -1; NULL at a leaf */
    uint32_t n_children;       /**< fields of the record */
    int32_t first_slot;        /**< leaf: the first requested field it fills, or -1 */
    avro_schema_t enum_schema; /**< enum leaf: where its symbols are (borrowed) */
} weir_capture_node_t;

/** @brief A compiled list of requested fields. Node 0 is the root record. */
typedef struct {
    weir_capture_node_t *nodes;
    size_t n_nodes;
    int32_t *next_slot; /**< per requested field, the next one the same leaf fills, or -1 */
    size_t n_slots;
} weir_capture_t;

/**
 * @brief Compiles the @p n resolved @p fields of @p schema (each resolved
 * against it with weir_field_resolve()) for weir_plan_read().
 */
int weir_capture_compile(avro_schema_t schema, const weir_field_t *fields, size_t n,
                         weir_capture_t *capture, char *err, size_t errsz);
void weir_capture_dispose(weir_capture_t *capture);

/**
 * @brief The bounded walk of weir_reader_check(), reading on the way the
 * fields of @p capture into @p values (one per requested field; strings
 * borrowed from @p buf). With no @p capture it only checks. Refusals, reasons
 * and details are those of the walk alone, whatever is captured.
 */
int weir_plan_read(const weir_plan_t *plan, const weir_capture_t *capture,
                   weir_field_value_t *values, const uint8_t *buf, size_t len, int exact,
                   size_t base, size_t *consumed, weir_reason_t *reason, char *detail,
                   size_t detailsz);

/**
 * @brief The bounded walk of weir_reader_check(). Offsets in @p detail count
 * from @p base bytes before @p buf, so that a framed message reports positions
 * in the whole Kafka value.
 */
int weir_plan_check(const weir_plan_t *plan, const uint8_t *buf, size_t len, int exact, size_t base,
                    size_t *consumed, weir_reason_t *reason, char *detail, size_t detailsz);

/** @brief Most bytes a zig-zag varint takes. */
#define WEIR_VARINT_MAX 10

/**
 * @brief Decodes a zig-zag varint from @p p (at most @p len bytes).
 * @returns the bytes used; 0 when the input ends first; -1 when the varint is
 *          longer than 10 bytes or overflows 64 bits.
 */
int weir_varint_decode(const uint8_t *p, size_t len, int64_t *out);

/** @brief Encodes @p v as a zig-zag varint into @p out; returns the bytes used. */
size_t weir_varint_encode(int64_t v, uint8_t out[WEIR_VARINT_MAX]);

/**
 * @brief avro_schema_from_json_length() behind a check avro-c lacks: a named
 * type defined twice is refused here (avro-c leaks when it refuses one).
 * @returns 0, or WEIR_ESCHEMA with the reason in @p err (no prefix).
 */
int weir_schema_from_json(const char *json, size_t len, avro_schema_t *out, char *err,
                          size_t errsz);

/** @brief Reads a schema's JSON (avro_schema_to_json) into a malloc'd, NUL-terminated text. */
int weir_schema_json(avro_schema_t schema, char **json, size_t *len, char *err, size_t errsz);

/** @brief weir_reader_read() with detail offsets counted from @p base bytes before @p buf. */
int weir_reader_read_at(weir_reader_t *r, const uint8_t *buf, size_t len, int exact, size_t base,
                        avro_value_t **value, size_t *consumed, weir_reason_t *reason, char *detail,
                        size_t detailsz);

/** @brief The reader's compiled plan (borrowed). */
const weir_plan_t *weir_reader_plan(const weir_reader_t *r);

/**
 * @brief Bounds @p body by the writer plan of @p id and appends its resolved
 * (reader) bytes to @p out. @returns 0 or WEIR_EDECODE with @p reason.
 */
int weir__writers_resolve(weir_writers_t *w, int32_t id, const uint8_t *body, size_t len,
                          size_t base, weir_buf_t *out, weir_reason_t *reason, char *detail,
                          size_t detailsz);

#endif
