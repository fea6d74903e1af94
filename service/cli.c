/*
 * cli.c — the pieces of argument parsing every `weir` command shares, so that
 * each reports an unknown option, a missing value or a bad number the same
 * way, and maps error codes (never message text) to exit codes.
 */
#include "cli.h"
#include "common.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int weir_cli_exit_code(int rc)
{
    if (rc == 0)
        return 0;
    return rc == WEIR_EINVAL || rc == WEIR_ECONFIG ? 2 : 1;
}

int weir_cli_option_error(const char *cmd, int opt, int argc, char *const argv[], char *err,
                          size_t errsz)
{
    /* A long option is named by its word as typed (the element getopt just
     * passed); a short one by its letter, since a cluster such as -qZ holds
     * several. */
    const char *typed = optind >= 1 && optind - 1 < argc ? argv[optind - 1] : "";
    char name[128], quoted[160];
    if (!strncmp(typed, "--", 2)) {
        size_t n = strcspn(typed, "=");
        snprintf(name, sizeof(name), "%.*s", (int)(n < 100 ? n : 100), typed);
    } else {
        snprintf(name, sizeof(name), "-%c", optopt > 0x20 && optopt < 0x7f ? optopt : '?');
    }
    weir_config_quote(quoted, sizeof(quoted), name, strlen(name));
    if (opt == ':')
        return weir_seterr(err, errsz, WEIR_EINVAL, "option %s needs a value (see weir %s -h)",
                           quoted, cmd);
    if (!strncmp(typed, "--", 2) && strchr(typed, '='))
        return weir_seterr(err, errsz, WEIR_EINVAL,
                           "unknown option %s, or one that takes no value (see weir %s -h)", quoted,
                           cmd);
    return weir_seterr(err, errsz, WEIR_EINVAL, "unknown option %s (see weir %s -h)", quoted, cmd);
}

int weir_cli_config_file(weir_config_args_t *a, const char *path, char *err, size_t errsz)
{
    if (a->path)
        return weir_seterr(err, errsz, WEIR_EINVAL,
                           "-c given twice (one config file; -X adds "
                           "to it)");
    a->path = path;
    return 0;
}

int weir_cli_config_override(weir_config_args_t *a, const char *assignment, char *err, size_t errsz)
{
    if (a->n_overrides == WEIR_CONFIG_MAX_OVERRIDES)
        return weir_seterr(err, errsz, WEIR_EINVAL, "more than %d -X options",
                           WEIR_CONFIG_MAX_OVERRIDES);
    a->overrides[a->n_overrides++] = assignment;
    return 0;
}

int weir_cli_parse_u64(const char *opt, const char *v, uint64_t max, uint64_t *out, char *err,
                       size_t errsz)
{
    char *end, quoted[96];
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    weir_config_quote(quoted, sizeof(quoted), v, strlen(v));
    if (errno || end == v || *end || *v == '-' || *v == '+' || *v == ' ')
        return weir_seterr(err, errsz, WEIR_EINVAL, "%s: expected a non-negative integer, got %s",
                           opt, quoted);
    if (n > max)
        return weir_seterr(err, errsz, WEIR_EINVAL, "%s: at most %llu, got %s", opt,
                           (unsigned long long)max, quoted);
    *out = n;
    return 0;
}

int weir_cli_parse_double(const char *opt, const char *v, double lo, double hi, double *out,
                          char *err, size_t errsz)
{
    char *end, quoted[96];
    double d = strtod(v, &end);
    if (end == v || *end || !(d >= lo && d <= hi)) {
        weir_config_quote(quoted, sizeof(quoted), v, strlen(v));
        return weir_seterr(err, errsz, WEIR_EINVAL, "%s: expected a number from %g to %g, got %s",
                           opt, lo, hi, quoted);
    }
    *out = d;
    return 0;
}

int weir_cli_stray_argument(const char *cmd, const char *arg, char *err, size_t errsz)
{
    char quoted[160];
    weir_config_quote(quoted, sizeof(quoted), arg, strlen(arg));
    return weir_seterr(err, errsz, WEIR_EINVAL, "unexpected argument %s (see weir %s -h)", quoted,
                       cmd);
}
