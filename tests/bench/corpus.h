#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace sb::bench {

// One message of the benchmark corpus: the exact wire bytes of a *.sip file.
struct CorpusMessage {
    std::string name;  // file name without the order prefix and extension
    std::string wire;
};

// Reads every *.sip file of `dir` in file-name order. Throws std::runtime_error when
// the directory is missing or empty, so a broken setup is never measured.
std::vector<CorpusMessage> loadCorpus(const std::filesystem::path& dir);

}  // namespace sb::bench
