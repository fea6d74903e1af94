/*
 * score.c — POST /score (score.h): authenticates the request (an optional
 * bearer token, compared in constant time), turns its body into one framed
 * Avro event — a JSON object encoded against the input schema, a
 * Confluent-framed value as it is, or a raw Avro body framed with the schema
 * id its Content-Type names — runs it through the bundle's one-event pipeline
 * and answers JSON.
 *
 *   200 {"event_id": "…", "model": "…", "version": "…", "score": 0.0123,
 *        "label": "legit", "probabilities": {"legit": 0.9877, "fraud": 0.0123}}
 *   400 {"error": "missing_field", "detail": "field amount: missing"}
 *
 * Numbers are written with 17 significant digits: a client reads back the
 * very double `weir batch` writes for the same event.
 */
#include "score.h"
#include "clock.h"
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define EVENT_MAX ((size_t)16 << 20)

int weir_score_init(weir_score_t *s, const weir_config_t *cfg, char *err, size_t errsz)
{
    memset(s, 0, sizeof(*s));
    weir_buf_init(&s->event, EVENT_MAX);
    s->input_schema_id = cfg->input_schema_id;
    s->token = cfg->score_token;
    int rc = weir_schema_load_file(cfg->input_schema_path, &s->input, err, errsz);
    if (rc)
        s->input = NULL;
    return rc ? WEIR_ECONFIG : 0;
}

void weir_score_dispose(weir_score_t *s)
{
    if (s->input)
        avro_schema_decref(s->input);
    s->input = NULL;
    weir_buf_dispose(&s->event);
}

void weir_score_limits(const weir_config_t *cfg, weir_http_limits_t *limits)
{
    weir_http_limits_default(limits);
    limits->body_max = cfg->score_body_max;
}

/* Appends @p v as a JSON string. */
static void json_string(weir_buf_t *b, const char *v)
{
    weir_buf_append(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (*p == '"' || *p == '\\')
            weir_buf_printf(b, "\\%c", *p);
        else if (*p < 0x20)
            weir_buf_printf(b, "\\u%04x", *p);
        else
            weir_buf_append(b, p, 1);
    }
    weir_buf_append(b, "\"", 1);
}

static int answer_error(weir_buf_t *body, int status, const char *code, const char *detail)
{
    weir_buf_reset(body);
    weir_buf_printf(body, "{\"error\": ");
    json_string(body, code);
    weir_buf_printf(body, ", \"detail\": ");
    json_string(body, detail);
    weir_buf_printf(body, "}\n");
    return status;
}

/* Constant-time comparison of the Authorization value with "Bearer TOKEN". */
static int authorized(const char *token, const char *authorization)
{
    if (!token || !*token)
        return 1;
    if (strncasecmp(authorization, "Bearer ", 7) != 0)
        return 0;
    const char *given = authorization + 7;
    size_t n = strlen(token), m = strlen(given);
    unsigned char diff = (unsigned char)(n != m);
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)(token[i] ^ (i < m ? given[i] : 0));
    return diff == 0;
}

/* The media type of a Content-Type (lowercase, without parameters), and its
 * schema-id parameter (-1 when absent, -2 when malformed). */
static void media_type(const char *ct, char *type, size_t typesz, int64_t *schema_id)
{
    size_t n = strcspn(ct, ";");
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < typesz; i++)
        if (ct[i] != ' ' && ct[i] != '\t')
            type[o++] = (char)(ct[i] >= 'A' && ct[i] <= 'Z' ? ct[i] - 'A' + 'a' : ct[i]);
    type[o] = '\0';
    *schema_id = -1;
    const char *param = strcasestr(ct + n, "schema-id=");
    if (param) {
        char *end;
        long long id = strtoll(param + 10, &end, 10);
        *schema_id = end == param + 10 || id < 0 || id > INT32_MAX ? -2 : id;
    }
}

/* Builds the framed event from the request; returns 0 or the HTTP status of a refusal. */
static int framed_event(weir_score_t *s, const weir_http_call_t *call, weir_buf_t *body)
{
    char type[128], detail[512];
    int64_t id;
    media_type(call->head->content_type, type, sizeof(type), &id);
    weir_buf_reset(&s->event);
    const char *text = call->body ? (const char *)call->body : "";
    if (!type[0] || !strcmp(type, "application/json")) {
        weir_framing_write(&s->event, WEIR_FRAMING_CONFLUENT, s->input_schema_id);
        int rc =
            weir_json_to_avro(s->input, text, call->body_len, &s->event, detail, sizeof(detail));
        if (rc == 0)
            return 0;
        return answer_error(body, rc == WEIR_ELIMIT ? 413 : 400,
                            rc == WEIR_EDECODE    ? "malformed_json"
                            : rc == WEIR_EMISSING ? "missing_field"
                            : rc == WEIR_ETYPE    ? "wrong_type"
                                                  : "bad_event",
                            detail);
    }
    if (!strcmp(type, "application/vnd.confluent.avro") ||
        (!strcmp(type, "application/avro") && id >= 0)) {
        if (id >= 0 && strcmp(type, "application/avro") == 0)
            weir_framing_write(&s->event, WEIR_FRAMING_CONFLUENT, (int32_t)id);
        if (weir_buf_append(&s->event, call->body, call->body_len) != 0)
            return answer_error(body, 413, "too_large", "the event does not fit");
        return 0;
    }
    if (!strcmp(type, "application/avro"))
        return answer_error(body, 415, "unsupported_media_type",
                            id == -2 ? "schema-id must be an integer from 0 to 2147483647"
                                     : "raw Avro needs its schema id: Content-Type: "
                                       "application/avro; schema-id=N (or send the "
                                       "Confluent framing as application/vnd.confluent.avro)");
    snprintf(detail, sizeof(detail),
             "Content-Type %.100s: send application/json, application/vnd.confluent.avro or "
             "application/avro; schema-id=N",
             type);
    return answer_error(body, 415, "unsupported_media_type", detail);
}

/* Whether a dead letter is the request's fault (400) or the event's, as the model sees it (422). */
static int refusal_status(weir_reason_t r)
{
    return r == WEIR_REASON_MISSING_VALUE || r == WEIR_REASON_UNKNOWN_CATEGORY ||
                   r == WEIR_REASON_INVALID_VALUE
               ? 422
               : 400;
}

static int score_one(weir_score_t *s, const weir_bundle_t *b, weir_buf_t *body)
{
    weir_pipeline_item_t item;
    char err[512];
    memset(&item, 0, sizeof(item));
    item.value = s->event.data;
    item.value_len = s->event.len;
    int64_t now = weir_clock_wall_ms();
    item.fallback_time_ms = now;
    if (weir_pipeline_run(b->single, b->model, &item, 1, now, err, sizeof(err)) != 0)
        return answer_error(body, 500, "internal", err);
    if (!item.scored)
        return answer_error(body, refusal_status(item.reason), weir_reason_name(item.reason),
                            item.detail);
    const weir_model_t *m = b->model;
    weir_buf_reset(body);
    weir_buf_printf(body, "{\"event_id\": ");
    json_string(body, item.event_id);
    weir_buf_printf(body, ", \"model\": ");
    json_string(body, weir_model_name(m));
    weir_buf_printf(body, ", \"version\": ");
    json_string(body, weir_model_version(m));
    weir_buf_printf(body, ", \"score\": %.17g, \"label\": ", item.score);
    if (item.class_index >= 0)
        json_string(body, weir_model_class(m, (size_t)item.class_index));
    else
        weir_buf_printf(body, "null");
    weir_buf_printf(body, ", \"probabilities\": {");
    const float *out = weir_pipeline_outputs(b->single) + item.row * weir_model_outputs(m);
    size_t classes = weir_model_class_count(m);
    for (size_t c = 0; c < classes && weir_model_task(m) != WEIR_TASK_REGRESSION; c++) {
        /* the floats the stream writes in scores[] */
        double p = weir_model_task(m) == WEIR_TASK_BINARY
                       ? (double)(c == 0 ? 1.0f - out[0] : out[0])
                       : (double)out[c];
        weir_buf_printf(body, "%s", c ? ", " : "");
        json_string(body, weir_model_class(m, c));
        weir_buf_printf(body, ": %.17g", p);
    }
    weir_buf_printf(body, "}}\n");
    return 200;
}

int weir_score_handle(weir_score_t *s, const weir_bundle_t *b, const weir_http_call_t *call,
                      weir_buf_t *body, const char **content_type)
{
    double t0 = weir_clock_mono_s();
    int status;
    *content_type = "application/json";
    if (strcmp(call->head->method, "POST") != 0)
        status = answer_error(body, 405, "method_not_allowed", "POST an event to /score");
    else if (!authorized(s->token, call->head->authorization))
        status = answer_error(body, 401, "unauthorized",
                              "this endpoint needs Authorization: Bearer <score.token>");
    else if (!b)
        status = answer_error(body, 503, "no_model", "no model loaded");
    else if ((status = framed_event(s, call, body)) == 0)
        status = score_one(s, b, body);
    int bucket = status == 200                    ? 0
                 : status == 400                  ? 1
                 : status == 401                  ? 2
                 : status == 413 || status == 415 ? 3
                 : status == 422                  ? 4
                                                  : 5;
    s->by_status[bucket]++;
    double dt = weir_clock_mono_s() - t0;
    s->count++;
    s->latency_sum += dt;
    for (size_t i = 0; i < WEIR_LATENCY_BUCKETS; i++)
        if (dt <= weir_latency_bounds[i]) {
            s->latency_buckets[i]++;
            break;
        }
    return status;
}

void weir_score_render(const weir_score_t *s, weir_prom_t *p)
{
    static const char *names[] = {"200", "400", "401", "413_415", "422", "other"};
    weir_prom_family(p, "weir_score_requests_total", WEIR_PROM_COUNTER,
                     "POST /score requests answered, by status.");
    for (size_t i = 0; i < 6; i++)
        weir_prom_sample_u64(p, s->by_status[i], "status", names[i], NULL);
    weir_prom_family(p, "weir_score_duration_seconds", WEIR_PROM_HISTOGRAM,
                     "Time to read, score and answer one POST /score (on the loop).");
    weir_prom_histogram(p, weir_latency_bounds, s->latency_buckets, WEIR_LATENCY_BUCKETS, s->count,
                        s->latency_sum, NULL);
}
