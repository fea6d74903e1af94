/*
 * pipeline_bench.c — how fast one core turns Kafka values into ScoredEvents:
 * weir_pipeline_run() (decode → transform → one dgemm → encode) at batch
 * sizes 1, 64, 512 and 4096, weir_model_predict() alone at the same sizes,
 * and each stage timed on its own. Numbers, not a test: nothing here
 * asserts a speed.
 *
 * Input: an Avro container file of Transactions (`weir gen --out file:F`),
 * framed in memory as Kafka values (magic byte + schema id), so decoding
 * includes the framing check exactly as in `weir run`. OpenBLAS runs on one
 * thread, as inside weir.
 *
 *   build-release/weir gen --out file:/tmp/bench-events.avro --count 100000 --seed 7 -q
 *   build-release/pipeline_bench /tmp/bench-events.avro [examples/model.json] [seconds]
 *
 * Build: cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release &&
 *        ninja -C build-release pipeline_bench
 *
 * It also counts heap allocations per event in steady state (after a warm-up
 * pass): this program defines malloc, calloc, realloc and free itself, over
 * glibc's __libc_* functions, so every allocation of the process — avro-c's
 * and OpenBLAS's included, which -Wl,--wrap would miss in shared libraries —
 * goes through a counter. Not in a sanitizer build, whose allocator must not
 * be replaced. The batch-512 pipeline runs both with the compiled decoding
 * plan (the default) and through avro-c values and field lookups.
 */
#include <cblas.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "schemas.h"
#include "scoring.h"

#define MAX_EVENTS 1000000

#if defined(__SANITIZE_ADDRESS__)
#define COUNTS_ALLOCATIONS 0
#else
#define COUNTS_ALLOCATIONS 1
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void __libc_free(void *p);

static size_t allocations;

void *malloc(size_t size)
{
    __atomic_add_fetch(&allocations, 1, __ATOMIC_RELAXED);
    return __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
    __atomic_add_fetch(&allocations, 1, __ATOMIC_RELAXED);
    return __libc_calloc(n, size);
}

void *realloc(void *p, size_t size)
{
    __atomic_add_fetch(&allocations, 1, __ATOMIC_RELAXED);
    return __libc_realloc(p, size);
}

void free(void *p)
{
    __libc_free(p);
}
#endif

static double now_s(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct {
    weir_buf_t values; /* framed Kafka values, back to back */
    size_t *offsets;   /* n + 1 */
    size_t n;
} events_t;

static int load_events(const char *path, events_t *ev)
{
    char err[512];
    weir_container_reader_t *r = NULL;
    if (weir_container_reader_open(path, &r, err, sizeof(err)) != 0) {
        fprintf(stderr, "pipeline_bench: %s\n", err);
        return -1;
    }
    weir_buf_init(&ev->values, (size_t)1 << 30);
    ev->offsets = malloc((MAX_EVENTS + 1) * sizeof(size_t));
    ev->n = 0;
    for (;;) {
        avro_value_t *value;
        const uint8_t *body;
        size_t len, skipped;
        weir_reason_t reason;
        char detail[256];
        int got = weir_container_reader_next(r, &value, &body, &len, &skipped, &reason, detail,
                                             sizeof(detail));
        if (got == 0 || ev->n == MAX_EVENTS)
            break;
        if (got != 1) {
            fprintf(stderr, "pipeline_bench: %s: %s\n", path, detail);
            weir_container_reader_close(r);
            return -1;
        }
        ev->offsets[ev->n++] = ev->values.len;
        if (weir_framing_write(&ev->values, WEIR_FRAMING_CONFLUENT, 1) != 0 ||
            weir_buf_append(&ev->values, body, len) != 0) {
            fprintf(stderr, "pipeline_bench: out of memory\n");
            weir_container_reader_close(r);
            return -1;
        }
    }
    ev->offsets[ev->n] = ev->values.len;
    weir_container_reader_close(r);
    return ev->n > 0 ? 0 : -1;
}

/* Scores every event once in batches of @p batch; returns the events scored. */
static size_t one_pass(weir_pipeline_t *p, const weir_model_t *m, const events_t *ev,
                       weir_pipeline_item_t *items, size_t batch)
{
    char err[512];
    size_t scored = 0;
    for (size_t start = 0; start < ev->n; start += batch) {
        size_t k = ev->n - start < batch ? ev->n - start : batch;
        for (size_t i = 0; i < k; i++) {
            items[i].value = ev->values.data + ev->offsets[start + i];
            items[i].value_len = ev->offsets[start + i + 1] - ev->offsets[start + i];
            items[i].fallback_time_ms = 0;
        }
        if (weir_pipeline_run(p, m, items, k, 1767225600000, err, sizeof(err)) != 0) {
            fprintf(stderr, "pipeline_bench: %s\n", err);
            exit(1);
        }
        for (size_t i = 0; i < k; i++)
            scored += (size_t)items[i].scored;
    }
    return scored;
}

static int avro_values; /* new pipelines read through avro-c values */

static weir_pipeline_t *new_pipeline(avro_schema_t schema, const weir_model_t *m, size_t batch)
{
    char err[512];
    weir_pipeline_config_t cfg = {
        .input_schema = schema,
        .input_framing = WEIR_FRAMING_CONFLUENT,
        .input_schema_id = 1,
        .id_field = "event_id",
        .time_field = "event_time",
        .output_framing = WEIR_FRAMING_CONFLUENT,
        .output_schema_id = 2,
        .batch_max = batch,
        .avro_values = avro_values,
    };
    weir_pipeline_t *p = NULL;
    if (weir_pipeline_new(&cfg, &p, err, sizeof(err)) != 0 ||
        weir_pipeline_bind(p, m, err, sizeof(err)) != 0) {
        fprintf(stderr, "pipeline_bench: %s\n", err);
        exit(1);
    }
    return p;
}

typedef struct {
    double wall, cpu;
    size_t events;
} timing_t;

/* Heap allocations per event of the whole pipeline at @p batch in steady
 * state: after one pass, over two more; -1 where they cannot be counted. */
static double allocations_per_event(avro_schema_t schema, const weir_model_t *m, const events_t *ev,
                                    size_t batch)
{
    double per_event = -1;
#if COUNTS_ALLOCATIONS
    weir_pipeline_t *p = new_pipeline(schema, m, batch);
    weir_pipeline_item_t *items = calloc(batch, sizeof(*items));
    one_pass(p, m, ev, items, batch);
    size_t before = __atomic_load_n(&allocations, __ATOMIC_RELAXED);
    size_t events = one_pass(p, m, ev, items, batch) + one_pass(p, m, ev, items, batch);
    size_t after = __atomic_load_n(&allocations, __ATOMIC_RELAXED);
    per_event = (double)(after - before) / (double)events;
    free(items);
    weir_pipeline_destroy(p);
#else
    (void)schema, (void)m, (void)ev, (void)batch;
#endif
    return per_event;
}

static void bench_pipeline(avro_schema_t schema, const weir_model_t *m, const events_t *ev,
                           size_t batch, double seconds, timing_t *t)
{
    weir_pipeline_t *p = new_pipeline(schema, m, batch);
    weir_pipeline_item_t *items = calloc(batch, sizeof(*items));
    if (one_pass(p, m, ev, items, batch) != ev->n) { /* warm-up; every event must score */
        fprintf(stderr, "pipeline_bench: some events did not score\n");
        exit(1);
    }
    double w0 = now_s(CLOCK_MONOTONIC), c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
    t->events = 0;
    do
        t->events += one_pass(p, m, ev, items, batch);
    while (now_s(CLOCK_MONOTONIC) - w0 < seconds);
    t->wall = now_s(CLOCK_MONOTONIC) - w0;
    t->cpu = now_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    free(items);
    weir_pipeline_destroy(p);
}

/* The transformed rows of every event (through the pipeline, once). */
static double *all_rows(avro_schema_t schema, const weir_model_t *m, const events_t *ev)
{
    size_t cols = weir_model_columns(m), batch = 4096;
    double *x = malloc(ev->n * cols * sizeof(double));
    weir_pipeline_t *p = new_pipeline(schema, m, batch);
    weir_pipeline_item_t *items = calloc(batch, sizeof(*items));
    char err[512];
    for (size_t start = 0; start < ev->n; start += batch) {
        size_t k = ev->n - start < batch ? ev->n - start : batch;
        for (size_t i = 0; i < k; i++) {
            items[i].value = ev->values.data + ev->offsets[start + i];
            items[i].value_len = ev->offsets[start + i + 1] - ev->offsets[start + i];
        }
        weir_pipeline_run(p, m, items, k, 0, err, sizeof(err));
        memcpy(x + start * cols, weir_pipeline_matrix(p), k * cols * sizeof(double));
    }
    free(items);
    weir_pipeline_destroy(p);
    return x;
}

static void bench_predict(const weir_model_t *m, const double *x, size_t n, size_t batch,
                          double seconds, timing_t *t)
{
    size_t cols = weir_model_columns(m), outs = weir_model_outputs(m);
    double *ws = malloc((weir_model_workspace_size(m, batch) + 1) * sizeof(double));
    float *out = malloc(batch * outs * sizeof(float));
    n -= n % batch; /* whole batches only */
    double w0 = now_s(CLOCK_MONOTONIC), c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
    t->events = 0;
    do {
        for (size_t start = 0; start < n; start += batch)
            weir_model_predict(m, x + start * cols, batch, ws, out);
        t->events += n;
    } while (now_s(CLOCK_MONOTONIC) - w0 < seconds);
    t->wall = now_s(CLOCK_MONOTONIC) - w0;
    t->cpu = now_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    free(ws);
    free(out);
}

/* Where the time of batch 512 goes: decode alone, decode + fields +
 * transform, then the whole pipeline (the rest is dgemm + encode). */
static void stages(avro_schema_t schema, const weir_model_t *m, const events_t *ev, double seconds)
{
    char err[512];
    weir_decoder_t *d = NULL;
    weir_decoder_new(WEIR_FRAMING_CONFLUENT, &d);
    weir_decoder_add_schema(d, 1, schema, err, sizeof(err));
    size_t nf = weir_model_feature_count(m), cols = weir_model_columns(m);
    weir_field_t *fields = calloc(nf, sizeof(*fields));
    for (size_t f = 0; f < nf; f++)
        weir_field_resolve(schema, weir_model_feature(m, f)->source, &fields[f], err, sizeof(err));
    weir_value_t *values = calloc(nf, sizeof(*values));
    double *row = malloc(cols * sizeof(double));

    double t0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
    size_t decoded = 0;
    do {
        for (size_t i = 0; i < ev->n; i++) {
            weir_decoded_t out;
            weir_reason_t reason;
            char detail[256];
            decoded += weir_decoder_decode(d, ev->values.data + ev->offsets[i],
                                           ev->offsets[i + 1] - ev->offsets[i], &out, &reason,
                                           detail, sizeof(detail)) == 0;
        }
    } while (now_s(CLOCK_PROCESS_CPUTIME_ID) - t0 < seconds);
    double decode_ns = (now_s(CLOCK_PROCESS_CPUTIME_ID) - t0) * 1e9 / (double)decoded;

    /* the same events through the decoding plan: framing, bounds and the
     * model's fields in one walk */
    weir_field_value_t *planned = calloc(nf + 2, sizeof(*planned));
    weir_field_t *wanted = calloc(nf + 2, sizeof(*wanted));
    weir_field_resolve(schema, "event_id", &wanted[0], err, sizeof(err));
    weir_field_resolve(schema, "event_time", &wanted[1], err, sizeof(err));
    memcpy(wanted + 2, fields, nf * sizeof(*fields));
    double plan_ns = -1;
    if (weir_decoder_plan_fields(d, schema, wanted, nf + 2, err, sizeof(err)) == 0) {
        t0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
        size_t read = 0;
        do {
            for (size_t i = 0; i < ev->n; i++) {
                weir_decoded_t out;
                weir_reason_t reason;
                char detail[256];
                read += weir_decoder_read_fields(d, ev->values.data + ev->offsets[i],
                                                 ev->offsets[i + 1] - ev->offsets[i], &out, planned,
                                                 &reason, detail, sizeof(detail)) == 0;
            }
        } while (now_s(CLOCK_PROCESS_CPUTIME_ID) - t0 < seconds);
        plan_ns = (now_s(CLOCK_PROCESS_CPUTIME_ID) - t0) * 1e9 / (double)read;
    }
    free(planned);
    free(wanted);

    t0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
    size_t transformed = 0;
    do {
        for (size_t i = 0; i < ev->n; i++) {
            weir_decoded_t out;
            weir_reason_t reason;
            char detail[256];
            size_t bad;
            if (weir_decoder_decode(d, ev->values.data + ev->offsets[i],
                                    ev->offsets[i + 1] - ev->offsets[i], &out, &reason, detail,
                                    sizeof(detail)) != 0)
                continue;
            for (size_t f = 0; f < nf; f++)
                weir_field_get(&fields[f], out.value, &values[f]);
            transformed += weir_transform_row(m, values, row, &bad) == 0;
        }
    } while (now_s(CLOCK_PROCESS_CPUTIME_ID) - t0 < seconds);
    double transform_ns = (now_s(CLOCK_PROCESS_CPUTIME_ID) - t0) * 1e9 / (double)transformed;

    timing_t whole, predict;
    bench_pipeline(schema, m, ev, 512, seconds, &whole);
    double *x = all_rows(schema, m, ev);
    bench_predict(m, x, ev->n, 512, seconds, &predict);
    free(x);
    double whole_ns = whole.cpu * 1e9 / (double)whole.events;
    double predict_ns = predict.cpu * 1e9 / (double)predict.events;
    /* Each stage is timed on its own: the stand-alone transform loop reads
     * one row at a time, so differences between these lines are no stage's
     * cost (they can even be negative) and are not printed. */
    printf("\nthe stages timed on their own (CPU ns/event, the avro-c path unless said):\n");
    printf("  decode (framing, bounded check, avro-c read)              %7.0f\n", decode_ns);
    printf("  the decoding plan instead (decode + every field read)     %7.0f\n", plan_ns);
    printf("  decode + field access + transforms, one row at a time     %7.0f\n", transform_ns);
    printf("  dgemm (weir_model_predict, batch 512)                     %7.0f\n", predict_ns);
    printf("  whole pipeline, batch 512 (weir_pipeline_run)             %7.0f\n", whole_ns);
    free(row);
    free(values);
    free(fields);
    weir_decoder_destroy(d);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 4) {
        fprintf(stderr, "usage: pipeline_bench EVENTS.avro [MODEL.json] [SECONDS]\n");
        return 2;
    }
    const char *model_path = argc > 2 ? argv[2] : WEIR_SOURCE_DIR "/examples/model.json";
    double seconds = argc > 3 ? atof(argv[3]) : 2.0;
    openblas_set_num_threads(1);
    char err[1024];
    weir_model_t *m = NULL;
    if (weir_model_load(model_path, &m, err, sizeof(err)) != 0) {
        fprintf(stderr, "pipeline_bench: %s\n", err);
        return 2;
    }
    events_t ev;
    if (load_events(argv[1], &ev) != 0)
        return 2;
    avro_schema_t schema = NULL;
    if (weir_schema_parse(weir_schema_text("transaction"), &schema, err, sizeof(err)) != 0) {
        fprintf(stderr, "pipeline_bench: %s\n", err);
        return 1;
    }
    printf("model %s %s: %zu features, %zu columns; %zu events (%.0f bytes each "
           "on average), "
           "1 OpenBLAS thread, %.1f s per row\n\n",
           weir_model_name(m), weir_model_version(m), weir_model_feature_count(m),
           weir_model_columns(m), ev.n, (double)ev.values.len / (double)ev.n, seconds);
    static const size_t batches[] = {1, 64, 512, 4096};
    printf("weir_pipeline_run (decode + transform + dgemm + encode)\n");
    printf("  %6s %12s %10s %10s\n", "batch", "events/s", "ns/event", "cpu/wall");
    for (size_t b = 0; b < 4; b++) {
        timing_t t;
        bench_pipeline(schema, m, &ev, batches[b], seconds, &t);
        printf("  %6zu %12.0f %10.0f %10.2f\n", batches[b], (double)t.events / t.wall,
               t.wall * 1e9 / (double)t.events, t.cpu / t.wall);
    }
    double *x = all_rows(schema, m, &ev);
    printf("\nweir_model_predict alone (rows already transformed)\n");
    printf("  %6s %12s %10s\n", "batch", "rows/s", "ns/row");
    for (size_t b = 0; b < 4; b++) {
        timing_t t;
        bench_predict(m, x, ev.n, batches[b], seconds, &t);
        printf("  %6zu %12.0f %10.1f\n", batches[b], (double)t.events / t.wall,
               t.wall * 1e9 / (double)t.events);
    }
    free(x);
    printf("\nthe decoding plan against avro-c values + field lookups, batch 512\n");
    printf("  %-28s %14s %14s\n", "", "CPU ns/event", "allocs/event");
    for (int generic = 0; generic < 2; generic++) {
        timing_t t;
        avro_values = generic;
        bench_pipeline(schema, m, &ev, 512, seconds, &t);
        double allocs = allocations_per_event(schema, m, &ev, 512);
        char counted[32] = "n/a (sanitizer)";
        if (allocs >= 0)
            snprintf(counted, sizeof(counted), "%.3f", allocs);
        printf("  %-28s %14.0f %14s\n",
               generic ? "avro-c values (the old path)" : "decoding plan (default)",
               t.cpu * 1e9 / (double)t.events, counted);
    }
    avro_values = 1; /* the breakdown separates decode from field access: avro-c values */
    stages(schema, m, &ev, seconds);
    avro_schema_decref(schema);
    weir_buf_dispose(&ev.values);
    free(ev.offsets);
    weir_model_destroy(m);
    return 0;
}
