/*
 * test_bridge.c — a librdkafka queue served on the loop: a delivery report
 * wakes the loop through the pipe and is served there; closing frees the
 * bridge in its handles' close callbacks, so the owner may free its memory at
 * once; librdkafka's logs come out as weir's, with secrets redacted.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "bridge.h"
#include "common.h"
#include "log.h"

typedef struct {
    rd_kafka_t *rk;
    int reports;
    int serves;
} owner_t;

static void dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    owner_t *o = opaque;
    o->reports++;
}

static size_t serve(void *opaque)
{
    owner_t *o = opaque;
    o->serves++;
    return (size_t)rd_kafka_poll(o->rk, 0);
}

static rd_kafka_t *unreachable_producer(owner_t *o)
{
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    /* nothing listens there: every record fails after message.timeout.ms */
    rd_kafka_conf_set(conf, "bootstrap.servers", "127.0.0.1:1", errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "message.timeout.ms", "200", errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof(errstr));
    rd_kafka_conf_set_dr_msg_cb(conf, dr);
    rd_kafka_conf_set_opaque(conf, o);
    cr_assert_eq(weir_bridge_conf(conf, errstr, sizeof(errstr)), 0, "%s", errstr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    cr_assert_not_null(rk, "%s", errstr);
    return rk;
}

Test(bridge, serves_a_delivery_report_on_the_loop)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    owner_t o = {0};
    o.rk = unreachable_producer(&o);
    rd_kafka_queue_t *q = rd_kafka_queue_get_main(o.rk);
    weir_bridge_t *b;
    char err[256];
    /* a keep-alive far longer than the test: only the pipe can wake it */
    cr_assert_eq(weir_bridge_new(&loop, q, 60000, 0, serve, &o, &b, err, sizeof(err)), 0, "%s",
                 err);
    cr_assert_eq(rd_kafka_producev(o.rk, RD_KAFKA_V_TOPIC("t"), RD_KAFKA_V_VALUE("v", 1),
                                   RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END),
                 0);
    while (o.reports == 0)
        uv_run(&loop, UV_RUN_ONCE);
    cr_assert_eq(o.reports, 1, "the failed record's report, served on the loop");
    weir_bridge_close(b);
    weir_bridge_close(NULL);
    rd_kafka_queue_destroy(q);
    uv_run(&loop, UV_RUN_DEFAULT); /* runs the close callbacks: the bridge frees itself */
    cr_assert_eq(uv_loop_close(&loop), 0, "no handle left open");
    rd_kafka_destroy(o.rk);
}

Test(bridge, the_owner_may_go_away_right_after_close)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    owner_t *o = calloc(1, sizeof(*o));
    o->rk = unreachable_producer(o);
    rd_kafka_queue_t *q = rd_kafka_queue_get_main(o->rk);
    weir_bridge_t *b;
    char err[256];
    cr_assert_eq(weir_bridge_new(&loop, q, 10, 4, serve, o, &b, err, sizeof(err)), 0);
    uv_run(&loop, UV_RUN_NOWAIT);
    weir_bridge_close(b);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(o->rk);
    free(o); /* the handles are still closing: they must not need the owner */
    uv_run(&loop, UV_RUN_DEFAULT);
    cr_assert_eq(uv_loop_close(&loop), 0);
}

Test(bridge, logs_librdkafka_lines_as_weir_lines_with_secrets_redacted, .init = cr_redirect_stderr)
{
    weir_log_add_secret("hunter2-very-secret");
    owner_t o = {0};
    o.rk = unreachable_producer(&o);
    weir_bridge_log_cb(o.rk, 4, "CONFWARN", "sasl.password=hunter2-very-secret is ignored");
    weir_bridge_log_error(o.rk, RD_KAFKA_RESP_ERR__TRANSPORT, "connect: hunter2-very-secret",
                          "producer error");
    rd_kafka_destroy(o.rk);
    weir_log_clear_secrets();
    fflush(stderr);
    char buf[4096] = "";
    FILE *f = cr_get_redirected_stderr();
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    cr_assert_not_null(strstr(buf, "msg=librdkafka"), "%s", buf);
    cr_assert_not_null(strstr(buf, "facility=CONFWARN"), "%s", buf);
    cr_assert_not_null(strstr(buf, "level=warn"), "%s", buf);
    cr_assert_not_null(strstr(buf, "error=_TRANSPORT"), "%s", buf);
    cr_assert_not_null(strstr(buf, "[redacted]"), "%s", buf);
    cr_assert_null(strstr(buf, "hunter2"), "a secret was logged: %s", buf);
}
