/*
 * test_libweir.c — the engine as the shared library the Python package loads:
 * a versioned soname, only weir_* symbols, no Kafka or libuv among its
 * dependencies (nor a benchmark's), and a bundle loaded through dlopen'd calls.
 */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *run(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p, "%s", cmd);
    size_t cap = 1 << 16, len = 0;
    char *out = calloc(cap, 1);
    size_t n;
    while ((n = fread(out + len, 1, cap - 1 - len, p)) > 0)
        len += n;
    cr_assert_eq(pclose(p), 0, "%s", cmd);
    return out;
}

Test(libweir, has_a_versioned_soname)
{
    char *out = run("readelf -d " WEIR_LIBWEIR);
    cr_assert_not_null(strstr(out, "Library soname: [libweir.so.0]"), "%s", out);
    free(out);
}

Test(libweir, exports_only_weir_symbols)
{
    char *out = run("nm -D --defined-only " WEIR_LIBWEIR);
    size_t exported = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        char *name = strrchr(line, ' ');
        cr_assert_not_null(name);
        name++;
        cr_expect(!strncmp(name, "weir_", 5), "unexpected export %s", name);
        exported++;
    }
    cr_assert_gt(exported, 50);
    free(out);
}

static void assert_no_kafka_or_uv(const char *path)
{
    char cmd[4096];
    snprintf(cmd, sizeof(cmd), "ldd %s", path);
    char *out = run(cmd);
    cr_assert_not_null(strstr(out, "libavro"), "%s", out);
    cr_assert_not_null(strstr(out, "libopenblas"), "%s", out);
    cr_assert_not_null(strstr(out, "libjansson"), "%s", out);
    cr_assert_null(strstr(out, "librdkafka"), "%s links librdkafka:\n%s", path, out);
    cr_assert_null(strstr(out, "libuv"), "%s links libuv:\n%s", path, out);
    free(out);
}

Test(libweir, links_avro_openblas_and_jansson_but_not_kafka_or_libuv)
{
    assert_no_kafka_or_uv(WEIR_LIBWEIR);
    assert_no_kafka_or_uv(WEIR_PIPELINE_BENCH);
}

Test(libweir, loads_with_dlopen_and_answers_its_version)
{
    void *h = dlopen(WEIR_LIBWEIR, RTLD_NOW | RTLD_LOCAL);
    cr_assert_not_null(h, "%s", dlerror());
    const char *(*version)(void) = (const char *(*)(void))dlsym(h, "weir_engine_version");
    cr_assert_not_null(version);
    cr_assert_str_eq(version(), WEIR_VERSION);
    cr_assert_not_null(dlsym(h, "weir_pipeline_run"));
    cr_assert_not_null(dlsym(h, "weir_monitor_evaluate"));
    cr_assert_not_null(dlsym(h, "weir_model_load"));
    cr_assert_null(dlsym(h, "bounded_read"), "internal symbols stay hidden");
    dlclose(h);
}

Test(libweir, loads_the_example_bundle_through_dlopen)
{
    void *h = dlopen(WEIR_LIBWEIR, RTLD_NOW | RTLD_LOCAL);
    cr_assert_not_null(h, "%s", dlerror());
    int (*load)(const char *, void **, char *, size_t) =
        (int (*)(const char *, void **, char *, size_t))dlsym(h, "weir_model_load");
    size_t (*features)(const void *) = (size_t(*)(const void *))dlsym(h, "weir_model_feature_count");
    const char *(*name)(const void *) = (const char *(*)(const void *))dlsym(h, "weir_model_name");
    void (*destroy)(void *) = (void (*)(void *))dlsym(h, "weir_model_destroy");
    cr_assert(load && features && name && destroy);
    void *model = NULL;
    char err[512] = "";
    cr_assert_eq(load(WEIR_SOURCE_DIR "/examples/model.json", &model, err, sizeof(err)), 0, "%s",
                 err);
    cr_assert_gt(features(model), 0);
    cr_assert_gt(strlen(name(model)), 0);
    destroy(model);
    cr_assert_neq(load(WEIR_SOURCE_DIR "/examples/no-such-bundle.json", &model, err, sizeof(err)),
                  0);
    cr_assert_not_null(strstr(err, "no-such-bundle.json"), "%s", err);
    dlclose(h);
}
