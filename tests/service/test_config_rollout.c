/*
 * test_config_rollout.c — the keys of model rollout and real-time scoring:
 * their defaults, values refused on their line, the checks that need several
 * keys, and score.token, a secret never echoed.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "support.h"

static char err[1024];

static int load_text(weir_config_t *c, const char *text)
{
    char *path = weir_test_write_temp(".conf", text, strlen(text));
    int rc = weir_config_load_file(c, path, err, sizeof(err));
    free(path);
    return rc;
}

static const char *run_ready = "kafka.bootstrap.servers = h:1\n"
                               "input.topics = in\n"
                               "output.topic = out\n"
                               "dlq.topic = dlq\n"
                               "model.path = " WEIR_SOURCE_DIR "/examples/model.json\n"
                               "input.schema = " WEIR_SOURCE_DIR "/schemas/transaction.avsc\n";

Test(config_rollout, defaults_are_the_documented_ones)
{
    weir_config_t c;
    weir_config_init(&c);
    cr_assert_str_eq(c.shadow_path, "");
    cr_assert_str_eq(c.shadow_topic, "");
    cr_assert_str_eq(c.canary_path, "");
    cr_assert_float_eq(c.canary_share, 0.1, 1e-12);
    cr_assert_eq(c.probation_events, 0);
    cr_assert_float_eq(c.probation_dead_share, 0.05, 1e-12);
    cr_assert_float_eq(c.probation_score_drift, 0.3, 1e-12);
    cr_assert_float_eq(c.probation_error_rate, 0.05, 1e-12);
    cr_assert_str_eq(c.score_listen, "");
    cr_assert_str_eq(c.score_token, "");
    cr_assert_eq(c.score_body_max, 65536);
    weir_config_dispose(&c);
}

Test(config_rollout, shares_and_limits_outside_0_to_1_are_refused_on_their_line)
{
    const char *bad[] = {"model.canary.share = 1.5\n",
                         "model.canary.share = -0.1\n",
                         "model.probation.score_drift = lots\n",
                         "model.probation.dead_letter_share = nan\n",
                         "score.body.max = 10\n",
                         "score.listen = localhost:80\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        weir_config_t c;
        weir_config_init(&c);
        char text[256];
        snprintf(text, sizeof(text), "# first\n%s", bad[i]);
        cr_assert_eq(load_text(&c, text), WEIR_ECONFIG, "%s", bad[i]);
        cr_assert(strstr(err, ":2: "), "names line 2: %s", err);
        char key[64];
        snprintf(key, sizeof(key), "%.*s", (int)strcspn(bad[i], " "), bad[i]);
        cr_assert(strstr(err, key), "names %s: %s", key, err);
        weir_config_dispose(&c);
    }
}

Test(config_rollout, score_token_is_a_secret_and_never_echoed)
{
    cr_assert(weir_config_is_secret("score.token"));
    cr_assert(weir_config_is_secret("kafka.sasl.oauthbearer.token"));
    cr_assert(!weir_config_is_secret("score.listen"));
    weir_config_t c;
    weir_config_init(&c);
    cr_assert_eq(load_text(&c, "score.token = abc\x01TOPSECRET\n"), WEIR_ECONFIG);
    cr_assert_null(strstr(err, "TOPSECRET"), "the value is not shown: %s", err);
    cr_assert(strstr(err, "score.token"), "%s", err);
    /* a line without '=' that may hold a token is not shown either */
    cr_assert_eq(load_text(&c, "score.token TOPSECRET\n"), WEIR_ECONFIG);
    cr_assert_null(strstr(err, "TOPSECRET"), "%s", err);
    weir_config_dispose(&c);
}

Test(config_rollout, a_shadow_topic_needs_a_shadow_and_a_purpose_of_its_own)
{
    weir_config_t c;
    char text[2048];
    weir_config_init(&c);
    snprintf(text, sizeof(text), "%sshadow.topic = sh\n", run_ready);
    cr_assert_eq(load_text(&c, text), 0, "%s", err);
    cr_assert_eq(weir_config_check_run(&c, err, sizeof(err)), WEIR_ECONFIG);
    cr_assert(strstr(err, "model.shadow.path"), "%s", err);
    weir_config_dispose(&c);

    weir_config_init(&c);
    snprintf(text, sizeof(text),
             "%smodel.shadow.path = " WEIR_SOURCE_DIR "/examples/model.json\nshadow.topic = out\n",
             run_ready);
    cr_assert_eq(load_text(&c, text), 0, "%s", err);
    cr_assert_eq(weir_config_check_run(&c, err, sizeof(err)), WEIR_ECONFIG);
    cr_assert(strstr(err, "output.topic"), "the topic is also the output: %s", err);
    weir_config_dispose(&c);

    weir_config_init(&c);
    snprintf(text, sizeof(text), "%smodel.canary.path = /no/such/bundle.json\n", run_ready);
    cr_assert_eq(load_text(&c, text), 0, "%s", err);
    cr_assert_eq(weir_config_check_run(&c, err, sizeof(err)), WEIR_ECONFIG);
    cr_assert(strstr(err, "model.canary.path"), "%s", err);
    weir_config_dispose(&c);
}
