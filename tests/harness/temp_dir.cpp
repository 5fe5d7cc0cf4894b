// temp_dir.cpp: scratch directories and the small file helpers of the harness.
#include "relaygate/harness/temp_dir.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>

namespace relaygate::harness {

temp_dir::temp_dir(const std::string& tag) {
    std::string pattern = "/tmp/relaygate-" + tag + ".XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("temp_dir: mkdtemp failed for " + pattern);
    ::chmod(pattern.c_str(), 0755);
    path_ = pattern;
}

temp_dir::~temp_dir() {
    if (path_.empty()) return;
    const char* keep = std::getenv("RELAYGATE_KEEP_TMP");
    if (keep != nullptr && std::string(keep) == "1") {
        std::cerr << "temp_dir: kept " << path_ << "\n";
        return;
    }
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

temp_dir::temp_dir(temp_dir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }

std::string read_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

void write_file(const std::filesystem::path& file, const std::string& content) {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out) throw std::runtime_error("cannot write " + file.string());
}

}  // namespace relaygate::harness
