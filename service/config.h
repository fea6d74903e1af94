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
 * configuration (drift/drift.h), validated the same way.
 *
 * A value is refused on the line that sets it; what depends on several keys
 * (weir_config_check()), on what `weir run` needs (weir_config_check_run())
 * or on the model bundle (weir_config_check_model()) is checked once every
 * source is applied, and names the line of each key involved: the config
 * remembers where each key was last set.
 *
 * What an error echoes is escaped (control bytes become `\xNN`), and the
 * value of a secret key (weir_config_is_secret()) is never echoed, nor
 * librdkafka's own message about it.
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
#include "scoring.h"

#define WEIR_CONFIG_MAX_TOPICS 64
/** @brief Longest line of a config file, in bytes. */
#define WEIR_CONFIG_LINE_MAX 65536
/** @brief Largest config file, in bytes. */
#define WEIR_CONFIG_FILE_MAX (1 << 20)
/** @brief Most distinct keys one configuration may set. */
#define WEIR_CONFIG_MAX_KEYS 4096
/** @brief Most `-X` options of one command line. */
#define WEIR_CONFIG_MAX_OVERRIDES 256

/** @brief Where a key was last set: "weir.conf:12", "-X", or a command-line option. */
typedef struct {
    char *key;
    char *where;
} weir_config_origin_t;

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
    /* schema registry (empty url: ids from the *.schema.id keys) */
    char *registry_url;
    char *registry_username;
    char *registry_password;
    char *registry_ca;
    int64_t registry_timeout_ms;
    int32_t labels_schema_id;
    /* model and pipeline */
    char *model_path; /**< a bundle, or a folder of versioned bundles (models.h) */
    size_t batch_max;
    /* rolling a model out and back */
    char *shadow_path;            /**< challenger scored beside the champion; "" off */
    char *shadow_topic;           /**< its ScoredEvents go there; "" into the champion's */
    char *canary_path;            /**< candidate serving canary_share of the keys; "" off */
    double canary_share;          /**< share of keys (by key hash) the canary serves */
    size_t probation_events;      /**< events a reloaded model is watched for; 0 off */
    double probation_dead_share;  /**< dead-letter share above the previous version's */
    double probation_score_drift; /**< KS distance to the previous version's scores */
    double probation_error_rate;  /**< error rate on joined labels above the previous's */
    /* real-time scoring */
    char *score_listen; /**< IP:port of POST /score ("" off in weir run) */
    char *score_token;  /**< bearer token /score requires ("" none); a secret */
    size_t score_body_max;
    /* service */
    char *http_listen; /**< "" when disabled */
    weir_log_level_t log_level;
    char *instance_id;
    int64_t commit_interval_ms;
    int64_t shutdown_timeout_ms;
    int64_t connect_timeout_ms; /**< start-up wait for a broker (connect.h) */
    size_t max_in_flight;
    /* drift and labels: every drift.* key (docs/drift.md) */
    weir_drift_config_t drift;
    int64_t labels_ttl_ms;
    size_t labels_max_pending;
    /* backtests: the costs of a threshold sweep */
    double eval_cost_fp, eval_cost_fn;
    /* librdkafka properties (prefix stripped), in file order */
    size_t kafka_count;
    char **kafka_keys;
    char **kafka_values;
    int *kafka_scope; /**< 0 both clients, 1 consumer only, 2 producer only */
    /* where each key that is not at its default was set */
    size_t origin_count;
    weir_config_origin_t *origins;
} weir_config_t;

/** @brief Defaults for every key. Pair with weir_config_dispose(). */
void weir_config_init(weir_config_t *c);
void weir_config_dispose(weir_config_t *c);

/**
 * @brief Reads a config file (at most WEIR_CONFIG_FILE_MAX bytes) into @p c,
 * on top of what it holds.
 * @returns 0, or WEIR_ECONFIG/WEIR_EIO with `file:line: key: problem` in @p err.
 */
int weir_config_load_file(weir_config_t *c, const char *path, char *err, size_t errsz);

/**
 * @brief Same as weir_config_load_file() from @p len bytes in memory; @p name
 * stands for the file in messages, @p base is the folder relative paths are
 * resolved against (NULL: the working directory).
 */
int weir_config_load_text(weir_config_t *c, const char *name, const char *base, const char *text,
                          size_t len, char *err, size_t errsz);

/** @brief Applies one `key=value` override (from -X); errors start with "-X: ". */
int weir_config_set(weir_config_t *c, const char *assignment, char *err, size_t errsz);

/**
 * @brief Sets @p key from a command-line option named @p where (e.g.
 * "--drift-window"): the option is remembered as the key's origin and errors
 * start with it. Relative paths stay relative to the working directory.
 */
int weir_config_set_from(weir_config_t *c, const char *key, const char *value, const char *where,
                         char *err, size_t errsz);

/** @brief Where @p key was last set ("weir.conf:12", "-X", "--model"); NULL: its default. */
const char *weir_config_origin(const weir_config_t *c, const char *key);

/** @brief The -c file and -X overrides of a command line, in the order they apply. */
typedef struct {
    const char *path; /**< -c FILE, or NULL */
    const char *overrides[WEIR_CONFIG_MAX_OVERRIDES];
    size_t n_overrides;
} weir_config_args_t;

/** @brief Loads @p a's file, then its overrides, into @p c. */
int weir_config_apply_args(weir_config_t *c, const weir_config_args_t *a, char *err, size_t errsz);

/**
 * @brief Checks what depends on several keys (drift.step within drift.window).
 * @returns 0 or WEIR_ECONFIG naming where each key involved was set.
 */
int weir_config_check(const weir_config_t *c, char *err, size_t errsz);

/**
 * @brief weir_config_check(), then what `weir run` needs: the topics, model
 * and schema (readable), a bootstrap address, no topic used for two purposes.
 * @returns 0 or WEIR_ECONFIG naming the key and where it was set.
 */
int weir_config_check_run(const weir_config_t *c, char *err, size_t errsz);

/**
 * @brief Refuses `drift.feature.*` keys that cannot take effect with model
 * @p m: a feature it does not have, a test that does not apply to the
 * feature's type or is not among the tests run on it, a threshold for a test
 * whose part of the reference the bundle lacks, a feature with no reference.
 * @returns 0 or WEIR_ECONFIG with `where: key: reason`.
 */
int weir_config_check_model(const weir_config_t *c, const weir_model_t *m, char *err, size_t errsz);

/**
 * @brief Builds a librdkafka conf for one client from the kafka.* keys and
 * weir's defaults for it (@p consumer nonzero: the consumer). Errors never
 * quote a secret value.
 */
int weir_config_kafka(const weir_config_t *c, int consumer, rd_kafka_conf_t **out, char *err,
                      size_t errsz);

/**
 * @brief Whether a key names a secret whose value must never be logged:
 * one that (ignoring case, after `kafka.` and `consumer.`/`producer.`)
 * contains `password`, `secret` or `token`, starts with `sasl.` (or has a
 * `.sasl.` part), or starts with `ssl.` and contains `key`.
 */
int weir_config_is_secret(const char *key);

/**
 * @brief Writes @p s (@p len bytes) into @p out as a double-quoted string
 * that is safe on a terminal: control bytes, invalid UTF-8, C1 controls and
 * bidirectional overrides become `\xNN` or `\u{XXXX}`, quotes and backslashes
 * are escaped; cut with "..." after the quote when @p out is too small.
 */
void weir_config_quote(char *out, size_t outsz, const char *s, size_t len);

/**
 * @brief Replaces in @p text (NUL-terminated, in a buffer of @p size bytes)
 * every occurrence of the value of a secret kafka.* key of @p c with
 * "(secret)", and escapes its control bytes: for messages of librdkafka that
 * may quote a value (rd_kafka_new's error string).
 */
void weir_config_redact(const weir_config_t *c, char *text, size_t size);

/** @brief Whether @p name is a valid Kafka topic name (1-249 of [a-zA-Z0-9._-], not . or ..). */
int weir_config_topic_ok(const char *name);

/** @brief Prints every known key with its default and help (for `-h`). */
void weir_config_print_keys(FILE *out);

#endif
