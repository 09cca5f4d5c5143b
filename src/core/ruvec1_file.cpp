// The ruvec1 vector file (see include/rulake/core/ruvec1_file.hpp).
#include "rulake/core/ruvec1_file.hpp"

#include <cmath>
#include <cstring>

#include "rulake/core/byte_order.hpp"
#include "rulake/core/error.hpp"

namespace rulake::core {

namespace {
constexpr char kWhat[] = "ruvec1 file";
constexpr unsigned char kMagic[8] = {'r', 'u', 'v', 'e', 'c', '1', 0, 0};
constexpr uint64_t kCountOffset = 8;

std::string named(const std::string& path) { return std::string(kWhat) + " \"" + path + "\""; }
}  // namespace

Ruvec1Header parse_ruvec1_header(const unsigned char (&bytes)[kRuvec1HeaderBytes], uint64_t file_size,
                                 const std::string& path) {
    if (std::memcmp(bytes, kMagic, sizeof kMagic) != 0) {
        throw Error(ErrorKind::Corrupted, named(path) + " has a bad magic number", "A ruvec1 file starts with \"ruvec1\" and two zero bytes.");
    }
    Ruvec1Header header;
    header.count = load_u64le(bytes + kCountOffset);
    header.dim = load_u32le(bytes + 16);
    if (header.dim == 0 || header.dim > kMaxFileVectorDim) {
        throw Error(ErrorKind::Limit, named(path) + " has dimension " + std::to_string(header.dim) +
                                          ", outside 1.." + std::to_string(kMaxFileVectorDim));
    }
    if (header.count > kMaxFileVectorCount) {
        throw Error(ErrorKind::Limit, named(path) + " claims " + std::to_string(header.count) +
                                          " vectors, more than the limit of " + std::to_string(kMaxFileVectorCount));
    }
    // No overflow: count <= 1e8 and a record is at most 8 + 4 * 8192 bytes.
    const uint64_t expected = kRuvec1HeaderBytes + header.count * (8 + uint64_t{4} * header.dim);
    if (file_size != expected) {
        throw Error(ErrorKind::Corrupted,
                    named(path) + (file_size < expected ? " is truncated" : " has trailing bytes"),
                    "The header promises " + std::to_string(header.count) + " vectors of dimension " +
                        std::to_string(header.dim) + " (" + std::to_string(expected) + " bytes), the file has " +
                        std::to_string(file_size) + " bytes.");
    }
    return header;
}

Ruvec1Reader::Ruvec1Reader(const std::string& path) : Ruvec1Reader(open_regular_file(path, kWhat)) {}

Ruvec1Reader::Ruvec1Reader(OpenedFile file) : path_(std::move(file.path)) {
    const std::string& path = path_;
    UniqueFd fd = std::move(file.fd);
    const FileStatus status = file.status;
    if (status.mtime_seconds < 0) {
        throw Error(ErrorKind::Data, named(path) + " has a modification time before 1970");
    }
    generation_ = static_cast<uint64_t>(status.mtime_seconds);
    unsigned char header_bytes[kRuvec1HeaderBytes];
    if (status.size < kRuvec1HeaderBytes ||
        read_at(fd.get(), header_bytes, sizeof header_bytes, 0, kWhat, path) != sizeof header_bytes) {
        throw Error(ErrorKind::Corrupted, named(path) + " is truncated",
                    "It is shorter than the " + std::to_string(kRuvec1HeaderBytes) + "-byte header.");
    }
    const Ruvec1Header header = parse_ruvec1_header(header_bytes, status.size, path);
    VectorRecordStream::Layout layout;
    layout.data_offset = kRuvec1HeaderBytes;
    layout.count = header.count;
    layout.dim = header.dim;
    layout.id_bytes = 8;
    stream_ = std::make_unique<VectorRecordStream>(std::move(fd), path, kWhat, layout);
}

VectorBatch read_ruvec1_file(const std::string& path) {
    Ruvec1Reader reader(path);
    VectorBatch all;
    all.dim = reader.dim();
    if (reader.count() > 0) reader.next(all, static_cast<size_t>(reader.count()));
    return all;
}

Ruvec1Writer::Ruvec1Writer(const std::string& path, uint32_t dim) : out_(path, kWhat), dim_(dim) {
    if (dim == 0 || dim > kMaxFileVectorDim) {
        throw Error(ErrorKind::InvalidArgument, "ruvec1 dimension " + std::to_string(dim) + " is outside 1.." +
                                                    std::to_string(kMaxFileVectorDim));
    }
    unsigned char header[kRuvec1HeaderBytes] = {};
    std::memcpy(header, kMagic, sizeof kMagic);
    store_u32le(header + 16, dim);
    out_.write(header, sizeof header);
    record_.resize(8 + size_t{4} * dim);
}

void Ruvec1Writer::append(uint64_t id, const float* vector) {
    if (count_ >= kMaxFileVectorCount) {
        throw Error(ErrorKind::Limit, "a ruvec1 file holds at most " + std::to_string(kMaxFileVectorCount) + " vectors");
    }
    auto* p = reinterpret_cast<unsigned char*>(record_.data());
    store_u64le(p, id);
    for (uint32_t c = 0; c < dim_; ++c) {
        if (!std::isfinite(vector[c])) {
            throw Error(ErrorKind::InvalidArgument, "vector " + std::to_string(id) + " has a non-finite value in component " +
                                                        std::to_string(c));
        }
        store_f32le(p + 8 + 4 * size_t{c}, vector[c]);
    }
    out_.write(record_);
    ++count_;
}

void Ruvec1Writer::commit() {
    unsigned char count[8];
    store_u64le(count, count_);
    out_.overwrite_at(kCountOffset, count, sizeof count);
    out_.commit();
}

std::string ruvec1_data_ref(const std::string& path) { return "file://" + path; }

}  // namespace rulake::core
