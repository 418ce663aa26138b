#include "common/sha256.h"

#include <openssl/evp.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <new>

#include <fmt/format.h>

namespace vnf {

void Sha256::Free::operator()(evp_md_ctx_st* c) const { EVP_MD_CTX_free(c); }

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  // Allocation failure is the only way these fail for SHA-256.
  if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1) throw std::bad_alloc();
}

void Sha256::update(std::string_view data) {
  if (EVP_DigestUpdate(ctx_.get(), data.data(), data.size()) != 1) throw std::bad_alloc();
}

std::string Sha256::hexDigest() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(ctx_.get(), md, &n) != 1) throw std::bad_alloc();
  std::string out;
  out.reserve(2 * n);
  for (unsigned int i = 0; i < n; ++i) out += fmt::format("{:02x}", md[i]);
  return out;
}

std::string sha256Hex(std::string_view data) {
  Sha256 h;
  h.update(data);
  return h.hexDigest();
}

Result<std::string> sha256OfFiles(const std::vector<std::string>& paths) {
  Sha256 h;
  std::string buf(1 << 20, '\0');
  for (const auto& p : paths) {
    std::ifstream f(p, std::ios::binary);
    if (!f) return fail(Errc::kUnreadable, fmt::format("cannot read {}: {}", p, std::strerror(errno)));
    while (f) {
      f.read(buf.data(), static_cast<std::streamsize>(buf.size()));
      h.update(std::string_view(buf.data(), static_cast<std::size_t>(f.gcount())));
    }
    if (f.bad()) return fail(Errc::kUnreadable, fmt::format("cannot read {}: I/O error", p));
  }
  return h.hexDigest();
}

}  // namespace vnf
