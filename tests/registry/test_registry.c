/*
 * test_registry.c — the schema registry client without a registry: its
 * refusals of schema.registry.url, and a registry that cannot be reached,
 * which is "try again later" (WEIR_EIO) after every URL was tried, never an
 * unknown schema.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "common.h"
#include "registry.h"

static char err[1024];

static int make(const char *urls, weir_registry_t **r)
{
    weir_registry_config_t cfg = {.urls = urls, .timeout_ms = 2000};
    return weir_registry_new(&cfg, r, err, sizeof(err));
}

Test(registry, refuses_credentials_in_a_url)
{
    weir_registry_t *r;
    cr_assert_eq(make("http://user:pw@127.0.0.1:8081", &r), WEIR_ECONFIG);
    cr_assert_null(r);
    cr_assert_null(strstr(err, "pw@"), "%s", err);
}

Test(registry, refuses_a_url_that_is_not_http)
{
    weir_registry_t *r;
    cr_assert_eq(make("ftp://127.0.0.1:8081", &r), WEIR_ECONFIG);
    cr_assert_not_null(strstr(err, "ftp://127.0.0.1:8081"), "%s", err);
    cr_assert_eq(make(" , ", &r), WEIR_ECONFIG);
}

Test(registry, refuses_more_urls_than_the_cap)
{
    weir_registry_t *r;
    char urls[1024] = "";
    for (int i = 0; i <= WEIR_REGISTRY_MAX_URLS; i++)
        snprintf(urls + strlen(urls), sizeof(urls) - strlen(urls), "%shttp://127.0.0.1:%d",
                 i ? "," : "", 1000 + i);
    cr_assert_eq(make(urls, &r), WEIR_ECONFIG);
}

Test(registry, an_unreachable_registry_is_a_retry_after_every_url_was_tried)
{
    weir_registry_t *r;
    cr_assert_eq(make("http://127.0.0.1:1/apis/ccompat/v7/, http://127.0.0.1:2", &r), 0, "%s", err);
    avro_schema_t s;
    cr_assert_eq(weir_registry_schema(r, 7, &s, err, sizeof(err)), WEIR_EIO);
    cr_assert_null(s);
    cr_assert_not_null(strstr(err, "127.0.0.1:"), "%s", err);
    uint64_t requests, failovers, hits;
    weir_registry_counts(r, &requests, &failovers, &hits);
    cr_assert_eq(requests, 2);
    cr_assert_eq(failovers, 1);
    weir_registry_destroy(r);
}
