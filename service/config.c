/*
 * config.c — the table of weir's configuration keys, the `weir.conf` reader,
 * `-X` overrides and the librdkafka configurations built from `kafka.*`.
 *
 * Errors name where the value came from: `weir.conf:12: batch.max: must be an
 * integer from 1 to 100000, got "lots"`, or `-X batch.max: ...`.
 */
#include "config.h"
#include "common.h"

#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef enum {
    T_STRING,   /* any string, may be empty */
    T_NAME,     /* non-empty string without spaces (topic, field) */
    T_TOPICS,   /* comma list of topic names */
    T_PATH,     /* a path, resolved against the config file's folder */
    T_FRAMING,  /* avro-confluent | avro */
    T_ID,       /* schema id: 0 .. INT32_MAX */
    T_SIZE,     /* integer in [min, max] */
    T_DURATION, /* 250ms, 30s, 5m, 24h, 7d */
    T_LEVEL,    /* log level */
} key_type_t;

typedef struct {
    const char *name;
    key_type_t type;
    const char *def;
    size_t offset;
    int64_t min, max;
    const char *help;
} key_t_;

#define F(field) offsetof(weir_config_t, field)

static const key_t_ keys[] = {
    {"input.topics", T_TOPICS, "", F(input_topics), 0, 0, "comma list of topics to score"},
    {"input.format", T_FRAMING, "avro-confluent", F(input_framing), 0, 0,
     "avro-confluent (magic 0 + schema id) or avro (raw binary)"},
    {"input.schema", T_PATH, "", F(input_schema_path), 0, 0, "the input writer schema (.avsc)"},
    {"input.schema.id", T_ID, "1", F(input_schema_id), 0, INT32_MAX,
     "schema id the Confluent-framed input carries; any other id is a dead letter"},
    {"input.id.field", T_NAME, "event_id", F(input_id_field), 0, 0,
     "input field holding the event id (string or long)"},
    {"input.time.field", T_STRING, "event_time", F(input_time_field), 0, 0,
     "input field holding the event time in ms (long); empty: the Kafka timestamp"},
    {"output.topic", T_NAME, "", F(output_topic), 0, 0, "topic for scored events"},
    {"output.format", T_FRAMING, "avro-confluent", F(output_framing), 0, 0,
     "framing of scored events"},
    {"output.schema.id", T_ID, "2", F(output_schema_id), 0, INT32_MAX,
     "schema id written on scored events (avro-confluent)"},
    {"dlq.topic", T_NAME, "", F(dlq_topic), 0, 0, "topic for dead letters"},
    {"alerts.topic", T_STRING, "", F(alerts_topic), 0, 0, "topic for drift alerts"},
    {"alerts.schema.id", T_ID, "3", F(alerts_schema_id), 0, INT32_MAX,
     "schema id written on drift alerts"},
    {"labels.topic", T_STRING, "", F(labels_topic), 0, 0,
     "topic of ground-truth labels (optional)"},
    {"labels.schema.id", T_ID, "4", F(labels_schema_id), 0, INT32_MAX,
     "schema id the Confluent-framed labels carry"},
    {"model.path", T_PATH, "", F(model_path), 0, 0, "the model bundle (weir.model/1 JSON)"},
    {"batch.max", T_SIZE, "512", F(batch_max), 1, 100000, "most events scored in one batch"},
    {"http.listen", T_STRING, "127.0.0.1:9464", F(http_listen), 0, 0,
     "host:port of /metrics, /healthz, /readyz; empty disables"},
    {"log.level", T_LEVEL, "info", F(log_level), 0, 0, "debug, info, warn or error"},
    {"instance.id", T_STRING, "", F(instance_id), 0, 0,
     "name of this instance in alerts and logs (default: host name and pid)"},
    {"commit.interval", T_DURATION, "1s", F(commit_interval_ms), 10, 3600000,
     "how often delivered offsets are committed"},
    {"shutdown.timeout", T_DURATION, "30s", F(shutdown_timeout_ms), 0, 3600000,
     "how long SIGTERM may take to flush and commit"},
    {"max.in.flight", T_SIZE, "100000", F(max_in_flight), 1, 10000000,
     "events consumed and not yet delivered, per partition"},
    {"labels.ttl", T_DURATION, "24h", F(labels_ttl_ms), 1000, INT64_C(31536000000),
     "how long a prediction waits for its label"},
    {"labels.max_pending", T_SIZE, "1000000", F(labels_max_pending), 1, 100000000,
     "predictions waiting for a label, at most"},
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

/* librdkafka keys that only one client understands: plain kafka.* keys are
 * routed by these, so neither client warns about the other's keys. */
static const char *consumer_only[] = {"group.",
                                      "session.timeout.ms",
                                      "heartbeat.interval.ms",
                                      "max.poll.interval.ms",
                                      "auto.offset.reset",
                                      "enable.auto.",
                                      "auto.commit.",
                                      "partition.assignment.strategy",
                                      "fetch.",
                                      "queued.",
                                      "isolation.level",
                                      "check.crcs",
                                      "enable.partition.eof",
                                      "coordinator.query.interval.ms",
                                      "consume.callback.max.messages",
                                      NULL};
static const char *producer_only[] = {"acks",
                                      "request.required.acks",
                                      "linger.ms",
                                      "queue.buffering.",
                                      "batch.",
                                      "compression.",
                                      "enable.idempotence",
                                      "transactional.id",
                                      "transaction.timeout.ms",
                                      "message.timeout.ms",
                                      "delivery.timeout.ms",
                                      "retries",
                                      "message.send.max.retries",
                                      "partitioner",
                                      "sticky.partitioning.linger.ms",
                                      "enable.gapless.guarantee",
                                      "request.timeout.ms",
                                      "max.in.flight",
                                      NULL};

static int has_prefix_in(const char *key, const char **list)
{
    for (size_t i = 0; list[i]; i++)
        if (!strncmp(key, list[i], strlen(list[i])))
            return 1;
    return 0;
}

int weir_config_is_secret(const char *key)
{
    return strstr(key, "password") || strstr(key, "secret") || !strncmp(key, "sasl.", 5) ||
           strstr(key, "kafka.sasl.") || (strstr(key, "ssl.") && strstr(key, "key"));
}

static void free_topics(weir_config_t *c)
{
    for (size_t i = 0; i < c->input_topic_count; i++) {
        free(c->input_topics[i]);
        c->input_topics[i] = NULL;
    }
    c->input_topic_count = 0;
}

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return 99;
    size_t d[64][64];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;
            d[i][j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
    return d[la][lb];
}

static const char *suggest(const char *key)
{
    const char *best = NULL;
    size_t best_d = 4;
    for (size_t i = 0; i < NKEYS; i++) {
        size_t d = edit_distance(key, keys[i].name);
        if (d < best_d) {
            best_d = d;
            best = keys[i].name;
        }
    }
    return best;
}

static int valid_name(const char *v)
{
    if (!*v)
        return 0;
    for (const char *p = v; *p; p++)
        if (isspace((unsigned char)*p) || *p == ',')
            return 0;
    return 1;
}

static int set_string(char **slot, const char *v)
{
    char *copy = strdup(v);
    if (!copy)
        return WEIR_ENOMEM;
    free(*slot);
    *slot = copy;
    return 0;
}

/* Sets a known key; `where` is "file:line" or "-X", `base` the folder that
 * relative paths are resolved against (NULL: the working directory). */
static int set_known(weir_config_t *c, const key_t_ *k, const char *v, const char *where,
                     const char *base, char *err, size_t errsz)
{
    char *slot = (char *)c + k->offset;
    switch (k->type) {
    case T_STRING:
        return set_string((char **)slot, v);
    case T_NAME:
        if (*v && !valid_name(v))
            return weir_seterr(err, errsz, WEIR_ECONFIG,
                               "%s: %s: must be one name without spaces or commas, got \"%s\"",
                               where, k->name, v);
        return set_string((char **)slot, v);
    case T_TOPICS: {
        free_topics(c);
        char *copy = strdup(v);
        if (!copy)
            return WEIR_ENOMEM;
        int rc = 0;
        char *save = NULL;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            while (isspace((unsigned char)*t))
                t++;
            char *end = t + strlen(t);
            while (end > t && isspace((unsigned char)end[-1]))
                *--end = '\0';
            if (!valid_name(t)) {
                rc = weir_seterr(err, errsz, WEIR_ECONFIG, "%s: %s: bad topic name \"%s\"", where,
                                 k->name, t);
                break;
            }
            if (c->input_topic_count == WEIR_CONFIG_MAX_TOPICS) {
                rc = weir_seterr(err, errsz, WEIR_ECONFIG, "%s: %s: more than %d topics", where,
                                 k->name, WEIR_CONFIG_MAX_TOPICS);
                break;
            }
            c->input_topics[c->input_topic_count++] = strdup(t);
        }
        free(copy);
        return rc;
    }
    case T_PATH: {
        if (*v && *v != '/' && base) {
            char joined[PATH_MAX];
            snprintf(joined, sizeof(joined), "%s/%s", base, v);
            return set_string((char **)slot, joined);
        }
        return set_string((char **)slot, v);
    }
    case T_FRAMING:
        if (!strcmp(v, "avro-confluent"))
            *(weir_framing_t *)slot = WEIR_FRAMING_CONFLUENT;
        else if (!strcmp(v, "avro"))
            *(weir_framing_t *)slot = WEIR_FRAMING_RAW;
        else
            return weir_seterr(err, errsz, WEIR_ECONFIG,
                               "%s: %s: must be avro-confluent or avro, got \"%s\"", where, k->name,
                               v);
        return 0;
    case T_ID:
    case T_SIZE: {
        char *end;
        errno = 0;
        long long n = strtoll(v, &end, 10);
        if (errno || end == v || *end || n < k->min || n > k->max)
            return weir_seterr(err, errsz, WEIR_ECONFIG,
                               "%s: %s: must be an integer from %lld to %lld, got \"%s\"", where,
                               k->name, (long long)k->min, (long long)k->max, v);
        if (k->type == T_ID)
            *(int32_t *)slot = (int32_t)n;
        else
            *(size_t *)slot = (size_t)n;
        return 0;
    }
    case T_DURATION: {
        int64_t ms;
        if (weir_parse_duration_ms(v, &ms) != 0 || ms < k->min || ms > k->max)
            return weir_seterr(err, errsz, WEIR_ECONFIG,
                               "%s: %s: must be a duration such as 500ms, 30s, 5m, 24h (from "
                               "%lldms to %lldms), got \"%s\"",
                               where, k->name, (long long)k->min, (long long)k->max, v);
        *(int64_t *)slot = ms;
        return 0;
    }
    case T_LEVEL:
        if (weir_log_parse_level(v, (weir_log_level_t *)slot) != 0)
            return weir_seterr(err, errsz, WEIR_ECONFIG,
                               "%s: %s: must be debug, info, warn or error, got \"%s\"", where,
                               k->name, v);
        return 0;
    }
    return WEIR_EINVAL;
}

static int check_kafka(const char *key, const char *value, const char *where, char *err,
                       size_t errsz)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_res_t res = rd_kafka_conf_set(conf, key, value, errstr, sizeof(errstr));
    rd_kafka_conf_destroy(conf);
    if (res == RD_KAFKA_CONF_OK)
        return 0;
    return weir_seterr(err, errsz, WEIR_ECONFIG, "%s: kafka.%s: %s", where, key, errstr);
}

static int set_kafka(weir_config_t *c, const char *key, const char *value, const char *where,
                     char *err, size_t errsz)
{
    int scope = 0;
    if (!strncmp(key, "consumer.", 9)) {
        scope = 1;
        key += 9;
    } else if (!strncmp(key, "producer.", 9)) {
        scope = 2;
        key += 9;
    } else if (has_prefix_in(key, consumer_only)) {
        scope = 1;
    } else if (has_prefix_in(key, producer_only)) {
        scope = 2;
    }
    if (!*key)
        return weir_seterr(err, errsz, WEIR_ECONFIG, "%s: empty kafka property name", where);
    if (!strcmp(key, "enable.auto.offset.store") || !strcmp(key, "enable.auto.commit"))
        return weir_seterr(err, errsz, WEIR_ECONFIG,
                           "%s: kafka.%s: weir stores and commits offsets itself, only after "
                           "their output is delivered (at-least-once); use commit.interval",
                           where, key);
    int rc = check_kafka(key, value, where, err, errsz);
    if (rc)
        return rc;
    for (size_t i = 0; i < c->kafka_count; i++) {
        if (!strcmp(c->kafka_keys[i], key) && c->kafka_scope[i] == scope)
            return set_string(&c->kafka_values[i], value);
    }
    size_t n = c->kafka_count + 1;
    char **keys_ = realloc(c->kafka_keys, n * sizeof(*keys_));
    if (keys_)
        c->kafka_keys = keys_;
    char **values = realloc(c->kafka_values, n * sizeof(*values));
    if (values)
        c->kafka_values = values;
    int *scopes = realloc(c->kafka_scope, n * sizeof(*scopes));
    if (scopes)
        c->kafka_scope = scopes;
    if (!keys_ || !values || !scopes)
        return WEIR_ENOMEM;
    c->kafka_keys[c->kafka_count] = strdup(key);
    c->kafka_values[c->kafka_count] = strdup(value);
    c->kafka_scope[c->kafka_count] = scope;
    c->kafka_count = n;
    return 0;
}

static int set_drift(weir_config_t *c, const char *key, const char *value, const char *where,
                     char *err, size_t errsz)
{
    char why[512];
    if (weir_drift_config_set(&c->drift, key, value, why, sizeof(why)) != 0)
        return weir_seterr(err, errsz, WEIR_ECONFIG, "%s: %s", where, why);
    return 0;
}

static int set_pair(weir_config_t *c, const char *key, const char *value, const char *where,
                    const char *base, char *err, size_t errsz)
{
    if (!strncmp(key, "kafka.", 6))
        return set_kafka(c, key + 6, value, where, err, errsz);
    if (!strncmp(key, "drift.", 6))
        return set_drift(c, key, value, where, err, errsz);
    for (size_t i = 0; i < NKEYS; i++)
        if (!strcmp(keys[i].name, key))
            return set_known(c, &keys[i], value, where, base, err, errsz);
    const char *close = suggest(key);
    if (close)
        return weir_seterr(err, errsz, WEIR_ECONFIG, "%s: unknown key \"%s\" (did you mean %s?)",
                           where, key, close);
    return weir_seterr(err, errsz, WEIR_ECONFIG,
                       "%s: unknown key \"%s\" (weir config -h lists the keys; librdkafka "
                       "properties take the prefix kafka.)",
                       where, key);
}

void weir_config_init(weir_config_t *c)
{
    memset(c, 0, sizeof(*c));
    weir_drift_config_default(&c->drift);
    for (size_t i = 0; i < NKEYS; i++) {
        int rc = set_known(c, &keys[i], keys[i].def, "default", NULL, NULL, 0);
        (void)rc; /* the defaults are valid by construction (tested) */
    }
}

void weir_config_dispose(weir_config_t *c)
{
    free_topics(c);
    for (size_t i = 0; i < NKEYS; i++) {
        if (keys[i].type == T_STRING || keys[i].type == T_NAME || keys[i].type == T_PATH) {
            char **slot = (char **)((char *)c + keys[i].offset);
            free(*slot);
            *slot = NULL;
        }
    }
    for (size_t i = 0; i < c->kafka_count; i++) {
        free(c->kafka_keys[i]);
        free(c->kafka_values[i]);
    }
    free(c->kafka_keys);
    free(c->kafka_values);
    free(c->kafka_scope);
    c->kafka_keys = c->kafka_values = NULL;
    c->kafka_scope = NULL;
    c->kafka_count = 0;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

int weir_config_load_file(weir_config_t *c, const char *path, char *err, size_t errsz)
{
    int rc = 0;
    char *line = NULL;
    size_t cap = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return weir_seterr(err, errsz, WEIR_EIO, "%s: %s", path, strerror(errno));
    char base[PATH_MAX];
    snprintf(base, sizeof(base), "%s", path);
    char *dir = dirname(base);

    ssize_t got;
    int lineno = 0;
    while ((got = getline(&line, &cap, f)) >= 0) {
        lineno++;
        char where[PATH_MAX + 32];
        snprintf(where, sizeof(where), "%s:%d", path, lineno);
        if (memchr(line, '\0', (size_t)got)) {
            rc = weir_seterr(err, errsz, WEIR_ECONFIG, "%s: NUL byte in the file", where);
            break;
        }
        char *s = trim(line);
        if (*s == '\0' || *s == '#' || *s == '!')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            rc = weir_seterr(err, errsz, WEIR_ECONFIG, "%s: expected key = value, got \"%.60s\"",
                             where, s);
            break;
        }
        *eq = '\0';
        char *key = trim(s), *value = trim(eq + 1);
        if (!*key) {
            rc = weir_seterr(err, errsz, WEIR_ECONFIG, "%s: missing key before '='", where);
            break;
        }
        if ((rc = set_pair(c, key, value, where, dir, err, errsz)) != 0)
            break;
    }
    if (rc == 0 && ferror(f))
        rc = weir_seterr(err, errsz, WEIR_EIO, "%s: read error", path);
    free(line);
    fclose(f);
    return rc;
}

int weir_config_set(weir_config_t *c, const char *assignment, char *err, size_t errsz)
{
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment)
        return weir_seterr(err, errsz, WEIR_ECONFIG, "-X %s: expected key=value", assignment);
    char key[256];
    size_t n = (size_t)(eq - assignment);
    if (n >= sizeof(key))
        return weir_seterr(err, errsz, WEIR_ECONFIG, "-X: key too long");
    memcpy(key, assignment, n);
    key[n] = '\0';
    return set_pair(c, trim(key), eq + 1, "-X", NULL, err, errsz);
}

int weir_config_check_run(const weir_config_t *c, char *err, size_t errsz)
{
    if (c->input_topic_count == 0)
        return weir_seterr(err, errsz, WEIR_ECONFIG, "input.topics: required");
    if (!*c->output_topic)
        return weir_seterr(err, errsz, WEIR_ECONFIG, "output.topic: required");
    if (!*c->dlq_topic)
        return weir_seterr(err, errsz, WEIR_ECONFIG,
                           "dlq.topic: required (bad events go there instead of being dropped)");
    if (!*c->model_path)
        return weir_seterr(err, errsz, WEIR_ECONFIG, "model.path: required");
    if (!*c->input_schema_path)
        return weir_seterr(err, errsz, WEIR_ECONFIG, "input.schema: required");
    int rc = weir_drift_config_check(&c->drift, err, errsz);
    if (rc)
        return rc;
    int has_bootstrap = 0;
    for (size_t i = 0; i < c->kafka_count; i++)
        if (!strcmp(c->kafka_keys[i], "bootstrap.servers") ||
            !strcmp(c->kafka_keys[i], "metadata.broker.list"))
            has_bootstrap = 1;
    if (!has_bootstrap)
        return weir_seterr(err, errsz, WEIR_ECONFIG, "kafka.bootstrap.servers: required");
    for (size_t i = 0; i < c->input_topic_count; i++) {
        const char *t = c->input_topics[i];
        if (!strcmp(t, c->output_topic) || !strcmp(t, c->dlq_topic) ||
            (*c->alerts_topic && !strcmp(t, c->alerts_topic)))
            return weir_seterr(err, errsz, WEIR_ECONFIG,
                               "input.topics: \"%s\" is also an output topic (a loop)", t);
        if (*c->labels_topic && !strcmp(t, c->labels_topic))
            return weir_seterr(err, errsz, WEIR_ECONFIG,
                               "labels.topic: \"%s\" is also an input topic", t);
    }
    return 0;
}

static int conf_set(rd_kafka_conf_t *conf, const char *key, const char *value, char *err,
                    size_t errsz)
{
    char errstr[512];
    if (rd_kafka_conf_set(conf, key, value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
        return weir_seterr(err, errsz, WEIR_ECONFIG, "kafka.%s: %s", key, errstr);
    return 0;
}

int weir_config_kafka(const weir_config_t *c, int consumer, rd_kafka_conf_t **out, char *err,
                      size_t errsz)
{
    static const char *consumer_defaults[][2] = {
        {"group.id", "weir"},
        {"client.id", "weir"},
        {"partition.assignment.strategy", "roundrobin"},
        {"auto.offset.reset", "earliest"},
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"enable.partition.eof", "false"},
        {"queued.max.messages.kbytes", "16384"},
        /* Small per-partition fetches interleave partitions in the stream weir
         * sees, so a drift window is not one partition's keys at a time
         * (with the 1 MB default, a catch-up read feeds ~10k events of one
         * partition in a row, and per-key features such as a card's country
         * look drifted). */
        {"max.partition.fetch.bytes", "65536"},
    };
    static const char *producer_defaults[][2] = {
        {"client.id", "weir"}, {"enable.idempotence", "true"}, {"acks", "all"},
        {"linger.ms", "5"},    {"compression.type", "lz4"},
    };
    int rc = 0;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    size_t n = consumer ? sizeof(consumer_defaults) / sizeof(consumer_defaults[0])
                        : sizeof(producer_defaults) / sizeof(producer_defaults[0]);
    for (size_t i = 0; i < n && rc == 0; i++) {
        const char **kv = consumer ? consumer_defaults[i] : producer_defaults[i];
        rc = conf_set(conf, kv[0], kv[1], err, errsz);
    }
    for (size_t i = 0; i < c->kafka_count && rc == 0; i++) {
        int scope = c->kafka_scope[i];
        if (scope == 0 || (scope == 1 && consumer) || (scope == 2 && !consumer))
            rc = conf_set(conf, c->kafka_keys[i], c->kafka_values[i], err, errsz);
    }
    if (rc) {
        rd_kafka_conf_destroy(conf);
        conf = NULL;
    }
    *out = conf;
    return rc;
}

void weir_config_print_keys(FILE *out)
{
    for (size_t i = 0; i < NKEYS; i++)
        fprintf(out, "  %-22s [%s]\n      %s\n", keys[i].name, keys[i].def, keys[i].help);
    fprintf(out, "  %-22s\n      %s\n", "kafka.<property>",
            "passed to librdkafka (both clients); kafka.consumer.* / kafka.producer.* for one");
    fprintf(out, "  %-22s\n      %s\n", "drift.<knob>",
            "drift monitoring: drift.window [5000], drift.step [1000], tests, thresholds, alert "
            "policy (docs/drift.md)");
}
