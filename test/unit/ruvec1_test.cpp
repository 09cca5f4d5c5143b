// The ruvec1 vector file: the reference sample, streaming, the writer, and hostile inputs.
#include "rulake/core/ruvec1_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "lake_test_support.hpp"
#include "rulake/core/error.hpp"

namespace rc = rulake::core;
namespace rt = rulake::test;
namespace fs = std::filesystem;

namespace {

// A ruvec1 image with the given header values and count_written records of dim components, record i
// having id 1000 + i and components i + c / 8.
std::string ruvec1_image(uint64_t header_count, uint32_t dim, uint64_t count_written, uint32_t reserved = 0) {
    std::string b("ruvec1\0\0", 8);
    rt::append_le<uint64_t>(b, header_count);
    rt::append_le<uint32_t>(b, dim);
    rt::append_le<uint32_t>(b, reserved);
    for (uint64_t i = 0; i < count_written; ++i) {
        rt::append_le<uint64_t>(b, 1000 + i);
        for (uint32_t c = 0; c < dim; ++c) rt::append_le<float>(b, static_cast<float>(i) + static_cast<float>(c) / 8);
    }
    return b;
}

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

// Writes image to a file and returns how opening + reading it all fails.
Failure read_failure(const rt::ScratchDir& dir, const std::string& image) {
    const std::string path = (dir / "hostile.ruvec1").string();
    rt::write_whole_file(path, image);
    return failure_of([&] { rc::read_ruvec1_file(path); });
}

#define EXPECT_KIND(failure, expected) \
    EXPECT_EQ(static_cast<int>((failure).kind), static_cast<int>(rc::ErrorKind::expected)) << (failure).message

}  // namespace

TEST(Ruvec1, ReadsTheReferenceSample) {
    const fs::path path = rt::reference_file("sample.ruvec1");
    rc::Ruvec1Reader reader(path.string());
    EXPECT_EQ(reader.count(), 100u);
    EXPECT_EQ(reader.dim(), 8u);
    rc::VectorBatch all;
    ASSERT_EQ(reader.next(all, 1000), 100u);
    EXPECT_EQ(reader.next(all, 1000), 0u);
    EXPECT_EQ(all.size(), 0u);

    // Compare with an independent decoding of the raw bytes.
    const std::string raw = rt::read_whole_file(path);
    rc::VectorBatch again = rc::read_ruvec1_file(path.string());
    ASSERT_EQ(again.size(), 100u);
    ASSERT_EQ(again.dim, 8u);
    for (size_t i = 0; i < 100; ++i) {
        EXPECT_EQ(again.ids[i], 13 * i + 7);
        for (size_t c = 0; c < 8; ++c) {
            float expected;
            std::memcpy(&expected, raw.data() + 24 + i * 40 + 8 + 4 * c, 4);
            EXPECT_EQ(again.vector(i)[c], expected);
        }
    }
}

TEST(Ruvec1, StreamsInChunks) {
    rt::ScratchDir dir;
    const std::string path = (dir / "v.ruvec1").string();
    rt::write_whole_file(path, ruvec1_image(1000, 5, 1000));
    rc::Ruvec1Reader reader(path);
    std::vector<uint64_t> ids;
    std::vector<float> values;
    rc::VectorBatch batch;
    size_t n;
    while ((n = reader.next(batch, 7)) > 0) {
        EXPECT_LE(n, 7u);
        EXPECT_EQ(batch.size(), n);
        EXPECT_EQ(batch.values.size(), n * 5);
        ids.insert(ids.end(), batch.ids.begin(), batch.ids.end());
        values.insert(values.end(), batch.values.begin(), batch.values.end());
    }
    EXPECT_EQ(reader.records_read(), 1000u);
    ASSERT_EQ(ids.size(), 1000u);
    for (size_t i = 0; i < 1000; ++i) {
        EXPECT_EQ(ids[i], 1000 + i);
        EXPECT_EQ(values[i * 5 + 3], static_cast<float>(i) + 3.0f / 8);
    }
    EXPECT_THROW(reader.next(batch, 0), rc::Error);
}

TEST(Ruvec1, ChunksLargerThanTheReadBuffer) {
    // 200 records of 8192 dimensions are ~6.6 MB, more than one read buffer.
    rt::ScratchDir dir;
    const std::string path = (dir / "wide.ruvec1").string();
    rt::write_whole_file(path, ruvec1_image(200, 8192, 200));
    rc::Ruvec1Reader reader(path);
    rc::VectorBatch batch;
    ASSERT_EQ(reader.next(batch, 150), 150u);
    EXPECT_EQ(batch.ids[149], 1149u);
    EXPECT_EQ(batch.vector(149)[8191], 149.0f + 8191.0f / 8);
    ASSERT_EQ(reader.next(batch, 150), 50u);
    EXPECT_EQ(batch.ids[49], 1199u);
    EXPECT_EQ(batch.vector(0)[1], 150.0f + 1.0f / 8);
}

TEST(Ruvec1, EmptyFileAndReservedField) {
    rt::ScratchDir dir;
    const std::string path = (dir / "e.ruvec1").string();
    rt::write_whole_file(path, ruvec1_image(0, 3, 0));
    EXPECT_EQ(rc::read_ruvec1_file(path).size(), 0u);
    // The reserved field is ignored on read.
    rt::write_whole_file(path, ruvec1_image(2, 3, 2, 0xdeadbeef));
    EXPECT_EQ(rc::read_ruvec1_file(path).size(), 2u);
}

TEST(Ruvec1, GenerationIsTheModificationTime) {
    rt::ScratchDir dir;
    const std::string path = (dir / "g.ruvec1").string();
    rt::write_whole_file(path, ruvec1_image(1, 2, 1));
    struct timespec times[2] = {{1700000000, 999999999}, {1700000000, 999999999}};
    ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
    EXPECT_EQ(rc::Ruvec1Reader(path).generation(), 1700000000u);
    EXPECT_EQ(rc::ruvec1_data_ref("/srv/v.ruvec1"), "file:///srv/v.ruvec1");
}

TEST(Ruvec1, WriterReproducesTheSample) {
    const fs::path sample = rt::reference_file("sample.ruvec1");
    rc::VectorBatch all = rc::read_ruvec1_file(sample.string());
    rt::ScratchDir dir;
    const std::string path = (dir / "copy.ruvec1").string();
    rc::Ruvec1Writer writer(path, all.dim);
    for (size_t i = 0; i < all.size(); ++i) writer.append(all.ids[i], all.vector(i));
    EXPECT_FALSE(fs::exists(path));  // nothing visible before commit
    writer.commit();
    EXPECT_EQ(rt::read_whole_file(path), rt::read_whole_file(sample));
}

TEST(Ruvec1, WriterRejectsBadInput) {
    rt::ScratchDir dir;
    const std::string path = (dir / "w.ruvec1").string();
    EXPECT_KIND(failure_of([&] { rc::Ruvec1Writer(path, 0); }), InvalidArgument);
    EXPECT_KIND(failure_of([&] { rc::Ruvec1Writer(path, 8193); }), InvalidArgument);
    {
        rc::Ruvec1Writer writer(path, 2);
        const float ok[2] = {1, 2};
        const float bad[2] = {1, std::numeric_limits<float>::quiet_NaN()};
        writer.append(1, ok);
        Failure f = failure_of([&] { writer.append(2, bad); });
        EXPECT_KIND(f, InvalidArgument);
        EXPECT_EQ(f.message, "vector 2 has a non-finite value in component 1");
        // Not committed: nothing appears.
    }
    EXPECT_FALSE(fs::exists(path));
    size_t entries = 0;
    for (auto it = fs::directory_iterator(dir.path()); it != fs::directory_iterator(); ++it) ++entries;
    EXPECT_EQ(entries, 0u);
}

TEST(Ruvec1, HostileInputs) {
    rt::ScratchDir dir;
    Failure f = read_failure(dir, ruvec1_image(3, 4, 3).substr(0, 24 + 3 * 24 - 1));
    EXPECT_KIND(f, Corrupted);
    EXPECT_NE(f.message.find("is truncated"), std::string::npos) << f.message;
    EXPECT_NE(f.detail.find("promises 3 vectors of dimension 4 (96 bytes), the file has 95 bytes"), std::string::npos) << f.detail;

    f = read_failure(dir, ruvec1_image(3, 4, 3) + "x");
    EXPECT_KIND(f, Corrupted);
    EXPECT_NE(f.message.find("has trailing bytes"), std::string::npos) << f.message;

    f = read_failure(dir, ruvec1_image(3, 4, 3).substr(0, 10));
    EXPECT_KIND(f, Corrupted);
    EXPECT_NE(f.message.find("is truncated"), std::string::npos) << f.message;
    f = read_failure(dir, "");
    EXPECT_KIND(f, Corrupted);

    std::string bad_magic = ruvec1_image(1, 2, 1);
    bad_magic[6] = '1';
    f = read_failure(dir, bad_magic);
    EXPECT_KIND(f, Corrupted);
    EXPECT_NE(f.message.find("bad magic number"), std::string::npos) << f.message;
    f = read_failure(dir, std::string("RUVEC1\0\0", 8) + ruvec1_image(1, 2, 1).substr(8));
    EXPECT_KIND(f, Corrupted);

    f = read_failure(dir, ruvec1_image(uint64_t{1} << 62, 8, 0));
    EXPECT_KIND(f, Limit);
    EXPECT_NE(f.message.find("claims 4611686018427387904 vectors, more than the limit of 100000000"), std::string::npos) << f.message;
    f = read_failure(dir, ruvec1_image(rc::kMaxFileVectorCount + 1, 8, 0));
    EXPECT_KIND(f, Limit);
    // At the count limit but without the data: caught by the size check, before any allocation.
    f = read_failure(dir, ruvec1_image(rc::kMaxFileVectorCount, 8192, 0));
    EXPECT_KIND(f, Corrupted);
    EXPECT_NE(f.message.find("is truncated"), std::string::npos) << f.message;

    f = read_failure(dir, ruvec1_image(0, 0, 0));
    EXPECT_KIND(f, Limit);
    EXPECT_NE(f.message.find("has dimension 0, outside 1..8192"), std::string::npos) << f.message;
    f = read_failure(dir, ruvec1_image(1, 9000, 1));
    EXPECT_KIND(f, Limit);
    EXPECT_NE(f.message.find("has dimension 9000"), std::string::npos) << f.message;
    // The largest dimension is fine.
    const std::string path = (dir / "max.ruvec1").string();
    rt::write_whole_file(path, ruvec1_image(1, 8192, 1));
    EXPECT_EQ(rc::read_ruvec1_file(path).values.size(), 8192u);

    // A directory is not a ruvec1 file; a missing file is an I/O error.
    EXPECT_KIND(failure_of([&] { rc::Ruvec1Reader reader(dir.path().string()); }), InvalidArgument);
    f = failure_of([&] { rc::Ruvec1Reader reader((dir / "missing.ruvec1").string()); });
    EXPECT_KIND(f, Io);
    EXPECT_NE(f.message.find("could not open ruvec1 file"), std::string::npos) << f.message;
}

TEST(Ruvec1, NonFiniteValuesNameTheRecord) {
    rt::ScratchDir dir;
    for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                      -std::numeric_limits<float>::infinity()}) {
        std::string image = ruvec1_image(5, 4, 5);
        // Record 3 (id 1003), component 2.
        std::memcpy(&image[24 + 3 * (8 + 16) + 8 + 2 * 4], &bad, 4);
        Failure f = read_failure(dir, image);
        EXPECT_KIND(f, Corrupted);
        const std::string kind = std::isnan(bad) ? "NaN" : "infinite";
        EXPECT_NE(f.message.find("record 3 (id 1003) has a " + kind + " value in component 2"), std::string::npos)
            << f.message;
    }
}

TEST(Ruvec1, FileShrinkingWhileStreaming) {
    rt::ScratchDir dir;
    const std::string path = (dir / "s.ruvec1").string();
    rt::write_whole_file(path, ruvec1_image(100, 4, 100));
    rc::Ruvec1Reader reader(path);
    rc::VectorBatch batch;
    ASSERT_EQ(reader.next(batch, 10), 10u);
    ASSERT_EQ(truncate(path.c_str(), 24 + 50 * 24), 0);
    Failure f = failure_of([&] { reader.next(batch, 100); });
    EXPECT_KIND(f, Corrupted);
    EXPECT_NE(f.message.find("is truncated"), std::string::npos) << f.message;
}
