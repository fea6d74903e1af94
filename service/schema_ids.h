/**
 * @file schema_ids.h
 * @brief The Confluent schema ids weir reads and writes: the *.schema.id keys
 *        of weir.conf, or, with schema.registry.url, the registry's ids under
 *        the topic-name strategy subjects (`<topic>-value`).
 */
#ifndef WEIR_SCHEMA_IDS_H
#define WEIR_SCHEMA_IDS_H

#include <avro.h>
#include <stdint.h>

#include "config.h"
#include "registry.h"

typedef struct {
    int32_t input;  /**< the id the input (input.schema) carries */
    int32_t output; /**< the id written on scored events */
    int32_t alerts; /**< the id written on drift alerts */
    int32_t labels; /**< the id labels carry */
} weir_schema_ids_t;

/**
 * @brief A registry client for the schema.registry.* keys of @p cfg; *out is
 * NULL (and 0 returned) when schema.registry.url is empty.
 */
int weir_schema_registry_open(const weir_config_t *cfg, weir_registry_t **out, char *err,
                              size_t errsz);

/**
 * @brief Checks @p schema_json against the latest version under
 * `<topic>-value` and registers it there.
 * @returns 0 with the id; WEIR_ECONFIG when the subject's compatibility level
 *          refuses it (the message names the subject and the registry's
 *          reason); WEIR_EIO when the registry is unreachable.
 */
int weir_schema_register_topic(weir_registry_t *reg, const char *topic, const char *schema_json,
                               int32_t *id, char *err, size_t errsz);

/**
 * @brief The ids `weir run` uses: those of @p cfg without a registry; with
 * one, the input schema's id under `<first input topic>-value` (it must be
 * registered there), and the ScoredEvent schema derived from @p input and the
 * DriftAlert schema registered under `<output.topic>-value` and
 * `<alerts.topic>-value` after a compatibility check; the Label schema's id
 * under `<labels.topic>-value` when it is registered there (else
 * labels.schema.id, with a warning).
 * @returns 0; WEIR_ECONFIG (exit 2) for an unregistered input schema or an
 *          incompatible output schema; WEIR_EIO when the registry cannot be
 *          reached.
 */
int weir_schema_ids_resolve(const weir_config_t *cfg, avro_schema_t input, weir_schema_ids_t *ids,
                            char *err, size_t errsz);

#endif
