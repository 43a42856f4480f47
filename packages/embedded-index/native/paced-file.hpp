// A file written at the pace the disk takes it (arena-graph.cpp saves the graph through it).
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/types.h>
#include <unistd.h>

namespace membus {

/**
 * A file written at the pace the disk takes it. usearch's own `save` fwrites the whole graph
 * (629 MB at 1M memories) into the page cache and returns; the kernel then flushes it in one
 * burst, and every read that misses the cache meanwhile (a query's rescoring rows, cold after
 * DAMON reclaimed them) waits behind it: 50-300 ms query stalls at 1M once the save ran beside
 * the queries. Here writeback of each 4 MiB window starts as soon as it is written and the
 * window before it is waited for (RocksDB's bytes_per_sync), so at most two windows are in
 * flight; `finish` makes the file durable before a manifest may name it.
 */
class paced_file_t {
  public:
    static constexpr std::size_t buffer_bytes = 1u << 20;
    static constexpr std::size_t window_bytes = 4u << 20;

    explicit paced_file_t(std::string const& path)
        : fd_(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) {
        if (fd_ < 0)
            fail("open");
        buffer_.reserve(buffer_bytes);
    }
    ~paced_file_t() {
        if (fd_ >= 0)
            ::close(fd_);
    }
    paced_file_t(paced_file_t const&) = delete;
    paced_file_t& operator=(paced_file_t const&) = delete;

    bool write(void const* data, std::size_t length) {
        if (fd_ < 0)
            return false;
        auto const* bytes = static_cast<char const*>(data);
        if (buffer_.size() + length > buffer_bytes && !flush())
            return false;
        if (length >= buffer_bytes)
            return write_all(bytes, length);
        buffer_.insert(buffer_.end(), bytes, bytes + length);
        return true;
    }

    /** Writes what is buffered and waits until the file's data is on disk. */
    bool finish() {
        if (fd_ < 0 || !flush())
            return false;
        if (::fdatasync(fd_) != 0)
            return fail("fdatasync");
        int fd = std::exchange(fd_, -1);
        return ::close(fd) == 0 || fail("close");
    }

    std::string const& error() const { return error_; }

  private:
    bool fail(char const* call) {
        if (error_.empty())
            error_ = std::string(call) + ": " + std::strerror(errno);
        return false;
    }

    bool flush() {
        bool ok = write_all(buffer_.data(), buffer_.size());
        buffer_.clear();
        return ok;
    }

    bool write_all(char const* bytes, std::size_t length) {
        while (length != 0) {
            ssize_t written = ::write(fd_, bytes, std::min(length, window_bytes));
            if (written < 0) {
                if (errno == EINTR)
                    continue;
                return fail("write");
            }
            bytes += written;
            length -= static_cast<std::size_t>(written);
            written_ += static_cast<off_t>(written);
            pace();
        }
        return true;
    }

    void pace() {
#if defined(__linux__)
        constexpr off_t window = static_cast<off_t>(window_bytes);
        while (written_ - started_ >= window) {
            // Advisory: an error here shows again, and is reported, at fdatasync.
            ::sync_file_range(fd_, started_, window, SYNC_FILE_RANGE_WRITE);
            if (started_ >= window)
                ::sync_file_range(fd_, started_ - window, window,
                                  SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                                      SYNC_FILE_RANGE_WAIT_AFTER);
            started_ += window;
        }
#endif
    }

    int fd_;
    std::vector<char> buffer_;
    off_t written_ = 0;
    off_t started_ = 0;
    std::string error_;
};

} // namespace membus
