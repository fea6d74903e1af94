/*
 * test_config.c — weir.conf parsing: defaults, overrides, and errors that
 * name the file, line and key.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "support.h"

static char err[1024];

static int load_text(weir_config_t *c, const char *text, char **path_out)
{
    char *path = weir_test_write_temp(".conf", text, strlen(text));
    int rc = weir_config_load_file(c, path, err, sizeof(err));
    if (path_out)
        *path_out = path;
    else
        free(path);
    return rc;
}

Test(config, defaults_are_the_documented_ones)
{
    weir_config_t c;
    weir_config_init(&c);
    cr_assert_eq(c.batch_max, 512);
    cr_assert_eq(c.drift.window, 5000);
    cr_assert_eq(c.drift.step, 1000);
    cr_assert_eq(c.labels_ttl_ms, 24LL * 3600 * 1000);
    cr_assert_eq(c.labels_max_pending, 1000000);
    cr_assert_str_eq(c.http_listen, "127.0.0.1:9464");
    cr_assert_eq(c.input_framing, WEIR_FRAMING_CONFLUENT);
    cr_assert_str_eq(c.input_id_field, "event_id");
    cr_assert_eq(c.log_level, WEIR_LOG_INFO);
    weir_config_dispose(&c);
}

Test(config, reads_keys_comments_and_kafka_properties)
{
    weir_config_t c;
    weir_config_init(&c);
    char *path;
    int rc = load_text(&c,
                       "# a comment\n"
                       "\n"
                       "kafka.bootstrap.servers = 127.0.0.1:9092\n"
                       "kafka.group.id=scorers\n"
                       "input.topics = a, b ,c\n"
                       "  batch.max = 64  \n"
                       "input.schema = schemas/x.avsc\n"
                       "model.path = /abs/model.json\n"
                       "labels.ttl = 2h\n",
                       &path);
    cr_assert_eq(rc, 0, "%s", err);
    cr_assert_eq(c.input_topic_count, 3);
    cr_assert_str_eq(c.input_topics[1], "b");
    cr_assert_null(c.input_topics[3]);
    cr_assert_eq(c.batch_max, 64);
    cr_assert_eq(c.labels_ttl_ms, 2 * 3600 * 1000);
    cr_assert_str_eq(c.model_path, "/abs/model.json");
    /* relative paths are resolved against the file's folder */
    cr_assert(strstr(c.input_schema_path, "/tmp/schemas/x.avsc") != NULL, "%s",
              c.input_schema_path);
    cr_assert_eq(c.kafka_count, 2);
    cr_assert_str_eq(c.kafka_keys[1], "group.id");
    cr_assert_eq(c.kafka_scope[1], 1, "group.id goes to the consumer only");
    cr_assert_eq(c.kafka_scope[0], 0, "bootstrap.servers goes to both");
    free(path);
    weir_config_dispose(&c);
}

Test(config, unknown_key_names_file_line_and_a_suggestion)
{
    weir_config_t c;
    weir_config_init(&c);
    char *path;
    cr_assert_eq(load_text(&c, "batch.max = 4\ninput.topic = x\n", &path), WEIR_ECONFIG);
    char expect[512];
    snprintf(expect, sizeof(expect),
             "%s:2: unknown key \"input.topic\" (did you mean input.topics?)", path);
    cr_assert_str_eq(err, expect);
    free(path);
    weir_config_dispose(&c);
}

Test(config, bad_values_name_the_key_and_the_value)
{
    weir_config_t c;
    weir_config_init(&c);
    cr_assert_eq(load_text(&c, "batch.max = lots\n", NULL), WEIR_ECONFIG);
    cr_assert(strstr(err, ":1: batch.max: must be an integer from 1 to 100000, got \"lots\""), "%s",
              err);
    cr_assert_eq(load_text(&c, "labels.ttl = forever\n", NULL), WEIR_ECONFIG);
    cr_assert(strstr(err, "labels.ttl: must be a duration"), "%s", err);
    cr_assert_eq(load_text(&c, "input.format = json\n", NULL), WEIR_ECONFIG);
    cr_assert(strstr(err, "input.format: must be avro-confluent or avro"), "%s", err);
    cr_assert_eq(load_text(&c, "log.level = loud\n", NULL), WEIR_ECONFIG);
    cr_assert_eq(load_text(&c, "just words\n", NULL), WEIR_ECONFIG);
    cr_assert(strstr(err, ":1: expected key = value"), "%s", err);
    cr_assert_eq(load_text(&c, "kafka.no.such.property = 1\n", NULL), WEIR_ECONFIG);
    cr_assert(strstr(err, ":1: kafka.no.such.property: "), "%s", err);
    weir_config_dispose(&c);
}

Test(config, refuses_settings_that_break_at_least_once)
{
    weir_config_t c;
    weir_config_init(&c);
    cr_assert_eq(weir_config_set(&c, "kafka.enable.auto.offset.store=true", err, sizeof(err)),
                 WEIR_ECONFIG);
    cr_assert(strstr(err, "-X enable.auto.offset.store") || strstr(err, "kafka.enable.auto"), "%s",
              err);
    weir_config_dispose(&c);
}

Test(config, x_overrides_and_reports_its_origin)
{
    weir_config_t c;
    weir_config_init(&c);
    cr_assert_eq(weir_config_set(&c, "batch.max=8", err, sizeof(err)), 0);
    cr_assert_eq(c.batch_max, 8);
    cr_assert_eq(weir_config_set(&c, "batch.max=0", err, sizeof(err)), WEIR_ECONFIG);
    cr_assert(!strncmp(err, "-X: batch.max: must be", 22), "%s", err);
    cr_assert_eq(weir_config_set(&c, "novalue", err, sizeof(err)), WEIR_ECONFIG);
    weir_config_dispose(&c);
}

Test(config, run_check_names_the_missing_key)
{
    weir_config_t c;
    weir_config_init(&c);
    cr_assert_eq(weir_config_check_run(&c, err, sizeof(err)), WEIR_ECONFIG);
    cr_assert_str_eq(err, "input.topics: required");
    weir_config_set(&c, "input.topics=in", err, sizeof(err));
    weir_config_set(&c, "output.topic=out", err, sizeof(err));
    weir_config_set(&c, "dlq.topic=dlq", err, sizeof(err));
    weir_config_set(&c, "model.path=" WEIR_SOURCE_DIR "/examples/model.json", err, sizeof(err));
    weir_config_set(&c, "input.schema=" WEIR_SOURCE_DIR "/schemas/transaction.avsc", err,
                    sizeof(err));
    cr_assert_eq(weir_config_check_run(&c, err, sizeof(err)), WEIR_ECONFIG);
    cr_assert_str_eq(err, "kafka.bootstrap.servers: required");
    weir_config_set(&c, "kafka.bootstrap.servers=h:1", err, sizeof(err));
    cr_assert_eq(weir_config_check_run(&c, err, sizeof(err)), 0, "%s", err);
    weir_config_set(&c, "output.topic=in", err, sizeof(err));
    cr_assert_eq(weir_config_check_run(&c, err, sizeof(err)), WEIR_ECONFIG);
    cr_assert(strstr(err, "loop"), "%s", err);
    weir_config_dispose(&c);
}

Test(config, secrets_are_recognised)
{
    cr_assert(weir_config_is_secret("kafka.sasl.password"));
    cr_assert(weir_config_is_secret("kafka.ssl.key.password"));
    cr_assert(weir_config_is_secret("kafka.ssl.key.pem"));
    cr_assert(!weir_config_is_secret("kafka.bootstrap.servers"));
}

Test(config, builds_client_configs_with_weir_defaults_and_user_values)
{
    weir_config_t c;
    weir_config_init(&c);
    weir_config_set(&c, "kafka.bootstrap.servers=h:1", err, sizeof(err));
    weir_config_set(&c, "kafka.linger.ms=50", err, sizeof(err));
    rd_kafka_conf_t *conf;
    char value[256];
    size_t n = sizeof(value);
    cr_assert_eq(weir_config_kafka(&c, 1, &conf, err, sizeof(err)), 0);
    cr_assert_eq(rd_kafka_conf_get(conf, "partition.assignment.strategy", value, &n),
                 RD_KAFKA_CONF_OK);
    cr_assert_str_eq(value, "roundrobin");
    n = sizeof(value);
    rd_kafka_conf_get(conf, "enable.auto.offset.store", value, &n);
    cr_assert_str_eq(value, "false");
    rd_kafka_conf_destroy(conf);
    cr_assert_eq(weir_config_kafka(&c, 0, &conf, err, sizeof(err)), 0);
    n = sizeof(value);
    rd_kafka_conf_get(conf, "linger.ms", value, &n);
    cr_assert_str_eq(value, "50");
    n = sizeof(value);
    rd_kafka_conf_get(conf, "enable.idempotence", value, &n);
    cr_assert_str_eq(value, "true");
    rd_kafka_conf_destroy(conf);
    weir_config_dispose(&c);
}

Test(config, drift_keys_reach_the_drift_monitor_and_errors_name_file_and_line)
{
    weir_config_t c;
    weir_config_init(&c);
    char *path;
    cr_assert_eq(load_text(&c,
                           "drift.window = 20000\n"
                           "drift.correction = bh\n"
                           "drift.feature.amount.tests = ks,psi\n",
                           &path),
                 0, "%s", err);
    cr_assert_eq(c.drift.window, 20000);
    cr_assert_eq(c.drift.correction, WEIR_CORRECTION_BH);
    cr_assert_eq(c.drift.n_overrides, 1);
    free(path);
    cr_assert_eq(load_text(&c, "batch.max = 8\ndrift.windw = 3\n", &path), WEIR_ECONFIG);
    char expect[600];
    snprintf(expect, sizeof(expect), "%s:2: ", path);
    cr_assert(!strncmp(err, expect, strlen(expect)) && strstr(err, "drift.windw"), "%s", err);
    free(path);
    cr_assert_eq(weir_config_set(&c, "drift.step=lots", err, sizeof(err)), WEIR_ECONFIG);
    cr_assert(!strncmp(err, "-X: ", 4) && strstr(err, "drift.step"), "%s", err);
    weir_config_dispose(&c);
}

/* ---- what an error may echo ---------------------------------------- */

/* Whether @p s holds a byte that a terminal would act on. */
static int has_control_byte(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return 1;
    return 0;
}

Test(config, a_line_without_equals_never_echoes_a_secret_value)
{
    weir_config_t c;
    weir_config_init(&c);
    char *path;
    cr_assert_eq(load_text(&c, "# creds\nkafka.sasl.password S3CRET\n", &path), WEIR_ECONFIG);
    char expect[600];
    snprintf(expect, sizeof(expect), "%s:2: ", path);
    cr_assert(!strncmp(err, expect, strlen(expect)), "names file and line: %s", err);
    cr_assert(!strstr(err, "S3CRET"), "the secret is echoed: %s", err);
    free(path);
    cr_assert_eq(load_text(&c, "kafka.ssl.key.password: hunter2hunter2\n", NULL), WEIR_ECONFIG);
    cr_assert(!strstr(err, "hunter2"), "the secret is echoed: %s", err);
    weir_config_dispose(&c);
}

Test(config, control_bytes_of_a_line_are_escaped_in_the_error)
{
    weir_config_t c;
    weir_config_init(&c);
    cr_assert_eq(load_text(&c, "\x1b[2J\x1b]0;owned\x07 not a key\n", NULL), WEIR_ECONFIG);
    cr_assert(!has_control_byte(err), "raw control bytes in: %s", err);
    cr_assert(strstr(err, "\\x1b[2J"), "escaped: %s", err);
    cr_assert_eq(load_text(&c, "batch.max = 1\x1b[2J\n", NULL), WEIR_ECONFIG);
    cr_assert(!has_control_byte(err), "raw control bytes in: %s", err);
    cr_assert(strstr(err, "batch.max"), "%s", err);
    cr_assert_eq(load_text(&c,
                           "batch.\x9b"
                           "31m = 1\n",
                           NULL),
                 WEIR_ECONFIG);
    cr_assert(!strchr(err, '\x9b'), "a raw C1 byte in: %s", err);
    weir_config_dispose(&c);
}

Test(config, librdkafka_errors_never_quote_a_secret_value)
{
    weir_config_t c;
    weir_config_init(&c);
    char *path;
    /* librdkafka's own message quotes the value ("value -424242 is outside ...") */
    cr_assert_eq(load_text(&c, "kafka.sasl.kerberos.min.time.before.relogin = -424242\n", &path),
                 WEIR_ECONFIG);
    char expect[600];
    snprintf(expect, sizeof(expect), "%s:1: kafka.sasl.kerberos.min.time.before.relogin: ", path);
    cr_assert(!strncmp(err, expect, strlen(expect)), "%s", err);
    cr_assert(!strstr(err, "424242"), "the secret is echoed: %s", err);
    free(path);
    /* other values are quoted, escaped */
    cr_assert_eq(load_text(&c, "kafka.security.protocol = \x1b[5mloud\n", NULL), WEIR_ECONFIG);
    cr_assert(!has_control_byte(err), "raw control bytes in: %s", err);
    cr_assert(strstr(err, "kafka.security.protocol"), "%s", err);
    weir_config_dispose(&c);
}

Test(config, secrets_under_a_client_prefix_are_recognised)
{
    cr_assert(weir_config_is_secret("kafka.consumer.sasl.username"));
    cr_assert(weir_config_is_secret("kafka.producer.sasl.mechanisms"));
    cr_assert(weir_config_is_secret("kafka.producer.ssl.keystore.location"));
    cr_assert(weir_config_is_secret("KAFKA.SASL.PASSWORD"));
    cr_assert(weir_config_is_secret("sasl.oauthbearer.client.secret"));
    cr_assert(!weir_config_is_secret("kafka.consumer.ssl.ca.location"));
    cr_assert(!weir_config_is_secret("kafka.security.protocol"));
}

/* ---- values that used to pass and fail later ----------------------- */

/* Loads @p text and expects a refusal naming its line @p line and @p key. */
static void expect_refused(const char *text, int line, const char *key)
{
    weir_config_t c;
    weir_config_init(&c);
    char *path;
    int rc = load_text(&c, text, &path);
    cr_assert_eq(rc, WEIR_ECONFIG, "accepted: %s", text);
    char expect[700];
    snprintf(expect, sizeof(expect), "%s:%d: %s: ", path, line, key);
    cr_assert(!strncmp(err, expect, strlen(expect)), "expected \"%s...\", got: %s", expect, err);
    cr_assert(!has_control_byte(err), "raw control bytes in: %s", err);
    free(path);
    weir_config_dispose(&c);
}

Test(config, topic_names_with_control_characters_are_refused_at_load)
{
    expect_refused("output.topic = sc\x01ored\n", 1, "output.topic");
    expect_refused("dlq.topic = dead\x1b[0m\n", 1, "dlq.topic");
    expect_refused("# x\nalerts.topic = al\x7f"
                   "erts\n",
                   2, "alerts.topic");
    expect_refused("labels.topic = lab\x85"
                   "els\n",
                   1, "labels.topic");
    expect_refused("input.topics = a, b\x02\n", 1, "input.topics");
    /* and what Kafka itself would refuse */
    expect_refused("output.topic = scored/events\n", 1, "output.topic");
    expect_refused("output.topic = ..\n", 1, "output.topic");
}

Test(config, empty_items_in_lists_are_refused)
{
    expect_refused("input.topics = a,,b\n", 1, "input.topics");
    expect_refused("input.topics = a,b,\n", 1, "input.topics");
    expect_refused("input.topics = ,a\n", 1, "input.topics");
    expect_refused("batch.max = 3\ndrift.numeric.tests = ks,,psi\n", 2, "drift.numeric.tests");
    expect_refused("drift.feature.amount.tests = ks,\n", 1, "drift.feature.amount.tests");
}

Test(config, drift_values_out_of_range_are_refused_at_load)
{
    expect_refused("drift.window = 0\n", 1, "drift.window");
    expect_refused("\ndrift.alpha = 1.5\n", 2, "drift.alpha");
    expect_refused("drift.k_fail = 0\n", 1, "drift.k_fail");
    expect_refused("drift.categorical.max_cells = 1\n", 1, "drift.categorical.max_cells");
    weir_config_t c;
    weir_config_init(&c);
    cr_assert_eq(weir_config_set(&c, "drift.window=0", err, sizeof(err)), WEIR_ECONFIG);
    cr_assert(!strncmp(err, "-X: drift.window: ", 18), "%s", err);
    weir_config_dispose(&c);
}

Test(config, a_bad_http_listen_is_refused_at_load)
{
    expect_refused("http.listen = nowhere\n", 1, "http.listen");
    expect_refused("http.listen = 127.0.0.1:99999\n", 1, "http.listen");
    expect_refused("http.listen = localhost:9464\n", 1, "http.listen");
    weir_config_t c;
    weir_config_init(&c);
    cr_assert_eq(load_text(&c, "http.listen = [::1]:9464\n", NULL), 0, "%s", err);
    cr_assert_eq(load_text(&c, "http.listen = 0.0.0.0:0\n", NULL), 0, "%s", err);
    cr_assert_eq(load_text(&c, "http.listen =\n", NULL), 0, "%s", err);
    cr_assert_str_eq(c.http_listen, "");
    weir_config_dispose(&c);
}

/* A config that weir_config_check_run() accepts, plus @p extra lines. */
static const char *run_ready =
    "kafka.bootstrap.servers = h:1\n" /* 1 */
    "input.topics = in\n"             /* 2 */
    "output.topic = out\n"            /* 3 */
    "dlq.topic = dlq\n"               /* 4 */
    "model.path = " WEIR_SOURCE_DIR "/examples/model.json\n"
    "input.schema = " WEIR_SOURCE_DIR "/schemas/transaction.avsc\n"; /* 6 */

static char *load_run_ready(weir_config_t *c, const char *extra)
{
    char text[4096];
    snprintf(text, sizeof(text), "%s%s", run_ready, extra);
    char *path;
    int rc = load_text(c, text, &path);
    cr_assert_eq(rc, 0, "%s", err);
    return path;
}

Test(config, drift_step_larger_than_the_window_is_refused_naming_file_and_line)
{
    weir_config_t c;
    weir_config_init(&c);
    char *path = load_run_ready(&c, "drift.window = 500\ndrift.step = 1000\n");
    cr_assert_eq(weir_config_check_run(&c, err, sizeof(err)), WEIR_ECONFIG);
    char expect[700];
    snprintf(expect, sizeof(expect), "%s:8: drift.step: ", path);
    cr_assert(!strncmp(err, expect, strlen(expect)), "expected \"%s...\", got: %s", expect, err);
    cr_assert(strstr(err, "drift.window"), "names the other key: %s", err);
    free(path);
    /* the order of the lines does not matter, -X may fix it */
    weir_config_dispose(&c);
    weir_config_init(&c);
    path = load_run_ready(&c, "drift.step = 10000\ndrift.window = 20000\n");
    cr_assert_eq(weir_config_check_run(&c, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(weir_config_set(&c, "drift.window=5000", err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(weir_config_check_run(&c, err, sizeof(err)), WEIR_ECONFIG);
    snprintf(expect, sizeof(expect), "%s:7: drift.step: ", path);
    cr_assert(!strncmp(err, expect, strlen(expect)) && strstr(err, "-X"), "%s", err);
    free(path);
    weir_config_dispose(&c);
}

Test(config, a_topic_loop_names_the_lines_of_both_keys)
{
    weir_config_t c;
    weir_config_init(&c);
    char *path = load_run_ready(&c, "alerts.topic = in\n");
    cr_assert_eq(weir_config_check_run(&c, err, sizeof(err)), WEIR_ECONFIG);
    char expect[700];
    snprintf(expect, sizeof(expect), "%s:7: alerts.topic: ", path);
    cr_assert(!strncmp(err, expect, strlen(expect)), "expected \"%s...\", got: %s", expect, err);
    snprintf(expect, sizeof(expect), "%s:2", path);
    cr_assert(strstr(err, expect), "names input.topics' line: %s", err);
    free(path);
    weir_config_dispose(&c);
}

Test(config, a_missing_model_or_schema_file_names_its_line)
{
    weir_config_t c;
    weir_config_init(&c);
    char *path = load_run_ready(&c, "model.path = no-such-model.json\n");
    cr_assert_eq(weir_config_check_run(&c, err, sizeof(err)), WEIR_ECONFIG);
    char expect[700];
    snprintf(expect, sizeof(expect), "%s:7: model.path: ", path);
    cr_assert(!strncmp(err, expect, strlen(expect)), "expected \"%s...\", got: %s", expect, err);
    cr_assert(strstr(err, "no-such-model.json"), "%s", err);
    free(path);
    weir_config_dispose(&c);
}

Test(config, quote_escapes_what_a_terminal_would_act_on)
{
    char out[256];
    weir_config_quote(out, sizeof(out), "a\x1b[2Jb\n\"q\"\\", 11);
    cr_assert_str_eq(out, "\"a\\x1b[2Jb\\n\\\"q\\\"\\\\\"");
    /* C1 controls, bidi overrides and invalid UTF-8; other UTF-8 passes */
    const char *text = "\xc2\x9b|\xe2\x80\xae|\xff|\xc3\xa9";
    weir_config_quote(out, sizeof(out), text, strlen(text));
    cr_assert_str_eq(out, "\"\\u{009b}|\\u{202e}|\\xff|\xc3\xa9\"");
    /* cut to the buffer, never inside an escape */
    weir_config_quote(out, 12, "\x01\x02\x03\x04", 4);
    cr_assert_str_eq(out, "\"\\x01\"...");
}

Test(config, redact_replaces_every_secret_value_in_a_message)
{
    weir_config_t c;
    weir_config_init(&c);
    cr_assert_eq(weir_config_set(&c, "kafka.sasl.password=S3CRETVALUE", err, sizeof(err)), 0, "%s",
                 err);
    cr_assert_eq(weir_config_set(&c, "kafka.client.id=visible", err, sizeof(err)), 0, "%s", err);
    char text[128] = "ssl: S3CRETVALUE for visible, again S3CRETVALUE\x1b";
    weir_config_redact(&c, text, sizeof(text));
    cr_assert_str_eq(text, "ssl: (secret) for visible, again (secret)\\x1b");
    weir_config_dispose(&c);
}

Test(config, redact_cuts_a_long_message_between_characters)
{
    weir_config_t c;
    weir_config_init(&c);
    /* found by fuzz_config: the cut fell inside a UTF-8 sequence */
    for (size_t size = 4; size < 16; size++) {
        char text[64] = "\x01\xc3\xa9\x01\xc3\xa9\x01\xc3\xa9\x01\xc3\xa9";
        weir_config_redact(&c, text, size);
        cr_assert_lt(strlen(text), size);
        for (const unsigned char *p = (const unsigned char *)text; *p; p++)
            if (*p == 0xc3)
                cr_assert(p[1] == 0xa9, "size %zu: a cut character in \"%s\"", size, text);
    }
    weir_config_dispose(&c);
}
