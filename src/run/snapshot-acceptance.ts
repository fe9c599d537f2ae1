import type { DecodedEventsPage } from '../tenant-manager/tenant-manager.wire.js';
import { eventLogWentBack, keysRecovered, replayFetched } from '../tenancy.messages.js';
import type { TenancyLogger } from '../telemetry/tenancy-logger.js';
import type { TenancyTelemetry } from '../telemetry/tenancy.telemetry.js';
import type { EventCursor } from './event-cursor.js';
import type { EventIntake } from './event-intake.js';
import { ReplayProgress } from './replay-progress.js';

/**
 * `replay` starts the cursor over; `resync` repairs drift; `recovery` brings back held-back orgs;
 * `log check` only looks whether the event log went back (queued only if it did).
 */
export type SnapshotMode = 'replay' | 'resync' | 'recovery' | 'log check';

/**
 * What a fetched snapshot does to one run's feed: notices a replaced event log (and then
 * starts over from it), queues what it holds for its mode, and tracks the progress of
 * the latest replay or resync.
 */
export class SnapshotAcceptance {
  /** The newest replay or resync, for getStatus(). */
  progress: ReplayProgress | null = null;
  // A snapshot has set the cursor: one behind it means the log was replaced.
  private replayed = false;

  constructor(
    private readonly logger: TenancyLogger,
    private readonly telemetry: TenancyTelemetry,
    private readonly intake: EventIntake,
    private readonly cursor: EventCursor,
    /** False once the run is over: its late progress callbacks are dead ends. */
    private readonly live: () => boolean,
  ) {}

  /** A poll found the log went back: the fresh snapshot starts the cursor over without a second warning. */
  startOver(): void {
    this.replayed = false;
  }

  /** `floor`: the fetch cursor when the snapshot was asked for; `keys`: the orgs a recovery is for. */
  accept(page: DecodedEventsPage, requested: SnapshotMode, keys: readonly string[], started: number, floor: number): void {
    const { logger, telemetry } = this;
    let mode = requested;
    // Behind what we had fetched before asking for it: the log was replaced.
    if (this.replayed && page.lastEventId < floor) {
      logger.warn(eventLogWentBack(requested, floor, page.lastEventId), {
        cursor: floor,
        lastEventId: page.lastEventId,
      });
      mode = 'replay';
      this.intake.clearHeld();
      this.intake.forgetNewer();
    }
    if (mode === 'log check') return;
    const events = this.intake.followed(page, requested);
    if (mode === 'recovery') {
      const queued = this.intake.queueRecovery(events, page.lastEventId, keys);
      logger.log(keysRecovered(keys.length, queued), { orgs: keys.length, queued });
      return;
    }
    if (mode === 'replay') this.cursor.reset(page.lastEventId);
    this.replayed = true;
    const epoch = this.cursor.epoch;
    const progress = new ReplayProgress(
      events.length,
      mode,
      logger,
      (seconds) => {
        if (mode === 'replay' && epoch === this.cursor.epoch) this.cursor.replayHandled();
        telemetry.replayFinished(seconds);
      },
      this.live,
    );
    this.progress = progress;
    this.intake.queueSnapshot(events, page.lastEventId, progress.handledOne);
    // The numbers are in the text already: no fields repeating them.
    logger.log(replayFetched(mode, page.received, Date.now() - started, progress.total, page.lastEventId));
  }
}
