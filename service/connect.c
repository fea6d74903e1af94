/*
 * connect.c — the start-up check of the Kafka connection (see connect.h).
 *
 * librdkafka retries a refused connection for ever: with a wrong password or
 * an untrusted broker certificate `weir run` would start, log a warning a
 * second and score nothing. Before the loop starts, a short-lived client with
 * the same kafka.* settings asks for metadata until a broker answers; an
 * authentication or TLS refusal ends the wait at once, anything else (a broker
 * that is down, a plaintext client talking to a TLS listener) at the deadline.
 * The reason librdkafka gave is passed on with secret values redacted. This
 * client's log lines are not printed: its last error says it all.
 */
#include "connect.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "common.h"

/* One metadata request at a time: short, so a refusal is seen soon. */
#define PROBE_MS 500

typedef struct {
    rd_kafka_resp_err_t last;
    int refused;
    char reason[512];
} probe_t;

int weir_connect_refused(rd_kafka_resp_err_t err)
{
    return err == RD_KAFKA_RESP_ERR__AUTHENTICATION || err == RD_KAFKA_RESP_ERR__SSL ||
           err == RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED ||
           err == RD_KAFKA_RESP_ERR_UNSUPPORTED_SASL_MECHANISM ||
           err == RD_KAFKA_RESP_ERR_ILLEGAL_SASL_STATE;
}

static void probe_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    probe_t *p = opaque;
    (void)rk;
    /* __ALL_BROKERS_DOWN only repeats what the last transport error said */
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN && p->last)
        return;
    p->last = (rd_kafka_resp_err_t)err;
    snprintf(p->reason, sizeof(p->reason), "%s", reason ? reason : "");
    if (weir_connect_refused((rd_kafka_resp_err_t)err))
        p->refused = 1;
}

/* SCRAM of librdkafka before 2.6.1 repeats the client nonce in its final
 * message, which Kafka 4 brokers check strictly and refuse. */
static const char *scram_hint(const weir_config_t *cfg)
{
    if (rd_kafka_version() >= 0x020601ff)
        return "";
    for (size_t i = 0; i < cfg->kafka_count; i++) {
        const char *k = cfg->kafka_keys[i];
        if ((!strcmp(k, "sasl.mechanism") || !strcmp(k, "sasl.mechanisms")) &&
            !strncasecmp(cfg->kafka_values[i], "SCRAM-", 6))
            return "; note: this librdkafka cannot authenticate with SCRAM to Kafka 4 or newer "
                   "brokers (fixed in librdkafka 2.6.1): use PLAIN over SASL_SSL with those";
    }
    return "";
}

int weir_connect_check(const weir_config_t *cfg, int64_t timeout_ms, volatile sig_atomic_t *stop,
                       char *err, size_t errsz)
{
    int rc = 0;
    rd_kafka_t *rk = NULL;
    rd_kafka_conf_t *conf = NULL;
    probe_t probe;
    char errstr[512];
    memset(&probe, 0, sizeof(probe));
    if (timeout_ms <= 0)
        goto out;
    if ((rc = weir_config_kafka(cfg, 0, &conf, err, errsz)) != 0)
        goto out;
    rd_kafka_conf_set_log_cb(conf, NULL);
    rd_kafka_conf_set_error_cb(conf, probe_error);
    rd_kafka_conf_set_opaque(conf, &probe);
    if (rd_kafka_conf_set(conf, "client.id", "weir-connect-check", errstr, sizeof(errstr)) !=
        RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        rc = weir_seterr(err, errsz, WEIR_ECONFIG, "kafka: %s", errstr);
        goto out;
    }
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        weir_config_redact(cfg, errstr, sizeof(errstr));
        rc = weir_seterr(err, errsz, WEIR_ECONFIG, "kafka: %s", errstr);
        goto out;
    }
    double deadline = weir_clock_mono_s() + (double)timeout_ms / 1000.0;
    for (;;) {
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, NULL, &md, PROBE_MS);
        if (md)
            rd_kafka_metadata_destroy(md);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
            goto out;
        rd_kafka_poll(rk, 0);
        if (stop && *stop) {
            rc = WEIR_ESTOPPED;
            goto out;
        }
        if (probe.refused) {
            weir_config_redact(cfg, probe.reason, sizeof(probe.reason));
            rc = weir_seterr(err, errsz, WEIR_EKAFKA,
                             "kafka: the cluster refused the connection (%s): %s%s",
                             rd_kafka_err2name(probe.last), probe.reason, scram_hint(cfg));
            goto out;
        }
        if (weir_clock_mono_s() >= deadline) {
            if (!probe.last) {
                probe.last = e;
                snprintf(probe.reason, sizeof(probe.reason), "%s", rd_kafka_err2str(e));
            }
            weir_config_redact(cfg, probe.reason, sizeof(probe.reason));
            rc = weir_seterr(
                err, errsz, WEIR_ETIMEDOUT,
                "kafka: no broker answered within %lld ms (connect.timeout); last error %s: %s "
                "(is the broker up, and are security.protocol and the port right?)",
                (long long)timeout_ms, rd_kafka_err2name(probe.last), probe.reason);
            goto out;
        }
    }
out:
    if (rk)
        rd_kafka_destroy(rk);
    return rc;
}
