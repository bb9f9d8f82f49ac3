import type {
  Behaviour,
  ExtractedEvent,
  RejectedLine,
  RunDetail,
  RunStatus,
  RunSummary,
  TokenUsage,
  User,
  UserListItem,
} from '@app/shared';

/**
 * The small interfaces both modes implement: SQLite in one process (embedded), PostgreSQL for the records
 * with Redis for the live part (cluster). The run loop, routes and transports speak only these.
 */

/** Users, their profiles and behaviour logs. */
export interface UsersStore {
  get(id: string): Promise<User | null>;
  behaviours(userId: string): Promise<Behaviour[]>;
  behaviourOwnerOf(id: string): Promise<string | null>;
  count(): Promise<number>;
  list(opts: {
    q?: string;
    limit: number;
    offset: number;
  }): Promise<{ items: UserListItem[]; total: number }>;
  /** Inserts or updates users and inserts behaviours, all or nothing. */
  upsertAll(users: User[], behaviours: Behaviour[]): Promise<{ users: number; behaviours: number }>;
  /** Where imports write, unseen by readers until they publish. */
  readonly imports: ImportTarget;
}

/** State a run loaded back from storage needs. */
export interface StoredRunState {
  summary: RunSummary;
  text: string;
  behaviourIds: string[];
  pieces: number;
  durationMs: number;
  /** Every frame's JSON, in seq order. */
  frames: string[];
  /** Frames up to this seq are in the run's settled log; later ones only in the live journal. */
  storedSeq: number;
  /** For a row still marked running: its parsed lines, rebuilt from its frames. */
  lines?: { events: ExtractedEvent[]; rejected: RejectedLine[] };
}

/** Reads of runs, their frame logs and their events. Writes go through the {@link LogWriter}. */
export interface RunsStore {
  summary(id: string): Promise<RunSummary | null>;
  /** A run as stored; for a row still marked running, its counters rebuilt from its frames. */
  stored(id: string): Promise<StoredRunState | null>;
  /** `liveText`: the text of a run streaming here now, so its frames need not be read back. */
  detail(id: string, liveText?: string): Promise<RunDetail | null>;
  list(opts: {
    userId?: string;
    status?: RunStatus;
    limit: number;
    offset: number;
  }): Promise<{ items: RunSummary[]; total: number }>;
  /** Current events: those of each user's latest run that produced any (or of one run). */
  events(opts: { userId?: string; runId?: string }): Promise<ExtractedEvent[]>;
  byStartKey(key: string): Promise<{ id: string; userId: string } | null>;
  /** Runs a clean stop cancelled, to be continued by the next start. */
  cancelledByShutdown(): Promise<string[]>;
  /** Ids of the runs stored as running, oldest first. */
  runningIds(): Promise<string[]>;
  /** JSON of each stored frame with seq > after, in order. */
  framesAfter(runId: string, after: number): Promise<string[]>;
}

/** Latest counters of a run; coalesced so a write is one UPDATE per run, not one per frame. */
export interface RunPatch {
  lastSeq: number;
  eventCount: number;
  rejectedCount: number;
  pieces: number;
  durationMs: number;
  status: RunStatus;
  usage: TokenUsage | null;
  errorCode: string | null;
  errorMessage: string | null;
  finished: boolean;
  /** The whole text, when finished. While a run streams its text lives in its frames, not the row. */
  text: string | null;
  /** Cancelled by a clean stop of the server: the next start continues it. */
  resumeOnStart: boolean;
}

/** A run whose counters and frames the writer reads at write time. */
export interface PatchSource {
  readonly id: string;
  readonly lastSeq: number;
  /** Frames up to this seq are in the run's settled log; later ones only in the journal. */
  storedSeq: number;
  /** Read every tick to tell whether the row is due; the full `snapshot()` only when it is. */
  readonly status: RunStatus;
  frameAt(seq: number): string | undefined;
  snapshot(): RunPatch;
  /** Frames up to `seq` are committed: watchers may have them. */
  committed(seq: number): void;
}

/** The row a new run starts with. */
export interface NewRunRow {
  id: string;
  userId: string;
  model: string;
  behaviourIds: string[];
  truncated: { included: number; total: number } | null;
  /** The client's start key, when it sent one. */
  startKey?: string | null;
}

/**
 * Where runs write: frames are committed (durable across a crash of this process) before `committed(seq)`
 * tells the run, and only then do watchers get them. The one owner of what is stored and when.
 */
export interface LogWriter {
  createRun(row: NewRunRow): void;
  /** A run created with this start key whose row is still queued. */
  queuedRunWithKey(key: string): NewRunRow | undefined;
  frame(run: PatchSource, json: string): void;
  event(e: ExtractedEvent): void;
  rejectedLine(runId: string, line: RejectedLine): void;
  /** Events of a run merged into a later one: their rows go. */
  dropEvents(runId: string, lineNos: readonly number[]): void;
  /** Replaces a run's stored lines (recovery: rebuilt from its frames). */
  restoreLines(runId: string, events: ExtractedEvent[], rejected: RejectedLine[]): void;
  /** Marks the run's counters as changed. */
  touch(run: PatchSource): void;
  /** Writes everything pending now, counters included; resolves once it is stored. */
  flush(): Promise<void>;
  /** Resolves once the run's settled status and whole log are stored (however long storage is away). */
  settled(runId: string): Promise<void>;
  /** Recovery has settled every run a previous process left running. */
  recovered(): void;
}

/** One slice of an import: a JSON array of rows (UTF-8 text or bytes). */
export type ImportSlice = string | Uint8Array;

/**
 * Where an import writes: rows stay invisible to every reader until `publish`, all or nothing. SQLite
 * stages them in hidden slices; PostgreSQL holds one transaction open from `begin` to `publish`.
 */
export interface ImportTarget {
  /** Opens an import and returns its id; throws `ImportBusyError` while another one is being written. */
  begin(): number | Promise<number>;
  /** Behaviours of a slice whose id is already taken: position in the slice, id and owner. */
  existingBehaviours(slice: ImportSlice): Rows<{ i: number; id: string; userId: string }>;
  /** Writes users of the file, users only named by behaviours (those missing), or behaviours; rows inserted. */
  write(
    importId: number,
    kind: 'users' | 'mentioned' | 'behaviours',
    slice: ImportSlice,
  ): number | Promise<number>;
  /** Makes every row of the import visible at once. */
  publish(importId: number, counts: { users: number; behaviours: number }): void | Promise<void>;
  /** Drops an unpublished import's rows. */
  abandon(importId: number): void | Promise<void>;
  /** One step of clean-up left by abandoned or crashed imports; false once there is nothing left. */
  sweepStep(limit?: number): boolean | Promise<boolean>;
  /** The error is a unique-key violation (a behaviour id written by someone else since it was checked). */
  isConflict(err: unknown): boolean;
}

type Rows<T> = T[] | Promise<T[]>;

/** Frames of runs still running, kept outside `run_logs` until they settle (`frame_journal` or Redis). */
export interface JournalReader {
  /** Frames of a run still running with seq > after, in seq order. */
  framesAfter(runId: string, after: number): Promise<string[]>;
}
