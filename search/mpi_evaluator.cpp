#include "search/mpi_evaluator.h"

#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

#include "common/error.h"
#include "space/block_codec.h"

namespace mnas::search {
namespace {

enum Tag : int { kConfig = 1, kRequest = 2, kResult = 3, kStop = 4 };

void check(int rc, const char* what) {
  if (rc != MPI_SUCCESS) {
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    throw Error(std::string("MPI ") + what + " failed: " + std::string(msg, len));
  }
}

void send_text(const std::string& text, int dest, int tag) {
  check(MPI_Send(text.data(), static_cast<int>(text.size()), MPI_CHAR, dest, tag, MPI_COMM_WORLD),
        "send");
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

MpiSession::MpiSession(int* argc, char*** argv) {
  int provided = 0;
  MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  if (const char* lr = std::getenv("OMPI_COMM_WORLD_LOCAL_RANK")) local_rank_ = std::atoi(lr);
}

MpiSession::~MpiSession() { MPI_Finalize(); }

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
  const std::string config = worker_config.dump();
  for (int w = 1; w < session.size(); ++w) {
    send_text(config, w, kConfig);
    idle_.push_back(w);
  }
}

MpiEvaluator::~MpiEvaluator() {
  for (int w : idle_) MPI_Send(nullptr, 0, MPI_CHAR, w, kStop, MPI_COMM_WORLD);
  // Busy workers are still training a trial nobody will collect: they get
  // the stop after it (their result is received and dropped below).
  for (const auto& [w, a] : busy_) MPI_Send(nullptr, 0, MPI_CHAR, w, kStop, MPI_COMM_WORLD);
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
    send_text(to_json(req).dump(), w, kRequest);
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
    write_off_stale_workers();
    std::this_thread::sleep_for(sleep);
    sleep = std::min(sleep * 2, std::chrono::microseconds(20000));
  }
}

void run_mpi_worker(const MpiSession& session,
                    const std::function<AccuracyFn(const nlohmann::json&, const MpiSession&)>& make_accuracy) {
  MPI_Status status;
  check(MPI_Probe(0, kConfig, MPI_COMM_WORLD, &status), "probe");
  const auto config = nlohmann::json::parse(recv_text(status));
  const std::string name = "rank" + std::to_string(session.rank()) + "@" + session.host();
  InProcessEvaluator local(make_accuracy(config, session), [](const space::ArchSpec&) { return 0.0; },
                           space::GlobalParams{}, name);
  while (true) {
    check(MPI_Probe(0, MPI_ANY_TAG, MPI_COMM_WORLD, &status), "probe");
    const std::string text = recv_text(status);
    if (status.MPI_TAG == kStop) return;
    if (status.MPI_TAG != kRequest) continue;
    local.submit(trial_request_from_json(nlohmann::json::parse(text)));
    send_text(to_json(local.poll()).dump(), 0, kResult);
  }
}

}  // namespace mnas::search
