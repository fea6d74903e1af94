/*
 * test_registry.c — the schema registry client against a real registry
 * (Apicurio Registry's Confluent API, scripts/registry.sh): a schema
 * registered under a subject comes back by its id and then from the cache, an
 * id the registry does not know is an unknown schema (a dead letter, not a
 * retry), a dead first URL fails over to the next, and a BACKWARD subject
 * refuses a field added without a default. Then `weir run` over a producer
 * that evolves its schema mid-stream (a field added with a default, a field
 * removed, a promotion): every event is scored, none dead-lettered; a writer
 * that cannot be read is a dead letter naming the field, an id the registry
 * does not know one of its own reason; and with the registry stopped while
 * new writer ids arrive, weir waits and resumes on its own, losing nothing.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "it.h"
#include "registry.h"
#include "schemas.h"
#include "support.h"

static char err[1024];
static char url[512];

/* `scripts/registry.sh start`: the registry's Confluent-compatible URL. */
static const char *registry_url(void)
{
    if (url[0])
        return url;
    char cmd[1024], line[512];
    snprintf(cmd, sizeof(cmd), "%s/scripts/registry.sh start", WEIR_SOURCE_DIR);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    while (fgets(line, sizeof(line), p))
        if (!strncmp(line, "running ", 8)) {
            snprintf(url, sizeof(url), "%s", line + 8);
            url[strcspn(url, "\r\n")] = '\0';
        }
    cr_assert_eq(pclose(p), 0, "scripts/registry.sh start failed");
    cr_assert(url[0]);
    return url;
}

static weir_registry_t *client(const char *urls)
{
    weir_registry_t *r;
    weir_registry_config_t cfg = {.urls = urls, .timeout_ms = 5000, .cache_max = 2};
    cr_assert_eq(weir_registry_new(&cfg, &r, err, sizeof(err)), 0, "%s", err);
    return r;
}

static void subject(const char *base, char *out, size_t outsz)
{
    char unique[160];
    weir_it_unique(base, unique, sizeof(unique));
    snprintf(out, outsz, "%s-value", unique);
}

Test(registry_it, a_registered_schema_comes_back_by_id_then_from_the_cache, .timeout = 300)
{
    weir_registry_t *r = client(registry_url());
    char subj[200];
    subject("reg-tx", subj, sizeof(subj));
    int32_t id = 0;
    const char *tx = weir_schema_text("transaction");
    cr_assert_eq(weir_registry_register(r, subj, tx, &id, err, sizeof(err)), 0, "%s", err);
    cr_assert_gt(id, 0);
    int32_t again = 0;
    cr_assert_eq(weir_registry_register(r, subj, tx, &again, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(again, id, "the same schema registered twice has one id");

    avro_schema_t got, want;
    cr_assert_eq(weir_registry_schema(r, id, &got, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(weir_schema_parse(tx, &want, err, sizeof(err)), 0);
    cr_assert(avro_schema_equal(got, want), "the registry's schema differs from the registered");
    avro_schema_decref(got);
    cr_assert_eq(weir_registry_schema(r, id, &got, err, sizeof(err)), 0, "%s", err);
    avro_schema_decref(got);
    avro_schema_decref(want);
    uint64_t requests, failovers, hits;
    weir_registry_counts(r, &requests, &failovers, &hits);
    cr_assert_eq(hits, 1);
    cr_assert_eq(requests, 3, "two registrations and one fetch");
    weir_registry_destroy(r);
}

Test(registry_it, an_unknown_id_is_an_unknown_schema_not_a_retry, .timeout = 300)
{
    weir_registry_t *r = client(registry_url());
    avro_schema_t s;
    cr_assert_eq(weir_registry_schema(r, 987654, &s, err, sizeof(err)), WEIR_ESCHEMA, "%s", err);
    cr_assert_not_null(strstr(err, "987654"), "%s", err);
    weir_registry_destroy(r);
}

Test(registry_it, a_dead_first_url_fails_over_to_the_next, .timeout = 300)
{
    char urls[1024];
    snprintf(urls, sizeof(urls), "http://127.0.0.1:1/apis/ccompat/v7,%s", registry_url());
    weir_registry_t *r = client(urls);
    char subj[200];
    subject("reg-failover", subj, sizeof(subj));
    int32_t id = 0;
    cr_assert_eq(weir_registry_register(r, subj, weir_schema_text("label"), &id, err, sizeof(err)),
                 0, "%s", err);
    avro_schema_t s;
    cr_assert_eq(weir_registry_schema(r, id, &s, err, sizeof(err)), 0, "%s", err);
    avro_schema_decref(s);
    uint64_t requests, failovers, hits;
    weir_registry_counts(r, &requests, &failovers, &hits);
    cr_assert_eq(failovers, 1, "the URL that answered is tried first afterwards");
    weir_registry_destroy(r);
}

Test(registry_it, a_backward_subject_refuses_a_field_added_without_default, .timeout = 300)
{
    const char *base = registry_url();
    weir_registry_t *r = client(base);
    char subj[200];
    subject("reg-compat", subj, sizeof(subj));
    const char *v1 = "{\"type\":\"record\",\"name\":\"E\",\"fields\":[{\"name\":\"a\",\"type\":"
                     "\"long\"}]}";
    const char *ok = "{\"type\":\"record\",\"name\":\"E\",\"fields\":[{\"name\":\"a\",\"type\":"
                     "\"long\"},{\"name\":\"b\",\"type\":\"string\",\"default\":\"x\"}]}";
    const char *bad = "{\"type\":\"record\",\"name\":\"E\",\"fields\":[{\"name\":\"a\",\"type\":"
                      "\"long\"},{\"name\":\"c\",\"type\":\"string\"}]}";
    int compatible = 0;
    cr_assert_eq(weir_registry_compatible(r, subj, v1, &compatible, err, sizeof(err)), 0, "%s",
                 err);
    cr_assert_eq(compatible, 1, "a subject without versions takes anything");
    int32_t id;
    cr_assert_eq(weir_registry_register(r, subj, v1, &id, err, sizeof(err)), 0, "%s", err);
    /* Apicurio's default compatibility is NONE: BACKWARD for this subject */
    char cfg_url[1024], log[256];
    snprintf(cfg_url, sizeof(cfg_url), "%s/config/%s", base, subj);
    snprintf(log, sizeof(log), "/dev/null");
    const char *put[] = {"curl",  "-fsS",
                         "-X",    "PUT",
                         "-H",    "Content-Type: application/vnd.schemaregistry.v1+json",
                         "-d",    "{\"compatibility\":\"BACKWARD\"}",
                         cfg_url, NULL};
    cr_assert_eq(weir_it_run(put, log, 60000), 0, "PUT %s failed", cfg_url);
    cr_assert_eq(weir_registry_compatible(r, subj, ok, &compatible, err, sizeof(err)), 0, "%s",
                 err);
    cr_assert_eq(compatible, 1, "%s", err);
    cr_assert_eq(weir_registry_compatible(r, subj, bad, &compatible, err, sizeof(err)), 0, "%s",
                 err);
    cr_assert_eq(compatible, 0, "a field without default is not BACKWARD compatible");
    weir_registry_destroy(r);
}

/* `weir gen` COUNT events to the scenario's input topic, registering its schema. */
static void gen_registered(const it_scenario_t *s, const char *count)
{
    char out[256], reg[600], log[512];
    snprintf(out, sizeof(out), "topic:%s", s->in);
    snprintf(reg, sizeof(reg), "schema.registry.url=%s", registry_url());
    snprintf(log, sizeof(log), "%s/gen.log", s->dir);
    const char *argv[] = {WEIR_BINARY, "gen", "-b",    weir_it_bootstrap(),
                          "-X",        reg,   "--out", out,
                          "--count",   count, "-q",    NULL};
    cr_assert_eq(weir_it_run(argv, log, 300000), 0, "weir gen failed (see %s)", log);
}

static int32_t frame_id(const weir_it_record_t *rec)
{
    cr_assert(rec->len > 5 && rec->value[0] == 0, "not Confluent-framed");
    return (int32_t)((uint32_t)rec->value[1] << 24 | (uint32_t)rec->value[2] << 16 |
                     (uint32_t)rec->value[3] << 8 | rec->value[4]);
}

static void assert_id_names(weir_registry_t *r, int32_t id, const char *name)
{
    avro_schema_t s;
    cr_assert_eq(weir_registry_schema(r, id, &s, err, sizeof(err)), 0, "id %d: %s", id, err);
    cr_assert_str_eq(avro_schema_name(s), name, "id %d", id);
    avro_schema_decref(s);
}

Test(registry_it, gen_and_run_frame_with_the_ids_they_registered, .timeout = 400)
{
    it_scenario_t s;
    char extra[600];
    snprintf(extra, sizeof(extra), "schema.registry.url = %s", registry_url());
    it_setup(&s, "reg-run", 1, NULL, 0, extra);
    gen_registered(&s, "200");
    pid_t pid = it_start(&s, 0);
    int64_t n = weir_it_wait_count(s.out, 200, 120000);
    int rc = it_stop(pid);
    if (n != 200 || rc != 0)
        it_dump_log(&s, 0);
    cr_assert_eq(n, 200);
    cr_assert_eq(rc, 0);
    cr_assert_eq(weir_it_count(s.dlq), 0, "events of the registered input id are scored");
    weir_it_records_t in, out;
    weir_it_read(s.in, 1, 60000, &in);
    weir_it_read(s.out, 1, 60000, &out);
    weir_registry_t *r = client(registry_url());
    assert_id_names(r, frame_id(&in.records[0]), "Transaction");
    assert_id_names(r, frame_id(&out.records[0]), "ScoredEvent");
    weir_registry_destroy(r);
    weir_it_records_free(&in);
    weir_it_records_free(&out);
    it_teardown(&s);
}

Test(registry_it, an_incompatible_output_schema_stops_run_at_start_with_exit_2, .timeout = 300)
{
    it_scenario_t s;
    char extra[600], subj[300], cfg_url[1024], log[512];
    snprintf(extra, sizeof(extra), "schema.registry.url = %s", registry_url());
    it_setup(&s, "reg-incompat", 1, NULL, 0, extra);
    gen_registered(&s, "1");
    /* the output subject already holds a ScoredEvent weir's cannot read */
    weir_registry_t *r = client(registry_url());
    snprintf(subj, sizeof(subj), "%s-value", s.out);
    int32_t id;
    cr_assert_eq(weir_registry_register(r, subj,
                                        "{\"type\":\"record\",\"name\":\"ScoredEvent\",\"fields\":"
                                        "[{\"name\":\"legacy\",\"type\":\"long\"}]}",
                                        &id, err, sizeof(err)),
                 0, "%s", err);
    weir_registry_destroy(r);
    snprintf(cfg_url, sizeof(cfg_url), "%s/config/%s", registry_url(), subj);
    const char *put[] = {"curl",  "-fsS",
                         "-X",    "PUT",
                         "-H",    "Content-Type: application/vnd.schemaregistry.v1+json",
                         "-d",    "{\"compatibility\":\"BACKWARD\"}",
                         cfg_url, NULL};
    cr_assert_eq(weir_it_run(put, "/dev/null", 60000), 0);
    snprintf(log, sizeof(log), "%s/weir-incompat.log", s.dir);
    const char *argv[] = {WEIR_BINARY, "run", "-c", s.conf, NULL};
    cr_assert_eq(weir_it_run(argv, log, 120000), 2);
    size_t len;
    char *text = weir_test_read_file(log, &len);
    cr_assert_not_null(strstr(text, subj), "the refusal names the subject: %s", text);
    free(text);
    cr_assert_eq(weir_it_count(s.out), 0);
    it_teardown(&s);
}

/* transaction.avsc with @p add appended to its fields, @p drop removed and
 * @p retype (name, new JSON type) changed. */
static char *evolve(const char *add, const char *drop, const char *retype, const char *type)
{
    json_t *sch = json_loads(weir_schema_text("transaction"), 0, NULL);
    json_t *fields = json_object_get(sch, "fields");
    if (add)
        json_array_append_new(fields, json_loads(add, 0, NULL));
    for (size_t i = 0; i < json_array_size(fields); i++) {
        json_t *f = json_array_get(fields, i);
        const char *name = json_string_value(json_object_get(f, "name"));
        if (drop && !strcmp(name, drop)) {
            json_array_remove(fields, i--);
        } else if (retype && !strcmp(name, retype)) {
            json_object_set_new(f, "type", json_loads(type, JSON_DECODE_ANY, NULL));
        }
    }
    char *text = json_dumps(sch, JSON_COMPACT);
    json_decref(sch);
    return text;
}

static void frame(weir_buf_t *b, int32_t id)
{
    weir_buf_reset(b);
    cr_assert_eq(weir_framing_write(b, WEIR_FRAMING_CONFLUENT, id), 0);
}

/* The input's generated events re-sent as writers v2 (a field added), v3 (one
 * removed), v4 (a promotion), then an unreadable writer and an unknown id. */
static void produce_evolved(const it_scenario_t *s, size_t n, int32_t *incompatible_id,
                            int32_t unknown_id)
{
    weir_it_records_t in;
    weir_it_read(s->in, n, 60000, &in);
    cr_assert_eq(in.count, n);
    weir_registry_t *r = client(registry_url());
    char subj[300];
    snprintf(subj, sizeof(subj), "%s-value", s->in);
    char *v2 = evolve("{\"name\":\"note\",\"type\":\"string\",\"default\":\"\"}", NULL, NULL, NULL);
    char *v3 = evolve(NULL, "device_trust_score", NULL, NULL);
    char *v4 = evolve(NULL, "device_trust_score", "seconds_since_last_tx", "[\"null\",\"int\"]");
    char *v5 = evolve(NULL, NULL, "amount", "\"string\"");
    int32_t id2, id3, id4, id5;
    cr_assert_eq(weir_registry_register(r, subj, v2, &id2, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(weir_registry_register(r, subj, v3, &id3, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(weir_registry_register(r, subj, v4, &id4, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(weir_registry_register(r, subj, v5, &id5, err, sizeof(err)), 0, "%s", err);
    weir_registry_destroy(r);
    /* v3's bytes: the reader's with device_trust_score left out, through a resolution */
    weir_resolution_t *drop = NULL;
    cr_assert_eq(weir_resolve_new(weir_schema_text("transaction"), v3, &drop, err, sizeof(err)), 0,
                 "%s", err);
    rd_kafka_t *p = weir_it_producer();
    weir_buf_t b;
    weir_buf_init(&b, 1 << 20);
    for (int version = 2; version <= 6; version++) {
        for (size_t i = 0; i < n; i++) {
            const weir_it_record_t *rec = &in.records[i];
            const uint8_t *body = rec->value + 5;
            size_t len = rec->len - 5;
            int32_t id = version == 2   ? id2
                         : version == 3 ? id3
                         : version == 4 ? id4
                         : version == 5 ? id5
                                        : unknown_id;
            frame(&b, id);
            if (version == 3 || version == 4) /* int and long varints are the same bytes */
                cr_assert_eq(weir_resolve_read(drop, body, len, &b, err, sizeof(err)), 0, "%s",
                             err);
            else
                cr_assert_eq(weir_buf_append(&b, body, len), 0);
            if (version == 2)
                cr_assert_eq(weir_avro_write_string(&b, "n", 1), 0);
            weir_it_produce(p, s->in, rec->partition, rec->key, rec->key_len, b.data, b.len);
        }
    }
    weir_it_producer_close(p);
    weir_buf_dispose(&b);
    weir_resolve_destroy(drop);
    weir_it_records_free(&in);
    free(v2);
    free(v3);
    free(v4);
    free(v5);
    *incompatible_id = id5;
}

/* Counts the dead letters by reason; every incompatible one names @p field. */
static void count_dead(const char *dlq, size_t n, size_t *incompatible, size_t *unregistered,
                       const char *field)
{
    weir_it_records_t d;
    weir_it_read(dlq, n, 60000, &d);
    *incompatible = *unregistered = 0;
    for (size_t i = 0; i < d.count; i++) {
        const char *why = weir_it_header(&d.records[i], "weir.error");
        cr_assert_not_null(why);
        if (!strcmp(why, "incompatible_schema")) {
            (*incompatible)++;
            const char *detail = weir_it_header(&d.records[i], "weir.error.detail");
            cr_assert(detail && strstr(detail, field), "the detail names %s: %s", field,
                      detail ? detail : "(none)");
        } else if (!strcmp(why, "unregistered_schema_id")) {
            (*unregistered)++;
        }
    }
    weir_it_records_free(&d);
}

Test(registry_it, a_schema_evolved_mid_stream_is_scored_and_unreadable_writers_name_the_field,
     .timeout = 400)
{
    it_scenario_t s;
    char extra[600];
    const size_t n = 100;
    snprintf(extra, sizeof(extra), "schema.registry.url = %s", registry_url());
    it_setup(&s, "reg-evolve", 1, NULL, 0, extra);
    gen_registered(&s, "100");
    int32_t incompatible;
    produce_evolved(&s, n, &incompatible, 999999);
    pid_t pid = it_start(&s, 0);
    int64_t scored = weir_it_wait_count(s.out, 4 * n, 120000);
    int64_t dead = weir_it_wait_count(s.dlq, 2 * n, 60000);
    int rc = it_stop(pid);
    if (scored != (int64_t)(4 * n) || dead != (int64_t)(2 * n) || rc != 0)
        it_dump_log(&s, 0);
    cr_assert_eq(scored, 4 * n, "v1 to v4: every event scored");
    cr_assert_eq(dead, 2 * n);
    cr_assert_eq(rc, 0);
    size_t bad = 0, unknown = 0;
    count_dead(s.dlq, 2 * n, &bad, &unknown, "amount");
    cr_assert_eq(bad, n, "the unreadable writer's events are incompatible_schema");
    cr_assert_eq(unknown, n, "the unknown id's events are unregistered_schema_id");
    it_teardown(&s);
}

/* ---- a registry that goes away: a TCP relay in front of it ------------- */

static int loopback_socket(int port, int listening)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (listening ? bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 16) != 0
                  : connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Relays one connection both ways until a side closes. */
static void relay(int a, int b)
{
    char buf[16384];
    struct pollfd p[2] = {{.fd = a, .events = POLLIN}, {.fd = b, .events = POLLIN}};
    while (poll(p, 2, -1) > 0) {
        for (int i = 0; i < 2; i++) {
            if (!p[i].revents)
                continue;
            ssize_t n = read(p[i].fd, buf, sizeof(buf));
            if (n <= 0 || write(p[1 - i].fd, buf, (size_t)n) != n)
                return;
        }
    }
}

/* A process group relaying 127.0.0.1:@p port to the registry's port: killing
 * the group is the registry going away, connections included. The listening
 * socket is bound before this returns. */
static pid_t relay_start(int port, int target)
{
    int listener = loopback_socket(port, 1);
    cr_assert_geq(listener, 0, "cannot listen on %d", port);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        setpgid(0, 0);
        signal(SIGCHLD, SIG_IGN);
        for (;;) {
            int in = accept(listener, NULL, NULL);
            if (in < 0)
                continue;
            if (fork() == 0) {
                int out = loopback_socket(target, 0);
                if (out >= 0)
                    relay(in, out);
                _exit(0);
            }
            close(in);
        }
    }
    setpgid(pid, pid);
    close(listener);
    return pid;
}

static void relay_stop(pid_t pid)
{
    kill(-pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static int registry_port(void)
{
    const char *p = getenv("WEIR_REGISTRY_PORT");
    return p && *p ? atoi(p) : 28081;
}

Test(registry_it, a_registry_down_mid_stream_pauses_and_resumes_losing_and_dead_lettering_nothing,
     .timeout = 400)
{
    it_scenario_t s;
    char extra[600];
    const size_t n = 100;
    int relay_port = weir_it_free_port(), http = weir_it_free_port();
    const char *path = strstr(registry_url(), "/apis/");
    cr_assert_not_null(path);
    snprintf(extra, sizeof(extra), "schema.registry.url = http://127.0.0.1:%d%s", relay_port, path);
    it_setup(&s, "reg-down", 2, NULL, http, extra);
    gen_registered(&s, "100");
    /* the writer the producer moves to, registered while the registry is up */
    weir_registry_t *r = client(registry_url());
    char subj[300];
    snprintf(subj, sizeof(subj), "%s-value", s.in);
    char *v2 = evolve("{\"name\":\"note\",\"type\":\"string\",\"default\":\"\"}", NULL, NULL, NULL);
    int32_t id2;
    cr_assert_eq(weir_registry_register(r, subj, v2, &id2, err, sizeof(err)), 0, "%s", err);
    weir_registry_destroy(r);
    free(v2);

    pid_t up = relay_start(relay_port, registry_port());
    pid_t pid = it_start(&s, 0);
    cr_assert_eq(weir_it_wait_count(s.out, n, 120000), (int64_t)n);
    relay_stop(up); /* the registry goes away */

    weir_it_records_t in;
    weir_it_read(s.in, n, 60000, &in);
    rd_kafka_t *p = weir_it_producer();
    weir_buf_t b;
    weir_buf_init(&b, 1 << 20);
    for (size_t i = 0; i < in.count; i++) {
        frame(&b, id2);
        cr_assert_eq(weir_buf_append(&b, in.records[i].value + 5, in.records[i].len - 5), 0);
        cr_assert_eq(weir_avro_write_string(&b, "n", 1), 0);
        weir_it_produce(p, s.in, in.records[i].partition, in.records[i].key, in.records[i].key_len,
                        b.data, b.len);
    }
    weir_it_producer_close(p);
    weir_buf_dispose(&b);
    weir_it_records_free(&in);
    /* weir waits: failed fetches retried with backoff (0.1 + 0.2 + ... s) */
    int waited = it_wait_metric(http, "weir_registry_failures_total", 5, 60000);
    double up_now = it_metric(http, "weir_registry_up");
    int64_t dead_meanwhile = weir_it_count(s.dlq), scored_meanwhile = weir_it_count(s.out);
    up = relay_start(relay_port, registry_port()); /* and comes back */
    int64_t scored = weir_it_wait_count(s.out, 2 * n, 120000);
    int rc = it_stop(pid);
    relay_stop(up);
    if (scored != (int64_t)(2 * n) || rc != 0 || !waited)
        it_dump_log(&s, 0);
    cr_assert(waited, "weir retries the registry while it is down");
    cr_assert_eq(up_now, 0, "/metrics says the registry is down");
    cr_assert_eq(dead_meanwhile, 0, "nothing dead-lettered while the registry is down");
    cr_assert_eq(scored_meanwhile, (int64_t)n, "the new writer's events wait");
    cr_assert_eq(scored, 2 * n, "every event scored once it answers again");
    cr_assert_eq(rc, 0);
    cr_assert_eq(weir_it_count(s.dlq), 0, "none dead-lettered");
    /* exactly once: every event id twice (once per writer schema), none more */
    weir_it_records_t out;
    weir_it_read(s.out, 2 * n, 60000, &out);
    cr_assert_eq(out.count, 2 * n);
    weir_reader_t *reader = it_scored_reader();
    char(*ids)[64] = calloc(out.count, sizeof(*ids));
    for (size_t i = 0; i < out.count; i++) {
        it_scored_t sc;
        it_decode_scored(reader, &out.records[i], &sc);
        memcpy(ids[i], sc.event_id, sizeof(ids[i]));
    }
    qsort(ids, out.count, sizeof(*ids), (int (*)(const void *, const void *))strcmp);
    for (size_t i = 0; i < out.count; i += 2) {
        cr_assert_str_eq(ids[i], ids[i + 1], "event %s scored twice, once per writer", ids[i]);
        cr_assert(i + 2 >= out.count || strcmp(ids[i + 1], ids[i + 2]) != 0,
                  "event %s scored more than twice", ids[i]);
    }
    free(ids);
    weir_reader_destroy(reader);
    weir_it_records_free(&out);
    it_teardown(&s);
}
