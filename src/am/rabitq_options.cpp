// WITH (...) options of rabitq indexes: parsing (amoptions), validation of string values, and the
// options of an existing index with defaults applied.
#include <cstring>
#include <string>

#include "rabitq_am.hpp"

extern "C" {
#include "access/reloptions.h"
}

namespace rulake::am {

namespace {

[[noreturn]] void throw_invalid_choice(const char* option, const char* value, const char* valid) {
    throw pg::SqlError(ERRCODE_INVALID_PARAMETER_VALUE,
                       std::string("invalid value for rabitq option \"") + option + "\": \"" + value + "\"",
                       std::string("Valid values are ") + valid + ".");
}

const char* option_string(const RabitqOptions* options, int offset, const char* fallback) {
    if (options == nullptr || offset == 0) return fallback;
    return reinterpret_cast<const char*>(options) + offset;
}

}  // namespace

// Called by Postgres for each value given to the option (and once for the default at registration).
void validate_rotation_option(const char* value) {
    pg::guard_entry([&] {
        if (value == nullptr) return;
        if (strcmp(value, "hadamard") != 0 && strcmp(value, "haar") != 0)
            throw_invalid_choice("rotation", value, "\"hadamard\" and \"haar\"");
    });
}

void validate_rerank_option(const char* value) {
    pg::guard_entry([&] {
        if (value == nullptr) return;
        if (strcmp(value, "heap") != 0 && strcmp(value, "index") != 0)
            throw_invalid_choice("rerank", value, "\"heap\" and \"index\"");
    });
}

// amoptions: parses reloptions into a RabitqOptions varlena (Postgres raises on out-of-range values,
// naming the valid range).
bytea* rabitq_options(Datum reloptions, bool validate) {
    static const relopt_parse_elt table[] = {
        {"lists", RELOPT_TYPE_INT, offsetof(RabitqOptions, lists)},
        {"seed", RELOPT_TYPE_INT, offsetof(RabitqOptions, seed)},
        {"rotation", RELOPT_TYPE_STRING, offsetof(RabitqOptions, rotation_offset)},
        {"rerank", RELOPT_TYPE_STRING, offsetof(RabitqOptions, rerank_offset)},
    };
    return pg::guard_entry([&] {
        return pg::pg_call([&] {
            return static_cast<bytea*>(build_reloptions(reloptions, validate, rabitq_relopt_kind,
                                                        sizeof(RabitqOptions), table, lengthof(table)));
        });
    });
}

IndexOptions index_options(Relation index) {
    auto* options = reinterpret_cast<const RabitqOptions*>(index->rd_options);
    IndexOptions result;
    result.lists = options != nullptr ? options->lists : 0;
    result.seed = static_cast<uint64>(options != nullptr ? options->seed : kDefaultSeed);
    result.rotation = strcmp(option_string(options, options ? options->rotation_offset : 0, "hadamard"), "haar") == 0
                          ? core::RotationKind::Haar
                          : core::RotationKind::Hadamard;
    result.rerank = strcmp(option_string(options, options ? options->rerank_offset : 0, "heap"), "index") == 0
                        ? RerankSource::Index
                        : RerankSource::Heap;
    return result;
}

}  // namespace rulake::am
