/*
 * resolve.c — writer -> reader schema resolution (see schemas.h), worked out
 * once per writer schema from the two schema texts.
 *
 * The texts are read with jansson rather than avro-c because avro-c drops
 * what resolution needs: field defaults and aliases. Named types are
 * collected per schema (full names, namespaces inherited as the
 * specification says) so that a reference resolves like its definition; a
 * recursive record already being resolved is taken as resolved. Every
 * refusal names the path of the reader field at fault.
 */
#include "schemas.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define MAX_NAMED 1024

typedef struct {
    char name[256];
    json_t *def;
} named_t;

typedef struct {
    named_t named[MAX_NAMED];
    size_t n;
} names_t;

struct weir_resolution {
    size_t defaults, promotions, skipped;
    int identity;
};

typedef struct {
    names_t *w, *r;
    weir_resolution_t *res;
    const json_t *stack_w[WEIR_RESOLVE_MAX_DEPTH], *stack_r[WEIR_RESOLVE_MAX_DEPTH];
    int depth;
    char *err;
    size_t errsz;
} ctx_t;

static const char *primitives[] = {"null",   "boolean", "int",    "long", "float",
                                   "double", "bytes",   "string", NULL};

static int is_primitive(const char *t)
{
    for (int i = 0; primitives[i]; i++)
        if (!strcmp(t, primitives[i]))
            return 1;
    return 0;
}

static void full_name(const char *name, const char *ns, char *out, size_t outsz)
{
    if (strchr(name, '.') || !ns || !*ns)
        snprintf(out, outsz, "%s", name);
    else
        snprintf(out, outsz, "%s.%s", ns, name);
}

static const char *short_name(const char *full)
{
    const char *dot = strrchr(full, '.');
    return dot ? dot + 1 : full;
}

/* Collects the named types of a schema; returns 0 or WEIR_EINVAL. */
static int collect(names_t *names, json_t *s, const char *ns, int depth)
{
    if (depth > WEIR_RESOLVE_MAX_DEPTH)
        return WEIR_EINVAL;
    if (json_is_array(s)) {
        size_t i;
        json_t *b;
        json_array_foreach(s, i, b) if (collect(names, b, ns, depth + 1)) return WEIR_EINVAL;
        return 0;
    }
    if (!json_is_object(s))
        return json_is_string(s) ? 0 : WEIR_EINVAL;
    const char *type = json_string_value(json_object_get(s, "type"));
    if (!type)
        return collect(names, json_object_get(s, "type"), ns, depth + 1);
    if (!strcmp(type, "record") || !strcmp(type, "error") || !strcmp(type, "enum") ||
        !strcmp(type, "fixed")) {
        const char *name = json_string_value(json_object_get(s, "name"));
        const char *own_ns = json_string_value(json_object_get(s, "namespace"));
        if (!name || names->n == MAX_NAMED)
            return WEIR_EINVAL;
        named_t *nt = &names->named[names->n++];
        full_name(name, own_ns ? own_ns : ns, nt->name, sizeof(nt->name));
        nt->def = s;
        char inner_ns[256];
        snprintf(inner_ns, sizeof(inner_ns), "%.*s", (int)(short_name(nt->name) - nt->name),
                 nt->name);
        if (*inner_ns)
            inner_ns[strlen(inner_ns) - 1] = '\0';
        json_t *fields = json_object_get(s, "fields");
        size_t i;
        json_t *f;
        json_array_foreach(fields, i, f) if (collect(names, json_object_get(f, "type"), inner_ns,
                                                     depth + 1)) return WEIR_EINVAL;
        return 0;
    }
    if (!strcmp(type, "array"))
        return collect(names, json_object_get(s, "items"), ns, depth + 1);
    if (!strcmp(type, "map"))
        return collect(names, json_object_get(s, "values"), ns, depth + 1);
    return 0;
}

/* A type reference or definition, with references replaced by definitions. */
static const json_t *deref(const names_t *names, const json_t *s)
{
    if (json_is_object(s) && !json_is_string(json_object_get(s, "type")) &&
        json_object_get(s, "type"))
        return deref(names, json_object_get(s, "type"));
    if (!json_is_string(s))
        return s;
    const char *t = json_string_value(s);
    if (is_primitive(t))
        return s;
    for (size_t i = 0; i < names->n; i++)
        if (!strcmp(names->named[i].name, t) || !strcmp(short_name(names->named[i].name), t))
            return names->named[i].def;
    return NULL;
}

/* The type word of a dereferenced schema: "int", "record", "union", ... */
static const char *kind(const json_t *s)
{
    if (!s)
        return "?";
    if (json_is_array(s))
        return "union";
    if (json_is_string(s))
        return json_string_value(s);
    const char *t = json_string_value(json_object_get(s, "type"));
    return t ? (!strcmp(t, "error") ? "record" : t) : "?";
}

static int promotes(const char *w, const char *r)
{
    if (!strcmp(w, "int"))
        return !strcmp(r, "long") || !strcmp(r, "float") || !strcmp(r, "double");
    if (!strcmp(w, "long"))
        return !strcmp(r, "float") || !strcmp(r, "double");
    if (!strcmp(w, "float"))
        return !strcmp(r, "double");
    if (!strcmp(w, "string"))
        return !strcmp(r, "bytes");
    if (!strcmp(w, "bytes"))
        return !strcmp(r, "string");
    return 0;
}

/* Whether the writer's name is the reader's name or one of its aliases. */
static int names_match(const json_t *w, const json_t *r)
{
    const char *wn = json_string_value(json_object_get(w, "name"));
    const char *rn = json_string_value(json_object_get(r, "name"));
    if (!wn || !rn)
        return 0;
    if (!strcmp(short_name(wn), short_name(rn)))
        return 1;
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(r, "aliases"), i, a)
    {
        const char *an = json_string_value(a);
        if (an && !strcmp(short_name(an), short_name(wn)))
            return 1;
    }
    return 0;
}

static int resolve(ctx_t *c, const json_t *w, const json_t *r, const char *path);

static int refuse(ctx_t *c, const char *path, const char *fmt, const char *a, const char *b)
{
    char what[300];
    snprintf(what, sizeof(what), fmt, a, b);
    return weir_seterr(c->err, c->errsz, WEIR_ESCHEMA, "field %s: %s", *path ? path : "(top)",
                       what);
}

static int resolve_record(ctx_t *c, const json_t *w, const json_t *r, const char *path)
{
    for (int i = 0; i < c->depth; i++)
        if (c->stack_w[i] == w && c->stack_r[i] == r)
            return 0; /* a recursive record: resolved further up */
    if (!names_match(w, r))
        return refuse(c, path, "writer record %s is not reader record %s",
                      json_string_value(json_object_get(w, "name")),
                      json_string_value(json_object_get(r, "name")));
    c->stack_w[c->depth - 1] = w;
    c->stack_r[c->depth - 1] = r;
    json_t *wf = json_object_get(w, "fields"), *rf = json_object_get(r, "fields");
    size_t i, j, used = 0;
    json_t *f, *g;
    json_array_foreach(rf, i, f)
    {
        const char *name = json_string_value(json_object_get(f, "name"));
        char sub[512];
        snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", name ? name : "?");
        const json_t *match = NULL;
        json_array_foreach(wf, j, g)
        {
            const char *wn = json_string_value(json_object_get(g, "name"));
            if (!wn || !name)
                continue;
            int hit = !strcmp(wn, name);
            size_t k;
            json_t *a;
            json_array_foreach(json_object_get(f, "aliases"), k, a) hit |=
                json_is_string(a) && !strcmp(json_string_value(a), wn);
            if (hit) {
                match = g;
                break;
            }
        }
        if (!match) {
            if (!json_object_get(f, "default"))
                return refuse(c, sub, "%s%sadded by the reader without a default", "", "");
            c->res->defaults++;
            continue;
        }
        used++;
        int rc = resolve(c, json_object_get(match, "type"), json_object_get(f, "type"), sub);
        if (rc)
            return rc;
    }
    c->res->skipped += json_array_size(wf) - used;
    return 0;
}

static int resolve_enum(ctx_t *c, const json_t *w, const json_t *r, const char *path)
{
    if (!names_match(w, r))
        return refuse(c, path, "writer enum %s is not reader enum %s",
                      json_string_value(json_object_get(w, "name")),
                      json_string_value(json_object_get(r, "name")));
    /* writer symbols the reader lacks: its default, or an error for an event
     * that carries one; nothing to refuse for the schema as a whole */
    (void)path;
    return 0;
}

static int resolve(ctx_t *c, const json_t *w0, const json_t *r0, const char *path)
{
    int rc = 0;
    const json_t *w = deref(c->w, w0), *r = deref(c->r, r0);
    if (!w || !r)
        return weir_seterr(c->err, c->errsz, WEIR_EINVAL, "field %s: a type name not defined",
                           *path ? path : "(top)");
    if (++c->depth > WEIR_RESOLVE_MAX_DEPTH) {
        rc = weir_seterr(c->err, c->errsz, WEIR_ESCHEMA, "field %s: nested deeper than %d",
                         *path ? path : "(top)", WEIR_RESOLVE_MAX_DEPTH);
        goto out;
    }
    const char *wk = kind(w), *rk = kind(r);
    if (!strcmp(wk, "union")) {
        /* each writer branch is read on its own; one that cannot be read is an
         * error only for an event that takes it, but one branch must work */
        size_t i, ok = 0;
        json_t *b;
        char first[512] = "";
        json_array_foreach((json_t *)w, i, b)
        {
            char sub[600];
            if (resolve(c, b, r, path) == 0)
                ok++;
            else if (!*first)
                snprintf(first, sizeof(first), "%s", c->err ? c->err : "");
            (void)sub;
        }
        if (!ok)
            rc = weir_seterr(c->err, c->errsz, WEIR_ESCHEMA, "%s", first);
        else if (c->err && c->errsz)
            c->err[0] = '\0';
        goto out;
    }
    if (!strcmp(rk, "union")) {
        size_t i;
        json_t *b;
        json_array_foreach((json_t *)r, i, b)
        {
            const json_t *rb = deref(c->r, b);
            const char *bk = kind(rb);
            if (!strcmp(bk, wk) &&
                        (!strcmp(bk, "record") || !strcmp(bk, "enum") || !strcmp(bk, "fixed"))
                    ? names_match(w, rb)
                    : !strcmp(bk, wk)) {
                rc = resolve(c, w, b, path);
                goto out;
            }
        }
        json_array_foreach((json_t *)r, i, b)
        {
            if (promotes(wk, kind(deref(c->r, b)))) {
                rc = resolve(c, w, b, path);
                goto out;
            }
        }
        rc = refuse(c, path, "writer %s is in none of the reader union's branches%s", wk, "");
        goto out;
    }
    if (strcmp(wk, rk)) {
        if (promotes(wk, rk)) {
            c->res->promotions++;
            goto out;
        }
        rc = refuse(c, path, "writer %s cannot be read as %s", wk, rk);
        goto out;
    }
    if (!strcmp(wk, "record"))
        rc = resolve_record(c, w, r, path);
    else if (!strcmp(wk, "enum"))
        rc = resolve_enum(c, w, r, path);
    else if (!strcmp(wk, "fixed")) {
        if (!names_match(w, r) || json_integer_value(json_object_get(w, "size")) !=
                                      json_integer_value(json_object_get(r, "size")))
            rc = refuse(c, path, "fixed %s is not fixed %s",
                        json_string_value(json_object_get(w, "name")),
                        json_string_value(json_object_get(r, "name")));
    } else if (!strcmp(wk, "array")) {
        char sub[512];
        snprintf(sub, sizeof(sub), "%s[]", path);
        rc = resolve(c, json_object_get(w, "items"), json_object_get(r, "items"), sub);
    } else if (!strcmp(wk, "map")) {
        char sub[512];
        snprintf(sub, sizeof(sub), "%s{}", path);
        rc = resolve(c, json_object_get(w, "values"), json_object_get(r, "values"), sub);
    }
out:
    c->depth--;
    return rc;
}

int weir_resolve_new(const char *writer_json, const char *reader_json, weir_resolution_t **out,
                     char *err, size_t errsz)
{
    int rc = 0;
    json_t *w = NULL, *r = NULL;
    names_t *nw = calloc(1, sizeof(*nw)), *nr = calloc(1, sizeof(*nr));
    weir_resolution_t *res = calloc(1, sizeof(*res));
    *out = NULL;
    if (!nw || !nr || !res) {
        rc = weir_seterr(err, errsz, WEIR_ENOMEM, "out of memory");
        goto out;
    }
    w = json_loads(writer_json, JSON_DECODE_ANY, NULL);
    r = json_loads(reader_json, JSON_DECODE_ANY, NULL);
    int bad_w = !w || collect(nw, w, "", 0), bad_r = !r || collect(nr, r, "", 0);
    if (bad_w || bad_r) {
        rc = weir_seterr(err, errsz, WEIR_EINVAL, "the %s schema is not an Avro schema text",
                         bad_w ? "writer" : "reader");
        goto out;
    }
    ctx_t c = {.w = nw, .r = nr, .res = res, .err = err, .errsz = errsz};
    if ((rc = resolve(&c, w, r, "")) != 0)
        goto out;
    res->identity = json_equal(w, r);
    *out = res;
    res = NULL;
out:
    json_decref(w);
    json_decref(r);
    free(nw);
    free(nr);
    free(res);
    return rc;
}

size_t weir_resolve_defaults(const weir_resolution_t *r)
{
    return r->defaults;
}

size_t weir_resolve_promotions(const weir_resolution_t *r)
{
    return r->promotions;
}

size_t weir_resolve_skipped(const weir_resolution_t *r)
{
    return r->skipped;
}

int weir_resolve_identity(const weir_resolution_t *r)
{
    return r->identity;
}

void weir_resolve_destroy(weir_resolution_t *r)
{
    free(r);
}
