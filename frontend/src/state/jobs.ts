import type { Job } from '../api/types';
import { createStore, type Store } from './store';

/** A background job the app started and follows until it finishes (SPEC §13). */
export interface TrackedJob {
  /** The job as the 202 answered it; its progress is then polled. */
  job: Job;
  /** What it does, for people: "Cancel “Auth flow”". */
  label: string;
  /** The project it changes (null for an import), refreshed when the job ends. */
  projectId: string | null;
}

export interface JobStore extends Store<TrackedJob[]> {
  /** Follows a job; the same job started again (a repeated request) is not listed twice. */
  track: (tracked: TrackedJob) => void;
  dismiss: (jobId: string) => void;
}

export function createJobStore(): JobStore {
  const store = createStore<TrackedJob[]>([]);
  return {
    ...store,
    track: (tracked) => {
      if (store.get().some((t) => t.job.id === tracked.job.id)) return;
      store.set([...store.get(), tracked]);
    },
    dismiss: (jobId) => store.set(store.get().filter((t) => t.job.id !== jobId)),
  };
}
