// SHAKE-256 on top of OpenSSL EVP (EVP_shake256 + EVP_DigestFinalXOF).
#include "rulake/core/shake256.hpp"

#include <openssl/evp.h>

#include "rulake/core/error.hpp"
#include "rulake/core/witness.hpp"

namespace rulake::core {

namespace {
[[noreturn]] void openssl_failure(const char* step) {
    throw Error(ErrorKind::Internal, std::string("SHAKE-256: OpenSSL ") + step + " failed");
}
}  // namespace

Shake256::Shake256() : ctx_(EVP_MD_CTX_new()) {
    if (ctx_ == nullptr) openssl_failure("EVP_MD_CTX_new");
    if (EVP_DigestInit_ex(ctx_, EVP_shake256(), nullptr) != 1) {
        EVP_MD_CTX_free(ctx_);
        openssl_failure("EVP_DigestInit_ex");
    }
}

Shake256::~Shake256() { EVP_MD_CTX_free(ctx_); }

void Shake256::update(const void* data, size_t size) {
    if (finished_) throw Error(ErrorKind::Internal, "SHAKE-256: update after finish");
    if (size == 0) return;
    if (EVP_DigestUpdate(ctx_, data, size) != 1) openssl_failure("EVP_DigestUpdate");
}

void Shake256::finish(void* out, size_t out_size) {
    if (finished_) throw Error(ErrorKind::Internal, "SHAKE-256: finish called twice");
    finished_ = true;
    if (EVP_DigestFinalXOF(ctx_, static_cast<unsigned char*>(out), out_size) != 1) {
        openssl_failure("EVP_DigestFinalXOF");
    }
}

std::string Shake256::finish_hex(size_t out_size) {
    std::string out(out_size, '\0');
    finish(out.data(), out.size());
    return to_hex(out);
}

std::string shake256(std::string_view message, size_t out_size) {
    Shake256 hash;
    hash.update(message);
    std::string out(out_size, '\0');
    hash.finish(out.data(), out.size());
    return out;
}

}  // namespace rulake::core
