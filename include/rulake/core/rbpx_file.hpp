// The seed-replay index file `.rbpx`: the vectors of an index plus what is needed to rebuild it (the
// rotation seed and the rerank factor); no codes or matrices are stored. All little endian.
//
// Version 1 (the reference ruLake format; read only):
//   offset size  field
//   0      8     magic "rbpx0001"
//   8      4     version u32 = 1
//   12     4     dim u32 (1..8192)
//   16     8     rotation seed u64
//   24     4     rerank_factor u32 (<= 1024)
//   28     4     n u32 (<= 100,000,000)
//   32     n × (4 + 4·dim)   per entry: id u32, then dim × f32
//
// Version 2 (rulake; read and written). Adds 64-bit ids and the rotation kind, keeps the magic:
//   offset size  field
//   0      8     magic "rbpx0001"
//   8      4     version u32 = 2
//   12     4     dim u32 (1..8192)
//   16     8     rotation seed u64
//   24     4     rerank_factor u32 (<= 1024)
//   28     1     rotation kind u8 (1 = Hadamard, 2 = Haar; see RotationKind)
//   29     3     reserved, zero (readers reject other values, so later versions can use them)
//   32     8     n u64 (<= 100,000,000)
//   40     n × (8 + 4·dim)   per entry: id u64, then dim × f32
//
// Readers check the magic, the version, every header limit and that the file size is exactly the
// header plus n entries before allocating anything; vector components must be finite.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "rulake/core/atomic_file.hpp"
#include "rulake/core/directory_handle.hpp"
#include "rulake/core/rotation.hpp"
#include "rulake/core/vector_record_stream.hpp"

namespace rulake::core {

inline constexpr uint32_t kRbpxVersion1 = 1;
inline constexpr uint32_t kRbpxVersion2 = 2;
inline constexpr uint32_t kMaxRbpxRerankFactor = 1024;
inline constexpr size_t kRbpxV1HeaderBytes = 32;
inline constexpr size_t kRbpxV2HeaderBytes = 40;

struct RbpxHeader {
    uint32_t version = kRbpxVersion2;
    uint32_t dim = 0;
    uint64_t rotation_seed = 0;
    uint32_t rerank_factor = 0;
    std::optional<RotationKind> rotation_kind;  // not recorded by version 1
    uint64_t count = 0;

    size_t header_bytes() const { return version == kRbpxVersion1 ? kRbpxV1HeaderBytes : kRbpxV2HeaderBytes; }
    uint32_t id_bytes() const { return version == kRbpxVersion1 ? 4 : 8; }
};

// Decodes and validates a header. bytes holds the first `available` bytes of the file (at least
// kRbpxV2HeaderBytes of them if the file has that many). Throws Corrupted (bad magic, truncated,
// wrong size, non-zero reserved bytes, unknown rotation kind), Limit (dim, rerank_factor, count out of
// range) or NotSupported ("unsupported rbpx version N"), naming path.
RbpxHeader parse_rbpx_header(const unsigned char* bytes, size_t available, uint64_t file_size, const std::string& path);

// Streams the entries of a version 1 or 2 file (ids widened to u64).
class RbpxReader {
  public:
    // Reads the file at path (following symbolic links) or an already opened file.
    explicit RbpxReader(const std::string& path);
    explicit RbpxReader(OpenedFile file);

    // Computes the SHAKE-256 digest of the whole file while its entries are read (see
    // VectorRecordStream::track_digest); digest_hex() once every entry was read.
    void track_digest() { stream_->track_digest(header_bytes_); }
    std::string digest_hex() { return stream_->digest_hex(); }

    const RbpxHeader& header() const { return header_; }
    uint64_t count() const { return header_.count; }
    uint32_t dim() const { return header_.dim; }

    // See VectorRecordStream::next().
    size_t next(VectorBatch& batch, size_t max_records) { return stream_->next(batch, max_records); }

  private:
    RbpxHeader header_;
    std::string header_bytes_;  // the file's header as read
    std::unique_ptr<VectorRecordStream> stream_;
};

// Reads a whole .rbpx file into memory (for small files and tests).
VectorBatch read_rbpx_file(const std::string& path, RbpxHeader* header_out = nullptr);

// Writes a version 2 file crash-safely (temporary file, commit() renames it into place).
class RbpxWriter {
  public:
    // Writes entry name of dir (or the file at path). Throws InvalidArgument for dim outside 1..8192 or
    // rerank_factor above 1024.
    RbpxWriter(const DirectoryHandle& dir, std::string_view name, uint32_t dim, uint64_t rotation_seed,
               uint32_t rerank_factor, RotationKind rotation_kind);
    RbpxWriter(const std::string& path, uint32_t dim, uint64_t rotation_seed, uint32_t rerank_factor,
               RotationKind rotation_kind);

    // Appends one entry. Throws InvalidArgument for a non-finite component, Limit beyond 100,000,000.
    void append(uint64_t id, const float* vector);
    // Fills in the count, takes the size and SHAKE-256 digest of the finished file (file_bytes(),
    // shake256_hex()) and renames it into place.
    void commit();

    uint64_t count() const { return count_; }
    uint64_t file_bytes() const { return file_bytes_; }
    const std::string& shake256_hex() const { return shake256_hex_; }

  private:
    AtomicFileWriter out_;
    uint32_t dim_;
    uint64_t count_ = 0;
    std::string record_;
    uint64_t file_bytes_ = 0;
    std::string shake256_hex_;
};

}  // namespace rulake::core

#ifdef POSTGRES_H
#error "core headers are pure C++: include them before postgres.h"
#endif
