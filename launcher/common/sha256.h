// SHA-256 through OpenSSL's libcrypto: the recipe hash of a VNF spec and the guest image check.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

struct evp_md_ctx_st;

namespace vnf {

class Sha256 {
 public:
  Sha256();
  void update(std::string_view data);
  std::string hexDigest();  // finishes; the object is spent afterwards

 private:
  struct Free {
    void operator()(evp_md_ctx_st* c) const;
  };
  std::unique_ptr<evp_md_ctx_st, Free> ctx_;
};

// The hex SHA-256 of `data`.
std::string sha256Hex(std::string_view data);

// SHA-256 over the concatenated contents of `paths`, read in chunks.
Result<std::string> sha256OfFiles(const std::vector<std::string>& paths);

}  // namespace vnf
