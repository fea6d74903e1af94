/*
 * skim.c — the first pass over a bundle's text: one scan, before jansson
 * builds a tree of it, that holds the text to the caps of the format.
 *
 * jansson parses a whole document before the loader checks a single value,
 * and its tree costs 40 bytes per number and over 200 per object: a bundle
 * with a million features took 1.9 GB and 19 s to parse, only to be refused
 * for having more than 4096. This scan reads the structure alone (brackets,
 * commas, colons, strings, and everything else as scalar tokens), counts
 * values, arrays and objects and the nesting, and counts the elements of the
 * arrays the format caps, refusing as soon as a cap is passed — before any
 * allocation. What the parser then builds is bounded by the caps.
 *
 * It is deliberately lenient: it never refuses what is merely not JSON. It
 * stops where the structure stops making sense (an unbalanced bracket, an
 * unterminated string) and leaves the message to the parser, which fails at
 * or before that point, so the parser never reads text this scan did not
 * check. On valid JSON its view of the structure is exactly the parser's.
 */
#include "scoring_int.h"

#include <stdio.h>
#include <string.h>

/* An array the format caps, found by its path: keys, "[]" for any element,
 * "*" for any key. */
typedef struct {
    const char *path[5];
    size_t min, max;
    const char *what;
} array_cap_t;

/* The loader checks the same caps with the same messages; these let the
 * scan refuse before the parse. Other arrays are bounded by the value cap. */
static const array_cap_t array_caps[] = {
    {{"features"}, 1, WEIR_BUNDLE_MAX_FEATURES, "features"},
    {{"features", "[]", "transform"}, 0, WEIR_BUNDLE_MAX_STEPS, "steps"},
    {{"classes"}, 2, WEIR_BUNDLE_MAX_UNITS, "class labels"},
    {{"model", "layers"}, 1, WEIR_BUNDLE_MAX_LAYERS, "layers"},
    {{"model", "layers", "[]", "weights"}, 1, WEIR_BUNDLE_MAX_UNITS, "rows (one per unit)"},
    {{"model", "trees"}, 1, WEIR_BUNDLE_MAX_TREES, "trees"},
    {{"model", "trees", "[]", "feature"}, 1, WEIR_BUNDLE_MAX_TREE_NODES, "nodes"},
    {{"reference", "features", "*", "sample"}, 0, WEIR_BUNDLE_MAX_SAMPLE, "values"},
    {{"reference", "score", "sample"}, 0, WEIR_BUNDLE_MAX_SAMPLE, "values"},
};

/* An open array or object. */
typedef struct {
    char type;       /* '{' or '[' */
    const char *key; /* in an object: the member's key, as written */
    size_t key_len;  /* (escapes are not decoded: a path is for people) */
    size_t index;    /* in an array: the element's position */
    size_t count;    /* arrays: elements so far */
    int expect_key;  /* objects: the next string is a key */
    const array_cap_t *cap;
} frame_t;

typedef struct {
    frame_t frames[WEIR_BUNDLE_MAX_DEPTH];
    size_t depth; /* open frames */
    size_t values, containers;
    const char *key; /* the last key read */
    size_t key_len;
    frame_t *over; /* an array past its cap, counted to its end */
    char *at, *why;
    size_t atsz, whysz;
} skim_t;

/* The path of frames[0..depth-1] into s->at: "model.layers[0].weights". */
static void path_of(skim_t *s, size_t depth)
{
    size_t used = 0;

    s->at[0] = '\0';
    for (size_t d = 1; d < depth && used < s->atsz; d++) {
        const frame_t *f = &s->frames[d];
        int n;

        if (s->frames[d - 1].type == '{')
            n = snprintf(s->at + used, s->atsz - used, "%s%.*s", used ? "." : "", (int)f->key_len,
                         f->key);
        else
            n = snprintf(s->at + used, s->atsz - used, "[%zu]", f->index);
        used += n > 0 ? (size_t)n : 0;
    }
}

static int refuse(skim_t *s, size_t depth, const char *what, size_t cap)
{
    path_of(s, depth);
    snprintf(s->why, s->whysz, "more than %zu %s", cap, what);
    return WEIR_ELIMIT;
}

/* The refusal of the array past its cap; @p closed says whether it ended. */
static int refuse_over(skim_t *s, int closed)
{
    const array_cap_t *cap = s->over->cap;
    const char *got = closed ? "" : "at least ";

    path_of(s, (size_t)(s->over - s->frames) + 1);
    if (cap->min > 0)
        snprintf(s->why, s->whysz, "expected %zu to %zu %s, got %s%zu", cap->min, cap->max,
                 cap->what, got, s->over->count);
    else
        snprintf(s->why, s->whysz, "expected at most %zu %s, got %s%zu", cap->max, cap->what, got,
                 s->over->count);
    return WEIR_ELIMIT;
}

/* The cap of the array just opened at frames[depth-1], if the format has one. */
static const array_cap_t *find_cap(const skim_t *s)
{
    size_t components = s->depth - 1; /* the root has none */

    for (size_t c = 0; c < sizeof(array_caps) / sizeof(array_caps[0]); c++) {
        const array_cap_t *cap = &array_caps[c];
        size_t k = 0, d;

        while (k < sizeof(cap->path) / sizeof(cap->path[0]) && cap->path[k])
            k++;
        if (k != components)
            continue;
        for (d = 1; d <= components; d++) {
            const char *want = cap->path[d - 1];
            const frame_t *f = &s->frames[d];

            if (s->frames[d - 1].type == '['
                    ? strcmp(want, "[]") != 0
                    : strcmp(want, "*") != 0 &&
                          (strlen(want) != f->key_len || memcmp(want, f->key, f->key_len) != 0))
                break;
        }
        if (d > components)
            return cap;
    }
    return NULL;
}

/* A value begins: a scalar, a string or a container. */
static int value(skim_t *s)
{
    frame_t *top = s->depth ? &s->frames[s->depth - 1] : NULL;

    s->values++;
    if (!s->over && s->values > WEIR_BUNDLE_MAX_VALUES)
        return refuse(s, s->depth, "values in the bundle", WEIR_BUNDLE_MAX_VALUES);
    if (top && top->type == '[') {
        top->count++;
        if (!s->over && top->cap && top->count > top->cap->max)
            s->over = top;
    }
    return 0;
}

/* Returns 0, WEIR_ELIMIT, or 1 to stop scanning (the over array is too deep
 * to follow further). */
static int open_container(skim_t *s, char type)
{
    frame_t *parent = s->depth ? &s->frames[s->depth - 1] : NULL, *f;

    s->containers++;
    if (!s->over && s->containers > WEIR_BUNDLE_MAX_CONTAINERS)
        return refuse(s, s->depth, "arrays and objects in the bundle", WEIR_BUNDLE_MAX_CONTAINERS);
    if (s->depth == WEIR_BUNDLE_MAX_DEPTH)
        return s->over ? 1 : refuse(s, s->depth, "levels of nesting", WEIR_BUNDLE_MAX_DEPTH);
    f = &s->frames[s->depth++];
    memset(f, 0, sizeof(*f));
    f->type = type;
    if (parent && parent->type == '{') {
        f->key = s->key;
        f->key_len = s->key_len;
    } else if (parent) {
        f->index = parent->count - 1;
    }
    f->expect_key = type == '{';
    if (type == '[' && !s->over)
        f->cap = find_cap(s);
    return 0;
}

static int is_delimiter(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '"' || c == '{' || c == '}' ||
           c == '[' || c == ']' || c == ',' || c == ':';
}

int weir_bundle_skim(const char *text, size_t len, char *at, size_t atsz, char *why, size_t whysz)
{
    skim_t s = {.key = "", .at = at, .atsz = atsz, .why = why, .whysz = whysz};
    size_t i = 0;
    int rc = 0, stop = 0;

    while (i < len && rc == 0 && !stop) {
        char c = text[i];
        frame_t *top = s.depth ? &s.frames[s.depth - 1] : NULL;

        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ':') {
            i++;
        } else if (c == '"') {
            size_t start = ++i;
            while (i < len && text[i] != '"')
                i += text[i] == '\\' ? 2 : 1;
            if (i >= len) {
                stop = 1; /* unterminated: the parser says so */
            } else if (top && top->type == '{' && top->expect_key) {
                s.key = text + start;
                s.key_len = i - start;
                top->expect_key = 0;
            } else {
                rc = value(&s);
            }
            i++;
        } else if (c == '{' || c == '[') {
            if ((rc = value(&s)) == 0 && (rc = open_container(&s, c)) == 1) {
                rc = 0;
                stop = 1;
            }
            i++;
        } else if (c == '}' || c == ']') {
            if (!top || top->type != (c == '}' ? '{' : '[')) {
                stop = 1;
            } else if (top == s.over) {
                rc = refuse_over(&s, 1);
            } else {
                s.depth--;
            }
            i++;
        } else if (c == ',') {
            if (top && top->type == '{')
                top->expect_key = 1;
            i++;
        } else {
            /* A number, a literal, or something the parser will refuse. */
            rc = value(&s);
            for (i++; i < len && !is_delimiter(text[i]); i++)
                ;
        }
    }
    if (rc == 0 && s.over)
        rc = refuse_over(&s, 0);
    return rc;
}
