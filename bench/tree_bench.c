/*
 * tree_bench.c — tree-ensemble inference alone: weir_model_predict() over a
 * batch of rows already transformed, single-threaded, best of several runs.
 *
 *   tree_bench BUNDLE ROWS.f64 [BATCH]
 *
 * ROWS.f64 holds the rows as little-endian doubles, row-major, as wide as the
 * bundle's columns (bench/trees/run.py writes it, with bundles whose features
 * are the raw columns). Prints nanoseconds per row; run.py puts it beside
 * XGBoost's and LightGBM's own prediction of the same rows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "scoring.h"

#define RUNS 7

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    char err[512];
    weir_model_t *m = NULL;
    FILE *f;
    long bytes;
    size_t cols, rows, batch, outs;
    double *x, *ws, best = 1e300, checksum = 0;
    float *out;

    if (argc < 3) {
        fprintf(stderr, "usage: tree_bench BUNDLE ROWS.f64 [BATCH]\n");
        return 2;
    }
    if (weir_model_load(argv[1], &m, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    cols = weir_model_columns(m);
    outs = weir_model_outputs(m);
    f = fopen(argv[2], "rb");
    if (!f || fseek(f, 0, SEEK_END) != 0 || (bytes = ftell(f)) <= 0) {
        fprintf(stderr, "%s: cannot read\n", argv[2]);
        return 2;
    }
    rewind(f);
    rows = (size_t)bytes / sizeof(double) / cols;
    x = malloc(rows * cols * sizeof(*x));
    if (!x || fread(x, sizeof(*x), rows * cols, f) != rows * cols) {
        fprintf(stderr, "%s: short read\n", argv[2]);
        return 2;
    }
    fclose(f);
    batch = argc > 3 ? (size_t)atol(argv[3]) : rows;
    if (batch == 0 || batch > rows)
        batch = rows;
    ws = malloc((weir_model_workspace_size(m, batch) + 1) * sizeof(*ws));
    out = malloc(rows * outs * sizeof(*out));
    for (int run = 0; run < RUNS; run++) {
        double start = now_ns(), took;
        for (size_t r = 0; r < rows; r += batch) {
            size_t n = rows - r < batch ? rows - r : batch;
            weir_model_predict(m, x + r * cols, n, ws, out + r * outs);
        }
        took = now_ns() - start;
        if (took < best)
            best = took;
    }
    for (size_t i = 0; i < rows * outs; i++)
        checksum += out[i];
    printf("rows %zu batch %zu ns_per_row %.1f checksum %.6f\n", rows, batch, best / (double)rows,
           checksum);
    free(x);
    free(ws);
    free(out);
    weir_model_destroy(m);
    return 0;
}
