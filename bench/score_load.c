/*
 * score_load.c — an open-loop load generator for POST /score on loopback.
 *
 *   score_load --port P --rate R --seconds S --body FILE [--content-type T] [--host H]
 *              [--drain S]
 *
 * Sends R requests per second for S seconds, each on a new connection with
 * `Connection: close` (one request per connection, as weir's endpoint
 * serves), whatever the server's pace: a request is due at start + i/R and
 * its latency counts from then, not from when it could be sent, so a server
 * that falls behind pays for its queue (no coordinated omission). Prints
 * p50, p90, p99, p99.9 and the maximum in microseconds, the throughput
 * achieved, and the errors (non-200 answers by status, failed connections).
 * Requests still unanswered --drain seconds (10) after the last was sent are
 * counted as unanswered, with the time they had waited as their latency (a
 * lower bound): a server whose accept queue overflowed can leave a connection
 * waiting for minutes on TCP retransmissions. Bodies are the lines of FILE,
 * taken in turn. Loopback only: the host must be 127.0.0.1 or ::1.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define MAX_BODIES 100000

typedef struct {
    uv_tcp_t tcp;
    uint64_t n; /* its request number */
    uv_connect_t connect;
    uv_write_t write;
    uint64_t due_ns;
    char *request;
    size_t request_len;
    char head[16];
    size_t head_len;
    int status;
} call_t;

static struct {
    uv_loop_t *loop;
    struct sockaddr_storage addr;
    double rate;
    uint64_t start_ns, total, sent, done, errors, non_200, unanswered;
    uint64_t by_status[600];
    uint64_t *latency_us;
    call_t **calls; /* by request number; NULL once finished */
    char **bodies;
    size_t *body_lens;
    size_t n_bodies;
    const char *content_type;
    uv_timer_t tick, drain;
    double drain_s;
} g;

static void on_closed(uv_handle_t *h)
{
    call_t *c = h->data;
    free(c->request);
    free(c);
}

static void finish(call_t *c, int ok)
{
    uint64_t now = uv_hrtime();
    if (!ok) {
        g.errors++;
    } else if (c->status != 200) {
        g.non_200++;
        g.by_status[c->status > 0 && c->status < 600 ? c->status : 0]++;
    }
    g.calls[c->n] = NULL;
    g.latency_us[g.done++] = (now - c->due_ns) / 1000;
    uv_close((uv_handle_t *)&c->tcp, on_closed);
    if (g.done == g.total)
        uv_stop(g.loop);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    static char scratch[65536];
    *buf = uv_buf_init(scratch, sizeof(scratch));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    call_t *c = s->data;
    if (n > 0) {
        /* keep the first bytes: "HTTP/1.1 200" */
        size_t take = (size_t)n < sizeof(c->head) - 1 - c->head_len
                          ? (size_t)n
                          : sizeof(c->head) - 1 - c->head_len;
        memcpy(c->head + c->head_len, buf->base, take);
        c->head_len += take;
        return;
    }
    if (n == 0)
        return;
    uv_read_stop(s);
    c->head[c->head_len] = '\0';
    if (c->head_len >= 12)
        c->status = atoi(c->head + 9);
    finish(c, n == UV_EOF && c->head_len >= 12);
}

static void on_written(uv_write_t *w, int status)
{
    call_t *c = w->data;
    if (status < 0)
        finish(c, 0);
}

static void on_connect(uv_connect_t *req, int status)
{
    call_t *c = req->data;
    if (status < 0) {
        finish(c, 0);
        return;
    }
    uv_buf_t buf = uv_buf_init(c->request, (unsigned)c->request_len);
    c->write.data = c;
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (uv_write(&c->write, (uv_stream_t *)&c->tcp, &buf, 1, on_written) != 0)
        finish(c, 0);
}

static void send_one(uint64_t due)
{
    call_t *c = calloc(1, sizeof(*c));
    size_t i = g.sent % g.n_bodies;
    c->due_ns = due;
    c->n = g.sent;
    g.calls[c->n] = c;
    c->request = malloc(512 + g.body_lens[i]);
    int n = snprintf(c->request, 512,
                     "POST /score HTTP/1.1\r\nHost: localhost\r\nContent-Type: %s\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                     g.content_type, g.body_lens[i]);
    memcpy(c->request + n, g.bodies[i], g.body_lens[i]);
    c->request_len = (size_t)n + g.body_lens[i];
    uv_tcp_init(g.loop, &c->tcp);
    uv_tcp_nodelay(&c->tcp, 1);
    c->tcp.data = c;
    c->connect.data = c;
    g.sent++;
    if (uv_tcp_connect(&c->connect, &c->tcp, (struct sockaddr *)&g.addr, on_connect) != 0)
        finish(c, 0);
}

/* The last request was sent --drain seconds ago: what is still out is unanswered. */
static void on_drain(uv_timer_t *t)
{
    uint64_t now = uv_hrtime();
    for (uint64_t i = 0; i < g.total; i++)
        if (g.calls[i]) {
            g.unanswered++;
            g.latency_us[g.done++] = (now - g.calls[i]->due_ns) / 1000;
        }
    uv_stop(g.loop);
}

static void on_tick(uv_timer_t *t)
{
    uint64_t now = uv_hrtime();
    while (g.sent < g.total) {
        uint64_t due = g.start_ns + (uint64_t)((double)g.sent * 1e9 / g.rate);
        if (due > now)
            break;
        send_one(due);
    }
    if (g.sent == g.total) {
        uv_timer_stop(t);
        uv_timer_start(&g.drain, on_drain, (uint64_t)(g.drain_s * 1000), 0);
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static uint64_t pct(double p)
{
    size_t i = (size_t)(p / 100.0 * (double)(g.done - 1) + 0.5);
    return g.latency_us[i];
}

static int load_bodies(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    g.bodies = calloc(MAX_BODIES, sizeof(char *));
    g.body_lens = calloc(MAX_BODIES, sizeof(size_t));
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while (g.n_bodies < MAX_BODIES && (n = getline(&line, &cap, f)) > 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            n--;
        if (n == 0)
            continue;
        g.bodies[g.n_bodies] = malloc((size_t)n);
        memcpy(g.bodies[g.n_bodies], line, (size_t)n);
        g.body_lens[g.n_bodies++] = (size_t)n;
    }
    free(line);
    fclose(f);
    return g.n_bodies ? 0 : -1;
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *body = NULL;
    int port = 0;
    double seconds = 10;
    g.rate = 1000;
    g.drain_s = 10;
    g.content_type = "application/json";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--port"))
            port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--rate"))
            g.rate = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--seconds"))
            seconds = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--body"))
            body = argv[i + 1];
        else if (!strcmp(argv[i], "--content-type"))
            g.content_type = argv[i + 1];
        else if (!strcmp(argv[i], "--host"))
            host = argv[i + 1];
        else if (!strcmp(argv[i], "--drain"))
            g.drain_s = atof(argv[i + 1]);
    }
    if (!port || !body || g.rate <= 0 || seconds <= 0 || seconds > 600 || g.rate > 100000 ||
        g.drain_s <= 0 || g.drain_s > 600) {
        fprintf(stderr, "usage: score_load --port P --rate R --seconds S --body FILE "
                        "[--content-type T] [--host 127.0.0.1|::1] [--drain S]\n");
        return 2;
    }
    if (strcmp(host, "127.0.0.1") != 0 && strcmp(host, "::1") != 0) {
        fprintf(stderr, "score_load: loopback only (127.0.0.1 or ::1)\n");
        return 2;
    }
    if (strchr(host, ':'))
        uv_ip6_addr(host, port, (struct sockaddr_in6 *)&g.addr);
    else
        uv_ip4_addr(host, port, (struct sockaddr_in *)&g.addr);
    if (load_bodies(body) != 0) {
        fprintf(stderr, "score_load: no request bodies in %s\n", body);
        return 2;
    }
    g.total = (uint64_t)(g.rate * seconds);
    g.latency_us = calloc(g.total, sizeof(uint64_t));
    g.calls = calloc(g.total, sizeof(call_t *));
    if (!g.latency_us || !g.calls) {
        fprintf(stderr, "score_load: out of memory\n");
        return 2;
    }
    g.loop = uv_default_loop();
    uv_timer_init(g.loop, &g.tick);
    uv_timer_init(g.loop, &g.drain);
    g.start_ns = uv_hrtime();
    uv_timer_start(&g.tick, on_tick, 0, 1);
    uv_run(g.loop, UV_RUN_DEFAULT);
    double elapsed = (double)(uv_hrtime() - g.start_ns) / 1e9;
    qsort(g.latency_us, g.done, sizeof(uint64_t), cmp_u64);
    uint64_t answered = g.done - g.unanswered;
    printf("requests %llu in %.2f s (%.0f/s offered, %.0f/s done), errors %llu, unanswered %llu, "
           "non-200 %llu",
           (unsigned long long)g.done, elapsed, g.rate, (double)answered / elapsed,
           (unsigned long long)g.errors, (unsigned long long)g.unanswered,
           (unsigned long long)g.non_200);
    for (int st = 0; st < 600; st++)
        if (g.by_status[st])
            printf(" [%d: %llu]", st, (unsigned long long)g.by_status[st]);
    printf("\n");
    printf("latency_us p50 %llu p90 %llu p99 %llu p99.9 %llu max %llu\n",
           (unsigned long long)pct(50), (unsigned long long)pct(90), (unsigned long long)pct(99),
           (unsigned long long)pct(99.9), (unsigned long long)g.latency_us[g.done - 1]);
    return g.errors || g.non_200 || g.unanswered ? 1 : 0;
}
