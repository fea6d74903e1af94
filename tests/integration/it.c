/*
 * it.c — shared steps of the broker tests (see it.h).
 */
#include "it.h"

#include <avro.h>
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "schemas.h"

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void it_setup(it_scenario_t *s, const char *name, int partitions, const char *model, int http_port,
              const char *extra_conf)
{
    memset(s, 0, sizeof(*s));
    char base[96];
    snprintf(base, sizeof(base), "it-%s", name);
    weir_it_unique(base, s->in, sizeof(s->in));
    snprintf(s->out, sizeof(s->out), "%s-scored", s->in);
    snprintf(s->dlq, sizeof(s->dlq), "%s-dlq", s->in);
    snprintf(s->group, sizeof(s->group), "%s-group", s->in);
    weir_it_create_topic(s->in, partitions);
    weir_it_create_topic(s->out, partitions);
    weir_it_create_topic(s->dlq, 1);
    s->dir = weir_it_tmpdir();
    s->model = model ? model : WEIR_SOURCE_DIR "/examples/model.json";
    s->http_port = http_port;
    char conf[4096];
    char http[64] = "";
    if (http_port)
        snprintf(http, sizeof(http), "127.0.0.1:%d", http_port);
    snprintf(conf, sizeof(conf),
             "kafka.bootstrap.servers = %s\n"
             "kafka.group.id = %s\n"
             "input.topics = %s\n"
             "input.schema = %s/schemas/transaction.avsc\n"
             "output.topic = %s\n"
             "dlq.topic = %s\n"
             "model.path = %s\n"
             "http.listen = %s\n"
             "commit.interval = 200ms\n"
             "%s\n",
             weir_it_bootstrap(), s->group, s->in, WEIR_SOURCE_DIR, s->out, s->dlq, s->model, http,
             extra_conf ? extra_conf : "");
    s->conf = weir_it_write(s->dir, "weir.conf", conf);
}

void it_teardown(it_scenario_t *s)
{
    free(s->dir);
    free(s->conf);
    s->dir = s->conf = NULL;
}

void it_gen(const it_scenario_t *s, uint64_t count, uint64_t seed, const char *file)
{
    char n[32], sd[32], out[256], log[512];
    snprintf(n, sizeof(n), "%llu", (unsigned long long)count);
    snprintf(sd, sizeof(sd), "%llu", (unsigned long long)seed);
    snprintf(out, sizeof(out), "topic:%s", s->in);
    snprintf(log, sizeof(log), "%s/gen.log", s->dir);
    const char *argv[] = {WEIR_BINARY, "gen", "-b",      weir_it_bootstrap(),
                          "--out",     out,   "--count", n,
                          "--seed",    sd,    "-q",      NULL};
    cr_assert_eq(weir_it_run(argv, log, 300000), 0, "weir gen to %s failed (see %s)", s->in, log);
    if (file) {
        char fout[600];
        snprintf(fout, sizeof(fout), "file:%s", file);
        const char *fargv[] = {WEIR_BINARY, "gen",    "--out", fout, "--count",
                               n,           "--seed", sd,      "-q", NULL};
        cr_assert_eq(weir_it_run(fargv, log, 300000), 0, "weir gen to %s failed", file);
    }
}

pid_t it_gen_background(const it_scenario_t *s, const char *count, const char *rate,
                        const char *seed)
{
    char out[256], log[512];
    snprintf(out, sizeof(out), "topic:%s", s->in);
    snprintf(log, sizeof(log), "%s/gen.log", s->dir);
    const char *argv[] = {WEIR_BINARY, "gen", "-b",      weir_it_bootstrap(),
                          "--out",     out,   "--count", count,
                          "--rate",    rate,  "--seed",  seed,
                          "-q",        NULL};
    return weir_it_spawn(argv, log);
}

double it_metric(int port, const char *sample)
{
    char *body;
    if (weir_it_http_get(port, "/metrics", &body) != 200) {
        free(body);
        return -1;
    }
    double v = weir_it_metric(body, sample);
    free(body);
    return v;
}

int it_wait_metric(int port, const char *sample, double at_least, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    while (it_metric(port, sample) < at_least) {
        if (now_ms() > deadline)
            return 0;
        struct timespec ts = {0, 100 * 1000000};
        nanosleep(&ts, NULL);
    }
    return 1;
}

pid_t it_start(const it_scenario_t *s, int n)
{
    char log[512];
    snprintf(log, sizeof(log), "%s/weir-%d.log", s->dir, n);
    const char *argv[] = {WEIR_BINARY, "run", "-c", s->conf, NULL};
    return weir_it_spawn(argv, log);
}

int it_stop(pid_t pid)
{
    kill(pid, SIGTERM);
    return weir_it_wait(pid, 60000);
}

int it_wait_committed_all(const it_scenario_t *s, int partitions, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        int done = 1;
        for (int p = 0; p < partitions && done; p++)
            done = weir_it_committed(s->group, s->in, p) == weir_it_high(s->in, p);
        if (done)
            return 1;
        if (now_ms() > deadline)
            return 0;
        struct timespec ts = {0, 200 * 1000000};
        nanosleep(&ts, NULL);
    }
}

static void get_string(avro_value_t *rec, const char *name, char *out, size_t outsz)
{
    avro_value_t field, branch;
    const char *s = NULL;
    size_t n = 0;
    cr_assert_eq(avro_value_get_by_name(rec, name, &field, NULL), 0, "no field %s", name);
    if (avro_value_get_type(&field) == AVRO_UNION) {
        cr_assert_eq(avro_value_get_current_branch(&field, &branch), 0);
        field = branch;
        if (avro_value_get_type(&field) == AVRO_NULL) {
            snprintf(out, outsz, "None");
            return;
        }
    }
    cr_assert_eq(avro_value_get_string(&field, &s, &n), 0);
    snprintf(out, outsz, "%.*s", (int)(n ? n - 1 : 0), s);
}

weir_reader_t *it_scored_reader(void)
{
    weir_reader_t *reader;
    char err[512];
    avro_schema_t input, scored;
    cr_assert_eq(weir_schema_parse(weir_schema_text("transaction"), &input, err, sizeof(err)), 0);
    cr_assert_eq(weir_scored_schema(input, &scored, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(weir_reader_new(scored, &reader, err, sizeof(err)), 0, "%s", err);
    avro_schema_decref(scored);
    avro_schema_decref(input);
    return reader;
}

void it_decode_scored(weir_reader_t *reader, const weir_it_record_t *r, it_scored_t *out)
{
    char err[512];
    cr_assert(r->len > 5 && r->value[0] == 0, "scored record not Confluent-framed");
    avro_value_t *v;
    weir_reason_t reason;
    cr_assert_eq(
        weir_reader_read(reader, r->value + 5, r->len - 5, 1, &v, NULL, &reason, err, sizeof(err)),
        0, "scored record does not decode: %s", err);
    get_string(v, "event_id", out->event_id, sizeof(out->event_id));
    get_string(v, "label", out->label, sizeof(out->label));
    get_string(v, "model_name", out->model, sizeof(out->model));
    avro_value_t score;
    avro_value_get_by_name(v, "score", &score, NULL);
    avro_value_get_double(&score, &out->score);
}

it_expected_t *it_expected(const char *model, const char *events_file, size_t *n)
{
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s/tests/integration/expected_scores.py %s %s",
             WEIR_SOURCE_DIR, model, events_file);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t cap = 1024, count = 0;
    it_expected_t *rows = malloc(cap * sizeof(*rows));
    char line[512];
    while (fgets(line, sizeof(line), p)) {
        if (count == cap)
            rows = realloc(rows, (cap *= 2) * sizeof(*rows));
        it_expected_t *e = &rows[count];
        char second[64];
        if (sscanf(line, "%63s\t%63s\t%63s", e->event_id, second, e->label_or_reason) != 3)
            continue;
        e->dead = !strcmp(second, "DEAD");
        e->score = e->dead ? 0 : strtod(second, NULL);
        count++;
    }
    cr_assert_eq(pclose(p), 0, "expected_scores.py failed (is python3-avro installed?)");
    *n = count;
    return rows;
}

void it_dump_log(const it_scenario_t *s, int n)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "tail -n 40 %s/weir-%d.log >&2", s->dir, n);
    if (system(cmd) != 0)
        cr_log_warn("no log");
}
