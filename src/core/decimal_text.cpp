// Decimal text to u64 (see include/rulake/core/decimal_text.hpp).
#include "rulake/core/decimal_text.hpp"

#include "rulake/core/error.hpp"

namespace rulake::core {

uint64_t parse_unsigned_decimal(std::string_view text, const std::string& subject) {
    const std::string range = subject + " must be between 0 and 18446744073709551615";
    if (text == "NaN") throw Error(ErrorKind::InvalidText, subject + " must be an integer, not NaN");
    if (text == "Infinity" || text == "-Infinity" || text == "+Infinity") throw Error(ErrorKind::OutOfRange, range);

    size_t i = 0;
    bool negative = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) negative = text[i++] == '-';
    auto scan_digits = [&] {
        const size_t begin = i;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
        return text.substr(begin, i - begin);
    };
    const std::string_view integer_digits = scan_digits();
    std::string_view fraction_digits;
    if (i < text.size() && text[i] == '.') {
        ++i;
        fraction_digits = scan_digits();
    }
    if (i != text.size() || (integer_digits.empty() && fraction_digits.empty())) {
        throw Error(ErrorKind::InvalidText, subject + " is not a decimal number: \"" + std::string(text) + "\"");
    }
    if (fraction_digits.find_first_not_of('0') != std::string_view::npos) {
        throw Error(ErrorKind::InvalidText, subject + " must be an integer");
    }

    uint64_t value = 0;
    for (char c : integer_digits) {
        const uint64_t digit = static_cast<uint64_t>(c - '0');
        if (value > (UINT64_MAX - digit) / 10) throw Error(ErrorKind::OutOfRange, range);
        value = value * 10 + digit;
    }
    if (negative && value != 0) throw Error(ErrorKind::OutOfRange, range);
    return value;
}

}  // namespace rulake::core
