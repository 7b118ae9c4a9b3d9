/** How kugetsu answers on an issue: the reply comment, its footer and hidden marker, the summary. */

export const MARKER_PREFIX = '<!-- kugetsu:'
export const MAX_COMMENT_LENGTH = 65_536

export interface TurnFacts {
  ref: string
  mode: 'start' | 'continue'
  sessionId: string
  turns: number
  tokensInput: number
  tokensOutput: number
  cost: number
  durationMs: number
  runUrl: string
  /** Things the reader should know about this turn (lost memory, a lost race), shown above the footer. */
  notes?: string[]
  /** What the turn pushed, and the branch's pull request. */
  work?: WorkFacts
}

export interface WorkFacts {
  branch?: string
  commit?: string
  changesUrl?: string
  pullRequest?: { number: number; url: string }
}

/** One line on what the turn pushed: the commit (its changes linked) and the pull request. */
export function workLine(work: WorkFacts | undefined): string {
  if (!work) return ''
  const parts: string[] = []
  if (work.commit && work.branch) {
    const short = work.commit.slice(0, 7)
    const commit = work.changesUrl ? `[\`${short}\`](${work.changesUrl})` : `\`${short}\``
    parts.push(`pushed ${commit} to \`${work.branch}\``)
  }
  if (work.pullRequest)
    parts.push(`pull request [#${work.pullRequest.number}](${work.pullRequest.url})`)
  return parts.length > 0 ? `**Work:** ${parts.join(' · ')}` : ''
}

/** A note above a reply's footer (lost memory, a lost race), as a GitHub alert block. */
export function noteBlock(note: string): string {
  return `> [!NOTE]\n> ${note.replace(/\n/g, ' ')}`
}

/** Every note block in a reply, so a reply can be read without them. */
export const NOTE_BLOCKS = /\n*> \[!NOTE\]\n> [^\n]*/g

export function marker(fields: Record<string, string>): string {
  const body = Object.entries(fields)
    .map(([key, value]) => `${key}=${value.replace(/\s|-->|>/g, '_')}`)
    .join(' ')
  return `${MARKER_PREFIX} ${body} -->`
}

/** Whether a comment is kugetsu's answer to a command (`status`, `help`): no part of a turn. */
export function isCommandReply(body: string): boolean {
  const start = body.indexOf(MARKER_PREFIX)
  if (start === -1) return false
  const end = body.indexOf('-->', start)
  return /\bcommand=/.test(body.slice(start, end === -1 ? undefined : end))
}

/** Whether a comment body is one kugetsu wrote (it carries the hidden marker). */
export function isKugetsuComment(body: string): boolean {
  return body.includes(MARKER_PREFIX)
}

export function shortSessionId(sessionId: string): string {
  return sessionId.length > 14 ? `${sessionId.slice(0, 14)}…` : sessionId
}

export function formatDuration(ms: number): string {
  const seconds = ms / 1000
  if (seconds < 60) return `${seconds.toFixed(1)} s`
  const minutes = Math.floor(seconds / 60)
  return `${minutes} min ${Math.round(seconds - minutes * 60)} s`
}

export function formatCost(cost: number): string {
  return `$${cost.toFixed(cost > 0 && cost < 0.01 ? 4 : 2)}`
}

export function footer(facts: TurnFacts): string {
  const verb = facts.mode === 'start' ? 'Started' : 'Continued'
  const parts = [
    `${verb} session \`${shortSessionId(facts.sessionId)}\``,
    `turn ${facts.turns}`,
    `${facts.tokensInput.toLocaleString('en-US')} in / ${facts.tokensOutput.toLocaleString('en-US')} out tokens`,
    formatCost(facts.cost),
    formatDuration(facts.durationMs)
  ]
  const run = facts.runUrl ? ` · [run](${facts.runUrl})` : ''
  return `<sub>kugetsu · ${parts.join(' · ')}${run}</sub>`
}

/** The reply comment: the agent's text, the footer and the marker, cut to fit GitHub's limit. */
export function replyBody(text: string, facts: TurnFacts): string {
  const work = workLine(facts.work)
  const notes =
    (work ? `\n\n${work}` : '') +
    (facts.notes ?? []).map((note) => `\n\n${noteBlock(note)}`).join('')
  const tail = `${notes}\n\n---\n${footer(facts)}\n${marker({ session: facts.sessionId, ref: facts.ref, turn: String(facts.turns) })}`
  const reply = text.trim() === '' ? '_(the agent gave no text reply)_' : text.trim()
  return fitComment(reply, tail)
}

/** The failure comment; `stage` names the part of the turn that failed, when known. */
export function failureBody(ref: string, message: string, runUrl: string, stage?: string): string {
  const link = runUrl ? ` See [the run](${runUrl}) for details.` : ''
  const where = stage ? `\n\n<sub>Failed while ${stage}.</sub>` : ''
  const tail = `${where}\n${marker({ ref, failed: 'true' })}`
  return fitComment(`**kugetsu failed:** ${message}${link}`, tail)
}

const TRUNCATION_NOTE =
  '\n\n_…the reply was cut here to fit a GitHub comment; the whole text is in the job summary and the `response` output._'

function fitComment(text: string, tail: string): string {
  if (text.length + tail.length <= MAX_COMMENT_LENGTH) return text + tail
  const room = MAX_COMMENT_LENGTH - tail.length - TRUNCATION_NOTE.length
  let cut = text.slice(0, room)
  const lineBreak = cut.lastIndexOf('\n')
  if (lineBreak > room * 0.8) cut = cut.slice(0, lineBreak)
  // Never end on half of a surrogate pair.
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1)
  return cut + TRUNCATION_NOTE + tail
}

const escapeCell = (value: string) => value.replace(/\|/g, '\\|').replace(/\n/g, ' ')

export function summaryTable(rows: [string, string][]): string {
  return [
    '| | |',
    '|---|---|',
    ...rows.map(([k, v]) => `| ${escapeCell(k)} | ${escapeCell(v)} |`)
  ].join('\n')
}
