// The bundle sidecar `table.rulake.json` (format_version 2 of the reference ruLake format): parsing
// with every size cap applied first, witness verification, byte-exact serialization and crash-safe
// writing. Field order, types and caps are those of ../shared/reference/README.md:
//
//   format_version  number 2                     rvf_witness   64 lowercase hex characters
//   data_ref        string (<= 4 KiB)            pii_policy    string (<= 4 KiB) or null
//   dim             number, u64                  lineage_id    string (<= 4 KiB) or null
//   rotation_seed   number, full u64             memory_class  string (<= 4 KiB), omitted when absent
//   rerank_factor   number, u64
//   generation      number (u64) -> Generation::number, string -> Generation::opaque
//
// rulake adds three optional fields after them, which bind a saved cache's payload to the sidecar
// (the reference ignores them as unknown fields; they are not part of the witness):
//   payload_file      string: the .rbpx file of the saved cache in the same directory (a file name)
//   payload_bytes     number (u64): its size
//   payload_shake256  string: SHAKE-256 of the whole file, 64 lowercase hex characters
// They come all three or not at all.
//
// Unknown fields are ignored; duplicate fields are rejected. Integers never pass through a double.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "rulake/core/directory_handle.hpp"
#include "rulake/core/witness.hpp"

namespace rulake::core {

inline constexpr uint64_t kBundleFormatVersion = 2;
inline constexpr size_t kMaxBundleFileBytes = 64 * 1024;
inline constexpr size_t kMaxBundleTextFieldBytes = 4 * 1024;  // data_ref, pii_policy, lineage_id, memory_class
inline constexpr size_t kMaxBundleWitnessChars = 128;         // rvf_witness, before its format is checked
inline constexpr std::string_view kBundleFileName = "table.rulake.json";

// The payload a sidecar vouches for (the payload_* fields).
struct BundlePayload {
    std::string file;      // a valid file name, in the sidecar's directory
    uint64_t bytes = 0;    // its size
    std::string shake256;  // SHAKE-256 of the whole file, 64 lowercase hex characters

    bool operator==(const BundlePayload& o) const { return file == o.file && bytes == o.bytes && shake256 == o.shake256; }
};

struct Bundle {
    WitnessFields fields;
    std::string rvf_witness;  // compute_witness(fields) in every Bundle this API returns
    std::optional<std::string> pii_policy;
    std::optional<std::string> lineage_id;
    std::optional<std::string> memory_class;
    std::optional<BundlePayload> payload;  // rulake's saved caches only

    bool operator==(const Bundle& o) const {
        return fields == o.fields && rvf_witness == o.rvf_witness && pii_policy == o.pii_policy &&
               lineage_id == o.lineage_id && memory_class == o.memory_class && payload == o.payload;
    }
};

// A bundle for fields with its witness computed. Throws Limit if a text field exceeds its cap and
// InvalidArgument if one is not valid UTF-8.
Bundle make_bundle(WitnessFields fields, std::optional<std::string> pii_policy = std::nullopt,
                   std::optional<std::string> lineage_id = std::nullopt,
                   std::optional<std::string> memory_class = std::nullopt);

// Parses and verifies a sidecar. Errors (core::Error): Limit for a cap exceeded (checked before any
// other field work), InvalidText for malformed JSON, missing fields or wrong types (also for payload
// fields that are incomplete, name an invalid file name or hold a malformed digest), OutOfRange for a
// negative or too large integer, NotSupported for another format_version, Corrupted for a witness that
// does not match the fields ("bundle witness mismatch: expected <recomputed>, found <stored>").
Bundle parse_bundle_json(std::string_view text);

// The sidecar text: pretty-printed with a 2-space indent, fields in the reference order, ending with a
// newline. Throws like make_bundle() for fields that a reader would reject, and Limit if the result
// exceeds kMaxBundleFileBytes.
std::string serialize_bundle_json(const Bundle& bundle);

// Reads a sidecar file: the file size is checked against kMaxBundleFileBytes before reading. Errors as
// parse_bundle_json() (with the path in the detail) plus Io; a missing file is an Io error, or nullopt
// from the _if_exists variant.
Bundle read_bundle_file(const std::string& path);
std::optional<Bundle> read_bundle_file_if_exists(const std::string& path);
// The sidecar `name` (by default kBundleFileName) of directory dir, opened without following a
// symbolic link (a symbolic link there is an Io error); nullopt if there is none.
std::optional<Bundle> read_bundle_in(const DirectoryHandle& dir, std::string_view name = kBundleFileName);

// Writes bundle to path (or as kBundleFileName in dir) crash-safely (temporary file in the same
// directory, fsync, rename, fsync of the directory). Verifies first that bundle.rvf_witness matches
// its fields (Internal otherwise).
void write_bundle_file(const std::string& path, const Bundle& bundle);
void write_bundle_in(const DirectoryHandle& dir, const Bundle& bundle);

// A generation given as a JSON text (a number or a string), under the sidecar's rules: a non-negative
// integer up to 2^64-1 is numeric, a string is opaque; anything else is an error (kinds as above).
Generation parse_generation_json(std::string_view json_text);

// True if bytes is well-formed UTF-8 (no overlong forms, surrogates or code points above U+10FFFF).
bool is_valid_utf8(std::string_view bytes);

}  // namespace rulake::core

#ifdef POSTGRES_H
#error "core headers are pure C++: include them before postgres.h"
#endif
