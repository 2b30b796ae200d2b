"""Background jobs: work the server does after a call, off its hot path.

Each job reads the namespace feeds (`memrpc:feed:{ns}`, every event of a
namespace) through a consumer group of its own, `memrpc.<job>` (names
clients may not use), so that any number of processes share its work:
`memrpc serve` runs the jobs in-process by default (`--jobs`), and
`memrpc worker` runs only them, as many processes as wanted.

- `base.py`: what a job is (`Job`);
- `fold.py`: the running-summary job (`memrpc.summaries`), which folds the
  turns that left a thread's window into its summary;
- `formation.py`: the memory-formation job (`memrpc.formation`), which
  forms episodic memories of the same turns, a chunk at a time;
- `runner.py`: one job's loop over the feeds: at least once, idempotent
  jobs, poison entries dead-lettered, lag and state sampled;
- `migration.py`: the migration of the memories an older version stored
  (storage schema 2), one leased runner per process, which ends once none
  is left;
- `runtime.py`: the jobs of one process, started and stopped together;
- `worker.py`: the `memrpc worker` process.
"""
