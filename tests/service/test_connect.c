/*
 * test_connect.c — the start-up connection check without a broker: which
 * client errors count as refusals, a zero timeout that does not wait, and a
 * deadline that ends the wait with a timeout naming the key, with secrets
 * redacted from librdkafka's reason.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <string.h>

#include "common.h"
#include "config.h"
#include "connect.h"

static char err[1024];

Test(connect, authentication_and_tls_failures_are_refusals_and_transport_ones_are_not)
{
    cr_assert(weir_connect_refused(RD_KAFKA_RESP_ERR__AUTHENTICATION));
    cr_assert(weir_connect_refused(RD_KAFKA_RESP_ERR__SSL));
    cr_assert(weir_connect_refused(RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED));
    cr_assert_not(weir_connect_refused(RD_KAFKA_RESP_ERR__TRANSPORT));
    cr_assert_not(weir_connect_refused(RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN));
    cr_assert_not(weir_connect_refused(RD_KAFKA_RESP_ERR__RESOLVE));
}

Test(connect, a_zero_timeout_returns_at_once)
{
    weir_config_t c;
    weir_config_init(&c);
    cr_assert_eq(weir_config_set(&c, "kafka.bootstrap.servers=127.0.0.1:1", err, sizeof(err)), 0);
    cr_assert_eq(weir_connect_check(&c, 0, NULL, err, sizeof(err)), 0);
    weir_config_dispose(&c);
}

Test(connect, no_broker_ends_in_a_timeout_naming_the_key_without_the_secret, .timeout = 60)
{
    weir_config_t c;
    weir_config_init(&c);
    cr_assert_eq(weir_config_set(&c, "kafka.bootstrap.servers=127.0.0.1:1", err, sizeof(err)), 0);
    cr_assert_eq(weir_config_set(&c, "kafka.security.protocol=SASL_PLAINTEXT", err, sizeof(err)),
                 0);
    cr_assert_eq(weir_config_set(&c, "kafka.sasl.mechanism=PLAIN", err, sizeof(err)), 0);
    cr_assert_eq(weir_config_set(&c, "kafka.sasl.username=weir", err, sizeof(err)), 0);
    cr_assert_eq(weir_config_set(&c, "kafka.sasl.password=hunter2-secret", err, sizeof(err)), 0);
    cr_assert_eq(weir_connect_check(&c, 1000, NULL, err, sizeof(err)), WEIR_ETIMEDOUT, "%s", err);
    cr_assert_not_null(strstr(err, "connect.timeout"), "%s", err);
    cr_assert_null(strstr(err, "hunter2-secret"), "%s", err);
    weir_config_dispose(&c);
}

Test(connect, a_stop_flag_set_meanwhile_ends_the_wait, .timeout = 60)
{
    /* weir run's start-up handler sets the flag on SIGTERM */
    static volatile sig_atomic_t stop;
    stop = 0;
    weir_config_t c;
    weir_config_init(&c);
    cr_assert_eq(weir_config_set(&c, "kafka.bootstrap.servers=127.0.0.1:1", err, sizeof(err)), 0);
    cr_assert_eq(weir_connect_check(&c, 3000, &stop, err, sizeof(err)), WEIR_ETIMEDOUT,
                 "no broker and no stop: the deadline");
    stop = SIGTERM;
    /* no broker: without the stop it would wait the whole 50 s */
    cr_assert_eq(weir_connect_check(&c, 50000, &stop, err, sizeof(err)), WEIR_ESTOPPED);
    weir_config_dispose(&c);
}
