// The .rbpx seed-replay index file: the reference version 1 sample, version 2 round trips, hostile input.
#include "rulake/core/rbpx_file.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <string>

#include "lake_test_support.hpp"
#include "rulake/core/error.hpp"
#include "rulake/core/ruvec1_file.hpp"

namespace rc = rulake::core;
namespace rt = rulake::test;
namespace fs = std::filesystem;

namespace {

struct Failure {
    rc::ErrorKind kind;
    std::string message, detail;
};
Failure failure_of(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const rc::Error& e) {
        return {e.kind(), e.what(), e.detail()};
    }
    ADD_FAILURE() << "no core::Error thrown";
    return {rc::ErrorKind::Internal, "", ""};
}

#define EXPECT_KIND(failure, expected) \
    EXPECT_EQ(static_cast<int>((failure).kind), static_cast<int>(rc::ErrorKind::expected)) << (failure).message

std::string v1_image(uint32_t dim, uint64_t seed, uint32_t rerank, uint32_t header_n, uint32_t written) {
    std::string b("rbpx0001", 8);
    rt::append_le<uint32_t>(b, 1);
    rt::append_le<uint32_t>(b, dim);
    rt::append_le<uint64_t>(b, seed);
    rt::append_le<uint32_t>(b, rerank);
    rt::append_le<uint32_t>(b, header_n);
    for (uint32_t i = 0; i < written; ++i) {
        rt::append_le<uint32_t>(b, 50 + i);
        for (uint32_t c = 0; c < dim; ++c) rt::append_le<float>(b, static_cast<float>(i * 10 + c));
    }
    return b;
}

std::string v2_image(uint32_t dim, uint64_t seed, uint32_t rerank, uint8_t kind, uint64_t header_n, uint64_t written,
                     const std::string& reserved = std::string(3, '\0'), uint32_t version = 2) {
    std::string b("rbpx0001", 8);
    rt::append_le<uint32_t>(b, version);
    rt::append_le<uint32_t>(b, dim);
    rt::append_le<uint64_t>(b, seed);
    rt::append_le<uint32_t>(b, rerank);
    b.push_back(static_cast<char>(kind));
    b += reserved;
    rt::append_le<uint64_t>(b, header_n);
    for (uint64_t i = 0; i < written; ++i) {
        rt::append_le<uint64_t>(b, (uint64_t{1} << 40) + i);
        for (uint32_t c = 0; c < dim; ++c) rt::append_le<float>(b, static_cast<float>(i) - static_cast<float>(c));
    }
    return b;
}

Failure read_failure(const rt::ScratchDir& dir, const std::string& image) {
    const std::string path = (dir / "hostile.rbpx").string();
    rt::write_whole_file(path, image);
    return failure_of([&] { rc::read_rbpx_file(path); });
}

}  // namespace

TEST(Rbpx, ReferenceVersion1MatchesTheRuvec1Sample) {
    rc::RbpxHeader header;
    rc::VectorBatch rbpx = rc::read_rbpx_file(rt::reference_file("sample.rbpx").string(), &header);
    EXPECT_EQ(header.version, 1u);
    EXPECT_EQ(header.dim, 8u);
    EXPECT_EQ(header.rotation_seed, 42u);
    EXPECT_EQ(header.rerank_factor, 20u);
    EXPECT_FALSE(header.rotation_kind.has_value());
    EXPECT_EQ(header.count, 100u);

    rc::VectorBatch ruvec1 = rc::read_ruvec1_file(rt::reference_file("sample.ruvec1").string());
    ASSERT_EQ(rbpx.size(), 100u);
    EXPECT_EQ(rbpx.ids, ruvec1.ids);
    EXPECT_EQ(rbpx.values, ruvec1.values);
    EXPECT_EQ(rbpx.ids[99], 13u * 99 + 7);
}

TEST(Rbpx, Version1Synthetic) {
    rt::ScratchDir dir;
    const std::string path = (dir / "v1.rbpx").string();
    rt::write_whole_file(path, v1_image(3, 7, 1024, 4, 4));
    rc::RbpxReader reader(path);
    EXPECT_EQ(reader.header().rerank_factor, 1024u);
    rc::VectorBatch batch;
    ASSERT_EQ(reader.next(batch, 3), 3u);
    EXPECT_EQ(batch.ids[2], 52u);
    EXPECT_EQ(batch.vector(2)[1], 21.0f);
    ASSERT_EQ(reader.next(batch, 3), 1u);
    EXPECT_EQ(batch.ids[0], 53u);
    EXPECT_EQ(reader.next(batch, 3), 0u);
}

TEST(Rbpx, Version2RoundTrip) {
    rt::ScratchDir dir;
    const std::string path = (dir / "index.rbpx").string();
    const uint32_t dim = 5;
    std::vector<float> vectors;
    {
        rc::RbpxWriter writer(path, dim, UINT64_MAX, 40, rc::RotationKind::Haar);
        for (uint64_t i = 0; i < 300; ++i) {
            float v[dim];
            for (uint32_t c = 0; c < dim; ++c) v[c] = static_cast<float>(i) * 0.5f - static_cast<float>(c);
            vectors.insert(vectors.end(), v, v + dim);
            writer.append(UINT64_MAX - i, v);
        }
        EXPECT_FALSE(fs::exists(path));
        writer.commit();
    }
    rc::RbpxHeader header;
    rc::VectorBatch all = rc::read_rbpx_file(path, &header);
    EXPECT_EQ(header.version, 2u);
    EXPECT_EQ(header.dim, dim);
    EXPECT_EQ(header.rotation_seed, UINT64_MAX);
    EXPECT_EQ(header.rerank_factor, 40u);
    ASSERT_TRUE(header.rotation_kind.has_value());
    EXPECT_EQ(*header.rotation_kind, rc::RotationKind::Haar);
    EXPECT_EQ(header.count, 300u);
    ASSERT_EQ(all.size(), 300u);
    EXPECT_EQ(all.ids[0], UINT64_MAX);
    EXPECT_EQ(all.ids[299], UINT64_MAX - 299);
    EXPECT_EQ(all.values, vectors);

    // The bytes follow the documented layout.
    const std::string raw = rt::read_whole_file(path);
    ASSERT_EQ(raw.size(), 40u + 300u * (8 + 4 * dim));
    EXPECT_EQ(raw.substr(0, 8), "rbpx0001");
    uint32_t u32;
    uint64_t u64;
    std::memcpy(&u32, raw.data() + 8, 4);
    EXPECT_EQ(u32, 2u);
    std::memcpy(&u32, raw.data() + 12, 4);
    EXPECT_EQ(u32, dim);
    std::memcpy(&u64, raw.data() + 16, 8);
    EXPECT_EQ(u64, UINT64_MAX);
    std::memcpy(&u32, raw.data() + 24, 4);
    EXPECT_EQ(u32, 40u);
    EXPECT_EQ(raw[28], 2);
    EXPECT_EQ(raw.substr(29, 3), std::string(3, '\0'));
    std::memcpy(&u64, raw.data() + 32, 8);
    EXPECT_EQ(u64, 300u);
    std::memcpy(&u64, raw.data() + 40, 8);
    EXPECT_EQ(u64, UINT64_MAX);

    // Hadamard is recorded as 1; an empty index is valid.
    const std::string empty = (dir / "empty.rbpx").string();
    rc::RbpxWriter writer(empty, 3, 1, 0, rc::RotationKind::Hadamard);
    writer.commit();
    rc::VectorBatch none = rc::read_rbpx_file(empty, &header);
    EXPECT_EQ(none.size(), 0u);
    EXPECT_EQ(*header.rotation_kind, rc::RotationKind::Hadamard);
}

TEST(Rbpx, UnsupportedVersions) {
    rt::ScratchDir dir;
    for (uint32_t version : {0u, 3u, 0x01000000u}) {
        Failure f = read_failure(dir, v2_image(2, 1, 1, 1, 0, 0, std::string(3, '\0'), version));
        EXPECT_KIND(f, NotSupported);
        EXPECT_EQ(f.message, "unsupported rbpx version " + std::to_string(version));
    }
}

TEST(Rbpx, HostileHeaders) {
    rt::ScratchDir dir;
    Failure f = read_failure(dir, "");
    EXPECT_KIND(f, Corrupted);
    EXPECT_NE(f.message.find("is truncated"), std::string::npos) << f.message;
    f = read_failure(dir, v1_image(2, 1, 1, 0, 0).substr(0, 20));  // inside the v1 header
    EXPECT_KIND(f, Corrupted);
    EXPECT_NE(f.message.find("is truncated"), std::string::npos) << f.message;
    f = read_failure(dir, v2_image(2, 1, 1, 1, 0, 0).substr(0, 35));  // inside the v2 header
    EXPECT_KIND(f, Corrupted);
    EXPECT_NE(f.detail.find("40-byte header of version 2"), std::string::npos) << f.detail;

    std::string bad_magic = v1_image(2, 1, 1, 1, 1);
    bad_magic[7] = '2';
    f = read_failure(dir, bad_magic);
    EXPECT_KIND(f, Corrupted);
    EXPECT_NE(f.message.find("bad magic number"), std::string::npos) << f.message;

    f = read_failure(dir, v1_image(0, 1, 1, 0, 0));
    EXPECT_KIND(f, Limit);
    EXPECT_NE(f.message.find("dimension 0, outside 1..8192"), std::string::npos) << f.message;
    f = read_failure(dir, v2_image(9000, 1, 1, 1, 0, 0));
    EXPECT_KIND(f, Limit);
    f = read_failure(dir, v1_image(2, 1, 1025, 0, 0));
    EXPECT_KIND(f, Limit);
    EXPECT_NE(f.message.find("rerank_factor 1025, above the limit of 1024"), std::string::npos) << f.message;
    f = read_failure(dir, v2_image(2, 1, 5000, 1, 0, 0));
    EXPECT_KIND(f, Limit);
    f = read_failure(dir, v1_image(2, 1, 1, 100000001, 0));
    EXPECT_KIND(f, Limit);
    EXPECT_NE(f.message.find("claims 100000001 vectors"), std::string::npos) << f.message;
    f = read_failure(dir, v2_image(2, 1, 1, 1, uint64_t{1} << 40, 0));
    EXPECT_KIND(f, Limit);
    // At the count limit without the data: the size check fails before any allocation.
    f = read_failure(dir, v2_image(8192, 1, 1, 1, rc::kMaxFileVectorCount, 0));
    EXPECT_KIND(f, Corrupted);

    for (uint8_t kind : {0, 3, 255}) {
        f = read_failure(dir, v2_image(2, 1, 1, kind, 0, 0));
        EXPECT_KIND(f, Corrupted);
        EXPECT_NE(f.message.find("unknown rotation kind " + std::to_string(kind)), std::string::npos) << f.message;
    }
    f = read_failure(dir, v2_image(2, 1, 1, 1, 0, 0, std::string("\0\0\1", 3)));
    EXPECT_KIND(f, Corrupted);
    EXPECT_NE(f.message.find("non-zero reserved header bytes"), std::string::npos) << f.message;
}

TEST(Rbpx, HostileSizesAndValues) {
    rt::ScratchDir dir;
    Failure f = read_failure(dir, v1_image(3, 1, 1, 5, 4));
    EXPECT_KIND(f, Corrupted);
    EXPECT_NE(f.message.find("is truncated"), std::string::npos) << f.message;
    f = read_failure(dir, v1_image(3, 1, 1, 5, 5) + std::string(1, '\0'));
    EXPECT_KIND(f, Corrupted);
    EXPECT_NE(f.message.find("has trailing bytes"), std::string::npos) << f.message;
    f = read_failure(dir, v2_image(3, 1, 1, 2, 5, 5).substr(0, 40 + 5 * 20 - 3));
    EXPECT_KIND(f, Corrupted);
    // A v1 file whose entries are read with the v2 stride does not fit: sizes are exact per version.
    std::string v1_as_v2 = v1_image(3, 1, 1, 2, 2);
    v1_as_v2[8] = 2;
    f = read_failure(dir, v1_as_v2);
    EXPECT_KIND(f, Corrupted);

    std::string nan_image = v1_image(3, 1, 1, 4, 4);
    const float nan = std::numeric_limits<float>::quiet_NaN();
    std::memcpy(&nan_image[32 + 2 * 16 + 4 + 4], &nan, 4);  // entry 2 (id 52), component 1
    f = read_failure(dir, nan_image);
    EXPECT_KIND(f, Corrupted);
    EXPECT_NE(f.message.find("record 2 (id 52) has a NaN value in component 1"), std::string::npos) << f.message;
}

TEST(Rbpx, WriterRejectsBadInput) {
    rt::ScratchDir dir;
    const std::string path = (dir / "w.rbpx").string();
    EXPECT_KIND(failure_of([&] { rc::RbpxWriter(path, 0, 1, 1, rc::RotationKind::Haar); }), InvalidArgument);
    EXPECT_KIND(failure_of([&] { rc::RbpxWriter(path, 8193, 1, 1, rc::RotationKind::Haar); }), InvalidArgument);
    EXPECT_KIND(failure_of([&] { rc::RbpxWriter(path, 4, 1, 1025, rc::RotationKind::Haar); }), InvalidArgument);
    rc::RbpxWriter writer(path, 2, 1, 1, rc::RotationKind::Haar);
    const float inf[2] = {0, std::numeric_limits<float>::infinity()};
    EXPECT_KIND(failure_of([&] { writer.append(9, inf); }), InvalidArgument);
}
