// temp_dir.hpp: a scratch directory /tmp/relaygate-<tag>.XXXXXX (mode 0755 so
// Postfix's unprivileged daemons can enter it), removed by the destructor unless
// RELAYGATE_KEEP_TMP=1 is set (then its path is printed for post-mortems).
#pragma once

#include <filesystem>
#include <string>

namespace relaygate::harness {

class temp_dir {
public:
    explicit temp_dir(const std::string& tag = "test");
    ~temp_dir();
    temp_dir(temp_dir&& other) noexcept;
    temp_dir& operator=(temp_dir&&) = delete;
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

// Small file helpers used by every fixture.
std::string read_file(const std::filesystem::path& file);  // "" when missing
void write_file(const std::filesystem::path& file, const std::string& content);

}  // namespace relaygate::harness
