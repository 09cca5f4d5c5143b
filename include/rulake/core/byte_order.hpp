// Little-endian encoding of fixed-width integers and floats, independent of the host byte order.
// Every on-disk format of rulake (ruvec1, rbpx, witness messages) is little endian.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

namespace rulake::core {

inline uint32_t load_u32le(const unsigned char* p) {
    return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 |
           static_cast<uint32_t>(p[3]) << 24;
}

inline uint64_t load_u64le(const unsigned char* p) {
    return static_cast<uint64_t>(load_u32le(p)) | static_cast<uint64_t>(load_u32le(p + 4)) << 32;
}

inline float load_f32le(const unsigned char* p) {
    uint32_t bits = load_u32le(p);
    float value;
    std::memcpy(&value, &bits, sizeof value);
    return value;
}

inline void store_u32le(unsigned char* p, uint32_t v) {
    for (int i = 0; i < 4; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}

inline void store_u64le(unsigned char* p, uint64_t v) {
    for (int i = 0; i < 8; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}

inline void store_f32le(unsigned char* p, float v) {
    uint32_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    store_u32le(p, bits);
}

// Appends v to out as 8 little-endian bytes.
inline void append_u64le(std::string& out, uint64_t v) {
    unsigned char bytes[8];
    store_u64le(bytes, v);
    out.append(reinterpret_cast<const char*>(bytes), sizeof bytes);
}

}  // namespace rulake::core

#ifdef POSTGRES_H
#error "core headers are pure C++: include them before postgres.h"
#endif
