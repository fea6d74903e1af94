/*
 * sink_int.h — what sink.c shares with the database back ends (sink_sqlite.c,
 * sink_pg.c): the columns of the two tables in the order they are bound, one
 * row of cells, and the operations a back end provides. sink.c decides what
 * goes in the tables; a back end only speaks its database's dialect.
 */
#ifndef WEIR_SINK_INT_H
#define WEIR_SINK_INT_H

#include "sink.h"

#define WEIR__SINK_MAX_KEEP 64
#define WEIR__SINK_MAX_COLUMNS (WEIR__SINK_MAX_KEEP + 8)
#define WEIR__SINK_MAX_SCORES 256

/** The kinds of value a column holds; each back end names its SQL type. */
typedef enum {
    WEIR__COL_TEXT,
    WEIR__COL_TIME, /* an instant, passed as ISO 8601 UTC text with milliseconds */
    WEIR__COL_REAL,
    WEIR__COL_SCORES, /* class probabilities, passed as text in the back end's array syntax */
    WEIR__COL_BIGINT,
    WEIR__COL_BOOL,
    WEIR__COL_BLOB,
    WEIR__COL__COUNT
} weir__col_type_t;

typedef struct {
    char name[64];
    weir__col_type_t type;
    int not_null;
} weir__column_t;

/** One value to bind; text and blob point into the sink's row buffers. */
typedef struct {
    int is_null;
    int64_t i;
    double d;
    const char *text; /* TEXT, TIME, SCORES: NUL-terminated */
    const uint8_t *blob;
    size_t len;
} weir__cell_t;

/** One of the two tables. */
typedef struct {
    char name[96];
    weir__column_t columns[WEIR__SINK_MAX_COLUMNS];
    size_t n_columns;
    size_t n_keys; /* the first n_keys columns are the primary key */
} weir__table_t;

typedef enum { WEIR__TABLE_ROWS = 0, WEIR__TABLE_DEAD = 1 } weir__table_id_t;

typedef struct weir__sink_ops {
    const char *sql_types[WEIR__COL__COUNT]; /* as the database reports them back */
    char array_open, array_close;            /* the SCORES text: '[' ']' or '{' '}' */
    /* Connects to s->location, creates or checks both tables, prepares. */
    int (*open)(weir_sink_t *s, char *err, size_t errsz);
    int (*begin)(weir_sink_t *s, char *err, size_t errsz);
    int (*upsert)(weir_sink_t *s, weir__table_id_t t, const weir__cell_t *cells, char *err,
                  size_t errsz);
    int (*commit)(weir_sink_t *s, char *err, size_t errsz);
    void (*rollback)(weir_sink_t *s);
    void (*close)(weir_sink_t *s);
} weir__sink_ops_t;

typedef struct {
    char path[128]; /* as given: "card.country" */
    int depth;
    int index[8];              /* field indexes from the input record down */
    avro_schema_t enum_schema; /* for symbols (borrowed from the input schema) */
    int nullable_branch;       /* union branch of the value, -1: not a union */
    weir__col_type_t type;
} weir__keep_t;

struct weir_sink {
    const weir__sink_ops_t *ops;
    void *backend;       /* the back end's connection state */
    char location[4096]; /* the SQLite path or the libpq connection string */
    char display[4096];  /* the target without its password */
    weir__table_t tables[2];
    weir__keep_t keep[WEIR__SINK_MAX_KEEP];
    size_t n_keep;
    const weir_model_t *model;
    char *input;
    int in_transaction;
    /* the input datum decoded for --keep */
    avro_value_iface_t *iface;
    avro_value_t value;
    int have_value;
    avro_reader_t reader;
    /* one row's text */
    char event_time[40], scored_at[40], scores[WEIR__SINK_MAX_SCORES * 26 + 4];
};

extern const weir__sink_ops_t weir__sink_sqlite;
extern const weir__sink_ops_t weir__sink_pg;

/** ISO 8601 UTC with milliseconds: "2026-12-01T06:00:00.123Z". */
void weir__sink_time(char *out, size_t outsz, int64_t ms);

/** A double quoted SQL identifier ("name"): names are checked to need no escape. */
void weir__sink_quote(char *out, size_t outsz, const char *name);

/** CREATE TABLE IF NOT EXISTS for table @p id in the back end's types. */
int weir__sink_sql_create(const weir_sink_t *s, weir__table_id_t id, char *sql, size_t sqlsz);
/** The upsert of table @p id: placeholders ? or, when @p numbered, $1… */
int weir__sink_sql_upsert(const weir_sink_t *s, weir__table_id_t id, int numbered, char *sql,
                          size_t sqlsz);
/** Checks one column of an existing table against what weir writes; marks it in @p seen. */
int weir__sink_check_column(const weir_sink_t *s, weir__table_id_t id, const char *name,
                            const char *type, int *seen, char *err, size_t errsz);
/** After every column was checked: each that weir writes was seen. */
int weir__sink_check_seen(const weir_sink_t *s, weir__table_id_t id, const int *seen, char *err,
                          size_t errsz);

#endif
