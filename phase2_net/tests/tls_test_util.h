// A throwaway PKI for the TLS tests, made with the `openssl` command line:
// CAs and certificates with EC P-256 keys (fast to make), in a TempDir that
// goes away with the object.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "tinykv/testing/test_util.h"

namespace tinykv::net::testing {

class TestPki {
 public:
  struct Files {
    std::string cert, key;
  };

  // Runs a shell command in the PKI's directory; fails the test on error.
  bool Run(const std::string& command) const {
    const std::string full = "cd '" + dir_.str() + "' && (" + command + ") >openssl.log 2>&1";
    const int rc = std::system(full.c_str());
    EXPECT_EQ(rc, 0) << "failed: " << command;
    return rc == 0;
  }

  // A self-signed CA: NAME.pem and NAME.key.
  Files MakeCa(const std::string& name) const {
    Run("openssl ecparam -name prime256v1 -genkey -noout -out " + name + ".key && " +
        "openssl req -x509 -new -key " + name + ".key -subj /CN=" + name +
        " -days 2 -out " + name + ".pem");
    return {Path(name + ".pem"), Path(name + ".key")};
  }

  // A certificate NAME.pem / NAME.key signed by `ca`, valid for `days`
  // (negative: expired), for serverAuth and clientAuth, naming `san`.
  Files MakeCert(const std::string& name, const Files& ca, int days = 2,
                 const std::string& san = "IP:127.0.0.1,DNS:localhost") const {
    {
      std::ofstream ext(Path(name + ".ext"));
      ext << "subjectAltName=" << san << "\nextendedKeyUsage=serverAuth,clientAuth\n";
    }
    Run("openssl ecparam -name prime256v1 -genkey -noout -out " + name + ".key && " +
        "openssl req -new -key " + name + ".key -subj /CN=" + name + " -out " + name +
        ".csr && openssl x509 -req -in " + name + ".csr -CA '" + ca.cert + "' -CAkey '" + ca.key +
        "' -CAcreateserial -days " + std::to_string(days) + " -extfile " + name +
        ".ext -out " + name + ".pem");
    return {Path(name + ".pem"), Path(name + ".key")};
  }

  std::string Path(const std::string& file) const { return (dir_.path() / file).string(); }

 private:
  ::tinykv::testing::TempDir dir_;
};

}  // namespace tinykv::net::testing
