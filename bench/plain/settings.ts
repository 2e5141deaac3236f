/** The baseline's worker settings: those of the product's worker (runtime/worker.ts), so both differ only in what they run. */
export const PLAIN_WORKER_SETTINGS = { stickyQueueScheduleToStartTimeout: '3 seconds' } as const;
