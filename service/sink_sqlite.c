/*
 * sink_sqlite.c — the SQLite back end of the database sink (`sqlite:PATH`).
 *
 * One connection in WAL mode (readers are never blocked by a batch being
 * written; synchronous=NORMAL keeps every committed batch across a crash of
 * weir), two prepared upserts, and BEGIN IMMEDIATE … COMMIT around each
 * batch. A failed statement (disk full, read-only file, a lock held past the
 * busy timeout) rolls the batch back; what was committed before stays whole.
 */
#include "common.h"
#include "sink_int.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    sqlite3 *db;
    sqlite3_stmt *upsert[2];
} sqlite_state_t;

static int sqlite_fail(sqlite3 *db, const char *doing, char *err, size_t errsz)
{
    int code = db ? sqlite3_extended_errcode(db) : SQLITE_CANTOPEN;
    return weir_seterr(err, errsz, WEIR_EIO, "%s: %s (SQLite code %d)", doing,
                       db ? sqlite3_errmsg(db) : "cannot open", code);
}

static int check_table(weir_sink_t *s, sqlite_state_t *st, weir__table_id_t id, char *err,
                       size_t errsz)
{
    int seen[WEIR__SINK_MAX_COLUMNS] = {0}, rc = 0, any = 0;
    char sql[256];
    sqlite3_stmt *info = NULL;
    snprintf(sql, sizeof(sql), "PRAGMA table_info(\"%s\")", s->tables[id].name);
    if (sqlite3_prepare_v2(st->db, sql, -1, &info, NULL) != SQLITE_OK)
        return sqlite_fail(st->db, "reading the table's columns", err, errsz);
    int step;
    while (rc == 0 && (step = sqlite3_step(info)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(info, 1);
        const char *type = (const char *)sqlite3_column_text(info, 2);
        any = 1;
        rc = weir__sink_check_column(s, id, name ? name : "", type ? type : "", seen, err, errsz);
    }
    sqlite3_finalize(info);
    if (rc == 0 && any)
        rc = weir__sink_check_seen(s, id, seen, err, errsz);
    return rc;
}

static int sqlite_open(weir_sink_t *s, char *err, size_t errsz)
{
    int rc = 0;
    char sql[16384];
    sqlite_state_t *st = calloc(1, sizeof(*st));
    if (!st)
        return WEIR_ENOMEM;
    s->backend = st;
    if (sqlite3_open_v2(s->location, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        rc = sqlite_fail(st->db, "cannot open the database", err, errsz);
        goto out;
    }
    sqlite3_busy_timeout(st->db, 10000);
    if (sqlite3_exec(st->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL", NULL, NULL,
                     NULL) != SQLITE_OK) {
        rc = sqlite_fail(st->db, "cannot open the database", err, errsz);
        goto out;
    }
    for (int t = 0; t < 2 && rc == 0; t++) {
        if ((rc = weir__sink_sql_create(s, (weir__table_id_t)t, sql, sizeof(sql))) != 0)
            break;
        if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
            char doing[160];
            snprintf(doing, sizeof(doing), "cannot create table %s", s->tables[t].name);
            rc = sqlite_fail(st->db, doing, err, errsz);
            break;
        }
        if ((rc = check_table(s, st, (weir__table_id_t)t, err, errsz)) != 0)
            break;
        if ((rc = weir__sink_sql_upsert(s, (weir__table_id_t)t, 0, sql, sizeof(sql))) != 0)
            break;
        if (sqlite3_prepare_v2(st->db, sql, -1, &st->upsert[t], NULL) != SQLITE_OK) {
            char doing[160];
            snprintf(doing, sizeof(doing),
                     "table %s cannot take weir's upsert (its primary key must be (%s, %s))",
                     s->tables[t].name, s->tables[t].columns[0].name, s->tables[t].columns[1].name);
            rc = sqlite_fail(st->db, doing, err, errsz);
        }
    }
out:
    return rc;
}

static int sqlite_begin(weir_sink_t *s, char *err, size_t errsz)
{
    sqlite_state_t *st = s->backend;
    if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return sqlite_fail(st->db, "cannot begin a transaction", err, errsz);
    return 0;
}

static int sqlite_upsert(weir_sink_t *s, weir__table_id_t id, const weir__cell_t *cells, char *err,
                         size_t errsz)
{
    sqlite_state_t *st = s->backend;
    sqlite3_stmt *stmt = st->upsert[id];
    const weir__table_t *t = &s->tables[id];
    for (size_t i = 0; i < t->n_columns; i++) {
        const weir__cell_t *c = &cells[i];
        int col = (int)i + 1;
        if (c->is_null) {
            sqlite3_bind_null(stmt, col);
            continue;
        }
        switch (t->columns[i].type) {
        case WEIR__COL_REAL:
            sqlite3_bind_double(stmt, col, c->d);
            break;
        case WEIR__COL_BIGINT:
        case WEIR__COL_BOOL:
            sqlite3_bind_int64(stmt, col, c->i);
            break;
        case WEIR__COL_BLOB:
            sqlite3_bind_blob64(stmt, col, c->blob, c->len, SQLITE_STATIC);
            break;
        default:
            sqlite3_bind_text(stmt, col, c->text, -1, SQLITE_STATIC);
            break;
        }
    }
    int step = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    if (step != SQLITE_DONE) {
        char doing[160];
        snprintf(doing, sizeof(doing), "cannot write to table %s", t->name);
        return sqlite_fail(st->db, doing, err, errsz);
    }
    return 0;
}

static int sqlite_commit(weir_sink_t *s, char *err, size_t errsz)
{
    sqlite_state_t *st = s->backend;
    if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        return sqlite_fail(st->db, "cannot commit", err, errsz);
    return 0;
}

static void sqlite_rollback(weir_sink_t *s)
{
    sqlite_state_t *st = s->backend;
    if (st && st->db && !sqlite3_get_autocommit(st->db))
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

static void sqlite_close(weir_sink_t *s)
{
    sqlite_state_t *st = s->backend;
    if (!st)
        return;
    for (int t = 0; t < 2; t++)
        sqlite3_finalize(st->upsert[t]);
    sqlite3_close(st->db);
    free(st);
    s->backend = NULL;
}

const weir__sink_ops_t weir__sink_sqlite = {
    .sql_types = {"TEXT", "TEXT", "REAL", "TEXT", "INTEGER", "INTEGER", "BLOB"},
    .array_open = '[',
    .array_close = ']',
    .open = sqlite_open,
    .begin = sqlite_begin,
    .upsert = sqlite_upsert,
    .commit = sqlite_commit,
    .rollback = sqlite_rollback,
    .close = sqlite_close,
};
