/**
 * @file registry.h
 * @brief A client of a Confluent-compatible schema registry (Confluent Schema
 *        Registry, Apicurio's /apis/ccompat/v7): writer schemas by id, with a
 *        bounded cache, subjects registered and checked for compatibility.
 *
 * Several base URLs may be given for failover: a request goes to the URL that
 * answered last and moves on to the next one when a registry cannot be reached
 * or answers 5xx. Basic auth and TLS (a CA file, a client certificate) are
 * optional; the password never appears in a message. Calls block (at most
 * the number of URLs times the timeout): make them outside the event loop's
 * callbacks or before the loop runs. Not thread-safe.
 */
#ifndef WEIR_REGISTRY_H
#define WEIR_REGISTRY_H

#include <avro.h>
#include <stddef.h>
#include <stdint.h>

/** @brief Most base URLs in schema.registry.url. */
#define WEIR_REGISTRY_MAX_URLS 8
/** @brief Largest registry answer read (a schema and its JSON envelope). */
#define WEIR_REGISTRY_MAX_BODY (4u << 20)

typedef struct weir_registry weir_registry_t;

typedef struct {
    const char *urls;          /**< comma list of base URLs (required) */
    const char *username;      /**< basic auth user, or NULL */
    const char *password;      /**< basic auth password, or NULL */
    const char *ca_location;   /**< PEM CA file for https, or NULL: the system's */
    const char *cert_location; /**< PEM client certificate, or NULL */
    const char *key_location;  /**< PEM client key, or NULL */
    int64_t timeout_ms;        /**< per request and URL; 0: 10 s */
    size_t cache_max;          /**< writer schemas kept; 0: 1000 */
} weir_registry_config_t;

/**
 * @brief Makes a client (no request is sent). The strings are copied.
 * @returns 0, or WEIR_ECONFIG naming the bad URL, or WEIR_ENOMEM.
 */
int weir_registry_new(const weir_registry_config_t *cfg, weir_registry_t **out, char *err,
                      size_t errsz);

void weir_registry_destroy(weir_registry_t *r);

/**
 * @brief The writer schema registered under @p id, from the cache or the
 * registry (then cached; the least recently used entry leaves a full cache).
 * @param out a new reference: avro_schema_decref() it.
 * @returns 0; WEIR_ESCHEMA when the registry does not know the id (or its
 *          schema is not Avro or does not parse): a dead letter, not a retry;
 *          WEIR_EIO when no registry answered (down, slow, 5xx, 401/403):
 *          try again later.
 */
int weir_registry_schema(weir_registry_t *r, int32_t id, avro_schema_t *out, char *err,
                         size_t errsz);

/**
 * @brief The text of the writer schema registered under @p id, as the
 * registry holds it (defaults and aliases included, which avro-c's parsed
 * schema drops): what resolution needs. Not cached.
 * @param text a malloc'd copy: free() it.
 * @returns as weir_registry_schema().
 */
int weir_registry_schema_text(weir_registry_t *r, int32_t id, char **text, char *err, size_t errsz);

/**
 * @brief Registers @p schema_json under @p subject (or finds it there).
 * @returns 0 with the registry's id in @p id; WEIR_ESCHEMA when the registry
 *          refuses it (incompatible, invalid); WEIR_EIO when unreachable.
 */
int weir_registry_register(weir_registry_t *r, const char *subject, const char *schema_json,
                           int32_t *id, char *err, size_t errsz);

/**
 * @brief The id of @p schema_json if it is registered under @p subject.
 * @returns 0 with the id; WEIR_ESCHEMA when the subject does not hold it (or
 *          does not exist); WEIR_EIO when unreachable.
 */
int weir_registry_lookup(weir_registry_t *r, const char *subject, const char *schema_json,
                         int32_t *id, char *err, size_t errsz);

/**
 * @brief Whether @p schema_json is compatible with the latest version under
 * @p subject, by the subject's compatibility level. A subject without versions
 * is compatible.
 * @returns 0 with 1/0 in @p compatible (and the registry's reasons in @p err
 *          when 0); WEIR_EIO when unreachable.
 */
int weir_registry_compatible(weir_registry_t *r, const char *subject, const char *schema_json,
                             int *compatible, char *err, size_t errsz);

/** @brief Requests sent and requests failed over to another URL (for /metrics). */
void weir_registry_counts(const weir_registry_t *r, uint64_t *requests, uint64_t *failovers,
                          uint64_t *cache_hits);

#endif
