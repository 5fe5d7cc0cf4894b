// dkim_dump_verify.cpp: see dkim_dump_verify.hpp.
#include "dkim_dump_verify.hpp"

#include <fstream>
#include <vector>

#define _Bool bool
#include <opendkim/dkim.h>
#undef _Bool

namespace relaygate::milter::testing {

std::string verify_dump(const std::filesystem::path& file) {
    std::ifstream in(file);
    std::string line, current, body;
    std::vector<std::string> headers;
    bool in_body = false;
    while (std::getline(in, line)) {
        if (in_body) {
            body += line + "\r\n";
        } else if (line.empty()) {
            if (!current.empty()) headers.push_back(current);
            in_body = true;
        } else if ((line[0] == ' ' || line[0] == '\t') && !current.empty()) {
            current += "\r\n" + line;
        } else {
            if (!current.empty()) headers.push_back(current);
            current = line;
        }
    }
    DKIM_LIB* lib = dkim_init(nullptr, nullptr);
    DKIM_STAT st;
    DKIM* d = dkim_verify(lib, reinterpret_cast<const u_char*>("e2e"), nullptr, &st);
    for (auto& h : headers) dkim_header(d, reinterpret_cast<u_char*>(h.data()), h.size());
    dkim_eoh(d);
    dkim_body(d, reinterpret_cast<u_char*>(body.data()), body.size());
    st = dkim_eom(d, nullptr);
    std::string result = st == DKIM_STAT_OK ? "ok" : std::string(dkim_getresultstr(st));
    if (st != DKIM_STAT_OK && dkim_geterror(d) != nullptr) result += std::string(": ") + dkim_geterror(d);
    dkim_free(d);
    dkim_close(lib);
    return result;
}

}  // namespace relaygate::milter::testing
