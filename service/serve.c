/*
 * serve.c — `weir serve`: POST /score on the loop, through the same bundle
 * loading, pipeline and JSON/Avro input as the stream (score.c), and the
 * observability endpoints on the same port.
 *
 * The model is watched as in `weir run`: a change of model.path (a bundle,
 * or a model folder's pointer) or SIGHUP loads the new version on a worker
 * thread; it is swapped in between two requests, since each request is
 * answered whole on the loop. A version that does not load or does not fit
 * the input schema is refused and the old one keeps answering.
 */
#include "serve.h"
#include "cli.h"
#include "clock.h"
#include "common.h"
#include "http.h"
#include "log.h"
#include "rollout.h"
#include "score.h"

#include <cblas.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    const weir_config_t *cfg;
    uv_loop_t loop;
    weir_bundle_t *bundle;
    weir_watch_t *watch;
    weir_score_t score;
    weir_http_t *http;
    uv_signal_t sigterm, sigint, sighup;
    char *schema_json;
    uint64_t reloads, refusals;
    int64_t start_time_ms;
} serve_t;

int weir_config_check_serve(const weir_config_t *cfg, char *err, size_t errsz)
{
    int rc = weir_config_check(cfg, err, errsz);
    if (rc)
        return rc;
    const char *keys[] = {"model.path", "input.schema"};
    const char *paths[] = {cfg->model_path, cfg->input_schema_path};
    for (int i = 0; i < 2; i++) {
        if (!*paths[i])
            return weir_seterr(err, errsz, WEIR_ECONFIG, "%s: required", keys[i]);
        if (access(paths[i], R_OK) != 0) {
            const char *at = weir_config_origin(cfg, keys[i]);
            return weir_seterr(err, errsz, WEIR_ECONFIG, "%s: %s: cannot read \"%s\"",
                               at ? at : "default", keys[i], paths[i]);
        }
    }
    return 0;
}

static void on_bundle(void *opaque, weir_bundle_t *b, int rc, const char *reason)
{
    serve_t *s = opaque;
    if (!b) {
        s->refusals++;
        weir_log(WEIR_LOG_WARN, "model refused: the old one keeps serving", "reason", reason,
                 "serving", weir_model_version(s->bundle->model), NULL);
        return;
    }
    weir_bundle_log_warnings(b);
    double t0 = weir_clock_mono_s();
    weir_bundle_t *old = s->bundle;
    s->bundle = b;
    char pause[32];
    snprintf(pause, sizeof(pause), "%.0f", (weir_clock_mono_s() - t0) * 1e6);
    s->reloads++;
    weir_log(WEIR_LOG_INFO, "model swapped", "from", weir_model_version(old->model), "to",
             weir_model_version(b->model), "file", b->origin.file, "pause_us", pause, NULL);
    weir_bundle_destroy_later(&s->loop, old);
}

static int handler(void *opaque, const weir_http_call_t *call, weir_buf_t *body, const char **type)
{
    serve_t *s = opaque;
    const char *path = call->head->path;
    if (!strcmp(path, "/score"))
        return weir_score_handle(&s->score, s->bundle, call, body, type);
    if (strcmp(call->head->method, "POST") == 0) {
        weir_buf_printf(body, "not found; POST to /score\n");
        return 404;
    }
    if (!strcmp(path, "/healthz")) {
        weir_buf_printf(body, "ok\n");
        return 200;
    }
    if (!strcmp(path, "/readyz")) {
        weir_buf_printf(body, "%s\n", s->bundle ? "ready" : "no model");
        return s->bundle ? 200 : 503;
    }
    if (!strcmp(path, "/metrics")) {
        weir_prom_t p;
        weir_prom_init(&p, body);
        weir_score_render(&s->score, &p);
        const weir_model_t *m = s->bundle->model;
        weir_prom_family(&p, "weir_model_info", WEIR_PROM_GAUGE, "The model being served.");
        weir_prom_sample(&p, 1, "name", weir_model_name(m), "version", weir_model_version(m),
                         "role", "champion", NULL);
        weir_prom_family(&p, "weir_model_reloads_total", WEIR_PROM_COUNTER,
                         "New model versions loaded and swapped in, or refused.");
        weir_prom_sample_u64(&p, s->reloads, "outcome", "swapped", NULL);
        weir_prom_sample_u64(&p, s->refusals, "outcome", "refused", NULL);
        weir_prom_family(&p, "process_start_time_seconds", WEIR_PROM_GAUGE,
                         "Start time of the process since the Unix epoch in seconds.");
        weir_prom_sample(&p, (double)s->start_time_ms / 1000.0, NULL);
        if (weir_prom_finish(&p) != 0) {
            weir_buf_reset(body);
            weir_buf_printf(body, "metrics page not rendered\n");
            return 500;
        }
        *type = "text/plain; version=0.0.4; charset=utf-8";
        return 200;
    }
    weir_buf_printf(body, "not found; try POST /score, /metrics, /healthz or /readyz\n");
    return 404;
}

static void on_signal(uv_signal_t *sig, int signum)
{
    serve_t *s = sig->data;
    if (signum == SIGHUP) {
        weir_log(WEIR_LOG_INFO, "SIGHUP: looking for a new model", "path", s->cfg->model_path,
                 NULL);
        weir_watch_check(s->watch);
        return;
    }
    weir_log(WEIR_LOG_INFO, "shutting down", "reason", signum == SIGTERM ? "SIGTERM" : "SIGINT",
             NULL);
    uv_stop(&s->loop);
}

static void close_walk(uv_handle_t *h, void *arg)
{
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static int start(serve_t *s, char *err, size_t errsz)
{
    char file[4096];
    int rc;
    const weir_config_t *cfg = s->cfg;
    if ((rc = weir_score_init(&s->score, cfg, err, errsz)) != 0)
        return rc;
    if (!(s->schema_json = weir_rollout_read_text(cfg->input_schema_path)))
        return weir_seterr(err, errsz, WEIR_ECONFIG, "input.schema: cannot read %s",
                           cfg->input_schema_path);
    weir_bundle_spec_t spec = {.cfg = cfg, .input_schema_json = s->schema_json};
    if ((rc = weir_models_resolve(cfg->model_path, file, sizeof(file), err, errsz)) != 0 ||
        (rc = weir_bundle_build(&spec, file, &s->bundle, err, errsz)) != 0)
        return rc == WEIR_ENOMEM ? rc : WEIR_ECONFIG;
    weir_bundle_log_warnings(s->bundle);
    if (weir_watch_start(&s->loop, cfg->model_path, &spec, &s->bundle->origin, on_bundle, s,
                         &s->watch, err, errsz) != 0)
        weir_log(WEIR_LOG_WARN, "model.path is not watched (SIGHUP still reloads)", "error", err,
                 NULL);
    if (!s->watch)
        return WEIR_ENOMEM;
    weir_http_limits_t limits;
    weir_score_limits(cfg, &limits);
    const char *listen = *cfg->score_listen ? cfg->score_listen : WEIR_SERVE_DEFAULT_LISTEN;
    if ((rc = weir_http_serve(&s->loop, listen, &limits, handler, s, &s->http, err, errsz)) != 0)
        return rc;
    uv_signal_init(&s->loop, &s->sigterm);
    uv_signal_init(&s->loop, &s->sigint);
    uv_signal_init(&s->loop, &s->sighup);
    s->sigterm.data = s->sigint.data = s->sighup.data = s;
    uv_signal_start(&s->sigterm, on_signal, SIGTERM);
    uv_signal_start(&s->sigint, on_signal, SIGINT);
    uv_signal_start(&s->sighup, on_signal, SIGHUP);
    weir_log(WEIR_LOG_INFO, "serving", "listen", listen, "model", weir_model_name(s->bundle->model),
             "version", weir_model_version(s->bundle->model), "token",
             *cfg->score_token ? "required" : "none", NULL);
    return 0;
}

int weir_serve(const weir_config_t *cfg)
{
    serve_t s;
    char err[1024] = "";
    memset(&s, 0, sizeof(s));
    s.cfg = cfg;
    s.start_time_ms = weir_clock_wall_ms();
    weir_log_set_level(cfg->log_level);
    if (*cfg->score_token)
        weir_log_add_secret(cfg->score_token);
    openblas_set_num_threads(1);
    uv_loop_init(&s.loop);
    int rc = start(&s, err, sizeof(err));
    if (rc != 0)
        fprintf(stderr, "weir serve: %s\n", err);
    else
        uv_run(&s.loop, UV_RUN_DEFAULT);
    weir_watch_stop(s.watch);
    weir_http_stop(s.http);
    uv_walk(&s.loop, close_walk, NULL);
    uv_run(&s.loop, UV_RUN_DEFAULT);
    uv_loop_close(&s.loop);
    weir_bundle_destroy(s.bundle);
    weir_score_dispose(&s.score);
    free(s.schema_json);
    if (rc == 0)
        weir_log(WEIR_LOG_INFO, "stopped", "exit_code", "0", NULL);
    return weir_cli_exit_code(rc);
}
