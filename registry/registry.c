/*
 * registry.c — the schema registry client (see registry.h): libcurl for the
 * requests, jansson for the answers, failover across the configured URLs and
 * a bounded least-recently-used cache of writer schemas by id.
 *
 * One curl handle is reused for every request (its connections stay open);
 * the answer goes into one capped buffer. A URL that cannot be reached or
 * answers 5xx hands the request to the next URL; the one that answered is
 * tried first next time. Messages name the URL and never the password, which
 * is why credentials in the URL itself are refused.
 */
#include "registry.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "schemas.h"

typedef struct {
    int32_t id;
    avro_schema_t schema;
    uint64_t used; /* tick of the last use: the smallest leaves a full cache */
} cached_t;

struct weir_registry {
    char *urls[WEIR_REGISTRY_MAX_URLS];
    size_t nurls, current;
    char *userpwd, *ca, *cert, *key;
    long timeout_ms;
    CURL *curl;
    struct curl_slist *headers;
    weir_buf_t body;
    cached_t *cache;
    size_t cache_n, cache_max;
    uint64_t tick, requests, failovers, hits;
};

static char *dup_or_null(const char *s)
{
    return s && *s ? strdup(s) : NULL;
}

static size_t on_body(char *p, size_t size, size_t n, void *opaque)
{
    weir_buf_t *b = opaque;
    /* a short count makes curl fail the transfer: an answer over the cap */
    return weir_buf_append(b, p, size * n) == 0 ? size * n : 0;
}

int weir_registry_new(const weir_registry_config_t *cfg, weir_registry_t **out, char *err,
                      size_t errsz)
{
    int rc = 0;
    weir_registry_t *r = calloc(1, sizeof(*r));
    *out = NULL;
    if (!r)
        return weir_seterr(err, errsz, WEIR_ENOMEM, "out of memory");
    weir_buf_init(&r->body, WEIR_REGISTRY_MAX_BODY);
    const char *p = cfg->urls ? cfg->urls : "";
    while (*p) {
        size_t len = strcspn(p, ",");
        while (len && (p[len - 1] == ' ' || p[len - 1] == '/'))
            len--;
        while (len && *p == ' ')
            p++, len--;
        if (len) {
            if (r->nurls == WEIR_REGISTRY_MAX_URLS) {
                rc = weir_seterr(err, errsz, WEIR_ECONFIG, "schema.registry.url: more than %d URLs",
                                 WEIR_REGISTRY_MAX_URLS);
                goto out;
            }
            char *u = strndup(p, len);
            if (!u) {
                rc = weir_seterr(err, errsz, WEIR_ENOMEM, "out of memory");
                goto out;
            }
            r->urls[r->nurls++] = u;
            const char *host = strstr(u, "://");
            if (strncmp(u, "http://", 7) && strncmp(u, "https://", 8)) {
                rc = weir_seterr(err, errsz, WEIR_ECONFIG,
                                 "schema.registry.url: '%s' is not an http:// or https:// URL", u);
                goto out;
            }
            if (host && strchr(host, '@') &&
                strchr(host, '@') < host + strcspn(host + 3, "/") + 3) {
                rc = weir_seterr(err, errsz, WEIR_ECONFIG,
                                 "schema.registry.url: credentials in a URL are refused (they "
                                 "would be logged); use schema.registry.basic.auth.user.info");
                goto out;
            }
        }
        p += strcspn(p, ",");
        if (*p == ',')
            p++;
    }
    if (!r->nurls) {
        rc = weir_seterr(err, errsz, WEIR_ECONFIG, "schema.registry.url: no URL");
        goto out;
    }
    if (cfg->username && *cfg->username) {
        size_t n = strlen(cfg->username) + strlen(cfg->password ? cfg->password : "") + 2;
        if ((r->userpwd = malloc(n)))
            snprintf(r->userpwd, n, "%s:%s", cfg->username, cfg->password ? cfg->password : "");
    }
    r->ca = dup_or_null(cfg->ca_location);
    r->cert = dup_or_null(cfg->cert_location);
    r->key = dup_or_null(cfg->key_location);
    r->timeout_ms = cfg->timeout_ms > 0 ? (long)cfg->timeout_ms : 10000;
    r->cache_max = cfg->cache_max ? cfg->cache_max : 1000;
    r->cache = calloc(r->cache_max, sizeof(*r->cache));
    curl_global_init(CURL_GLOBAL_DEFAULT);
    r->curl = curl_easy_init();
    r->headers = curl_slist_append(NULL, "Content-Type: application/vnd.schemaregistry.v1+json");
    if (r->headers)
        r->headers = curl_slist_append(
            r->headers, "Accept: application/vnd.schemaregistry.v1+json, application/json");
    if (!r->cache || !r->curl || !r->headers || (cfg->username && *cfg->username && !r->userpwd)) {
        rc = weir_seterr(err, errsz, WEIR_ENOMEM, "out of memory");
        goto out;
    }
out:
    if (rc) {
        weir_registry_destroy(r);
        r = NULL;
    }
    *out = r;
    return rc;
}

void weir_registry_destroy(weir_registry_t *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nurls; i++)
        free(r->urls[i]);
    for (size_t i = 0; i < r->cache_n; i++)
        avro_schema_decref(r->cache[i].schema);
    free(r->cache);
    if (r->userpwd) {
        memset(r->userpwd, 0, strlen(r->userpwd));
        free(r->userpwd);
    }
    free(r->ca);
    free(r->cert);
    free(r->key);
    if (r->curl)
        curl_easy_cleanup(r->curl);
    curl_slist_free_all(r->headers);
    weir_buf_dispose(&r->body);
    free(r);
}

/* One request, failing over across the URLs. On 0, r->body holds the
 * answer (NUL-terminated) and *status its HTTP status (below 500). */
static int request(weir_registry_t *r, const char *path, const char *post, long *status, char *err,
                   size_t errsz)
{
    char url[2048], last[512] = "";
    for (size_t k = 0; k < r->nurls; k++) {
        size_t u = (r->current + k) % r->nurls;
        if (k)
            r->failovers++;
        r->requests++;
        snprintf(url, sizeof(url), "%s%s", r->urls[u], path);
        weir_buf_reset(&r->body);
        CURL *c = r->curl;
        curl_easy_reset(c);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, r->headers);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &r->body);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, r->timeout_ms);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, r->timeout_ms);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        if (r->userpwd) {
            curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
            curl_easy_setopt(c, CURLOPT_USERPWD, r->userpwd);
        }
        if (r->ca)
            curl_easy_setopt(c, CURLOPT_CAINFO, r->ca);
        if (r->cert)
            curl_easy_setopt(c, CURLOPT_SSLCERT, r->cert);
        if (r->key)
            curl_easy_setopt(c, CURLOPT_SSLKEY, r->key);
        if (post) {
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, post);
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(post));
        }
        CURLcode cc = curl_easy_perform(c);
        long code = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        if (cc != CURLE_OK) {
            snprintf(last, sizeof(last), "%s: %s", r->urls[u], curl_easy_strerror(cc));
            continue;
        }
        if (code >= 500) {
            snprintf(last, sizeof(last), "%s: HTTP %ld", r->urls[u], code);
            continue;
        }
        if (weir_buf_append(&r->body, "", 1) != 0) {
            snprintf(last, sizeof(last), "%s: answer over %u bytes", r->urls[u],
                     WEIR_REGISTRY_MAX_BODY);
            continue;
        }
        r->current = u;
        *status = code;
        return 0;
    }
    return weir_seterr(err, errsz, WEIR_EIO, "schema registry unavailable (%s)", last);
}

/* The registry's own words on a refusal: {"error_code":N,"message":"..."}. */
static void registry_message(const weir_registry_t *r, char *out, size_t outsz)
{
    json_t *j = json_loads((const char *)r->body.data, 0, NULL);
    const char *m = j ? json_string_value(json_object_get(j, "message")) : NULL;
    snprintf(out, outsz, "%.300s", m ? m : (const char *)r->body.data);
    json_decref(j);
}

static cached_t *cache_find(weir_registry_t *r, int32_t id)
{
    for (size_t i = 0; i < r->cache_n; i++)
        if (r->cache[i].id == id)
            return &r->cache[i];
    return NULL;
}

static void cache_put(weir_registry_t *r, int32_t id, avro_schema_t schema)
{
    cached_t *slot;
    if (r->cache_n < r->cache_max) {
        slot = &r->cache[r->cache_n++];
    } else {
        slot = &r->cache[0];
        for (size_t i = 1; i < r->cache_n; i++)
            if (r->cache[i].used < slot->used)
                slot = &r->cache[i];
        avro_schema_decref(slot->schema);
    }
    slot->id = id;
    slot->schema = avro_schema_incref(schema);
    slot->used = ++r->tick;
}

/* Asks the registry for the schema text of @p id into a malloc'd @p text. */
static int fetch_text(weir_registry_t *r, int32_t id, char **text, char *err, size_t errsz)
{
    int rc;
    long status = 0;
    json_t *j = NULL;
    char path[64], why[400];
    *text = NULL;
    snprintf(path, sizeof(path), "/schemas/ids/%ld", (long)id);
    if ((rc = request(r, path, NULL, &status, err, errsz)) != 0)
        goto out;
    if (status == 401 || status == 403) {
        rc = weir_seterr(err, errsz, WEIR_EIO,
                         "schema registry refused weir's credentials (HTTP %ld) for schema id %ld",
                         status, (long)id);
        goto out;
    }
    if (status != 200) {
        registry_message(r, why, sizeof(why));
        rc = weir_seterr(err, errsz, WEIR_ESCHEMA, "schema id %ld unknown to the registry: %s",
                         (long)id, why);
        goto out;
    }
    j = json_loads((const char *)r->body.data, 0, NULL);
    const char *schema = j ? json_string_value(json_object_get(j, "schema")) : NULL;
    const char *type = j ? json_string_value(json_object_get(j, "schemaType")) : NULL;
    if (!schema || (type && strcmp(type, "AVRO"))) {
        rc = weir_seterr(err, errsz, WEIR_ESCHEMA, "schema id %ld is not an Avro schema (%s)",
                         (long)id, type ? type : "no \"schema\" in the answer");
        goto out;
    }
    if (!(*text = strdup(schema)))
        rc = weir_seterr(err, errsz, WEIR_ENOMEM, "out of memory");
out:
    json_decref(j);
    return rc;
}

int weir_registry_schema(weir_registry_t *r, int32_t id, avro_schema_t *out, char *err,
                         size_t errsz)
{
    int rc;
    char *text = NULL, why[400];
    *out = NULL;
    cached_t *hit = cache_find(r, id);
    if (hit) {
        hit->used = ++r->tick;
        r->hits++;
        *out = avro_schema_incref(hit->schema);
        return 0;
    }
    if ((rc = fetch_text(r, id, &text, err, errsz)) != 0)
        goto out;
    if ((rc = weir_schema_parse(text, out, why, sizeof(why))) != 0) {
        rc = weir_seterr(err, errsz, WEIR_ESCHEMA, "schema id %ld: %s", (long)id, why);
        goto out;
    }
    cache_put(r, id, *out);
out:
    free(text);
    return rc;
}

int weir_registry_schema_text(weir_registry_t *r, int32_t id, char **text, char *err, size_t errsz)
{
    return fetch_text(r, id, text, err, errsz);
}

/* {"schema": "<json text>"} for a POST. */
static char *schema_envelope(const char *schema_json)
{
    json_t *o = json_pack("{s:s}", "schema", schema_json);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

static int subject_path(weir_registry_t *r, const char *fmt, const char *subject, char *out,
                        size_t outsz)
{
    char *esc = curl_easy_escape(r->curl, subject, 0);
    if (!esc)
        return WEIR_ENOMEM;
    snprintf(out, outsz, fmt, esc);
    curl_free(esc);
    return 0;
}

/* POSTs @p schema_json to the subject's @p path_fmt and reads the id of the
 * answer; @p refusal words a non-200 answer ("... subject S (HTTP N): why"). */
static int post_for_id(weir_registry_t *r, const char *path_fmt, const char *subject,
                       const char *schema_json, const char *refusal, int32_t *id, char *err,
                       size_t errsz)
{
    int rc;
    long status = 0;
    json_t *j = NULL;
    char path[1024], why[400];
    char *body = schema_envelope(schema_json);
    if (!body || subject_path(r, path_fmt, subject, path, sizeof(path)) != 0) {
        rc = weir_seterr(err, errsz, WEIR_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = request(r, path, body, &status, err, errsz)) != 0)
        goto out;
    if (status != 200) {
        registry_message(r, why, sizeof(why));
        rc = weir_seterr(err, errsz, status == 401 || status == 403 ? WEIR_EIO : WEIR_ESCHEMA,
                         "%s subject %s (HTTP %ld): %s", refusal, subject, status, why);
        goto out;
    }
    j = json_loads((const char *)r->body.data, 0, NULL);
    json_t *v = j ? json_object_get(j, "id") : NULL;
    if (!json_is_integer(v)) {
        rc = weir_seterr(err, errsz, WEIR_ESCHEMA, "subject %s: no id in the registry's answer",
                         subject);
        goto out;
    }
    *id = (int32_t)json_integer_value(v);
out:
    json_decref(j);
    free(body);
    return rc;
}

int weir_registry_register(weir_registry_t *r, const char *subject, const char *schema_json,
                           int32_t *id, char *err, size_t errsz)
{
    return post_for_id(r, "/subjects/%s/versions", subject, schema_json,
                       "the registry refused the schema of", id, err, errsz);
}

int weir_registry_lookup(weir_registry_t *r, const char *subject, const char *schema_json,
                         int32_t *id, char *err, size_t errsz)
{
    return post_for_id(r, "/subjects/%s", subject, schema_json,
                       "the schema is not registered under", id, err, errsz);
}

int weir_registry_compatible(weir_registry_t *r, const char *subject, const char *schema_json,
                             int *compatible, char *err, size_t errsz)
{
    int rc;
    long status = 0;
    json_t *j = NULL;
    char path[1024], why[400];
    char *body = schema_envelope(schema_json);
    *compatible = 0;
    if (!body || subject_path(r, "/compatibility/subjects/%s/versions/latest?verbose=true", subject,
                              path, sizeof(path)) != 0) {
        rc = weir_seterr(err, errsz, WEIR_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = request(r, path, body, &status, err, errsz)) != 0)
        goto out;
    if (status == 404) { /* no such subject or no version yet */
        *compatible = 1;
        goto out;
    }
    if (status != 200) {
        registry_message(r, why, sizeof(why));
        rc = weir_seterr(err, errsz, status == 401 || status == 403 ? WEIR_EIO : WEIR_ESCHEMA,
                         "the registry could not check subject %s (HTTP %ld): %s", subject, status,
                         why);
        goto out;
    }
    j = json_loads((const char *)r->body.data, 0, NULL);
    json_t *v = j ? json_object_get(j, "is_compatible") : NULL;
    if (!json_is_boolean(v)) {
        rc = weir_seterr(err, errsz, WEIR_ESCHEMA,
                         "subject %s: no is_compatible in the registry's answer", subject);
        goto out;
    }
    *compatible = json_is_true(v);
    if (!*compatible) {
        json_t *msgs = json_object_get(j, "messages");
        const char *first = json_string_value(json_array_get(msgs, 0));
        weir_seterr(err, errsz, 0, "subject %s: incompatible with its latest version%s%.300s",
                    subject, first ? ": " : "", first ? first : "");
    }
out:
    json_decref(j);
    free(body);
    return rc;
}

void weir_registry_counts(const weir_registry_t *r, uint64_t *requests, uint64_t *failovers,
                          uint64_t *cache_hits)
{
    *requests = r->requests;
    *failovers = r->failovers;
    *cache_hits = r->hits;
}
