/*
 * test_cli.c — the `weir` command line as a user meets it, through the built
 * binary: exit codes (0 ok, 2 usage or configuration), help on stdout, errors
 * on stderr naming the file, line, key or JSON path at fault, and the offline
 * commands (model inspect, schema, batch) end to end. No broker: every `weir
 * run` here fails its configuration before it would connect.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../schemas/tx_example.h"
#include "broker.h"
#include "schemas.h"
#include "scoring.h"
#include "support.h"

#define EXAMPLE_MODEL WEIR_SOURCE_DIR "/examples/model.json"
#define TRANSACTION_AVSC WEIR_SOURCE_DIR "/schemas/transaction.avsc"

static char *dir;
static char err[1024];

static void setup(void)
{
    dir = weir_it_tmpdir();
}

static void teardown(void)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
    free(dir);
}

TestSuite(cli, .init = setup, .fini = teardown);

/* A path in the test's folder (two alternate static buffers). */
static const char *path_of(const char *name)
{
    static __thread char path[4][512];
    static __thread int which;
    which = (which + 1) % 4;
    snprintf(path[which], sizeof(path[which]), "%s/%s", dir, name);
    return path[which];
}

typedef struct {
    int code;
    char *out; /* stdout */
    char *err; /* stderr */
} result_t;

/* Runs `weir ARGS...` (NULL-terminated) with stdout and stderr kept apart. */
static result_t weir(const char *const args[])
{
    const char *argv[40] = {WEIR_BINARY};
    size_t n = 1;
    for (size_t i = 0; args[i]; i++) {
        cr_assert_lt(n, 38);
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    char out_path[512], err_path[512];
    snprintf(out_path, sizeof(out_path), "%s/stdout", dir);
    snprintf(err_path, sizeof(err_path), "%s/stderr", dir);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (o < 0 || e < 0)
            _exit(127);
        dup2(o, 1);
        dup2(e, 2);
        close(o);
        close(e);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    result_t r;
    r.code = weir_it_wait(pid, 120000);
    r.out = weir_test_read_file(out_path, NULL);
    r.err = weir_test_read_file(err_path, NULL);
    cr_assert(r.out && r.err);
    return r;
}

static void result_free(result_t *r)
{
    free(r->out);
    free(r->err);
}

#define WEIR(...) weir((const char *const[]){__VA_ARGS__, NULL})

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    fclose(f);
}

/* A weir.conf with everything `weir run` needs except what @p drop names,
 * plus @p extra lines. The broker address is never contacted. */
static const char *write_conf(const char *name, const char *model, const char *drop,
                              const char *extra)
{
    static const char *const lines[][2] = {
        {"kafka.bootstrap.servers", "127.0.0.1:1"},
        {"input.topics", "tx"},
        {"input.schema", TRANSACTION_AVSC},
        {"output.topic", "scored"},
        {"dlq.topic", "dlq"},
        {"model.path", NULL},
        {"http.listen", ""},
    };
    char text[4096] = "# written by test_cli.c\n";
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        if (drop && !strcmp(drop, lines[i][0]))
            continue;
        size_t at = strlen(text);
        snprintf(text + at, sizeof(text) - at, "%s = %s\n", lines[i][0],
                 lines[i][1] ? lines[i][1] : model);
    }
    if (extra)
        strncat(text, extra, sizeof(text) - strlen(text) - 1);
    const char *path = path_of(name);
    write_text(path, text);
    return path;
}

/* The example bundle with one change made by @p edit, written to dir/@p name. */
static const char *write_bundle(const char *name, void (*edit)(json_t *bundle))
{
    json_error_t error;
    json_t *b = json_load_file(EXAMPLE_MODEL, 0, &error);
    cr_assert_not_null(b, "%s", error.text);
    edit(b);
    const char *path = path_of(name);
    cr_assert_eq(json_dump_file(b, path, JSON_INDENT(1)), 0);
    json_decref(b);
    return path;
}

static json_t *feature(json_t *b, size_t i)
{
    return json_array_get(json_object_get(b, "features"), i);
}

/* features[0] is amount: clip, log1p, standardize */
static void zero_std(json_t *b)
{
    json_t *step = json_array_get(json_object_get(feature(b, 0), "transform"), 2);
    json_object_set_new(step, "std", json_real(0.0));
}

static void rename_source(json_t *b)
{
    json_object_set_new(feature(b, 3), "source", json_string("sales_channel"));
}

static void strict_age(json_t *b)
{
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(b, "features"), i, f)
    {
        if (!strcmp(json_string_value(json_object_get(f, "name")), "customer_age")) {
            json_object_set_new(f, "missing", json_string("error"));
            json_array_remove(json_object_get(f, "transform"), 0);
        }
    }
}

/* ---- usage and help ------------------------------------------------ */

Test(cli, no_arguments_is_a_usage_error_on_stderr)
{
    result_t r = weir((const char *const[]){NULL});
    cr_assert_eq(r.code, 2);
    cr_assert(strstr(r.err, "usage: weir <command>"), "%s", r.err);
    cr_assert_str_eq(r.out, "");
    result_free(&r);
}

Test(cli, dash_h_prints_usage_on_stdout_and_exits_0)
{
    result_t r = WEIR("-h");
    cr_assert_eq(r.code, 0);
    cr_assert(strstr(r.out, "usage: weir <command>"), "%s", r.out);
    for (const char *const *c = (const char *const[]){"run", "batch", "gen", "model", "schema",
                                                      "config", "version", NULL};
         *c; c++) {
        char line[32];
        snprintf(line, sizeof(line), "\n  %s ", *c);
        cr_assert(strstr(r.out, line), "usage lists %s", *c);
    }
    cr_assert_str_eq(r.err, "");
    result_free(&r);
}

Test(cli, every_command_answers_dash_h_on_stdout)
{
    struct {
        const char *cmd, *expect;
    } cases[] = {
        {"run", "usage: weir run -c weir.conf"},
        {"batch", "usage: weir batch --model M --in events.avro --out scored.avro"},
        {"gen", "usage: weir gen --out"},
        {"model", "usage: weir model inspect BUNDLE.json"},
        {"schema", "usage: weir schema show"},
        {"config", "weir configuration keys"},
        {"version", "usage: weir version"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        result_t r = WEIR(cases[i].cmd, "-h");
        cr_assert_eq(r.code, 0, "weir %s -h exits %d: %s", cases[i].cmd, r.code, r.err);
        cr_assert(strstr(r.out, cases[i].expect), "weir %s -h: %s", cases[i].cmd, r.out);
        cr_assert_str_eq(r.err, "", "weir %s -h writes nothing on stderr", cases[i].cmd);
        result_free(&r);
    }
}

Test(cli, run_help_lists_every_configuration_key)
{
    result_t r = WEIR("run", "--help");
    cr_assert_eq(r.code, 0);
    for (const char *const *k = (const char *const[]){"input.topics", "model.path", "batch.max",
                                                      "http.listen", "kafka.<property>", NULL};
         *k; k++)
        cr_assert(strstr(r.out, *k), "%s is listed", *k);
    result_free(&r);
}

Test(cli, unknown_command_and_stray_arguments_exit_2)
{
    result_t r = WEIR("frobnicate");
    cr_assert_eq(r.code, 2);
    cr_assert(strstr(r.err, "unknown command \"frobnicate\""), "%s", r.err);
    result_free(&r);
    r = WEIR("model", "describe", EXAMPLE_MODEL);
    cr_assert_eq(r.code, 2);
    cr_assert(strstr(r.err, "usage: weir model inspect"), "%s", r.err);
    result_free(&r);
    r = WEIR("run");
    cr_assert_eq(r.code, 2);
    cr_assert(strstr(r.err, "-c weir.conf is required"), "%s", r.err);
    result_free(&r);
    r = WEIR("batch", "--model", EXAMPLE_MODEL);
    cr_assert_eq(r.code, 2);
    cr_assert(strstr(r.err, "--model, --in and --out are required"), "%s", r.err);
    result_free(&r);
}

Test(cli, version_exits_0_and_names_the_libraries)
{
    result_t r = WEIR("version");
    cr_assert_eq(r.code, 0);
    const char *prefix = "weir " WEIR_VERSION " (librdkafka ";
    cr_assert(!strncmp(r.out, prefix, strlen(prefix)), "%s", r.out);
    cr_assert(strstr(r.out, "libuv "), "%s", r.out);
    result_free(&r);
}

Test(cli, config_lists_the_keys_with_defaults)
{
    result_t r = WEIR("config");
    cr_assert_eq(r.code, 0);
    cr_assert(strstr(r.out, "batch.max") && strstr(r.out, "[512]"), "%s", r.out);
    result_free(&r);
}

/* ---- weir run: configuration errors -------------------------------- */

Test(cli, run_with_a_missing_config_file_names_it)
{
    const char *missing = path_of("missing.conf");
    result_t r = WEIR("run", "--config", missing);
    cr_assert_eq(r.code, 2);
    char expect[600];
    snprintf(expect, sizeof(expect), "weir run: %s: No such file or directory", missing);
    cr_assert(strstr(r.err, expect), "%s", r.err);
    result_free(&r);
}

Test(cli, run_with_an_unknown_key_names_file_and_line)
{
    const char *conf = write_conf("typo.conf", EXAMPLE_MODEL, NULL, "input.topic = tx\n");
    result_t r = WEIR("run", "-c", conf);
    cr_assert_eq(r.code, 2);
    char expect[600];
    /* a comment and 7 keys come first: the typo is line 9 */
    snprintf(expect, sizeof(expect),
             "%s:9: unknown key \"input.topic\" (did you mean input.topics?)", conf);
    cr_assert(strstr(r.err, expect), "expected \"%s\" in: %s", expect, r.err);
    result_free(&r);
    /* -X keys are checked the same way */
    conf = write_conf("ok.conf", EXAMPLE_MODEL, NULL, NULL);
    r = WEIR("run", "-c", conf, "-X", "batch.max=0");
    cr_assert_eq(r.code, 2);
    cr_assert(!strncmp(r.err, "weir run: -X: batch.max: ", 25) &&
                  strstr(r.err, "must be an integer from 1 to 100000, got \"0\""),
              "%s", r.err);
    result_free(&r);
}

Test(cli, run_without_model_path_names_the_key)
{
    const char *conf = write_conf("no-model.conf", EXAMPLE_MODEL, "model.path", NULL);
    result_t r = WEIR("run", "-c", conf);
    cr_assert_eq(r.code, 2);
    cr_assert(strstr(r.err, "weir run: model.path: required"), "%s", r.err);
    result_free(&r);
}

Test(cli, a_bad_bundle_names_its_json_path_in_run_and_model_inspect)
{
    const char *bundle = write_bundle("bad-std.json", zero_std);
    char expect[700];
    snprintf(expect, sizeof(expect), "%s: features[0].transform[2].std: must be > 0", bundle);

    const char *conf = write_conf("bad-model.conf", bundle, NULL, NULL);
    result_t r = WEIR("run", "-c", conf);
    cr_assert_eq(r.code, 2, "weir run exits %d: %s", r.code, r.err);
    cr_assert(strstr(r.err, expect), "expected \"%s\" in: %s", expect, r.err);
    result_free(&r);

    r = WEIR("model", "inspect", bundle);
    cr_assert_eq(r.code, 2);
    cr_assert(strstr(r.err, expect), "expected \"%s\" in: %s", expect, r.err);
    cr_assert_str_eq(r.out, "");
    result_free(&r);
}

Test(cli, run_with_a_source_field_the_input_schema_lacks_exits_2)
{
    const char *bundle = write_bundle("renamed.json", rename_source);
    const char *conf = write_conf("renamed.conf", bundle, NULL, NULL);
    result_t r = WEIR("run", "-c", conf);
    cr_assert_eq(r.code, 2, "exit %d: %s", r.code, r.err);
    cr_assert(strstr(r.err, "model feature \"channel\"") && strstr(r.err, "sales_channel"), "%s",
              r.err);
    result_free(&r);
}

/* ---- model and schema ---------------------------------------------- */

Test(cli, model_inspect_describes_the_example_bundle)
{
    result_t r = WEIR("model", "inspect", EXAMPLE_MODEL);
    cr_assert_eq(r.code, 0, "%s", r.err);
    cr_assert(strstr(r.out, "model     fraud-lr 1.0.0 (binary, logistic)"), "%s", r.out);
    cr_assert(strstr(r.out, "columns   126 from 24 features"), "%s", r.out);
    cr_assert(strstr(r.out, "ok: the bundle is valid"), "%s", r.out);
    /* one table row per feature, numbered 0..23 */
    regex_t row;
    cr_assert_eq(regcomp(&row,
                         "^  ([0-9]+) +([a-z_0-9]+) +([a-z_0-9.]+) +(numeric|categorical|"
                         "boolean) +([0-9]+)-([0-9]+) ",
                         REG_EXTENDED | REG_NEWLINE),
                 0);
    size_t rows = 0;
    long next_column = 0;
    const char *p = r.out;
    regmatch_t m[7];
    while (regexec(&row, p, 7, m, 0) == 0) {
        cr_assert_eq(strtol(p + m[1].rm_so, NULL, 10), (long)rows, "rows in feature order");
        cr_assert_eq(strtol(p + m[5].rm_so, NULL, 10), next_column, "columns are contiguous");
        next_column = strtol(p + m[6].rm_so, NULL, 10) + 1;
        rows++;
        p += m[0].rm_eo;
    }
    regfree(&row);
    cr_assert_eq(rows, 24, "24 features listed:\n%s", r.out);
    cr_assert_eq(next_column, 126);
    result_free(&r);
}

Test(cli, model_inspect_shows_the_bundles_warnings)
{
    /* a bundle whose reference holds a category its encoder does not list */
    const char *path = path_of("warned.json");
    write_text(path,
               "{\"format\": \"weir.model/1\", \"name\": \"t\", \"version\": \"1\", "
               "\"task\": \"regression\", \"features\": [{\"name\": \"c\", \"source\": \"c\", "
               "\"type\": \"categorical\", \"missing\": \"unknown\", \"transform\": [{\"op\": "
               "\"one_hot\", \"categories\": [\"a\", \"b\"], \"unknown\": \"ignore\"}]}], "
               "\"model\": {\"kind\": \"linear\", \"weights\": [1, 2], \"bias\": 0}, "
               "\"reference\": {\"features\": {\"c\": {\"n\": 10, \"categories\": {\"a\": 0.6, "
               "\"zz\": 0.4}}}}}");
    result_t r = WEIR("model", "inspect", path);
    cr_assert_eq(r.code, 0, "%s", r.err);
    cr_assert(strstr(r.out, "warning: features[0] (c): 40.0% of the reference"), "%s", r.out);
    cr_assert(strstr(r.out, "ok: the bundle is valid (with the warnings above)"), "%s", r.out);
    result_free(&r);
}

Test(cli, model_inspect_names_a_tree_ensemble)
{
    const char *path = path_of("stump.json");
    write_text(path, "{\"format\": \"weir.model/1\", \"name\": \"t\", \"version\": \"1\", "
                     "\"task\": \"regression\", \"features\": [{\"name\": \"x\", \"source\": "
                     "\"x\", \"type\": \"numeric\", \"missing\": \"nan\"}], \"model\": {\"kind\": "
                     "\"trees\", \"split\": \"less_equal\", \"link\": \"identity\", \"trees\": "
                     "[{\"feature\": [0, -1, -1], \"threshold\": [0.5, 0, 0], \"left\": [1, -1, "
                     "-1], \"right\": [2, -1, -1], \"missing_left\": [1, 0, 0], \"value\": [0, -1, "
                     "1]}]}}");
    result_t r = WEIR("model", "inspect", path);
    cr_assert_eq(r.code, 0, "%s", r.err);
    cr_assert(strstr(r.out, "model     t 1 (regression, trees)"), "%s", r.out);
    result_free(&r);
}

Test(cli, model_inspect_of_a_missing_file_exits_2_naming_it)
{
    const char *missing = path_of("nope.json");
    result_t r = WEIR("model", "inspect", missing);
    cr_assert_eq(r.code, 2);
    cr_assert(strstr(r.err, missing), "%s", r.err);
    result_free(&r);
}

Test(cli, schema_show_prints_each_embedded_schema_as_json)
{
    const char *names[][2] = {{"label", "Label"},
                              {"transaction", "Transaction"},
                              {"scored_event", "ScoredEvent"},
                              {"drift_alert", "DriftAlert"}};
    for (size_t i = 0; i < 4; i++) {
        result_t r = WEIR("schema", "show", names[i][0]);
        cr_assert_eq(r.code, 0, "%s: %s", names[i][0], r.err);
        json_error_t error;
        json_t *s = json_loads(r.out, 0, &error);
        cr_assert_not_null(s, "%s is not JSON: %s", names[i][0], error.text);
        cr_assert_str_eq(json_string_value(json_object_get(s, "type")), "record");
        cr_assert_str_eq(json_string_value(json_object_get(s, "name")), names[i][1]);
        avro_schema_t parsed;
        cr_assert_eq(avro_schema_from_json_length(r.out, strlen(r.out), &parsed), 0,
                     "avro-c parses %s: %s", names[i][0], avro_strerror());
        avro_schema_decref(parsed);
        json_decref(s);
        result_free(&r);
    }
    result_t r = WEIR("schema", "show", "invoice");
    cr_assert_eq(r.code, 2);
    cr_assert(strstr(r.err, "no schema \"invoice\""), "%s", r.err);
    result_free(&r);
}

Test(cli, schema_scored_nests_the_input_record)
{
    result_t r = WEIR("schema", "scored", "--input", TRANSACTION_AVSC);
    cr_assert_eq(r.code, 0, "%s", r.err);
    avro_schema_t scored;
    cr_assert_eq(avro_schema_from_json_length(r.out, strlen(r.out), &scored), 0, "%s",
                 avro_strerror());
    cr_assert(is_avro_record(scored));
    cr_assert_str_eq(avro_schema_type_name(scored), "ScoredEvent");
    avro_schema_t event = avro_schema_record_field_get(scored, "event");
    cr_assert_not_null(event);
    cr_assert(is_avro_record(event), "event is a record");
    cr_assert_str_eq(avro_schema_type_name(event), "Transaction");
    cr_assert_eq(avro_schema_record_size(event), TX_FIELDS);
    /* and it is the schema weir itself writes for that input */
    avro_schema_t tx = tx_schema(), expect;
    cr_assert_eq(weir_scored_schema(tx, &expect, err, sizeof(err)), 0, "%s", err);
    cr_assert(avro_schema_equal(scored, expect));
    avro_schema_decref(expect);
    avro_schema_decref(tx);
    avro_schema_decref(scored);
    result_free(&r);

    r = WEIR("schema", "scored", "--input", path_of("none.avsc"));
    cr_assert_eq(r.code, 2);
    cr_assert(strstr(r.err, "none.avsc"), "%s", r.err);
    result_free(&r);
}

/* ---- weir batch ---------------------------------------------------- */

static json_t *load_report(const char *path)
{
    json_error_t error;
    json_t *report = json_load_file(path, 0, &error);
    cr_assert_not_null(report, "%s: %s", path, error.text);
    return report;
}

static json_int_t report_int(json_t *report, const char *key)
{
    json_t *v = json_object_get(report, key);
    cr_assert(json_is_integer(v), "report.%s", key);
    return json_integer_value(v);
}

/* Reads the event ids of a container file of ScoredEvents (or of inputs). */
static size_t read_ids(const char *path, char ids[][32], size_t max)
{
    weir_container_reader_t *r;
    cr_assert_eq(weir_container_reader_open(path, &r, err, sizeof(err)), 0, "%s", err);
    size_t n = 0;
    for (;;) {
        avro_value_t *v;
        const uint8_t *body;
        size_t len, skipped;
        weir_reason_t reason;
        char detail[256];
        int got = weir_container_reader_next(r, &v, &body, &len, &skipped, &reason, detail,
                                             sizeof(detail));
        if (got == 0)
            break;
        cr_assert_eq(got, 1, "%s: %s", path, detail);
        avro_value_t id;
        const char *s;
        size_t size;
        cr_assert_eq(avro_value_get_by_name(v, "event_id", &id, NULL), 0);
        avro_value_get_string(&id, &s, &size);
        cr_assert_lt(n, max);
        snprintf(ids[n++], 32, "%s", s);
    }
    weir_container_reader_close(r);
    return n;
}

Test(cli, batch_scores_a_generated_file_and_reports_every_event)
{
    const char *events = strdup(path_of("events.avro"));
    char out_spec[600];
    snprintf(out_spec, sizeof(out_spec), "file:%s", events);
    result_t g = WEIR("gen", "--out", out_spec, "--count", "3000", "--seed", "2", "-q");
    cr_assert_eq(g.code, 0, "%s", g.err);
    result_free(&g);

    const char *scored = strdup(path_of("scored.avro"));
    const char *report = strdup(path_of("report.json"));
    result_t r = WEIR("batch", "--model", EXAMPLE_MODEL, "--in", events, "--out", scored,
                      "--report", report, "-q");
    cr_assert_eq(r.code, 0, "%s", r.err);
    cr_assert(strstr(r.err, "3000 events: 3000 scored, 0 dead letters"), "%s", r.err);

    static char in_ids[3000][32], out_ids[3000][32];
    cr_assert_eq(read_ids(events, in_ids, 3000), 3000);
    cr_assert_eq(read_ids(scored, out_ids, 3000), 3000, "a ScoredEvent per event");
    for (size_t i = 0; i < 3000; i++)
        cr_assert_str_eq(out_ids[i], in_ids[i], "in input order");
    weir_container_reader_t *cr;
    cr_assert_eq(weir_container_reader_open(scored, &cr, err, sizeof(err)), 0);
    cr_assert_str_eq(avro_schema_type_name(weir_container_reader_schema(cr)), "ScoredEvent");
    weir_container_reader_close(cr);

    json_t *rep = load_report(report);
    cr_assert_str_eq(json_string_value(json_object_get(rep, "format")), "weir.batch-report/1");
    cr_assert_eq(report_int(rep, "events"), 3000);
    cr_assert_eq(report_int(rep, "events"),
                 report_int(rep, "scored") + report_int(rep, "dead_letters_total"));
    cr_assert_eq(report_int(rep, "dead_letters_total"), 0);
    json_t *score = json_object_get(rep, "score");
    double rate = json_real_value(json_object_get(score, "predicted_positive_rate"));
    cr_assert(rate > 0 && rate < 0.1, "predicted positive rate %g", rate);
    json_decref(rep);
    struct stat st;
    char dlq[700];
    snprintf(dlq, sizeof(dlq), "%s.dead.jsonl", scored);
    cr_assert_neq(stat(dlq, &st), 0, "no dead-letter file without dead letters");
    result_free(&r);
    free((void *)events);
    free((void *)scored);
    free((void *)report);
}

/* Writes @p n example transactions to an uncompressed container file and
 * returns their bodies (for corrupting and comparing). */
static const char *write_events(const char *name, size_t n, weir_buf_t *bodies, size_t *offsets)
{
    avro_schema_t schema = tx_schema();
    weir_container_writer_t *w;
    const char *path = path_of(name);
    cr_assert_eq(weir_container_writer_open(path, schema, "null", &w, err, sizeof(err)), 0, "%s",
                 err);
    for (size_t i = 0; i < n; i++) {
        tx_t t;
        tx_example(&t, (int)i);
        offsets[i] = bodies->len;
        cr_assert_eq(tx_encode(bodies, &t, NULL), 0);
        cr_assert_eq(
            weir_container_writer_append(w, bodies->data + offsets[i], bodies->len - offsets[i]),
            0);
    }
    offsets[n] = bodies->len;
    cr_assert_eq(weir_container_writer_close(w, err, sizeof(err)), 0, "%s", err);
    avro_schema_decref(schema);
    return path;
}

static size_t base64_decode(const char *in, uint8_t *out)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (const char *p = in; *p && *p != '='; p++) {
        const char *at = strchr(tbl, *p);
        cr_assert_not_null(at, "base64 character %c", *p);
        acc = acc << 6 | (uint32_t)(at - tbl);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (uint8_t)(acc >> bits);
        }
    }
    return n;
}

typedef struct {
    json_int_t index;
    char reason[32];
    char detail[256];
    uint8_t value[1024];
    size_t value_len;
} dead_line_t;

static size_t read_dead_letters(const char *path, dead_line_t *lines, size_t max)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s", path);
    char line[8192];
    size_t n = 0;
    while (fgets(line, sizeof(line), f)) {
        json_error_t error;
        json_t *j = json_loads(line, 0, &error);
        cr_assert_not_null(j, "line %zu is JSON: %s", n + 1, error.text);
        cr_assert_lt(n, max);
        dead_line_t *d = &lines[n++];
        json_t *index = json_object_get(j, "index"), *reason = json_object_get(j, "reason");
        json_t *detail = json_object_get(j, "detail"), *value = json_object_get(j, "value_base64");
        cr_assert(json_is_integer(index) && json_is_string(reason) && json_is_string(detail) &&
                      json_is_string(value),
                  "line %zu: %s", n, line);
        d->index = json_integer_value(index);
        snprintf(d->reason, sizeof(d->reason), "%s", json_string_value(reason));
        snprintf(d->detail, sizeof(d->detail), "%s", json_string_value(detail));
        cr_assert_lt(strlen(json_string_value(value)), sizeof(d->value) * 4 / 3);
        d->value_len = base64_decode(json_string_value(value), d->value);
        json_decref(j);
    }
    fclose(f);
    return n;
}

Test(cli, batch_with_a_corrupt_datum_still_exits_0_and_explains_every_lost_event)
{
    enum { N = 3000 };
    weir_buf_t bodies;
    weir_buf_init(&bodies, 4 << 20);
    static size_t offsets[N + 1];
    const char *in = strdup(write_events("corrupt.avro", N, &bodies, offsets));

    /* Datum 1234's event id "tx-001234" (length 9, zig-zag 0x12): make its
     * length negative (0x13 is -10). The null codec keeps datums verbatim. */
    size_t len;
    char *file = weir_test_read_file(in, &len);
    char *at = memmem(file, len, "\x12tx-001234", 10);
    cr_assert_not_null(at);
    *at = 0x13;
    FILE *f = fopen(in, "wb");
    cr_assert_eq(fwrite(file, 1, len, f), len);
    fclose(f);
    free(file);

    const char *out = strdup(path_of("out.avro"));
    const char *report = strdup(path_of("report.json"));
    const char *dlq = strdup(path_of("lost.jsonl"));
    result_t r = WEIR("batch", "--model", EXAMPLE_MODEL, "--in", in, "--out", out, "--report",
                      report, "--dlq", dlq, "--codec", "null", "-q");
    cr_assert_eq(r.code, 0, "%s", r.err);

    json_t *rep = load_report(report);
    json_int_t scored = report_int(rep, "scored"), dead = report_int(rep, "dead_letters_total");
    cr_assert_eq(report_int(rep, "events"), N);
    cr_assert_eq(scored + dead, N);
    cr_assert_geq(dead, 1);
    cr_assert_str_eq(json_string_value(json_object_get(rep, "dead_letter_file")), dlq);
    json_decref(rep);

    static dead_line_t lines[N];
    size_t n = read_dead_letters(dlq, lines, N);
    cr_assert_eq(n, (size_t)dead, "one line per lost event");
    cr_assert_eq(lines[0].index, 1234, "the corrupt datum comes first");
    cr_assert_str_eq(lines[0].reason, "bad_length");
    for (size_t i = 1; i < n; i++) {
        cr_assert_eq(lines[i].index, 1234 + (json_int_t)i, "the rest of its block, in order");
        cr_assert_str_eq(lines[i].reason, "decode_error");
        cr_assert(strstr(lines[i].detail, "not delimitable"), "%s", lines[i].detail);
    }
    /* the events after that block are scored again */
    static char ids[N][32];
    size_t got = read_ids(out, ids, N);
    cr_assert_eq(got, (size_t)scored);
    cr_assert_str_eq(ids[1233], "tx-001233");
    cr_assert_str_eq(ids[got - 1], "tx-002999");
    result_free(&r);
    weir_buf_dispose(&bodies);
    free((void *)in);
    free((void *)out);
    free((void *)report);
    free((void *)dlq);
}

Test(cli, batch_dead_letters_keep_the_refused_datum_in_base64)
{
    enum { N = 30 };
    weir_buf_t bodies;
    weir_buf_init(&bodies, 1 << 20);
    size_t offsets[N + 1];
    const char *in = strdup(write_events("ages.avro", N, &bodies, offsets));
    const char *model = strdup(write_bundle("strict-age.json", strict_age));
    const char *out = strdup(path_of("scored.avro"));
    result_t r = WEIR("batch", "--model", model, "--in", in, "--out", out, "-q");
    cr_assert_eq(r.code, 0, "%s", r.err);
    char dlq[700];
    snprintf(dlq, sizeof(dlq), "%s.dead.jsonl", out);
    cr_assert(strstr(r.err, "20 scored, 10 dead letters in ") && strstr(r.err, dlq), "%s", r.err);
    static dead_line_t lines[N];
    size_t n = read_dead_letters(dlq, lines, N);
    cr_assert_eq(n, 10, "tx_example: every third event has no age");
    for (size_t i = 0; i < n; i++) {
        size_t index = (size_t)lines[i].index;
        cr_assert_eq(index % 3, 0);
        cr_assert_str_eq(lines[i].reason, "missing_value");
        cr_assert(strstr(lines[i].detail, "customer_age"), "%s", lines[i].detail);
        size_t want = offsets[index + 1] - offsets[index];
        cr_assert_eq(lines[i].value_len, want, "datum %zu", index);
        cr_assert_eq(memcmp(lines[i].value, bodies.data + offsets[index], want), 0,
                     "datum %zu: the original bytes", index);
    }
    result_free(&r);
    weir_buf_dispose(&bodies);
    free((void *)in);
    free((void *)model);
    free((void *)out);
}

Test(cli, batch_with_a_source_field_missing_from_the_file_schema_exits_2)
{
    weir_buf_t bodies;
    weir_buf_init(&bodies, 1 << 20);
    size_t offsets[11];
    const char *in = strdup(write_events("few.avro", 10, &bodies, offsets));
    const char *model = strdup(write_bundle("renamed.json", rename_source));
    const char *out = strdup(path_of("never.avro"));
    result_t r = WEIR("batch", "--model", model, "--in", in, "--out", out);
    cr_assert_eq(r.code, 2, "exit %d: %s", r.code, r.err);
    cr_assert(strstr(r.err, in), "names the input: %s", r.err);
    cr_assert(strstr(r.err, "model feature \"channel\"") && strstr(r.err, "sales_channel"), "%s",
              r.err);
    struct stat st;
    cr_assert_neq(stat(out, &st), 0, "no output is created");
    result_free(&r);

    /* writing over the input would truncate it before it is read */
    struct stat before, after;
    cr_assert_eq(stat(in, &before), 0);
    r = WEIR("batch", "--model", EXAMPLE_MODEL, "--in", in, "--out", in);
    cr_assert_eq(r.code, 2, "exit %d: %s", r.code, r.err);
    cr_assert(strstr(r.err, "is the input file"), "%s", r.err);
    cr_assert_eq(stat(in, &after), 0);
    cr_assert_eq(after.st_size, before.st_size, "the input is untouched");
    result_free(&r);

    r = WEIR("batch", "--model", EXAMPLE_MODEL, "--in", in, "--out", out, "--codec", "zstd");
    cr_assert_eq(r.code, 2);
    cr_assert(strstr(r.err, "--codec: deflate, deflate:1 to deflate:9 or null, got \"zstd\""), "%s",
              r.err);
    result_free(&r);
    weir_buf_dispose(&bodies);
    free((void *)in);
    free((void *)model);
    free((void *)out);
}

/* ---- every command's options --------------------------------------- */

Test(cli, subcommands_answer_dash_h_on_stdout)
{
    const char *const cases[][5] = {
        {"model", "inspect", "-h", NULL},     {"model", "inspect", "--help", NULL},
        {"schema", "show", "-h", NULL},       {"schema", "scored", "-h", NULL},
        {"schema", "scored", "--help", NULL}, {"model", "inspect", EXAMPLE_MODEL, "-h"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        result_t r = weir(cases[i]);
        cr_assert_eq(r.code, 0, "weir %s %s %s exits %d: %s", cases[i][0], cases[i][1], cases[i][2],
                     r.code, r.err);
        cr_assert(strstr(r.out, "usage: weir "), "%s", r.out);
        cr_assert_str_eq(r.err, "");
        result_free(&r);
    }
}

/* The options a help text lists: lines that start with spaces and a dash,
 * "  -c, --config FILE   text" or "  --model M   text". Each gets whether a
 * value follows it (one space and a word before the description). */
typedef struct {
    char name[48];
    int takes_value;
} listed_option_t;

static size_t listed_options(const char *help, listed_option_t *opts, size_t max)
{
    size_t n = 0;
    const char *line = help;
    while (*line) {
        const char *next = strchr(line, '\n');
        next = next ? next + 1 : line + strlen(line);
        const char *p = line;
        while (*p == ' ')
            p++;
        if (p > line && *p == '-') {
            size_t first = n;
            for (;;) {
                const char *start = p;
                while (*p && *p != ' ' && *p != ',' && *p != '\n')
                    p++;
                cr_assert_lt(n, max);
                snprintf(opts[n].name, sizeof(opts[n].name), "%.*s", (int)(p - start), start);
                n++;
                if (p[0] == ',' && p[1] == ' ' && p[2] == '-') {
                    p += 2;
                    continue;
                }
                break;
            }
            int value = p[0] == ' ' && p[1] != ' ' && p[1] != '\n' && p[1] != '\0';
            for (size_t k = first; k < n; k++)
                opts[k].takes_value = value;
        }
        line = next;
    }
    return n;
}

/* The commands `weir -h` lists ("  run       join a consumer group ...") and
 * the subcommands their usage lines name ("usage: weir model inspect
 * BUNDLE.json", "       weir schema scored --input ..."): what a user can
 * call, read from the help itself, so that a new command is walked without a
 * change here. Each entry is {command, subcommand or ""}. */
static size_t commands_and_subcommands(char list[][2][32], size_t max)
{
    result_t top = WEIR("-h");
    cr_assert_eq(top.code, 0);
    size_t n = 0;
    for (const char *line = top.out; *line;) {
        char name[32], rest[8];
        /* two spaces, a lowercase name, at least two spaces, a description */
        if (!strncmp(line, "  ", 2) && line[2] >= 'a' && line[2] <= 'z' &&
            sscanf(line + 2, "%31[a-z]%7[ ]", name, rest) == 2 && strlen(rest) >= 2) {
            cr_assert_lt(n, max);
            snprintf(list[n][0], 32, "%s", name);
            list[n][1][0] = '\0';
            n++;
            result_t help = weir((const char *const[]){name, "-h", NULL});
            cr_assert_eq(help.code, 0, "weir %s -h: %s", name, help.err);
            char prefix[64];
            snprintf(prefix, sizeof(prefix), "weir %s ", name);
            for (const char *u = strstr(help.out, prefix); u; u = strstr(u + 1, prefix)) {
                char sub[32];
                /* only usage lines: "usage: weir ..." or an aligned "       weir ..." */
                const char *bol = u;
                while (bol > help.out && bol[-1] != '\n')
                    bol--;
                int usage = !strncmp(bol, "usage: ", 7) && bol + 7 == u;
                for (const char *b = bol; !usage && *b == ' '; b++)
                    usage = b + 1 == u;
                if (!usage || sscanf(u + strlen(prefix), "%31[a-z]", sub) != 1 ||
                    !strchr(" \n", u[strlen(prefix) + strlen(sub)]))
                    continue;
                int seen = 0;
                for (size_t k = 0; k < n; k++)
                    seen |= !strcmp(list[k][0], name) && !strcmp(list[k][1], sub);
                if (seen)
                    continue;
                cr_assert_lt(n, max);
                snprintf(list[n][0], 32, "%s", name);
                snprintf(list[n][1], 32, "%s", sub);
                n++;
            }
            result_free(&help);
        }
        const char *next = strchr(line, '\n');
        line = next ? next + 1 : line + strlen(line);
    }
    result_free(&top);
    return n;
}

Test(cli, every_command_and_subcommand_the_help_lists_is_walked)
{
    char list[64][2][32];
    size_t n = commands_and_subcommands(list, 64);
    const char *const expect[][2] = {
        {"run", ""},          {"batch", ""},   {"gen", ""},        {"model", ""},
        {"model", "inspect"}, {"schema", ""},  {"schema", "show"}, {"schema", "scored"},
        {"config", ""},       {"version", ""},
    };
    for (size_t e = 0; e < sizeof(expect) / sizeof(expect[0]); e++) {
        int found = 0;
        for (size_t i = 0; i < n; i++)
            found |= !strcmp(list[i][0], expect[e][0]) && !strcmp(list[i][1], expect[e][1]);
        cr_expect(found, "weir %s %s is not found in the help", expect[e][0], expect[e][1]);
    }
}

Test(cli, every_option_a_help_lists_is_accepted)
{
    char commands[64][2][32];
    size_t ncommands = commands_and_subcommands(commands, 64);
    size_t checked = 0;
    for (size_t c = 0; c < ncommands; c++) {
        const char *args[8];
        size_t na = 0;
        args[na++] = commands[c][0];
        if (commands[c][1][0])
            args[na++] = commands[c][1];
        args[na] = "-h";
        args[na + 1] = NULL;
        result_t help = weir(args);
        cr_assert_eq(help.code, 0, "weir %s %s -h: %s", args[0], na > 1 ? args[1] : "", help.err);
        listed_option_t opts[64];
        memset(opts, 0, sizeof(opts));
        size_t n = listed_options(help.out, opts, 64);
        for (size_t i = 0; i < n; i++) {
            /* the option (with a value when it takes one), then -h: a
             * recognised option leaves -h to print the help */
            size_t k = na;
            args[k++] = opts[i].name;
            if (opts[i].takes_value)
                args[k++] = "1";
            args[k++] = "-h";
            args[k] = NULL;
            result_t r = weir(args);
            cr_assert_eq(r.code, 0, "weir %s %s %s: exit %d: %s", args[0], na > 1 ? args[1] : "",
                         opts[i].name, r.code, r.err);
            cr_assert_str_eq(r.out, help.out, "weir %s %s: the help", args[0], opts[i].name);
            result_free(&r);
            checked++;
        }
        result_free(&help);
    }
    cr_assert_geq(checked, 50, "only %zu options found", checked);
}

Test(cli, an_unknown_option_is_named_and_exits_2)
{
    const char *const cases[][4] = {
        {"batch", "--frobnicate", NULL},
        {"run", "--frobnicate", NULL},
        {"gen", "-Z", NULL},
        {"model", "inspect", "--frobnicate", NULL},
        {"schema", "show", "-Z", NULL},
        {"config", "--frobnicate", NULL},
        {"version", "--frobnicate", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        result_t r = weir(cases[i]);
        cr_assert_eq(r.code, 2, "weir %s: exit %d", cases[i][0], r.code);
        const char *opt = cases[i][1][0] == '-' ? cases[i][1] : cases[i][2];
        cr_assert(strstr(r.err, opt), "names %s: %s", opt, r.err);
        result_free(&r);
    }
    result_t r = WEIR("batch", "--model");
    cr_assert_eq(r.code, 2);
    cr_assert(strstr(r.err, "--model"), "%s", r.err);
    result_free(&r);
}

/* Writes a gen file of @p count events (seed 2) and returns its path. */
static const char *gen_file(const char *name, const char *count)
{
    const char *events = path_of(name);
    char out_spec[600];
    snprintf(out_spec, sizeof(out_spec), "file:%s", events);
    result_t g = WEIR("gen", "--out", out_spec, "--count", count, "--seed", "2", "-q");
    cr_assert_eq(g.code, 0, "%s", g.err);
    result_free(&g);
    return events;
}

static json_int_t drift_events(const char *report)
{
    json_t *rep = load_report(report);
    json_t *drift = json_object_get(rep, "drift");
    cr_assert(json_is_object(drift), "report.drift");
    json_int_t n = json_integer_value(json_object_get(drift, "events"));
    json_decref(rep);
    return n;
}

Test(cli, batch_drift_window_sets_how_many_events_the_report_compares)
{
    const char *events = strdup(gen_file("events.avro", "3000"));
    const char *scored = strdup(path_of("scored.avro"));
    const char *report = strdup(path_of("report.json"));
    result_t r = WEIR("batch", "--model", EXAMPLE_MODEL, "--in", events, "--out", scored,
                      "--report", report, "--drift-window", "700", "-q");
    cr_assert_eq(r.code, 0, "%s", r.err);
    cr_assert_eq(drift_events(report), 700);
    result_free(&r);
    /* without it, the whole file (up to 100000) */
    r = WEIR("batch", "--model", EXAMPLE_MODEL, "--in", events, "--out", scored, "--report", report,
             "-q");
    cr_assert_eq(r.code, 0, "%s", r.err);
    cr_assert_eq(drift_events(report), 3000);
    result_free(&r);
    r = WEIR("batch", "--model", EXAMPLE_MODEL, "--in", events, "--out", scored, "--report", report,
             "--drift-window", "0");
    cr_assert_eq(r.code, 2, "%s", r.err);
    cr_assert(strstr(r.err, "--drift-window"), "%s", r.err);
    result_free(&r);
    free((void *)events);
    free((void *)scored);
    free((void *)report);
}

Test(cli, batch_takes_a_config_file_and_x_and_its_options_override_them)
{
    const char *events = strdup(gen_file("events.avro", "3000"));
    const char *scored = strdup(path_of("scored.avro"));
    const char *report = strdup(path_of("report.json"));
    const char *conf = path_of("batch.conf");
    char text[1024];
    snprintf(text, sizeof(text),
             "model.path = %s\n"
             "drift.window = 900\n"
             "kafka.bootstrap.servers = 127.0.0.1:1\n",
             EXAMPLE_MODEL);
    write_text(conf, text);
    conf = strdup(conf);
    /* the file's model and drift window */
    result_t r =
        WEIR("batch", "-c", conf, "--in", events, "--out", scored, "--report", report, "-q");
    cr_assert_eq(r.code, 0, "%s", r.err);
    cr_assert_eq(drift_events(report), 900);
    result_free(&r);
    /* -X over the file */
    r = WEIR("batch", "--config", conf, "-X", "drift.window=800", "--in", events, "--out", scored,
             "--report", report, "-q");
    cr_assert_eq(r.code, 0, "%s", r.err);
    cr_assert_eq(drift_events(report), 800);
    result_free(&r);
    /* the option over both, wherever it stands */
    r = WEIR("batch", "--drift-window", "600", "-X", "drift.window=800", "-c", conf, "--in", events,
             "--out", scored, "--report", report, "-q");
    cr_assert_eq(r.code, 0, "%s", r.err);
    cr_assert_eq(drift_events(report), 600);
    result_free(&r);
    /* errors name the file and line, or -X */
    r = WEIR("batch", "-c", conf, "-X", "drift.window=0", "--in", events, "--out", scored);
    cr_assert_eq(r.code, 2);
    cr_assert(strstr(r.err, "-X: drift.window: "), "%s", r.err);
    result_free(&r);
    free((void *)events);
    free((void *)scored);
    free((void *)report);
    free((void *)conf);
}

/* Reads one field of every record of a container file into @p out (as text). */
static size_t read_field(const char *path, const char *field, char out[][32], size_t max)
{
    weir_container_reader_t *r;
    cr_assert_eq(weir_container_reader_open(path, &r, err, sizeof(err)), 0, "%s", err);
    size_t n = 0;
    for (;;) {
        avro_value_t *v;
        const uint8_t *body;
        size_t len, skipped;
        weir_reason_t reason;
        char detail[256];
        int got = weir_container_reader_next(r, &v, &body, &len, &skipped, &reason, detail,
                                             sizeof(detail));
        if (got == 0)
            break;
        cr_assert_eq(got, 1, "%s: %s", path, detail);
        avro_value_t f, branch;
        cr_assert_eq(avro_value_get_by_name(v, field, &f, NULL), 0, "%s", field);
        if (avro_value_get_type(&f) == AVRO_UNION) {
            cr_assert_eq(avro_value_get_current_branch(&f, &branch), 0);
            f = branch;
        }
        cr_assert_lt(n, max);
        const char *s;
        size_t size;
        int32_t i32;
        int64_t i64;
        double d;
        if (avro_value_get_double(&f, &d) == 0)
            snprintf(out[n++], 32, "%g", d);
        else if (avro_value_get_string(&f, &s, &size) == 0)
            snprintf(out[n++], 32, "%s", s);
        else if (avro_value_get_long(&f, &i64) == 0)
            snprintf(out[n++], 32, "%lld", (long long)i64);
        else if (avro_value_get_int(&f, &i32) == 0)
            snprintf(out[n++], 32, "%d", (int)i32);
        else
            cr_assert_fail("%s: not a string, double, long or int", field);
    }
    weir_container_reader_close(r);
    return n;
}

Test(cli, batch_id_and_time_fields_choose_what_the_scored_event_carries)
{
    const char *events = strdup(gen_file("events.avro", "200"));
    const char *scored = strdup(path_of("scored.avro"));
    result_t r = WEIR("batch", "--model", EXAMPLE_MODEL, "--in", events, "--out", scored,
                      "--id-field", "card_id", "--time-field", "account_age_days", "--quiet");
    cr_assert_eq(r.code, 0, "%s", r.err);
    cr_assert_eq(strchr(r.err, '\n'), strrchr(r.err, '\n'), "--quiet: the summary line only: %s",
                 r.err);
    static char cards[200][32], ids[200][32], ages[200][32], times[200][32];
    cr_assert_eq(read_field(events, "card_id", cards, 200), 200);
    cr_assert_eq(read_field(events, "account_age_days", ages, 200), 200);
    cr_assert_eq(read_field(scored, "event_id", ids, 200), 200);
    cr_assert_eq(read_field(scored, "event_time", times, 200), 200);
    for (size_t i = 0; i < 200; i++) {
        cr_assert_str_eq(ids[i], cards[i]);
        cr_assert_str_eq(times[i], ages[i]);
    }
    result_free(&r);
    r = WEIR("batch", "--model", EXAMPLE_MODEL, "--in", events, "--out", scored, "--id-field",
             "no_such_field");
    cr_assert_eq(r.code, 2);
    cr_assert(strstr(r.err, "no_such_field"), "%s", r.err);
    result_free(&r);
    free((void *)events);
    free((void *)scored);
}

/* ---- keys that cannot take effect ---------------------------------- */

Test(cli, batch_refuses_a_feature_key_that_cannot_take_effect_naming_its_line)
{
    const char *events = strdup(gen_file("events.avro", "100"));
    const char *scored = strdup(path_of("scored.avro"));
    const char *const cases[][2] = {
        /* amount is numeric: chi2 never runs on it */
        {"drift.feature.amount.chi2.threshold = 0.2\n", "drift.feature.amount.chi2.threshold"},
        /* channel is categorical */
        {"drift.feature.channel.ks.threshold = 0.2\n", "drift.feature.channel.ks.threshold"},
        {"drift.feature.channel.tests = ks\n", "drift.feature.channel.tests"},
        /* the bundle has no such feature */
        {"drift.feature.colour.psi.threshold = 0.2\n", "drift.feature.colour.psi.threshold"},
        /* psi is not among the tests run on amount */
        {"drift.feature.amount.tests = ks\ndrift.feature.amount.psi.threshold = 0.3\n",
         "drift.feature.amount.psi.threshold"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *conf = write_conf("feature.conf", EXAMPLE_MODEL, NULL, cases[i][0]);
        result_t r = WEIR("batch", "-c", conf, "--in", events, "--out", scored);
        cr_assert_eq(r.code, 2, "%s: exit %d: %s", cases[i][0], r.code, r.err);
        int line = strchr(cases[i][0], '\n')[1] ? 10 : 9; /* after a comment and 7 keys */
        char expect[700];
        snprintf(expect, sizeof(expect), "%s:%d: %s: ", conf, line, cases[i][1]);
        cr_assert(strstr(r.err, expect), "expected \"%s\" in: %s", expect, r.err);
        result_free(&r);
    }
    /* the same keys where they apply are fine */
    const char *conf = write_conf("fine.conf", EXAMPLE_MODEL, NULL,
                                  "drift.feature.amount.ks.threshold = 0.2\n"
                                  "drift.feature.channel.chi2.threshold = 0.2\n"
                                  "drift.feature.score.psi.threshold = 0.3\n");
    result_t r = WEIR("batch", "-c", conf, "--in", events, "--out", scored, "-q");
    cr_assert_eq(r.code, 0, "%s", r.err);
    result_free(&r);
    free((void *)events);
    free((void *)scored);
}

Test(cli, run_refuses_a_feature_key_that_cannot_take_effect_before_it_starts)
{
    /* 192.0.2.1 (TEST-NET-1) is no local address: were the key let through,
     * weir run would fail later, binding http.listen, with exit 1 */
    const char *conf = write_conf("feature.conf", EXAMPLE_MODEL, "http.listen",
                                  "http.listen = 192.0.2.1:9464\n"
                                  "drift.feature.amount.chi2.threshold = 0.2\n");
    result_t r = WEIR("run", "-c", conf);
    cr_assert_eq(r.code, 2, "exit %d: %s", r.code, r.err);
    char expect[700];
    snprintf(expect, sizeof(expect), "%s:9: drift.feature.amount.chi2.threshold: ", conf);
    cr_assert(strstr(r.err, expect), "expected \"%s\" in: %s", expect, r.err);
    result_free(&r);
    conf = write_conf("colour.conf", EXAMPLE_MODEL, NULL, "drift.feature.colour.tests = none\n");
    r = WEIR("run", "-c", conf);
    cr_assert_eq(r.code, 2, "exit %d: %s", r.code, r.err);
    snprintf(expect, sizeof(expect), "%s:9: drift.feature.colour.tests: ", conf);
    cr_assert(strstr(r.err, expect), "expected \"%s\" in: %s", expect, r.err);
    result_free(&r);
}

Test(cli, run_never_prints_a_secret_from_a_line_without_equals)
{
    const char *conf =
        write_conf("secret.conf", EXAMPLE_MODEL, NULL, "kafka.sasl.password S3CRET\n");
    result_t r = WEIR("run", "-c", conf);
    cr_assert_eq(r.code, 2);
    char expect[700];
    snprintf(expect, sizeof(expect), "%s:9: ", conf);
    cr_assert(strstr(r.err, expect), "%s", r.err);
    cr_assert(!strstr(r.err, "S3CRET"), "%s", r.err);
    result_free(&r);
}

/* ---- weir gen ------------------------------------------------------ */

Test(cli, gen_to_a_topic_without_a_broker_address_is_a_usage_error)
{
    result_t r = WEIR("gen", "--out", "topic:tx", "--count", "1");
    cr_assert_eq(r.code, 2, "exit %d: %s", r.code, r.err);
    cr_assert(strstr(r.err, "-b") && strstr(r.err, "kafka.bootstrap.servers"), "%s", r.err);
    result_free(&r);
    const char *file = strdup(path_of("e.avro"));
    char spec[600];
    snprintf(spec, sizeof(spec), "file:%s", file);
    r = WEIR("gen", "--out", spec, "--labels", "topic:labels", "--count", "1");
    cr_assert_eq(r.code, 2, "exit %d: %s", r.code, r.err);
    result_free(&r);
    /* a config file without the address is no better */
    const char *conf = path_of("gen.conf");
    write_text(conf, "log.level = warn\n");
    r = WEIR("gen", "-c", conf, "--out", "topic:tx", "--count", "1");
    cr_assert_eq(r.code, 2, "exit %d: %s", r.code, r.err);
    result_free(&r);
    free((void *)file);
}

Test(cli, gen_exit_code_follows_the_error_not_the_words_of_its_message)
{
    /* a file that cannot be created is a runtime failure (1), whatever its
     * path says */
    const char *spec[] = {"file:%s/kafka.d/e.avro", "file:%s/expected topic:x/e.avro"};
    for (size_t i = 0; i < 2; i++) {
        char out[600];
        snprintf(out, sizeof(out), spec[i], dir);
        result_t r = WEIR("gen", "--out", out, "--count", "1", "-q");
        cr_assert_eq(r.code, 1, "%s: exit %d: %s", out, r.code, r.err);
        result_free(&r);
    }
    result_t r = WEIR("gen", "--out", "bucket:x", "--count", "1");
    cr_assert_eq(r.code, 2);
    cr_assert(strstr(r.err, "bucket:x"), "%s", r.err);
    result_free(&r);
}

Test(cli, gen_takes_settings_from_c_and_x)
{
    const char *conf = path_of("gen.conf");
    write_text(conf, "log.level = error\n");
    conf = strdup(conf);
    char out[600];
    snprintf(out, sizeof(out), "file:%s", path_of("e.avro"));
    /* log.level = error silences the progress lines without -q */
    result_t r = WEIR("gen", "-c", conf, "--out", out, "--count", "10");
    cr_assert_eq(r.code, 0, "%s", r.err);
    cr_assert_str_eq(r.err, "");
    result_free(&r);
    r = WEIR("gen", "--config", conf, "-X", "log.level=info", "--out", out, "--count", "10");
    cr_assert_eq(r.code, 0, "%s", r.err);
    cr_assert(strstr(r.err, "gen done"), "-X overrides the file: %s", r.err);
    result_free(&r);
    r = WEIR("gen", "-X", "log.levl=info", "--out", out, "--count", "10");
    cr_assert_eq(r.code, 2);
    cr_assert(strstr(r.err, "-X: unknown key \"log.levl\""), "%s", r.err);
    result_free(&r);
    r = WEIR("gen", "--bootstrap", "127.0.0.1:1", "--out", out, "--count", "10", "--schema-id",
             "2147483648");
    cr_assert_eq(r.code, 2);
    cr_assert(strstr(r.err, "--schema-id"), "%s", r.err);
    result_free(&r);
    r = WEIR("gen", "-b", "127.0.0.1:1", "--out", out, "--count", "10", "--labels-schema-id", "-1");
    cr_assert_eq(r.code, 2);
    cr_assert(strstr(r.err, "--labels-schema-id"), "%s", r.err);
    result_free(&r);
    free((void *)conf);
}

Test(cli, gen_start_time_and_interval_set_the_event_times)
{
    const char *events = path_of("e.avro");
    char out[600];
    snprintf(out, sizeof(out), "file:%s", events);
    result_t r = WEIR("gen", "--out", out, "--count", "50", "--start-time", "1000000", "--interval",
                      "0", "--rate", "100000", "-q");
    cr_assert_eq(r.code, 0, "%s", r.err);
    result_free(&r);
    static char times[50][32];
    cr_assert_eq(read_field(events, "event_time", times, 50), 50);
    for (size_t i = 0; i < 50; i++)
        cr_assert_str_eq(times[i], "1000000", "--interval 0: every event at the start time");
    r = WEIR("gen", "--out", out, "--count", "50", "--start-time", "1000000", "--interval", "10",
             "-q");
    cr_assert_eq(r.code, 0, "%s", r.err);
    result_free(&r);
    cr_assert_eq(read_field(events, "event_time", times, 50), 50);
    cr_assert_str_eq(times[0], "1000000");
    long long last = strtoll(times[49], NULL, 10);
    cr_assert(last > 1000000 + 49 * 2 && last < 1000000 + 49 * 50, "about 10 ms apart: %lld", last);
}

Test(cli, gen_fraud_rate_sets_the_share_of_positive_labels)
{
    const char *events = strdup(path_of("e.avro")), *labels = strdup(path_of("l.avro"));
    char out[600], lab[600];
    snprintf(out, sizeof(out), "file:%s", events);
    snprintf(lab, sizeof(lab), "file:%s", labels);
    static char values[400][32];
    const char *rates[] = {"0", "1"};
    for (size_t k = 0; k < 2; k++) {
        result_t r = WEIR("gen", "--out", out, "--labels", lab, "--count", "400", "--fraud-rate",
                          rates[k], "--quiet");
        cr_assert_eq(r.code, 0, "%s", r.err);
        cr_assert_str_eq(r.err, "", "--quiet: %s", r.err);
        result_free(&r);
        cr_assert_eq(read_field(labels, "label", values, 400), 400);
        for (size_t i = 0; i < 400; i++)
            cr_assert_str_eq(values[i], rates[k], "--fraud-rate %s: label %zu", rates[k], i);
    }
    free((void *)events);
    free((void *)labels);
}
