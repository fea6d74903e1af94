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
#include "schemas_int.h"

#include <inttypes.h>
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

/* What the compiled program does with one writer value. */
typedef enum {
    OP_NULL,
    OP_BOOLEAN,
    OP_VARINT,        /* int or long, read as int or long: the same bytes */
    OP_VARINT_FLOAT,  /* int or long read as float */
    OP_VARINT_DOUBLE, /* int or long read as double */
    OP_FLOAT,
    OP_FLOAT_DOUBLE,
    OP_DOUBLE,
    OP_BYTES, /* bytes and string, either way: the same bytes */
    OP_FIXED,
    OP_ENUM,
    OP_ARRAY,
    OP_MAP,
    OP_RECORD,
    OP_WRITER_UNION, /* a writer union: per branch, a node (-1: unreadable) */
    OP_READER_UNION  /* a writer non-union into a reader union: the branch, then the value */
} op_t;

typedef struct {
    int32_t node; /* the writer field's value */
    int32_t kept; /* nonzero: the reader reads it */
} wfield_t;

typedef struct {
    int32_t writer; /* the writer field it takes, or -1 for the default */
    size_t default_at, default_len;
} rfield_t;

typedef struct {
    op_t op;
    int32_t child;     /* array items, map values, the reader union's value */
    int64_t n;         /* fixed size; reader union branch; enum and union sizes */
    int32_t *map;      /* enum: writer symbol -> reader symbol (-1: none); writer union: nodes */
    wfield_t *wfields; /* record, in writer order */
    size_t n_wfields;
    rfield_t *rfields; /* record, in reader order */
    size_t n_rfields;
    int in_order;        /* record: the writer's fields are the reader's, in order */
    char *path;          /* where in the reader, for details */
    const json_t *w, *r; /* while compiling: the pair the node stands for */
    const names_t *rn;
} node_t;

struct weir_resolution {
    size_t defaults, promotions, skipped;
    int identity;
    node_t *nodes;
    size_t n_nodes, cap_nodes;
    weir_buf_t defaults_bytes; /* the reader defaults, Avro-encoded */
    size_t *spans;             /* record fields' output spans, a stack over nesting */
    size_t spans_cap, spans_top;
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

/* ------------------------------------------------------------------ */
/* The compiled program: writer bytes in, reader bytes out              */

typedef struct {
    names_t *w;
    weir_resolution_t *res;
    int depth;
} compile_t;

#define MAX_NODES 65536

static int new_node(compile_t *c, op_t op, const json_t *w, const json_t *r, const names_t *rn,
                    const char *path, int32_t *idx)
{
    weir_resolution_t *res = c->res;
    if (res->n_nodes == res->cap_nodes) {
        if (res->cap_nodes >= MAX_NODES)
            return WEIR_ELIMIT;
        size_t cap = res->cap_nodes ? res->cap_nodes * 2 : 16;
        node_t *grown = realloc(res->nodes, cap * sizeof(*grown));
        if (!grown)
            return WEIR_ENOMEM;
        res->nodes = grown;
        res->cap_nodes = cap;
    }
    node_t *n = &res->nodes[res->n_nodes];
    memset(n, 0, sizeof(*n));
    n->op = op;
    n->child = -1;
    n->w = w;
    n->r = r;
    n->rn = rn;
    n->path = strdup(*path ? path : "(top)");
    if (!n->path)
        return WEIR_ENOMEM;
    *idx = (int32_t)res->n_nodes++;
    return 0;
}

/* Writes the UTF-8 text of a bytes or fixed default as the bytes it names
 * (code points 0-255, as the specification says). */
static int write_latin1(weir_buf_t *b, const char *s, size_t n, int with_length)
{
    uint8_t bytes[4096];
    size_t len = 0;
    for (size_t i = 0; i < n && len < sizeof(bytes); i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 0xc0 && ch < 0xc4 && i + 1 < n)
            bytes[len++] = (uint8_t)(((ch & 0x03) << 6) | ((unsigned char)s[++i] & 0x3f));
        else
            bytes[len++] = ch;
    }
    if (with_length)
        return weir_avro_write_string(b, (const char *)bytes, len);
    return weir_buf_append(b, bytes, len);
}

/* Encodes the JSON default @p v of reader type @p t0 (a union's default is
 * of its first branch). */
static int encode_default(weir_buf_t *b, const json_t *v, const json_t *t0, const names_t *rn,
                          int depth)
{
    const json_t *t = deref(rn, t0);
    const char *k = kind(t);
    int rc = 0;
    if (!t || depth > WEIR_RESOLVE_MAX_DEPTH)
        return WEIR_EINVAL;
    if (!strcmp(k, "union")) {
        rc = weir_avro_write_long(b, 0);
        return rc ? rc : encode_default(b, v, json_array_get(t, 0), rn, depth + 1);
    }
    if (!strcmp(k, "null"))
        return json_is_null(v) ? 0 : WEIR_EINVAL;
    if (!strcmp(k, "boolean"))
        return json_is_boolean(v) ? weir_avro_write_boolean(b, json_is_true(v)) : WEIR_EINVAL;
    if (!strcmp(k, "int") || !strcmp(k, "long"))
        return json_is_integer(v) ? weir_avro_write_long(b, json_integer_value(v)) : WEIR_EINVAL;
    if (!strcmp(k, "float"))
        return json_is_number(v) ? weir_avro_write_float(b, (float)json_number_value(v))
                                 : WEIR_EINVAL;
    if (!strcmp(k, "double"))
        return json_is_number(v) ? weir_avro_write_double(b, json_number_value(v)) : WEIR_EINVAL;
    if (!strcmp(k, "string"))
        return json_is_string(v)
                   ? weir_avro_write_string(b, json_string_value(v), json_string_length(v))
                   : WEIR_EINVAL;
    if (!strcmp(k, "bytes") || !strcmp(k, "fixed"))
        return json_is_string(v) ? write_latin1(b, json_string_value(v), json_string_length(v),
                                                !strcmp(k, "bytes"))
                                 : WEIR_EINVAL;
    if (!strcmp(k, "enum")) {
        size_t i;
        json_t *sym;
        json_array_foreach(json_object_get(t, "symbols"), i, sym)
        {
            if (json_equal(sym, v))
                return weir_avro_write_long(b, (int64_t)i);
        }
        return WEIR_EINVAL;
    }
    if (!strcmp(k, "array") || !strcmp(k, "map")) {
        int is_map = !strcmp(k, "map");
        size_t count = is_map ? json_object_size(v) : json_array_size(v);
        if (is_map ? !json_is_object(v) : !json_is_array(v))
            return WEIR_EINVAL;
        if (count)
            rc = weir_avro_write_long(b, (int64_t)count);
        if (is_map) {
            const char *key;
            json_t *item;
            json_object_foreach((json_t *)v, key, item)
            {
                if (rc == 0)
                    rc = weir_avro_write_string(b, key, strlen(key));
                if (rc == 0)
                    rc = encode_default(b, item, json_object_get(t, "values"), rn, depth + 1);
            }
        } else {
            size_t i;
            json_t *item;
            json_array_foreach((json_t *)v, i, item) if (rc == 0) rc =
                encode_default(b, item, json_object_get(t, "items"), rn, depth + 1);
        }
        return rc ? rc : weir_avro_write_long(b, 0);
    }
    if (!strcmp(k, "record")) {
        size_t i;
        json_t *f;
        if (!json_is_object(v))
            return WEIR_EINVAL;
        json_array_foreach(json_object_get(t, "fields"), i, f)
        {
            const json_t *fv = json_object_get(v, json_string_value(json_object_get(f, "name")));
            if (!fv)
                fv = json_object_get(f, "default");
            if (!fv)
                return WEIR_EINVAL;
            if ((rc = encode_default(b, fv, json_object_get(f, "type"), rn, depth + 1)) != 0)
                return rc;
        }
        return 0;
    }
    return WEIR_EINVAL;
}

static int compile(compile_t *c, const json_t *w0, const json_t *r0, const names_t *rn,
                   const char *path, int32_t *out);

/* The reader field a writer field feeds: by name or by one of its aliases. */
static const json_t *reader_field(const json_t *rfields, const char *wname, size_t *at)
{
    size_t i, k;
    json_t *f, *a;
    json_array_foreach(rfields, i, f)
    {
        const char *name = json_string_value(json_object_get(f, "name"));
        int hit = name && !strcmp(name, wname);
        json_array_foreach(json_object_get(f, "aliases"), k, a) hit |=
            json_is_string(a) && !strcmp(json_string_value(a), wname);
        if (hit) {
            *at = i;
            return f;
        }
    }
    return NULL;
}

static int compile_record(compile_t *c, int32_t idx, const json_t *w, const json_t *r,
                          const names_t *rn, const char *path)
{
    json_t *wf = json_object_get(w, "fields"), *rf = json_object_get(r, "fields");
    size_t nw = json_array_size(wf), nr = json_array_size(rf), i;
    wfield_t *wfields = calloc(nw ? nw : 1, sizeof(*wfields));
    rfield_t *rfields = calloc(nr ? nr : 1, sizeof(*rfields));
    int rc = 0;
    json_t *f;
    if (!wfields || !rfields) {
        free(wfields);
        free(rfields);
        return WEIR_ENOMEM;
    }
    c->res->nodes[idx].wfields = wfields;
    c->res->nodes[idx].rfields = rfields;
    c->res->nodes[idx].n_wfields = nw;
    c->res->nodes[idx].n_rfields = nr;
    for (i = 0; i < nr; i++)
        rfields[i].writer = -1;
    int in_order = nw == nr;
    json_array_foreach(wf, i, f)
    {
        const char *wname = json_string_value(json_object_get(f, "name"));
        size_t at = 0;
        const json_t *g = wname ? reader_field(rf, wname, &at) : NULL;
        char sub[512];
        snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", wname ? wname : "?");
        if (g && rfields[at].writer < 0) {
            rc = compile(c, json_object_get(f, "type"), json_object_get(g, "type"), rn, sub,
                         &wfields[i].node);
            wfields[i].kept = 1;
            rfields[at].writer = (int32_t)i;
            in_order &= at == i;
        } else {
            /* skipped: read as itself, then dropped */
            rc = compile(c, json_object_get(f, "type"), json_object_get(f, "type"), c->w, sub,
                         &wfields[i].node);
            in_order = 0;
        }
        if (rc)
            return rc;
        if (wfields[i].node < 0)
            return WEIR_ESCHEMA; /* this record cannot be read: neither can its value */
    }
    json_array_foreach(rf, i, f)
    {
        if (rfields[i].writer >= 0)
            continue;
        weir_buf_t *b = &c->res->defaults_bytes;
        rfields[i].default_at = b->len;
        rc = encode_default(b, json_object_get(f, "default"), json_object_get(f, "type"), rn, 0);
        if (rc)
            return rc;
        rfields[i].default_len = b->len - rfields[i].default_at;
    }
    c->res->nodes[idx].in_order = in_order;
    if (nw > c->res->spans_cap)
        c->res->spans_cap = nw;
    return 0;
}

/* A node reading writer type @p w0 as reader type @p r0 (named in @p rn); -1
 * in @p out when it cannot be read (a writer union's branch). */
static int compile(compile_t *c, const json_t *w0, const json_t *r0, const names_t *rn,
                   const char *path, int32_t *out)
{
    const json_t *w = deref(c->w, w0), *r = deref(rn, r0);
    int rc = 0;
    int32_t idx = -1;
    *out = -1;
    if (!w || !r)
        goto out;
    for (size_t i = 0; i < c->res->n_nodes; i++) {
        const node_t *n = &c->res->nodes[i];
        if (n->w == w && n->r == r && n->rn == rn && !strcmp(kind(w), "record")) {
            *out = (int32_t)i;
            goto out;
        }
    }
    if (++c->depth > WEIR_RESOLVE_MAX_DEPTH * 4) {
        rc = WEIR_ELIMIT;
        goto done;
    }
    const char *wk = kind(w), *rk = kind(r);
    if (!strcmp(wk, "union")) {
        size_t n = json_array_size(w);
        if ((rc = new_node(c, OP_WRITER_UNION, w, r, rn, path, &idx)) != 0)
            goto done;
        int32_t *map = calloc(n ? n : 1, sizeof(*map));
        if (!map) {
            rc = WEIR_ENOMEM;
            goto done;
        }
        c->res->nodes[idx].map = map;
        c->res->nodes[idx].n = (int64_t)n;
        for (size_t i = 0; i < n && rc == 0; i++)
            rc = compile(c, json_array_get(w, i), r0, rn, path, &map[i]);
        if (rc == 0)
            *out = idx;
        goto done;
    }
    if (!strcmp(rk, "union")) {
        size_t i, pick = (size_t)-1;
        json_t *b;
        json_array_foreach((json_t *)r, i, b)
        {
            const json_t *rb = deref(rn, b);
            const char *bk = kind(rb);
            int named = !strcmp(bk, "record") || !strcmp(bk, "enum") || !strcmp(bk, "fixed");
            if (pick == (size_t)-1 && !strcmp(bk, wk) && (!named || names_match(w, rb)))
                pick = i;
        }
        json_array_foreach((json_t *)r, i,
                           b) if (pick == (size_t)-1 && promotes(wk, kind(deref(rn, b)))) pick = i;
        if (pick == (size_t)-1)
            goto done;
        if ((rc = new_node(c, OP_READER_UNION, w, r, rn, path, &idx)) != 0)
            goto done;
        c->res->nodes[idx].n = (int64_t)pick;
        int32_t child = -1;
        rc = compile(c, w0, json_array_get(r, pick), rn, path, &child);
        c->res->nodes[idx].child = child;
        if (rc == 0 && child >= 0)
            *out = idx;
        goto done;
    }
    op_t op;
    int numeric_w = !strcmp(wk, "int") || !strcmp(wk, "long");
    if (numeric_w && (!strcmp(rk, "int") || !strcmp(rk, "long")))
        op = OP_VARINT;
    else if (numeric_w && !strcmp(rk, "float"))
        op = OP_VARINT_FLOAT;
    else if (numeric_w && !strcmp(rk, "double"))
        op = OP_VARINT_DOUBLE;
    else if (!strcmp(wk, "float"))
        op = !strcmp(rk, "float") ? OP_FLOAT : OP_FLOAT_DOUBLE;
    else if ((!strcmp(wk, "string") || !strcmp(wk, "bytes")) &&
             (!strcmp(rk, "string") || !strcmp(rk, "bytes")))
        op = OP_BYTES;
    else if (strcmp(wk, rk))
        goto done; /* resolve() refused it already, unless inside a writer union */
    else if (!strcmp(wk, "null"))
        op = OP_NULL;
    else if (!strcmp(wk, "boolean"))
        op = OP_BOOLEAN;
    else if (!strcmp(wk, "double"))
        op = OP_DOUBLE;
    else if (!strcmp(wk, "fixed"))
        op = OP_FIXED;
    else if (!strcmp(wk, "enum"))
        op = OP_ENUM;
    else if (!strcmp(wk, "array"))
        op = OP_ARRAY;
    else if (!strcmp(wk, "map"))
        op = OP_MAP;
    else if (!strcmp(wk, "record"))
        op = OP_RECORD;
    else
        goto done;
    if ((rc = new_node(c, op, w, r, rn, path, &idx)) != 0)
        goto done;
    if (op == OP_FIXED) {
        c->res->nodes[idx].n = json_integer_value(json_object_get(w, "size"));
    } else if (op == OP_ENUM) {
        json_t *ws = json_object_get(w, "symbols"), *rs = json_object_get(r, "symbols");
        size_t n = json_array_size(ws), i, j;
        json_t *sym, *rsym;
        int32_t fallback = -1;
        int32_t *map = calloc(n ? n : 1, sizeof(*map));
        if (!map) {
            rc = WEIR_ENOMEM;
            goto done;
        }
        c->res->nodes[idx].map = map;
        c->res->nodes[idx].n = (int64_t)n;
        json_array_foreach(rs, j, rsym) if (json_equal(rsym, json_object_get(r, "default")))
            fallback = (int32_t)j;
        json_array_foreach(ws, i, sym)
        {
            map[i] = fallback;
            json_array_foreach(rs, j, rsym) if (json_equal(sym, rsym)) map[i] = (int32_t)j;
        }
    } else if (op == OP_ARRAY || op == OP_MAP) {
        const char *key = op == OP_ARRAY ? "items" : "values";
        char sub[512];
        int32_t child = -1;
        snprintf(sub, sizeof(sub), "%s%s", path, op == OP_ARRAY ? "[]" : "{}");
        rc = compile(c, json_object_get(w, key), json_object_get(r, key), rn, sub, &child);
        c->res->nodes[idx].child = child;
        if (rc == 0 && child < 0)
            goto done;
    } else if (op == OP_RECORD) {
        rc = compile_record(c, idx, w, r, rn, path);
        if (rc == WEIR_ESCHEMA) {
            rc = 0;
            goto done;
        }
    }
    if (rc == 0)
        *out = idx;
done:
    c->depth--;
out:
    return rc;
}

static int truncated(const char *path, char *detail, size_t detailsz)
{
    return weir_seterr(detail, detailsz, WEIR_EDECODE, "field %s: truncated while resolving", path);
}

static int read_varint(const uint8_t **p, const uint8_t *end, int64_t *v)
{
    int used = weir_varint_decode(*p, (size_t)(end - *p), v);
    if (used <= 0)
        return -1;
    *p += used;
    return 0;
}

/* Reads one value of node @p idx at *p and appends it, as the reader reads it, to @p out. */
static int run(weir_resolution_t *res, int32_t idx, const uint8_t **p, const uint8_t *end,
               weir_buf_t *out, char *detail, size_t detailsz)
{
    const node_t *n = &res->nodes[idx];
    int64_t v = 0;
    int rc = 0;
    switch (n->op) {
    case OP_NULL:
        break;
    case OP_BOOLEAN:
        if (end - *p < 1)
            return truncated(n->path, detail, detailsz);
        rc = weir_buf_append(out, *p, 1);
        *p += 1;
        break;
    case OP_VARINT:
    case OP_VARINT_FLOAT:
    case OP_VARINT_DOUBLE:
        if (read_varint(p, end, &v))
            return truncated(n->path, detail, detailsz);
        rc = n->op == OP_VARINT         ? weir_avro_write_long(out, v)
             : n->op == OP_VARINT_FLOAT ? weir_avro_write_float(out, (float)v)
                                        : weir_avro_write_double(out, (double)v);
        break;
    case OP_FLOAT:
    case OP_FLOAT_DOUBLE: {
        float f;
        if (end - *p < 4)
            return truncated(n->path, detail, detailsz);
        memcpy(&f, *p, 4); /* little-endian, as Avro and the hosts weir runs on */
        *p += 4;
        rc = n->op == OP_FLOAT ? weir_avro_write_float(out, f)
                               : weir_avro_write_double(out, (double)f);
        break;
    }
    case OP_DOUBLE:
        if (end - *p < 8)
            return truncated(n->path, detail, detailsz);
        rc = weir_buf_append(out, *p, 8);
        *p += 8;
        break;
    case OP_BYTES:
        if (read_varint(p, end, &v) || v < 0 || v > end - *p)
            return truncated(n->path, detail, detailsz);
        rc = weir_avro_write_string(out, (const char *)*p, (size_t)v);
        *p += v;
        break;
    case OP_FIXED:
        if (end - *p < n->n)
            return truncated(n->path, detail, detailsz);
        rc = weir_buf_append(out, *p, (size_t)n->n);
        *p += n->n;
        break;
    case OP_ENUM:
        if (read_varint(p, end, &v) || v < 0 || v >= n->n)
            return truncated(n->path, detail, detailsz);
        if (n->map[v] < 0)
            return weir_seterr(detail, detailsz, WEIR_EDECODE,
                               "field %s: enum symbol %" PRId64 " of the writer is not in the "
                               "reader's symbols and the reader has no default",
                               n->path, v);
        rc = weir_avro_write_long(out, n->map[v]);
        break;
    case OP_WRITER_UNION:
        if (read_varint(p, end, &v) || v < 0 || v >= n->n)
            return truncated(n->path, detail, detailsz);
        if (n->map[v] < 0)
            return weir_seterr(detail, detailsz, WEIR_EDECODE,
                               "field %s: branch %" PRId64
                               " of the writer's union cannot be read as the reader's type",
                               n->path, v);
        rc = run(res, n->map[v], p, end, out, detail, detailsz);
        break;
    case OP_READER_UNION:
        rc = weir_avro_write_long(out, n->n);
        if (rc == 0)
            rc = run(res, n->child, p, end, out, detail, detailsz);
        break;
    case OP_ARRAY:
    case OP_MAP:
        for (;;) {
            if (read_varint(p, end, &v))
                return truncated(n->path, detail, detailsz);
            if (v == 0)
                break;
            if (v < 0) {
                int64_t size;
                if (v == INT64_MIN || read_varint(p, end, &size))
                    return truncated(n->path, detail, detailsz);
                v = -v;
            }
            if ((rc = weir_avro_write_long(out, v)) != 0)
                return rc;
            for (int64_t i = 0; i < v && rc == 0; i++) {
                if (n->op == OP_MAP) {
                    int64_t klen;
                    if (read_varint(p, end, &klen) || klen < 0 || klen > end - *p)
                        return truncated(n->path, detail, detailsz);
                    rc = weir_avro_write_string(out, (const char *)*p, (size_t)klen);
                    *p += klen;
                }
                if (rc == 0)
                    rc = run(res, n->child, p, end, out, detail, detailsz);
            }
            if (rc)
                return rc;
        }
        rc = weir_avro_write_long(out, 0);
        break;
    case OP_RECORD: {
        size_t start = out->len;
        if (n->in_order) {
            for (size_t i = 0; i < n->n_wfields && rc == 0; i++)
                rc = run(res, n->wfields[i].node, p, end, out, detail, detailsz);
            break;
        }
        if (res->spans_top + 2 * n->n_wfields > 2 * res->spans_cap * (WEIR_AVRO_MAX_DEPTH + 1))
            return weir_seterr(detail, detailsz, WEIR_EDECODE, "field %s: nested too deep",
                               n->path);
        size_t *spans = res->spans + res->spans_top;
        res->spans_top += 2 * n->n_wfields;
        for (size_t i = 0; i < n->n_wfields && rc == 0; i++) {
            spans[2 * i] = out->len;
            rc = run(res, n->wfields[i].node, p, end, out, detail, detailsz);
            spans[2 * i + 1] = out->len - spans[2 * i];
        }
        /* the reader's order after the writer's values, then moved down */
        size_t tail = out->len;
        for (size_t i = 0; i < n->n_rfields && rc == 0; i++) {
            const rfield_t *f = &n->rfields[i];
            size_t at = f->writer >= 0 ? spans[2 * f->writer] : f->default_at;
            size_t len = f->writer >= 0 ? spans[2 * f->writer + 1] : f->default_len;
            if ((rc = weir_buf_reserve(out, len)) != 0)
                break;
            const uint8_t *from = f->writer >= 0 ? out->data + at : res->defaults_bytes.data + at;
            memcpy(out->data + out->len, from, len);
            out->len += len;
        }
        if (rc == 0) {
            memmove(out->data + start, out->data + tail, out->len - tail);
            out->len = start + (out->len - tail);
        }
        res->spans_top -= 2 * n->n_wfields;
        break;
    }
    }
    return rc;
}

int weir_resolve_read(weir_resolution_t *r, const uint8_t *buf, size_t len, weir_buf_t *out,
                      char *detail, size_t detailsz)
{
    const uint8_t *p = buf, *end = buf + len;
    int rc = 0;
    r->spans_top = 0;
    if (r->n_nodes == 0) {
        rc = weir_seterr(detail, detailsz, WEIR_EDECODE, "no resolution compiled");
        goto out;
    }
    rc = run(r, 0, &p, end, out, detail, detailsz);
    if (rc == 0 && p != end)
        rc = weir_seterr(detail, detailsz, WEIR_EDECODE, "%zu bytes left after the datum",
                         (size_t)(end - p));
    if (rc && rc != WEIR_EDECODE)
        rc = weir_seterr(detail, detailsz, WEIR_ELIMIT, "the resolved datum does not fit: %s",
                         weir_strerror(rc));
out:
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
    weir_buf_init(&res->defaults_bytes, WEIR_AVRO_MAX_DATUM);
    compile_t cc = {.w = nw, .res = res};
    int32_t root = -1;
    rc = compile(&cc, w, r, nr, "", &root);
    if (rc == 0 && root != 0)
        rc = WEIR_ESCHEMA;
    if (rc == 0 && res->spans_cap) {
        res->spans = malloc(2 * res->spans_cap * (WEIR_AVRO_MAX_DEPTH + 1) * sizeof(size_t));
        if (!res->spans)
            rc = WEIR_ENOMEM;
    }
    for (size_t i = 0; i < res->n_nodes; i++)
        res->nodes[i].w = res->nodes[i].r = NULL, res->nodes[i].rn = NULL;
    if (rc) {
        rc = weir_seterr(
            err, errsz, rc == WEIR_ESCHEMA ? WEIR_ESCHEMA : rc, "cannot compile the resolution: %s",
            rc == WEIR_ESCHEMA ? "a default does not fit its field" : weir_strerror(rc));
        goto out;
    }
    *out = res;
    res = NULL;
out:
    json_decref(w);
    json_decref(r);
    free(nw);
    free(nr);
    weir_resolve_destroy(res);
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
    if (!r)
        return;
    for (size_t i = 0; i < r->n_nodes; i++) {
        free(r->nodes[i].map);
        free(r->nodes[i].wfields);
        free(r->nodes[i].rfields);
        free(r->nodes[i].path);
    }
    free(r->nodes);
    free(r->spans);
    weir_buf_dispose(&r->defaults_bytes);
    free(r);
}
