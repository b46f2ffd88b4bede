#include "search/mpi_evaluator.h"

#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <thread>
#include <tuple>

#include "common/error.h"
#include "space/block_codec.h"

namespace mnas::search {
namespace {

enum Tag : int { kConfig = 1, kRequest = 2, kResult = 3, kStop = 4, kAlive = 5 };

// Rank 0's heartbeat period (see the header).
constexpr auto kHeartbeat = std::chrono::milliseconds(250);
// A worker gives up on a controller silent this long (or worker_timeout_s
// when shorter): 240 heartbeats missed.
constexpr double kControllerSilenceLimitS = 60;
// The longest MPI_Finalize may take (see ~MpiSession).
constexpr auto kFinalizeLimit = std::chrono::seconds(10);

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

void check(int rc, const char* what) {
  if (rc != MPI_SUCCESS) {
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    throw Error(std::string("MPI ") + what + " failed: " + std::string(msg, len));
  }
}

// Receives the message that `status` announced (after a probe).
std::string recv_text(const MPI_Status& probed) {
  int count = 0;
  MPI_Get_count(&probed, MPI_CHAR, &count);
  std::string text(static_cast<size_t>(count), '\0');
  check(MPI_Recv(text.data(), count, MPI_CHAR, probed.MPI_SOURCE, probed.MPI_TAG, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE),
        "receive");
  return text;
}

}  // namespace

void mpi_abort(int code) {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::exit(code);
}

void check_worker_timeout(double timeout_s, const std::string& what) {
  if (!(timeout_s > 0) || !std::isfinite(timeout_s)) {
    throw ConfigError(what + " must be a finite number of seconds > 0, got " +
                      std::to_string(timeout_s));
  }
}

MpiSession::MpiSession(int* argc, char*** argv) {
  int provided = 0;
  MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &provided);
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  if (const char* lr = std::getenv("OMPI_COMM_WORLD_LOCAL_RANK")) local_rank_ = std::atoi(lr);
  if (provided < MPI_THREAD_MULTIPLE) {
    MPI_Finalize();
    throw Error("the MPI library does not support MPI_THREAD_MULTIPLE (needed for the "
                "controller's heartbeat); use an OpenMPI built with thread support");
  }
  if (rank_ == 0 && size_ > 1) heartbeat_ = std::thread([this] { heartbeat_loop(); });
}

MpiSession::~MpiSession() {
  if (heartbeat_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    heartbeat_.join();
  }
  if (abandoned_) return;
  // MPI_Finalize starts with a barrier of the runtime that a rank which died
  // at the wrong moment (e.g. during start-up) can stall forever: past
  // kFinalizeLimit the process ends without it.
  std::mutex mutex;
  std::condition_variable finalized;
  bool done = false;
  std::thread watchdog([&] {
    std::unique_lock<std::mutex> lock(mutex);
    if (!finalized.wait_for(lock, kFinalizeLimit, [&] { return done; })) std::_Exit(0);
  });
  MPI_Finalize();
  {
    std::lock_guard<std::mutex> lock(mutex);
    done = true;
  }
  finalized.notify_all();
  watchdog.join();
}

void MpiSession::heartbeat_loop() {
  // One heartbeat in flight per worker: a send to a dead worker may never
  // complete, and it is then not repeated.
  std::vector<MPI_Request> pending(static_cast<size_t>(size_), MPI_REQUEST_NULL);
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    for (int w = 1; w < size_; ++w) {
      MPI_Request& r = pending[static_cast<size_t>(w)];
      int done = 1;
      if (r != MPI_REQUEST_NULL) MPI_Test(&r, &done, MPI_STATUS_IGNORE);
      if (done) MPI_Isend(nullptr, 0, MPI_CHAR, w, kAlive, MPI_COMM_WORLD, &r);
    }
    wake_.wait_for(lock, kHeartbeat, [this] { return stopping_; });
  }
  for (MPI_Request& r : pending) {
    if (r != MPI_REQUEST_NULL) MPI_Request_free(&r);
  }
}

std::string MpiSession::host() const {
  char name[MPI_MAX_PROCESSOR_NAME];
  int len = 0;
  MPI_Get_processor_name(name, &len);
  return std::string(name, len);
}

MpiEvaluator::MpiEvaluator(const MpiSession& session, const nlohmann::json& worker_config,
                           LatencyFn latency, space::GlobalParams deploy, MpiOptions options,
                           std::function<void(const std::string&)> on_event)
    : latency_(std::move(latency)),
      deploy_(std::move(deploy)),
      options_(options),
      on_event_(std::move(on_event)) {
  if (session.size() < 2) throw ConfigError("MpiEvaluator needs at least one worker rank");
  check_worker_timeout(options_.worker_timeout_s, "MpiOptions::worker_timeout_s");
  const std::string config = worker_config.dump();
  for (int w = 1; w < session.size(); ++w) {
    post(config, w, kConfig);
    idle_.push_back(w);
  }
}

MpiEvaluator::~MpiEvaluator() {
  // Busy workers are still training a trial nobody will collect: they get
  // the stop after it. Written-off workers may be alive after all.
  std::vector<int> all = idle_;
  for (const auto& [w, a] : busy_) all.push_back(w);
  all.insert(all.end(), dead_.begin(), dead_.end());
  for (int w : all) post(std::string(), w, kStop);
  reap_sends();
  for (Outgoing& o : sends_) {
    // Never completed (a dead worker): MPI may still read the text, which is
    // therefore left allocated (a few KiB per lost worker, once).
    MPI_Request_free(&o.request);
    o.text.release();
  }
}

void MpiEvaluator::post(std::string text, int dest, int tag) {
  Outgoing o{std::make_unique<std::string>(std::move(text)), MPI_REQUEST_NULL};
  check(MPI_Isend(o.text->data(), static_cast<int>(o.text->size()), MPI_CHAR, dest, tag,
                  MPI_COMM_WORLD, &o.request),
        "send");
  sends_.push_back(std::move(o));
}

void MpiEvaluator::reap_sends() {
  for (auto it = sends_.begin(); it != sends_.end();) {
    int done = 0;
    // An error (a dead peer) also ends the request.
    if (MPI_Test(&it->request, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS || done) {
      it = sends_.erase(it);
    } else {
      ++it;
    }
  }
}

int MpiEvaluator::capacity() const { return static_cast<int>(idle_.size() + busy_.size()); }

int MpiEvaluator::in_flight() const { return static_cast<int>(busy_.size() + pending_.size()); }

void MpiEvaluator::submit(const TrialRequest& request) {
  pending_.push_back(request);
  dispatch();
}

void MpiEvaluator::dispatch() {
  while (!pending_.empty() && !idle_.empty()) {
    const int w = idle_.back();
    idle_.pop_back();
    const TrialRequest req = pending_.front();
    pending_.pop_front();
    post(to_json(req).dump(), w, kRequest);
    busy_[w] = {req, std::chrono::steady_clock::now()};
  }
}

void MpiEvaluator::write_off_stale_workers() {
  const auto now = std::chrono::steady_clock::now();
  for (auto it = busy_.begin(); it != busy_.end();) {
    const double silent = std::chrono::duration<double>(now - it->second.since).count();
    if (silent < options_.worker_timeout_s) {
      ++it;
      continue;
    }
    TrialRequest again = it->second.request;
    ++again.attempt;
    if (on_event_) {
      on_event_("worker rank" + std::to_string(it->first) + " silent for " +
                std::to_string(static_cast<int>(silent)) + " s on trial " +
                std::to_string(again.trial) + ": written off, trial re-queued (attempt " +
                std::to_string(again.attempt) + ")");
    }
    notes_[again.trial] += "worker rank" + std::to_string(it->first) + " lost after " +
                           std::to_string(static_cast<int>(silent)) + " s, re-run; ";
    dead_.push_back(it->first);
    pending_.push_front(again);
    it = busy_.erase(it);
  }
  if (idle_.empty() && busy_.empty()) {
    throw Error("all MPI workers are lost (" + std::to_string(dead_.size()) +
                " written off); resume with --resume once the cluster is back");
  }
  dispatch();
}

TrialResult MpiEvaluator::poll() {
  if (in_flight() == 0) throw Error("MpiEvaluator::poll() with no trial in flight");
  auto sleep = std::chrono::microseconds(200);
  while (true) {
    int flag = 0;
    MPI_Status status;
    check(MPI_Iprobe(MPI_ANY_SOURCE, kResult, MPI_COMM_WORLD, &flag, &status), "probe");
    if (flag) {
      const int w = status.MPI_SOURCE;
      const std::string text = recv_text(status);
      auto it = busy_.find(w);
      if (it == busy_.end()) {
        // A worker written off as silent answered after all: its trial went
        // elsewhere, so the result is dropped, but the worker is alive again.
        if (on_event_) {
          on_event_("late result from written-off worker rank" + std::to_string(w) +
                    " dropped; the worker is back in the pool");
        }
        dead_.erase(std::remove(dead_.begin(), dead_.end(), w), dead_.end());
        idle_.push_back(w);
        dispatch();
        continue;
      }
      const TrialRequest request = it->second.request;
      busy_.erase(it);
      idle_.push_back(w);
      TrialResult r = trial_result_from_json(nlohmann::json::parse(text));
      // The controller holds the latency table: latency and counts are
      // computed here, at the deploy configuration.
      try {
        add_deploy_metrics(r, space::decode_arch(space::split_block_strings(request.arch)), latency_,
                           deploy_);
      } catch (const std::exception& e) {
        r.status = TrialStatus::kFailed;
        r.message = std::string("latency: ") + e.what();
      }
      if (auto note = notes_.find(r.trial); note != notes_.end()) {
        // Recorded with the trial in the experiment database.
        r.message = note->second + r.message;
        notes_.erase(note);
      }
      dispatch();
      return r;
    }
    reap_sends();
    write_off_stale_workers();
    std::this_thread::sleep_for(sleep);
    sleep = std::min(sleep * 2, std::chrono::microseconds(20000));
  }
}

namespace {

// The worker's view of rank 0: every message from it (heartbeats included)
// shows it alive; silence for longer than the limit means it is gone.
class ControllerLink {
 public:
  ControllerLink(const MpiSession& session, double limit_s) : session_(session), limit_s_(limit_s) {}

  // The next message from rank 0 other than a heartbeat: its tag and text.
  std::pair<int, std::string> receive(const char* waiting_for) {
    while (true) {
      int flag = 0;
      MPI_Status status;
      check(MPI_Iprobe(0, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &status), "probe");
      if (flag) {
        std::string text = recv_text(status);
        heard_ = Clock::now();
        if (status.MPI_TAG != kAlive) return {status.MPI_TAG, std::move(text)};
        continue;
      }
      check_alive(waiting_for);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  // Sends to rank 0 and waits until the send completes (rank 0 took it),
  // draining heartbeats meanwhile. Returns false when a stop came instead
  // (the controller ended the search and will not take it).
  bool send(const std::string& text, int tag, const char* waiting_for) {
    // Kept until the send completes: leaked if it never does.
    auto buffer = std::make_unique<std::string>(text);
    MPI_Request request = MPI_REQUEST_NULL;
    check(MPI_Isend(buffer->data(), static_cast<int>(buffer->size()), MPI_CHAR, 0, tag,
                    MPI_COMM_WORLD, &request),
          "send");
    while (true) {
      int done = 0;
      check(MPI_Test(&request, &done, MPI_STATUS_IGNORE), "send");
      if (done) return true;
      bool stopped = false;
      for (const int t : {kAlive, kStop}) {
        int flag = 0;
        MPI_Status status;
        check(MPI_Iprobe(0, t, MPI_COMM_WORLD, &flag, &status), "probe");
        if (!flag) continue;
        recv_text(status);
        heard_ = Clock::now();
        stopped = stopped || t == kStop;
      }
      if (stopped || seconds_since(heard_) > limit_s_) {
        MPI_Request_free(&request);
        buffer.release();
        if (stopped) return false;
      }
      check_alive(waiting_for);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  // The time spent training a trial (not listening) is not silence.
  void heard_now() { heard_ = Clock::now(); }

 private:
  void check_alive(const char* waiting_for) {
    const double silent = seconds_since(heard_);
    if (silent <= limit_s_) return;
    session_.abandon();
    throw Error("worker rank " + std::to_string(session_.rank()) + ": the controller (rank 0) has "
                "been silent for " + std::to_string(static_cast<int>(silent)) + " s while waiting for " +
                waiting_for + " (limit " + std::to_string(static_cast<int>(std::ceil(limit_s_))) +
                " s): it is gone, this worker stops; resume the search with mnas_search --resume");
  }

  const MpiSession& session_;
  double limit_s_;
  Clock::time_point heard_ = Clock::now();
};

}  // namespace

void run_mpi_worker(const MpiSession& session, const MpiOptions& options,
                    const std::function<AccuracyFn(const nlohmann::json&, const MpiSession&)>& make_accuracy) {
  check_worker_timeout(options.worker_timeout_s, "MpiOptions::worker_timeout_s");
  ControllerLink controller(session, std::min(options.worker_timeout_s, kControllerSilenceLimitS));
  int tag = 0;
  std::string text;
  std::tie(tag, text) = controller.receive("the worker config");
  if (tag == kStop) return;
  if (tag != kConfig) throw Error("MPI worker: expected the worker config first, got tag " + std::to_string(tag));
  const auto config = nlohmann::json::parse(text);
  const std::string name = "rank" + std::to_string(session.rank()) + "@" + session.host();
  InProcessEvaluator local(make_accuracy(config, session), [](const space::ArchSpec&) { return 0.0; },
                           space::GlobalParams{}, name);
  while (true) {
    std::tie(tag, text) = controller.receive("a trial");
    if (tag == kStop) return;
    if (tag != kRequest) continue;
    local.submit(trial_request_from_json(nlohmann::json::parse(text)));
    const std::string result = to_json(local.poll()).dump();
    controller.heard_now();
    if (!controller.send(result, kResult, "the controller to take a result")) return;
  }
}

}  // namespace mnas::search
