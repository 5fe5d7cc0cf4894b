// dkim_canon.hpp: DKIM canonicalization (RFC 6376 §3.4, "simple" and
// "relaxed", headers and body; l= is never used) and the choice of signed
// headers, as pure functions. dkim_signer feeds a message through them and
// hashes the output; tests compare it byte for byte with libopendkim's
// canonical form; fuzz/dkim_canon_fuzz.cpp checks their invariants.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace relaygate::milter {

enum class dkim_canon { simple, relaxed };

// "simple" or "relaxed", as in the c= tag.
std::string_view to_string(dkim_canon c);

// Appends the canonical form of one header field to out, CRLF included.
// name and value are what the MTA hands the milter (value without the space
// after the colon); the field is taken to be "name: value". Bare LF or CR in a
// folded value count as line ends (CRLF).
void canonical_header(dkim_canon c, std::string_view name, std::string_view value, std::string& out);

// The header fields signed: RFC 6376 §5.4's "should sign" list, the same list
// as libopendkim's dkim_should_signhdrs (a test holds them equal).
bool is_signed_header(std::string_view name);

// Which headers a signature covers, as libopendkim chooses them: every field
// whose name is_signed_header, named in h= in message order (as written), then
// "From" once more (oversigned: a From added later breaks the signature).
// order lists the indices into the headers in the order they are hashed: for
// each name in h=, the last not yet used instance of that name (RFC 6376 §5.4.2).
struct header_selection {
    std::string h_tag;               // "From:To:Subject:From"
    std::vector<std::size_t> order;  // indices into the header list
};
header_selection select_headers(const std::vector<std::pair<std::string, std::string>>& headers);

// Streaming body canonicalizer: feed() the body in chunks of any size (line
// ends LF, CRLF or a lone CR, split anywhere), then finish(). Output is
// appended to `out` as it becomes final; memory does not grow with line length
// (blank lines and white space runs are counted, not stored).
// A last line without CRLF gets one. If it also ends in white space, relaxed
// drops that white space (RFC 6376 §3.4.4: "x  " -> "x\r\n"); verifiers
// disagree there (libopendkim 2.11: "x", dkimpy 1.1.4: "x \r\n"). It cannot
// happen through Postfix, which hands a milter CRLF-terminated lines only.
class body_canonicalizer {
public:
    explicit body_canonicalizer(dkim_canon c) : canon_(c) {}
    void feed(std::string_view chunk, std::string& out);
    void finish(std::string& out);

private:
    void line_end(std::string& out);
    void content(char c, std::string& out);

    dkim_canon canon_;
    bool after_cr_ = false;        // the previous byte was CR (its line already ended)
    bool line_has_data_ = false;   // the current line has output (relaxed: non-WSP; simple: any byte)
    bool pending_wsp_ = false;     // relaxed: a WSP run not yet written
    std::size_t blank_lines_ = 0;  // empty lines not yet written (dropped at the end of the body)
    bool wrote_any_ = false;
};

// The whole body at once (tests, fuzzing).
std::string canonical_body(dkim_canon c, std::string_view body);

}  // namespace relaygate::milter
