/*
 * schema_ids.c — the schema ids of `weir run` and `weir gen` (see
 * schema_ids.h): from weir.conf, or registered in the schema registry at
 * start under the topic-name strategy, with the subject's compatibility
 * level checked first so that an incompatible change stops weir with a clear
 * message instead of reaching consumers of the output topic.
 */
#include "schema_ids.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "log.h"
#include "schemas.h"

/* The largest schema text weir registers. */
#define SCHEMA_JSON_MAX (1u << 20)

int weir_schema_registry_open(const weir_config_t *cfg, weir_registry_t **out, char *err,
                              size_t errsz)
{
    *out = NULL;
    if (!cfg->registry_url || !*cfg->registry_url)
        return 0;
    weir_registry_config_t rc = {
        .urls = cfg->registry_url,
        .username = cfg->registry_username,
        .password = cfg->registry_password,
        .ca_location = cfg->registry_ca,
        .timeout_ms = cfg->registry_timeout_ms,
    };
    return weir_registry_new(&rc, out, err, errsz);
}

int weir_schema_register_topic(weir_registry_t *reg, const char *topic, const char *schema_json,
                               int32_t *id, char *err, size_t errsz)
{
    char subject[300], why[600];
    int compatible = 0, rc;
    snprintf(subject, sizeof(subject), "%s-value", topic);
    if ((rc = weir_registry_compatible(reg, subject, schema_json, &compatible, why, sizeof(why))) !=
        0)
        return weir_seterr(err, errsz, rc == WEIR_EIO ? WEIR_EIO : WEIR_ECONFIG, "%s", why);
    if (!compatible)
        return weir_seterr(err, errsz, WEIR_ECONFIG,
                           "schema registry: the schema weir writes to %s is not compatible with "
                           "the latest under subject %s (%s); refusing to start",
                           topic, subject, why);
    if ((rc = weir_registry_register(reg, subject, schema_json, id, why, sizeof(why))) != 0)
        return weir_seterr(err, errsz, rc == WEIR_EIO ? WEIR_EIO : WEIR_ECONFIG, "%s", why);
    return 0;
}

/* avro_schema_to_json into a malloc'd text, growing up to the cap. */
static int to_json(avro_schema_t schema, char **out, char *err, size_t errsz)
{
    for (size_t cap = 16384; cap <= SCHEMA_JSON_MAX; cap *= 4) {
        char *buf = malloc(cap);
        if (!buf)
            return weir_seterr(err, errsz, WEIR_ENOMEM, "out of memory");
        avro_writer_t w = avro_writer_memory(buf, (int64_t)cap - 1);
        int failed = avro_schema_to_json(schema, w);
        int64_t used = avro_writer_tell(w);
        avro_writer_free(w);
        if (!failed) {
            buf[used] = '\0';
            *out = buf;
            return 0;
        }
        free(buf);
    }
    return weir_seterr(err, errsz, WEIR_ELIMIT, "a schema over %u bytes of JSON", SCHEMA_JSON_MAX);
}

/* The text of the input.schema file, as a producer would have registered it
 * (avro-c's JSON of the parsed schema drops "doc" and reorders keys, and a
 * registry compares texts). */
static int read_text(const char *path, char **out, char *err, size_t errsz)
{
    int rc = 0;
    FILE *f = fopen(path, "rb");
    char *buf = malloc(SCHEMA_JSON_MAX + 1);
    size_t n = 0;
    if (!f || !buf) {
        rc = weir_seterr(err, errsz, f ? WEIR_ENOMEM : WEIR_EIO, "%s: cannot read", path);
        goto out;
    }
    n = fread(buf, 1, SCHEMA_JSON_MAX + 1, f);
    if (n > SCHEMA_JSON_MAX) {
        rc = weir_seterr(err, errsz, WEIR_ELIMIT, "%s: over %u bytes", path, SCHEMA_JSON_MAX);
        goto out;
    }
    buf[n] = '\0';
    *out = buf;
    buf = NULL;
out:
    if (f)
        fclose(f);
    free(buf);
    return rc;
}

int weir_schema_ids_resolve(const weir_config_t *cfg, avro_schema_t input, weir_schema_ids_t *ids,
                            char *err, size_t errsz)
{
    int rc;
    weir_registry_t *reg = NULL;
    avro_schema_t scored = NULL;
    char *input_json = NULL, *scored_json = NULL, subject[300];
    ids->input = cfg->input_schema_id;
    ids->output = cfg->output_schema_id;
    ids->alerts = cfg->alerts_schema_id;
    ids->labels = cfg->labels_schema_id;
    if ((rc = weir_schema_registry_open(cfg, &reg, err, errsz)) != 0 || !reg)
        goto out;
    if ((rc = read_text(cfg->input_schema_path, &input_json, err, errsz)) != 0)
        goto out;
    snprintf(subject, sizeof(subject), "%s-value", cfg->input_topics[0]);
    if ((rc = weir_registry_lookup(reg, subject, input_json, &ids->input, err, errsz)) != 0) {
        if (rc == WEIR_ESCHEMA)
            rc = WEIR_ECONFIG;
        goto out;
    }
    if ((rc = weir_scored_schema(input, &scored, err, errsz)) != 0 ||
        (rc = to_json(scored, &scored_json, err, errsz)) != 0 ||
        (rc = weir_schema_register_topic(reg, cfg->output_topic, scored_json, &ids->output, err,
                                         errsz)) != 0)
        goto out;
    if (*cfg->alerts_topic &&
        (rc = weir_schema_register_topic(reg, cfg->alerts_topic, weir_schema_text("drift_alert"),
                                         &ids->alerts, err, errsz)) != 0)
        goto out;
    if (*cfg->labels_topic) {
        char why[600];
        snprintf(subject, sizeof(subject), "%s-value", cfg->labels_topic);
        rc = weir_registry_lookup(reg, subject, weir_schema_text("label"), &ids->labels, why,
                                  sizeof(why));
        if (rc == WEIR_ESCHEMA) {
            weir_log(WEIR_LOG_WARN, "labels schema not in the registry; using labels.schema.id",
                     "subject", subject, "detail", why, NULL);
            rc = 0;
        } else if (rc) {
            weir_seterr(err, errsz, rc, "%s", why);
            goto out;
        }
    }
out:
    if (scored)
        avro_schema_decref(scored);
    free(input_json);
    free(scored_json);
    weir_registry_destroy(reg);
    return rc;
}
