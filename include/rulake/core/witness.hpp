// The bundle witness: SHAKE-256 over the domain-separated, length-prefixed fields that identify a
// cached vector set, compatible with the reference ruLake format (format_version 2):
//
//   "rulake-bundle-witness-v1|"
//   u64le(len(data_ref)) || data_ref || "|"
//   u64le(dim) || u64le(rotation_seed) || u64le(rerank_factor) || "|"
//   u64le(len(G)) || G        where G = 0x00 || u64le(n)  for a numeric generation n
//                                     | 0x01 || bytes     for an opaque (string) generation
//
// The witness is the first 32 bytes of the output, as 64 lowercase hex characters.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace rulake::core {

// The version of the data a bundle was built from: a number (e.g. a file's modification time in
// seconds, a table's change counter) or an opaque byte string (e.g. a snapshot id). A numeric 7 and the
// string "7" are different generations.
class Generation {
  public:
    Generation() : value_(uint64_t{0}) {}
    static Generation number(uint64_t n) { return Generation(Value(n)); }
    static Generation opaque(std::string bytes) { return Generation(Value(std::move(bytes))); }

    bool is_number() const { return std::holds_alternative<uint64_t>(value_); }
    // Preconditions: is_number() for number(), !is_number() for opaque().
    uint64_t number_value() const { return std::get<uint64_t>(value_); }
    const std::string& opaque_value() const { return std::get<std::string>(value_); }

    // G of the witness message: the kind byte followed by the payload.
    std::string encoded() const;

    bool operator==(const Generation& other) const { return value_ == other.value_; }
    bool operator!=(const Generation& other) const { return !(*this == other); }

  private:
    using Value = std::variant<uint64_t, std::string>;
    explicit Generation(Value value) : value_(std::move(value)) {}
    Value value_;
};

// The fields a witness covers.
struct WitnessFields {
    std::string data_ref;  // UTF-8
    uint64_t dim = 0;
    uint64_t rotation_seed = 0;
    uint64_t rerank_factor = 0;
    Generation generation;

    bool operator==(const WitnessFields& o) const {
        return data_ref == o.data_ref && dim == o.dim && rotation_seed == o.rotation_seed &&
               rerank_factor == o.rerank_factor && generation == o.generation;
    }
};

inline constexpr size_t kWitnessBytes = 32;
inline constexpr size_t kWitnessHexChars = 2 * kWitnessBytes;

// The exact byte string that is hashed (see the file comment).
std::string witness_message(const WitnessFields& fields);
// The witness of fields: 64 lowercase hex characters.
std::string compute_witness(const WitnessFields& fields);
// True if text is exactly 64 lowercase hex characters.
bool is_witness_text(std::string_view text);

// Lowercase hex of bytes.
std::string to_hex(std::string_view bytes);

}  // namespace rulake::core

#ifdef POSTGRES_H
#error "core headers are pure C++: include them before postgres.h"
#endif
