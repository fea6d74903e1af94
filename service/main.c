/*
 * main.c — the `weir` command line: one binary, a subcommand per mode.
 *
 *   weir run -c weir.conf [-X key=value ...]   the consumer-group scoring service
 *   weir batch --model M --in IN --out OUT      batch prediction over Avro files
 *   weir replay -c weir.conf --from T --to T    backtest champion and challengers
 *   weir profile --in topic:T|file:F            the statistics of a stream's fields
 *   weir report R.json -o R.html                a report as a self-contained page
 *   weir gen --out topic:T|file:F --count N     synthetic transactions and labels
 *   weir serve -c weir.conf                     real-time scoring over HTTP (POST /score)
 *   weir model inspect M                        validate and describe a bundle
 *   weir model promote DIR VERSION | rollback DIR   move a model folder's current version
 *   weir schema show NAME | scored --input X    print a schema weir reads or writes
 *   weir config                                 every configuration key
 *   weir version
 *
 * Each command parses its arguments into one options struct, then runs from
 * it (curl's OperationConfig): the run half never reads argv, and -h answers
 * on every command and subcommand. Exit codes: 0 ok, 1 runtime failure,
 * 2 usage or configuration error.
 */
#include "batch.h"
#include "cli.h"
#include "common.h"
#include "config.h"
#include "gen.h"
#include "log.h"
#include "profile.h"
#include "replay.h"
#include "report.h"
#include "rollout.h"
#include "run.h"
#include "schemas.h"
#include "serve.h"
#include "scoring.h"

#include <getopt.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <uv.h>

static void usage(FILE *out)
{
    fprintf(
        out,
        "weir %s — score Kafka event streams with a trained model and watch them for drift\n"
        "\n"
        "usage: weir <command> [options]    (weir <command> -h for its options)\n"
        "\n"
        "  run       join a consumer group, score events, write scored events and dead letters\n"
        "  serve     answer POST /score over HTTP (real-time scoring)\n"
        "  batch     score an Avro container file offline\n"
        "  replay    backtest a champion and challengers on a range of the input\n"
        "  profile   per-field statistics of a topic range or a file (a bundle reference)\n"
        "  report    render a report (replay, batch, profile) as one HTML page\n"
        "  gen       generate synthetic card transactions and labels\n"
        "  model     inspect a bundle; promote or roll back a model folder's version\n"
        "  schema    print a schema (weir schema show NAME | scored --input X.avsc)\n"
        "  config    list every configuration key with its default\n"
        "  version   print versions\n"
        "\n"
        "Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error.\n",
        WEIR_VERSION);
}

/* ---- weir run ------------------------------------------------------ */

typedef struct {
    weir_config_args_t config; /* -c FILE, -X key=value */
    int help;
} run_options_t;

static void run_usage(FILE *out)
{
    fprintf(out, "usage: weir run -c weir.conf [-X key=value ...]\n"
                 "\n"
                 "Joins the Kafka consumer group kafka.group.id, scores every event of\n"
                 "input.topics with model.path, and writes ScoredEvents to output.topic and\n"
                 "events that cannot be scored to dlq.topic. Offsets are committed only after\n"
                 "their output is written (at-least-once). SIGTERM/SIGINT stop it cleanly.\n"
                 "\n"
                 "  -c, --config FILE   the configuration file (key = value lines)\n"
                 "  -X key=value        set or override one key (repeatable; after the file)\n"
                 "  -h, --help          this help\n"
                 "\n"
                 "Keys:\n");
    weir_config_print_keys(out);
}

static int run_parse(int argc, char **argv, run_options_t *o, char *err, size_t errsz)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int opt, rc = 0;
    memset(o, 0, sizeof(*o));
    optind = 1;
    opterr = 0;
    while (rc == 0 && (opt = getopt_long(argc, argv, ":c:X:h", opts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            rc = weir_cli_config_file(&o->config, optarg, err, errsz);
            break;
        case 'X':
            rc = weir_cli_config_override(&o->config, optarg, err, errsz);
            break;
        case 'h':
            o->help = 1;
            break;
        default:
            rc = weir_cli_option_error("run", opt, argc, argv, err, errsz);
            break;
        }
    }
    if (rc || o->help)
        return rc;
    if (optind < argc)
        return weir_cli_stray_argument("run", argv[optind], err, errsz);
    if (!o->config.path && o->config.n_overrides == 0)
        return weir_seterr(err, errsz, WEIR_EINVAL, "-c weir.conf is required (see weir run -h)");
    return 0;
}

/* Applies the file and the overrides, checks what the service needs, runs. */
static int run_exec(const run_options_t *o)
{
    weir_config_t cfg;
    char err[1024];
    int code;
    weir_config_init(&cfg);
    if (weir_config_apply_args(&cfg, &o->config, err, sizeof(err)) != 0 ||
        weir_config_check_run(&cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "weir run: %s\n", err);
        code = 2;
        goto out;
    }
    code = weir_run(&cfg);
out:
    weir_config_dispose(&cfg);
    return code;
}

static int cmd_run(int argc, char **argv)
{
    run_options_t o;
    char err[1024];
    if (run_parse(argc, argv, &o, err, sizeof(err)) != 0) {
        fprintf(stderr, "weir run: %s\n", err);
        return 2;
    }
    if (o.help) {
        run_usage(stdout);
        return 0;
    }
    return run_exec(&o);
}

/* ---- weir serve ---------------------------------------------------- */

static void serve_usage(FILE *out)
{
    fprintf(out, "usage: weir serve -c weir.conf [-X key=value ...]\n"
                 "\n"
                 "Answers POST /score on score.listen (default " WEIR_SERVE_DEFAULT_LISTEN
                 ") with the score, decision,\n"
                 "class probabilities and version of model.path for one event: a JSON object\n"
                 "(Content-Type: application/json, fields by name, checked against\n"
                 "input.schema), a Confluent-framed Avro value (application/vnd.confluent.avro)\n"
                 "or a raw Avro body (application/avro; schema-id=N). /metrics, /healthz and\n"
                 "/readyz answer on the same port. A new model.path version (a changed file, a\n"
                 "model folder's pointer, or SIGHUP) is loaded without a restart. No Kafka.\n"
                 "\n"
                 "  -c, --config FILE   the configuration file (key = value lines)\n"
                 "  -X key=value        set or override one key (repeatable; after the file)\n"
                 "  -h, --help          this help\n");
}

static int cmd_serve(int argc, char **argv)
{
    run_options_t o;
    char err[1024];
    weir_config_t cfg;
    int code;
    /* the same options as weir run */
    if (run_parse(argc, argv, &o, err, sizeof(err)) != 0) {
        /* run_parse names "run" in its messages: say it for serve */
        fprintf(stderr, "weir serve: %s\n", err);
        return 2;
    }
    if (o.help) {
        serve_usage(stdout);
        return 0;
    }
    weir_config_init(&cfg);
    if (weir_config_apply_args(&cfg, &o.config, err, sizeof(err)) != 0 ||
        weir_config_check_serve(&cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "weir serve: %s\n", err);
        code = 2;
        goto out;
    }
    code = weir_serve(&cfg);
out:
    weir_config_dispose(&cfg);
    return code;
}

/* ---- weir model, weir schema, weir config, weir version ------------- */

/* A command's positional words (subcommand first) and its only option
 * besides -h, --input (weir schema scored). */
typedef struct {
    const char *words[4];
    size_t n_words;
    const char *input;
    int shadow; /* --shadow (weir schema scored) */
    int help;
} words_options_t;

/* Parses `weir CMD [WORDS...] [--input X] [-h]`; @p with_input: whether
 * --input is one of the command's options. */
static int words_parse(const char *cmd, int argc, char **argv, int with_input, words_options_t *o,
                       char *err, size_t errsz)
{
    static const struct option with[] = {{"input", required_argument, NULL, 'i'},
                                         {"shadow", no_argument, NULL, 's'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const struct option *opts = with_input ? with : with + 2;
    int opt, rc = 0;
    memset(o, 0, sizeof(*o));
    optind = 1;
    opterr = 0;
    while (rc == 0 && (opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (opt == 'h')
            o->help = 1;
        else if (opt == 'i')
            o->input = optarg;
        else if (opt == 's')
            o->shadow = 1;
        else
            rc = weir_cli_option_error(cmd, opt, argc, argv, err, errsz);
    }
    if (rc || o->help)
        return rc;
    for (; optind < argc; optind++) {
        if (o->n_words == sizeof(o->words) / sizeof(o->words[0]))
            return weir_cli_stray_argument(cmd, argv[optind], err, errsz);
        o->words[o->n_words++] = argv[optind];
    }
    return 0;
}

static const char *task_name(weir_task_t t)
{
    return t == WEIR_TASK_BINARY       ? "binary"
           : t == WEIR_TASK_MULTICLASS ? "multiclass"
                                       : "regression";
}

static const char *kind_name(weir_model_kind_t k)
{
    static const char *names[] = {"linear", "logistic", "softmax", "mlp", "trees"};
    return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "?";
}

static const char *type_name(weir_feature_type_t t)
{
    return t == WEIR_FEATURE_NUMERIC       ? "numeric"
           : t == WEIR_FEATURE_CATEGORICAL ? "categorical"
                                           : "boolean";
}

static void model_usage(FILE *out)
{
    fprintf(out, "usage: weir model inspect BUNDLE.json|DIR\n"
                 "       weir model promote DIR VERSION\n"
                 "       weir model rollback DIR\n"
                 "\n"
                 "inspect validates a model bundle (exit 2 with the path of the first problem)\n"
                 "and describes it: task, model, features and their columns, reference profile.\n"
                 "\n"
                 "A model folder DIR holds bundles named VERSION.json and a pointer file,\n"
                 "DIR/current, naming the version served (then the ones it replaced). promote\n"
                 "checks DIR/VERSION.json and makes it current; rollback makes the version\n"
                 "before current again. Both replace the pointer atomically (a rename), and a\n"
                 "weir run or weir serve whose model.path is DIR follows within a second.\n"
                 "\n"
                 "  -h, --help   this help\n");
}

static int model_promote(const char *dir, const char *version)
{
    char err[1024];
    int rc = weir_models_promote(dir, version, err, sizeof(err));
    if (rc != 0) {
        fprintf(stderr, "weir model promote: %s\n", err);
        return rc == WEIR_EIO ? 1 : 2;
    }
    printf("%s: current version is %s\n", dir, version);
    return 0;
}

static int model_rollback(const char *dir)
{
    char err[1024], to[WEIR_MODELS_VERSION_MAX + 1];
    int rc = weir_models_rollback(dir, to, sizeof(to), err, sizeof(err));
    if (rc != 0) {
        fprintf(stderr, "weir model rollback: %s\n", err);
        return rc == WEIR_EIO ? 1 : 2;
    }
    printf("%s: current version is %s\n", dir, to);
    return 0;
}

static int model_inspect(const char *path)
{
    weir_model_t *m;
    char err[1024];
    if (weir_model_load(path, &m, err, sizeof(err)) != 0) {
        fprintf(stderr, "weir model: %s\n", err);
        return 2;
    }
    printf("model     %s %s (%s, %s)\n", weir_model_name(m), weir_model_version(m),
           task_name(weir_model_task(m)), kind_name(weir_model_kind(m)));
    if (*weir_model_created(m))
        printf("created   %s\n", weir_model_created(m));
    if (weir_model_task(m) == WEIR_TASK_BINARY)
        printf("threshold %g (positive class \"%s\")\n", weir_model_threshold(m),
               weir_model_class(m, 1));
    printf("columns   %zu from %zu features\n", weir_model_columns(m), weir_model_feature_count(m));
    printf("\n  %-4s %-28s %-28s %-12s %-8s %s\n", "#", "feature", "source", "type", "columns",
           "reference");
    for (size_t i = 0; i < weir_model_feature_count(m); i++) {
        const weir_feature_info_t *f = weir_model_feature(m, i);
        const weir_reference_t *r = weir_model_reference(m, i);
        char cols[32];
        snprintf(cols, sizeof(cols), "%zu-%zu", f->column, f->column + f->width - 1);
        printf("  %-4zu %-28s %-28s %-12s %-8s %s\n", i, f->name, f->source, type_name(f->type),
               cols, r ? "yes" : "-");
    }
    const weir_performance_t *p = weir_model_performance(m);
    if (p->n > 0)
        printf("\nreference performance on %llu rows: auc %.4f precision %.4f recall %.4f f1 "
               "%.4f\n",
               (unsigned long long)p->n, p->auc, p->precision, p->recall, p->f1);
    for (size_t i = 0; i < weir_model_warning_count(m); i++)
        printf("\nwarning: %s", weir_model_warning(m, i));
    printf("%s\nok: the bundle is valid%s\n", weir_model_warning_count(m) ? "\n" : "",
           weir_model_warning_count(m) ? " (with the warnings above)" : "");
    weir_model_destroy(m);
    return 0;
}

static int cmd_model(int argc, char **argv)
{
    words_options_t o;
    char err[1024];
    if (words_parse("model", argc, argv, 0, &o, err, sizeof(err)) != 0) {
        fprintf(stderr, "weir model: %s\n", err);
        return 2;
    }
    if (o.help) {
        model_usage(stdout);
        return 0;
    }
    if (o.n_words == 3 && !strcmp(o.words[0], "promote"))
        return model_promote(o.words[1], o.words[2]);
    if (o.n_words == 2 && !strcmp(o.words[0], "rollback"))
        return model_rollback(o.words[1]);
    if (o.n_words != 2 || strcmp(o.words[0], "inspect") != 0) {
        model_usage(stderr);
        return 2;
    }
    struct stat st;
    char file[4096];
    if (stat(o.words[1], &st) != 0 || !S_ISDIR(st.st_mode))
        return model_inspect(o.words[1]);
    /* a model folder: its current version */
    if (weir_models_resolve(o.words[1], file, sizeof(file), err, sizeof(err)) != 0) {
        fprintf(stderr, "weir model: %s\n", err);
        return 2;
    }
    return model_inspect(file);
}

static void schema_usage(FILE *out)
{
    fprintf(out, "usage: weir schema show transaction|scored_event|label|drift_alert\n"
                 "       weir schema scored --input INPUT.avsc [--shadow]\n"
                 "\n"
                 "Prints a schema compiled into weir, or the ScoredEvent schema weir writes\n"
                 "for an input schema (to register it in a schema registry).\n"
                 "\n"
                 "  --input INPUT.avsc   (scored) the input writer schema\n"
                 "  --shadow             (scored) with the optional field shadow, as written\n"
                 "                       while model.shadow.path is set without shadow.topic\n"
                 "  -h, --help           this help\n");
}

static int schema_show(const char *name)
{
    const char *text = weir_schema_text(name);
    if (!text) {
        char quoted[160];
        weir_config_quote(quoted, sizeof(quoted), name, strlen(name));
        fprintf(stderr,
                "weir schema: no schema %s (transaction, scored_event, label, drift_alert)\n",
                quoted);
        return 2;
    }
    fputs(text, stdout);
    return 0;
}

static int schema_scored(const char *path, int shadow)
{
    avro_schema_t input, scored;
    char err[1024];
    if (weir_schema_load_file(path, &input, err, sizeof(err)) != 0) {
        fprintf(stderr, "weir schema: %s\n", err);
        return 2;
    }
    int rc = weir_scored_schema_with(input, shadow, &scored, err, sizeof(err));
    avro_schema_decref(input);
    if (rc != 0) {
        fprintf(stderr, "weir schema: %s: %s\n", path, err);
        return 2;
    }
    char json[1 << 16];
    avro_writer_t w = avro_writer_memory(json, sizeof(json) - 1);
    rc = avro_schema_to_json(scored, w);
    json[avro_writer_tell(w)] = '\0';
    avro_writer_free(w);
    avro_schema_decref(scored);
    if (rc != 0) {
        fprintf(stderr, "weir schema: the schema is too large to print\n");
        return 1;
    }
    printf("%s\n", json);
    return 0;
}

static int cmd_schema(int argc, char **argv)
{
    words_options_t o;
    char err[1024];
    if (words_parse("schema", argc, argv, 1, &o, err, sizeof(err)) != 0) {
        fprintf(stderr, "weir schema: %s\n", err);
        return 2;
    }
    if (o.help) {
        schema_usage(stdout);
        return 0;
    }
    if (o.n_words == 2 && !strcmp(o.words[0], "show") && !o.input && !o.shadow)
        return schema_show(o.words[1]);
    if (o.n_words == 1 && !strcmp(o.words[0], "scored") && o.input)
        return schema_scored(o.input, o.shadow);
    fprintf(stderr, "usage: weir schema show NAME | weir schema scored --input INPUT.avsc\n");
    return 2;
}

static int cmd_config(int argc, char **argv)
{
    words_options_t o;
    char err[1024];
    if (words_parse("config", argc, argv, 0, &o, err, sizeof(err)) != 0 ||
        (!o.help && o.n_words > 0 &&
         weir_cli_stray_argument("config", o.words[0], err, sizeof(err)) != 0)) {
        fprintf(stderr, "weir config: %s\n", err);
        return 2;
    }
    if (o.help)
        printf("usage: weir config\n"
               "\n"
               "Lists every configuration key with its default.\n"
               "\n"
               "  -h, --help   this help\n"
               "\n");
    printf("weir configuration keys [default]:\n");
    weir_config_print_keys(stdout);
    return 0;
}

static int cmd_version(int argc, char **argv)
{
    words_options_t o;
    char err[1024];
    if (words_parse("version", argc, argv, 0, &o, err, sizeof(err)) != 0 ||
        (!o.help && o.n_words > 0 &&
         weir_cli_stray_argument("version", o.words[0], err, sizeof(err)) != 0)) {
        fprintf(stderr, "weir version: %s\n", err);
        return 2;
    }
    if (o.help) {
        printf("usage: weir version\n"
               "\n"
               "Prints the versions of weir, librdkafka and libuv.\n"
               "\n"
               "  -h, --help   this help\n");
        return 0;
    }
    printf("weir %s (librdkafka %s, libuv %s)\n", WEIR_VERSION, rd_kafka_version_str(),
           uv_version_string());
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "run"))
        return cmd_run(argc - 1, argv + 1);
    if (!strcmp(cmd, "serve"))
        return cmd_serve(argc - 1, argv + 1);
    if (!strcmp(cmd, "batch"))
        return weir_batch_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "replay"))
        return weir_replay_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "profile"))
        return weir_profile_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "report"))
        return weir_report_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "gen"))
        return weir_gen_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "model"))
        return cmd_model(argc - 1, argv + 1);
    if (!strcmp(cmd, "schema"))
        return cmd_schema(argc - 1, argv + 1);
    if (!strcmp(cmd, "config"))
        return cmd_config(argc - 1, argv + 1);
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version"))
        return cmd_version(argc - 1, argv + 1);
    char quoted[160];
    weir_config_quote(quoted, sizeof(quoted), cmd, strlen(cmd));
    fprintf(stderr, "weir: unknown command %s\n\n", quoted);
    usage(stderr);
    return 2;
}
