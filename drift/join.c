/*
 * join.c — the bounded label join: predictions wait here, keyed by event id,
 * until their label arrives, their TTL passes, or room is needed.
 *
 * Entries live in a slab of fixed-size records (the id is copied into the
 * record, at most WEIR_LABEL_ID_MAX bytes) that grows by doubling up to
 * max_pending and is never shrunk; freed records are reused through a free
 * list. An open-addressing table (linear probing, at most half full,
 * backward-shift deletion so that no tombstones accumulate) maps ids to
 * records, and a doubly linked list keeps the records in the order they were
 * put: the oldest is evicted when the join is full, and TTL expiry walks from
 * the oldest while it is expired. Memory is therefore bounded by max_pending
 * whatever the label stream does.
 */
#include "drift_int.h"

#include <stdlib.h>
#include <string.h>

#define INITIAL_ENTRIES 1024

typedef struct {
    char id[WEIR_LABEL_ID_MAX];
    uint32_t len, hash;
    uint32_t older, newer; /* put order; newer also links the free list */
    double score;
    int64_t time;
    int32_t predicted;
} entry_t;

struct weir_label_join {
    size_t max_pending;
    int64_t ttl_ms;
    entry_t *entries;
    size_t allocated, used; /* records allocated, records ever handed out */
    uint32_t free_list;
    uint32_t *table; /* record + 1; 0 empty */
    size_t mask;
    uint32_t oldest, newest;
    weir_label_join_counters_t counters;
};

static size_t table_size_for(size_t entries)
{
    size_t size = 16;
    while (size < 2 * entries)
        size <<= 1;
    return size;
}

int weir_label_join_new(size_t max_pending, int64_t ttl_ms, weir_label_join_t **out)
{
    int rc = WEIR_EINVAL;
    weir_label_join_t *j = NULL;
    *out = NULL;
    if (max_pending == 0 || max_pending > ((size_t)1 << 31) || ttl_ms <= 0)
        goto out;
    rc = WEIR_ENOMEM;
    if (!(j = calloc(1, sizeof(*j))))
        goto out;
    j->max_pending = max_pending;
    j->ttl_ms = ttl_ms;
    j->allocated = max_pending < INITIAL_ENTRIES ? max_pending : INITIAL_ENTRIES;
    j->entries = malloc(j->allocated * sizeof(entry_t));
    size_t slots = table_size_for(j->allocated);
    j->table = calloc(slots, sizeof(uint32_t));
    if (!j->entries || !j->table)
        goto out;
    j->mask = slots - 1;
    j->free_list = j->oldest = j->newest = WEIR_NONE;
    j->counters.capacity = max_pending;
    *out = j;
    j = NULL;
    rc = 0;
out:
    weir_label_join_destroy(j);
    return rc;
}

void weir_label_join_destroy(weir_label_join_t *j)
{
    if (!j)
        return;
    free(j->entries);
    free(j->table);
    free(j);
}

/* The table slot that holds this id, or the empty slot where it would go. */
static size_t probe(const weir_label_join_t *j, const char *id, size_t len, uint32_t hash)
{
    size_t slot = hash & j->mask;
    while (j->table[slot] != 0) {
        const entry_t *e = &j->entries[j->table[slot] - 1];
        if (e->hash == hash && e->len == len && memcmp(e->id, id, len) == 0)
            break;
        slot = (slot + 1) & j->mask;
    }
    return slot;
}

static void table_insert(weir_label_join_t *j, uint32_t record)
{
    size_t slot = j->entries[record].hash & j->mask;
    while (j->table[slot] != 0)
        slot = (slot + 1) & j->mask;
    j->table[slot] = record + 1;
}

/* Empties a slot and shifts later members of its probe run back into it. */
static void table_delete(weir_label_join_t *j, size_t hole)
{
    size_t next = hole;
    for (;;) {
        next = (next + 1) & j->mask;
        if (j->table[next] == 0)
            break;
        size_t home = j->entries[j->table[next] - 1].hash & j->mask;
        /* may the entry at next move back to hole? only if its home is not in (hole, next] */
        int between = hole <= next ? (home > hole && home <= next) : (home > hole || home <= next);
        if (!between) {
            j->table[hole] = j->table[next];
            hole = next;
        }
    }
    j->table[hole] = 0;
}

static void unlink_record(weir_label_join_t *j, uint32_t r)
{
    entry_t *e = &j->entries[r];
    if (e->older != WEIR_NONE)
        j->entries[e->older].newer = e->newer;
    else
        j->oldest = e->newer;
    if (e->newer != WEIR_NONE)
        j->entries[e->newer].older = e->older;
    else
        j->newest = e->older;
}

static void append_record(weir_label_join_t *j, uint32_t r)
{
    entry_t *e = &j->entries[r];
    e->older = j->newest;
    e->newer = WEIR_NONE;
    if (j->newest != WEIR_NONE)
        j->entries[j->newest].newer = r;
    else
        j->oldest = r;
    j->newest = r;
}

/* Removes record r (whose table slot is @p slot). */
static void remove_record(weir_label_join_t *j, uint32_t r, size_t slot)
{
    table_delete(j, slot);
    unlink_record(j, r);
    j->entries[r].newer = j->free_list;
    j->free_list = r;
    j->counters.pending--;
}

static void remove_oldest(weir_label_join_t *j)
{
    uint32_t r = j->oldest;
    const entry_t *e = &j->entries[r];
    remove_record(j, r, probe(j, e->id, e->len, e->hash));
}

/* Doubles the slab (up to max_pending) and rebuilds the table. */
static int grow(weir_label_join_t *j)
{
    int rc = WEIR_ENOMEM;
    size_t want = j->allocated * 2 < j->max_pending ? j->allocated * 2 : j->max_pending;
    size_t slots = table_size_for(want);
    entry_t *entries = realloc(j->entries, want * sizeof(entry_t));
    uint32_t *table = NULL;
    if (!entries)
        goto out;
    j->entries = entries;
    if (!(table = calloc(slots, sizeof(uint32_t))))
        goto out;
    free(j->table);
    j->table = table;
    j->mask = slots - 1;
    j->allocated = want;
    for (uint32_t r = j->oldest; r != WEIR_NONE; r = j->entries[r].newer)
        table_insert(j, r);
    rc = 0;
out:
    return rc;
}

int weir_label_join_put(weir_label_join_t *j, const char *event_id, size_t len, double score,
                        int predicted_class, int64_t time_ms)
{
    int rc = WEIR_ELIMIT;
    if (len == 0 || len > WEIR_LABEL_ID_MAX) {
        j->counters.rejected++;
        goto out;
    }
    uint32_t hash = weir_hash_fnv1a(event_id, len, 0);
    size_t slot = probe(j, event_id, len, hash);
    uint32_t r;
    if (j->table[slot] != 0) {
        /* the same id again: the newest prediction wins and is young again */
        r = j->table[slot] - 1;
        unlink_record(j, r);
        j->counters.replaced++;
    } else {
        if (j->counters.pending == j->max_pending) {
            remove_oldest(j);
            j->counters.evicted++;
        }
        if (j->free_list == WEIR_NONE && j->used == j->allocated) {
            if ((rc = grow(j)) != 0)
                goto out;
        }
        if (j->free_list != WEIR_NONE) {
            r = j->free_list;
            j->free_list = j->entries[r].newer;
        } else {
            r = (uint32_t)j->used++;
        }
        entry_t *e = &j->entries[r];
        memcpy(e->id, event_id, len);
        e->len = (uint32_t)len;
        e->hash = hash;
        table_insert(j, r);
        j->counters.pending++;
    }
    entry_t *e = &j->entries[r];
    e->score = score;
    e->predicted = predicted_class;
    e->time = time_ms;
    append_record(j, r);
    rc = 0;
out:
    return rc;
}

int weir_label_join_take(weir_label_join_t *j, const char *event_id, size_t len, double *score,
                         int *predicted_class, int64_t *time_ms)
{
    int found = 0;
    if (len == 0 || len > WEIR_LABEL_ID_MAX)
        goto out;
    uint32_t hash = weir_hash_fnv1a(event_id, len, 0);
    size_t slot = probe(j, event_id, len, hash);
    if (j->table[slot] == 0)
        goto out;
    uint32_t r = j->table[slot] - 1;
    const entry_t *e = &j->entries[r];
    *score = e->score;
    *predicted_class = e->predicted;
    *time_ms = e->time;
    remove_record(j, r, slot);
    found = 1;
out:
    if (found)
        j->counters.matched++;
    else
        j->counters.unmatched++;
    return found;
}

void weir_label_join_expire(weir_label_join_t *j, int64_t now_ms)
{
    while (j->oldest != WEIR_NONE && j->entries[j->oldest].time <= now_ms - j->ttl_ms) {
        remove_oldest(j);
        j->counters.expired++;
    }
}

void weir_label_join_counters(const weir_label_join_t *j, weir_label_join_counters_t *out)
{
    *out = j->counters;
}
