// The ruvec1 vector file of the reference ruLake file backend. All little endian, fixed stride:
//
//   0..8    magic "ruvec1\0\0"
//   8..16   count, u64 (<= 100,000,000)
//   16..20  dim, u32 (1..8192)
//   20..24  reserved (written as 0, ignored on read)
//   24..    count × { id u64, dim × f32 }
//
// The generation of a file is its modification time in whole seconds; its data_ref is "file://" + path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "rulake/core/atomic_file.hpp"
#include "rulake/core/directory_handle.hpp"
#include "rulake/core/vector_record_stream.hpp"

namespace rulake::core {

inline constexpr size_t kRuvec1HeaderBytes = 24;

struct Ruvec1Header {
    uint64_t count = 0;
    uint32_t dim = 0;
};

// Validates the 24 header bytes against the file size: magic, dim 1..8192, count <= 100,000,000, and
// file_size == 24 + count × (8 + 4·dim) exactly. Throws Corrupted (bad magic, wrong size) or Limit
// (count or dim out of range) naming path. Does no allocation beyond the error message.
Ruvec1Header parse_ruvec1_header(const unsigned char (&bytes)[kRuvec1HeaderBytes], uint64_t file_size,
                                 const std::string& path);

// Streams the vectors of a ruvec1 file. The header and the exact file size are checked when the file
// is opened, before anything is allocated; values are checked (finite) as they are read.
class Ruvec1Reader {
  public:
    // Reads the file at path (following symbolic links) or an already opened file. Throws Io (cannot
    // open or read), Corrupted, Limit; see parse_ruvec1_header().
    explicit Ruvec1Reader(const std::string& path);
    explicit Ruvec1Reader(OpenedFile file);

    uint64_t count() const { return stream_->count(); }
    uint32_t dim() const { return stream_->dim(); }
    // The file's modification time in whole seconds, taken when it was opened (its generation).
    uint64_t generation() const { return generation_; }
    const std::string& path() const { return path_; }

    // See VectorRecordStream::next().
    size_t next(VectorBatch& batch, size_t max_records) { return stream_->next(batch, max_records); }
    uint64_t records_read() const { return stream_->records_read(); }

  private:
    std::string path_;
    uint64_t generation_ = 0;
    std::unique_ptr<VectorRecordStream> stream_;
};

// Reads a whole ruvec1 file into memory (for small files and tests).
VectorBatch read_ruvec1_file(const std::string& path);

// Writes a ruvec1 file crash-safely: records go to a temporary file beside path, commit() fills in the
// count and renames it into place. Without commit() nothing appears at path.
class Ruvec1Writer {
  public:
    // Throws InvalidArgument for dim outside 1..8192, Io if the temporary file cannot be created.
    Ruvec1Writer(const std::string& path, uint32_t dim);

    // Appends one vector of dim() components. Throws InvalidArgument for a non-finite component and
    // Limit beyond 100,000,000 vectors.
    void append(uint64_t id, const float* vector);
    void commit();

    uint32_t dim() const { return dim_; }
    uint64_t count() const { return count_; }

  private:
    AtomicFileWriter out_;
    uint32_t dim_;
    uint64_t count_ = 0;
    std::string record_;
};

// The data_ref of a ruvec1 file at path: "file://" + path.
std::string ruvec1_data_ref(const std::string& path);

}  // namespace rulake::core

#ifdef POSTGRES_H
#error "core headers are pure C++: include them before postgres.h"
#endif
