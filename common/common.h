/**
 * @file common.h
 * @brief What every weir module shares: error codes, the value a record field
 *        yields, growable byte buffers with a cap, and a bump arena.
 *
 * Everything here is pure (no I/O, no global state), so that scoring/ and
 * drift/ can link it and stay loadable from Python.
 */
#ifndef WEIR_COMMON_H
#define WEIR_COMMON_H

#include <stddef.h>
#include <stdint.h>

/** @name Error codes: functions that can fail return 0 or one of these. */
/**@{*/
#define WEIR_OK 0
#define WEIR_EINVAL (-1)      /**< invalid argument or input */
#define WEIR_ENOMEM (-2)      /**< allocation failed */
#define WEIR_EIO (-3)         /**< file or socket I/O failed */
#define WEIR_ELIMIT (-4)      /**< a size cap was reached */
#define WEIR_ECONFIG (-5)     /**< bad configuration */
#define WEIR_EDECODE (-6)     /**< malformed Avro data */
#define WEIR_ESCHEMA (-7)     /**< unknown or unusable schema */
#define WEIR_EMISSING (-8)    /**< missing value the bundle does not allow */
#define WEIR_ECATEGORY (-9)   /**< category the bundle does not know */
#define WEIR_ENONFINITE (-10) /**< a transform produced NaN or infinity */
#define WEIR_ETYPE (-11)      /**< value of the wrong type */
#define WEIR_EMODEL (-12)     /**< invalid model bundle */
#define WEIR_EKAFKA (-13)     /**< Kafka client failure */
#define WEIR_EFULL (-14)      /**< a queue is full; try again later */
#define WEIR_ETIMEDOUT (-15)  /**< a deadline passed */
#define WEIR_ESTATE (-16)     /**< call not valid in the current state */
#define WEIR_ESTOPPED (-17)   /**< a stop was asked for (SIGTERM) before the work ended */
/**@}*/

/** @brief A short, static description of a WEIR_E* code. */
const char *weir_strerror(int code);

/**
 * @brief Formats an error message into a caller's buffer (snprintf that
 *        tolerates a NULL or zero-sized buffer). Returns @p code, so that
 *        `return weir_seterr(err, errsz, WEIR_EINVAL, "...")` reads as one step.
 */
int weir_seterr(char *err, size_t errsz, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/**
 * @brief Why an event became a dead letter: the stable reason codes of the
 * `weir.error` header and of the `weir_dead_letters_total{reason}` metric.
 * Append new codes at the end; never renumber or rename.
 */
typedef enum {
    WEIR_REASON_NONE = 0,
    WEIR_REASON_EMPTY_VALUE,      /**< "empty_value": no value (tombstone) */
    WEIR_REASON_BAD_FRAMING,      /**< "bad_framing": not magic 0 + 4-byte schema id */
    WEIR_REASON_UNKNOWN_SCHEMA,   /**< "unknown_schema_id": id not known to weir */
    WEIR_REASON_TRUNCATED,        /**< "truncated": the datum ends early */
    WEIR_REASON_TRAILING_BYTES,   /**< "trailing_bytes": bytes after the datum */
    WEIR_REASON_BAD_LENGTH,       /**< "bad_length": negative or oversized length/count */
    WEIR_REASON_BAD_UNION,        /**< "bad_union_index" */
    WEIR_REASON_BAD_ENUM,         /**< "bad_enum_index" */
    WEIR_REASON_TOO_LARGE,        /**< "too_large": past a size or nesting cap */
    WEIR_REASON_MISSING_VALUE,    /**< "missing_value": breaks the bundle's missing policy */
    WEIR_REASON_UNKNOWN_CATEGORY, /**< "unknown_category": under policy error */
    WEIR_REASON_INVALID_VALUE,    /**< "invalid_value": wrong type or non-finite */
    WEIR_REASON_DECODE,           /**< "decode_error": the Avro library refused it */
    WEIR_REASON_UNREGISTERED, /**< "unregistered_schema_id": the schema registry does not know the
                                 id */
    WEIR_REASON_INCOMPATIBLE, /**< "incompatible_schema": the writer cannot be read as input.schema
                               */
    WEIR_REASON__COUNT
} weir_reason_t;

/** @brief The stable code of a reason ("bad_framing"); "unknown" if out of range. */
const char *weir_reason_name(weir_reason_t reason);

/** @brief What a record field yields to the feature transforms. */
typedef enum {
    WEIR_VALUE_MISSING = 0, /**< null, or absent */
    WEIR_VALUE_NUMBER,      /**< int, long, float, double or boolean (0/1) */
    WEIR_VALUE_STRING       /**< string or enum symbol; not NUL-terminated */
} weir_value_kind_t;

typedef struct {
    weir_value_kind_t kind;
    double number;      /**< when kind is NUMBER */
    const char *string; /**< when kind is STRING; borrowed, @p length bytes */
    size_t length;
} weir_value_t;

/**
 * @brief A growable byte buffer that refuses to grow past @p max.
 * Embed it and pair weir_buf_init() with weir_buf_dispose().
 */
typedef struct {
    uint8_t *data;
    size_t len;
    size_t cap;
    size_t max; /**< hard cap in bytes */
} weir_buf_t;

void weir_buf_init(weir_buf_t *b, size_t max);
void weir_buf_dispose(weir_buf_t *b);
/** @brief Ensures room for @p extra more bytes. WEIR_ELIMIT past the cap. */
int weir_buf_reserve(weir_buf_t *b, size_t extra);
int weir_buf_append(weir_buf_t *b, const void *p, size_t n);
static inline void weir_buf_reset(weir_buf_t *b)
{
    b->len = 0;
}

/**
 * @brief A bump allocator for per-batch scratch: allocations live until
 * weir_arena_reset(). Blocks are kept and reused, so a steady state allocates
 * nothing. Embed it; pair weir_arena_init() with weir_arena_dispose().
 */
typedef struct weir_arena_block weir_arena_block_t;
typedef struct {
    weir_arena_block_t *blocks; /**< first block; later ones chained */
    weir_arena_block_t *current;
    size_t block_size;
    size_t used_total;
    size_t max; /**< cap on the sum of block sizes */
    size_t reserved;
} weir_arena_t;

void weir_arena_init(weir_arena_t *a, size_t block_size, size_t max);
void weir_arena_dispose(weir_arena_t *a);
/** @brief Returns 16-byte aligned memory, or NULL past the cap. */
void *weir_arena_alloc(weir_arena_t *a, size_t n);
/** @brief Copies @p n bytes and a terminating NUL into the arena. */
char *weir_arena_strndup(weir_arena_t *a, const char *s, size_t n);
void weir_arena_reset(weir_arena_t *a);

/** @brief Parses a duration such as "250ms", "30s", "5m", "24h", "7d" or a bare
 *         number of milliseconds. Returns 0 or WEIR_EINVAL. */
int weir_parse_duration_ms(const char *s, int64_t *ms);

#endif
