/**
 * The answers of recent commands by update id, carried through continue-as-new. Temporal
 * de-duplicates an update id only within one run; the API derives update ids from the recorded
 * request, so a retry whose first answer was lost comes back with the same id — possibly to the
 * next run. Found here, it gets the first answer again instead of being applied (or refused) anew.
 */
export const ANSWERED_UPDATES_KEPT = 50;

export class AnsweredUpdates<T> {
  private readonly answers: Map<string, T>;

  constructor(carried: ReadonlyArray<[string, T]> = []) {
    this.answers = new Map(carried);
  }

  get(updateId: string | undefined): T | undefined {
    return updateId === undefined ? undefined : this.answers.get(updateId);
  }

  /** Keeps the newest `ANSWERED_UPDATES_KEPT` answers: retries come within minutes, not months. */
  remember(updateId: string | undefined, answer: T): void {
    if (updateId === undefined) return;
    this.answers.delete(updateId);
    this.answers.set(updateId, answer);
    while (this.answers.size > ANSWERED_UPDATES_KEPT) this.answers.delete(this.answers.keys().next().value!);
  }

  toCarry(): Array<[string, T]> {
    return [...this.answers];
  }
}
