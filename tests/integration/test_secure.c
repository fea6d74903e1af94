/*
 * test_secure.c — `weir run` against the broker's SASL_SSL listener
 * (scripts/kafka.sh: TLS with a local CA, user "weir"): it scores over TLS +
 * SASL, and a wrong password, an untrusted certificate, a plaintext client on
 * the TLS port and SCRAM with a librdkafka too old for Kafka 4 each end in
 * exit 1 within a bound instead of endless retries. No run may print the
 * password, the right one or the wrong one.
 */
#include <criterion/criterion.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it.h"
#include "support.h"

#define EVENTS 300
#define WRONG_PASSWORD "wrong-password-4c1d9e"

typedef struct {
    it_scenario_t s;
    char password[128];
    char *conf; /* the scenario's settings on the SASL_SSL listener */
} secure_t;

/* `scripts/kafka.sh secure MECH`: weir.conf lines for the SASL_SSL listener. */
static void secure_lines(const char *mechanism, char *out, size_t outsz, char *password,
                         size_t pwsz)
{
    weir_it_bootstrap(); /* the broker (and its TLS set-up) is up */
    char cmd[1024], line[1024];
    snprintf(cmd, sizeof(cmd), "%s/scripts/kafka.sh secure %s", WEIR_SOURCE_DIR, mechanism);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    out[0] = '\0';
    while (fgets(line, sizeof(line), p)) {
        const char *key = "kafka.sasl.password = ";
        if (!strncmp(line, key, strlen(key))) {
            snprintf(password, pwsz, "%s", line + strlen(key));
            password[strcspn(password, "\r\n")] = '\0';
        }
        strncat(out, line, outsz - strlen(out) - 1);
    }
    cr_assert_eq(pclose(p), 0, "scripts/kafka.sh secure failed");
    cr_assert(strlen(password) >= 8, "no password in scripts/kafka.sh secure");
}

static void secure_setup(secure_t *t, const char *name, const char *mechanism)
{
    memset(t, 0, sizeof(*t));
    it_setup(&t->s, name, 1, NULL, 0, NULL);
    char lines[4096], conf[8192];
    secure_lines(mechanism, lines, sizeof(lines), t->password, sizeof(t->password));
    snprintf(conf, sizeof(conf),
             "%s"
             "kafka.group.id = %s\n"
             "input.topics = %s\n"
             "input.schema = %s/schemas/transaction.avsc\n"
             "output.topic = %s\n"
             "dlq.topic = %s\n"
             "model.path = %s\n"
             "http.listen =\n"
             "log.level = debug\n"
             "commit.interval = 200ms\n",
             lines, t->s.group, t->s.in, WEIR_SOURCE_DIR, t->s.out, t->s.dlq, t->s.model);
    t->conf = weir_it_write(t->s.dir, "secure.conf", conf);
}

static void secure_teardown(secure_t *t)
{
    free(t->conf);
    it_teardown(&t->s);
}

/* The whole of what weir printed (stdout and stderr) holds no password. */
static void assert_no_secret(const char *log, const char *password)
{
    size_t len;
    char *text = weir_test_read_file(log, &len);
    cr_assert_not_null(text, "no log %s", log);
    cr_assert_null(strstr(text, password), "the password appears in %s", log);
    cr_assert_null(strstr(text, WRONG_PASSWORD), "the wrong password appears in %s", log);
    free(text);
}

/* Runs `weir run -c secure.conf -X...` to its end; returns its exit status. */
static int run_refused(secure_t *t, const char *x1, const char *x2, const char *logname)
{
    char log[512];
    snprintf(log, sizeof(log), "%s/%s", t->s.dir, logname);
    const char *argv[] = {WEIR_BINARY, "run", "-c", t->conf, "-X", x1, "-X", x2, NULL};
    /* far above connect.timeout: a hang shows as -1 */
    int rc = weir_it_run(argv, log, 120000);
    assert_no_secret(log, t->password);
    return rc;
}

Test(secure, scores_every_event_over_tls_and_sasl, .timeout = 300)
{
    secure_t t;
    secure_setup(&t, "secure", "plain");
    it_gen(&t.s, EVENTS, 7, NULL);
    char log[512];
    snprintf(log, sizeof(log), "%s/weir-secure.log", t.s.dir);
    const char *argv[] = {WEIR_BINARY, "run", "-c", t.conf, NULL};
    pid_t pid = weir_it_spawn(argv, log);
    int64_t n = weir_it_wait_count(t.s.out, EVENTS, 120000);
    cr_assert_eq(it_stop(pid), 0, "weir run over SASL_SSL did not stop cleanly");
    cr_assert_eq(n, EVENTS, "%lld of %d events scored over SASL_SSL", (long long)n, EVENTS);
    cr_assert_eq(weir_it_count(t.s.dlq), 0);
    assert_no_secret(log, t.password);
    secure_teardown(&t);
}

Test(secure, a_wrong_password_exits_1_at_start, .timeout = 300)
{
    secure_t t;
    secure_setup(&t, "secure-pw", "plain");
    cr_assert_eq(run_refused(&t, "kafka.sasl.password=" WRONG_PASSWORD, "connect.timeout=60s",
                             "wrong-password.log"),
                 1);
    secure_teardown(&t);
}

Test(secure, an_untrusted_broker_certificate_exits_1_at_start, .timeout = 300)
{
    secure_t t;
    secure_setup(&t, "secure-ca", "plain");
    /* a CA of its own, which did not sign the broker's certificate */
    char key[512], ca[512], log[512], ca_opt[600];
    snprintf(key, sizeof(key), "%s/other-ca.key", t.s.dir);
    snprintf(ca, sizeof(ca), "%s/other-ca.pem", t.s.dir);
    snprintf(log, sizeof(log), "%s/openssl.log", t.s.dir);
    const char *openssl[] = {"openssl", "req",   "-x509", "-newkey", "rsa:2048",
                             "-nodes",  "-days", "1",     "-subj",   "/CN=not the broker's CA",
                             "-keyout", key,     "-out",  ca,        NULL};
    cr_assert_eq(weir_it_run(openssl, log, 60000), 0, "openssl failed (see %s)", log);
    snprintf(ca_opt, sizeof(ca_opt), "kafka.ssl.ca.location=%s", ca);
    cr_assert_eq(run_refused(&t, ca_opt, "connect.timeout=60s", "untrusted.log"), 1);
    secure_teardown(&t);
}

Test(secure, a_plaintext_client_on_the_tls_port_exits_1_at_the_connect_timeout, .timeout = 300)
{
    secure_t t;
    secure_setup(&t, "secure-plain", "plain");
    cr_assert_eq(
        run_refused(&t, "kafka.security.protocol=PLAINTEXT", "connect.timeout=5s", "plaintext.log"),
        1);
    secure_teardown(&t);
}

Test(secure, scram_scores_or_is_refused_by_a_librdkafka_older_than_2_6_1, .timeout = 300)
{
    secure_t t;
    secure_setup(&t, "secure-scram", "scram");
    if (rd_kafka_version() >= 0x020601ff) {
        it_gen(&t.s, EVENTS, 8, NULL);
        char log[512];
        snprintf(log, sizeof(log), "%s/weir-scram.log", t.s.dir);
        const char *argv[] = {WEIR_BINARY, "run", "-c", t.conf, NULL};
        pid_t pid = weir_it_spawn(argv, log);
        int64_t n = weir_it_wait_count(t.s.out, EVENTS, 120000);
        cr_assert_eq(it_stop(pid), 0);
        cr_assert_eq(n, EVENTS);
        assert_no_secret(log, t.password);
    } else {
        /* librdkafka's SCRAM nonce bug: Kafka 4 refuses the right password */
        cr_assert_eq(run_refused(&t, "connect.timeout=60s", "log.level=debug", "scram.log"), 1);
    }
    secure_teardown(&t);
}
