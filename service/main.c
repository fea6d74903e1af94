/*
 * main.c — the `weir` command line: one binary, a subcommand per mode.
 *
 *   weir run -c weir.conf [-X key=value ...]   the consumer-group scoring service
 *   weir batch --model M --in IN --out OUT      batch prediction over Avro files
 *   weir gen --out topic:T|file:F --count N     synthetic transactions and labels
 *   weir model inspect M                        validate and describe a bundle
 *   weir schema show NAME | scored --input X    print a schema weir reads or writes
 *   weir config                                 every configuration key
 *   weir version
 *
 * Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error.
 */
#include "batch.h"
#include "common.h"
#include "config.h"
#include "gen.h"
#include "log.h"
#include "run.h"
#include "schemas.h"
#include "scoring.h"

#include <getopt.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
        "  batch     score an Avro container file offline\n"
        "  gen       generate synthetic card transactions and labels\n"
        "  model     inspect a model bundle (weir model inspect M)\n"
        "  schema    print a schema (weir schema show NAME | scored --input X.avsc)\n"
        "  config    list every configuration key with its default\n"
        "  version   print versions\n"
        "\n"
        "Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error.\n",
        WEIR_VERSION);
}

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
                 "  -X key=value        set or override one key (repeatable)\n"
                 "  -h, --help          this help\n"
                 "\n"
                 "Keys:\n");
    weir_config_print_keys(out);
}

static int cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    weir_config_t cfg;
    weir_config_init(&cfg);
    char err[1024];
    int code = 2, opt, have_config = 0;
    /* -X overrides the file wherever it stands, so the file is read first. */
    optind = 1;
    while ((opt = getopt_long(argc, argv, "c:X:h", opts, NULL)) != -1) {
        if (opt == 'c') {
            if (weir_config_load_file(&cfg, optarg, err, sizeof(err)) != 0) {
                fprintf(stderr, "weir run: %s\n", err);
                goto out;
            }
            have_config = 1;
        } else if (opt == 'h') {
            run_usage(stdout);
            code = 0;
            goto out;
        } else if (opt != 'X') {
            fprintf(stderr, "weir run: see weir run -h\n");
            goto out;
        }
    }
    optind = 1;
    while ((opt = getopt_long(argc, argv, "c:X:h", opts, NULL)) != -1) {
        if (opt == 'X' && weir_config_set(&cfg, optarg, err, sizeof(err)) != 0) {
            fprintf(stderr, "weir run: %s\n", err);
            goto out;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "weir run: unexpected argument \"%s\" (see weir run -h)\n", argv[optind]);
        goto out;
    }
    if (!have_config && cfg.kafka_count == 0) {
        fprintf(stderr, "weir run: -c weir.conf is required (see weir run -h)\n");
        goto out;
    }
    code = weir_run(&cfg);
out:
    weir_config_dispose(&cfg);
    return code;
}

static const char *task_name(weir_task_t t)
{
    return t == WEIR_TASK_BINARY       ? "binary"
           : t == WEIR_TASK_MULTICLASS ? "multiclass"
                                       : "regression";
}

static const char *kind_name(weir_model_kind_t k)
{
    static const char *names[] = {"linear", "logistic", "softmax", "mlp"};
    return (unsigned)k < 4 ? names[k] : "?";
}

static const char *type_name(weir_feature_type_t t)
{
    return t == WEIR_FEATURE_NUMERIC       ? "numeric"
           : t == WEIR_FEATURE_CATEGORICAL ? "categorical"
                                           : "boolean";
}

static int cmd_model(int argc, char **argv)
{
    if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        printf("usage: weir model inspect BUNDLE.json\n\n"
               "Validates a model bundle (exit 2 with the path of the first problem) and\n"
               "describes it: task, model, features and their columns, reference profile.\n");
        return 0;
    }
    if (argc != 3 || strcmp(argv[1], "inspect") != 0) {
        fprintf(stderr, "usage: weir model inspect BUNDLE.json\n");
        return 2;
    }
    weir_model_t *m;
    char err[1024];
    if (weir_model_load(argv[2], &m, err, sizeof(err)) != 0) {
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
    printf("\nok: the bundle is valid\n");
    weir_model_destroy(m);
    return 0;
}

static int cmd_schema(int argc, char **argv)
{
    if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        printf("usage: weir schema show transaction|scored_event|label|drift_alert\n"
               "       weir schema scored --input INPUT.avsc\n\n"
               "Prints a schema compiled into weir, or the ScoredEvent schema weir writes\n"
               "for an input schema (to register it in a schema registry).\n");
        return 0;
    }
    if (argc == 3 && !strcmp(argv[1], "show")) {
        const char *text = weir_schema_text(argv[2]);
        if (!text) {
            fprintf(stderr,
                    "weir schema: no schema \"%s\" (transaction, scored_event, label, "
                    "drift_alert)\n",
                    argv[2]);
            return 2;
        }
        fputs(text, stdout);
        return 0;
    }
    if (argc == 4 && !strcmp(argv[1], "scored") && !strcmp(argv[2], "--input")) {
        avro_schema_t input, scored;
        char err[1024];
        if (weir_schema_load_file(argv[3], &input, err, sizeof(err)) != 0) {
            fprintf(stderr, "weir schema: %s\n", err);
            return 2;
        }
        int rc = weir_scored_schema(input, &scored, err, sizeof(err));
        avro_schema_decref(input);
        if (rc != 0) {
            fprintf(stderr, "weir schema: %s: %s\n", argv[3], err);
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
    fprintf(stderr, "usage: weir schema show NAME | weir schema scored --input INPUT.avsc\n");
    return 2;
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
    if (!strcmp(cmd, "batch"))
        return weir_batch_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "gen"))
        return weir_gen_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "model"))
        return cmd_model(argc - 1, argv + 1);
    if (!strcmp(cmd, "schema"))
        return cmd_schema(argc - 1, argv + 1);
    if (!strcmp(cmd, "config")) {
        if (argc > 2 && strcmp(argv[2], "-h") && strcmp(argv[2], "--help")) {
            fprintf(stderr, "usage: weir config\n");
            return 2;
        }
        printf("weir configuration keys [default]:\n");
        weir_config_print_keys(stdout);
        return 0;
    }
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        if (argc > 2 && (!strcmp(argv[2], "-h") || !strcmp(argv[2], "--help"))) {
            printf("usage: weir version\n");
            return 0;
        }
        printf("weir %s (librdkafka %s, libuv %s)\n", WEIR_VERSION, rd_kafka_version_str(),
               uv_version_string());
        return 0;
    }
    fprintf(stderr, "weir: unknown command \"%s\"\n\n", cmd);
    usage(stderr);
    return 2;
}
