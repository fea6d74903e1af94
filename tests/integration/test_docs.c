/*
 * test_docs.c (broker suite) — every shell block of README.md and docs/ *.md
 * runs and exits as the text says, those that need the Kafka broker or a long
 * run included, in reading order in a fresh copy of the working tree: the
 * demo, the broker commands, `weir run` on a schema of the user's own, the
 * rerun of examples/make_model.py. Output samples marked after a block are
 * checked against what it printed. Only what cannot run on this machine at
 * all is skipped, with its reason beside it (tests/support/docblocks.h).
 */
#include <criterion/criterion.h>

#include "docblocks.h"

Test(docs_broker, every_shell_block_runs_and_exits_as_the_text_says)
{
    weir_doc_scratch(WEIR_DOCTEST_DIR);
    size_t ran = weir_doc_run_all(WEIR_DOCTEST_DIR, 1);
    cr_assert_geq(ran, 10, "only %zu blocks ran", ran);
}
