// The .rbpx seed-replay index file, versions 1 and 2 (see include/rulake/core/rbpx_file.hpp).
#include "rulake/core/rbpx_file.hpp"

#include <cmath>
#include <cstring>

#include "rulake/core/byte_order.hpp"
#include "rulake/core/error.hpp"

namespace rulake::core {

namespace {
constexpr char kWhat[] = "rbpx file";
constexpr unsigned char kMagic[8] = {'r', 'b', 'p', 'x', '0', '0', '0', '1'};
constexpr size_t kVersionOffset = 8;
constexpr size_t kV2CountOffset = 32;

std::string named(const std::string& path) { return std::string(kWhat) + " \"" + path + "\""; }

[[noreturn]] void truncated(const std::string& path, const std::string& detail) {
    throw Error(ErrorKind::Corrupted, named(path) + " is truncated", detail);
}
}  // namespace

RbpxHeader parse_rbpx_header(const unsigned char* bytes, size_t available, uint64_t file_size, const std::string& path) {
    if (available < kVersionOffset + 4) truncated(path, "It is shorter than the fixed part of the header.");
    if (std::memcmp(bytes, kMagic, sizeof kMagic) != 0) {
        throw Error(ErrorKind::Corrupted, named(path) + " has a bad magic number", "An rbpx file starts with \"rbpx0001\".");
    }
    RbpxHeader h;
    h.version = load_u32le(bytes + kVersionOffset);
    if (h.version != kRbpxVersion1 && h.version != kRbpxVersion2) {
        throw Error(ErrorKind::NotSupported, "unsupported rbpx version " + std::to_string(h.version),
                    "File " + named(path) + "; this reader understands versions 1 and 2.");
    }
    if (available < h.header_bytes()) {
        truncated(path, "It is shorter than the " + std::to_string(h.header_bytes()) + "-byte header of version " +
                            std::to_string(h.version) + ".");
    }
    h.dim = load_u32le(bytes + 12);
    h.rotation_seed = load_u64le(bytes + 16);
    h.rerank_factor = load_u32le(bytes + 24);
    if (h.version == kRbpxVersion1) {
        h.count = load_u32le(bytes + 28);
    } else {
        const uint8_t kind = bytes[28];
        if (kind != static_cast<uint8_t>(RotationKind::Hadamard) && kind != static_cast<uint8_t>(RotationKind::Haar)) {
            throw Error(ErrorKind::Corrupted, named(path) + " has an unknown rotation kind " + std::to_string(kind));
        }
        h.rotation_kind = static_cast<RotationKind>(kind);
        if (bytes[29] != 0 || bytes[30] != 0 || bytes[31] != 0) {
            throw Error(ErrorKind::Corrupted, named(path) + " has non-zero reserved header bytes");
        }
        h.count = load_u64le(bytes + kV2CountOffset);
    }
    if (h.dim == 0 || h.dim > kMaxFileVectorDim) {
        throw Error(ErrorKind::Limit, named(path) + " has dimension " + std::to_string(h.dim) + ", outside 1.." +
                                          std::to_string(kMaxFileVectorDim));
    }
    if (h.rerank_factor > kMaxRbpxRerankFactor) {
        throw Error(ErrorKind::Limit, named(path) + " has rerank_factor " + std::to_string(h.rerank_factor) +
                                          ", above the limit of " + std::to_string(kMaxRbpxRerankFactor));
    }
    if (h.count > kMaxFileVectorCount) {
        throw Error(ErrorKind::Limit, named(path) + " claims " + std::to_string(h.count) +
                                          " vectors, more than the limit of " + std::to_string(kMaxFileVectorCount));
    }
    const uint64_t expected = h.header_bytes() + h.count * (h.id_bytes() + uint64_t{4} * h.dim);
    if (file_size != expected) {
        throw Error(ErrorKind::Corrupted, named(path) + (file_size < expected ? " is truncated" : " has trailing bytes"),
                    "The header promises " + std::to_string(h.count) + " vectors of dimension " + std::to_string(h.dim) +
                        " (" + std::to_string(expected) + " bytes), the file has " + std::to_string(file_size) +
                        " bytes.");
    }
    return h;
}

RbpxReader::RbpxReader(const std::string& path) : RbpxReader(open_regular_file(path, kWhat)) {}

RbpxReader::RbpxReader(OpenedFile file) {
    const std::string& path = file.path;
    unsigned char bytes[kRbpxV2HeaderBytes];
    const size_t available = read_at(file.fd.get(), bytes, sizeof bytes, 0, kWhat, path);
    header_ = parse_rbpx_header(bytes, available, file.status.size, path);
    header_bytes_.assign(reinterpret_cast<const char*>(bytes), header_.header_bytes());
    VectorRecordStream::Layout layout;
    layout.data_offset = header_.header_bytes();
    layout.count = header_.count;
    layout.dim = header_.dim;
    layout.id_bytes = header_.id_bytes();
    stream_ = std::make_unique<VectorRecordStream>(std::move(file.fd), path, kWhat, layout);
}

VectorBatch read_rbpx_file(const std::string& path, RbpxHeader* header_out) {
    RbpxReader reader(path);
    if (header_out != nullptr) *header_out = reader.header();
    VectorBatch all;
    all.dim = reader.dim();
    if (reader.count() > 0) reader.next(all, static_cast<size_t>(reader.count()));
    return all;
}

RbpxWriter::RbpxWriter(const std::string& path, uint32_t dim, uint64_t rotation_seed, uint32_t rerank_factor,
                       RotationKind rotation_kind)
    : RbpxWriter(DirectoryHandle::open(directory_of(path)), base_name_of(path), dim, rotation_seed, rerank_factor,
                 rotation_kind) {}

RbpxWriter::RbpxWriter(const DirectoryHandle& dir, std::string_view name, uint32_t dim, uint64_t rotation_seed,
                       uint32_t rerank_factor, RotationKind rotation_kind)
    : out_(dir, name, kWhat), dim_(dim) {
    if (dim == 0 || dim > kMaxFileVectorDim) {
        throw Error(ErrorKind::InvalidArgument,
                    "rbpx dimension " + std::to_string(dim) + " is outside 1.." + std::to_string(kMaxFileVectorDim));
    }
    if (rerank_factor > kMaxRbpxRerankFactor) {
        throw Error(ErrorKind::InvalidArgument, "rbpx rerank_factor " + std::to_string(rerank_factor) +
                                                    " is above the limit of " + std::to_string(kMaxRbpxRerankFactor));
    }
    unsigned char header[kRbpxV2HeaderBytes] = {};
    std::memcpy(header, kMagic, sizeof kMagic);
    store_u32le(header + kVersionOffset, kRbpxVersion2);
    store_u32le(header + 12, dim);
    store_u64le(header + 16, rotation_seed);
    store_u32le(header + 24, rerank_factor);
    header[28] = static_cast<unsigned char>(rotation_kind);
    out_.write(header, sizeof header);
    record_.resize(8 + size_t{4} * dim);
}

void RbpxWriter::append(uint64_t id, const float* vector) {
    if (count_ >= kMaxFileVectorCount) {
        throw Error(ErrorKind::Limit, "an rbpx file holds at most " + std::to_string(kMaxFileVectorCount) + " vectors");
    }
    auto* p = reinterpret_cast<unsigned char*>(record_.data());
    store_u64le(p, id);
    for (uint32_t c = 0; c < dim_; ++c) {
        if (!std::isfinite(vector[c])) {
            throw Error(ErrorKind::InvalidArgument,
                        "vector " + std::to_string(id) + " has a non-finite value in component " + std::to_string(c));
        }
        store_f32le(p + 8 + 4 * size_t{c}, vector[c]);
    }
    out_.write(record_);
    ++count_;
}

void RbpxWriter::commit() {
    unsigned char count[8];
    store_u64le(count, count_);
    out_.overwrite_at(kV2CountOffset, count, sizeof count);
    file_bytes_ = out_.size();
    shake256_hex_ = out_.shake256_hex();
    out_.commit();
}

}  // namespace rulake::core
