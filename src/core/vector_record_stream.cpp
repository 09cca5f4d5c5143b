// Chunked reading of fixed-stride vector records (see include/rulake/core/vector_record_stream.hpp).
#include "rulake/core/vector_record_stream.hpp"

#include <algorithm>
#include <cmath>

#include "rulake/core/byte_order.hpp"
#include "rulake/core/error.hpp"

namespace rulake::core {

VectorRecordStream::VectorRecordStream(UniqueFd fd, std::string path, std::string what, Layout layout)
    : fd_(std::move(fd)), path_(std::move(path)), what_(std::move(what)), layout_(layout) {
    if (layout_.dim == 0 || layout_.dim > kMaxFileVectorDim || (layout_.id_bytes != 4 && layout_.id_bytes != 8) ||
        layout_.count > kMaxFileVectorCount) {
        throw Error(ErrorKind::Internal, "invalid vector record layout for " + what_ + " \"" + path_ + "\"");
    }
}

void VectorRecordStream::track_digest(std::string_view prefix) {
    if (next_record_ != 0) throw Error(ErrorKind::Internal, "digest of " + what_ + " requested after reading began");
    digest_ = std::make_unique<Shake256>();
    digest_->update(prefix);
}

std::string VectorRecordStream::digest_hex() {
    if (!digest_ || next_record_ != layout_.count) {
        throw Error(ErrorKind::Internal, "digest of " + what_ + " \"" + path_ + "\" requested before it was read");
    }
    std::string hex = digest_->finish_hex(kFileDigestBytes);
    digest_.reset();
    return hex;
}

size_t VectorRecordStream::next(VectorBatch& batch, size_t max_records) {
    if (max_records == 0) throw Error(ErrorKind::InvalidArgument, "a vector batch must hold at least one record");
    const uint64_t stride = record_bytes();
    const size_t n = static_cast<size_t>(std::min<uint64_t>(max_records, layout_.count - next_record_));
    batch.dim = layout_.dim;
    batch.ids.resize(n);
    batch.values.resize(n * layout_.dim);
    if (n == 0) return 0;

    const size_t records_per_read = static_cast<size_t>(std::max<uint64_t>(1, kReadBufferBytes / stride));
    size_t done = 0;
    while (done < n) {
        const size_t chunk = std::min(records_per_read, n - done);
        const size_t bytes = static_cast<size_t>(chunk * stride);
        buffer_.resize(bytes);
        const uint64_t first = next_record_ + done;
        const uint64_t offset = layout_.data_offset + first * stride;
        if (read_at(fd_.get(), buffer_.data(), bytes, offset, what_, path_) != bytes) {
            throw Error(ErrorKind::Corrupted, what_ + " \"" + path_ + "\" is truncated",
                        "The file ended inside record " + std::to_string(first) + " of " +
                            std::to_string(layout_.count) + "; it was shortened after it was opened.");
        }
        if (digest_) digest_->update(buffer_.data(), bytes);
        for (size_t r = 0; r < chunk; ++r) {
            const unsigned char* record = buffer_.data() + r * stride;
            const uint64_t id = layout_.id_bytes == 8 ? load_u64le(record) : load_u32le(record);
            const unsigned char* components = record + layout_.id_bytes;
            float* out = batch.values.data() + (done + r) * layout_.dim;
            for (uint32_t c = 0; c < layout_.dim; ++c) {
                out[c] = load_f32le(components + 4 * size_t{c});
                if (!std::isfinite(out[c])) {
                    throw Error(ErrorKind::Corrupted,
                                what_ + " \"" + path_ + "\": record " + std::to_string(first + r) + " (id " +
                                    std::to_string(id) + ") has a " + (std::isnan(out[c]) ? "NaN" : "infinite") +
                                    " value in component " + std::to_string(c),
                                "Vectors must have finite components.");
                }
            }
            batch.ids[done + r] = id;
        }
        done += chunk;
    }
    next_record_ += n;
    return n;
}

}  // namespace rulake::core
