#include "corpus.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace sb::bench {

std::vector<CorpusMessage> loadCorpus(const std::filesystem::path& dir) {
    std::vector<std::filesystem::path> files;
    if (std::filesystem::is_directory(dir)) {
        for (const auto& entry : std::filesystem::directory_iterator(dir)) {
            if (entry.is_regular_file() && entry.path().extension() == ".sip") {
                files.push_back(entry.path());
            }
        }
    }
    if (files.empty()) throw std::runtime_error("no *.sip files in " + dir.string());
    std::sort(files.begin(), files.end());

    std::vector<CorpusMessage> corpus;
    for (const auto& file : files) {
        std::ifstream in(file, std::ios::binary);
        std::string wire((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (!in.good() && !in.eof()) throw std::runtime_error("cannot read " + file.string());
        // "01_invite_sdp_3via.sip" → "invite_sdp_3via": the prefix only orders the table.
        std::string name = file.stem().string();
        if (const auto underscore = name.find('_');
            underscore != std::string::npos &&
            std::all_of(name.begin(), name.begin() + static_cast<long>(underscore),
                        [](char c) { return c >= '0' && c <= '9'; })) {
            name.erase(0, underscore + 1);
        }
        corpus.push_back({std::move(name), std::move(wire)});
    }
    return corpus;
}

}  // namespace sb::bench
