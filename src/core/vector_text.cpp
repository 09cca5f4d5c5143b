// Parsing of the vector text form (see include/rulake/core/vector_text.hpp).
#include "rulake/core/vector_text.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <string>

#include "rulake/core/error.hpp"
#include "rulake/core/vector_rules.hpp"

namespace rulake::core {
namespace {

// The whitespace Postgres' array input accepts (independent of the locale).
bool is_vector_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

const char* skip_space(const char* p) {
    while (is_vector_space(*p)) ++p;
    return p;
}

[[noreturn]] void throw_syntax(const char* text, const char* detail = "") {
    throw Error(ErrorKind::InvalidText, std::string("invalid input syntax for type vector: \"") + text + "\"", detail);
}

}  // namespace

size_t parse_vector_text(const char* text, float* out) {
    const char* p = skip_space(text);
    if (*p != '[') throw_syntax(text, "Vector contents must start with \"[\".");
    p = skip_space(p + 1);
    if (*p == ']') check_vector_dim(0);  // "[]": no dimensions

    size_t dim = 0;
    for (;;) {
        if (dim == static_cast<size_t>(kVectorMaxDim)) check_vector_dim(kVectorMaxDim + 1);
        p = skip_space(p);
        if (*p == '\0') throw_syntax(text);

        char* end = nullptr;
        errno = 0;
        float value = std::strtof(p, &end);
        if (end == p) throw_syntax(text);
        // Overflow is an error (as in float4 input); underflow quietly gives 0 or a subnormal.
        if (errno == ERANGE && std::isinf(value))
            throw Error(ErrorKind::OutOfRange,
                        "\"" + std::string(p, static_cast<size_t>(end - p)) + "\" is out of range for type vector");
        check_element(value);
        out[dim++] = value;

        p = skip_space(end);
        if (*p == ',') {
            ++p;
        } else if (*p == ']') {
            ++p;
            break;
        } else {
            throw_syntax(text);
        }
    }

    if (*skip_space(p) != '\0') throw_syntax(text, "Junk after closing right brace.");
    return dim;
}

}  // namespace rulake::core
