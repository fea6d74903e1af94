/*
 * source.c — the bounded input of `weir replay` and `weir profile`: topic
 * ranges through the range reader, merged by (event time, topic, partition,
 * offset) one head per partition, or a container file in its own order; the
 * time bounds; and the parsing of times and bounds for their options.
 *
 * Owns the range reader (or the file reader), the head message of every
 * partition, and a decoder that reads the event time of those heads.
 */
#include "source.h"
#include "clock.h"
#include "common.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    rd_kafka_message_t *msg; /* the partition's next record, or NULL */
    int64_t key;             /* its event time */
    size_t topic_index;      /* its topic's place in the configuration */
} head_t;

struct weir_source {
    weir_source_config_t cfg;
    int64_t from_ms, to_ms; /* time filter */
    /* topics */
    weir_range_reader_t *reader;
    head_t *heads;
    size_t n_heads;
    rd_kafka_message_t *current; /* handed out, destroyed at the next call */
    weir_decoder_t *decoder;     /* for event times, when there is a time field */
    weir_field_t time;
    int has_time;
    avro_schema_t schema;
    /* file */
    weir_container_reader_t *file;
    uint64_t skipped_file; /* datums the file reader could not delimit, still to report */
    uint64_t skipped_index;
    /* counters */
    uint64_t total, read, skipped;
};

/* ---- times and bounds ---------------------------------------------- */

static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

int weir_source_parse_time(const char *s, int64_t *ms)
{
    const char *p = s;
    size_t n = strlen(s);
    if (n == 0)
        return WEIR_EINVAL;
    if (strspn(s, "0123456789") == n) {
        errno = 0;
        long long v = strtoll(s, NULL, 10);
        if (errno || n > 15)
            return WEIR_EINVAL;
        *ms = v;
        return 0;
    }
    int year, mon, day, hour = 0, min = 0, sec = 0;
    if (digits(&p, 4, &year) || *p++ != '-' || digits(&p, 2, &mon) || *p++ != '-' ||
        digits(&p, 2, &day))
        return WEIR_EINVAL;
    int64_t frac_ms = 0, offset_s = 0;
    if (*p) {
        if (*p != 'T' && *p != 't' && *p != ' ')
            return WEIR_EINVAL;
        p++;
        if (digits(&p, 2, &hour) || *p++ != ':' || digits(&p, 2, &min) || *p++ != ':' ||
            digits(&p, 2, &sec))
            return WEIR_EINVAL;
        if (*p == '.') {
            p++;
            int scale = 100, any = 0;
            while (isdigit((unsigned char)*p)) {
                frac_ms += (*p - '0') * scale;
                scale /= 10;
                p++;
                any = 1;
            }
            if (!any)
                return WEIR_EINVAL;
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int sign = *p++ == '-' ? -1 : 1, oh, om;
            if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om) || oh > 23 || om > 59)
                return WEIR_EINVAL;
            offset_s = sign * (oh * 3600 + om * 60);
        } else {
            return WEIR_EINVAL;
        }
        if (*p)
            return WEIR_EINVAL;
    }
    if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60)
        return WEIR_EINVAL;
    struct tm tm = {.tm_year = year - 1900,
                    .tm_mon = mon - 1,
                    .tm_mday = day,
                    .tm_hour = hour,
                    .tm_min = min,
                    .tm_sec = sec};
    time_t t = timegm(&tm);
    if (tm.tm_mday != day) /* 2026-02-31 rolled over */
        return WEIR_EINVAL;
    *ms = ((int64_t)t - offset_s) * 1000 + frac_ms;
    return 0;
}

void weir_source_format_time(int64_t ms, char *out, size_t outsz)
{
    time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    int64_t rest = ms - (int64_t)t * 1000;
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        snprintf(out, outsz, "%" PRId64, ms);
        return;
    }
    snprintf(out, outsz, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)rest);
}

void weir_source_bound_none(weir_source_bound_t *b, int is_end)
{
    memset(b, 0, sizeof(*b));
    b->time_ms = is_end ? INT64_MAX : INT64_MIN;
}

void weir_source_bound_dispose(weir_source_bound_t *b)
{
    /* every slot: a refused item may hold a topic that was not counted */
    for (size_t i = 0; i < WEIR_SOURCE_MAX_OFFSETS; i++) {
        free(b->topics[i]);
        b->topics[i] = NULL;
    }
    b->n_offsets = 0;
}

int weir_source_parse_bound(const char *opt, const char *s, weir_source_bound_t *out, char *err,
                            size_t errsz)
{
    memset(out, 0, sizeof(*out));
    if (strncmp(s, "offsets:", 8) != 0) {
        if (weir_source_parse_time(s, &out->time_ms) != 0)
            return weir_seterr(err, errsz, WEIR_EINVAL,
                               "%s: expected a time (2026-03-01T12:00:00Z, 2026-03-01 or "
                               "milliseconds since the epoch) or offsets:P=O,..., got \"%.64s\"",
                               opt, s);
        return 0;
    }
    out->is_offsets = 1;
    const char *p = s + 8;
    while (*p) {
        if (out->n_offsets == WEIR_SOURCE_MAX_OFFSETS)
            return weir_seterr(err, errsz, WEIR_EINVAL, "%s: more than %d offsets", opt,
                               WEIR_SOURCE_MAX_OFFSETS);
        size_t len = strcspn(p, ",");
        char item[512];
        if (len == 0 || len >= sizeof(item))
            goto bad;
        memcpy(item, p, len);
        item[len] = '\0';
        char *eq = strchr(item, '='), *slash = strrchr(item, '/'), *end;
        if (!eq)
            goto bad;
        *eq = '\0';
        char *part = item;
        weir_range_offset_t *o = &out->offsets[out->n_offsets];
        if (slash && slash < eq) {
            *slash = '\0';
            part = slash + 1;
            if (!*item || !(out->topics[out->n_offsets] = strdup(item)))
                goto bad;
            o->topic = out->topics[out->n_offsets];
        }
        errno = 0;
        long long partition = strtoll(part, &end, 10);
        if (errno || end == part || *end || partition < 0 || partition > INT32_MAX)
            goto bad;
        long long offset = strtoll(eq + 1, &end, 10);
        if (errno || end == eq + 1 || *end || offset < 0)
            goto bad;
        o->partition = (int32_t)partition;
        o->offset = offset;
        out->n_offsets++;
        p += len;
        if (*p == ',')
            p++;
    }
    if (out->n_offsets == 0)
        goto bad;
    return 0;
bad:
    weir_source_bound_dispose(out);
    return weir_seterr(err, errsz, WEIR_EINVAL,
                       "%s: expected offsets:PARTITION=OFFSET[,...] (or TOPIC/PARTITION=OFFSET), "
                       "got \"%.64s\"",
                       opt, s);
}

/* ---- opening --------------------------------------------------------- */

static int64_t bound_time(const weir_source_bound_t *b, int is_end)
{
    if (!b || b->is_offsets)
        return is_end ? INT64_MAX : INT64_MIN;
    return b->time_ms;
}

static void to_range_bound(const weir_source_bound_t *b, int is_end, weir_range_bound_t *out)
{
    memset(out, 0, sizeof(*out));
    out->time_ms = bound_time(b, is_end);
    if (b && b->is_offsets) {
        out->offsets = b->offsets;
        out->n_offsets = b->n_offsets;
    }
}

int weir_source_open(const weir_source_config_t *cfg, weir_source_t **out, char *err, size_t errsz)
{
    int rc = 0;
    weir_source_t *s = calloc(1, sizeof(*s));
    rd_kafka_conf_t *kafka = cfg->kafka;
    *out = NULL;
    if (!s) {
        rc = weir_seterr(err, errsz, WEIR_ENOMEM, "out of memory");
        goto out;
    }
    s->cfg = *cfg;
    if (s->cfg.stall_ms <= 0)
        s->cfg.stall_ms = 60000;
    s->from_ms = bound_time(cfg->from, 0);
    s->to_ms = bound_time(cfg->to, 1);
    if (cfg->file) {
        if (kafka)
            rd_kafka_conf_destroy(kafka);
        kafka = NULL;
        if (cfg->from && cfg->from->is_offsets) {
            rc = weir_seterr(err, errsz, WEIR_EINVAL, "offsets bound a topic, not a file");
            goto out;
        }
        if ((rc = weir_container_reader_open(cfg->file, &s->file, err, errsz)) != 0) {
            rc = rc == WEIR_ENOMEM ? rc : WEIR_EINVAL;
            goto out;
        }
        s->schema = avro_schema_incref(weir_container_reader_schema(s->file));
    } else {
        s->schema = avro_schema_incref(cfg->schema);
        weir_range_bound_t from, to;
        to_range_bound(cfg->from, 0, &from);
        to_range_bound(cfg->to, 1, &to);
        rc = weir_range_reader_new(kafka, cfg->topics, &from, &to, 30000, &s->reader, err, errsz);
        kafka = NULL;
        if (rc)
            goto out;
        s->n_heads = weir_range_reader_count(s->reader);
        s->heads = calloc(s->n_heads ? s->n_heads : 1, sizeof(head_t));
        if (!s->heads) {
            rc = weir_seterr(err, errsz, WEIR_ENOMEM, "out of memory");
            goto out;
        }
        for (size_t i = 0; i < s->n_heads; i++) {
            const weir_range_partition_t *p = weir_range_reader_partition(s->reader, i);
            s->total += (uint64_t)(p->end - p->start);
            for (size_t t = 0; cfg->topics[t]; t++)
                if (!strcmp(cfg->topics[t], p->topic))
                    s->heads[i].topic_index = t;
        }
    }
    if (cfg->time_field && *cfg->time_field) {
        char why[256];
        if (weir_field_resolve(s->schema, cfg->time_field, &s->time, why, sizeof(why)) != 0) {
            rc = weir_seterr(err, errsz, WEIR_ECONFIG, "input.time.field: %s", why);
            goto out;
        }
        if (!cfg->file && ((rc = weir_decoder_new(cfg->framing, &s->decoder)) != 0 ||
                           (rc = weir_decoder_add_schema(s->decoder, cfg->schema_id, s->schema, err,
                                                         errsz)) != 0))
            goto out;
        s->has_time = 1;
    }
out:
    if (kafka)
        rd_kafka_conf_destroy(kafka);
    if (rc) {
        weir_source_close(s);
        s = NULL;
    }
    *out = s;
    return rc;
}

void weir_source_close(weir_source_t *s)
{
    if (!s)
        return;
    if (s->current)
        rd_kafka_message_destroy(s->current);
    for (size_t i = 0; s->heads && i < s->n_heads; i++)
        if (s->heads[i].msg)
            rd_kafka_message_destroy(s->heads[i].msg);
    free(s->heads);
    weir_range_reader_destroy(s->reader);
    weir_decoder_destroy(s->decoder);
    weir_container_reader_close(s->file);
    if (s->schema)
        avro_schema_decref(s->schema);
    free(s);
}

/* ---- reading --------------------------------------------------------- */

/* The order key of a message: its event time when the input has a time
 * field and the record carries one, else its timestamp. */
static int64_t event_time(weir_source_t *s, const rd_kafka_message_t *m)
{
    int64_t ts = rd_kafka_message_timestamp(m, NULL);
    if (!s->has_time || !m->payload)
        return ts;
    weir_decoded_t d;
    weir_reason_t reason;
    char detail[8];
    weir_value_t v;
    if (weir_decoder_decode(s->decoder, m->payload, m->len, &d, &reason, detail, sizeof(detail)) !=
            0 ||
        weir_field_get(&s->time, d.value, &v) != 0 || v.kind != WEIR_VALUE_NUMBER)
        return ts;
    return (int64_t)v.number;
}

/* Makes sure partition @p i has its head (or is read to its end). */
static int fill_head(weir_source_t *s, size_t i, char *err, size_t errsz)
{
    head_t *h = &s->heads[i];
    int64_t waited_since = -1;
    while (!h->msg) {
        rd_kafka_message_t *m;
        int rc = weir_range_reader_next(s->reader, i, 500, &m, err, errsz);
        if (rc == 0)
            return 0;
        if (rc == WEIR_ETIMEDOUT) {
            int64_t now = weir_clock_mono_ms();
            if (waited_since < 0)
                waited_since = now;
            if (now - waited_since >= s->cfg.stall_ms) {
                const weir_range_partition_t *p = weir_range_reader_partition(s->reader, i);
                return weir_seterr(err, errsz, WEIR_ETIMEDOUT,
                                   "%s [%" PRId32 "]: nothing arrived for %d s (offsets %" PRId64
                                   " to %" PRId64 ", %" PRIu64 " read); is the broker up?",
                                   p->topic, p->partition, s->cfg.stall_ms / 1000, p->start, p->end,
                                   p->read);
            }
            continue;
        }
        if (rc < 0)
            return rc;
        waited_since = -1;
        s->read++;
        int64_t ts = rd_kafka_message_timestamp(m, NULL);
        if (ts < s->from_ms || ts >= s->to_ms) {
            s->skipped++;
            rd_kafka_message_destroy(m);
            continue;
        }
        h->msg = m;
        h->key = event_time(s, m);
    }
    return 0;
}

static int head_before(const head_t *a, const head_t *b)
{
    if (a->key != b->key)
        return a->key < b->key;
    if (a->topic_index != b->topic_index)
        return a->topic_index < b->topic_index;
    if (a->msg->partition != b->msg->partition)
        return a->msg->partition < b->msg->partition;
    return a->msg->offset < b->msg->offset;
}

static int next_topic(weir_source_t *s, weir_source_record_t *rec, char *err, size_t errsz)
{
    if (s->current) {
        rd_kafka_message_destroy(s->current);
        s->current = NULL;
    }
    size_t best = SIZE_MAX;
    for (size_t i = 0; i < s->n_heads; i++) {
        int rc = fill_head(s, i, err, errsz);
        if (rc)
            return rc;
        if (s->heads[i].msg && (best == SIZE_MAX || head_before(&s->heads[i], &s->heads[best])))
            best = i;
    }
    if (best == SIZE_MAX)
        return 0;
    head_t *h = &s->heads[best];
    rd_kafka_message_t *m = h->msg;
    h->msg = NULL;
    s->current = m;
    memset(rec, 0, sizeof(*rec));
    rec->value = m->payload;
    rec->len = m->payload ? m->len : 0;
    rec->key = m->key;
    rec->key_len = m->key ? m->key_len : 0;
    rec->topic = rd_kafka_topic_name(m->rkt);
    rec->partition = m->partition;
    rec->offset = m->offset;
    rec->timestamp = rd_kafka_message_timestamp(m, NULL);
    rec->event_time = h->key;
    return 1;
}

static int next_file(weir_source_t *s, weir_source_record_t *rec, char *err, size_t errsz)
{
    for (;;) {
        memset(rec, 0, sizeof(*rec));
        rec->partition = -1;
        if (s->skipped_file > 0) {
            /* datums after a malformed one in its block: dead letters too */
            s->skipped_file--;
            s->read++;
            rec->bad = 1;
            rec->reason = WEIR_REASON_DECODE;
            rec->offset = (int64_t)++s->skipped_index;
            snprintf(rec->detail, sizeof(rec->detail),
                     "not delimitable: follows a malformed datum in its block");
            return 1;
        }
        avro_value_t *value;
        const uint8_t *body;
        size_t body_len = 0, skipped = 0;
        int got = weir_container_reader_next(s->file, &value, &body, &body_len, &skipped,
                                             &rec->reason, rec->detail, sizeof(rec->detail));
        if (got == 0)
            return 0;
        if (got == WEIR_EDECODE) {
            s->read++;
            rec->bad = 1;
            rec->offset = (int64_t)weir_container_reader_index(s->file);
            s->skipped_file = skipped;
            s->skipped_index = (uint64_t)rec->offset;
            return 1;
        }
        if (got < 0)
            return weir_seterr(err, errsz, got, "%s", rec->detail);
        s->read++;
        rec->value = body;
        rec->len = body_len;
        rec->offset = (int64_t)weir_container_reader_index(s->file);
        weir_value_t v;
        if (s->has_time && weir_field_get(&s->time, value, &v) == 0 && v.kind == WEIR_VALUE_NUMBER)
            rec->timestamp = (int64_t)v.number;
        rec->event_time = rec->timestamp;
        if (rec->timestamp < s->from_ms || rec->timestamp >= s->to_ms) {
            s->skipped++;
            continue;
        }
        return 1;
    }
}

int weir_source_next(weir_source_t *s, weir_source_record_t *rec, char *err, size_t errsz)
{
    return s->file ? next_file(s, rec, err, errsz) : next_topic(s, rec, err, errsz);
}

avro_schema_t weir_source_schema(const weir_source_t *s)
{
    return s->schema;
}

uint64_t weir_source_total(const weir_source_t *s)
{
    return s->total;
}

uint64_t weir_source_read(const weir_source_t *s)
{
    return s->read;
}

uint64_t weir_source_skipped(const weir_source_t *s)
{
    return s->skipped;
}

size_t weir_source_partition_count(const weir_source_t *s)
{
    return s->reader ? weir_range_reader_count(s->reader) : 0;
}

const weir_range_partition_t *weir_source_partition(const weir_source_t *s, size_t i)
{
    return s->reader ? weir_range_reader_partition(s->reader, i) : NULL;
}
