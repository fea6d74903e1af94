/*
 * rollout.c — model versions on disk and in a running process (rollout.h):
 * the model folder's pointer file and its atomic updates, building a bundle
 * off the loop, and the watch that turns a file change or SIGHUP into a new
 * bundle handed to the loop.
 *
 * The watch observes the folder that holds the bundle (or the model folder
 * itself), since deployments replace a file by renaming a new one over it,
 * which a watch on the file's own inode would miss. Events are debounced, so
 * a file written in several pieces is read once it is quiet; what is read
 * is compared with the version in use (device, inode, size, mtime) and with
 * the last one refused, so neither is built twice.
 */
#include "rollout.h"
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEBOUNCE_MS 100

/* ---- the model folder ---------------------------------------------- */

static int version_ok(const char *v)
{
    size_t n = strlen(v);
    if (n == 0 || n > WEIR_MODELS_VERSION_MAX || v[0] == '.')
        return 0;
    for (const char *p = v; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '-' || *p == '+'))
            return 0;
    return 1;
}

/* Reads the pointer of @p dir into @p versions (newest first). */
static int read_pointer(const char *dir, char versions[][WEIR_MODELS_VERSION_MAX + 1], size_t *n,
                        char *err, size_t errsz)
{
    char path[4096], line[512];
    snprintf(path, sizeof(path), "%s/%s", dir, WEIR_MODELS_POINTER);
    *n = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return weir_seterr(err, errsz, errno == ENOENT ? WEIR_ECONFIG : WEIR_EIO,
                           "%s: %s (a model folder names its version there: weir model "
                           "promote DIR VERSION)",
                           path, strerror(errno));
    int rc = 0;
    while (fgets(line, sizeof(line), f) && *n < WEIR_MODELS_HISTORY) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0])
            continue;
        if (!version_ok(line)) {
            rc = weir_seterr(err, errsz, WEIR_ECONFIG, "%s: line %zu is not a version name", path,
                             *n + 1);
            break;
        }
        snprintf(versions[(*n)++], WEIR_MODELS_VERSION_MAX + 1, "%s", line);
    }
    fclose(f);
    if (rc == 0 && *n == 0)
        rc = weir_seterr(err, errsz, WEIR_ECONFIG, "%s: names no version", path);
    return rc;
}

/* Replaces the pointer of @p dir: written beside it, synced, renamed over it. */
static int write_pointer(const char *dir, char versions[][WEIR_MODELS_VERSION_MAX + 1], size_t n,
                         char *err, size_t errsz)
{
    char tmp[4096], path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, WEIR_MODELS_POINTER);
    snprintf(tmp, sizeof(tmp), "%s/.%s.%d", dir, WEIR_MODELS_POINTER, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return weir_seterr(err, errsz, WEIR_EIO, "%s: %s", tmp, strerror(errno));
    int rc = 0;
    for (size_t i = 0; i < n && i < WEIR_MODELS_HISTORY && rc == 0; i++) {
        size_t len = strlen(versions[i]);
        if (write(fd, versions[i], len) != (ssize_t)len || write(fd, "\n", 1) != 1)
            rc = weir_seterr(err, errsz, WEIR_EIO, "%s: %s", tmp, strerror(errno));
    }
    if (rc == 0 && fsync(fd) != 0)
        rc = weir_seterr(err, errsz, WEIR_EIO, "%s: %s", tmp, strerror(errno));
    close(fd);
    if (rc == 0 && rename(tmp, path) != 0)
        rc = weir_seterr(err, errsz, WEIR_EIO, "%s: %s", path, strerror(errno));
    if (rc) {
        unlink(tmp);
    } else {
        int dfd = open(dir, O_RDONLY | O_DIRECTORY);
        if (dfd >= 0) {
            fsync(dfd); /* the rename itself is durable */
            close(dfd);
        }
    }
    return rc;
}

/* Checks that DIR/VERSION.json loads and calls itself VERSION. */
static int check_version(const char *dir, const char *version, char *err, size_t errsz)
{
    char file[4096];
    weir_model_t *m = NULL;
    snprintf(file, sizeof(file), "%s/%s.json", dir, version);
    int rc = weir_model_load(file, &m, err, errsz);
    if (rc == 0 && strcmp(weir_model_version(m), version) != 0)
        rc = weir_seterr(err, errsz, WEIR_EMODEL,
                         "%s: the bundle's version is \"%s\", not \"%s\" (a model folder files "
                         "each bundle under its own version)",
                         file, weir_model_version(m), version);
    else if (rc == WEIR_EIO)
        rc = WEIR_EMODEL;
    weir_model_destroy(m);
    return rc;
}

int weir_models_resolve(const char *path, char *file, size_t filesz, char *err, size_t errsz)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return weir_seterr(err, errsz, WEIR_EIO, "%s: %s", path, strerror(errno));
    if (!S_ISDIR(st.st_mode)) {
        snprintf(file, filesz, "%s", path);
        return 0;
    }
    char versions[1][WEIR_MODELS_VERSION_MAX + 1];
    char(*all)[WEIR_MODELS_VERSION_MAX + 1] = malloc(WEIR_MODELS_HISTORY * sizeof(*all));
    size_t n = 0;
    if (!all)
        return WEIR_ENOMEM;
    int rc = read_pointer(path, all, &n, err, errsz);
    if (rc == 0) {
        memcpy(versions[0], all[0], sizeof(versions[0]));
        snprintf(file, filesz, "%s/%s.json", path, versions[0]);
    }
    free(all);
    return rc;
}

int weir_models_promote(const char *dir, const char *version, char *err, size_t errsz)
{
    int rc = 0;
    size_t n = 0;
    char(*v)[WEIR_MODELS_VERSION_MAX + 1] = calloc(WEIR_MODELS_HISTORY + 1, sizeof(*v));
    struct stat st;
    if (!v)
        return WEIR_ENOMEM;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        rc = weir_seterr(err, errsz, WEIR_EIO, "%s: not a folder", dir);
        goto out;
    }
    if (!version_ok(version)) {
        rc = weir_seterr(err, errsz, WEIR_EINVAL,
                         "\"%.140s\" is not a version name (1 to %d of a-z A-Z 0-9 . _ - +, not "
                         "starting with a dot)",
                         version, WEIR_MODELS_VERSION_MAX);
        goto out;
    }
    if ((rc = check_version(dir, version, err, errsz)) != 0)
        goto out;
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, WEIR_MODELS_POINTER);
    if (access(path, F_OK) == 0 && (rc = read_pointer(dir, v + 1, &n, err, errsz)) != 0)
        goto out;
    if (n > 0 && !strcmp(v[1], version))
        goto out; /* already current: nothing to change */
    snprintf(v[0], sizeof(v[0]), "%s", version);
    rc = write_pointer(dir, v, n + 1, err, errsz);
out:
    free(v);
    return rc;
}

int weir_models_rollback(const char *dir, char *to, size_t tosz, char *err, size_t errsz)
{
    size_t n = 0;
    char(*v)[WEIR_MODELS_VERSION_MAX + 1] = calloc(WEIR_MODELS_HISTORY, sizeof(*v));
    if (!v)
        return WEIR_ENOMEM;
    int rc = read_pointer(dir, v, &n, err, errsz);
    if (rc == 0 && n < 2)
        rc = weir_seterr(err, errsz, WEIR_ESTATE,
                         "%s/%s: \"%s\" is the only version it names: nothing to roll back to", dir,
                         WEIR_MODELS_POINTER, v[0]);
    if (rc == 0)
        rc = check_version(dir, v[1], err, errsz);
    if (rc == 0)
        rc = write_pointer(dir, v + 1, n - 1, err, errsz);
    if (rc == 0)
        snprintf(to, tosz, "%s", v[1]);
    free(v);
    return rc;
}

/* ---- a bundle ------------------------------------------------------ */

int weir_bundle_origin(const char *file, weir_bundle_origin_t *o)
{
    struct stat st;
    memset(o, 0, sizeof(*o));
    snprintf(o->file, sizeof(o->file), "%s", file);
    if (stat(file, &st) != 0)
        return WEIR_EIO;
    o->dev = st.st_dev;
    o->ino = st.st_ino;
    o->size = st.st_size;
    o->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    return 0;
}

int weir_bundle_origin_same(const weir_bundle_origin_t *a, const weir_bundle_origin_t *b)
{
    return !strcmp(a->file, b->file) && a->dev == b->dev && a->ino == b->ino &&
           a->size == b->size && a->mtime_ns == b->mtime_ns;
}

void weir_bundle_log_warnings(const weir_bundle_t *b)
{
    for (size_t i = 0; i < weir_model_warning_count(b->model); i++)
        weir_log(WEIR_LOG_WARN, "model warning", "model", weir_model_name(b->model), "version",
                 weir_model_version(b->model), "detail", weir_model_warning(b->model, i), NULL);
}

void weir_bundle_destroy(weir_bundle_t *b)
{
    if (!b)
        return;
    weir_monitor_destroy(b->monitor);
    weir_pipeline_destroy(b->pipeline);
    weir_pipeline_destroy(b->single);
    weir_model_destroy(b->model);
    free(b);
}

static int new_pipeline(const weir_bundle_spec_t *spec, avro_schema_t input, int stream,
                        weir_pipeline_t **out, weir_model_t *model, char *err, size_t errsz)
{
    const weir_config_t *cfg = spec->cfg;
    weir_pipeline_config_t pc = {
        .input_schema = input,
        .input_framing = stream ? cfg->input_framing : WEIR_FRAMING_CONFLUENT,
        .input_schema_id = cfg->input_schema_id,
        .id_field = cfg->input_id_field,
        .time_field = cfg->input_time_field,
        .output_framing = cfg->output_framing,
        .output_schema_id = cfg->output_schema_id,
        .batch_max = stream ? cfg->batch_max : 1,
        .with_shadow = stream && spec->with_shadow,
    };
    int rc = weir_pipeline_new(&pc, out, err, errsz);
    if (rc == 0)
        rc = weir_pipeline_bind(*out, model, err, errsz);
    return rc;
}

int weir_bundle_build(const weir_bundle_spec_t *spec, const char *file, weir_bundle_t **out,
                      char *err, size_t errsz)
{
    int rc = 0;
    avro_schema_t input = NULL;
    char why[1024] = "";
    weir_bundle_t *b = calloc(1, sizeof(*b));
    *out = NULL;
    if (!b)
        return weir_seterr(err, errsz, WEIR_ENOMEM, "out of memory");
    if (weir_bundle_origin(file, &b->origin) != 0) {
        rc = weir_seterr(err, errsz, WEIR_ECONFIG, "%s: %s", file, strerror(errno));
        goto out;
    }
    if ((rc = weir_model_load(file, &b->model, err, errsz)) != 0 ||
        (rc = weir_config_check_model(spec->cfg, b->model, err, errsz)) != 0)
        goto out;
    if ((rc = weir_schema_parse(spec->input_schema_json, &input, why, sizeof(why))) != 0 ||
        (spec->stream &&
         (rc = new_pipeline(spec, input, 1, &b->pipeline, b->model, why, sizeof(why))) != 0) ||
        (rc = new_pipeline(spec, input, 0, &b->single, b->model, why, sizeof(why))) != 0) {
        rc = weir_seterr(err, errsz, rc == WEIR_ENOMEM ? rc : WEIR_ECONFIG,
                         "%s: does not fit the input schema: %s", file, why);
        goto out;
    }
    if (spec->monitor) {
        const weir_config_t *cfg = spec->cfg;
        weir_monitor_config_t mc = {
            .model = b->model,
            .drift = cfg->drift,
            .labels = *cfg->labels_topic != '\0',
            .labels_max_pending = cfg->labels_max_pending,
            .labels_ttl_ms = cfg->labels_ttl_ms,
            .label_framing = cfg->input_framing,
            .label_schema_id = cfg->labels_schema_id,
            .alert_framing = cfg->output_framing,
            .alert_schema_id = cfg->alerts_schema_id,
            .instance = spec->instance,
        };
        if ((rc = weir_monitor_new(&mc, &b->monitor, err, errsz)) != 0)
            goto out;
    }
out:
    if (input)
        avro_schema_decref(input);
    if (rc) {
        if (rc != WEIR_ENOMEM)
            rc = WEIR_ECONFIG;
        weir_bundle_destroy(b);
        b = NULL;
    }
    *out = b;
    return rc;
}

typedef struct {
    uv_work_t work;
    weir_bundle_t *bundle;
} destroy_req_t;

static void destroy_work(uv_work_t *w)
{
    destroy_req_t *d = w->data;
    weir_bundle_destroy(d->bundle);
}

static void destroy_done(uv_work_t *w, int status)
{
    free(w->data);
}

void weir_bundle_destroy_later(uv_loop_t *loop, weir_bundle_t *b)
{
    if (!b)
        return;
    destroy_req_t *d = calloc(1, sizeof(*d));
    if (!d || (d->work.data = d, d->bundle = b,
               uv_queue_work(loop, &d->work, destroy_work, destroy_done) != 0)) {
        free(d);
        weir_bundle_destroy(b);
    }
}

char *weir_rollout_read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *text = NULL;
    long n;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && n <= (16L << 20) &&
        fseek(f, 0, SEEK_SET) == 0 && (text = malloc((size_t)n + 1)) != NULL) {
        if (fread(text, 1, (size_t)n, f) != (size_t)n) {
            free(text);
            text = NULL;
        } else {
            text[n] = '\0';
        }
    }
    fclose(f);
    return text;
}

/* ---- the watch ----------------------------------------------------- */

struct weir_watch {
    uv_loop_t *loop;
    char path[4096];
    char folder[4096]; /* what the fs event watches */
    char name[1024];   /* the file name events must carry; "" for a model folder */
    weir_bundle_spec_t spec;
    weir_bundle_origin_t current, refused;
    int has_refused;
    weir_watch_cb cb;
    void *opaque;
    uv_fs_event_t event;
    uv_timer_t debounce;
    int handles; /* not yet closed */
    int watching;
    /* the build under way */
    uv_work_t work;
    int building, again, stopping;
    char file[4096];
    weir_bundle_t *built;
    int rc;
    char err[1024];
};

static void maybe_free(weir_watch_t *w)
{
    if (w->stopping && w->handles == 0 && !w->building)
        free(w);
}

static void build_work(uv_work_t *req)
{
    weir_watch_t *w = req->data;
    w->rc = weir_bundle_build(&w->spec, w->file, &w->built, w->err, sizeof(w->err));
}

static void build_done(uv_work_t *req, int status)
{
    weir_watch_t *w = req->data;
    weir_bundle_t *b = w->built;
    w->built = NULL;
    w->building = 0;
    if (w->stopping) {
        weir_bundle_destroy(b);
        maybe_free(w);
        return;
    }
    if (w->rc == 0 && b) {
        w->current = b->origin; /* handed over: not built again */
        w->cb(w->opaque, b, 0, NULL);
    } else {
        weir_bundle_origin(w->file, &w->refused);
        w->has_refused = 1;
        w->cb(w->opaque, NULL, w->rc ? w->rc : WEIR_ECONFIG, w->err);
    }
    if (w->again) {
        w->again = 0;
        weir_watch_check(w);
    }
}

void weir_watch_check(weir_watch_t *w)
{
    char file[4096], err[1024];
    weir_bundle_origin_t o;
    if (w->stopping)
        return;
    if (w->building) {
        w->again = 1;
        return;
    }
    int rc = weir_models_resolve(w->path, file, sizeof(file), err, sizeof(err));
    if (rc == 0 && weir_bundle_origin(file, &o) != 0)
        return; /* gone between the two looks: the next event says more */
    if (rc != 0) {
        /* a folder whose pointer names nothing usable: refused, the old one serves */
        w->cb(w->opaque, NULL, rc, err);
        return;
    }
    if (weir_bundle_origin_same(&o, &w->current) ||
        (w->has_refused && weir_bundle_origin_same(&o, &w->refused)))
        return;
    snprintf(w->file, sizeof(w->file), "%s", file);
    w->building = 1;
    w->work.data = w;
    if (uv_queue_work(w->loop, &w->work, build_work, build_done) != 0) {
        w->building = 0;
        w->cb(w->opaque, NULL, WEIR_ENOMEM, "cannot queue the load");
    }
}

static void on_debounce(uv_timer_t *t)
{
    weir_watch_check(t->data);
}

static void on_fs_event(uv_fs_event_t *e, const char *filename, int events, int status)
{
    weir_watch_t *w = e->data;
    if (status < 0 || w->stopping)
        return;
    if (w->name[0] && (!filename || strcmp(filename, w->name) != 0))
        return;
    uv_timer_start(&w->debounce, on_debounce, DEBOUNCE_MS, 0);
}

int weir_watch_start(uv_loop_t *loop, const char *path, const weir_bundle_spec_t *spec,
                     const weir_bundle_origin_t *current, weir_watch_cb cb, void *opaque,
                     weir_watch_t **out, char *err, size_t errsz)
{
    struct stat st;
    weir_watch_t *w = calloc(1, sizeof(*w));
    *out = NULL;
    if (!w)
        return weir_seterr(err, errsz, WEIR_ENOMEM, "out of memory");
    w->loop = loop;
    w->spec = *spec;
    w->cb = cb;
    w->opaque = opaque;
    if (current)
        w->current = *current;
    snprintf(w->path, sizeof(w->path), "%s", path);
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(w->folder, sizeof(w->folder), "%s", path);
    } else {
        char copy[4096];
        snprintf(copy, sizeof(copy), "%s", path);
        snprintf(w->folder, sizeof(w->folder), "%s", dirname(copy));
        snprintf(copy, sizeof(copy), "%s", path);
        snprintf(w->name, sizeof(w->name), "%s", basename(copy));
    }
    uv_timer_init(loop, &w->debounce);
    uv_fs_event_init(loop, &w->event);
    w->debounce.data = w->event.data = w;
    w->handles = 2;
    int uerr = uv_fs_event_start(&w->event, on_fs_event, w->folder, 0);
    if (uerr != 0) {
        /* SIGHUP still works; say why the file is not watched */
        *out = w;
        return weir_seterr(err, errsz, WEIR_EIO, "cannot watch %s: %s", w->folder,
                           uv_strerror(uerr));
    }
    w->watching = 1;
    *out = w;
    return 0;
}

void weir_watch_set_current(weir_watch_t *w, const weir_bundle_origin_t *o)
{
    w->current = *o;
}

void weir_watch_refuse(weir_watch_t *w, const weir_bundle_origin_t *o)
{
    w->refused = *o;
    w->has_refused = 1;
}

static void on_watch_closed(uv_handle_t *h)
{
    weir_watch_t *w = h->data;
    w->handles--;
    maybe_free(w);
}

void weir_watch_stop(weir_watch_t *w)
{
    if (!w || w->stopping)
        return;
    w->stopping = 1;
    uv_close((uv_handle_t *)&w->event, on_watch_closed);
    uv_close((uv_handle_t *)&w->debounce, on_watch_closed);
}
