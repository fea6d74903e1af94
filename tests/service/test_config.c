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
    weir_config_set(&c, "model.path=m.json", err, sizeof(err));
    weir_config_set(&c, "input.schema=s.avsc", err, sizeof(err));
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
