// The bundle witness (see include/rulake/core/witness.hpp for the message layout).
#include "rulake/core/witness.hpp"

#include "rulake/core/byte_order.hpp"
#include "rulake/core/shake256.hpp"

namespace rulake::core {

namespace {
constexpr std::string_view kDomainTag = "rulake-bundle-witness-v1|";
constexpr char kNumericGeneration = 0x00;
constexpr char kOpaqueGeneration = 0x01;
}  // namespace

std::string Generation::encoded() const {
    std::string g;
    if (is_number()) {
        g.push_back(kNumericGeneration);
        append_u64le(g, number_value());
    } else {
        g.push_back(kOpaqueGeneration);
        g.append(opaque_value());
    }
    return g;
}

std::string witness_message(const WitnessFields& fields) {
    const std::string g = fields.generation.encoded();
    std::string message;
    message.reserve(kDomainTag.size() + 8 + fields.data_ref.size() + 1 + 3 * 8 + 1 + 8 + g.size());
    message.append(kDomainTag);
    append_u64le(message, fields.data_ref.size());
    message.append(fields.data_ref);
    message.push_back('|');
    append_u64le(message, fields.dim);
    append_u64le(message, fields.rotation_seed);
    append_u64le(message, fields.rerank_factor);
    message.push_back('|');
    append_u64le(message, g.size());
    message.append(g);
    return message;
}

std::string compute_witness(const WitnessFields& fields) {
    return to_hex(shake256(witness_message(fields), kWitnessBytes));
}

bool is_witness_text(std::string_view text) {
    if (text.size() != kWitnessHexChars) return false;
    for (char c : text) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

std::string to_hex(std::string_view bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string hex;
    hex.reserve(2 * bytes.size());
    for (unsigned char b : bytes) {
        hex.push_back(kDigits[b >> 4]);
        hex.push_back(kDigits[b & 0x0f]);
    }
    return hex;
}

}  // namespace rulake::core
