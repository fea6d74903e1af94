/*
 * outbox.c — records that wait for the loop to produce them: drift alerts,
 * records retried one at a time after the broker refused their batch, and
 * dead letters made from a delivery report. Owns a FIFO of record copies and
 * counts the bytes it holds, so the run loop can apply backpressure instead
 * of blocking inside a batch or a callback.
 */
#include "producer.h"
#include "common.h"

#include <stdlib.h>
#include <string.h>

struct weir_outbox {
    weir_outbox_record_t *head, *tail;
    size_t count, bytes, soft_max;
};

int weir_outbox_new(size_t soft_max, weir_outbox_t **out)
{
    weir_outbox_t *o = calloc(1, sizeof(*o));
    if (!o)
        return WEIR_ENOMEM;
    o->soft_max = soft_max;
    *out = o;
    return 0;
}

static void record_free(weir_outbox_record_t *rec, int headers_taken)
{
    if (rec->headers && !headers_taken)
        rd_kafka_headers_destroy(rec->headers);
    free(rec->key);
    free(rec->value);
    free(rec);
}

void weir_outbox_destroy(weir_outbox_t *o)
{
    if (!o)
        return;
    while (o->head)
        weir_outbox_pop(o, 0);
    free(o);
}

static void *copy(const void *p, size_t n)
{
    void *c = malloc(n ? n : 1);
    if (c && n)
        memcpy(c, p, n);
    return c;
}

int weir_outbox_push(weir_outbox_t *o, weir_producer_t *via, rd_kafka_topic_t *topic,
                     const void *key, size_t key_len, const void *value, size_t value_len,
                     rd_kafka_headers_t *headers, uint64_t token)
{
    weir_outbox_record_t *rec = calloc(1, sizeof(*rec));
    if (!rec) {
        if (headers)
            rd_kafka_headers_destroy(headers);
        return WEIR_ENOMEM;
    }
    rec->via = via;
    rec->topic = topic;
    rec->headers = headers;
    rec->token = token;
    rec->key_len = key ? key_len : 0;
    rec->value_len = value ? value_len : 0;
    rec->key = key ? copy(key, key_len) : NULL;
    rec->value = value ? copy(value, value_len) : NULL;
    if ((key && !rec->key) || (value && !rec->value)) {
        record_free(rec, 0);
        return WEIR_ENOMEM;
    }
    if (o->tail)
        o->tail->next = rec;
    else
        o->head = rec;
    o->tail = rec;
    o->count++;
    o->bytes += rec->key_len + rec->value_len;
    return 0;
}

weir_outbox_record_t *weir_outbox_peek(weir_outbox_t *o)
{
    return o->head;
}

void weir_outbox_pop(weir_outbox_t *o, int headers_taken)
{
    weir_outbox_record_t *rec = o->head;
    if (!rec)
        return;
    o->head = rec->next;
    if (!o->head)
        o->tail = NULL;
    o->count--;
    o->bytes -= rec->key_len + rec->value_len;
    record_free(rec, headers_taken);
}

size_t weir_outbox_count(const weir_outbox_t *o)
{
    return o->count;
}

int weir_outbox_full(const weir_outbox_t *o)
{
    return o->bytes > o->soft_max;
}
