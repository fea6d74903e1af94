/*
 * sink_pg.c — the PostgreSQL back end of the database sink
 * (`postgresql://…`, libpq).
 *
 * The upserts are prepared once; a batch is sent in libpq's pipeline mode
 * (BEGIN, one execution per row, COMMIT, then a sync), so it costs one round
 * trip rather than one per row. The server stops at the first failing
 * statement of a pipeline; the transaction is then rolled back, and what was
 * committed before stays whole. Values go as text, the dead letter's datum as
 * binary bytea.
 */
#include "common.h"
#include "sink_int.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const statement_names[2] = {"weir_upsert_rows", "weir_upsert_dead"};

typedef struct {
    PGconn *conn;
    size_t pending; /* statements sent since BEGIN, BEGIN included */
    char numbers[WEIR__SINK_MAX_COLUMNS][32];
} pg_state_t;

/* libpq's messages end with a newline and may span lines: one line, trimmed. */
static int pg_fail(PGconn *conn, const PGresult *res, const char *doing, char *err, size_t errsz)
{
    char msg[400];
    snprintf(msg, sizeof(msg), "%s",
             res && *PQresultErrorMessage(res) ? PQresultErrorMessage(res)
             : conn                            ? PQerrorMessage(conn)
                                               : "no connection");
    for (char *c = msg; *c; c++)
        if (*c == '\n' || *c == '\t')
            *c = ' ';
    size_t n = strlen(msg);
    while (n > 0 && msg[n - 1] == ' ')
        msg[--n] = '\0';
    return weir_seterr(err, errsz, WEIR_EIO, "%s: %s", doing, msg);
}

static int exec_ok(PGconn *conn, const char *sql, const char *doing, char *err, size_t errsz)
{
    PGresult *res = PQexec(conn, sql);
    int rc = 0;
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
        rc = pg_fail(conn, res, doing, err, errsz);
    PQclear(res);
    return rc;
}

static int check_table(weir_sink_t *s, pg_state_t *st, weir__table_id_t id, char *err, size_t errsz)
{
    int seen[WEIR__SINK_MAX_COLUMNS] = {0}, rc = 0;
    const char *params[1] = {s->tables[id].name};
    PGresult *res =
        PQexecParams(st->conn,
                     "SELECT a.attname, format_type(a.atttypid, a.atttypmod) "
                     "FROM pg_attribute a WHERE a.attrelid = to_regclass(quote_ident($1)) "
                     "AND a.attnum > 0 AND NOT a.attisdropped",
                     1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        rc = pg_fail(st->conn, res, "reading the table's columns", err, errsz);
        goto out;
    }
    for (int r = 0; r < PQntuples(res) && rc == 0; r++)
        rc = weir__sink_check_column(s, id, PQgetvalue(res, r, 0), PQgetvalue(res, r, 1), seen, err,
                                     errsz);
    if (rc == 0)
        rc = weir__sink_check_seen(s, id, seen, err, errsz);
out:
    PQclear(res);
    return rc;
}

static int pg_open(weir_sink_t *s, char *err, size_t errsz)
{
    int rc = 0;
    char sql[16384];
    pg_state_t *st = calloc(1, sizeof(*st));
    if (!st)
        return WEIR_ENOMEM;
    s->backend = st;
    st->conn = PQconnectdb(s->location);
    if (!st->conn || PQstatus(st->conn) != CONNECTION_OK) {
        rc = pg_fail(st->conn, NULL, "cannot connect", err, errsz);
        goto out;
    }
    if ((rc = exec_ok(st->conn, "SET client_min_messages = warning", "cannot set up the session",
                      err, errsz)) != 0)
        goto out;
    for (int t = 0; t < 2 && rc == 0; t++) {
        char doing[160];
        snprintf(doing, sizeof(doing), "cannot create table %s", s->tables[t].name);
        if ((rc = weir__sink_sql_create(s, (weir__table_id_t)t, sql, sizeof(sql))) != 0 ||
            (rc = exec_ok(st->conn, sql, doing, err, errsz)) != 0 ||
            (rc = check_table(s, st, (weir__table_id_t)t, err, errsz)) != 0 ||
            (rc = weir__sink_sql_upsert(s, (weir__table_id_t)t, 1, sql, sizeof(sql))) != 0)
            break;
        PGresult *res = PQprepare(st->conn, statement_names[t], sql, 0, NULL);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            snprintf(doing, sizeof(doing),
                     "table %s cannot take weir's upsert (its primary key must be (%s, %s))",
                     s->tables[t].name, s->tables[t].columns[0].name, s->tables[t].columns[1].name);
            rc = pg_fail(st->conn, res, doing, err, errsz);
        }
        PQclear(res);
    }
out:
    return rc;
}

static int pg_begin(weir_sink_t *s, char *err, size_t errsz)
{
    pg_state_t *st = s->backend;
    if (PQenterPipelineMode(st->conn) != 1 ||
        PQsendQueryParams(st->conn, "BEGIN", 0, NULL, NULL, NULL, NULL, 0) != 1)
        return pg_fail(st->conn, NULL, "cannot begin a transaction", err, errsz);
    st->pending = 1;
    return 0;
}

static int pg_upsert(weir_sink_t *s, weir__table_id_t id, const weir__cell_t *cells, char *err,
                     size_t errsz)
{
    pg_state_t *st = s->backend;
    const weir__table_t *t = &s->tables[id];
    const char *values[WEIR__SINK_MAX_COLUMNS];
    int lengths[WEIR__SINK_MAX_COLUMNS], formats[WEIR__SINK_MAX_COLUMNS];
    for (size_t i = 0; i < t->n_columns; i++) {
        const weir__cell_t *c = &cells[i];
        lengths[i] = 0;
        formats[i] = 0;
        values[i] = NULL;
        if (c->is_null)
            continue;
        switch (t->columns[i].type) {
        case WEIR__COL_REAL:
            snprintf(st->numbers[i], sizeof(st->numbers[i]), "%.17g", c->d);
            values[i] = st->numbers[i];
            break;
        case WEIR__COL_BIGINT:
            snprintf(st->numbers[i], sizeof(st->numbers[i]), "%lld", (long long)c->i);
            values[i] = st->numbers[i];
            break;
        case WEIR__COL_BOOL:
            values[i] = c->i ? "t" : "f";
            break;
        case WEIR__COL_BLOB:
            values[i] = (const char *)c->blob;
            lengths[i] = (int)c->len;
            formats[i] = 1;
            break;
        default:
            values[i] = c->text;
            break;
        }
    }
    /* In pipeline mode the values are copied into libpq's output buffer here. */
    if (PQsendQueryPrepared(st->conn, statement_names[id], (int)t->n_columns, values, lengths,
                            formats, 0) != 1) {
        char doing[160];
        snprintf(doing, sizeof(doing), "cannot write to table %s", t->name);
        return pg_fail(st->conn, NULL, doing, err, errsz);
    }
    st->pending++;
    return 0;
}

/* Reads every result of the pipeline up to its sync; the first error wins. */
static int drain(pg_state_t *st, char *err, size_t errsz)
{
    int rc = 0;
    for (size_t i = 0; i < st->pending; i++) {
        PGresult *res = PQgetResult(st->conn);
        if (!res) {
            if (rc == 0)
                rc = pg_fail(st->conn, NULL, "lost the connection", err, errsz);
            break;
        }
        ExecStatusType status = PQresultStatus(res);
        if (rc == 0 && status != PGRES_COMMAND_OK)
            rc = pg_fail(st->conn, res, "the batch was refused", err, errsz);
        PQclear(res);
        PGresult *end = PQgetResult(st->conn); /* NULL ends each statement's results */
        PQclear(end);
    }
    PGresult *res;
    while ((res = PQgetResult(st->conn)) != NULL) {
        int sync = PQresultStatus(res) == PGRES_PIPELINE_SYNC;
        PQclear(res);
        if (sync)
            break;
    }
    st->pending = 0;
    return rc;
}

static int pg_commit(weir_sink_t *s, char *err, size_t errsz)
{
    pg_state_t *st = s->backend;
    int rc = 0;
    if (PQsendQueryParams(st->conn, "COMMIT", 0, NULL, NULL, NULL, NULL, 0) != 1)
        rc = pg_fail(st->conn, NULL, "cannot commit", err, errsz);
    else
        st->pending++;
    if (PQpipelineSync(st->conn) != 1 && rc == 0)
        rc = pg_fail(st->conn, NULL, "cannot commit", err, errsz);
    int drained = drain(st, rc ? NULL : err, rc ? 0 : errsz);
    if (rc == 0)
        rc = drained;
    PQexitPipelineMode(st->conn);
    return rc;
}

static void pg_rollback(weir_sink_t *s)
{
    pg_state_t *st = s->backend;
    if (!st || !st->conn || PQstatus(st->conn) != CONNECTION_OK)
        return;
    if (PQpipelineStatus(st->conn) != PQ_PIPELINE_OFF) {
        if (st->pending) {
            PQpipelineSync(st->conn);
            drain(st, NULL, 0);
        }
        PQexitPipelineMode(st->conn);
    }
    PGresult *res = PQexec(st->conn, "ROLLBACK");
    PQclear(res);
}

static void pg_close(weir_sink_t *s)
{
    pg_state_t *st = s->backend;
    if (!st)
        return;
    PQfinish(st->conn);
    free(st);
    s->backend = NULL;
}

const weir__sink_ops_t weir__sink_pg = {
    .sql_types = {"text", "timestamp with time zone", "double precision", "double precision[]",
                  "bigint", "boolean", "bytea"},
    .array_open = '{',
    .array_close = '}',
    .open = pg_open,
    .begin = pg_begin,
    .upsert = pg_upsert,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .close = pg_close,
};
