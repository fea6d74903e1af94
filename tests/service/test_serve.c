/*
 * test_serve.c — `weir serve` as a client meets it, through the built binary:
 * POST /score answers the very score `weir batch` writes for the same event,
 * whether the event comes as JSON, Confluent-framed Avro or raw Avro with a
 * schema id; a malformed body, a missing field, a wrong type, an oversized
 * body, a missing token are refused with their status and a reason naming
 * the field. No broker.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "broker.h"
#include "schemas.h"
#include "support.h"

#define EXAMPLE_MODEL WEIR_SOURCE_DIR "/examples/model.json"
#define TRANSACTION_AVSC WEIR_SOURCE_DIR "/schemas/transaction.avsc"
#define TOKEN "s3cr3t-t0ken-for-tests"

static char *dir;
static int port;
static pid_t server;

typedef struct {
    int status;
    char *body; /* after the head, NUL-terminated */
} reply_t;

/* One request on a fresh connection; the whole reply. */
static reply_t post(const char *path, const char *content_type, const char *auth, const void *body,
                    size_t len)
{
    reply_t r = {0, NULL};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    char head[1024];
    int n = snprintf(head, sizeof(head),
                     "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n%s%s%s%s%s\r\n", path,
                     len, content_type ? "Content-Type: " : "", content_type ? content_type : "",
                     content_type ? "\r\n" : "", auth ? auth : "", auth ? "\r\n" : "");
    cr_assert_eq(write(fd, head, (size_t)n), n);
    if (len)
        cr_assert_eq(write(fd, body, len), (ssize_t)len);
    size_t cap = 65536, got = 0;
    char *buf = malloc(cap + 1);
    ssize_t k;
    while ((k = read(fd, buf + got, cap - got)) > 0)
        got += (size_t)k;
    close(fd);
    buf[got] = '\0';
    sscanf(buf, "HTTP/1.1 %d", &r.status);
    char *sep = strstr(buf, "\r\n\r\n");
    r.body = strdup(sep ? sep + 4 : "");
    free(buf);
    return r;
}

/* Starts weir serve on the example model, or (@p folder) on a model folder
 * dir/models whose current version is a copy of it, 1.0.0. */
static void start_serve_on(const char *extra, int folder)
{
    dir = weir_it_tmpdir();
    port = weir_it_free_port();
    char conf[2048], path[600], log[600], model[600];
    snprintf(model, sizeof(model), "%s", EXAMPLE_MODEL);
    if (folder) {
        snprintf(model, sizeof(model), "%s/models", dir);
        char cmd[2048];
        snprintf(cmd, sizeof(cmd),
                 "mkdir '%s' && cp '%s' '%s/1.0.0.json' && echo 1.0.0 > '%s/current'", model,
                 EXAMPLE_MODEL, model, model);
        cr_assert_eq(system(cmd), 0);
    }
    snprintf(conf, sizeof(conf),
             "model.path = %s\ninput.schema = %s\nscore.listen = 127.0.0.1:%d\n%s\n", model,
             TRANSACTION_AVSC, port, extra ? extra : "");
    char *p = weir_it_write(dir, "serve.conf", conf);
    snprintf(path, sizeof(path), "%s", p);
    free(p);
    snprintf(log, sizeof(log), "%s/serve.log", dir);
    const char *argv[] = {WEIR_BINARY, "serve", "-c", path, NULL};
    server = weir_it_spawn(argv, log);
    for (int i = 0; i < 300; i++) {
        char *body = NULL;
        int status = weir_it_http_get(port, "/readyz", &body);
        free(body);
        if (status == 200)
            return;
        struct timespec ts = {0, 50 * 1000000};
        nanosleep(&ts, NULL);
    }
    cr_assert_fail("weir serve did not become ready");
}

static void start_serve(const char *extra)
{
    start_serve_on(extra, 0);
}

static void stop_serve(void)
{
    kill(server, SIGTERM);
    cr_assert_eq(weir_it_wait(server, 30000), 0, "weir serve stops cleanly on SIGTERM");
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
    free(dir);
}

static void no_token(void)
{
    start_serve(NULL);
}

static void with_token(void)
{
    start_serve("score.token = " TOKEN "\nscore.body.max = 4096\n");
}

static void on_a_folder(void)
{
    start_serve_on(NULL, 1);
}

TestSuite(serve, .init = no_token, .fini = stop_serve);
TestSuite(serve_reload, .init = on_a_folder, .fini = stop_serve);
TestSuite(serve_limits, .init = with_token, .fini = stop_serve);

/* The events of a `weir gen` file and the scores `weir batch` gives them. */
typedef struct {
    char *json;    /* avro-c's JSON of the event */
    uint8_t *avro; /* its Avro body */
    size_t avro_len;
    char id[64];
    double score;
} event_t;

static event_t *events_and_batch_scores(size_t n)
{
    char events[600], scored[600], log[600], count[16];
    snprintf(events, sizeof(events), "%s/events.avro", dir);
    snprintf(scored, sizeof(scored), "%s/scored.avro", dir);
    snprintf(log, sizeof(log), "%s/cmd.log", dir);
    snprintf(count, sizeof(count), "%zu", n);
    char out[700];
    snprintf(out, sizeof(out), "file:%s", events);
    const char *gen[] = {WEIR_BINARY, "gen",    "--out", out,  "--count",
                         count,       "--seed", "9",     "-q", NULL};
    cr_assert_eq(weir_it_run(gen, log, 60000), 0);
    const char *batch[] = {WEIR_BINARY, "batch", "--model", EXAMPLE_MODEL, "--in",
                           events,      "--out", scored,    "-q",          NULL};
    cr_assert_eq(weir_it_run(batch, log, 60000), 0);
    event_t *ev = calloc(n, sizeof(*ev));
    weir_container_reader_t *r;
    char err[512];
    avro_value_t *v;
    const uint8_t *body;
    size_t len, skipped, i = 0;
    weir_reason_t reason;
    cr_assert_eq(weir_container_reader_open(events, &r, err, sizeof(err)), 0, "%s", err);
    while (i < n && weir_container_reader_next(r, &v, &body, &len, &skipped, &reason, err,
                                               sizeof(err)) == 1) {
        cr_assert_eq(avro_value_to_json(v, 1, &ev[i].json), 0);
        ev[i].avro = malloc(len);
        memcpy(ev[i].avro, body, len);
        ev[i].avro_len = len;
        i++;
    }
    weir_container_reader_close(r);
    cr_assert_eq(weir_container_reader_open(scored, &r, err, sizeof(err)), 0, "%s", err);
    for (i = 0; i < n; i++) {
        cr_assert_eq(
            weir_container_reader_next(r, &v, &body, &len, &skipped, &reason, err, sizeof(err)), 1);
        avro_value_t f;
        const char *id;
        size_t idn;
        avro_value_get_by_name(v, "event_id", &f, NULL);
        avro_value_get_string(&f, &id, &idn);
        snprintf(ev[i].id, sizeof(ev[i].id), "%s", id);
        avro_value_get_by_name(v, "score", &f, NULL);
        avro_value_get_double(&f, &ev[i].score);
    }
    weir_container_reader_close(r);
    return ev;
}

static void free_events(event_t *ev, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(ev[i].json);
        free(ev[i].avro);
    }
    free(ev);
}

static json_t *parse_reply(const reply_t *r)
{
    json_error_t jerr;
    json_t *j = json_loads(r->body, 0, &jerr);
    cr_assert_not_null(j, "a JSON answer: %s (%s)", r->body, jerr.text);
    return j;
}

static double score_of(const reply_t *r, const char *id)
{
    cr_assert_eq(r->status, 200, "%s", r->body);
    json_t *j = parse_reply(r);
    cr_assert_str_eq(json_string_value(json_object_get(j, "event_id")), id);
    cr_assert_str_eq(json_string_value(json_object_get(j, "version")), "1.0.0");
    cr_assert_not_null(json_object_get(json_object_get(j, "probabilities"), "fraud"));
    double score = json_number_value(json_object_get(j, "score"));
    json_decref(j);
    return score;
}

Test(serve, a_json_event_gets_the_score_weir_batch_gives_it)
{
    const size_t n = 50;
    event_t *ev = events_and_batch_scores(n);
    for (size_t i = 0; i < n; i++) {
        reply_t r = post("/score", "application/json", NULL, ev[i].json, strlen(ev[i].json));
        double got = score_of(&r, ev[i].id);
        cr_assert_eq(got, ev[i].score, "event %s: /score %.17g, weir batch %.17g", ev[i].id, got,
                     ev[i].score);
        free(r.body);
    }
    free_events(ev, n);
}

Test(serve, avro_events_framed_or_raw_with_a_schema_id_get_the_same_score)
{
    const size_t n = 10;
    event_t *ev = events_and_batch_scores(n);
    for (size_t i = 0; i < n; i++) {
        uint8_t framed[8192] = {0, 0, 0, 0, 1};
        memcpy(framed + 5, ev[i].avro, ev[i].avro_len);
        reply_t r =
            post("/score", "application/vnd.confluent.avro", NULL, framed, ev[i].avro_len + 5);
        cr_assert_eq(score_of(&r, ev[i].id), ev[i].score);
        free(r.body);
        r = post("/score", "application/avro; schema-id=1", NULL, ev[i].avro, ev[i].avro_len);
        cr_assert_eq(score_of(&r, ev[i].id), ev[i].score);
        free(r.body);
    }
    /* a schema id weir does not know is the client's error */
    reply_t r = post("/score", "application/avro; schema-id=7", NULL, ev[0].avro, ev[0].avro_len);
    cr_assert_eq(r.status, 400, "%s", r.body);
    cr_assert(strstr(r.body, "unknown_schema_id"), "%s", r.body);
    free(r.body);
    free_events(ev, n);
}

/* The example event as JSON with one field changed (NULL value: removed). */
static char *edited_event(const char *field, json_t *value)
{
    event_t *ev = events_and_batch_scores(1);
    json_t *j = json_loads(ev[0].json, 0, NULL);
    if (value)
        json_object_set_new(j, field, value);
    else
        json_object_del(j, field);
    char *text = json_dumps(j, 0);
    json_decref(j);
    free_events(ev, 1);
    return text;
}

static void assert_refused(const reply_t *r, int status, const char *code, const char *field)
{
    cr_assert_eq(r->status, status, "%s", r->body);
    json_t *j = parse_reply(r);
    cr_assert_str_eq(json_string_value(json_object_get(j, "error")), code, "%s", r->body);
    if (field)
        cr_assert(strstr(json_string_value(json_object_get(j, "detail")), field),
                  "the reason names %s: %s", field, r->body);
    json_decref(j);
}

Test(serve, malformed_json_a_missing_field_and_a_wrong_type_are_400_naming_the_field)
{
    reply_t r = post("/score", "application/json", NULL, "{\"amount\": ", 11);
    assert_refused(&r, 400, "malformed_json", "line 1");
    free(r.body);

    char *text = edited_event("amount", NULL);
    r = post("/score", "application/json", NULL, text, strlen(text));
    assert_refused(&r, 400, "missing_field", "amount");
    free(r.body);
    free(text);

    text = edited_event("amount", json_string("lots"));
    r = post("/score", "application/json", NULL, text, strlen(text));
    assert_refused(&r, 400, "wrong_type", "amount");
    free(r.body);
    free(text);

    text = edited_event("amout", json_real(3.5));
    r = post("/score", "application/json", NULL, text, strlen(text));
    assert_refused(&r, 400, "wrong_type", "amout");
    free(r.body);
    free(text);

    r = post("/score", "text/csv", NULL, "a,b", 3);
    assert_refused(&r, 415, "unsupported_media_type", NULL);
    free(r.body);
}

Test(serve, metrics_count_requests_by_status)
{
    reply_t r = post("/score", "application/json", NULL, "[]", 2);
    cr_assert_eq(r.status, 400);
    free(r.body);
    char *page = NULL;
    cr_assert_eq(weir_it_http_get(port, "/metrics", &page), 200);
    cr_assert_geq(weir_it_metric(page, "weir_score_requests_total{status=\"400\"}"), 1, "%s", page);
    cr_assert_eq(weir_it_metric(page, "weir_model_info{name=\"fraud-lr\",version=\"1.0.0\","
                                      "role=\"champion\"}"),
                 1);
    free(page);
}

Test(serve_limits, a_token_is_required_and_never_logged)
{
    event_t *ev = events_and_batch_scores(1);
    reply_t r = post("/score", "application/json", NULL, ev[0].json, strlen(ev[0].json));
    assert_refused(&r, 401, "unauthorized", NULL);
    free(r.body);
    r = post("/score", "application/json", "Authorization: Bearer wrong", ev[0].json,
             strlen(ev[0].json));
    assert_refused(&r, 401, "unauthorized", NULL);
    free(r.body);
    r = post("/score", "application/json", "Authorization: Bearer " TOKEN, ev[0].json,
             strlen(ev[0].json));
    cr_assert_eq(score_of(&r, ev[0].id), ev[0].score);
    free(r.body);
    free_events(ev, 1);
    char log[600];
    snprintf(log, sizeof(log), "%s/serve.log", dir);
    char *text = weir_test_read_file(log, NULL);
    cr_assert_null(strstr(text, TOKEN), "the token is never logged: %s", text);
    free(text);
}

Test(serve_limits, a_body_over_score_body_max_is_413_before_it_is_read)
{
    char *big = malloc(5000);
    memset(big, ' ', 5000);
    reply_t r = post("/score", "application/json", "Authorization: Bearer " TOKEN, big, 5000);
    cr_assert_eq(r.status, 413, "%s", r.body);
    free(r.body);
    free(big);
}

/* ---- a new version while requests come ------------------------------ */

/* Files the example model as VERSION in dir/models with its bias set to BIAS
 * (a different score for every event), or, with BIAS NaN, TEXT as it is. */
static void file_version(const char *version, double bias, const char *text)
{
    char path[700];
    snprintf(path, sizeof(path), "%s/models/%s.json", dir, version);
    if (text) {
        char *p = weir_it_write(dir, "tmp.json", text);
        cr_assert_eq(rename(p, path), 0);
        free(p);
        return;
    }
    json_error_t jerr;
    json_t *m = json_load_file(EXAMPLE_MODEL, 0, &jerr);
    cr_assert_not_null(m, "%s", jerr.text);
    json_object_set_new(m, "version", json_string(version));
    json_object_set_new(json_object_get(m, "model"), "bias", json_real(bias));
    cr_assert_eq(json_dump_file(m, path, JSON_INDENT(1)), 0);
    json_decref(m);
}

/* Points dir/models/current at VERSION (then 1.0.0) with a rename, as promote does. */
static void point_at(const char *version)
{
    char text[64];
    snprintf(text, sizeof(text), "%s\n1.0.0\n", version);
    char *p = weir_it_write(dir, "current.tmp", text), target[700];
    snprintf(target, sizeof(target), "%s/models/current", dir);
    cr_assert_eq(rename(p, target), 0);
    free(p);
}

static double metric(const char *sample)
{
    char *page = NULL;
    cr_assert_eq(weir_it_http_get(port, "/metrics", &page), 200);
    double v = weir_it_metric(page, sample);
    free(page);
    return v;
}

typedef struct {
    char version[32];
    double score;
} answer_t;

static answer_t score_once(const char *json)
{
    answer_t a = {"", 0};
    reply_t r = post("/score", "application/json", NULL, json, strlen(json));
    cr_assert_eq(r.status, 200, "%s", r.body);
    json_t *j = parse_reply(&r);
    snprintf(a.version, sizeof(a.version), "%s", json_string_value(json_object_get(j, "version")));
    a.score = json_number_value(json_object_get(j, "score"));
    json_decref(j);
    free(r.body);
    return a;
}

Test(serve_reload, a_promoted_version_answers_and_no_answer_mixes_two_versions, .timeout = 120)
{
    event_t *ev = events_and_batch_scores(1);
    answer_t first = score_once(ev[0].json);
    cr_assert_str_eq(first.version, "1.0.0");
    cr_assert_eq(first.score, ev[0].score, "1.0.0 scores as weir batch does");
    file_version("1.1.0", -3.0, NULL);

    /* requests go on while the version changes under them: each answer is
     * one version's, whole, and once 1.1.0 answered 1.0.0 never does again */
    const char *promote[] = {WEIR_BINARY, "model", "promote", NULL, "1.1.0", NULL};
    char models[700], log[700];
    snprintf(models, sizeof(models), "%s/models", dir);
    snprintf(log, sizeof(log), "%s/promote.log", dir);
    promote[3] = models;
    pid_t promoter = weir_it_spawn(promote, log);
    double second = -1;
    int swapped = 0, answers = 0;
    while (!swapped || answers < 20) {
        answer_t a = score_once(ev[0].json);
        answers++;
        if (!strcmp(a.version, "1.0.0")) {
            cr_assert_not(swapped, "1.0.0 answered after 1.1.0 had");
            cr_assert_eq(a.score, first.score, "a 1.0.0 answer has 1.0.0's score");
        } else {
            cr_assert_str_eq(a.version, "1.1.0");
            cr_assert_neq(a.score, first.score, "a 1.1.0 answer has 1.1.0's score");
            cr_assert(second < 0 || a.score == second, "every 1.1.0 answer has the same score");
            second = a.score;
            swapped = 1;
        }
        cr_assert_lt(answers, 100000, "1.1.0 never answered");
    }
    cr_assert_eq(weir_it_wait(promoter, 30000), 0, "weir model promote exits 0");
    cr_assert_eq(metric("weir_model_reloads_total{outcome=\"swapped\"}"), 1);
    cr_assert_eq(metric("weir_model_info{name=\"fraud-lr\",version=\"1.1.0\",role=\"champion\"}"),
                 1);
    free_events(ev, 1);
}

Test(serve_reload, a_broken_version_is_refused_and_the_old_one_keeps_answering, .timeout = 120)
{
    event_t *ev = events_and_batch_scores(1);
    /* a bundle cut in half, then one that reads a field the input lacks */
    file_version("2.0.0", 0, "{\"format\": \"weir.model/1\", \"name\": \"fraud-lr\", \"vers");
    point_at("2.0.0");
    char *m = weir_test_read_file(EXAMPLE_MODEL, NULL), *at = strstr(m, "\"source\": \"amount\"");
    cr_assert_not_null(at, "the example model reads amount");
    memcpy(at, "\"source\": \"amouNt\"", 18);
    char *v = strstr(m, "\"version\": \"1.0.0\"");
    cr_assert_not_null(v);
    memcpy(v, "\"version\": \"3.0.0\"", 18);
    for (int refused = 0; refused < 1;) {
        refused = (int)metric("weir_model_reloads_total{outcome=\"refused\"}");
        answer_t a = score_once(ev[0].json);
        cr_assert_str_eq(a.version, "1.0.0", "the old version keeps answering");
        cr_assert_eq(a.score, ev[0].score);
    }
    file_version("3.0.0", 0, m);
    point_at("3.0.0");
    for (int refused = 1; refused < 2;) {
        refused = (int)metric("weir_model_reloads_total{outcome=\"refused\"}");
        answer_t a = score_once(ev[0].json);
        cr_assert_str_eq(a.version, "1.0.0", "the old version keeps answering");
    }
    cr_assert_eq(metric("weir_model_reloads_total{outcome=\"swapped\"}"), 0);
    char log[600];
    snprintf(log, sizeof(log), "%s/serve.log", dir);
    char *text = weir_test_read_file(log, NULL);
    cr_assert(strstr(text, "model refused") && strstr(text, "2.0.0.json"),
              "the refusal is logged naming the file: %s", text);
    cr_assert(strstr(text, "amouNt"), "the reason names the field the input lacks: %s", text);
    free(text);
    free(m);
    free_events(ev, 1);
}

Test(serve_reload, sighup_looks_again_and_an_unchanged_version_stays, .timeout = 120)
{
    event_t *ev = events_and_batch_scores(1);
    char log[600];
    snprintf(log, sizeof(log), "%s/serve.log", dir);
    kill(server, SIGHUP);
    for (;;) {
        char *text = weir_test_read_file(log, NULL);
        int seen = text && strstr(text, "SIGHUP: looking for a new model");
        free(text);
        if (seen)
            break;
        answer_t a = score_once(ev[0].json); /* it answers while it looks */
        cr_assert_str_eq(a.version, "1.0.0");
    }
    answer_t a = score_once(ev[0].json);
    cr_assert_str_eq(a.version, "1.0.0");
    cr_assert_eq(a.score, ev[0].score);
    cr_assert_eq(metric("weir_model_reloads_total{outcome=\"swapped\"}"), 0,
                 "the same version is not loaded again");
    cr_assert_eq(metric("weir_model_reloads_total{outcome=\"refused\"}"), 0);
    free_events(ev, 1);
}
