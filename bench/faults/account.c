/*
 * account.c — counts, for every record of an input topic, the scored events
 * and dead letters written for it, and compares the consumer group's
 * committed offsets with the high watermarks (see account.h). Reads topics
 * with an assigned consumer (no group) from the beginning to the high
 * watermark snapshotted at the start.
 */
#include "account.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schemas.h"

typedef struct {
    int32_t partition;
    int64_t offset;
    char *event_id; /* NULL when the value does not decode */
    int outputs;
} input_t;

typedef struct {
    input_t *inputs;
    size_t n, cap;
    size_t *by_id; /* open addressing over event ids: index + 1, 0 = empty */
    size_t id_slots;
    int32_t partitions;
    int64_t *first_index; /* per partition: index of its first input (inputs are per partition, in
                             order) */
} table_t;

typedef int (*record_fn)(void *opaque, const rd_kafka_message_t *m);

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    while (*s)
        h = (h ^ (uint8_t)*s++) * 1099511628211ull;
    return h;
}

static rd_kafka_t *client(const char *bootstrap, char *err, size_t errsz)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char errstr[256];
    if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr, sizeof(errstr)) ||
        rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr)) ||
        rd_kafka_conf_set(conf, "enable.partition.eof", "false", errstr, sizeof(errstr)) ||
        /* assign() needs a group handle; this reader never joins or commits */
        rd_kafka_conf_set(conf, "group.id", "weir-account-reader", errstr, sizeof(errstr)) ||
        rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr, sizeof(errstr))) {
        snprintf(err, errsz, "%s", errstr);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    if (!rk)
        snprintf(err, errsz, "%s", errstr);
    return rk;
}

static int partition_count(rd_kafka_t *rk, const char *topic, char *err, size_t errsz)
{
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    int n = -1;
    if (rd_kafka_metadata(rk, 0, t, &md, 30000) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        md->topic_cnt == 1 && !md->topics[0].err)
        n = md->topics[0].partition_cnt;
    else
        snprintf(err, errsz, "no metadata for topic %s", topic);
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(t);
    return n;
}

/* Reads every partition of @p topic from its low to its (snapshotted) high watermark. */
static int read_topic(const char *bootstrap, const char *topic, record_fn fn, void *opaque,
                      int32_t *partitions_out, char *err, size_t errsz)
{
    int rc = -1;
    rd_kafka_t *rk = client(bootstrap, err, errsz);
    if (!rk)
        return -1;
    int np = partition_count(rk, topic, err, errsz);
    int64_t *high = NULL;
    rd_kafka_topic_partition_list_t *parts = NULL;
    if (np <= 0)
        goto out;
    if (partitions_out)
        *partitions_out = np;
    high = calloc((size_t)np, sizeof(*high));
    parts = rd_kafka_topic_partition_list_new(np);
    int64_t remaining = 0;
    for (int p = 0; p < np; p++) {
        int64_t lo = 0, hi = 0;
        if (rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 30000)) {
            snprintf(err, errsz, "watermarks of %s [%d]", topic, p);
            goto out;
        }
        high[p] = hi;
        remaining += hi - lo;
        rd_kafka_topic_partition_list_add(parts, topic, p)->offset = lo;
    }
    if (rd_kafka_assign(rk, parts)) {
        snprintf(err, errsz, "cannot assign %s", topic);
        goto out;
    }
    int idle = 0;
    while (remaining > 0) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 1000);
        if (!m) {
            if (++idle > 60) {
                snprintf(err, errsz, "%s: %lld records not readable in 60 s", topic,
                         (long long)remaining);
                goto out;
            }
            continue;
        }
        idle = 0;
        if (!m->err && m->offset < high[m->partition]) {
            remaining--;
            if (fn(opaque, m) != 0) {
                rd_kafka_message_destroy(m);
                snprintf(err, errsz, "out of memory");
                goto out;
            }
        }
        rd_kafka_message_destroy(m);
    }
    rc = 0;
out:
    if (parts)
        rd_kafka_topic_partition_list_destroy(parts);
    free(high);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return rc;
}

/* The event id of a framed record; @p exact 0 lets a ScoredEvent carry the
 * optional shadow field after the fields the plain schema reads. */
static char *event_id(weir_reader_t *reader, const void *value, size_t len, int exact)
{
    const uint8_t *v = value;
    avro_value_t *datum, field;
    weir_reason_t reason;
    char err[256];
    const char *s;
    size_t n;
    if (!v || len < 6 || v[0] != 0 ||
        weir_reader_read(reader, v + 5, len - 5, exact, &datum, NULL, &reason, err, sizeof(err)) !=
            0)
        return NULL;
    if (avro_value_get_by_name(datum, "event_id", &field, NULL) != 0 ||
        avro_value_get_string(&field, &s, &n) != 0 || n == 0)
        return NULL;
    return strndup(s, n - 1);
}

typedef struct {
    table_t *t;
    weir_reader_t *reader;
    weir_account_t *a;
    const char *input;
} ctx_t;

static int add_input(void *opaque, const rd_kafka_message_t *m)
{
    ctx_t *c = opaque;
    table_t *t = c->t;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 4096;
        input_t *inputs = realloc(t->inputs, cap * sizeof(*inputs));
        if (!inputs)
            return -1;
        t->inputs = inputs;
        t->cap = cap;
    }
    input_t *in = &t->inputs[t->n++];
    in->partition = m->partition;
    in->offset = m->offset;
    in->outputs = 0;
    in->event_id = event_id(c->reader, m->payload, m->len, 1);
    return 0;
}

static input_t *by_event(table_t *t, const char *id)
{
    for (size_t s = hash(id) & (t->id_slots - 1);; s = (s + 1) & (t->id_slots - 1)) {
        if (!t->by_id[s])
            return NULL;
        input_t *in = &t->inputs[t->by_id[s] - 1];
        if (!strcmp(in->event_id, id))
            return in;
    }
}

static int index_inputs(table_t *t)
{
    t->id_slots = 1024;
    while (t->id_slots < 2 * t->n)
        t->id_slots *= 2;
    t->by_id = calloc(t->id_slots, sizeof(*t->by_id));
    if (!t->by_id)
        return -1;
    for (size_t i = 0; i < t->n; i++) {
        if (!t->inputs[i].event_id)
            continue;
        size_t s = hash(t->inputs[i].event_id) & (t->id_slots - 1);
        while (t->by_id[s])
            s = (s + 1) & (t->id_slots - 1);
        t->by_id[s] = i + 1;
    }
    return 0;
}

static int cmp_coord(const void *a, const void *b)
{
    const input_t *x = a, *y = b;
    if (x->partition != y->partition)
        return x->partition < y->partition ? -1 : 1;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static input_t *by_coord(table_t *t, int32_t partition, int64_t offset)
{
    input_t key = {partition, offset, NULL, 0};
    return bsearch(&key, t->inputs, t->n, sizeof(*t->inputs), cmp_coord);
}

static int add_scored(void *opaque, const rd_kafka_message_t *m)
{
    ctx_t *c = opaque;
    char *id = event_id(c->reader, m->payload, m->len, 0);
    input_t *in = id ? by_event(c->t, id) : NULL;
    free(id);
    if (in) {
        in->outputs++;
        c->a->scored++;
    } else {
        c->a->orphans++;
    }
    return 0;
}

static const char *header(const rd_kafka_message_t *m, const char *name, char *buf, size_t bufsz)
{
    rd_kafka_headers_t *h = NULL;
    const void *v;
    size_t n;
    if (rd_kafka_message_headers(m, &h) || rd_kafka_header_get_last(h, name, &v, &n))
        return NULL;
    snprintf(buf, bufsz, "%.*s", (int)n, (const char *)v);
    return buf;
}

static int add_dead(void *opaque, const rd_kafka_message_t *m)
{
    ctx_t *c = opaque;
    char topic[512], partition[32], offset[32];
    if (!header(m, "weir.source.topic", topic, sizeof(topic)) || strcmp(topic, c->input) != 0)
        return 0; /* another input's dead letter */
    input_t *in = NULL;
    if (header(m, "weir.source.partition", partition, sizeof(partition)) &&
        header(m, "weir.source.offset", offset, sizeof(offset)))
        in = by_coord(c->t, (int32_t)atoi(partition), strtoll(offset, NULL, 10));
    if (in) {
        in->outputs++;
        c->a->dead++;
    } else {
        c->a->orphans++;
    }
    return 0;
}

static int committed(const char *bootstrap, const char *group, const char *topic, int32_t np,
                     int64_t *out, char *err, size_t errsz)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char errstr[256];
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "group.id", group, errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    if (!rk) {
        snprintf(err, errsz, "%s", errstr);
        return -1;
    }
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(np);
    for (int32_t p = 0; p < np; p++)
        rd_kafka_topic_partition_list_add(parts, topic, p);
    int rc = 0;
    rd_kafka_resp_err_t kerr;
    /* a coordinator still loading after a broker restart answers with an error */
    for (int tries = 0; (kerr = rd_kafka_committed(rk, parts, 10000)) && tries < 30; tries++)
        rd_kafka_poll(rk, 1000);
    if (kerr) {
        snprintf(err, errsz, "cannot read the committed offsets of group %s: %s", group,
                 rd_kafka_err2str(kerr));
        rc = -1;
    }
    for (int32_t p = 0; p < np && rc == 0; p++)
        out[p] = parts->elems[p].offset; /* RD_KAFKA_OFFSET_INVALID when none */
    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_destroy(rk);
    return rc;
}

int weir_account_run(const char *bootstrap, const char *group, const char *input,
                     const char *output, const char *dlq, weir_account_t *a, char *err,
                     size_t errsz)
{
    int rc = -1;
    table_t t = {0};
    weir_reader_t *tx = NULL, *scored = NULL;
    avro_schema_t in_schema = NULL, out_schema = NULL;
    int64_t *commit = NULL, *high = NULL;
    memset(a, 0, sizeof(*a));
    if (weir_schema_parse(weir_schema_text("transaction"), &in_schema, err, errsz) ||
        weir_scored_schema(in_schema, &out_schema, err, errsz) ||
        weir_reader_new(in_schema, &tx, err, errsz) ||
        weir_reader_new(out_schema, &scored, err, errsz))
        goto out;
    ctx_t c = {&t, tx, a, input};
    if (read_topic(bootstrap, input, add_input, &c, &t.partitions, err, errsz))
        goto out;
    a->input = (int64_t)t.n;
    qsort(t.inputs, t.n, sizeof(*t.inputs), cmp_coord);
    if (index_inputs(&t)) {
        snprintf(err, errsz, "out of memory");
        goto out;
    }
    c.reader = scored;
    if (read_topic(bootstrap, output, add_scored, &c, NULL, err, errsz))
        goto out;
    c.reader = tx;
    if (read_topic(bootstrap, dlq, add_dead, &c, NULL, err, errsz))
        goto out;
    commit = calloc((size_t)t.partitions, sizeof(*commit));
    high = calloc((size_t)t.partitions, sizeof(*high));
    if (committed(bootstrap, group, input, t.partitions, commit, err, errsz))
        goto out;
    for (size_t i = 0; i < t.n; i++) {
        const input_t *in = &t.inputs[i];
        if (in->offset + 1 > high[in->partition])
            high[in->partition] = in->offset + 1;
        if (in->outputs == 0) {
            if (commit[in->partition] >= 0 && in->offset < commit[in->partition])
                a->lost++;
            else
                a->unprocessed++;
        } else {
            a->duplicates += in->outputs - 1;
        }
    }
    a->committed_at_end = 1;
    for (int32_t p = 0; p < t.partitions; p++) {
        int64_t hw = 0, lo = 0;
        rd_kafka_t *rk = client(bootstrap, err, errsz);
        if (!rk)
            goto out;
        rd_kafka_query_watermark_offsets(rk, input, p, &lo, &hw, 30000);
        rd_kafka_destroy(rk);
        int64_t at = commit[p] >= 0 ? commit[p] : lo;
        if (at != hw)
            a->committed_at_end = 0;
        a->behind += hw > at ? hw - at : 0;
    }
    rc = 0;
out:
    for (size_t i = 0; i < t.n; i++)
        free(t.inputs[i].event_id);
    free(t.inputs);
    free(t.by_id);
    free(commit);
    free(high);
    weir_reader_destroy(tx);
    weir_reader_destroy(scored);
    if (in_schema)
        avro_schema_decref(in_schema);
    if (out_schema)
        avro_schema_decref(out_schema);
    return rc;
}

void weir_account_format(const weir_account_t *a, char *out, size_t outsz)
{
    snprintf(out, outsz,
             "input=%lld scored=%lld dead=%lld lost=%lld unprocessed=%lld duplicates=%lld "
             "orphans=%lld committed_at_end=%s behind=%lld",
             (long long)a->input, (long long)a->scored, (long long)a->dead, (long long)a->lost,
             (long long)a->unprocessed, (long long)a->duplicates, (long long)a->orphans,
             a->committed_at_end ? "yes" : "no", (long long)a->behind);
}
