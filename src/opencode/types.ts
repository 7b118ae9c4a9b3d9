import type { TokenUsage } from '../store/types.js'

export interface ToolCall {
  tool: string
  status: string
  title?: string
  input?: unknown
  output?: string
  error?: string
}

/**
 * A tool call seen while a turn runs (from opencode's event stream), for live progress: its input
 * is the agent's own, so whoever shows it must treat it as untrusted text.
 */
export interface ToolProgress {
  /** opencode's call id, the same for every update of one call (may be missing). */
  callId?: string
  tool: string
  /** `running`, `completed` or `error` (the CLI driver sees finished calls only). */
  status: string
  input?: unknown
}

/** What one `opencode run --format json` produced. */
export interface RunResult {
  sessionId: string
  /** Text of the last assistant message of the turn (what a user reads as the reply). */
  text: string
  toolCalls: ToolCall[]
  tokens: TokenUsage
  cost: number
  /** Errors opencode reported as events (provider errors and the like). */
  errors: string[]
  /** Tool calls that were refused by the permission config. */
  permissionRejections: string[]
  durationMs: number
}

export interface RunRequest {
  message: string
  /** Continue this session; with `fork`, copy it first and continue the copy. */
  sessionId?: string
  fork?: boolean
  model?: string
  agent?: string
  /** Directory opencode runs in (its project). */
  cwd: string
  timeoutMs?: number
  /** Session title; given, it spares the model a title-generation request. */
  title?: string
  /** Called once opencode has been spawned. */
  onSpawn?: (pid: number) => void
  /** Called for each tool call opencode reports while the turn runs; must not throw. */
  onProgress?: (step: ToolProgress) => void
  /** Aborting kills opencode (and what it started) like a timeout does. */
  signal?: AbortSignal
  /**
   * Stop the turn once its cost (USD, as opencode reports it) reaches this, failing with
   * `budget-exceeded`. Only a driver that sees the cost as the turn runs (serve) can.
   */
  maxCost?: number
}

export interface OpencodeDriver {
  run(request: RunRequest): Promise<RunResult>
  /** The JSON text `opencode export` prints for the session. */
  exportSession(sessionId: string, cwd: string): Promise<string>
  importSession(sessionExport: string, cwd: string): Promise<void>
  /** `opencode session delete ID`; a session that is already gone is not an error. */
  deleteSession?(sessionId: string, cwd: string): Promise<void>
  /** Stops every opencode process still running for this driver, with everything it started. */
  close?(): Promise<void>
}
