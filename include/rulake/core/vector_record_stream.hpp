// Sequential, chunked reading of the fixed-stride vector records that ruvec1 and .rbpx files share:
// count × { id (4 or 8 bytes), dim × f32 }, little endian. Memory use is bounded by the chunk the
// caller asks for plus a read buffer of at most kReadBufferBytes, so files of millions of vectors can
// be streamed into a cache without being held in memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "rulake/core/posix_file.hpp"
#include "rulake/core/shake256.hpp"

namespace rulake::core {

// Limits of every vector file format (applied to headers before anything is allocated).
inline constexpr uint32_t kMaxFileVectorDim = 8192;
inline constexpr uint64_t kMaxFileVectorCount = 100'000'000;

// A chunk of vectors: ids[i] and values[i*dim, (i+1)*dim).
struct VectorBatch {
    uint32_t dim = 0;
    std::vector<uint64_t> ids;
    std::vector<float> values;

    size_t size() const { return ids.size(); }
    const float* vector(size_t i) const { return values.data() + i * dim; }
};

class VectorRecordStream {
  public:
    struct Layout {
        uint64_t data_offset = 0;  // where record 0 starts
        uint64_t count = 0;        // records in the file (already checked against the file size)
        uint32_t dim = 0;          // 1 .. kMaxFileVectorDim
        uint32_t id_bytes = 8;     // 4 or 8
    };

    // Takes ownership of fd. `what` names the file kind in errors ("ruvec1 file").
    VectorRecordStream(UniqueFd fd, std::string path, std::string what, Layout layout);

    // Replaces batch's contents by the next min(max_records, remaining) records and returns how many
    // were read; 0 once every record has been read. Throws InvalidArgument for max_records == 0,
    // Corrupted for a NaN or infinite component (naming the record, its id and the component) and for
    // a file that ends early (it shrank after it was opened), Io for read errors.
    size_t next(VectorBatch& batch, size_t max_records);

    // Feeds prefix (the file's bytes before data_offset) and then every record this stream reads to a
    // SHAKE-256 digest, so that a file is checked in the same pass that loads it. Call before the
    // first next(); digest_hex() gives the digest of the whole file once every record was read.
    void track_digest(std::string_view prefix);
    // kFileDigestBytes of SHAKE-256 as lowercase hex. Throws Internal unless track_digest() was called
    // and every record was read.
    std::string digest_hex();

    uint64_t count() const { return layout_.count; }
    uint32_t dim() const { return layout_.dim; }
    uint64_t records_read() const { return next_record_; }
    uint64_t record_bytes() const { return layout_.id_bytes + uint64_t{4} * layout_.dim; }

    static constexpr size_t kReadBufferBytes = size_t{4} << 20;

  private:
    UniqueFd fd_;
    std::string path_, what_;
    Layout layout_;
    uint64_t next_record_ = 0;
    std::vector<unsigned char> buffer_;
    std::unique_ptr<Shake256> digest_;
};

}  // namespace rulake::core

#ifdef POSTGRES_H
#error "core headers are pure C++: include them before postgres.h"
#endif
