// SHAKE-256 (FIPS 202 extendable-output function) through OpenSSL's EVP interface.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

// OpenSSL's EVP_MD_CTX, declared here so that this header does not pull in OpenSSL.
struct evp_md_ctx_st;

namespace rulake::core {

// The output length rulake uses for digests of whole files (as for witnesses): 32 bytes.
inline constexpr size_t kFileDigestBytes = 32;

// One SHAKE-256 computation: update() any number of times, then finish() once. Owns its EVP context
// (freed by the destructor). Throws core::Error(Internal) if OpenSSL fails, and on use after finish().
class Shake256 {
  public:
    Shake256();
    ~Shake256();
    Shake256(const Shake256&) = delete;
    Shake256& operator=(const Shake256&) = delete;

    void update(const void* data, size_t size);
    void update(std::string_view bytes) { update(bytes.data(), bytes.size()); }
    // Writes the first out_size bytes of the output stream to out. The object is spent afterwards.
    void finish(void* out, size_t out_size);
    // The first out_size bytes as lowercase hex; the object is spent afterwards.
    std::string finish_hex(size_t out_size);

  private:
    ::evp_md_ctx_st* ctx_;
    bool finished_ = false;
};

// The first out_size bytes of SHAKE-256(message).
std::string shake256(std::string_view message, size_t out_size);

}  // namespace rulake::core

#ifdef POSTGRES_H
#error "core headers are pure C++: include them before postgres.h"
#endif
