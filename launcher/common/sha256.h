// SHA-256 (FIPS 180-4), for checking the guest image against the hash its build recorded.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace vnf {

class Sha256 {
 public:
  Sha256();
  void update(std::string_view data);
  std::string hexDigest();  // finishes; the object is spent afterwards

 private:
  void block(const unsigned char* p);
  unsigned int h_[8];
  unsigned char buf_[64];
  std::size_t buffered_ = 0;
  unsigned long long length_ = 0;
};

// SHA-256 over the concatenated contents of `paths`, read in chunks.
Result<std::string> sha256OfFiles(const std::vector<std::string>& paths);

}  // namespace vnf
