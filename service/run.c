/*
 * run.c — `weir run`: wires the consumer, the pipeline, the producer, the
 * offset ledger and the HTTP endpoints onto one libuv loop.
 *
 * The data flow of one batch is process_batch():
 *   consume (on_messages → fifo) → decode/transform/score/encode
 *   (weir_pipeline_run) → produce (produce_batch) → delivery report
 *   (on_delivery → offsets ledger) → store + commit (store_done, commit timer).
 *
 * At-least-once: an input offset is stored only when its scored event or dead
 * letter was acknowledged by Kafka, contiguously per partition (offsets.h).
 * Backpressure: when the producer queue is full the batch stops where it is,
 * every assigned partition is paused, and production resumes from the same
 * item when delivery reports have drained the queue. A partition with
 * max.in.flight undelivered events is paused on its own; the messages that
 * arrived past the cap are held, in order, until there is room again.
 *
 * A record the broker or the client refuses as too large is a fault of that
 * record, not of the service: its batch mates are written again one at a time
 * through a second producer that sends one record per request, and a record
 * still refused alone becomes a `too_large` dead letter, its value cut to
 * what fits (the input of a large scored event is kept until its delivery
 * for that). Records made outside a batch's scored stream — retries, those
 * dead letters, drift alerts — wait in an outbox that the loop drains; no
 * batch or callback ever blocks on the producer, and pump() never runs
 * inside itself.
 *
 * Models: the champion, and when configured a shadow (scores every event
 * beside it) and a canary (serves a stable share of keys), are bundles
 * (rollout.h) — a model with its pipelines and monitor. A new version of any
 * of them (model.path changed, or SIGHUP) is built on a worker thread and
 * swapped in by try_swap() between two batches, when every record of the
 * batch before is produced: each event is scored by exactly one version, and
 * the loop pauses only for a few pointer moves. A new champion is on
 * probation (guard.h) against the one it replaced, which is kept for the
 * rollback the guard may call.
 */
#include "run.h"
#include "common.h"
#include "clock.h"
#include "connect.h"
#include "consumer.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "engine.h"
#include "guard.h"
#include "offsets.h"
#include "producer.h"
#include "rollout.h"
#include "schema_ids.h"
#include "schemas.h"
#include "score.h"
#include "scoring.h"

#include <cblas.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REVOKE_FLUSH_MS 10000
#define SLOT_LABEL_OK (-1)
#define SLOT_LABEL_BAD (-2)
/* Produce token of records that release no input offset (drift alerts). */
#define TOKEN_UNTRACKED UINT64_MAX
#define PROGRESS_MS 10000
/* Inputs of scored events at least this large stay in memory until their
 * output is delivered, to make a dead letter of them if the broker refuses it. */
#define KEEP_INPUT_BYTES 16384
/* Room the headers, framing and batch overhead of a dead letter may take. */
#define RECORD_OVERHEAD 1024
#define OUTBOX_SOFT_MAX ((size_t)64 << 20)
/* Model versions /metrics keeps figures for. */
#define MAX_VERSIONS 32
/* Upper bounds of the champion-shadow score difference histogram. */
#define DIFF_BUCKETS 8
static const double diff_bounds[DIFF_BUCKETS] = {0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0};

typedef enum { ROLE_CHAMPION = 0, ROLE_SHADOW, ROLE_CANARY, ROLE__COUNT } role_t;
static const char *const role_names[ROLE__COUNT] = {"champion", "shadow", "canary"};

/* What one model version did, for /metrics. */
typedef struct {
    char model[WEIR_BUNDLE_MAX_NAME + 1];
    char version[WEIR_BUNDLE_MAX_NAME + 1];
    uint64_t scored, dead, dead_model; /* dead_model: the model's fault (guard.h) */
} version_stats_t;

struct run;
typedef struct {
    struct run *r;
    role_t role;
} role_ref_t;

/* Where a held partition stands during one pass of release_held(). */
typedef struct {
    rd_kafka_topic_t *rkt;
    int32_t partition;
    int open; /* its messages may be begun in this pass */
    int left; /* some of its messages are still held after the pass */
} held_partition_t;

typedef struct run {
    const weir_config_t *cfg; /* the caller's, then &resolved */
    weir_config_t resolved;   /* a copy with the schema ids in use */
    uv_loop_t loop;
    /* the models: in use, loaded and waiting for the batch boundary, kept for rollback */
    weir_bundle_t *bundle[ROLE__COUNT];
    weir_bundle_t *pending[ROLE__COUNT];
    weir_bundle_t *previous; /* the champion before the current one */
    int pending_rollback;    /* pending[champion] is the previous one coming back */
    weir_watch_t *watch[ROLE__COUNT];
    role_ref_t roles[ROLE__COUNT];
    char *schema_json; /* the input schema's text, for every bundle built */
    weir_guard_t guard;
    weir_score_ring_t *recent; /* the champion's latest scores */
    version_stats_t versions[MAX_VERSIONS];
    size_t n_versions;
    uint64_t reloads[ROLE__COUNT], refusals[ROLE__COUNT], rollbacks[3];
    double last_swap_s;
    uint64_t shadow_agree, shadow_disagree, shadow_failed;
    uint64_t diff_buckets[DIFF_BUCKETS], diff_count;
    double diff_sum;
    /* POST /score inside the service (score.listen) */
    weir_score_t score;
    int score_ready;
    weir_http_t *score_http;
    char instance[256]; /* instance.id, or host-pid */
    weir_consumer_t *consumer;
    weir_producer_t *producer;
    weir_producer_t *solo; /* one record per request: retries after a too-large batch */
    weir_outbox_t *outbox; /* records made outside the batch's scored stream */
    weir_offsets_t *offsets;
    rd_kafka_topic_t *out_topic, *dlq_topic;
    weir_http_t *http;
    weir_metrics_t metrics;
    uv_signal_t sigterm, sigint, sighup;
    uv_timer_t commit_timer, progress_timer;

    /* consumed and not yet in a batch: a ring of messages and their tokens */
    rd_kafka_message_t **fifo;
    uint64_t *fifo_tokens;
    size_t fifo_head, fifo_len, fifo_cap;

    /* consumed past their partition's in-flight cap: not yet begun, in order */
    rd_kafka_message_t **held;
    size_t held_n, held_cap;
    size_t resume_room;           /* room a capped partition needs before it takes more */
    held_partition_t *held_parts; /* scratch of release_held() */
    size_t held_parts_cap;

    /* the batch being produced: messages, their tokens and where each went */
    rd_kafka_message_t **batch;
    uint64_t *tokens;
    int32_t *slot;                      /* index in items, or SLOT_LABEL_OK / SLOT_LABEL_BAD */
    weir_pipeline_item_t *items;        /* input events the champion scores, densely */
    weir_pipeline_item_t *citems;       /* input events the canary scores, densely */
    weir_pipeline_item_t *sitems;       /* every input event, for the shadow */
    weir_shadow_score_t *shadow_scores; /* by event: the shadow's result */
    float *shadow_probs;                /* by event: the shadow's binary class probabilities */
    uint8_t *lane;                      /* by event: ROLE_CHAMPION or ROLE_CANARY */
    uint32_t *lane_index;               /* by event: its index in items or citems */
    uint32_t *event_batch;              /* by event: its index in the batch */
    weir_pipeline_item_t *bad_labels;   /* by batch index: reason and detail of a bad label */
    size_t batch_n, batch_next;

    rd_kafka_topic_t *alert_topic, *shadow_topic;
    uint64_t alerts_produced, alert_errors;

    int blocked;             /* a producer queue is full */
    int in_pump, pump_again; /* pump() runs once at a time; a nested call asks again */
    int commit_retry;        /* a commit failed: commit again on the next tick */
    int pausing;             /* we paused the consumer for backpressure */
    int flushing;            /* inside a blocking flush: deliveries only store */
    int64_t quiet_until_ms;  /* no timer commits before: a rebalance may be under way */
    int64_t settle_ms;       /* how long after a rebalance event that lasts */
    int stored_pending;      /* offsets stored since the last commit */
    int stopping;
    int exit_code;
    uint64_t last_progress_consumed;

    /* writer schemas besides input.schema, fetched from the schema registry
     * off the loop; a partition whose next event waits for one is paused */
    weir_registry_t *registry; /* NULL without schema.registry.url */
    weir_writers_t *writers;
    uv_work_t fetch_req;
    uv_timer_t fetch_timer; /* the retry after the registry failed */
    int fetching;           /* a fetch or its retry is under way */
    int32_t fetch_id;
    int fetch_rc;
    char *fetch_text;
    char fetch_err[512];
    int64_t fetch_backoff_ms;
    int registry_down;
    uint64_t registry_fetches, registry_failures, registry_unknown, registry_incompatible;
    uint64_t registry_pauses, registry_failovers; /* failovers: read after each fetch */
} run_t;

static void begin_shutdown(run_t *r, int exit_code, const char *why);
static int awaits_schema(const run_t *r, const rd_kafka_message_t *m, int32_t *id);
static void start_fetch(run_t *r, int32_t id);

/* ---- offsets ------------------------------------------------------- */

typedef struct {
    rd_kafka_topic_partition_list_t *list;
} store_ctx_t;

static int add_store(void *opaque, const weir_offsets_entry_t *e)
{
    store_ctx_t *ctx = opaque;
    if (e->store_offset >= 0)
        rd_kafka_topic_partition_list_add(ctx->list, e->topic, e->partition)->offset =
            e->store_offset;
    return 0;
}

/* Stores every offset whose prefix of outputs is now durable. */
static void store_done(run_t *r)
{
    store_ctx_t ctx = {rd_kafka_topic_partition_list_new(8)};
    weir_offsets_foreach_dirty(r->offsets, add_store, &ctx);
    if (ctx.list->cnt > 0) {
        size_t skipped = 0;
        if (weir_consumer_store(r->consumer, ctx.list, &skipped) != 0)
            weir_log(WEIR_LOG_WARN, "offset store failed", NULL);
        r->stored_pending = 1;
    }
    rd_kafka_topic_partition_list_destroy(ctx.list);
}

/* Commits what is stored. A failure (here for a synchronous commit, in
 * on_commit_failed() for an asynchronous one) is retried on the next tick,
 * whether or not anything new was stored meanwhile. */
static void commit_now(run_t *r, int sync)
{
    char err[256];
    r->metrics.commits++;
    r->stored_pending = 0;
    r->commit_retry = 0;
    if (weir_consumer_commit(r->consumer, sync, err, sizeof(err)) != 0) {
        r->metrics.commit_failures++;
        r->commit_retry = 1;
        weir_log(WEIR_LOG_WARN, "commit failed", "error", err, NULL);
    }
}

static void on_commit_failed(void *opaque, rd_kafka_resp_err_t err)
{
    run_t *r = opaque;
    r->metrics.commit_failures++;
    r->commit_retry = 1;
}

/* librdkafka 2.0.2 marks the whole assignment lost when a commit is in flight
 * as a rebalance round bumps the generation (fixed 2.10.0). A cooperative
 * revoke is always followed by a second round, which completes once every
 * member has heard of it through a heartbeat; so after a revoke the timer
 * stays quiet for two heartbeat intervals and a margin. The commits that
 * matter there (before giving partitions up) are made synchronously inside
 * the revoke callback, where the generation is current. */
static void rebalance_event(run_t *r)
{
    r->quiet_until_ms = weir_clock_mono_ms() + r->settle_ms;
}

static void on_commit_timer(uv_timer_t *t)
{
    run_t *r = t->data;
    if ((r->stored_pending || r->commit_retry) && !r->stopping &&
        weir_clock_mono_ms() >= r->quiet_until_ms)
        commit_now(r, 0);
}

/* ---- producing ----------------------------------------------------- */

static rd_kafka_headers_t *scored_headers(const weir_model_t *m)
{
    rd_kafka_headers_t *h = rd_kafka_headers_new(2);
    rd_kafka_header_add(h, "weir.model", -1, weir_model_name(m), -1);
    rd_kafka_header_add(h, "weir.model.version", -1, weir_model_version(m), -1);
    return h;
}

/* The item of event @p k of the batch, and the bundle that scored it. */
static weir_pipeline_item_t *item_of(run_t *r, size_t k)
{
    return r->lane[k] == ROLE_CANARY ? &r->citems[r->lane_index[k]] : &r->items[r->lane_index[k]];
}

static const weir_bundle_t *bundle_of(const run_t *r, size_t k)
{
    return r->bundle[r->lane[k] == ROLE_CANARY ? ROLE_CANARY : ROLE_CHAMPION];
}

static void add_source_headers(rd_kafka_headers_t *h, const char *topic, int32_t partition,
                               int64_t offset)
{
    char num[32];
    rd_kafka_header_add(h, "weir.source.topic", -1, topic, -1);
    snprintf(num, sizeof(num), "%" PRId32, partition);
    rd_kafka_header_add(h, "weir.source.partition", -1, num, -1);
    snprintf(num, sizeof(num), "%" PRId64, offset);
    rd_kafka_header_add(h, "weir.source.offset", -1, num, -1);
}

static rd_kafka_headers_t *dead_letter_headers(const rd_kafka_message_t *m,
                                               const weir_pipeline_item_t *it)
{
    rd_kafka_headers_t *orig = NULL, *h;
    if (rd_kafka_message_headers(m, &orig) == RD_KAFKA_RESP_ERR_NO_ERROR && orig)
        h = rd_kafka_headers_copy(orig);
    else
        h = rd_kafka_headers_new(5);
    rd_kafka_header_add(h, "weir.error", -1, weir_reason_name(it->reason), -1);
    rd_kafka_header_add(h, "weir.error.detail", -1, it->detail, -1);
    add_source_headers(h, rd_kafka_topic_name(m->rkt), m->partition, m->offset);
    return h;
}

static size_t headers_bytes(const rd_kafka_headers_t *h)
{
    size_t n = 0;
    const char *name;
    const void *value;
    size_t len;
    for (size_t i = 0; h && rd_kafka_header_get_all(h, i, &name, &value, &len) == 0; i++)
        n += strlen(name) + len + 8;
    return n;
}

/* The record of a too_large dead letter, before it is queued. */
typedef struct {
    const void *key;
    size_t key_len;
    const void *value;
    size_t value_len;
    const rd_kafka_headers_t *headers; /* the original's, kept when they fit; may be NULL */
    const char *topic;                 /* where the event came from */
    int32_t partition;
    int64_t offset;
    size_t original_size; /* of the event's value, when this is already a cut */
} too_large_t;

/* Queues a `too_large` dead letter: the original key, value and headers cut to
 * fit @p limit bytes, what was refused and why in weir.error.detail, the
 * original size in weir.original.size. Written alone, through the solo producer. */
static void too_large_dead_letter(run_t *r, const too_large_t *t, size_t limit, uint64_t token,
                                  const char *what)
{
    char detail[512], num[32];
    size_t key_len = t->key_len, value_len = t->value_len;
    int keep_headers =
        t->headers && key_len + headers_bytes(t->headers) + RECORD_OVERHEAD + strlen(what) < limit;
    size_t room =
        limit > RECORD_OVERHEAD + strlen(what) ? limit - RECORD_OVERHEAD - strlen(what) : 0;
    if (keep_headers)
        room -= headers_bytes(t->headers);
    if (key_len > room / 2)
        key_len = room / 2;
    room -= key_len;
    if (value_len > room)
        value_len = room;
    size_t original = t->original_size ? t->original_size : t->value_len;
    snprintf(detail, sizeof(detail), "%s; value cut from %zu to %zu bytes%s%s", what, original,
             value_len, key_len < t->key_len ? ", key cut" : "",
             t->headers && !keep_headers ? ", original headers dropped" : "");
    rd_kafka_headers_t *h =
        keep_headers ? rd_kafka_headers_copy(t->headers) : rd_kafka_headers_new(6);
    /* a dead letter cut again replaces its own weir.* headers */
    rd_kafka_header_remove(h, "weir.error");
    rd_kafka_header_remove(h, "weir.error.detail");
    rd_kafka_header_remove(h, "weir.original.size");
    rd_kafka_header_remove(h, "weir.source.topic");
    rd_kafka_header_remove(h, "weir.source.partition");
    rd_kafka_header_remove(h, "weir.source.offset");
    rd_kafka_header_add(h, "weir.error", -1, weir_reason_name(WEIR_REASON_TOO_LARGE), -1);
    rd_kafka_header_add(h, "weir.error.detail", -1, detail, -1);
    snprintf(num, sizeof(num), "%zu", original);
    rd_kafka_header_add(h, "weir.original.size", -1, num, -1);
    add_source_headers(h, t->topic, t->partition, t->offset);
    r->metrics.dead_letters[WEIR_REASON_TOO_LARGE]++;
    weir_log(WEIR_LOG_WARN, "record too large: written as a dead letter", "detail", detail,
             "source_topic", t->topic, NULL);
    if (weir_outbox_push(r->outbox, r->solo, weir_producer_topic(r->solo, r->cfg->dlq_topic),
                         t->key, key_len, t->value, value_len, h, token) != 0)
        begin_shutdown(r, 1, "out of memory");
}

/* A record the client or the broker refused as too large. Written by the main
 * producer, it may only have shared a batch with a record that was: it is
 * written again alone. Refused alone, it is a dead letter of its event —
 * made from the input when it was kept, and cut further each time the
 * dead-letter topic refuses it. */
static void refused_too_large(run_t *r, weir_producer_t *via, uint64_t token, const char *topic,
                              const void *key, size_t key_len, const void *value, size_t value_len,
                              const rd_kafka_headers_t *headers, int by_client)
{
    const char *src_topic;
    int32_t src_partition;
    int64_t src_offset;
    if (weir_offsets_lookup(r->offsets, token, &src_topic, &src_partition, &src_offset) != 0)
        return; /* its partition went to another member, which re-reads it */
    if (via == r->producer) {
        r->metrics.size_retries++;
        rd_kafka_headers_t *h = headers ? rd_kafka_headers_copy(headers) : NULL;
        if (weir_outbox_push(r->outbox, r->solo, weir_producer_topic(r->solo, topic), key, key_len,
                             value, value_len, h, token) != 0)
            begin_shutdown(r, 1, "out of memory");
        return;
    }
    char what[384];
    size_t limit;
    too_large_t t = {key,       key_len,       value,      value_len, headers,
                     src_topic, src_partition, src_offset, 0};
    rd_kafka_message_t *input = NULL;
    if (!strcmp(topic, r->cfg->dlq_topic)) {
        if (value_len == 0 && key_len == 0) {
            weir_log(WEIR_LOG_ERROR, "the dead-letter topic refuses even an empty record", "topic",
                     topic, NULL);
            begin_shutdown(r, 1, "dead letter refused");
            return;
        }
        /* already a dead letter: cut it by half again */
        snprintf(what, sizeof(what), "dead letter of %zu bytes refused by %s %s", value_len,
                 by_client ? "the client for" : "topic", topic);
        limit = value_len + key_len + RECORD_OVERHEAD + strlen(what);
        limit = limit / 2 > RECORD_OVERHEAD ? limit / 2 : RECORD_OVERHEAD;
        if (value_len == 0)
            t.headers = NULL;
        const void *size;
        size_t size_len;
        char num[32];
        if (headers &&
            rd_kafka_header_get_last(headers, "weir.original.size", &size, &size_len) == 0 &&
            size_len < sizeof(num)) {
            memcpy(num, size, size_len);
            num[size_len] = '\0';
            t.original_size = (size_t)strtoull(num, NULL, 10);
        }
    } else {
        input = weir_offsets_detach(r->offsets, token);
        snprintf(what, sizeof(what), "scored event of %zu bytes refused by %s %s", value_len,
                 by_client ? "the client for" : "topic", topic);
        rd_kafka_headers_t *orig = NULL;
        if (input) {
            t.key = input->key;
            t.key_len = input->key_len;
            t.value = input->payload;
            t.value_len = input->len;
            if (rd_kafka_message_headers(input, &orig) == RD_KAFKA_RESP_ERR_NO_ERROR)
                t.headers = orig;
            else
                t.headers = NULL;
        } else {
            /* a small event, not kept: its coordinates say where to re-read it */
            t.value = NULL;
            t.value_len = 0;
            t.headers = NULL;
        }
        limit = weir_producer_max_message_bytes(r->solo);
    }
    too_large_dead_letter(r, &t, limit, token, what);
    if (input)
        rd_kafka_message_destroy(input);
}

static void pause_for_backpressure(run_t *r)
{
    if (!r->pausing) {
        r->pausing = 1;
        r->metrics.backpressure_pauses++;
        weir_consumer_pause(r->consumer);
        weir_log(WEIR_LOG_DEBUG, "paused: producer queue full", NULL);
    }
}

/* Writes what waits in the outbox, in order; stops (blocked) at a full queue. */
static void drain_outbox(run_t *r)
{
    weir_outbox_record_t *rec;
    while ((rec = weir_outbox_peek(r->outbox)) != NULL) {
        const char *t;
        int32_t p;
        int64_t o;
        if (rec->token != TOKEN_UNTRACKED &&
            weir_offsets_lookup(r->offsets, rec->token, &t, &p, &o) != 0) {
            weir_outbox_pop(r->outbox, 0); /* revoked meanwhile: the next owner re-reads it */
            continue;
        }
        int rc = weir_producer_send(rec->via, rec->topic, rec->key, rec->key_len, rec->value,
                                    rec->value_len, rec->headers, rec->token);
        if (rc == WEIR_EFULL) {
            r->blocked = 1;
            pause_for_backpressure(r);
            return;
        }
        if (rc == WEIR_ELIMIT && rec->token != TOKEN_UNTRACKED) {
            refused_too_large(r, rec->via, rec->token, rd_kafka_topic_name(rec->topic), rec->key,
                              rec->key_len, rec->value, rec->value_len, rec->headers, 1);
        } else if (rc != 0) {
            if (rec->token == TOKEN_UNTRACKED) {
                r->alert_errors++;
            } else {
                weir_outbox_pop(r->outbox, 0);
                begin_shutdown(r, 1, "produce failed");
                return;
            }
        }
        weir_outbox_pop(r->outbox, rc == 0);
    }
}

/* Enqueues the rest of the current batch; stops (blocked) at a full queue. */
static void produce_batch(run_t *r)
{
    while (r->batch_next < r->batch_n) {
        size_t i = r->batch_next;
        rd_kafka_message_t *m = r->batch[i];
        if (!m) { /* its partition was revoked meanwhile */
            r->batch_next++;
            continue;
        }
        if (r->slot[i] == SLOT_LABEL_OK) {
            /* a label needs no output: its offset is done at once */
            weir_offsets_done(r->offsets, r->tokens[i], 1);
            rd_kafka_message_destroy(m);
            r->batch[i] = NULL;
            r->batch_next++;
            continue;
        }
        const weir_pipeline_item_t *it =
            r->slot[i] == SLOT_LABEL_BAD ? &r->bad_labels[i] : item_of(r, (size_t)r->slot[i]);
        const weir_bundle_t *b = r->slot[i] >= 0 ? bundle_of(r, (size_t)r->slot[i]) : NULL;
        rd_kafka_headers_t *h = it->scored ? scored_headers(b->model) : dead_letter_headers(m, it);
        const void *value =
            it->scored ? weir_pipeline_output(b->pipeline) + it->out_offset : m->payload;
        size_t value_len = it->scored ? it->out_len : m->len;
        rd_kafka_topic_t *topic = it->scored ? r->out_topic : r->dlq_topic;
        int rc = weir_producer_send(r->producer, topic, m->key, m->key_len, value, value_len, h,
                                    r->tokens[i]);
        if (rc == WEIR_EFULL) {
            rd_kafka_headers_destroy(h);
            r->blocked = 1;
            pause_for_backpressure(r);
            return;
        }
        if (rc == WEIR_ELIMIT) {
            /* past the client's message.max.bytes: never writable as it is */
            char what[384];
            snprintf(what, sizeof(what), "%s of %zu bytes is over the client's message.max.bytes",
                     it->scored ? "scored event" : "dead letter", value_len);
            rd_kafka_headers_t *orig = NULL;
            if (rd_kafka_message_headers(m, &orig) != RD_KAFKA_RESP_ERR_NO_ERROR)
                orig = NULL;
            too_large_t t = {m->key,       m->key_len, m->payload,
                             m->len,       orig,       rd_kafka_topic_name(m->rkt),
                             m->partition, m->offset,  0};
            too_large_dead_letter(r, &t, weir_producer_max_message_bytes(r->solo), r->tokens[i],
                                  what);
            rd_kafka_headers_destroy(h);
        } else if (rc != 0) {
            rd_kafka_headers_destroy(h);
            weir_offsets_done(r->offsets, r->tokens[i], 0);
            begin_shutdown(r, 1, "produce failed");
            return;
        } else if (it->scored && value_len >= KEEP_INPUT_BYTES &&
                   weir_offsets_attach(r->offsets, r->tokens[i], m) == 0) {
            /* kept until delivered, to become a dead letter if the broker refuses it */
            r->batch[i] = NULL;
            r->batch_next++;
            continue;
        }
        rd_kafka_message_destroy(m);
        r->batch[i] = NULL;
        r->batch_next++;
    }
    r->blocked = 0;
}

/* ---- the batch ----------------------------------------------------- */

/* Takes the labels of the batch out of the way: joined now, no output. */
static int take_label(run_t *r, size_t i, rd_kafka_message_t *m)
{
    const char *labels = r->cfg->labels_topic;
    if (!*labels || strcmp(rd_kafka_topic_name(m->rkt), labels) != 0)
        return 0;
    weir_pipeline_item_t *bad = &r->bad_labels[i];
    /* on probation, the previous version's predictions still meet their labels */
    if (r->guard.active && r->previous)
        weir_monitor_label(r->previous->monitor, m->payload, m->payload ? m->len : 0, &bad->reason,
                           bad->detail, sizeof(bad->detail));
    if (weir_monitor_label(r->bundle[ROLE_CHAMPION]->monitor, m->payload, m->payload ? m->len : 0,
                           &bad->reason, bad->detail, sizeof(bad->detail)) == 0) {
        r->slot[i] = SLOT_LABEL_OK;
    } else {
        r->slot[i] = SLOT_LABEL_BAD;
        bad->scored = 0;
        r->metrics.dead_letters[bad->reason]++;
    }
    return 1;
}

/* Feeds the drift monitor and publishes what its evaluation found. */
static void monitor_batch(run_t *r, size_t n_champion, int64_t now)
{
    const weir_bundle_t *b = r->bundle[ROLE_CHAMPION];
    if (!weir_monitor_observes(b->monitor))
        return; /* drift.enabled = false and no labels: nothing to feed */
    for (size_t k = 0; k < n_champion; k++) {
        const weir_pipeline_item_t *it = &r->items[k];
        if (it->scored)
            weir_monitor_observe(b->monitor, weir_pipeline_values(b->pipeline, it->row), it->score,
                                 it->class_index, it->event_id, it->event_time_ms, now);
    }
    size_t alerts = weir_monitor_evaluate(b->monitor, now);
    for (size_t a = 0; a < alerts && r->alert_topic; a++) {
        /* copied out at once: the next evaluation reuses the monitor's records */
        const weir_monitor_alert_t *al = weir_monitor_alert(b->monitor, a);
        if (weir_outbox_push(r->outbox, r->producer, r->alert_topic, al->key, al->key_len,
                             al->value, al->len, NULL, TOKEN_UNTRACKED) != 0)
            r->alert_errors++;
    }
}

/* ---- model versions ------------------------------------------------ */

/* The figures of @p m's version (found or added; past MAX_VERSIONS, the last slot). */
static version_stats_t *version_stats(run_t *r, const weir_model_t *m)
{
    for (size_t i = 0; i < r->n_versions; i++)
        if (!strcmp(r->versions[i].version, weir_model_version(m)) &&
            !strcmp(r->versions[i].model, weir_model_name(m)))
            return &r->versions[i];
    version_stats_t *v =
        &r->versions[r->n_versions < MAX_VERSIONS ? r->n_versions++ : MAX_VERSIONS - 1];
    memset(v, 0, sizeof(*v));
    snprintf(v->model, sizeof(v->model), "%s", weir_model_name(m));
    snprintf(v->version, sizeof(v->version), "%s", weir_model_version(m));
    return v;
}

/* Dead letters the model is to blame for (guard.h), not the input's framing. */
static int model_fault(weir_reason_t reason)
{
    return reason == WEIR_REASON_MISSING_VALUE || reason == WEIR_REASON_UNKNOWN_CATEGORY ||
           reason == WEIR_REASON_INVALID_VALUE;
}

static void log_swap(run_t *r, role_t role, const weir_bundle_t *from, const weir_bundle_t *to,
                     double pause_s, const char *why)
{
    char pause[32];
    snprintf(pause, sizeof(pause), "%.0f", pause_s * 1e6);
    weir_log(WEIR_LOG_INFO, "model swapped", "role", role_names[role], "from",
             from ? weir_model_version(from->model) : "-", "to", weir_model_version(to->model),
             "why", why, "file", to->origin.file, "pause_us", pause, NULL);
}

/* Swaps what is waiting in, when the batch before is wholly produced: the
 * outputs of a batch point into its bundles' pipelines. */
static void try_swap(run_t *r)
{
    if (r->batch_next < r->batch_n)
        return;
    for (role_t role = 0; role < ROLE__COUNT; role++) {
        weir_bundle_t *next = r->pending[role];
        if (!next)
            continue;
        double t0 = weir_clock_mono_s();
        weir_bundle_t *old = r->bundle[role];
        r->bundle[role] = next;
        r->pending[role] = NULL;
        if (role != ROLE_CHAMPION) {
            r->last_swap_s = weir_clock_mono_s() - t0;
            r->reloads[role]++;
            log_swap(r, role, old, next, r->last_swap_s, "new version");
            weir_bundle_destroy_later(&r->loop, old);
            continue;
        }
        const char *why = r->pending_rollback ? "rollback" : "new version";
        /* destroyed on a worker thread: only once nothing here reads it */
        weir_bundle_t *gone;
        if (r->pending_rollback) {
            weir_guard_dispose(&r->guard);
            gone = old; /* the version that failed */
            r->pending_rollback = 0;
        } else {
            /* the replaced version stays, for the guard's comparison and its rollback */
            gone = r->previous;
            r->previous = old;
            const version_stats_t *v = version_stats(r, old->model);
            uint64_t seen = v->scored + v->dead;
            weir_guard_limits_t limits = {r->cfg->probation_events, r->cfg->probation_dead_share,
                                          r->cfg->probation_score_drift,
                                          r->cfg->probation_error_rate};
            if (weir_guard_start(&r->guard, &limits, r->recent,
                                 seen ? (double)v->dead_model / (double)seen : 0.0) != 0)
                weir_log(WEIR_LOG_WARN, "no probation: out of memory", NULL);
            r->reloads[role]++;
        }
        r->recent->n = r->recent->at = 0; /* recent scores are the new version's from here */
        r->last_swap_s = weir_clock_mono_s() - t0;
        log_swap(r, role, old, next, r->last_swap_s, why);
        if (r->guard.active) {
            char events[32];
            snprintf(events, sizeof(events), "%zu", r->cfg->probation_events);
            weir_log(WEIR_LOG_INFO, "model on probation", "version",
                     weir_model_version(next->model), "events", events, "against",
                     weir_model_version(old->model), NULL);
        }
        weir_bundle_destroy_later(&r->loop, gone);
    }
}

/* A new version of a role was built (or refused) on a worker thread. */
static void on_bundle(void *opaque, weir_bundle_t *b, int rc, const char *reason)
{
    role_ref_t *ref = opaque;
    run_t *r = ref->r;
    role_t role = ref->role;
    if (!b) {
        r->refusals[role]++;
        weir_log(WEIR_LOG_WARN, "model refused: the old one keeps serving", "role",
                 role_names[role], "reason", reason, "serving",
                 weir_model_version(r->bundle[role]->model), NULL);
        return;
    }
    if (r->stopping) {
        weir_bundle_destroy_later(&r->loop, b);
        return;
    }
    if (role == ROLE_CHAMPION && r->pending_rollback) {
        /* a rollback is on its way: a version loaded meanwhile waits for the next look */
        weir_bundle_destroy_later(&r->loop, b);
        return;
    }
    weir_bundle_log_warnings(b);
    weir_bundle_destroy_later(&r->loop, r->pending[role]);
    r->pending[role] = b;
    if (!r->in_pump && !r->flushing)
        try_swap(r);
}

/* The guard found the new champion past a limit: the previous version comes
 * back at the next batch boundary, this one is not loaded again until the
 * path names another file, and everyone is told. */
static void roll_back(run_t *r, const weir_guard_verdict_t *v, int64_t now)
{
    weir_bundle_t *failed = r->bundle[ROLE_CHAMPION];
    char value[32], limit[32], events[32];
    snprintf(value, sizeof(value), "%.6g", v->value);
    snprintf(limit, sizeof(limit), "%.6g", v->limit);
    snprintf(events, sizeof(events), "%" PRIu64, v->events);
    weir_log(WEIR_LOG_WARN, "model rolled back", "version", weir_model_version(failed->model),
             "reason", v->reason, "value", value, "limit", limit, "events", events, "back_to",
             weir_model_version(r->previous->model), NULL);
    r->rollbacks[v->kind]++;
    weir_watch_refuse(r->watch[ROLE_CHAMPION], &failed->origin);
    weir_watch_set_current(r->watch[ROLE_CHAMPION], &r->previous->origin);
    weir_bundle_destroy_later(&r->loop, r->pending[ROLE_CHAMPION]);
    r->pending[ROLE_CHAMPION] = r->previous;
    r->previous = NULL;
    r->pending_rollback = 1;
    if (r->alert_topic) {
        /* a DriftAlert of test "rollback", its feature the reason (README) */
        weir_buf_t value_buf;
        char key[3 * WEIR_BUNDLE_MAX_NAME];
        weir_buf_init(&value_buf, 64 * 1024);
        weir_drift_alert_t a = {
            .kind = v->kind,
            .model_name = weir_model_name(failed->model),
            .model_version = weir_model_version(failed->model),
            .feature = v->reason,
            .test = "rollback",
            .statistic = v->value,
            .p_value = NAN,
            .threshold = v->limit,
            .window_start_ms = now,
            .window_end_ms = now,
            .window_count = (int64_t)v->events,
            .reference_size = (int64_t)r->guard.base_n,
            .severity = 2,
            .instance = r->instance,
            .detected_at_ms = now,
        };
        snprintf(key, sizeof(key), "%s/%s/rollback", weir_model_name(failed->model), v->reason);
        if (weir_framing_write(&value_buf, r->cfg->output_framing, r->cfg->alerts_schema_id) != 0 ||
            weir_drift_alert_encode(&value_buf, &a) != 0 ||
            weir_outbox_push(r->outbox, r->producer, r->alert_topic, key, strlen(key),
                             value_buf.data, value_buf.len, NULL, TOKEN_UNTRACKED) != 0)
            r->alert_errors++;
        weir_buf_dispose(&value_buf);
    }
}

/* The shadow scores every event of the batch; its results go into the
 * serving version's ScoredEvents, or as ScoredEvents of its own to
 * shadow.topic. */
static int shadow_batch(run_t *r, size_t events, int64_t now, char *err, size_t errsz)
{
    const weir_bundle_t *s = r->bundle[ROLE_SHADOW];
    weir_pipeline_use_writers(s->pipeline, r->writers);
    int rc = weir_pipeline_run(s->pipeline, s->model, r->sitems, events, now, err, errsz);
    if (rc)
        return rc;
    const weir_model_t *m = s->model;
    size_t outputs = weir_model_outputs(m);
    const float *out = weir_pipeline_outputs(s->pipeline);
    const uint8_t *encoded = weir_pipeline_output(s->pipeline);
    int to_topic = r->shadow_topic != NULL;
    for (size_t k = 0; k < events; k++) {
        const weir_pipeline_item_t *it = &r->sitems[k];
        weir_shadow_score_t *sc = &r->shadow_scores[k];
        item_of(r, k)->shadow = NULL;
        if (!it->scored)
            continue;
        sc->model_name = weir_model_name(m);
        sc->model_version = weir_model_version(m);
        sc->score = it->score;
        sc->label = it->class_index >= 0 ? weir_model_class(m, (size_t)it->class_index) : NULL;
        if (weir_model_task(m) == WEIR_TASK_BINARY) {
            r->shadow_probs[2 * k] = 1.0f - out[it->row];
            r->shadow_probs[2 * k + 1] = out[it->row];
            sc->scores = &r->shadow_probs[2 * k];
            sc->n_scores = 2;
        } else if (weir_model_task(m) == WEIR_TASK_MULTICLASS) {
            sc->scores = out + it->row * outputs;
            sc->n_scores = outputs;
        } else {
            sc->scores = NULL;
            sc->n_scores = 0;
        }
        if (!to_topic) {
            item_of(r, k)->shadow = sc;
            continue;
        }
        const rd_kafka_message_t *msg = r->batch[r->event_batch[k]];
        if (weir_outbox_push(r->outbox, r->producer, r->shadow_topic, msg->key, msg->key_len,
                             encoded + it->out_offset, it->out_len, scored_headers(m),
                             TOKEN_UNTRACKED) != 0)
            r->alert_errors++;
    }
    return 0;
}

/* Champion (or canary) against shadow, event by event, for /metrics. */
static void compare_shadow(run_t *r, size_t events)
{
    for (size_t k = 0; k < events; k++) {
        const weir_pipeline_item_t *it = item_of(r, k), *sh = &r->sitems[k];
        if (!it->scored)
            continue;
        if (!sh->scored) {
            r->shadow_failed++;
            continue;
        }
        if (it->class_index == sh->class_index)
            r->shadow_agree++;
        else
            r->shadow_disagree++;
        double diff = fabs(it->score - sh->score);
        r->diff_count++;
        r->diff_sum += diff;
        for (size_t i = 0; i < DIFF_BUCKETS; i++)
            if (diff <= diff_bounds[i]) {
                r->diff_buckets[i]++;
                break;
            }
    }
}

/* Counts every event by the version that took it, and feeds the guard. */
static void count_batch(run_t *r, size_t events)
{
    version_stats_t *v[2] = {
        version_stats(r, r->bundle[ROLE_CHAMPION]->model),
        r->bundle[ROLE_CANARY] ? version_stats(r, r->bundle[ROLE_CANARY]->model) : NULL};
    for (size_t k = 0; k < events; k++) {
        const weir_pipeline_item_t *it = item_of(r, k);
        int canary = r->lane[k] == ROLE_CANARY;
        version_stats_t *vs = v[canary];
        if (it->scored) {
            r->metrics.scored++;
            vs->scored++;
        } else {
            r->metrics.dead_letters[it->reason]++;
            vs->dead++;
            vs->dead_model += (uint64_t)model_fault(it->reason);
        }
        if (canary)
            continue;
        if (it->scored) {
            weir_score_ring_add(r->recent, it->score);
            weir_guard_scored(&r->guard, it->score);
        } else if (model_fault(it->reason)) {
            weir_guard_dead(&r->guard);
        } else {
            weir_guard_other(&r->guard);
        }
    }
}

/* On probation: the guard's verdict after this batch. */
static void judge(run_t *r, int64_t now)
{
    if (!r->guard.active || !r->previous)
        return;
    uint64_t joined, wrong, base_joined = 0, base_wrong = 0;
    weir_monitor_label_counts(r->bundle[ROLE_CHAMPION]->monitor, &joined, &wrong);
    weir_monitor_label_counts(r->previous->monitor, &base_joined, &base_wrong);
    weir_guard_verdict_t v;
    switch (weir_guard_check(&r->guard, joined, wrong, base_joined, base_wrong, &v)) {
    case WEIR_GUARD_ROLLBACK:
        roll_back(r, &v, now);
        break;
    case WEIR_GUARD_PASSED:
        weir_log(WEIR_LOG_INFO, "model passed its probation", "version",
                 weir_model_version(r->bundle[ROLE_CHAMPION]->model), NULL);
        weir_guard_dispose(&r->guard);
        break;
    default:
        break;
    }
}

/* The canary takes its share of keys by key hash, so one key always meets
 * the same model; keyless events stay with the champion. */
static role_t lane_of(const run_t *r, const rd_kafka_message_t *m)
{
    if (!r->bundle[ROLE_CANARY] || !m->key || m->key_len == 0)
        return ROLE_CHAMPION;
    uint32_t h = weir_hash_fnv1a(m->key, m->key_len, 0);
    return (double)(h % 10000) < r->cfg->canary_share * 10000.0 ? ROLE_CANARY : ROLE_CHAMPION;
}

/* consume → decode → transform → score → encode → produce → drift, for one batch. */
static int process_batch(run_t *r)
{
    size_t n = 0, events = 0, bytes = 0, lanes[ROLE__COUNT] = {0, 0, 0};
    while (n < r->cfg->batch_max && r->fifo_len > 0 && bytes < WEIR_PIPELINE_BATCH_BYTES) {
        size_t at = r->fifo_head;
        rd_kafka_message_t *m = r->fifo[at];
        r->batch[n] = m;
        r->tokens[n] = r->fifo_tokens[at];
        r->fifo_head = (r->fifo_head + 1) % r->fifo_cap;
        r->fifo_len--;
        if (!take_label(r, n, m)) {
            role_t lane = lane_of(r, m);
            r->lane[events] = (uint8_t)lane;
            r->lane_index[events] = (uint32_t)lanes[lane]++;
            r->event_batch[events] = (uint32_t)n;
            weir_pipeline_item_t *it = item_of(r, events);
            it->value = m->payload;
            it->value_len = m->payload ? m->len : 0;
            it->fallback_time_ms = rd_kafka_message_timestamp(m, NULL);
            it->shadow = NULL;
            if (r->bundle[ROLE_SHADOW])
                r->sitems[events] = *it;
            bytes += it->value_len;
            r->slot[n] = (int32_t)events++;
        }
        n++;
    }
    if (n == 0)
        return 0;
    double t0 = weir_clock_mono_s();
    int64_t now = weir_clock_wall_ms();
    char err[512];
    const weir_bundle_t *champion = r->bundle[ROLE_CHAMPION], *canary = r->bundle[ROLE_CANARY];
    int rc = r->bundle[ROLE_SHADOW] ? shadow_batch(r, events, now, err, sizeof(err)) : 0;
    weir_pipeline_use_writers(champion->pipeline, r->writers);
    if (canary)
        weir_pipeline_use_writers(canary->pipeline, r->writers);
    if (rc == 0)
        rc = weir_pipeline_run(champion->pipeline, champion->model, r->items, lanes[ROLE_CHAMPION],
                               now, err, sizeof(err));
    if (rc == 0 && lanes[ROLE_CANARY] > 0)
        rc = weir_pipeline_run(canary->pipeline, canary->model, r->citems, lanes[ROLE_CANARY], now,
                               err, sizeof(err));
    if (rc != 0) {
        weir_log(WEIR_LOG_ERROR, "batch failed", "error", err, NULL);
        for (size_t i = 0; i < n; i++) {
            rd_kafka_message_destroy(r->batch[i]);
            r->batch[i] = NULL;
        }
        begin_shutdown(r, 1, "batch failed");
        return -1;
    }
    count_batch(r, events);
    if (r->bundle[ROLE_SHADOW])
        compare_shadow(r, events);
    r->batch_n = n;
    r->batch_next = 0;
    produce_batch(r);
    monitor_batch(r, lanes[ROLE_CHAMPION], now);
    judge(r, now);
    weir_metrics_observe_batch(&r->metrics, weir_clock_mono_s() - t0);
    return (int)n;
}

static int fifo_grow(run_t *r, size_t need)
{
    if (r->fifo_len + need <= r->fifo_cap)
        return 0;
    size_t cap = r->fifo_cap ? r->fifo_cap : 1024;
    while (cap < r->fifo_len + need)
        cap *= 2;
    rd_kafka_message_t **msgs = malloc(cap * sizeof(*msgs));
    uint64_t *tokens = malloc(cap * sizeof(*tokens));
    if (!msgs || !tokens) {
        free(msgs);
        free(tokens);
        return WEIR_ENOMEM;
    }
    for (size_t k = 0; k < r->fifo_len; k++) {
        size_t at = (r->fifo_head + k) % r->fifo_cap;
        msgs[k] = r->fifo[at];
        tokens[k] = r->fifo_tokens[at];
    }
    free(r->fifo);
    free(r->fifo_tokens);
    r->fifo = msgs;
    r->fifo_tokens = tokens;
    r->fifo_head = 0;
    r->fifo_cap = cap;
    return 0;
}

static held_partition_t *held_partition(run_t *r, const rd_kafka_message_t *m, size_t *n)
{
    for (size_t i = 0; i < *n; i++)
        if (r->held_parts[i].partition == m->partition && r->held_parts[i].rkt == m->rkt)
            return &r->held_parts[i];
    if (*n == r->held_parts_cap) {
        size_t cap = r->held_parts_cap ? r->held_parts_cap * 2 : 16;
        held_partition_t *parts = realloc(r->held_parts, cap * sizeof(*parts));
        if (!parts)
            return NULL;
        r->held_parts = parts;
        r->held_parts_cap = cap;
    }
    held_partition_t *p = &r->held_parts[(*n)++];
    p->rkt = m->rkt;
    p->partition = m->partition;
    /* take up again with room for a good run, not one message at a time */
    p->open = weir_offsets_partition_room(r->offsets, rd_kafka_topic_name(m->rkt), m->partition) >=
              r->resume_room;
    p->left = 0;
    return p;
}

/* Moves held messages whose partition has room again into the fifo, in
 * order, and resumes a partition once none of its messages is held. */
static void release_held(run_t *r)
{
    size_t kept = 0, n_parts = 0;
    for (size_t k = 0; k < r->held_n; k++) {
        rd_kafka_message_t *m = r->held[k];
        held_partition_t *p = held_partition(r, m, &n_parts);
        uint64_t token;
        int32_t id;
        int schema = p && p->open && awaits_schema(r, m, &id);
        if (schema)
            start_fetch(r, id);
        if (!p || !p->open || schema || fifo_grow(r, 1) != 0 ||
            weir_offsets_begin(r->offsets, rd_kafka_topic_name(m->rkt), m->partition, m->offset,
                               &token) != 0) {
            if (p) {
                p->open = 0; /* the cap again: the rest stays held, in order */
                p->left = 1;
            }
            r->held[kept++] = m;
            continue;
        }
        size_t at = (r->fifo_head + r->fifo_len) % r->fifo_cap;
        r->fifo[at] = m;
        r->fifo_tokens[at] = token;
        r->fifo_len++;
    }
    r->held_n = kept;
    for (size_t i = 0; i < n_parts; i++) {
        const held_partition_t *p = &r->held_parts[i];
        if (!p->left)
            weir_consumer_resume_partition(r->consumer, rd_kafka_topic_name(p->rkt), p->partition);
    }
}

/* Runs batches while there is input and room in the producer queues. Never
 * runs inside itself: a call made while it runs (from a delivery report
 * served meanwhile) only asks it to go round once more. */
static void pump(run_t *r)
{
    if (r->in_pump) {
        r->pump_again = 1;
        return;
    }
    r->in_pump = 1;
    do {
        r->pump_again = 0;
        r->blocked = 0;
        if (r->held_n > 0)
            release_held(r);
        drain_outbox(r);
        if (r->blocked)
            break;
        if (r->batch_next < r->batch_n) {
            produce_batch(r);
            if (r->blocked)
                break;
        }
        try_swap(r); /* the batch before is wholly produced: a new version may come in */
        if (r->fifo_len > 0 && process_batch(r) < 0)
            break;
        if (weir_outbox_count(r->outbox) > 0 || r->fifo_len > 0)
            r->pump_again = 1;
    } while (r->pump_again && !r->blocked && r->exit_code == 0);
    r->in_pump = 0;
    if (weir_outbox_full(r->outbox))
        pause_for_backpressure(r);
    else if (!r->blocked && r->pausing && !r->stopping) {
        r->pausing = 0;
        weir_consumer_resume(r->consumer);
        weir_log(WEIR_LOG_DEBUG, "resumed", NULL);
    }
}

/* ---- writer schemas from the registry -------------------------------- */

#define FETCH_BACKOFF_MIN_MS 100
#define FETCH_BACKOFF_MAX_MS 5000

/* Whether @p m is an input event whose writer schema weir has yet to fetch. */
static int awaits_schema(const run_t *r, const rd_kafka_message_t *m, int32_t *id)
{
    const uint8_t *v = m->payload;
    const char *labels = r->cfg->labels_topic;
    if (!r->registry || !v || m->len < 5 || v[0] != 0 ||
        (*labels && !strcmp(rd_kafka_topic_name(m->rkt), labels)))
        return 0;
    *id = (int32_t)(((uint32_t)v[1] << 24) | ((uint32_t)v[2] << 16) | ((uint32_t)v[3] << 8) |
                    (uint32_t)v[4]);
    return *id != r->cfg->input_schema_id && !weir_writers_known(r->writers, *id);
}

static void fetch_work(uv_work_t *req)
{
    run_t *r = req->data;
    r->fetch_rc = weir_registry_schema_text(r->registry, r->fetch_id, &r->fetch_text, r->fetch_err,
                                            sizeof(r->fetch_err));
}

static void on_fetch_timer(uv_timer_t *t)
{
    run_t *r = t->data;
    r->fetching = 0;
    if (!r->stopping)
        start_fetch(r, r->fetch_id);
}

static void fetch_done(uv_work_t *req, int status)
{
    run_t *r = req->data;
    char id[16], why[512];
    char *text = r->fetch_text;
    r->fetch_text = NULL;
    r->fetching = 0;
    snprintf(id, sizeof(id), "%" PRId32, r->fetch_id);
    if (status != 0 || r->stopping)
        goto out;
    r->registry_fetches++;
    uint64_t requests, hits;
    weir_registry_counts(r->registry, &requests, &r->registry_failovers, &hits);
    if (r->fetch_rc == WEIR_EIO) {
        /* the registry is down or slow: the events wait, none is lost */
        char retry[32];
        r->registry_failures++;
        r->registry_down = 1;
        r->fetch_backoff_ms = r->fetch_backoff_ms ? r->fetch_backoff_ms * 2 : FETCH_BACKOFF_MIN_MS;
        if (r->fetch_backoff_ms > FETCH_BACKOFF_MAX_MS)
            r->fetch_backoff_ms = FETCH_BACKOFF_MAX_MS;
        snprintf(retry, sizeof(retry), "%" PRId64, r->fetch_backoff_ms);
        weir_log(WEIR_LOG_WARN, "schema registry unreachable: partitions paused", "schema_id", id,
                 "retry_ms", retry, "error", r->fetch_err, NULL);
        r->fetching = 1;
        uv_timer_start(&r->fetch_timer, on_fetch_timer, (uint64_t)r->fetch_backoff_ms, 0);
        goto out;
    }
    if (r->registry_down)
        weir_log(WEIR_LOG_INFO, "schema registry reachable again", NULL);
    r->registry_down = 0;
    r->fetch_backoff_ms = 0;
    if (r->fetch_rc == 0) {
        int rc = weir_writers_add(r->writers, r->fetch_id, text, why, sizeof(why));
        if (rc == WEIR_ESCHEMA) {
            r->registry_incompatible++;
            weir_log(WEIR_LOG_WARN, "writer schema cannot be read as input.schema: dead letters",
                     "schema_id", id, "error", why, NULL);
        } else if (rc != 0) {
            begin_shutdown(r, 1, why);
            goto out;
        } else {
            weir_log(WEIR_LOG_INFO, "writer schema resolved", "schema_id", id, NULL);
        }
    } else {
        r->registry_unknown++;
        weir_log(WEIR_LOG_WARN, "schema id unknown to the registry: dead letters", "schema_id", id,
                 "error", r->fetch_err, NULL);
        if (weir_writers_refuse(r->writers, r->fetch_id, WEIR_REASON_UNREGISTERED, r->fetch_err) !=
            0) {
            begin_shutdown(r, 1, "too many writer schema ids");
            goto out;
        }
    }
    pump(r); /* the held events of the id go on, and another fetch may start */
out:
    free(text);
}

/* Fetches the writer schema of @p id on a worker thread, one at a time. */
static void start_fetch(run_t *r, int32_t id)
{
    if (r->fetching || r->stopping)
        return;
    r->fetching = 1;
    r->fetch_id = id;
    r->fetch_req.data = r;
    if (uv_queue_work(&r->loop, &r->fetch_req, fetch_work, fetch_done) != 0) {
        r->fetching = 0;
        begin_shutdown(r, 1, "cannot queue a schema registry request");
    }
}

/* ---- consumer callbacks -------------------------------------------- */

/* Keeps a message its partition has no room for (or whose writer schema is
 * being fetched); pauses that partition. */
static int hold(run_t *r, rd_kafka_message_t *m)
{
    if (r->held_n == r->held_cap) {
        size_t cap = r->held_cap ? r->held_cap * 2 : 256;
        rd_kafka_message_t **held = realloc(r->held, cap * sizeof(*held));
        if (!held)
            return WEIR_ENOMEM;
        r->held = held;
        r->held_cap = cap;
    }
    r->held[r->held_n++] = m;
    const char *topic = rd_kafka_topic_name(m->rkt);
    if (!weir_consumer_partition_paused(r->consumer, topic, m->partition)) {
        int32_t id;
        int schema = awaits_schema(r, m, &id);
        weir_consumer_pause_partition(r->consumer, topic, m->partition);
        if (schema)
            r->registry_pauses++;
        else
            r->metrics.in_flight_cap_pauses++;
        char partition[16];
        snprintf(partition, sizeof(partition), "%" PRId32, m->partition);
        weir_log(WEIR_LOG_DEBUG,
                 schema ? "partition paused: fetching a writer schema"
                        : "partition paused: max.in.flight undelivered events",
                 "topic", topic, "partition", partition, NULL);
    }
    return 0;
}

static void on_messages(void *opaque, rd_kafka_message_t **msgs, size_t n)
{
    run_t *r = opaque;
    if (fifo_grow(r, n) != 0) {
        for (size_t i = 0; i < n; i++)
            rd_kafka_message_destroy(msgs[i]);
        begin_shutdown(r, 1, "out of memory");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        rd_kafka_message_t *m = msgs[i];
        const char *topic = rd_kafka_topic_name(m->rkt);
        uint64_t token;
        int32_t id;
        /* behind a held message of its partition: keep the order; a writer
         * schema to fetch first: wait for it, in order too */
        int rc = r->held_n > 0 && weir_consumer_partition_paused(r->consumer, topic, m->partition)
                     ? WEIR_ELIMIT
                 : awaits_schema(r, m, &id)
                     ? (start_fetch(r, id), WEIR_ELIMIT)
                     : weir_offsets_begin(r->offsets, topic, m->partition, m->offset, &token);
        if (rc == WEIR_ELIMIT) {
            /* Never dropped: the ledger cannot store past it, so it waits. */
            r->metrics.consumed++;
            if (hold(r, m) != 0) {
                rd_kafka_message_destroy(m);
                begin_shutdown(r, 1, "out of memory");
            }
            continue;
        }
        if (rc != 0) {
            /* Not ours any more (revoked inside this very poll) or a replay of
             * an offset already taken: never stored, so the owner re-reads it. */
            rd_kafka_message_destroy(m);
            continue;
        }
        size_t at = (r->fifo_head + r->fifo_len) % r->fifo_cap;
        r->fifo[at] = m;
        r->fifo_tokens[at] = token;
        r->fifo_len++;
        r->metrics.consumed++;
    }
    if (!r->stopping)
        pump(r);
}

static void on_assign(void *opaque, const rd_kafka_topic_partition_list_t *parts)
{
    run_t *r = opaque;
    r->metrics.rebalances++;
    for (int i = 0; i < parts->cnt; i++)
        weir_offsets_assign(r->offsets, parts->elems[i].topic, parts->elems[i].partition);
}

static int in_list(const rd_kafka_topic_partition_list_t *parts, const rd_kafka_message_t *m)
{
    for (int i = 0; i < parts->cnt; i++)
        if (parts->elems[i].partition == m->partition &&
            !strcmp(parts->elems[i].topic, rd_kafka_topic_name(m->rkt)))
            return 1;
    return 0;
}

static void on_revoke(void *opaque, const rd_kafka_topic_partition_list_t *parts, int lost)
{
    run_t *r = opaque;
    r->metrics.rebalances++;
    rebalance_event(r);

    /* Work not yet produced for these partitions is left to their next owner:
     * it was never stored, so it is re-read from the committed offset. */
    size_t kept = 0;
    for (size_t k = 0; k < r->fifo_len; k++) {
        size_t at = (r->fifo_head + k) % r->fifo_cap;
        rd_kafka_message_t *m = r->fifo[at];
        if (in_list(parts, m)) {
            rd_kafka_message_destroy(m);
            r->metrics.revoked_in_flight_dropped++;
            continue;
        }
        size_t to = (r->fifo_head + kept) % r->fifo_cap;
        r->fifo[to] = m;
        r->fifo_tokens[to] = r->fifo_tokens[at];
        kept++;
    }
    r->fifo_len = kept;
    kept = 0;
    for (size_t k = 0; k < r->held_n; k++) {
        if (in_list(parts, r->held[k])) {
            rd_kafka_message_destroy(r->held[k]);
            r->metrics.revoked_in_flight_dropped++;
            continue;
        }
        r->held[kept++] = r->held[k];
    }
    r->held_n = kept;
    for (size_t i = r->batch_next; i < r->batch_n; i++) {
        if (r->batch[i] && in_list(parts, r->batch[i])) {
            rd_kafka_message_destroy(r->batch[i]);
            r->batch[i] = NULL;
            r->metrics.revoked_in_flight_dropped++;
        }
    }

    if (!lost) {
        /* Bounded flush, so what was produced is stored and committed now
         * instead of re-processed by the next owner. */
        r->flushing = 1;
        if (weir_producer_flush(r->producer, REVOKE_FLUSH_MS) != 0 ||
            weir_producer_flush(r->solo, REVOKE_FLUSH_MS) != 0)
            weir_log(WEIR_LOG_WARN, "revoke: flush timed out; the rest will be re-processed", NULL);
        r->flushing = 0;
        store_done(r);
        commit_now(r, 1);
    }
    for (int i = 0; i < parts->cnt; i++)
        weir_offsets_revoke(r->offsets, parts->elems[i].topic, parts->elems[i].partition);
}

static void on_consumer_error(void *opaque, rd_kafka_resp_err_t err, const char *reason, int fatal)
{
    run_t *r = opaque;
    weir_log(fatal ? WEIR_LOG_ERROR : WEIR_LOG_WARN, "consumer error", "error",
             rd_kafka_err2name(err), "detail", reason, NULL);
    if (fatal)
        begin_shutdown(r, 1, "fatal consumer error");
}

/* ---- producer callbacks -------------------------------------------- */

static void on_delivery(void *opaque, weir_producer_t *via, uint64_t token,
                        const rd_kafka_message_t *m)
{
    run_t *r = opaque;
    if (token == TOKEN_UNTRACKED) {
        /* a drift alert: counted and logged, never holding back offsets */
        if (m->err)
            r->alert_errors++;
        else
            r->alerts_produced++;
        return;
    }
    const char *topic = rd_kafka_topic_name(m->rkt);
    if (weir_producer_too_large(m->err)) {
        rd_kafka_headers_t *h = NULL;
        if (rd_kafka_message_headers(m, &h) != RD_KAFKA_RESP_ERR_NO_ERROR)
            h = NULL;
        refused_too_large(r, via, token, topic, m->key, m->key_len, m->payload, m->len, h, 0);
        return;
    }
    if (m->err) {
        r->metrics.delivery_errors++;
        weir_offsets_done(r->offsets, token, 0);
        /* The offset stays uncommitted; stopping lets a restart re-process it. */
        begin_shutdown(r, 1, "delivery failed");
        return;
    }
    if (!strcmp(topic, r->cfg->output_topic))
        r->metrics.produced_scored++;
    else
        r->metrics.produced_dead++;
    weir_offsets_done(r->offsets, token, 1);
}

static void on_delivered_batch(void *opaque)
{
    run_t *r = opaque;
    store_done(r);
    if (!r->flushing && !r->stopping)
        pump(r);
}

/* ---- HTTP ---------------------------------------------------------- */

static void render_lag(run_t *r, weir_prom_t *p)
{
    rd_kafka_t *rk = weir_consumer_handle(r->consumer);
    if (!rk)
        return;
    rd_kafka_topic_partition_list_t *parts = weir_consumer_assignment(r->consumer);
    rd_kafka_position(rk, parts);
    weir_prom_family(p, "weir_consumer_lag", WEIR_PROM_GAUGE,
                     "Messages in the partition after the last one done (delivered), or after "
                     "the fetch position before any is done.");
    for (int i = 0; i < parts->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &parts->elems[i];
        int64_t lo = 0, hi = 0;
        if (rd_kafka_get_watermark_offsets(rk, tp->topic, tp->partition, &lo, &hi) != 0 || hi < 0)
            continue;
        int64_t at = weir_offsets_store_offset(r->offsets, tp->topic, tp->partition);
        if (at < 0)
            at = tp->offset >= 0 ? tp->offset : lo;
        char partition[16];
        snprintf(partition, sizeof(partition), "%" PRId32, tp->partition);
        weir_prom_sample_u64(p, (uint64_t)(hi > at ? hi - at : 0), "topic", tp->topic, "partition",
                             partition, NULL);
    }
    rd_kafka_topic_partition_list_destroy(parts);
}

/* Figures by model version and role, reloads, rollbacks, probation, shadow agreement. */
static void render_rollout(run_t *r, weir_prom_t *p)
{
    weir_prom_family(p, "weir_model_role_info", WEIR_PROM_GAUGE,
                     "Every model version loaded, by role (previous: kept for a rollback).");
    for (role_t role = 0; role < ROLE__COUNT; role++)
        if (r->bundle[role])
            weir_prom_sample(p, 1, "role", role_names[role], "name",
                             weir_model_name(r->bundle[role]->model), "version",
                             weir_model_version(r->bundle[role]->model), NULL);
    if (r->previous)
        weir_prom_sample(p, 1, "role", "previous", "name", weir_model_name(r->previous->model),
                         "version", weir_model_version(r->previous->model), NULL);
    weir_prom_family(p, "weir_model_events_total", WEIR_PROM_COUNTER,
                     "Input events by the model version that took them: scored or dead-lettered.");
    for (size_t i = 0; i < r->n_versions; i++) {
        const version_stats_t *v = &r->versions[i];
        weir_prom_sample_u64(p, v->scored, "model", v->model, "version", v->version, "outcome",
                             "scored", NULL);
        weir_prom_sample_u64(p, v->dead, "model", v->model, "version", v->version, "outcome",
                             "dead_letter", NULL);
    }
    weir_prom_family(p, "weir_model_reloads_total", WEIR_PROM_COUNTER,
                     "New model versions swapped in, or refused (the old one kept serving).");
    for (role_t role = 0; role < ROLE__COUNT; role++) {
        weir_prom_sample_u64(p, r->reloads[role], "role", role_names[role], "outcome", "swapped",
                             NULL);
        weir_prom_sample_u64(p, r->refusals[role], "role", role_names[role], "outcome", "refused",
                             NULL);
    }
    static const char *const reasons[3] = {"dead_letter_share", "score_drift", "label_error_rate"};
    weir_prom_family(p, "weir_model_rollbacks_total", WEIR_PROM_COUNTER,
                     "Automatic rollbacks of a version on probation, by the limit it passed.");
    for (int i = 0; i < 3; i++)
        weir_prom_sample_u64(p, r->rollbacks[i], "reason", reasons[i], NULL);
    weir_prom_family(p, "weir_model_probation", WEIR_PROM_GAUGE,
                     "1 while the champion is on probation.");
    weir_prom_sample(p, r->guard.active ? 1 : 0, NULL);
    weir_prom_family(p, "weir_model_swap_pause_seconds", WEIR_PROM_GAUGE,
                     "How long the loop paused for the last swap of a model version.");
    weir_prom_sample(p, r->last_swap_s, NULL);
    if (!r->bundle[ROLE_SHADOW])
        return;
    weir_prom_family(p, "weir_shadow_decisions_total", WEIR_PROM_COUNTER,
                     "Events both the serving model and the shadow scored, by whether their "
                     "decisions (predicted class) agree; failed: the shadow could not score it.");
    weir_prom_sample_u64(p, r->shadow_agree, "outcome", "agree", NULL);
    weir_prom_sample_u64(p, r->shadow_disagree, "outcome", "disagree", NULL);
    weir_prom_sample_u64(p, r->shadow_failed, "outcome", "failed", NULL);
    weir_prom_family(p, "weir_shadow_score_difference", WEIR_PROM_HISTOGRAM,
                     "Absolute difference between the serving model's score and the shadow's.");
    weir_prom_histogram(p, diff_bounds, r->diff_buckets, DIFF_BUCKETS, r->diff_count, r->diff_sum,
                        NULL);
}

static int score_handler(void *opaque, const weir_http_call_t *call, weir_buf_t *body,
                         const char **type)
{
    run_t *r = opaque;
    if (!strcmp(call->head->path, "/score"))
        return weir_score_handle(&r->score, r->bundle[ROLE_CHAMPION], call, body, type);
    weir_buf_printf(body, "not found; POST to /score (/metrics is on http.listen)\n");
    return 404;
}

static int http_handler(void *opaque, const char *path, weir_buf_t *body, const char **type)
{
    run_t *r = opaque;
    if (!strcmp(path, "/healthz")) {
        weir_buf_printf(body, "ok\n");
        return 200;
    }
    if (!strcmp(path, "/readyz")) {
        size_t assigned = r->consumer ? weir_consumer_assigned_count(r->consumer) : 0;
        const char *why = r->stopping                  ? "stopping"
                          : !r->bundle[ROLE_CHAMPION]  ? "no model"
                          : assigned == 0              ? "no partitions assigned"
                          : r->metrics.delivery_errors ? "producer failing"
                                                       : NULL;
        weir_buf_printf(body, "%s\n", why ? why : "ready");
        return why ? 503 : 200;
    }
    if (!strcmp(path, "/metrics")) {
        weir_prom_t p;
        weir_prom_init(&p, body);
        weir_metrics_render(&r->metrics, &p);
        const weir_model_t *model = r->bundle[ROLE_CHAMPION]->model;
        char features[32];
        snprintf(features, sizeof(features), "%zu", weir_model_feature_count(model));
        weir_prom_family(&p, "weir_model_info", WEIR_PROM_GAUGE, "The model being served.");
        weir_prom_sample(&p, 1, "name", weir_model_name(model), "version",
                         weir_model_version(model), "features", features, NULL);
        render_rollout(r, &p);
        if (r->score_ready)
            weir_score_render(&r->score, &p);
        weir_prom_family(&p, "weir_assigned_partitions", WEIR_PROM_GAUGE,
                         "Partitions assigned to this instance.");
        weir_prom_sample_u64(&p, weir_consumer_assigned_count(r->consumer), NULL);
        weir_prom_family(&p, "weir_in_flight_events", WEIR_PROM_GAUGE,
                         "Events consumed and not yet delivered.");
        weir_prom_sample_u64(&p, weir_offsets_in_flight(r->offsets), NULL);
        if (r->registry) {
            weir_prom_family(&p, "weir_registry_up", WEIR_PROM_GAUGE,
                             "Whether the schema registry answered the last writer schema fetch.");
            weir_prom_sample(&p, r->registry_down ? 0 : 1, NULL);
            weir_prom_family(&p, "weir_registry_fetches_total", WEIR_PROM_COUNTER,
                             "Writer schema fetches answered or failed.");
            weir_prom_sample_u64(&p, r->registry_fetches, NULL);
            weir_prom_family(&p, "weir_registry_failures_total", WEIR_PROM_COUNTER,
                             "Writer schema fetches no registry answered (retried with backoff).");
            weir_prom_sample_u64(&p, r->registry_failures, NULL);
            weir_prom_family(&p, "weir_registry_unknown_ids_total", WEIR_PROM_COUNTER,
                             "Schema ids the registry does not know.");
            weir_prom_sample_u64(&p, r->registry_unknown, NULL);
            weir_prom_family(&p, "weir_registry_incompatible_total", WEIR_PROM_COUNTER,
                             "Writer schemas that cannot be read as input.schema.");
            weir_prom_sample_u64(&p, r->registry_incompatible, NULL);
            weir_prom_family(&p, "weir_registry_pauses_total", WEIR_PROM_COUNTER,
                             "Partitions paused while a writer schema was fetched.");
            weir_prom_sample_u64(&p, r->registry_pauses, NULL);
            weir_prom_family(&p, "weir_registry_waiting", WEIR_PROM_GAUGE,
                             "Whether a writer schema fetch (or its retry) is under way.");
            weir_prom_sample(&p, r->fetching ? 1 : 0, NULL);
            weir_prom_family(&p, "weir_registry_failovers_total", WEIR_PROM_COUNTER,
                             "Registry requests moved on to the next URL.");
            weir_prom_sample_u64(&p, r->registry_failovers, NULL);
        }
        weir_prom_family(&p, "weir_paused", WEIR_PROM_GAUGE,
                         "Whether consumption is paused for backpressure.");
        weir_prom_sample(&p, r->pausing ? 1 : 0, NULL);
        weir_prom_family(&p, "weir_alerts_produced_total", WEIR_PROM_COUNTER,
                         "Drift alert records written.");
        weir_prom_sample_u64(&p, r->alerts_produced, NULL);
        weir_prom_family(&p, "weir_alert_errors_total", WEIR_PROM_COUNTER,
                         "Drift alert records Kafka failed to write.");
        weir_prom_sample_u64(&p, r->alert_errors, NULL);
        weir_http_stats_t hs;
        weir_http_stats(r->http, &hs);
        weir_prom_family(&p, "weir_http_connections", WEIR_PROM_GAUGE,
                         "Connections open on the HTTP endpoint.");
        weir_prom_sample_u64(&p, hs.open, NULL);
        weir_prom_family(&p, "weir_http_connections_limit", WEIR_PROM_GAUGE,
                         "Connections the HTTP endpoint keeps open at most (lowered to leave file "
                         "descriptors to Kafka).");
        weir_prom_sample_u64(&p, hs.max_open, NULL);
        weir_prom_family(&p, "weir_http_connections_refused_total", WEIR_PROM_COUNTER,
                         "Connections answered 503 because the limit was reached.");
        weir_prom_sample_u64(&p, hs.refused, NULL);
        weir_prom_family(&p, "weir_http_timeouts_total", WEIR_PROM_COUNTER,
                         "Connections closed by a timeout, by phase.");
        weir_prom_sample_u64(&p, hs.head_timeouts, "phase", "head", NULL);
        weir_prom_sample_u64(&p, hs.idle_timeouts, "phase", "idle", NULL);
        weir_prom_family(&p, "weir_http_bad_requests_total", WEIR_PROM_COUNTER,
                         "Malformed or refused request heads (4xx/5xx answered by the server).");
        weir_prom_sample_u64(&p, hs.bad_requests, NULL);
        render_lag(r, &p);
        int rc = weir_prom_finish(&p);
        if (rc == 0)
            rc = weir_monitor_render(r->bundle[ROLE_CHAMPION]->monitor, body);
        if (rc != 0) {
            /* never a page cut short: Prometheus would take it for the truth */
            weir_log(WEIR_LOG_ERROR, "metrics page not rendered", "error", weir_strerror(rc), NULL);
            weir_buf_reset(body);
            weir_buf_printf(body, "metrics page not rendered: %s\n", weir_strerror(rc));
            return 500;
        }
        *type = "text/plain; version=0.0.4; charset=utf-8";
        return 200;
    }
    weir_buf_printf(body, "not found; try /metrics, /healthz or /readyz\n");
    return 404;
}

/* ---- lifecycle ----------------------------------------------------- */

static void on_progress(uv_timer_t *t)
{
    run_t *r = t->data;
    uint64_t consumed = r->metrics.consumed;
    if (consumed == r->last_progress_consumed)
        return;
    char c[32], s[32], d[32], rate[32], inflight[32];
    snprintf(c, sizeof(c), "%" PRIu64, consumed);
    snprintf(s, sizeof(s), "%" PRIu64, r->metrics.scored);
    snprintf(d, sizeof(d), "%" PRIu64, weir_metrics_dead_total(&r->metrics));
    snprintf(rate, sizeof(rate), "%.0f",
             (double)(consumed - r->last_progress_consumed) * 1000.0 / PROGRESS_MS);
    snprintf(inflight, sizeof(inflight), "%zu", weir_offsets_in_flight(r->offsets));
    weir_log(WEIR_LOG_INFO, "progress", "consumed", c, "scored", s, "dead_letters", d,
             "events_per_s", rate, "in_flight", inflight, NULL);
    r->last_progress_consumed = consumed;
}

static void on_signal(uv_signal_t *s, int signum)
{
    run_t *r = s->data;
    if (signum == SIGHUP) {
        weir_log(WEIR_LOG_INFO, "SIGHUP: looking for new model versions", NULL);
        for (role_t role = 0; role < ROLE__COUNT; role++)
            if (r->watch[role])
                weir_watch_check(r->watch[role]);
        return;
    }
    begin_shutdown(r, 0, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

static void close_walk(uv_handle_t *h, void *arg)
{
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

/* Stop consuming, finish and deliver what was consumed (bounded), commit,
 * leave the group. Runs once, synchronously: the loop stops afterwards. */
static void begin_shutdown(run_t *r, int exit_code, const char *why)
{
    if (r->stopping) {
        if (exit_code > r->exit_code)
            r->exit_code = exit_code;
        return;
    }
    r->stopping = 1;
    r->exit_code = exit_code;
    weir_log(exit_code ? WEIR_LOG_ERROR : WEIR_LOG_INFO, "shutting down", "reason", why, NULL);
    if (exit_code != 0) {
        /* Failing: stop here; everything not delivered stays uncommitted. */
        uv_stop(&r->loop);
        return;
    }
    weir_consumer_stop_reading(r->consumer);

    /* Deliveries served here may refuse a record as too large, which queues
     * its retry or dead letter in the outbox: go round until all is written. */
    double deadline = weir_clock_mono_s() + (double)r->cfg->shutdown_timeout_ms / 1000.0;
    int settled = 0;
    r->flushing = 1;
    while (!settled && weir_clock_mono_s() < deadline && r->exit_code == 0) {
        pump(r); /* stopping: it never resumes the consumer */
        settled = r->fifo_len == 0 && r->batch_next >= r->batch_n &&
                  weir_outbox_count(r->outbox) == 0 && weir_producer_in_flight(r->producer) == 0 &&
                  weir_producer_in_flight(r->solo) == 0;
        weir_producer_flush(r->producer, 50);
        weir_producer_flush(r->solo, 50);
    }
    if (!settled)
        weir_log(WEIR_LOG_WARN,
                 "shutdown: not every output was delivered in time; those "
                 "events stay uncommitted and will be re-processed",
                 NULL);
    r->flushing = 0;
    store_done(r);
    uv_stop(&r->loop);
}

static void release_input(void *attachment)
{
    rd_kafka_message_destroy(attachment);
}

/* Builds the first version of each configured role and starts watching its path. */
static int start_models(run_t *r, char *err, size_t errsz)
{
    const weir_config_t *cfg = r->cfg;
    const char *paths[ROLE__COUNT] = {cfg->model_path, cfg->shadow_path, cfg->canary_path};
    const char *keys[ROLE__COUNT] = {"model.path", "model.shadow.path", "model.canary.path"};
    int shadow_field = *cfg->shadow_path && !*cfg->shadow_topic;
    int rc;
    if (!(r->schema_json = weir_rollout_read_text(cfg->input_schema_path)))
        return weir_seterr(err, errsz, WEIR_ECONFIG, "input.schema: cannot read %s",
                           cfg->input_schema_path);
    if (!(r->recent = calloc(1, sizeof(*r->recent))))
        return weir_seterr(err, errsz, WEIR_ENOMEM, "out of memory");
    for (role_t role = 0; role < ROLE__COUNT; role++) {
        char file[4096], why[1024];
        if (!*paths[role])
            continue;
        weir_bundle_spec_t spec = {
            .cfg = cfg,
            .input_schema_json = r->schema_json,
            .stream = 1,
            /* the serving roles write one schema on the output topic */
            .with_shadow = role != ROLE_SHADOW && shadow_field,
            .monitor = role == ROLE_CHAMPION,
            .instance = r->instance,
        };
        if ((rc = weir_models_resolve(paths[role], file, sizeof(file), why, sizeof(why))) != 0 ||
            (rc = weir_bundle_build(&spec, file, &r->bundle[role], why, sizeof(why))) != 0)
            return weir_seterr(err, errsz, rc == WEIR_ENOMEM ? rc : WEIR_ECONFIG, "%s: %s",
                               keys[role], why);
        weir_bundle_log_warnings(r->bundle[role]);
        r->roles[role].r = r;
        r->roles[role].role = role;
        if (weir_watch_start(&r->loop, paths[role], &spec, &r->bundle[role]->origin, on_bundle,
                             &r->roles[role], &r->watch[role], why, sizeof(why)) != 0)
            weir_log(WEIR_LOG_WARN, "model path not watched (SIGHUP still reloads)", "key",
                     keys[role], "error", why, NULL);
        if (!r->watch[role])
            return weir_seterr(err, errsz, WEIR_ENOMEM, "out of memory");
    }
    return 0;
}

/* The stop signal that came while weir started, if any (see weir_run()):
 * the start-up connection check polls it. */
static volatile sig_atomic_t early_signal;

static void on_early_signal(int signum)
{
    if (signum != SIGHUP) /* a reload asked for before the first load: nothing to do */
        early_signal = signum;
}

/* The schema ids weir frames with: those of weir.conf, or, with a schema
 * registry, the ones registered for the topics. From here on r->cfg is a copy
 * of the configuration that carries them. */
static int resolve_schema_ids(run_t *r, char *err, size_t errsz)
{
    avro_schema_t input = NULL;
    weir_schema_ids_t ids;
    if (weir_schema_load_file(r->cfg->input_schema_path, &input, err, errsz) != 0)
        return WEIR_ECONFIG;
    int rc = weir_schema_ids_resolve(r->cfg, input, &ids, err, errsz);
    avro_schema_decref(input);
    if (rc != 0)
        return rc;
    r->resolved = *r->cfg;
    r->resolved.input_schema_id = ids.input;
    r->resolved.output_schema_id = ids.output;
    r->resolved.alerts_schema_id = ids.alerts;
    r->resolved.labels_schema_id = ids.labels;
    r->cfg = &r->resolved;
    return 0;
}

static int start(run_t *r, char *err, size_t errsz)
{
    int rc;
    if ((rc = resolve_schema_ids(r, err, errsz)) != 0 || (rc = start_models(r, err, errsz)) != 0)
        return rc;
    /* other writer schemas of the input come from the registry, when there is one */
    if (r->cfg->input_framing == WEIR_FRAMING_CONFLUENT &&
        ((rc = weir_schema_registry_open(r->cfg, &r->registry, err, errsz)) != 0 ||
         (r->registry && (rc = weir_writers_new(r->schema_json, &r->writers, err, errsz)) != 0)))
        return rc;

    size_t n = r->cfg->batch_max;
    r->batch = calloc(n, sizeof(*r->batch));
    r->tokens = calloc(n, sizeof(*r->tokens));
    r->items = calloc(n, sizeof(*r->items));
    r->citems = calloc(n, sizeof(*r->citems));
    r->sitems = calloc(n, sizeof(*r->sitems));
    r->shadow_scores = calloc(n, sizeof(*r->shadow_scores));
    r->shadow_probs = calloc(2 * n, sizeof(*r->shadow_probs));
    r->lane = calloc(n, sizeof(*r->lane));
    r->lane_index = calloc(n, sizeof(*r->lane_index));
    r->event_batch = calloc(n, sizeof(*r->event_batch));
    r->bad_labels = calloc(n, sizeof(*r->bad_labels));
    r->slot = calloc(n, sizeof(*r->slot));
    if (!r->batch || !r->tokens || !r->items || !r->citems || !r->sitems || !r->shadow_scores ||
        !r->shadow_probs || !r->lane || !r->lane_index || !r->event_batch || !r->bad_labels ||
        !r->slot || fifo_grow(r, 2 * n) != 0)
        return weir_seterr(err, errsz, WEIR_ENOMEM, "out of memory");
    if ((rc = weir_offsets_new(r->cfg->max_in_flight, release_input, &r->offsets)) != 0 ||
        (rc = weir_outbox_new(OUTBOX_SOFT_MAX, &r->outbox)) != 0)
        return rc;
    r->resume_room = r->cfg->max_in_flight / 4 ? r->cfg->max_in_flight / 4 : 1;

    /* a refused login or certificate is an error now, not endless retries */
    if ((rc = weir_connect_check(r->cfg, r->cfg->connect_timeout_ms, &early_signal, err, errsz)) !=
        0)
        return rc;
    rd_kafka_conf_t *pconf, *cconf;
    if ((rc = weir_config_kafka(r->cfg, 0, &pconf, err, errsz)) != 0)
        return rc;
    if ((rc = weir_producer_new(&r->loop, pconf, on_delivery, on_delivered_batch, r, &r->producer,
                                err, errsz)) != 0)
        return rc;
    /* The same settings, one record per request: a record refused as too
     * large then fails alone, never with batch mates. */
    if ((rc = weir_config_kafka(r->cfg, 0, &pconf, err, errsz)) != 0)
        return rc;
    if (rd_kafka_conf_set(pconf, "batch.num.messages", "1", err, errsz) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(pconf, "linger.ms", "0", err, errsz) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(pconf);
        return WEIR_ECONFIG;
    }
    if ((rc = weir_producer_new(&r->loop, pconf, on_delivery, on_delivered_batch, r, &r->solo, err,
                                errsz)) != 0)
        return rc;
    r->out_topic = weir_producer_topic(r->producer, r->cfg->output_topic);
    r->dlq_topic = weir_producer_topic(r->producer, r->cfg->dlq_topic);
    if (*r->cfg->alerts_topic)
        r->alert_topic = weir_producer_topic(r->producer, r->cfg->alerts_topic);
    if (*r->cfg->shadow_topic)
        r->shadow_topic = weir_producer_topic(r->producer, r->cfg->shadow_topic);
    if (!r->out_topic || !r->dlq_topic || (*r->cfg->alerts_topic && !r->alert_topic) ||
        (*r->cfg->shadow_topic && !r->shadow_topic))
        return weir_seterr(err, errsz, WEIR_EKAFKA, "cannot create topic handles");

    if (*r->cfg->http_listen && (rc = weir_http_start(&r->loop, r->cfg->http_listen, http_handler,
                                                      r, &r->http, err, errsz)) != 0)
        return rc;
    if (*r->cfg->score_listen) {
        weir_http_limits_t limits;
        weir_score_limits(r->cfg, &limits);
        if ((rc = weir_score_init(&r->score, r->cfg, err, errsz)) != 0)
            return rc;
        r->score_ready = 1;
        if ((rc = weir_http_serve(&r->loop, r->cfg->score_listen, &limits, score_handler, r,
                                  &r->score_http, err, errsz)) != 0)
            return rc;
    }

    if ((rc = weir_config_kafka(r->cfg, 1, &cconf, err, errsz)) != 0)
        return rc;
    const char *topics[WEIR_CONFIG_MAX_TOPICS + 2];
    size_t nt = 0;
    for (; nt < r->cfg->input_topic_count; nt++)
        topics[nt] = r->cfg->input_topics[nt];
    if (*r->cfg->labels_topic)
        topics[nt++] = r->cfg->labels_topic;
    topics[nt] = NULL;
    weir_consumer_callbacks_t cb = {on_messages, on_assign, on_revoke, on_consumer_error,
                                    on_commit_failed};
    if ((rc = weir_consumer_new(&r->loop, cconf, topics, r->cfg->batch_max, &cb, r, &r->consumer,
                                err, errsz)) != 0)
        return rc;

    char heartbeat[32] = "3000";
    size_t hb_len = sizeof(heartbeat);
    rd_kafka_conf_get(rd_kafka_conf(weir_consumer_handle(r->consumer)), "heartbeat.interval.ms",
                      heartbeat, &hb_len);
    r->settle_ms = 2 * atoll(heartbeat) + 1000;

    uv_signal_init(&r->loop, &r->sigterm);
    uv_signal_init(&r->loop, &r->sigint);
    uv_signal_init(&r->loop, &r->sighup);
    r->sigterm.data = r->sigint.data = r->sighup.data = r;
    uv_signal_start(&r->sigterm, on_signal, SIGTERM);
    uv_signal_start(&r->sigint, on_signal, SIGINT);
    uv_signal_start(&r->sighup, on_signal, SIGHUP);
    uv_timer_init(&r->loop, &r->commit_timer);
    r->commit_timer.data = r;
    uv_timer_start(&r->commit_timer, on_commit_timer, (uint64_t)r->cfg->commit_interval_ms,
                   (uint64_t)r->cfg->commit_interval_ms);
    uv_timer_init(&r->loop, &r->fetch_timer);
    r->fetch_timer.data = r;
    uv_timer_init(&r->loop, &r->progress_timer);
    r->progress_timer.data = r;
    uv_timer_start(&r->progress_timer, on_progress, PROGRESS_MS, PROGRESS_MS);
    return 0;
}

static void stop(run_t *r)
{
    if (r->consumer) {
        /* Whatever is done is committed, also on a failure: it was delivered. */
        store_done(r);
        commit_now(r, 1);
        /* close serves a last revoke (flush + commit) through on_revoke */
        r->stopping = 1;
        if (weir_consumer_close(r->consumer, (int)r->cfg->shutdown_timeout_ms) == WEIR_ETIMEDOUT) {
            /* The librdkafka 2.0.2 guards left the consumer to process exit:
             * what was done is committed, so leave now, touching nothing. */
            char code[8];
            snprintf(code, sizeof(code), "%d", r->exit_code);
            weir_log(r->exit_code ? WEIR_LOG_ERROR : WEIR_LOG_INFO, "stopped", "exit_code", code,
                     NULL);
            fflush(NULL);
            _exit(r->exit_code);
        }
    }
    for (size_t i = r->batch_next; i < r->batch_n; i++)
        if (r->batch[i])
            rd_kafka_message_destroy(r->batch[i]);
    for (size_t k = 0; k < r->fifo_len; k++)
        rd_kafka_message_destroy(r->fifo[(r->fifo_head + k) % r->fifo_cap]);
    r->fifo_len = 0;
    for (size_t k = 0; k < r->held_n; k++)
        rd_kafka_message_destroy(r->held[k]);
    r->held_n = 0;
    if (r->producer) {
        weir_producer_flush(r->producer, r->exit_code == 0 ? 5000 : 0);
        weir_producer_close(r->producer);
    }
    if (r->solo) {
        weir_producer_flush(r->solo, r->exit_code == 0 ? 5000 : 0);
        weir_producer_close(r->solo);
    }
    weir_http_stop(r->http);
    weir_http_stop(r->score_http);
    for (role_t role = 0; role < ROLE__COUNT; role++)
        weir_watch_stop(r->watch[role]);
    uv_walk(&r->loop, close_walk, NULL);
    uv_run(&r->loop, UV_RUN_DEFAULT);
    weir_consumer_destroy(r->consumer);
    weir_producer_destroy(r->producer);
    weir_producer_destroy(r->solo);
    /* after the producers: their purged reports may still look attachments up */
    weir_offsets_destroy(r->offsets);
    weir_outbox_destroy(r->outbox);
    for (role_t role = 0; role < ROLE__COUNT; role++) {
        weir_bundle_destroy(r->bundle[role]);
        weir_bundle_destroy(r->pending[role]);
    }
    weir_bundle_destroy(r->previous);
    weir_guard_dispose(&r->guard);
    weir_writers_destroy(r->writers);
    weir_registry_destroy(r->registry);
    if (r->score_ready)
        weir_score_dispose(&r->score);
    free(r->schema_json);
    free(r->recent);
    free(r->batch);
    free(r->tokens);
    free(r->items);
    free(r->citems);
    free(r->sitems);
    free(r->shadow_scores);
    free(r->shadow_probs);
    free(r->lane);
    free(r->lane_index);
    free(r->event_batch);
    free(r->bad_labels);
    free(r->slot);
    free(r->fifo);
    free(r->fifo_tokens);
    free(r->held);
    free(r->held_parts);
    uv_loop_close(&r->loop);
}

int weir_run(const weir_config_t *cfg)
{
    run_t r;
    memset(&r, 0, sizeof(r));
    r.cfg = cfg;
    r.metrics.start_time_ms = weir_clock_wall_ms();
    if (*cfg->instance_id) {
        snprintf(r.instance, sizeof(r.instance), "%s", cfg->instance_id);
    } else {
        char host[200] = "weir";
        gethostname(host, sizeof(host) - 1);
        snprintf(r.instance, sizeof(r.instance), "%s-%d", host, (int)getpid());
    }
    weir_log_set_level(cfg->log_level);
    if (*cfg->score_token)
        weir_log_add_secret(cfg->score_token);
    /* A SIGTERM or SIGINT that comes while weir starts is kept until the
     * loop's handlers take over, and then stops weir cleanly. (Holding the
     * signals would not do: threads started before main, OpenBLAS's, take
     * what the main thread holds.) */
    struct sigaction early = {.sa_handler = on_early_signal};
    sigemptyset(&early.sa_mask);
    sigaction(SIGTERM, &early, NULL);
    sigaction(SIGINT, &early, NULL);
    sigaction(SIGHUP, &early, NULL);
    openblas_set_num_threads(1); /* the loop owns the core; scale is by partitions */
    uv_loop_init(&r.loop);

    char err[1024] = "";
    int rc = weir_config_check_run(cfg, err, sizeof(err));
    if (rc == 0)
        rc = start(&r, err, sizeof(err));
    if (rc == WEIR_ESTOPPED) {
        /* SIGTERM while waiting for the cluster at start: nothing to commit */
        weir_log(WEIR_LOG_INFO, "stopped before the cluster answered", NULL);
        r.stopping = 1;
        stop(&r);
        return 0;
    }
    if (rc != 0) {
        fprintf(stderr, "weir run: %s\n", err);
        r.exit_code = rc == WEIR_ECONFIG ? 2 : 1;
        r.stopping = 1;
        stop(&r);
        return rc == WEIR_ECONFIG ? 2 : 1;
    }
    char topics[512] = "";
    for (size_t i = 0; i < cfg->input_topic_count; i++)
        snprintf(topics + strlen(topics), sizeof(topics) - strlen(topics), "%s%s", i ? "," : "",
                 cfg->input_topics[i]);
    const weir_model_t *model = r.bundle[ROLE_CHAMPION]->model;
    weir_log(WEIR_LOG_INFO, "started", "model", weir_model_name(model), "version",
             weir_model_version(model), "topics", topics, "output", cfg->output_topic, "dlq",
             cfg->dlq_topic, "http", *cfg->http_listen ? cfg->http_listen : "off", "shadow",
             r.bundle[ROLE_SHADOW] ? weir_model_version(r.bundle[ROLE_SHADOW]->model) : "off",
             "canary",
             r.bundle[ROLE_CANARY] ? weir_model_version(r.bundle[ROLE_CANARY]->model) : "off",
             "score", *cfg->score_listen ? cfg->score_listen : "off", NULL);
    if (early_signal) /* before the loop's handlers were in place */
        begin_shutdown(&r, 0, early_signal == SIGTERM ? "SIGTERM" : "SIGINT");

    uv_run(&r.loop, UV_RUN_DEFAULT);
    stop(&r);
    char code[8];
    snprintf(code, sizeof(code), "%d", r.exit_code);
    weir_log(r.exit_code ? WEIR_LOG_ERROR : WEIR_LOG_INFO, "stopped", "exit_code", code, NULL);
    return r.exit_code;
}
