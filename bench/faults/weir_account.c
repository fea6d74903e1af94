/*
 * weir_account.c — the account of one run as a command, for scripts:
 *
 *   weir_account BOOTSTRAP GROUP INPUT OUTPUT DLQ
 *
 * prints one line of counts (account.h) and exits 0 when nothing was lost,
 * nothing is left unprocessed, no output names an unknown input and the
 * committed offsets reached the high watermarks; 1 otherwise; 2 on usage.
 */
#include <stdio.h>

#include "account.h"

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: weir_account BOOTSTRAP GROUP INPUT OUTPUT DLQ\n");
        return 2;
    }
    weir_account_t a;
    char err[512], line[512];
    if (weir_account_run(argv[1], argv[2], argv[3], argv[4], argv[5], &a, err, sizeof(err))) {
        fprintf(stderr, "weir_account: %s\n", err);
        return 1;
    }
    weir_account_format(&a, line, sizeof(line));
    printf("%s\n", line);
    return a.lost || a.unprocessed || a.orphans || !a.committed_at_end;
}
