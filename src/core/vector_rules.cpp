// Validity rules of the vector type (see include/rulake/core/vector_rules.hpp).
#include "rulake/core/vector_rules.hpp"

#include <cmath>
#include <string>

#include "rulake/core/error.hpp"

namespace rulake::core {

void check_vector_dim(long dim) {
    if (dim < 1) throw Error(ErrorKind::Data, "vector must have at least 1 dimension");
    if (dim > kVectorMaxDim)
        throw Error(ErrorKind::Limit, "vector cannot have more than " + std::to_string(kVectorMaxDim) + " dimensions");
}

void check_expected_dim(int32_t typmod, long dim) {
    if (typmod != -1 && typmod != dim)
        throw Error(ErrorKind::Data,
                    "expected " + std::to_string(typmod) + " dimensions, not " + std::to_string(dim));
}

void check_same_dims(long a, long b) {
    if (a != b)
        throw Error(ErrorKind::Data,
                    "different vector dimensions " + std::to_string(a) + " and " + std::to_string(b));
}

void check_element(float value) {
    if (std::isnan(value)) throw Error(ErrorKind::Data, "NaN not allowed in vector");
    if (std::isinf(value)) throw Error(ErrorKind::Data, "infinite value not allowed in vector");
}

void check_elements(const float* values, size_t n) {
    for (size_t i = 0; i < n; ++i) check_element(values[i]);
}

void throw_overflow() { throw Error(ErrorKind::OutOfRange, "value out of range: overflow"); }
void throw_underflow() { throw Error(ErrorKind::OutOfRange, "value out of range: underflow"); }

}  // namespace rulake::core
