// SQL functions over bundle sidecars and witnesses:
//   rulake.bundle_witness(data_ref, dim, rotation_seed, rerank_factor, generation jsonb) -> text
//   rulake.read_bundle(path) -> jsonb
// The work is done by the core (witness.hpp, bundle_json.hpp); this file converts arguments and results
// (with the conversions of lake_values.hpp).
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

#include "rulake/core/bundle_json.hpp"
#include "rulake/core/decimal_text.hpp"
#include "rulake/core/directory_handle.hpp"
#include "rulake/core/posix_file.hpp"
#include "rulake/core/error.hpp"
#include "rulake/core/witness.hpp"
#include "lake_paths.hpp"
#include "lake_values.hpp"

extern "C" {
#include "catalog/pg_authid.h"
#include "mb/pg_wchar.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
}

#if PG_VERSION_NUM < 140000
#define ROLE_PG_READ_SERVER_FILES DEFAULT_ROLE_READ_SERVER_FILES
#endif

namespace {

using rulake::lake::jsonb_to_generation;
using rulake::lake::numeric_to_u64;
using rulake::lake::text_argument_utf8;
using rulake::pg::pg_call;
using rulake::pg::SqlError;

// A bigint argument that must not be negative.
uint64_t non_negative_argument(FunctionCallInfo fcinfo, int argno, const char* name) {
    const int64 value = PG_GETARG_INT64(argno);
    if (value < 0) {
        throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE, std::string(name) + " must not be negative",
                       std::string(name) + " is " + std::to_string(value) + ".");
    }
    return static_cast<uint64_t>(value);
}

// Raises unless the current user may read files on the server (superuser or pg_read_server_files).
void require_server_file_access() {
    const bool allowed = pg_call([] { return has_privs_of_role(GetUserId(), ROLE_PG_READ_SERVER_FILES); });
    if (!allowed) {
        throw SqlError(ERRCODE_INSUFFICIENT_PRIVILEGE, "permission denied to read bundle files",
                       "Only roles with privileges of the \"pg_read_server_files\" role may read files on the server.");
    }
}

}  // namespace

// rulake.bundle_witness(data_ref text, dim bigint, rotation_seed numeric, rerank_factor bigint,
//                       generation jsonb) RETURNS text: the 64-hex-character witness of those fields.
RULAKE_FUNCTION(rulake_bundle_witness) {
    rulake::core::WitnessFields fields;
    fields.data_ref = text_argument_utf8(fcinfo, 0);
    fields.dim = non_negative_argument(fcinfo, 1, "dim");
    Numeric seed = pg_call([&] { return PG_GETARG_NUMERIC(2); });
    fields.rotation_seed = numeric_to_u64(seed, "rotation_seed");
    fields.rerank_factor = non_negative_argument(fcinfo, 3, "rerank_factor");
    Jsonb* generation = pg_call([&] { return PG_GETARG_JSONB_P(4); });
    fields.generation = jsonb_to_generation(generation);
    return rulake::lake::text_datum(rulake::core::compute_witness(fields));
}

// rulake.read_bundle(path text) RETURNS jsonb: the verified sidecar at an absolute server path.
// Requires superuser or pg_read_server_files, and the file's directory must lie inside
// rulake.allowed_dirs; the file (a valid file name) is opened through that directory, never through a
// symbolic link.
// Errors: missing or unreadable file, caps exceeded, malformed sidecar, witness mismatch (see
// rulake::core::parse_bundle_json).
RULAKE_FUNCTION(rulake_read_bundle) {
    require_server_file_access();
    const char* path_cstr = pg_call([&] { return text_to_cstring(PG_GETARG_TEXT_PP(0)); });
    const std::string path(path_cstr);
    if (path.empty() || path[0] != '/') {
        throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "bundle path must be absolute", "The path is \"" + path + "\".");
    }
    const size_t slash = path.find_last_of('/');
    const std::string directory = slash == 0 ? "/" : path.substr(0, slash);
    const std::string name = path.substr(slash + 1);
    const rulake::core::DirectoryHandle dir = rulake::lake::open_allowed_directory(directory, false);
    const std::optional<rulake::core::Bundle> bundle = rulake::core::read_bundle_in(dir, name);
    if (!bundle) rulake::core::throw_io_error("open", "bundle file", dir.path_of(name), ENOENT);
    return rulake::lake::bundle_to_jsonb(*bundle);
}
