/*
 * config.c — the table of weir's configuration keys, the `weir.conf` reader,
 * `-X` overrides, the checks made once every source is applied, and the
 * librdkafka configurations built from `kafka.*`.
 *
 * Errors name where the value came from: `weir.conf:12: batch.max: must be an
 * integer from 1 to 100000, got "lots"`, or `-X: batch.max: ...`. Every key
 * set is remembered with its origin, so that a check that needs several keys
 * or the model bundle still names the line at fault.
 *
 * What an error shows of a line or a value goes through weir_config_quote()
 * (control bytes escaped), and the value of a secret key never appears: not
 * in our messages, not in librdkafka's (they are rephrased for secret keys).
 */
#include "config.h"
#include "common.h"

#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <uv.h>

typedef enum {
    T_STRING,    /* any text, may be empty */
    T_TOPIC,     /* a Kafka topic name, or empty (not set) */
    T_TOPICS,    /* comma list of topic names */
    T_FIELD,     /* a record field path ("event_id", "card.country") */
    T_FIELD_OPT, /* the same, or empty */
    T_PATH,      /* a path, resolved against the config file's folder */
    T_FRAMING,   /* avro-confluent | avro */
    T_ID,        /* schema id: 0 .. INT32_MAX */
    T_SIZE,      /* integer in [min, max] */
    T_DURATION,  /* 250ms, 30s, 5m, 24h, 7d */
    T_NUMBER,    /* a finite number in [min, max] */
    T_LEVEL,     /* log level */
    T_LISTEN,    /* IPv4:port or [IPv6]:port, or empty */
    T_FRACTION,  /* a number from 0 to 1 (stored as a double) */
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
    {"input.id.field", T_FIELD, "event_id", F(input_id_field), 0, 0,
     "input field holding the event id (string or long)"},
    {"input.time.field", T_FIELD_OPT, "event_time", F(input_time_field), 0, 0,
     "input field holding the event time in ms (long); empty: the Kafka timestamp"},
    {"output.topic", T_TOPIC, "", F(output_topic), 0, 0, "topic for scored events"},
    {"output.format", T_FRAMING, "avro-confluent", F(output_framing), 0, 0,
     "framing of scored events"},
    {"output.schema.id", T_ID, "2", F(output_schema_id), 0, INT32_MAX,
     "schema id written on scored events (avro-confluent)"},
    {"dlq.topic", T_TOPIC, "", F(dlq_topic), 0, 0, "topic for dead letters"},
    {"alerts.topic", T_TOPIC, "", F(alerts_topic), 0, 0, "topic for drift alerts"},
    {"alerts.schema.id", T_ID, "3", F(alerts_schema_id), 0, INT32_MAX,
     "schema id written on drift alerts"},
    {"schema.registry.url", T_STRING, "", F(registry_url), 0, 0,
     "comma list of schema registry URLs (Confluent API); empty: schema ids from this file"},
    {"schema.registry.username", T_STRING, "", F(registry_username), 0, 0,
     "basic auth user of the schema registry"},
    {"schema.registry.password", T_STRING, "", F(registry_password), 0, 0,
     "basic auth password of the schema registry (never shown)"},
    {"schema.registry.ssl.ca.location", T_STRING, "", F(registry_ca), 0, 0,
     "PEM CA file for an https registry (default: the system's)"},
    {"schema.registry.timeout", T_DURATION, "10s", F(registry_timeout_ms), 100, 600000,
     "per request and URL"},
    {"labels.topic", T_TOPIC, "", F(labels_topic), 0, 0, "topic of ground-truth labels (optional)"},
    {"labels.schema.id", T_ID, "4", F(labels_schema_id), 0, INT32_MAX,
     "schema id the Confluent-framed labels carry"},
    {"model.path", T_PATH, "", F(model_path), 0, 0,
     "the model bundle (weir.model/1 JSON), or a folder of versioned bundles with a current "
     "pointer (weir model promote/rollback)"},
    {"model.shadow.path", T_PATH, "", F(shadow_path), 0, 0,
     "a challenger bundle (or folder) scored beside the champion on every event"},
    {"shadow.topic", T_TOPIC, "", F(shadow_topic), 0, 0,
     "the challenger's ScoredEvents go there; empty: into the champion's, as field shadow"},
    {"model.canary.path", T_PATH, "", F(canary_path), 0, 0,
     "a candidate bundle (or folder) that serves model.canary.share of the keys"},
    {"model.canary.share", T_FRACTION, "0.1", F(canary_share), 0, 0,
     "share of keys (by key hash: one key, one model) the canary serves, 0 to 1"},
    {"model.probation", T_SIZE, "0", F(probation_events), 0, 100000000,
     "events a reloaded model is watched for, rolled back past a limit below; 0: no guard"},
    {"model.probation.dead_letter_share", T_FRACTION, "0.05", F(probation_dead_share), 0, 0,
     "rollback when the new model's dead-letter share passes the previous one's by this"},
    {"model.probation.score_drift", T_FRACTION, "0.3", F(probation_score_drift), 0, 0,
     "rollback when the KS distance of its scores to the previous model's recent ones passes "
     "this"},
    {"model.probation.error_rate", T_FRACTION, "0.05", F(probation_error_rate), 0, 0,
     "rollback when its error rate on joined labels passes the previous one's by this"},
    {"score.listen", T_LISTEN, "", F(score_listen), 0, 0,
     "IP:port of POST /score (weir serve: 127.0.0.1:9480 when empty; weir run: off)"},
    {"score.token", T_STRING, "", F(score_token), 0, 0,
     "bearer token POST /score requires (Authorization: Bearer ...); a secret, never logged"},
    {"score.body.max", T_SIZE, "65536", F(score_body_max), 64, 16777216,
     "largest POST /score body in bytes (413 past it)"},
    {"batch.max", T_SIZE, "512", F(batch_max), 1, 100000, "most events scored in one batch"},
    {"http.listen", T_LISTEN, "127.0.0.1:9464", F(http_listen), 0, 0,
     "IP:port of /metrics, /healthz, /readyz ([::1]:port for IPv6); empty disables"},
    {"log.level", T_LEVEL, "info", F(log_level), 0, 0, "debug, info, warn or error"},
    {"instance.id", T_STRING, "", F(instance_id), 0, 0,
     "name of this instance in alerts and logs (default: host name and pid)"},
    {"commit.interval", T_DURATION, "1s", F(commit_interval_ms), 10, 3600000,
     "how often delivered offsets are committed"},
    {"shutdown.timeout", T_DURATION, "30s", F(shutdown_timeout_ms), 0, 3600000,
     "how long SIGTERM may take to flush and commit"},
    {"connect.timeout", T_DURATION, "30s", F(connect_timeout_ms), 0, 3600000,
     "how long start-up waits for a broker to answer; a refused login or certificate "
     "fails at once; 0: do not wait"},
    {"max.in.flight", T_SIZE, "100000", F(max_in_flight), 1, 10000000,
     "events consumed and not yet delivered, per partition"},
    {"labels.ttl", T_DURATION, "24h", F(labels_ttl_ms), 1000, INT64_C(31536000000),
     "how long a prediction waits for its label"},
    {"labels.max_pending", T_SIZE, "1000000", F(labels_max_pending), 1, 100000000,
     "predictions waiting for a label, at most"},
    {"eval.cost.false_positive", T_NUMBER, "1", F(eval_cost_fp), 0, 1000000000,
     "cost of one false positive in a backtest's threshold sweep (weir replay)"},
    {"eval.cost.false_negative", T_NUMBER, "1", F(eval_cost_fn), 0, 1000000000,
     "cost of one false negative in a backtest's threshold sweep (weir replay)"},
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

#define NUMERIC_TESTS                                                                              \
    (WEIR_DRIFT_BIT(WEIR_DRIFT_KS) | WEIR_DRIFT_BIT(WEIR_DRIFT_PSI) |                              \
     WEIR_DRIFT_BIT(WEIR_DRIFT_WASSERSTEIN) | WEIR_DRIFT_BIT(WEIR_DRIFT_JS))
#define CATEGORICAL_TESTS                                                                          \
    (WEIR_DRIFT_BIT(WEIR_DRIFT_CHI2) | WEIR_DRIFT_BIT(WEIR_DRIFT_PSI) |                            \
     WEIR_DRIFT_BIT(WEIR_DRIFT_JS))

/* ---- what a message may show --------------------------------------- */

/* Length of the UTF-8 sequence at @p s (at most @p len bytes) and its code
 * point, or 0 when it is not well-formed. */
static size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
    size_t n;
    uint32_t c, min;
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        n = 2, c = s[0] & 0x1F, min = 0x80;
    } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        n = 3, c = s[0] & 0x0F, min = 0x800;
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        n = 4, c = s[0] & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n > len)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = c << 6 | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return n;
}

/* Code points a terminal acts on or that reorder the text around them. */
static int unsafe_code_point(uint32_t cp)
{
    return cp < 0xA0 || cp == 0x200E || cp == 0x200F || cp == 0x2028 || cp == 0x2029 ||
           (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0xFEFF;
}

/* Writes the escaped form of @p s into @p out from *@p at, keeping @p keep
 * bytes free at the end; @p quotes also escapes '"' and '\\'. Returns the
 * number of input bytes written (less than @p len when out of room). */
static size_t escape_into(char *out, size_t outsz, size_t *at, size_t keep, const char *s,
                          size_t len, int quotes)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, o = *at;
    while (i < len) {
        char piece[16];
        size_t plen, step = 1;
        uint32_t cp;
        unsigned char b = u[i];
        if (b >= 0x20 && b < 0x7F) {
            if (quotes && (b == '"' || b == '\\'))
                plen = (size_t)snprintf(piece, sizeof(piece), "\\%c", b);
            else
                piece[0] = (char)b, plen = 1;
        } else if (b == '\n' || b == '\t' || b == '\r') {
            plen = (size_t)snprintf(piece, sizeof(piece), "\\%c",
                                    b == '\n'   ? 'n'
                                    : b == '\t' ? 't'
                                                : 'r');
        } else if (b < 0x80) {
            plen = (size_t)snprintf(piece, sizeof(piece), "\\x%02x", b);
        } else if ((step = utf8_decode(u + i, len - i, &cp)) == 0) {
            step = 1;
            plen = (size_t)snprintf(piece, sizeof(piece), "\\x%02x", b);
        } else if (unsafe_code_point(cp)) {
            plen = (size_t)snprintf(piece, sizeof(piece), "\\u{%04x}", (unsigned)cp);
        } else {
            memcpy(piece, u + i, step);
            plen = step;
        }
        if (o + plen + keep >= outsz)
            break;
        memcpy(out + o, piece, plen);
        o += plen;
        i += step;
    }
    *at = o;
    return i;
}

void weir_config_quote(char *out, size_t outsz, const char *s, size_t len)
{
    if (outsz == 0)
        return;
    if (outsz < 8) {
        out[0] = '\0';
        return;
    }
    size_t o = 0;
    out[o++] = '"';
    /* room for the closing quote, "..." and the NUL */
    size_t done = escape_into(out, outsz, &o, 5, s, len, 1);
    out[o++] = '"';
    if (done < len) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

/* Escapes the control bytes of a message in place (librdkafka's, drift's),
 * cut with "..." to fit @p size. */
static void sanitize(char *msg, size_t size)
{
    char raw[1024];
    size_t o = 0;
    if (size < 4)
        return;
    snprintf(raw, sizeof(raw), "%s", msg);
    size_t len = strlen(raw);
    size_t done = escape_into(msg, size, &o, 4, raw, len, 0);
    if (done < len) {
        memcpy(msg + o, "...", 3);
        o += 3;
    }
    msg[o] = '\0';
}

/* Whether @p s has a byte a terminal would act on, invalid UTF-8 or a C1
 * control; *@p at gets the offset of the first one. */
static int unsafe_text(const char *s, size_t *at)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t len = strlen(s);
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = 1;
        if (u[i] < 0x20 || u[i] == 0x7F ||
            (u[i] >= 0x80 && ((n = utf8_decode(u + i, len - i, &cp)) == 0 || cp < 0xA0))) {
            *at = i;
            return 1;
        }
        i += n;
    }
    return 0;
}

/* Case-insensitive strstr. */
static const char *find_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (!strncasecmp(hay, needle, n))
            return hay;
    return NULL;
}

int weir_config_is_secret(const char *key)
{
    if (!strncasecmp(key, "kafka.", 6))
        key += 6;
    if (!strncasecmp(key, "consumer.", 9) || !strncasecmp(key, "producer.", 9))
        key += 9;
    int sasl = !strncasecmp(key, "sasl.", 5) || find_ci(key, ".sasl.");
    int ssl = !strncasecmp(key, "ssl.", 4) || find_ci(key, ".ssl.");
    return find_ci(key, "password") || find_ci(key, "secret") || find_ci(key, "token") || sasl ||
           (ssl && find_ci(key, "key"));
}

/* For a line that is not `key = value`: whether any of it looks like it
 * could name a secret (then none of it is shown). */
static int looks_secret(const char *line)
{
    return find_ci(line, "password") || find_ci(line, "secret") || find_ci(line, "token") ||
           find_ci(line, "sasl") || (find_ci(line, "ssl") && find_ci(line, "key"));
}

/* ---- origins ------------------------------------------------------- */

const char *weir_config_origin(const weir_config_t *c, const char *key)
{
    for (size_t i = c->origin_count; i > 0; i--)
        if (!strcmp(c->origins[i - 1].key, key))
            return c->origins[i - 1].where;
    return NULL;
}

static const char *where_of(const weir_config_t *c, const char *key)
{
    const char *w = weir_config_origin(c, key);
    return w ? w : "default";
}

static int remember(weir_config_t *c, const char *key, const char *where, char *err, size_t errsz)
{
    for (size_t i = 0; i < c->origin_count; i++) {
        weir_config_origin_t *o = &c->origins[i];
        if (!strcmp(o->key, key)) {
            char *w = strdup(where);
            if (!w)
                return WEIR_ENOMEM;
            free(o->where);
            o->where = w;
            return 0;
        }
    }
    if (c->origin_count == WEIR_CONFIG_MAX_KEYS)
        return weir_seterr(err, errsz, WEIR_ECONFIG, "%s: more than %d keys set", where,
                           WEIR_CONFIG_MAX_KEYS);
    weir_config_origin_t *grown = realloc(c->origins, (c->origin_count + 1) * sizeof(*c->origins));
    if (!grown)
        return WEIR_ENOMEM;
    c->origins = grown;
    weir_config_origin_t *o = &c->origins[c->origin_count];
    o->key = strdup(key);
    o->where = strdup(where);
    if (!o->key || !o->where) {
        free(o->key);
        free(o->where);
        return WEIR_ENOMEM;
    }
    c->origin_count++;
    return 0;
}

/* ---- values -------------------------------------------------------- */

static int has_prefix_in(const char *key, const char **list)
{
    for (size_t i = 0; list[i]; i++)
        if (!strncmp(key, list[i], strlen(list[i])))
            return 1;
    return 0;
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
    /* the distance is at least the difference of the lengths */
    if (la > 63 || lb > 63 || la > lb + 3 || lb > la + 3)
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

int weir_config_topic_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 249 || !strcmp(name, ".") || !strcmp(name, ".."))
        return 0;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
            return 0;
    return 1;
}

/* "event_id" or "card.country": dot-separated Avro names. */
static int field_ok(const char *v)
{
    const char *p = v;
    for (;;) {
        if (!(isalpha((unsigned char)*p) || *p == '_'))
            return 0;
        while (isalnum((unsigned char)*p) || *p == '_')
            p++;
        if (*p == '\0')
            return 1;
        if (*p++ != '.')
            return 0;
    }
}

/* The syntax http.c's listener takes: an IPv4 literal or a bracketed IPv6
 * literal, a colon and a port. */
static int listen_ok(const char *v)
{
    char host[64];
    const char *colon = strrchr(v, ':');
    if (!colon || colon == v || !colon[1] || strlen(colon + 1) > 5)
        return 0;
    for (const char *p = colon + 1; *p; p++)
        if (!isdigit((unsigned char)*p))
            return 0;
    if (atoi(colon + 1) > 65535)
        return 0;
    size_t n = (size_t)(colon - v);
    if (n >= sizeof(host))
        return 0;
    memcpy(host, v, n);
    host[n] = '\0';
    if (host[0] == '[' && n > 2 && host[n - 1] == ']') {
        struct sockaddr_in6 a6;
        host[n - 1] = '\0';
        return uv_ip6_addr(host + 1, 0, &a6) == 0;
    }
    struct sockaddr_in a4;
    return uv_ip4_addr(host, 0, &a4) == 0;
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

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

/* A refusal of @p v for key @p k: `where: key: what, got "v"`. */
static int refuse(char *err, size_t errsz, const char *where, const char *key, const char *v,
                  const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int refuse(char *err, size_t errsz, const char *where, const char *key, const char *v,
                  const char *fmt, ...)
{
    char what[512], quoted[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (weir_config_is_secret(key))
        return weir_seterr(err, errsz, WEIR_ECONFIG,
                           "%s: %s: %s (the value is not shown: a secret)", where, key, what);
    weir_config_quote(quoted, sizeof(quoted), v, strlen(v));
    return weir_seterr(err, errsz, WEIR_ECONFIG, "%s: %s: %s, got %s", where, key, what, quoted);
}

static int set_topics(weir_config_t *c, const key_t_ *k, const char *v, const char *where,
                      char *err, size_t errsz)
{
    char *copy = strdup(v);
    char *list[WEIR_CONFIG_MAX_TOPICS];
    size_t n = 0;
    int rc = 0;
    if (!copy)
        return WEIR_ENOMEM;
    if (*v) {
        char *item = copy;
        for (;;) {
            char *comma = strchr(item, ',');
            if (comma)
                *comma = '\0';
            char *t = trim(item);
            if (!*t) {
                rc = refuse(err, errsz, where, k->name, v, "an empty item in the list");
                goto out;
            }
            if (!weir_config_topic_ok(t)) {
                rc = refuse(err, errsz, where, k->name, v,
                            "a topic name is 1 to 249 of a-z, A-Z, 0-9, '.', '_', '-'");
                goto out;
            }
            for (size_t i = 0; i < n; i++)
                if (!strcmp(list[i], t)) {
                    rc = refuse(err, errsz, where, k->name, v, "\"%s\" is listed twice", t);
                    goto out;
                }
            if (n == WEIR_CONFIG_MAX_TOPICS) {
                rc = refuse(err, errsz, where, k->name, v, "more than %d topics",
                            WEIR_CONFIG_MAX_TOPICS);
                goto out;
            }
            list[n++] = t;
            if (!comma)
                break;
            item = comma + 1;
        }
    }
    char *kept[WEIR_CONFIG_MAX_TOPICS];
    for (size_t i = 0; i < n; i++) {
        if (!(kept[i] = strdup(list[i]))) {
            for (size_t j = 0; j < i; j++)
                free(kept[j]);
            rc = WEIR_ENOMEM;
            goto out;
        }
    }
    free_topics(c);
    for (size_t i = 0; i < n; i++)
        c->input_topics[i] = kept[i];
    c->input_topics[n] = NULL;
    c->input_topic_count = n;
out:
    free(copy);
    return rc;
}

/* Sets a known key; `where` is "file:line", "-X" or an option, `base` the
 * folder relative paths are resolved against (NULL: the working directory). */
static int set_known(weir_config_t *c, const key_t_ *k, const char *v, const char *where,
                     const char *base, char *err, size_t errsz)
{
    char *slot = (char *)c + k->offset;
    size_t at;
    if (unsafe_text(v, &at))
        return refuse(err, errsz, where, k->name, v,
                      "a control character or invalid UTF-8 at byte %zu", at);
    switch (k->type) {
    case T_STRING:
        return set_string((char **)slot, v);
    case T_TOPIC:
        if (*v && !weir_config_topic_ok(v))
            return refuse(err, errsz, where, k->name, v,
                          "a topic name is 1 to 249 of a-z, A-Z, 0-9, '.', '_', '-'");
        return set_string((char **)slot, v);
    case T_TOPICS:
        return set_topics(c, k, v, where, err, errsz);
    case T_FIELD:
    case T_FIELD_OPT:
        if ((*v || k->type == T_FIELD) && !field_ok(v))
            return refuse(err, errsz, where, k->name, v,
                          "must be a field name (letters, digits, '_'; '.' into a nested record)");
        return set_string((char **)slot, v);
    case T_PATH: {
        if (*v && *v != '/' && base) {
            char joined[PATH_MAX];
            if (snprintf(joined, sizeof(joined), "%s/%s", base, v) >= (int)sizeof(joined))
                return refuse(err, errsz, where, k->name, v, "the path is too long");
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
            return refuse(err, errsz, where, k->name, v, "must be avro-confluent or avro");
        return 0;
    case T_ID:
    case T_SIZE: {
        char *end;
        errno = 0;
        long long n = strtoll(v, &end, 10);
        if (errno || end == v || *end || n < k->min || n > k->max)
            return refuse(err, errsz, where, k->name, v, "must be an integer from %lld to %lld",
                          (long long)k->min, (long long)k->max);
        if (k->type == T_ID)
            *(int32_t *)slot = (int32_t)n;
        else
            *(size_t *)slot = (size_t)n;
        return 0;
    }
    case T_DURATION: {
        int64_t ms;
        if (weir_parse_duration_ms(v, &ms) != 0 || ms < k->min || ms > k->max)
            return refuse(err, errsz, where, k->name, v,
                          "must be a duration such as 500ms, 30s, 5m, 24h (from %lldms to %lldms)",
                          (long long)k->min, (long long)k->max);
        *(int64_t *)slot = ms;
        return 0;
    }
    case T_NUMBER: {
        char *end;
        double d = strtod(v, &end);
        if (end == v || *end || !(d >= (double)k->min && d <= (double)k->max))
            return refuse(err, errsz, where, k->name, v, "must be a number from %lld to %lld",
                          (long long)k->min, (long long)k->max);
        *(double *)slot = d;
        return 0;
    }
    case T_LEVEL:
        if (weir_log_parse_level(v, (weir_log_level_t *)slot) != 0)
            return refuse(err, errsz, where, k->name, v, "must be debug, info, warn or error");
        return 0;
    case T_LISTEN:
        if (*v && !listen_ok(v))
            return refuse(err, errsz, where, k->name, v,
                          "expected IP:port such as 127.0.0.1:9464 or [::1]:9464, or nothing");
        return set_string((char **)slot, v);
    case T_FRACTION: {
        char *end;
        errno = 0;
        double d = strtod(v, &end);
        if (errno || end == v || *end || !(d >= 0.0 && d <= 1.0))
            return refuse(err, errsz, where, k->name, v, "must be a number from 0 to 1");
        *(double *)slot = d;
        return 0;
    }
    }
    return WEIR_EINVAL;
}

/* librdkafka's refusal of @p key, without the value when the key is a
 * secret (librdkafka's own text may quote it: "value -5 is outside ..."). */
static int kafka_refusal(rd_kafka_conf_res_t res, const char *key, const char *errstr,
                         const char *where, char *err, size_t errsz)
{
    const char *sep = where ? ": " : "";
    char why[512];
    if (weir_config_is_secret(key)) {
        snprintf(why, sizeof(why), "%s",
                 res == RD_KAFKA_CONF_UNKNOWN
                     ? "librdkafka has no such property"
                     : "librdkafka refused the value (not shown: the key is a secret)");
    } else {
        snprintf(why, sizeof(why), "%s", errstr);
        sanitize(why, sizeof(why));
    }
    return weir_seterr(err, errsz, WEIR_ECONFIG, "%s%skafka.%s: %s", where ? where : "", sep, key,
                       why);
}

static int check_kafka(const char *key, const char *value, const char *where, char *err,
                       size_t errsz)
{
    char errstr[512] = "";
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_res_t res = rd_kafka_conf_set(conf, key, value, errstr, sizeof(errstr));
    rd_kafka_conf_destroy(conf);
    if (res == RD_KAFKA_CONF_OK)
        return 0;
    return kafka_refusal(res, key, errstr, where, err, errsz);
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
    char *k = strdup(key), *v = strdup(value);
    if (!k || !v) {
        free(k);
        free(v);
        return WEIR_ENOMEM;
    }
    c->kafka_keys[c->kafka_count] = k;
    c->kafka_values[c->kafka_count] = v;
    c->kafka_scope[c->kafka_count] = scope;
    c->kafka_count = n;
    return 0;
}

/* A drift.* key, checked on a copy: a value the drift monitor would refuse
 * (drift.window = 0) is refused here, on its own line. The whole-config check
 * passes before each key (the defaults pass), so what fails after it is the
 * key just set; checks across keys wait for weir_config_check(). */
static int set_drift(weir_config_t *c, const char *key, const char *value, const char *where,
                     char *err, size_t errsz)
{
    char why[512];
    size_t at;
    if (unsafe_text(value, &at))
        return refuse(err, errsz, where, key, value,
                      "a control character or invalid UTF-8 at byte %zu", at);
    weir_drift_config_t *copy = malloc(sizeof(*copy));
    if (!copy)
        return WEIR_ENOMEM;
    *copy = c->drift;
    int rc = weir_drift_config_set(copy, key, value, why, sizeof(why));
    if (rc == 0)
        rc = weir_drift_config_check(copy, why, sizeof(why));
    if (rc == 0)
        c->drift = *copy;
    else
        rc = weir_seterr(err, errsz, WEIR_ECONFIG, "%s: %s", where, why);
    free(copy);
    return rc;
}

static int set_pair(weir_config_t *c, const char *key, const char *value, const char *where,
                    const char *base, char *err, size_t errsz)
{
    int rc;
    size_t at;
    char quoted[256];
    if (unsafe_text(key, &at)) {
        weir_config_quote(quoted, sizeof(quoted), key, strlen(key));
        return weir_seterr(err, errsz, WEIR_ECONFIG,
                           "%s: a key with a control character or invalid UTF-8: %s", where,
                           quoted);
    }
    /* `kafka.sasl.password S3CRET = x` would show the password as a key */
    if (strpbrk(key, " \t\v\f\r") && looks_secret(key))
        return weir_seterr(err, errsz, WEIR_ECONFIG,
                           "%s: a key with a space (not shown: it may hold a secret)", where);
    if (!strncmp(key, "kafka.", 6)) {
        rc = set_kafka(c, key + 6, value, where, err, errsz);
    } else if (!strncmp(key, "drift.", 6)) {
        rc = set_drift(c, key, value, where, err, errsz);
        /* drift's messages quote the value: not for a key that looks secret
         * (a feature named "password") */
        if (rc == WEIR_ECONFIG && weir_config_is_secret(key))
            rc = weir_seterr(err, errsz, WEIR_ECONFIG,
                             "%s: %s: the value is refused (not shown: the key looks like a "
                             "secret)",
                             where, key);
    } else {
        const key_t_ *k = NULL;
        for (size_t i = 0; i < NKEYS && !k; i++)
            if (!strcmp(keys[i].name, key))
                k = &keys[i];
        if (!k) {
            const char *close = suggest(key);
            weir_config_quote(quoted, sizeof(quoted), key, strlen(key));
            if (close)
                return weir_seterr(err, errsz, WEIR_ECONFIG,
                                   "%s: unknown key %s (did you mean %s?)", where, quoted, close);
            return weir_seterr(err, errsz, WEIR_ECONFIG,
                               "%s: unknown key %s (weir config -h lists the keys; librdkafka "
                               "properties take the prefix kafka.)",
                               where, quoted);
        }
        rc = set_known(c, k, value, where, base, err, errsz);
    }
    if (rc == 0)
        rc = remember(c, key, where, err, errsz);
    return rc;
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
        key_type_t t = keys[i].type;
        if (t == T_STRING || t == T_TOPIC || t == T_FIELD || t == T_FIELD_OPT || t == T_PATH ||
            t == T_LISTEN) {
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
    for (size_t i = 0; i < c->origin_count; i++) {
        free(c->origins[i].key);
        free(c->origins[i].where);
    }
    free(c->origins);
    c->origins = NULL;
    c->origin_count = 0;
}

/* ---- reading ------------------------------------------------------- */

/* One line of a file (without its newline): a comment, a blank, or a pair. */
static int load_line(weir_config_t *c, char *line, const char *where, const char *base, char *err,
                     size_t errsz)
{
    char *s = trim(line);
    if (*s == '\0' || *s == '#' || *s == '!')
        return 0;
    char *eq = strchr(s, '=');
    if (!eq) {
        /* A line without '=' may be a secret written as `key value` or
         * `key: value`: nothing of it is shown then. */
        if (looks_secret(s))
            return weir_seterr(err, errsz, WEIR_ECONFIG,
                               "%s: expected key = value (the line is not shown: it may hold a "
                               "secret)",
                               where);
        char quoted[128];
        weir_config_quote(quoted, sizeof(quoted), s, strlen(s));
        return weir_seterr(err, errsz, WEIR_ECONFIG, "%s: expected key = value, got %s", where,
                           quoted);
    }
    *eq = '\0';
    char *key = trim(s), *value = trim(eq + 1);
    if (!*key)
        return weir_seterr(err, errsz, WEIR_ECONFIG, "%s: missing key before '='", where);
    return set_pair(c, key, value, where, base, err, errsz);
}

int weir_config_load_text(weir_config_t *c, const char *name, const char *base, const char *text,
                          size_t len, char *err, size_t errsz)
{
    int rc = 0;
    char *line = malloc((len < WEIR_CONFIG_LINE_MAX ? len : WEIR_CONFIG_LINE_MAX) + 1);
    char quoted[512];
    size_t at;
    /* a file name is shown escaped too, when it needs to be */
    const char *shown = name;
    if (unsafe_text(name, &at)) {
        weir_config_quote(quoted, sizeof(quoted), name, strlen(name));
        shown = quoted;
    }
    if (!line)
        return WEIR_ENOMEM;
    /* a UTF-8 byte order mark is not part of the first key */
    if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) {
        text += 3;
        len -= 3;
    }
    size_t pos = 0;
    for (unsigned long lineno = 1; pos < len && rc == 0; lineno++) {
        const char *start = text + pos;
        const char *nl = memchr(start, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - start) : len - pos;
        pos += n + (nl ? 1 : 0);
        char where[PATH_MAX + 32];
        snprintf(where, sizeof(where), "%s:%lu", shown, lineno);
        if (n > WEIR_CONFIG_LINE_MAX) {
            rc = weir_seterr(err, errsz, WEIR_ECONFIG, "%s: line longer than %d bytes", where,
                             WEIR_CONFIG_LINE_MAX);
            break;
        }
        if (memchr(start, '\0', n)) {
            rc = weir_seterr(err, errsz, WEIR_ECONFIG, "%s: NUL byte in the line", where);
            break;
        }
        memcpy(line, start, n);
        line[n] = '\0';
        rc = load_line(c, line, where, base, err, errsz);
    }
    free(line);
    return rc;
}

int weir_config_load_file(weir_config_t *c, const char *path, char *err, size_t errsz)
{
    int rc = 0;
    char *text = NULL;
    FILE *f = fopen(path, "r");
    if (!f)
        return weir_seterr(err, errsz, WEIR_EIO, "%s: %s", path, strerror(errno));
    text = malloc(WEIR_CONFIG_FILE_MAX + 1);
    if (!text) {
        rc = WEIR_ENOMEM;
        goto out;
    }
    size_t len = fread(text, 1, WEIR_CONFIG_FILE_MAX + 1, f);
    if (ferror(f)) {
        rc = weir_seterr(err, errsz, WEIR_EIO, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (len > WEIR_CONFIG_FILE_MAX) {
        rc = weir_seterr(err, errsz, WEIR_ECONFIG, "%s: larger than %d bytes", path,
                         WEIR_CONFIG_FILE_MAX);
        goto out;
    }
    char base[PATH_MAX];
    snprintf(base, sizeof(base), "%s", path);
    rc = weir_config_load_text(c, path, dirname(base), text, len, err, errsz);
out:
    free(text);
    fclose(f);
    return rc;
}

int weir_config_set(weir_config_t *c, const char *assignment, char *err, size_t errsz)
{
    const char *eq = strchr(assignment, '=');
    char key[256];
    size_t n = eq ? (size_t)(eq - assignment) : 0;
    if (!eq || eq == assignment) {
        if (looks_secret(assignment))
            return weir_seterr(err, errsz, WEIR_ECONFIG,
                               "-X: expected key=value (not shown: it may hold a secret)");
        char quoted[128];
        weir_config_quote(quoted, sizeof(quoted), assignment, strlen(assignment));
        return weir_seterr(err, errsz, WEIR_ECONFIG, "-X: expected key=value, got %s", quoted);
    }
    if (n >= sizeof(key))
        return weir_seterr(err, errsz, WEIR_ECONFIG, "-X: key longer than %zu bytes",
                           sizeof(key) - 1);
    memcpy(key, assignment, n);
    key[n] = '\0';
    return set_pair(c, trim(key), eq + 1, "-X", NULL, err, errsz);
}

int weir_config_set_from(weir_config_t *c, const char *key, const char *value, const char *where,
                         char *err, size_t errsz)
{
    return set_pair(c, key, value, where, NULL, err, errsz);
}

int weir_config_apply_args(weir_config_t *c, const weir_config_args_t *a, char *err, size_t errsz)
{
    int rc = 0;
    if (a->path)
        rc = weir_config_load_file(c, a->path, err, errsz);
    for (size_t i = 0; i < a->n_overrides && rc == 0; i++)
        rc = weir_config_set(c, a->overrides[i], err, errsz);
    return rc;
}

/* ---- checks after loading ------------------------------------------ */

int weir_config_check(const weir_config_t *c, char *err, size_t errsz)
{
    const weir_drift_config_t *d = &c->drift;
    int rc = weir_drift_config_check(d, err, errsz);
    if (rc)
        return rc; /* only for fields set directly: drift.* keys are checked as they are set */
    if (d->step > d->window) {
        /* Blame the key that was set; step's own line if both were. */
        const char *step_at = weir_config_origin(c, "drift.step");
        if (step_at)
            return weir_seterr(err, errsz, WEIR_ECONFIG,
                               "%s: drift.step: %llu is larger than drift.window %llu (%s): the "
                               "events between two windows would never be tested",
                               step_at, (unsigned long long)d->step, (unsigned long long)d->window,
                               where_of(c, "drift.window"));
        return weir_seterr(err, errsz, WEIR_ECONFIG,
                           "%s: drift.window: %llu is smaller than drift.step %llu (default): the "
                           "events between two windows would never be tested",
                           where_of(c, "drift.window"), (unsigned long long)d->window,
                           (unsigned long long)d->step);
    }
    return 0;
}

/* `where: key: required` for a key that is empty. */
static int required(const weir_config_t *c, const char *key, const char *why, char *err,
                    size_t errsz)
{
    const char *at = weir_config_origin(c, key);
    if (at)
        return weir_seterr(err, errsz, WEIR_ECONFIG, "%s: %s: required%s (it is empty)", at, key,
                           why);
    return weir_seterr(err, errsz, WEIR_ECONFIG, "%s: required%s", key, why);
}

static int readable(const weir_config_t *c, const char *key, const char *path, char *err,
                    size_t errsz)
{
    if (access(path, R_OK) == 0)
        return 0;
    char quoted[PATH_MAX + 16];
    weir_config_quote(quoted, sizeof(quoted), path, strlen(path));
    return weir_seterr(err, errsz, WEIR_ECONFIG, "%s: %s: cannot read %s: %s", where_of(c, key),
                       key, quoted, strerror(errno));
}

int weir_config_check_run(const weir_config_t *c, char *err, size_t errsz)
{
    int rc = weir_config_check(c, err, errsz);
    if (rc)
        return rc;
    if (c->input_topic_count == 0)
        return required(c, "input.topics", "", err, errsz);
    if (!*c->output_topic)
        return required(c, "output.topic", "", err, errsz);
    if (!*c->dlq_topic)
        return required(c, "dlq.topic", " (bad events go there instead of being dropped)", err,
                        errsz);
    if (!*c->model_path)
        return required(c, "model.path", "", err, errsz);
    if (!*c->input_schema_path)
        return required(c, "input.schema", "", err, errsz);
    int has_bootstrap = 0;
    for (size_t i = 0; i < c->kafka_count; i++)
        if (!strcmp(c->kafka_keys[i], "bootstrap.servers") ||
            !strcmp(c->kafka_keys[i], "metadata.broker.list"))
            has_bootstrap = 1;
    if (!has_bootstrap)
        return weir_seterr(err, errsz, WEIR_ECONFIG, "kafka.bootstrap.servers: required");
    /* Every topic serves one purpose: an input that is also an output would
     * be a loop, and a topic of two record types breaks its readers. */
    enum { FIXED = 5 };
    struct {
        const char *key, *topic;
    } topics[FIXED + WEIR_CONFIG_MAX_TOPICS] = {{"output.topic", c->output_topic},
                                                {"dlq.topic", c->dlq_topic},
                                                {"alerts.topic", c->alerts_topic},
                                                {"labels.topic", c->labels_topic},
                                                {"shadow.topic", c->shadow_topic}};
    size_t n = FIXED;
    for (size_t i = 0; i < c->input_topic_count; i++, n++) {
        topics[n].key = "input.topics";
        topics[n].topic = c->input_topics[i];
    }
    for (size_t i = 1; i < n; i++) {
        for (size_t j = 0; j < i && j < FIXED; j++) {
            if (!*topics[i].topic || strcmp(topics[i].topic, topics[j].topic) != 0)
                continue;
            if (i < FIXED)
                return weir_seterr(err, errsz, WEIR_ECONFIG, "%s: %s: \"%s\" is also %s (%s)",
                                   where_of(c, topics[i].key), topics[i].key, topics[i].topic,
                                   topics[j].key, where_of(c, topics[j].key));
            return weir_seterr(err, errsz, WEIR_ECONFIG,
                               "%s: %s: \"%s\" is also in input.topics (%s): weir would read what "
                               "it writes (a loop)",
                               where_of(c, topics[j].key), topics[j].key, topics[j].topic,
                               where_of(c, "input.topics"));
        }
    }
    if ((rc = readable(c, "model.path", c->model_path, err, errsz)) != 0 ||
        (rc = readable(c, "input.schema", c->input_schema_path, err, errsz)) != 0 ||
        (*c->shadow_path && (rc = readable(c, "model.shadow.path", c->shadow_path, err, errsz))) ||
        (*c->canary_path && (rc = readable(c, "model.canary.path", c->canary_path, err, errsz))))
        return rc;
    if (*c->shadow_topic && !*c->shadow_path)
        return weir_seterr(err, errsz, WEIR_ECONFIG,
                           "%s: shadow.topic: set, but model.shadow.path is not (there is no "
                           "challenger to write)",
                           where_of(c, "shadow.topic"));
    return 0;
}

/* The origin and name of a drift.feature key: the key as it was written
 * (".threshold" or ".min_effect"), or NULL when it was never set. */
static const char *feature_key(const weir_config_t *c, const char *feature, const char *test,
                               char *key, size_t keysz)
{
    static const char *const suffixes[] = {"threshold", "min_effect"};
    for (size_t i = 0; i < (test ? 2u : 1u); i++) {
        if (test)
            snprintf(key, keysz, "drift.feature.%s.%s.%s", feature, test, suffixes[i]);
        else
            snprintf(key, keysz, "drift.feature.%s.tests", feature);
        const char *at = weir_config_origin(c, key);
        if (at)
            return at;
    }
    return NULL;
}

/* The first key set for @p feature, whatever it is, into @p key. */
static const char *any_feature_key(const weir_config_t *c, const char *feature, char *key,
                                   size_t keysz)
{
    snprintf(key, keysz, "drift.feature.%s.", feature);
    size_t n = strlen(key);
    for (size_t i = 0; i < c->origin_count; i++)
        if (!strncmp(c->origins[i].key, key, n)) {
            snprintf(key, keysz, "%s", c->origins[i].key);
            return c->origins[i].where;
        }
    return "-";
}

static void test_list(unsigned tests, char *out, size_t outsz)
{
    size_t o = 0;
    out[0] = '\0';
    for (int t = 0; t < WEIR_DRIFT_TEST__COUNT; t++)
        if (tests & WEIR_DRIFT_BIT(t))
            o += (size_t)snprintf(out + o, o < outsz ? outsz - o : 0, "%s%s", o ? ", " : "",
                                  weir_drift_test_name((weir_drift_test_t)t));
    if (!tests)
        snprintf(out, outsz, "none");
}

static int check_override(const weir_config_t *c, const weir_drift_override_t *o,
                          const weir_model_t *m, char *err, size_t errsz)
{
    const weir_drift_config_t *d = &c->drift;
    const weir_reference_t *ref = NULL;
    weir_feature_type_t type = WEIR_FEATURE_NUMERIC;
    int found = 0, is_score = 0;
    char key[WEIR_DRIFT_NAME_MAX + 64], list[128];
    const char *at;
    for (size_t f = 0; f < weir_model_feature_count(m) && !found; f++) {
        const weir_feature_info_t *info = weir_model_feature(m, f);
        if (!strcmp(info->name, o->feature)) {
            found = 1;
            type = info->type;
            ref = weir_model_reference(m, f);
        }
    }
    if (!found && !strcmp(o->feature, "score")) {
        found = is_score = 1;
        ref = weir_model_score_reference(m);
    }
    if (!found) {
        at = any_feature_key(c, o->feature, key, sizeof(key));
        return weir_seterr(err, errsz, WEIR_ECONFIG,
                           "%s: %s: the model %s has no feature \"%s\" (weir model inspect lists "
                           "them; \"score\" is the prediction)",
                           at, key, weir_model_name(m), o->feature);
    }
    int categorical = type != WEIR_FEATURE_NUMERIC;
    unsigned allowed = categorical ? CATEGORICAL_TESTS : NUMERIC_TESTS;
    const char *kind = is_score      ? "the score"
                       : categorical ? (type == WEIR_FEATURE_BOOLEAN ? "a boolean feature"
                                                                     : "a categorical feature")
                                     : "a numeric feature";
    unsigned tests = is_score      ? d->score_tests
                     : categorical ? d->categorical_tests
                                   : d->numeric_tests;
    const char *tests_from = is_score      ? "drift.score.tests"
                             : categorical ? "drift.categorical.tests"
                                           : "drift.numeric.tests";
    char tests_key[WEIR_DRIFT_NAME_MAX + 64];
    if (o->has_tests) {
        at = feature_key(c, o->feature, NULL, tests_key, sizeof(tests_key));
        if (o->tests & ~allowed) {
            test_list(allowed, list, sizeof(list));
            return weir_seterr(err, errsz, WEIR_ECONFIG, "%s: %s: %s is %s, whose tests are %s",
                               at ? at : "-", tests_key, o->feature, kind, list);
        }
        if (!ref && o->tests)
            return weir_seterr(err, errsz, WEIR_ECONFIG,
                               "%s: %s: the bundle has no reference for %s, so it is not "
                               "monitored",
                               at ? at : "-", tests_key, o->feature);
        tests = o->tests;
        tests_from = tests_key;
    }
    for (int t = 0; t < WEIR_DRIFT_TEST__COUNT; t++) {
        if (isnan(o->threshold[t]))
            continue;
        const char *name = weir_drift_test_name((weir_drift_test_t)t);
        at = feature_key(c, o->feature, name, key, sizeof(key));
        if (!at)
            at = "-";
        unsigned bit = WEIR_DRIFT_BIT(t);
        if (!(allowed & bit)) {
            test_list(allowed, list, sizeof(list));
            return weir_seterr(err, errsz, WEIR_ECONFIG,
                               "%s: %s: %s does not apply to %s, %s (whose tests are %s)", at, key,
                               name, o->feature, kind, list);
        }
        if (!(tests & bit)) {
            test_list(tests, list, sizeof(list));
            return weir_seterr(err, errsz, WEIR_ECONFIG,
                               "%s: %s: %s is not among the tests run on %s (%s: %s)", at, key,
                               name, o->feature, tests_from, list);
        }
        if (!ref)
            return weir_seterr(err, errsz, WEIR_ECONFIG,
                               "%s: %s: the bundle has no reference for %s, so it is not "
                               "monitored",
                               at, key, o->feature);
        if (!categorical) {
            int exact = t == WEIR_DRIFT_KS || t == WEIR_DRIFT_WASSERSTEIN;
            if (exact && ref->sample_len == 0)
                return weir_seterr(err, errsz, WEIR_ECONFIG,
                                   "%s: %s: the bundle's reference for %s has no sample, so %s "
                                   "does not run",
                                   at, key, o->feature, name);
            if (!exact && ref->sample_len == 0 && ref->bin_count == 0)
                return weir_seterr(err, errsz, WEIR_ECONFIG,
                                   "%s: %s: the bundle's reference for %s has no bins nor sample, "
                                   "so %s does not run",
                                   at, key, o->feature, name);
        }
    }
    return 0;
}

int weir_config_check_model(const weir_config_t *c, const weir_model_t *m, char *err, size_t errsz)
{
    for (size_t i = 0; i < c->drift.n_overrides; i++) {
        int rc = check_override(c, &c->drift.overrides[i], m, err, errsz);
        if (rc) {
            sanitize(err, errsz);
            return rc;
        }
    }
    return 0;
}

/* ---- librdkafka ---------------------------------------------------- */

static int conf_set(rd_kafka_conf_t *conf, const char *key, const char *value, char *err,
                    size_t errsz)
{
    char errstr[512] = "";
    rd_kafka_conf_res_t res = rd_kafka_conf_set(conf, key, value, errstr, sizeof(errstr));
    if (res != RD_KAFKA_CONF_OK)
        return kafka_refusal(res, key, errstr, NULL, err, errsz);
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
        /* whatever the client logs from now on, a secret value never shows */
        if (weir_config_is_secret(c->kafka_keys[i]))
            weir_log_add_secret(c->kafka_values[i]);
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

void weir_config_redact(const weir_config_t *c, char *text, size_t size)
{
    static const char mask[] = "(secret)";
    char out[1024];
    size_t o = 0, n_secrets = 0;
    if (size == 0)
        return;
    const char **secrets = malloc((c->kafka_count + 1) * sizeof(*secrets));
    if (!secrets) {
        /* nothing can be told apart: show nothing */
        snprintf(text, size, "(not shown: out of memory)");
        return;
    }
    for (size_t i = 0; i < c->kafka_count; i++)
        if (*c->kafka_values[i] && weir_config_is_secret(c->kafka_keys[i]))
            secrets[n_secrets++] = c->kafka_values[i];
    for (const char *p = text; *p && o + 1 < sizeof(out);) {
        size_t matched = 0;
        for (size_t i = 0; i < n_secrets; i++) {
            size_t vlen = strlen(secrets[i]);
            if (vlen > matched && !strncmp(p, secrets[i], vlen))
                matched = vlen;
        }
        if (matched) {
            size_t room = sizeof(out) - 1 - o;
            size_t take = room < sizeof(mask) - 1 ? room : sizeof(mask) - 1;
            memcpy(out + o, mask, take);
            o += take;
            p += matched;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
    free(secrets);
    snprintf(text, size, "%s", out);
    sanitize(text, size);
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
