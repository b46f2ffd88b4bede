// How busy the host is, for a note before a long CPU job (mnas_search): on a
// 2-core machine shared with other work, children trained with 2 LibTorch
// threads ran 5-13x slower than with 1 (docs/search.md, "Threads on a shared
// machine"): each parallel region waits for the thread another process holds
// off its core, while a single thread only loses its share. Torch-free.
#pragma once

#include <optional>
#include <string>

namespace mnas {

// The 1-minute load average (/proc/loadavg's first field); nullopt when it
// cannot be read (not Linux).
std::optional<double> load_average();

// A one-line note (no trailing newline) when `threads` > 1 LibTorch threads
// will compete with a load average of at least cores + 1 for `cores` CPUs,
// saying what was seen and that --threads 1 degrades only in proportion;
// "" otherwise.
std::string contention_note(double load, int cores, int threads);

}  // namespace mnas
