/**
 * @file config.h
 * @brief `weir.conf`: Kafka-style `key = value` properties, `-X` overrides,
 *        validation that names the file, line and key at fault.
 *
 * Every key weir knows is in one table (config.c) with its type, default and
 * help; an unknown key is an error, with a suggestion when one is close.
 * `kafka.*` keys go to librdkafka without the prefix (both clients),
 * `kafka.consumer.*` and `kafka.producer.*` to one client only; librdkafka
 * validates them here, at load time. `drift.*` keys go to the drift monitor's
 * configuration (drift/drift.h), validated the same way. Secrets are never
 * printed.
 */
#ifndef WEIR_CONFIG_H
#define WEIR_CONFIG_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "drift.h"
#include "log.h"
#include "schemas.h"

#define WEIR_CONFIG_MAX_TOPICS 64

typedef struct {
    /* input */
    char *input_topics[WEIR_CONFIG_MAX_TOPICS + 1]; /**< NULL-terminated */
    size_t input_topic_count;
    weir_framing_t input_framing;
    char *input_schema_path; /**< resolved against the config file's folder */
    int32_t input_schema_id;
    char *input_id_field;
    char *input_time_field; /**< "" = the Kafka message timestamp */
    /* output */
    char *output_topic;
    weir_framing_t output_framing;
    int32_t output_schema_id;
    char *dlq_topic;
    char *alerts_topic;
    int32_t alerts_schema_id;
    char *labels_topic;
    int32_t labels_schema_id;
    /* model and pipeline */
    char *model_path;
    size_t batch_max;
    /* service */
    char *http_listen; /**< "" when disabled */
    weir_log_level_t log_level;
    char *instance_id;
    int64_t commit_interval_ms;
    int64_t shutdown_timeout_ms;
    size_t max_in_flight;
    /* drift and labels: every drift.* key (docs/drift.md) */
    weir_drift_config_t drift;
    int64_t labels_ttl_ms;
    size_t labels_max_pending;
    /* librdkafka properties (prefix stripped), in file order */
    size_t kafka_count;
    char **kafka_keys;
    char **kafka_values;
    int *kafka_scope; /**< 0 both clients, 1 consumer only, 2 producer only */
} weir_config_t;

/** @brief Defaults for every key. Pair with weir_config_dispose(). */
void weir_config_init(weir_config_t *c);
void weir_config_dispose(weir_config_t *c);

/**
 * @brief Reads a config file into @p c (on top of what it holds).
 * @returns 0, or WEIR_ECONFIG/WEIR_EIO with `file:line: key: problem` in @p err.
 */
int weir_config_load_file(weir_config_t *c, const char *path, char *err, size_t errsz);

/** @brief Applies one `key=value` override (from -X); errors name "-X key". */
int weir_config_set(weir_config_t *c, const char *assignment, char *err, size_t errsz);

/**
 * @brief Checks what `weir run` needs (topics, model, schema) after loading.
 * @returns 0 or WEIR_ECONFIG naming the missing key.
 */
int weir_config_check_run(const weir_config_t *c, char *err, size_t errsz);

/**
 * @brief Builds a librdkafka conf for one client from the kafka.* keys and
 * weir's defaults for it (@p consumer nonzero: the consumer).
 */
int weir_config_kafka(const weir_config_t *c, int consumer, rd_kafka_conf_t **out, char *err,
                      size_t errsz);

/** @brief Whether a key names a secret that must never be logged. */
int weir_config_is_secret(const char *key);

/** @brief Prints every known key with its default and help (for `-h`). */
void weir_config_print_keys(FILE *out);

#endif
