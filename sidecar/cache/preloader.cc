#include "sidecar/cache/preloader.h"

#include <deque>
#include <thread>

namespace ferry::sidecar {

StatusOr<std::vector<Glob>> ParseGlobs(const std::vector<std::string>& patterns) {
  std::vector<Glob> out;
  for (const std::string& p : patterns) {
    FERRY_ASSIGN_OR_RETURN(Glob g, Glob::Parse(p));
    out.push_back(std::move(g));
  }
  return out;
}

Preloader::Preloader(DataSource& source, BlockCache& cache, std::vector<Glob> globs,
                     PreloadOptions options, ProgressFn on_progress)
    : source_(source),
      cache_(cache),
      globs_(std::move(globs)),
      options_(options),
      on_progress_(std::move(on_progress)) {}

PreloadProgress Preloader::Progress() const {
  MutexLock lock(mu_);
  return progress_;
}

void Preloader::Report() {
  if (!on_progress_) return;
  MutexLock report(report_mu_);
  on_progress_(Progress());
}

void Preloader::NoteError(const Status& s) {
  MutexLock lock(mu_);
  if (first_error_.ok()) first_error_ = s;
}

Status Preloader::Walk(std::stop_token stop, std::vector<File>& files) {
  struct Dir {
    std::string path;
    bool all;  // a glob matched this directory itself: take everything below
  };
  std::deque<Dir> todo = {{"", false}};
  while (!todo.empty()) {
    if (stop.stop_requested()) return Cancelled("preload cancelled");
    Dir dir = std::move(todo.front());
    todo.pop_front();
    StatusOr<std::vector<Entry>> list = source_.List(dir.path);
    if (!list.ok()) {
      NoteError(list.status().WithContext("preload: list \"" + dir.path + "\""));
      continue;
    }
    for (Entry& e : *list) {
      std::string path = dir.path.empty() ? e.name : dir.path + "/" + e.name;
      bool matched = dir.all;
      for (size_t i = 0; i < globs_.size() && !matched; ++i) matched = globs_[i].Matches(path);
      if (e.type == EntryType::kDirectory) {
        bool below = matched;
        for (size_t i = 0; i < globs_.size() && !below; ++i) below = globs_[i].CouldMatchBelow(path);
        if (below) todo.push_back({std::move(path), matched});
      } else if (e.type == EntryType::kFile && matched) {
        MutexLock lock(mu_);
        progress_.files_total++;
        progress_.bytes_total += e.size;
        files.push_back({std::move(path), std::move(e)});
      }
    }
  }
  return Status();
}

Status Preloader::ReadFile(const File& f, uint64_t handle, std::vector<std::byte>& buf,
                           std::stop_token stop) {
  uint64_t offset = 0;
  Status s;
  while (offset < f.entry.size && !stop.stop_requested()) {
    StatusOr<size_t> n = cache_.Read(f.path, f.entry, offset, buf, handle);
    if (!n.ok()) {
      s = n.status().WithContext("preload: read \"" + f.path + "\"");
      break;
    }
    if (*n == 0) break;
    offset += *n;
    MutexLock lock(mu_);
    progress_.bytes_done += *n;
  }
  cache_.Release(handle);
  return s;
}

Status Preloader::Run(std::stop_token stop) {
  std::vector<File> files;
  Status walk = Walk(stop, files);
  {
    MutexLock lock(mu_);
    progress_.walk_done = true;
  }
  if (!walk.ok()) return walk;
  Report();
  std::atomic<size_t> next{0};
  auto work = [&] {
    std::vector<std::byte> buf(options_.chunk_bytes);
    for (size_t i = next++; i < files.size() && !stop.stop_requested(); i = next++) {
      Status s = ReadFile(files[i], options_.first_handle + i, buf, stop);
      {
        MutexLock lock(mu_);
        progress_.files_done++;
        if (!s.ok()) progress_.files_failed++;
      }
      if (!s.ok()) NoteError(s);
      Report();
    }
  };
  {
    std::vector<std::jthread> workers;
    size_t n = std::max<size_t>(1, std::min(options_.concurrency, files.size()));
    for (size_t i = 0; i < n; ++i) workers.emplace_back(work);
  }
  if (stop.stop_requested()) return Cancelled("preload cancelled");
  MutexLock lock(mu_);
  return first_error_;
}

}  // namespace ferry::sidecar
