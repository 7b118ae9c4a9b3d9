/**
 * Live progress of a turn: the agent's tool calls as a list of steps, and the Markdown lines that
 * show them in the tracking comment. Pure. What is shown is the agent's own activity, which text
 * from strangers can steer, so every path or command is redacted, cut to one short line and put
 * in a code span that nothing inside can close: it cannot mention, link, embed or format anything.
 */
import path from 'node:path'
import type { ToolProgress } from '../../opencode/types.js'

/** Steps listed in the comment (the newest); older ones are counted, not shown. */
export const MAX_SHOWN_STEPS = 15
/** Longest path or command shown, in characters. */
export const MAX_TARGET_LENGTH = 80
/** Calls remembered to merge their later updates; beyond it the oldest are forgotten. */
const MAX_KEPT_STEPS = 200

export interface ProgressStep {
  /** opencode's call id, or a counter when it gave none. */
  key: string
  tool: string
  /** The raw path, command, pattern or URL; sanitised only when rendered. */
  target: string
  status: string
  /** When the call was first seen, from the start of the turn. */
  atMs: number
}

function stringField(input: unknown, ...names: string[]): string {
  if (!input || typeof input !== 'object') return ''
  for (const name of names) {
    const value = (input as Record<string, unknown>)[name]
    if (typeof value === 'string') return value
  }
  return ''
}

/** The steps of one turn, updated as opencode reports its tool calls. */
export class ProgressLog {
  private readonly steps: ProgressStep[] = []
  private dropped = 0
  private counter = 0

  /** `cwd`: paths under it are shown relative to it. */
  constructor(private readonly cwd = '') {}

  /** Records a report; true when what is shown changed. */
  add(report: ToolProgress, atMs: number): boolean {
    const known = report.callId ? this.steps.find((step) => step.key === report.callId) : undefined
    if (known) {
      if (known.status === report.status) return false
      known.status = report.status
      return true
    }
    this.steps.push({
      key: report.callId ?? `#${this.counter}`,
      tool: report.tool,
      target: this.targetOf(report.input),
      status: report.status,
      atMs
    })
    this.counter++
    if (this.steps.length > MAX_KEPT_STEPS) {
      this.steps.shift()
      this.dropped++
    }
    return true
  }

  /** Calls seen in all. */
  get total(): number {
    return this.steps.length + this.dropped
  }

  /** The newest steps, oldest first. */
  shown(): ProgressStep[] {
    return this.steps.slice(-MAX_SHOWN_STEPS)
  }

  private targetOf(input: unknown): string {
    const target = stringField(input, 'filePath', 'path', 'command', 'pattern', 'url', 'query')
    if (!this.cwd || !path.isAbsolute(target)) return target
    const relative = path.relative(this.cwd, target)
    return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : target
  }
}

/**
 * `text` as one inline code span that renders exactly as plain text: secrets redacted first (so
 * the cut cannot leave part of one), control and invisible format characters and line breaks
 * turned to spaces, backticks replaced by a look-alike (a backtick could close the span and let
 * the rest be Markdown), cut to `max` characters. '' for an empty text.
 */
export function codeSpan(
  text: string,
  redact: (text: string) => string,
  max = MAX_TARGET_LENGTH
): string {
  const flat = redact(text)
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, ' ')
    .replace(/`/g, 'ˋ')
    .replace(/\s+/g, ' ')
    .trim()
  if (!flat) return ''
  const chars = [...flat]
  const cut = chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : flat
  return `\`${cut}\``
}

/** A tool's name shown as is only when it is a plain identifier (MCP tools are named by others). */
function toolName(tool: string): string {
  return /^[A-Za-z0-9_.-]{1,40}$/.test(tool) ? tool.replace(/_/g, '\\_') : 'tool'
}

/** `m:ss` from the start of the turn. */
export function formatElapsed(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000))
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`
}

const STATUS_NOTE: Record<string, string> = { running: ' …', error: ' (failed)' }

/** The Markdown list of the steps (empty when there are none). */
export function progressLines(log: ProgressLog, redact: (text: string) => string): string[] {
  const shown = log.shown()
  const lines: string[] = []
  const hidden = log.total - shown.length
  if (hidden > 0) lines.push(`- _${hidden} earlier step${hidden === 1 ? '' : 's'}_`)
  for (const step of shown) {
    const target = codeSpan(step.target, redact)
    const note = STATUS_NOTE[step.status] ?? ''
    lines.push(
      `- ${formatElapsed(step.atMs)} ${toolName(step.tool)}${target ? ` ${target}` : ''}${note}`
    )
  }
  return lines
}
