/*
 * test_rollout.c — rolling a model out and back in `weir run`, on the real
 * broker: a version swapped mid-stream under load (each event scored once, by
 * one version, the switch visible in the headers, each record whole from
 * one version: header, model_version and score; POST /score on
 * score.listen follows the swap), a broken bundle refused
 * while the old one serves, an automatic rollback of a version that
 * dead-letters everything, a shadow whose scores match `weir batch`, and a
 * canary that takes a stable share of keys.
 *
 * Every test ends with the exact account of bench/faults/account.h.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <jansson.h>
#include <netinet/in.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "account.h"
#include "it.h"
#include "schemas.h"
#include "scoring.h"
#include "support.h"

#define EXAMPLE_MODEL WEIR_SOURCE_DIR "/examples/model.json"

/* A variant of the example bundle: version @p version, bias moved by
 * @p bias_shift; @p mutate may change more. Written to @p path. */
static void write_bundle(const char *path, const char *version, double bias_shift,
                         void (*mutate)(json_t *))
{
    json_error_t jerr;
    json_t *m = json_load_file(EXAMPLE_MODEL, 0, &jerr);
    cr_assert_not_null(m, "%s", jerr.text);
    json_object_set_new(m, "version", json_string(version));
    json_t *model = json_object_get(m, "model");
    double bias = json_real_value(json_object_get(model, "bias"));
    json_object_set_new(model, "bias", json_real(bias + bias_shift));
    if (mutate)
        mutate(m);
    cr_assert_eq(json_dump_file(m, path, JSON_INDENT(1)), 0);
    json_decref(m);
}

/* Every event meets a channel the one-hot step does not know, under policy error. */
static void unknown_channels(json_t *m)
{
    json_t *features = json_object_get(m, "features");
    for (size_t i = 0; i < json_array_size(features); i++) {
        json_t *f = json_array_get(features, i);
        if (strcmp(json_string_value(json_object_get(f, "name")), "channel") != 0)
            continue;
        json_t *step = json_array_get(json_object_get(f, "transform"), 0);
        json_t *cats = json_pack("[ssss]", "no1", "no2", "no3", "no4");
        json_object_set_new(step, "categories", cats);
        json_object_set_new(step, "unknown", json_string("error"));
    }
}

/* A feature read from a field the input schema does not have. */
static void missing_source(json_t *m)
{
    json_t *f = json_array_get(json_object_get(m, "features"), 0);
    json_object_set_new(f, "source", json_string("amount_in_cents"));
}

static char *path_in(const char *dir, const char *name)
{
    char *p = malloc(strlen(dir) + strlen(name) + 2);
    sprintf(p, "%s/%s", dir, name);
    return p;
}

static void make_folder(const char *dir)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

static int weir_cmd(const it_scenario_t *s, const char *const argv[])
{
    char log[512];
    snprintf(log, sizeof(log), "%s/cmd.log", s->dir);
    return weir_it_run(argv, log, 120000);
}

static weir_account_t account(const it_scenario_t *s)
{
    weir_account_t a;
    char err[512], line[512];
    cr_assert_eq(weir_account_run(weir_it_bootstrap(), s->group, s->in, s->out, s->dlq, &a, err,
                                  sizeof(err)),
                 0, "account: %s", err);
    weir_account_format(&a, line, sizeof(line));
    cr_log_info("%s: %s", s->in, line);
    return a;
}

static void assert_exact(const weir_account_t *a, int64_t input)
{
    cr_assert_eq(a->input, input, "input records");
    cr_assert_eq(a->lost, 0, "committed without a scored event or dead letter");
    cr_assert_eq(a->unprocessed, 0, "left without output");
    cr_assert_eq(a->orphans, 0, "outputs that name no input");
    cr_assert_eq(a->duplicates, 0, "written twice");
    cr_assert(a->committed_at_end, "committed to the end (%lld behind)", (long long)a->behind);
    cr_assert_eq(a->scored + a->dead, input);
}

static void wait_done(const it_scenario_t *s, int partitions)
{
    int done = it_wait_committed_all(s, partitions, 240000);
    if (!done)
        it_dump_log(s, 1);
    cr_assert(done, "every input partition committed to its high watermark");
}

/* The version header of a record ("" when absent). */
static const char *version_of(const weir_it_record_t *r)
{
    const char *v = weir_it_header(r, "weir.model.version");
    return v ? v : "";
}

/* event id → score of a `weir batch` output file. */
typedef struct {
    char id[64];
    double score;
} id_score_t;

static int by_id(const void *a, const void *b)
{
    return strcmp(((const id_score_t *)a)->id, ((const id_score_t *)b)->id);
}

static id_score_t *batch_scores(const it_scenario_t *s, const char *model, const char *events,
                                const char *name, size_t *n)
{
    char out[600];
    snprintf(out, sizeof(out), "%s/%s.avro", s->dir, name);
    const char *argv[] = {WEIR_BINARY, "batch", "--model", model, "--in",
                          events,      "--out", out,       "-q",  NULL};
    cr_assert_eq(weir_cmd(s, argv), 0, "weir batch --model %s", model);
    weir_container_reader_t *r;
    char err[512];
    cr_assert_eq(weir_container_reader_open(out, &r, err, sizeof(err)), 0, "%s", err);
    size_t cap = 1024, count = 0;
    id_score_t *rows = malloc(cap * sizeof(*rows));
    avro_value_t *v;
    const uint8_t *body;
    size_t len, skipped;
    weir_reason_t reason;
    while (weir_container_reader_next(r, &v, &body, &len, &skipped, &reason, err, sizeof(err)) ==
           1) {
        if (count == cap)
            rows = realloc(rows, (cap *= 2) * sizeof(*rows));
        avro_value_t f;
        const char *id;
        size_t idn;
        avro_value_get_by_name(v, "event_id", &f, NULL);
        avro_value_get_string(&f, &id, &idn);
        snprintf(rows[count].id, sizeof(rows[count].id), "%s", id);
        avro_value_get_by_name(v, "score", &f, NULL);
        avro_value_get_double(&f, &rows[count].score);
        count++;
    }
    weir_container_reader_close(r);
    qsort(rows, count, sizeof(*rows), by_id);
    *n = count;
    return rows;
}

static double lookup(const id_score_t *rows, size_t n, const char *id)
{
    id_score_t key;
    snprintf(key.id, sizeof(key.id), "%s", id);
    const id_score_t *hit = bsearch(&key, rows, n, sizeof(*rows), by_id);
    cr_assert_not_null(hit, "event %s in the batch output", id);
    return hit->score;
}

/* POST /score of one JSON event to weir run's score.listen: the status, and
 * the answer's version and score. */
static int post_score(int port, const char *json, char *version, size_t vsz, double *score)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    char head[256];
    size_t len = strlen(json);
    int n = snprintf(head, sizeof(head),
                     "POST /score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n",
                     len);
    cr_assert_eq(write(fd, head, (size_t)n), n);
    cr_assert_eq(write(fd, json, len), (ssize_t)len);
    char buf[8192];
    size_t got = 0;
    ssize_t k;
    while (got < sizeof(buf) - 1 && (k = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
        got += (size_t)k;
    close(fd);
    buf[got] = '\0';
    int status = 0;
    sscanf(buf, "HTTP/1.1 %d", &status);
    const char *body = strstr(buf, "\r\n\r\n");
    json_t *j = body ? json_loads(body + 4, 0, NULL) : NULL;
    cr_assert_not_null(j, "a JSON answer: %s", buf);
    const char *v = json_string_value(json_object_get(j, "version"));
    snprintf(version, vsz, "%s", v ? v : "");
    *score = json_number_value(json_object_get(j, "score"));
    json_decref(j);
    return status;
}

/* The first event of an Avro container file, as JSON. */
static char *first_event_json(const char *file)
{
    weir_container_reader_t *r;
    char err[512];
    avro_value_t *v;
    const uint8_t *body;
    size_t len, skipped;
    weir_reason_t reason;
    char *json = NULL;
    cr_assert_eq(weir_container_reader_open(file, &r, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(
        weir_container_reader_next(r, &v, &body, &len, &skipped, &reason, err, sizeof(err)), 1);
    cr_assert_eq(avro_value_to_json(v, 1, &json), 0);
    weir_container_reader_close(r);
    return json;
}

Test(rollout, a_model_swapped_mid_stream_scores_each_event_once_by_one_version, .timeout = 400)
{
    int port = weir_it_free_port();
    it_scenario_t s;
    char *dir = weir_it_tmpdir();
    char *models = path_in(dir, "models");
    make_folder(models);
    char *v1 = path_in(models, "1.json"), *v2 = path_in(models, "2.json");
    write_bundle(v1, "1", 0, NULL);
    write_bundle(v2, "2", 0.1, NULL);
    const char *promote1[] = {WEIR_BINARY, "model", "promote", models, "1", NULL};
    int score_port = weir_it_free_port();
    char extra[128];
    snprintf(extra, sizeof(extra), "score.listen = 127.0.0.1:%d\n", score_port);
    it_setup(&s, "swap", 3, models, port, extra);
    cr_assert_eq(weir_cmd(&s, promote1), 0);

    /* the events the stream will carry (same seed), for weir batch */
    /* 24,000 events streamed while version 2 comes in, and 6,000 more once it
     * is in, so that both versions score events however slow the machine is;
     * the same events in files, for weir batch */
    const int n = 30000;
    char *events = path_in(s.dir, "events.avro"), *more = path_in(s.dir, "more.avro");
    char out_file[600];
    snprintf(out_file, sizeof(out_file), "file:%s", events);
    const char *gen_file[] = {WEIR_BINARY, "gen",    "--out", out_file, "--count",
                              "24000",     "--seed", "71",    "-q",     NULL};
    cr_assert_eq(weir_cmd(&s, gen_file), 0);
    snprintf(out_file, sizeof(out_file), "file:%s", more);
    const char *gen_more[] = {WEIR_BINARY, "gen",    "--out", out_file, "--count",
                              "6000",      "--seed", "72",    "-q",     NULL};
    cr_assert_eq(weir_cmd(&s, gen_more), 0);
    char *json = first_event_json(events);

    pid_t weir = it_start(&s, 1);
    pid_t gen = it_gen_background(&s, "24000", "3000", "71");
    cr_assert(it_wait_metric(port, "weir_events_scored_total", 5000, 120000));
    /* score.listen: POST /score inside weir run, by the version serving */
    char version[32];
    double one;
    cr_assert_eq(post_score(score_port, json, version, sizeof(version), &one), 200);
    cr_assert_str_eq(version, "1");
    const char *promote2[] = {WEIR_BINARY, "model", "promote", models, "2", NULL};
    cr_assert_eq(weir_cmd(&s, promote2), 0);
    cr_assert(it_wait_metric(port,
                             "weir_model_reloads_total{role=\"champion\",outcome=\"swapped\"}", 1,
                             60000),
              "the new version was swapped in");
    double at_swap = it_metric(port, "weir_events_scored_total");
    int gen_rc = weir_it_exited(gen, 0), streaming = gen_rc == -1;
    double two;
    cr_assert_eq(post_score(score_port, json, version, sizeof(version), &two), 200);
    cr_assert_str_eq(version, "2", "POST /score follows the swap");
    if (streaming)
        gen_rc = weir_it_wait(gen, 120000);
    cr_assert_eq(gen_rc, 0);
    gen = it_gen_background(&s, "6000", "3000", "72");
    cr_assert_eq(weir_it_wait(gen, 120000), 0);
    wait_done(&s, 3);
    double pause = it_metric(port, "weir_model_swap_pause_seconds");
    cr_log_info("swap after %.0f events scored (the first writer %s); loop pause %.0f us", at_swap,
                streaming ? "still writing" : "done, weir still reading", pause * 1e6);
    cr_assert_eq(it_stop(weir), 0);

    weir_account_t a = account(&s);
    assert_exact(&a, n);

    /* each partition: version 1 up to one offset, version 2 from the next on;
     * each record whole from one version: its header, its model_version and
     * its score (the one weir batch gives the event with that version) */
    size_t n1, n2, m1, m2;
    id_score_t *b1 = batch_scores(&s, v1, events, "v1", &n1);
    id_score_t *b2 = batch_scores(&s, v2, events, "v2", &n2);
    id_score_t *c1 = batch_scores(&s, v1, more, "v1-more", &m1);
    id_score_t *c2 = batch_scores(&s, v2, more, "v2-more", &m2);
    cr_assert_eq(n1 + m1, (size_t)n);
    cr_assert_eq(n2 + m2, (size_t)n);
    cr_assert_eq(one, lookup(b1, n1, "tx-71-0"), "POST /score gives version 1's batch score");
    cr_assert_eq(two, lookup(b2, n2, "tx-71-0"), "and then version 2's");
    char err[512];
    avro_schema_t input, scored;
    weir_reader_t *reader;
    cr_assert_eq(weir_schema_parse(weir_schema_text("transaction"), &input, err, sizeof(err)), 0);
    cr_assert_eq(weir_scored_schema_with(input, 0, &scored, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(weir_reader_new(scored, &reader, err, sizeof(err)), 0, "%s", err);
    weir_it_records_t out;
    weir_it_read(s.out, (size_t)n, 60000, &out);
    cr_assert_eq(out.count, (size_t)n);
    int switched[3] = {0, 0, 0};
    size_t by_version[3] = {0, 0, 0};
    int64_t last_offset[3] = {-1, -1, -1};
    for (size_t i = 0; i < out.count; i++) {
        const weir_it_record_t *r = &out.records[i];
        cr_assert_gt(r->offset, last_offset[r->partition], "records read in offset order");
        last_offset[r->partition] = r->offset;
        const char *v = version_of(r);
        cr_assert(!strcmp(v, "1") || !strcmp(v, "2"), "version header \"%s\"", v);
        avro_value_t *sv, f;
        weir_reason_t reason;
        cr_assert_eq(weir_reader_read(reader, r->value + 5, r->len - 5, 1, &sv, NULL, &reason, err,
                                      sizeof(err)),
                     0, "a ScoredEvent: %s", err);
        const char *id, *mv;
        size_t idn, mvn;
        double score;
        avro_value_get_by_name(sv, "event_id", &f, NULL);
        avro_value_get_string(&f, &id, &idn);
        avro_value_get_by_name(sv, "model_version", &f, NULL);
        avro_value_get_string(&f, &mv, &mvn);
        avro_value_get_by_name(sv, "score", &f, NULL);
        avro_value_get_double(&f, &score);
        int is_two = !strcmp(v, "2");
        cr_assert_str_eq(mv, v, "%s: the header and the record name one version", id);
        int later = !strncmp(id, "tx-72-", 6);
        double expect = later ? lookup(is_two ? c2 : c1, is_two ? m2 : m1, id)
                              : lookup(is_two ? b2 : b1, is_two ? n2 : n1, id);
        cr_assert_eq(score, expect, "%s: the score is version %s's", id, v);
        by_version[1 + is_two]++;
        if (is_two)
            switched[r->partition] = 1;
        else
            cr_assert(!switched[r->partition], "partition %d: a version-1 event after version 2",
                      r->partition);
    }
    cr_log_info("scored by version 1: %zu, by version 2: %zu", by_version[1], by_version[2]);
    cr_assert_gt(by_version[1], 0);
    cr_assert_gt(by_version[2], 0);
    weir_it_records_free(&out);
    weir_reader_destroy(reader);
    avro_schema_decref(scored);
    avro_schema_decref(input);
    free(b1);
    free(b2);
    free(c1);
    free(c2);
    free(json);
    free(events);
    free(more);
    weir_it_delete_topic(s.in);
    weir_it_delete_topic(s.out);
    weir_it_delete_topic(s.dlq);
    it_teardown(&s);
    free(v1);
    free(v2);
    free(models);
    free(dir);
}

Test(rollout, a_broken_bundle_is_refused_and_the_old_one_keeps_serving, .timeout = 300)
{
    int port = weir_it_free_port();
    it_scenario_t s;
    char *dir = weir_it_tmpdir();
    char *bundle = path_in(dir, "model.json");
    char *next = path_in(dir, "model.json.next");
    write_bundle(bundle, "1", 0, NULL);
    it_setup(&s, "broken", 2, bundle, port, NULL);
    pid_t weir = it_start(&s, 1);
    it_gen(&s, 3000, 72, NULL);
    cr_assert(it_wait_metric(port, "weir_events_scored_total", 3000, 120000));

    /* a bundle that reads a field the input does not have, renamed over the old */
    write_bundle(next, "2", 0, missing_source);
    cr_assert_eq(rename(next, bundle), 0);
    cr_assert(it_wait_metric(port,
                             "weir_model_reloads_total{role=\"champion\",outcome=\"refused\"}", 1,
                             60000),
              "the bundle was refused");
    /* and a file cut in the middle, as a copy caught half-way would be */
    FILE *f = fopen(next, "w");
    cr_assert_not_null(f);
    fputs("{\"format\": \"weir.model/1\", \"name\": \"fraud", f);
    fclose(f);
    cr_assert_eq(rename(next, bundle), 0);
    cr_assert(it_wait_metric(port,
                             "weir_model_reloads_total{role=\"champion\",outcome=\"refused\"}", 2,
                             60000),
              "the truncated bundle was refused");
    it_gen(&s, 3000, 73, NULL);
    wait_done(&s, 2);
    cr_assert_eq(it_metric(port, "weir_model_reloads_total{role=\"champion\",outcome=\"swapped\"}"),
                 0);
    cr_assert_eq(it_stop(weir), 0);
    weir_account_t a = account(&s);
    assert_exact(&a, 6000);
    cr_assert_eq(a.scored, 6000, "every event scored by the old version");

    char log[512];
    snprintf(log, sizeof(log), "%s/weir-1.log", s.dir);
    char *text = weir_test_read_file(log, NULL);
    cr_assert_not_null(strstr(text, "model refused"), "the refusal is logged");
    cr_assert_not_null(strstr(text, "amount_in_cents"), "with its reason");
    free(text);
    weir_it_records_t out;
    weir_it_read(s.out, 6000, 60000, &out);
    for (size_t i = 0; i < out.count; i++)
        cr_assert_str_eq(version_of(&out.records[i]), "1");
    weir_it_records_free(&out);
    it_teardown(&s);
    free(bundle);
    free(next);
    free(dir);
}

Test(rollout, a_version_that_dead_letters_everything_is_rolled_back_by_itself, .timeout = 400)
{
    int port = weir_it_free_port();
    it_scenario_t s;
    char *dir = weir_it_tmpdir();
    char *models = path_in(dir, "models");
    make_folder(models);
    char *v1 = path_in(models, "1.json"), *v2 = path_in(models, "2.json");
    write_bundle(v1, "1", 0, NULL);
    write_bundle(v2, "2", 0, unknown_channels);
    char alerts[200];
    char extra[512];
    it_setup(&s, "rollback", 2, models, port, NULL);
    snprintf(alerts, sizeof(alerts), "%s-alerts", s.in);
    weir_it_create_topic(alerts, 1);
    snprintf(extra, sizeof(extra),
             "alerts.topic = %s\nmodel.probation = 2000\nmodel.probation.score_drift = 1\n",
             alerts);
    /* the scenario's config plus the guard */
    FILE *f = fopen(s.conf, "a");
    cr_assert_not_null(f);
    fputs(extra, f);
    fclose(f);
    const char *promote1[] = {WEIR_BINARY, "model", "promote", models, "1", NULL};
    cr_assert_eq(weir_cmd(&s, promote1), 0);

    /* version 1 scores the first events; version 2 is swapped in before the
     * rest are written, so it meets events however slow the machine is */
    const int n = 16000;
    pid_t weir = it_start(&s, 1);
    pid_t gen = it_gen_background(&s, "4000", "4000", "74");
    cr_assert(it_wait_metric(port, "weir_events_scored_total", 3000, 120000));
    const char *promote2[] = {WEIR_BINARY, "model", "promote", models, "2", NULL};
    cr_assert_eq(weir_cmd(&s, promote2), 0);
    cr_assert(it_wait_metric(port,
                             "weir_model_reloads_total{role=\"champion\",outcome=\"swapped\"}", 1,
                             60000),
              "version 2 was swapped in");
    cr_assert_eq(weir_it_wait(gen, 120000), 0);
    gen = it_gen_background(&s, "12000", "4000", "75");
    cr_assert(
        it_wait_metric(port, "weir_model_rollbacks_total{reason=\"dead_letter_share\"}", 1, 60000),
        "rolled back");
    cr_assert_eq(weir_it_wait(gen, 120000), 0);
    wait_done(&s, 2);
    cr_assert_eq(
        it_metric(port, "weir_model_info{name=\"fraud-lr\",version=\"1\",features=\"24\"}"), 1,
        "version 1 serves again");
    cr_assert_eq(it_metric(port, "weir_model_probation"), 0);
    cr_assert_eq(it_stop(weir), 0);

    weir_account_t a = account(&s);
    assert_exact(&a, n);
    cr_log_info("dead letters of version 2 before the rollback: %lld", (long long)a.dead);
    cr_assert_gt(a.dead, 0, "version 2 dead-lettered events");
    cr_assert_leq(a.dead, 2000, "and was rolled back within its probation");

    /* the rollback is on the alerts topic: a DriftAlert of test "rollback" */
    weir_it_records_t al;
    weir_it_read(alerts, 1, 60000, &al);
    int found = 0;
    for (size_t i = 0; i < al.count; i++)
        if (al.records[i].key && !strncmp(al.records[i].key, "fraud-lr/dead_letter_share/rollback",
                                          al.records[i].key_len))
            found = 1;
    cr_assert(found, "a rollback alert keyed model/reason/rollback");
    weir_it_records_free(&al);
    /* and after it, version 1 scores again */
    weir_it_records_t out;
    weir_it_read(s.out, (size_t)a.scored, 60000, &out);
    size_t v1_after = 0, v2_scored = 0;
    for (size_t i = 0; i < out.count; i++) {
        if (!strcmp(version_of(&out.records[i]), "2"))
            v2_scored++;
        else
            v1_after++;
    }
    cr_assert_eq(v2_scored, 0, "version 2 scored nothing");
    weir_it_records_free(&out);
    it_teardown(&s);
    free(v1);
    free(v2);
    free(models);
    free(dir);
}

Test(rollout, shadow_scores_sit_beside_the_champions_and_equal_each_bundles_batch_scores,
     .timeout = 300)
{
    int port = weir_it_free_port();
    it_scenario_t s;
    char *dir = weir_it_tmpdir();
    char *v1 = path_in(dir, "champion.json"), *v2 = path_in(dir, "challenger.json");
    write_bundle(v1, "1", 0, NULL);
    write_bundle(v2, "2", 0.5, NULL);
    char extra[600];
    snprintf(extra, sizeof(extra), "model.shadow.path = %s\n", v2);
    it_setup(&s, "shadow", 2, v1, port, extra);
    char *events = path_in(s.dir, "events.avro");
    const int n = 3000;
    it_gen(&s, n, 75, events);
    pid_t weir = it_start(&s, 1);
    wait_done(&s, 2);
    double agree = it_metric(port, "weir_shadow_decisions_total{outcome=\"agree\"}");
    double disagree = it_metric(port, "weir_shadow_decisions_total{outcome=\"disagree\"}");
    double diffs = it_metric(port, "weir_shadow_score_difference_count");
    cr_log_info("shadow: agree %.0f, disagree %.0f", agree, disagree);
    cr_assert_eq(agree + disagree, n);
    cr_assert_eq(diffs, n);
    cr_assert_eq(it_stop(weir), 0);
    weir_account_t a = account(&s);
    assert_exact(&a, n);

    size_t n1, n2;
    id_score_t *b1 = batch_scores(&s, v1, events, "v1", &n1);
    id_score_t *b2 = batch_scores(&s, v2, events, "v2", &n2);
    cr_assert_eq(n1, (size_t)n);
    cr_assert_eq(n2, (size_t)n);

    char err[512];
    avro_schema_t input, scored;
    weir_reader_t *reader;
    cr_assert_eq(weir_schema_parse(weir_schema_text("transaction"), &input, err, sizeof(err)), 0);
    cr_assert_eq(weir_scored_schema_with(input, 1, &scored, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(weir_reader_new(scored, &reader, err, sizeof(err)), 0, "%s", err);
    weir_it_records_t out;
    weir_it_read(s.out, (size_t)n, 60000, &out);
    cr_assert_eq(out.count, (size_t)n);
    double worst = 0;
    for (size_t i = 0; i < out.count; i++) {
        const weir_it_record_t *r = &out.records[i];
        avro_value_t *v, f, branch, sf;
        weir_reason_t reason;
        cr_assert_eq(weir_reader_read(reader, r->value + 5, r->len - 5, 1, &v, NULL, &reason, err,
                                      sizeof(err)),
                     0, "a ScoredEvent with its shadow field: %s", err);
        const char *id;
        size_t idn;
        double score, shadow_score;
        avro_value_get_by_name(v, "event_id", &f, NULL);
        avro_value_get_string(&f, &id, &idn);
        avro_value_get_by_name(v, "score", &f, NULL);
        avro_value_get_double(&f, &score);
        avro_value_get_by_name(v, "shadow", &f, NULL);
        cr_assert_eq(avro_value_get_current_branch(&f, &branch), 0);
        cr_assert_eq(avro_value_get_type(&branch), AVRO_RECORD, "the shadow scored %s", id);
        avro_value_get_by_name(&branch, "score", &sf, NULL);
        avro_value_get_double(&sf, &shadow_score);
        const char *sv;
        size_t svn;
        avro_value_get_by_name(&branch, "model_version", &sf, NULL);
        avro_value_get_string(&sf, &sv, &svn);
        cr_assert_str_eq(sv, "2");
        double e1 = fabs(score - lookup(b1, n1, id)), e2 = fabs(shadow_score - lookup(b2, n2, id));
        worst = e1 > worst ? e1 : worst;
        worst = e2 > worst ? e2 : worst;
    }
    cr_log_info("largest difference to weir batch: %g", worst);
    cr_assert_eq(worst, 0, "the stream's scores are weir batch's, to the bit");
    weir_reader_destroy(reader);
    avro_schema_decref(scored);
    avro_schema_decref(input);
    weir_it_records_free(&out);
    free(b1);
    free(b2);
    free(events);
    it_teardown(&s);
    free(v1);
    free(v2);
    free(dir);
}

Test(rollout, a_canary_takes_its_share_of_keys_and_each_key_stays_with_one_model, .timeout = 300)
{
    int port = weir_it_free_port();
    it_scenario_t s;
    char *dir = weir_it_tmpdir();
    char *v1 = path_in(dir, "champion.json"), *v2 = path_in(dir, "canary.json");
    write_bundle(v1, "1", 0, NULL);
    write_bundle(v2, "2", 0.1, NULL);
    char extra[600];
    snprintf(extra, sizeof(extra), "model.canary.path = %s\nmodel.canary.share = 0.2\n", v2);
    it_setup(&s, "canary", 3, v1, port, extra);
    const int n = 6000;
    it_gen(&s, n, 76, NULL);
    pid_t weir = it_start(&s, 1);
    wait_done(&s, 3);
    cr_assert_eq(it_stop(weir), 0);
    weir_account_t a = account(&s);
    assert_exact(&a, n);

    weir_it_records_t out;
    weir_it_read(s.out, (size_t)n, 60000, &out);
    cr_assert_eq(out.count, (size_t)n);
    size_t canary = 0;
    for (size_t i = 0; i < out.count; i++) {
        const weir_it_record_t *r = &out.records[i];
        /* the lane follows from the key alone: the same hash, the same share */
        uint32_t h = weir_hash_fnv1a(r->key, r->key_len, 0);
        const char *expect = h % 10000 < 2000 ? "2" : "1";
        cr_assert_str_eq(version_of(r), expect, "key %.*s", (int)r->key_len, r->key);
        canary += !strcmp(expect, "2");
    }
    double share = (double)canary / n;
    cr_log_info("canary share of events: %.3f (of keys: 0.2)", share);
    cr_assert(share > 0.15 && share < 0.25, "share %.3f within 0.2 +- 0.05", share);
    weir_it_records_free(&out);
    it_teardown(&s);
    free(v1);
    free(v2);
    free(dir);
}
