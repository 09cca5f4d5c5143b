// The one place glue code includes Postgres' C headers from. Include it after every standard, xsimd,
// OpenSSL and core header of the file: core headers refuse to be included after postgres.h.
#pragma once

extern "C" {
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/elog.h"
#include "utils/memutils.h"
}

// After postgres.h, printf-family names are macros for Postgres' own versions; use those, never std::.
