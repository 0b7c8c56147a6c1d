#include "common/file_watcher.h"

namespace ferry {

std::string_view WatchEventKindName(WatchEventKind kind) {
  switch (kind) {
    case WatchEventKind::kCreated:
      return "created";
    case WatchEventKind::kDeleted:
      return "deleted";
    case WatchEventKind::kMovedTo:
      return "moved_to";
    case WatchEventKind::kMovedFrom:
      return "moved_from";
    case WatchEventKind::kModified:
      return "modified";
    case WatchEventKind::kOverflow:
      return "overflow";
    case WatchEventKind::kWatchGone:
      return "watch_gone";
  }
  return "unknown";
}

}  // namespace ferry
