/*
 * version.c — what a client of libweir checks before it calls anything else.
 */
#include "engine.h"

const char *weir_engine_version(void)
{
    return WEIR_VERSION;
}
