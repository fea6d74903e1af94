/*
 * bridge.c — a librdkafka queue served on the libuv loop (see bridge.h): the
 * wake-up pipe, its uv_poll, the keep-alive timer, the idle handle that
 * re-serves after a full drain, the one close sequence for all three, and
 * the log and error reporting every client shares.
 */
#include "bridge.h"
#include "common.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct weir_bridge {
    uv_poll_t poll;
    uv_timer_t keepalive;
    uv_idle_t more; /* re-serve at once when a serve took a whole batch */
    int more_active;
    int pipefd[2];
    int open_handles;        /* freed when the last close callback has run */
    rd_kafka_queue_t *queue; /* borrowed; alive until weir_bridge_close() */
    size_t batch;
    weir_bridge_serve_fn serve;
    void *opaque;
};

void weir_bridge_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    weir_log(weir_log_from_syslog(level), "librdkafka", "client", rd_kafka_name(rk), "facility",
             fac, "detail", buf, NULL);
}

int weir_bridge_conf(rd_kafka_conf_t *conf, char *err, size_t errsz)
{
    char errstr[256];
    rd_kafka_conf_set_log_cb(conf, weir_bridge_log_cb);
    if (rd_kafka_conf_set(conf, "log.queue", "true", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
        return weir_seterr(err, errsz, WEIR_ECONFIG, "log.queue: %s", errstr);
    return 0;
}

int weir_bridge_log_error(rd_kafka_t *rk, int err, const char *reason, const char *what)
{
    char fatal_reason[512];
    int fatal = err == RD_KAFKA_RESP_ERR__FATAL;
    if (fatal) {
        rd_kafka_fatal_error(rk, fatal_reason, sizeof(fatal_reason));
        reason = fatal_reason;
    }
    weir_log(fatal ? WEIR_LOG_ERROR : WEIR_LOG_WARN, what, "error",
             rd_kafka_err2name((rd_kafka_resp_err_t)err), "detail", reason, NULL);
    return fatal;
}

static void on_more(uv_idle_t *h)
{
    weir_bridge_t *b = h->data;
    size_t n = b->serve(b->opaque);
    if (n < b->batch) {
        uv_idle_stop(&b->more);
        b->more_active = 0;
    }
}

static void run_serve(weir_bridge_t *b)
{
    size_t n = b->serve(b->opaque);
    if (b->batch && n >= b->batch && !b->more_active) {
        b->more_active = 1;
        uv_idle_start(&b->more, on_more);
    }
}

static void on_readable(uv_poll_t *h, int status, int events)
{
    weir_bridge_t *b = h->data;
    char buf[64];
    while (read(b->pipefd[0], buf, sizeof(buf)) > 0)
        ;
    run_serve(b);
}

static void on_keepalive(uv_timer_t *h)
{
    run_serve(h->data);
}

static void on_closed(uv_handle_t *h)
{
    weir_bridge_t *b = h->data;
    if (--b->open_handles > 0)
        return;
    if (b->pipefd[0] >= 0)
        close(b->pipefd[0]);
    if (b->pipefd[1] >= 0)
        close(b->pipefd[1]);
    free(b);
}

int weir_bridge_new(uv_loop_t *loop, rd_kafka_queue_t *queue, int keepalive_ms, size_t batch,
                    weir_bridge_serve_fn serve, void *opaque, weir_bridge_t **out, char *err,
                    size_t errsz)
{
    *out = NULL;
    weir_bridge_t *b = calloc(1, sizeof(*b));
    if (!b)
        return weir_seterr(err, errsz, WEIR_ENOMEM, "out of memory");
    b->serve = serve;
    b->opaque = opaque;
    b->queue = queue;
    b->batch = batch;
    if (pipe2(b->pipefd, O_NONBLOCK | O_CLOEXEC) != 0) {
        int e = errno;
        free(b);
        return weir_seterr(err, errsz, WEIR_EIO, "pipe: %s", strerror(e));
    }
    uv_poll_init(loop, &b->poll, b->pipefd[0]);
    uv_timer_init(loop, &b->keepalive);
    uv_idle_init(loop, &b->more);
    b->poll.data = b->keepalive.data = b->more.data = b;
    b->open_handles = 3;
    rd_kafka_queue_io_event_enable(queue, b->pipefd[1], "1", 1);
    uv_poll_start(&b->poll, UV_READABLE, on_readable);
    uv_timer_start(&b->keepalive, on_keepalive, (uint64_t)keepalive_ms, (uint64_t)keepalive_ms);
    *out = b;
    return 0;
}

void weir_bridge_close(weir_bridge_t *b)
{
    if (!b || uv_is_closing((uv_handle_t *)&b->poll))
        return;
    /* librdkafka must not write to the pipe once it is closed (its number may
     * be reused by then): stop that first. */
    rd_kafka_queue_io_event_enable(b->queue, -1, NULL, 0);
    b->queue = NULL;
    uv_close((uv_handle_t *)&b->poll, on_closed);
    uv_close((uv_handle_t *)&b->keepalive, on_closed);
    uv_close((uv_handle_t *)&b->more, on_closed);
}
