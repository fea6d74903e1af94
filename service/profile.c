/* profile.c — placeholder while written */
#include "profile.h"
int weir_profile_main(int argc, char **argv)
{
    return 2;
}
