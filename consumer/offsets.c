/*
 * offsets.c — the at-least-once ledger: which consumed offsets have their
 * output durably written, per partition, and which offset may be stored.
 *
 * Each partition keeps a ring of in-flight messages indexed by a per-partition
 * sequence number (offsets themselves need not be contiguous: compaction and
 * transaction markers leave gaps). A token packs the partition's slot, its
 * assignment epoch and the sequence number, so it fits the produce opaque.
 */
#include "offsets.h"
#include "common.h"

#include <stdlib.h>
#include <string.h>

#define SLOT_BITS 16
#define EPOCH_BITS 12
#define SEQ_BITS 36
#define SLOT_MAX ((1u << SLOT_BITS) - 1)
#define EPOCH_MASK ((1u << EPOCH_BITS) - 1)
#define SEQ_MASK ((UINT64_C(1) << SEQ_BITS) - 1)

enum { PENDING = 0, DELIVERED = 1, FAILED = 2 };

typedef struct {
    char *topic;
    int32_t partition;
    int assigned;
    int dirty;
    int failed;
    uint32_t epoch;
    uint64_t head, tail; /* in flight: sequence numbers [head, tail) */
    int64_t last_offset; /* last begun, to check ordering */
    int64_t store_offset;
    size_t cap; /* power of two */
    int64_t *offsets;
    uint8_t *state;
    void **attached; /* NULL until something is attached */
} partition_t;

struct weir_offsets {
    partition_t *parts;
    size_t count, alloc;
    size_t max_in_flight;
    size_t in_flight;
    size_t last_hit;
    weir_offsets_release_fn release;
};

int weir_offsets_new(size_t max_in_flight, weir_offsets_release_fn release, weir_offsets_t **out)
{
    weir_offsets_t *o = calloc(1, sizeof(*o));
    if (!o)
        return WEIR_ENOMEM;
    o->max_in_flight = max_in_flight ? max_in_flight : 1;
    o->release = release;
    *out = o;
    return 0;
}

static void release_attached(weir_offsets_t *o, partition_t *p)
{
    if (!p->attached)
        return;
    for (uint64_t s = p->head; s < p->tail; s++) {
        void **slot = &p->attached[s & (p->cap - 1)];
        if (*slot && o->release)
            o->release(*slot);
        *slot = NULL;
    }
}

void weir_offsets_destroy(weir_offsets_t *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->count; i++) {
        release_attached(o, &o->parts[i]);
        free(o->parts[i].topic);
        free(o->parts[i].offsets);
        free(o->parts[i].state);
        free(o->parts[i].attached);
    }
    free(o->parts);
    free(o);
}

static partition_t *find(const weir_offsets_t *o, const char *topic, int32_t partition,
                         size_t *slot)
{
    size_t hint = o->last_hit;
    if (hint < o->count && o->parts[hint].partition == partition &&
        !strcmp(o->parts[hint].topic, topic)) {
        if (slot)
            *slot = hint;
        return &o->parts[hint];
    }
    for (size_t i = 0; i < o->count; i++) {
        if (o->parts[i].partition == partition && !strcmp(o->parts[i].topic, topic)) {
            ((weir_offsets_t *)o)->last_hit = i;
            if (slot)
                *slot = i;
            return &o->parts[i];
        }
    }
    return NULL;
}

static void clear_in_flight(weir_offsets_t *o, partition_t *p)
{
    release_attached(o, p);
    o->in_flight -= (size_t)(p->tail - p->head);
    p->head = p->tail = 0;
}

int weir_offsets_assign(weir_offsets_t *o, const char *topic, int32_t partition)
{
    partition_t *p = find(o, topic, partition, NULL);
    if (!p) {
        if (o->count == SLOT_MAX)
            return WEIR_ELIMIT;
        if (o->count == o->alloc) {
            size_t alloc = o->alloc ? o->alloc * 2 : 16;
            partition_t *parts = realloc(o->parts, alloc * sizeof(*parts));
            if (!parts)
                return WEIR_ENOMEM;
            o->parts = parts;
            o->alloc = alloc;
        }
        p = &o->parts[o->count];
        memset(p, 0, sizeof(*p));
        p->topic = strdup(topic);
        if (!p->topic)
            return WEIR_ENOMEM;
        p->partition = partition;
        o->count++;
    }
    clear_in_flight(o, p);
    p->epoch = (p->epoch + 1) & EPOCH_MASK;
    p->assigned = 1;
    p->dirty = 0;
    p->failed = 0;
    p->last_offset = -1;
    p->store_offset = -1;
    return 0;
}

void weir_offsets_revoke(weir_offsets_t *o, const char *topic, int32_t partition)
{
    partition_t *p = find(o, topic, partition, NULL);
    if (!p || !p->assigned)
        return;
    clear_in_flight(o, p);
    p->assigned = 0;
    p->dirty = 0;
    p->epoch = (p->epoch + 1) & EPOCH_MASK;
}

int weir_offsets_assigned(const weir_offsets_t *o, const char *topic, int32_t partition)
{
    const partition_t *p = find(o, topic, partition, NULL);
    return p && p->assigned;
}

static int grow(partition_t *p, size_t max)
{
    size_t cap = p->cap ? p->cap * 2 : 64;
    if (p->cap >= max)
        return WEIR_ELIMIT;
    int64_t *offsets = malloc(cap * sizeof(*offsets));
    uint8_t *state = malloc(cap);
    void **attached = calloc(cap, sizeof(*attached));
    if (!offsets || !state || !attached) {
        free(offsets);
        free(state);
        free(attached);
        return WEIR_ENOMEM;
    }
    for (uint64_t s = p->head; s < p->tail; s++) {
        offsets[s & (cap - 1)] = p->offsets[s & (p->cap - 1)];
        state[s & (cap - 1)] = p->state[s & (p->cap - 1)];
        attached[s & (cap - 1)] = p->attached ? p->attached[s & (p->cap - 1)] : NULL;
    }
    free(p->offsets);
    free(p->state);
    free(p->attached);
    p->offsets = offsets;
    p->state = state;
    p->attached = attached;
    p->cap = cap;
    return 0;
}

int weir_offsets_begin(weir_offsets_t *o, const char *topic, int32_t partition, int64_t offset,
                       uint64_t *token)
{
    size_t slot;
    partition_t *p = find(o, topic, partition, &slot);
    if (!p || !p->assigned)
        return WEIR_ESTATE;
    if (offset <= p->last_offset)
        return WEIR_EINVAL;
    size_t n = (size_t)(p->tail - p->head);
    if (n >= o->max_in_flight)
        return WEIR_ELIMIT;
    if (n == p->cap) {
        int rc = grow(p, o->max_in_flight);
        if (rc)
            return rc;
    }
    if (p->tail > SEQ_MASK) {
        /* 2^36 messages in one assignment: start the ring over once it drains */
        if (n)
            return WEIR_ELIMIT;
        p->head = p->tail = 0;
    }
    uint64_t seq = p->tail++;
    p->offsets[seq & (p->cap - 1)] = offset;
    p->state[seq & (p->cap - 1)] = PENDING;
    p->attached[seq & (p->cap - 1)] = NULL;
    p->last_offset = offset;
    o->in_flight++;
    *token = ((uint64_t)slot << (EPOCH_BITS + SEQ_BITS)) | ((uint64_t)p->epoch << SEQ_BITS) | seq;
    return 0;
}

/* The partition and ring index of a live, pending token; NULL when stale. */
static partition_t *entry(const weir_offsets_t *o, uint64_t token, size_t *idx)
{
    size_t slot = (size_t)(token >> (EPOCH_BITS + SEQ_BITS));
    uint32_t epoch = (uint32_t)(token >> SEQ_BITS) & EPOCH_MASK;
    uint64_t seq = token & SEQ_MASK;
    if (slot >= o->count)
        return NULL;
    partition_t *p = &o->parts[slot];
    if (!p->assigned || p->epoch != epoch || seq < p->head || seq >= p->tail)
        return NULL;
    *idx = seq & (p->cap - 1);
    return p->state[*idx] == PENDING ? p : NULL;
}

int weir_offsets_attach(weir_offsets_t *o, uint64_t token, void *attachment)
{
    size_t idx;
    partition_t *p = entry(o, token, &idx);
    if (!p || p->attached[idx])
        return WEIR_ESTATE;
    p->attached[idx] = attachment;
    return 0;
}

void *weir_offsets_detach(weir_offsets_t *o, uint64_t token)
{
    size_t idx;
    partition_t *p = entry(o, token, &idx);
    if (!p)
        return NULL;
    void *a = p->attached[idx];
    p->attached[idx] = NULL;
    return a;
}

int weir_offsets_lookup(const weir_offsets_t *o, uint64_t token, const char **topic,
                        int32_t *partition, int64_t *offset)
{
    size_t idx;
    const partition_t *p = entry(o, token, &idx);
    if (!p)
        return WEIR_ESTATE;
    *topic = p->topic;
    *partition = p->partition;
    *offset = p->offsets[idx];
    return 0;
}

size_t weir_offsets_partition_room(const weir_offsets_t *o, const char *topic, int32_t partition)
{
    const partition_t *p = find(o, topic, partition, NULL);
    if (!p || !p->assigned)
        return 0;
    size_t n = (size_t)(p->tail - p->head);
    return n < o->max_in_flight ? o->max_in_flight - n : 0;
}

int weir_offsets_done(weir_offsets_t *o, uint64_t token, int ok)
{
    size_t idx;
    partition_t *p = entry(o, token, &idx);
    if (!p)
        return WEIR_ESTATE;
    if (p->attached[idx] && o->release)
        o->release(p->attached[idx]);
    p->attached[idx] = NULL;
    p->state[idx] = ok ? DELIVERED : FAILED;
    if (!ok)
        p->failed = 1;
    int advanced = 0;
    while (p->head < p->tail && p->state[p->head & (p->cap - 1)] == DELIVERED) {
        p->store_offset = p->offsets[p->head & (p->cap - 1)] + 1;
        p->head++;
        o->in_flight--;
        advanced = 1;
    }
    if (advanced)
        p->dirty = 1;
    return advanced;
}

size_t weir_offsets_in_flight(const weir_offsets_t *o)
{
    return o->in_flight;
}

size_t weir_offsets_partition_in_flight(const weir_offsets_t *o, const char *topic,
                                        int32_t partition)
{
    const partition_t *p = find(o, topic, partition, NULL);
    return p && p->assigned ? (size_t)(p->tail - p->head) : 0;
}

int64_t weir_offsets_store_offset(const weir_offsets_t *o, const char *topic, int32_t partition)
{
    const partition_t *p = find(o, topic, partition, NULL);
    return p && p->assigned ? p->store_offset : -1;
}

void weir_offsets_foreach_dirty(weir_offsets_t *o,
                                int (*fn)(void *opaque, const weir_offsets_entry_t *e),
                                void *opaque)
{
    for (size_t i = 0; i < o->count; i++) {
        partition_t *p = &o->parts[i];
        if (!p->assigned || !p->dirty)
            continue;
        p->dirty = 0;
        weir_offsets_entry_t e = {p->topic, p->partition, p->store_offset, p->failed};
        if (fn(opaque, &e))
            break;
    }
}

int weir_offsets_any_failed(const weir_offsets_t *o)
{
    for (size_t i = 0; i < o->count; i++)
        if (o->parts[i].assigned && o->parts[i].failed)
            return 1;
    return 0;
}
