/*
 * names.c — a read-only string index: category name → one-hot column, and the
 * loader's uniqueness checks (feature names, classes, categories) and
 * reference lookups by feature name.
 *
 * Built once at load time from strings the model owns, then only read, so any
 * number of threads may look up at once. Open addressing with linear probing
 * over at least twice as many slots as names keeps a lookup to a hash and a
 * compare or two, whatever the number of categories.
 */
#include "scoring_int.h"

#include <string.h>

static int same(const weir_name_index_t *index, uint32_t position, const char *s, size_t len)
{
    /* An empty value may come with a NULL pointer, which memcmp must not see. */
    return index->lengths[position] == len &&
           (len == 0 || memcmp(index->names[position], s, len) == 0);
}

int weir_name_index_build(weir_name_index_t *index, weir_arena_t *memory, const char *const *names,
                          const size_t *lengths, size_t count, size_t *duplicate)
{
    int rc = 0;
    size_t slot_count = 8;

    *duplicate = (size_t)-1;
    while (slot_count < 2 * count)
        slot_count *= 2;
    index->names = names;
    index->lengths = lengths;
    index->mask = slot_count - 1;
    index->slots = weir_arena_alloc(memory, slot_count * sizeof(*index->slots));
    if (!index->slots) {
        rc = WEIR_ENOMEM;
        goto out;
    }
    memset(index->slots, 0, slot_count * sizeof(*index->slots));

    for (size_t i = 0; i < count; i++) {
        size_t slot = weir_hash_fnv1a(names[i], lengths[i], 0) & index->mask;
        while (index->slots[slot] != 0) {
            if (same(index, index->slots[slot] - 1, names[i], lengths[i])) {
                *duplicate = i;
                goto out;
            }
            slot = (slot + 1) & index->mask;
        }
        index->slots[slot] = (uint32_t)i + 1;
    }

out:
    return rc;
}

long weir_name_index_find(const weir_name_index_t *index, const char *s, size_t len)
{
    size_t slot = weir_hash_fnv1a(s, len, 0) & index->mask;
    long found = -1;

    /* The table is never more than half full, so an empty slot always ends the probe. */
    while (found < 0 && index->slots[slot] != 0) {
        uint32_t position = index->slots[slot] - 1;
        if (same(index, position, s, len))
            found = (long)position;
        slot = (slot + 1) & index->mask;
    }
    return found;
}
