/*
 * test_docs.c — README.md and docs/ *.md hold what the code does. Every shell
 * block a user would copy runs, in a fresh copy of the working tree and in
 * reading order, and exits as the text says (the blocks marked broker or slow
 * run in the broker suite: tests/integration/test_docs.c); every option a
 * command synopsis names is one its -h lists; every figure quoted between
 * fact markers is what scripts/readme_facts.py computes from its source.
 * The markers are described in tests/support/docblocks.h.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docblocks.h"
#include "support.h"

static weir_doc_block_t blocks[WEIR_DOC_MAX_BLOCKS];

/* Lines that start like these are commands, which belong in a shell block. */
static const char *const command_starts[] = {
    "weir ",  "./scripts/", "scripts/", "cmake ",  "ninja ", "curl ", "kcat ",
    ".venv/", "docker ",    "build/",   "export ", "sudo ",  NULL};

static int looks_like_a_command(const char *line)
{
    for (const char *const *c = command_starts; *c; c++) {
        size_t len = strlen(*c);
        /* "scripts/kafka.sh" is a command, "scripts/    setup.sh" a listing */
        if (!strncmp(line, *c, len) && ((*c)[len - 1] != '/' || (line[len] && line[len] != ' ')))
            return 1;
    }
    return 0;
}

Test(docs, markers_and_fences_are_well_formed)
{
    size_t n = weir_doc_parse_all(blocks, WEIR_DOC_MAX_BLOCKS);
    size_t shell = 0;
    for (size_t i = 0; i < n; i++) {
        const weir_doc_block_t *b = &blocks[i];
        int is_shell = weir_doc_is_shell(b);
        shell += is_shell;
        cr_expect(is_shell || !(b->broker || b->slow || b->skip || b->exit_code),
                  "%s:%d: broker, slow, skip and exit mark shell blocks only", b->file, b->line);
        cr_expect(!b->output || (!is_shell && i > 0 && weir_doc_is_shell(&blocks[i - 1])),
                  "%s:%d: an output sample is a text block right after a shell block", b->file,
                  b->line);
        if (b->lang[0])
            continue;
        for (const char *line = b->text; *line;) {
            cr_expect(!looks_like_a_command(line),
                      "%s:%d: a fence without a language holds a command (\"%.30s\"): "
                      "fence it ```sh (or ```text if it is not to be run)",
                      b->file, b->line, line);
            const char *next = strchr(line, '\n');
            line = next ? next + 1 : line + strlen(line);
        }
    }
    cr_assert_geq(shell, 10, "only %zu shell blocks found", shell);
    weir_doc_free(blocks, n);
}

Test(docs, a_sample_line_matches_only_what_it_says)
{
    const char *out = "\033[1m== totals ==\033[0m\n"
                      "  weir_events_consumed_total 200003  \n"
                      "  key=bad-not-avro weir.error=bad_framing,weir.source.topic=t\n";
    cr_assert_null(
        weir_doc_sample_missing("== totals ==\n  weir_events_consumed_total 200003\n", out));
    cr_assert_null(weir_doc_sample_missing("  key=bad-not-avro weir.error=bad_framing,…\n", out));
    cr_assert_null(weir_doc_sample_missing("…consumed_total…\n", out));
    cr_assert_str_eq(weir_doc_sample_missing("  weir_events_consumed_total 200004\n", out),
                     "  weir_events_consumed_total 200004");
    cr_assert_not_null(weir_doc_sample_missing("weir_events_consumed_total 200003\n", out),
                       "a line without … matches a whole line");
    cr_assert_not_null(weir_doc_sample_missing("…bad_framing,weir.error.detail…\n", out));
}

Test(docs, every_option_a_synopsis_names_is_in_the_commands_help)
{
    size_t n = weir_doc_parse_all(blocks, WEIR_DOC_MAX_BLOCKS), checked = 0;
    for (size_t i = 0; i < n; i++) {
        const weir_doc_block_t *b = &blocks[i];
        /* a synopsis is a text block of `weir COMMAND ...` lines, not an output sample */
        if (strncmp(b->text, "weir ", 5) != 0 || weir_doc_is_shell(b) || b->output)
            continue;
        char help[65536] = "", command[64] = "";
        for (const char *line = b->text; *line;) {
            const char *next = strchr(line, '\n');
            size_t len = next ? (size_t)(next - line) : strlen(line);
            char text[1024];
            snprintf(text, sizeof(text), "%.*s", (int)len, line);
            line = next ? next + 1 : line + len;
            if (!strncmp(text, "weir ", 5)) {
                /* a synopsis of `weir COMMAND`: read its help */
                sscanf(text + 5, "%63s", command);
                char cmd[2048];
                snprintf(cmd, sizeof(cmd), "%s %s -h", WEIR_BINARY, command);
                FILE *p = popen(cmd, "r");
                cr_assert_not_null(p);
                size_t got = fread(help, 1, sizeof(help) - 1, p);
                help[got] = '\0';
                cr_assert_eq(pclose(p), 0, "%s:%d: %s exits non-zero", b->file, b->line, cmd);
            } else if (text[0] != ' ') {
                continue; /* a synopsis goes on with indented lines */
            }
            for (char *tok = strtok(text, " |[]"); tok; tok = strtok(NULL, " |[]")) {
                if (tok[0] != '-' || !((tok[1] >= 'a' && tok[1] <= 'z') ||
                                       (tok[1] >= 'A' && tok[1] <= 'Z') || tok[1] == '-'))
                    continue;
                tok[strcspn(tok, "=")] = '\0';
                /* the help lists it as a word of its own */
                int listed = 0;
                for (const char *at = strstr(help, tok); at && !listed; at = strstr(at + 1, tok)) {
                    char after = at[strlen(tok)];
                    listed = (at == help || at[-1] == ' ' || at[-1] == '[' || at[-1] == '|') &&
                             (after == ' ' || after == ',' || after == '\n' || after == ']' ||
                              after == '=');
                }
                cr_expect(listed, "%s:%d: weir %s %s: the synopsis names it, weir %s -h does not",
                          b->file, b->line, command, tok, command);
                checked++;
            }
        }
    }
    cr_assert_geq(checked, 20, "only %zu options found in the synopses", checked);
    weir_doc_free(blocks, n);
}

Test(docs, every_quoted_figure_matches_its_source)
{
    int rc = system("cd '" WEIR_SOURCE_DIR "' && python3 scripts/readme_facts.py >&2");
    cr_assert_eq(rc, 0, "scripts/readme_facts.py: a quoted figure differs from its source");
}

Test(docs, every_unmarked_shell_block_runs_and_exits_as_the_text_says)
{
    weir_doc_scratch(WEIR_DOCTEST_DIR);
    size_t ran = weir_doc_run_all(WEIR_DOCTEST_DIR, 0);
    cr_assert_geq(ran, 5, "only %zu blocks ran", ran);
}
