/**
 * @file rollout.h
 * @brief Model versions on disk and in a running process: the versioned model
 *        folder (`weir model promote/rollback`), a bundle loaded and bound off
 *        the loop, and the watch that notices a new one.
 *
 * A model folder holds bundles named VERSION.json and a pointer file,
 * `current`, whose first line is the version served and whose next lines are
 * the versions it replaced, newest first. promote and rollback write a new
 * pointer beside it and rename it over the old one, so a reader sees one or
 * the other, never a mix.
 *
 * A bundle (weir_bundle_t) is everything one model version needs to score:
 * the model, its pipelines bound to the input schema and, for the champion,
 * its drift monitor. It is built on a libuv worker thread, then handed to the
 * loop, which swaps it in between two batches.
 */
#ifndef WEIR_ROLLOUT_H
#define WEIR_ROLLOUT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "config.h"
#include "engine.h"

/** @brief The pointer file of a model folder. */
#define WEIR_MODELS_POINTER "current"
/** @brief Versions a pointer file remembers (the current one included). */
#define WEIR_MODELS_HISTORY 64
/** @brief Longest version name usable in a model folder. */
#define WEIR_MODELS_VERSION_MAX 128

/**
 * @brief The bundle file @p path stands for: @p path itself when it is a
 * file, the current version's VERSION.json when it is a model folder.
 * @returns 0; WEIR_EIO when it cannot be read; WEIR_ECONFIG for a folder
 *          without a valid pointer.
 */
int weir_models_resolve(const char *path, char *file, size_t filesz, char *err, size_t errsz);

/**
 * @brief Makes @p version (DIR/VERSION.json, a valid bundle whose own version
 * is VERSION) the current one of folder @p dir, atomically.
 * @returns 0; WEIR_EINVAL for a bad version name, WEIR_EMODEL for a bundle
 *          that does not load or names another version, WEIR_EIO.
 */
int weir_models_promote(const char *dir, const char *version, char *err, size_t errsz);

/**
 * @brief Makes the version before the current one current again, and forgets
 * the current one; @p to receives the version now current.
 * @returns 0; WEIR_ESTATE when there is no earlier version; as promote.
 */
int weir_models_rollback(const char *dir, char *to, size_t tosz, char *err, size_t errsz);

/** @brief What to build for each version: the same for every reload. */
typedef struct {
    const weir_config_t *cfg;
    const char *input_schema_json; /**< the input schema's text, read once */
    int stream;                    /**< build the batch pipeline (weir run) */
    int with_shadow;               /**< its ScoredEvents carry the `shadow` field */
    int monitor;                   /**< build the drift monitor */
    const char *instance;          /**< written in alerts */
} weir_bundle_spec_t;

/** @brief Where a bundle came from: the file and what stat() said of it. */
typedef struct {
    char file[4096];
    dev_t dev;
    ino_t ino;
    off_t size;
    int64_t mtime_ns;
} weir_bundle_origin_t;

/** @brief One model version, loaded and bound. */
typedef struct {
    weir_model_t *model;
    weir_pipeline_t *pipeline; /**< batch.max events, the stream's framing; NULL unless stream */
    weir_pipeline_t *single;   /**< one event, Confluent framing: POST /score */
    weir_monitor_t *monitor;   /**< NULL unless asked */
    weir_bundle_origin_t origin;
} weir_bundle_t;

/**
 * @brief Loads the bundle file @p file and builds what @p spec asks. Touches
 * no loop and logs nothing: safe on a worker thread.
 * @returns 0; WEIR_ECONFIG for a bundle that does not load, does not fit
 *          the input schema or the drift.* keys (the reason in @p err);
 *          WEIR_ENOMEM.
 */
int weir_bundle_build(const weir_bundle_spec_t *spec, const char *file, weir_bundle_t **out,
                      char *err, size_t errsz);
/** @brief Frees a bundle; NULL is fine. Any thread. */
void weir_bundle_destroy(weir_bundle_t *b);
/** @brief Logs the load warnings of @p b's model, one line each. Loop thread. */
void weir_bundle_log_warnings(const weir_bundle_t *b);

/** @brief Fills @p o from stat(@p file). @returns 0 or WEIR_EIO. */
int weir_bundle_origin(const char *file, weir_bundle_origin_t *o);
/** @brief Whether two origins are the same file, unchanged. */
int weir_bundle_origin_same(const weir_bundle_origin_t *a, const weir_bundle_origin_t *b);

/**
 * @brief A new version is ready (@p b, owned by the callee) or was refused
 * (@p b NULL, @p rc and @p reason say why). Called on the loop.
 */
typedef void (*weir_watch_cb)(void *opaque, weir_bundle_t *b, int rc, const char *reason);

/** @brief Watches a model path (a bundle or a model folder) for a new version. */
typedef struct weir_watch weir_watch_t;

/**
 * @brief Starts watching @p path (its folder, for renames over it): a change
 * (debounced) or weir_watch_check() resolves the path, and a bundle file that
 * is not the one in use (@p current) nor the last refused one is built on a
 * worker thread, then reported through @p cb. One build at a time.
 */
int weir_watch_start(uv_loop_t *loop, const char *path, const weir_bundle_spec_t *spec,
                     const weir_bundle_origin_t *current, weir_watch_cb cb, void *opaque,
                     weir_watch_t **out, char *err, size_t errsz);
/** @brief Looks again now (SIGHUP). */
void weir_watch_check(weir_watch_t *w);
/** @brief The version now in use came from @p o (after a swap or a rollback). */
void weir_watch_set_current(weir_watch_t *w, const weir_bundle_origin_t *o);
/** @brief Never load @p o again until the path names another file (a rolled-back version). */
void weir_watch_refuse(weir_watch_t *w, const weir_bundle_origin_t *o);
/** @brief Stops; frees once the loop has closed its handles and any build has ended. */
void weir_watch_stop(weir_watch_t *w);

/** @brief The whole text of a small file (at most 16 MiB), NUL-terminated; NULL on failure. */
char *weir_rollout_read_text(const char *path);

/** @brief Destroys @p b on a worker thread, off the loop. */
void weir_bundle_destroy_later(uv_loop_t *loop, weir_bundle_t *b);

#endif
