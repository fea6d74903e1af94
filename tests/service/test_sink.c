/*
 * test_sink.c — `weir batch --out sqlite:…` and `--out postgresql://…` as a
 * user meets them, through the built binary: the tables and their typed
 * columns, upsert by (event_id, model_version) on a re-run, the same scores
 * as the Avro output, dead letters in their own table, --keep, and the bad
 * cases (a read-only path, an incompatible table, a full disk, a refused
 * connection, a batch the database rejects half-way) each exiting 1, naming
 * the target and leaving whole batches only. The PostgreSQL suite runs
 * against a real server that scripts/postgres.sh starts (idempotently) on its
 * own port, with its data in the build folder.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../schemas/tx_example.h"
#include "broker.h"
#include "schemas.h"
#include "support.h"

#define EXAMPLE_MODEL WEIR_SOURCE_DIR "/examples/model.json"
/* not 25432, the default of scripts/postgres.sh, which a user's server (or
 * bench/db.sh's) may hold */
#define PG_PORT "25442"
#define PG_URL "postgresql://weir@127.0.0.1:" PG_PORT "/weir"

static char *dir;
static char err[1024];

typedef struct {
    int code;
    char *err; /* stderr */
} result_t;

static const char *path_of(const char *name)
{
    static char path[4][512];
    static int which;
    which = (which + 1) % 4;
    snprintf(path[which], sizeof(path[which]), "%s/%s", dir, name);
    return path[which];
}

/* Runs `weir ARGS...`; a file size limit (bytes, 0: none) stands for a full disk. */
static result_t weir_limited(rlim_t fsize, const char *const args[])
{
    const char *argv[40] = {WEIR_BINARY};
    size_t n = 1;
    for (size_t i = 0; args[i]; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    char err_path[512];
    snprintf(err_path, sizeof(err_path), "%s/stderr", dir);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int o = open("/dev/null", O_WRONLY);
        if (e < 0 || o < 0)
            _exit(127);
        dup2(o, 1);
        dup2(e, 2);
        if (fsize) {
            struct rlimit rl = {fsize, fsize};
            signal(SIGXFSZ, SIG_IGN); /* a write past the limit fails instead */
            setrlimit(RLIMIT_FSIZE, &rl);
        }
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    result_t r;
    r.code = weir_it_wait(pid, 240000);
    r.err = weir_test_read_file(err_path, NULL);
    cr_assert_not_null(r.err);
    return r;
}

#define WEIR(...) weir_limited(0, (const char *const[]){__VA_ARGS__, NULL})

static void gen(const char *path, const char *count)
{
    char spec[600];
    snprintf(spec, sizeof(spec), "file:%s", path);
    result_t g = WEIR("gen", "--out", spec, "--count", count, "--seed", "3", "-q");
    cr_assert_eq(g.code, 0, "%s", g.err);
    free(g.err);
}

/* example transactions, datum 1234 made undecodable (its id's length
 * negative): 1 bad_length and the rest of its block as decode errors */
static void write_corrupt(const char *path, size_t n)
{
    avro_schema_t schema = tx_schema();
    weir_container_writer_t *w;
    weir_buf_t b;
    weir_buf_init(&b, 16 << 20);
    cr_assert_eq(weir_container_writer_open(path, schema, "null", &w, err, sizeof(err)), 0, "%s",
                 err);
    for (size_t i = 0; i < n; i++) {
        tx_t t;
        tx_example(&t, (int)i);
        size_t at = b.len;
        cr_assert_eq(tx_encode(&b, &t, NULL), 0);
        cr_assert_eq(weir_container_writer_append(w, b.data + at, b.len - at), 0);
    }
    cr_assert_eq(weir_container_writer_close(w, err, sizeof(err)), 0, "%s", err);
    avro_schema_decref(schema);
    weir_buf_dispose(&b);
    size_t len;
    char *file = weir_test_read_file(path, &len);
    char *at = memmem(file, len, "\x12tx-001234", 10);
    cr_assert_not_null(at);
    *at = 0x13;
    FILE *f = fopen(path, "wb");
    cr_assert_eq(fwrite(file, 1, len, f), len);
    fclose(f);
    free(file);
}

/* The example bundle with another version. */
static const char *bundle_version(const char *name, const char *version)
{
    json_error_t error;
    json_t *m = json_load_file(EXAMPLE_MODEL, 0, &error);
    cr_assert_not_null(m, "%s", error.text);
    json_object_set_new(m, "version", json_string(version));
    const char *path = path_of(name);
    cr_assert_eq(json_dump_file(m, path, 0), 0);
    json_decref(m);
    return path;
}

/* event_id → score of a ScoredEvent container file, as "id score" lines sorted. */
static size_t avro_scores(const char *path, char ids[][32], double *scores, size_t max)
{
    weir_container_reader_t *r;
    cr_assert_eq(weir_container_reader_open(path, &r, err, sizeof(err)), 0, "%s", err);
    size_t n = 0;
    for (;;) {
        avro_value_t *v, f;
        const uint8_t *body;
        size_t len, skipped;
        weir_reason_t reason;
        char detail[256];
        int got = weir_container_reader_next(r, &v, &body, &len, &skipped, &reason, detail,
                                             sizeof(detail));
        if (got == 0)
            break;
        cr_assert_eq(got, 1, "%s", detail);
        cr_assert_lt(n, max);
        const char *s;
        cr_assert_eq(avro_value_get_by_name(v, "event_id", &f, NULL), 0);
        avro_value_get_string(&f, &s, &len);
        snprintf(ids[n], 32, "%s", s);
        cr_assert_eq(avro_value_get_by_name(v, "score", &f, NULL), 0);
        avro_value_get_double(&f, &scores[n]);
        n++;
    }
    weir_container_reader_close(r);
    return n;
}

/* ---- SQLite ------------------------------------------------------------ */

static void setup(void)
{
    dir = weir_it_tmpdir();
}

static void teardown(void)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
    free(dir);
}

TestSuite(sqlite, .init = setup, .fini = teardown);

static sqlite3 *db_open(const char *path)
{
    sqlite3 *db;
    cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
                 SQLITE_OK, "%s", path);
    return db;
}

static long long db_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s: %s", sql,
                 sqlite3_errmsg(db));
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "%s", sql);
    long long v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static long long count_rows(const char *path, const char *sql)
{
    sqlite3 *db = db_open(path);
    long long n = db_int(db, sql);
    sqlite3_close(db);
    return n;
}

Test(sqlite, stores_the_scores_of_the_avro_output_and_a_rerun_never_duplicates)
{
    enum { N = 1500 };
    const char *events = strdup(path_of("events.avro"));
    const char *scored = strdup(path_of("scored.avro"));
    const char *db = strdup(path_of("p.db"));
    char target[600];
    snprintf(target, sizeof(target), "sqlite:%s", db);
    gen(events, "1500");
    result_t r = WEIR("batch", "--model", EXAMPLE_MODEL, "--in", events, "--out", scored, "-q");
    cr_assert_eq(r.code, 0, "%s", r.err);
    free(r.err);
    for (int run = 0; run < 2; run++) {
        r = WEIR("batch", "--model", EXAMPLE_MODEL, "--in", events, "--out", target, "-q");
        cr_assert_eq(r.code, 0, "%s", r.err);
        cr_assert(strstr(r.err, "1500 scored, 0 dead letters"), "%s", r.err);
        free(r.err);
        cr_assert_eq(count_rows(db, "SELECT count(*) FROM predictions"), N, "run %d", run + 1);
    }
    static char ids[N][32];
    static double scores[N];
    cr_assert_eq(avro_scores(scored, ids, scores, N), N);
    sqlite3 *h = db_open(db);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(h,
                                    "SELECT score, typeof(score), model_name, label, event_time, "
                                    "json_array_length(scores) FROM predictions WHERE "
                                    "event_id = ? AND model_version = '1.0.0'",
                                    -1, &st, NULL),
                 SQLITE_OK, "%s", sqlite3_errmsg(h));
    for (size_t i = 0; i < N; i++) {
        sqlite3_bind_text(st, 1, ids[i], -1, SQLITE_STATIC);
        cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "%s", ids[i]);
        cr_assert_eq(sqlite3_column_double(st, 0), scores[i], "%s: the Avro file's score", ids[i]);
        cr_assert_str_eq((const char *)sqlite3_column_text(st, 1), "real");
        cr_assert_str_eq((const char *)sqlite3_column_text(st, 2), "fraud-lr");
        const char *label = (const char *)sqlite3_column_text(st, 3);
        cr_assert(label && (!strcmp(label, "legit") || !strcmp(label, "fraud")));
        cr_assert_eq(strlen((const char *)sqlite3_column_text(st, 4)), 24, "ISO 8601 with ms");
        cr_assert_eq(sqlite3_column_int(st, 5), 2, "both class probabilities");
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    sqlite3_close(h);

    /* a new model version adds its own rows beside the first one's */
    const char *v2 = bundle_version("v2.json", "2.0.0");
    r = WEIR("batch", "--model", v2, "--in", events, "--out", target, "-q");
    cr_assert_eq(r.code, 0, "%s", r.err);
    free(r.err);
    cr_assert_eq(count_rows(db, "SELECT count(*) FROM predictions"), 2 * N);
    cr_assert_eq(count_rows(db, "SELECT count(*) FROM predictions WHERE model_version='2.0.0'"), N);
    free((void *)events);
    free((void *)scored);
    free((void *)db);
}

Test(sqlite, keep_stores_input_fields_as_typed_columns_and_a_custom_table)
{
    const char *events = strdup(path_of("events.avro"));
    const char *db = strdup(path_of("k.db"));
    char target[600];
    snprintf(target, sizeof(target), "sqlite:%s#scored_tx", db);
    gen(events, "600");
    result_t r = WEIR("batch", "--model", EXAMPLE_MODEL, "--in", events, "--out", target, "--keep",
                      "amount,merchant_category,card_present,account_age_days", "-q");
    cr_assert_eq(r.code, 0, "%s", r.err);
    free(r.err);
    cr_assert_eq(count_rows(db, "SELECT count(*) FROM scored_tx"), 600);
    cr_assert_eq(count_rows(db, "SELECT count(*) FROM scored_tx WHERE typeof(amount) = 'real' "
                                "AND typeof(merchant_category) = 'text' AND card_present IN "
                                "(0, 1) AND typeof(account_age_days) = 'integer'"),
                 600);
    cr_assert_eq(count_rows(db, "SELECT count(*) FROM scored_tx_dead_letters"), 0);

    /* a field the input does not have is a usage error naming it */
    r = WEIR("batch", "--model", EXAMPLE_MODEL, "--in", events, "--out", target, "--keep",
             "amount,no_such_field", "-q");
    cr_assert_eq(r.code, 2, "%s", r.err);
    cr_assert(strstr(r.err, "no_such_field"), "%s", r.err);
    free(r.err);
    /* and --keep without a database */
    r = WEIR("batch", "--model", EXAMPLE_MODEL, "--in", events, "--out", path_of("x.avro"),
             "--keep", "amount");
    cr_assert_eq(r.code, 2, "%s", r.err);
    free(r.err);
    free((void *)events);
    free((void *)db);
}

Test(sqlite, dead_letters_go_to_their_own_table_with_reason_and_datum)
{
    enum { N = 3000 };
    const char *in = strdup(path_of("corrupt.avro"));
    const char *db = strdup(path_of("d.db"));
    const char *report = strdup(path_of("report.json"));
    char target[600];
    snprintf(target, sizeof(target), "sqlite:%s", db);
    write_corrupt(in, N);
    for (int run = 0; run < 2; run++) {
        result_t r = WEIR("batch", "--model", EXAMPLE_MODEL, "--in", in, "--out", target,
                          "--report", report, "-q");
        cr_assert_eq(r.code, 0, "%s", r.err);
        cr_assert(strstr(r.err, "predictions_dead_letters"), "%s", r.err);
        free(r.err);
    }
    json_error_t error;
    json_t *rep = json_load_file(report, 0, &error);
    cr_assert_not_null(rep);
    json_int_t dead = json_integer_value(json_object_get(rep, "dead_letters_total"));
    json_int_t scored = json_integer_value(json_object_get(rep, "scored"));
    cr_assert_str_eq(json_string_value(json_object_get(rep, "dead_letter_table")),
                     "predictions_dead_letters");
    json_decref(rep);
    cr_assert_geq(dead, 1);
    cr_assert_eq(count_rows(db, "SELECT count(*) FROM predictions"), scored);
    cr_assert_eq(count_rows(db, "SELECT count(*) FROM predictions_dead_letters"), dead,
                 "one row per dead letter, not two after the re-run");
    cr_assert_eq(count_rows(db, "SELECT count(*) FROM predictions_dead_letters WHERE "
                                "input_index = 1234 AND reason = 'bad_length'"),
                 1);
    cr_assert_eq(count_rows(db, "SELECT count(*) FROM predictions_dead_letters WHERE "
                                "reason = 'decode_error' AND detail LIKE '%not delimitable%'"),
                 dead - 1);
    free((void *)in);
    free((void *)db);
    free((void *)report);
}

Test(sqlite, a_read_only_path_exits_1_naming_it)
{
    const char *events = strdup(path_of("events.avro"));
    gen(events, "10");
    result_t r = WEIR("batch", "--model", EXAMPLE_MODEL, "--in", events, "--out",
                      "sqlite:/proc/weir-test/p.db", "-q");
    cr_assert_eq(r.code, 1, "%s", r.err);
    cr_assert(strstr(r.err, "/proc/weir-test/p.db"), "%s", r.err);
    free(r.err);
    free((void *)events);
}

Test(sqlite, an_incompatible_table_exits_1_naming_table_and_column)
{
    const char *events = strdup(path_of("events.avro"));
    const char *db = strdup(path_of("old.db"));
    char target[600];
    snprintf(target, sizeof(target), "sqlite:%s", db);
    gen(events, "10");
    sqlite3 *h = db_open(db);
    cr_assert_eq(sqlite3_exec(h, "CREATE TABLE predictions (event_id INTEGER, score REAL)", NULL,
                              NULL, NULL),
                 SQLITE_OK);
    sqlite3_close(h);
    result_t r = WEIR("batch", "--model", EXAMPLE_MODEL, "--in", events, "--out", target, "-q");
    cr_assert_eq(r.code, 1, "%s", r.err);
    cr_assert(strstr(r.err, db) && strstr(r.err, "predictions") && strstr(r.err, "event_id"), "%s",
              r.err);
    free(r.err);
    cr_assert_eq(count_rows(db, "SELECT count(*) FROM predictions"), 0);
    free((void *)events);
    free((void *)db);
}

Test(sqlite, a_full_disk_exits_1_with_whole_batches_and_a_rerun_completes)
{
    const char *events = strdup(path_of("events.avro"));
    const char *db = strdup(path_of("full.db"));
    char target[600];
    snprintf(target, sizeof(target), "sqlite:%s", db);
    gen(events, "20000");
    result_t r = weir_limited(
        1 << 20, (const char *const[]){"batch", "--model", EXAMPLE_MODEL, "--in", events, "--out",
                                       target, "--keep", "merchant_id,card_id", "-q", NULL});
    cr_assert_eq(r.code, 1, "%s", r.err);
    cr_assert(strstr(r.err, db), "%s", r.err);
    free(r.err);
    long long n = count_rows(db, "SELECT count(*) FROM predictions");
    cr_assert(n > 0 && n < 20000 && n % 512 == 0, "%lld rows: whole batches of 512 only", n);
    r = WEIR("batch", "--model", EXAMPLE_MODEL, "--in", events, "--out", target, "--keep",
             "merchant_id,card_id", "-q");
    cr_assert_eq(r.code, 0, "%s", r.err);
    free(r.err);
    cr_assert_eq(count_rows(db, "SELECT count(*) FROM predictions"), 20000);
    free((void *)events);
    free((void *)db);
}

Test(sqlite, a_batch_refused_half_way_is_rolled_back_whole)
{
    const char *events = strdup(path_of("events.avro"));
    const char *db = strdup(path_of("trig.db"));
    char target[600];
    snprintf(target, sizeof(target), "sqlite:%s", db);
    gen(events, "2000");
    result_t r = WEIR("batch", "--model", EXAMPLE_MODEL, "--in", events, "--out", target, "-q");
    cr_assert_eq(r.code, 0, "%s", r.err);
    free(r.err);
    /* a new version's rows, refused at the 1200th event (in the third batch) */
    sqlite3 *h = db_open(db);
    cr_assert_eq(sqlite3_exec(h,
                              "CREATE TRIGGER refuse BEFORE INSERT ON predictions WHEN "
                              "NEW.event_id = (SELECT event_id FROM predictions ORDER BY rowid "
                              "LIMIT 1 OFFSET 1199) BEGIN SELECT RAISE(ABORT, 'refused'); END",
                              NULL, NULL, NULL),
                 SQLITE_OK, "%s", sqlite3_errmsg(h));
    sqlite3_close(h);
    const char *v2 = bundle_version("v2.json", "2.0.0");
    r = WEIR("batch", "--model", v2, "--in", events, "--out", target, "-q");
    cr_assert_eq(r.code, 1, "%s", r.err);
    cr_assert(strstr(r.err, db) && strstr(r.err, "refused"), "%s", r.err);
    free(r.err);
    cr_assert_eq(count_rows(db, "SELECT count(*) FROM predictions WHERE model_version='2.0.0'"),
                 1024, "the two whole batches before it");
    free((void *)events);
    free((void *)db);
}

/* ---- PostgreSQL -------------------------------------------------------- */

static PGconn *pg;
static void pg_exec(const char *sql);

static void pg_setup(void)
{
    setup();
    char cmd[1024];
    snprintf(cmd, sizeof(cmd),
             "WEIR_PG_PORT=" PG_PORT " WEIR_PG_STATE='%s/postgres-" PG_PORT
             "' '%s/scripts/postgres.sh' start >/dev/null",
             WEIR_BUILD_DIR, WEIR_SOURCE_DIR);
    cr_assert_eq(system(cmd), 0, "scripts/postgres.sh start");
    pg = PQconnectdb(PG_URL);
    cr_assert_eq(PQstatus(pg), CONNECTION_OK, "%s", PQerrorMessage(pg));
    pg_exec("SET client_min_messages = warning");
}

static void pg_teardown(void)
{
    PQfinish(pg);
    teardown();
}

TestSuite(postgres, .init = pg_setup, .fini = pg_teardown);

static void pg_exec(const char *sql)
{
    PGresult *res = PQexec(pg, sql);
    cr_assert(PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK,
              "%s: %s", sql, PQerrorMessage(pg));
    PQclear(res);
}

static long long pg_int(const char *sql)
{
    PGresult *res = PQexec(pg, sql);
    cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s: %s", sql, PQerrorMessage(pg));
    long long v = atoll(PQgetvalue(res, 0, 0));
    PQclear(res);
    return v;
}

/* Each test its own table, so the tests share the server but not the data. */
static const char *pg_target(const char *table)
{
    static char t[256];
    char sql[256];
    snprintf(sql, sizeof(sql), "DROP TABLE IF EXISTS %s, %s_dead_letters", table, table);
    pg_exec(sql);
    snprintf(t, sizeof(t), PG_URL "#%s", table);
    return t;
}

Test(postgres, stores_typed_rows_with_the_avro_scores_and_a_rerun_never_duplicates)
{
    enum { N = 1500 };
    const char *events = strdup(path_of("events.avro"));
    const char *scored = strdup(path_of("scored.avro"));
    gen(events, "1500");
    result_t r = WEIR("batch", "--model", EXAMPLE_MODEL, "--in", events, "--out", scored, "-q");
    cr_assert_eq(r.code, 0, "%s", r.err);
    free(r.err);
    const char *target = strdup(pg_target("t_rerun"));
    for (int run = 0; run < 2; run++) {
        r = WEIR("batch", "--model", EXAMPLE_MODEL, "--in", events, "--out", target, "--keep",
                 "amount,merchant_category,card_present,account_age_days", "-q");
        cr_assert_eq(r.code, 0, "%s", r.err);
        free(r.err);
        cr_assert_eq(pg_int("SELECT count(*) FROM t_rerun"), N, "run %d", run + 1);
    }
    cr_assert_eq(pg_int("SELECT count(*) FROM information_schema.columns WHERE table_name = "
                        "'t_rerun' AND ((column_name = 'event_time' AND data_type = 'timestamp "
                        "with time zone') OR (column_name = 'score' AND data_type = 'double "
                        "precision') OR (column_name = 'card_present' AND data_type = "
                        "'boolean') OR (column_name = 'account_age_days' AND data_type = "
                        "'bigint') OR (column_name = 'scores' AND data_type = 'ARRAY'))"),
                 5, "typed columns");
    static char ids[N][32];
    static double scores[N];
    cr_assert_eq(avro_scores(scored, ids, scores, N), N);
    PGresult *res = PQexec(pg, "SELECT event_id, score, array_length(scores, 1), label FROM "
                               "t_rerun ORDER BY event_id");
    cr_assert_eq(PQntuples(res), N);
    for (int i = 0; i < N; i++) {
        const char *id = PQgetvalue(res, i, 0);
        size_t k = 0;
        while (k < N && strcmp(ids[k], id) != 0)
            k++;
        cr_assert_lt(k, N, "%s is in the Avro output", id);
        cr_assert_eq(strtod(PQgetvalue(res, i, 1), NULL), scores[k], "%s", id);
        cr_assert_str_eq(PQgetvalue(res, i, 2), "2");
    }
    PQclear(res);
    const char *v2 = bundle_version("v2.json", "2.0.0");
    r = WEIR("batch", "--model", v2, "--in", events, "--out", target, "--keep",
             "amount,merchant_category,card_present,account_age_days", "-q");
    cr_assert_eq(r.code, 0, "%s", r.err);
    free(r.err);
    cr_assert_eq(pg_int("SELECT count(*) FROM t_rerun WHERE model_version = '2.0.0'"), N);
    cr_assert_eq(pg_int("SELECT count(*) FROM t_rerun"), 2 * N);
    free((void *)events);
    free((void *)scored);
    free((void *)target);
}

Test(postgres, dead_letters_go_to_their_own_table_once)
{
    const char *in = strdup(path_of("corrupt.avro"));
    write_corrupt(in, 3000);
    const char *target = strdup(pg_target("t_dead"));
    for (int run = 0; run < 2; run++) {
        result_t r = WEIR("batch", "--model", EXAMPLE_MODEL, "--in", in, "--out", target, "-q");
        cr_assert_eq(r.code, 0, "%s", r.err);
        free(r.err);
    }
    long long dead = pg_int("SELECT count(*) FROM t_dead_dead_letters");
    cr_assert_geq(dead, 1);
    cr_assert_eq(pg_int("SELECT count(*) FROM t_dead") + dead, 3000);
    cr_assert_eq(pg_int("SELECT count(*) FROM t_dead_dead_letters WHERE input_index = 1234 AND "
                        "reason = 'bad_length'"),
                 1);
    free((void *)in);
    free((void *)target);
}

Test(postgres, a_refused_connection_exits_1_naming_the_target_without_its_password)
{
    const char *events = strdup(path_of("events.avro"));
    gen(events, "10");
    int port = weir_it_free_port();
    char target[256];
    snprintf(target, sizeof(target), "postgresql://weir:hunter2@127.0.0.1:%d/weir", port);
    result_t r = WEIR("batch", "--model", EXAMPLE_MODEL, "--in", events, "--out", target, "-q");
    cr_assert_eq(r.code, 1, "%s", r.err);
    char shown[256];
    snprintf(shown, sizeof(shown), "postgresql://weir:***@127.0.0.1:%d/weir", port);
    cr_assert(strstr(r.err, shown), "%s", r.err);
    cr_assert_null(strstr(r.err, "hunter2"), "%s", r.err);
    free(r.err);
    free((void *)events);
}

Test(postgres, an_incompatible_table_exits_1_naming_it)
{
    const char *events = strdup(path_of("events.avro"));
    gen(events, "10");
    const char *target = strdup(pg_target("t_old"));
    pg_exec("CREATE TABLE t_old (event_id bigint, model_version text)");
    result_t r = WEIR("batch", "--model", EXAMPLE_MODEL, "--in", events, "--out", target, "-q");
    cr_assert_eq(r.code, 1, "%s", r.err);
    cr_assert(strstr(r.err, "t_old") && strstr(r.err, "event_id") && strstr(r.err, "127.0.0.1"),
              "%s", r.err);
    free(r.err);
    cr_assert_eq(pg_int("SELECT count(*) FROM t_old"), 0);
    free((void *)events);
    free((void *)target);
}

Test(postgres, a_batch_refused_half_way_is_rolled_back_whole_and_a_rerun_completes)
{
    const char *events = strdup(path_of("events.avro"));
    gen(events, "2000");
    const char *target = strdup(pg_target("t_trig"));
    result_t r = WEIR("batch", "--model", EXAMPLE_MODEL, "--in", events, "--out", target, "-q");
    cr_assert_eq(r.code, 0, "%s", r.err);
    free(r.err);
    pg_exec("CREATE OR REPLACE FUNCTION t_trig_refuse() RETURNS trigger AS $$ BEGIN "
            "IF NEW.event_id = "
            "(SELECT event_id FROM t_trig WHERE model_version = '1.0.0' ORDER BY event_time, "
            "event_id OFFSET 1199 LIMIT 1) THEN RAISE EXCEPTION 'refused'; END IF; "
            "RETURN NEW; END $$ LANGUAGE plpgsql");
    pg_exec("CREATE TRIGGER refuse BEFORE INSERT ON t_trig FOR EACH ROW EXECUTE FUNCTION "
            "t_trig_refuse()");
    const char *v2 = bundle_version("v2.json", "2.0.0");
    r = WEIR("batch", "--model", v2, "--in", events, "--out", target, "-q");
    cr_assert_eq(r.code, 1, "%s", r.err);
    cr_assert(strstr(r.err, "t_trig") || strstr(r.err, "refused"), "%s", r.err);
    cr_assert(strstr(r.err, "127.0.0.1"), "%s", r.err);
    free(r.err);
    cr_assert_eq(pg_int("SELECT count(*) FROM t_trig WHERE model_version = '2.0.0'"), 1024,
                 "the two whole batches before it");
    pg_exec("DROP TRIGGER refuse ON t_trig");
    r = WEIR("batch", "--model", v2, "--in", events, "--out", target, "-q");
    cr_assert_eq(r.code, 0, "%s", r.err);
    free(r.err);
    cr_assert_eq(pg_int("SELECT count(*) FROM t_trig WHERE model_version = '2.0.0'"), 2000);
    free((void *)events);
    free((void *)target);
}
