// Mutex, MutexLock and CondVar: std::mutex and std::condition_variable with Clang's
// thread-safety annotations, so that the clang build (-Wthread-safety, the one the
// fuzzers use) checks that every member marked REEL_GUARDED_BY(mu_) is touched only
// with mu_ held. GCC sees plain wrappers.
//
// Write waits as loops (`while (!ready_) cv_.Wait(&mu_);`): the analysis does not follow
// a lambda predicate into the caller's lock.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

#if defined(__clang__)
#define REEL_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define REEL_THREAD_ANNOTATION(x)
#endif

#define REEL_CAPABILITY(x) REEL_THREAD_ANNOTATION(capability(x))
#define REEL_SCOPED_CAPABILITY REEL_THREAD_ANNOTATION(scoped_lockable)
#define REEL_GUARDED_BY(x) REEL_THREAD_ANNOTATION(guarded_by(x))
#define REEL_REQUIRES(...) REEL_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define REEL_ACQUIRE(...) REEL_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define REEL_RELEASE(...) REEL_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define REEL_EXCLUDES(...) REEL_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))

namespace reel {

class REEL_CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() REEL_ACQUIRE() { mu_.lock(); }
  void Unlock() REEL_RELEASE() { mu_.unlock(); }

 private:
  friend class CondVar;
  std::mutex mu_;
};

// Holds `mu` for its scope.
class REEL_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex* mu) REEL_ACQUIRE(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() REEL_RELEASE() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

// A condition variable. Each wait names the Mutex it holds (the same one for every
// wait on this CondVar), so that the analysis can check it is held: a mutex stored
// in the CondVar would be a different expression to clang than the caller's mu_.
class CondVar {
 public:
  CondVar() = default;
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  // Releases `mu` until signalled (or spuriously woken); holds it again on return.
  void Wait(Mutex* mu) REEL_REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    cv_.wait(lock);
    lock.release();  // still held: the caller's MutexLock releases it
  }
  // As Wait, for at most `timeout`; false when it timed out.
  template <typename Rep, typename Period>
  bool WaitFor(Mutex* mu, std::chrono::duration<Rep, Period> timeout) REEL_REQUIRES(mu) {
    return WaitUntil(mu, std::chrono::steady_clock::now() + timeout);
  }
  // As Wait, until `deadline` at the latest; false when it passed.
  template <typename Clock, typename Duration>
  bool WaitUntil(Mutex* mu, std::chrono::time_point<Clock, Duration> deadline) REEL_REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    const bool signalled = cv_.wait_until(lock, deadline) == std::cv_status::no_timeout;
    lock.release();
    return signalled;
  }
  void Signal() { cv_.notify_one(); }
  void SignalAll() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

}  // namespace reel
