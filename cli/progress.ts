/**
 * Progress on stderr for long runs: nothing is printed until a run has taken more than
 * `quietMs` (default 1 s); after that every step is reported with the elapsed time.
 */
export class Progress {
  private readonly start = performance.now();
  private shown = false;
  private readonly pending: string[] = [];
  constructor(
    private readonly write: (s: string) => void,
    private readonly quietMs = 1000,
    private readonly enabled = true,
  ) {}

  /** Report a step (printed only once the run is "long"). */
  note(message: string): void {
    if (!this.enabled) return;
    const t = performance.now() - this.start;
    const line = `[clm ${(t / 1000).toFixed(1)}s] ${message}\n`;
    if (this.shown || t > this.quietMs) {
      if (!this.shown) {
        this.shown = true;
        for (const p of this.pending) this.write(p);
        this.pending.length = 0;
      }
      this.write(line);
    } else this.pending.push(line);
  }

  /** Treat the run as long from now on (e.g. for large inputs): print pending and future notes at once. */
  forceShow(): void {
    if (!this.enabled || this.shown) return;
    this.shown = true;
    for (const p of this.pending) this.write(p);
    this.pending.length = 0;
  }

  elapsedMs(): number {
    return performance.now() - this.start;
  }
}
