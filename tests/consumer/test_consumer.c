/*
 * test_consumer.c — the consumer's life outside a broker: a consumer that
 * cannot subscribe fails cleanly, leaving no handle on the loop that points
 * at freed memory (the loop runs on afterwards under ASan).
 */
#include <criterion/criterion.h>
#include <uv.h>

#include "common.h"
#include "consumer.h"

static void on_messages(void *opaque, rd_kafka_message_t **msgs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        rd_kafka_message_destroy(msgs[i]);
}

Test(consumer, a_consumer_that_cannot_subscribe_fails_and_leaves_the_loop_clean)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", "127.0.0.1:1", errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof(errstr));
    /* no group.id: subscribe is refused */
    const char *topics[] = {"in", NULL};
    weir_consumer_callbacks_t cb = {on_messages, NULL, NULL, NULL, NULL};
    weir_consumer_t *c = (weir_consumer_t *)&loop;
    char err[256] = "";
    int rc = weir_consumer_new(&loop, conf, topics, 16, &cb, NULL, &c, err, sizeof(err));
    cr_assert_neq(rc, 0);
    cr_assert_null(c);
    cr_assert_neq(err[0], '\0', "the reason is given");
    uv_run(&loop, UV_RUN_DEFAULT);
    cr_assert_eq(uv_loop_close(&loop), 0, "no handle left open");
}
