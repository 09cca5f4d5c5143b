// Helpers shared by the core unit tests: the shared datasets (fvecs) and synthetic data.
#pragma once

#include <cstdint>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "rulake/core/prng.hpp"

namespace rulake::test {

// A row-major matrix of float vectors.
struct Vectors {
    uint32_t dim = 0;
    size_t rows = 0;
    std::vector<float> data;
    const float* row(size_t i) const { return data.data() + i * dim; }
};

// Root of the shared datasets (env RULAKE_SHARED overrides /work/shared).
inline std::string shared_data_dir() {
    const char* env = std::getenv("RULAKE_SHARED");
    return std::string(env ? env : "/work/shared") + "/data";
}

// Reads at most max_rows rows of an .fvecs file (per row: int32 dim, dim float32). Empty on failure.
inline Vectors read_fvecs(const std::string& path, size_t max_rows) {
    Vectors out;
    FILE* file = std::fopen(path.c_str(), "rb");
    if (!file) return out;
    int32_t dim;
    while (out.rows < max_rows && std::fread(&dim, sizeof dim, 1, file) == 1) {
        if (dim <= 0 || (out.dim != 0 && static_cast<uint32_t>(dim) != out.dim)) break;
        out.dim = static_cast<uint32_t>(dim);
        const size_t offset = out.data.size();
        out.data.resize(offset + out.dim);
        if (std::fread(out.data.data() + offset, sizeof(float), out.dim, file) != out.dim) {
            out.data.resize(offset);
            break;
        }
        ++out.rows;
    }
    std::fclose(file);
    return out;
}

// rows x dim independent standard normals.
inline Vectors gaussian_vectors(size_t rows, uint32_t dim, uint64_t seed, double scale = 1.0) {
    Vectors out;
    out.dim = dim;
    out.rows = rows;
    out.data.resize(rows * dim);
    core::Prng prng(seed);
    for (float& x : out.data) x = static_cast<float>(prng.gaussian() * scale);
    return out;
}

inline double dot(const float* a, const float* b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; ++i) s += static_cast<double>(a[i]) * b[i];
    return s;
}

inline void normalise(float* v, size_t n) {
    const double norm = std::sqrt(dot(v, v, n));
    if (norm > 0)
        for (size_t i = 0; i < n; ++i) v[i] = static_cast<float>(v[i] / norm);
}

}  // namespace rulake::test
