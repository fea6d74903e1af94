/*
 * sink.c — the database outputs of `weir batch`, independent of the database:
 * parsing the target, the columns of the predictions and dead-letter tables,
 * the --keep fields (resolved against the input schema once, read from each
 * datum with one reused Avro value), and the transaction each batch is
 * written in. The SQL dialects live in sink_sqlite.c and sink_pg.c.
 */
#include "sink.h"
#include "common.h"
#include "sink_int.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_TABLE "predictions"

static int is_sqlite(const char *t)
{
    return !strncmp(t, "sqlite:", 7);
}

static int is_pg(const char *t)
{
    return !strncmp(t, "postgresql://", 13) || !strncmp(t, "postgres://", 11);
}

int weir_sink_is_target(const char *target)
{
    return target && (is_sqlite(target) || is_pg(target));
}

/* Table and column names are plain identifiers, so no quoting can go wrong. */
static int is_identifier(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
        return 0;
    for (size_t i = 1; i < n; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
            return 0;
    return 1;
}

void weir__sink_quote(char *out, size_t outsz, const char *name)
{
    snprintf(out, outsz, "\"%s\"", name);
}

void weir__sink_time(char *out, size_t outsz, int64_t ms)
{
    int64_t sec = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    int milli = (int)(ms - sec * 1000);
    time_t t = (time_t)sec;
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, outsz, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, milli);
}

/* The target as printed: a URI's password ("user:secret@") and a
 * password=... parameter become "***". */
static void mask_password(char *out, size_t outsz, const char *target)
{
    snprintf(out, outsz, "%s", target);
    char *scheme = strstr(out, "://");
    if (scheme) {
        char *auth = scheme + 3, *at = strchr(auth, '@'), *slash = strchr(auth, '/');
        char *colon = strchr(auth, ':');
        if (at && (!slash || at < slash) && colon && colon < at) {
            char rest[4096];
            snprintf(rest, sizeof(rest), "%s", at);
            snprintf(colon, outsz - (size_t)(colon - out), ":***%s", rest);
        }
    }
    char *pw = strstr(out, "password=");
    if (pw) {
        char *end = pw + 9;
        while (*end && *end != '&' && *end != ' ' && *end != '#')
            end++;
        char rest[4096];
        snprintf(rest, sizeof(rest), "%s", end);
        snprintf(pw + 9, outsz - (size_t)(pw + 9 - out), "***%s", rest);
    }
}

static void add_column(weir__table_t *t, const char *name, weir__col_type_t type, int not_null)
{
    weir__column_t *c = &t->columns[t->n_columns++];
    snprintf(c->name, sizeof(c->name), "%s", name);
    c->type = type;
    c->not_null = not_null;
}

/* A --keep field's value: a scalar, or a union of null and one scalar. */
static int scalar_type(avro_schema_t schema, weir__col_type_t *type)
{
    switch (avro_typeof(schema)) {
    case AVRO_INT32:
    case AVRO_INT64:
        *type = WEIR__COL_BIGINT;
        return 0;
    case AVRO_FLOAT:
    case AVRO_DOUBLE:
        *type = WEIR__COL_REAL;
        return 0;
    case AVRO_BOOLEAN:
        *type = WEIR__COL_BOOL;
        return 0;
    case AVRO_STRING:
    case AVRO_ENUM:
        *type = WEIR__COL_TEXT;
        return 0;
    default:
        return -1;
    }
}

static int resolve_keep(weir_sink_t *s, const char *path, avro_schema_t record, char *err,
                        size_t errsz)
{
    if (s->n_keep == WEIR__SINK_MAX_KEEP)
        return weir_seterr(err, errsz, WEIR_EINVAL, "--keep: at most %d fields",
                           WEIR__SINK_MAX_KEEP);
    weir__keep_t *k = &s->keep[s->n_keep];
    memset(k, 0, sizeof(*k));
    k->nullable_branch = -1;
    snprintf(k->path, sizeof(k->path), "%s", path);
    char column[64];
    snprintf(column, sizeof(column), "%s", path);
    for (char *c = column; *c; c++)
        if (*c == '.')
            *c = '_';
    if (strlen(path) >= sizeof(column) || !is_identifier(column, 63))
        return weir_seterr(err, errsz, WEIR_EINVAL,
                           "--keep: \"%s\" is not a field name (letters, digits, _ and . only)",
                           path);
    avro_schema_t schema = record;
    char part[128];
    const char *p = path;
    while (*p) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        snprintf(part, sizeof(part), "%.*s", (int)len, p);
        int idx = is_avro_record(schema) ? avro_schema_record_field_get_index(schema, part) : -1;
        if (idx < 0 || k->depth == 8)
            return weir_seterr(err, errsz, WEIR_ESCHEMA, "--keep %s: the input has no field %s",
                               path, path);
        k->index[k->depth++] = idx;
        schema = avro_schema_record_field_get_by_index(schema, idx);
        p = dot ? dot + 1 : p + len;
    }
    avro_schema_t value_schema = schema;
    if (is_avro_union(schema) && avro_schema_union_size(schema) == 2) {
        for (int b = 0; b < 2; b++) {
            avro_schema_t branch = avro_schema_union_branch(schema, b);
            if (!is_avro_null(branch)) {
                k->nullable_branch = b;
                value_schema = branch;
            }
        }
    }
    if (scalar_type(value_schema, &k->type) != 0)
        return weir_seterr(err, errsz, WEIR_ESCHEMA,
                           "--keep %s: only numbers, booleans, strings and enums (or a union of "
                           "one with null) can be stored in a column",
                           path);
    k->enum_schema = is_avro_enum(value_schema) ? value_schema : NULL;
    for (size_t i = 0; i < s->tables[0].n_columns; i++)
        if (!strcmp(s->tables[0].columns[i].name, column))
            return weir_seterr(err, errsz, WEIR_EINVAL,
                               "--keep %s: the table already has a column %s", path, column);
    add_column(&s->tables[0], column, k->type, 0);
    s->n_keep++;
    return 0;
}

static void define_tables(weir_sink_t *s, const char *table)
{
    weir__table_t *rows = &s->tables[WEIR__TABLE_ROWS], *dead = &s->tables[WEIR__TABLE_DEAD];
    snprintf(rows->name, sizeof(rows->name), "%s", table);
    rows->n_keys = 2;
    add_column(rows, "event_id", WEIR__COL_TEXT, 1);
    add_column(rows, "model_version", WEIR__COL_TEXT, 1);
    add_column(rows, "model_name", WEIR__COL_TEXT, 1);
    add_column(rows, "event_time", WEIR__COL_TIME, 0);
    add_column(rows, "score", WEIR__COL_REAL, 1);
    add_column(rows, "scores", WEIR__COL_SCORES, 1);
    add_column(rows, "label", WEIR__COL_TEXT, 0);
    add_column(rows, "scored_at", WEIR__COL_TIME, 1);
    snprintf(dead->name, sizeof(dead->name), "%s_dead_letters", table);
    dead->n_keys = 3;
    add_column(dead, "input", WEIR__COL_TEXT, 1);
    add_column(dead, "input_index", WEIR__COL_BIGINT, 1);
    add_column(dead, "model_version", WEIR__COL_TEXT, 1);
    add_column(dead, "model_name", WEIR__COL_TEXT, 1);
    add_column(dead, "reason", WEIR__COL_TEXT, 1);
    add_column(dead, "detail", WEIR__COL_TEXT, 1);
    add_column(dead, "value", WEIR__COL_BLOB, 0);
    add_column(dead, "recorded_at", WEIR__COL_TIME, 1);
}

int weir_sink_open(const weir_sink_config_t *cfg, weir_sink_t **out, char *err, size_t errsz)
{
    int rc = 0;
    *out = NULL;
    weir_sink_t *s = calloc(1, sizeof(*s));
    if (!s)
        return WEIR_ENOMEM;
    s->model = cfg->model;
    s->input = strdup(cfg->input ? cfg->input : "");
    if (!s->input) {
        rc = WEIR_ENOMEM;
        goto out;
    }
    mask_password(s->display, sizeof(s->display), cfg->target);
    const char *location = is_sqlite(cfg->target) ? cfg->target + 7 : cfg->target;
    const char *hash = strrchr(location, '#');
    char table[64] = DEFAULT_TABLE;
    size_t loc_len = hash ? (size_t)(hash - location) : strlen(location);
    if (!is_sqlite(cfg->target) && !is_pg(cfg->target)) {
        rc = weir_seterr(err, errsz, WEIR_EINVAL,
                         "--out %s: not sqlite:PATH[#TABLE] or postgresql://...[#TABLE]",
                         s->display);
        goto out;
    }
    if (hash) {
        if (!is_identifier(hash + 1, 48)) {
            rc = weir_seterr(err, errsz, WEIR_EINVAL,
                             "--out %s: the table name must be letters, digits and _ (at most 48, "
                             "not starting with a digit)",
                             s->display);
            goto out;
        }
        snprintf(table, sizeof(table), "%s", hash + 1);
    }
    if (loc_len == 0 || loc_len >= sizeof(s->location)) {
        rc = weir_seterr(err, errsz, WEIR_EINVAL, "--out %s: no database named", s->display);
        goto out;
    }
    memcpy(s->location, location, loc_len);
    s->location[loc_len] = '\0';
    s->ops = is_sqlite(cfg->target) ? &weir__sink_sqlite : &weir__sink_pg;
    define_tables(s, table);

    if (cfg->keep && *cfg->keep) {
        char *list = strdup(cfg->keep), *save = NULL;
        if (!list) {
            rc = WEIR_ENOMEM;
            goto out;
        }
        for (char *f = strtok_r(list, ",", &save); f && rc == 0; f = strtok_r(NULL, ",", &save))
            rc = resolve_keep(s, f, cfg->input_schema, err, errsz);
        free(list);
        if (rc)
            goto out;
        s->iface = avro_generic_class_from_schema(cfg->input_schema);
        if (!s->iface || avro_generic_value_new(s->iface, &s->value) != 0) {
            rc = WEIR_ENOMEM;
            goto out;
        }
        s->have_value = 1;
        s->reader = avro_reader_memory("", 0);
        if (!s->reader) {
            rc = WEIR_ENOMEM;
            goto out;
        }
    }
    char inner[512] = "";
    if ((rc = s->ops->open(s, inner, sizeof(inner))) != 0) {
        rc = weir_seterr(err, errsz, rc, "%s: %s", s->display, inner);
        goto out;
    }
    *out = s;
    s = NULL;
out:
    if (s)
        weir_sink_close(s);
    return rc;
}

const char *weir_sink_display(const weir_sink_t *s)
{
    return s->display;
}

const char *weir_sink_dead_table(const weir_sink_t *s)
{
    return s->tables[WEIR__TABLE_DEAD].name;
}

static int begin(weir_sink_t *s, char *err, size_t errsz)
{
    if (s->in_transaction)
        return 0;
    char inner[512] = "";
    int rc = s->ops->begin(s, inner, sizeof(inner));
    if (rc)
        return weir_seterr(err, errsz, rc, "%s: %s", s->display, inner);
    s->in_transaction = 1;
    return 0;
}

static int failed(weir_sink_t *s, int rc, const char *inner, char *err, size_t errsz)
{
    s->ops->rollback(s);
    s->in_transaction = 0;
    return weir_seterr(err, errsz, rc, "%s: %s", s->display, inner);
}

/* One --keep field of the decoded datum into its cell. */
static void keep_cell(weir_sink_t *s, const weir__keep_t *k, weir__cell_t *c)
{
    avro_value_t v = s->value, child;
    memset(c, 0, sizeof(*c));
    for (int d = 0; d < k->depth; d++) {
        if (avro_value_get_by_index(&v, (size_t)k->index[d], &child, NULL) != 0) {
            c->is_null = 1;
            return;
        }
        v = child;
    }
    if (k->nullable_branch >= 0) {
        int disc = -1;
        if (avro_value_get_discriminant(&v, &disc) != 0 || disc != k->nullable_branch ||
            avro_value_get_current_branch(&v, &child) != 0) {
            c->is_null = 1;
            return;
        }
        v = child;
    }
    int32_t i32;
    float f;
    int b;
    size_t len;
    switch (avro_value_get_type(&v)) {
    case AVRO_INT32:
        c->is_null = avro_value_get_int(&v, &i32) != 0;
        c->i = i32;
        break;
    case AVRO_INT64:
        c->is_null = avro_value_get_long(&v, &c->i) != 0;
        break;
    case AVRO_FLOAT:
        c->is_null = avro_value_get_float(&v, &f) != 0;
        c->d = f;
        break;
    case AVRO_DOUBLE:
        c->is_null = avro_value_get_double(&v, &c->d) != 0;
        break;
    case AVRO_BOOLEAN:
        c->is_null = avro_value_get_boolean(&v, &b) != 0;
        c->i = b != 0;
        break;
    case AVRO_STRING:
        c->is_null = avro_value_get_string(&v, &c->text, &len) != 0;
        break;
    case AVRO_ENUM:
        c->is_null = avro_value_get_enum(&v, &b) != 0 || !k->enum_schema;
        if (!c->is_null)
            c->text = avro_schema_enum_get(k->enum_schema, b);
        c->is_null = !c->text;
        break;
    default:
        c->is_null = 1;
        break;
    }
    if (!c->is_null && k->type == WEIR__COL_REAL && c->d != c->d)
        c->is_null = 1; /* NaN: no value, as pandas reads it */
}

int weir_sink_row(weir_sink_t *s, const char *event_id, int64_t event_time_ms, const float *outputs,
                  double score, int class_index, int64_t scored_at_ms, const uint8_t *datum,
                  size_t datum_len, char *err, size_t errsz)
{
    weir__cell_t cells[WEIR__SINK_MAX_COLUMNS];
    int rc = begin(s, err, errsz);
    if (rc)
        return rc;
    memset(cells, 0, sizeof(weir__cell_t) * 8);
    weir__sink_time(s->event_time, sizeof(s->event_time), event_time_ms);
    weir__sink_time(s->scored_at, sizeof(s->scored_at), scored_at_ms);
    /* scores: every class's probability (binary: negative, positive); a
     * regression has none. */
    size_t n_out = weir_model_outputs(s->model), pos = 0;
    int binary = weir_model_task(s->model) == WEIR_TASK_BINARY;
    int regression = weir_model_task(s->model) == WEIR_TASK_REGRESSION;
    size_t n_scores = regression ? 0 : binary ? 2 : n_out;
    if (n_scores > WEIR__SINK_MAX_SCORES)
        n_scores = WEIR__SINK_MAX_SCORES;
    s->scores[pos++] = s->ops->array_open;
    for (size_t i = 0; i < n_scores; i++) {
        double p =
            binary ? (i == 0 ? 1.0 - (double)outputs[0] : (double)outputs[0]) : (double)outputs[i];
        pos +=
            (size_t)snprintf(s->scores + pos, sizeof(s->scores) - pos, "%s%.9g", i ? "," : "", p);
    }
    s->scores[pos++] = s->ops->array_close;
    s->scores[pos] = '\0';

    cells[0].text = event_id;
    cells[1].text = weir_model_version(s->model);
    cells[2].text = weir_model_name(s->model);
    cells[3].text = s->event_time;
    cells[4].d = score;
    cells[5].text = s->scores;
    cells[6].text = class_index >= 0 ? weir_model_class(s->model, (size_t)class_index) : NULL;
    cells[6].is_null = cells[6].text == NULL;
    cells[7].text = s->scored_at;
    if (s->n_keep) {
        avro_value_reset(&s->value);
        avro_reader_memory_set_source(s->reader, (const char *)datum, (int64_t)datum_len);
        int bad = avro_value_read(s->reader, &s->value) != 0;
        for (size_t i = 0; i < s->n_keep; i++) {
            keep_cell(s, &s->keep[i], &cells[8 + i]);
            cells[8 + i].is_null |= bad;
        }
    }
    char inner[512] = "";
    if ((rc = s->ops->upsert(s, WEIR__TABLE_ROWS, cells, inner, sizeof(inner))) != 0)
        return failed(s, rc, inner, err, errsz);
    return 0;
}

int weir_sink_dead(weir_sink_t *s, uint64_t index, const char *reason, const char *detail,
                   const uint8_t *datum, size_t datum_len, int64_t now_ms, char *err, size_t errsz)
{
    weir__cell_t cells[8];
    int rc = begin(s, err, errsz);
    if (rc)
        return rc;
    memset(cells, 0, sizeof(cells));
    weir__sink_time(s->scored_at, sizeof(s->scored_at), now_ms);
    cells[0].text = s->input;
    cells[1].i = (int64_t)index;
    cells[2].text = weir_model_version(s->model);
    cells[3].text = weir_model_name(s->model);
    cells[4].text = reason;
    cells[5].text = detail ? detail : "";
    cells[6].blob = datum;
    cells[6].len = datum_len;
    cells[6].is_null = datum == NULL;
    cells[7].text = s->scored_at;
    char inner[512] = "";
    if ((rc = s->ops->upsert(s, WEIR__TABLE_DEAD, cells, inner, sizeof(inner))) != 0)
        return failed(s, rc, inner, err, errsz);
    return 0;
}

int weir_sink_commit(weir_sink_t *s, char *err, size_t errsz)
{
    if (!s->in_transaction)
        return 0;
    char inner[512] = "";
    int rc = s->ops->commit(s, inner, sizeof(inner));
    if (rc)
        return failed(s, rc, inner, err, errsz);
    s->in_transaction = 0;
    return 0;
}

void weir_sink_close(weir_sink_t *s)
{
    if (!s)
        return;
    if (s->ops) {
        if (s->in_transaction)
            s->ops->rollback(s);
        s->ops->close(s);
    }
    if (s->have_value)
        avro_value_decref(&s->value);
    if (s->iface)
        avro_value_iface_decref(s->iface);
    if (s->reader)
        avro_reader_free(s->reader);
    free(s->input);
    free(s);
}

int weir__sink_sql_create(const weir_sink_t *s, weir__table_id_t id, char *sql, size_t sqlsz)
{
    const weir__table_t *t = &s->tables[id];
    char q[128];
    weir__sink_quote(q, sizeof(q), t->name);
    size_t pos = (size_t)snprintf(sql, sqlsz, "CREATE TABLE IF NOT EXISTS %s (", q);
    for (size_t i = 0; i < t->n_columns && pos < sqlsz; i++) {
        const weir__column_t *c = &t->columns[i];
        weir__sink_quote(q, sizeof(q), c->name);
        pos += (size_t)snprintf(sql + pos, sqlsz - pos, "%s %s%s, ", q, s->ops->sql_types[c->type],
                                c->not_null ? " NOT NULL" : "");
    }
    for (size_t i = 0; i < t->n_keys && pos < sqlsz; i++) {
        weir__sink_quote(q, sizeof(q), t->columns[i].name);
        pos += (size_t)snprintf(sql + pos, sqlsz - pos, "%s%s", i ? ", " : "PRIMARY KEY (", q);
    }
    if (pos < sqlsz)
        pos += (size_t)snprintf(sql + pos, sqlsz - pos, "))");
    return pos < sqlsz ? 0 : WEIR_ELIMIT;
}

int weir__sink_sql_upsert(const weir_sink_t *s, weir__table_id_t id, int numbered, char *sql,
                          size_t sqlsz)
{
    const weir__table_t *t = &s->tables[id];
    char q[128];
    weir__sink_quote(q, sizeof(q), t->name);
    size_t pos = (size_t)snprintf(sql, sqlsz, "INSERT INTO %s (", q);
    for (size_t i = 0; i < t->n_columns && pos < sqlsz; i++) {
        weir__sink_quote(q, sizeof(q), t->columns[i].name);
        pos += (size_t)snprintf(sql + pos, sqlsz - pos, "%s%s", i ? ", " : "", q);
    }
    for (size_t i = 0; i < t->n_columns && pos < sqlsz; i++) {
        const char *cast = numbered && t->columns[i].type == WEIR__COL_TIME ? "::timestamptz" : "";
        if (numbered)
            pos += (size_t)snprintf(sql + pos, sqlsz - pos, "%s$%zu%s", i ? ", " : ") VALUES (",
                                    i + 1, cast);
        else
            pos += (size_t)snprintf(sql + pos, sqlsz - pos, "%s?", i ? ", " : ") VALUES (");
    }
    for (size_t i = 0; i < t->n_keys && pos < sqlsz; i++) {
        weir__sink_quote(q, sizeof(q), t->columns[i].name);
        pos += (size_t)snprintf(sql + pos, sqlsz - pos, "%s%s", i ? ", " : ") ON CONFLICT (", q);
    }
    for (size_t i = t->n_keys; i < t->n_columns && pos < sqlsz; i++) {
        weir__sink_quote(q, sizeof(q), t->columns[i].name);
        pos += (size_t)snprintf(sql + pos, sqlsz - pos, "%s%s = excluded.%s",
                                i > t->n_keys ? ", " : ") DO UPDATE SET ", q, q);
    }
    return pos < sqlsz ? 0 : WEIR_ELIMIT;
}

int weir__sink_check_column(const weir_sink_t *s, weir__table_id_t id, const char *name,
                            const char *type, int *seen, char *err, size_t errsz)
{
    const weir__table_t *t = &s->tables[id];
    for (size_t i = 0; i < t->n_columns; i++) {
        if (strcmp(t->columns[i].name, name) != 0)
            continue;
        seen[i] = 1;
        if (strcasecmp(s->ops->sql_types[t->columns[i].type], type) != 0)
            return weir_seterr(err, errsz, WEIR_EIO,
                               "table %s exists with column %s of type %s where weir writes %s "
                               "(write to another table with #TABLE, or drop it)",
                               t->name, name, type, s->ops->sql_types[t->columns[i].type]);
        return 0;
    }
    return 0;
}

int weir__sink_check_seen(const weir_sink_t *s, weir__table_id_t id, const int *seen, char *err,
                          size_t errsz)
{
    const weir__table_t *t = &s->tables[id];
    for (size_t i = 0; i < t->n_columns; i++)
        if (!seen[i])
            return weir_seterr(err, errsz, WEIR_EIO,
                               "table %s exists without the column %s that weir writes (write to "
                               "another table with #TABLE, or drop it)",
                               t->name, t->columns[i].name);
    return 0;
}
